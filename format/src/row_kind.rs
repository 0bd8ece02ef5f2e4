//! Row kinds of a change log, stored in `_VALUE_KIND` (TINYINT) and printed as `+I/-U/+U/-D`.

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i8)]
pub enum RowKind {
    Insert = 0,
    UpdateBefore = 1,
    UpdateAfter = 2,
    Delete = 3,
}

impl RowKind {
    pub fn from_byte(b: i8) -> Result<Self> {
        Ok(match b {
            0 => RowKind::Insert,
            1 => RowKind::UpdateBefore,
            2 => RowKind::UpdateAfter,
            3 => RowKind::Delete,
            _ => {
                return Err(Error::corrupt(
                    "_VALUE_KIND",
                    format!("invalid row kind byte {b}"),
                ))
            }
        })
    }

    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s.trim() {
            "+I" => RowKind::Insert,
            "-U" => RowKind::UpdateBefore,
            "+U" => RowKind::UpdateAfter,
            "-D" => RowKind::Delete,
            other => {
                return Err(Error::input(format!(
                    "row kind {other:?} is not one of +I, -U, +U, -D"
                )))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RowKind::Insert => "+I",
            RowKind::UpdateBefore => "-U",
            RowKind::UpdateAfter => "+U",
            RowKind::Delete => "-D",
        }
    }

    /// `-U` and `-D` retract a previous row.
    pub fn is_retract(self) -> bool {
        matches!(self, RowKind::UpdateBefore | RowKind::Delete)
    }
}

impl std::fmt::Display for RowKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for k in [
            RowKind::Insert,
            RowKind::UpdateBefore,
            RowKind::UpdateAfter,
            RowKind::Delete,
        ] {
            assert_eq!(RowKind::parse(k.as_str()).unwrap(), k);
            assert_eq!(RowKind::from_byte(k as i8).unwrap(), k);
        }
        assert!(RowKind::parse("+X").is_err());
        assert!(RowKind::from_byte(9).is_err());
        assert!(RowKind::Delete.is_retract() && !RowKind::UpdateAfter.is_retract());
    }
}

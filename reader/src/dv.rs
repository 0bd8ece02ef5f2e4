//! Deletion vectors (format §10): row positions of a data file that readers drop.
//!
//! A DELETION_VECTORS index file is a version byte (1) followed by one entry per data file:
//! a big-endian i32 size, then either
//! * the 32-bit format: big-endian magic 1581511376 and a portable RoaringBitmap
//!   (size = magic + bitmap), or
//! * the 64-bit format (`deletion-vectors.bitmap64`): little-endian magic 1681511377, a
//!   little-endian i64 count and that many (little-endian i32 high key, portable 32-bit
//!   bitmap) pairs;
//!
//! then a CRC32 that readers skip. Every offset and length is checked against the file, and
//! the number of positions against a bound before they are expanded: a few bytes of run
//! containers can stand for millions of positions, so the bound is the data file's row count
//! when the caller knows it ([`DeletionVector::parse_for_rows`]), else [`MAX_POSITIONS`].

use object_store::ObjectStoreExt;
use roaring::RoaringBitmap;
use streamhouse_format::io::FileIO;
use streamhouse_format::{Error, Result};

use crate::location;
use crate::plan::DeletionFile;

/// Magic of the 32-bit bitmap format (big-endian in the file).
pub const MAGIC_32: i32 = 1581511376;
/// Magic of the 64-bit bitmap format (little-endian in the file).
pub const MAGIC_64: i32 = 1681511377;

/// The most positions [`DeletionVector::parse`] expands (512 MiB of positions) when the data
/// file's row count is not given.
pub const MAX_POSITIONS: u64 = 1 << 26;

/// The deleted row positions of one data file, ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletionVector {
    positions: Vec<u64>,
}

impl DeletionVector {
    pub fn from_positions(mut positions: Vec<u64>) -> Self {
        positions.sort_unstable();
        positions.dedup();
        DeletionVector { positions }
    }

    pub fn positions(&self) -> &[u64] {
        &self.positions
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// The deleted positions within `start..end`.
    pub fn range(&self, start: u64, end: u64) -> &[u64] {
        let lo = self.positions.partition_point(|p| *p < start);
        let hi = self.positions.partition_point(|p| *p < end);
        &self.positions[lo..hi]
    }

    /// Parses the vector at `offset` of an index file's bytes; `length` is the recorded
    /// length, `path` names the file in errors. At most [`MAX_POSITIONS`] positions.
    pub fn parse(file: &[u8], offset: i64, length: i64, path: &str) -> Result<Self> {
        Self::parse_bounded(file, offset, length, path, None)
    }

    /// [`DeletionVector::parse`] for a data file of `rows` rows: every position must be below
    /// `rows`, so the vector never takes more memory than the data file has rows.
    pub fn parse_for_rows(
        file: &[u8],
        offset: i64,
        length: i64,
        path: &str,
        rows: i64,
    ) -> Result<Self> {
        Self::parse_bounded(file, offset, length, path, Some(rows.max(0) as u64))
    }

    fn parse_bounded(
        file: &[u8],
        offset: i64,
        length: i64,
        path: &str,
        rows: Option<u64>,
    ) -> Result<Self> {
        let limit = rows.unwrap_or(MAX_POSITIONS);
        let bad = |detail: String| {
            Error::corrupt(
                path,
                format!("deletion vector at offset {offset}: {detail}"),
            )
        };
        if offset < 1 || length < 0 {
            return Err(bad(format!("invalid offset/length {offset}/{length}")));
        }
        let off = offset as usize;
        let size_bytes = file
            .get(off..off + 4)
            .ok_or_else(|| bad(format!("the file has only {} bytes", file.len())))?;
        let size = i32::from_be_bytes([size_bytes[0], size_bytes[1], size_bytes[2], size_bytes[3]]);
        if size < 4 {
            return Err(bad(format!("size {size} is too small")));
        }
        let body = file.get(off + 4..off + 4 + size as usize).ok_or_else(|| {
            bad(format!(
                "size {size} runs past the end of the file ({} bytes)",
                file.len()
            ))
        })?;
        let magic_be = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
        let magic_le = i32::from_le_bytes([body[0], body[1], body[2], body[3]]);
        if magic_be == MAGIC_32 {
            if size as i64 != length {
                return Err(bad(format!(
                    "size {size} differs from the recorded length {length}"
                )));
            }
            let bitmap = RoaringBitmap::deserialize_from(&body[4..])
                .map_err(|e| bad(format!("invalid roaring bitmap: {e}")))?;
            check_bound(&bitmap, 0, 0, rows, limit).map_err(bad)?;
            Ok(DeletionVector {
                positions: bitmap.iter().map(u64::from).collect(),
            })
        } else if magic_le == MAGIC_64 {
            let mut rest = &body[4..];
            let count_bytes: [u8; 8] = rest
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| bad("truncated 64-bit bitmap count".into()))?;
            let count = i64::from_le_bytes(count_bytes);
            if !(0..=(1 << 32)).contains(&count) {
                return Err(bad(format!("invalid 64-bit bitmap count {count}")));
            }
            rest = &rest[8..];
            let mut positions = vec![];
            let mut total = 0u64;
            for _ in 0..count {
                let key_bytes: [u8; 4] = rest
                    .get(..4)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| bad("truncated 64-bit bitmap key".into()))?;
                let high = u32::from_le_bytes(key_bytes) as u64;
                let mut cursor = std::io::Cursor::new(&rest[4..]);
                let bitmap = RoaringBitmap::deserialize_from(&mut cursor)
                    .map_err(|e| bad(format!("invalid roaring bitmap: {e}")))?;
                let used = cursor.position() as usize;
                rest = &rest[4 + used..];
                check_bound(&bitmap, high, total, rows, limit).map_err(bad)?;
                total += bitmap.len();
                positions.extend(bitmap.iter().map(|low| (high << 32) | low as u64));
            }
            Ok(DeletionVector::from_positions(positions))
        } else {
            Err(bad(format!("unknown magic {magic_be:#x}")))
        }
    }
}

/// Checks, before expanding `bitmap` (the positions `high << 32 | low`), that the vector
/// stays within `limit` positions (`total` already taken) and, given the data file's `rows`,
/// that no position reaches it.
fn check_bound(
    bitmap: &RoaringBitmap,
    high: u64,
    total: u64,
    rows: Option<u64>,
    limit: u64,
) -> std::result::Result<(), String> {
    let count = bitmap.len();
    if total.saturating_add(count) > limit {
        return Err(match rows {
            Some(rows) => format!(
                "{} deleted positions in a data file of {rows} rows",
                total.saturating_add(count)
            ),
            None => format!(
                "more than {limit} deleted positions ({})",
                total.saturating_add(count)
            ),
        });
    }
    if let (Some(rows), Some(max)) = (rows, bitmap.max()) {
        let max = (high << 32) | max as u64;
        if max >= rows {
            return Err(format!(
                "deleted position {max} is past the data file's {rows} rows"
            ));
        }
    }
    Ok(())
}

/// Reads the whole index file holding a deletion vector; returns its name for messages and its
/// bytes.
pub async fn read_index_file(io: &FileIO, d: &DeletionFile) -> Result<(String, bytes::Bytes)> {
    let (store, path) = location::resolve(io, &d.index_file, d.external_path.as_deref())?;
    let display = d
        .external_path
        .clone()
        .unwrap_or_else(|| d.index_file.to_string());
    let bytes = match store.get(&path).await {
        Ok(r) => r.bytes().await.map_err(|e| Error::storage(&display, e))?,
        Err(object_store::Error::NotFound { .. }) => {
            return Err(Error::NotFound(format!(
                "deletion vector index file {display}"
            )))
        }
        Err(e) => return Err(Error::storage(&display, e)),
    };
    Ok((display, bytes))
}

/// Reads and parses one data file's deletion vector.
pub async fn load(io: &FileIO, d: &DeletionFile) -> Result<DeletionVector> {
    let (display, bytes) = read_index_file(io, d).await?;
    DeletionVector::parse(&bytes, d.offset, d.length, &display)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '|')
            .collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// An index file holding one vector: the version byte, the vector's length (big-endian),
    /// the vector and a 4-byte checksum.
    fn index_file(vector: &[u8]) -> Vec<u8> {
        let mut f = vec![1u8];
        f.extend((vector.len() as i32).to_be_bytes());
        f.extend(vector);
        f.extend([0u8; 4]);
        f
    }

    #[test]
    fn parses_the_documented_example() {
        // Format digest §10: positions {1,3,4,9}.
        let f = hex("01 | 0000001c | 5e43f2d0 | 3a300000 01000000 0000 0300 10000000 0100 0300 0400 0900 | 8f2a55c2");
        let dv = DeletionVector::parse(&f, 1, 28, "index-x").unwrap();
        assert_eq!(dv.positions(), &[1, 3, 4, 9]);
        assert_eq!(dv.range(2, 5), &[3, 4]);
    }

    #[test]
    fn run_containers_and_64_bit_vectors() {
        let mut b = RoaringBitmap::new();
        b.insert_range(100..200);
        b.insert(7);
        b.optimize(); // produces a run container
        let mut bytes = vec![];
        b.serialize_into(&mut bytes).unwrap();
        let mut v = MAGIC_32.to_be_bytes().to_vec();
        v.extend(&bytes);
        let dv = DeletionVector::parse(&index_file(&v), 1, v.len() as i64, "i").unwrap();
        assert_eq!(dv.len(), 101);

        let mut p = vec![];
        p.extend(MAGIC_64.to_le_bytes());
        p.extend(1i64.to_le_bytes());
        p.extend(0i32.to_le_bytes());
        p.extend(&bytes);
        let dv = DeletionVector::parse(&index_file(&p), 1, p.len() as i64 + 8, "i").unwrap();
        assert_eq!(dv.len(), 101);
    }

    #[test]
    fn hostile_bytes_are_errors_naming_the_file() {
        let f = hex("01 0000ffff 5e43f2d0 00");
        let e = DeletionVector::parse(&f, 1, 65535, "index/index-1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("index/index-1"), "{e}");
        assert!(DeletionVector::parse(&f, 40, 4, "i").is_err());
        assert!(DeletionVector::parse(&f, -3, 4, "i").is_err());
        let f = hex("01 00000008 5e43f2d0 3a300000");
        assert!(DeletionVector::parse(&f, 1, 8, "i").is_err());
    }

    /// A vector of 2^24 positions in a few kilobytes of run containers: refused for a data
    /// file of 1000 rows (and a position past the rows is refused), accepted for one as long
    /// as the positions.
    #[test]
    fn positions_are_bounded_by_the_data_file_rows_before_expanding() {
        let mut b = RoaringBitmap::new();
        b.insert_range(0..1 << 24);
        b.optimize();
        let mut bytes = vec![];
        b.serialize_into(&mut bytes).unwrap();
        let mut v = MAGIC_32.to_be_bytes().to_vec();
        v.extend(&bytes);
        let f = index_file(&v);
        let len = v.len() as i64;
        let e = DeletionVector::parse_for_rows(&f, 1, len, "index/index-9", 1000).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("index/index-9") && e.contains("1000 rows"),
            "{e}"
        );
        let dv = DeletionVector::parse_for_rows(&f, 1, len, "i", 1 << 24).unwrap();
        assert_eq!(dv.len(), 1 << 24);
        let e = DeletionVector::parse_for_rows(&f, 1, len, "i", (1 << 24) - 1).unwrap_err();
        assert!(e.to_string().contains("deleted positions"), "{e}");

        let small = RoaringBitmap::from_iter([5u32, 2000]);
        let mut bytes = vec![];
        small.serialize_into(&mut bytes).unwrap();
        let mut v = MAGIC_32.to_be_bytes().to_vec();
        v.extend(&bytes);
        let e = DeletionVector::parse_for_rows(&index_file(&v), 1, v.len() as i64, "i", 1000)
            .unwrap_err();
        assert!(e.to_string().contains("position 2000 is past"), "{e}");

        // Without a row count, the fixed bound: 2^32 positions (64-bit format, 2 keys) fail.
        let mut full = RoaringBitmap::new();
        full.insert_range(0..=u32::MAX);
        full.optimize();
        let mut bytes = vec![];
        full.serialize_into(&mut bytes).unwrap();
        let mut p = MAGIC_64.to_le_bytes().to_vec();
        p.extend(2i64.to_le_bytes());
        for key in 0..2i32 {
            p.extend(key.to_le_bytes());
            p.extend(&bytes);
        }
        let e =
            DeletionVector::parse(&index_file(&p), 1, p.len() as i64 + 8, "index-64").unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
    }
}

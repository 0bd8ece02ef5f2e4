//! CSV input (RFC 4180): comma separated, a header row, `"` quotes with `""` for a quote,
//! quoted fields may span lines. An unquoted empty field is NULL, a quoted empty field the
//! empty string. Blank lines are skipped. Errors name the line a record starts on.

use std::io::BufRead;

use streamhouse::Error;

use super::convert::Raw;
use super::{read_line, BatchShape, Chunk};
use crate::error::CliResult;

#[derive(Debug, PartialEq)]
pub struct CsvField {
    pub text: String,
    pub quoted: bool,
}

impl CsvField {
    fn raw(&self) -> Raw<'_> {
        if self.text.is_empty() && !self.quoted {
            Raw::Null
        } else {
            Raw::Text(&self.text)
        }
    }
}

/// Records of a CSV stream, each with the line it starts on.
pub struct CsvRecords<R> {
    reader: R,
    source: String,
    line: u64,
    buf: String,
}

enum State {
    FieldStart,
    Unquoted,
    Quoted,
    AfterQuote,
}

impl<R: BufRead> CsvRecords<R> {
    pub fn new(reader: R, source: &str) -> Self {
        CsvRecords {
            reader,
            source: source.to_string(),
            line: 0,
            buf: String::new(),
        }
    }

    /// Reads the next line into `buf`; false at the end of the input.
    fn next_line(&mut self) -> CliResult<bool> {
        read_line(
            &mut self.reader,
            &mut self.buf,
            &mut self.line,
            &self.source,
        )
    }

    pub fn next_record(&mut self) -> CliResult<Option<(u64, Vec<CsvField>)>> {
        loop {
            if !self.next_line()? {
                return Ok(None);
            }
            if self.buf.trim().is_empty() {
                continue;
            }
            return self.parse_record().map(Some);
        }
    }

    fn parse_record(&mut self) -> CliResult<(u64, Vec<CsvField>)> {
        let start = self.line;
        let mut fields = vec![];
        let mut field = CsvField {
            text: String::new(),
            quoted: false,
        };
        let mut state = State::FieldStart;
        loop {
            let line = self.buf.trim_end_matches(['\n', '\r']).to_string();
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                state = match (state, c) {
                    (State::FieldStart, '"') => {
                        field.quoted = true;
                        State::Quoted
                    }
                    (State::FieldStart | State::Unquoted | State::AfterQuote, ',') => {
                        fields.push(std::mem::replace(
                            &mut field,
                            CsvField {
                                text: String::new(),
                                quoted: false,
                            },
                        ));
                        State::FieldStart
                    }
                    (State::FieldStart | State::Unquoted, c) => {
                        field.text.push(c);
                        State::Unquoted
                    }
                    (State::Quoted, '"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.text.push('"');
                        State::Quoted
                    }
                    (State::Quoted, '"') => State::AfterQuote,
                    (State::Quoted, c) => {
                        field.text.push(c);
                        State::Quoted
                    }
                    (State::AfterQuote, c) if c == ' ' || c == '\t' => State::AfterQuote,
                    (State::AfterQuote, c) => {
                        return Err(Error::input_at(
                            format!("{} line {}", self.source, self.line),
                            format!(
                                "unexpected {c:?} after the closing quote of field {}",
                                fields.len() + 1
                            ),
                        )
                        .into())
                    }
                };
            }
            if !matches!(state, State::Quoted) {
                fields.push(field);
                return Ok((start, fields));
            }
            // A quoted field goes on on the next line.
            field.text.push('\n');
            if !self.next_line()? {
                return Err(Error::input_at(
                    format!("{} line {start}", self.source),
                    format!(
                        "a quoted field (field {}) is never closed",
                        fields.len() + 1
                    ),
                )
                .into());
            }
        }
    }
}

/// Where each input column goes.
#[derive(Clone, Copy)]
enum Target {
    Field(usize),
    RowKind,
}

pub fn read(
    reader: impl BufRead,
    shape: &BatchShape,
    mut send: impl FnMut(Chunk) -> bool,
) -> CliResult<()> {
    let src = &shape.source;
    let mut records = CsvRecords::new(reader, src);
    let Some((header_line, header)) = records.next_record()? else {
        return Ok(());
    };
    let at_header = || format!("{src} line {header_line} (header)");
    let mut targets = Vec::with_capacity(header.len());
    for (i, h) in header.iter().enumerate() {
        let name = h.text.trim();
        let target = if let Ok(idx) = shape.schema.field_index(name) {
            Target::Field(idx)
        } else if shape.rowkind_column() == Some(name) {
            Target::RowKind
        } else if name.is_empty() {
            return Err(
                Error::input_at(at_header(), format!("column {} has no name", i + 1)).into(),
            );
        } else {
            return Err(Error::input_at(at_header(), shape.unknown_column(name)).into());
        };
        if header[..i].iter().any(|p| p.text.trim() == name) {
            return Err(
                Error::input_at(at_header(), format!("column {name:?} appears twice")).into(),
            );
        }
        targets.push(target);
    }
    for f in &shape.schema.fields {
        if !f.data_type.nullable && !header.iter().any(|h| h.text.trim() == f.name) {
            return Err(Error::input_at(
                at_header(),
                format!(
                    "column {} is missing; it is NOT NULL{}",
                    f.name,
                    shape.key_note(&f.name)
                ),
            )
            .into());
        }
    }
    let mut rows: Vec<(u64, Vec<CsvField>)> = Vec::with_capacity(shape.batch_rows.min(1 << 16));
    while let Some((line, fields)) = records.next_record()? {
        if fields.len() != targets.len() {
            return Err(Error::input_at(
                format!("{src} line {line}"),
                format!(
                    "{} fields, but the header has {}",
                    fields.len(),
                    targets.len()
                ),
            )
            .into());
        }
        rows.push((line, fields));
        if rows.len() >= shape.batch_rows {
            if !send(to_chunk(&rows, &targets, shape)?) {
                return Ok(());
            }
            rows.clear();
        }
    }
    if !rows.is_empty() {
        send(to_chunk(&rows, &targets, shape)?);
    }
    Ok(())
}

fn to_chunk(
    rows: &[(u64, Vec<CsvField>)],
    targets: &[Target],
    shape: &BatchShape,
) -> CliResult<Chunk> {
    let lines: Vec<u64> = rows.iter().map(|(l, _)| *l).collect();
    let mut columns: Vec<Vec<Raw>> = vec![vec![Raw::Null; rows.len()]; shape.schema.fields.len()];
    let mut kinds: Option<Vec<Raw>> = None;
    for (pos, target) in targets.iter().enumerate() {
        let cells: Vec<Raw> = rows.iter().map(|(_, f)| f[pos].raw()).collect();
        match target {
            Target::Field(idx) => columns[*idx] = cells,
            Target::RowKind => kinds = Some(cells),
        }
    }
    shape.chunk(&columns, kinds.as_deref(), &lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Record = (u64, Vec<(String, bool)>);

    fn records(text: &str) -> CliResult<Vec<Record>> {
        let mut r = CsvRecords::new(text.as_bytes(), "t.csv");
        let mut out = vec![];
        while let Some((line, fields)) = r.next_record()? {
            out.push((
                line,
                fields.into_iter().map(|f| (f.text, f.quoted)).collect(),
            ));
        }
        Ok(out)
    }

    #[test]
    fn quoting_and_lines() {
        let r = records("a,b\n\n1,\"x, \"\"y\"\"\"\r\n2,\"multi\nline\"\n3,\"\"\n").unwrap();
        assert_eq!(r.len(), 4);
        assert_eq!(r[1].0, 3);
        assert_eq!(r[1].1[1], ("x, \"y\"".to_string(), true));
        assert_eq!(r[2].1[1].0, "multi\nline");
        assert_eq!(r[3].0, 6);
        assert_eq!(r[3].1[1], (String::new(), true));
    }

    #[test]
    fn broken_quotes_name_the_line() {
        let e = records("a\n\"open\nstill\n").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("never closed"), "{e}");
        let e = records("a,b\n\"x\"y,1\n").unwrap_err().to_string();
        assert!(
            e.contains("line 2") && e.contains("after the closing quote"),
            "{e}"
        );
    }
}

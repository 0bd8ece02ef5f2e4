//! Input for `streamhouse write`: CSV, JSON lines or Parquet from a file or stdin, turned into
//! Arrow batches of the table's column types plus optional row kinds.
//!
//! A reader thread parses the input and hands [`Chunk`]s of at most `batch_rows` rows through a
//! channel with room for two, so memory stays bounded whatever the input size and parsing
//! overlaps with writing. Every error names the input, the line (or row) and the column.

pub mod convert;
pub mod csv;
pub mod json;
pub mod nested;
pub mod parquet;

use std::io::{BufRead, BufReader, Cursor};
use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use streamhouse::Error;
use streamhouse::RowKind;
use streamhouse::TableSchema;
use tokio::sync::mpsc;

use self::convert::{build_array, Raw};
use crate::args::InputFormat;
use crate::error::{CliError, CliResult};

/// The optional input column holding each row's change kind (`+I`, `-U`, `+U`, `-D`).
pub const ROWKIND_COLUMN: &str = "rowkind";

pub enum Source {
    Stdin,
    File(PathBuf),
    /// Text the program made itself (the demo).
    Memory {
        name: String,
        data: Vec<u8>,
    },
}

impl Source {
    /// `--input`: none or `-` is stdin.
    pub fn from_arg(input: Option<PathBuf>) -> Source {
        match input {
            Some(p) if p.as_os_str() != "-" => Source::File(p),
            _ => Source::Stdin,
        }
    }

    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "stdin".into(),
            Source::File(p) => p.display().to_string(),
            Source::Memory { name, .. } => name.clone(),
        }
    }

    /// The format: the given one, else from the file extension.
    pub fn format(&self, given: Option<InputFormat>) -> CliResult<InputFormat> {
        if let Some(f) = given {
            return Ok(f);
        }
        let path = match self {
            Source::File(p) => p,
            _ => {
                return Err(CliError::Usage(
                    "reading stdin needs --format csv, json or parquet".into(),
                ))
            }
        };
        InputFormat::of_path(path).ok_or_else(|| {
            CliError::Usage(format!(
                "cannot tell the format of {} from its extension; pass --format csv, json or parquet",
                path.display()
            ))
        })
    }

    fn open_text(&self) -> CliResult<Box<dyn BufRead + Send>> {
        Ok(match self {
            Source::Stdin => Box::new(BufReader::with_capacity(1 << 16, std::io::stdin())),
            Source::File(p) => {
                let f = std::fs::File::open(p)
                    .map_err(CliError::io(format!("cannot open {}", p.display())))?;
                Box::new(BufReader::with_capacity(1 << 16, f))
            }
            Source::Memory { data, .. } => Box::new(Cursor::new(data.clone())),
        })
    }
}

/// Rows converted to the table's types; `kinds` is `None` when every row is an insert.
pub struct Chunk {
    pub batch: RecordBatch,
    pub kinds: Option<Vec<RowKind>>,
    /// Where the rows came from (`orders.csv lines 2-65537`), for messages.
    pub label: String,
}

/// What the batches must look like, and how to name problems.
pub struct BatchShape {
    pub schema: Arc<TableSchema>,
    pub arrow_schema: SchemaRef,
    pub source: String,
    pub batch_rows: usize,
}

impl BatchShape {
    pub fn new(schema: Arc<TableSchema>, source: String, batch_rows: usize) -> Self {
        let arrow_schema = schema.arrow_schema();
        BatchShape {
            schema,
            arrow_schema,
            source,
            batch_rows: batch_rows.max(1),
        }
    }

    /// `rowkind` is the change-kind column unless the table has a column of that name.
    pub fn rowkind_column(&self) -> Option<&'static str> {
        self.schema
            .field(ROWKIND_COLUMN)
            .is_none()
            .then_some(ROWKIND_COLUMN)
    }

    pub fn accepts(&self, name: &str) -> bool {
        self.schema.field(name).is_some() || self.rowkind_column() == Some(name)
    }

    pub fn unknown_column(&self, name: &str) -> String {
        format!(
            "unknown column {name:?}; the table's columns are {}{}",
            self.schema.field_names().join(", "),
            if self.rowkind_column().is_some() {
                " (plus rowkind for the change kind)"
            } else {
                ""
            }
        )
    }

    pub fn key_note(&self, column: &str) -> &'static str {
        if self.schema.primary_keys.iter().any(|k| k == column) {
            " (primary key)"
        } else {
            ""
        }
    }

    /// Converts one batch of cells (one vector per table column, in table order).
    pub fn chunk(
        &self,
        columns: &[Vec<Raw>],
        kinds: Option<&[Raw]>,
        lines: &[u64],
    ) -> CliResult<Chunk> {
        let src = &self.source;
        let rows: Vec<usize> = (0..lines.len()).collect();
        let mut arrays = Vec::with_capacity(columns.len());
        for (field, cells) in self.schema.fields.iter().zip(columns) {
            let at = |row: usize| format!("{src} line {}, column {}", lines[row], field.name);
            if !field.data_type.nullable {
                if let Some(i) = cells.iter().position(Raw::is_null) {
                    return Err(Error::input_at(
                        at(i),
                        format!(
                            "no value (NULL) for NOT NULL column {}{}",
                            field.name,
                            self.key_note(&field.name)
                        ),
                    )
                    .into());
                }
            }
            let array = build_array(&field.data_type, cells, &rows)
                .map_err(|e| Error::input_at(at(e.row), e.detail))?;
            arrays.push(array);
        }
        let batch = RecordBatch::try_new(self.arrow_schema.clone(), arrays)
            .map_err(|e| Error::arrow(format!("building rows of {src}"), e))?;
        let kinds = match kinds {
            Some(cells) => parse_kinds(cells, |i| {
                format!("{src} line {}, column {ROWKIND_COLUMN}", lines[i])
            })?,
            None => None,
        };
        let label = match (lines.first(), lines.last()) {
            (Some(a), Some(b)) => format!("{src} lines {a}-{b}"),
            _ => src.clone(),
        };
        Ok(Chunk {
            batch,
            kinds,
            label,
        })
    }
}

/// Row kinds from `rowkind` cells; NULL is an insert. `None` when all rows are inserts.
pub fn parse_kinds(cells: &[Raw], at: impl Fn(usize) -> String) -> CliResult<Option<Vec<RowKind>>> {
    let mut kinds = Vec::with_capacity(cells.len());
    for (i, c) in cells.iter().enumerate() {
        kinds.push(match c {
            Raw::Null | Raw::Absent => RowKind::Insert,
            Raw::Text(s) if RowKind::parse(s).is_ok() => RowKind::parse(s)?,
            c => {
                return Err(Error::input_at(
                    at(i),
                    format!("{} is not a row kind; use +I (insert), -U / +U (update before / after) or -D (delete)", convert::show(c)),
                )
                .into())
            }
        });
    }
    Ok(kinds.iter().any(|k| *k != RowKind::Insert).then_some(kinds))
}

/// Reads one line into `buf` (cleared first), counting lines; `false` at the end of input.
/// The UTF-8 byte order mark of a first line is dropped.
pub fn read_line(
    reader: &mut impl BufRead,
    buf: &mut String,
    line: &mut u64,
    src: &str,
) -> CliResult<bool> {
    buf.clear();
    let n = reader.read_line(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => CliError::from(Error::input_at(
            format!("{src} line {}", *line + 1),
            "is not valid UTF-8 text",
        )),
        _ => CliError::Io {
            what: format!("reading {src}"),
            source: e,
        },
    })?;
    if n == 0 {
        return Ok(false);
    }
    *line += 1;
    if *line == 1 && buf.starts_with('\u{feff}') {
        buf.drain(..'\u{feff}'.len_utf8());
    }
    Ok(true)
}

/// Parses `source` on a thread of its own; chunks (or the first error) arrive on the channel.
pub fn spawn(
    source: Source,
    format: InputFormat,
    shape: BatchShape,
) -> CliResult<mpsc::Receiver<CliResult<Chunk>>> {
    let (tx, rx) = mpsc::channel(2);
    std::thread::Builder::new()
        .name("streamhouse-input".into())
        .spawn(move || {
            let send = |c: Chunk| tx.blocking_send(Ok(c)).is_ok();
            let result = match format {
                InputFormat::Csv => source.open_text().and_then(|r| csv::read(r, &shape, send)),
                InputFormat::Json => source.open_text().and_then(|r| json::read(r, &shape, send)),
                InputFormat::Parquet => parquet::read(&source, &shape, send),
            };
            if let Err(e) = result {
                let _ = tx.blocking_send(Err(e));
            }
        })
        .map_err(CliError::io("cannot start the input thread"))?;
    Ok(rx)
}

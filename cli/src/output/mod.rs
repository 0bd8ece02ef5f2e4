//! Output: record batches as an ASCII table, CSV, JSON lines or Parquet, written batch by batch
//! to stdout or a file; and small listings ([`records`]) for the inspection commands.

pub mod records;
pub mod table;
pub mod value;

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use arrow::array::{Array, ArrayRef};
use arrow::compute::cast;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use streamhouse::DataType;

use self::value::Renderer;
use crate::args::ScanOutput;
use crate::error::{CliError, CliResult};

/// Rows in one ASCII table; longer results print as several tables.
const TABLE_CHUNK_ROWS: usize = 10_000;

/// Where output goes.
pub enum Dest {
    Stdout,
    File(PathBuf),
}

impl Dest {
    pub fn name(&self) -> String {
        match self {
            Dest::Stdout => "stdout".into(),
            Dest::File(p) => p.display().to_string(),
        }
    }

    /// Removes what a failed command wrote to a file (stdout cannot be taken back).
    pub fn remove_partial(&self) {
        if let Dest::File(p) = self {
            let _ = std::fs::remove_file(p);
        }
    }

    fn open(&self) -> CliResult<Box<dyn Write + Send>> {
        Ok(match self {
            Dest::Stdout => Box::new(BufWriter::new(std::io::stdout())),
            Dest::File(p) => {
                let f = File::create(p)
                    .map_err(CliError::io(format!("cannot create {}", p.display())))?;
                Box::new(BufWriter::new(f))
            }
        })
    }
}

/// Receives the batches of one result.
pub trait BatchSink {
    fn write(&mut self, batch: &RecordBatch) -> CliResult<()>;
    /// Flushes and closes; returns the number of rows written.
    fn finish(self: Box<Self>) -> CliResult<u64>;
}

/// A sink for `format`. `types[j]` is the Paimon type of column j when it is a table column.
pub fn open_sink(
    format: ScanOutput,
    dest: &Dest,
    schema: SchemaRef,
    types: Vec<Option<DataType>>,
) -> CliResult<Box<dyn BatchSink>> {
    if format == ScanOutput::Parquet {
        if matches!(dest, Dest::Stdout) && std::io::stdout().is_terminal() {
            return Err(CliError::Usage(
                "Parquet is binary: write it with --out PATH or redirect stdout".into(),
            ));
        }
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let writer = ArrowWriter::try_new(dest.open()?, schema, Some(props)).map_err(|e| {
            CliError::Failed(format!("cannot write Parquet to {}: {e}", dest.name()))
        })?;
        return Ok(Box::new(ParquetSink {
            writer,
            dest: dest.name(),
            rows: 0,
        }));
    }
    let columns = Columns {
        names: schema.fields().iter().map(|f| f.name().clone()).collect(),
        renderers: types.into_iter().map(|ty| Renderer { ty }).collect(),
        schema,
    };
    let out = dest.open()?;
    let what = dest.name();
    Ok(match format {
        ScanOutput::Csv | ScanOutput::Json => Box::new(LineSink {
            columns,
            out,
            what,
            rows: 0,
            csv: format == ScanOutput::Csv,
            header_done: false,
        }),
        _ => Box::new(TableSink {
            columns,
            out,
            what,
            rows: 0,
            pending: vec![],
        }),
    })
}

struct Columns {
    schema: SchemaRef,
    names: Vec<String>,
    renderers: Vec<Renderer>,
}

impl Columns {
    /// The batch's columns in the types the renderers expect (readers may hand out
    /// equivalent encodings, e.g. string views).
    fn arrays(&self, batch: &RecordBatch) -> CliResult<Vec<ArrayRef>> {
        batch
            .columns()
            .iter()
            .zip(self.schema.fields())
            .zip(&self.renderers)
            .map(|((col, field), r)| {
                let want = match &r.ty {
                    Some(ty) => ty.to_arrow(),
                    None => field.data_type().clone(),
                };
                if col.data_type().equals_datatype(&want) {
                    Ok(col.clone())
                } else {
                    Ok(cast(col, &want)?)
                }
            })
            .collect()
    }
}

fn write_err(what: &str) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |e| CliError::Io {
        what: format!("writing to {what}"),
        source: e,
    }
}

/// JSON lines or CSV (with a header line): one line per row.
struct LineSink {
    columns: Columns,
    out: Box<dyn Write + Send>,
    what: String,
    rows: u64,
    csv: bool,
    header_done: bool,
}

impl LineSink {
    fn header(&mut self) -> CliResult<()> {
        if self.csv && !self.header_done {
            let h: Vec<String> = self.columns.names.iter().map(|n| csv_field(n)).collect();
            writeln!(self.out, "{}", h.join(",")).map_err(write_err(&self.what))?;
        }
        self.header_done = true;
        Ok(())
    }

    /// Appends row `row` of `cols` to `line`.
    fn render(&self, cols: &[&dyn Array], row: usize, line: &mut String) {
        let renderers = &self.columns.renderers;
        if !self.csv {
            return value::json_row(&self.columns.names, cols, renderers, row, line);
        }
        for (j, (col, r)) in cols.iter().zip(renderers).enumerate() {
            if j > 0 {
                line.push(',');
            }
            if let Some(t) = r.text(*col, row) {
                line.push_str(&csv_field(&t));
            }
        }
    }
}

impl BatchSink for LineSink {
    fn write(&mut self, batch: &RecordBatch) -> CliResult<()> {
        self.header()?;
        let arrays = self.columns.arrays(batch)?;
        let cols: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
        let mut line = String::new();
        for row in 0..batch.num_rows() {
            line.clear();
            self.render(&cols, row, &mut line);
            line.push('\n');
            self.out
                .write_all(line.as_bytes())
                .map_err(write_err(&self.what))?;
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }
    fn finish(mut self: Box<Self>) -> CliResult<u64> {
        self.header()?;
        self.out.flush().map_err(write_err(&self.what))?;
        Ok(self.rows)
    }
}

/// A CSV field: quoted when it holds a separator, quote, line break, outer spaces, or is the
/// empty string (an unquoted empty field is NULL).
pub fn csv_field(s: &str) -> String {
    let needs_quotes = s.is_empty()
        || s.contains([',', '"', '\n', '\r'])
        || s.starts_with(char::is_whitespace)
        || s.ends_with(char::is_whitespace);
    if needs_quotes {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

struct TableSink {
    columns: Columns,
    out: Box<dyn Write + Send>,
    what: String,
    rows: u64,
    pending: Vec<Vec<String>>,
}

impl TableSink {
    fn flush_table(&mut self) -> CliResult<()> {
        let right: Vec<bool> = self
            .columns
            .renderers
            .iter()
            .map(Renderer::is_numeric)
            .collect();
        let text = table::render(&self.columns.names, &right, &self.pending);
        self.out
            .write_all(text.as_bytes())
            .map_err(write_err(&self.what))?;
        self.pending.clear();
        Ok(())
    }
}

impl BatchSink for TableSink {
    fn write(&mut self, batch: &RecordBatch) -> CliResult<()> {
        let arrays = self.columns.arrays(batch)?;
        for row in 0..batch.num_rows() {
            let cells = arrays
                .iter()
                .zip(&self.columns.renderers)
                .map(|(col, r)| {
                    r.text(col.as_ref(), row)
                        .map(|t| table::cell(&t))
                        .unwrap_or_else(|| "NULL".into())
                })
                .collect();
            self.pending.push(cells);
            if self.pending.len() >= TABLE_CHUNK_ROWS {
                self.flush_table()?;
            }
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }
    fn finish(mut self: Box<Self>) -> CliResult<u64> {
        if !self.pending.is_empty() || self.rows == 0 {
            self.flush_table()?;
        }
        let n = self.rows;
        writeln!(self.out, "{n} row{}", if n == 1 { "" } else { "s" })
            .map_err(write_err(&self.what))?;
        self.out.flush().map_err(write_err(&self.what))?;
        Ok(n)
    }
}

struct ParquetSink {
    writer: ArrowWriter<Box<dyn Write + Send>>,
    dest: String,
    rows: u64,
}

impl BatchSink for ParquetSink {
    fn write(&mut self, batch: &RecordBatch) -> CliResult<()> {
        self.writer
            .write(batch)
            .map_err(|e| CliError::Failed(format!("cannot write Parquet to {}: {e}", self.dest)))?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }
    fn finish(self: Box<Self>) -> CliResult<u64> {
        let dest = self.dest.clone();
        let rows = self.rows;
        let mut inner = self
            .writer
            .into_inner()
            .map_err(|e| CliError::Failed(format!("cannot write Parquet to {dest}: {e}")))?;
        inner.flush().map_err(write_err(&dest))?;
        Ok(rows)
    }
}

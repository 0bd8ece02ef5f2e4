//! `streamhouse get`: rows by primary key, straight from the table's files (no scan).
//!
//! Keys come as positional values (single-column keys), `--key 'col=value,…'` (any key) or an
//! input file of keys (CSV with a header, JSON lines or a JSON array). Values use the forms
//! `streamhouse write` reads and are converted to the key columns' types with the same rules,
//! so errors name the key, the column and why. With the global `--stats`, stderr shows what
//! loading the table and each lookup cost in object-store requests and bytes.

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use arrow::array::{Array, ArrayRef, RecordBatch};
use clap::{Args, ValueEnum};
use serde_json::Value;
use streamhouse::metrics::MetricsSnapshot;
use streamhouse::{
    datum_from_arrow, Catalog, DataField, Datum, GetResult, Identifier, Lookup, LookupCounters,
    Table,
};

use crate::args::parse_identifier;
use crate::args::InputFormat;
use crate::error::{CliError, CliResult};
use crate::input::convert::{build_array, Raw};
use crate::input::csv::CsvRecords;
use crate::output::value::{json_row, Renderer};
use crate::output::{csv_field, table};

pub const GET_ABOUT: &str = "\
Look rows up by primary key, straight from the table's data files: the key's bucket, the
files whose key range holds it (newest first), their bloom filters and page indexes, then one
page. The answer is the row a scan of the same snapshot returns for the key (deletes,
partial-update, aggregation and first-row tables included); absent keys are reported as such.

Keys:
  KEY...              values of a single-column primary key
  --key 'a=1,b=x'     a key as COLUMN=VALUE pairs (any key; repeatable); quote values holding
                      commas: --key 'name=\"Smith, J\",id=3'
  --input FILE        many keys: CSV with a header naming the key columns, JSON lines of
                      objects, or a JSON array (of objects, or of values for a one-column key)
A key is the table's primary key, which includes the partition columns, except in
cross-partition tables (bucket = -1, written by Java engines), where a key may live in any
partition and every partition's files are searched. Values are written as for `streamhouse write`
(DATE 2024-01-31, TIMESTAMP 2024-01-31T13:45:00, DECIMAL 12.30, BYTES base64).

Output (one result per key, in order):
  table  the rows, with a `found` column (the default)
  csv    a header row `found,<columns>`; an absent key has its key columns only
  json   one object per line: {\"key\": {...}, \"found\": true, \"row\": {...}} or
         {\"key\": {...}, \"found\": false}

With --stats, stderr shows the object-store requests and bytes of loading the table and of
each lookup.";

pub const GET_EXAMPLES: &str = "\
Examples:
  streamhouse get shop.orders 7 12
  streamhouse get shop.sales --key 'dt=2024-01-31,id=7' --output json
  streamhouse get shop.orders --input keys.csv --output csv
  streamhouse get shop.orders 7 --snapshot 3 --stats";

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The table, as DATABASE.TABLE
    #[arg(value_name = "DB.TABLE", value_parser = parse_identifier)]
    pub table: Identifier,
    /// Values of a single-column primary key
    #[arg(value_name = "KEY")]
    pub keys: Vec<String>,
    /// A key as COLUMN=VALUE pairs, comma separated (repeatable)
    #[arg(long = "key", value_name = "COL=VALUE,...")]
    pub key: Vec<String>,
    /// A file of keys (CSV or JSON), or - for stdin
    #[arg(long, short, value_name = "PATH")]
    pub input: Option<PathBuf>,
    /// Format of --input; by default from its extension (.csv, .json/.jsonl/.ndjson)
    #[arg(long, short, value_enum)]
    pub format: Option<InputFormat>,
    /// Snapshot id to read (default: the latest)
    #[arg(long, value_name = "ID")]
    pub snapshot: Option<i64>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t = GetOutput::Table)]
    pub output: GetOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GetOutput {
    Table,
    Csv,
    Json,
}

/// One key before conversion: its raw values in primary-key order and where it came from.
struct RawKey {
    values: Vec<RawValue>,
    origin: String,
}

enum RawValue {
    Null,
    Text(String),
    Json(Value),
}

impl RawValue {
    fn raw(&self) -> Raw<'_> {
        match self {
            RawValue::Null => Raw::Null,
            RawValue::Text(s) => Raw::Text(s),
            RawValue::Json(v) => Raw::from_json(v),
        }
    }
}

/// Parsed keys: per key column an array of every key's value, and per key its datums.
pub struct Keys {
    pub columns: Vec<ArrayRef>,
    pub datums: Vec<Vec<Datum>>,
}

fn key_list(fields: &[DataField]) -> String {
    fields
        .iter()
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Splits `a=1,b="x,y"` into (column, value) pairs; `""` inside quotes is a quote.
fn parse_pairs(spec: &str) -> Result<Vec<(String, RawValue)>, String> {
    let mut out = vec![];
    let mut chars = spec.chars().peekable();
    loop {
        let mut name = String::new();
        for c in chars.by_ref() {
            if c == '=' {
                break;
            }
            name.push(c);
        }
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(format!(
                "{spec:?} is not COLUMN=VALUE,… (a column name is missing)"
            ));
        }
        let mut value = String::new();
        while chars.peek().is_some_and(|c| *c == ' ') {
            chars.next();
        }
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err(format!("{spec:?}: the quote of {name} is not closed")),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        value.push('"');
                    }
                    Some('"') => break,
                    Some(c) => value.push(c),
                }
            }
            while chars.peek().is_some_and(|c| *c == ' ') {
                chars.next();
            }
            if !matches!(chars.peek(), None | Some(',')) {
                return Err(format!("{spec:?}: text after the quoted value of {name}"));
            }
        } else {
            while let Some(c) = chars.peek() {
                if *c == ',' {
                    break;
                }
                value.push(*c);
                chars.next();
            }
            value = value.trim().to_string();
        }
        out.push((name, RawValue::Text(value)));
        match chars.next() {
            None => return Ok(out),
            Some(_) => continue, // the comma
        }
    }
}

/// Orders named values by the key columns; every column exactly once.
fn by_key_columns(
    fields: &[DataField],
    pairs: Vec<(String, RawValue)>,
    origin: &str,
) -> CliResult<Vec<RawValue>> {
    let mut slots: Vec<Option<RawValue>> = fields.iter().map(|_| None).collect();
    for (name, v) in pairs {
        let Some(i) = fields.iter().position(|f| f.name == name) else {
            return Err(CliError::Usage(format!(
                "{origin}: {name} is not a primary-key column (the key is {})",
                key_list(fields)
            )));
        };
        if slots[i].replace(v).is_some() {
            return Err(CliError::Usage(format!("{origin}: {name} is given twice")));
        }
    }
    slots
        .into_iter()
        .zip(fields)
        .map(|(v, f)| {
            v.ok_or_else(|| {
                CliError::Usage(format!(
                    "{origin}: no value for key column {} (the key is {})",
                    f.name,
                    key_list(fields)
                ))
            })
        })
        .collect()
}

fn read_input(path: &PathBuf) -> CliResult<(String, Box<dyn BufRead>)> {
    if path.as_os_str() == "-" {
        return Ok(("stdin".into(), Box::new(BufReader::new(std::io::stdin()))));
    }
    let f = std::fs::File::open(path)
        .map_err(CliError::io(format!("cannot open {}", path.display())))?;
    Ok((path.display().to_string(), Box::new(BufReader::new(f))))
}

fn input_format(path: &std::path::Path, given: Option<InputFormat>) -> CliResult<InputFormat> {
    if let Some(f) = given {
        return Ok(f);
    }
    match InputFormat::of_path(path) {
        Some(f @ (InputFormat::Csv | InputFormat::Json)) => Ok(f),
        _ => Err(CliError::Usage(format!(
            "cannot tell the format of {}: name it .csv or .json, or pass --format",
            path.display()
        ))),
    }
}

fn csv_keys(fields: &[DataField], source: &str, r: Box<dyn BufRead>) -> CliResult<Vec<RawKey>> {
    let mut records = CsvRecords::new(r, source);
    let Some((_, header)) = records.next_record()? else {
        return Ok(vec![]);
    };
    let names: Vec<String> = header.iter().map(|f| f.text.trim().to_string()).collect();
    let mut positions = vec![];
    for f in fields {
        let p = names.iter().position(|n| *n == f.name).ok_or_else(|| {
            CliError::Usage(format!(
                "{source}: the header has no key column {} (the key is {}; the header has {})",
                f.name,
                key_list(fields),
                names.join(", ")
            ))
        })?;
        positions.push(p);
    }
    let mut out = vec![];
    while let Some((line, record)) = records.next_record()? {
        let values = positions
            .iter()
            .map(|p| match record.get(*p) {
                Some(f) if f.text.is_empty() && !f.quoted => RawValue::Null,
                Some(f) => RawValue::Text(f.text.clone()),
                None => RawValue::Null,
            })
            .collect();
        out.push(RawKey {
            values,
            origin: format!("line {line} of {source}"),
        });
    }
    Ok(out)
}

fn json_key(fields: &[DataField], v: Value, origin: String) -> CliResult<RawKey> {
    let values = match v {
        Value::Object(map) => {
            let pairs = map
                .into_iter()
                .filter(|(k, _)| fields.iter().any(|f| &f.name == k))
                .map(|(k, v)| (k, RawValue::Json(v)))
                .collect();
            by_key_columns(fields, pairs, &origin)?
        }
        v if fields.len() == 1 && !v.is_array() => vec![RawValue::Json(v)],
        _ => {
            return Err(CliError::Usage(format!(
                "{origin}: a key is a JSON object with the key columns ({})",
                key_list(fields)
            )))
        }
    };
    Ok(RawKey { values, origin })
}

fn json_keys(
    fields: &[DataField],
    source: &str,
    mut r: Box<dyn BufRead>,
) -> CliResult<Vec<RawKey>> {
    let mut text = String::new();
    r.read_to_string(&mut text)
        .map_err(CliError::io(format!("cannot read {source}")))?;
    let bad = |what: String, e: serde_json::Error| {
        CliError::Failed(format!(
            "{what}: invalid JSON: {}",
            crate::input::json::describe_json_error(&e)
        ))
    };
    if text.trim_start().starts_with('[') {
        let v: Value = serde_json::from_str(&text).map_err(|e| bad(source.to_string(), e))?;
        let items = v.as_array().cloned().unwrap_or_default();
        return items
            .into_iter()
            .enumerate()
            .map(|(i, v)| json_key(fields, v, format!("item {} of {source}", i + 1)))
            .collect();
    }
    let mut out = vec![];
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let origin = format!("line {} of {source}", i + 1);
        let v: Value = serde_json::from_str(line).map_err(|e| bad(origin.clone(), e))?;
        out.push(json_key(fields, v, origin)?);
    }
    Ok(out)
}

/// Gathers and converts the keys of the command line.
fn collect_keys(table: &Table, fields: &[DataField], args: &GetArgs) -> CliResult<Keys> {
    let mut raw: Vec<RawKey> = vec![];
    if !args.keys.is_empty() && fields.len() != 1 {
        return Err(CliError::Usage(format!(
            "table {} has a composite primary key ({}): give keys with --key '{}'",
            table.name(),
            key_list(fields),
            fields
                .iter()
                .map(|f| format!("{}=…", f.name))
                .collect::<Vec<_>>()
                .join(",")
        )));
    }
    for (i, k) in args.keys.iter().enumerate() {
        raw.push(RawKey {
            values: vec![RawValue::Text(k.clone())],
            origin: format!("key argument {} ({k:?})", i + 1),
        });
    }
    for k in &args.key {
        let origin = format!("--key {k:?}");
        let pairs = parse_pairs(k).map_err(|e| CliError::Usage(format!("--key {e}")))?;
        raw.push(RawKey {
            values: by_key_columns(fields, pairs, &origin)?,
            origin,
        });
    }
    if let Some(path) = &args.input {
        let format = if path.as_os_str() == "-" {
            args.format.unwrap_or(InputFormat::Json)
        } else {
            input_format(path, args.format)?
        };
        let (source, reader) = read_input(path)?;
        raw.extend(match format {
            InputFormat::Csv => csv_keys(fields, &source, reader)?,
            InputFormat::Json => json_keys(fields, &source, reader)?,
            InputFormat::Parquet => {
                return Err(CliError::Usage(
                    "keys are read from CSV or JSON, not Parquet".into(),
                ))
            }
        });
    }
    if raw.is_empty() {
        return Err(CliError::Usage(format!(
            "no keys given: pass values of {} as arguments, --key 'COL=VALUE,…' or --input FILE",
            key_list(fields)
        )));
    }
    let rows: Vec<usize> = (0..raw.len()).collect();
    let mut columns = vec![];
    for (j, f) in fields.iter().enumerate() {
        let cells: Vec<Raw> = raw.iter().map(|k| k.values[j].raw()).collect();
        let array = build_array(&f.data_type, &cells, &rows).map_err(|e| {
            CliError::Usage(format!(
                "{}: key column {} ({}): {}",
                raw[e.row].origin,
                f.name,
                crate::input::convert::type_name(&f.data_type),
                e.detail
            ))
        })?;
        columns.push(array);
    }
    let mut datums = Vec::with_capacity(raw.len());
    for (i, k) in raw.iter().enumerate() {
        let mut key = Vec::with_capacity(fields.len());
        for (c, f) in columns.iter().zip(fields) {
            let d = datum_from_arrow(c.as_ref(), i, &f.data_type)?.ok_or_else(|| {
                CliError::Usage(format!("{}: key column {} is NULL", k.origin, f.name))
            })?;
            key.push(d);
        }
        datums.push(key);
    }
    Ok(Keys { columns, datums })
}

/// What one lookup cost (with `--stats`).
struct KeyCost {
    io: MetricsSnapshot,
    work: LookupCounters,
    time: Duration,
}

pub async fn run(catalog: &Catalog, args: GetArgs) -> CliResult<()> {
    let table = catalog.table(&args.table).await?;
    if !table.is_primary_key_table() {
        return Err(CliError::Failed(format!(
            "table {} has no primary key, so it has no rows to look up by key (use `streamhouse scan --where`)",
            table.name()
        )));
    }
    let fields = table.key_fields()?;
    let keys = collect_keys(&table, &fields, &args)?;
    let started = Instant::now();
    let handle = table.lookup(args.snapshot).await?;
    let load = (handle.request_metrics().snapshot(), started.elapsed());
    let (result, costs) = if catalog.request_metrics().is_some() {
        // One by one, so that each key's cost is its own.
        let mut costs = vec![];
        let mut results = vec![];
        for key in &keys.datums {
            let (io0, w0, t0) = (
                handle.request_metrics().snapshot(),
                handle.counters(),
                Instant::now(),
            );
            results.push(handle.get_many(std::slice::from_ref(key)).await?);
            costs.push(KeyCost {
                io: handle.request_metrics().snapshot().since(&io0),
                work: handle.counters().since(&w0),
                time: t0.elapsed(),
            });
        }
        (merge_results(&handle, results)?, Some(costs))
    } else {
        (handle.get_many(&keys.datums).await?, None)
    };
    print_results(&table.schema().fields, &fields, &keys, &result, args.output)?;
    if let Some(costs) = costs {
        eprintln!(
            "{}",
            stats_text(&handle, &fields, &keys, &result, load, &costs)
        );
    }
    Ok(())
}

/// Joins per-key answers into one.
fn merge_results(handle: &Lookup, parts: Vec<GetResult>) -> CliResult<GetResult> {
    let schema = handle.output_schema();
    let mut batches: Vec<RecordBatch> = vec![];
    let mut positions = vec![];
    let mut n = 0;
    let mut snapshot_id = handle.snapshot_id();
    for p in parts {
        snapshot_id = p.snapshot_id;
        for pos in p.positions {
            positions.push(pos.map(|r| r + n));
        }
        n += p.rows.num_rows();
        batches.push(p.rows);
    }
    let rows = arrow::compute::concat_batches(&schema, &batches)?;
    Ok(GetResult {
        rows,
        positions,
        snapshot_id,
    })
}

fn renderers(fields: &[DataField]) -> Vec<Renderer> {
    fields
        .iter()
        .map(|f| Renderer {
            ty: Some(f.data_type.clone()),
        })
        .collect()
}

fn print_results(
    table_fields: &[DataField],
    key_fields: &[DataField],
    keys: &Keys,
    result: &GetResult,
    output: GetOutput,
) -> CliResult<()> {
    let names: Vec<String> = table_fields.iter().map(|f| f.name.clone()).collect();
    let row_renderers = renderers(table_fields);
    let key_names: Vec<String> = key_fields.iter().map(|f| f.name.clone()).collect();
    let key_renderers = renderers(key_fields);
    let key_cols: Vec<&dyn Array> = keys.columns.iter().map(|a| a.as_ref()).collect();
    let row_cols: Vec<&dyn Array> = result.rows.columns().iter().map(|a| a.as_ref()).collect();
    // Where each table column's key value is, for absent keys in csv/table output.
    let key_pos: Vec<Option<usize>> = names
        .iter()
        .map(|n| key_names.iter().position(|k| k == n))
        .collect();
    let mut out = String::new();
    let mut table_rows: Vec<Vec<String>> = vec![];
    if output == GetOutput::Csv {
        out.push_str("found");
        for n in &names {
            out.push(',');
            out.push_str(&csv_field(n));
        }
        out.push('\n');
    }
    for (i, pos) in result.positions.iter().enumerate() {
        match output {
            GetOutput::Json => {
                out.push_str("{\"key\":");
                json_row(&key_names, &key_cols, &key_renderers, i, &mut out);
                match pos {
                    Some(r) => {
                        out.push_str(",\"found\":true,\"row\":");
                        json_row(&names, &row_cols, &row_renderers, *r, &mut out);
                        out.push_str("}\n");
                    }
                    None => out.push_str(",\"found\":false}\n"),
                }
            }
            GetOutput::Csv | GetOutput::Table => {
                let cells: Vec<Option<String>> = (0..names.len())
                    .map(|c| match (pos, key_pos[c]) {
                        (Some(r), _) => row_renderers[c].text(row_cols[c], *r),
                        (None, Some(k)) => key_renderers[k].text(key_cols[k], i),
                        (None, None) => None,
                    })
                    .collect();
                if output == GetOutput::Csv {
                    out.push_str(if pos.is_some() { "true" } else { "false" });
                    for c in cells {
                        out.push(',');
                        if let Some(v) = c {
                            out.push_str(&csv_field(&v));
                        }
                    }
                    out.push('\n');
                } else {
                    let mut row = vec![pos.is_some().to_string()];
                    row.extend(cells.into_iter().enumerate().map(|(c, v)| match (v, pos) {
                        (Some(v), _) => table::cell(&v),
                        (None, Some(_)) => "NULL".into(),
                        (None, None) if key_pos[c].is_none() => String::new(),
                        (None, None) => "NULL".into(),
                    }));
                    table_rows.push(row);
                }
            }
        }
    }
    if output == GetOutput::Table {
        let mut headers = vec!["found".to_string()];
        headers.extend(names.iter().cloned());
        let mut right = vec![false];
        right.extend(row_renderers.iter().map(Renderer::is_numeric));
        out = table::render(&headers, &right, &table_rows);
        let found = result.positions.iter().filter(|p| p.is_some()).count();
        if std::io::stdout().is_terminal() {
            out.push_str(&format!(
                "{found} of {} key{} found at snapshot {}\n",
                result.positions.len(),
                if result.positions.len() == 1 { "" } else { "s" },
                result
                    .snapshot_id
                    .map_or("(none: the table has no commits)".to_string(), |s| s
                        .to_string())
            ));
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
        .map_err(CliError::io("cannot write to stdout"))
}

/// A key as `col=value,…` for messages.
fn key_text(key_fields: &[DataField], keys: &Keys, i: usize) -> String {
    key_fields
        .iter()
        .zip(&keys.columns)
        .map(|(f, c)| {
            let r = Renderer {
                ty: Some(f.data_type.clone()),
            };
            format!("{}={}", f.name, r.text(c.as_ref(), i).unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Keys listed one by one in `--stats` up to this many; beyond, only totals.
const STATS_KEYS_LISTED: usize = 20;

/// The `--stats` report of a get: table loading, each lookup, totals.
fn stats_text(
    handle: &Lookup,
    key_fields: &[DataField],
    keys: &Keys,
    result: &GetResult,
    load: (MetricsSnapshot, Duration),
    costs: &[KeyCost],
) -> String {
    let mut out = format!(
        "get stats: loading snapshot {} ({} data files): {} in {}",
        result
            .snapshot_id
            .map_or("-".to_string(), |s| s.to_string()),
        handle.file_count(),
        load.0,
        millis(load.1)
    );
    for (i, c) in costs.iter().enumerate().take(STATS_KEYS_LISTED) {
        out.push_str(&format!(
            "\n  key {}: {}, {} in {}; {} file(s) in key range, {} ruled out by bloom filters, {} page(s) decoded, {} from cache",
            key_text(key_fields, keys, i),
            if result.found(i) { "found" } else { "absent" },
            c.io,
            millis(c.time),
            c.work.files_in_range,
            c.work.bloom_skips,
            c.work.units_decoded,
            c.work.unit_cache_hits,
        ));
    }
    if costs.len() > STATS_KEYS_LISTED {
        out.push_str(&format!(
            "\n  … {} more keys",
            costs.len() - STATS_KEYS_LISTED
        ));
    }
    let mut total = MetricsSnapshot::default();
    let mut time = Duration::ZERO;
    for c in costs {
        total.add(&c.io);
        time += c.time;
    }
    let n = costs.len().max(1) as f64;
    let found = result.positions.iter().filter(|p| p.is_some()).count();
    out.push_str(&format!(
        "\n  lookups: {} keys, {found} found; {} requests ({:.2} per key), {} bytes read ({:.0} per key), {} per key on average",
        costs.len(),
        total.total_requests(),
        total.total_requests() as f64 / n,
        total.read_bytes(),
        total.read_bytes() as f64 / n,
        millis(time.div_f64(n)),
    ));
    let c = handle.cache_stats();
    out.push_str(&format!(
        "\n  caches (hits/misses): metadata {}/{}, footers {}/{}, bloom filters {}/{}, pages {}/{}",
        c.metadata.hits,
        c.metadata.misses,
        c.footers.hits,
        c.footers.misses,
        c.blooms.hits,
        c.blooms.misses,
        c.pages.hits,
        c.pages.misses
    ));
    out
}

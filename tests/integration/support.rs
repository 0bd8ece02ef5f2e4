//! Shared helpers of the integration tests: tables created and written with the real library,
//! input rows written as canonical JSON (the form every peer prints) and turned into Arrow
//! batches, scans rendered canonically, and a small model of the merge engines that computes
//! the rows a table must hold from the records written to it.
#![allow(dead_code)] // each test module uses a different subset

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float32Builder,
    Float64Builder, Int16Builder, Int32Builder, Int64Builder, Int8Builder, RecordBatch,
    StringBuilder, Time32MillisecondBuilder, TimestampMicrosecondBuilder,
    TimestampMillisecondBuilder, TimestampNanosecondBuilder,
};
use serde_json::{Map, Value};
use streamhouse_compaction::{BucketOutcome, CompactOptions, Compactor};
use streamhouse_format::io::{open_warehouse, table_root, Identifier, Table};
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::{parse_columns, timestamp_unit, DataType, TypeKind};
use streamhouse_reader::ScanBuilder;
use streamhouse_writer::TableWriter;

use crate::interop_support::{arrow_rows_canonical, row_line, sort_rows};

/// [`create_table`] of an unpartitioned table keyed by its column `id`.
pub async fn create_id_table(
    location: &str,
    name: &str,
    columns: &str,
    options: &[(&str, &str)],
) -> Table {
    create_table(location, name, columns, &[], &["id"], options).await
}

/// [`create_table`] of a table partitioned by its column `dt` and keyed by `(dt, id)`.
pub async fn create_dt_table(
    location: &str,
    name: &str,
    columns: &str,
    options: &[(&str, &str)],
) -> Table {
    create_table(location, name, columns, &["dt"], &["dt", "id"], options).await
}

/// Creates `name` (`db.table`) in the warehouse at `location` with the library.
pub async fn create_table(
    location: &str,
    name: &str,
    columns: &str,
    partition: &[&str],
    primary_key: &[&str],
    options: &[(&str, &str)],
) -> Table {
    let (io, root) = open_warehouse(location).unwrap();
    let id = Identifier::parse(name).unwrap();
    let schema = TableSchema::new(
        parse_columns(columns).unwrap(),
        partition.iter().map(|s| s.to_string()).collect(),
        primary_key.iter().map(|s| s.to_string()).collect(),
        options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        0,
    )
    .unwrap();
    Table::create(io, table_root(&root, &id), name, schema)
        .await
        .unwrap_or_else(|e| panic!("create {name} in {location}: {e}"))
}

/// Opens `name` in the warehouse at `location`.
pub async fn open_table(location: &str, name: &str) -> streamhouse_format::Result<Table> {
    let (io, root) = open_warehouse(location)?;
    let id = Identifier::parse(name)?;
    Table::open(io, table_root(&root, &id), name).await
}

/// Our merged read of `table` (latest snapshot or `snapshot`, all columns or `columns`), as
/// canonical rows.
pub async fn try_scan_rows(
    table: &Table,
    snapshot: Option<i64>,
    columns: Option<&[&str]>,
) -> streamhouse_format::Result<Vec<Value>> {
    let mut scan = ScanBuilder::new(table);
    if let Some(id) = snapshot {
        scan = scan.snapshot(id);
    }
    if let Some(cols) = columns {
        scan = scan.projection(cols.iter().map(|c| c.to_string()).collect());
    }
    let schema = scan.output_schema()?;
    let batches = scan.to_batches().await?;
    for b in &batches {
        assert_eq!(
            b.schema(),
            schema,
            "a batch's schema is the scan's output schema"
        );
    }
    Ok(arrow_rows_canonical(&batches, &schema))
}

pub async fn scan_rows(
    table: &Table,
    snapshot: Option<i64>,
    columns: Option<&[&str]>,
) -> Vec<Value> {
    try_scan_rows(table, snapshot, columns)
        .await
        .unwrap_or_else(|e| panic!("scan of {} (snapshot {snapshot:?}): {e}", table.name))
}

/// Our merged read of `table` at `snapshot` or `tag` (the latest when neither), all columns or
/// `columns` in that order, as canonical rows with nested columns (`java_support`'s form).
pub async fn read_rows(
    table: &Table,
    snapshot: Option<i64>,
    tag: Option<&str>,
    columns: Option<&[String]>,
) -> Vec<Value> {
    let mut scan = ScanBuilder::new(table);
    if let Some(id) = snapshot {
        scan = scan.snapshot(id);
    }
    if let Some(tag) = tag {
        scan = scan.tag(tag.to_string());
    }
    if let Some(columns) = columns {
        scan = scan.projection(columns.to_vec());
    }
    let schema = scan.output_schema().unwrap();
    let batches = scan.to_batches().await.unwrap_or_else(|e| {
        panic!(
            "our scan of {} (snapshot {snapshot:?}, tag {tag:?}): {e}",
            table.name
        )
    });
    crate::java_support::canonical_rows(&batches, &schema)
}

/// A full compaction of every bucket of `table`, committed; the outcome per bucket.
pub async fn compact_fully(table: &Table) -> Vec<BucketOutcome> {
    Compactor::new(table.clone())
        .unwrap()
        .compact_table(&CompactOptions {
            full: true,
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("full compaction of {}: {e}", table.name))
}

/// Runs `f`; the message of its panic, if it panics (so one failing case does not hide others).
pub fn failure_of(f: impl FnOnce() + std::panic::UnwindSafe) -> Option<String> {
    std::panic::catch_unwind(f).err().map(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    })
}

/// Snapshot ids are 1..=n without gaps (or a suffix of that after expiration), and no
/// (commit user, identifier, kind) appears twice; the commits in snapshot order.
pub async fn check_history(
    table: &Table,
    what: &str,
) -> Vec<(String, i64, streamhouse_format::snapshot::CommitKind)> {
    let ids = table.list_snapshot_ids().await.unwrap();
    if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
        assert_eq!(
            ids,
            (*first..=*last).collect::<Vec<_>>(),
            "{what}: snapshot ids have a gap"
        );
    }
    let mut seen = vec![];
    for id in ids {
        let s = table.snapshot(id).await.unwrap();
        let k = (s.commit_user.clone(), s.commit_identifier, s.commit_kind);
        assert!(!seen.contains(&k), "{what}: {k:?} committed twice");
        seen.push(k);
    }
    seen
}

/// The rows with only `columns` kept.
pub fn project(rows: &[Value], columns: &[&str]) -> Vec<Value> {
    sort_rows(rows.iter().map(|r| {
        let obj = r.as_object().expect("rows are objects");
        Value::Object(
            columns
                .iter()
                .map(|c| (c.to_string(), obj.get(*c).cloned().unwrap_or(Value::Null)))
                .collect(),
        )
    }))
}

/// Writes `(row kind, canonical row)` records as one batch and commits; returns the new
/// snapshot id (exactly one per commit: the writer never compacts).
pub async fn write_commit(table: &Table, records: &[(&str, Value)]) -> i64 {
    write_commit_in_batches(table, records, records.len().max(1)).await
}

/// Like [`write_commit`], handing the writer batches of at most `rows_per_batch` records (the
/// writer checks its buffer limit after each batch).
pub async fn write_commit_in_batches(
    table: &Table,
    records: &[(&str, Value)],
    rows_per_batch: usize,
) -> i64 {
    let mut writer = TableWriter::new(table.clone()).await.unwrap();
    for chunk in records.chunks(rows_per_batch) {
        let rows: Vec<Value> = chunk.iter().map(|(_, r)| r.clone()).collect();
        let batch = batch_from_rows(&table.schema, &rows);
        let kinds: Vec<RowKind> = chunk
            .iter()
            .map(|(k, _)| RowKind::parse(k).unwrap())
            .collect();
        if kinds.iter().all(|k| *k == RowKind::Insert) {
            writer.write(&batch).await.unwrap();
        } else {
            writer.write_with_kinds(&batch, &kinds).await.unwrap();
        }
    }
    let summary = writer
        .commit()
        .await
        .unwrap_or_else(|e| panic!("commit to {}: {e}", table.name));
    assert_eq!(
        summary.rows,
        records.len() as u64,
        "rows reported by the commit"
    );
    assert_eq!(
        summary.snapshot_ids.len(),
        1,
        "one snapshot per commit: {summary:?}"
    );
    summary.snapshot_ids[0]
}

/// `rows` (canonical JSON objects, nested columns in `java_support`'s form) as one batch of
/// the table's Arrow schema, through arrow's JSON decoder.
pub fn nested_batch(table: &Table, rows: &[Value]) -> RecordBatch {
    let mut decoder = arrow::json::ReaderBuilder::new(table.schema.arrow_schema())
        .build_decoder()
        .unwrap();
    decoder.serialize(rows).unwrap();
    decoder.flush().unwrap().expect("one batch")
}

/// Inserts `rows` ([`nested_batch`]) in one commit; the new snapshot id.
pub async fn write_nested(table: &Table, rows: &[Value]) -> i64 {
    let mut writer = TableWriter::new(table.clone()).await.unwrap();
    writer.write(&nested_batch(table, rows)).await.unwrap();
    let summary = writer.commit().await.unwrap();
    assert_eq!(summary.snapshot_ids.len(), 1, "{summary:?}");
    summary.snapshot_ids[0]
}

/// Inserts only.
pub fn inserts(rows: Vec<Value>) -> Vec<(&'static str, Value)> {
    rows.into_iter().map(|r| ("+I", r)).collect()
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON rows -> Arrow.

fn bad(column: &str, ty: &DataType, v: &Value) -> ! {
    panic!("test data: {v} is not a canonical {ty} value (column {column})")
}

fn float(column: &str, ty: &DataType, v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        _ => bad(column, ty, v),
    }
}

fn int(column: &str, ty: &DataType, v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| bad(column, ty, v))
}

fn text<'a>(column: &str, ty: &DataType, v: &'a Value) -> &'a str {
    v.as_str().unwrap_or_else(|| bad(column, ty, v))
}

/// "-12.30" with exactly `scale` fraction digits -> unscaled value.
fn decimal(column: &str, ty: &DataType, v: &Value, scale: u32) -> i128 {
    let s = text(column, ty, v);
    let (int_part, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() != scale as usize {
        bad(column, ty, v)
    }
    let digits = format!("{int_part}{frac}");
    digits.parse().unwrap_or_else(|_| bad(column, ty, v))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn date(column: &str, ty: &DataType, v: &Value) -> i64 {
    let s = text(column, ty, v);
    let parts: Vec<i64> = s
        .split('-')
        .map(|p| p.parse().unwrap_or_else(|_| bad(column, ty, v)))
        .collect();
    if parts.len() != 3 {
        bad(column, ty, v)
    }
    days_from_civil(parts[0], parts[1], parts[2])
}

/// "HH:MM:SS.fff…" -> nanoseconds of the day.
fn nanos_of_day(column: &str, ty: &DataType, v: &Value, s: &str) -> i64 {
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let parts: Vec<i64> = hms
        .split(':')
        .map(|p| p.parse().unwrap_or_else(|_| bad(column, ty, v)))
        .collect();
    if parts.len() != 3 || frac.len() > 9 {
        bad(column, ty, v)
    }
    let frac_nanos: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}")
            .parse()
            .unwrap_or_else(|_| bad(column, ty, v))
    };
    ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1_000_000_000 + frac_nanos
}

/// "YYYY-MM-DDTHH:MM:SS.ffffff[fff][Z]" -> nanoseconds since the epoch (as i128: the test
/// data includes instants outside the i64 nanosecond range at millisecond precision).
fn timestamp_nanos(column: &str, ty: &DataType, v: &Value, zoned: bool) -> i128 {
    let s = text(column, ty, v);
    let s = match (zoned, s.strip_suffix('Z')) {
        (true, Some(body)) => body,
        (false, None) => s,
        _ => bad(column, ty, v),
    };
    let (d, t) = s.split_once('T').unwrap_or_else(|| bad(column, ty, v));
    let days = date(column, ty, &Value::String(d.to_string()));
    days as i128 * 86_400_000_000_000 + nanos_of_day(column, ty, v, t) as i128
}

fn exact_div(column: &str, ty: &DataType, v: &Value, nanos: i128, unit: i128) -> i64 {
    if nanos % unit != 0 {
        bad(column, ty, v)
    }
    i64::try_from(nanos / unit).unwrap_or_else(|_| bad(column, ty, v))
}

fn hex(column: &str, ty: &DataType, v: &Value) -> Vec<u8> {
    let s = text(column, ty, v);
    if !s.len().is_multiple_of(2) {
        bad(column, ty, v)
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| bad(column, ty, v)))
        .collect()
}

/// An Arrow batch with the table's Arrow schema holding `rows` (canonical JSON objects; a
/// missing column is null).
pub fn batch_from_rows(schema: &TableSchema, rows: &[Value]) -> RecordBatch {
    let values = |name: &str| -> Vec<Option<&Value>> {
        rows.iter()
            .map(|r| {
                let obj = r.as_object().expect("test rows are JSON objects");
                for k in obj.keys() {
                    assert!(
                        schema.field(k).is_some(),
                        "test row has unknown column {k}: {r}"
                    );
                }
                obj.get(name).filter(|v| !v.is_null())
            })
            .collect()
    };
    let columns: Vec<ArrayRef> = schema
        .fields
        .iter()
        .map(|f| column_from_values(&f.name, &f.data_type, &values(&f.name)))
        .collect();
    RecordBatch::try_new(schema.arrow_schema(), columns).unwrap()
}

macro_rules! build {
    ($builder:expr, $vals:expr, |$v:ident| $convert:expr) => {{
        let mut b = $builder;
        for value in $vals {
            match value {
                None => b.append_null(),
                Some($v) => b.append_value($convert),
            }
        }
        Arc::new(b.finish()) as ArrayRef
    }};
}

fn column_from_values(name: &str, ty: &DataType, vals: &[Option<&Value>]) -> ArrayRef {
    let n = name;
    match &ty.kind {
        TypeKind::Boolean => build!(BooleanBuilder::new(), vals, |v| v
            .as_bool()
            .unwrap_or_else(|| bad(n, ty, v))),
        TypeKind::TinyInt => build!(Int8Builder::new(), vals, |v| int(n, ty, v) as i8),
        TypeKind::SmallInt => build!(Int16Builder::new(), vals, |v| int(n, ty, v) as i16),
        TypeKind::Int => build!(Int32Builder::new(), vals, |v| int(n, ty, v) as i32),
        TypeKind::BigInt => build!(Int64Builder::new(), vals, |v| int(n, ty, v)),
        TypeKind::Float => build!(Float32Builder::new(), vals, |v| float(n, ty, v) as f32),
        TypeKind::Double => build!(Float64Builder::new(), vals, |v| float(n, ty, v)),
        TypeKind::Decimal { precision, scale } => {
            let b = Decimal128Builder::new()
                .with_precision_and_scale(*precision as u8, *scale as i8)
                .unwrap();
            build!(b, vals, |v| decimal(n, ty, v, *scale))
        }
        TypeKind::Char(_) | TypeKind::VarChar(_) => {
            build!(StringBuilder::new(), vals, |v| text(n, ty, v))
        }
        TypeKind::Binary(_) | TypeKind::VarBinary(_) => {
            build!(BinaryBuilder::new(), vals, |v| hex(n, ty, v))
        }
        TypeKind::Date => build!(Date32Builder::new(), vals, |v| date(n, ty, v) as i32),
        TypeKind::Time(_) => build!(Time32MillisecondBuilder::new(), vals, |v| {
            let nanos = nanos_of_day(n, ty, v, text(n, ty, v));
            exact_div(n, ty, v, nanos as i128, 1_000_000) as i32
        }),
        TypeKind::Timestamp(p) | TypeKind::LocalZonedTimestamp(p) => {
            use arrow::datatypes::TimeUnit;
            let zoned = matches!(ty.kind, TypeKind::LocalZonedTimestamp(_));
            let tz = zoned.then_some("UTC");
            let nanos = |v: &Value| timestamp_nanos(n, ty, v, zoned);
            match timestamp_unit(*p) {
                TimeUnit::Millisecond => build!(
                    TimestampMillisecondBuilder::new().with_timezone_opt(tz),
                    vals,
                    |v| exact_div(n, ty, v, nanos(v), 1_000_000)
                ),
                TimeUnit::Microsecond => build!(
                    TimestampMicrosecondBuilder::new().with_timezone_opt(tz),
                    vals,
                    |v| exact_div(n, ty, v, nanos(v), 1_000)
                ),
                _ => build!(
                    TimestampNanosecondBuilder::new().with_timezone_opt(tz),
                    vals,
                    |v| exact_div(n, ty, v, nanos(v), 1)
                ),
            }
        }
        other => panic!("test data: no builder for {other:?} (column {name})"),
    }
}

// ---------------------------------------------------------------------------------------------
// A model of what a table holds after a sequence of writes.

/// Aggregate functions of the aggregation merge engine, over canonical JSON values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agg {
    Sum,
    Product,
    Min,
    Max,
    LastValue,
    LastNonNullValue,
    FirstValue,
    FirstNonNullValue,
    BoolAnd,
    BoolOr,
    Listagg,
}

impl Agg {
    pub fn paimon_name(self) -> &'static str {
        match self {
            Agg::Sum => "sum",
            Agg::Product => "product",
            Agg::Min => "min",
            Agg::Max => "max",
            Agg::LastValue => "last_value",
            Agg::LastNonNullValue => "last_non_null_value",
            Agg::FirstValue => "first_value",
            Agg::FirstNonNullValue => "first_non_null_value",
            Agg::BoolAnd => "bool_and",
            Agg::BoolOr => "bool_or",
            Agg::Listagg => "listagg",
        }
    }

    fn fold(self, acc: &Value, v: &Value) -> Value {
        let numbers = |f_int: fn(i64, i64) -> i64, f_float: fn(f64, f64) -> f64| match (
            acc.as_i64(),
            v.as_i64(),
        ) {
            (Some(a), Some(b)) => Value::from(f_int(a, b)),
            _ => Value::from(f_float(acc.as_f64().unwrap(), v.as_f64().unwrap())),
        };
        match (self, acc.is_null(), v.is_null()) {
            (Agg::LastValue, _, _) => v.clone(),
            (Agg::FirstValue, _, _) => acc.clone(),
            (_, _, true) => acc.clone(),
            (_, true, false) => v.clone(),
            (Agg::LastNonNullValue, _, _) => v.clone(),
            (Agg::FirstNonNullValue, _, _) => acc.clone(),
            (Agg::Sum, _, _) => numbers(|a, b| a + b, |a, b| a + b),
            (Agg::Product, _, _) => numbers(|a, b| a * b, |a, b| a * b),
            (Agg::Min, _, _) => numbers(i64::min, f64::min),
            (Agg::Max, _, _) => numbers(i64::max, f64::max),
            (Agg::BoolAnd, _, _) => Value::from(acc.as_bool().unwrap() && v.as_bool().unwrap()),
            (Agg::BoolOr, _, _) => Value::from(acc.as_bool().unwrap() || v.as_bool().unwrap()),
            (Agg::Listagg, _, _) => {
                Value::from(format!("{},{}", acc.as_str().unwrap(), v.as_str().unwrap()))
            }
        }
    }
}

/// The merge engine the model applies.
#[derive(Debug, Clone)]
pub enum Engine {
    /// Append table: every record is a row.
    Append,
    /// The latest record per key wins; a retraction (-U, -D) as latest record removes the key.
    Deduplicate,
    /// Deduplicate ordered by an integer `sequence.field` column first, arrival second.
    SequenceField(String),
    /// Per column the latest non-null value wins (inserts only).
    PartialUpdate,
    /// Per column an aggregate; the first record of a key initialises every column (inserts
    /// only). Columns without a function use last_non_null_value, as Paimon.
    Aggregation(BTreeMap<String, Agg>),
}

/// The rows a table holds: a map from key (the compact JSON of the key columns) to row.
#[derive(Debug, Clone)]
pub struct Model {
    keys: Vec<String>,
    engine: Engine,
    by_key: BTreeMap<String, Map<String, Value>>,
    appended: Vec<Value>,
    columns: Vec<String>,
    /// SequenceField: per key the winning (sequence value, arrival) and whether it retracts.
    orders: BTreeMap<String, ((i64, u64), bool)>,
    arrivals: u64,
}

impl Model {
    pub fn new(schema: &TableSchema, engine: Engine) -> Self {
        Model {
            keys: schema.primary_keys.clone(),
            engine,
            by_key: BTreeMap::new(),
            appended: vec![],
            columns: schema.field_names(),
            orders: BTreeMap::new(),
            arrivals: 0,
        }
    }

    /// Applies records in arrival order.
    pub fn apply(&mut self, records: &[(&str, Value)]) {
        for (kind, row) in records {
            let mut row = row.as_object().unwrap().clone();
            for c in &self.columns {
                row.entry(c.clone()).or_insert(Value::Null);
            }
            if let Engine::Append = self.engine {
                assert_eq!(*kind, "+I");
                self.appended.push(Value::Object(row));
                continue;
            }
            let key_obj: Map<String, Value> = self
                .keys
                .iter()
                .map(|k| (k.clone(), row[k].clone()))
                .collect();
            let key = row_line(&Value::Object(key_obj));
            let retract = matches!(*kind, "-U" | "-D");
            self.arrivals += 1;
            match &self.engine {
                Engine::SequenceField(field) => {
                    let order = (
                        row[field].as_i64().expect("integer sequence field"),
                        self.arrivals,
                    );
                    if self.orders.get(&key).is_none_or(|(o, _)| order > *o) {
                        self.orders.insert(key.clone(), (order, retract));
                        self.by_key.insert(key, row);
                    }
                }
                Engine::Append => unreachable!(),
                Engine::Deduplicate if retract => {
                    self.by_key.remove(&key);
                }
                Engine::Deduplicate => {
                    self.by_key.insert(key, row);
                }
                Engine::PartialUpdate => {
                    assert!(!retract, "the partial-update model takes inserts only");
                    let columns = self.columns.clone();
                    let acc = self.by_key.entry(key).or_insert_with(|| {
                        columns.iter().map(|c| (c.clone(), Value::Null)).collect()
                    });
                    for (c, v) in row {
                        if !v.is_null() {
                            acc.insert(c, v);
                        }
                    }
                }
                Engine::Aggregation(functions) => {
                    assert!(!retract, "the aggregation model takes inserts only");
                    match self.by_key.get_mut(&key) {
                        None => {
                            self.by_key.insert(key, row);
                        }
                        Some(acc) => {
                            for c in &self.columns {
                                if self.keys.contains(c) {
                                    continue;
                                }
                                let f = functions.get(c).copied().unwrap_or(Agg::LastNonNullValue);
                                let folded = f.fold(&acc[c], &row[c]);
                                acc.insert(c.clone(), folded);
                            }
                        }
                    }
                }
            }
        }
    }

    /// The rows, canonical and sorted.
    pub fn rows(&self) -> Vec<Value> {
        match self.engine {
            Engine::Append => sort_rows(self.appended.iter().cloned()),
            Engine::SequenceField(_) => sort_rows(
                self.by_key
                    .iter()
                    .filter(|(k, _)| !self.orders[*k].1)
                    .map(|(_, r)| Value::Object(r.clone())),
            ),
            _ => sort_rows(self.by_key.values().cloned().map(Value::Object)),
        }
    }
}

/// A unique name for tables and S3 prefixes.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::interop_support::assert_same_rows;

    /// The test-data parser and the canonical renderer are inverse: every value survives
    /// JSON -> Arrow -> JSON unchanged.
    #[test]
    fn canonical_rows_round_trip_through_arrow() {
        let schema = TableSchema::new(
            parse_columns(
                "b BOOLEAN, i8 TINYINT, f FLOAT, d DOUBLE, dec DECIMAL(38, 18), c CHAR(3), \
                 bin BYTES, dt DATE, t TIME(3), ts3 TIMESTAMP(3), ts9 TIMESTAMP(9), \
                 l6 TIMESTAMP(6) WITH LOCAL TIME ZONE",
            )
            .unwrap(),
            vec![],
            vec![],
            Default::default(),
            0,
        )
        .unwrap();
        let rows = vec![
            json!({"b": true, "i8": -128, "f": 1.5, "d": "NaN", "dec": "-0.000000000000000001",
                   "c": "ab", "bin": "00ff", "dt": "0001-01-01", "t": "23:59:59.999",
                   "ts3": "9999-12-31T23:59:59.999000", "ts9": "1969-12-31T23:59:59.999999999",
                   "l6": "1900-01-01T00:00:00.000001Z"}),
            json!({"b": null, "i8": null, "f": null, "d": -0.0, "dec": null, "c": null,
                   "bin": "", "dt": "2024-02-29", "t": null, "ts3": null,
                   "ts9": "2262-04-11T23:47:16.854775807", "l6": null}),
        ];
        let batch = batch_from_rows(&schema, &rows);
        let back = arrow_rows_canonical(&[batch], &schema.arrow_schema());
        assert_same_rows(&back, &rows, "round trip");
    }

    #[test]
    fn model_folds_each_engine() {
        let schema = TableSchema::new(
            parse_columns("k INT, s BIGINT, l STRING").unwrap(),
            vec![],
            vec!["k".into()],
            Default::default(),
            0,
        )
        .unwrap();
        let records = [
            ("+I", json!({"k": 1, "s": 2, "l": "a"})),
            ("+I", json!({"k": 1, "s": null, "l": "b"})),
            ("+I", json!({"k": 1, "s": 5})),
        ];
        let mut dedupe = Model::new(&schema, Engine::Deduplicate);
        dedupe.apply(&records);
        assert_eq!(dedupe.rows(), [json!({"k": 1, "l": null, "s": 5})]);
        dedupe.apply(&[("-U", json!({"k": 1}))]);
        assert!(dedupe.rows().is_empty());
        let mut partial = Model::new(&schema, Engine::PartialUpdate);
        partial.apply(&records);
        assert_eq!(partial.rows(), [json!({"k": 1, "l": "b", "s": 5})]);
        let functions = [("s".to_string(), Agg::Sum), ("l".to_string(), Agg::Listagg)];
        let mut agg = Model::new(
            &schema,
            Engine::Aggregation(functions.into_iter().collect()),
        );
        agg.apply(&records);
        assert_eq!(agg.rows(), [json!({"k": 1, "l": "a,b", "s": 7})]);
    }
}

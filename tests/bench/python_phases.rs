//! `python-phases`: the phases of `python/bench/workload_w.py` through the Rust library, on the
//! batches the Python benchmark generated, so the Python package's overhead is measured in
//! the same run against the library it wraps.
//!
//! ```text
//! python-phases --input DIR --warehouse DIR [--buckets N]
//! ```
//!
//! `DIR` holds what the Python benchmark writes: `load-NNN.arrow` and `upsert-NNN.arrow` (Arrow
//! IPC files, one commit each) and `keys.json` (`{"lo", "hi", "get_keys", "multi_keys"}`).
//! Each phase does what the Python benchmark's `Ours` does through `streamhouse.Table`:
//! - write: one writer per batch, commit, then wait for in-writer compaction (`Table.write`);
//! - full read and 1 % range: a scan collected in memory (`Table.to_arrow`);
//! - GET warm: one lookup index kept across keys; GET cold: a new catalog, table and index
//!   per key; multi-get: one `get_many` of every key;
//! - the last commit's changes: a tail from the last write's snapshot, not following.
//!
//! Prints one JSON object on stdout: phase name → seconds (the Python benchmark's names).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::ipc::reader::FileReader;
use futures::TryStreamExt;
use serde_json::{json, Value};
use streamhouse::{
    columns_from_arrow, Catalog, Datum, Identifier, StartPosition, Table, TableSpec,
};

const USAGE: &str = "usage: python-phases --input DIR --warehouse DIR [--buckets N]

Runs python/bench/workload_w.py's phases through the Rust library on the batches that
benchmark wrote to DIR (load-NNN.arrow, upsert-NNN.arrow, keys.json) and prints the seconds of
each phase as one JSON object. The Python benchmark runs it with --rust-baseline.";

type BoxError = Box<dyn std::error::Error>;

struct Args {
    input: PathBuf,
    warehouse: String,
    buckets: u32,
}

fn parse_args() -> Result<Args, String> {
    let mut input = None;
    let mut warehouse = None;
    let mut buckets = 4;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--input" => input = Some(PathBuf::from(value("--input")?)),
            "--warehouse" => warehouse = Some(value("--warehouse")?),
            "--buckets" => {
                let v = value("--buckets")?;
                buckets = v
                    .parse()
                    .map_err(|_| format!("--buckets {v}: not a count"))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        input: input.ok_or("--input is required")?,
        warehouse: warehouse.ok_or("--warehouse is required")?,
        buckets,
    })
}

/// The batches of every `<prefix>-NNN.arrow` in `dir`, in name order (one entry per file).
fn read_batches(dir: &Path, prefix: &str) -> Result<Vec<Vec<RecordBatch>>, BoxError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        name.starts_with(&format!("{prefix}-")) && name.ends_with(".arrow")
    });
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let reader = FileReader::try_new(File::open(p)?, None)?;
            Ok(reader.collect::<Result<Vec<_>, _>>()?)
        })
        .collect()
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

/// One `Table.write`: a writer, one commit, then the wait for in-writer compaction. Returns
/// the snapshot of the rows.
async fn write_commit(table: &Table, batches: &[RecordBatch]) -> Result<i64, BoxError> {
    let mut writer = table.writer().await?;
    for b in batches {
        writer.write(&table.conform(b, "input")?).await?;
    }
    let commit = writer.commit().await?;
    writer.close().await?;
    Ok(*commit
        .snapshot_ids
        .last()
        .ok_or("a write committed nothing")?)
}

fn keys_of(value: &Value, name: &str) -> Result<Vec<i64>, BoxError> {
    value[name]
        .as_array()
        .ok_or(format!("keys.json has no array {name}"))?
        .iter()
        .map(|k| {
            k.as_i64()
                .ok_or_else(|| format!("{name}: {k} is not an id").into())
        })
        .collect()
}

async fn run(args: Args) -> Result<Value, BoxError> {
    let load = read_batches(&args.input, "load")?;
    let upserts = read_batches(&args.input, "upsert")?;
    let keys: Value = serde_json::from_reader(File::open(args.input.join("keys.json"))?)?;
    let (lo, hi) = (
        keys["lo"].as_i64().ok_or("keys.json: lo")?,
        keys["hi"].as_i64().ok_or("keys.json: hi")?,
    );
    let get_keys = keys_of(&keys, "get_keys")?;
    let multi_keys: Vec<Vec<Datum>> = keys_of(&keys, "multi_keys")?
        .into_iter()
        .map(|k| vec![Datum::BigInt(k)])
        .collect();
    let schema = load
        .first()
        .and_then(|f| f.first())
        .ok_or("no load batches")?
        .schema();

    let catalog = Catalog::open(&args.warehouse, Vec::<(String, String)>::new())?;
    let ident = Identifier::parse("bench.w")?;
    let spec = TableSpec {
        schema: columns_from_arrow(&schema)?,
        ..Default::default()
    }
    .primary_key(["id"])
    .option("bucket", args.buckets.to_string());
    let table = catalog
        .create_table(&ident, spec, false)
        .await?
        .into_table();

    let mut out = BTreeMap::new();
    let mut phase = |name: &str, started: Instant| {
        let s = started.elapsed().as_secs_f64();
        eprintln!("  {:15} {name:22} {s:9.3} s", "rust library");
        out.insert(name.to_string(), json!(s));
    };

    let t = Instant::now();
    for batches in &load {
        write_commit(&table, batches).await?;
    }
    phase("load", t);
    let t = Instant::now();
    let mut last_write = 0;
    for batches in &upserts {
        last_write = write_commit(&table, batches).await?;
    }
    phase("upsert (5 rounds)", t);

    let t = Instant::now();
    let all = table.scan().collect().await?;
    phase("full read", t);
    let full_rows = rows(&all);
    drop(all);
    let t = Instant::now();
    let range = table
        .scan()
        .filter(format!("id BETWEEN {lo} AND {hi}"))
        .collect()
        .await?;
    phase("range (1 %)", t);
    if rows(&range) as i64 != hi - lo + 1 {
        return Err(format!("range gave {} rows, expected {}", rows(&range), hi - lo + 1).into());
    }

    let warm = table.lookup(None).await?;
    warm.get(&[Datum::BigInt(get_keys[0])]).await?; // opens the index, as the Python side does
    let t = Instant::now();
    for k in &get_keys {
        if warm.get(&[Datum::BigInt(*k)]).await?.is_none() {
            return Err(format!("GET warm: key {k} not found").into());
        }
    }
    phase("GET warm (100 keys)", t);
    let t = Instant::now();
    for k in &get_keys {
        let catalog = Catalog::open(&args.warehouse, Vec::<(String, String)>::new())?;
        let cold = catalog.table(&ident).await?;
        cold.get(&[Datum::BigInt(*k)]).await?;
    }
    phase("GET cold (100 keys)", t);
    let t = Instant::now();
    let found = warm.get_many(&multi_keys).await?;
    phase("multi-get (10 k keys)", t);
    let found_rows = found.rows.num_rows();
    if found_rows != multi_keys.len() {
        return Err(format!("multi-get found {found_rows} of {}", multi_keys.len()).into());
    }

    let t = Instant::now();
    let changes: Vec<_> = table
        .tail()
        .from(StartPosition::FromSnapshot(last_write))
        .changes()
        .await?
        .try_collect()
        .await?;
    phase("last commit's changes", t);
    let changed: usize = changes.iter().map(|c| c.num_rows()).sum();
    let last_round = upserts.last().map(|b| rows(b)).unwrap_or(0);
    if changed != last_round {
        return Err(
            format!("last commit's changes had {changed} rows, expected {last_round}").into(),
        );
    }
    out.insert("full read rows".into(), json!(full_rows));
    Ok(Value::Object(out.into_iter().collect()))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("python-phases: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    match run(args).await {
        Ok(v) => println!("{v}"),
        Err(e) => {
            eprintln!("python-phases: {e}");
            std::process::exit(1);
        }
    }
}

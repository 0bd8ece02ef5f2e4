//! `paimon-peer`: an independent Paimon implementation (the `paimon` crate, 0.4.0) used by
//! Streamhouse's test runner to cross-check tables, and as a same-run benchmark baseline.
//!
//! ```text
//! paimon-peer read <warehouse> <db.table> [--snapshot N]
//!     Merged batch read of the latest snapshot (or snapshot N); prints the rows as canonical
//!     JSON lines (see canonical.rs), sorted. An empty table prints nothing.
//! paimon-peer bench-write <warehouse> <db.table> --rows N --batches B --buckets K
//!                         [--upsert-rounds R --upsert-rows U] [--seed S]
//!     Creates a workload-W table (shared/workloads/WORKLOAD.md) and writes it: a load phase of
//!     ids 0..N in a seeded shuffled order, one commit per batch, then R upsert rounds of U rows
//!     each (U/2 updates of distinct existing ids, U/2 new ids continuing the dense range,
//!     shuffled together), one commit per round. Prints one JSON line per phase.
//! paimon-peer bench-read <warehouse> <db.table>
//!     Full merged read; prints {"phase":"full_read","rows":..,"seconds":..,"amount_sum":..}.
//! ```
//!
//! `tests/run.sh` builds it in debug for the cross-check; for benchmark numbers build it with
//! `cargo build --release --manifest-path tests/paimon-peer/Cargo.toml` and run
//! `tests/paimon-peer/target/release/paimon-peer` (debug-build numbers mean nothing).
//!
//! Workload generator (so other implementations can write the very same rows): SplitMix64
//! seeded with `--seed` (default 42); the load order is a Fisher–Yates shuffle of 0..N
//! (`for i in (1..N).rev() { swap(i, next() % (i + 1)) }`); each generated row gets
//! `ts` = its generation index (0, 1, 2, … across all phases), `category` = `cat_{id % 10:02}`,
//! `amount` = `(id % 100_000) / 100` (whole cents), `payload` = 64 hex digits of
//! `splitmix64(id * 4 + k)` for k in 0..4. Upsert round: picks U/2 distinct ids uniformly from
//! the ids written so far (rejection sampling with the same generator), then appends U/2 new
//! ids, then shuffles the round.

#[allow(dead_code)] // some helpers serve only the integration tests, which compile this file too
mod canonical;

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType as ArrowType, Field, Float64Type, Schema as ArrowSchema};
use arrow::record_batch::RecordBatch;
use futures::TryStreamExt;
use paimon::catalog::Identifier;
use paimon::spec::{BigIntType, DataType, DoubleType, Schema, VarCharType};
use paimon::table::Table;
use paimon::{Catalog, CatalogFactory, CatalogOptions, Options};
use serde_json::json;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const USAGE: &str = "usage:
  paimon-peer read <warehouse> <db.table> [--snapshot N]
  paimon-peer bench-write <warehouse> <db.table> --rows N --batches B --buckets K \
[--upsert-rounds R --upsert-rows U] [--seed S]
  paimon-peer bench-read <warehouse> <db.table>";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paimon-peer {}: {e}", args.join(" "));
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<()> {
    let (command, rest) = args.split_first().ok_or(USAGE)?;
    let cli = Args::parse(rest)?;
    match command.as_str() {
        "read" => read(&cli).await,
        "bench-write" => bench_write(&cli).await,
        "bench-read" => bench_read(&cli).await,
        other => Err(format!("unknown command {other:?}\n{USAGE}").into()),
    }
}

/// `<warehouse> <db.table>` followed by `--flag value` pairs.
struct Args {
    warehouse: String,
    identifier: Identifier,
    flags: HashMap<String, String>,
}

impl Args {
    fn parse(args: &[String]) -> Result<Self> {
        let [warehouse, table, flags @ ..] = args else {
            return Err(USAGE.into());
        };
        let (db, name) = table
            .split_once('.')
            .ok_or_else(|| format!("table {table:?} is not of the form db.table"))?;
        let mut parsed = HashMap::new();
        let mut flags = flags.iter();
        while let Some(flag) = flags.next() {
            let name = flag
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected {flag:?}\n{USAGE}"))?;
            let value = flags
                .next()
                .ok_or_else(|| format!("{flag} needs a value"))?;
            parsed.insert(name.to_string(), value.clone());
        }
        Ok(Self {
            warehouse: warehouse.clone(),
            identifier: Identifier::new(db, name),
            flags: parsed,
        })
    }

    fn number(&self, name: &str, default: Option<u64>) -> Result<u64> {
        match self.flags.get(name) {
            Some(v) => v.parse().map_err(|e| format!("--{name} {v:?}: {e}").into()),
            None => default.ok_or_else(|| format!("--{name} is required\n{USAGE}").into()),
        }
    }

    async fn catalog(&self) -> Result<Arc<dyn Catalog>> {
        let mut options = Options::new();
        options.set(CatalogOptions::WAREHOUSE, self.warehouse.clone());
        Ok(CatalogFactory::create(options).await?)
    }

    async fn table(&self) -> Result<Table> {
        let table = self.catalog().await?.get_table(&self.identifier).await?;
        match self.flags.get("snapshot") {
            None => Ok(table),
            Some(id) => {
                let options = HashMap::from([("scan.snapshot-id".to_string(), id.clone())]);
                Ok(table.copy_with_time_travel_strict(options).await?)
            }
        }
    }
}

async fn read_batches(table: &Table) -> Result<Vec<RecordBatch>> {
    let builder = table.new_read_builder();
    let plan = builder.new_scan().plan().await?;
    let stream = builder.new_read()?.to_arrow(plan.splits())?;
    Ok(stream.try_collect().await?)
}

async fn read(args: &Args) -> Result<()> {
    let batches = read_batches(&args.table().await?).await?;
    let Some(first) = batches.first() else {
        return Ok(());
    };
    let schema = first.schema();
    let mut out = String::new();
    for row in canonical::arrow_rows_canonical(&batches, &schema) {
        out.push_str(&canonical::row_line(&row));
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}

async fn bench_read(args: &Args) -> Result<()> {
    let started = Instant::now();
    let batches = read_batches(&args.table().await?).await?;
    let seconds = started.elapsed().as_secs_f64();
    let mut rows = 0;
    let mut amount_sum = 0.0;
    for batch in &batches {
        rows += batch.num_rows();
        let amount = batch
            .column_by_name("amount")
            .ok_or("the table has no amount column")?;
        amount_sum += amount
            .as_primitive::<Float64Type>()
            .iter()
            .flatten()
            .sum::<f64>();
    }
    let amount_sum = (amount_sum * 100.0).round() / 100.0;
    println!(
        "{}",
        json!({"phase": "full_read", "rows": rows, "seconds": seconds, "amount_sum": amount_sum})
    );
    Ok(())
}

async fn bench_write(args: &Args) -> Result<()> {
    let rows = args.number("rows", None)?;
    let batches = args.number("batches", None)?.max(1);
    let buckets = args.number("buckets", None)?;
    let upsert_rounds = args.number("upsert-rounds", Some(0))?;
    let upsert_rows = args.number("upsert-rows", Some(0))?;
    let mut workload = Workload::new(args.number("seed", Some(42))?);

    let catalog = args.catalog().await?;
    catalog
        .create_database(args.identifier.database(), true, HashMap::new())
        .await?;
    let schema = Schema::builder()
        .column("id", DataType::BigInt(BigIntType::with_nullable(false)))
        .column("category", DataType::VarChar(VarCharType::string_type()))
        .column("ts", DataType::BigInt(BigIntType::new()))
        .column("amount", DataType::Double(DoubleType::new()))
        .column("payload", DataType::VarChar(VarCharType::string_type()))
        .primary_key(["id"])
        .option("bucket", buckets.to_string())
        .build()?;
    catalog
        .create_table(&args.identifier, schema, false)
        .await?;
    let table = catalog.get_table(&args.identifier).await?;
    let builder = table.new_write_builder();
    let commit = builder.new_commit();
    let mut writer = builder.new_write()?;

    let mut phases = vec![("load", workload.load(rows, batches))];
    for _ in 0..upsert_rounds {
        phases.push(("upsert", vec![workload.upsert_round(upsert_rows)]));
    }
    for (phase, commits) in phases {
        let started = Instant::now();
        let mut written = 0;
        for ids in &commits {
            let batch = workload.batch(ids)?;
            written += batch.num_rows();
            writer.write_arrow_batch(&batch).await?;
            commit.commit(writer.prepare_commit().await?).await?;
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{}",
            json!({"phase": phase, "rows": written, "commits": commits.len(), "seconds": seconds})
        );
    }
    writer.close().await;
    println!(
        "{}",
        json!({"phase": "expected", "rows": workload.next_id, "amount_sum": workload.amount_sum()})
    );
    Ok(())
}

/// Workload W's deterministic row generator (see the crate doc).
struct Workload {
    state: u64,
    next_id: u64,
    next_ts: i64,
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Workload {
    fn new(seed: u64) -> Self {
        Self {
            state: seed,
            next_id: 0,
            next_ts: 0,
        }
    }

    fn next(&mut self) -> u64 {
        let out = splitmix64(self.state);
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        out
    }

    fn shuffle(&mut self, ids: &mut [u64]) {
        for i in (1..ids.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            ids.swap(i, j);
        }
    }

    /// Ids 0..rows, shuffled, cut into `batches` commits.
    fn load(&mut self, rows: u64, batches: u64) -> Vec<Vec<u64>> {
        let mut ids: Vec<u64> = (self.next_id..self.next_id + rows).collect();
        self.next_id += rows;
        self.shuffle(&mut ids);
        let per_batch = rows.div_ceil(batches).max(1) as usize;
        ids.chunks(per_batch).map(<[u64]>::to_vec).collect()
    }

    fn upsert_round(&mut self, rows: u64) -> Vec<u64> {
        let updates = (rows / 2).min(self.next_id);
        let mut chosen = HashSet::with_capacity(updates as usize);
        while (chosen.len() as u64) < updates {
            chosen.insert(self.next() % self.next_id);
        }
        let mut ids: Vec<u64> = chosen.into_iter().collect();
        ids.sort_unstable(); // HashSet order is not deterministic
        ids.extend(self.next_id..self.next_id + (rows - updates));
        self.next_id += rows - updates;
        self.shuffle(&mut ids);
        ids
    }

    fn amount(id: u64) -> f64 {
        (id % 100_000) as f64 / 100.0
    }

    /// Sum of `amount` over the table's final rows (every id 0..next_id once).
    fn amount_sum(&self) -> f64 {
        let sum: f64 = (0..self.next_id).map(Self::amount).sum();
        (sum * 100.0).round() / 100.0
    }

    fn batch(&mut self, ids: &[u64]) -> Result<RecordBatch> {
        let schema = Arc::new(ArrowSchema::new(vec![
            Field::new("id", ArrowType::Int64, false),
            Field::new("category", ArrowType::Utf8, true),
            Field::new("ts", ArrowType::Int64, true),
            Field::new("amount", ArrowType::Float64, true),
            Field::new("payload", ArrowType::Utf8, true),
        ]));
        let ts: Vec<i64> = (0..ids.len() as i64).map(|i| self.next_ts + i).collect();
        self.next_ts += ids.len() as i64;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(
                ids.iter().map(|&id| id as i64),
            )),
            Arc::new(StringArray::from_iter_values(
                ids.iter().map(|id| format!("cat_{:02}", id % 10)),
            )),
            Arc::new(Int64Array::from(ts)),
            Arc::new(Float64Array::from_iter_values(
                ids.iter().map(|&id| Self::amount(id)),
            )),
            Arc::new(StringArray::from_iter_values(ids.iter().map(|&id| {
                (0..4)
                    .map(|k| format!("{:016x}", splitmix64(id * 4 + k)))
                    .collect::<String>()
            }))),
        ];
        debug_assert!(columns.iter().all(|c| c.len() == ids.len()));
        Ok(RecordBatch::try_new(schema, columns)?)
    }
}

//! The world of one schedule: the plan drawn from the seed, the store, the table, and the log
//! every actor writes what it did and saw into.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use streamhouse::io::{FileIO, Path};
use streamhouse::{Catalog, Identifier, Table, TableSpec};

use super::clock::SimClock;
use super::model::{Change, CommitRecord, COLUMNS};
use super::rng::SimRng;
use super::store::{FaultRates, SimStore};

/// Simulated time at the start: 2026-01-01T00:00:00Z.
pub const START_MILLIS: i64 = 1_767_225_600_000;

/// How big schedules are (the seed draws each schedule's shape within these bounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Writers, at most (at least 1).
    pub writers: u64,
    /// Steps per actor, at most (at least 2).
    pub steps: u64,
    /// Rows per commit, at most.
    pub rows: u64,
}

impl Bounds {
    /// Small schedules: hundreds of seeds per minute in a debug build.
    pub const CI: Bounds = Bounds {
        writers: 2,
        steps: 2,
        rows: 4,
    };
}

/// One schedule's shape, drawn from the seed.
#[derive(Debug, Clone)]
pub struct Plan {
    pub rates: FaultRates,
    pub buckets: u64,
    pub deletion_vectors: bool,
    /// Per writer: true when it commits staged files through new committers with its own
    /// commit user (retrying with the same identifier), false for `Writer::commit`.
    pub writers: Vec<bool>,
    pub compactors: u64,
    pub expirers: u64,
    pub cleaners: u64,
    pub taggers: u64,
    pub consumers: u64,
    pub steps: u64,
    pub rows: u64,
    pub keys: i64,
    /// Longest pause of an actor between two steps.
    pub max_pause: Duration,
    /// `clean_orphans`' safety window: longer than any commit takes.
    pub orphan_age: Duration,
}

impl Plan {
    pub fn draw(rng: &mut SimRng, b: Bounds) -> Plan {
        let writers = rng.between(1, b.writers.max(1));
        Plan {
            rates: FaultRates::draw(rng),
            buckets: rng.between(1, 2),
            deletion_vectors: false,
            writers: (0..writers).map(|_| rng.chance(0.5)).collect(),
            compactors: rng.between(0, 1),
            expirers: rng.between(0, 1),
            cleaners: rng.between(0, 1),
            taggers: rng.between(0, 1),
            consumers: rng.between(1, 2).min(b.steps.saturating_sub(1).max(1)),
            steps: rng.between(2, b.steps.max(2)),
            rows: b.rows.max(1),
            keys: rng.between(4, 24) as i64,
            max_pause: Duration::from_secs(rng.between(1, 600)),
            orphan_age: Duration::from_secs(3_600),
        }
    }

    /// A one-line summary for reports.
    pub fn summary(&self) -> String {
        let staged = self.writers.iter().filter(|s| **s).count();
        format!(
            "{} writers ({staged} staged), {} compactors, {} expirers, {} orphan cleaners, {} taggers, {} consumers, {} steps, {} buckets{}, faults {:.1}%",
            self.writers.len(),
            self.compactors,
            self.expirers,
            self.cleaners,
            self.taggers,
            self.consumers,
            self.steps,
            self.buckets,
            if self.deletion_vectors { ", deletion vectors" } else { "" },
            self.rates.fail * 100.0
        )
    }
}

/// What a consumer applied: per snapshot, its changes (sorted), in the order applied.
#[derive(Debug, Clone, Default)]
pub struct ConsumerLog {
    pub id: String,
    pub applied: BTreeMap<i64, Vec<Change>>,
    pub last: i64,
    pub reopened: u64,
}

/// Everything the actors did.
#[derive(Debug, Default)]
pub struct Log {
    pub commits: Vec<CommitRecord>,
    pub consumers: Vec<ConsumerLog>,
    /// Tags whose creation was acknowledged: name → snapshot id.
    pub tags: BTreeMap<String, i64>,
    /// Problems the actors saw as they happened (a consumer skipping snapshots, say).
    pub violations: Vec<String>,
    /// Operations that failed, by actor kind.
    pub errors: BTreeMap<&'static str, u64>,
    /// Operations that succeeded, by actor kind.
    pub done: BTreeMap<&'static str, u64>,
}

/// One schedule's shared state.
pub struct World {
    pub seed: u64,
    pub plan: Plan,
    pub store: SimStore,
    pub clock: SimClock,
    pub catalog: Catalog,
    pub id: Identifier,
    pub table: Table,
    log: Mutex<Log>,
}

impl World {
    /// The store, the catalog and the table (made without faults). Call inside the runtime.
    pub async fn new(seed: u64, plan: Plan, rng: SimRng) -> Result<Arc<World>, String> {
        let clock = SimClock::new(START_MILLIS);
        let store = SimStore::new(rng, plan.rates, clock.clone());
        let io = FileIO::new(Arc::new(store.clone()), "memory://sim")
            .with_clock(Arc::new(clock.clone()));
        let catalog = Catalog::from_io(io, Path::from("sim"));
        let id = Identifier::parse("db.t").map_err(|e| e.to_string())?;
        let mut spec = TableSpec::parse(COLUMNS)
            .map_err(|e| e.to_string())?
            .primary_key(["k"])
            .option("bucket", plan.buckets.to_string());
        if plan.deletion_vectors {
            spec = spec.option("deletion-vectors.enabled", "true");
        }
        let table = catalog
            .create_table(&id, spec, false)
            .await
            .map_err(|e| format!("create: {e}"))?
            .into_table();
        Ok(Arc::new(World {
            seed,
            plan,
            store,
            clock,
            catalog,
            id,
            table,
            log: Mutex::new(Log::default()),
        }))
    }

    pub fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one operation of an actor kind, failed or not.
    pub fn count<T, E>(&self, kind: &'static str, r: &Result<T, E>) {
        let mut log = self.log();
        let tally = if r.is_ok() {
            &mut log.done
        } else {
            &mut log.errors
        };
        *tally.entry(kind).or_default() += 1;
    }

    pub fn violation(&self, what: String) {
        self.log().violations.push(what);
    }

    /// A table handle on a clean view of the same store (faults must be off).
    pub async fn fresh_table(&self) -> Result<Table, String> {
        self.catalog
            .table(&self.id)
            .await
            .map_err(|e| format!("the table no longer opens: {e}"))
    }

    /// A table handle on the archive: every snapshot ever published, every file ever written.
    pub async fn history_table(&self) -> Result<Table, String> {
        let io = FileIO::new(self.store.archive(), "memory://sim-archive")
            .with_clock(Arc::new(self.clock.clone()));
        Catalog::from_io(io, Path::from("sim"))
            .table(&self.id)
            .await
            .map_err(|e| format!("the archived table does not open: {e}"))
    }
}

//! Keeping a table fast and tidy: [`Compaction`] (once, as one atomic commit, or as a
//! service), [`Expire`] (old snapshots and the files only they use) and orphan-file cleanup.

use std::sync::Arc;
use std::time::Duration;

use streamhouse_compaction::service::{Service, ServiceConfig, ServiceReport};
use streamhouse_compaction::{BucketOutcome, Cancel, CompactOptions, Compactor, Progress};
use streamhouse_format::io::expire::{expire_snapshots, ExpireConfig, ExpireReport};
use streamhouse_format::io::orphans::{clean_orphans, OrphanReport};

use crate::table::Table;
use crate::Result;

/// A compaction being set up: [`Table::compact`], then options, then [`run_once`](Self::run_once)
/// or [`run_service`](Self::run_service).
pub struct Compaction {
    table: Table,
    full: bool,
    partition: Option<Vec<u8>>,
    workers: usize,
    cancel: Cancel,
    progress: Option<Arc<dyn Progress>>,
}

impl Compaction {
    pub(crate) fn new(table: &Table) -> Compaction {
        Compaction {
            table: table.clone(),
            full: false,
            partition: None,
            workers: 1,
            cancel: Cancel::new(),
            progress: None,
        }
    }

    /// Every bucket into a single sorted run at the highest level.
    pub fn full(mut self, full: bool) -> Self {
        self.full = full;
        self
    }

    /// Only the buckets of one partition, given as `k=v[,k=v…]`.
    pub fn partition(mut self, spec: &str) -> Result<Self> {
        self.partition = Some(self.table.partition_row(spec)?);
        Ok(self)
    }

    /// Buckets compacted at the same time (at least 1).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }

    /// Stops compactions in progress when cancelled (nothing half-done is committed).
    pub fn cancel(mut self, cancel: Cancel) -> Self {
        self.cancel = cancel;
        self
    }

    /// Reports each rewrite's progress in bytes.
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = Some(progress);
        self
    }

    fn compactor(&self) -> Result<Compactor> {
        let mut c = Compactor::new(self.table.raw().clone())?.with_cancel(self.cancel.clone());
        if let Some(p) = &self.progress {
            c = c.with_progress(p.clone());
        }
        Ok(c)
    }

    /// One pass: every bucket the picker (or `full`) selects, rewritten `workers` at a time and
    /// committed as ONE COMPACT snapshot — the table changes atomically or not at all.
    pub async fn run_once(&self) -> Result<ServiceReport> {
        let outcomes = self
            .compactor()?
            .compact_table(&CompactOptions {
                full: self.full,
                partition: self.partition.clone(),
                parallelism: self.workers,
                ..Default::default()
            })
            .await?;
        let mut report = ServiceReport {
            passes: 1,
            ..Default::default()
        };
        for outcome in outcomes {
            match outcome {
                BucketOutcome::Compacted(s) => report.compacted.push(s),
                BucketOutcome::GaveUp(why) => report.gave_up.push(why),
                BucketOutcome::Nothing => {}
            }
        }
        Ok(report)
    }

    /// Keeps the table compacted until cancelled: a pass every `interval`, each bucket
    /// committed as soon as it is done, under a lease so several processes can share a table.
    pub async fn run_service(&self, interval: Duration) -> Result<ServiceReport> {
        let service = Service::new(
            Arc::new(self.compactor()?),
            ServiceConfig {
                workers: self.workers,
                interval,
                full: self.full,
                partition: self.partition.clone(),
                ..Default::default()
            },
        );
        service.run().await
    }
}

/// A snapshot expiration being set up: [`Table::expire`] reads the table's options
/// (`snapshot.num-retained.min|max`, `snapshot.time-retained`, `snapshot.expire.limit`); the
/// setters override them for one run.
#[derive(Debug, Clone)]
pub struct Expire {
    table: Table,
    config: ExpireConfig,
    retain_min_set: bool,
}

impl Expire {
    pub(crate) fn new(table: &Table) -> Result<Expire> {
        Ok(Expire {
            config: ExpireConfig::from_options(table.options())?,
            table: table.clone(),
            retain_min_set: false,
        })
    }

    /// Keep at least `n` snapshots (raises the maximum if needed).
    pub fn retain_min(mut self, n: u64) -> Self {
        self.config.retain_min = n;
        self.config.retain_max = self.config.retain_max.max(n);
        self.retain_min_set = true;
        self
    }

    /// Keep at most `n` snapshots (lowers the table's minimum if it was not set here).
    pub fn retain_max(mut self, n: u64) -> Self {
        self.config.retain_max = n;
        if !self.retain_min_set {
            self.config.retain_min = self.config.retain_min.min(n);
        }
        self
    }

    /// Expire only snapshots older than this.
    pub fn older_than(mut self, d: Duration) -> Self {
        self.config.time_retained = d;
        self
    }

    /// Expire at most this many snapshots (at least 1).
    pub fn limit(mut self, n: u64) -> Self {
        self.config.limit = n.max(1);
        self
    }

    /// The settings this run uses.
    pub fn config(&self) -> &ExpireConfig {
        &self.config
    }

    /// Checks the settings (the minimum must not exceed the maximum).
    pub fn validate(&self) -> Result<()> {
        self.config.validate()
    }

    /// Deletes the snapshots to expire and the files only they use; consumers and tags are
    /// respected.
    pub async fn run(&self) -> Result<ExpireReport> {
        self.validate()?;
        expire_snapshots(self.table.raw(), &self.config).await
    }
}

impl Table {
    /// Compaction of this table (see [`Compaction`]).
    pub fn compact(&self) -> Compaction {
        Compaction::new(self)
    }

    /// Snapshot expiration with the table's options (see [`Expire`]).
    pub fn expire(&self) -> Result<Expire> {
        Expire::new(self)
    }

    /// Deletes files no snapshot or tag references that are older than `older_than` (younger
    /// ones may belong to commits in progress). With `dry_run` only lists them.
    pub async fn clean_orphans(&self, older_than: Duration, dry_run: bool) -> Result<OrphanReport> {
        clean_orphans(self.raw(), older_than, dry_run).await
    }
}

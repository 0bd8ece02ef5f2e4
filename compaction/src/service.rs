//! The standalone compaction service: keeps a table compacted, alone or together with other
//! service processes and writers.
//!
//! Cooperation (see `spec/compaction.md`): before compacting a bucket a worker takes a
//! **lease**, `<table>/_compaction/lease-<partition hex>-<bucket>`, written with a create-only
//! put and holding `{"owner", "expiresAtMillis"}`. A held, unexpired lease makes other workers
//! skip the bucket; the holder renews it every third of its time-to-live while compacting and
//! deletes it afterwards; an expired lease (a crashed holder) is deleted and taken over. Leases
//! only spread work: correctness never depends on them, because every COMPACT commit checks
//! that its deleted files are still live and level ranges disjoint. Two workers that both take
//! a lease (a takeover race) waste work at worst; the loser's commit conflicts, and it retries
//! on fresh state or moves to another bucket. Buckets are visited in a random order per pass,
//! so processes started together do not walk the same way.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use object_store::path::Path;
use serde::{Deserialize, Serialize};
use streamhouse_format::io::Created;
use streamhouse_format::Result;

use crate::compactor::{BucketOutcome, CompactSummary, Compactor};
use crate::levels::Levels;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Buckets compacted at the same time by this process.
    pub workers: usize,
    /// Pause between passes over the table.
    pub interval: Duration,
    /// Lifetime of a bucket lease (renewed while compacting).
    pub lease_ttl: Duration,
    /// Compact fully instead of by the universal picker.
    pub full: bool,
    /// Only this partition (serialized BinaryRow).
    pub partition: Option<Vec<u8>>,
    /// Attempts per bucket when commits conflict.
    pub max_attempts: u32,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            workers: 1,
            interval: Duration::from_secs(10),
            lease_ttl: Duration::from_secs(300),
            full: false,
            partition: None,
            max_attempts: 3,
        }
    }
}

/// What the service did.
#[derive(Debug, Clone, Default)]
pub struct ServiceReport {
    pub passes: u64,
    pub compacted: Vec<CompactSummary>,
    /// Buckets skipped because another worker held their lease.
    pub leased_elsewhere: u64,
    /// Compactions that gave up after losing races.
    pub gave_up: Vec<String>,
    /// Stopped by cancellation.
    pub cancelled: bool,
    /// Passes that failed on transient storage errors (the service went on).
    pub errors: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lease {
    owner: String,
    expires_at_millis: i64,
}

/// A compaction service over one table.
pub struct Service {
    compactor: Arc<Compactor>,
    cfg: ServiceConfig,
    owner: String,
}

impl Service {
    pub fn new(compactor: Arc<Compactor>, cfg: ServiceConfig) -> Self {
        Service {
            compactor,
            cfg,
            owner: format!("compaction-service-{}", uuid::Uuid::new_v4()),
        }
    }

    /// Runs passes until cancelled, pausing `interval` between them. A pass that fails on
    /// transient storage trouble is reported in [`ServiceReport::errors`] and the service goes
    /// on; any other error stops it.
    pub async fn run(&self) -> Result<ServiceReport> {
        let mut report = ServiceReport::default();
        loop {
            if let Err(e) = self.pass(&mut report).await {
                if !e.retryable() || self.compactor.cancel().is_cancelled() {
                    return Err(e);
                }
                report.errors.push(e.to_string());
            }
            if self.compactor.cancel().is_cancelled() {
                report.cancelled = true;
                return Ok(report);
            }
            let step = Duration::from_millis(100);
            let mut waited = Duration::ZERO;
            while waited < self.cfg.interval {
                if self.compactor.cancel().is_cancelled() {
                    report.cancelled = true;
                    return Ok(report);
                }
                tokio::time::sleep(step).await;
                waited += step;
            }
        }
    }

    /// One pass over every bucket that needs compaction.
    pub async fn run_once(&self) -> Result<ServiceReport> {
        let mut report = ServiceReport::default();
        self.pass(&mut report).await?;
        report.cancelled = self.compactor.cancel().is_cancelled();
        Ok(report)
    }

    async fn pass(&self, report: &mut ServiceReport) -> Result<()> {
        report.passes += 1;
        let (_, levels) = self
            .compactor
            .bucket_levels(self.cfg.partition.as_deref())
            .await?;
        let mut todo: Vec<Levels> = levels
            .into_iter()
            .filter(|l| self.compactor.pick(l, self.cfg.full).is_some())
            .collect();
        shuffle(&mut todo);
        let queue = Arc::new(Mutex::new(VecDeque::from(todo)));
        let shared = Arc::new(Mutex::new(std::mem::take(report)));
        let workers =
            (0..self.cfg.workers.max(1)).map(|_| self.worker(queue.clone(), shared.clone()));
        let results = futures::future::join_all(workers).await;
        *report = std::mem::take(&mut *shared.lock().expect("report lock"));
        results.into_iter().collect::<Result<Vec<()>>>()?;
        Ok(())
    }

    async fn worker(
        &self,
        queue: Arc<Mutex<VecDeque<Levels>>>,
        report: Arc<Mutex<ServiceReport>>,
    ) -> Result<()> {
        loop {
            if self.compactor.cancel().is_cancelled() {
                return Ok(());
            }
            let Some(levels) = queue.lock().expect("queue lock").pop_front() else {
                return Ok(());
            };
            let lease = self.lease_path(&levels);
            if !self.acquire(&lease).await? {
                report.lock().expect("report lock").leased_elsewhere += 1;
                continue;
            }
            // The levels were read before the lease: re-read so no work is based on state
            // another holder changed meanwhile.
            let outcome = async {
                let fresh = self
                    .compactor
                    .levels_of(&levels.partition, levels.bucket)
                    .await?;
                let work =
                    self.compactor
                        .compact_levels(fresh, self.cfg.full, self.cfg.max_attempts);
                tokio::select! {
                    r = work => r,
                    e = self.renew_forever(&lease) => Err(e),
                }
            }
            .await;
            let _ = self.release(&lease).await;
            match outcome {
                Ok(BucketOutcome::Compacted(s)) => {
                    report.lock().expect("report lock").compacted.push(s)
                }
                Ok(BucketOutcome::GaveUp(why)) => {
                    report.lock().expect("report lock").gave_up.push(why)
                }
                Ok(BucketOutcome::Nothing) => {}
                Err(_) if self.compactor.cancel().is_cancelled() => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    fn lease_path(&self, levels: &Levels) -> Path {
        let hex: String = levels
            .partition
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.compactor
            .table()
            .root
            .clone()
            .join("_compaction")
            .join(format!("lease-{hex}-{}", levels.bucket))
    }

    fn lease_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&Lease {
            owner: self.owner.clone(),
            expires_at_millis: self.compactor.table().io.now_millis()
                + self.cfg.lease_ttl.as_millis() as i64,
        })
        .unwrap_or_default()
    }

    /// Takes the lease of a bucket; false when another owner holds it.
    async fn acquire(&self, path: &Path) -> Result<bool> {
        let io = &self.compactor.table().io;
        for _ in 0..2 {
            if io.write_if_absent(path, self.lease_bytes()).await? == Created::Yes {
                return Ok(true);
            }
            let held: Option<Lease> = io
                .read_opt(path)
                .await?
                .and_then(|b| serde_json::from_slice(&b).ok());
            match held {
                Some(l) if l.owner == self.owner => return Ok(true),
                Some(l) if l.expires_at_millis > io.now_millis() => return Ok(false),
                // Expired or unreadable: take it over.
                _ => io.delete(path).await?,
            }
        }
        Ok(false)
    }

    /// Extends the lease until dropped; returns only on a storage error.
    async fn renew_forever(&self, path: &Path) -> streamhouse_format::Error {
        let period = (self.cfg.lease_ttl / 3).max(Duration::from_millis(100));
        loop {
            tokio::time::sleep(period).await;
            if let Err(e) = self
                .compactor
                .table()
                .io
                .write(path, self.lease_bytes())
                .await
            {
                return e;
            }
        }
    }

    async fn release(&self, path: &Path) -> Result<()> {
        let io = &self.compactor.table().io;
        let held: Option<Lease> = io
            .read_opt(path)
            .await?
            .and_then(|b| serde_json::from_slice(&b).ok());
        if held.is_some_and(|l| l.owner == self.owner) {
            io.delete(path).await?;
        }
        Ok(())
    }
}

/// Shuffles in place with randomness from UUIDs (no extra dependency).
fn shuffle<T>(v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let r = (uuid::Uuid::new_v4().as_u128() % (i as u128 + 1)) as usize;
        v.swap(i, r);
    }
}

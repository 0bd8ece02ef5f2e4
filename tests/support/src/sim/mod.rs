//! Deterministic simulation: one seed draws a schedule — writers, compaction workers,
//! expirers, orphan cleaners, a tagger and tail consumers running concurrently on one thread
//! over a [`SimStore`] that fails, times out, loses acknowledgements, delays and lists
//! partially or stale — and the same seed replays it. Time is tokio's paused timer, read by
//! the table through [`SimClock`] (the injected clock), so simulated hours cost nothing.
//!
//! After the actors finish, faults stop, consumers catch up, and [`check`](check::check)
//! tests the invariants listed in `check.rs` against the archive of everything ever written.
//!
//! ```ignore
//! let report = sim::run_seed(42, sim::Bounds::CI);
//! assert!(report.violations.is_empty(), "{}", report.failure());
//! ```
//!
//! Replay is exact as far as the library's scheduling is: the seed fixes every actor's choices
//! and every storage fate in arrival order; [`SeedReport::trace`] hashes the operations and
//! their fates, so two runs of a seed can be compared. One known source of drift: the writer
//! flushes buckets on blocking threads, so the puts of two buckets may swap places (and
//! simulated times move by a millisecond).

mod actors;
mod check;
mod clock;
mod model;
mod rng;
mod store;
mod world;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use clock::SimClock;
pub use rng::SimRng;
pub use store::{FaultRates, SimStore, StoreCounts};
pub use world::{Bounds, Plan, World};

/// The simulated time one schedule may take before it counts as hung.
const MAX_SIM_TIME: Duration = Duration::from_secs(48 * 3600);

/// What one seed did and found.
#[derive(Debug, Clone)]
pub struct SeedReport {
    pub seed: u64,
    pub plan: String,
    pub snapshots: i64,
    pub acked_commits: usize,
    pub store: StoreCounts,
    pub trace: u64,
    pub sim_millis: i64,
    pub violations: Vec<String>,
}

/// The one-line command that replays `seed`.
pub fn replay_command(seed: u64) -> String {
    format!(
        "STREAMHOUSE_SIM_SEED={seed} cargo test -p streamhouse-tests --test integration simulation::replay -- --nocapture"
    )
}

impl SeedReport {
    /// The violations, the schedule and the replay command, for a failure message.
    pub fn failure(&self) -> String {
        format!(
            "seed {} ({}; {} snapshots; store {:?}) broke {} invariant(s):\n  {}\nreplay: {}",
            self.seed,
            self.plan,
            self.snapshots,
            self.store,
            self.violations.len(),
            self.violations.join("\n  "),
            replay_command(self.seed)
        )
    }
}

/// Runs one seed's schedule on a fresh single-threaded runtime with paused time.
pub fn run_seed(seed: u64, bounds: Bounds) -> SeedReport {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let local = tokio::task::LocalSet::new();
    rt.block_on(local.run_until(simulate(seed, bounds)))
}

async fn simulate(seed: u64, bounds: Bounds) -> SeedReport {
    let report_started = Instant::now();
    let mut rng = SimRng::new(seed);
    let plan = Plan::draw(&mut rng, bounds);
    let mut report = SeedReport {
        seed,
        plan: plan.summary(),
        snapshots: 0,
        acked_commits: 0,
        store: StoreCounts::default(),
        trace: 0,
        sim_millis: 0,
        violations: vec![],
    };
    let w = match World::new(seed, plan, rng.fork()).await {
        Ok(w) => w,
        Err(e) => {
            report.violations.push(e);
            return report;
        }
    };
    let consumers: Vec<String> = (0..w.plan.consumers).map(|j| format!("c{j}")).collect();
    for c in &consumers {
        // Registered before anything commits, so expiration keeps what they have not read.
        if let Err(e) = w.table.as_format_table().set_consumer(c, 1).await {
            report
                .violations
                .push(format!("registering consumer {c}: {e}"));
            return report;
        }
    }

    w.store.set_faults(true);
    let mut handles = vec![];
    let mut spawn = |name: String, f: futures::future::LocalBoxFuture<'static, ()>| {
        handles.push((name.clone(), actors::spawn_actor(name, f)));
    };
    use futures::FutureExt;
    for (i, staged) in w.plan.writers.clone().into_iter().enumerate() {
        let name = format!("writer{i}");
        let (w2, r, n) = (w.clone(), rng.fork(), name.clone());
        match staged {
            true => spawn(
                name,
                actors::staged_writer(w2, n, i as u64, r).boxed_local(),
            ),
            false => spawn(
                name,
                actors::public_writer(w2, n, i as u64, r).boxed_local(),
            ),
        }
    }
    for i in 0..w.plan.compactors {
        spawn(
            format!("compactor{i}"),
            actors::compactor(w.clone(), rng.fork()).boxed_local(),
        );
    }
    for i in 0..w.plan.expirers {
        spawn(
            format!("expirer{i}"),
            actors::expirer(w.clone(), rng.fork()).boxed_local(),
        );
    }
    for i in 0..w.plan.cleaners {
        spawn(
            format!("orphan-cleaner{i}"),
            actors::orphan_cleaner(w.clone(), rng.fork()).boxed_local(),
        );
    }
    for i in 0..w.plan.taggers {
        spawn(
            format!("tagger{i}"),
            actors::tagger(w.clone(), rng.fork()).boxed_local(),
        );
    }
    for c in &consumers {
        let f = actors::consumer(w.clone(), c.clone(), rng.fork(), None).boxed_local();
        spawn(format!("consumer-{c}"), f);
    }
    let all = futures::future::join_all(
        handles
            .into_iter()
            .map(|(name, h)| async move { (name, h.await) }),
    );
    match tokio::time::timeout(MAX_SIM_TIME, all).await {
        Err(_) => w.violation(format!(
            "the actors did not finish within {} h of simulated time",
            MAX_SIM_TIME.as_secs() / 3600
        )),
        Ok(results) => {
            for (name, r) in results {
                if let Err(e) = r {
                    w.violation(format!("{name} panicked: {e}"));
                }
            }
        }
    }
    w.store.set_faults(false);

    // Consumers catch up without faults: every one must reach the latest snapshot.
    let latest = match w.fresh_table().await {
        Ok(t) => t.latest_snapshot_id().await.ok().flatten().unwrap_or(0),
        Err(e) => {
            w.violation(e);
            0
        }
    };
    for c in &consumers {
        let f = actors::consumer(w.clone(), c.clone(), rng.fork(), Some(latest));
        store::ACTOR.scope(format!("consumer-{c}"), f).await;
    }
    let checking = Instant::now();
    report.violations = check::check(&w, &mut rng).await;
    if std::env::var_os("STREAMHOUSE_SIM_TIMING").is_some() {
        eprintln!(
            "seed {seed}: run {:?}, checks {:?}",
            checking - report_started,
            checking.elapsed()
        );
    }
    report.snapshots = latest;
    report.acked_commits = w
        .log()
        .commits
        .iter()
        .filter(|c| matches!(c.outcome, model::Outcome::Acked(_)))
        .count();
    report.store = w.store.counts();
    report.trace = w.store.trace();
    report.sim_millis = w.clock.millis() - world::START_MILLIS;
    report
}

/// Totals over many seeds.
#[derive(Debug, Default)]
pub struct Sweep {
    pub seeds: u64,
    pub failures: Vec<SeedReport>,
    pub snapshots: i64,
    pub acked_commits: usize,
    pub store: StoreCounts,
    pub elapsed: Duration,
}

impl Sweep {
    pub fn seeds_per_second(&self) -> f64 {
        self.seeds as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn summary(&self) -> String {
        let s = &self.store;
        format!(
            "{} seeds in {:.1} s ({:.1} seeds/s): {} snapshots, {} acknowledged commits; {} storage operations, {} failed, {} timed out, {} lost acknowledgements, {} partial and {} stale listings; {} seeds failed",
            self.seeds,
            self.elapsed.as_secs_f64(),
            self.seeds_per_second(),
            self.snapshots,
            self.acked_commits,
            s.ops,
            s.failed,
            s.timeouts,
            s.lost_acks,
            s.partial_lists,
            s.stale_lists,
            self.failures.len()
        )
    }
}

/// Runs seeds `first..first + count` on `threads` threads (each seed on its own runtime);
/// prints each failing seed's report as it fails.
pub fn sweep(first: u64, count: u64, bounds: Bounds, threads: usize) -> Sweep {
    let started = Instant::now();
    let next = AtomicU64::new(first);
    let total = Mutex::new(Sweep::default());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::SeqCst);
                if seed >= first + count {
                    break;
                }
                let r = run_seed(seed, bounds);
                if !r.violations.is_empty() {
                    eprintln!("{}", r.failure());
                }
                let mut t = total.lock().unwrap_or_else(|e| e.into_inner());
                t.seeds += 1;
                t.snapshots += r.snapshots;
                t.acked_commits += r.acked_commits;
                let c = &mut t.store;
                c.ops += r.store.ops;
                c.failed += r.store.failed;
                c.timeouts += r.store.timeouts;
                c.lost_acks += r.store.lost_acks;
                c.partial_lists += r.store.partial_lists;
                c.stale_lists += r.store.stale_lists;
                if !r.violations.is_empty() {
                    t.failures.push(r);
                }
            });
        }
    });
    let mut t = total.into_inner().unwrap_or_else(|e| e.into_inner());
    t.failures.sort_by_key(|r| r.seed);
    t.elapsed = started.elapsed();
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_seeds_hold_their_invariants() {
        let n = std::env::var("SIM_UNIT_SEEDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10);
        let first = std::env::var("SIM_UNIT_FIRST")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        let s = sweep(first, n, Bounds::CI, 2);
        println!("{}", s.summary());
        let lines: Vec<String> = s.failures.iter().take(5).map(|r| r.failure()).collect();
        assert!(s.failures.is_empty(), "{}", lines.join("\n"));
    }
}

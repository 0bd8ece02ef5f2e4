//! Seeded simulation (`streamhouse_test_support::sim`): writers, compaction workers,
//! expirers, orphan cleaners, a tagger and tail consumers run concurrently over a store that
//! fails, times out, loses acknowledgements, delays and lists partially or stale, all driven
//! by one seed; the invariants are checked after each schedule. A failing seed prints the
//! command that replays it.
//!
//! - `seeds`: the CI sweep, `STREAMHOUSE_SIM_SEEDS` seeds (500 by default) from
//!   `STREAMHOUSE_SIM_FIRST_SEED` (1); the long run is
//!   `STREAMHOUSE_SIM_SEEDS=10000 cargo test --release -p streamhouse-tests --test integration simulation::seeds -- --nocapture`.
//! - `replay`: one seed, `STREAMHOUSE_SIM_SEED`, with its report.
//! - `a_seed_replays_exactly`: a few seeds run twice give the same storage trace.

use crate::interop_support::sim::{replay_command, run_seed, sweep, Bounds};

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
    )
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4)
}

#[test]
fn seeds() {
    let count = env_u64("STREAMHOUSE_SIM_SEEDS").unwrap_or(500);
    let first = env_u64("STREAMHOUSE_SIM_FIRST_SEED").unwrap_or(1);
    let s = sweep(first, count, Bounds::CI, threads());
    println!("simulation: {}", s.summary());
    assert!(
        s.store.lost_acks > 0
            && s.store.failed > 0
            && s.store.partial_lists > 0
            && s.store.stale_lists > 0
            || count < 50,
        "the sweep injected too few faults: {:?}",
        s.store
    );
    if !s.failures.is_empty() {
        let lines: Vec<String> = s.failures.iter().take(5).map(|r| r.failure()).collect();
        panic!(
            "{} of {count} seeds broke invariants; the first ones:\n{}",
            s.failures.len(),
            lines.join("\n")
        );
    }
}

#[test]
fn replay() {
    let Some(seed) = env_u64("STREAMHOUSE_SIM_SEED") else {
        println!(
            "set STREAMHOUSE_SIM_SEED to replay a seed ({})",
            replay_command(0)
        );
        return;
    };
    let r = run_seed(seed, Bounds::CI);
    println!(
        "seed {seed}: {}; {} snapshots, {} acknowledged commits, {} ms simulated; store {:?}; trace {:016x}",
        r.plan, r.snapshots, r.acked_commits, r.sim_millis, r.store, r.trace
    );
    assert!(r.violations.is_empty(), "{}", r.failure());
}

#[test]
fn a_seed_replays_exactly() {
    for seed in [3, 17, 99] {
        let a = run_seed(seed, Bounds::CI);
        let b = run_seed(seed, Bounds::CI);
        assert_eq!(
            (a.trace, a.store, a.snapshots),
            (b.trace, b.store, b.snapshots),
            "seed {seed} ran differently the second time ({})",
            a.plan
        );
    }
}

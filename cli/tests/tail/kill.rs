//! kill -9 of a consumer, again and again, while a writer streams through `write --follow`.
//!
//! The writer's input lines are the expected changes (`changelog-producer = input`: every input
//! record is a change). Each consumer run is `tail --consumer c --follow` killed with SIGKILL
//! at a random moment; the last run, after the writer finished, is a bounded tail with the same
//! consumer. What the runs printed must be every fed record exactly once per snapshot: a run
//! may repeat only the snapshot the previous run was printing (or had just printed) when it
//! was killed, and every other snapshot is printed completely, once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::*;

/// One change as printed: (kind, id, v).
type Change = (String, i64, String);

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn change_of(v: &Value) -> (i64, Change) {
    (
        v["snapshot_id"].as_i64().expect("snapshot_id"),
        (
            v["rowkind"].as_str().expect("rowkind").to_string(),
            v["id"].as_i64().expect("id"),
            v["v"].as_str().expect("v").to_string(),
        ),
    )
}

#[test]
fn killed_consumers_lose_nothing_and_repeat_only_the_snapshot_in_flight() {
    let wh = Wh::with_table(
        "db.t",
        "id BIGINT NOT NULL, v STRING",
        "--primary-key id --option bucket=2 --option changelog-producer=input",
    );
    let mut writer = follow_writer(&wh, "30ms");
    let mut stdin = writer.stdin();
    let feeder = std::thread::spawn(move || {
        let mut rng = Rng(0x5eed);
        let mut fed: Vec<Change> = vec![];
        for i in 0..1500 {
            let kind = ["+I", "-U", "+U", "-D"][rng.below(4) as usize];
            let id = rng.below(60) as i64;
            let v = format!("v{i}");
            writeln!(
                stdin,
                "{{\"id\":{id},\"v\":\"{v}\",\"rowkind\":\"{kind}\"}}"
            )
            .expect("feed the writer");
            fed.push((kind.to_string(), id, v));
            if i % 5 == 0 {
                stdin.flush().expect("flush");
                std::thread::sleep(Duration::from_millis(rng.below(16)));
            }
        }
        fed
    });

    let mut rng = Rng(0xc0ffee);
    let mut runs: Vec<Vec<(i64, Change)>> = vec![];
    let mut kills = 0;
    loop {
        let writer_done = writer.exited();
        let mut args = vec![
            "tail",
            "db.t",
            "--from",
            "snapshot:1",
            "--consumer",
            "c",
            "-o",
            "json",
            "--with-snapshot-id",
            "--poll-interval",
            "5ms",
        ];
        if !writer_done {
            args.push("--follow");
        }
        let mut child = wh.spawn(&args);
        if !writer_done {
            std::thread::sleep(Duration::from_millis(40 + rng.below(260)));
            child.kill();
            kills += 1;
        }
        let (status, lines) = child.finish();
        if writer_done {
            assert!(status.success(), "the last consumer failed: {status:?}");
        }
        let printed: Vec<(i64, Change)> = lines
            .iter()
            .map(|l| change_of(&serde_json::from_str(l).expect("a JSON line")))
            .collect();
        runs.push(printed);
        if writer_done {
            break;
        }
    }
    let fed = feeder.join().expect("feeder");
    let (status, _) = writer.finish();
    assert!(status.success(), "writer failed: {status:?}");
    assert!(kills >= 5, "only {kills} consumers were killed");

    // Each run's output, grouped by snapshot (consecutive lines of one snapshot).
    let mut longest: BTreeMap<i64, Vec<Change>> = BTreeMap::new();
    let mut last_printed: Option<i64> = None;
    let mut repeats = 0;
    for (r, run) in runs.iter().enumerate() {
        let mut groups: Vec<(i64, Vec<Change>)> = vec![];
        for (s, c) in run {
            match groups.last_mut() {
                Some((g, changes)) if g == s => changes.push(c.clone()),
                Some((g, _)) => {
                    assert!(s > g, "run {r}: snapshot {s} after {g}");
                    groups.push((*s, vec![c.clone()]));
                }
                None => groups.push((*s, vec![c.clone()])),
            }
        }
        for (i, (s, changes)) in groups.iter().enumerate() {
            let seen_before = longest.contains_key(s);
            if seen_before {
                assert!(
                    i == 0 && last_printed == Some(*s),
                    "run {r}: snapshot {s} printed again, but the previous run ended at {last_printed:?}"
                );
                repeats += 1;
            } else if let Some(max) = longest.keys().next_back() {
                assert!(s > max, "run {r}: snapshot {s} printed after {max}");
            }
            let best = longest.entry(*s).or_default();
            // A cut-off delivery is a prefix of the complete one.
            let n = best.len().min(changes.len());
            assert_eq!(best[..n], changes[..n], "run {r}: snapshot {s} differs");
            if changes.len() > best.len() {
                *best = changes.clone();
            }
            let last_of_run = i + 1 == groups.len();
            if !last_of_run {
                // Complete: nothing may be missing from it later.
                assert_eq!(&longest[s], changes, "run {r}: snapshot {s}");
            }
        }
        if let Some((s, _)) = groups.last() {
            last_printed = Some(*s);
        }
    }
    // Every APPEND snapshot was printed (the writer's in-writer compaction adds COMPACT
    // snapshots, which have no changes with changelog-producer = input).
    let snapshots: BTreeSet<i64> = longest.keys().copied().collect();
    let latest = *snapshots.iter().next_back().expect("something was printed");
    let appends: BTreeSet<i64> = (1..=latest)
        .filter(|id| {
            let path = wh
                .table_dir("db.t")
                .join("snapshot")
                .join(format!("snapshot-{id}"));
            let json: Value = serde_json::from_slice(&std::fs::read(path).expect("snapshot"))
                .expect("snapshot JSON");
            json["commitKind"] == "APPEND"
        })
        .collect();
    assert_eq!(snapshots, appends, "every APPEND snapshot was printed");
    let mut delivered: Vec<Change> = longest.into_values().flatten().collect();
    let mut expected = fed;
    delivered.sort();
    expected.sort();
    assert_eq!(delivered.len(), expected.len(), "changes delivered vs fed");
    assert_eq!(delivered, expected);
    eprintln!(
        "{} consumer runs ({kills} killed), {} snapshots with changes of {latest}, {} changes, {repeats} snapshots printed again after a kill",
        runs.len(),
        appends.len(),
        expected.len()
    );
}

//! Crash tests: `kill -9` of the CLI writer (while it reads, writes files, commits or compacts
//! after its commit) and of the compaction service, at seeded random moments, many times on
//! one table. After every kill the table reads exactly the committed writes (a killed write is
//! all there or not at all); pypaimon reads it too; at the end only unreferenced files are
//! left over, and `streamhouse clean-orphans` removes them without changing what reads.
//!
//! `STREAMHOUSE_CRASH_SEED` picks another sequence of moments; `STREAMHOUSE_CRASH_ITERATIONS`
//! another count (default 30).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use streamhouse_format::io::orphans::clean_orphans;
use streamhouse_format::io::Table;
use streamhouse_format::snapshot::CommitKind;

use crate::interop_support::{assert_same_rows, pypaimon_read, python, sort_rows};
use crate::procs::{cli, cli_binary, feed, json_rows, run_with_input, wait_bounded, Rng};
use crate::support::{check_history, create_table, open_table, scan_rows};

const NAME: &str = "db.crash";
const ROWS: i64 = 3000;

fn env_u64(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// APPEND and COMPACT snapshot counts; checks ids are contiguous and no commit is there twice.
async fn history(table: &Table) -> (usize, usize) {
    let commits = check_history(table, "crash").await;
    let appends = commits
        .iter()
        .filter(|(_, _, kind)| *kind == CommitKind::Append)
        .count();
    (appends, commits.len() - appends)
}

fn expected_rows(model: &BTreeMap<(i64, i64), String>) -> Vec<Value> {
    sort_rows(
        model
            .iter()
            .map(|((w, seq), v)| json!({"w": w, "seq": seq, "v": v})),
    )
}

/// Files a kill -9 of a compaction service leaves: its bucket leases. They expire after their
/// time-to-live (minutes); deleting them stands for that wait, so later services compact.
fn expire_leases(table_dir: &std::path::Path) {
    if let Ok(entries) = std::fs::read_dir(table_dir.join("_compaction")) {
        for e in entries.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_writers_and_compaction_services_at_random_moments() {
    let Some(bin) = cli_binary() else {
        return;
    };
    let seed = env_u64("STREAMHOUSE_CRASH_SEED", 7);
    let iterations = env_u64("STREAMHOUSE_CRASH_ITERATIONS", 30);
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap().to_string();
    let table_dir = dir.path().join("db.db").join("crash");
    create_table(
        &location,
        NAME,
        "w INT, seq INT, v STRING",
        &[],
        &["w", "seq"],
        // A small write buffer makes a writer upload files while it still reads its input,
        // so most kills leave unreferenced files behind for orphan cleanup.
        &[
            ("bucket", "2"),
            ("num-sorted-run.compaction-trigger", "3"),
            ("write-buffer-size", "32kb"),
        ],
    )
    .await;
    let mut model: BTreeMap<(i64, i64), String> = BTreeMap::new();

    // Calibration: how long an uninterrupted write takes here.
    let started = Instant::now();
    let out = run_with_input(
        cli(&bin, &location, &["write", NAME, "--format", "json"]),
        json_rows(9, 0..ROWS, "calibration"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let write_ms = started.elapsed().as_millis() as u64;
    for seq in 0..ROWS {
        model.insert((9, seq), "calibration".into());
    }

    let (mut writes_killed, mut writes_completed, mut services_killed) = (0, 0, 0);
    let mut pypaimon_checks = 0;
    for i in 0..iterations {
        let table = open_table(&location, NAME).await.unwrap();
        let (appends_before, _) = history(&table).await;
        let service = i % 3 == 2;
        let w = (i % 4) as i64;
        let v = format!("it{i}");
        let (mut child, delay) = if service {
            let child = cli(
                &bin,
                &location,
                &[
                    "compact",
                    NAME,
                    "--service",
                    "--workers",
                    "2",
                    "--interval",
                    "20ms",
                ],
            )
            .spawn()
            .expect("start compact --service");
            (child, rng.below(1500))
        } else {
            let mut child = cli(&bin, &location, &["write", NAME, "--format", "json"])
                .spawn()
                .expect("start write");
            feed(&mut child, json_rows(w, 0..ROWS, &v));
            // Mostly while it writes files, commits or compacts after committing (reading the
            // input leaves nothing behind); sometimes after it finished.
            (child, write_ms / 2 + rng.below(write_ms * 8 / 10 + 1))
        };
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL
        let out = wait_bounded(child, Duration::from_secs(30));
        let table = open_table(&location, NAME)
            .await
            .unwrap_or_else(|e| panic!("iteration {i}: the table does not open: {e}"));
        let (appends_after, _) = history(&table).await;
        if service {
            services_killed += 1;
            expire_leases(&table_dir);
            assert_eq!(appends_after, appends_before, "iteration {i}");
        } else {
            match appends_after - appends_before {
                0 => writes_killed += 1,
                1 => {
                    writes_completed += 1;
                    for seq in 0..ROWS {
                        model.insert((w, seq), v.clone());
                    }
                }
                n => panic!("iteration {i}: one write made {n} APPEND snapshots"),
            }
            // A write that said it committed did.
            let stdout = String::from_utf8_lossy(&out.stdout);
            if stdout.contains("committed snapshot") {
                assert_eq!(appends_after, appends_before + 1, "iteration {i}: {stdout}");
            }
        }
        let what = format!("iteration {i} (seed {seed}, killed after {delay} ms)");
        assert_same_rows(
            &scan_rows(&table, None, None).await,
            &expected_rows(&model),
            &what,
        );
        if i % 10 == 9 && python().is_some() {
            let rows = pypaimon_read(&table_dir, None);
            assert_same_rows(&rows, &expected_rows(&model), &format!("pypaimon, {what}"));
            pypaimon_checks += 1;
        }
    }

    // Only unreferenced files are left over: cleaning them changes nothing that reads.
    let table = open_table(&location, NAME).await.unwrap();
    let (appends, compacts) = history(&table).await;
    let leftovers = clean_orphans(&table, Duration::ZERO, true).await.unwrap();
    let out = run_with_input(
        cli(
            &bin,
            &location,
            &["clean-orphans", NAME, "--older-than", "0s"],
        ),
        vec![],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = clean_orphans(&table, Duration::ZERO, true).await.unwrap();
    assert!(
        after.deleted.is_empty(),
        "orphans left: {:?}",
        after.deleted
    );
    let table = open_table(&location, NAME).await.unwrap();
    assert_same_rows(
        &scan_rows(&table, None, None).await,
        &expected_rows(&model),
        "after orphan cleanup",
    );
    for id in table.list_snapshot_ids().await.unwrap() {
        scan_rows(&table, Some(id), None).await;
    }
    if python().is_some() {
        assert_same_rows(
            &pypaimon_read(&table_dir, None),
            &expected_rows(&model),
            "pypaimon after orphan cleanup",
        );
        pypaimon_checks += 1;
    }
    println!(
        "crash iterations: {iterations} (seed {seed}): {writes_killed} writes killed before committing, {writes_completed} completed before the kill, {services_killed} compaction services killed; {appends} APPEND + {compacts} COMPACT snapshots; {} orphan files cleaned; {pypaimon_checks} pypaimon reads agreed",
        leftovers.deleted.len()
    );
    assert!(writes_killed > 0, "no write was interrupted: kill earlier");
    // Whether a kill lands after a file upload depends on timing; under heavy load every kill
    // may come before the first upload, so this is a note, not a failure.
    if leftovers.deleted.is_empty() {
        println!("note: no kill left an unreferenced file behind in this run");
    }
}

//! Crash tests: `kill -9` of the CLI writer (while it reads, writes files, commits or compacts
//! after its commit) and of the compaction service, at seeded random moments, many times on
//! one table. After every kill the table reads exactly the committed writes (a killed write is
//! all there or not at all); pypaimon reads it too; at the end only unreferenced files are
//! left over, and `streamhouse clean-orphans` removes them without changing what reads.
//!
//! `STREAMHOUSE_CRASH_SEED` picks another sequence of moments; `STREAMHOUSE_CRASH_ITERATIONS`
//! another count (default 30).
//!
//! Besides random moments, `kill_9_at_every_named_crash_point` stops the CLI at each named
//! step of `streamhouse_format::io::faults::CRASH_POINTS` (`STREAMHOUSE_CRASH_POINT` makes the
//! process `kill -9` itself there): each COMMIT step of a write, of in-writer and of service
//! compaction, and the steps of expire, clean-orphans, tag create / delete and consumer
//! update, each on a fresh table.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use streamhouse_format::io::orphans::clean_orphans;
use streamhouse_format::io::Table;
use streamhouse_format::snapshot::CommitKind;

use crate::interop_support::{assert_same_rows, pypaimon_read, python, sort_rows};
use crate::procs::{cli, cli_binary, cli_ok, feed, json_rows, run_with_input, wait_bounded, Rng};
use crate::support::{check_history, create_table, open_table, scan_rows, write_commit};

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

/// How one crash-point run is set up and what it leaves.
struct PointRun {
    /// A label: the point and the operation that reaches it.
    what: String,
    point: &'static str,
    /// The CLI command (after `--warehouse`) and its stdin.
    args: Vec<String>,
    input: Vec<u8>,
    /// Setup before the command: library writes (no compaction), then these.
    compacted: bool,
    stray_file: bool,
    tag: bool,
    /// The command's rows are in the table after the kill (its APPEND snapshot landed).
    rows_landed: bool,
}

const POINTS_TABLE: &str = "db.points";

/// One run per crash point, and each COMPACT point both in a writer (after its commit) and in
/// the compaction service.
fn point_runs() -> Vec<PointRun> {
    use streamhouse_format::io::faults::CRASH_POINTS;
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let write = s(&["write", POINTS_TABLE, "--format", "json"]);
    let mut runs = vec![];
    for &point in CRASH_POINTS {
        let run = |what: &str, args: Vec<String>| PointRun {
            what: format!("{point} ({what})"),
            point,
            args,
            input: vec![],
            compacted: false,
            stray_file: false,
            tag: false,
            rows_landed: false,
        };
        let (step, _) = point.split_once('.').unwrap();
        match step {
            "append" | "compact" => {
                let mut r = run("write", write.clone());
                r.input = json_rows(5, 0..20, "crashed");
                r.rows_landed = step == "compact"
                    || point.ends_with("snapshot-written")
                    || point.ends_with("hint-written");
                runs.push(r);
                if step == "compact" {
                    let args = ["compact", POINTS_TABLE, "--service", "--workers", "1"];
                    let mut args = s(&args);
                    args.extend(s(&["--interval", "20ms"]));
                    runs.push(run("compaction service", args));
                }
            }
            "expire" => {
                let args = [
                    "expire",
                    POINTS_TABLE,
                    "--retain-min",
                    "1",
                    "--retain-max",
                    "1",
                ];
                let mut r = run("expire", s(&args));
                r.args.extend(s(&["--older-than", "0s"]));
                r.compacted = true;
                runs.push(r);
            }
            "clean-orphans" => {
                let args = ["clean-orphans", POINTS_TABLE, "--older-than", "0s"];
                let mut r = run("clean-orphans", s(&args));
                r.stray_file = true;
                runs.push(r);
            }
            "tag" => {
                let created = point == "tag.created";
                let verb = if created { "create" } else { "delete" };
                let mut r = run(verb, s(&["tag", verb, POINTS_TABLE, "t1"]));
                r.tag = !created;
                runs.push(r);
            }
            "consumer" => {
                let args = ["tail", POINTS_TABLE, "--consumer", "c1", "--output", "json"];
                runs.push(run("tail", s(&args)));
            }
            other => panic!("crash point {point}: no run for step {other}"),
        }
    }
    runs
}

/// `kill -9` at every named step ([`CRASH_POINTS`]) of write, commit, in-writer and service
/// compaction, expire, clean-orphans, tag create / delete and consumer update, each on a fresh
/// table: the process dies there; the table then reads exactly its acknowledged writes (plus
/// the killed write when its snapshot had landed) through us and pypaimon, every snapshot
/// reads, `clean-orphans` removes what the crash left, and the table takes a new write.
///
/// [`CRASH_POINTS`]: streamhouse_format::io::faults::CRASH_POINTS
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_every_named_crash_point() {
    use std::os::unix::process::ExitStatusExt;
    let Some(bin) = cli_binary() else {
        return;
    };
    let runs = point_runs();
    let mut orphans_cleaned = 0;
    for run in &runs {
        let what = &run.what;
        let dir = tempfile::tempdir().unwrap();
        let location = dir.path().to_str().unwrap().to_string();
        let table_dir = dir.path().join("db.db").join("points");
        let table = create_table(
            &location,
            POINTS_TABLE,
            "w INT, seq INT, v STRING",
            &[],
            &["w", "seq"],
            &[("bucket", "1"), ("num-sorted-run.compaction-trigger", "3")],
        )
        .await;
        let mut model: BTreeMap<(i64, i64), String> = BTreeMap::new();
        // Three level-0 runs, written without compaction.
        for w in 0..3 {
            let rows: Vec<(&str, Value)> = (0..20)
                .map(|seq| ("+I", json!({"w": w, "seq": seq, "v": "setup"})))
                .collect();
            write_commit(&table, &rows).await;
            for seq in 0..20 {
                model.insert((w, seq), "setup".into());
            }
        }
        if run.compacted {
            cli_ok(&bin, &location, &["compact", POINTS_TABLE, "--full"]);
        }
        if run.tag {
            table.create_tag("t1", None, None).await.unwrap();
        }
        let stray = table_dir.join("bucket-0").join("data-stray.parquet");
        if run.stray_file {
            std::fs::write(&stray, b"left by a crash").unwrap();
        }

        let args: Vec<&str> = run.args.iter().map(String::as_str).collect();
        let mut cmd = cli(&bin, &location, &args);
        cmd.env(streamhouse_format::io::faults::CRASH_POINT_ENV, run.point);
        let mut child = cmd.spawn().expect("start streamhouse");
        feed(&mut child, run.input.clone());
        let out = wait_bounded(child, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.signal(), Some(9), "{what}: not killed: {stderr}");
        assert!(
            stderr.contains(&format!("crash point {}", run.point)),
            "{what}: {stderr}"
        );
        if run.rows_landed {
            for seq in 0..20 {
                model.insert((5, seq), "crashed".into());
            }
        }
        expire_leases(&table_dir);

        let table = open_table(&location, POINTS_TABLE)
            .await
            .unwrap_or_else(|e| panic!("{what}: the table does not open: {e}"));
        check_history(&table, what).await;
        if run.point.starts_with("expire.") {
            // The snapshots it was expiring may have lost their files already: the next run
            // finishes the job before every snapshot is read below.
            cli_ok(&bin, &location, &args);
        }
        let expected = expected_rows(&model);
        assert_same_rows(&scan_rows(&table, None, None).await, &expected, what);
        for id in table.list_snapshot_ids().await.unwrap() {
            scan_rows(&table, Some(id), None).await;
        }
        if python().is_some() {
            let theirs = pypaimon_read(&table_dir, None);
            assert_same_rows(&theirs, &expected, &format!("pypaimon, {what}"));
        }
        if run.point == "tag.created" {
            let tag = table.tag("t1").await;
            assert!(tag.is_ok(), "{what}: the tag was put before the kill");
        }
        if run.point == "tag.deleted" {
            assert!(
                table.tag("t1").await.is_err(),
                "{what}: the tag was deleted"
            );
        }
        if run.point == "consumer.written" {
            assert!(table.consumer("c1").await.unwrap().is_some(), "{what}");
        }

        // What the crash left is unreferenced: clean-orphans removes it, reads do not change.
        let left = clean_orphans(&table, Duration::ZERO, true).await.unwrap();
        orphans_cleaned += left.deleted.len();
        cli_ok(
            &bin,
            &location,
            &["clean-orphans", POINTS_TABLE, "--older-than", "0s"],
        );
        let after = clean_orphans(&table, Duration::ZERO, true).await.unwrap();
        assert!(after.deleted.is_empty(), "{what}: left {:?}", after.deleted);
        assert!(!stray.exists(), "{what}: the stray file stays");
        assert_same_rows(&scan_rows(&table, None, None).await, &expected, what);

        // The table takes the next write.
        let out = run_with_input(
            cli(
                &bin,
                &location,
                &["write", POINTS_TABLE, "--format", "json"],
            ),
            json_rows(6, 0..5, "after"),
        );
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for seq in 0..5 {
            model.insert((6, seq), "after".into());
        }
        let table = open_table(&location, POINTS_TABLE).await.unwrap();
        check_history(&table, what).await;
        assert_same_rows(
            &scan_rows(&table, None, None).await,
            &expected_rows(&model),
            &format!("{what}, then a write"),
        );
    }
    println!(
        "crash points: {} runs over {} named points, {orphans_cleaned} leftover files cleaned",
        runs.len(),
        streamhouse_format::io::faults::CRASH_POINTS.len()
    );
}

//! A bounded soak of `write --follow` next to foreign writers of the same table: Paimon's Java
//! writer (its own commits, in-writer compactions and conflicts) and a second `streamhouse
//! write` process. The stream must keep going to the end of its input and exit cleanly (a
//! failure would print its cause), and every row any writer committed must be in the table,
//! read alike by us and by Paimon's Java reader, with contiguous snapshot ids.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::interop_support::assert_same_rows;
use crate::java_support::{bench_and_warehouse, java_read, java_write, ReadCase, WriteTable};
use crate::procs::{cli, cli_binary, cli_ok, wait_bounded};
use crate::support::{open_table, scan_rows};

const STREAMED: i64 = 3000;
const JAVA_COMMITS: i64 = 30;
const CLI_COMMITS: i64 = 8;

#[test]
fn write_follow_keeps_streaming_next_to_java_and_cli_writers() {
    let Some(bin) = cli_binary() else { return };
    let Some((bench, dir)) = bench_and_warehouse() else {
        return;
    };
    let wh = dir.path().to_path_buf();
    let location = wh.to_str().unwrap().to_string();
    let created = cli(
        &bin,
        &location,
        &[
            "create",
            "db.soak",
            "--schema",
            "id BIGINT NOT NULL, src STRING, n BIGINT",
            "--primary-key",
            "id",
            "--option",
            "bucket=2",
        ],
    )
    .output()
    .unwrap();
    assert!(created.status.success(), "{created:?}");

    let mut follow = cli(
        &bin,
        &location,
        &[
            "write",
            "db.soak",
            "--follow",
            "--format",
            "json",
            "--commit-interval",
            "100ms",
        ],
    )
    .spawn()
    .expect("start write --follow");
    let mut stdin = follow.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let started = Instant::now();
        for id in 0..STREAMED {
            // Updates of earlier keys too, so compactions have work.
            let line = json!({"id": id % 2000, "src": "stream", "n": id});
            writeln!(stdin, "{line}").expect("write --follow still reads its input");
            // About 10 s of input, so the other writers commit while it streams.
            if id % 10 == 0 {
                stdin.flush().unwrap();
                std::thread::sleep(Duration::from_millis(30));
            }
        }
        started.elapsed()
    });

    let java_wh = wh.clone();
    let java = std::thread::spawn(move || {
        // Two compacting writers of one bucket conflict, and Java's gives up its commit on a
        // conflict (a Flink job would restart): like a deployment with one compactor per table,
        // the Java writer is write-only and ours compacts.
        let mut t = WriteTable::existing("db.soak").option("write-only", "true");
        for c in 0..JAVA_COMMITS {
            let rows: Vec<(&str, Value)> = (0..40)
                .map(|i| {
                    let id = 100_000 + (c * 40 + i) % 600;
                    ("+I", json!({"id": id, "src": "java", "n": c * 40 + i}))
                })
                .collect();
            t = t.commit(&rows);
        }
        let took = java_write(&bench, &java_wh, &[t]);
        (bench, took)
    });

    for c in 0..CLI_COMMITS {
        let input = dir.path().join(format!("cli-{c}.json"));
        let lines: Vec<String> = (0..100)
            .map(|i| json!({"id": 200_000 + c * 100 + i, "src": "cli", "n": c}).to_string())
            .collect();
        std::fs::write(&input, lines.join("\n")).unwrap();
        cli_ok(
            &bin,
            &location,
            &["write", "db.soak", "--input", input.to_str().unwrap()],
        );
    }
    let (bench, java_took) = java.join().expect("the Java writer finished");
    let fed_for = feeder.join().expect("the whole stream was fed");
    let out = wait_bounded(follow, Duration::from_secs(120));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "write --follow failed ({}): {stderr}",
        out.status
    );
    eprintln!(
        "follow soak: {STREAMED} streamed lines over {fed_for:?}, {JAVA_COMMITS} Java commits \
         in {java_took:?}, {CLI_COMMITS} CLI commits; write --follow said: {}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Expected: the last version of every key each writer wrote (writers own disjoint keys).
    let mut expected = std::collections::BTreeMap::new();
    for id in 0..STREAMED {
        expected.insert(
            id % 2000,
            json!({"id": id % 2000, "src": "stream", "n": id}),
        );
    }
    for c in 0..JAVA_COMMITS {
        for i in 0..40 {
            let id = 100_000 + (c * 40 + i) % 600;
            expected.insert(id, json!({"id": id, "src": "java", "n": c * 40 + i}));
        }
    }
    for c in 0..CLI_COMMITS {
        for i in 0..100 {
            let id = 200_000 + c * 100 + i;
            expected.insert(id, json!({"id": id, "src": "cli", "n": c}));
        }
    }
    let expected: Vec<Value> = expected.into_values().collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let table = rt.block_on(open_table(&location, "db.soak")).unwrap();
    let ours = rt.block_on(scan_rows(&table, None, None));
    assert_same_rows(&ours, &expected, "our scan after the soak");
    let java = java_read(&bench, &[ReadCase::new("soak", &wh, "db.soak")]);
    assert_same_rows(java.rows("soak"), &expected, "Java's read after the soak");

    let mut ids: Vec<i64> = std::fs::read_dir(wh.join("db.db/soak/snapshot"))
        .unwrap()
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .to_str()?
                .strip_prefix("snapshot-")?
                .parse()
                .ok()
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        (1..=ids.len() as i64).collect::<Vec<_>>(),
        "contiguous snapshot ids"
    );
}

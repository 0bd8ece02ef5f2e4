//! What a user sees: output formats, start positions, consumers, errors, `write --follow`, and
//! stopping with Ctrl-C.

use std::time::Duration;

use serde_json::json;

use super::*;

const SCHEMA: &str = "id BIGINT NOT NULL, v STRING";

fn pk_table(wh: &Wh, producer: &str) {
    let options = format!("--primary-key id --option changelog-producer={producer}");
    wh.create("db.t", SCHEMA, &options);
}

#[test]
fn tail_prints_changes_with_their_kinds_in_every_format() {
    let wh = Wh::new();
    pk_table(&wh, "input");
    wh.write(
        "db.t",
        "json",
        "{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"b\"}\n",
    );
    wh.write("db.t", "json",
        "{\"id\":1,\"v\":\"a\",\"rowkind\":\"-U\"}\n{\"id\":1,\"v\":\"a2\",\"rowkind\":\"+U\"}\n{\"id\":2,\"rowkind\":\"-D\"}\n",
    );
    let all = wh.tail_json("db.t", &["--from", "snapshot:1", "--with-snapshot-id"]);
    assert_eq!(
        all,
        [
            json!({"rowkind": "+I", "snapshot_id": 1, "id": 1, "v": "a"}),
            json!({"rowkind": "+I", "snapshot_id": 1, "id": 2, "v": "b"}),
            json!({"rowkind": "-U", "snapshot_id": 2, "id": 1, "v": "a"}),
            json!({"rowkind": "+U", "snapshot_id": 2, "id": 1, "v": "a2"}),
            json!({"rowkind": "-D", "snapshot_id": 2, "id": 2, "v": null}),
        ]
    );
    // rowkind is the first field of every line.
    let text = wh.ok(&["tail", "db.t", "--from", "snapshot:2", "-o", "json"]);
    assert!(
        text.lines().all(|l| l.starts_with("{\"rowkind\":")),
        "{text}"
    );
    // Default: latest-full, the current rows as +I.
    assert_eq!(
        wh.tail_json("db.t", &[]),
        [json!({"rowkind": "+I", "id": 1, "v": "a2"})]
    );
    let csv = wh.ok(&[
        "tail",
        "db.t",
        "--from",
        "snapshot:2",
        "-o",
        "csv",
        "--columns",
        "v",
    ]);
    assert_eq!(csv, "rowkind,v\n-U,a\n+U,a2\n-D,\n");
    let table = wh.ok(&["tail", "db.t", "--from", "snapshot:1"]);
    assert!(table.contains("snapshot 2 (APPEND): 3 changes"), "{table}");
    assert!(table.contains("| -U      |  1 | a    |"), "{table}");
    assert!(table.ends_with("5 changes in 2 snapshots\n"), "{table}");
    let help = wh.ok(&["tail", "--help"]);
    for needle in [
        "latest-full",
        "snapshot:N",
        "timestamp:T",
        "--consumer",
        "Examples:",
    ] {
        assert!(help.contains(needle), "tail --help lacks {needle}:\n{help}");
    }
}

#[test]
fn a_rowkind_column_of_the_table_keeps_its_name() {
    let wh = Wh::with_table("db.a", "rowkind STRING, n INT", "");
    wh.ok_stdin(
        &["write", "db.a", "--format", "csv"],
        b"rowkind,n\nhello,1\n",
    );
    assert_eq!(
        wh.tail_json("db.a", &["--from", "snapshot:1"]),
        [json!({"_rowkind": "+I", "rowkind": "hello", "n": 1})]
    );
}

#[test]
fn start_positions_and_their_errors() {
    let wh = Wh::new();
    pk_table(&wh, "none");
    for i in 0..3 {
        wh.write("db.t", "json", format!("{{\"id\":{i},\"v\":\"x\"}}\n"));
    }
    // (--from, the ids of the changes)
    let starts: &[(&str, &[i64])] = &[
        ("snapshot:2", &[1, 2]),
        ("latest", &[]),
        ("snapshot:9", &[]),
        ("timestamp:0", &[0, 1, 2]),
        ("timestamp:2999-01-01T00:00:00Z", &[]),
    ];
    for (from, ids) in starts {
        let rows = wh.tail_json("db.t", &["--from", from]);
        let got: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert_eq!(&got, ids, "--from {from}");
    }
    // (exit code, arguments after `tail`, what the error says)
    let errors: &[(i32, &[&str], &str)] = &[
        (
            2,
            &["db.t", "--from", "earliest"],
            "latest-full, latest, snapshot:N or timestamp:T",
        ),
        (1, &["db.nope"], "table db.nope does not exist"),
        (1, &["db.t", "--consumer", "a/b"], "consumer id \"a/b\""),
        (1, &["db.t", "--columns", "nope"], "nope"),
    ];
    for (code, args, needle) in errors {
        let mut command = vec!["tail"];
        command.extend_from_slice(args);
        let e = wh.fails(*code, &command);
        assert!(e.contains(needle), "{args:?}: {e}");
    }
    // Snapshots 1 and 2 expire: starting there is a clear error, not a silent gap.
    let dir = wh.table_dir("db.t").join("snapshot");
    std::fs::remove_file(dir.join("snapshot-1")).unwrap();
    std::fs::remove_file(dir.join("snapshot-2")).unwrap();
    std::fs::write(dir.join("EARLIEST"), "3").unwrap();
    let e = wh.fails(1, &["tail", "db.t", "--from", "snapshot:1"]);
    assert!(
        e.contains("snapshot 1 of table db.t has expired (the earliest snapshot is 3)"),
        "{e}"
    );
}

#[test]
fn a_consumer_continues_where_it_stopped() {
    let wh = Wh::new();
    pk_table(&wh, "none");
    wh.write("db.t", "json", "{\"id\":1,\"v\":\"a\"}\n");
    let first = wh.tail_json("db.t", &["--consumer", "app"]);
    assert_eq!(first, [json!({"rowkind": "+I", "id": 1, "v": "a"})]);
    let consumer = wh.table_dir("db.t").join("consumer").join("consumer-app");
    let recorded: Value = serde_json::from_slice(&std::fs::read(&consumer).unwrap()).unwrap();
    assert_eq!(recorded, json!({"nextSnapshot": 2}));
    assert!(wh.tail_json("db.t", &["--consumer", "app"]).is_empty());
    wh.write("db.t", "json", "{\"id\":1,\"v\":\"b\"}\n");
    assert_eq!(
        wh.tail_json("db.t", &["--consumer", "app"]),
        [json!({"rowkind": "+I", "id": 1, "v": "b"})]
    );
    // --ignore-progress starts over from --from.
    let again = wh.tail_json(
        "db.t",
        &[
            "--consumer",
            "app",
            "--ignore-progress",
            "--from",
            "snapshot:1",
        ],
    );
    assert_eq!(again.len(), 2);
    let e = wh.fails(2, &["tail", "db.t", "--ignore-progress"]);
    assert!(e.contains("--consumer"), "{e}");
}

#[test]
fn write_follow_commits_every_interval_and_on_ctrl_c() {
    let wh = Wh::new();
    pk_table(&wh, "input");
    let mut child = follow_writer(&wh, "50ms");
    let mut stdin = child.stdin();
    writeln!(stdin, "{{\"id\":1,\"v\":\"a\"}}").unwrap();
    stdin.flush().unwrap();
    // One line is committed without waiting for more input.
    wait_for("the first commit", || wh.snapshot_count("db.t") == 1);
    writeln!(
        stdin,
        "{{\"id\":2,\"v\":\"b\"}}\n{{\"id\":1,\"rowkind\":\"-D\"}}"
    )
    .unwrap();
    stdin.flush().unwrap();
    wait_for("the second commit", || wh.snapshot_count("db.t") == 2);
    // Ctrl-C: what was read is committed, the command exits cleanly (stdin still open).
    writeln!(stdin, "{{\"id\":3,\"v\":\"c\"}}").unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    child.signal("INT");
    let (status, printed) = child.finish();
    drop(stdin);
    let stdout = printed.join("\n");
    assert!(status.success(), "{status:?}: {stdout}");
    assert!(
        stdout.contains("wrote 4 rows (3 inserts, 1 delete) to db.t"),
        "{stdout}"
    );
    let rows = json_lines(&wh.ok(&["scan", "db.t", "-o", "json"]));
    assert_eq!(
        rows,
        [json!({"id": 2, "v": "b"}), json!({"id": 3, "v": "c"})]
    );
    // Every input record is a change (changelog-producer = input).
    assert_eq!(wh.tail_json("db.t", &["--from", "snapshot:1"]).len(), 4);
}

#[test]
fn write_follow_commits_the_rows_before_a_bad_line() {
    let wh = Wh::new();
    pk_table(&wh, "none");
    let e = wh.fails_stdin(
        1,
        &["write", "db.t", "--format", "json", "--follow"],
        b"{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"b\"}\n{\"id\":\"x\"}\n{\"id\":4}\n",
    );
    assert!(e.contains("stdin line 3"), "{e}");
    let rows = json_lines(&wh.ok(&["scan", "db.t", "-o", "json"]));
    assert_eq!(rows.len(), 2, "{rows:?}");
    let e = wh.fails_stdin(
        2,
        &["write", "db.t", "--format", "csv", "--follow"],
        b"id,v\n1,a\n",
    );
    assert!(e.contains("--follow reads newline-delimited JSON"), "{e}");
}

#[test]
fn tail_follow_stops_at_a_snapshot_boundary_on_ctrl_c() {
    let wh = Wh::new();
    pk_table(&wh, "none");
    wh.write("db.t", "json", "{\"id\":1,\"v\":\"a\"}\n");
    let mut child = wh.spawn(&[
        "tail",
        "db.t",
        "--follow",
        "--consumer",
        "c",
        "-o",
        "json",
        "--from",
        "latest",
    ]);
    // The consumer is recorded once the tail has its start position.
    let consumer = wh.table_dir("db.t").join("consumer").join("consumer-c");
    wait_for("the tail to start", || consumer.exists());
    wh.write("db.t", "json", "{\"id\":2,\"v\":\"b\"}\n");
    wh.write("db.t", "json", "{\"id\":3,\"v\":\"c\"}\n");
    wait_for("two changes", || child.lines().len() == 2);
    child.signal("INT");
    let (status, lines) = child.finish();
    assert!(status.success(), "{status:?}");
    let recorded: Value = serde_json::from_slice(&std::fs::read(&consumer).unwrap()).unwrap();
    assert_eq!(recorded, json!({"nextSnapshot": 4}));
    assert_eq!(
        json_lines(&lines.join("\n")),
        [
            json!({"rowkind": "+I", "id": 2, "v": "b"}),
            json!({"rowkind": "+I", "id": 3, "v": "c"})
        ]
    );
}

#[test]
fn write_follow_compacts_so_lookup_changelog_reaches_the_tail() {
    let wh = Wh::new();
    pk_table(&wh, "lookup");
    let follow = ["write", "db.t", "--format", "json", "--follow"];
    wh.ok_stdin(&follow, b"{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"b\"}\n");
    assert_eq!(
        wh.tail_json("db.t", &["--from", "snapshot:1"]),
        [
            json!({"rowkind": "+I", "id": 1, "v": "a"}),
            json!({"rowkind": "+I", "id": 2, "v": "b"})
        ]
    );
    let before = wh.snapshot_count("db.t");
    wh.ok_stdin(
        &follow,
        b"{\"id\":1,\"v\":\"a2\"}\n{\"id\":2,\"rowkind\":\"-D\"}\n",
    );
    assert_eq!(
        wh.tail_json("db.t", &["--from", &format!("snapshot:{}", before + 1)]),
        [
            json!({"rowkind": "-U", "id": 1, "v": "a"}),
            json!({"rowkind": "+U", "id": 1, "v": "a2"}),
            json!({"rowkind": "-D", "id": 2, "v": "b"})
        ]
    );
    // Append tables stream too.
    wh.create("db.a", "n INT", "");
    wh.ok_stdin(
        &["write", "db.a", "--format", "json", "--follow"],
        b"{\"n\":1}\n{\"n\":2}\n",
    );
    assert_eq!(wh.tail_json("db.a", &["--from", "snapshot:1"]).len(), 2);
}

//! `--stats`: every command can print what it cost in object-store requests and bytes, by
//! kind, on stderr; stdout stays the same; without the flag nothing is printed.

use crate::harness::Wh;

/// The `--stats` report of a run: (total requests, [(kind, requests)]).
fn parse_stats(stderr: &str) -> Option<(u64, Vec<(String, u64)>)> {
    let mut lines = stderr.lines().skip_while(|l| !l.starts_with("stats: "));
    let head = lines.next()?;
    let total: u64 = head
        .strip_prefix("stats: ")?
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    let mut kinds = vec![];
    for l in lines.take_while(|l| l.starts_with("  ")) {
        // "  conditional PUT         1     1.2 KiB"
        let words: Vec<&str> = l.split_whitespace().collect();
        let pos = words.iter().position(|w| w.parse::<u64>().is_ok())?;
        kinds.push((words[..pos].join(" "), words[pos].parse().ok()?));
    }
    Some((total, kinds))
}

fn requests(kinds: &[(String, u64)], kind: &str) -> u64 {
    kinds
        .iter()
        .find(|(k, _)| k == kind)
        .map(|(_, n)| *n)
        .unwrap_or(0)
}

/// Runs a command with `--stats`; it must succeed (or fail with `expect_code`) and report.
fn stats_of(
    wh: &Wh,
    args: &[&str],
    stdin: &[u8],
    expect_code: i32,
) -> (String, u64, Vec<(String, u64)>) {
    let mut with = vec!["--stats"];
    with.extend_from_slice(args);
    let out = wh.run(&with, stdin);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(expect_code), "{args:?}: {stderr}");
    let (total, kinds) =
        parse_stats(&stderr).unwrap_or_else(|| panic!("{args:?} printed no stats: {stderr}"));
    assert!(total > 0, "{args:?}: {stderr}");
    assert_eq!(
        kinds.iter().map(|(_, n)| n).sum::<u64>(),
        total,
        "{args:?}: the kinds add up to the total: {stderr}"
    );
    (
        String::from_utf8_lossy(&out.stdout).to_string(),
        total,
        kinds,
    )
}

#[test]
fn every_command_reports_its_cost() {
    let wh = Wh::new();
    let t = "shop.orders";
    let (_, _, create) = stats_of(
        &wh,
        &[
            "create",
            t,
            "--schema",
            "id BIGINT, v STRING",
            "--primary-key",
            "id",
        ],
        b"",
        0,
    );
    assert!(requests(&create, "conditional PUT") >= 1, "{create:?}");

    for round in 0..3 {
        let rows: String = (0..20)
            .map(|i| format!("{{\"id\": {i}, \"v\": \"r{round}\"}}\n"))
            .collect();
        let (_, _, write) = stats_of(&wh, &["write", t, "--format", "json"], rows.as_bytes(), 0);
        // The snapshot is the one create-only put; data files and manifests are plain puts.
        assert_eq!(requests(&write, "conditional PUT"), 1, "{write:?}");
        assert!(requests(&write, "PUT") >= 3, "{write:?}");
    }

    let plain = wh.run(&["scan", t, "--output", "json"], b"");
    assert!(plain.status.success());
    let plain_err = String::from_utf8_lossy(&plain.stderr);
    assert!(
        !plain_err.contains("stats:"),
        "no report without --stats: {plain_err}"
    );
    let (stdout, _, scan) = stats_of(&wh, &["scan", t, "--output", "json"], b"", 0);
    assert_eq!(
        stdout.as_bytes(),
        &plain.stdout[..],
        "the report goes to stderr only"
    );
    assert_eq!(stdout.lines().count(), 20);
    let reads = requests(&scan, "GET") + requests(&scan, "ranged GET");
    assert!(reads >= 3, "snapshot, manifests, data: {scan:?}");
    for write_kind in ["PUT", "conditional PUT", "DELETE"] {
        assert_eq!(requests(&scan, write_kind), 0, "a scan writes nothing");
    }

    for args in [
        vec!["snapshots", t],
        vec!["schema", t],
        vec!["files", t],
        vec!["tables"],
        vec!["tail", t, "--from", "snapshot:1", "--output", "json"],
        vec!["get", t, "1"],
        vec!["sql", "SELECT count(*) FROM shop.orders"],
    ] {
        let (_, _, kinds) = stats_of(&wh, &args, b"", 0);
        assert_eq!(requests(&kinds, "conditional PUT"), 0, "{args:?}");
    }

    let (_, _, tag) = stats_of(&wh, &["tag", "create", t, "before-compaction"], b"", 0);
    assert_eq!(requests(&tag, "conditional PUT"), 1, "{tag:?}");

    let (_, _, compact) = stats_of(&wh, &["compact", t, "--full"], b"", 0);
    // A one-shot compaction takes no leases: its one COMPACT snapshot is the only create-only
    // put.
    assert_eq!(
        requests(&compact, "conditional PUT"),
        1,
        "the snapshot: {compact:?}"
    );
    let (_, _, expire) = stats_of(
        &wh,
        &["expire", t, "--retain-min", "1", "--older-than", "0s"],
        b"",
        0,
    );
    assert!(requests(&expire, "DELETE") >= 1, "{expire:?}");
    stats_of(&wh, &["clean-orphans", t, "--older-than", "0s"], b"", 0);

    // A failing command still reports what it cost before failing.
    let (_, _, failed) = stats_of(&wh, &["scan", "shop.missing"], b"", 1);
    assert_eq!(requests(&failed, "PUT"), 0);
}

#[test]
fn stats_work_on_the_in_memory_warehouse_and_with_the_demo() {
    let out = Wh::at("memory://stats-demo").run(&["--stats", "demo"], b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let (total, kinds) = parse_stats(&stderr).expect("a report");
    assert!(total > 10, "{stderr}");
    assert!(requests(&kinds, "conditional PUT") >= 4, "{stderr}");
}

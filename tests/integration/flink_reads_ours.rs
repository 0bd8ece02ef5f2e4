//! Flink 1.20 SQL (Paimon's Flink connector 1.3.1, the JVM bench's `flink` subcommand) batch-reads
//! tables our `TableWriter` and `Compactor` wrote: primary-key (fixed buckets, partitioned),
//! append, partial-update, aggregation, sequence-field and first-row tables (most of them
//! `scenarios`' catalogue, which pypaimon and Paimon's Java reader read too), compacted levels, tags
//! (`scan.tag-name`), time travel (`scan.snapshot-id`), projections, and the `$snapshots`,
//! `$files`, `$options`, `$tags` and `$consumers` system tables; and a lookup join (`FOR
//! SYSTEM_TIME AS OF`) against a table we wrote. One JVM runs every query; Flink's rows must
//! equal our `ScanBuilder`'s (the library's snapshots, files, options, tags and consumers; our
//! get for the join). The same JVM then runs `flink_streams_ours`'s streaming and live reads.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use streamhouse_format::datum::Datum;
use streamhouse_format::io::Table;
use streamhouse_format::snapshot::CommitKind;
use streamhouse_reader::lookup;

use crate::flink_streams_ours::{live_check, live_join_check, stream_checks};
use crate::flink_support::{flink_spawn, hints, FlinkCase, FlinkRun};
use crate::interop_support::{assert_same_rows, sort_rows};
use crate::java_support::{bench_and_warehouse, canonical_rows};
use crate::scenarios::{self, r3};
use crate::support::{
    compact_fully, create_id_table, failure_of, inserts, read_rows, write_commit_in_batches,
};

/// A Flink query and the rows it must give.
struct Check {
    case: FlinkCase,
    expected: Vec<Value>,
}

/// Our merged read at `snapshot` or `tag`, optionally projected.
async fn ours(
    table: &Table,
    snapshot: Option<i64>,
    tag: Option<&str>,
    columns: Option<&[&str]>,
) -> Vec<Value> {
    let columns: Option<Vec<String>> = columns.map(|c| c.iter().map(|c| c.to_string()).collect());
    read_rows(table, snapshot, tag, columns.as_deref()).await
}

/// `SELECT cols FROM table hints` and our rows for it.
async fn read_check(
    name: &str,
    table: &Table,
    snapshot: Option<i64>,
    tag: Option<&str>,
    columns: Option<&[&str]>,
) -> Check {
    let mut options = vec![];
    let id_text;
    if let Some(id) = snapshot {
        id_text = id.to_string();
        options.push(("scan.snapshot-id", id_text.as_str()));
    }
    if let Some(tag) = tag {
        options.push(("scan.tag-name", tag));
    }
    let select = columns.map_or("*".to_string(), |c| {
        c.iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    let hint = if options.is_empty() {
        String::new()
    } else {
        hints(&options)
    };
    let query = format!("SELECT {select} FROM {} {hint}", table.name);
    let expected = ours(table, snapshot, tag, columns).await;
    assert!(!expected.is_empty(), "{name}: we read no rows");
    Check {
        case: FlinkCase::batch(name, &query),
        expected,
    }
}

fn location(warehouse: &Path) -> &str {
    warehouse.to_str().unwrap()
}

/// `NAME_latest` and `NAME_snapshot_K` for each of `snapshots` of `db.NAME`.
async fn push_snapshots(checks: &mut Vec<Check>, table: &Table, snapshots: &[i64]) {
    let short = table.name.trim_start_matches("db.");
    checks.push(read_check(&format!("{short}_latest"), table, None, None, None).await);
    for &id in snapshots {
        let name = format!("{short}_snapshot_{id}");
        checks.push(read_check(&name, table, Some(id), None, None).await);
    }
}

/// PK table, 3 buckets, small write buffer; inserts, -U/+U pairs, bare +U, deletes,
/// delete-then-reinsert; a tag on snapshot 2; a consumer.
async fn pk_fixed(warehouse: &Path, checks: &mut Vec<Check>) -> Table {
    let table = create_id_table(
        location(warehouse),
        "db.pk_fixed",
        "id BIGINT, name STRING, amount DOUBLE, qty INT, price DECIMAL(12, 3), day DATE, ts TIMESTAMP(6)",
        &[("bucket", "3"), ("write-buffer-size", "8 kb")],
    )
    .await;
    let row = |id: i64, name: Option<&str>, v: Option<i64>| {
        json!({
            "id": id, "name": name,
            "amount": v.map(|v| v as f64 * 0.25),
            "qty": v.map(|v| (v % 1000) as i32),
            "price": v.map(|v| format!("{}.{:03}", v, (v * 7).rem_euclid(1000))),
            "day": v.map(|v| format!("2024-{:02}-{:02}", v.rem_euclid(12) + 1, v.rem_euclid(28) + 1)),
            "ts": v.map(|v| format!("2024-03-01T12:{:02}:{:02}.{:06}", v.rem_euclid(60), (v * 7).rem_euclid(60), v.rem_euclid(1_000_000))),
        })
    };
    let c1 = inserts(
        (1..=300)
            .map(|i| row(i, (i % 9 != 0).then_some("first"), Some(i)))
            .collect(),
    );
    let mut c2: Vec<(&str, Value)> = vec![];
    for id in 1..=20 {
        c2.push(("-U", row(id, Some("first"), Some(id))));
        c2.push(("+U", row(id, Some("updated"), Some(-id))));
    }
    for id in 31..=40 {
        c2.push(("-D", row(id, None, None)));
    }
    c2.push(("+I", row(400, Some("new"), None)));
    let c3 = vec![
        ("+I", row(31, Some("re-inserted"), Some(31))),
        ("-D", row(400, None, None)),
        ("+U", row(50, Some("bare +U"), None)),
    ];
    for (i, c) in [c1, c2, c3].iter().enumerate() {
        assert_eq!(write_commit_in_batches(&table, c, 25).await, i as i64 + 1);
    }
    table.create_tag("t2", Some(2), None).await.unwrap();
    table.set_consumer("flink-check", 2).await.unwrap();

    checks.push(read_check("pk_fixed_latest", &table, None, None, None).await);
    checks.push(read_check("pk_fixed_snapshot_1", &table, Some(1), None, None).await);
    checks.push(read_check("pk_fixed_snapshot_2", &table, Some(2), None, None).await);
    checks.push(read_check("pk_fixed_tag_t2", &table, None, Some("t2"), None).await);
    checks.push(
        read_check(
            "pk_fixed_projected",
            &table,
            None,
            None,
            Some(&["qty", "id", "ts"]),
        )
        .await,
    );
    // A filter Flink pushes into the scan: the same rows as our filtered read.
    let all = ours(&table, None, None, None).await;
    let filtered: Vec<Value> = all
        .into_iter()
        .filter(|r| {
            let id = r["id"].as_i64().unwrap();
            (100..=120).contains(&id) || r["name"] == json!("updated")
        })
        .collect();
    checks.push(Check {
        case: FlinkCase::batch(
            "pk_fixed_filtered",
            "SELECT * FROM db.pk_fixed WHERE id BETWEEN 100 AND 120 OR name = 'updated'",
        ),
        expected: filtered,
    });
    table
}

/// The catalogue's tables: partitioned PK, append (unaware and with a bucket key),
/// partial-update, aggregation and sequence field; and a first-row table.
async fn catalogue(warehouse: &Path, checks: &mut Vec<Check>) {
    for (scenario, snapshots) in scenarios::shared() {
        let written = scenario.write(warehouse).await;
        push_snapshots(checks, &written.table, snapshots).await;
        if written.table.name == "db.pk_partitioned" {
            let expected: Vec<Value> = ours(&written.table, None, None, None)
                .await
                .into_iter()
                .filter(|r| r["dt"] == json!("2024-01-01"))
                .collect();
            checks.push(Check {
                case: FlinkCase::batch(
                    "pk_partitioned_one_partition",
                    "SELECT * FROM db.pk_partitioned WHERE dt = '2024-01-01'",
                ),
                expected,
            });
        }
    }

    let table = create_id_table(
        location(warehouse),
        "db.first_row",
        "id BIGINT, v STRING",
        &[("bucket", "2"), ("merge-engine", "first-row")],
    )
    .await;
    for (ids, v) in [(0..40, "first"), (20..60, "second")] {
        let rows = ids.map(|i| json!({"id": i, "v": v})).collect();
        write_commit_in_batches(&table, &inserts(rows), 1000).await;
    }
    // Paimon's batch read of a first-row table skips level 0 (it reads what compaction made):
    // compact first so both readers see every key.
    compact_fully(&table).await;
    checks.push(read_check("first_row_latest", &table, None, None, None).await);
}

/// The catalogue's three commits and a full compaction (every level-0 file rewritten above
/// level 0), a tag on the compacted snapshot.
async fn compacted(warehouse: &Path, checks: &mut Vec<Check>) -> Table {
    let table = scenarios::to_compact().write(warehouse).await.table;
    compact_fully(&table).await;
    let latest = table.latest_snapshot_id().await.unwrap().unwrap();
    assert_eq!(
        table.snapshot(latest).await.unwrap().commit_kind,
        CommitKind::Compact
    );
    table
        .create_tag("after_compaction", None, None)
        .await
        .unwrap();
    push_snapshots(checks, &table, &[3, 1]).await;
    let tag = Some("after_compaction");
    checks.push(read_check("compacted_tag", &table, None, tag, None).await);
    table
}

/// A Flink lookup join (`FOR SYSTEM_TIME AS OF` a processing-time attribute, streaming mode,
/// a bounded probe of keys 0..=120) against a dimension table we wrote in four commits (updates,
/// deletes, a compaction in between, and a last level-0 commit on top): each probe key finds
/// the row our get finds at the latest snapshot, or nothing (LEFT JOIN: nulls).
async fn lookup_join(warehouse: &Path, checks: &mut Vec<Check>) {
    let table = create_id_table(
        location(warehouse),
        "db.dim",
        "id BIGINT NOT NULL, v STRING, n BIGINT",
        &[("bucket", "2")],
    )
    .await;
    let commits = [
        inserts((0..100).map(|i| r3(i, Some("v1"), Some(i))).collect()),
        (0..100)
            .step_by(5)
            .map(|i| ("+U", r3(i, Some("v2"), Some(-i))))
            .chain((0..100).step_by(7).map(|i| ("-D", r3(i, None, None))))
            .collect::<Vec<_>>(),
    ];
    for c in &commits {
        write_commit_in_batches(&table, c, 1000).await;
    }
    compact_fully(&table).await;
    write_commit_in_batches(
        &table,
        &[
            ("+I", r3(7, Some("back"), Some(7))),
            ("+I", r3(110, Some("new"), Some(110))),
            ("-D", r3(1, None, None)),
        ],
        1000,
    )
    .await;
    let probe: Vec<i64> = (0..=120).collect();
    let keys: Vec<Vec<Datum>> = probe.iter().map(|k| vec![Datum::BigInt(*k)]).collect();
    let found = lookup::get(&table, &keys, None).await.unwrap();
    let rows = canonical_rows(std::slice::from_ref(&found.rows), &found.rows.schema());
    let expected: Vec<Value> = probe
        .iter()
        .zip(&found.positions)
        .map(|(k, at)| match at {
            // `canonical_rows` sorts: find the key's row by its id.
            Some(_) => {
                let r = rows.iter().find(|r| r["id"] == json!(k)).unwrap();
                json!({"k": k, "id": r["id"], "v": r["v"], "n": r["n"]})
            }
            None => json!({"k": k, "id": null, "v": null, "n": null}),
        })
        .collect();
    let values: Vec<String> = probe
        .iter()
        .map(|k| format!("(CAST({k} AS BIGINT))"))
        .collect();
    let query = format!(
        "SELECT p.k, d.id, d.v, d.n FROM \
         (SELECT k, PROCTIME() AS pt FROM (VALUES {}) AS t(k)) AS p \
         LEFT JOIN db.dim FOR SYSTEM_TIME AS OF p.pt AS d ON p.k = d.id",
        values.join(", ")
    );
    checks.push(Check {
        case: FlinkCase::streaming("lookup_join_dim", &query)
            .without_row_kind()
            .min_rows(probe.len() as u64)
            .timeout(Duration::from_secs(120)),
        expected,
    });
}

/// `$snapshots`, `$files`, `$options`, `$tags`, `$consumers` of `table` against the library.
async fn system_tables(table: &Table, checks: &mut Vec<Check>) {
    let mut snapshots = vec![];
    for id in table.list_snapshot_ids().await.unwrap() {
        let s = table.snapshot(id).await.unwrap();
        snapshots.push(json!({
            "snapshot_id": s.id,
            "schema_id": s.schema_id,
            "commit_user": s.commit_user,
            "commit_identifier": s.commit_identifier,
            "commit_kind": s.commit_kind.to_string(),
            "total_record_count": s.total_record_count,
            "delta_record_count": s.delta_record_count,
            "changelog_record_count": s.changelog_record_count,
        }));
    }
    let latest = table.snapshot_or_latest(None).await.unwrap().unwrap();
    let files = table.all_live_files(&latest).await.unwrap();
    let files = files.iter().map(|e| {
        json!({
            "file": e.file.file_name,
            "bucket": e.bucket,
            "level": e.file.level,
            "record_count": e.file.row_count,
            "file_size_in_bytes": e.file.file_size,
            "min_sequence_number": e.file.min_sequence_number,
            "max_sequence_number": e.file.max_sequence_number,
        })
    });
    let options = (table.schema.options.iter()).map(|(k, v)| json!({"key": k, "value": v}));
    let tags = table.list_tags().await.unwrap();
    let tags = tags.iter().map(|t| {
        json!({
            "tag_name": t.name,
            "snapshot_id": t.snapshot.id,
            "schema_id": t.snapshot.schema_id,
            "record_count": t.snapshot.total_record_count,
        })
    });
    let consumers = table.consumers().await.unwrap();
    let consumers =
        (consumers.iter()).map(|(id, next)| json!({"consumer_id": id, "next_snapshot_id": next}));

    let short = table.name.trim_start_matches("db.");
    for (what, columns, expected) in [
        (
            "snapshots",
            "snapshot_id, schema_id, commit_user, commit_identifier, commit_kind, \
             total_record_count, delta_record_count, changelog_record_count",
            snapshots,
        ),
        (
            "files",
            "REGEXP_EXTRACT(file_path, '[^/]+$', 0) AS file, bucket, level, record_count, \
             file_size_in_bytes, min_sequence_number, max_sequence_number",
            files.collect(),
        ),
        ("options", "`key`, `value`", options.collect()),
        (
            "tags",
            "tag_name, snapshot_id, schema_id, record_count",
            tags.collect(),
        ),
        (
            "consumers",
            "consumer_id, next_snapshot_id",
            consumers.collect(),
        ),
    ] {
        let query = format!("SELECT {columns} FROM db.`{short}${what}`");
        checks.push(Check {
            case: FlinkCase::batch(&format!("{short}_sys_{what}"), &query),
            expected,
        });
    }
}

/// Compares every check; returns the failures.
fn verify(checks: &[Check], flink: &FlinkRun) -> Vec<String> {
    let mut failures = vec![];
    for check in checks {
        let name = &check.case.name;
        let outcome = match flink.result(name) {
            Ok(rows) => failure_of(|| {
                let what = format!("{name}: Flink vs ours");
                assert_same_rows(&sort_rows(rows.clone()), &check.expected, &what)
            }),
            Err(error) => Some(format!("{name}: Flink failed:\n{error}")),
        };
        match outcome {
            None => eprintln!("ok      {name} ({} rows)", check.expected.len()),
            Some(f) => {
                eprintln!("FAILED  {name}");
                failures.push(f);
            }
        }
    }
    failures
}

/// Every "Flink reads ours" case in ONE JVM: the batch reads, system tables and lookup join
/// here, then `flink_streams_ours`'s streaming reads per changelog producer, its live read and
/// its live lookup join (the last two while we commit).
#[tokio::test]
async fn flink_reads_our_tables_batch_streaming_and_live() {
    let Some((bench, dir)) = bench_and_warehouse() else {
        return;
    };
    let warehouse = dir.path();
    let mut checks = vec![];
    let pk = pk_fixed(warehouse, &mut checks).await;
    catalogue(warehouse, &mut checks).await;
    let compacted = compacted(warehouse, &mut checks).await;
    lookup_join(warehouse, &mut checks).await;
    system_tables(&pk, &mut checks).await;
    system_tables(&compacted, &mut checks).await;
    let streams = stream_checks(warehouse).await;
    let mut live = live_check(warehouse).await;
    let mut live_join = live_join_check(warehouse).await;

    let mut cases: Vec<FlinkCase> = checks.iter().map(|c| c.case.clone()).collect();
    cases.extend(streams.cases.iter().cloned());
    cases.push(live.case.clone());
    cases.push(live_join.case.clone());
    let mut process = flink_spawn(&bench, warehouse, &cases);
    live.commit_while_flink_reads(&mut process).await;
    live_join.commit_while_flink_joins(&mut process).await;
    let flink = process.finish();
    eprintln!(
        "Flink ran {} queries (batch reads, system tables, a lookup join), {} streaming reads, a live read and a live lookup join in one JVM in {:.1}s:\n{}",
        checks.len(),
        streams.cases.len(),
        flink.elapsed.as_secs_f64(),
        flink.stderr.trim_end()
    );
    let mut failures = verify(&checks, &flink);
    failures.extend(streams.verify(&flink));
    failures.extend(live.verify(&flink));
    failures.extend(live_join.verify(&flink).await);
    assert!(
        failures.is_empty(),
        "{} checks failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

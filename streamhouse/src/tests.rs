//! The API end to end on `memory://` warehouses (one name per test).

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, Int64Array, RecordBatch, StringArray};

use crate::*;

fn catalog(name: &str) -> Catalog {
    Catalog::open(
        &format!("memory://api-{name}"),
        Vec::<(String, String)>::new(),
    )
    .unwrap()
}

fn id(s: &str) -> Identifier {
    Identifier::parse(s).unwrap()
}

async fn orders(c: &Catalog, options: &[(&str, &str)]) -> Table {
    pk_table(c, "shop.orders", "id BIGINT NOT NULL, item STRING", options).await
}

/// Creates table `name` of `columns` keyed by `id`, with `options`.
async fn pk_table(c: &Catalog, name: &str, columns: &str, options: &[(&str, &str)]) -> Table {
    let mut spec = TableSpec::parse(columns).unwrap().primary_key(["id"]);
    for (k, v) in options {
        spec = spec.option(*k, *v);
    }
    c.create_table(&id(name), spec, false)
        .await
        .unwrap()
        .into_table()
}

fn batch(t: &Table, ids: &[i64], item: &str) -> RecordBatch {
    let items: Vec<String> = ids.iter().map(|i| format!("{item}{i}")).collect();
    RecordBatch::try_new(
        t.arrow_schema(),
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(items)),
        ],
    )
    .unwrap()
}

async fn write(t: &Table, ids: &[i64], item: &str) -> Commit {
    let mut w = t.writer().await.unwrap();
    w.write(&batch(t, ids, item)).await.unwrap();
    let c = w.commit().await.unwrap();
    w.close().await.unwrap();
    c
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

#[tokio::test]
async fn catalog_lists_creates_and_drops() {
    let c = catalog("catalog");
    assert!(c.all_tables().await.unwrap().is_empty());
    let t = orders(&c, &[]).await;
    assert_eq!(t.name(), "shop.orders");
    assert_eq!(t.options().bucket, 1, "a primary-key table gets one bucket");
    let spec = TableSpec::parse("x INT").unwrap();
    let log = c.create_table(&id("shop.log"), spec.clone(), false).await;
    assert_eq!(log.unwrap().table().options().bucket, -1);
    assert_eq!(c.databases().await.unwrap(), vec!["shop".to_string()]);
    assert_eq!(c.tables("shop").await.unwrap().len(), 2);
    assert!(c.tables("other").await.unwrap().is_empty());

    let again = c.create_table(&id("shop.log"), spec.clone(), false).await;
    assert!(matches!(again, Err(Error::AlreadyExists(_))));
    let kept = c.create_table(&id("shop.log"), spec, true).await.unwrap();
    assert!(matches!(kept, CreateOutcome::AlreadyExisted(_)));

    assert!(c.drop_table(&id("shop.log")).await.unwrap() > 0);
    match c.table(&id("shop.log")).await {
        Err(Error::NotFound(m)) => {
            assert!(m.contains("table shop.log does not exist"), "{m}");
            assert!(m.contains("create"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn create_refuses_orc_and_avro_file_formats() {
    let c = catalog("formats");
    for format in ["orc", "avro", "ORC"] {
        let spec = TableSpec::parse("x INT")
            .unwrap()
            .option("file.format", format);
        match c.create_table(&id("shop.f"), spec, false).await {
            Err(Error::Unsupported(m)) => assert!(m.contains(format), "{m}"),
            other => panic!("{format}: {other:?}"),
        }
    }
    assert!(c.all_tables().await.unwrap().is_empty());
    let spec = TableSpec::parse("x INT")
        .unwrap()
        .option("file.format", "parquet");
    c.create_table(&id("shop.f"), spec, false).await.unwrap();
}

#[tokio::test]
async fn write_scan_get_and_time_travel() {
    let c = catalog("rw");
    let t = orders(&c, &[]).await;
    assert_eq!(write(&t, &[1, 2, 3], "a").await.snapshot_ids[0], 1);
    write(&t, &[2], "b").await;

    let all = t.scan().collect().await.unwrap();
    assert_eq!(rows(&all), 3);
    let some = t.scan().filter("id >= 2").columns(["item"]).collect().await;
    let some = some.unwrap();
    assert_eq!(rows(&some), 2);
    assert_eq!(some[0].num_columns(), 1);
    assert_eq!(rows(&t.scan().limit(2).collect().await.unwrap()), 2);
    assert_eq!(rows(&t.scan().snapshot(1).collect().await.unwrap()), 3);
    match t.scan().snapshot(99).plan().await {
        Err(Error::NotFound(m)) => assert!(m.contains("snapshot 99 of table shop.orders"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("snapshot 99 exists?"),
    }
    use crate::predicate::{CmpOp, Expr, Literal};
    let expr = Expr::compare("id", CmpOp::Ge, Literal::Value(Datum::BigInt(2)));
    assert_eq!(
        rows(&t.scan().filter_expr(expr).collect().await.unwrap()),
        2
    );
    assert!(t.scan().columns(["nope"]).output_schema().is_err());
    assert!(t.scan().filter("id >>> 1").output_schema().is_err());

    let row = t.get(&[Datum::BigInt(2)]).await.unwrap().unwrap();
    let items = row
        .column(1)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(items.value(0), "b2");
    let many = t
        .get_many(&[vec![Datum::BigInt(1)], vec![Datum::BigInt(7)]])
        .await
        .unwrap();
    assert_eq!(many.positions.len(), 2);
    assert!(many.found(0) && !many.found(1));
    let old = t.lookup(Some(1)).await.unwrap();
    assert_eq!(old.snapshot_id(), Some(1));
}

#[tokio::test]
async fn tail_with_consumer_resumes() {
    let c = catalog("tail");
    let t = orders(&c, &[]).await;
    write(&t, &[1, 2], "a").await;
    let mut changes = 0;
    let mut tail = t.tail().consumer("app").open().await.unwrap();
    while let Some(e) = tail.next().await.unwrap() {
        if let TailEvent::Changes(b) = e {
            changes += b.num_rows();
        }
    }
    tail.checkpoint().await.unwrap();
    assert_eq!(changes, 2);
    write(&t, &[3], "a").await;
    let mut tail = t.tail().consumer("app").open().await.unwrap();
    let mut kinds = vec![];
    while let Some(e) = tail.next().await.unwrap() {
        if let TailEvent::Changes(b) = e {
            kinds.extend((0..b.num_rows()).map(|i| b.kind(i)));
        }
    }
    assert_eq!(kinds, vec![RowKind::Insert]);

    use futures::TryStreamExt;
    let from_two = t
        .tail()
        .from(StartPosition::FromSnapshot(2))
        .changes()
        .await;
    let batches: Vec<ChangeBatch> = from_two.unwrap().try_collect().await.unwrap();
    assert_eq!(batches.iter().map(ChangeBatch::num_rows).sum::<usize>(), 1);
    assert_eq!(batches[0].snapshot_id, 2);
}

#[tokio::test]
async fn compaction_policy_and_maintenance() {
    let c = catalog("maintain");
    let t = orders(&c, &[("num-sorted-run.compaction-trigger", "2")]).await;
    assert_eq!(CompactionPolicy::of(&t), CompactionPolicy::AfterCommit);
    write(&t, &[1], "a").await;
    let second = write(&t, &[2], "a").await;
    write(&t, &[3], "a").await;
    let compacted = t
        .snapshots()
        .await
        .unwrap()
        .iter()
        .any(|s| s.commit_kind == CommitKind::Compact);
    assert!(compacted, "in-writer compaction ran ({second:?})");

    let report = t.compact().full(true).run_once().await.unwrap();
    let committed: std::collections::BTreeSet<i64> =
        report.compacted.iter().map(|s| s.snapshot_id).collect();
    assert!(committed.len() <= 1, "one atomic commit");
    assert_eq!(rows(&t.scan().collect().await.unwrap()), 3);
    let latest = t.latest_snapshot_id().await.unwrap().unwrap();
    let files = t.files(latest).await.unwrap();
    assert!(!files.is_empty() && files.iter().all(|f| f.partition == "-"));
    assert_eq!(t.totals(latest).await.unwrap().files, files.len() as u64);

    let tag = t.create_tag("v1", None, None).await.unwrap();
    assert_eq!(tag.snapshot.id, latest);
    assert_eq!(t.tags().await.unwrap().len(), 1);
    assert_eq!(rows(&t.scan().tag("v1").collect().await.unwrap()), 3);
    t.delete_tag("v1").await.unwrap();

    let expire = t.expire().unwrap().retain_min(1).older_than(Duration::ZERO);
    let r = expire.run().await.unwrap();
    assert!(!r.expired.is_empty());
    assert_eq!(rows(&t.scan().collect().await.unwrap()), 3);
    let orphans = t.clean_orphans(Duration::ZERO, true).await.unwrap();
    assert!(orphans.deleted.is_empty(), "{:?}", orphans.deleted);

    let write_only = [("write-only", "true")];
    let wo = pk_table(&c, "shop.wo", "id BIGINT NOT NULL", &write_only).await;
    assert_eq!(CompactionPolicy::of(&wo), CompactionPolicy::WriteOnly);
    let log = TableSpec::parse("x INT").unwrap();
    let log = c.create_table(&id("shop.log"), log, false).await.unwrap();
    assert_eq!(
        CompactionPolicy::of(log.table()),
        CompactionPolicy::WriteOnly
    );
}

/// The commit and close of one write report the COMPACT snapshots in-writer compaction made.
#[tokio::test]
async fn writers_report_compaction_snapshots() {
    let c = catalog("compacting");
    let t = orders(&c, &[("num-sorted-run.compaction-trigger", "2")]).await;
    let mut made = vec![];
    for i in 0..3 {
        let mut w = t.writer().await.unwrap();
        w.write(&batch(&t, &[i], "a")).await.unwrap();
        let commit = w.commit().await.unwrap();
        assert_eq!(commit.snapshot_ids.len(), 1);
        assert!(commit.compaction_failure.is_none());
        made.extend(commit.compaction_snapshot_ids);
        made.extend(w.close().await.unwrap().snapshot_ids);
    }
    assert!(!made.is_empty());
    for id in made {
        assert_eq!(
            t.snapshot(id).await.unwrap().commit_kind,
            CommitKind::Compact
        );
    }

    // A lookup-changelog table compacts level 0 before the commit returns.
    let lookup = [("changelog-producer", "lookup")];
    let t = pk_table(&c, "shop.lookup", "id BIGINT NOT NULL, v STRING", &lookup).await;
    let mut w = t.writer().await.unwrap();
    w.write(&batch(&t, &[1, 2], "x")).await.unwrap();
    let commit = w.commit().await.unwrap();
    assert!(!commit.compaction_snapshot_ids.is_empty(), "{commit:?}");
    assert!(w.close().await.unwrap().snapshot_ids.is_empty());
}

#[tokio::test]
async fn partitions_and_metering() {
    let c = Catalog::builder("memory://api-metered")
        .metered(true)
        .open()
        .unwrap();
    let spec = TableSpec::parse("dt STRING NOT NULL, id BIGINT NOT NULL")
        .unwrap()
        .primary_key(["dt", "id"])
        .partition_by(["dt"]);
    let t = c.create_table(&id("db.p"), spec, false).await.unwrap();
    let t = t.into_table();
    assert!(t.partition_row("dt=2024-01-01").is_ok());
    assert!(t.partition_row("nope=1").is_err());
    assert!(t.compact().partition("nope=1").is_err());
    let requests = c.request_metrics().unwrap().total_requests();
    assert!(requests > 0);
    let plain = catalog("plain");
    assert!(plain.request_metrics().is_none());
}

#[test]
fn storage_options_are_checked() {
    let e = Catalog::open("memory://api-opts", [("aws_region", "x")]).unwrap_err();
    assert!(e.to_string().contains("aws_region"), "{e}");
    let e = Catalog::open("s3://bucket/p", [("no_such_option", "x")]).unwrap_err();
    assert!(e.to_string().contains("no_such_option"), "{e}");
    let ok = Catalog::builder("s3://bucket/p")
        .option("aws_endpoint", "http://localhost:1")
        .option("aws_allow_http", "true")
        .open();
    assert!(ok.is_ok());
}

#[tokio::test]
async fn local_paths_and_file_urls_are_one_warehouse() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wh");
    let path = path.to_str().unwrap();
    let local = Catalog::builder(path).open().unwrap();
    orders(&local, &[]).await;
    let url = Catalog::builder(format!("file://{path}")).open().unwrap();
    let t = url.table(&id("shop.orders")).await.unwrap();
    assert_eq!(t.warehouse_url(), format!("file://{path}"));
    assert_eq!(url.all_tables().await.unwrap(), vec![id("shop.orders")]);
    let bad = Catalog::builder("ftp://x/y").open().unwrap_err();
    assert!(
        bad.to_string().contains("unsupported warehouse URL"),
        "{bad}"
    );
}

#[tokio::test]
async fn deletes_by_key_keys_and_row_kind_columns() {
    let c = catalog("rows");
    let t = orders(&c, &[]).await;
    write(&t, &[1, 2, 3], "x").await;
    let key = |ids: Vec<i64>| {
        let schema = arrow::datatypes::Schema::new(vec![arrow::datatypes::Field::new(
            "id",
            arrow::datatypes::DataType::Int64,
            true,
        )]);
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(Int64Array::from(ids))]).unwrap()
    };
    let mut w = t.writer().await.unwrap();
    w.delete(&key(vec![2])).await.unwrap();
    w.commit().await.unwrap();
    w.close().await.unwrap();
    assert_eq!(rows(&t.scan().collect().await.unwrap()), 2);
    assert!(t.get(&[Datum::BigInt(2)]).await.unwrap().is_none());
    assert_eq!(
        t.key_rows(&key(vec![3, 1]), "keys").unwrap(),
        vec![vec![Datum::BigInt(3)], vec![Datum::BigInt(1)]]
    );
    // A NULL key, a column that is not the key: input errors naming the column.
    let nulls = RecordBatch::try_new(
        key(vec![]).schema(),
        vec![Arc::new(Int64Array::from(vec![Some(1), None]))],
    )
    .unwrap();
    let e = t.key_rows(&nulls, "keys").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("row 2, column id"), "{e}");
    let items = batch(&t, &[1], "x");
    let e = t.delete_rows(&items, "keys").unwrap_err();
    assert!(
        e.to_string()
            .contains("\"item\" is not a primary-key column"),
        "{e}"
    );
    // `rowkind`: split off and parsed; a bad kind names its row.
    let kinds = Arc::new(StringArray::from(vec![Some("-D"), None]));
    let mut cols = batch(&t, &[1, 4], "y").columns().to_vec();
    cols.push(kinds);
    let mut fields = t.arrow_schema().fields().to_vec();
    fields.push(Arc::new(arrow::datatypes::Field::new(
        "rowkind",
        arrow::datatypes::DataType::Utf8,
        true,
    )));
    let with_kinds =
        RecordBatch::try_new(Arc::new(arrow::datatypes::Schema::new(fields)), cols).unwrap();
    let (rest, kinds) = t.split_row_kinds(&with_kinds, "in").unwrap();
    assert_eq!(rest.num_columns(), 2);
    assert_eq!(kinds, Some(vec![RowKind::Delete, RowKind::Insert]));
    let bad = with_kinds
        .clone()
        .with_schema(with_kinds.schema())
        .and_then(|b| {
            let mut cols = b.columns().to_vec();
            cols[2] = Arc::new(StringArray::from(vec!["+I", "X"]));
            RecordBatch::try_new(b.schema(), cols)
        })
        .unwrap();
    let e = t.split_row_kinds(&bad, "in").unwrap_err();
    assert!(e.to_string().contains("row 2, column rowkind"), "{e}");
}

//! Cross-partition tables: a primary key without the partition columns (`bucket = -1`), as
//! Java's engines write them. A key lives in one partition at a time; moving it writes a `-D` in
//! the old partition and a `+I` in the new one. Creating such a table is refused here (Java keeps
//! a global index to write them), so the test writes the same files through a fixed-bucket
//! table keyed `(dt, id)` — whose data files have the same `_KEY_id` column — and then gives the
//! table the schema Java gives it: primary key `id`, `bucket = -1`. Our scan, our GET of every
//! key, pypaimon and Paimon's Java reader must all give the model's rows.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};
use streamhouse_format::datum::Datum;
use streamhouse_reader::lookup;

use crate::interop_support::{arrow_rows_canonical, assert_same_rows, pypaimon_read, table_dir};
use crate::java_support::{java_bench, java_read, ReadCase};
use crate::support::{create_dt_table, open_table, scan_rows, write_commit};

fn row(dt: &str, id: i64, v: &str) -> Value {
    json!({"dt": dt, "id": id, "v": v})
}

/// Rewrites the latest schema file as Java's cross-partition table has it.
fn make_cross_partition(table_path: &Path) {
    let path = table_path.join("schema").join("schema-0");
    let mut schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    schema["primaryKeys"] = json!(["id"]);
    schema["options"]["bucket"] = json!("-1");
    std::fs::write(&path, serde_json::to_vec(&schema).unwrap()).unwrap();
}

#[tokio::test]
async fn get_finds_a_key_in_whichever_partition_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path();
    let location = warehouse.to_str().unwrap();
    let table = create_dt_table(
        location,
        "db.cp",
        "dt STRING, id BIGINT, v STRING",
        &[("bucket", "2")],
    )
    .await;
    let mut model: BTreeMap<i64, Value> = BTreeMap::new();
    // 1: keys 1..=12 in partition a.
    let first: Vec<(&str, Value)> = (1..=12).map(|id| ("+I", row("a", id, "first"))).collect();
    for (_, r) in &first {
        model.insert(r["id"].as_i64().unwrap(), r.clone());
    }
    write_commit(&table, &first).await;
    // 2: keys 1..=4 move to b, 5 is updated in a, 6 deleted, 13 inserted into c.
    let mut second = vec![];
    for id in 1..=4 {
        second.push(("-D", row("a", id, "first")));
        second.push(("+I", row("b", id, "moved")));
        model.insert(id, row("b", id, "moved"));
    }
    second.push(("+I", row("a", 5, "updated")));
    model.insert(5, row("a", 5, "updated"));
    second.push(("-D", row("a", 6, "first")));
    model.remove(&6);
    second.push(("+I", row("c", 13, "new")));
    model.insert(13, row("c", 13, "new"));
    write_commit(&table, &second).await;
    // 3: key 2 moves on to c, key 3 back to a.
    let third = vec![
        ("-D", row("b", 2, "moved")),
        ("+I", row("c", 2, "moved again")),
        ("-D", row("b", 3, "moved")),
        ("+I", row("a", 3, "back")),
    ];
    model.insert(2, row("c", 2, "moved again"));
    model.insert(3, row("a", 3, "back"));
    write_commit(&table, &third).await;

    let path = table_dir(warehouse, "db", "cp");
    make_cross_partition(&path);
    let table = open_table(location, "db.cp").await.unwrap();
    assert_eq!(table.schema.primary_keys, vec!["id".to_string()]);
    let expected: Vec<Value> = model.values().cloned().collect();

    assert_same_rows(&scan_rows(&table, None, None).await, &expected, "our scan");

    // Every key, present, deleted or never written, through one lookup each.
    let keys: Vec<Vec<Datum>> = (0..=15).map(|id| vec![Datum::BigInt(id)]).collect();
    let found = lookup::get(&table, &keys, None).await.unwrap();
    for (i, key) in (0..=15i64).enumerate() {
        let got = found
            .row(i)
            .map(|b| arrow_rows_canonical(std::slice::from_ref(&b), &b.schema())[0].clone());
        assert_eq!(got.as_ref(), model.get(&key), "get id = {key}");
    }

    // The CLI's get: a key is given without its partition.
    if let Some(bin) = crate::procs::cli_binary() {
        let args = ["get", "db.cp", "2", "6", "--output", "json"];
        let lines: Vec<Value> = crate::procs::cli_ok(&bin, location, &args)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0]["found"], json!(true), "{lines:?}");
        assert_eq!(lines[0]["row"]["dt"], json!("c"), "{lines:?}");
        assert_eq!(lines[0]["row"]["v"], json!("moved again"), "{lines:?}");
        assert_eq!(lines[1]["found"], json!(false), "{lines:?}");
    }
    if crate::interop_support::python().is_some() {
        assert_same_rows(&pypaimon_read(&path, None), &expected, "pypaimon");
    }
    if let Some(bench) = java_bench() {
        let java = java_read(&bench, &[ReadCase::new("cp", warehouse, "db.cp")]);
        assert_same_rows(java.rows("cp"), &expected, "Paimon's Java reader");
    }
}

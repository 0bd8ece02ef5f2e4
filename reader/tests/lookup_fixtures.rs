//! Lookups on the Java-written golden tables of `shared/fixtures/java-paimon` (read in place):
//! for every primary-key table with Parquet data and Avro manifests, every key a scan returns
//! and every key stored in any live data file — including level-0 keys that deletion-vector
//! and first-row tables hide, and rows their deletion vectors remove — `get` must answer
//! exactly what the scan says. Java's files have levels 0, 4, 5 (and others), deletion
//! vectors, partitions and bucket keys other than the primary key.

use crate::lookup_support;

use std::path::{Path, PathBuf};

use streamhouse_format::io::{open_warehouse, Table};
use streamhouse_reader::lookup::{LookupHandle, LookupOptions};
use streamhouse_reader::ScanBuilder;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/java-paimon")
}

/// (fixture name, table path inside it) of Parquet-data, Avro-manifest fixtures.
fn candidates(dir: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.join("index.json")).expect("index.json");
    let index: serde_json::Value = serde_json::from_str(&text).expect("index.json parses");
    let mut out = vec![];
    for (name, v) in index.as_object().expect("index object") {
        let strings = |key: &str| -> Vec<String> {
            v["writer"][key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_lowercase))
                        .collect()
                })
                .unwrap_or_default()
        };
        let data = strings("data_files");
        let manifests = strings("manifest_format");
        let parquet = !data.is_empty() && data.iter().all(|d| d.contains("parquet"));
        let avro = manifests.iter().all(|m| m == "avro");
        if parquet && avro {
            let path = v["table_path"].as_str().unwrap_or_default().to_string();
            out.push((name.clone(), path));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_on_java_tables_equal_their_scans() {
    let dir = fixtures_dir();
    if !dir.join("index.json").exists() {
        eprintln!("NOTE: {} is absent; fixture lookups skipped", dir.display());
        return;
    }
    let only = std::env::var("FIXTURE").ok();
    let mut checked = vec![];
    let mut with_dv = 0;
    for (name, table_path) in candidates(&dir) {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let root = dir.join(&name);
        let (io, _) = open_warehouse(root.to_str().unwrap()).unwrap();
        let rel = table_path
            .strip_prefix(&format!("{name}/"))
            .unwrap_or(&table_path);
        let Ok(table) = Table::open(io, object_store::path::Path::from(rel), name.clone()).await
        else {
            continue;
        };
        if !table.is_primary_key_table() {
            continue;
        }
        // Fixtures the scan cannot read (documented gaps) are not lookup tests.
        if let Err(e) = ScanBuilder::new(&table).to_batches().await {
            eprintln!("{name}: scan fails ({e}); lookup not checked");
            continue;
        }
        let handle = match LookupHandle::open(&table, LookupOptions::default()).await {
            Ok(h) => h,
            Err(e) => panic!("{name}: the scan reads it but lookups cannot open it: {e}"),
        };
        let mut keys = lookup_support::stored_keys(&table, &root).await;
        keys.sort_by_key(|k| format!("{k:?}"));
        keys.dedup();
        let stored = keys.len();
        let found = lookup_support::check_against_scan(&table, &handle, &keys, None).await;
        if table.options.deletion_vectors {
            with_dv += 1;
        }
        eprintln!(
            "{name}: {stored} stored keys, {found} found by get (= scan); {:?}",
            handle.counters()
        );
        checked.push(name);
    }
    if only.is_none() {
        assert!(checked.len() >= 5, "only {checked:?} were checked");
        assert!(with_dv >= 3, "deletion-vector tables checked: {with_dv}");
    }
}

//! Lookups on the Java-written golden tables of `shared/fixtures/java-paimon` (read in place):
//! for every primary-key table with Parquet data and Avro manifests, every key a scan returns
//! and every key stored in any live data file — including level-0 keys that deletion-vector
//! and first-row tables hide, and rows their deletion vectors remove — `get` must answer
//! exactly what the scan says. Java's files have levels 0, 4, 5 (and others), deletion
//! vectors, partitions and bucket keys other than the primary key.

use crate::lookup_support;

use crate::java_fixtures::{fixtures, load_index, open_fixture};
use streamhouse_reader::lookup::{LookupHandle, LookupOptions};
use streamhouse_reader::ScanBuilder;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_on_java_tables_equal_their_scans() {
    let Some(dir) = fixtures() else { return };
    let only = std::env::var("FIXTURE").ok();
    let mut checked = vec![];
    let mut with_dv = 0;
    for f in load_index(&dir) {
        let parquet =
            !f.data_files.is_empty() && f.data_files.iter().all(|d| d.contains("parquet"));
        let avro = f.manifest_formats.iter().all(|m| m == "avro");
        let name = f.name.clone();
        if !parquet || !avro || only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let root = dir.join(&name);
        let Ok(table) = open_fixture(&dir, &f).await else {
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

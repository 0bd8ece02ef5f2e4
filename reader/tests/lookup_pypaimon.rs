//! Lookups on tables written by pypaimon (no bloom filters, no page index, dictionary-encoded
//! keys, pypaimon's own sequence numbers): for every key stored in any of their files plus
//! keys never written, `get` equals our scan, and the rows `get` finds are exactly the rows
//! pypaimon's scenario says the table holds (an oracle independent of our reader).
//!
//! Needs `STREAMHOUSE_PYTHON` (set by `tests/run.sh`); without it the test skips loudly,
//! except under CI where it fails.

use crate::lookup_support;
use streamhouse_test_support as interop_support;

use streamhouse_format::io::{open_warehouse, table_root, Identifier, Table};

/// Primary-key scenarios of `tests/python/pypaimon_write.py`.
const SCENARIOS: &[&str] = &[
    "pk_partitioned",
    "all_types",
    "partial_update",
    "aggregation",
    "changelog_input",
    "sequence_field",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pypaimon_tables_answer_like_their_scans_and_the_oracle() {
    let Some(_) = interop_support::python() else {
        return;
    };
    for scenario in SCENARIOS {
        assert!(interop_support::PYPAIMON_SCENARIOS.contains(scenario));
        let dir = tempfile::tempdir().unwrap();
        let expected = interop_support::pypaimon_write(dir.path(), scenario);
        let (io, root) = open_warehouse(dir.path().to_str().unwrap()).unwrap();
        let id = Identifier::parse(&format!("db.{scenario}")).unwrap();
        let table = Table::open(io, table_root(&root, &id), id.to_string())
            .await
            .unwrap();
        let mut keys = lookup_support::stored_keys(&table, dir.path()).await;
        keys.sort_by_key(|k| format!("{k:?}"));
        keys.dedup();
        assert!(!keys.is_empty(), "{scenario}: no stored keys");
        let absent = lookup_support::absent_keys(&keys, 5);
        keys.extend(absent);

        let handle = lookup_support::open_handle(&table).await;
        let found = lookup_support::check_against_scan(&table, &handle, &keys, None).await;
        let got = handle.get_many(&keys).await.unwrap();
        let schema = handle.output_schema();
        let rows = interop_support::arrow_rows_canonical(std::slice::from_ref(&got.rows), &schema);
        let expected = match *scenario {
            // pypaimon truncates nothing here, but merged reads of nanosecond timestamps are
            // compared at microseconds on both sides (see interop_support).
            "all_types" => interop_support::truncate_to_micros(&expected),
            _ => expected,
        };
        let rows = match *scenario {
            "all_types" => interop_support::truncate_to_micros(&rows),
            _ => rows,
        };
        interop_support::assert_same_rows(&rows, &expected, &format!("get on db.{scenario}"));
        let c = handle.counters();
        eprintln!("db.{scenario}: {} keys, {found} found; {c:?}", keys.len());
        assert_eq!(c.bloom_skips, 0, "pypaimon writes no bloom filters");
    }
}

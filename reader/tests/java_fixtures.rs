//! Reads the Java-written golden tables of `shared/fixtures/java-paimon` (read in place, never
//! copied) and compares the rows with their `expected.json`.
//!
//! Every fixture gets an outcome: PASS (rows equal), MISMATCH (wrong rows — always a failure),
//! UNSUPPORTED (a clear `Error::Unsupported`) or ERROR (any other error). Parquet, ORC and
//! Avro data files and Avro and ORC manifests are read; every fixture with expected rows must
//! PASS unless listed in [`KNOWN_GAPS`], where it must fail with the error given there.

use crate::{lookup_support, render};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use streamhouse_format::io::{open_warehouse, Table};
use streamhouse_format::Error;
use streamhouse_reader::incremental::{StartPosition, TailBuilder, TailEvent};
use streamhouse_reader::lookup::{LookupHandle, LookupOptions};
use streamhouse_reader::ScanBuilder;

/// Fixtures that cannot be read: (name, text the error must contain, reason).
pub(crate) const KNOWN_GAPS: &[(&str, &str, &str)] = &[
    (
        "cpp_parquet_blob_desc_field",
        "data-evolution.enabled",
        "BLOB columns stored in .blob files (data evolution); pypaimon cannot read it either",
    ),
    (
        "cpp_orc_blob_desc_field",
        "data-evolution.enabled",
        "BLOB columns stored in .blob files (data evolution)",
    ),
    (
        "cpp_parquet_blob_data_evolution_with_dense_stats",
        "data-evolution.enabled",
        "data evolution (files holding different columns of the same rows)",
    ),
    (
        "cpp_orc_blob_data_evolution_with_dense_stats",
        "data-evolution.enabled",
        "data evolution (files holding different columns of the same rows)",
    ),
    (
        "cpp_orc_data_evolution_with_dense_stats",
        "data-evolution.enabled",
        "data evolution (files holding different columns of the same rows)",
    ),
    (
        "cpp_orc_data_evolution_with_index",
        "data-evolution.enabled",
        "data evolution (files holding different columns of the same rows)",
    ),
    (
        "cpp_orc_append_table_alter_table_with_cast_with_data_evolution",
        "data-evolution.enabled",
        "data evolution (files holding different columns of the same rows)",
    ),
    (
        "cpp_orc_blob_append_table_alter_table_with_cast_with_data_evolution",
        "data-evolution.enabled",
        "data evolution (files holding different columns of the same rows)",
    ),
    (
        "cpp_orc_append_table_with_multi_blob",
        "data-evolution.enabled",
        "data evolution with BLOB files",
    ),
    (
        "cpp_orc_append_with_global_index",
        "data-evolution.enabled",
        "data evolution (global index)",
    ),
    (
        "cpp_orc_append_with_global_index_with_partition",
        "data-evolution.enabled",
        "data evolution (global index)",
    ),
    (
        "cpp_orc_pk_dv_index_in_data_with_external",
        "external file location",
        "data and index files under FILE:/tmp/external, outside the fixture",
    ),
    (
        "cpp_orc_pk_dv_index_not_in_data_with_external",
        "external file location",
        "data files under FILE:/tmp/external, outside the fixture",
    ),
    (
        "cpp_orc_timestamp_index",
        "TIMESTAMP WITH LOCAL TIME ZONE",
        "TIMESTAMP WITH LOCAL TIME ZONE in a C++-written ORC file: orc-rust gives instants \
         shifted by the writer's zone offset, so such ORC columns are refused",
    ),
    (
        "cpp_orc_append_with_cast_timestamp",
        "TIMESTAMP WITH LOCAL TIME ZONE",
        "TIMESTAMP WITH LOCAL TIME ZONE in a C++-written ORC file (as cpp_orc_timestamp_index; \
         no expected rows)",
    ),
    (
        "cpp_orc_nullable_map_key",
        "unmasked nulls",
        "a MAP with null keys: Arrow maps cannot hold a null key, orc-rust fails decoding it \
         (no expected rows)",
    ),
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/java-paimon")
}

/// The fixtures' directory; `None` (with a note) when this machine does not have them.
pub(crate) fn fixtures() -> Option<PathBuf> {
    let dir = fixtures_dir();
    if dir.join("index.json").exists() {
        return Some(dir);
    }
    eprintln!("NOTE: {} is absent; fixture test skipped", dir.display());
    None
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Pass(usize),
    Mismatch(String),
    Unsupported(String),
    Error(String),
    /// No expected rows to compare with; the read produced this many rows.
    Read(usize),
}

pub(crate) struct Fixture {
    pub name: String,
    table_path: String,
    sha256: Option<String>,
    /// The writers of its data files and the formats of its manifests, lower case
    /// (`orc java 1.9.2`, `parquet-mr version 1.15.1`; `avro`, `orc`).
    pub data_files: Vec<String>,
    pub manifest_formats: Vec<String>,
}

impl Fixture {
    /// Some data files are ORC or Avro.
    fn orc_or_avro(&self) -> bool {
        self.data_files
            .iter()
            .any(|x| x.contains("orc") || x.contains("avro"))
    }
}

/// The fixtures `index.json` lists.
pub(crate) fn load_index(dir: &Path) -> Vec<Fixture> {
    let text = std::fs::read_to_string(dir.join("index.json")).expect("index.json");
    let index: serde_json::Value = serde_json::from_str(&text).expect("index.json parses");
    let mut out = vec![];
    for (name, v) in index.as_object().expect("index object") {
        let strings = |key: &str| -> Vec<String> {
            let values = v["writer"][key].as_array().into_iter().flatten();
            values
                .filter_map(|x| x.as_str().map(str::to_lowercase))
                .collect()
        };
        out.push(Fixture {
            name: name.clone(),
            table_path: v["table_path"].as_str().unwrap_or_default().to_string(),
            sha256: v["read"]["sha256"].as_str().map(str::to_string),
            data_files: strings("data_files"),
            manifest_formats: strings("manifest_format"),
        });
    }
    out
}

/// Opens one fixture's table (read in place).
pub(crate) async fn open_fixture(dir: &Path, f: &Fixture) -> streamhouse_format::Result<Table> {
    let (io, _) = open_warehouse(dir.join(&f.name).to_str().unwrap_or_default())?;
    let rel = f
        .table_path
        .strip_prefix(&format!("{}/", f.name))
        .unwrap_or(&f.table_path);
    Table::open(io, object_store::path::Path::from(rel), f.name.clone()).await
}

async fn read_fixture(dir: &Path, f: &Fixture) -> Outcome {
    let root = dir.join(&f.name);
    let table = match open_fixture(dir, f).await {
        Ok(t) => t,
        Err(e) => return classify(e),
    };
    let batches = match ScanBuilder::new(&table).to_batches().await {
        Ok(b) => b,
        Err(e) => return classify(e),
    };
    let got = render::sorted_rows(&render::rows(&batches));
    let expected_path = root.join("expected.json");
    let Ok(text) = std::fs::read_to_string(&expected_path) else {
        // Larger tables have only a checksum: sha256 of the sorted rows joined by newlines.
        if let Some(sum) = &f.sha256 {
            let digest = render::sha256::sha256_hex(got.join("\n").as_bytes());
            return if &digest == sum {
                Outcome::Pass(got.len())
            } else {
                Outcome::Mismatch(format!(
                    "{} rows; checksum {digest} differs from {sum}",
                    got.len()
                ))
            };
        }
        return Outcome::Read(got.len());
    };
    let expected: Vec<serde_json::Value> =
        serde_json::from_str(&text).expect("expected.json parses");
    let expected = render::sorted_rows(&expected);
    if got == expected {
        Outcome::Pass(got.len())
    } else {
        let missing: Vec<&String> = expected
            .iter()
            .filter(|e| !got.contains(e))
            .take(3)
            .collect();
        let extra: Vec<&String> = got
            .iter()
            .filter(|g| !expected.contains(g))
            .take(3)
            .collect();
        Outcome::Mismatch(format!(
            "{} rows vs {} expected; missing {missing:?}; unexpected {extra:?}",
            got.len(),
            expected.len()
        ))
    }
}

fn classify(e: Error) -> Outcome {
    match e {
        Error::Unsupported(m) => Outcome::Unsupported(m),
        e => Outcome::Error(e.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_fixtures() {
    let Some(dir) = fixtures() else { return };
    let only = std::env::var("FIXTURE").ok();
    let mut results: BTreeMap<String, (Outcome, &Fixture)> = BTreeMap::new();
    let fixtures = load_index(&dir);
    for f in &fixtures {
        if only.as_deref().is_some_and(|o| !f.name.contains(o)) {
            continue;
        }
        let outcome = read_fixture(&dir, f).await;
        results.insert(f.name.clone(), (outcome, f));
    }
    let mut failures = vec![];
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut with_expected, mut identical) = (0, 0);
    for (name, (outcome, f)) in &results {
        let label = match outcome {
            Outcome::Pass(_) => "PASS",
            Outcome::Mismatch(_) => "MISMATCH",
            Outcome::Unsupported(_) => "UNSUPPORTED",
            Outcome::Error(_) => "ERROR",
            Outcome::Read(_) => "READ(no expected)",
        };
        *counts.entry(label).or_default() += 1;
        println!("{label:<18} {name}: {outcome:?}");
        let has_expected = dir.join(name).join("expected.json").exists() || f.sha256.is_some();
        if has_expected {
            with_expected += 1;
            identical += usize::from(matches!(outcome, Outcome::Pass(_)));
        }
        let gap = KNOWN_GAPS.iter().find(|(n, _, _)| n == name);
        match (outcome, gap) {
            (Outcome::Mismatch(m), _) => failures.push(format!("{name}: wrong rows: {m}")),
            (Outcome::Unsupported(m) | Outcome::Error(m), Some((_, text, _))) => {
                if !m.contains(text) {
                    failures.push(format!(
                        "{name}: expected an error containing {text:?}, got: {m}"
                    ))
                }
            }
            (Outcome::Pass(_) | Outcome::Read(_), Some(_)) => {
                failures.push(format!("{name}: reads now; take it off KNOWN_GAPS"))
            }
            (Outcome::Pass(_) | Outcome::Read(_), None) => {}
            (Outcome::Unsupported(m) | Outcome::Error(m), None) => {
                failures.push(format!("{name}: {m}"))
            }
        }
    }
    println!("summary: {counts:?}");
    println!("read identically: {identical} of {with_expected} fixtures with expected rows");
    assert!(
        failures.is_empty(),
        "fixture failures:\n{}",
        failures.join("\n")
    );
}

/// The rows a tail from `start` gives until it is idle.
async fn tail_rows(table: &Table, start: StartPosition) -> Vec<RecordBatch> {
    let mut tail = TailBuilder::new(table).start(start).build().await.unwrap();
    let mut rows = vec![];
    while let Some(event) = tail.next().await.unwrap() {
        if let TailEvent::Changes(c) = event {
            rows.push(c.rows.clone());
        }
    }
    rows
}

/// Every primary-key fixture with ORC or Avro data files (but the known gaps): tail (from the
/// full latest snapshot) gives the scan's rows, and get (one by one and many at once) gives
/// exactly the scan's row for every key the scan returns, for every key any snapshot changed
/// (the tail from the earliest snapshot: level-0 keys that deletion-vector and first-row
/// tables hide, deleted keys) and none for keys never written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orc_and_avro_tables_tail_and_get() {
    let Some(dir) = fixtures() else { return };
    let mut checked = vec![];
    for f in load_index(&dir) {
        let gap = KNOWN_GAPS.iter().any(|(n, _, _)| *n == f.name);
        if !f.orc_or_avro() || gap {
            continue;
        }
        let table = open_fixture(&dir, &f).await.expect(&f.name);
        if !table.is_primary_key_table() {
            continue;
        }
        let name = &f.name;
        let scanned = ScanBuilder::new(&table).to_batches().await.unwrap();
        let want = render::sorted_rows(&render::rows(&scanned));
        let tailed = tail_rows(&table, StartPosition::LatestFull).await;
        let tailed = render::sorted_rows(&render::rows(&tailed));
        assert_eq!(tailed, want, "{name}: tail");

        let earliest = table.list_snapshot_ids().await.unwrap()[0];
        let changed = tail_rows(&table, StartPosition::FromSnapshot(earliest)).await;
        let mut keys = lookup_support::keys_in(&table, &scanned);
        keys.extend(lookup_support::keys_in(&table, &changed));
        keys.sort_by_key(|k| format!("{k:?}"));
        keys.dedup();
        let absent = lookup_support::absent_keys(&keys, 5);
        assert!(!absent.is_empty(), "{name}: no key to move away");
        keys.extend(absent);
        let handle = LookupHandle::open(&table, LookupOptions::default())
            .await
            .unwrap();
        let found = lookup_support::check_against_scan(&table, &handle, &keys, None).await;
        assert_eq!(found, want.len(), "{name}: keys found by get");
        let c = handle.counters();
        assert!(c.units_decoded > 0, "{name}: {c:?}");
        eprintln!("{name}: {} keys, {found} found (= scan); {c:?}", keys.len());
        checked.push(name.clone());
    }
    assert!(checked.len() >= 15, "only {checked:?} were checked");
}

/// Prints the rows of one fixture (debugging aid): `FIXTURE=name cargo test -- --ignored dump`.
#[tokio::test]
#[ignore]
async fn dump() {
    let dir = fixtures_dir();
    let Ok(only) = std::env::var("FIXTURE") else {
        return;
    };
    for f in load_index(&dir).iter().filter(|f| f.name == only) {
        let table = open_fixture(&dir, f).await.unwrap();
        let batches = ScanBuilder::new(&table).to_batches().await.unwrap();
        for r in render::sorted_rows(&render::rows(&batches)) {
            println!("{r}");
        }
    }
}

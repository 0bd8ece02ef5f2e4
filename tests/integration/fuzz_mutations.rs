//! A deterministic mutation fuzzer over the same target bodies as the cargo-fuzz targets
//! (`format/fuzz/src/lib.rs`): valid seeds taken from a real table (a BinaryRow of every
//! type, a manifest, a manifest list, an index manifest, a snapshot and a schema file, and
//! deletion-vector files), mutated by seeded bit flips, interesting integers, insertions,
//! deletions, duplications, truncations and splices. Runs on the stable toolchain with no
//! libFuzzer, so every `cargo test` fuzzes a little; `tests/run.sh` also runs cargo-fuzz with
//! coverage guidance. Every input that panics is written to `target/fuzz-mutations/` and
//! reported; a found one becomes a named test in `regressions.rs`.
//!
//! `STREAMHOUSE_FUZZ_MUTATIONS` sets the executions per target (default 20 000);
//! `STREAMHOUSE_FUZZ_SEED_DIR=<dir>` also writes the seeds as cargo-fuzz corpora.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use roaring::RoaringBitmap;
use serde_json::json;
use streamhouse_format::manifest::{
    encode_index_manifest, DeletionVectorMeta, FileKind, IndexManifestEntry,
};
use streamhouse_reader::dv::MAGIC_32;

use crate::procs::Rng;
use crate::support::{create_table, inserts, write_commit};

#[path = "../../format/fuzz/src/lib.rs"]
#[allow(dead_code)]
pub mod targets;

pub type Target = fn(&[u8]);

/// The targets by name, as cargo-fuzz names them.
pub const TARGETS: [(&str, Target); 5] = [
    ("binary_row", targets::binary_row),
    ("manifest_avro", targets::manifest_avro),
    ("snapshot_json", targets::snapshot_json),
    ("schema_json", targets::schema_json),
    ("deletion_vector", targets::deletion_vector),
];

fn dv_file(bitmaps: &[RoaringBitmap]) -> Vec<u8> {
    let mut f = vec![1u8];
    for b in bitmaps {
        let mut bytes = vec![];
        b.serialize_into(&mut bytes).unwrap();
        f.extend(((bytes.len() + 4) as i32).to_be_bytes());
        f.extend(MAGIC_32.to_be_bytes());
        f.extend(&bytes);
        f.extend([0u8; 4]);
    }
    f
}

/// Valid inputs for every target, from a table written with the library.
pub async fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let cols: Vec<String> = targets::ROW_TYPES.split(", ").map(str::to_string).collect();
    let table = create_table(
        location,
        "db.seed",
        &cols.join(", "),
        &["a"],
        &[],
        &[("bucket", "-1")],
    )
    .await;
    let row = json!({
        "a": true, "b": -7, "c": 300, "d": 70000, "e": 5_000_000_000i64, "f": 1.5, "g": -2.25,
        "h": "12.34", "i": "-1234567890123456789012345678.0123456789", "j": "a string longer than seven",
        "k": "00ff10", "l": "2024-02-29", "m": "13:45:00.250", "n": "2024-01-31T13:45:00.123000",
        "o": "2024-01-31T13:45:00.123456789", "p": "2024-01-31T13:45:00.123456Z", "q": "abc  ",
        "r": "0102", "s": "xyz", "t": "1970-01-01T00:00:00"
    });
    let mut r2 = row.clone();
    r2["a"] = json!(false);
    r2["j"] = json!(null);
    write_commit(&table, &inserts(vec![row, r2])).await;
    let snapshot = table.snapshot(1).await.unwrap();
    let read = |p: object_store::path::Path| std::fs::read(dir.path().join(p.as_ref())).unwrap();
    let list = read(table.manifest_path(&snapshot.delta_manifest_list));
    let metas = table
        .read_manifest_list(&snapshot.delta_manifest_list)
        .await
        .unwrap();
    let manifest = read(table.manifest_path(&metas[0].file_name));
    let entries = table.read_manifest(&metas[0].file_name).await.unwrap();
    let mut out = vec![
        ("manifest_avro", manifest),
        ("manifest_avro", list),
        ("snapshot_json", read(table.snapshot_path(1))),
        ("schema_json", read(table.schema_path(0))),
    ];
    let index = encode_index_manifest(&[IndexManifestEntry {
        kind: FileKind::Add,
        partition: entries[0].partition.clone(),
        bucket: 0,
        index_type: "DELETION_VECTORS".into(),
        file_name: "index-1".into(),
        file_size: 40,
        row_count: 2,
        dv_ranges: Some(vec![DeletionVectorMeta {
            data_file_name: "data-1.parquet".into(),
            offset: 1,
            length: 24,
            cardinality: Some(3),
        }]),
        external_path: None,
    }])
    .unwrap();
    out.push(("manifest_avro", index));
    for e in &entries {
        let n = cols.len() as u8;
        for row in [
            &e.file.value_stats.min_values,
            &e.file.value_stats.max_values,
            &e.partition,
        ] {
            let mut input = vec![n];
            input.extend(0..n);
            input.extend(row);
            out.push(("binary_row", input));
        }
    }
    let mut runs = RoaringBitmap::new();
    runs.insert_range(100..5000);
    runs.optimize();
    let sparse: RoaringBitmap = [1u32, 3, 4, 9, 70000, 1 << 30].into_iter().collect();
    for bitmaps in [
        vec![sparse.clone()],
        vec![runs],
        vec![sparse, RoaringBitmap::new()],
    ] {
        let mut input = vec![0u8];
        input.extend(dv_file(&bitmaps));
        out.push(("deletion_vector", input));
    }
    out
}

const INTERESTING: [i64; 10] = [
    0,
    1,
    -1,
    127,
    128,
    255,
    32767,
    65536,
    i32::MAX as i64,
    i32::MIN as i64,
];

/// One seeded mutation of `input` (splicing from `other`).
pub fn mutate(input: &[u8], other: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let n = b.len().max(1) as u64;
        let at = rng.below(n) as usize;
        match rng.below(8) {
            0 if !b.is_empty() => b[at] ^= 1 << rng.below(8),
            1 if !b.is_empty() => b[at] = [0, 0xff, 0x7f, 0x80][rng.below(4) as usize],
            2 => {
                let v = INTERESTING[rng.below(INTERESTING.len() as u64) as usize] as i32;
                let bytes = if rng.below(2) == 0 {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                for (i, x) in bytes.iter().enumerate() {
                    if let Some(slot) = b.get_mut(at + i) {
                        *slot = *x;
                    }
                }
            }
            3 => {
                let extra: Vec<u8> = (0..1 + rng.below(16))
                    .map(|_| rng.below(256) as u8)
                    .collect();
                b.splice(at.min(b.len())..at.min(b.len()), extra);
            }
            4 if !b.is_empty() => {
                let end = (at + 1 + rng.below(32) as usize).min(b.len());
                b.drain(at.min(end)..end);
            }
            5 if !b.is_empty() => {
                let end = (at + 1 + rng.below(64) as usize).min(b.len());
                let piece = b[at.min(end)..end].to_vec();
                b.splice(at..at, piece);
            }
            6 => b.truncate(at),
            _ if !other.is_empty() => {
                let from = rng.below(other.len() as u64) as usize;
                let end = (from + 1 + rng.below(64) as usize).min(other.len());
                let cut = at.min(b.len());
                b.truncate(cut);
                b.extend_from_slice(&other[from..end]);
            }
            _ => {}
        }
    }
    b
}

fn hex(b: &[u8]) -> String {
    b.iter().take(256).map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn mutated_inputs_never_panic_any_decoder() {
    let runs: u64 = std::env::var("STREAMHOUSE_FUZZ_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let seeds = seeds().await;
    if let Ok(dir) = std::env::var("STREAMHOUSE_FUZZ_SEED_DIR") {
        for (i, (target, bytes)) in seeds.iter().enumerate() {
            let d = PathBuf::from(&dir).join(target);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(format!("seed-{i}")), bytes).unwrap();
        }
    }
    let out_dir = std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.parent()?.parent()?.join("fuzz-mutations")))
        .unwrap_or_else(std::env::temp_dir);
    // Quiet the default hook: a panic is caught, reported and saved below.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = vec![];
    let mut report = vec![];
    for (name, target) in TARGETS {
        let mine: Vec<&Vec<u8>> = seeds
            .iter()
            .filter(|(t, _)| *t == name)
            .map(|(_, b)| b)
            .collect();
        assert!(!mine.is_empty(), "no seed for {name}");
        let mut rng = Rng::new(0x5eed ^ name.len() as u64);
        let started = std::time::Instant::now();
        for i in 0..runs {
            let base = mine[rng.below(mine.len() as u64) as usize];
            let other = mine[rng.below(mine.len() as u64) as usize];
            let input = if i < mine.len() as u64 {
                base.clone()
            } else {
                mutate(base, other, &mut rng)
            };
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| target(&input))) {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let _ = std::fs::create_dir_all(&out_dir);
                let file = out_dir.join(format!("{name}-{i}"));
                let _ = std::fs::write(&file, &input);
                failures.push(format!(
                    "{name} input {i} ({}): {msg}; saved to {}; hex {}",
                    input.len(),
                    file.display(),
                    hex(&input)
                ));
            }
        }
        report.push(format!(
            "{name} {runs} ({:.1}s)",
            started.elapsed().as_secs_f64()
        ));
    }
    std::panic::set_hook(hook);
    println!(
        "deterministic mutation fuzzing, executions per target: {}",
        report.join(", ")
    );
    assert!(
        failures.is_empty(),
        "decoders panicked:\n{}",
        failures.join("\n")
    );
}

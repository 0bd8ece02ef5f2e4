//! Tests for the manifest codecs: round trips, the written schema shape, the Java-written
//! fixtures under `shared/fixtures/java-paimon` (skipped with a note when absent), and
//! truncated / bit-flipped input.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use apache_avro::types::Value;
use apache_avro::{Codec, DeflateSettings, Reader, Schema, Writer};

use super::avro_write::{index_entry_value, manifest_entry_value, manifest_file_meta_value};
use super::schema::{index_manifest_schema, manifest_list_schema, manifest_schema};
use super::*;
use crate::error::Error;
use crate::io::files::{entry_key, EntryKey};

/// The 12-byte serialized empty BinaryRow (arity 0 + 8-byte null-bit word).
const EMPTY_ROW: [u8; 12] = [0; 12];

fn row(bytes: &[u8]) -> Vec<u8> {
    bytes.to_vec()
}

fn stats(n: u8) -> SimpleStats {
    SimpleStats {
        min_values: vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, n, 0, 0, 0, 0, 0, 0, 0],
        max_values: vec![
            0,
            0,
            0,
            1,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            n + 1,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ],
        null_counts: vec![Some(3), None, Some(0)],
    }
}

fn empty_stats() -> SimpleStats {
    SimpleStats {
        min_values: EMPTY_ROW.to_vec(),
        max_values: EMPTY_ROW.to_vec(),
        null_counts: vec![],
    }
}

fn file_meta_full() -> ManifestFileMeta {
    ManifestFileMeta {
        file_name: "manifest-0c0ffee0-0000-0000-0000-000000000000-0".into(),
        file_size: 2081,
        num_added_files: 7,
        num_deleted_files: 2,
        partition_stats: stats(5),
        schema_id: 3,
        min_bucket: Some(0),
        max_bucket: Some(15),
        min_level: Some(0),
        max_level: Some(5),
        min_row_id: Some(100),
        max_row_id: Some(i64::MAX),
    }
}

fn file_meta_min() -> ManifestFileMeta {
    ManifestFileMeta {
        file_name: "manifest-x-1".into(),
        file_size: 0,
        num_added_files: 0,
        num_deleted_files: 0,
        partition_stats: empty_stats(),
        schema_id: 0,
        min_bucket: None,
        max_bucket: None,
        min_level: None,
        max_level: None,
        min_row_id: None,
        max_row_id: None,
    }
}

fn data_file_full() -> DataFileMeta {
    DataFileMeta {
        file_name: "data-1b2c-0.parquet".into(),
        file_size: 123_456,
        row_count: 1000,
        min_key: stats(1).min_values,
        max_key: stats(1).max_values,
        key_stats: stats(1),
        value_stats: stats(9),
        min_sequence_number: 0,
        max_sequence_number: 999,
        schema_id: 2,
        level: 5,
        extra_files: vec!["data-1b2c-0.parquet.index".into(), "x.lookup".into()],
        creation_time: Some(1_725_608_755_039),
        delete_row_count: Some(17),
        embedded_index: Some(vec![1, 2, 3, 0, 255]),
        file_source: Some(1),
        value_stats_cols: Some(vec!["a".into(), "b".into()]),
        external_path: Some("s3://bucket/ext/data-1b2c-0.parquet".into()),
        first_row_id: Some(42),
        write_cols: Some(vec!["a".into()]),
    }
}

fn data_file_min() -> DataFileMeta {
    DataFileMeta {
        file_name: "data-0.orc".into(),
        file_size: 1,
        row_count: 0,
        min_key: EMPTY_ROW.to_vec(),
        max_key: EMPTY_ROW.to_vec(),
        key_stats: empty_stats(),
        value_stats: empty_stats(),
        min_sequence_number: -1,
        max_sequence_number: -1,
        schema_id: 0,
        level: 0,
        extra_files: vec![],
        creation_time: None,
        delete_row_count: None,
        embedded_index: None,
        file_source: None,
        value_stats_cols: None,
        external_path: None,
        first_row_id: None,
        write_cols: None,
    }
}

fn entries() -> Vec<ManifestEntry> {
    vec![
        ManifestEntry {
            kind: FileKind::Add,
            partition: row(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0]),
            bucket: 1,
            total_buckets: 2,
            file: data_file_full(),
        },
        ManifestEntry {
            kind: FileKind::Delete,
            partition: EMPTY_ROW.to_vec(),
            bucket: -2,
            total_buckets: -2,
            file: data_file_min(),
        },
        ManifestEntry {
            kind: FileKind::Add,
            partition: EMPTY_ROW.to_vec(),
            bucket: 0,
            total_buckets: -1,
            file: DataFileMeta {
                value_stats_cols: Some(vec![]),
                ..data_file_min()
            },
        },
    ]
}

fn index_entries() -> Vec<IndexManifestEntry> {
    vec![
        IndexManifestEntry {
            kind: FileKind::Add,
            partition: EMPTY_ROW.to_vec(),
            bucket: 0,
            index_type: "HASH".into(),
            file_name: "index-1-0".into(),
            file_size: 16,
            row_count: 4,
            dv_ranges: None,
            external_path: None,
        },
        IndexManifestEntry {
            kind: FileKind::Delete,
            partition: row(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0]),
            bucket: 1,
            index_type: "DELETION_VECTORS".into(),
            file_name: "index-2-0".into(),
            file_size: 77,
            row_count: 2,
            dv_ranges: Some(vec![
                DeletionVectorMeta {
                    data_file_name: "data-a-0.orc".into(),
                    offset: 1,
                    length: 24,
                    cardinality: Some(3),
                },
                DeletionVectorMeta {
                    data_file_name: "data-b-0.orc".into(),
                    offset: 25,
                    length: 30,
                    cardinality: None,
                },
            ]),
            external_path: Some("oss://b/index-2-0".into()),
        },
        IndexManifestEntry {
            kind: FileKind::Add,
            partition: EMPTY_ROW.to_vec(),
            bucket: 0,
            index_type: "DELETION_VECTORS".into(),
            file_name: "index-3-0".into(),
            file_size: 1,
            row_count: 0,
            dv_ranges: Some(vec![]),
            external_path: None,
        },
    ]
}

#[test]
fn manifest_list_round_trip() {
    for metas in [
        vec![],
        vec![file_meta_full()],
        vec![file_meta_min(), file_meta_full()],
    ] {
        let bytes = encode_manifest_list(&metas).expect("encode");
        assert_eq!(&bytes[..4], b"Obj\x01");
        assert_eq!(decode_manifest_list(&bytes, "mem").expect("decode"), metas);
    }
}

#[test]
fn manifest_round_trip() {
    let entries = entries();
    let bytes = encode_manifest(&entries).expect("encode");
    assert_eq!(decode_manifest(&bytes, "mem").expect("decode"), entries);
}

#[test]
fn index_manifest_round_trip() {
    let entries = index_entries();
    let bytes = encode_index_manifest(&entries).expect("encode");
    assert_eq!(
        decode_index_manifest(&bytes, "mem").expect("decode"),
        entries
    );
}

#[test]
fn encoder_rejects_rows_without_arity() {
    let mut e = entries();
    e[1].file.value_stats = SimpleStats::default();
    let err = encode_manifest(&e).expect_err("empty stats rows must be rejected");
    let msg = err.to_string();
    assert!(
        msg.contains("record 1") && msg.contains("_FILE._VALUE_STATS._MIN_VALUES"),
        "{msg}"
    );
    let mut m = file_meta_min();
    m.partition_stats.max_values = vec![0, 0];
    assert!(encode_manifest_list(&[m]).is_err());
}

/// Writes `records` with one of our schemas and any codec (the encoder itself always uses
/// zstandard), so every codec the reader must support is covered.
fn write_with_codec(schema: &Schema, records: &[Value], codec: Codec) -> Vec<u8> {
    let mut w = Writer::with_codec(schema, Vec::new(), codec).expect("writer");
    for r in records {
        w.append_value_ref(r).expect("append");
    }
    w.into_inner().expect("finish")
}

/// The Avro records of `items`, as `to_value` makes them.
fn values_of<T>(items: &[T], to_value: impl Fn(&T) -> Result<Value, String>) -> Vec<Value> {
    items.iter().map(|i| to_value(i).expect("value")).collect()
}

#[test]
fn decodes_all_codecs() {
    let entries = entries();
    let values = values_of(&entries, manifest_entry_value);
    let schema = manifest_schema().expect("schema");
    for codec in [
        Codec::Null,
        Codec::Deflate(DeflateSettings::default()),
        Codec::Snappy,
        Codec::Zstandard(Default::default()),
    ] {
        let bytes = write_with_codec(schema, &values, codec);
        assert_eq!(
            decode_manifest(&bytes, "mem").expect("decode"),
            entries,
            "codec {codec:?}"
        );
    }
    let metas = vec![file_meta_full()];
    let values = values_of(&metas, manifest_file_meta_value);
    let schema = manifest_list_schema().expect("schema");
    let bytes = write_with_codec(schema, &values, Codec::Snappy);
    assert_eq!(decode_manifest_list(&bytes, "mem").expect("decode"), metas);
    let idx = index_entries();
    let values = values_of(&idx, index_entry_value);
    let schema = index_manifest_schema().expect("schema");
    let bytes = write_with_codec(schema, &values, Codec::Deflate(DeflateSettings::default()));
    assert_eq!(decode_index_manifest(&bytes, "mem").expect("decode"), idx);
}

#[test]
fn wrong_version_is_a_clear_error() {
    let mut value = manifest_file_meta_value(&file_meta_min()).expect("value");
    if let Value::Record(fields) = &mut value {
        fields[0].1 = Value::Int(1);
    }
    let bytes = write_with_codec(
        manifest_list_schema().expect("schema"),
        &[value],
        Codec::Null,
    );
    let err = decode_manifest_list(&bytes, "manifest/manifest-list-x").expect_err("version 1");
    let msg = err.to_string();
    assert!(matches!(err, Error::Unsupported(_)), "{msg}");
    assert!(
        msg.contains("_VERSION 1") && msg.contains("manifest-list-x"),
        "{msg}"
    );
    // A manifest list is not a manifest: the error names the missing field and the record.
    let bytes = encode_manifest_list(&[file_meta_min()]).expect("encode");
    let msg = decode_manifest(&bytes, "ml")
        .expect_err("not a manifest")
        .to_string();
    assert!(msg.contains("record 0") && msg.contains("_FILE"), "{msg}");
    // An index manifest carries version 1, a manifest 2.
    let bytes = encode_index_manifest(&index_entries()).expect("encode");
    assert!(matches!(
        decode_manifest(&bytes, "im"),
        Err(Error::Unsupported(_))
    ));
}

#[test]
fn not_avro_is_a_clear_error() {
    let err = decode_manifest(b"ORC\x0a\x0b\x03\x00", "manifest/manifest-1").expect_err("orc");
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("ORC"), "{err}");
    for junk in [&b""[..], b"Ob", b"PAR1xxxx", b"Obj\x02...."] {
        assert!(matches!(
            decode_manifest_list(junk, "j"),
            Err(Error::Corrupt { .. })
        ));
    }
}

// ---------------------------------------------------------------------------------------
// Schema shape.

fn writer_schema_json(bytes: &[u8]) -> serde_json::Value {
    let reader = Reader::new(bytes).expect("avro header");
    serde_json::to_value(reader.writer_schema()).expect("schema json")
}

/// The full names of the records in the writer schema of the Avro file `bytes`.
fn record_names_of(bytes: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    record_names(
        Reader::new(bytes).expect("header").writer_schema(),
        &mut names,
    );
    names
}

fn record_names(schema: &Schema, out: &mut Vec<String>) {
    match schema {
        Schema::Record(r) => {
            out.push(r.name.fullname(None));
            for f in &r.fields {
                record_names(&f.schema, out);
            }
        }
        Schema::Union(u) => u.variants().iter().for_each(|v| record_names(v, out)),
        Schema::Array(a) => record_names(&a.items, out),
        _ => {}
    }
}

#[test]
fn written_files_have_java_shape() {
    let bytes = encode_manifest(&entries()).expect("encode");
    let reader = Reader::new(&bytes[..]).expect("generic reader");
    assert_eq!(reader.user_metadata().len(), 0);
    let mut names = Vec::new();
    record_names(reader.writer_schema(), &mut names);
    assert_eq!(
        names,
        [
            "org.apache.paimon.avro.generated.record",
            "org.apache.paimon.avro.generated.record__FILE",
            "org.apache.paimon.avro.generated.record__FILE__KEY_STATS",
            "org.apache.paimon.avro.generated.record__FILE__VALUE_STATS",
        ]
    );
    let Schema::Record(top) = reader.writer_schema() else {
        panic!("top must be a record")
    };
    let top_fields: Vec<&str> = top.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        top_fields,
        [
            "_VERSION",
            "_KIND",
            "_PARTITION",
            "_BUCKET",
            "_TOTAL_BUCKETS",
            "_FILE"
        ]
    );
    let Schema::Record(file) = &top.fields[5].schema else {
        panic!("_FILE must be a non-null record")
    };
    let file_fields: Vec<&str> = file.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(file_fields.len(), 20);
    assert_eq!(file_fields[12], "_CREATION_TIME");
    assert_eq!(file_fields[19], "_WRITE_COLS");
    let json = serde_json::to_string(reader.writer_schema()).expect("json");
    assert!(
        json.contains(r#""logicalType":"timestamp-millis""#),
        "{json}"
    );
    // Every record is readable by a generic reader.
    let records: Vec<Value> = reader.map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), 3);

    // The header says zstandard, like Java's default `manifest.compression = zstd`.
    let raw = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_string();
    assert!(raw.contains("avro.codec") && raw.contains("zstandard"));

    let names = record_names_of(&encode_manifest_list(&[file_meta_min()]).expect("encode"));
    assert_eq!(
        names[1],
        "org.apache.paimon.avro.generated.record__PARTITION_STATS"
    );
    let names = record_names_of(&encode_index_manifest(&index_entries()).expect("encode"));
    assert_eq!(
        names[1..],
        [
            "org.apache.paimon.avro.generated.record__DELETIONS_VECTORS_RANGES",
            "org.apache.paimon.avro.generated.record__GLOBAL_INDEX"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Java-written fixtures.

fn fixture_root() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/java-paimon");
    if root.is_dir() {
        Some(root)
    } else {
        println!("note: fixtures not found at {}, skipping", root.display());
        None
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut items: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    items.sort();
    for p in items {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// Manifest directory of the Avro DV fixture table (Java ≥ 1.3, zstandard).
const DV_TABLE_MANIFESTS: &str = "cpp_avro_pk_table_scan_and_read_dv/pk_table_scan_and_read_dv.db/\
                                  pk_table_scan_and_read_dv/manifest";

/// Our writer schemas equal (as parsed-and-reserialized JSON, i.e. names, field order, types,
/// logical types and defaults) the schemas current Java Paimon wrote into the fixtures.
#[test]
fn written_schema_equals_java_schema() {
    let Some(root) = fixture_root() else { return };
    let dv = root.join(DV_TABLE_MANIFESTS);
    let cases = [
        (
            encode_manifest_list(&[]).expect("encode"),
            dv.join("manifest-list-68019c51-e09d-44cd-aaf0-74f9e5174cc1-0"),
        ),
        (
            encode_manifest(&[]).expect("encode"),
            dv.join("manifest-b04fa92d-d4c1-452d-81e8-ea226867ea1c-0"),
        ),
        // The DV table predates `_GLOBAL_INDEX._SOURCE_META`; this golden table has it.
        (
            encode_index_manifest(&[]).expect("encode"),
            root.join("paimon_pk_vector_golden/default.db/test_pk_vector_golden/manifest")
                .join("index-manifest-525fb244-5799-4943-acfe-9c4518979b70-0"),
        ),
    ];
    for (bytes, java) in cases {
        assert_eq!(
            writer_schema_json(&bytes),
            writer_schema_json(&read(&java)),
            "schema of {}",
            java.display()
        );
    }
}

#[derive(Default)]
struct Sweep {
    lists: usize,
    manifests: usize,
    index_manifests: usize,
    non_avro: usize,
}

/// Decodes every manifest-list / manifest / index-manifest file of every fixture table.
/// Avro and ORC ones must decode.
#[test]
fn decode_every_fixture_manifest() {
    let Some(root) = fixture_root() else { return };
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut s = Sweep::default();
    for p in files
        .iter()
        .filter(|p| p.parent().map(file_name) == Some("manifest"))
    {
        let name = file_name(p);
        let bytes = read(p);
        let shown = p.display().to_string();
        let is_avro = bytes.starts_with(b"Obj\x01");
        let result = if name.starts_with("manifest-list-") {
            decode_manifest_list(&bytes, &shown).map(|v| {
                s.lists += 1;
                v.len()
            })
        } else if name.starts_with("index-manifest-") {
            decode_index_manifest(&bytes, &shown).map(|v| {
                s.index_manifests += 1;
                v.len()
            })
        } else if name.starts_with("manifest-") {
            decode_manifest(&bytes, &shown).map(|v| {
                s.manifests += 1;
                v.len()
            })
        } else {
            continue;
        };
        if !is_avro {
            s.non_avro += 1;
            assert!(bytes.starts_with(b"ORC"), "{shown}: neither Avro nor ORC");
        }
        if let Err(e) = result {
            panic!("{shown}: {e}");
        }
    }
    println!(
        "decoded {} manifest lists, {} manifests, {} index manifests; {} of them ORC",
        s.lists, s.manifests, s.index_manifests, s.non_avro
    );
    assert!(
        s.lists >= 150 && s.manifests >= 100 && s.index_manifests >= 10,
        "too few fixtures decoded"
    );
}

fn load_manifest_list(dir: &Path, name: &str) -> Option<Vec<ManifestFileMeta>> {
    let bytes = std::fs::read(dir.join(name)).ok()?;
    if !bytes.starts_with(b"Obj\x01") {
        return None;
    }
    Some(decode_manifest_list(&bytes, name).unwrap_or_else(|e| panic!("{e}")))
}

/// For every snapshot of every Avro-manifest table (and its branches): folding the base and
/// delta manifests gives live files whose row counts sum to `totalRecordCount`; manifest,
/// data and index file sizes recorded in the metadata equal the sizes on disk; every live
/// file sits in its `bucket-N` directory; DV ranges point at live data files.
#[test]
fn fixture_snapshots_are_consistent() {
    let Some(root) = fixture_root() else { return };
    let mut files = Vec::new();
    walk(&root, &mut files);
    // name -> (paths) for locating data / index files.
    let mut by_name: HashMap<&str, Vec<&Path>> = HashMap::new();
    for p in &files {
        by_name.entry(file_name(p)).or_default().push(p.as_path());
    }
    let snapshots: Vec<&PathBuf> = files
        .iter()
        .filter(|p| {
            file_name(p).starts_with("snapshot-") && p.parent().map(file_name) == Some("snapshot")
        })
        .collect();
    let (mut checked, mut data_files, mut index_files, mut dv_ranges) = (0, 0, 0, 0);
    for snap_path in snapshots {
        let snap_dir = snap_path
            .parent()
            .and_then(Path::parent)
            .expect("table dir");
        // Branch snapshots (`<table>/branch/branch-x/snapshot`) use the table's manifest dir.
        let table = if snap_dir.parent().map(file_name) == Some("branch") {
            snap_dir
                .parent()
                .and_then(Path::parent)
                .expect("table of branch")
        } else {
            snap_dir
        };
        let manifest_dir = table.join("manifest");
        let snap: serde_json::Value =
            serde_json::from_slice(&read(snap_path)).expect("snapshot json");
        let list_name = |k: &str| snap[k].as_str().map(str::to_string);
        let (Some(base), Some(delta)) = (
            list_name("baseManifestList"),
            list_name("deltaManifestList"),
        ) else {
            continue;
        };
        let (Some(base), Some(delta)) = (
            load_manifest_list(&manifest_dir, &base),
            load_manifest_list(&manifest_dir, &delta),
        ) else {
            continue; // ORC manifests
        };
        let mut live: BTreeMap<EntryKey, ManifestEntry> = BTreeMap::new();
        let mut delta_count = 0i64;
        for (is_delta, meta) in base
            .iter()
            .map(|m| (false, m))
            .chain(delta.iter().map(|m| (true, m)))
        {
            let path = manifest_dir.join(&meta.file_name);
            let bytes = read(&path);
            assert_eq!(
                bytes.len() as i64,
                meta.file_size,
                "size of {}",
                path.display()
            );
            let entries = decode_manifest(&bytes, &meta.file_name).expect("manifest");
            let adds = entries.iter().filter(|e| e.kind == FileKind::Add).count() as i64;
            assert_eq!(
                (adds, entries.len() as i64 - adds),
                (meta.num_added_files, meta.num_deleted_files)
            );
            for e in entries {
                if is_delta {
                    delta_count += if e.kind == FileKind::Add {
                        e.file.row_count
                    } else {
                        -e.file.row_count
                    };
                }
                match e.kind {
                    FileKind::Add => {
                        assert!(live.insert(entry_key(&e), e).is_none(), "added twice")
                    }
                    FileKind::Delete => assert!(
                        live.remove(&entry_key(&e)).is_some(),
                        "delete of a file not live"
                    ),
                }
            }
        }
        let total: i64 = live.values().map(|e| e.file.row_count).sum();
        assert_eq!(
            Some(total),
            snap["totalRecordCount"].as_i64(),
            "{}",
            snap_path.display()
        );
        assert_eq!(
            Some(delta_count),
            snap["deltaRecordCount"].as_i64(),
            "{}",
            snap_path.display()
        );
        for e in live.values() {
            if e.file.external_path.is_some() {
                continue; // points outside the fixture tree
            }
            let found = by_name
                .get(e.file.file_name.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let want_dir = if e.bucket == -2 {
                "bucket-postpone".to_string()
            } else {
                format!("bucket-{}", e.bucket)
            };
            let on_disk = found.iter().find(|p| {
                p.starts_with(table) && p.parent().map(file_name) == Some(want_dir.as_str())
            });
            let on_disk = on_disk.unwrap_or_else(|| {
                panic!(
                    "{} not in {want_dir} of {}",
                    e.file.file_name,
                    table.display()
                )
            });
            let size = std::fs::metadata(on_disk).expect("stat").len() as i64;
            assert_eq!(size, e.file.file_size, "{}", on_disk.display());
            data_files += 1;
        }
        if let Some(index) = list_name("indexManifest") {
            let bytes = read(&manifest_dir.join(&index));
            if bytes.starts_with(b"Obj\x01") {
                let live_names: Vec<&str> =
                    live.values().map(|e| e.file.file_name.as_str()).collect();
                for ie in decode_index_manifest(&bytes, &index).expect("index manifest") {
                    assert_eq!(
                        ie.kind,
                        FileKind::Add,
                        "snapshot index manifests list live files only"
                    );
                    if ie.external_path.is_none() {
                        let found = by_name
                            .get(ie.file_name.as_str())
                            .and_then(|v| v.iter().find(|p| p.starts_with(table)));
                        let found =
                            found.unwrap_or_else(|| panic!("index file {} missing", ie.file_name));
                        assert_eq!(
                            std::fs::metadata(found).expect("stat").len() as i64,
                            ie.file_size
                        );
                        index_files += 1;
                    }
                    if ie.index_type == "DELETION_VECTORS" {
                        let ranges = ie.dv_ranges.as_deref().expect("DV entries carry ranges");
                        assert_eq!(ranges.len() as i64, ie.row_count);
                        for r in ranges {
                            assert!(
                                live_names.contains(&r.data_file_name.as_str()),
                                "DV for dead file {}",
                                r.data_file_name
                            );
                            assert!(
                                r.offset >= 1
                                    && r.length > 0
                                    && i64::from(r.offset) + i64::from(r.length) <= ie.file_size
                            );
                            dv_ranges += 1;
                        }
                    }
                }
            }
        }
        checked += 1;
    }
    println!(
        "checked {checked} snapshots: {data_files} live data files, {index_files} index files, \
         {dv_ranges} DV ranges"
    );
    assert!(
        checked >= 40 && data_files > 100 && dv_ranges > 5,
        "too few fixture snapshots checked"
    );
}

/// The loose metadata fragments, with values from upstream tests (paimon-rust, paimon-cpp)
/// and from the sizes of sibling fragment files.
#[test]
fn fixture_fragments() {
    let Some(root) = fixture_root() else { return };
    let frag = root.join("fragments");

    // paimon-rust: Java 0.8-era layout, snappy codec, ["null", record] everywhere.
    let stats_row = vec![
        0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 49, 0, 0, 0, 0, 0, 0, 129,
    ];
    let list = decode_manifest_list(
        &read(
            &frag.join("paimon-rust-manifest/manifest-list-5c7399a0-46ae-4a5e-9c13-3ab07212cdb6-0"),
        ),
        "ml",
    )
    .expect("rust manifest list");
    let expect_list = |name: &str, size, added, deleted, schema_id| ManifestFileMeta {
        file_name: name.into(),
        file_size: size,
        num_added_files: added,
        num_deleted_files: deleted,
        partition_stats: SimpleStats {
            min_values: stats_row.clone(),
            max_values: stats_row.clone(),
            null_counts: vec![Some(1), Some(2)],
        },
        schema_id,
        ..file_meta_min()
    };
    assert_eq!(
        list,
        [
            expect_list(
                "manifest-19d138df-233f-46f7-beb6-fadaf4741c0e",
                10,
                10,
                10,
                1
            ),
            expect_list(
                "manifest-a703ee48-c411-413e-b84e-c03bdb179631",
                11,
                0,
                10,
                2
            ),
        ]
    );

    let entries = decode_manifest(
        &read(&frag.join("paimon-rust-manifest/manifest-8ded1f09-fcda-489e-9167-582ac0f9f846-0")),
        "m",
    )
    .expect("rust manifest");
    let key_row = vec![
        0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 49, 0, 0, 0, 0, 0, 0, 129, 1, 0, 0, 0, 0, 0, 0, 0,
    ];
    let single = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
    let st = SimpleStats {
        min_values: key_row.clone(),
        max_values: key_row,
        null_counts: vec![Some(1), Some(2)],
    };
    let expect_entry = |kind, bucket, name: &str, deletes| ManifestEntry {
        kind,
        partition: single.clone(),
        bucket,
        total_buckets: 10,
        file: DataFileMeta {
            file_name: name.into(),
            file_size: 10,
            row_count: 100,
            min_key: single.clone(),
            max_key: single.clone(),
            key_stats: st.clone(),
            value_stats: st.clone(),
            min_sequence_number: 1,
            max_sequence_number: 100,
            schema_id: 0,
            level: 1,
            // 2024-09-06T07:45:55.039Z
            creation_time: Some(1_725_608_755_039),
            delete_row_count: Some(deletes),
            ..data_file_min()
        },
    };
    assert_eq!(
        entries,
        [
            expect_entry(FileKind::Delete, 1, "f1.parquet", 0),
            expect_entry(FileKind::Add, 2, "f2.parquet", 1)
        ]
    );

    let index = decode_index_manifest(
        &read(
            &frag
                .join("paimon-rust-manifest/index-manifest-85cc6729-f5af-431a-a1c3-ef45319328fb-0"),
        ),
        "im",
    )
    .expect("rust index manifest");
    assert_eq!(
        index,
        [
            IndexManifestEntry {
                kind: FileKind::Add,
                partition: EMPTY_ROW.to_vec(),
                bucket: 0,
                index_type: "HASH".into(),
                file_name: "index-a984b43a-c3fb-40b4-ad29-536343c239a6-0".into(),
                file_size: 16,
                row_count: 4,
                dv_ranges: None,
                external_path: None,
            },
            IndexManifestEntry {
                kind: FileKind::Add,
                partition: EMPTY_ROW.to_vec(),
                bucket: 0,
                index_type: "DELETION_VECTORS".into(),
                file_name: "index-3f0986c5-4398-449b-be82-95f019d7a748-0".into(),
                file_size: 33,
                row_count: 1,
                dv_ranges: Some(vec![DeletionVectorMeta {
                    data_file_name: "data-9b76122c-6bb5-4952-a946-b5bce29694a1-0.orc".into(),
                    offset: 1,
                    length: 24,
                    cardinality: None,
                }]),
                external_path: None,
            },
        ]
    );

    // paimon-cpp: Java 0.9 (union-wrapped) and 1.1 manifest lists; each names the sibling
    // manifest fragment by size.
    let cpp = frag.join("paimon-cpp-avro-manifest");
    let size = |n: &str| std::fs::metadata(cpp.join(n)).expect("stat").len() as i64;
    let l09 = decode_manifest_list(&read(&cpp.join("avro_manifest_list_09")), "l09").expect("09");
    assert_eq!(
        l09,
        [ManifestFileMeta {
            file_name: "manifest-b09d5588-5614-46e2-b441-f196d29e60dc-0".into(),
            file_size: size("avro_manifest_09"),
            num_added_files: 1,
            ..file_meta_min()
        }]
    );
    let l11 = decode_manifest_list(&read(&cpp.join("avro_manifest_list_11")), "l11").expect("11");
    assert_eq!(
        l11,
        [ManifestFileMeta {
            file_name: "manifest-3c977409-ebff-4d68-8265-86d237e24e9a-0".into(),
            file_size: size("avro_manifest_11"),
            num_added_files: 1,
            min_bucket: Some(0),
            max_bucket: Some(0),
            min_level: Some(0),
            max_level: Some(0),
            ..file_meta_min()
        }]
    );
    for (name, has_source, has_cols) in [
        ("avro_manifest_09", true, false),
        ("avro_manifest_11", true, true),
        ("manifest", true, true),
    ] {
        let entries = decode_manifest(&read(&cpp.join(name)), name).expect(name);
        assert!(!entries.is_empty(), "{name}");
        for e in &entries {
            assert!(
                e.file.file_name.starts_with("data-"),
                "{name}: {}",
                e.file.file_name
            );
            assert!(e.file.row_count > 0 && e.file.creation_time.is_some());
            assert_eq!(e.file.file_source.is_some(), has_source, "{name}");
            if !has_cols {
                assert_eq!(
                    e.file.value_stats_cols, None,
                    "{name}: 0.9 layout has no _VALUE_STATS_COLS"
                );
            }
            assert_eq!(
                (
                    e.file.external_path.clone(),
                    e.file.first_row_id,
                    e.file.write_cols.clone()
                ),
                (None, None, None)
            );
        }
        if name != "manifest" {
            assert_eq!(
                entries.len(),
                1,
                "{name}: the manifest list says 1 added file"
            );
            assert_eq!(entries[0].kind, FileKind::Add);
        }
    }

    // Avro data files and DV index files are not manifests.
    for name in [
        "paimon-cpp-avro-data/avro_all_types",
        "paimon-cpp-avro-data/avro_with_null",
    ] {
        let err = decode_manifest(&read(&frag.join(name)), name).expect_err(name);
        assert!(err.to_string().contains("_VERSION"), "{err}");
    }
    for name in [
        "paimon-core-dvindex/dvindex-32",
        "paimon-core-dvindex/dvindex-64",
    ] {
        assert!(matches!(
            decode_index_manifest(&read(&frag.join(name)), name),
            Err(Error::Corrupt { .. })
        ));
    }
}

// ---------------------------------------------------------------------------------------
// Robustness.

fn no_panic<T>(f: impl FnOnce() -> crate::error::Result<T>) -> Option<crate::error::Result<T>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

/// Truncated and bit-flipped manifests never panic. Truncations fail, except a cut exactly at
/// a block boundary, which is a shorter but valid container (Avro has no footer): then the
/// records read are a prefix of the real ones. Flips either fail or decode to something.
#[test]
fn fuzz_truncated_and_flipped_manifests() {
    let java = fixture_root().map(|r| {
        read(
            &r.join(DV_TABLE_MANIFESTS)
                .join("manifest-d4ac5a14-906b-489b-9a8b-cc7bc6406c0f-3"),
        )
    });
    let entries = entries();
    let values = values_of(&entries, manifest_entry_value);
    let plain = write_with_codec(manifest_schema().expect("schema"), &values, Codec::Null);
    let zstd = encode_manifest(&entries).expect("encode");
    for (label, bytes) in [("java", java), ("plain", Some(plain)), ("zstd", Some(zstd))] {
        let Some(bytes) = bytes else { continue };
        let full = decode_manifest(&bytes, label).expect("full file decodes");
        let mut prefix_ok = 0;
        for cut in 0..bytes.len() {
            match no_panic(|| decode_manifest(&bytes[..cut], label)) {
                None => panic!("{label}: panic on truncation at {cut}"),
                Some(Err(_)) => {}
                Some(Ok(got)) => {
                    assert!(
                        got.len() < full.len() && full.starts_with(&got),
                        "{label}: bad decode at cut {cut}"
                    );
                    prefix_ok += 1;
                }
            }
        }
        assert!(prefix_ok <= 2, "{label}: {prefix_ok} truncations decoded");
        let (mut errs, mut oks) = (0, 0);
        for pos in 0..bytes.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[pos] ^= mask;
                match no_panic(|| decode_manifest(&b, label)) {
                    None => panic!("{label}: panic with byte {pos} ^ {mask:#x}"),
                    Some(Err(_)) => errs += 1,
                    Some(Ok(_)) => oks += 1,
                }
            }
        }
        println!(
            "{label}: {} bytes, flips: {errs} errors, {oks} still decodable",
            bytes.len()
        );
        assert!(errs > oks / 4, "{label}: flips should mostly be detected");
    }
}

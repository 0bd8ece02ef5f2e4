//! Lookups on a deletion-vector table built here: runs at levels 0, 1, 3 and 5, then deletion
//! vectors that remove every superseded version — and, for some keys, the newest one too — in
//! a COMPACT snapshot, as Java's compaction leaves them. `get` must skip level 0 and apply the
//! vectors exactly as the scan does.

use crate::lookup_support;

use std::collections::{BTreeMap, HashMap};

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, Int8Type};
use bytes::Bytes;
use lookup_support::*;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use roaring::RoaringBitmap;
use streamhouse_format::io::Table;
use streamhouse_format::manifest::{
    encode_index_manifest, encode_manifest_list, DeletionVectorMeta, FileKind, IndexManifestEntry,
};
use streamhouse_format::snapshot::CommitKind;

/// One stored record: file, row position, key, sequence number, kind.
struct Stored {
    file: String,
    pos: u32,
    k: i64,
    seq: i64,
    kind: i8,
}

async fn stored_records(table: &Table) -> (Vec<Stored>, BTreeMap<String, (Vec<u8>, i32, i32)>) {
    let snap = table.snapshot_or_latest(None).await.unwrap().unwrap();
    let mut out = vec![];
    let mut files = BTreeMap::new();
    for e in table.all_live_files(&snap).await.unwrap() {
        let path = table
            .bucket_dir("", e.bucket)
            .join(e.file.file_name.as_str());
        let bytes: Bytes = table.io.read(&path).await.unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .unwrap()
            .build()
            .unwrap();
        let mut pos = 0u32;
        for b in reader {
            let b: RecordBatch = b.unwrap();
            let k = b
                .column_by_name("_KEY_k")
                .unwrap()
                .as_primitive::<Int64Type>();
            let s = b
                .column_by_name("_SEQUENCE_NUMBER")
                .unwrap()
                .as_primitive::<Int64Type>();
            let kind = b
                .column_by_name("_VALUE_KIND")
                .unwrap()
                .as_primitive::<Int8Type>();
            for i in 0..b.num_rows() {
                out.push(Stored {
                    file: e.file.file_name.clone(),
                    pos,
                    k: k.value(i),
                    seq: s.value(i),
                    kind: kind.value(i),
                });
                pos += 1;
            }
        }
        files.insert(
            e.file.file_name.clone(),
            (e.partition.clone(), e.bucket, e.file.level),
        );
    }
    (out, files)
}

/// One DV index file per bucket holding `deleted` positions per data file; a new snapshot
/// listing them in its index manifest.
async fn commit_deletion_vectors(
    table: &Table,
    deleted: &BTreeMap<String, RoaringBitmap>,
    files: &BTreeMap<String, (Vec<u8>, i32, i32)>,
) {
    type Vectors<'a> = Vec<(&'a String, &'a RoaringBitmap)>;
    let mut by_bucket: BTreeMap<(Vec<u8>, i32), Vectors> = BTreeMap::new();
    for (f, bm) in deleted {
        let (part, bucket, _) = &files[f];
        by_bucket
            .entry((part.clone(), *bucket))
            .or_default()
            .push((f, bm));
    }
    let mut entries = vec![];
    for ((partition, bucket), vectors) in by_bucket {
        let mut bytes = vec![1u8];
        let mut ranges = vec![];
        for (f, bm) in vectors {
            let mut body = 1581511376i32.to_be_bytes().to_vec();
            bm.serialize_into(&mut body).unwrap();
            let offset = bytes.len() as i32;
            bytes.extend((body.len() as i32).to_be_bytes());
            bytes.extend(&body);
            bytes.extend([0u8; 4]); // CRC, skipped by readers
            ranges.push(DeletionVectorMeta {
                data_file_name: f.clone(),
                offset,
                length: body.len() as i32,
                cardinality: Some(bm.len() as i64),
            });
        }
        let name = format!("index-{}-0", uuid::Uuid::new_v4());
        table
            .io
            .write(&table.index_path(&name), bytes.clone())
            .await
            .unwrap();
        entries.push(IndexManifestEntry {
            kind: FileKind::Add,
            partition,
            bucket,
            index_type: "DELETION_VECTORS".into(),
            file_name: name,
            file_size: bytes.len() as i64,
            row_count: ranges.len() as i64,
            dv_ranges: Some(ranges),
            external_path: None,
        });
    }
    let latest = table.snapshot_or_latest(None).await.unwrap().unwrap();
    let all = table.data_manifests(&latest).await.unwrap();
    let index_name = format!("index-manifest-{}-0", uuid::Uuid::new_v4());
    let base = format!("manifest-list-{}-0", uuid::Uuid::new_v4());
    let delta = format!("manifest-list-{}-1", uuid::Uuid::new_v4());
    for (name, bytes) in [
        (&index_name, encode_index_manifest(&entries).unwrap()),
        (&base, encode_manifest_list(&all).unwrap()),
        (&delta, encode_manifest_list(&[]).unwrap()),
    ] {
        let path = table.manifest_path(name);
        table.io.write(&path, bytes).await.unwrap();
    }
    let mut next = latest.clone();
    next.id += 1;
    next.base_manifest_list = base;
    next.base_manifest_list_size = None;
    next.delta_manifest_list = delta;
    next.delta_manifest_list_size = None;
    next.changelog_manifest_list = None;
    next.index_manifest = Some(index_name);
    next.commit_kind = CommitKind::Compact;
    next.delta_record_count = Some(0);
    table
        .io
        .write_if_absent(&table.snapshot_path(next.id), next.to_json())
        .await
        .unwrap();
}

#[tokio::test]
async fn deletion_vectors_and_level_zero_as_the_scan_sees_them() {
    for seed in [7, 8] {
        let g = Gen::new(240, true, true);
        let t = create(
            &[],
            &["k"],
            &[("bucket", "2"), ("deletion-vectors.enabled", "true")],
        )
        .await;
        let mut rng = Rng(seed);
        // Level 0 last: it is newest, and invisible to batch reads.
        write_level_runs(&t, &mut rng, g, &[(5, 1), (3, 2), (1, 1), (0, 1), (0, 1)]).await;
        let (records, files) = stored_records(&t).await;
        // Per key, its newest version outside level 0; every other version is deleted, and
        // for one key in five the newest too.
        let mut newest: HashMap<i64, (i64, usize)> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            if files[&r.file].2 == 0 {
                continue;
            }
            let e = newest.entry(r.k).or_insert((r.seq, i));
            if r.seq > e.0 {
                *e = (r.seq, i);
            }
        }
        let mut deleted: BTreeMap<String, RoaringBitmap> = BTreeMap::new();
        let mut fully_deleted = 0;
        for (i, r) in records.iter().enumerate() {
            if files[&r.file].2 == 0 {
                continue;
            }
            let keep = newest[&r.k].1 == i && r.k % 5 != 0;
            if !keep {
                deleted.entry(r.file.clone()).or_default().insert(r.pos);
                if newest[&r.k].1 == i {
                    fully_deleted += 1;
                }
            }
        }
        assert!(fully_deleted > 0);
        commit_deletion_vectors(&t, &deleted, &files).await;

        let keys = all_keys(&t, g.keys);
        let h = open_handle(&t).await;
        let found = check_against_scan(&t, &h, &keys, None).await;
        // Keys living only in level 0 or deleted by a vector are absent.
        let visible = newest
            .iter()
            .filter(|(k, (_, i))| *k % 5 != 0 && records[*i].kind != 1 && records[*i].kind != 3)
            .count();
        assert_eq!(found, visible, "seed {seed}");
    }
}

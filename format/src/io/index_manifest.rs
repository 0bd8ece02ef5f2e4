//! The index manifest a commit writes.
//!
//! A snapshot's index manifest lists every live index file (HASH files of dynamic buckets,
//! deletion-vector files), all as `ADD` entries. A commit that adds or deletes index files
//! writes a new one: the previous snapshot's entries with the commit's changes applied, as
//! Paimon's commit combines them:
//!
//! * HASH files and deletion-vector files of bucketed tables: one file per (partition, bucket,
//!   index type). The commit's DELETEs are applied first, then its ADDs, each replacing the
//!   bucket's entry.
//! * deletion-vector files of bucket-unaware tables (append tables, `bucket = -1`): by file
//!   name.
//! * other index types (a newer writer's global indexes) are kept as they are; changes to them
//!   apply by file name.
//!
//! A commit without index changes keeps the previous snapshot's index manifest.
//!
//! Beyond Paimon (which replaces a bucket's HASH entry blindly), a HASH change and a bucketed
//! deletion-vector change are checked against the live entry they replace: a DELETE must name
//! the bucket's live file, and an ADD without a DELETE must find the bucket without one. A
//! writer that assigned keys to buckets from an index another writer has since changed gets a
//! conflict instead of silently dropping the other writer's keys from the index (which would
//! let one key live in two buckets); a compaction that read a bucket's deletion vectors before
//! another compaction replaced them gets a conflict instead of dropping the other's deletions.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::io::table::Table;
use crate::manifest::{self, FileKind, IndexManifestEntry};
use crate::snapshot::Snapshot;

/// `_INDEX_TYPE` of dynamic-bucket key-hash files.
pub const HASH_INDEX: &str = "HASH";
/// `_INDEX_TYPE` of deletion-vector files.
pub const DELETION_VECTORS_INDEX: &str = "DELETION_VECTORS";

/// How an entry is identified when combining: by bucket or by file name.
#[derive(Hash, PartialEq, Eq)]
enum Slot {
    Bucket(Vec<u8>, i32, String),
    File(String),
}

fn slot(e: &IndexManifestEntry, unaware_dv: bool) -> Slot {
    let bucketed =
        e.index_type == HASH_INDEX || (e.index_type == DELETION_VECTORS_INDEX && !unaware_dv);
    if bucketed {
        Slot::Bucket(e.partition.clone(), e.bucket, e.index_type.clone())
    } else {
        Slot::File(e.file_name.clone())
    }
}

/// The live index files after a commit: `previous` (the live entries, all ADD) with `changes`
/// (ADD and DELETE entries) applied. `unaware_dv`: the table is bucket-unaware (an append
/// table with `bucket = -1`), whose deletion-vector files combine by file name.
pub fn combine_index_entries(
    previous: Vec<IndexManifestEntry>,
    changes: &[IndexManifestEntry],
    unaware_dv: bool,
) -> Result<Vec<IndexManifestEntry>> {
    // Slot → position in `live`; removed positions become None.
    let mut live: Vec<Option<IndexManifestEntry>> = vec![];
    let mut at: HashMap<Slot, usize> = HashMap::new();
    for e in previous {
        let s = slot(&e, unaware_dv);
        match at.get(&s) {
            Some(&i) => live[i] = Some(e),
            None => {
                at.insert(s, live.len());
                live.push(Some(e));
            }
        }
    }
    let deleted: Vec<&IndexManifestEntry> = changes
        .iter()
        .filter(|e| e.kind == FileKind::Delete)
        .collect();
    for d in &deleted {
        let s = slot(d, unaware_dv);
        let current = at.get(&s).and_then(|&i| live[i].as_ref());
        if checked(d, unaware_dv) && current.is_none_or(|c| c.file_name != d.file_name) {
            return Err(replace_conflict(d, current));
        }
        if let Some(i) = at.remove(&s) {
            live[i] = None;
        }
    }
    for a in changes.iter().filter(|e| e.kind == FileKind::Add) {
        let s = slot(a, unaware_dv);
        if checked(a, unaware_dv) {
            let replaces = deleted.iter().any(|d| slot(d, unaware_dv) == s);
            if let (false, Some(&i)) = (replaces, at.get(&s)) {
                return Err(replace_conflict(a, live[i].as_ref()));
            }
        }
        match at.get(&s) {
            Some(&i) => live[i] = Some(a.clone()),
            None => {
                at.insert(s, live.len());
                live.push(Some(a.clone()));
            }
        }
    }
    Ok(live.into_iter().flatten().collect())
}

/// Whether a change replaces its bucket's file only if it knows that file: HASH files and the
/// deletion-vector files of bucketed tables.
fn checked(e: &IndexManifestEntry, unaware_dv: bool) -> bool {
    e.index_type == HASH_INDEX || (e.index_type == DELETION_VECTORS_INDEX && !unaware_dv)
}

fn replace_conflict(change: &IndexManifestEntry, live: Option<&IndexManifestEntry>) -> Error {
    let found = match live {
        Some(l) => format!("its live index file is {}", l.file_name),
        None => "it has no live index file".to_string(),
    };
    let expected = match change.kind {
        FileKind::Delete => format!("this commit replaces {}", change.file_name),
        FileKind::Add => "this commit expected it to have none".to_string(),
    };
    if change.index_type == DELETION_VECTORS_INDEX {
        return Error::Conflict(format!(
            "deletion-vector conflict in bucket {}: {expected}, but {found}; another compaction changed the bucket's deletion vectors since this one read them",
            change.bucket
        ));
    }
    Error::Conflict(format!(
        "dynamic-bucket index conflict in bucket {}: {expected}, but {found}; another writer assigned keys of this partition since this writer read the index (dynamic-bucket tables take one writer at a time)",
        change.bucket
    ))
}

/// The index manifest of a snapshot committed on top of `latest` with `changes`: `latest`'s
/// own when there are no changes, else a new file named by `new_name` holding the combined
/// entries (written even when empty, as Paimon does).
pub async fn write_index_manifest(
    table: &Table,
    latest: Option<&Snapshot>,
    changes: &[IndexManifestEntry],
    new_name: impl FnOnce() -> String,
) -> Result<Option<String>> {
    let previous_name = latest.and_then(|l| l.index_manifest.clone());
    if changes.is_empty() {
        return Ok(previous_name);
    }
    let previous = match &previous_name {
        Some(name) => {
            let entries = table.read_index_manifest(name).await?;
            if let Some(e) = entries.iter().find(|e| e.kind != FileKind::Add) {
                return Err(Error::corrupt(
                    table.manifest_path(name),
                    format!(
                        "index manifest holds a DELETE entry for {}; a snapshot's index manifest lists live files only",
                        e.file_name
                    ),
                ));
            }
            entries
        }
        None => vec![],
    };
    let unaware_dv = !table.is_primary_key_table() && table.options.bucket == -1;
    let entries = combine_index_entries(previous, changes, unaware_dv)?;
    let bytes = manifest::encode_index_manifest(&entries)?;
    let name = new_name();
    table.io.write(&table.manifest_path(&name), bytes).await?;
    Ok(Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: FileKind, part: u8, bucket: i32, ty: &str, name: &str) -> IndexManifestEntry {
        IndexManifestEntry {
            kind,
            partition: vec![0, 0, 0, 1, part, 0, 0, 0, 0, 0, 0, 0],
            bucket,
            index_type: ty.to_string(),
            file_name: name.to_string(),
            file_size: 4,
            row_count: 1,
            dv_ranges: None,
            external_path: None,
        }
    }

    fn names(entries: &[IndexManifestEntry]) -> Vec<(u8, i32, &str)> {
        let mut v: Vec<_> = entries
            .iter()
            .map(|e| (e.partition[4], e.bucket, e.file_name.as_str()))
            .collect();
        v.sort();
        v
    }

    use FileKind::{Add, Delete};

    #[test]
    fn hash_files_are_replaced_per_bucket() {
        let previous = vec![
            entry(Add, 1, 0, HASH_INDEX, "h-a0"),
            entry(Add, 1, 1, HASH_INDEX, "h-a1"),
            entry(Add, 2, 0, HASH_INDEX, "h-b0"),
        ];
        let changes = [
            entry(Delete, 1, 1, HASH_INDEX, "h-a1"),
            entry(Add, 1, 1, HASH_INDEX, "h-a1-new"),
            entry(Add, 1, 2, HASH_INDEX, "h-a2"),
            entry(Add, 3, 0, HASH_INDEX, "h-c0"),
        ];
        let out = combine_index_entries(previous, &changes, false).unwrap();
        assert!(out.iter().all(|e| e.kind == Add));
        assert_eq!(
            names(&out),
            vec![
                (1, 0, "h-a0"),
                (1, 1, "h-a1-new"),
                (1, 2, "h-a2"),
                (2, 0, "h-b0"),
                (3, 0, "h-c0"),
            ]
        );
    }

    #[test]
    fn a_stale_hash_change_is_a_conflict() {
        let previous = vec![entry(Add, 1, 0, HASH_INDEX, "h-other-writer")];
        // Replacing a file that is no longer the bucket's.
        let e = combine_index_entries(
            previous.clone(),
            &[
                entry(Delete, 1, 0, HASH_INDEX, "h-old"),
                entry(Add, 1, 0, HASH_INDEX, "h-new"),
            ],
            false,
        )
        .unwrap_err();
        assert!(matches!(e, Error::Conflict(_)), "{e}");
        assert!(e.to_string().contains("h-other-writer"), "{e}");
        // Adding a first file to a bucket that has one by now.
        let e = combine_index_entries(
            previous.clone(),
            &[entry(Add, 1, 0, HASH_INDEX, "h-new")],
            false,
        )
        .unwrap_err();
        assert!(matches!(e, Error::Conflict(_)), "{e}");
        // Deleting from a bucket without a file.
        assert!(
            combine_index_entries(vec![], &[entry(Delete, 1, 0, HASH_INDEX, "h-x")], false)
                .is_err()
        );
    }

    #[test]
    fn deletion_vectors_combine_by_bucket_or_by_name() {
        let previous = vec![
            entry(Add, 1, 0, DELETION_VECTORS_INDEX, "dv-1"),
            entry(Add, 1, 0, HASH_INDEX, "h-0"),
        ];
        let changes = [entry(Add, 1, 0, DELETION_VECTORS_INDEX, "dv-2")];
        // Bucketed: the new file replaces the bucket's, which the commit must name.
        let replace = [
            entry(Delete, 1, 0, DELETION_VECTORS_INDEX, "dv-1"),
            entry(Add, 1, 0, DELETION_VECTORS_INDEX, "dv-2"),
        ];
        let out = combine_index_entries(previous.clone(), &replace, false).unwrap();
        assert_eq!(names(&out), vec![(1, 0, "dv-2"), (1, 0, "h-0")]);
        let out = combine_index_entries(previous.clone(), &replace[..1], false).unwrap();
        assert_eq!(names(&out), vec![(1, 0, "h-0")]);
        // A compaction that read the bucket's vectors before another one replaced them.
        for stale in [
            &changes[..],
            &[entry(Delete, 1, 0, DELETION_VECTORS_INDEX, "dv-0")],
        ] {
            let e = combine_index_entries(previous.clone(), stale, false).unwrap_err();
            assert!(
                matches!(e, Error::Conflict(_)) && e.to_string().contains("dv-1"),
                "{e}"
            );
        }
        // Bucket-unaware: files are kept by name, a DELETE removes one.
        let out = combine_index_entries(previous.clone(), &changes, true).unwrap();
        assert_eq!(
            names(&out),
            vec![(1, 0, "dv-1"), (1, 0, "dv-2"), (1, 0, "h-0")]
        );
        let out = combine_index_entries(
            previous,
            &[entry(Delete, 1, 0, DELETION_VECTORS_INDEX, "dv-1")],
            true,
        )
        .unwrap();
        assert_eq!(names(&out), vec![(1, 0, "h-0")]);
    }

    #[test]
    fn unknown_index_types_are_kept() {
        let previous = vec![entry(Add, 1, 0, "btree", "g-1")];
        let out =
            combine_index_entries(previous, &[entry(Add, 1, 0, HASH_INDEX, "h")], false).unwrap();
        assert_eq!(names(&out), vec![(1, 0, "g-1"), (1, 0, "h")]);
    }
}

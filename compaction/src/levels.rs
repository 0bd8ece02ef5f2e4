//! The LSM tree of one (partition, bucket), rebuilt from a snapshot's live files (format §8).
//!
//! Level 0: every file is its own sorted run, newest first (`_MAX_SEQUENCE_NUMBER`
//! descending; ties by minimum sequence number, creation time, name). Level ≥ 1: all files of
//! a level form one sorted run, ordered by key. The number of levels is `num-levels`, raised to
//! (highest level present + 1) when a table holds deeper levels.

use std::collections::BTreeMap;

use streamhouse_format::manifest::{DataFileMeta, ManifestEntry};

/// One sorted run: a level and its files (a single file at level 0).
#[derive(Debug, Clone, PartialEq)]
pub struct SortedRun {
    pub level: i32,
    pub files: Vec<DataFileMeta>,
}

impl SortedRun {
    /// Bytes of the run's files.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.file_size.max(0) as u64).sum()
    }
}

/// The files of one bucket arranged as levels.
#[derive(Debug, Clone)]
pub struct Levels {
    pub partition: Vec<u8>,
    pub bucket: i32,
    pub total_buckets: i32,
    /// Level-0 files, newest first.
    pub level0: Vec<DataFileMeta>,
    /// Files of levels ≥ 1 by level, in manifest order (the reader's sections put them in key
    /// order when merging).
    pub upper: BTreeMap<i32, Vec<DataFileMeta>>,
    pub num_levels: i32,
    /// The index manifest of the snapshot these levels were read from (the bucket's deletion
    /// vectors are there); `None` when it has none or it is not known.
    pub index_manifest: Option<String>,
}

impl Levels {
    /// Builds the levels of one bucket from its live manifest entries.
    pub fn new(
        partition: Vec<u8>,
        bucket: i32,
        total_buckets: i32,
        files: Vec<DataFileMeta>,
        configured_levels: u32,
    ) -> Levels {
        let mut level0 = vec![];
        let mut upper: BTreeMap<i32, Vec<DataFileMeta>> = BTreeMap::new();
        for f in files {
            if f.level <= 0 {
                level0.push(f);
            } else {
                upper.entry(f.level).or_default().push(f);
            }
        }
        level0.sort_by(|a, b| {
            b.max_sequence_number
                .cmp(&a.max_sequence_number)
                .then(a.min_sequence_number.cmp(&b.min_sequence_number))
                .then(a.creation_time.cmp(&b.creation_time))
                .then(a.file_name.cmp(&b.file_name))
        });
        let deepest = upper.keys().next_back().copied().unwrap_or(0);
        let num_levels = (configured_levels.max(2) as i32).max(deepest + 1);
        Levels {
            partition,
            bucket,
            total_buckets,
            level0,
            upper,
            num_levels,
            index_manifest: None,
        }
    }

    /// Groups live entries of many buckets into levels, in (partition, bucket) order.
    pub fn from_entries(entries: Vec<ManifestEntry>, configured_levels: u32) -> Vec<Levels> {
        let mut by_bucket: BTreeMap<(Vec<u8>, i32), (i32, Vec<DataFileMeta>)> = BTreeMap::new();
        for e in entries {
            let slot = by_bucket
                .entry((e.partition, e.bucket))
                .or_insert((e.total_buckets, vec![]));
            slot.1.push(e.file);
        }
        by_bucket
            .into_iter()
            .map(|((p, b), (total, files))| Levels::new(p, b, total, files, configured_levels))
            .collect()
    }

    /// The highest level index (`num_levels - 1`).
    pub fn max_level(&self) -> i32 {
        self.num_levels - 1
    }

    /// The highest level holding files (0 when only level 0 has files or none).
    pub fn non_empty_highest_level(&self) -> i32 {
        self.upper
            .iter()
            .rev()
            .find(|(_, f)| !f.is_empty())
            .map_or(0, |(l, _)| *l)
    }

    /// The sorted runs: level-0 files newest first, then each non-empty level ascending.
    pub fn sorted_runs(&self) -> Vec<SortedRun> {
        let mut runs: Vec<SortedRun> = self
            .level0
            .iter()
            .map(|f| SortedRun {
                level: 0,
                files: vec![f.clone()],
            })
            .collect();
        runs.extend(
            self.upper
                .iter()
                .filter(|(_, f)| !f.is_empty())
                .map(|(l, f)| SortedRun {
                    level: *l,
                    files: f.clone(),
                }),
        );
        runs
    }

    /// Number of sorted runs (what the compaction and stop triggers count).
    pub fn run_count(&self) -> usize {
        self.level0.len() + self.upper.values().filter(|f| !f.is_empty()).count()
    }

    /// Every file of the bucket.
    pub fn all_files(&self) -> impl Iterator<Item = &DataFileMeta> {
        self.level0.iter().chain(self.upper.values().flatten())
    }

    /// Bytes of every file of the bucket.
    pub fn total_size(&self) -> u64 {
        self.all_files().map(|f| f.file_size.max(0) as u64).sum()
    }
}

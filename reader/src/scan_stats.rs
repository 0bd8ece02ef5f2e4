//! [`ScanMetrics`]: what a scan considered and what it read, level by level (manifests,
//! partitions, files, row groups, pages, bytes), counted while it runs.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters shared by the tasks of one scan.
#[derive(Debug, Default)]
pub struct ScanMetrics {
    pub manifests_total: AtomicU64,
    pub manifests_read: AtomicU64,
    /// Distinct partitions among the live files of the manifests read.
    pub partitions_seen: AtomicU64,
    /// Distinct partitions left after partition pruning.
    pub partitions_read: AtomicU64,
    /// Live data files of the snapshot (from the manifest lists' counts).
    pub files_total: AtomicU64,
    /// Files planned after partition, bucket and statistics pruning.
    pub files_planned: AtomicU64,
    /// Files actually opened (a limit may stop before all planned files).
    pub files_opened: AtomicU64,
    /// Bytes of the planned files (manifest sizes).
    pub planned_bytes: AtomicU64,
    /// Row groups of the opened files, and those read.
    pub row_groups_total: AtomicU64,
    pub row_groups_read: AtomicU64,
    /// Data pages of the projected columns in the opened files' row groups, and those read
    /// (known only when the page index was loaded).
    pub pages_total: AtomicU64,
    pub pages_read: AtomicU64,
    /// Rows decoded from data files (after row-group and page pruning).
    pub rows_decoded: AtomicU64,
    /// Bytes fetched from data files (footers, indexes and column chunks).
    pub data_bytes_read: AtomicU64,
}

/// A plain copy of [`ScanMetrics`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    pub manifests_total: u64,
    pub manifests_read: u64,
    pub partitions_seen: u64,
    pub partitions_read: u64,
    pub files_total: u64,
    pub files_planned: u64,
    pub files_opened: u64,
    pub planned_bytes: u64,
    pub row_groups_total: u64,
    pub row_groups_read: u64,
    pub pages_total: u64,
    pub pages_read: u64,
    pub rows_decoded: u64,
    pub data_bytes_read: u64,
}

impl ScanMetrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The current values.
    pub fn snapshot(&self) -> ScanStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ScanStats {
            manifests_total: g(&self.manifests_total),
            manifests_read: g(&self.manifests_read),
            partitions_seen: g(&self.partitions_seen),
            partitions_read: g(&self.partitions_read),
            files_total: g(&self.files_total),
            files_planned: g(&self.files_planned),
            files_opened: g(&self.files_opened),
            planned_bytes: g(&self.planned_bytes),
            row_groups_total: g(&self.row_groups_total),
            row_groups_read: g(&self.row_groups_read),
            pages_total: g(&self.pages_total),
            pages_read: g(&self.pages_read),
            rows_decoded: g(&self.rows_decoded),
            data_bytes_read: g(&self.data_bytes_read),
        }
    }
}

impl fmt::Display for ScanStats {
    /// One `level  read of total` line per level.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "manifests   {} of {}",
            self.manifests_read, self.manifests_total
        )?;
        writeln!(
            f,
            "partitions  {} of {}",
            self.partitions_read, self.partitions_seen
        )?;
        writeln!(
            f,
            "files       {} opened, {} planned, of {} live",
            self.files_opened, self.files_planned, self.files_total
        )?;
        writeln!(
            f,
            "row groups  {} of {} in the opened files",
            self.row_groups_read, self.row_groups_total
        )?;
        writeln!(
            f,
            "pages       {} of {} (projected columns of those row groups)",
            self.pages_read, self.pages_total
        )?;
        write!(
            f,
            "data bytes  {} read, rows decoded {}",
            self.data_bytes_read, self.rows_decoded
        )
    }
}

//! # streamhouse-compaction
//!
//! Keeps Paimon primary-key tables compacted, and their storage tidy:
//!
//! * [`levels`] — the LSM tree of a bucket from the manifests: level-0 files and levels ≥ 1
//!   as sorted runs;
//! * [`picker`] — universal compaction (Paimon's options and defaults), a pure function;
//! * [`rewrite`] — carrying out a pick: merge with the reader's merge, write with the
//!   writer's file writer, upgrade files that need no rewrite;
//! * [`dv`] — deletion vectors written by compaction (merge-on-write);
//! * [`changelog`] — `changelog-producer = lookup`;
//! * [`compactor`] — pick → rewrite → COMPACT commit, retrying on fresh state after a lost race;
//! * [`writer`] — [`CompactingWriter`]: a table writer that compacts after its commits, with
//!   `num-sorted-run.stop-trigger` backpressure;
//! * [`service`] — the standalone compaction service: workers, bucket leases, intervals;
//! * snapshot expiration and orphan cleanup live in `streamhouse_format::io::{expire, orphans}`.
//!
//! See `spec/compaction.md` for the rules.

pub mod changelog;
pub mod compactor;
pub mod dv;
mod key_cursor;
pub mod levels;
pub mod picker;
pub mod rewrite;
pub mod service;
pub mod writer;

pub use compactor::{BucketOutcome, CompactOptions, CompactSummary, Compactor};
pub use levels::{Levels, SortedRun};
pub use picker::{Pick, PickerOptions};
pub use rewrite::{Cancel, Progress, ProgressTask};
pub use service::{Service, ServiceConfig};
pub use writer::{CompactingWriter, CompactionStats};

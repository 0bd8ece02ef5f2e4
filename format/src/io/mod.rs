//! Table I/O over `object_store`: storage resolution, the table layout, snapshots, live-file
//! planning, and the one commit path.

pub mod commit;
pub mod consumers;
pub mod expire;
pub mod faults;
pub mod files;
pub mod index_manifest;
pub mod metrics;
pub mod orphans;
pub mod snapshots;
pub mod storage;
pub mod table;
pub mod tags;

pub use commit::{CommitMessage, Committed, Committer};
pub use storage::{open_warehouse, open_warehouse_with, Created, FileIO};
pub use table::{list_tables, table_root, Identifier, Table};

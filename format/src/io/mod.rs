//! Table I/O over `object_store`: storage resolution, the table layout, snapshots, live-file
//! planning, and the one commit path.

/// `Debug` and `Display` of an object-store wrapper (a field `inner` holding the wrapped
/// store): `Name(<inner store>)`.
macro_rules! store_wrapper_fmt {
    ($wrapper:ident) => {
        impl std::fmt::Debug for $wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(self, f)
            }
        }

        impl std::fmt::Display for $wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($wrapper), "({})"), self.inner)
            }
        }
    };
}

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

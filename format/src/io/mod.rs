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

/// What [`impl_object_store!`](crate::impl_object_store) names, so that callers need not
/// depend on the same crates.
#[doc(hidden)]
pub mod __store {
    pub use async_trait::async_trait;
    pub use bytes::Bytes;
    pub use futures::stream::BoxStream;
    pub use object_store::path::Path;
    pub use object_store::{
        CopyOptions, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions,
        PutOptions, PutPayload, PutResult, Result,
    };
}

/// Implements `ObjectStore` for a wrapper with an `inner: Arc<dyn ObjectStore>` field: the
/// methods in the block are the wrapper's own, and those named in `forward [..]` go straight
/// to `inner` (any of `put_opts`, `put_multipart_opts`, `get_ranges`, `delete_stream`, `list`,
/// `list_with_offset`, `list_with_delimiter`, `copy_opts`).
///
/// ```ignore
/// impl_object_store!(MyStore, forward [put_opts, list], {
///     async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> { .. }
/// });
/// ```
#[macro_export]
macro_rules! impl_object_store {
    ($wrapper:ty, forward [$($m:ident),* $(,)?], { $($own:tt)* }) => {
        $crate::impl_object_store!(@next $wrapper, [$($own)*], [$($m)*]);
    };
    (@next $w:ty, [$($acc:tt)*], []) => {
        #[$crate::io::__store::async_trait]
        impl $crate::io::__store::ObjectStore for $w {
            $($acc)*
        }
    };
    (@next $w:ty, $acc:tt, [$m:ident $($rest:ident)*]) => {
        $crate::impl_object_store!(@sig $m, $w, $acc, [$($rest)*]);
    };
    // The forwardable methods, one line each: `async` or `sync`, name, arguments, result.
    (@sig put_opts, $($k:tt)*) => { $crate::impl_object_store!(@add async put_opts(location: &$crate::io::__store::Path, payload: $crate::io::__store::PutPayload, opts: $crate::io::__store::PutOptions) -> $crate::io::__store::PutResult, $($k)*); };
    (@sig put_multipart_opts, $($k:tt)*) => { $crate::impl_object_store!(@add async put_multipart_opts(location: &$crate::io::__store::Path, opts: $crate::io::__store::PutMultipartOptions) -> Box<dyn $crate::io::__store::MultipartUpload>, $($k)*); };
    (@sig get_ranges, $($k:tt)*) => { $crate::impl_object_store!(@add async get_ranges(location: &$crate::io::__store::Path, ranges: &[std::ops::Range<u64>]) -> Vec<$crate::io::__store::Bytes>, $($k)*); };
    (@sig delete_stream, $($k:tt)*) => { $crate::impl_object_store!(@add sync delete_stream(locations: $crate::io::__store::BoxStream<'static, $crate::io::__store::Result<$crate::io::__store::Path>>) -> $crate::io::__store::BoxStream<'static, $crate::io::__store::Result<$crate::io::__store::Path>>, $($k)*); };
    (@sig list, $($k:tt)*) => { $crate::impl_object_store!(@add sync list(prefix: Option<&$crate::io::__store::Path>) -> $crate::io::__store::BoxStream<'static, $crate::io::__store::Result<$crate::io::__store::ObjectMeta>>, $($k)*); };
    (@sig list_with_offset, $($k:tt)*) => { $crate::impl_object_store!(@add sync list_with_offset(prefix: Option<&$crate::io::__store::Path>, offset: &$crate::io::__store::Path) -> $crate::io::__store::BoxStream<'static, $crate::io::__store::Result<$crate::io::__store::ObjectMeta>>, $($k)*); };
    (@sig list_with_delimiter, $($k:tt)*) => { $crate::impl_object_store!(@add async list_with_delimiter(prefix: Option<&$crate::io::__store::Path>) -> $crate::io::__store::ListResult, $($k)*); };
    (@sig copy_opts, $($k:tt)*) => { $crate::impl_object_store!(@add async copy_opts(from: &$crate::io::__store::Path, to: &$crate::io::__store::Path, options: $crate::io::__store::CopyOptions) -> (), $($k)*); };
    (@add async $m:ident($($a:ident: $t:ty),*) -> $r:ty, $w:ty, [$($acc:tt)*], $rest:tt) => {
        $crate::impl_object_store!(@next $w, [$($acc)*
            async fn $m(&self, $($a: $t),*) -> $crate::io::__store::Result<$r> {
                self.inner.$m($($a),*).await
            }
        ], $rest);
    };
    (@add sync $m:ident($($a:ident: $t:ty),*) -> $r:ty, $w:ty, [$($acc:tt)*], $rest:tt) => {
        $crate::impl_object_store!(@next $w, [$($acc)*
            fn $m(&self, $($a: $t),*) -> $r {
                self.inner.$m($($a),*)
            }
        ], $rest);
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

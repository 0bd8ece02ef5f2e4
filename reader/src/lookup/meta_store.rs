//! [`MetadataCacheStore`]: an `ObjectStore` wrapper keeping whole-file reads of immutable table
//! metadata — manifest lists, manifests, index manifests (`manifest/`) and index files such as
//! deletion vectors (`index/`, or `index-*` files in bucket directories) — in a byte-bounded
//! LRU. Their names are unique (a UUID), so a cached copy never goes stale; a refresh to a new
//! snapshot then reads only the manifests it has not seen. Snapshot and schema files, hints
//! and listings always go to the store (a rollback can recreate a snapshot id).

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{GetOptions, GetResult, GetResultPayload, ObjectMeta, ObjectStore};

use super::cache::{CacheCounters, SharedLru};

/// Caches whole-object GETs of immutable metadata files.
pub struct MetadataCacheStore {
    inner: Arc<dyn ObjectStore>,
    cache: SharedLru<Path, (Bytes, ObjectMeta)>,
}

impl MetadataCacheStore {
    pub fn new(inner: Arc<dyn ObjectStore>, capacity: usize) -> Self {
        MetadataCacheStore {
            inner,
            cache: SharedLru::new(capacity),
        }
    }

    pub fn counters(&self) -> CacheCounters {
        self.cache.counters()
    }
}

/// Whether a path names an immutable metadata file worth caching.
fn cacheable(path: &Path) -> bool {
    let mut parts = path.parts();
    let mut parent = None;
    let mut name = None;
    for p in parts.by_ref() {
        parent = name.take();
        name = Some(p);
    }
    let (Some(parent), Some(name)) = (parent, name) else {
        return false;
    };
    let (parent, name) = (parent.as_ref(), name.as_ref());
    parent == "manifest" || parent == "index" || name.starts_with("index-")
}

fn plain(o: &GetOptions) -> bool {
    o.range.is_none()
        && !o.head
        && o.if_match.is_none()
        && o.if_none_match.is_none()
        && o.if_modified_since.is_none()
        && o.if_unmodified_since.is_none()
        && o.version.is_none()
}

fn result_of(bytes: Bytes, meta: ObjectMeta) -> GetResult {
    let len = bytes.len() as u64;
    GetResult {
        payload: GetResultPayload::Stream(futures::stream::once(async move { Ok(bytes) }).boxed()),
        meta,
        range: 0..len,
        attributes: Default::default(),
    }
}

impl fmt::Debug for MetadataCacheStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MetadataCacheStore({})", self.inner)
    }
}

impl fmt::Display for MetadataCacheStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MetadataCacheStore({})", self.inner)
    }
}

streamhouse_format::impl_object_store!(MetadataCacheStore, forward [
    put_opts,
    put_multipart_opts,
    get_ranges,
    delete_stream,
    list,
    list_with_offset,
    list_with_delimiter,
    copy_opts,
], {
    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        if !(plain(&options) && cacheable(location)) {
            return self.inner.get_opts(location, options).await;
        }
        if let Some((bytes, meta)) = self.cache.get(location) {
            return Ok(result_of(bytes, meta));
        }
        let r = self.inner.get_opts(location, options).await?;
        let meta = r.meta.clone();
        let bytes = r.bytes().await?;
        self.cache.insert(
            location.clone(),
            (bytes.clone(), meta.clone()),
            bytes.len() + 128,
        );
        Ok(result_of(bytes, meta))
    }
});

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use object_store::{ObjectStoreExt, PutPayload};
    use streamhouse_format::io::metrics::MeteredStore;

    #[tokio::test]
    async fn caches_only_immutable_metadata() {
        let metered = Arc::new(MeteredStore::new(Arc::new(InMemory::new())));
        let metrics = metered.metrics().clone();
        let store = MetadataCacheStore::new(metered, 1 << 20);
        let manifest = Path::from("db.db/t/manifest/manifest-abc-0");
        let snapshot = Path::from("db.db/t/snapshot/snapshot-1");
        let dv = Path::from("db.db/t/dt=1/bucket-0/index-xyz-0");
        for p in [&manifest, &snapshot, &dv] {
            store
                .put(p, PutPayload::from_static(b"data"))
                .await
                .unwrap();
        }
        for _ in 0..3 {
            for p in [&manifest, &snapshot, &dv] {
                let b = store.get(p).await.unwrap().bytes().await.unwrap();
                assert_eq!(b.as_ref(), b"data");
            }
        }
        // The manifest and the index file are read once, the snapshot every time.
        let s = metrics.snapshot();
        assert_eq!(
            s.requests(streamhouse_format::io::metrics::RequestKind::Get),
            2 + 3
        );
        assert_eq!(store.counters().hits, 4);
        // Ranged reads are never served from the cache.
        assert_eq!(
            store.get_range(&manifest, 1..3).await.unwrap().as_ref(),
            b"at"
        );
        assert!(cacheable(&Path::from("t/index/index-1")));
        assert!(!cacheable(&Path::from("t/schema/schema-0")));
        assert!(!cacheable(&Path::from("LATEST")));
    }
}

//! [`MeteredStore`]: an `ObjectStore` wrapper that counts requests and bytes by kind, so every
//! command and library call can say what it cost in object-store traffic.
//!
//! It composes like [`FaultyStore`](super::faults::FaultyStore): wrap any store, hand the
//! wrapper to whatever reads or writes, and read the shared [`StoreMetrics`] counters.
//!
//! ```no_run
//! # async fn f() -> streamhouse_format::Result<()> {
//! use streamhouse_format::io::metrics::metered_io;
//! use streamhouse_format::io::open_warehouse;
//! let (io, root) = open_warehouse("s3://lake/warehouse")?;
//! let (io, metrics) = metered_io(&io);
//! let before = metrics.snapshot();
//! // ... read a table through `io` ...
//! let cost = metrics.snapshot().since(&before);
//! println!("{cost}"); // e.g. "3 requests, 70.2 KiB (1 GET 2.1 KiB, 2 ranged GET 68.1 KiB)"
//! # Ok(()) }
//! ```
//!
//! What counts as a request ([`RequestKind`]):
//! * `get_opts` — a HEAD when `options.head`, a ranged GET when a range is given, else a GET;
//!   bytes are the length of the range served (counted when the response arrives, whether or
//!   not the body is read);
//! * `get_ranges` — one ranged GET per range after merging ranges at most
//!   [`OBJECT_STORE_COALESCE_DEFAULT`] apart (what `object_store` sends to a remote store); bytes
//!   are those of the merged ranges;
//! * `put_opts` — a conditional PUT for `PutMode::Create`/`Update`, else a PUT; bytes = payload;
//! * multipart uploads — one request to start, one per part (bytes = part size), one to finish;
//! * `list` / `list_with_delimiter` — one LIST per call (a remote store pages every 1000 keys);
//! * deletes — one DELETE per object deleted; `copy_opts` — one COPY.
//!
//! Failed requests are counted too (they were sent). Counters are atomics: cheap enough to
//! leave on, and shared by every clone of the store.

use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, UploadPart,
    OBJECT_STORE_COALESCE_DEFAULT,
};

use crate::io::storage::FileIO;

/// The kinds of object-store requests that are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestKind {
    /// A whole-object GET.
    Get,
    /// A GET of a byte range.
    RangedGet,
    /// A HEAD (object metadata only).
    Head,
    /// An unconditional PUT.
    Put,
    /// A create-only (`If-None-Match: *`) or versioned (`If-Match`) PUT.
    ConditionalPut,
    /// A request of a multipart upload (start, each part, finish).
    MultipartPut,
    /// A listing.
    List,
    /// An object deleted.
    Delete,
    /// A server-side copy.
    Copy,
}

const KINDS: usize = 9;

impl RequestKind {
    /// Every kind, in display order.
    pub const ALL: [RequestKind; KINDS] = [
        RequestKind::Get,
        RequestKind::RangedGet,
        RequestKind::Head,
        RequestKind::Put,
        RequestKind::ConditionalPut,
        RequestKind::MultipartPut,
        RequestKind::List,
        RequestKind::Delete,
        RequestKind::Copy,
    ];

    /// A short name: `GET`, `ranged GET`, `HEAD`, `PUT`, `conditional PUT`, `multipart PUT`,
    /// `LIST`, `DELETE`, `COPY`.
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Get => "GET",
            RequestKind::RangedGet => "ranged GET",
            RequestKind::Head => "HEAD",
            RequestKind::Put => "PUT",
            RequestKind::ConditionalPut => "conditional PUT",
            RequestKind::MultipartPut => "multipart PUT",
            RequestKind::List => "LIST",
            RequestKind::Delete => "DELETE",
            RequestKind::Copy => "COPY",
        }
    }

    /// Whether the request reads (GET, ranged GET, HEAD, LIST).
    pub fn is_read(self) -> bool {
        matches!(
            self,
            RequestKind::Get | RequestKind::RangedGet | RequestKind::Head | RequestKind::List
        )
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Live counters of requests and bytes per [`RequestKind`], shared by every store that
/// records into them.
#[derive(Debug, Default)]
pub struct StoreMetrics {
    requests: [AtomicU64; KINDS],
    bytes: [AtomicU64; KINDS],
}

impl StoreMetrics {
    /// Fresh counters, ready to share.
    pub fn new() -> Arc<Self> {
        Arc::new(StoreMetrics::default())
    }

    /// Records `requests` requests of `kind` moving `bytes` bytes.
    pub fn record(&self, kind: RequestKind, requests: u64, bytes: u64) {
        self.requests[kind.index()].fetch_add(requests, Ordering::Relaxed);
        self.bytes[kind.index()].fetch_add(bytes, Ordering::Relaxed);
    }

    /// The counts so far. Subtract an earlier snapshot ([`MetricsSnapshot::since`]) for the
    /// cost of one operation.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let mut s = MetricsSnapshot::default();
        for k in RequestKind::ALL {
            s.requests[k.index()] = self.requests[k.index()].load(Ordering::Relaxed);
            s.bytes[k.index()] = self.bytes[k.index()].load(Ordering::Relaxed);
        }
        s
    }

    /// Sets every counter back to zero.
    pub fn reset(&self) {
        for k in RequestKind::ALL {
            self.requests[k.index()].store(0, Ordering::Relaxed);
            self.bytes[k.index()].store(0, Ordering::Relaxed);
        }
    }
}

/// Counts at one moment (or the difference of two moments).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    requests: [u64; KINDS],
    bytes: [u64; KINDS],
}

impl MetricsSnapshot {
    /// Requests of one kind.
    pub fn requests(&self, kind: RequestKind) -> u64 {
        self.requests[kind.index()]
    }

    /// Bytes moved by requests of one kind.
    pub fn bytes(&self, kind: RequestKind) -> u64 {
        self.bytes[kind.index()]
    }

    /// All requests.
    pub fn total_requests(&self) -> u64 {
        self.requests.iter().sum()
    }

    /// All bytes, read and written.
    pub fn total_bytes(&self) -> u64 {
        self.bytes.iter().sum()
    }

    /// Read requests (GET, ranged GET, HEAD, LIST).
    pub fn read_requests(&self) -> u64 {
        Self::sum_over_reads(|k| self.requests(k))
    }

    /// Bytes read.
    pub fn read_bytes(&self) -> u64 {
        Self::sum_over_reads(|k| self.bytes(k))
    }

    fn sum_over_reads(count: impl Fn(RequestKind) -> u64) -> u64 {
        RequestKind::ALL
            .iter()
            .filter(|k| k.is_read())
            .map(|k| count(*k))
            .sum()
    }

    /// The counts accumulated since `earlier` (saturating at zero after a reset).
    pub fn since(&self, earlier: &MetricsSnapshot) -> MetricsSnapshot {
        let mut d = MetricsSnapshot::default();
        for i in 0..KINDS {
            d.requests[i] = self.requests[i].saturating_sub(earlier.requests[i]);
            d.bytes[i] = self.bytes[i].saturating_sub(earlier.bytes[i]);
        }
        d
    }

    /// Adds another snapshot's counts to this one.
    pub fn add(&mut self, other: &MetricsSnapshot) {
        for i in 0..KINDS {
            self.requests[i] += other.requests[i];
            self.bytes[i] += other.bytes[i];
        }
    }

    /// `(kind, requests, bytes)` for every kind with at least one request.
    pub fn iter(&self) -> impl Iterator<Item = (RequestKind, u64, u64)> + '_ {
        RequestKind::ALL
            .into_iter()
            .map(|k| (k, self.requests(k), self.bytes(k)))
            .filter(|(_, r, _)| *r > 0)
    }
}

/// `1536` → `1.5 KiB`: a byte count for people (binary units, one decimal).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

impl fmt::Display for MetricsSnapshot {
    /// `3 requests, 70.2 KiB (1 GET 2.1 KiB, 2 ranged GET 68.1 KiB)`, or `no requests`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.total_requests();
        if n == 0 {
            return f.write_str("no requests");
        }
        write!(
            f,
            "{n} request{}, {} (",
            if n == 1 { "" } else { "s" },
            human_bytes(self.total_bytes())
        )?;
        for (i, (k, r, b)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{r} {k} {}", human_bytes(b))?;
        }
        f.write_str(")")
    }
}

/// Wraps a store and records every request in a [`StoreMetrics`].
pub struct MeteredStore {
    inner: Arc<dyn ObjectStore>,
    metrics: Arc<StoreMetrics>,
}

impl MeteredStore {
    /// Wraps `inner` with fresh counters.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self::with_metrics(inner, StoreMetrics::new())
    }

    /// Wraps `inner`, recording into existing counters (to total several stores together).
    pub fn with_metrics(inner: Arc<dyn ObjectStore>, metrics: Arc<StoreMetrics>) -> Self {
        MeteredStore { inner, metrics }
    }

    /// The counters this store records into.
    pub fn metrics(&self) -> &Arc<StoreMetrics> {
        &self.metrics
    }

    /// The wrapped store.
    pub fn inner(&self) -> &Arc<dyn ObjectStore> {
        &self.inner
    }
}

/// A copy of `io` whose store counts its requests, and the counters.
pub fn metered_io(io: &FileIO) -> (FileIO, Arc<StoreMetrics>) {
    let store = MeteredStore::new(io.store.clone());
    let metrics = store.metrics().clone();
    (io.with_store(Arc::new(store)), metrics)
}

store_wrapper_fmt!(MeteredStore);

/// Ranges less than `gap` apart merged, as `object_store` does before fetching.
fn merged_ranges(ranges: &[Range<u64>], gap: u64) -> Vec<Range<u64>> {
    let mut sorted: Vec<Range<u64>> = ranges.to_vec();
    sorted.sort_unstable_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match out.last_mut() {
            Some(last) if r.start.saturating_sub(last.end) <= gap => {
                last.end = last.end.max(r.end);
            }
            _ => out.push(r),
        }
    }
    out
}

#[async_trait]
impl ObjectStore for MeteredStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let kind = match opts.mode {
            PutMode::Overwrite => RequestKind::Put,
            PutMode::Create | PutMode::Update(_) => RequestKind::ConditionalPut,
        };
        self.metrics
            .record(kind, 1, payload.content_length() as u64);
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.metrics.record(RequestKind::MultipartPut, 1, 0);
        let upload = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(MeteredUpload {
            inner: upload,
            metrics: self.metrics.clone(),
        }))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let kind = if options.head {
            RequestKind::Head
        } else if options.range.is_some() {
            RequestKind::RangedGet
        } else {
            RequestKind::Get
        };
        let result = self.inner.get_opts(location, options).await;
        let bytes = match (&result, kind) {
            (Ok(r), RequestKind::Get | RequestKind::RangedGet) => r.range.end - r.range.start,
            _ => 0,
        };
        self.metrics.record(kind, 1, bytes);
        result
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        let merged = merged_ranges(ranges, OBJECT_STORE_COALESCE_DEFAULT);
        let bytes = merged.iter().map(|r| r.end.saturating_sub(r.start)).sum();
        self.metrics
            .record(RequestKind::RangedGet, merged.len() as u64, bytes);
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let metrics = self.metrics.clone();
        let counted = locations
            .inspect(move |p| {
                if p.is_ok() {
                    metrics.record(RequestKind::Delete, 1, 0);
                }
            })
            .boxed();
        self.inner.delete_stream(counted)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.metrics.record(RequestKind::List, 1, 0);
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.metrics.record(RequestKind::List, 1, 0);
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.metrics.record(RequestKind::List, 1, 0);
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.metrics.record(RequestKind::Copy, 1, 0);
        self.inner.copy_opts(from, to, options).await
    }
}

/// Counts the parts and the completion of a multipart upload.
#[derive(Debug)]
struct MeteredUpload {
    inner: Box<dyn MultipartUpload>,
    metrics: Arc<StoreMetrics>,
}

#[async_trait]
impl MultipartUpload for MeteredUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        self.metrics
            .record(RequestKind::MultipartPut, 1, data.content_length() as u64);
        self.inner.put_part(data)
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        self.metrics.record(RequestKind::MultipartPut, 1, 0);
        self.inner.complete().await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.inner.abort().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;
    use object_store::memory::InMemory;
    use object_store::ObjectStoreExt;

    #[tokio::test]
    async fn counts_requests_and_bytes_by_kind() {
        let store = MeteredStore::new(Arc::new(InMemory::new()));
        let m = store.metrics().clone();
        let p = Path::from("a/b");
        store
            .put(&p, PutPayload::from_static(b"hello world"))
            .await
            .unwrap();
        let create = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        assert!(store
            .put_opts(&p, PutPayload::from_static(b"x"), create)
            .await
            .is_err());
        assert_eq!(
            store.get(&p).await.unwrap().bytes().await.unwrap().len(),
            11
        );
        assert_eq!(store.get_range(&p, 2..5).await.unwrap().as_ref(), b"llo");
        store.head(&p).await.unwrap();
        let parts = store.get_ranges(&p, &[0..1, 3..4, 9..11]).await.unwrap();
        assert_eq!(parts.len(), 3);
        let _: Vec<_> = store.list(None).try_collect().await.unwrap();
        store.list_with_delimiter(None).await.unwrap();
        store.copy(&p, &Path::from("c")).await.unwrap();
        store.delete(&Path::from("c")).await.unwrap();

        let s = m.snapshot();
        assert_eq!(s.requests(RequestKind::Put), 1);
        assert_eq!(s.bytes(RequestKind::Put), 11);
        assert_eq!(s.requests(RequestKind::ConditionalPut), 1);
        assert_eq!(s.requests(RequestKind::Get), 1);
        assert_eq!(s.bytes(RequestKind::Get), 11);
        // One ranged GET of 3 bytes, then three nearby ranges merged into one of 11 bytes.
        assert_eq!(s.requests(RequestKind::RangedGet), 2);
        assert_eq!(s.bytes(RequestKind::RangedGet), 3 + 11);
        assert_eq!(s.requests(RequestKind::Head), 1);
        assert_eq!(s.requests(RequestKind::List), 2);
        assert_eq!(s.requests(RequestKind::Copy), 1);
        assert_eq!(s.requests(RequestKind::Delete), 1);
        assert_eq!(s.read_requests(), 6);
        assert_eq!(s.total_requests(), 10);

        let before = m.snapshot();
        store.get_range(&p, 0..4).await.unwrap();
        let d = m.snapshot().since(&before);
        assert_eq!(d.total_requests(), 1);
        assert_eq!(d.to_string(), "1 request, 4 B (1 ranged GET 4 B)");
        m.reset();
        assert_eq!(m.snapshot().to_string(), "no requests");
    }

    #[tokio::test]
    async fn multipart_uploads_count_each_part() {
        let store = MeteredStore::new(Arc::new(InMemory::new()));
        let mut up = store.put_multipart(&Path::from("big")).await.unwrap();
        up.put_part(PutPayload::from(vec![0u8; 100])).await.unwrap();
        up.put_part(PutPayload::from(vec![0u8; 50])).await.unwrap();
        up.complete().await.unwrap();
        let s = store.metrics().snapshot();
        assert_eq!(s.requests(RequestKind::MultipartPut), 4);
        assert_eq!(s.bytes(RequestKind::MultipartPut), 150);
    }

    #[test]
    fn distant_ranges_stay_apart() {
        let m = merged_ranges(&[5..10, 0..2, 10 << 20..(10 << 20) + 1], 1 << 20);
        assert_eq!(m, vec![0..10, 10 << 20..(10 << 20) + 1]);
    }
}

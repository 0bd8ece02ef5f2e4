//! [`FaultyStore`]: an `ObjectStore` wrapper that injects faults at chosen operations, for
//! testing that commits survive failing storage. Each operation gets an index (counted from
//! 0 across all operations of the wrapper); a fault is armed for an index.

use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The operation fails without taking effect.
    Fail,
    /// The operation takes effect but the caller is told it failed (a lost acknowledgement).
    LoseAck,
    /// The operation hangs for the given time, then fails without effect (a timeout).
    Timeout(Duration),
    /// The operation succeeds after a delay.
    Slow(Duration),
    /// A listing returns only its first half.
    PartialList,
}

/// Wraps a store; counts operations; applies the fault armed for an operation index.
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    ops: AtomicUsize,
    armed: Mutex<Vec<(usize, Fault)>>,
    log: Mutex<Vec<String>>,
}

impl fmt::Debug for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultyStore({})", self.inner)
    }
}

impl fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultyStore({})", self.inner)
    }
}

fn injected(op: &str, path: &str) -> object_store::Error {
    object_store::Error::Generic {
        store: "FaultyStore",
        source: format!("injected fault in {op} {path}").into(),
    }
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        FaultyStore {
            inner,
            ops: AtomicUsize::new(0),
            armed: Mutex::new(vec![]),
            log: Mutex::new(vec![]),
        }
    }

    /// Arms `fault` for the operation with index `op_index`.
    pub fn arm(&self, op_index: usize, fault: Fault) {
        self.armed.lock().expect("lock").push((op_index, fault));
    }

    /// Operations seen so far.
    pub fn op_count(&self) -> usize {
        self.ops.load(Ordering::SeqCst)
    }

    /// `"<index> <op> <path>"` for every operation seen.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("lock").clone()
    }

    fn next(&self, op: &str, path: &str) -> Option<Fault> {
        let i = self.ops.fetch_add(1, Ordering::SeqCst);
        self.log
            .lock()
            .expect("lock")
            .push(format!("{i} {op} {path}"));
        let armed = self.armed.lock().expect("lock");
        armed.iter().find(|(at, _)| *at == i).map(|(_, f)| *f)
    }

    async fn before(&self, fault: Option<Fault>, op: &str, path: &str) -> object_store::Result<()> {
        match fault {
            Some(Fault::Fail) => Err(injected(op, path)),
            Some(Fault::Timeout(d)) => {
                tokio::time::sleep(d).await;
                Err(injected(op, path))
            }
            Some(Fault::Slow(d)) => {
                tokio::time::sleep(d).await;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn after<T>(
        fault: Option<Fault>,
        op: &str,
        path: &str,
        r: object_store::Result<T>,
    ) -> object_store::Result<T> {
        match (fault, r) {
            (Some(Fault::LoseAck), Ok(_)) => Err(injected(op, path)),
            (_, r) => r,
        }
    }
}

#[async_trait]
impl ObjectStore for FaultyStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let f = self.next("put", location.as_ref());
        self.before(f, "put", location.as_ref()).await?;
        let r = self.inner.put_opts(location, payload, opts).await;
        Self::after(f, "put", location.as_ref(), r)
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        let f = self.next("put_multipart", location.as_ref());
        self.before(f, "put_multipart", location.as_ref()).await?;
        let r = self.inner.put_multipart_opts(location, opts).await;
        Self::after(f, "put_multipart", location.as_ref(), r)
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let f = self.next("get", location.as_ref());
        self.before(f, "get", location.as_ref()).await?;
        let r = self.inner.get_opts(location, options).await;
        Self::after(f, "get", location.as_ref(), r)
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        let f = self.next("get_ranges", location.as_ref());
        self.before(f, "get_ranges", location.as_ref()).await?;
        let r = self.inner.get_ranges(location, ranges).await;
        Self::after(f, "get_ranges", location.as_ref(), r)
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        // Deletes are counted one stream at a time; a Fail fault drops the whole batch.
        let f = self.next("delete", "<stream>");
        if matches!(f, Some(Fault::Fail) | Some(Fault::Timeout(_))) {
            return futures::stream::once(async { Err(injected("delete", "<stream>")) }).boxed();
        }
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let p = prefix.map(|p| p.to_string()).unwrap_or_default();
        let f = self.next("list", &p);
        match f {
            Some(Fault::Fail) | Some(Fault::Timeout(_)) => {
                futures::stream::once(async move { Err(injected("list", &p)) }).boxed()
            }
            Some(Fault::PartialList) => {
                let inner = self.inner.list(prefix);
                futures::stream::once(async move {
                    let all: Vec<_> = inner.collect().await;
                    let half = all.len() / 2;
                    futures::stream::iter(all.into_iter().take(half))
                })
                .flatten()
                .boxed()
            }
            _ => self.inner.list(prefix),
        }
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let p = prefix.map(|p| p.to_string()).unwrap_or_default();
        let f = self.next("list", &p);
        self.before(f, "list", &p).await?;
        let mut r = self.inner.list_with_delimiter(prefix).await?;
        if f == Some(Fault::PartialList) {
            r.objects.truncate(r.objects.len() / 2);
        }
        Ok(r)
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        let f = self.next("copy", to.as_ref());
        self.before(f, "copy", to.as_ref()).await?;
        let r = self.inner.copy_opts(from, to, options).await;
        Self::after(f, "copy", to.as_ref(), r)
    }
}

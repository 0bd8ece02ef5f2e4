//! [`FaultyStore`]: an `ObjectStore` wrapper that injects faults at chosen operations, for
//! testing that commits survive failing storage. Each operation gets an index (counted from
//! 0 across all operations of the wrapper); a fault is armed for an index, for the n-th
//! operation matching an [`OpFilter`] (a kind of request and/or a path fragment), or for
//! every matching operation.
//!
//! This is a test tool reached only through the library API: nothing in the production code
//! paths builds a `FaultyStore`.
//!
//! ```
//! # use std::sync::Arc;
//! use streamhouse_format::io::faults::{Fault, FaultyStore, OpFilter, OpKind};
//! let store = FaultyStore::new(Arc::new(object_store::memory::InMemory::new()));
//! // The second create of a snapshot file succeeds but its answer is lost.
//! store.arm_nth(OpFilter::kind(OpKind::Put).path("snapshot/snapshot-"), 1, Fault::LoseAck);
//! ```

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
    /// A listing returns only its first half (other operations are unaffected).
    PartialList,
}

/// The kind of a storage operation, as the fault filter and the log name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// `get_opts` (whole or ranged) and `get_ranges`.
    Get,
    /// `get_opts` with `head`.
    Head,
    /// `put_opts` (plain or conditional) and the start of a multipart upload.
    Put,
    /// `list` and `list_with_delimiter`.
    List,
    /// One object of a delete.
    Delete,
    /// `copy_opts`.
    Copy,
}

impl OpKind {
    /// The name used in [`FaultyStore::log`]: `get`, `head`, `put`, `list`, `delete`, `copy`.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Get => "get",
            OpKind::Head => "head",
            OpKind::Put => "put",
            OpKind::List => "list",
            OpKind::Delete => "delete",
            OpKind::Copy => "copy",
        }
    }

    /// Every kind.
    pub const ALL: [OpKind; 6] = [
        OpKind::Get,
        OpKind::Head,
        OpKind::Put,
        OpKind::List,
        OpKind::Delete,
        OpKind::Copy,
    ];
}

/// Which operations a fault applies to: all, or those of one kind and/or whose path contains a
/// fragment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpFilter {
    kind: Option<OpKind>,
    path_contains: Option<String>,
}

impl OpFilter {
    /// Every operation.
    pub fn any() -> Self {
        OpFilter::default()
    }

    /// Operations of one kind.
    pub fn kind(kind: OpKind) -> Self {
        OpFilter {
            kind: Some(kind),
            path_contains: None,
        }
    }

    /// Only operations whose path contains `fragment` (a listing's path is its prefix).
    pub fn path(mut self, fragment: impl Into<String>) -> Self {
        self.path_contains = Some(fragment.into());
        self
    }

    pub fn matches(&self, kind: OpKind, path: &str) -> bool {
        self.kind.is_none_or(|k| k == kind)
            && self
                .path_contains
                .as_deref()
                .is_none_or(|f| path.contains(f))
    }
}

#[derive(Debug)]
enum Trigger {
    /// The operation with this global index.
    Index(usize),
    /// The matching operation after `skip` more matching ones.
    Nth { filter: OpFilter, skip: usize },
    /// Every matching operation.
    Every(OpFilter),
}

#[derive(Debug)]
struct Armed {
    trigger: Trigger,
    fault: Fault,
    spent: bool,
    /// Once this fault fires, every later operation fails (the caller lost the store).
    then_down: bool,
}

#[derive(Debug, Default)]
struct State {
    ops: AtomicUsize,
    fired: AtomicUsize,
    /// Every operation fails (set by a fault armed with `then_down`, cleared by `disarm`).
    down: std::sync::atomic::AtomicBool,
    armed: Mutex<Vec<Armed>>,
    log: Mutex<Vec<String>>,
}

impl State {
    /// Counts the operation, logs it, and returns the fault that applies to it, if any.
    fn next(&self, kind: OpKind, path: &str) -> Option<Fault> {
        let i = self.ops.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut log) = self.log.lock() {
            log.push(format!("{i} {} {path}", kind.name()));
        }
        if self.down.load(Ordering::SeqCst) {
            self.fired.fetch_add(1, Ordering::SeqCst);
            return Some(Fault::Fail);
        }
        let mut armed = self.armed.lock().ok()?;
        let mut found = None;
        for a in armed.iter_mut().filter(|a| !a.spent) {
            let fires = match &mut a.trigger {
                Trigger::Index(at) => *at == i,
                Trigger::Nth { filter, skip } => {
                    if !filter.matches(kind, path) {
                        false
                    } else if *skip == 0 {
                        true
                    } else {
                        *skip -= 1;
                        false
                    }
                }
                Trigger::Every(filter) => filter.matches(kind, path),
            };
            if fires && found.is_none() {
                found = Some(a.fault);
                if a.then_down {
                    self.down.store(true, Ordering::SeqCst);
                }
                if !matches!(a.trigger, Trigger::Every(_)) {
                    a.spent = true;
                }
            }
        }
        // A partial-list fault on anything but a listing is no fault.
        if found == Some(Fault::PartialList) && kind != OpKind::List {
            return None;
        }
        if found.is_some() {
            self.fired.fetch_add(1, Ordering::SeqCst);
        }
        found
    }
}

/// Wraps a store; counts operations; applies the faults armed for them.
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    state: Arc<State>,
}

store_wrapper_fmt!(FaultyStore);

fn injected(op: &str, path: &str) -> object_store::Error {
    object_store::Error::Generic {
        store: "FaultyStore",
        source: format!("injected fault in {op} {path}").into(),
    }
}

async fn before(fault: Option<Fault>, op: &str, path: &str) -> object_store::Result<()> {
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

impl FaultyStore {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        FaultyStore {
            inner,
            state: Arc::new(State::default()),
        }
    }

    /// Arms `fault` for the operation with global index `op_index`.
    pub fn arm(&self, op_index: usize, fault: Fault) {
        self.push(Trigger::Index(op_index), fault);
    }

    /// Arms `fault` for the `n`-th (from 0) operation matching `filter`, counting from now.
    pub fn arm_nth(&self, filter: OpFilter, n: usize, fault: Fault) {
        self.push(Trigger::Nth { filter, skip: n }, fault);
    }

    /// Arms `fault` for every operation matching `filter` from now on (until [`disarm`]).
    ///
    /// [`disarm`]: FaultyStore::disarm
    pub fn arm_every(&self, filter: OpFilter, fault: Fault) {
        self.push(Trigger::Every(filter), fault);
    }

    /// The `n`-th (from 0) operation matching `filter` takes effect but its caller is told
    /// it failed, and every operation after it fails until [`disarm`]: a process that loses
    /// the store right after a write landed (so it cannot find out that it did).
    ///
    /// [`disarm`]: FaultyStore::disarm
    pub fn arm_lost_ack_then_down(&self, filter: OpFilter, n: usize) {
        if let Ok(mut armed) = self.state.armed.lock() {
            armed.push(Armed {
                trigger: Trigger::Nth { filter, skip: n },
                fault: Fault::LoseAck,
                spent: false,
                then_down: true,
            });
        }
    }

    /// Removes every armed fault: the store behaves like the one it wraps again.
    pub fn disarm(&self) {
        if let Ok(mut armed) = self.state.armed.lock() {
            armed.clear();
        }
        self.state.down.store(false, Ordering::SeqCst);
    }

    fn push(&self, trigger: Trigger, fault: Fault) {
        if let Ok(mut armed) = self.state.armed.lock() {
            armed.push(Armed {
                trigger,
                fault,
                spent: false,
                then_down: false,
            });
        }
    }

    /// Operations seen so far.
    pub fn op_count(&self) -> usize {
        self.state.ops.load(Ordering::SeqCst)
    }

    /// Faults that took effect so far (a test can check that the fault it armed happened).
    pub fn faults_fired(&self) -> usize {
        self.state.fired.load(Ordering::SeqCst)
    }

    /// `"<index> <op> <path>"` for every operation seen.
    pub fn log(&self) -> Vec<String> {
        self.state.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Operations seen so far that match `filter`.
    pub fn count(&self, filter: &OpFilter) -> usize {
        self.log()
            .iter()
            .filter(|line| {
                let mut parts = line.splitn(3, ' ');
                let (_, op, path) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
                OpKind::ALL
                    .iter()
                    .find(|k| Some(k.name()) == op)
                    .is_some_and(|k| filter.matches(*k, path))
            })
            .count()
    }

    fn next(&self, kind: OpKind, path: &str) -> Option<Fault> {
        self.state.next(kind, path)
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
        let f = self.next(OpKind::Put, location.as_ref());
        before(f, "put", location.as_ref()).await?;
        let r = self.inner.put_opts(location, payload, opts).await;
        after(f, "put", location.as_ref(), r)
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        let f = self.next(OpKind::Put, location.as_ref());
        before(f, "put_multipart", location.as_ref()).await?;
        let r = self.inner.put_multipart_opts(location, opts).await;
        after(f, "put_multipart", location.as_ref(), r)
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let kind = if options.head {
            OpKind::Head
        } else {
            OpKind::Get
        };
        let f = self.next(kind, location.as_ref());
        before(f, kind.name(), location.as_ref()).await?;
        let r = self.inner.get_opts(location, options).await;
        after(f, kind.name(), location.as_ref(), r)
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        let f = self.next(OpKind::Get, location.as_ref());
        before(f, "get_ranges", location.as_ref()).await?;
        let r = self.inner.get_ranges(location, ranges).await;
        after(f, "get_ranges", location.as_ref(), r)
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        // Each object deleted is one operation with its own index and fault.
        let state = self.state.clone();
        let inner = self.inner.clone();
        locations
            .then(move |location| {
                let state = state.clone();
                let inner = inner.clone();
                async move {
                    let location = location?;
                    let f = state.next(OpKind::Delete, location.as_ref());
                    before(f, "delete", location.as_ref()).await?;
                    let one = futures::stream::once(futures::future::ready(Ok(location.clone())));
                    let r = match inner.delete_stream(one.boxed()).next().await {
                        Some(r) => r,
                        None => Ok(location.clone()),
                    };
                    after(f, "delete", location.as_ref(), r)
                }
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let p = prefix.map(|p| p.to_string()).unwrap_or_default();
        let f = self.next(OpKind::List, &p);
        let inner = self.inner.list(prefix);
        match f {
            None => inner,
            Some(Fault::PartialList) => futures::stream::once(async move {
                let all: Vec<_> = inner.collect().await;
                let half = all.len() / 2;
                futures::stream::iter(all.into_iter().take(half))
            })
            .flatten()
            .boxed(),
            Some(Fault::Slow(d)) => futures::stream::once(async move {
                tokio::time::sleep(d).await;
                inner
            })
            .flatten()
            .boxed(),
            Some(fault) => futures::stream::once(async move {
                // A listing reads nothing, so a lost answer is a failure too.
                let e = before(Some(fault), "list", &p).await.err();
                Err(e.unwrap_or_else(|| injected("list", &p)))
            })
            .boxed(),
        }
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let p = prefix.map(|p| p.to_string()).unwrap_or_default();
        let f = self.next(OpKind::List, &p);
        before(f, "list", &p).await?;
        let mut r = after(f, "list", &p, self.inner.list_with_delimiter(prefix).await)?;
        if f == Some(Fault::PartialList) {
            r.objects.truncate(r.objects.len() / 2);
            r.common_prefixes.truncate(r.common_prefixes.len() / 2);
        }
        Ok(r)
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        let f = self.next(OpKind::Copy, to.as_ref());
        before(f, "copy", to.as_ref()).await?;
        let r = self.inner.copy_opts(from, to, options).await;
        after(f, "copy", to.as_ref(), r)
    }
}

/// The environment variable that names the crash point at which a process kills itself
/// (`kill -9`) — for crash tests only: unset, [`crash_point`] does nothing.
pub const CRASH_POINT_ENV: &str = "STREAMHOUSE_CRASH_POINT";

/// Every named step at which [`crash_point`] is called: `<commit kind>.<step>` of the one
/// commit path (a writer's APPEND, in-writer and service compaction's COMPACT), then the steps
/// of expiration, orphan cleanup, tags and consumers. Crash tests loop over this list.
pub const CRASH_POINTS: &[&str] = &[
    "append.files-uploaded",
    "append.manifests-written",
    "append.snapshot-written",
    "append.hint-written",
    "compact.files-uploaded",
    "compact.manifests-written",
    "compact.snapshot-written",
    "compact.hint-written",
    "expire.data-file-deleted",
    "expire.manifests-deleted",
    "expire.snapshot-deleted",
    "expire.snapshots-deleted",
    "clean-orphans.file-deleted",
    "tag.created",
    "tag.deleted",
    "consumer.written",
];

/// A named step (one of [`CRASH_POINTS`]): when the process's [`CRASH_POINT_ENV`] names it,
/// the process says so on stderr and dies at once by `kill -9` (no destructor, no flush, as a
/// machine losing power would leave it). Costs one comparison otherwise.
pub fn crash_point(name: &str) {
    static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let at = AT.get_or_init(|| {
        std::env::var(CRASH_POINT_ENV)
            .ok()
            .filter(|v| !v.is_empty())
    });
    if at.as_deref() != Some(name) {
        return;
    }
    debug_assert!(CRASH_POINTS.contains(&name), "unlisted crash point {name}");
    eprintln!("streamhouse: crash point {name}: kill -9");
    let pid = std::process::id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid])
        .status();
    // `kill` missing: the closest thing without running destructors.
    std::process::abort();
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;
    use object_store::memory::InMemory;
    use object_store::ObjectStoreExt;

    #[tokio::test]
    async fn faults_by_kind_and_path() {
        let store = FaultyStore::new(Arc::new(InMemory::new()));
        let a = Path::from("t/snapshot/snapshot-1");
        let b = Path::from("t/manifest/m-1");
        store.arm_nth(
            OpFilter::kind(OpKind::Put).path("snapshot/"),
            1,
            Fault::LoseAck,
        );
        store.put(&b, PutPayload::from_static(b"m")).await.unwrap();
        store.put(&a, PutPayload::from_static(b"1")).await.unwrap();
        assert_eq!(store.faults_fired(), 0);
        // The second matching put lands, but its caller hears a failure.
        assert!(store.put(&a, PutPayload::from_static(b"2")).await.is_err());
        assert_eq!(store.faults_fired(), 1);
        let got = store.get(&a).await.unwrap().bytes().await.unwrap();
        assert_eq!(&got[..], b"2");

        store.arm_every(OpFilter::kind(OpKind::Delete), Fault::Fail);
        assert!(store.delete(&b).await.is_err());
        assert!(
            store.head(&b).await.is_ok(),
            "a failed delete has no effect"
        );
        store.disarm();
        store.delete(&b).await.unwrap();
        assert!(store.head(&b).await.is_err());

        store.arm_nth(OpFilter::kind(OpKind::List), 0, Fault::PartialList);
        store.put(&b, PutPayload::from_static(b"m")).await.unwrap();
        let listed: Vec<_> = store
            .list(Some(&Path::from("t")))
            .try_collect()
            .await
            .unwrap();
        assert_eq!(listed.len(), 1, "half of two objects");
        assert_eq!(store.count(&OpFilter::kind(OpKind::Delete)), 2);
        assert_eq!(store.count(&OpFilter::any().path("manifest")), 6);
    }

    #[tokio::test]
    async fn a_lost_delete_acknowledgement_deletes() {
        let store = FaultyStore::new(Arc::new(InMemory::new()));
        let p = Path::from("x");
        store.put(&p, PutPayload::from_static(b"x")).await.unwrap();
        store.arm_nth(OpFilter::kind(OpKind::Delete), 0, Fault::LoseAck);
        assert!(store.delete(&p).await.is_err());
        assert!(store.head(&p).await.is_err(), "the delete took effect");
    }
}

//! [`SimStore`]: the simulated object store. Every operation draws its fate from the seeded
//! generator, in the order operations arrive: a latency, and with the schedule's
//! [`FaultRates`] a failure without effect, a timeout, a lost acknowledgement (the operation
//! took effect but the caller hears a failure), or for listings a partial or stale answer
//! (objects created in the last moments missing). Listings report an object's creation time
//! by the simulated clock as its last-modified time.
//!
//! Beside the live objects the store keeps an archive that nothing deletes from: every object
//! that was ever written, as last written. The checks read the history of the table (every
//! snapshot ever published and the files it names) from it, and the store remembers who
//! deleted what, so a missing file can be blamed.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

use super::clock::SimClock;
use super::rng::SimRng;

tokio::task_local! {
    /// The name of the simulated actor running the current task (for blame in reports).
    pub static ACTOR: String;
}

/// The actor running now, or `background` for tasks the library spawned itself.
pub fn current_actor() -> String {
    ACTOR
        .try_with(|a| a.clone())
        .unwrap_or_else(|_| "background".into())
}

/// How often each fault happens, per operation (0.0 to 1.0), and how long things take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultRates {
    pub fail: f64,
    pub lose_ack: f64,
    pub timeout: f64,
    pub partial_list: f64,
    pub stale_list: f64,
    /// Latency of every operation, milliseconds, drawn uniformly.
    pub latency_ms: (u64, u64),
    /// How long a timed-out operation hangs before failing.
    pub timeout_ms: u64,
    /// How long a new object stays out of stale listings.
    pub stale_ms: u64,
}

impl FaultRates {
    /// No faults and no latency.
    pub const NONE: FaultRates = FaultRates {
        fail: 0.0,
        lose_ack: 0.0,
        timeout: 0.0,
        partial_list: 0.0,
        stale_list: 0.0,
        latency_ms: (0, 0),
        timeout_ms: 0,
        stale_ms: 0,
    };

    /// Rates for one schedule: calm, moderate or harsh, drawn from the seed.
    pub fn draw(rng: &mut SimRng) -> FaultRates {
        let level = [0.0, 0.005, 0.01, 0.03][rng.below(4) as usize];
        FaultRates {
            fail: level,
            lose_ack: level,
            timeout: level / 2.0,
            partial_list: level,
            stale_list: level * 2.0,
            latency_ms: (1, rng.between(2, 40)),
            timeout_ms: rng.between(500, 5_000),
            stale_ms: rng.between(100, 2_000),
        }
    }
}

/// What happened to the operations so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreCounts {
    pub ops: u64,
    pub failed: u64,
    pub lost_acks: u64,
    pub timeouts: u64,
    pub partial_lists: u64,
    pub stale_lists: u64,
}

/// One deletion that took effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    pub by: String,
    pub at_millis: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    Ok,
    Fail,
    LoseAck,
    Timeout,
    /// A listing that keeps only this fraction of its objects (in listing order).
    Partial(f64),
    Stale,
}

#[derive(Debug, Clone, Copy)]
struct Decision {
    fate: Fate,
    latency: Duration,
}

#[derive(Debug)]
struct State {
    rng: SimRng,
    rates: FaultRates,
    faults_on: bool,
    created: HashMap<String, i64>,
    deletions: HashMap<String, Deletion>,
    counts: StoreCounts,
    /// A hash of the multiset of every operation's kind, masked path and fate: equal traces
    /// mean a schedule replayed the same operations with the same fates.
    trace: u64,
}

/// The simulated store (see the module doc). Cheap to clone; clones share everything.
#[derive(Debug, Clone)]
pub struct SimStore {
    live: Arc<InMemory>,
    archive: Arc<InMemory>,
    clock: SimClock,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Display for SimStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SimStore")
    }
}

fn injected(what: &str, op: &str, path: &str) -> object_store::Error {
    object_store::Error::Generic {
        store: "SimStore",
        source: format!("injected {what} in {op} {path}").into(),
    }
}

/// The path with generated names (runs of 8 or more hex digits and dashes) masked, so that
/// traces do not depend on random file names.
fn masked(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut run = String::new();
    for c in path.chars().chain(std::iter::once('/')) {
        if c.is_ascii_hexdigit() || c == '-' {
            run.push(c);
            continue;
        }
        if run.len() >= 8 {
            out.push('*');
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

fn fnv(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

impl SimStore {
    pub fn new(rng: SimRng, rates: FaultRates, clock: SimClock) -> SimStore {
        SimStore {
            live: Arc::new(InMemory::new()),
            archive: Arc::new(InMemory::new()),
            clock,
            state: Arc::new(Mutex::new(State {
                rng,
                rates,
                faults_on: false,
                created: HashMap::new(),
                deletions: HashMap::new(),
                counts: StoreCounts::default(),
                trace: 0,
            })),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Turns faults and latency on or off (setup and the checks run without them).
    pub fn set_faults(&self, on: bool) {
        self.state().faults_on = on;
    }

    pub fn counts(&self) -> StoreCounts {
        self.state().counts
    }

    pub fn trace(&self) -> u64 {
        self.state().trace
    }

    /// Every object ever written, as last written (nothing is deleted from it).
    pub fn archive(&self) -> Arc<dyn ObjectStore> {
        self.archive.clone()
    }

    /// Who deleted `path`, if a deletion of it took effect.
    pub fn deletion(&self, path: &str) -> Option<Deletion> {
        self.state().deletions.get(path).cloned()
    }

    /// Whether `path` exists now (no fault, no latency, not counted).
    pub async fn exists(&self, path: &Path) -> bool {
        self.live.head(path).await.is_ok()
    }

    /// Draws the fate of one operation. `kind` is `put`, `get`, `head`, `list`, `delete` or
    /// `copy`; acknowledgements are lost only for operations with effects.
    fn decide(&self, kind: &str, path: &str) -> Decision {
        let mut s = self.state();
        s.counts.ops += 1;
        let decision = if !s.faults_on {
            Decision {
                fate: Fate::Ok,
                latency: Duration::ZERO,
            }
        } else {
            let r = s.rates;
            let latency = Duration::from_millis(s.rng.between(r.latency_ms.0, r.latency_ms.1));
            let mutating = matches!(kind, "put" | "delete" | "copy");
            let fate = if s.rng.chance(r.fail) {
                Fate::Fail
            } else if s.rng.chance(r.timeout) {
                Fate::Timeout
            } else if mutating && s.rng.chance(r.lose_ack) {
                Fate::LoseAck
            } else if kind == "list" && s.rng.chance(r.partial_list) {
                Fate::Partial(s.rng.below(100) as f64 / 100.0)
            } else if kind == "list" && s.rng.chance(r.stale_list) {
                Fate::Stale
            } else {
                Fate::Ok
            };
            Decision { fate, latency }
        };
        match decision.fate {
            Fate::Fail => s.counts.failed += 1,
            Fate::LoseAck => s.counts.lost_acks += 1,
            Fate::Timeout => s.counts.timeouts += 1,
            Fate::Partial(_) => s.counts.partial_lists += 1,
            Fate::Stale => s.counts.stale_lists += 1,
            Fate::Ok => {}
        }
        let line = format!("{kind} {} {:?}", masked(path), decision.fate);
        // Summed, not chained: the writer flushes buckets on blocking threads, so two puts
        // of different buckets may arrive in either order on replay.
        s.trace = s
            .trace
            .wrapping_add(fnv(0xcbf2_9ce4_8422_2325, line.as_bytes()));
        if decision.fate != Fate::Ok && std::env::var_os("STREAMHOUSE_SIM_TRACE").is_some() {
            let at = self.clock.millis() - super::world::START_MILLIS;
            eprintln!(
                "+{at} ms {}: {kind} {path} {:?}",
                current_actor(),
                decision.fate
            );
        }
        decision
    }

    /// Waits the latency, then fails the operation if its fate says so (before any effect).
    async fn before(&self, d: Decision, op: &str, path: &str) -> object_store::Result<()> {
        if !d.latency.is_zero() {
            tokio::time::sleep(d.latency).await;
        }
        match d.fate {
            Fate::Fail => Err(injected("failure", op, path)),
            Fate::Timeout => {
                let ms = self.state().rates.timeout_ms;
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Err(injected("timeout", op, path))
            }
            _ => Ok(()),
        }
    }

    fn after<T>(
        d: Decision,
        op: &str,
        path: &str,
        r: object_store::Result<T>,
    ) -> object_store::Result<T> {
        match (d.fate, r) {
            (Fate::LoseAck, Ok(_)) => Err(injected("lost acknowledgement", op, path)),
            (_, r) => r,
        }
    }

    fn created_now(&self, path: &str) {
        let now = self.clock.millis();
        let mut s = self.state();
        s.created.insert(path.to_string(), now);
        s.deletions.remove(path);
    }

    /// The listing as the fate shapes it; last-modified times by the simulated clock.
    fn shape(&self, fate: Fate, mut objects: Vec<ObjectMeta>) -> Vec<ObjectMeta> {
        let now = self.clock.millis();
        let s = self.state();
        for o in objects.iter_mut() {
            if let Some(t) = s.created.get(o.location.as_ref()) {
                if let Some(dt) = chrono::DateTime::from_timestamp_millis(*t) {
                    o.last_modified = dt;
                }
            }
        }
        match fate {
            Fate::Partial(keep) => {
                let n = (objects.len() as f64 * keep) as usize;
                objects.truncate(n);
            }
            Fate::Stale => {
                let window = s.rates.stale_ms as i64;
                objects.retain(|o| {
                    s.created
                        .get(o.location.as_ref())
                        .is_none_or(|t| *t <= now - window)
                });
            }
            _ => {}
        }
        objects
    }
}

#[async_trait]
impl ObjectStore for SimStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let path = location.as_ref();
        let d = self.decide("put", path);
        self.before(d, "put", path).await?;
        let r = self.live.put_opts(location, payload.clone(), opts).await;
        // The archive keeps every snapshot: an `EARLIEST` hint would hide the expired ones.
        if r.is_ok() && !path.ends_with("/EARLIEST") {
            self.archive.put(location, payload).await?;
            self.created_now(path);
        }
        Self::after(d, "put", path, r)
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        _opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        // Not archived: the simulation must see every write; nothing uses multipart today.
        Err(injected(
            "refusal (multipart is not simulated)",
            "put_multipart",
            location.as_ref(),
        ))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let kind = if options.head { "head" } else { "get" };
        let path = location.as_ref();
        let d = self.decide(kind, path);
        self.before(d, kind, path).await?;
        self.live.get_opts(location, options).await
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        let path = location.as_ref();
        let d = self.decide("get", path);
        self.before(d, "get_ranges", path).await?;
        self.live.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let this = self.clone();
        locations
            .then(move |location| {
                let this = this.clone();
                async move {
                    let location = location?;
                    let path = location.as_ref().to_string();
                    let d = this.decide("delete", &path);
                    this.before(d, "delete", &path).await?;
                    let r = this.live.delete(&location).await;
                    if r.is_ok() {
                        let at_millis = this.clock.millis();
                        let by = current_actor();
                        this.state()
                            .deletions
                            .insert(path.clone(), Deletion { by, at_millis });
                    }
                    Self::after(d, "delete", &path, r.map(|_| location))
                }
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let p = prefix.map(|p| p.to_string()).unwrap_or_default();
        let d = self.decide("list", &p);
        let this = self.clone();
        let prefix = prefix.cloned();
        futures::stream::once(async move {
            this.before(d, "list", &p).await?;
            let all: Vec<ObjectMeta> = this.live.list(prefix.as_ref()).try_collect().await?;
            let shaped = this.shape(d.fate, all);
            Ok::<_, object_store::Error>(futures::stream::iter(shaped.into_iter().map(Ok)))
        })
        .try_flatten()
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let p = prefix.map(|p| p.to_string()).unwrap_or_default();
        let d = self.decide("list", &p);
        self.before(d, "list", &p).await?;
        let mut r = self.live.list_with_delimiter(prefix).await?;
        r.objects = self.shape(d.fate, std::mem::take(&mut r.objects));
        if let Fate::Partial(keep) = d.fate {
            let n = (r.common_prefixes.len() as f64 * keep) as usize;
            r.common_prefixes.truncate(n);
        }
        Ok(r)
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        let path = to.as_ref();
        let d = self.decide("copy", path);
        self.before(d, "copy", path).await?;
        let r = self.live.copy_opts(from, to, options.clone()).await;
        if r.is_ok() {
            self.archive.copy_opts(from, to, options).await?;
            self.created_now(path);
        }
        Self::after(d, "copy", path, r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_masked() {
        assert_eq!(
            masked("db.db/t/bucket-0/data-0f9c2b6e-11aa-4c3e-9d2b-3f2a1b0c9d8e-0.parquet"),
            "db.db/t/bucket-0/dat*.parquet"
        );
        assert_eq!(
            masked("db.db/t/snapshot/snapshot-12"),
            "db.db/t/snapshot/snapshot-12"
        );
    }
}

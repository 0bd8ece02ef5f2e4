//! Point lookups by primary key, straight on the table's files (spec/lookup.md).
//!
//! ```no_run
//! # async fn f(table: &streamhouse_format::io::Table) -> streamhouse_format::Result<()> {
//! use streamhouse_format::datum::Datum;
//! use streamhouse_reader::lookup::{LookupHandle, LookupOptions};
//! let handle = LookupHandle::open(table, LookupOptions::default()).await?;
//! if let Some(row) = handle.get(&[Datum::BigInt(42)]).await? {
//!     println!("{row:?}"); // one row, the table's columns
//! }
//! let many = handle.get_many(&[vec![Datum::BigInt(1)], vec![Datum::BigInt(2)]]).await?;
//! println!("{} of 2 found", many.rows.num_rows());
//! handle.refresh().await?; // pick up new commits
//! # Ok(()) }
//! ```
//!
//! A key is one [`Datum`] per primary-key column, in the order of the table's primary key
//! (partition columns included). The answer is exactly what a full scan of the same snapshot
//! holds for that key: deletes are respected, partial-update, aggregation and first-row tables
//! return the merged row, deletion-vector tables skip level 0 and apply their vectors.
//!
//! The path of a key: its partition and bucket ([`KeyRouter`]) → the bucket's files whose
//! `_MIN_KEY`..`_MAX_KEY` holds it, newest sorted run first → the Parquet bloom filters of the
//! `_KEY_*` columns → the page index → one decoded page → its records, merged. ORC and Avro
//! data files have neither bloom filters nor page indexes here: such a file is decoded whole
//! once and searched in memory (`whole_file`). A [`LookupHandle`] keeps what it learns in
//! byte-bounded LRU caches (manifests and index files, footers with page indexes, bloom
//! filters, decoded pages and whole ORC/Avro files), so a warm lookup does no I/O.
//!
//! [`KeyRouter`]: streamhouse_format::route::KeyRouter

mod cache;
mod counters;
mod file_index;
mod meta_store;
mod probe;
mod state;
mod unit;
mod whole_file;

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use futures::{FutureExt, StreamExt};
use streamhouse_format::datum::{compare_keys, Datum};
use streamhouse_format::io::metrics::{MeteredStore, StoreMetrics};
use streamhouse_format::io::Table;
use streamhouse_format::types::DataField;
use streamhouse_format::Result;

pub use cache::CacheCounters;
pub use counters::LookupCounters;

use counters::Counters;
pub use meta_store::MetadataCacheStore;
use probe::{Caches, Found, Probe, ProbeSettings};
use state::{FileIds, SnapshotState};
use unit::KeyMatcher;

const MIB: usize = 1024 * 1024;

/// Settings of a [`LookupHandle`].
#[derive(Debug, Clone)]
pub struct LookupOptions {
    /// Bytes of immutable metadata files kept (manifests, index manifests, deletion-vector
    /// index files) and of parsed deletion vectors.
    pub metadata_cache_bytes: usize,
    /// Bytes of Parquet footers with their page indexes.
    pub footer_cache_bytes: usize,
    /// Bytes of key-column bloom filters.
    pub bloom_cache_bytes: usize,
    /// Bytes of decoded pages (units), and of whole decoded ORC and Avro files.
    pub page_cache_bytes: usize,
    /// Pick up new snapshots by itself: before a lookup, when this long has passed since the
    /// last check. `None`: only [`LookupHandle::refresh`] moves the handle.
    pub refresh_interval: Option<Duration>,
    /// Keys looked up at the same time by [`LookupHandle::get_many`] (I/O overlaps).
    pub concurrency: usize,
    /// Consult Parquet bloom filters (off: every file in key range is searched).
    pub use_bloom_filters: bool,
    /// Consult page indexes (off: a key's unit is its whole row group).
    pub use_page_index: bool,
}

impl Default for LookupOptions {
    fn default() -> Self {
        LookupOptions {
            metadata_cache_bytes: 64 * MIB,
            footer_cache_bytes: 64 * MIB,
            bloom_cache_bytes: 64 * MIB,
            page_cache_bytes: 256 * MIB,
            refresh_interval: None,
            concurrency: 8,
            use_bloom_filters: true,
            use_page_index: true,
        }
    }
}

/// The answer to [`LookupHandle::get_many`].
#[derive(Debug, Clone)]
pub struct GetResult {
    /// The found rows (the table's columns), in the order of the keys that found them.
    pub rows: RecordBatch,
    /// Per key: its row in `rows`, or `None` when the key is absent.
    pub positions: Vec<Option<usize>>,
    /// The snapshot answered from (`None` for a table without commits).
    pub snapshot_id: Option<i64>,
}

impl GetResult {
    /// Whether key `i` was found.
    pub fn found(&self, i: usize) -> bool {
        self.positions.get(i).copied().flatten().is_some()
    }

    /// Key `i`'s row as a one-row batch.
    pub fn row(&self, i: usize) -> Option<RecordBatch> {
        self.positions
            .get(i)
            .copied()
            .flatten()
            .map(|r| self.rows.slice(r, 1))
    }
}

/// Hit/miss counters and sizes of a handle's caches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub metadata: CacheCounters,
    pub footers: CacheCounters,
    pub blooms: CacheCounters,
    pub pages: CacheCounters,
    pub deletion_vectors: CacheCounters,
}

struct Current {
    state: Arc<SnapshotState>,
    matcher: Arc<KeyMatcher>,
}

impl Current {
    /// A snapshot's state with a key matcher for its key types.
    fn new(state: SnapshotState) -> Result<Current> {
        let types = state.ctx.key_fields.iter().map(|f| f.data_type.clone());
        Ok(Current {
            matcher: Arc::new(KeyMatcher::new(types.collect())?),
            state: Arc::new(state),
        })
    }
}

struct Inner {
    /// The table, reading through the metadata cache and the metered store.
    table: Mutex<Table>,
    options: LookupOptions,
    metrics: Arc<StoreMetrics>,
    meta_store: Arc<MetadataCacheStore>,
    caches: Caches,
    counters: Counters,
    file_ids: FileIds,
    current: RwLock<Current>,
    /// Pinned to a snapshot by [`LookupHandle::open_at`]: no interval refresh.
    pinned: Mutex<bool>,
    last_refresh: Mutex<Instant>,
}

/// A long-lived lookup handle on one table: answers gets at its current snapshot, caches
/// what it reads, and moves to newer snapshots on [`refresh`](Self::refresh) (or by itself,
/// see [`LookupOptions::refresh_interval`]). Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct LookupHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for LookupHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "LookupHandle({} at snapshot {:?})",
            self.table().name,
            self.snapshot_id()
        )
    }
}

fn read_lock<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl LookupHandle {
    /// Opens a handle at the latest snapshot.
    pub async fn open(table: &Table, options: LookupOptions) -> Result<Self> {
        Self::open_inner(table, None, options).await
    }

    /// Opens a handle pinned to snapshot `id` (an interval never moves it; `refresh` does).
    pub async fn open_at(table: &Table, id: i64, options: LookupOptions) -> Result<Self> {
        Self::open_inner(table, Some(id), options).await
    }

    async fn open_inner(
        table: &Table,
        snapshot: Option<i64>,
        options: LookupOptions,
    ) -> Result<Self> {
        let metered = MeteredStore::new(table.io.store.clone());
        let metrics = metered.metrics().clone();
        let meta_store = Arc::new(MetadataCacheStore::new(
            Arc::new(metered),
            options.metadata_cache_bytes,
        ));
        let mut table = table.clone();
        table.io = table.io.with_store(meta_store.clone());
        let file_ids = FileIds::default();
        let state = SnapshotState::load(&table, snapshot, &file_ids).await?;
        let caches = Caches {
            footers: cache::SharedLru::new(options.footer_cache_bytes),
            blooms: cache::SharedLru::new(options.bloom_cache_bytes),
            units: cache::SharedLru::new(options.page_cache_bytes),
            dvs: cache::SharedLru::new(options.metadata_cache_bytes),
        };
        Ok(LookupHandle {
            inner: Arc::new(Inner {
                table: Mutex::new(table),
                options,
                metrics,
                meta_store,
                caches,
                counters: Counters::default(),
                file_ids,
                current: RwLock::new(Current::new(state)?),
                pinned: Mutex::new(snapshot.is_some()),
                last_refresh: Mutex::new(Instant::now()),
            }),
        })
    }

    fn table(&self) -> Table {
        lock(&self.inner.table).clone()
    }

    /// The snapshot lookups answer from (`None` for a table without commits).
    pub fn snapshot_id(&self) -> Option<i64> {
        read_lock(&self.inner.current).state.snapshot_id
    }

    /// Data files the current snapshot's lookups may visit (level 0 excluded where the scan
    /// skips it).
    pub fn file_count(&self) -> usize {
        read_lock(&self.inner.current).state.file_count
    }

    /// The primary-key columns, in the order a key gives their values.
    pub fn key_fields(&self) -> Vec<DataField> {
        read_lock(&self.inner.current)
            .state
            .router
            .key_fields()
            .to_vec()
    }

    /// The columns of found rows (every table column, as a scan returns them).
    pub fn output_schema(&self) -> SchemaRef {
        read_lock(&self.inner.current)
            .state
            .ctx
            .output_schema
            .clone()
    }

    /// Object-store traffic of this handle so far (subtract snapshots for one call's cost).
    pub fn metrics(&self) -> &Arc<StoreMetrics> {
        &self.inner.metrics
    }

    /// Work counters of this handle so far.
    pub fn counters(&self) -> LookupCounters {
        self.inner.counters.load()
    }

    /// Hits, misses and sizes of the caches.
    pub fn cache_stats(&self) -> CacheStats {
        let c = &self.inner.caches;
        CacheStats {
            metadata: self.inner.meta_store.counters(),
            footers: c.footers.counters(),
            blooms: c.blooms.counters(),
            pages: c.units.counters(),
            deletion_vectors: c.dvs.counters(),
        }
    }

    /// Moves to the latest snapshot (unpinning a handle opened at a snapshot). Returns the
    /// snapshot now answered from. Unchanged manifests come from the metadata cache and
    /// cached footers, blooms and pages stay valid (data files never change).
    pub async fn refresh(&self) -> Result<Option<i64>> {
        *lock(&self.inner.pinned) = false;
        self.move_to(None).await
    }

    /// Moves to snapshot `id` and pins the handle there.
    pub async fn refresh_to(&self, id: i64) -> Result<()> {
        *lock(&self.inner.pinned) = true;
        self.move_to(Some(id)).await.map(|_| ())
    }

    async fn move_to(&self, id: Option<i64>) -> Result<Option<i64>> {
        *lock(&self.inner.last_refresh) = Instant::now();
        let mut table = self.table();
        let target = match id {
            Some(id) => Some(id),
            None => table.latest_snapshot_id().await?,
        };
        if target.is_some() && target == self.snapshot_id() {
            return Ok(target);
        }
        // A newer schema (columns added) is picked up with the snapshot.
        if let Some(t) = target {
            let snap = table.snapshot(t).await?;
            if snap.schema_id > table.schema.id {
                let reopened =
                    Table::open(table.io.clone(), table.root.clone(), table.name.clone()).await?;
                table = reopened;
                *lock(&self.inner.table) = table.clone();
            }
        }
        let state = SnapshotState::load(&table, target, &self.inner.file_ids).await?;
        let next = Current::new(state)?;
        let mut cur = self
            .inner
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner());
        *cur = next;
        Ok(cur.state.snapshot_id)
    }

    async fn maybe_refresh(&self) -> Result<()> {
        let Some(every) = self.inner.options.refresh_interval else {
            return Ok(());
        };
        if *lock(&self.inner.pinned) || lock(&self.inner.last_refresh).elapsed() < every {
            return Ok(());
        }
        self.move_to(None).await.map(|_| ())
    }

    /// The row of one key (one datum per primary-key column), or `None` when absent.
    pub async fn get(&self, key: &[Datum]) -> Result<Option<RecordBatch>> {
        let r = self.get_many(std::slice::from_ref(&key.to_vec())).await?;
        Ok(r.row(0))
    }

    /// The rows of many keys at one snapshot.
    pub async fn get_many(&self, keys: &[Vec<Datum>]) -> Result<GetResult> {
        self.maybe_refresh().await?;
        let (state, matcher) = {
            let cur = read_lock(&self.inner.current);
            (cur.state.clone(), cur.matcher.clone())
        };
        let settings = ProbeSettings {
            use_bloom_filters: self.inner.options.use_bloom_filters,
            use_page_index: self.inner.options.use_page_index,
        };
        let inner = &self.inner;
        let make_probe = || Probe::new(&state, &inner.caches, &inner.counters, &matcher, settings);
        // Many keys are visited in key order, so neighbours share cached pages; answers keep
        // the order of `keys`.
        let mut order: Vec<usize> = (0..keys.len()).collect();
        if keys.len() > 1 {
            order.sort_by(|a, b| compare_keys(&keys[*a], &keys[*b]));
        }
        let mut found: Vec<Found> = vec![Found::Absent; keys.len()];
        // First from the caches alone: a lookup whose data is all cached completes on its
        // first poll, with no task or I/O machinery. The rest then read what they need,
        // `concurrency` keys at a time.
        let mut pending = vec![];
        {
            let mut probe = make_probe();
            probe.cached_only = true;
            for i in order {
                match probe.lookup(&keys[i]).now_or_never() {
                    Some(Ok(f)) => found[i] = f,
                    Some(Err(e)) if !probe.take_needed_io() => return Err(e),
                    _ => pending.push(i),
                }
            }
        }
        if pending.len() == 1 || inner.options.concurrency <= 1 {
            let mut probe = make_probe();
            for i in pending {
                found[i] = probe.lookup(&keys[i]).await?;
            }
        } else if !pending.is_empty() {
            let answers: Vec<(usize, Result<Found>)> = futures::stream::iter(pending)
                .map(|i| {
                    let mut probe = make_probe();
                    async move { (i, probe.lookup(&keys[i]).await) }
                })
                .buffered(inner.options.concurrency)
                .collect()
                .await;
            for (i, f) in answers {
                found[i] = f?;
            }
        }
        let (rows, positions) = probe::assemble(&state.ctx, &found)?;
        Ok(GetResult {
            rows,
            positions,
            snapshot_id: state.snapshot_id,
        })
    }
}

/// One-shot lookup of `keys` at `snapshot` (latest when `None`) with a fresh handle.
pub async fn get(table: &Table, keys: &[Vec<Datum>], snapshot: Option<i64>) -> Result<GetResult> {
    let handle = match snapshot {
        Some(id) => LookupHandle::open_at(table, id, LookupOptions::default()).await?,
        None => LookupHandle::open(table, LookupOptions::default()).await?,
    };
    handle.get_many(keys).await
}

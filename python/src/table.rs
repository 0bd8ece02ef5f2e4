//! `Table`: writes, deletes, scans, lookups, tails and maintenance of one table.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::array::{
    ArrayRef, Int64Array, RecordBatch, RecordBatchReader, StringArray, TimestampMillisecondArray,
};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType as ArrowType, Field, Schema, TimeUnit};
use arrow::ffi_stream::ArrowArrayStreamReader;
use arrow_pyarrow::{FromPyArrow, ToPyArrow};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use streamhouse::{Error, Lookup, Scan, StagedFiles, StartPosition, Table, Writer};

use crate::catalog::{check_open, Closed};
use crate::errors::{invalid, Outcome};
use crate::runtime::{block, check_signals, wait, wait_lib};
use crate::stream::{ScanBatches, TailBatches};

/// A builder's setter applied only to an argument Python gave (not None).
trait SetSome: Sized {
    fn set_some<T>(self, value: Option<T>, set: impl FnOnce(Self, T) -> Self) -> Self {
        match value {
            Some(v) => set(self, v),
            None => self,
        }
    }
}

impl SetSome for Scan {}

/// The native table; `streamhouse.Table` wraps it.
#[pyclass(name = "NativeTable", module = "streamhouse._streamhouse", frozen)]
pub struct PyTable {
    table: Table,
    closed: Closed,
    /// The lookup index of the last `get`, kept warm between calls.
    lookup: Mutex<Option<CachedLookup>>,
}

/// A lookup index and when it last looked for a newer snapshot (`None`: this table committed
/// since, so the next `get` must look).
#[derive(Clone)]
struct CachedLookup {
    lookup: Arc<Lookup>,
    checked: Option<Instant>,
}

impl PyTable {
    fn build_scan(
        &self,
        columns: Option<Vec<String>>,
        filter: Option<String>,
        snapshot_id: Option<i64>,
    ) -> Scan {
        self.table
            .scan()
            .set_some(columns, |s, c| s.columns(c))
            .set_some(filter, Scan::filter)
            .set_some(snapshot_id, Scan::snapshot)
    }

    pub fn new(table: Table, closed: Closed) -> Self {
        PyTable {
            table,
            closed,
            lookup: Mutex::new(None),
        }
    }

    fn check(&self, py: Python<'_>) -> PyResult<()> {
        check_open(py, &self.closed, self.table.warehouse_url())
    }

    /// After a commit through this table: its next `get` sees the commit (read your writes).
    fn committed(&self) {
        if let Ok(mut slot) = self.lookup.lock() {
            if let Some(cached) = slot.as_mut() {
                cached.checked = None;
            }
        }
    }

    fn reader(
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        what: &str,
    ) -> PyResult<ArrowArrayStreamReader> {
        ArrowArrayStreamReader::from_pyarrow_bound(data).map_err(|e| {
            invalid(
                py,
                format!("{what} must be Arrow data (an object with __arrow_c_stream__): {e}"),
            )
        })
    }

    /// All batches of `reader` as one (the keys of a lookup or delete).
    fn concat(reader: ArrowArrayStreamReader) -> Outcome<RecordBatch> {
        let schema = reader.schema();
        let mut batches = vec![];
        for b in reader {
            batches.push(b.map_err(|e| Error::arrow("reading the keys", e))?);
        }
        Ok(concat_batches(&schema, &batches).map_err(|e| Error::arrow("joining the keys", e))?)
    }
}

/// Writes every batch of `reader` with `writer` (the `rowkind` column split off, the rest cast
/// to the table's types), checking for signals between batches. Commits nothing.
fn write_all(writer: &mut Writer, reader: ArrowArrayStreamReader) -> Outcome<u64> {
    let table = writer.table().clone();
    let mut first = 1u64;
    for batch in reader {
        check_signals()?;
        let batch = batch.map_err(|e| Error::arrow("reading the input", e))?;
        if batch.num_rows() == 0 {
            continue;
        }
        let n = batch.num_rows() as u64;
        let label = format!("input rows {first}-{}", first + n - 1);
        let (rows, kinds) = table.split_row_kinds(&batch, &label)?;
        let rows = table.conform(&rows, &label)?;
        block(async {
            match &kinds {
                Some(k) => writer.write_with_kinds(&rows, k).await?,
                None => writer.write(&rows).await?,
            }
            Ok(())
        })?;
        first += n;
    }
    Ok(first - 1)
}

/// Opens a writer, runs `fill`, and commits once; on any failure (a signal included) the
/// files written are removed and nothing is committed. Returns the snapshot of the rows.
fn write_once(
    table: &Table,
    fill: impl FnOnce(&mut Writer) -> Outcome<u64>,
) -> Outcome<Option<i64>> {
    let mut writer = block(async { Ok(table.writer().await?) })?;
    if let Err(e) = fill(&mut writer) {
        let _ = block(async { Ok(writer.abort().await?) });
        return Err(e);
    }
    let commit = block(async { Ok(writer.commit().await?) })?;
    // In-writer compaction of what was just written runs on; wait for it as `streamhouse
    // write` does, so the table is left compacted per its options. Its failure never fails
    // the (committed) write.
    let _ = block(async { Ok(writer.close().await?) });
    Ok(commit.snapshot_ids.last().copied())
}

fn seconds_to_duration(py: Python<'_>, secs: f64, what: &str) -> PyResult<Duration> {
    Duration::try_from_secs_f64(secs).map_err(|_| {
        invalid(
            py,
            format!("{what} must be a non-negative number of seconds, not {secs}"),
        )
    })
}

#[pymethods]
impl PyTable {
    /// `db.table`.
    #[getter]
    fn name(&self) -> &str {
        self.table.name()
    }

    #[getter]
    fn schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.table.arrow_schema().as_ref().to_pyarrow(py)
    }

    #[getter]
    fn primary_key(&self) -> Vec<String> {
        self.table.schema().primary_keys.clone()
    }

    #[getter]
    fn partition_by(&self) -> Vec<String> {
        self.table.schema().partition_keys.clone()
    }

    #[getter]
    fn options(&self) -> BTreeMap<String, String> {
        self.table.schema().options.clone()
    }

    fn latest_snapshot_id(&self, py: Python<'_>) -> PyResult<Option<i64>> {
        self.check(py)?;
        let t = self.table.clone();
        wait_lib(py, || async move { t.latest_snapshot_id().await })
    }

    fn write(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
        self.check(py)?;
        let reader = Self::reader(py, data, "data")?;
        let table = self.table.clone();
        let written = py.detach(|| write_once(&table, |w| write_all(w, reader)));
        self.committed();
        written.map_err(|f| crate::errors::failure_to_py(py, f))
    }

    fn delete(&self, py: Python<'_>, keys: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
        self.check(py)?;
        let reader = Self::reader(py, keys, "keys")?;
        let table = self.table.clone();
        let deleted = py.detach(|| {
            let keys = Self::concat(reader)?;
            // Checked before a writer starts, so bad keys leave no trace.
            table.delete_rows(&keys, "keys")?;
            write_once(&table, |w| {
                block(async { Ok(w.delete(&keys).await?) })?;
                Ok(keys.num_rows() as u64)
            })
        });
        self.committed();
        deleted.map_err(|f| crate::errors::failure_to_py(py, f))
    }

    #[pyo3(signature = (columns = None, filter = None, snapshot_id = None, as_of_millis = None, tag = None, limit = None))]
    #[allow(clippy::too_many_arguments)]
    fn scan(
        &self,
        py: Python<'_>,
        columns: Option<Vec<String>>,
        filter: Option<String>,
        snapshot_id: Option<i64>,
        as_of_millis: Option<i64>,
        tag: Option<String>,
        limit: Option<usize>,
    ) -> PyResult<ScanBatches> {
        self.check(py)?;
        let travel = [snapshot_id.is_some(), as_of_millis.is_some(), tag.is_some()];
        if travel.iter().filter(|t| **t).count() > 1 {
            return Err(invalid(
                py,
                "give at most one of snapshot_id, as_of and tag",
            ));
        }
        let scan = self
            .build_scan(columns, filter, snapshot_id)
            .set_some(as_of_millis, Scan::as_of)
            .set_some(tag, Scan::tag)
            .set_some(limit, Scan::limit);
        let schema = crate::errors::lib(py, scan.output_schema())?;
        let stream = wait_lib(py, || async move { scan.stream().await })?;
        Ok(ScanBatches::new(schema, stream))
    }

    /// Plans a scan without reading: the snapshot it reads and the rows stored in each split
    /// (partition and bucket file group), for distributing the splits (streamhouse.ray).
    #[pyo3(signature = (columns = None, filter = None, snapshot_id = None))]
    fn plan_splits(
        &self,
        py: Python<'_>,
        columns: Option<Vec<String>>,
        filter: Option<String>,
        snapshot_id: Option<i64>,
    ) -> PyResult<(Option<i64>, Vec<i64>)> {
        self.check(py)?;
        let scan = self.build_scan(columns, filter, snapshot_id);
        wait_lib(py, || async move {
            let plan = scan.plan().await?;
            Ok((plan.snapshot_id(), plan.split_rows()))
        })
    }

    /// Reads the splits at `positions` of the plan of the same arguments (see plan_splits).
    #[pyo3(signature = (snapshot_id, positions, columns = None, filter = None))]
    fn scan_splits(
        &self,
        py: Python<'_>,
        snapshot_id: i64,
        positions: Vec<usize>,
        columns: Option<Vec<String>>,
        filter: Option<String>,
    ) -> PyResult<ScanBatches> {
        self.check(py)?;
        let scan = self.build_scan(columns, filter, Some(snapshot_id));
        let schema = crate::errors::lib(py, scan.output_schema())?;
        let stream = wait_lib(py, || async move {
            let mut plan = scan.plan().await?;
            plan.retain_splits(&positions);
            plan.execute().await
        })?;
        Ok(ScanBatches::new(schema, stream))
    }

    /// Writes `data` into files WITHOUT committing; returns them (as manifest bytes: data,
    /// changelog) for commit_staged, which may run in another process.
    fn stage<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        self.check(py)?;
        let reader = Self::reader(py, data, "data")?;
        let table = self.table.clone();
        let staged = py
            .detach(|| -> Outcome<StagedFiles> {
                let mut writer = block(async { Ok(table.writer().await?) })?;
                let staged = match write_all(&mut writer, reader) {
                    Ok(_) => block(async { Ok(writer.stage().await?) }),
                    Err(e) => Err(e),
                };
                if staged.is_err() {
                    let _ = block(async { Ok(writer.abort().await?) });
                }
                staged
            })
            .map_err(|f| crate::errors::failure_to_py(py, f))?;
        Ok((
            PyBytes::new(py, &staged.data),
            PyBytes::new(py, &staged.changelog),
        ))
    }

    /// Commits staged files (from stage, in any process) as ONE snapshot; returns its id.
    fn commit_staged(
        &self,
        py: Python<'_>,
        staged: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> PyResult<Option<i64>> {
        self.check(py)?;
        let staged: Vec<StagedFiles> = staged
            .into_iter()
            .map(|(data, changelog)| StagedFiles { data, changelog })
            .collect();
        let t = self.table.clone();
        let snapshot = wait_lib(py, || async move { t.commit_staged(&staged).await });
        self.committed();
        snapshot
    }

    /// The rows of the keys in `keys` (primary-key columns): the found rows in key order, and
    /// for each key its row or None.
    #[pyo3(signature = (keys, max_staleness = 0.1))]
    fn get_many<'py>(
        &self,
        py: Python<'py>,
        keys: &Bound<'py, PyAny>,
        max_staleness: f64,
    ) -> PyResult<(Bound<'py, PyAny>, Vec<Option<usize>>)> {
        self.check(py)?;
        let max_staleness = seconds_to_duration(py, max_staleness, "max_staleness")?;
        let reader = Self::reader(py, keys, "keys")?;
        let table = self.table.clone();
        let cached = self.lookup.lock().map(|l| l.clone()).unwrap_or(None);
        let (result, cached) = wait(py, || async move {
            let keys = Self::concat(reader)?;
            let keys = table.key_rows(&keys, "keys")?;
            let cached = match cached {
                // Looking for a newer snapshot costs a few object-store requests: done at most
                // once per `max_staleness`, and always after this table's own commits.
                Some(c) if c.checked.is_some_and(|t| t.elapsed() < max_staleness) => c,
                Some(c) => {
                    c.lookup.refresh().await?;
                    CachedLookup {
                        lookup: c.lookup,
                        checked: Some(Instant::now()),
                    }
                }
                None => CachedLookup {
                    lookup: Arc::new(table.lookup(None).await?),
                    checked: Some(Instant::now()),
                },
            };
            let result = cached.lookup.get_many(&keys).await?;
            Ok((result, cached))
        })?;
        if let Ok(mut slot) = self.lookup.lock() {
            *slot = Some(cached);
        }
        Ok((result.rows.to_pyarrow(py)?, result.positions))
    }

    #[pyo3(signature = (start = "latest-full".to_string(), consumer = None, follow = false, timeout = None, columns = None))]
    fn tail(
        &self,
        py: Python<'_>,
        start: String,
        consumer: Option<String>,
        follow: bool,
        timeout: Option<f64>,
        columns: Option<Vec<String>>,
    ) -> PyResult<TailBatches> {
        self.check(py)?;
        let start: StartPosition = crate::errors::lib(py, start.parse())?;
        let timeout = timeout
            .map(|s| seconds_to_duration(py, s, "timeout"))
            .transpose()?;
        let mut builder = self.table.tail().from(start).follow(follow);
        if let Some(c) = consumer {
            builder = builder.consumer(c);
        }
        if let Some(c) = columns {
            builder = builder.columns(c);
        }
        let stream = wait_lib(py, || async move { builder.changes().await })?;
        Ok(TailBatches::new(stream, timeout))
    }

    /// Compacts the table once (all buckets committed as one COMPACT snapshot).
    #[pyo3(signature = (full = false))]
    fn compact<'py>(&self, py: Python<'py>, full: bool) -> PyResult<Bound<'py, PyDict>> {
        self.check(py)?;
        let compaction = self.table.compact().full(full);
        let report = wait_lib(py, || async move { compaction.run_once().await });
        self.committed();
        let report = report?;
        let out = PyDict::new(py);
        let snapshot = report.compacted.iter().map(|c| c.snapshot_id).max();
        out.set_item("snapshot_id", snapshot)?;
        out.set_item("buckets", report.compacted.len())?;
        let mut totals = [0u64; 4];
        for c in &report.compacted {
            let parts = [
                c.files_before as u64,
                c.files_after as u64,
                c.bytes_read,
                c.bytes_written,
            ];
            for (total, part) in totals.iter_mut().zip(parts) {
                *total += part;
            }
        }
        let keys = ["files_before", "files_after", "bytes_read", "bytes_written"];
        for (key, total) in keys.into_iter().zip(totals) {
            out.set_item(key, total)?;
        }
        out.set_item("gave_up", report.gave_up)?;
        Ok(out)
    }

    /// Expires snapshots; returns the ids deleted.
    #[pyo3(signature = (retain_max = None, older_than = None, retain_min = None))]
    fn expire(
        &self,
        py: Python<'_>,
        retain_max: Option<u64>,
        older_than: Option<f64>,
        retain_min: Option<u64>,
    ) -> PyResult<Vec<i64>> {
        self.check(py)?;
        let mut expire = crate::errors::lib(py, self.table.expire())?;
        if let Some(n) = retain_min {
            expire = expire.retain_min(n);
        }
        if let Some(n) = retain_max {
            expire = expire.retain_max(n);
        }
        if let Some(s) = older_than {
            expire = expire.older_than(seconds_to_duration(py, s, "older_than")?);
        }
        let report = wait_lib(py, || async move { expire.run().await })?;
        Ok(report.expired)
    }

    /// Every snapshot as one record batch.
    fn snapshots<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.check(py)?;
        let t = self.table.clone();
        let snapshots = wait_lib(py, || async move { t.snapshots().await })?;
        let ints = |f: &dyn Fn(&streamhouse::Snapshot) -> Option<i64>| -> ArrayRef {
            Arc::new(snapshots.iter().map(f).collect::<Int64Array>())
        };
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("snapshot_id", ints(&|s| Some(s.id))),
            ("schema_id", ints(&|s| Some(s.schema_id))),
            (
                "commit_kind",
                Arc::new(StringArray::from_iter_values(
                    snapshots.iter().map(|s| s.commit_kind.to_string()),
                )),
            ),
            (
                "commit_time",
                Arc::new(
                    TimestampMillisecondArray::from_iter_values(
                        snapshots.iter().map(|s| s.time_millis),
                    )
                    .with_timezone("UTC"),
                ),
            ),
            ("total_record_count", ints(&|s| s.total_record_count)),
            ("delta_record_count", ints(&|s| s.delta_record_count)),
            (
                "changelog_record_count",
                ints(&|s| s.changelog_record_count),
            ),
            (
                "commit_user",
                Arc::new(StringArray::from_iter_values(
                    snapshots.iter().map(|s| s.commit_user.clone()),
                )),
            ),
            ("commit_identifier", ints(&|s| Some(s.commit_identifier))),
            ("watermark", ints(&|s| s.watermark)),
        ];
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, a)| {
                let nullable = !matches!(
                    *n,
                    "snapshot_id"
                        | "schema_id"
                        | "commit_kind"
                        | "commit_time"
                        | "commit_user"
                        | "commit_identifier"
                );
                let ty = match a.data_type() {
                    ArrowType::Timestamp(_, _) => {
                        ArrowType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
                    }
                    t => t.clone(),
                };
                Field::new(*n, ty, nullable)
            })
            .collect();
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .map_err(|e| crate::errors::to_py(py, Error::arrow("listing snapshots", e)))?;
        batch.to_pyarrow(py)
    }

    /// Tags a snapshot (the latest when None); returns the snapshot id tagged.
    #[pyo3(signature = (name, snapshot_id = None, retain = None))]
    fn create_tag(
        &self,
        py: Python<'_>,
        name: String,
        snapshot_id: Option<i64>,
        retain: Option<f64>,
    ) -> PyResult<i64> {
        self.check(py)?;
        let retain = retain
            .map(|s| seconds_to_duration(py, s, "retain"))
            .transpose()?;
        let t = self.table.clone();
        let tag = wait_lib(py, || async move {
            t.create_tag(&name, snapshot_id, retain).await
        })?;
        Ok(tag.snapshot.id)
    }

    /// Tags as (name, snapshot id) pairs.
    fn tags(&self, py: Python<'_>) -> PyResult<Vec<(String, i64)>> {
        self.check(py)?;
        let t = self.table.clone();
        let tags = wait_lib(py, || async move { t.tags().await })?;
        Ok(tags.into_iter().map(|t| (t.name, t.snapshot.id)).collect())
    }

    fn delete_tag(&self, py: Python<'_>, name: String) -> PyResult<i64> {
        self.check(py)?;
        let t = self.table.clone();
        let tag = wait_lib(py, || async move { t.delete_tag(&name).await })?;
        Ok(tag.snapshot.id)
    }
}

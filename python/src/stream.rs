//! The iterators behind `Table.scan` and `Table.tail`: each `__next__` releases the GIL, waits
//! for the next batch (checking for Ctrl-C) and hands it to pyarrow through the C data
//! interface.

use std::sync::Mutex;
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow_pyarrow::ToPyArrow;
use futures::stream::BoxStream;
use futures::StreamExt;
use pyo3::prelude::*;
use streamhouse::{ChangeBatch, RecordBatchStream};

use crate::errors::Failure;
use crate::runtime::wait;

/// The column of a tail's batches holding each row's change kind.
const ROW_KIND_COLUMN: &str = "_row_kind";

/// A scan's batches (`streamhouse.Table.scan` wraps it in a `pyarrow.RecordBatchReader`).
#[pyclass(module = "streamhouse._streamhouse", frozen)]
pub struct ScanBatches {
    schema: SchemaRef,
    stream: Mutex<Option<RecordBatchStream>>,
}

impl ScanBatches {
    pub fn new(schema: SchemaRef, stream: RecordBatchStream) -> Self {
        ScanBatches {
            schema,
            stream: Mutex::new(Some(stream)),
        }
    }
}

/// Takes the stream out of its slot for one step (so no lock is held while waiting).
fn take<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock().ok().and_then(|mut s| s.take())
}

fn put_back<T>(slot: &Mutex<Option<T>>, value: T) {
    if let Ok(mut s) = slot.lock() {
        *s = Some(value);
    }
}

#[pymethods]
impl ScanBatches {
    /// The batches' schema as a `pyarrow.Schema`.
    #[getter]
    fn schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.schema.as_ref().to_pyarrow(py)
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(mut stream) = take(&self.stream) else {
            return Ok(None);
        };
        // On an error or a signal the stream is dropped: the scan is over.
        let next = wait(py, || async { Ok(stream.next().await.transpose()?) })?;
        let Some(batch) = next else {
            return Ok(None);
        };
        put_back(&self.stream, stream);
        // The planned schema when it only differs in metadata or nullability flags, so that
        // pyarrow sees one schema throughout; else the batch as read.
        let batch = batch
            .clone()
            .with_schema(self.schema.clone())
            .unwrap_or(batch);
        Ok(Some(batch.to_pyarrow(py)?))
    }

    /// Stops the scan; later calls end at once.
    fn close(&self) {
        take(&self.stream);
    }
}

/// A tail's change batches: the rows with a first column `_row_kind` (`+I`, `-U`, `+U`,
/// `-D`) and, as `snapshot_id`, the snapshot of the last batch.
#[pyclass(module = "streamhouse._streamhouse", frozen)]
pub struct TailBatches {
    stream: Mutex<Option<BoxStream<'static, streamhouse::Result<ChangeBatch>>>>,
    timeout: Option<Duration>,
    last_snapshot: Mutex<Option<i64>>,
}

impl TailBatches {
    pub fn new(
        stream: BoxStream<'static, streamhouse::Result<ChangeBatch>>,
        timeout: Option<Duration>,
    ) -> Self {
        TailBatches {
            stream: Mutex::new(Some(stream)),
            timeout,
            last_snapshot: Mutex::new(None),
        }
    }
}

#[pymethods]
impl TailBatches {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(mut stream) = take(&self.stream) else {
            return Ok(None);
        };
        let timeout = self.timeout;
        let next = wait(py, || async {
            let next = match timeout {
                Some(t) => match tokio::time::timeout(t, stream.next()).await {
                    Ok(n) => n,
                    // Nothing new within the timeout: the iteration ends.
                    Err(_) => return Ok(None),
                },
                None => stream.next().await,
            };
            let Some(change) = next.transpose()? else {
                return Ok(None);
            };
            let batch = change.with_kind_column(ROW_KIND_COLUMN)?;
            Ok::<_, Failure>(Some((change.snapshot_id, batch)))
        })?;
        let Some((snapshot, batch)) = next else {
            return Ok(None);
        };
        put_back(&self.stream, stream);
        if let Ok(mut s) = self.last_snapshot.lock() {
            *s = Some(snapshot);
        }
        Ok(Some(batch.to_pyarrow(py)?))
    }

    /// The snapshot the last batch came from.
    #[getter]
    fn snapshot_id(&self) -> Option<i64> {
        self.last_snapshot.lock().ok().and_then(|s| *s)
    }

    /// Stops the tail; later calls end at once.
    fn close(&self) {
        take(&self.stream);
    }

    #[getter]
    fn closed(&self) -> bool {
        self.stream.lock().map(|s| s.is_none()).unwrap_or(true)
    }
}

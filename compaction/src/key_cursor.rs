//! A sorted merged stream walked forward by key: the changelog producers join the merged
//! state of several level sets by key, and first-row compaction asks whether a key already
//! exists in the levels a compaction leaves untouched.

use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::row::{OwnedRow, RowConverter, Rows, SortField};
use futures::stream::BoxStream;
use futures::StreamExt;
use streamhouse_format::{Error, Result};
use streamhouse_writer::file_writer::FileLayout;

/// Row encoding of the key columns of a bucket's records (the first columns of the layout).
pub(crate) fn key_converter(layout: &FileLayout) -> Result<RowConverter> {
    RowConverter::new(
        layout
            .key_fields
            .iter()
            .map(|f| SortField::new(f.data_type.to_arrow()))
            .collect(),
    )
    .map_err(|e| Error::arrow("key comparator", e))
}

/// A merged stream with its current row and encoded keys.
pub(crate) struct Cursor {
    stream: BoxStream<'static, Result<RecordBatch>>,
    pub(crate) batch: Option<(RecordBatch, Rows)>,
    pub(crate) pos: usize,
}

impl Cursor {
    pub(crate) fn new(stream: BoxStream<'static, Result<RecordBatch>>) -> Self {
        Cursor {
            stream,
            batch: None,
            pos: 0,
        }
    }

    /// Makes the current row valid; false when the stream is exhausted.
    pub(crate) async fn fill(&mut self, conv: &RowConverter, nk: usize) -> Result<bool> {
        loop {
            if let Some((b, _)) = &self.batch {
                if self.pos < b.num_rows() {
                    return Ok(true);
                }
            }
            match self.stream.next().await {
                None => {
                    self.batch = None;
                    return Ok(false);
                }
                Some(b) => {
                    let b = b?;
                    let cols: Vec<_> = b.columns()[..nk].to_vec();
                    let rows = conv
                        .convert_columns(&cols)
                        .map_err(|e| Error::arrow("encoding changelog keys", e))?;
                    self.batch = Some((b, rows));
                    self.pos = 0;
                }
            }
        }
    }

    /// Advances to the first row whose key is ≥ `key`; returns that row if its key equals it.
    pub(crate) async fn seek(
        &mut self,
        conv: &RowConverter,
        nk: usize,
        key: &OwnedRow,
    ) -> Result<Option<RecordBatch>> {
        while self.fill(conv, nk).await? {
            let (b, rows) = self.batch.as_ref().expect("filled");
            match rows.row(self.pos).cmp(&key.row()) {
                std::cmp::Ordering::Less => self.pos += 1,
                std::cmp::Ordering::Equal => return Ok(Some(b.slice(self.pos, 1))),
                std::cmp::Ordering::Greater => return Ok(None),
            }
        }
        Ok(None)
    }
}

/// Drops the records whose key exists in other runs: a first-row compaction that leaves
/// higher levels untouched must not write a key those levels hold (the first version is
/// there), so that levels ≥ 1 hold each key once, as Java's readers of first-row tables, which
/// do not merge, expect. Batches must come in key order.
pub(crate) struct ExistingKeys {
    cursor: Cursor,
    conv: RowConverter,
    nk: usize,
}

impl ExistingKeys {
    pub(crate) fn new(
        stream: BoxStream<'static, Result<RecordBatch>>,
        layout: &FileLayout,
    ) -> Result<Self> {
        Ok(ExistingKeys {
            cursor: Cursor::new(stream),
            conv: key_converter(layout)?,
            nk: layout.key_fields.len(),
        })
    }

    /// The rows of `batch` (key columns first, ascending keys) whose key is not in the runs.
    pub(crate) async fn retain_new(&mut self, batch: RecordBatch) -> Result<RecordBatch> {
        let keys = self
            .conv
            .convert_columns(&batch.columns()[..self.nk])
            .map_err(|e| Error::arrow("encoding keys", e))?;
        let mut keep = Vec::with_capacity(batch.num_rows());
        for i in 0..batch.num_rows() {
            let key = keys.row(i).owned();
            keep.push(self.seek(&key).await?.is_none());
        }
        if keep.iter().all(|k| *k) {
            return Ok(batch);
        }
        filter_record_batch(&batch, &BooleanArray::from(keep))
            .map_err(|e| Error::arrow("dropping keys higher levels hold", e))
    }

    async fn seek(&mut self, key: &OwnedRow) -> Result<Option<RecordBatch>> {
        self.cursor.seek(&self.conv, self.nk, key).await
    }
}

//! # streamhouse-writer
//!
//! Arrow record batches in, Paimon data files and commits out.
//!
//! (API stub; implementation in progress.)

use arrow::record_batch::RecordBatch;
use streamhouse_format::io::Table;
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::Result;

/// What a commit wrote.
#[derive(Debug, Clone, Default)]
pub struct WriteSummary {
    pub rows: u64,
    pub files: usize,
    pub bytes: u64,
    /// Snapshots created (an APPEND, and a COMPACT when compaction ran).
    pub snapshot_ids: Vec<i64>,
}

pub struct TableWriter {
    _table: Table,
}

impl TableWriter {
    pub async fn new(table: Table) -> Result<Self> {
        Ok(TableWriter { _table: table })
    }
    /// Writes rows as inserts. The batch must hold the table's columns (see [`conform_batch`]).
    pub async fn write(&mut self, _batch: &RecordBatch) -> Result<()> {
        todo!()
    }
    /// Writes rows with a row kind each.
    pub async fn write_with_kinds(&mut self, _batch: &RecordBatch, _kinds: &[RowKind]) -> Result<()> {
        todo!()
    }
    /// Flushes every buffer and commits; nothing is visible before this returns.
    pub async fn commit(&mut self) -> Result<WriteSummary> {
        todo!()
    }
    /// Deletes files written since the last commit.
    pub async fn abort(&mut self) -> Result<()> {
        todo!()
    }
}

/// Matches a batch's columns to the table's by name and casts them to the table's types.
/// Unknown columns and missing non-nullable columns are errors naming the column; missing
/// nullable columns are filled with nulls. `source` names the input in errors.
pub fn conform_batch(_schema: &TableSchema, _batch: &RecordBatch, _source: &str) -> Result<RecordBatch> {
    todo!()
}

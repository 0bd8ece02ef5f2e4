//! Reading a snapshot through `streamhouse_reader::ScanBuilder` (merge-on-read), as a schema
//! and a stream of record batches.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use futures::stream::BoxStream;
use streamhouse_format::io::Table;
use streamhouse_reader::ScanBuilder;

use crate::error::CliResult;

pub struct ScanStream {
    /// The columns the batches hold, in the table's types.
    pub schema: SchemaRef,
    pub batches: BoxStream<'static, streamhouse_format::Result<RecordBatch>>,
}

/// Rows of `table` at `snapshot` (latest when `None`), only `columns` when given, at most
/// `limit` rows when given.
pub async fn scan(
    table: &Table,
    snapshot: Option<i64>,
    columns: Option<Vec<String>>,
    limit: Option<usize>,
) -> CliResult<ScanStream> {
    let mut builder = ScanBuilder::new(table);
    if let Some(id) = snapshot {
        builder = builder.snapshot(id);
    }
    if let Some(cols) = columns {
        builder = builder.projection(cols);
    }
    if let Some(n) = limit {
        builder = builder.limit(n);
    }
    let schema = builder.output_schema()?;
    let batches = builder.execute().await?;
    Ok(ScanStream { schema, batches })
}

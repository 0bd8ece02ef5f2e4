//! Lookups in ORC and Avro data files. They have no page index or Parquet bloom filter to
//! narrow a search, so the whole file is decoded once through the scan's decoders
//! ([`crate::other_formats`]: the same column binding, schema-evolution casts and system
//! columns) into one [`Unit`] holding every row, its keys in search order. That unit lives in
//! the page cache like a decoded Parquet page; a key then costs a binary search, and deletion
//! vectors, sequence numbers and the merge apply to its rows exactly as to a page's.

use std::sync::Arc;

use object_store::path::Path;
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::Result;

use super::unit::{KeyMatcher, Unit};
use crate::file_reader::ScanContext;
use crate::other_formats::{read_whole_file, OtherFormat};

/// The row-group number of a whole-file unit in its cache key (a Parquet file's row groups
/// never reach it).
pub(crate) const WHOLE_FILE: u32 = u32::MAX;

/// Decodes every row of an ORC or Avro data file into one unit.
pub(crate) async fn decode(
    ctx: &Arc<ScanContext>,
    format: OtherFormat,
    dir: &Path,
    file: &DataFileMeta,
    matcher: &KeyMatcher,
) -> Result<Arc<Unit>> {
    let batch = read_whole_file(ctx, format, dir, file).await?;
    Ok(Arc::new(Unit::new(batch, 0, matcher, true)?))
}

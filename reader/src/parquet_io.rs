//! Parquet's [`AsyncFileReader`] over an `object_store` file.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::{AsyncFileReader, MetadataSuffixFetch};
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use crate::scan_stats::ScanMetrics;

/// Byte ranges of one read closer than this are fetched in one request.
const RANGE_COALESCE_GAP: u64 = 1024;

/// Sorted, merged ranges: overlapping ranges and ranges less than `gap` apart become one.
fn coalesce(ranges: &[Range<u64>], gap: u64) -> Vec<Range<u64>> {
    let mut sorted: Vec<Range<u64>> = ranges.to_vec();
    sorted.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = vec![];
    for r in sorted {
        match out.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(gap) => {
                last.end = last.end.max(r.end);
            }
            _ => out.push(r),
        }
    }
    out
}

/// Most bytes fetched from the end of a file in the first footer request.
const FOOTER_PREFETCH: usize = 64 * 1024;
/// Fewest bytes fetched from the end of a file in the first footer request.
const MIN_FOOTER_PREFETCH: usize = 4 * 1024;

/// The first footer request's size: about 1/256 of the file between the bounds above, so that
/// one request usually brings the metadata and the page index (kept, see
/// [`ObjectReader`]'s tail) without reading much more than them — a range scan of a large
/// table opens many files for a few pages each.
fn footer_prefetch(file_size: Option<u64>) -> usize {
    match file_size {
        Some(n) => ((n / 256) as usize).clamp(MIN_FOOTER_PREFETCH, FOOTER_PREFETCH),
        None => FOOTER_PREFETCH,
    }
}

fn to_parquet_err(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

/// Reads byte ranges of one object. The last bytes of the file fetched with the footer are
/// kept: later reads inside them (the page index, usually) cost no request.
#[derive(Clone, Debug)]
pub struct ObjectReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    file_size: Option<u64>,
    /// Where fetched bytes are counted, if anywhere.
    metrics: Option<Arc<ScanMetrics>>,
    /// The file's tail: its first offset and its bytes.
    tail: Option<(u64, Bytes)>,
    /// Several ranges go to the store in one `get_ranges` call (local disk, memory) instead of
    /// one concurrent request each (see [`crate::location::reads_ranges_together`]).
    together: bool,
}

impl ObjectReader {
    /// `file_size` (from the manifest) saves a request when known.
    pub fn new(store: Arc<dyn ObjectStore>, path: Path, file_size: Option<u64>) -> Self {
        ObjectReader {
            store,
            path,
            file_size,
            metrics: None,
            tail: None,
            together: false,
        }
    }

    /// Reads the ranges of one call together (one `get_ranges`) when `together`.
    pub fn with_ranges_together(mut self, together: bool) -> Self {
        self.together = together;
        self
    }

    /// The bytes of `range` when the kept tail holds them.
    fn cached_tail(&self, range: &Range<u64>) -> Option<Bytes> {
        let (start, bytes) = self.tail.as_ref()?;
        let end = start + bytes.len() as u64;
        (range.start >= *start && range.end <= end)
            .then(|| bytes.slice((range.start - start) as usize..(range.end - start) as usize))
    }

    /// Counts the bytes this reader fetches into `metrics` (`data_bytes_read`).
    pub fn with_metrics(mut self, metrics: Option<Arc<ScanMetrics>>) -> Self {
        self.metrics = metrics;
        self
    }

    fn count(&self, bytes: u64) {
        if let Some(m) = &self.metrics {
            ScanMetrics::add(&m.data_bytes_read, bytes);
        }
    }
}

impl AsyncFileReader for ObjectReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, Result<Bytes>> {
        if let Some(b) = self.cached_tail(&range) {
            return futures::future::ready(Ok(b)).boxed();
        }
        self.count(range.end.saturating_sub(range.start));
        async move {
            let b = self
                .store
                .get_range(&self.path, range.clone())
                .await
                .map_err(to_parquet_err)?;
            // Keep a fetched tail of the file (the footer request) for the page index.
            if Some(range.end) == self.file_size
                && self.tail.as_ref().is_none_or(|(s, _)| range.start < *s)
            {
                self.tail = Some((range.start, b.clone()));
            }
            Ok(b)
        }
        .boxed()
    }

    fn get_byte_ranges(&mut self, ranges: Vec<Range<u64>>) -> BoxFuture<'_, Result<Vec<Bytes>>> {
        // Ranges closer than RANGE_COALESCE_GAP are fetched together; the rest separately and
        // concurrently. (object_store's own `get_ranges` merges ranges up to 1 MiB apart, which
        // for a range scan reads whole column chunks between the few pages it needs.)
        if let Some(all) = ranges
            .iter()
            .map(|r| self.cached_tail(r))
            .collect::<Option<Vec<_>>>()
        {
            return futures::future::ready(Ok(all)).boxed();
        }
        let merged = coalesce(&ranges, RANGE_COALESCE_GAP);
        self.count(merged.iter().map(|r| r.end.saturating_sub(r.start)).sum());
        async move {
            let fetched: Vec<Bytes> = if self.together && merged.len() > 1 {
                self.store.get_ranges(&self.path, &merged).await
            } else {
                futures::future::try_join_all(
                    merged
                        .iter()
                        .map(|r| self.store.get_range(&self.path, r.clone())),
                )
                .await
            }
            .map_err(to_parquet_err)?;
            ranges
                .iter()
                .map(|r| {
                    let i = merged
                        .partition_point(|m| m.start <= r.start)
                        .saturating_sub(1);
                    let (m, b) = (&merged[i], &fetched[i]);
                    let (lo, hi) = ((r.start - m.start) as usize, (r.end - m.start) as usize);
                    if hi > b.len() {
                        return Err(ParquetError::EOF(format!(
                            "{}: range {r:?} beyond the {} bytes fetched",
                            self.path,
                            b.len()
                        )));
                    }
                    Ok(b.slice(lo..hi))
                })
                .collect()
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, Result<Arc<ParquetMetaData>>> {
        async move {
            let reader = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .with_prefetch_hint(Some(footer_prefetch(self.file_size)));
            let metadata = match self.file_size {
                Some(size) => reader.load_and_finish(self, size).await?,
                None => reader.load_via_suffix_and_finish(self).await?,
            };
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

impl MetadataSuffixFetch for &mut ObjectReader {
    fn fetch_suffix(&mut self, suffix: usize) -> BoxFuture<'_, Result<Bytes>> {
        let options = GetOptions {
            range: Some(GetRange::Suffix(suffix as u64)),
            ..Default::default()
        };
        async move {
            let resp = self
                .store
                .get_opts(&self.path, options)
                .await
                .map_err(to_parquet_err)?;
            let bytes = resp.bytes().await.map_err(to_parquet_err)?;
            self.count(bytes.len() as u64);
            Ok(bytes)
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_coalesce_only_when_close() {
        let r = coalesce(&[10..20, 0..5, 18..30, 100_000..100_010, 30..40], 16 * 1024);
        assert_eq!(r, vec![0..40, 100_000..100_010]);
        assert_eq!(coalesce(&[0..5, 10..20], 0), vec![0..5, 10..20]);
    }
}

//! Reading one split: append files concatenated, deletion-vector primary-key files
//! concatenated (keys are unique once vectors are applied), other primary-key splits
//! merged section by section.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use futures::stream::BoxStream;
use futures::{FutureExt, Stream, StreamExt, TryStreamExt};
use streamhouse_format::io::Table;
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::merge::MergeFunction;
use streamhouse_format::{Error, Result};

use crate::dv::DeletionVector;
use crate::file_reader::{drop_retractions, read_file_with, ScanContext, SystemColumns};
use crate::merge::{Merger, RunStream};
use crate::plan::Split;
use crate::sections::sections;

/// Batches a run reads ahead of the merge (per run, in its own task).
pub(crate) const RUN_PREFETCH: usize = 2;
/// Batches a split reads ahead of its consumer.
const SPLIT_PREFETCH: usize = 2;

/// How a split is read.
#[derive(Clone)]
pub enum SplitMode {
    /// Files concatenated in manifest order (append tables; PK tables whose batch reads rely
    /// on deletion vectors). `drop_retractions` removes `-U`/`-D` rows of PK files.
    Concat { drop_retractions: bool },
    /// Sorted runs merged by key with this merge function.
    Merge(MergeFunction),
}

impl SplitMode {
    /// How batch reads (scans and lookups) of `table` combine one bucket's records — the one
    /// place that decides whether a split needs merging: append tables concatenate; primary-key
    /// tables whose batch reads skip level 0 and rely on deletion vectors concatenate without
    /// retractions (keys are unique once the vectors apply); other primary-key tables merge by
    /// key with the merge engine over `ctx`'s value columns. Tables with data evolution are
    /// refused.
    pub fn of_table(table: &Table, ctx: &ScanContext) -> Result<SplitMode> {
        if table.options.data_evolution {
            return Err(Error::unsupported(format!(
                "table {} has data-evolution.enabled (files holding different columns of the same rows)",
                table.name
            )));
        }
        if !table.is_primary_key_table() {
            return Ok(SplitMode::Concat {
                drop_retractions: false,
            });
        }
        if crate::plan::skips_level0(table) && table.options.deletion_vectors {
            return Ok(SplitMode::Concat {
                drop_retractions: true,
            });
        }
        let names: Vec<String> = ctx.value_fields.iter().map(|f| f.name.clone()).collect();
        Ok(SplitMode::Merge(MergeFunction::new(
            &table.schema,
            &table.options,
            &names,
        )?))
    }
}

/// An index file: its path in the table and its external location, if any.
type IndexFileKey = (object_store::path::Path, Option<String>);

/// Loads the deletion vectors of a split's files (each index file is read once).
async fn load_dvs(
    ctx: &ScanContext,
    split: &Split,
) -> Result<HashMap<String, Arc<DeletionVector>>> {
    let mut files: HashMap<IndexFileKey, (String, bytes::Bytes)> = HashMap::new();
    let mut out = HashMap::new();
    for (data_file, d) in &split.deletion_vectors {
        let key = (d.index_file.clone(), d.external_path.clone());
        let (display, bytes) = match files.get(&key) {
            Some(b) => b.clone(),
            None => {
                let b = crate::dv::read_index_file(&ctx.table.io, d).await?;
                files.insert(key, b.clone());
                b
            }
        };
        let dv = DeletionVector::parse(&bytes, d.offset, d.length, &display)?;
        out.insert(data_file.clone(), Arc::new(dv));
    }
    Ok(out)
}

/// Runs a stream in its own task with a bounded buffer, when a Tokio runtime is available.
pub fn prefetch<T: Send + 'static>(
    stream: impl Stream<Item = Result<T>> + Send + 'static,
    capacity: usize,
) -> BoxStream<'static, Result<T>> {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return stream.boxed();
    };
    let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
    let err_tx = tx.clone();
    let forward = async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(item) = stream.next().await {
            let stop = item.is_err();
            if tx.send(item).await.is_err() || stop {
                break;
            }
        }
    };
    handle.spawn(async move {
        // A panic must surface as an error, never as a silently shortened result.
        if let Err(panic) = std::panic::AssertUnwindSafe(forward).catch_unwind().await {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let _ = err_tx
                .send(Err(streamhouse_format::Error::Internal(format!(
                    "reader task panicked: {msg}"
                ))))
                .await;
        }
    });
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) }).boxed()
}

/// The files of a run as one stream, opened lazily in order.
pub(crate) fn file_stream(
    ctx: &Arc<ScanContext>,
    split: &Split,
    files: Vec<DataFileMeta>,
    dvs: &Arc<HashMap<String, Arc<DeletionVector>>>,
) -> RunStream {
    file_stream_with(ctx, split, files, dvs, SystemColumns::All)
}

/// [`file_stream`] filling the system columns `columns` says (files whose rows are not
/// merged need fewer, see [`crate::file_reader::read_file_with`]).
fn file_stream_with(
    ctx: &Arc<ScanContext>,
    split: &Split,
    files: Vec<DataFileMeta>,
    dvs: &Arc<HashMap<String, Arc<DeletionVector>>>,
    columns: SystemColumns,
) -> RunStream {
    let dir = split.bucket_dir(&ctx.table);
    let ctx = ctx.clone();
    let dvs = dvs.clone();
    futures::stream::iter(files)
        .then(move |f| {
            let ctx = ctx.clone();
            let dir = dir.clone();
            let dv = dvs.get(&f.file_name).cloned();
            async move { read_file_with(&ctx, &dir, &f, dv, columns).await }
        })
        .try_flatten()
        .boxed()
}

/// The runs of a section newest first, when the scan allows any order and the section can be
/// read without merging ([`crate::newest_first`]).
fn newest_first_runs(
    ctx: &ScanContext,
    merge_fn: &MergeFunction,
    section: &crate::sections::Section,
) -> Option<Vec<Vec<DataFileMeta>>> {
    if !ctx.any_order || !crate::newest_first::applies(ctx, merge_fn) {
        return None;
    }
    crate::newest_first::order_runs(section.runs.clone())
}

/// Streams the output batches of one split.
pub fn read_split(
    ctx: Arc<ScanContext>,
    split: Arc<Split>,
    mode: SplitMode,
) -> BoxStream<'static, Result<RecordBatch>> {
    let fut = async move {
        let dvs = Arc::new(load_dvs(&ctx, &split).await?);
        let out: BoxStream<'static, Result<RecordBatch>> = match mode {
            SplitMode::Concat {
                drop_retractions: drop,
            } => {
                let c = ctx.clone();
                file_stream_with(
                    &ctx,
                    &split,
                    split.files.clone(),
                    &dvs,
                    SystemColumns::KindOnly,
                )
                .and_then(move |b| {
                    let r = if drop { drop_retractions(&c, b) } else { Ok(b) };
                    futures::future::ready(r.and_then(|b| c.to_output(&b)))
                })
                .boxed()
            }
            SplitMode::Merge(merge_fn) => {
                let mut parts: Vec<BoxStream<'static, Result<RecordBatch>>> = vec![];
                for section in sections(&ctx, &split.files) {
                    if section.runs.len() == 1 {
                        let c = ctx.clone();
                        let files = section.runs.into_iter().flatten().collect();
                        parts.push(
                            file_stream_with(&ctx, &split, files, &dvs, SystemColumns::KindOnly)
                                .and_then(move |b| {
                                    futures::future::ready(
                                        drop_retractions(&c, b).and_then(|b| c.to_output(&b)),
                                    )
                                })
                                .boxed(),
                        );
                    } else if let Some(runs) = newest_first_runs(&ctx, &merge_fn, &section) {
                        let (ctx2, split2, dvs2) = (ctx.clone(), split.clone(), dvs.clone());
                        let bounds: Vec<_> = runs
                            .iter()
                            .flatten()
                            .map(|f| match crate::sections::file_key_range(&ctx, f) {
                                Some((mut lo, mut hi)) => (lo.remove(0), hi.remove(0)),
                                None => (None, None),
                            })
                            .collect();
                        let range = crate::newest_first::key_range(&bounds);
                        let rows: i64 = runs.iter().flatten().map(|f| f.row_count).sum();
                        // Runs open only when the section starts; each reads ahead in its own
                        // task while older ones wait their turn.
                        let lazy = futures::stream::once(async move {
                            let streams: Vec<RunStream> = runs
                                .into_iter()
                                .map(|files| {
                                    prefetch(
                                        file_stream_with(
                                            &ctx2,
                                            &split2,
                                            files,
                                            &dvs2,
                                            SystemColumns::NoSequence,
                                        ),
                                        RUN_PREFETCH,
                                    )
                                })
                                .collect();
                            crate::newest_first::read(ctx2, streams, range, rows)
                        })
                        .flatten()
                        .boxed();
                        parts.push(lazy);
                    } else {
                        let (ctx2, split2, dvs2) = (ctx.clone(), split.clone(), dvs.clone());
                        let merge_fn = merge_fn.clone();
                        // Runs open only when the merge of this section starts.
                        let lazy = futures::stream::once(async move {
                            let runs: Vec<RunStream> = section
                                .runs
                                .into_iter()
                                .map(|files| {
                                    prefetch(
                                        file_stream(&ctx2, &split2, files, &dvs2),
                                        RUN_PREFETCH,
                                    )
                                })
                                .collect();
                            Merger::new(ctx2, merge_fn, runs)
                        })
                        .map_ok(|m| {
                            futures::stream::try_unfold(m, |mut m| async move {
                                Ok(m.next_batch().await?.map(|b| (b, m)))
                            })
                        })
                        .try_flatten()
                        .boxed();
                        parts.push(lazy);
                    }
                }
                futures::stream::iter(parts).flatten().boxed()
            }
        };
        Ok::<_, streamhouse_format::Error>(
            out.try_filter(|b| futures::future::ready(b.num_rows() > 0)),
        )
    };
    prefetch(futures::stream::once(fut).try_flatten(), SPLIT_PREFETCH)
}

//! [`ScanBuilder`]: the public entry point of a batch scan.
//!
//! A scan reads one snapshot (the latest, an id, a tag, or the latest committed at or before a
//! time), optionally filtered by a [`Predicate`], projected, and limited. The predicate is
//! pushed down as far as it may go without changing the result (`spec/scan.md`):
//! partitions, buckets, files, row groups and pages are pruned, and rows are filtered while
//! files are read. For primary-key tables only the conjuncts over primary-key columns act
//! before the merge; the whole predicate is applied to the merged rows.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use streamhouse_format::io::Table;
use streamhouse_format::snapshot::Snapshot;
use streamhouse_format::types::DataField;
use streamhouse_format::{Error, Result};

use crate::file_reader::ScanContext;
use crate::plan::{self, Plan, Split};
use crate::predicate::{parse_predicate, Expr, Predicate};
use crate::pushdown::FilePushdown;
use crate::scan_stats::ScanMetrics;
use crate::split_reader::{read_split, SplitMode};

/// Default rows per output batch.
pub const DEFAULT_BATCH_SIZE: usize = 8192;
/// Default number of splits read at the same time.
pub const DEFAULT_SPLIT_CONCURRENCY: usize = 2;
/// Splits read at the same time (at least) when a predicate prunes pages.
pub const FILTERED_SPLIT_CONCURRENCY: usize = 4;

/// Builds and runs a batch scan of one snapshot of a table.
///
/// ```no_run
/// # async fn f(table: &streamhouse_format::io::Table) -> streamhouse_format::Result<()> {
/// use streamhouse_reader::ScanBuilder;
/// let batches = ScanBuilder::new(table)
///     .projection(vec!["id".into(), "name".into()])
///     .limit(100)
///     .to_batches()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ScanBuilder {
    table: Table,
    snapshot: Option<i64>,
    as_of: Option<i64>,
    tag: Option<String>,
    filter: Option<Filter>,
    metrics: Option<Arc<ScanMetrics>>,
    projection: Option<Vec<String>>,
    limit: Option<usize>,
    batch_size: usize,
    concurrency: usize,
    any_order: bool,
}

/// A scan's filter as given.
#[derive(Debug, Clone)]
enum Filter {
    Text(String),
    Expr(Expr),
    Bound(Predicate),
}

/// Which snapshot a scan reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeTravel {
    Latest,
    Snapshot(i64),
    /// The latest snapshot committed at or before these epoch milliseconds.
    AsOf(i64),
    Tag(String),
}

impl ScanBuilder {
    pub fn new(table: &Table) -> Self {
        ScanBuilder {
            table: table.clone(),
            snapshot: None,
            as_of: None,
            tag: None,
            filter: None,
            metrics: None,
            projection: None,
            limit: None,
            batch_size: DEFAULT_BATCH_SIZE,
            concurrency: DEFAULT_SPLIT_CONCURRENCY,
            any_order: false,
        }
    }

    /// Lets the rows of a primary-key split come in any order instead of by key: a
    /// deduplicate table's overlapping files are then read newest first and filtered instead
    /// of merged ([`crate::newest_first`]) — for consumers that do not need the order, such as
    /// aggregates. The rows are the same.
    pub fn any_order(mut self, yes: bool) -> Self {
        self.any_order = yes;
        self
    }

    /// Reads snapshot `id` instead of the latest one.
    pub fn snapshot(mut self, id: i64) -> Self {
        self.snapshot = Some(id);
        self
    }

    /// Reads the latest snapshot committed at or before `millis` (epoch milliseconds).
    pub fn as_of_millis(mut self, millis: i64) -> Self {
        self.as_of = Some(millis);
        self
    }

    /// Reads the snapshot tagged `name`.
    pub fn tag(mut self, name: impl Into<String>) -> Self {
        self.tag = Some(name.into());
        self
    }

    /// Reads the snapshot `travel` names.
    pub fn time_travel(self, travel: TimeTravel) -> Self {
        match travel {
            TimeTravel::Latest => self,
            TimeTravel::Snapshot(id) => self.snapshot(id),
            TimeTravel::AsOf(ms) => self.as_of_millis(ms),
            TimeTravel::Tag(t) => self.tag(t),
        }
    }

    /// Keeps only rows matching `text` (the `--where` syntax of [`crate::predicate`]).
    /// Parse and column errors surface when the scan is planned.
    pub fn filter_text(mut self, text: impl Into<String>) -> Self {
        self.filter = Some(Filter::Text(text.into()));
        self
    }

    /// Keeps only rows matching an unbound expression (bound to the table's schema).
    pub fn filter_expr(mut self, expr: Expr) -> Self {
        self.filter = Some(Filter::Expr(expr));
        self
    }

    /// Keeps only rows matching a predicate bound to the table's schema.
    pub fn filter(mut self, predicate: Predicate) -> Self {
        self.filter = Some(Filter::Bound(predicate));
        self
    }

    /// Counts what the scan considers and reads into `metrics` (also loads page indexes so
    /// pages can be counted).
    pub fn metrics(mut self, metrics: Arc<ScanMetrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The bound predicate (`TRUE` without a filter).
    pub fn predicate(&self) -> Result<Predicate> {
        let schema = &self.table.schema;
        Ok(match &self.filter {
            None => Predicate::Const(true),
            Some(Filter::Text(t)) => parse_predicate(t, schema)?,
            Some(Filter::Expr(e)) => e.bind(schema, None)?,
            Some(Filter::Bound(p)) => p.clone(),
        })
    }

    /// The part of the predicate that may prune inputs before merging: for primary-key tables
    /// the conjuncts over primary-key columns (trimmed key and partition columns), for append
    /// tables all of it.
    pub fn pre_merge_predicate(&self, predicate: &Predicate) -> Predicate {
        let schema = &self.table.schema;
        if self.table.is_primary_key_table() {
            predicate.restrict_to(&|c| schema.primary_keys.iter().any(|k| k == c))
        } else {
            predicate.clone()
        }
    }

    /// The snapshot this scan reads (`None`: the table has no snapshot, or none at or before
    /// the `as_of` time).
    pub async fn resolve_snapshot(&self) -> Result<Option<Snapshot>> {
        let t = &self.table;
        if let Some(name) = &self.tag {
            return Ok(Some(t.tag(name).await?.snapshot));
        }
        if let Some(ms) = self.as_of {
            return match t.snapshot_as_of(ms).await? {
                Some(s) => Ok(Some(s)),
                None => match t.earliest_snapshot_id().await? {
                    None => Ok(None),
                    Some(first) => {
                        let s = t.snapshot(first).await?;
                        Err(Error::NotFound(format!(
                            "a snapshot of table {} committed at or before {ms} ms; the earliest, {first}, was committed at {} ms",
                            t.name, s.time_millis
                        )))
                    }
                },
            };
        }
        t.snapshot_or_latest(self.snapshot).await
    }

    read_setters!(
        "How many splits are read at the same time (default [`DEFAULT_SPLIT_CONCURRENCY`])."
    );

    /// Stops after `n` rows.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    fn projected_fields(&self) -> Result<Vec<DataField>> {
        match &self.projection {
            None => Ok(self.table.schema.fields.clone()),
            Some(cols) => {
                let mut seen = std::collections::HashSet::new();
                for c in cols {
                    if !seen.insert(c) {
                        return Err(Error::invalid(format!("column {c:?} is projected twice")));
                    }
                }
                self.table.schema.fields_named(cols)
            }
        }
    }

    /// The Arrow schema of the output batches: the table's types of the projected columns.
    pub fn output_schema(&self) -> Result<SchemaRef> {
        let fields = self.projected_fields()?;
        Ok(Arc::new(Schema::new(
            fields
                .iter()
                .map(DataField::to_arrow_field)
                .collect::<Vec<_>>(),
        )))
    }

    /// Picks the snapshot and lists the splits to read, pruned by the predicate.
    pub async fn plan(&self) -> Result<Plan> {
        self.projected_fields()?;
        let predicate = self.predicate()?;
        let pre = self.pre_merge_predicate(&predicate);
        let snapshot = self.resolve_snapshot().await?;
        let mut plan = plan::plan_snapshot(
            &self.table,
            snapshot,
            (!pre.is_true()).then_some(pre),
            self.metrics.clone(),
        )
        .await?;
        if let Some(limit) = self.limit {
            if predicate.is_true() && !self.table.is_primary_key_table() {
                trim_to_limit(&mut plan, limit);
            }
        }
        Ok(plan)
    }

    /// Plans and reads the scan: a stream of batches of [`output_schema`](Self::output_schema),
    /// splits in plan order.
    pub async fn execute(&self) -> Result<BoxStream<'static, Result<RecordBatch>>> {
        let plan = self.plan().await?;
        self.execute_plan(plan).await
    }

    /// Reads the splits of an existing plan (for instance one filtered by the caller).
    pub async fn execute_plan(
        &self,
        plan: Plan,
    ) -> Result<BoxStream<'static, Result<RecordBatch>>> {
        let output: Vec<String> = self
            .projected_fields()?
            .into_iter()
            .map(|f| f.name)
            .collect();
        let predicate = self.predicate()?;
        // Columns the predicate needs are read too, and dropped after filtering.
        let mut names = output.clone();
        for c in predicate.columns() {
            if !names.contains(&c) {
                names.push(c);
            }
        }
        let mut schemas = HashMap::new();
        schemas.insert(self.table.schema.id, self.table.schema.clone());
        for split in &plan.splits {
            for f in &split.files {
                if let std::collections::hash_map::Entry::Vacant(e) = schemas.entry(f.schema_id) {
                    e.insert(Arc::new(self.table.schema_by_id(f.schema_id).await?));
                }
            }
        }
        let mut ctx = ScanContext::new(self.table.clone(), schemas, &names, self.batch_size)?;
        ctx.any_order = self.any_order;
        let pk = self.table.is_primary_key_table();
        let pre = self.pre_merge_predicate(&predicate);
        let trimmed = self.table.schema.trimmed_primary_keys();
        // Rows are filtered while read: append tables by the whole predicate, primary-key
        // tables by the conjuncts over the trimmed key (the internal layout's key columns).
        let row_filter = if pk {
            predicate.restrict_to(&|c| trimmed.iter().any(|k| k == c))
        } else {
            predicate.clone()
        };
        let no_dvs = plan.splits.iter().all(|s| s.deletion_vectors.is_empty());
        let pushdown = FilePushdown {
            prune: (!pre.is_true()).then_some(pre),
            row_filter: (!row_filter.is_true()).then_some(row_filter),
            page_index: self.metrics.is_some(),
            file_limit: self.limit.filter(|_| !pk && predicate.is_true() && no_dvs),
            metrics: self.metrics.clone(),
        };
        if !pushdown.is_noop() {
            ctx.pushdown = Some(Arc::new(pushdown));
        }
        let ctx = Arc::new(ctx);
        let mode = SplitMode::of_table(&self.table, &ctx)?;
        let splits: Vec<Arc<Split>> = plan.splits.into_iter().map(Arc::new).collect();
        // A filtered scan reads a few pages of many files: waiting on storage, not the CPU,
        // so more splits at once.
        let concurrency = if ctx.pushdown.as_ref().is_some_and(|p| p.prune.is_some()) {
            self.concurrency.max(FILTERED_SPLIT_CONCURRENCY)
        } else {
            self.concurrency
        };
        let stream = futures::stream::iter(splits)
            .map(move |split| {
                let s = read_split(ctx.clone(), split, mode.clone());
                futures::future::ready(s)
            })
            .buffered(concurrency)
            .flatten();
        // Primary-key tables: the whole predicate on the merged rows; then the output columns.
        let stream = if (pk && !predicate.is_true()) || names.len() > output.len() {
            let post = if pk { Some(predicate) } else { None };
            let keep = output.len();
            let schema = self.output_schema()?;
            stream
                .and_then(move |b| {
                    futures::future::ready(post_filter(b, post.as_ref(), keep, &schema))
                })
                .try_filter(|b| futures::future::ready(b.num_rows() > 0))
                .boxed()
        } else {
            stream.boxed()
        };
        Ok(match self.limit {
            None => stream,
            Some(limit) => limit_rows(stream, limit),
        })
    }

    /// Runs the scan and collects every batch.
    pub async fn to_batches(&self) -> Result<Vec<RecordBatch>> {
        self.execute().await?.try_collect().await
    }
}

/// Filters merged rows by `predicate` and keeps the first `keep` columns.
fn post_filter(
    batch: RecordBatch,
    predicate: Option<&Predicate>,
    keep: usize,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let batch = match predicate {
        Some(p) => {
            let mask = p.evaluate(&batch)?;
            arrow::compute::filter_record_batch(&batch, &mask)
                .map_err(|e| Error::arrow("filtering merged rows", e))?
        }
        None => batch,
    };
    let cols = batch.columns()[..keep].to_vec();
    let opts = arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(schema.clone(), cols, &opts)
        .map_err(|e| Error::arrow("projecting filtered rows", e))
}

/// Drops the files an append scan without a filter does not need to reach `limit` rows
/// (row counts of append files are exact unless deletion vectors remove rows).
fn trim_to_limit(plan: &mut Plan, limit: usize) {
    let mut rows = 0i64;
    for split in &mut plan.splits {
        if !split.deletion_vectors.is_empty() {
            return;
        }
    }
    for split in &mut plan.splits {
        let mut keep = 0;
        for f in &split.files {
            if rows >= limit as i64 {
                break;
            }
            rows += f.row_count;
            keep += 1;
        }
        split.files.truncate(keep);
    }
    plan.splits.retain(|s| !s.files.is_empty());
}

/// Truncates a stream after `limit` rows.
fn limit_rows(
    stream: BoxStream<'static, Result<RecordBatch>>,
    limit: usize,
) -> BoxStream<'static, Result<RecordBatch>> {
    if limit == 0 {
        return futures::stream::empty().boxed();
    }
    futures::stream::unfold((stream, limit), |(mut s, left)| async move {
        if left == 0 {
            return None;
        }
        match s.next().await? {
            Err(e) => Some((Err(e), (s, 0))),
            Ok(b) => {
                let n = b.num_rows().min(left);
                let b = if n < b.num_rows() { b.slice(0, n) } else { b };
                Some((Ok(b), (s, left - n)))
            }
        }
    })
    .boxed()
}

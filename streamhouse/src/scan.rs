//! [`Scan`]: a batch read of one snapshot, filtered, projected and limited, as a stream of
//! Arrow record batches. Wraps the reader's `ScanBuilder` (merge-on-read and pruning: see
//! `spec/scan.md`).

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use streamhouse_reader::predicate::Expr;
use streamhouse_reader::scan::TimeTravel;
use streamhouse_reader::scan_stats::{ScanMetrics, ScanStats};
use streamhouse_reader::{Plan, ScanBuilder};

use crate::table::Table;
use crate::Result;

/// A stream of record batches.
pub type RecordBatchStream = BoxStream<'static, Result<RecordBatch>>;

/// A scan being set up: [`Table::scan`], then options, then [`plan`](Self::plan) or
/// [`stream`](Self::stream).
#[derive(Debug, Clone)]
pub struct Scan {
    table: Table,
    travel: TimeTravel,
    columns: Option<Vec<String>>,
    filter_text: Option<String>,
    filter_expr: Option<Expr>,
    limit: Option<usize>,
    concurrency: Option<usize>,
    metrics: Option<Arc<ScanMetrics>>,
    any_order: bool,
}

/// A planned scan: the snapshot it reads and the splits left after pruning. Cheap to clone
/// (the split list is copied, not the files).
#[derive(Debug, Clone)]
pub struct ScanPlan {
    builder: ScanBuilder,
    plan: Plan,
    limit: Option<usize>,
}

impl Scan {
    pub(crate) fn new(table: &Table) -> Scan {
        Scan {
            table: table.clone(),
            travel: TimeTravel::Latest,
            columns: None,
            filter_text: None,
            filter_expr: None,
            limit: None,
            concurrency: None,
            metrics: None,
            any_order: false,
        }
    }

    /// Only these columns, in this order.
    pub fn columns<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// A predicate in the `--where` syntax: `id BETWEEN 1 AND 9 AND c = 'x'`.
    pub fn filter(mut self, text: impl Into<String>) -> Self {
        self.filter_text = Some(text.into());
        self
    }

    /// A predicate built in code.
    pub fn filter_expr(mut self, expr: Expr) -> Self {
        self.filter_expr = Some(expr);
        self
    }

    /// Reads snapshot `id` instead of the latest.
    pub fn snapshot(mut self, id: i64) -> Self {
        self.travel = TimeTravel::Snapshot(id);
        self
    }

    /// Reads the latest snapshot committed at or before `millis` (epoch milliseconds).
    pub fn as_of(mut self, millis: i64) -> Self {
        self.travel = TimeTravel::AsOf(millis);
        self
    }

    /// Reads the snapshot tag `name` pins.
    pub fn tag(mut self, name: impl Into<String>) -> Self {
        self.travel = TimeTravel::Tag(name.into());
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// How many files are read at once (the reader's default unless set); a caller that
    /// runs several parts of one plan in parallel (see [`ScanPlan::partition`]) may set 1.
    /// Output order does not depend on it.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n.max(1));
        self
    }

    /// Rows need not come in key order (see the reader's `ScanBuilder::any_order`): overlapping
    /// files of a deduplicate table are read newest first instead of merged.
    pub fn any_order(mut self) -> Self {
        self.any_order = true;
        self
    }

    /// Counts what the scan reads and prunes, level by level (see [`stats`](Self::stats)).
    /// Page counts need the Parquet page indexes, which are then read too.
    pub fn with_stats(mut self) -> Self {
        self.metrics = Some(Arc::new(ScanMetrics::default()));
        self
    }

    fn builder(&self) -> ScanBuilder {
        let mut b = ScanBuilder::new(self.table.raw())
            .time_travel(self.travel.clone())
            .any_order(self.any_order);
        if let Some(m) = &self.metrics {
            b = b.metrics(m.clone());
        }
        if let Some(cols) = &self.columns {
            b = b.projection(cols.clone());
        }
        if let Some(n) = self.limit {
            b = b.limit(n);
        }
        if let Some(n) = self.concurrency {
            b = b.concurrency(n);
        }
        if let Some(f) = &self.filter_text {
            b = b.filter_text(f.clone());
        }
        if let Some(e) = &self.filter_expr {
            b = b.filter_expr(e.clone());
        }
        b
    }

    /// The schema of the batches: the projected columns as Arrow fields. Checks the columns
    /// and the predicate, so their errors surface before anything is read.
    pub fn output_schema(&self) -> Result<SchemaRef> {
        if let Some(cols) = &self.columns {
            self.table.check_columns(cols)?;
        }
        let b = self.builder();
        b.predicate()?;
        b.output_schema()
    }

    /// Picks the snapshot (a missing snapshot id names those there are) and the splits.
    pub async fn plan(&self) -> Result<ScanPlan> {
        self.output_schema()?;
        if let TimeTravel::Snapshot(id) = self.travel {
            self.table.snapshot(id).await?;
        }
        let builder = self.builder();
        let plan = builder.plan().await?;
        Ok(ScanPlan {
            builder,
            plan,
            limit: self.limit,
        })
    }

    /// Plans and reads: batches of [`output_schema`](Self::output_schema).
    pub async fn stream(&self) -> Result<RecordBatchStream> {
        self.plan().await?.execute().await
    }

    /// Every batch of the scan.
    pub async fn collect(&self) -> Result<Vec<RecordBatch>> {
        self.stream().await?.try_collect().await
    }

    /// What the scan read and pruned so far, level by level (with [`with_stats`](Self::with_stats)).
    pub fn stats(&self) -> Option<ScanStats> {
        self.metrics.as_ref().map(|m| m.snapshot())
    }
}

impl ScanPlan {
    /// The snapshot read; `None` for a table without commits.
    pub fn snapshot_id(&self) -> Option<i64> {
        self.plan.snapshot.as_ref().map(|s| s.id)
    }

    /// How many splits (partition and bucket file groups, each merged on its own) there are.
    pub fn split_count(&self) -> usize {
        self.plan.splits.len()
    }

    /// Rows stored in each split's files (before merging), in split order.
    pub fn split_rows(&self) -> Vec<i64> {
        self.plan.splits.iter().map(|s| s.row_count()).collect()
    }

    /// How many data files the planned splits read.
    pub fn file_count(&self) -> usize {
        self.plan.splits.iter().map(|s| s.files.len()).sum()
    }

    /// The scan's predicate as bound to the table (`None` without a filter).
    pub fn predicate_text(&self) -> Option<String> {
        let text = self.builder.predicate().ok()?.to_string();
        (text != "TRUE").then_some(text)
    }

    /// Deals the splits round-robin into at most `n` plans of the same snapshot (at least
    /// one, empty when there are no splits), each read on its own with the same columns,
    /// filter and limit.
    pub fn partition(self, n: usize) -> Vec<ScanPlan> {
        let count = n.min(self.plan.splits.len()).max(1);
        let mut parts: Vec<ScanPlan> = (0..count)
            .map(|_| {
                let mut part = self.clone();
                part.plan.splits.clear();
                part
            })
            .collect();
        for (i, split) in self.plan.splits.into_iter().enumerate() {
            parts[i % count].plan.splits.push(split);
        }
        parts
    }

    /// Keeps only the splits at these positions (of a plan of the same scan and snapshot, so
    /// that several processes can each read some splits of one plan).
    pub fn retain_splits(&mut self, positions: &[usize]) {
        let mut i = 0;
        self.plan.splits.retain(|_| {
            let keep = positions.contains(&i);
            i += 1;
            keep
        });
    }

    /// Reads the planned splits; the stream ends after the limit.
    pub async fn execute(self) -> Result<RecordBatchStream> {
        if self.plan.snapshot.is_none() {
            return Ok(futures::stream::empty().boxed());
        }
        let stream = self.builder.execute_plan(self.plan).await?;
        let Some(limit) = self.limit else {
            return Ok(stream);
        };
        let limited = stream
            .scan(limit, |remaining, batch| {
                let out = match batch {
                    _ if *remaining == 0 => None,
                    Err(e) => Some(Err(e)),
                    Ok(b) => {
                        let b = if b.num_rows() > *remaining {
                            b.slice(0, *remaining)
                        } else {
                            b
                        };
                        *remaining -= b.num_rows();
                        Some(Ok(b))
                    }
                };
                futures::future::ready(out)
            })
            .try_filter(|b| futures::future::ready(b.num_rows() > 0));
        Ok(limited.boxed())
    }
}

//! [`ScanBuilder`]: the public entry point of a batch scan.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use streamhouse_format::io::Table;
use streamhouse_format::merge::MergeFunction;
use streamhouse_format::types::DataField;
use streamhouse_format::{Error, Result};

use crate::file_reader::ScanContext;
use crate::plan::{self, Plan, Split};
use crate::split_reader::{read_split, SplitMode};

/// Default rows per output batch.
pub const DEFAULT_BATCH_SIZE: usize = 8192;
/// Default number of splits read at the same time.
pub const DEFAULT_SPLIT_CONCURRENCY: usize = 2;

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
    projection: Option<Vec<String>>,
    limit: Option<usize>,
    batch_size: usize,
    concurrency: usize,
}

impl ScanBuilder {
    pub fn new(table: &Table) -> Self {
        ScanBuilder {
            table: table.clone(),
            snapshot: None,
            projection: None,
            limit: None,
            batch_size: DEFAULT_BATCH_SIZE,
            concurrency: DEFAULT_SPLIT_CONCURRENCY,
        }
    }

    /// Reads snapshot `id` instead of the latest one.
    pub fn snapshot(mut self, id: i64) -> Self {
        self.snapshot = Some(id);
        self
    }

    /// Reads only these columns, in this order. An unknown column fails at plan time.
    pub fn projection(mut self, columns: Vec<String>) -> Self {
        self.projection = Some(columns);
        self
    }

    /// Stops after `n` rows.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// Rows per output batch (default [`DEFAULT_BATCH_SIZE`]).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// How many splits are read at the same time (default [`DEFAULT_SPLIT_CONCURRENCY`]).
    /// Output order does not depend on it.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
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

    /// Picks the snapshot and lists the splits to read.
    pub async fn plan(&self) -> Result<Plan> {
        self.projected_fields()?;
        plan::plan(&self.table, self.snapshot).await
    }

    /// How splits of this table are read.
    fn mode(&self, ctx: &ScanContext) -> Result<SplitMode> {
        let t = &self.table;
        let data_evolution = t
            .options
            .raw
            .get("data-evolution.enabled")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        if data_evolution {
            return Err(Error::unsupported(format!(
                "table {} has data-evolution.enabled (files holding different columns of the same rows)",
                t.name
            )));
        }
        if !t.is_primary_key_table() {
            return Ok(SplitMode::Concat {
                drop_retractions: false,
            });
        }
        if plan::skips_level0(t) && t.options.deletion_vectors {
            return Ok(SplitMode::Concat {
                drop_retractions: true,
            });
        }
        let names: Vec<String> = ctx.value_fields.iter().map(|f| f.name.clone()).collect();
        Ok(SplitMode::Merge(MergeFunction::new(
            &t.schema, &t.options, &names,
        )?))
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
        let names: Vec<String> = self
            .projected_fields()?
            .into_iter()
            .map(|f| f.name)
            .collect();
        let mut schemas = HashMap::new();
        schemas.insert(self.table.schema.id, self.table.schema.clone());
        for split in &plan.splits {
            for f in &split.files {
                if let std::collections::hash_map::Entry::Vacant(e) = schemas.entry(f.schema_id) {
                    e.insert(Arc::new(self.table.schema_by_id(f.schema_id).await?));
                }
            }
        }
        let ctx = Arc::new(ScanContext::new(
            self.table.clone(),
            schemas,
            &names,
            self.batch_size,
        )?);
        let mode = self.mode(&ctx)?;
        let splits: Vec<Arc<Split>> = plan.splits.into_iter().map(Arc::new).collect();
        let stream = futures::stream::iter(splits)
            .map(move |split| {
                let s = read_split(ctx.clone(), split, mode.clone());
                futures::future::ready(s)
            })
            .buffered(self.concurrency)
            .flatten();
        Ok(match self.limit {
            None => stream.boxed(),
            Some(limit) => limit_rows(stream.boxed(), limit),
        })
    }

    /// Runs the scan and collects every batch.
    pub async fn to_batches(&self) -> Result<Vec<RecordBatch>> {
        self.execute().await?.try_collect().await
    }
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

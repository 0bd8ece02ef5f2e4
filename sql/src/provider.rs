//! The `TableProvider` and its execution plan.
//!
//! Planning happens in `scan`: the Streamhouse plan (snapshot, pruned splits) is made once,
//! its splits dealt round-robin into as many DataFusion partitions as the session's
//! `target_partitions`, and each partition reads its splits with the same projection,
//! predicate and limit.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::{StreamExt, TryStreamExt};
use streamhouse_format::io::Table;
use streamhouse_reader::predicate::Predicate;
use streamhouse_reader::{Plan, ScanBuilder};

use crate::{df_err, filters};

/// A Streamhouse table as a DataFusion table (latest snapshot at query time).
#[derive(Debug, Clone)]
pub struct StreamhouseTable {
    table: Table,
    schema: SchemaRef,
}

impl StreamhouseTable {
    pub fn new(table: Table) -> Self {
        let schema = table.schema.arrow_schema();
        StreamhouseTable { table, schema }
    }

    /// A filter as a predicate bound to the table, when it can be one.
    fn bind(&self, e: &Expr) -> Option<Predicate> {
        filters::to_expr(e)?.bind(&self.table.schema, None).ok()
    }
}

#[async_trait]
impl TableProvider for StreamhouseTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| match self.bind(f) {
                Some(_) => TableProviderFilterPushDown::Exact,
                None => TableProviderFilterPushDown::Unsupported,
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // DataFusion runs one task per partition: each reads its splits one at a time (a
        // filtered scan still overlaps splits, see `ScanBuilder::concurrency`).
        let mut builder = ScanBuilder::new(&self.table).concurrency(1);
        let names: Vec<String> = match projection {
            Some(p) => p
                .iter()
                .map(|&i| self.schema.field(i).name().clone())
                .collect(),
            None => self.table.schema.field_names(),
        };
        builder = builder.projection(names);
        let bound: Vec<Predicate> = filters.iter().filter_map(|f| self.bind(f)).collect();
        if !bound.is_empty() {
            builder = builder.filter(Predicate::all(bound));
        }
        if let Some(n) = limit {
            builder = builder.limit(n);
        }
        let schema = builder.output_schema().map_err(df_err)?;
        let plan = builder.plan().await.map_err(df_err)?;
        let n = state.config().target_partitions().max(1);
        let mut parts: Vec<Plan> = (0..n.min(plan.splits.len()).max(1))
            .map(|_| Plan {
                snapshot: plan.snapshot.clone(),
                splits: vec![],
            })
            .collect();
        let count = parts.len();
        for (i, s) in plan.splits.into_iter().enumerate() {
            parts[i % count].splits.push(s);
        }
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(parts.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Ok(Arc::new(StreamhouseScanExec {
            builder,
            parts,
            schema,
            properties,
        }))
    }
}

/// Reads the splits of one Streamhouse plan, dealt into partitions.
#[derive(Debug)]
pub struct StreamhouseScanExec {
    builder: ScanBuilder,
    parts: Vec<Plan>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl DisplayAs for StreamhouseScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let splits: usize = self.parts.iter().map(|p| p.splits.len()).sum();
        let files: usize = self
            .parts
            .iter()
            .flat_map(|p| &p.splits)
            .map(|s| s.files.len())
            .sum();
        let filter = self
            .builder
            .predicate()
            .map(|p| p.to_string())
            .unwrap_or_default();
        write!(f, "StreamhouseScanExec: splits={splits}, files={files}")?;
        if !filter.is_empty() && filter != "TRUE" {
            write!(f, ", predicate={filter}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for StreamhouseScanExec {
    fn name(&self) -> &str {
        "StreamhouseScanExec"
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let plan = self.parts.get(partition).cloned().ok_or_else(|| {
            datafusion::error::DataFusionError::Internal(format!(
                "StreamhouseScanExec has no partition {partition}"
            ))
        })?;
        let builder = self.builder.clone();
        let stream = futures::stream::once(async move { builder.execute_plan(plan).await })
            .try_flatten()
            .map_err(df_err)
            .boxed();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            stream,
        )))
    }
}

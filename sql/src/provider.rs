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
use streamhouse::predicate;
use streamhouse::{Scan, ScanPlan, Table};

use crate::{df_err, filters};

/// A Streamhouse table as a DataFusion table (latest snapshot at query time).
#[derive(Debug, Clone)]
pub struct StreamhouseTable {
    table: Table,
    schema: SchemaRef,
}

impl StreamhouseTable {
    pub fn new(table: Table) -> Self {
        let schema = table.arrow_schema();
        StreamhouseTable { table, schema }
    }

    /// A filter as a predicate on the table's columns, when it can be one.
    fn bind(&self, e: &Expr) -> Option<predicate::Expr> {
        let p = filters::to_expr(e)?;
        self.table
            .scan()
            .filter_expr(p.clone())
            .output_schema()
            .ok()?;
        Some(p)
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
        // filtered scan still overlaps splits, see `Scan::concurrency`).
        // DataFusion is told nothing of the rows' order, so overlapping files of a
        // deduplicate table need no merge by key (see `Scan::any_order`).
        let mut scan: Scan = self.table.scan().concurrency(1).any_order();
        let names: Vec<String> = match projection {
            Some(p) => p
                .iter()
                .map(|&i| self.schema.field(i).name().clone())
                .collect(),
            None => self.table.schema().field_names(),
        };
        scan = scan.columns(names);
        let bound: Vec<predicate::Expr> = filters.iter().filter_map(|f| self.bind(f)).collect();
        if !bound.is_empty() {
            scan = scan.filter_expr(predicate::Expr::and(bound));
        }
        if let Some(n) = limit {
            scan = scan.limit(n);
        }
        let schema = scan.output_schema().map_err(df_err)?;
        let plan = scan.plan().await.map_err(df_err)?;
        let parts = plan.partition(state.config().target_partitions());
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(parts.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Ok(Arc::new(StreamhouseScanExec {
            parts,
            schema,
            properties,
        }))
    }
}

/// Reads the splits of one Streamhouse plan, dealt into partitions.
#[derive(Debug)]
pub struct StreamhouseScanExec {
    parts: Vec<ScanPlan>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl DisplayAs for StreamhouseScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let splits: usize = self.parts.iter().map(|p| p.split_count()).sum();
        let files: usize = self.parts.iter().map(|p| p.file_count()).sum();
        write!(f, "StreamhouseScanExec: splits={splits}, files={files}")?;
        if let Some(filter) = self.parts.first().and_then(|p| p.predicate_text()) {
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
        let stream = futures::stream::once(plan.execute())
            .try_flatten()
            .map_err(df_err)
            .boxed();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            stream,
        )))
    }
}

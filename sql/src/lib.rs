//! # streamhouse-sql
//!
//! SQL over Streamhouse tables through DataFusion, in its own crate so that users who embed
//! only the libraries never compile DataFusion.
//!
//! * [`StreamhouseTable`] — a DataFusion `TableProvider` over one table: projection, filter
//!   and limit pushdown into [`streamhouse_reader::ScanBuilder`] (filters DataFusion can
//!   express as Streamhouse predicates are applied exactly by the scan — pruning partitions,
//!   buckets, files, row groups and pages — the rest DataFusion applies itself);
//! * [`register_warehouse`] — every table of a warehouse, as `database.table`, in a
//!   `SessionContext`;
//! * [`filters`] — the translation of DataFusion expressions into predicates.
//!
//! ```no_run
//! # async fn f() -> datafusion::error::Result<()> {
//! let (io, root) = streamhouse_format::io::open_warehouse("./warehouse").unwrap();
//! let ctx = datafusion::prelude::SessionContext::new();
//! streamhouse_sql::register_warehouse(&ctx, &io, &root).await?;
//! ctx.sql("SELECT category, sum(amount) FROM db.t WHERE id < 1000 GROUP BY 1").await?.show().await?;
//! # Ok(()) }
//! ```

pub mod filters;
mod provider;

use std::sync::Arc;

use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use object_store::path::Path;
use streamhouse_format::io::{list_tables, table_root, FileIO, Table};

pub use provider::{StreamhouseScanExec, StreamhouseTable};

/// Converts a Streamhouse error for DataFusion.
pub fn df_err(e: streamhouse_format::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// Registers every table of the warehouse in `ctx`'s default catalog: database `db` becomes a
/// schema, so tables are queried as `db.table`. Returns how many tables were registered.
pub async fn register_warehouse(ctx: &SessionContext, io: &FileIO, root: &Path) -> Result<usize> {
    let catalog_name = ctx
        .state()
        .config()
        .options()
        .catalog
        .default_catalog
        .clone();
    let catalog = ctx.catalog(&catalog_name).ok_or_else(|| {
        DataFusionError::Plan(format!("the default catalog {catalog_name} is missing"))
    })?;
    let mut n = 0;
    for id in list_tables(io, root).await.map_err(df_err)? {
        let table = Table::open(io.clone(), table_root(root, &id), id.to_string())
            .await
            .map_err(df_err)?;
        let schema: Arc<dyn SchemaProvider> = match catalog.schema(&id.database) {
            Some(s) => s,
            None => {
                let s: Arc<dyn SchemaProvider> = Arc::new(MemorySchemaProvider::new());
                catalog.register_schema(&id.database, s.clone())?;
                s
            }
        };
        schema.register_table(id.table.clone(), Arc::new(StreamhouseTable::new(table)))?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests;

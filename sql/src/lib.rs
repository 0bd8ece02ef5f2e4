//! # streamhouse-sql
//!
//! SQL over Streamhouse tables through DataFusion, in its own crate so that users who embed
//! only the libraries never compile DataFusion.
//!
//! * [`StreamhouseTable`] — a DataFusion `TableProvider` over one table: projection, filter
//!   and limit pushdown into [`streamhouse::Scan`] (filters DataFusion can
//!   express as Streamhouse predicates are applied exactly by the scan — pruning partitions,
//!   buckets, files, row groups and pages — the rest DataFusion applies itself);
//! * [`register_catalog`] — every table of a [`streamhouse::Catalog`], as `database.table`,
//!   in a `SessionContext` ([`register_warehouse`]: the same from a storage location);
//! * [`filters`] — the translation of DataFusion expressions into predicates.
//!
//! ```no_run
//! # async fn f() -> datafusion::error::Result<()> {
//! let catalog = streamhouse::Catalog::builder("./warehouse").open().unwrap();
//! let ctx = datafusion::prelude::SessionContext::new();
//! streamhouse_sql::register_catalog(&ctx, &catalog).await?;
//! ctx.sql("SELECT category, sum(amount) FROM db.t WHERE id < 1000 GROUP BY 1").await?.show().await?;
//! # Ok(()) }
//! ```

pub mod filters;
mod provider;

use std::sync::Arc;

use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use streamhouse::io::{FileIO, Path};
use streamhouse::{Catalog, Identifier, Table};

pub use provider::{StreamhouseScanExec, StreamhouseTable};

/// Converts a Streamhouse error for DataFusion.
pub fn df_err(e: streamhouse::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// Registers every table of `catalog` in `ctx`'s default catalog: database `db` becomes a
/// schema, so tables are queried as `db.table`. Returns how many tables were registered.
pub async fn register_catalog(ctx: &SessionContext, catalog: &Catalog) -> Result<usize> {
    let mut tables = vec![];
    for id in catalog.all_tables().await.map_err(df_err)? {
        let table = catalog.table(&id).await.map_err(df_err)?;
        tables.push((id, table));
    }
    register(ctx, tables)
}

/// [`register_catalog`] for the warehouse at `root` in `io`.
pub async fn register_warehouse(ctx: &SessionContext, io: &FileIO, root: &Path) -> Result<usize> {
    register_catalog(ctx, &Catalog::from_io(io.clone(), root.clone())).await
}

fn register(ctx: &SessionContext, tables: Vec<(Identifier, Table)>) -> Result<usize> {
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
    let n = tables.len();
    for (id, table) in tables {
        let schema: Arc<dyn SchemaProvider> = match catalog.schema(&id.database) {
            Some(s) => s,
            None => {
                let s: Arc<dyn SchemaProvider> = Arc::new(MemorySchemaProvider::new());
                catalog.register_schema(&id.database, s.clone())?;
                s
            }
        };
        schema.register_table(id.table.clone(), Arc::new(StreamhouseTable::new(table)))?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests;

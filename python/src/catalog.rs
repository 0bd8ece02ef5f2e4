//! `Catalog`: a warehouse opened from Python.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arrow::datatypes::Schema;
use arrow_pyarrow::FromPyArrow;
#[cfg(feature = "sql")]
use arrow_pyarrow::ToPyArrow;
use pyo3::prelude::*;
use streamhouse::{Catalog, Error, Identifier, TableSpec};

use crate::errors::{invalid, lib, Failure};
use crate::runtime::{wait, wait_lib};
use crate::schema::columns_of;
use crate::table::PyTable;

/// Set when the catalog is closed; every table opened from it shares it.
pub type Closed = Arc<AtomicBool>;

/// Fails with `InvalidInput` once the catalog is closed.
pub fn check_open(py: Python<'_>, closed: &Closed, url: &str) -> PyResult<()> {
    if closed.load(Ordering::Acquire) {
        return Err(invalid(
            py,
            format!("the catalog of {url} is closed; open a new streamhouse.Catalog"),
        ));
    }
    Ok(())
}

pub fn parse_ident(py: Python<'_>, ident: &str) -> PyResult<Identifier> {
    lib(py, Identifier::parse(ident))
}

/// The native catalog; `streamhouse.Catalog` is this class.
#[pyclass(name = "Catalog", module = "streamhouse._streamhouse", frozen)]
pub struct PyCatalog {
    inner: Catalog,
    closed: Closed,
}

#[pymethods]
impl PyCatalog {
    #[new]
    #[pyo3(signature = (url, storage_options = None))]
    fn new(
        py: Python<'_>,
        url: &str,
        storage_options: Option<BTreeMap<String, String>>,
    ) -> PyResult<Self> {
        let inner = lib(py, Catalog::open(url, storage_options.unwrap_or_default()))?;
        Ok(PyCatalog {
            inner,
            closed: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The warehouse URL the catalog was opened with.
    #[getter]
    fn url(&self) -> &str {
        self.inner.url()
    }

    #[getter]
    fn closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes the catalog: it and every table opened from it refuse further calls.
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    #[pyo3(signature = (ident, schema, primary_key = None, partition_by = None, options = None, if_not_exists = false))]
    #[allow(clippy::too_many_arguments)]
    fn create_table(
        &self,
        py: Python<'_>,
        ident: &str,
        schema: &Bound<'_, PyAny>,
        primary_key: Option<Vec<String>>,
        partition_by: Option<Vec<String>>,
        options: Option<BTreeMap<String, String>>,
        if_not_exists: bool,
    ) -> PyResult<PyTable> {
        check_open(py, &self.closed, self.inner.url())?;
        let id = parse_ident(py, ident)?;
        let columns = if let Ok(text) = schema.extract::<String>() {
            lib(py, TableSpec::parse(&text))?.schema
        } else {
            let arrow = Schema::from_pyarrow_bound(schema).map_err(|e| {
                invalid(
                    py,
                    format!("schema must be a pyarrow.Schema or a column list such as 'id BIGINT NOT NULL, name STRING': {e}"),
                )
            })?;
            lib(py, columns_of(&arrow))?
        };
        let spec = TableSpec {
            schema: columns,
            primary_key: primary_key.unwrap_or_default(),
            partition_by: partition_by.unwrap_or_default(),
            options: options.unwrap_or_default(),
        };
        let catalog = self.inner.clone();
        let table = wait_lib(py, || async move {
            Ok(catalog
                .create_table(&id, spec, if_not_exists)
                .await?
                .into_table())
        })?;
        Ok(PyTable::new(table, self.closed.clone()))
    }

    /// Opens table `ident` (`db.table`).
    fn table(&self, py: Python<'_>, ident: &str) -> PyResult<PyTable> {
        check_open(py, &self.closed, self.inner.url())?;
        let id = parse_ident(py, ident)?;
        let catalog = self.inner.clone();
        let table = wait_lib(py, || async move { catalog.table(&id).await })?;
        Ok(PyTable::new(table, self.closed.clone()))
    }

    /// `db.table` names, of database `db` or of every database.
    #[pyo3(signature = (db = None))]
    fn list_tables(&self, py: Python<'_>, db: Option<String>) -> PyResult<Vec<String>> {
        check_open(py, &self.closed, self.inner.url())?;
        let catalog = self.inner.clone();
        let ids = wait_lib(py, || async move {
            match db {
                Some(db) => catalog.tables(&db).await,
                None => catalog.all_tables().await,
            }
        })?;
        Ok(ids.iter().map(|id| id.to_string()).collect())
    }

    /// The databases holding at least one table.
    fn list_databases(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        check_open(py, &self.closed, self.inner.url())?;
        let catalog = self.inner.clone();
        wait_lib(py, || async move { catalog.databases().await })
    }

    /// Deletes every file of table `ident`; returns how many there were.
    #[pyo3(signature = (ident, if_exists = false))]
    fn drop_table(&self, py: Python<'_>, ident: &str, if_exists: bool) -> PyResult<usize> {
        check_open(py, &self.closed, self.inner.url())?;
        let id = parse_ident(py, ident)?;
        let catalog = self.inner.clone();
        let url = self.inner.url().to_string();
        wait(py, || async move {
            let n = catalog.drop_table(&id).await?;
            if n == 0 && !if_exists {
                return Err(Failure::Lib(Error::NotFound(format!(
                    "table {id} does not exist in warehouse {url}"
                ))));
            }
            Ok(n)
        })
    }

    /// Runs a SQL query over every table of the warehouse (DataFusion; tables as `db.table`).
    #[cfg(feature = "sql")]
    fn _sql(&self, py: Python<'_>, query: String) -> PyResult<Vec<Py<PyAny>>> {
        check_open(py, &self.closed, self.inner.url())?;
        let catalog = self.inner.clone();
        let batches = wait(py, || async move {
            let ctx = datafusion::prelude::SessionContext::new();
            let sql_err = |e: datafusion::error::DataFusionError| {
                Failure::Lib(Error::invalid(format!("SQL: {e}")))
            };
            streamhouse_sql::register_catalog(&ctx, &catalog)
                .await
                .map_err(sql_err)?;
            let df = ctx.sql(&query).await.map_err(sql_err)?;
            let schema = Arc::new(df.schema().as_arrow().clone());
            let batches = df.collect().await.map_err(sql_err)?;
            Ok((schema, batches))
        })?;
        let (schema, batches) = batches;
        let mut out = vec![schema.to_pyarrow(py)?.unbind()];
        for b in batches {
            out.push(b.to_pyarrow(py)?.unbind());
        }
        Ok(out)
    }

    /// Built without the `sql` feature: SQL is not available.
    #[cfg(not(feature = "sql"))]
    fn _sql(&self, py: Python<'_>, _query: String) -> PyResult<Vec<Py<PyAny>>> {
        Err(crate::errors::to_py(
            py,
            Error::unsupported(
                "this build of streamhouse has no SQL (built without the `sql` feature)",
            ),
        ))
    }

    fn __repr__(&self) -> String {
        format!("streamhouse.Catalog({:?})", self.inner.url())
    }
}

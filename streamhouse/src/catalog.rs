//! [`Catalog`]: a warehouse — the databases and tables under one storage location.

use std::collections::BTreeMap;
use std::sync::Arc;

use object_store::path::Path;
use streamhouse_format::clock::Clock;
use streamhouse_format::io::metrics::{MeteredStore, MetricsSnapshot, StoreMetrics};
use streamhouse_format::io::{self, list_tables, open_warehouse_with, table_root, FileIO};
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::{parse_columns, DataType};

use crate::table::Table;
use crate::{Error, ErrorKind, Identifier, Result};

/// The longest database or table name, in bytes (a file name on common filesystems).
const MAX_NAME_BYTES: usize = 200;

/// Buckets of a primary-key table created without a `bucket` option.
pub const DEFAULT_PK_BUCKETS: &str = "1";
/// Buckets of an append table created without a `bucket` option (`-1`: no buckets).
pub const DEFAULT_APPEND_BUCKETS: &str = "-1";

/// A warehouse: tables as `<root>/<db>.db/<table>/`, Paimon's filesystem catalog layout.
///
/// Cheap to clone; clones share the storage connection (and the request counters).
#[derive(Clone, Debug)]
pub struct Catalog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    /// The storage every table operation goes through (metered when asked).
    pub(crate) io: FileIO,
    /// The same storage without metering, for figures that must not count as a command's cost.
    pub(crate) plain: FileIO,
    pub(crate) root: Path,
    /// As the user gave it, for messages.
    pub(crate) url: String,
    pub(crate) metrics: Option<Arc<StoreMetrics>>,
}

/// How to open a [`Catalog`]: the URL, storage options, request metering and the clock.
#[derive(Debug, Clone)]
pub struct CatalogBuilder {
    url: String,
    options: Vec<(String, String)>,
    metered: bool,
    clock: Option<Arc<dyn Clock>>,
}

impl CatalogBuilder {
    /// A storage option as `object_store`'s builders name it (`aws_endpoint`, `aws_region`,
    /// `aws_access_key_id`, `aws_secret_access_key`, `aws_allow_http`, …); it overrides the
    /// environment.
    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.push((key.into(), value.into()));
        self
    }

    /// Counts every object-store request and byte (see [`Catalog::request_metrics`]).
    pub fn metered(mut self, on: bool) -> Self {
        self.metered = on;
        self
    }

    /// Where snapshot times, expiration ages and waits come from (the system clock unless
    /// set; tests pass a [`ManualClock`](crate::ManualClock)).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    pub fn open(self) -> Result<Catalog> {
        let (plain, root) = open_warehouse_with(&self.url, &self.options)?;
        let plain = match self.clock {
            Some(clock) => plain.with_clock(clock),
            None => plain,
        };
        let (io, metrics) = if self.metered {
            let store = MeteredStore::new(plain.store.clone());
            let metrics = store.metrics().clone();
            (plain.with_store(Arc::new(store)), Some(metrics))
        } else {
            (plain.clone(), None)
        };
        Ok(Catalog {
            inner: Arc::new(Inner {
                io,
                plain,
                root,
                url: self.url,
                metrics,
            }),
        })
    }
}

/// What a new table looks like: columns, keys, partitioning and table options.
#[derive(Debug, Clone, Default)]
pub struct TableSpec {
    /// Columns: name and type, in order.
    pub schema: Vec<(String, DataType)>,
    /// Primary-key columns (empty: an append table).
    pub primary_key: Vec<String>,
    pub partition_by: Vec<String>,
    /// Paimon table options (`bucket`, `merge-engine`, `changelog-producer`, …). Without
    /// `bucket`, a primary-key table gets one bucket and an append table none (`-1`).
    pub options: BTreeMap<String, String>,
}

impl TableSpec {
    /// A spec from a column list such as `id BIGINT NOT NULL, name STRING, price DECIMAL(10, 2)`.
    pub fn parse(columns: &str) -> Result<TableSpec> {
        Ok(TableSpec {
            schema: parse_columns(columns)?,
            ..Default::default()
        })
    }

    pub fn primary_key<I: IntoIterator<Item = S>, S: Into<String>>(mut self, cols: I) -> Self {
        self.primary_key = cols.into_iter().map(Into::into).collect();
        self
    }

    pub fn partition_by<I: IntoIterator<Item = S>, S: Into<String>>(mut self, cols: I) -> Self {
        self.partition_by = cols.into_iter().map(Into::into).collect();
        self
    }

    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    /// The schema file this spec makes, with the default bucket option.
    fn to_schema(&self, now_millis: i64) -> Result<TableSchema> {
        let mut options = self.options.clone();
        if let Some(f) = options
            .get("file.format")
            .filter(|f| !f.eq_ignore_ascii_case("parquet"))
        {
            return Err(Error::unsupported(format!(
                "file.format = {f}: Streamhouse writes Parquet data files only (it reads ORC and Avro ones)"
            )));
        }
        if !options.contains_key("bucket") {
            let default = if self.primary_key.is_empty() {
                DEFAULT_APPEND_BUCKETS
            } else {
                DEFAULT_PK_BUCKETS
            };
            options.insert("bucket".to_string(), default.to_string());
        }
        TableSchema::new(
            self.schema.clone(),
            self.partition_by.clone(),
            self.primary_key.clone(),
            options,
            now_millis,
        )
    }
}

/// The result of [`Catalog::create_table`].
#[derive(Debug, Clone)]
pub enum CreateOutcome {
    Created(Table),
    /// `if_not_exists` was set and the table was there: it is left unchanged.
    AlreadyExisted(Table),
}

impl CreateOutcome {
    pub fn table(&self) -> &Table {
        match self {
            CreateOutcome::Created(t) | CreateOutcome::AlreadyExisted(t) => t,
        }
    }

    pub fn into_table(self) -> Table {
        match self {
            CreateOutcome::Created(t) | CreateOutcome::AlreadyExisted(t) => t,
        }
    }
}

impl Catalog {
    /// Opens the warehouse at `url`: a local path, `file:///abs/path`, `memory://name` (shared
    /// by everything in this process that opens the same name) or `s3://bucket/prefix`
    /// (configured from the AWS environment variables, then `options`).
    pub fn open<I, K, V>(url: &str, options: I) -> Result<Catalog>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        options
            .into_iter()
            .fold(Catalog::builder(url), |b, (k, v)| b.option(k, v))
            .open()
    }

    /// A builder for storage options and request metering.
    pub fn builder(url: impl Into<String>) -> CatalogBuilder {
        CatalogBuilder {
            url: url.into(),
            options: vec![],
            metered: false,
            clock: None,
        }
    }

    /// The warehouse at `root` in storage already open (unmetered; the root names it in
    /// messages).
    pub fn from_io(io: FileIO, root: Path) -> Catalog {
        Catalog {
            inner: Arc::new(Inner {
                plain: io.clone(),
                io,
                url: root.to_string(),
                root,
                metrics: None,
            }),
        }
    }

    /// The URL the catalog was opened with.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The requests and bytes counted so far, when opened [`metered`](CatalogBuilder::metered).
    pub fn request_metrics(&self) -> Option<MetricsSnapshot> {
        self.inner.metrics.as_ref().map(|m| m.snapshot())
    }

    /// Every table, by database then name.
    pub async fn all_tables(&self) -> Result<Vec<Identifier>> {
        list_tables(&self.inner.io, &self.inner.root).await
    }

    /// The databases that hold at least one table.
    pub async fn databases(&self) -> Result<Vec<String>> {
        let mut dbs: Vec<String> = self
            .all_tables()
            .await?
            .into_iter()
            .map(|id| id.database)
            .collect();
        dbs.dedup();
        Ok(dbs)
    }

    /// The tables of database `db`.
    pub async fn tables(&self, db: &str) -> Result<Vec<Identifier>> {
        Ok(self
            .all_tables()
            .await?
            .into_iter()
            .filter(|id| id.database == db)
            .collect())
    }

    /// The table's directory, once the identifier is known safe as two path segments (an
    /// `Identifier` built by hand skips [`Identifier::parse`]) and, on a local warehouse, the
    /// database and table directories do not lead outside the warehouse through links.
    fn root_of(&self, id: &Identifier) -> Result<Path> {
        let parsed = Identifier::parse(&id.to_string());
        if parsed.as_ref().ok() != Some(id) {
            return Err(Error::invalid(format!(
                "table name {:?}.{:?}: each part must be letters, digits, '_' and '-'",
                id.database, id.table
            )));
        }
        for part in [&id.database, &id.table] {
            if part.len() > MAX_NAME_BYTES {
                return Err(Error::invalid(format!(
                    "table name {}…: a part is {} bytes long, at most {MAX_NAME_BYTES}",
                    &id.to_string().chars().take(40).collect::<String>(),
                    part.len()
                )));
            }
        }
        let root = table_root(&self.inner.root, id);
        let db_dir = self.inner.root.clone().join(format!("{}.db", id.database));
        self.inner.io.check_within_warehouse(&db_dir)?;
        self.inner.io.check_within_warehouse(&root)?;
        Ok(root)
    }

    /// Opens a table with its latest schema. A missing table is [`Error::NotFound`] saying how
    /// to create it.
    pub async fn table(&self, id: &Identifier) -> Result<Table> {
        match io::Table::open(self.inner.io.clone(), self.root_of(id)?, id.to_string()).await {
            Ok(t) => Ok(Table::new(t, id.clone(), self.inner.clone())),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(Error::NotFound(format!(
                "table {id} does not exist in warehouse {} (create it with `streamhouse create {id} --schema ...` or Catalog::create_table; `streamhouse tables` lists the tables)",
                self.inner.url
            ))),
            Err(e) => Err(e),
        }
    }

    /// Creates a table (its `schema/schema-0` with a create-only put, so of two concurrent
    /// creators one wins). With `if_not_exists` an existing table is opened instead; otherwise
    /// it is [`Error::AlreadyExists`].
    pub async fn create_table(
        &self,
        id: &Identifier,
        spec: TableSpec,
        if_not_exists: bool,
    ) -> Result<CreateOutcome> {
        let schema = spec.to_schema(self.inner.io.now_millis())?;
        let io = self.inner.io.clone();
        match io::Table::create(io, self.root_of(id)?, id.to_string(), schema).await {
            Ok(t) => Ok(CreateOutcome::Created(Table::new(
                t,
                id.clone(),
                self.inner.clone(),
            ))),
            Err(e) if e.kind() == ErrorKind::AlreadyExists && if_not_exists => {
                Ok(CreateOutcome::AlreadyExisted(self.table(id).await?))
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(Error::AlreadyExists(format!(
                "table {id} already exists in {} (see it with `streamhouse schema {id}`)",
                self.inner.url
            ))),
            Err(e) => Err(e),
        }
    }

    /// Deletes every file of a table; returns how many there were (0: no such table).
    pub async fn drop_table(&self, id: &Identifier) -> Result<usize> {
        let io = &self.inner.io;
        let files = io.list_recursive(&self.root_of(id)?).await?;
        for f in &files {
            io.check_within_warehouse(&f.location)?;
            io.delete(&f.location).await?;
        }
        Ok(files.len())
    }
}

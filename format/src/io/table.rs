//! A table's location and layout, following Paimon's filesystem catalog:
//! `<warehouse>/<db>.db/<table>/{schema,snapshot,manifest,index,tag,consumer}/` and data under
//! `[<partition path>/]bucket-<n>/`.

use std::collections::BTreeMap;
use std::sync::Arc;

use object_store::path::Path;

use crate::binary_row::BinaryRow;
use crate::error::{Error, Result};
use crate::io::storage::{Created, FileIO};
use crate::options::TableOptions;
use crate::schema::TableSchema;

/// `db.table` split and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier {
    pub database: String,
    pub table: String,
}

impl Identifier {
    pub fn parse(s: &str) -> Result<Self> {
        let (db, t) = s
            .split_once('.')
            .ok_or_else(|| Error::invalid(format!("table name {s:?} must be DATABASE.TABLE")))?;
        for part in [db, t] {
            if part.is_empty()
                || !part
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            {
                return Err(Error::invalid(format!(
                    "table name {s:?}: {part:?} may only hold letters, digits, '_' and '-'"
                )));
            }
        }
        Ok(Identifier {
            database: db.to_string(),
            table: t.to_string(),
        })
    }
}

impl std::fmt::Display for Identifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.database, self.table)
    }
}

/// An open table: where it lives and its current schema.
#[derive(Debug, Clone)]
pub struct Table {
    pub io: FileIO,
    pub root: Path,
    pub name: String,
    pub schema: Arc<TableSchema>,
    pub options: Arc<TableOptions>,
}

pub fn table_root(warehouse_root: &Path, id: &Identifier) -> Path {
    warehouse_root
        .clone()
        .join(format!("{}.db", id.database))
        .clone()
        .join(id.table.as_str())
}

impl Table {
    /// Opens the table at `root` with its latest schema. Errors name the table.
    pub async fn open(io: FileIO, root: Path, name: impl Into<String>) -> Result<Table> {
        let name = name.into();
        Table::open_latest_schema(io, root, &name)
            .await
            .map_err(|e| e.with_table(&name))
    }

    async fn open_latest_schema(io: FileIO, root: Path, name: &str) -> Result<Table> {
        let schema_dir = root.clone().join("schema");
        let ids: Vec<i64> = io
            .list_names(&schema_dir)
            .await?
            .iter()
            .filter_map(|n| n.strip_prefix("schema-").and_then(|i| i.parse().ok()))
            .collect();
        let latest = ids
            .into_iter()
            .max()
            .ok_or_else(|| Error::NotFound(format!("no schema under {root} in {}", io.url)))?;
        let path = schema_dir.clone().join(format!("schema-{latest}"));
        let bytes = io.read(&path).await?;
        let schema = TableSchema::from_json(&bytes, path.as_ref())?;
        Table::from_schema(io, root, name.to_string(), schema)
    }

    pub fn from_schema(io: FileIO, root: Path, name: String, schema: TableSchema) -> Result<Table> {
        let options = TableOptions::parse(&schema.options, !schema.primary_keys.is_empty())?;
        Ok(Table {
            io,
            root,
            name,
            schema: Arc::new(schema),
            options: Arc::new(options),
        })
    }

    /// Creates a table: writes `schema/schema-0` with a create-only put, so two concurrent
    /// creators cannot both succeed. Errors name the table.
    pub async fn create(
        io: FileIO,
        root: Path,
        name: impl Into<String>,
        schema: TableSchema,
    ) -> Result<Table> {
        let name = name.into();
        let created = async {
            // Validate options before anything is written.
            TableOptions::parse(&schema.options, !schema.primary_keys.is_empty())?;
            let path = root.clone().join("schema").clone().join("schema-0");
            io.write_if_absent(&path, schema.to_json()).await
        };
        match created.await.map_err(|e| e.with_table(&name))? {
            Created::Yes => Table::from_schema(io, root, name, schema),
            Created::AlreadyExists => {
                Err(Error::AlreadyExists(format!("table {name}")).with_table(name))
            }
        }
    }

    pub fn is_primary_key_table(&self) -> bool {
        !self.schema.primary_keys.is_empty()
    }

    pub fn snapshot_dir(&self) -> Path {
        self.root.clone().join("snapshot")
    }
    pub fn snapshot_path(&self, id: i64) -> Path {
        self.snapshot_dir().clone().join(format!("snapshot-{id}"))
    }
    pub fn manifest_path(&self, name: &str) -> Path {
        self.root.clone().join("manifest").clone().join(name)
    }
    pub fn index_path(&self, name: &str) -> Path {
        self.root.clone().join("index").clone().join(name)
    }
    pub fn schema_path(&self, id: i64) -> Path {
        self.root
            .clone()
            .join("schema")
            .clone()
            .join(format!("schema-{id}"))
    }

    /// The directory of a bucket: `<table>/<partition path>bucket-<n>`, where `partition_path`
    /// is empty or ends with '/'.
    pub fn bucket_dir(&self, partition_path: &str, bucket: i32) -> Path {
        let mut p = self.root.clone();
        for seg in partition_path.split('/').filter(|s| !s.is_empty()) {
            p = p.clone().join(seg);
        }
        if bucket == -2 {
            p.clone().join("bucket-postpone")
        } else {
            p.clone().join(format!("bucket-{bucket}"))
        }
    }

    /// The partition directory of a serialized partition row (`_PARTITION` of a manifest
    /// entry): `dt=2024-01-01/hr=1/`, empty for an unpartitioned table. The one place a
    /// partition row becomes a path; the names come from [`crate::partition::partition_path`].
    pub fn partition_dir(&self, partition: &[u8]) -> Result<String> {
        let keys = &self.schema.partition_keys;
        if keys.is_empty() {
            return Ok(String::new());
        }
        let row = BinaryRow::deserialize(partition)
            .map_err(|e| Error::corrupt("manifest _PARTITION", e))?;
        let types: Vec<_> = self.schema.types_named(keys)?;
        if row.arity() != types.len() {
            return Err(Error::corrupt(
                "manifest _PARTITION",
                format!(
                    "partition row has {} fields, table has {} partition keys",
                    row.arity(),
                    types.len()
                ),
            ));
        }
        let values = row.to_datums(&types)?;
        Ok(crate::partition::partition_path(
            keys,
            &types,
            &values,
            &self.options.partition_default_name,
        ))
    }

    /// Reads schema `id` (files may have been written under older schemas).
    pub async fn schema_by_id(&self, id: i64) -> Result<TableSchema> {
        if id == self.schema.id {
            return Ok((*self.schema).clone());
        }
        let path = self.schema_path(id);
        let bytes = self.io.read(&path).await?;
        TableSchema::from_json(&bytes, path.as_ref())
    }
}

/// Lists `db.table` names in a warehouse.
pub async fn list_tables(io: &FileIO, warehouse_root: &Path) -> Result<Vec<Identifier>> {
    let mut out = vec![];
    for db in io.list_dirs(warehouse_root).await? {
        let Some(db_name) = db.strip_suffix(".db") else {
            continue;
        };
        for t in io
            .list_dirs(&warehouse_root.clone().join(db.as_str()))
            .await?
        {
            if io
                .exists(
                    &warehouse_root
                        .clone()
                        .join(db.as_str())
                        .clone()
                        .join(t.as_str())
                        .clone()
                        .join("schema")
                        .clone()
                        .join("schema-0"),
                )
                .await?
            {
                out.push(Identifier {
                    database: db_name.to_string(),
                    table: t,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.database, &a.table).cmp(&(&b.database, &b.table)));
    Ok(out)
}

/// Options map builder used by tests and the CLI.
pub fn options_map<I: IntoIterator<Item = (K, V)>, K: Into<String>, V: Into<String>>(
    it: I,
) -> BTreeMap<String, String> {
    it.into_iter().map(|(k, v)| (k.into(), v.into())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        let id = Identifier::parse("db.t_1").unwrap();
        assert_eq!(id.to_string(), "db.t_1");
        assert!(Identifier::parse("nodot").is_err());
        assert!(Identifier::parse("a.b/c").is_err());
    }

    fn schema(options: &[(&str, &str)]) -> TableSchema {
        TableSchema::new(
            crate::types::parse_columns("id BIGINT NOT NULL, v STRING").unwrap(),
            vec![],
            vec!["id".into()],
            options_map(options.iter().copied()),
            0,
        )
        .unwrap()
    }

    /// A known option with a bad value is refused when the table is created and when a
    /// table whose schema holds it (written by another engine) is opened; unknown options
    /// are written back as they were.
    #[tokio::test]
    async fn bad_option_values_fail_create_and_open() {
        let url = format!("memory://options-{}", uuid::Uuid::new_v4());
        let (io, root) = crate::io::open_warehouse(&url).unwrap();
        let bad = [("snapshot.time-retained", "forever")];
        let e = Table::create(io.clone(), root.clone().join("t1"), "db.t1", schema(&bad))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("snapshot.time-retained"), "{e}");
        assert!(e.to_string().contains("forever"), "{e}");
        let t2 = root.clone().join("t2");
        io.write(
            &t2.clone().join("schema").join("schema-0"),
            schema(&bad).to_json(),
        )
        .await
        .unwrap();
        let e = Table::open(io.clone(), t2, "db.t2").await.unwrap_err();
        assert!(
            e.to_string().contains("snapshot.time-retained") && e.to_string().contains("forever"),
            "{e}"
        );

        let kept = [("bucket", "2"), ("some.engine.option", "x")];
        let t3 = root.clone().join("t3");
        Table::create(io.clone(), t3.clone(), "db.t3", schema(&kept))
            .await
            .unwrap();
        let t = Table::open(io, t3, "db.t3").await.unwrap();
        assert_eq!(t.options.all().get("some.engine.option").unwrap(), "x");
        assert_eq!(t.schema.options.get("some.engine.option").unwrap(), "x");
    }

    /// Errors of a table open, a snapshot read and a manifest read keep their kind and name
    /// the table, the snapshot and the file in their context and their message.
    #[tokio::test]
    async fn errors_name_table_snapshot_and_file() {
        use crate::ErrorKind;
        let url = format!("memory://context-{}", uuid::Uuid::new_v4());
        let (io, root) = crate::io::open_warehouse(&url).unwrap();
        let e = Table::open(io.clone(), root.clone().join("none"), "db.none")
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.context().table.as_deref(), Some("db.none"));
        assert_eq!(e.to_string().matches("db.none").count(), 1, "{e}");

        let t = Table::create(io.clone(), root.clone().join("t"), "db.t", schema(&[]))
            .await
            .unwrap();
        let e = Table::create(io.clone(), root.clone().join("t"), "db.t", schema(&[]))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists);
        assert_eq!(e.to_string(), "already exists: table db.t");

        let e = t.snapshot(4).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let c = e.context();
        assert_eq!((c.table.as_deref(), c.snapshot), (Some("db.t"), Some(4)));
        let message = e.to_string();
        assert!(message.contains("table db.t, snapshot 4"), "{message}");

        let name = "manifest-list-broken";
        io.write(&t.manifest_path(name), b"not avro".to_vec())
            .await
            .unwrap();
        let e = t.read_manifest_list(name).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        let path = t.manifest_path(name).to_string();
        assert_eq!(e.context().file.as_deref(), Some(path.as_str()));
        assert_eq!(e.context().table.as_deref(), Some("db.t"));
        assert_eq!(e.to_string().matches(&path).count(), 1, "{e}");
        let e = t.read_manifest("manifest-gone").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e
            .context()
            .file
            .unwrap()
            .ends_with("manifest/manifest-gone"));
    }
}

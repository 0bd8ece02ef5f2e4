//! The warehouse a command works on, and opening its tables with messages that say what to do.

use object_store::path::Path;
use streamhouse_format::io::{open_warehouse, table_root, FileIO, Identifier, Table};
use streamhouse_format::Error;

use crate::error::{CliError, CliResult};

pub struct Warehouse {
    pub io: FileIO,
    pub root: Path,
    /// As the user gave it, for messages.
    pub url: String,
}

impl Warehouse {
    pub fn open(url: &str) -> CliResult<Self> {
        let (io, root) = open_warehouse(url)?;
        Ok(Warehouse {
            io,
            root,
            url: url.to_string(),
        })
    }

    pub fn table_root(&self, id: &Identifier) -> Path {
        table_root(&self.root, id)
    }

    /// Opens a table with its latest schema; a missing table is an error that says how to make it.
    pub async fn open_table(&self, id: &Identifier) -> CliResult<Table> {
        match Table::open(self.io.clone(), self.table_root(id), id.to_string()).await {
            Ok(t) => Ok(t),
            Err(Error::NotFound(_)) => Err(CliError::Failed(format!(
                "table {id} does not exist in warehouse {} (create it with `streamhouse create {id} --schema ...`; `streamhouse tables` lists the tables)",
                self.url
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// The snapshot id to read: the given one (checked to exist) or the latest (`None` for a
    /// table without commits).
    pub async fn resolve_snapshot(&self, table: &Table, id: Option<i64>) -> CliResult<Option<i64>> {
        let Some(id) = id else {
            return Ok(table.latest_snapshot_id().await?);
        };
        match table.snapshot(id).await {
            Ok(_) => Ok(Some(id)),
            Err(Error::NotFound(_)) => {
                let ids = table.list_snapshot_ids().await?;
                let have = match (ids.first(), ids.last()) {
                    (Some(a), Some(b)) if a == b => format!("it has snapshot {a}"),
                    (Some(a), Some(b)) => format!("it has snapshots {a} to {b}"),
                    _ => "it has no snapshots yet".to_string(),
                };
                Err(CliError::Failed(format!(
                    "snapshot {id} of table {} does not exist; {have}",
                    table.name
                )))
            }
            Err(e) => Err(e.into()),
        }
    }
}

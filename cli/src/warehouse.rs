//! The warehouse a command works on, and opening its tables with messages that say what to do.

use std::sync::Arc;

use object_store::path::Path;
use streamhouse_format::io::metrics::{MeteredStore, MetricsSnapshot, RequestKind, StoreMetrics};
use streamhouse_format::io::{open_warehouse, table_root, FileIO, Identifier, Table};
use streamhouse_format::Error;

use crate::error::{CliError, CliResult};

pub struct Warehouse {
    pub io: FileIO,
    pub root: Path,
    /// As the user gave it, for messages.
    pub url: String,
    /// Request counters of `io` when `--stats` is on.
    pub metrics: Option<Arc<StoreMetrics>>,
}

impl Warehouse {
    pub fn open(url: &str) -> CliResult<Self> {
        let (io, root) = open_warehouse(url)?;
        Ok(Warehouse {
            io,
            root,
            url: url.to_string(),
            metrics: None,
        })
    }

    /// Opens the warehouse with every object-store request counted (`--stats`).
    pub fn open_metered(url: &str) -> CliResult<Self> {
        let mut wh = Self::open(url)?;
        let store = MeteredStore::new(wh.io.store.clone());
        wh.metrics = Some(store.metrics().clone());
        wh.io = FileIO::new(Arc::new(store), wh.io.url.clone());
        Ok(wh)
    }

    /// Whether `--stats` is on (commands may add their own figures, e.g. scan pruning).
    pub fn stats_enabled(&self) -> bool {
        self.metrics.is_some()
    }

    /// The requests counted so far, when `--stats` is on.
    pub fn cost(&self) -> Option<MetricsSnapshot> {
        self.metrics.as_ref().map(|m| m.snapshot())
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

/// The `--stats` report: a total line, then one line per request kind that was used.
///
/// ```text
/// stats: 7 object-store requests, 12.4 KiB
///   GET                    3     2.1 KiB
///   conditional PUT        1     1.2 KiB
/// ```
pub fn stats_report(cost: &MetricsSnapshot) -> String {
    let n = cost.total_requests();
    let mut out = format!(
        "stats: {n} object-store request{}, {}",
        if n == 1 { "" } else { "s" },
        crate::commands::human_bytes(cost.total_bytes())
    );
    for kind in RequestKind::ALL {
        let r = cost.requests(kind);
        if r > 0 {
            out.push_str(&format!(
                "\n  {:<18} {r:>6} {:>11}",
                kind.name(),
                crate::commands::human_bytes(cost.bytes(kind))
            ));
        }
    }
    out
}

//! Finding and reading snapshots. `LATEST`/`EARLIEST` are hints only: the snapshot files are
//! the truth, so a hint is confirmed by probing the next id and a missing or stale hint falls
//! back to a listing.

use crate::error::{Error, ErrorKind, Result};
use crate::io::table::Table;
use crate::snapshot::Snapshot;

impl Table {
    /// Id of the newest snapshot, or `None` for a table without commits.
    pub async fn latest_snapshot_id(&self) -> Result<Option<i64>> {
        let hint = self.read_hint("LATEST").await?;
        if let Some(mut id) = hint.filter(|id| *id > 0) {
            // The hint may lag behind; walk forward a few ids before falling back to listing.
            for _ in 0..8 {
                if !self.io.exists(&self.snapshot_path(id + 1)).await? {
                    if self.io.exists(&self.snapshot_path(id)).await? {
                        return Ok(Some(id));
                    }
                    break;
                }
                id += 1;
            }
        }
        Ok(self.list_snapshot_ids().await?.last().copied())
    }

    /// Id of the oldest snapshot still present.
    pub async fn earliest_snapshot_id(&self) -> Result<Option<i64>> {
        if let Some(id) = self.read_hint("EARLIEST").await? {
            if self.io.exists(&self.snapshot_path(id)).await? {
                return Ok(Some(id));
            }
        }
        Ok(self.list_snapshot_ids().await?.first().copied())
    }

    /// All snapshot ids present, ascending.
    pub async fn list_snapshot_ids(&self) -> Result<Vec<i64>> {
        let mut ids: Vec<i64> = self
            .io
            .list_names(&self.snapshot_dir())
            .await?
            .iter()
            .filter_map(|n| n.strip_prefix("snapshot-").and_then(|i| i.parse().ok()))
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    async fn read_hint(&self, name: &str) -> Result<Option<i64>> {
        let path = self.snapshot_dir().clone().join(name);
        Ok(self.io.read_opt(&path).await?.and_then(|b| {
            std::str::from_utf8(&b)
                .ok()
                .and_then(|s| s.trim().parse().ok())
        }))
    }

    /// Snapshot `id`. Errors name the table and the snapshot.
    pub async fn snapshot(&self, id: i64) -> Result<Snapshot> {
        let path = self.snapshot_path(id);
        let read = async {
            let s = Snapshot::from_json(&self.io.read(&path).await?, path.as_ref())?;
            match s.id == id {
                true => Ok(s),
                false => Err(Error::corrupt(
                    &path,
                    format!("holds snapshot id {} instead of {id}", s.id),
                )),
            }
        };
        read.await
            .map_err(|e| e.with_table(&self.name).with_snapshot(id))
    }

    /// The snapshot `None` = latest; `None` result for an empty table.
    pub async fn snapshot_or_latest(&self, id: Option<i64>) -> Result<Option<Snapshot>> {
        match id {
            Some(id) => self.snapshot(id).await.map(Some),
            None => match self.latest_snapshot_id().await? {
                Some(id) => self.snapshot(id).await.map(Some),
                None => Ok(None),
            },
        }
    }

    /// Snapshots with ids in `from..=to` that exist, ascending.
    pub async fn snapshots_between(&self, from: i64, to: i64) -> Result<Vec<Snapshot>> {
        let mut out = vec![];
        for id in from..=to {
            match self.snapshot(id).await {
                Ok(s) => out.push(s),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

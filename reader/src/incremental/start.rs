//! Where a tail starts: Paimon's streaming scan modes and consumer positions, and the error
//! for a position that snapshot expiration already removed.

use streamhouse_format::io::Table;
use streamhouse_format::{Error, ErrorKind, Result};

use super::StartPosition;

/// The first thing a tail reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// A full scan of this snapshot as `+I` rows, then the changes of later snapshots.
    Full(i64),
    /// The changes of this snapshot and every later one.
    Changes(i64),
}

/// Resolves a start position against the table's current snapshots.
pub async fn resolve(table: &Table, start: StartPosition) -> Result<Begin> {
    let latest = table.latest_snapshot_id().await?;
    Ok(match start {
        StartPosition::LatestFull => match latest {
            Some(l) => Begin::Full(l),
            // Nothing committed yet: every change from the first snapshot on.
            None => Begin::Changes(1),
        },
        StartPosition::Latest => Begin::Changes(latest.map_or(1, |l| l + 1)),
        StartPosition::FromSnapshot(n) => {
            if n < 1 {
                return Err(Error::invalid(format!(
                    "start snapshot {n} of table {}: snapshot ids start at 1",
                    table.name
                )));
            }
            check_available(table, n, None).await?;
            Begin::Changes(n)
        }
        StartPosition::FromTimestamp(millis) => {
            Begin::Changes(first_committed_at_or_after(table, millis).await?)
        }
    })
}

/// The first snapshot committed at or after `millis` (epoch milliseconds), or the snapshot
/// after the latest one when none was (Java `earlierThanTimeMills` + 1). Commit times are
/// assumed not to decrease with the snapshot id, as Java assumes.
pub async fn first_committed_at_or_after(table: &Table, millis: i64) -> Result<i64> {
    let Some(latest) = table.latest_snapshot_id().await? else {
        return Ok(1);
    };
    if table.snapshot(latest).await?.time_millis < millis {
        return Ok(latest + 1);
    }
    let mut lo = table.earliest_snapshot_id().await?.unwrap_or(latest);
    let mut hi = latest;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match table.snapshot(mid).await {
            Ok(s) if s.time_millis >= millis => hi = mid,
            Ok(_) => lo = mid + 1,
            // Expired while searching: the answer is newer.
            Err(e) if e.kind() == ErrorKind::NotFound => lo = mid + 1,
            Err(e) => return Err(e),
        }
    }
    Ok(lo)
}

/// Fails with [`fell_behind`] when snapshot `next` has already been expired.
pub async fn check_available(table: &Table, next: i64, consumer: Option<&str>) -> Result<()> {
    if let Some(earliest) = table.earliest_snapshot_id().await? {
        if next < earliest {
            return Err(fell_behind(table, next, earliest, consumer));
        }
    }
    Ok(())
}

/// The error of a reader whose next snapshot was expired before it was read.
pub fn fell_behind(table: &Table, needed: i64, earliest: i64, consumer: Option<&str>) -> Error {
    let who = match consumer {
        Some(id) => format!("consumer {id}"),
        None => "this reader".to_string(),
    };
    let hint = match consumer {
        Some(_) => "start it again from a position that exists (e.g. from latest-full, ignoring the consumer's recorded progress)",
        None => "start again from a position that exists (e.g. latest-full) and give the reader a consumer id so that expiration keeps the snapshots it still needs",
    };
    Error::NotFound(format!(
        "snapshot {needed} of table {} has expired (the earliest snapshot is {earliest}): {who} fell behind snapshot expiration, and the changes of snapshots {needed} to {} are gone; {hint}",
        table.name,
        earliest - 1
    ))
}

//! Consumer files: `consumer/consumer-<id>` holds `{"nextSnapshot": N}`, Paimon's format (Java
//! `ConsumerManager`, pypaimon `ConsumerManager`). A streaming reader with a consumer id writes
//! N = the next snapshot it needs after it has handled the changes of snapshot N-1, so a
//! restarted reader resumes at N, and snapshot expiration keeps every snapshot ≥ the smallest N
//! of any consumer (see `spec/tail.md`).

use std::time::SystemTime;

use object_store::path::Path;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::io::table::Table;

/// The prefix of consumer file names.
pub const CONSUMER_PREFIX: &str = "consumer-";

/// How often a consumer file that does not parse is read again (a non-atomic writer, such as
/// Java on HDFS, may be overwriting it at that moment), as Java and pypaimon do.
const READ_ATTEMPTS: u32 = 5;

/// The content of a consumer file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consumer {
    /// The first snapshot whose changes the consumer has not handled yet.
    #[serde(rename = "nextSnapshot")]
    pub next_snapshot: i64,
}

impl Consumer {
    /// Parses a consumer file's bytes; `path` names the file in errors.
    pub fn from_json(bytes: &[u8], path: &str) -> Result<Self> {
        let c: Consumer = serde_json::from_slice(bytes).map_err(|e| {
            Error::corrupt(
                path,
                format!("not a consumer file ({{\"nextSnapshot\": N}}): {e}"),
            )
        })?;
        if c.next_snapshot < 0 {
            return Err(Error::corrupt(
                path,
                format!("nextSnapshot {} is negative", c.next_snapshot),
            ));
        }
        Ok(c)
    }

    /// Java's form: `{"nextSnapshot" : N}` pretty-printed; whitespace is irrelevant to readers.
    pub fn to_json(&self) -> Vec<u8> {
        format!("{{\n  \"nextSnapshot\" : {}\n}}", self.next_snapshot).into_bytes()
    }
}

/// Checks a consumer id: 1 to 200 characters of letters, digits, `_`, `-` and `.` (not only
/// dots), so that it is one file name on every store.
pub fn check_consumer_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !id.chars().all(|c| c == '.');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "consumer id {id:?} may only hold 1 to 200 letters, digits, '_', '-' and '.'"
        )))
    }
}

impl Table {
    /// `<table>/consumer/`.
    pub fn consumer_dir(&self) -> Path {
        self.root.clone().join("consumer")
    }

    /// `<table>/consumer/consumer-<id>`.
    pub fn consumer_path(&self, id: &str) -> Path {
        self.consumer_dir()
            .clone()
            .join(format!("{CONSUMER_PREFIX}{id}"))
    }

    /// The next snapshot consumer `id` needs, or `None` when it has no file.
    pub async fn consumer(&self, id: &str) -> Result<Option<i64>> {
        check_consumer_id(id)?;
        let path = self.consumer_path(id);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(bytes) = self.io.read_opt(&path).await? else {
                return Ok(None);
            };
            match Consumer::from_json(&bytes, path.as_ref()) {
                Ok(c) => return Ok(Some(c.next_snapshot)),
                Err(e) if attempt >= READ_ATTEMPTS => return Err(e),
                Err(_) => {
                    self.io
                        .clock
                        .sleep(std::time::Duration::from_millis(50))
                        .await
                }
            }
        }
    }

    /// Records that consumer `id` next needs snapshot `next_snapshot` (overwrites its file).
    pub async fn set_consumer(&self, id: &str, next_snapshot: i64) -> Result<()> {
        check_consumer_id(id)?;
        if next_snapshot < 1 {
            return Err(Error::invalid(format!(
                "consumer {id}: next snapshot {next_snapshot} must be at least 1"
            )));
        }
        let c = Consumer { next_snapshot };
        self.io.write(&self.consumer_path(id), c.to_json()).await?;
        crate::io::faults::crash_point("consumer.written");
        Ok(())
    }

    /// Removes consumer `id` (no error when it does not exist).
    pub async fn delete_consumer(&self, id: &str) -> Result<()> {
        check_consumer_id(id)?;
        self.io.delete(&self.consumer_path(id)).await
    }

    /// Every consumer of the table with the next snapshot it needs, sorted by id. Files under
    /// `consumer/` that are not named `consumer-<id>` are ignored; a consumer file that does not
    /// parse is an error naming it (expiration must not guess what a consumer needs).
    pub async fn consumers(&self) -> Result<Vec<(String, i64)>> {
        let mut out = vec![];
        for name in self.io.list_names(&self.consumer_dir()).await? {
            let Some(id) = name.strip_prefix(CONSUMER_PREFIX) else {
                continue;
            };
            if check_consumer_id(id).is_err() {
                continue;
            }
            // Deleted between the listing and the read: no longer a consumer.
            if let Some(next) = self.consumer(id).await? {
                out.push((id.to_string(), next));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The smallest next snapshot of any consumer: snapshot expiration must keep this snapshot
    /// and every later one. `None` without consumers.
    pub async fn min_consumer_next_snapshot(&self) -> Result<Option<i64>> {
        Ok(self.consumers().await?.into_iter().map(|(_, n)| n).min())
    }

    /// Deletes consumers whose file was last written before `before` (Paimon's
    /// `consumer.expiration-time`: an abandoned consumer must not hold back expiration
    /// forever). Returns the ids deleted.
    pub async fn expire_consumers(&self, before: SystemTime) -> Result<Vec<String>> {
        self.expire_consumers_before(before.into()).await
    }

    /// Deletes consumers idle for longer than `expiration` by the table's clock (Paimon's
    /// `consumer.expiration-time`). Returns the ids deleted.
    pub async fn expire_idle_consumers(
        &self,
        expiration: std::time::Duration,
    ) -> Result<Vec<String>> {
        let now = self.io.now_millis();
        let before = now.saturating_sub(i64::try_from(expiration.as_millis()).unwrap_or(i64::MAX));
        let before = chrono::DateTime::from_timestamp_millis(before).ok_or_else(|| {
            Error::invalid(format!(
                "consumer expiration {expiration:?} reaches before year -262143"
            ))
        })?;
        self.expire_consumers_before(before).await
    }

    async fn expire_consumers_before(
        &self,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<String>> {
        let mut expired = vec![];
        for meta in self.io.list_recursive(&self.consumer_dir()).await? {
            let Some(id) = meta
                .location
                .filename()
                .and_then(|n| n.strip_prefix(CONSUMER_PREFIX))
            else {
                continue;
            };
            if check_consumer_id(id).is_err() || meta.last_modified >= before {
                continue;
            }
            self.io.delete(&meta.location).await?;
            expired.push(id.to_string());
        }
        expired.sort();
        Ok(expired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::open_warehouse;
    use crate::schema::TableSchema;
    use crate::types::parse_columns;

    async fn table() -> Table {
        let (io, root) =
            open_warehouse(&format!("memory://consumers-{}", uuid::Uuid::new_v4())).unwrap();
        let schema = TableSchema::new(
            parse_columns("id BIGINT NOT NULL").unwrap(),
            vec![],
            vec!["id".into()],
            Default::default(),
            0,
        )
        .unwrap();
        Table::create(io, root.clone().join("db.db").join("t"), "db.t", schema)
            .await
            .unwrap()
    }

    #[test]
    fn reads_java_and_pypaimon_forms() {
        for text in [
            &b"{\n  \"nextSnapshot\" : 12\n}"[..],
            b"{\"nextSnapshot\": 12}",
        ] {
            assert_eq!(
                Consumer::from_json(text, "c").unwrap(),
                Consumer { next_snapshot: 12 }
            );
        }
        let c = Consumer { next_snapshot: 7 };
        assert_eq!(Consumer::from_json(&c.to_json(), "c").unwrap(), c);
        let e = Consumer::from_json(b"{\"next\": 1}", "consumer/consumer-x").unwrap_err();
        assert!(e.to_string().contains("consumer/consumer-x"), "{e}");
        assert!(Consumer::from_json(b"{\"nextSnapshot\": -1}", "c").is_err());
    }

    #[test]
    fn consumer_ids() {
        for ok in ["a", "my-consumer_1", "job.v2"] {
            check_consumer_id(ok).unwrap();
        }
        for bad in ["", "a/b", "..", "x y", "é"] {
            assert!(check_consumer_id(bad).is_err(), "{bad:?}");
        }
    }

    /// Consumer expiry measures idleness by the table's clock: two hours pass without a
    /// sleep.
    #[tokio::test]
    async fn idle_consumers_expire_by_the_tables_clock() {
        let clock = crate::clock::ManualClock::starting_now();
        let mut t = table().await;
        t.io = t.io.clone().with_clock(std::sync::Arc::new(clock.clone()));
        t.set_consumer("idle", 3).await.unwrap();
        let hour = std::time::Duration::from_secs(3600);
        assert!(t.expire_idle_consumers(hour).await.unwrap().is_empty());
        clock.advance(2 * hour);
        assert_eq!(t.expire_idle_consumers(hour).await.unwrap(), vec!["idle"]);
        assert_eq!(t.consumers().await.unwrap(), vec![]);
    }

    #[tokio::test]
    async fn set_list_min_delete_expire() {
        let t = table().await;
        assert_eq!(t.consumers().await.unwrap(), vec![]);
        assert_eq!(t.min_consumer_next_snapshot().await.unwrap(), None);
        assert_eq!(t.consumer("a").await.unwrap(), None);
        t.set_consumer("b", 9).await.unwrap();
        t.set_consumer("a", 4).await.unwrap();
        t.set_consumer("a", 5).await.unwrap();
        // Stray files are not consumers.
        t.io.write(&t.consumer_dir().clone().join("notes"), "x")
            .await
            .unwrap();
        assert_eq!(
            t.consumers().await.unwrap(),
            vec![("a".to_string(), 5), ("b".to_string(), 9)]
        );
        assert_eq!(t.min_consumer_next_snapshot().await.unwrap(), Some(5));
        let text = t.io.read(&t.consumer_path("a")).await.unwrap();
        assert_eq!(&text[..], b"{\n  \"nextSnapshot\" : 5\n}");
        assert!(t.set_consumer("a", 0).await.is_err());
        t.delete_consumer("a").await.unwrap();
        t.delete_consumer("a").await.unwrap();
        assert_eq!(t.min_consumer_next_snapshot().await.unwrap(), Some(9));
        let none = t.expire_consumers(SystemTime::UNIX_EPOCH).await.unwrap();
        assert!(none.is_empty());
        let all = t
            .expire_consumers(SystemTime::now() + std::time::Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(all, vec!["b".to_string()]);
        assert_eq!(t.consumers().await.unwrap(), vec![]);
    }

    #[tokio::test]
    async fn a_corrupt_consumer_file_is_an_error_naming_it() {
        let t = table().await;
        t.io.write(&t.consumer_path("bad"), "{").await.unwrap();
        let e = t.consumers().await.unwrap_err().to_string();
        assert!(e.contains("consumer/consumer-bad"), "{e}");
    }
}

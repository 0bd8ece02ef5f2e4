//! Tags and time travel.
//!
//! A tag is `tag/tag-<name>`: the JSON of the tagged snapshot plus, as Java writes them,
//! `tagCreateTime` (a local date-time as the array `[year, month, day, hour, minute, second,
//! nanos]`) and optionally `tagTimeRetained` (seconds, e.g. `3600.0`). Because the file holds
//! the whole snapshot, a tag stays readable after its snapshot file is expired. Java, pypaimon
//! (`table.copy({'scan.tag-name': name})`) and Streamhouse read the same files.
//!
//! Time travel resolves a scan's snapshot from an id, a tag, or a time: the latest snapshot
//! committed at or before it ([`Table::snapshot_as_of`]).

use std::time::Duration;

use chrono::{Datelike, Timelike};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::io::storage::Created;
use crate::io::table::Table;
use crate::snapshot::Snapshot;

/// A tag: its name, the snapshot it pins, and Java's extra fields when present.
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    pub name: String,
    pub snapshot: Snapshot,
    /// `tagCreateTime` as written (`[y, m, d, h, mi, s, nanos]`), local wall clock.
    pub create_time: Option<Vec<i64>>,
    /// `tagTimeRetained` in seconds.
    pub time_retained: Option<f64>,
}

/// Checks a tag name: non-empty, not all digits (it would read as a snapshot id), and usable
/// as a file name.
pub fn check_tag_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::invalid("a tag name cannot be empty"));
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::invalid(format!(
            "tag name {name:?} is all digits; it would be confused with a snapshot id"
        )));
    }
    if name.contains(['/', '\\']) || name.starts_with('.') || name.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "tag name {name:?} may not contain '/', '\\' or control characters, nor start with '.'"
        )));
    }
    Ok(())
}

impl Tag {
    /// Parses a tag file (unknown fields ignored, as for snapshots).
    pub fn from_json(name: &str, bytes: &[u8], path: &str) -> Result<Tag> {
        let snapshot = Snapshot::from_json(bytes, path)?;
        let v: Value = serde_json::from_slice(bytes).map_err(|e| Error::corrupt(path, e))?;
        let create_time = v.get("tagCreateTime").and_then(|t| {
            t.as_array()
                .map(|a| a.iter().filter_map(Value::as_i64).collect::<Vec<_>>())
        });
        let time_retained = v.get("tagTimeRetained").and_then(Value::as_f64);
        Ok(Tag {
            name: name.to_string(),
            snapshot,
            create_time,
            time_retained,
        })
    }

    /// The file content: the snapshot's JSON plus the tag fields.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v: Map<String, Value> = match serde_json::to_value(&self.snapshot) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        if let Some(t) = &self.create_time {
            v.insert("tagCreateTime".into(), Value::from(t.clone()));
        }
        if let Some(r) = self.time_retained {
            v.insert("tagTimeRetained".into(), Value::from(r));
        }
        serde_json::to_vec_pretty(&Value::Object(v)).unwrap_or_default()
    }
}

/// The local wall clock as Java's `LocalDateTime` JSON array.
fn local_now_array() -> Vec<i64> {
    let now = chrono::Local::now().naive_local();
    vec![
        now.year() as i64,
        now.month() as i64,
        now.day() as i64,
        now.hour() as i64,
        now.minute() as i64,
        now.second() as i64,
        now.nanosecond() as i64,
    ]
}

impl Table {
    pub fn tag_dir(&self) -> object_store::path::Path {
        self.root.clone().join("tag")
    }

    pub fn tag_path(&self, name: &str) -> object_store::path::Path {
        self.tag_dir().clone().join(format!("tag-{name}"))
    }

    /// Tags snapshot `snapshot_id` (the latest when `None`) as `name`. Fails when the tag
    /// exists (a create-only put, so two creators cannot both win) or the snapshot does not.
    pub async fn create_tag(
        &self,
        name: &str,
        snapshot_id: Option<i64>,
        time_retained: Option<Duration>,
    ) -> Result<Tag> {
        check_tag_name(name)?;
        let snapshot = match snapshot_id {
            Some(id) => self.snapshot(id).await?,
            None => {
                let id = self.latest_snapshot_id().await?.ok_or_else(|| {
                    Error::invalid(format!(
                        "table {} has no snapshot to tag yet; write to it first",
                        self.name
                    ))
                })?;
                self.snapshot(id).await?
            }
        };
        let tag = Tag {
            name: name.to_string(),
            snapshot,
            create_time: Some(local_now_array()),
            time_retained: time_retained.map(|d| d.as_secs_f64()),
        };
        match self
            .io
            .write_if_absent(&self.tag_path(name), tag.to_json())
            .await?
        {
            Created::Yes => {
                crate::io::faults::crash_point("tag.created");
                Ok(tag)
            }
            Created::AlreadyExists => Err(Error::AlreadyExists(format!(
                "tag {name} of table {}",
                self.name
            ))),
        }
    }

    /// Reads tag `name`.
    pub async fn tag(&self, name: &str) -> Result<Tag> {
        check_tag_name(name)?;
        let path = self.tag_path(name);
        match self.io.read_opt(&path).await? {
            Some(bytes) => Tag::from_json(name, &bytes, path.as_ref()),
            None => {
                let have: Vec<String> = self.list_tag_names().await?;
                Err(Error::NotFound(format!(
                    "tag {name} of table {} ({})",
                    self.name,
                    if have.is_empty() {
                        "it has no tags".to_string()
                    } else {
                        format!("its tags are {}", have.join(", "))
                    }
                )))
            }
        }
    }

    async fn list_tag_names(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .io
            .list_names(&self.tag_dir())
            .await?
            .into_iter()
            .filter_map(|n| n.strip_prefix("tag-").map(str::to_string))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Every tag, ordered by snapshot id then name.
    pub async fn list_tags(&self) -> Result<Vec<Tag>> {
        let mut out = vec![];
        for name in self.list_tag_names().await? {
            let path = self.tag_path(&name);
            if let Some(bytes) = self.io.read_opt(&path).await? {
                out.push(Tag::from_json(&name, &bytes, path.as_ref())?);
            }
        }
        out.sort_by(|a, b| (a.snapshot.id, &a.name).cmp(&(b.snapshot.id, &b.name)));
        Ok(out)
    }

    /// Deletes tag `name` (its data files stay until snapshot expiration no longer needs
    /// them). Fails when there is no such tag.
    pub async fn delete_tag(&self, name: &str) -> Result<Tag> {
        let tag = self.tag(name).await?;
        self.io.delete(&self.tag_path(name)).await?;
        crate::io::faults::crash_point("tag.deleted");
        Ok(tag)
    }

    /// The latest snapshot committed at or before `millis` (epoch milliseconds), or `None`
    /// when every snapshot is newer (or there is none). Binary search over the snapshot ids,
    /// whose commit times never decrease.
    pub async fn snapshot_as_of(&self, millis: i64) -> Result<Option<Snapshot>> {
        let ids = self.list_snapshot_ids().await?;
        let (mut lo, mut hi) = (0usize, ids.len());
        let mut best: Option<Snapshot> = None;
        while lo < hi {
            let mid = (lo + hi) / 2;
            let s = match self.snapshot(ids[mid]).await {
                Ok(s) => s,
                // Expired while we searched: search the newer half.
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    lo = mid + 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if s.time_millis <= millis {
                best = Some(s);
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_are_checked() {
        assert!(check_tag_name("v1").is_ok());
        assert!(check_tag_name("2024-01-31").is_ok());
        assert!(check_tag_name("").is_err());
        assert!(check_tag_name("12").is_err());
        assert!(check_tag_name("a/b").is_err());
    }

    #[test]
    fn tag_json_is_a_snapshot_plus_tag_fields() {
        let snap =
            br#"{"version":3,"id":4,"schemaId":0,"baseManifestList":"b","deltaManifestList":"d",
            "commitUser":"u","commitIdentifier":1,"commitKind":"APPEND","timeMillis":7}"#;
        let s = Snapshot::from_json(snap, "s").unwrap();
        let t = Tag {
            name: "v1".into(),
            snapshot: s.clone(),
            create_time: Some(vec![2024, 1, 31, 13, 45, 0, 5]),
            time_retained: Some(3600.0),
        };
        let json = t.to_json();
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(text.contains("\"tagCreateTime\""), "{text}");
        assert!(text.contains("3600.0"), "{text}");
        let back = Tag::from_json("v1", &json, "tag-v1").unwrap();
        assert_eq!(back, t);
        assert_eq!(back.snapshot, s);
    }
}

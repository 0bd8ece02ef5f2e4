//! Snapshot files (`snapshot/snapshot-<id>`): the root of one consistent table version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const SNAPSHOT_VERSION: i32 = 3;
/// The commit identifier batch writers use.
pub const BATCH_COMMIT_IDENTIFIER: i64 = i64::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommitKind {
    Append,
    Compact,
    Overwrite,
    Analyze,
}

impl std::fmt::Display for CommitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CommitKind::Append => "APPEND",
            CommitKind::Compact => "COMPACT",
            CommitKind::Overwrite => "OVERWRITE",
            CommitKind::Analyze => "ANALYZE",
        })
    }
}

/// A snapshot as Java Paimon writes it. Unknown fields are ignored and optional fields are
/// omitted when absent; legacy fields (`logOffsets`, explicit nulls) are accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub version: i32,
    pub id: i64,
    pub schema_id: i64,
    pub base_manifest_list: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_manifest_list_size: Option<i64>,
    pub delta_manifest_list: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_manifest_list_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changelog_manifest_list: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changelog_manifest_list_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_manifest: Option<String>,
    pub commit_user: String,
    pub commit_identifier: i64,
    pub commit_kind: CommitKind,
    pub time_millis: i64,
    #[serde(default)]
    pub total_record_count: Option<i64>,
    #[serde(default)]
    pub delta_record_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changelog_record_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_row_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer_version: Option<String>,
}

impl Snapshot {
    pub fn from_json(bytes: &[u8], path: &str) -> Result<Self> {
        let s: Snapshot = serde_json::from_slice(bytes).map_err(|e| Error::corrupt(path, e))?;
        if s.version > SNAPSHOT_VERSION {
            return Err(Error::unsupported(format!(
                "{path}: snapshot format version {} (this build reads up to {SNAPSHOT_VERSION})",
                s.version
            )));
        }
        Ok(s)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("snapshot serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pypaimon_and_legacy_java_snapshots() {
        let py = br#"{"version":3,"id":2,"schemaId":0,
            "baseManifestList":"manifest-list-45be-0","deltaManifestList":"manifest-list-45be-1",
            "totalRecordCount":20,"deltaRecordCount":10,"commitUser":"4d6e",
            "commitIdentifier":9223372036854775807,"commitKind":"APPEND","timeMillis":1795544592657,
            "baseManifestListSize":1338,"deltaManifestListSize":1340,"uuid":"2023","writerVersion":"python-2.1.0"}"#;
        let s = Snapshot::from_json(py, "snapshot-2").unwrap();
        assert_eq!(s.commit_identifier, BATCH_COMMIT_IDENTIFIER);
        assert_eq!(s.commit_kind, CommitKind::Append);
        assert_eq!(s.total_record_count, Some(20));
        let legacy = br#"{"version":3,"id":1,"schemaId":0,"baseManifestList":"a","deltaManifestList":"b",
            "changelogManifestList":null,"indexManifest":null,"commitUser":"u","commitIdentifier":1,
            "commitKind":"COMPACT","timeMillis":1,"logOffsets":{},"totalRecordCount":0,"deltaRecordCount":0,
            "changelogRecordCount":null,"watermark":-9223372036854775808}"#;
        let s = Snapshot::from_json(legacy, "snapshot-1").unwrap();
        assert_eq!(s.commit_kind, CommitKind::Compact);
        assert_eq!(s.changelog_manifest_list, None);
        let back = Snapshot::from_json(&s.to_json(), "x").unwrap();
        assert_eq!(back, s);
        let text = String::from_utf8(s.to_json()).unwrap();
        assert!(!text.contains("null"), "{text}");
    }

    #[test]
    fn corrupt_snapshot_names_the_file() {
        let e = Snapshot::from_json(b"{\"version\":3", "snapshot/snapshot-7").unwrap_err();
        assert!(e.to_string().contains("snapshot/snapshot-7"));
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn snapshots_round_trip(
            id in 1i64..i64::MAX, schema_id in 0i64..1000, total in proptest::option::of(any::<i64>()),
            delta in proptest::option::of(any::<i64>()), changelog in proptest::option::of("[a-z0-9-]{1,20}"),
            ident in any::<i64>(), kind in prop_oneof![Just(CommitKind::Append), Just(CommitKind::Compact), Just(CommitKind::Overwrite), Just(CommitKind::Analyze)],
            props in proptest::option::of(proptest::collection::btree_map("[a-z.]{1,8}", "\\PC{0,8}", 0..3)),
        ) {
            let s = Snapshot {
                version: 3, id, schema_id, base_manifest_list: "b".into(), base_manifest_list_size: Some(1),
                delta_manifest_list: "d".into(), delta_manifest_list_size: None,
                changelog_manifest_list_size: changelog.as_ref().map(|_| 7), changelog_manifest_list: changelog,
                index_manifest: None, commit_user: "u".into(), commit_identifier: ident, commit_kind: kind,
                time_millis: 5, total_record_count: total, delta_record_count: delta, changelog_record_count: None,
                watermark: None, statistics: None, properties: props, next_row_id: Some(0), uuid: None, writer_version: None,
            };
            prop_assert_eq!(Snapshot::from_json(&s.to_json(), "p").unwrap(), s);
        }

        #[test]
        fn hostile_json_is_an_error_not_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Snapshot::from_json(&bytes, "p");
            let _ = crate::schema::TableSchema::from_json(&bytes, "p");
        }
    }
}

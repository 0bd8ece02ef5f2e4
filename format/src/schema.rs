//! Table schema files (`schema/schema-<id>`): fields with ids, partition and primary keys,
//! options.

use std::collections::BTreeMap;

use arrow::datatypes::{Schema as ArrowSchema, SchemaRef};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::types::{DataField, DataType};

/// Current schema file format version.
pub const SCHEMA_VERSION: i32 = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableSchema {
    #[serde(default = "default_version")]
    pub version: i32,
    pub id: i64,
    pub fields: Vec<DataField>,
    pub highest_field_id: i32,
    #[serde(default)]
    pub partition_keys: Vec<String>,
    #[serde(default)]
    pub primary_keys: Vec<String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub time_millis: i64,
}

fn default_version() -> i32 {
    1
}

impl TableSchema {
    /// A new schema with id 0: field ids assigned from 0, primary-key columns forced NOT NULL.
    pub fn new(
        columns: Vec<(String, DataType)>,
        partition_keys: Vec<String>,
        primary_keys: Vec<String>,
        options: BTreeMap<String, String>,
        time_millis: i64,
    ) -> Result<Self> {
        if columns.is_empty() {
            return Err(Error::schema("a table needs at least one column"));
        }
        for key in partition_keys.iter().chain(&primary_keys) {
            if !columns.iter().any(|(n, _)| n == key) {
                return Err(Error::schema(format!(
                    "key column {key:?} is not a column of the table"
                )));
            }
        }
        if !primary_keys.is_empty() {
            for p in &partition_keys {
                if !primary_keys.contains(p) {
                    return Err(Error::schema(format!(
                        "partition column {p:?} must be part of the primary key of a primary-key table"
                    )));
                }
            }
            if primary_keys.iter().all(|k| partition_keys.contains(k)) {
                return Err(Error::schema(
                    "the primary key must contain at least one column that is not a partition column",
                ));
            }
        }
        let fields: Vec<DataField> = columns
            .into_iter()
            .enumerate()
            .map(|(i, (name, mut ty))| {
                if primary_keys.contains(&name) {
                    ty.nullable = false;
                }
                DataField::new(i as i32, name, ty)
            })
            .collect();
        for f in &fields {
            if f.data_type.is_nested()
                && (primary_keys.contains(&f.name) || partition_keys.contains(&f.name))
            {
                return Err(Error::schema(format!(
                    "key column {} cannot have nested type {}",
                    f.name, f.data_type
                )));
            }
        }
        Ok(TableSchema {
            version: SCHEMA_VERSION,
            id: 0,
            highest_field_id: fields.len() as i32 - 1,
            fields,
            partition_keys,
            primary_keys,
            options,
            comment: None,
            time_millis,
        })
    }

    pub fn from_json(bytes: &[u8], path: &str) -> Result<Self> {
        let mut s: TableSchema =
            serde_json::from_slice(bytes).map_err(|e| Error::corrupt(path, e))?;
        // Compatibility defaults of old schema versions.
        if s.version <= 1 && !s.options.contains_key("bucket") {
            s.options.insert("bucket".into(), "1".into());
        }
        if s.version <= 2 && !s.options.contains_key("file.format") {
            s.options.insert("file.format".into(), "orc".into());
        }
        Ok(s)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("schema serializes")
    }

    pub fn field(&self, name: &str) -> Option<&DataField> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn field_index(&self, name: &str) -> Result<usize> {
        self.fields
            .iter()
            .position(|f| f.name == name)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown column {name:?}; columns are {}",
                    self.field_names().join(", ")
                ))
            })
    }

    pub fn field_names(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.name.clone()).collect()
    }

    /// Primary keys minus partition keys: the key of the LSM tree.
    pub fn trimmed_primary_keys(&self) -> Vec<String> {
        self.primary_keys
            .iter()
            .filter(|k| !self.partition_keys.contains(k))
            .cloned()
            .collect()
    }

    pub fn fields_named(&self, names: &[String]) -> Result<Vec<DataField>> {
        names
            .iter()
            .map(|n| self.field_index(n).map(|i| self.fields[i].clone()))
            .collect()
    }

    /// The types of the named fields, in the order given.
    pub fn types_named(&self, names: &[String]) -> Result<Vec<DataType>> {
        names
            .iter()
            .map(|n| {
                self.field_index(n)
                    .map(|i| self.fields[i].data_type.clone())
            })
            .collect()
    }

    pub fn indices_of(&self, names: &[String]) -> Result<Vec<usize>> {
        names.iter().map(|n| self.field_index(n)).collect()
    }

    /// The logical Arrow schema of the table's rows (with Parquet field ids in the metadata).
    pub fn arrow_schema(&self) -> SchemaRef {
        std::sync::Arc::new(ArrowSchema::new(
            self.fields
                .iter()
                .map(DataField::to_arrow_field)
                .collect::<Vec<_>>(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::parse_columns;

    fn sample() -> TableSchema {
        TableSchema::new(
            parse_columns("dt STRING, id BIGINT, name STRING, price DECIMAL(10, 2)").unwrap(),
            vec!["dt".into()],
            vec!["dt".into(), "id".into()],
            [("bucket".to_string(), "2".to_string())]
                .into_iter()
                .collect(),
            1_700_000_000_000,
        )
        .unwrap()
    }

    #[test]
    fn json_round_trip_in_paimon_shape() {
        let s = sample();
        let j: serde_json::Value = serde_json::from_slice(&s.to_json()).unwrap();
        assert_eq!(j["version"], 3);
        assert_eq!(j["highestFieldId"], 3);
        assert_eq!(j["fields"][1]["type"], "BIGINT NOT NULL");
        assert_eq!(j["fields"][0]["type"], "STRING NOT NULL");
        assert_eq!(j["fields"][3]["type"], "DECIMAL(10, 2)");
        assert_eq!(j["partitionKeys"][0], "dt");
        assert!(j.get("comment").is_none());
        assert_eq!(TableSchema::from_json(&s.to_json(), "x").unwrap(), s);
        assert_eq!(s.trimmed_primary_keys(), vec!["id".to_string()]);
    }

    #[test]
    fn reads_a_java_schema_and_old_versions() {
        let java = br#"{ "version" : 3, "id" : 0, "fields" : [ { "id" : 0, "name" : "f0", "type" : "STRING NOT NULL" },
          { "id" : 1, "name" : "f1", "type" : "INT NOT NULL", "description": "d" } ], "highestFieldId" : 1,
          "partitionKeys" : [ ], "primaryKeys" : [ "f0" ], "options" : { "bucket" : "2" }, "comment": null, "timeMillis" : 1 }"#;
        let s = TableSchema::from_json(java, "schema-0").unwrap();
        assert_eq!(s.fields[1].description.as_deref(), Some("d"));
        let old = br#"{"id":0,"fields":[{"id":0,"name":"a","type":"INT"}],"highestFieldId":0,"timeMillis":1}"#;
        let s = TableSchema::from_json(old, "schema-0").unwrap();
        assert_eq!(s.options["bucket"], "1");
        assert_eq!(s.options["file.format"], "orc");
    }

    #[test]
    fn rejects_bad_keys() {
        let cols = parse_columns("a INT, b INT").unwrap();
        assert!(TableSchema::new(
            cols.clone(),
            vec![],
            vec!["c".into()],
            Default::default(),
            0
        )
        .is_err());
        assert!(TableSchema::new(
            cols.clone(),
            vec!["b".into()],
            vec!["a".into()],
            Default::default(),
            0
        )
        .is_err());
        assert!(TableSchema::new(
            cols,
            vec!["a".into()],
            vec!["a".into()],
            Default::default(),
            0
        )
        .is_err());
        let e = TableSchema::from_json(b"{not json", "schema/schema-3")
            .unwrap_err()
            .to_string();
        assert!(e.contains("schema/schema-3"), "{e}");
    }
}

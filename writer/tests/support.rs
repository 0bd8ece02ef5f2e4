//! Helpers the writer's test modules share: a table in a fresh warehouse, and a Parquet
//! reader that loads the page index and bloom filters.

use bytes::Bytes;
use parquet::file::properties::ReaderProperties;
use parquet::file::reader::SerializedFileReader;
use parquet::file::serialized_reader::ReadOptionsBuilder;
use streamhouse_format::io::{open_warehouse, table_root, Identifier, Table};
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::parse_columns;

/// What a test table is made of: `db.table` name, columns, primary key and options.
pub struct Spec<'a> {
    pub name: &'a str,
    pub columns: &'a str,
    pub primary_key: &'a [&'a str],
    pub options: &'a [(&'a str, &'a str)],
}

impl<'a> Spec<'a> {
    /// `db.t` with these columns, no key, no partitions, no options.
    pub fn new(columns: &'a str) -> Self {
        Spec {
            name: "db.t",
            columns,
            primary_key: &[],
            options: &[],
        }
    }

    pub fn named(self, name: &'a str) -> Self {
        Spec { name, ..self }
    }

    pub fn key(self, primary_key: &'a [&'a str]) -> Self {
        Spec {
            primary_key,
            ..self
        }
    }

    pub fn options(self, options: &'a [(&'a str, &'a str)]) -> Self {
        Spec { options, ..self }
    }

    /// Creates the table in the warehouse at `location` (a path or `memory://…`).
    pub async fn create_in(&self, location: &str) -> Table {
        let (io, root) = open_warehouse(location).unwrap();
        let id = Identifier::parse(self.name).unwrap();
        let schema = TableSchema::new(
            parse_columns(self.columns).unwrap(),
            vec![],
            self.primary_key.iter().map(|s| s.to_string()).collect(),
            self.options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            0,
        )
        .unwrap();
        Table::create(io, table_root(&root, &id), self.name, schema)
            .await
            .unwrap()
    }

    /// Creates the table in a fresh in-memory warehouse.
    pub async fn create(&self) -> Table {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        self.create_in(&format!("memory://writer-tests-{n}")).await
    }
}

/// A reader of `bytes` with the page index and the bloom filters loaded.
pub fn reader_with_indexes(bytes: Bytes) -> SerializedFileReader<Bytes> {
    let options = ReadOptionsBuilder::new()
        .with_page_index()
        .with_reader_properties(
            ReaderProperties::builder()
                .set_read_bloom_filter(true)
                .build(),
        )
        .build();
    SerializedFileReader::new_with_options(bytes, options).unwrap()
}

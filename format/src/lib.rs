//! # streamhouse-format
//!
//! The Apache Paimon table format (spec v3) and Streamhouse's commit protocol.
//!
//! Two layers, kept apart:
//! - **pure codecs** (sync, no I/O): [`types`] (data types), [`schema`] (schema JSON),
//!   [`snapshot`] (snapshot JSON), [`manifest`] (Avro manifest lists, manifests, index
//!   manifests), [`binary_row`] (Java's BinaryRow bytes), [`stats`] (SimpleStats), [`int96`]
//!   (Parquet INT96 timestamps),
//!   [`bucket`] (Murmur3 bucket function), [`partition`] (Hive-style partition paths),
//!   [`options`] (typed table options with Paimon's names and defaults), [`route`] (rows and
//!   keys to partition and bucket), [`value_text`] (the one text form of every primitive
//!   value: CSV/JSON input, CLI output, `--where` literals, partition specs);
//! - **table I/O** (async, over `object_store`): [`io`] — the storage URL resolver, the table's
//!   file layout, snapshot and schema managers, and the one commit path used by every writer
//!   and compactor.

pub mod binary_row;
pub mod bucket;
pub mod clock;
pub mod datum;
pub mod dv;
pub mod error;
pub mod int96;
pub mod io;
pub mod manifest;
pub mod merge;
pub mod options;
pub mod partition;
pub mod route;
pub mod row_kind;
pub mod schema;
pub mod snapshot;
pub mod stats;
pub mod types;
pub mod value_text;

pub use error::{Error, ErrorContext, ErrorKind, Result};

//! The reader's integration tests, one binary (one link step) split into topic modules:
//! merge-on-read, read errors, tail, predicate pushdown, lookups (local, deletion vectors,
//! Java-written fixtures, pypaimon-written tables), Java fixtures and INT96 timestamps.

mod common;
mod lookup_support;
mod predicate_support;
mod render;

mod int96_timestamps;
mod java_fixtures;
mod lookup;
mod lookup_dv;
mod lookup_fixtures;
mod lookup_pypaimon;
mod merge_read;
mod predicate_pushdown;
mod read_errors;
mod tail;

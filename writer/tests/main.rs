//! The writer's integration tests, one binary (one link step) split by topic.

mod key_index;
mod parquet_types;
mod support;
mod write;

//! Compaction's integration tests, one binary (one link step) split by topic: picks and
//! commits, lookup changelog and services, a model-based property test, interop.

mod common;

mod changelog_and_services;
mod compact;
mod deletion_vectors;
mod interop;
mod model;

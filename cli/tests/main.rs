//! The CLI's tests, one binary (one link step) split by command: each module runs the
//! `streamhouse` binary as a user does, through the one set of helpers in [`harness`].

mod cli;
mod get;
mod harness;
mod maintenance;
mod nested_parquet;
mod range_scan;
mod stats;
mod tail;

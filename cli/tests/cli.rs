//! The `streamhouse` binary against temporary warehouses: what a user types, what they see.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::harness::{json_lines, succeeded, Wh, BIN};

mod bad_input;
mod commands;
mod round_trip;

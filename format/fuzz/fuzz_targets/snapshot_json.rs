#![no_main]
//! cargo-fuzz target: see `streamhouse_fuzz::snapshot_json`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| streamhouse_fuzz::snapshot_json(data));

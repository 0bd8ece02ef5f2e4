#![no_main]
//! cargo-fuzz target: see `streamhouse_fuzz::schema_json`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| streamhouse_fuzz::schema_json(data));

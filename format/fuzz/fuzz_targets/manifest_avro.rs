#![no_main]
//! cargo-fuzz target: see `streamhouse_fuzz::manifest_avro`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| streamhouse_fuzz::manifest_avro(data));

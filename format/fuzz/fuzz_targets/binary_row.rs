#![no_main]
//! cargo-fuzz target: see `streamhouse_fuzz::binary_row`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| streamhouse_fuzz::binary_row(data));

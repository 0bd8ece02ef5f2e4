#![no_main]
//! cargo-fuzz target: see `streamhouse_fuzz::deletion_vector`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| streamhouse_fuzz::deletion_vector(data));

//! Base64 for BINARY / BYTES values: the format crate's value codec
//! ([`streamhouse_format::value_text::base64`]).

pub use streamhouse_format::value_text::base64::{decode, encode};

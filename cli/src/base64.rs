//! Base64 for BINARY / BYTES values lives in the format crate's value codec
//! (`streamhouse_format::value_text::base64`); nothing is left here (the module can go).

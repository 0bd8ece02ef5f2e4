//! # streamhouse-sql
//!
//! SQL over Streamhouse tables through DataFusion (placeholder; filled in below).

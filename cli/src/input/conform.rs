//! Fitting an input Arrow column to a table column's type at every depth: the writer's one
//! conform step ([`streamhouse_writer::conform`]), which the library's `TableWriter` uses too.

pub use streamhouse_writer::conform::{conform, Rows};

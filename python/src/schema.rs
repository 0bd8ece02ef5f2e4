//! Table columns from an Arrow schema (what `Catalog.create_table(schema=pyarrow.Schema)`
//! takes): the library's mapping, each Arrow type to the Paimon type that reads back as it.

pub use streamhouse::columns_from_arrow as columns_of;

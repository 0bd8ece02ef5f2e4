//! Merge engines: how the records of one primary key fold into the row a reader sees.
//!
//! Shared by the reader (merge-on-read across sorted runs) and the writer (folding equal keys in
//! its write buffer), so both apply exactly Java Paimon's `*MergeFunction` rules:
//!
//! * `deduplicate` — the last record wins; with `ignore-delete`, retractions are skipped;
//! * `first-row` — the first record wins; a retraction is an error unless `ignore-delete`;
//! * `partial-update` — per column the latest non-null value; retractions are an error unless
//!   `ignore-delete` (skipped) or `partial-update.remove-record-on-delete` (`-D` removes the
//!   row); sequence groups are not supported yet;
//! * `aggregation` — per column an [`AggFunction`] (`fields.<f>.aggregate-function`, else
//!   `fields.default-aggregate-function`, else `last_non_null_value`; primary-key columns keep
//!   the latest value, `sequence.field` columns use `last_value`); retractions go to the
//!   function's retract rule (or are ignored with `fields.<f>.ignore-retract`);
//!   `aggregation.remove-record-on-delete` turns a `-D` into a deletion of the row.
//!
//! The caller hands a key's records in merge order (ascending `sequence.field`, then
//! `_SEQUENCE_NUMBER`) and reads values through [`RecordValues`], so the same logic works over
//! any storage (Arrow batches via [`ArrowRecords`]). As in Java's `ReducerMergeFunctionWrapper`,
//! a key with a single record yields that record unchanged.
//!
//! Results are expressed as *picks* wherever possible: [`MergeOutcome::Record`] names an input
//! record to emit whole, and an assembled row ([`MergeOutcome::Row`]) gives per column a
//! [`Cell`] — null, an input record's value, or a computed value (sums, products, listagg…).
//! Batch readers drop results whose kind is a retraction (`-U`, `-D`).

mod aggregate;
mod values;

#[cfg(test)]
mod tests;

pub use aggregate::{AggFunction, ColumnAggregator};
pub use values::{datums_to_array, ArrowRecords};

use crate::datum::Datum;
use crate::error::{Error, Result};
use crate::options::{MergeEngine, TableOptions};
use crate::row_kind::RowKind;
use crate::schema::TableSchema;

/// The merge engine of a table (`merge-engine`).
pub type MergeEngineKind = MergeEngine;

/// Where one output value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    /// The value of this column in input record `i` (an index into the key's records).
    Input(usize),
    /// A computed value.
    Value(Datum),
}

/// Access to the values of a key's records. Record indices are positions in the slice of
/// records handed to [`MergeFunction::merge`]; columns are the merge function's columns.
pub trait RecordValues {
    fn is_null(&self, record: usize, column: usize) -> bool;
    fn datum(&self, record: usize, column: usize) -> Result<Option<Datum>>;
}

/// The result of merging one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeOutcome {
    /// No row for this key (every record was an ignored retraction).
    Nothing,
    /// Input record `i`, unchanged (its own row kind applies).
    Record(usize),
    /// A row assembled per column, readable with [`MergeFunction::cells`].
    Row(RowKind),
}

#[derive(Debug, Clone)]
enum Engine {
    Deduplicate,
    FirstRow,
    PartialUpdate {
        remove_record_on_delete: bool,
    },
    Aggregation {
        remove_record_on_delete: bool,
        aggregators: Vec<ColumnAggregator>,
    },
}

/// A table's merge function over a list of value columns.
#[derive(Debug, Clone)]
pub struct MergeFunction {
    kind: MergeEngine,
    engine: Engine,
    ignore_delete: bool,
    columns: Vec<String>,
    cells: Vec<Cell>,
}

impl MergeFunction {
    /// The merge function of a table, over `columns` (names of the table's fields, in the
    /// order values are addressed). Options the engine cannot honour give an error naming them.
    pub fn new(schema: &TableSchema, options: &TableOptions, columns: &[String]) -> Result<Self> {
        let fields = schema.fields_named(columns)?;
        let engine = match options.merge_engine {
            MergeEngine::Deduplicate => Engine::Deduplicate,
            MergeEngine::FirstRow => Engine::FirstRow,
            MergeEngine::PartialUpdate => {
                if let Some(k) = options.first_field_option_key("sequence-group") {
                    return Err(Error::unsupported(format!(
                        "partial-update sequence groups (option {k})"
                    )));
                }
                if let Some(k) = options.first_field_option_key("aggregate-function") {
                    return Err(Error::invalid(format!(
                        "option {k}: partial-update aggregation functions need sequence groups"
                    )));
                }
                Engine::PartialUpdate {
                    remove_record_on_delete: options.partial_update_remove_record_on_delete,
                }
            }
            MergeEngine::Aggregation => {
                let remove = options.aggregation_remove_record_on_delete;
                let default_fn = options.default_aggregate_function.as_deref();
                let mut aggregators = Vec::with_capacity(fields.len());
                for f in &fields {
                    let name = if options.sequence_fields.contains(&f.name) {
                        "last_value"
                    } else if schema.primary_keys.contains(&f.name) {
                        "primary-key"
                    } else {
                        options
                            .field_option(&f.name, "aggregate-function")
                            .or(default_fn)
                            .unwrap_or("last_non_null_value")
                    };
                    let delimiter = options
                        .field_option(&f.name, "list-agg-delimiter")
                        .unwrap_or(",");
                    let distinct = options.field_flag(&f.name, "distinct");
                    let function =
                        AggFunction::parse(name, &f.name, &f.data_type, delimiter, distinct)?;
                    let ignore_retract = options.field_flag(&f.name, "ignore-retract");
                    if ignore_retract && remove {
                        return Err(Error::invalid(format!(
                            "aggregation.remove-record-on-delete and fields.{}.ignore-retract cannot both be enabled",
                            f.name
                        )));
                    }
                    aggregators.push(ColumnAggregator::new(
                        f.name.clone(),
                        f.data_type.clone(),
                        function,
                        ignore_retract,
                    ));
                }
                Engine::Aggregation {
                    remove_record_on_delete: remove,
                    aggregators,
                }
            }
        };
        Ok(MergeFunction {
            kind: options.merge_engine,
            engine,
            ignore_delete: options.ignore_delete,
            columns: columns.to_vec(),
            cells: vec![Cell::Null; columns.len()],
        })
    }

    /// A deduplicate function (for tests and tools that need no table).
    pub fn deduplicate(columns: usize, ignore_delete: bool) -> Self {
        MergeFunction {
            kind: MergeEngine::Deduplicate,
            engine: Engine::Deduplicate,
            ignore_delete,
            columns: (0..columns).map(|i| format!("c{i}")).collect(),
            cells: vec![Cell::Null; columns],
        }
    }

    pub fn engine(&self) -> MergeEngine {
        self.kind
    }

    /// Whether `ignore-delete` is in effect for this engine.
    pub fn ignore_delete(&self) -> bool {
        self.ignore_delete
    }

    /// The column names this function was built over.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Whether every outcome is [`MergeOutcome::Record`] or [`MergeOutcome::Nothing`]
    /// (deduplicate and first-row), so callers can skip per-column work.
    pub fn picks_whole_records(&self) -> bool {
        matches!(self.engine, Engine::Deduplicate | Engine::FirstRow)
    }

    /// The cells of the last [`MergeOutcome::Row`].
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// Merges the records of one key. `kinds[i]` is record i's row kind; records are in merge
    /// order (oldest first).
    pub fn merge(&mut self, kinds: &[RowKind], values: &dyn RecordValues) -> Result<MergeOutcome> {
        match kinds.len() {
            0 => return Ok(MergeOutcome::Nothing),
            1 => return Ok(MergeOutcome::Record(0)),
            _ => {}
        }
        let ignore_delete = self.ignore_delete;
        match &mut self.engine {
            Engine::Deduplicate => {
                let winner = kinds
                    .iter()
                    .rposition(|k| !(ignore_delete && k.is_retract()));
                Ok(winner
                    .map(MergeOutcome::Record)
                    .unwrap_or(MergeOutcome::Nothing))
            }
            Engine::FirstRow => {
                for (i, k) in kinds.iter().enumerate() {
                    if k.is_retract() {
                        if ignore_delete {
                            continue;
                        }
                        return Err(Error::invalid(
                            "the first-row merge engine cannot accept DELETE/UPDATE_BEFORE records; \
                             set 'ignore-delete' = 'true' to ignore them",
                        ));
                    }
                    return Ok(MergeOutcome::Record(i));
                }
                Ok(MergeOutcome::Nothing)
            }
            Engine::PartialUpdate {
                remove_record_on_delete,
            } => {
                let remove = *remove_record_on_delete;
                let cells = &mut self.cells;
                cells.iter_mut().for_each(|c| *c = Cell::Null);
                let mut meet_insert = false;
                let mut filled = false;
                let mut deleted = false;
                for (i, k) in kinds.iter().enumerate() {
                    deleted = false;
                    if k.is_retract() {
                        if !filled {
                            init_row(cells, i, values);
                            filled = true;
                        }
                        if ignore_delete {
                            continue;
                        }
                        if remove {
                            if *k == RowKind::Delete {
                                deleted = true;
                                init_row(cells, i, values);
                            }
                            continue;
                        }
                        return Err(Error::invalid(
                            "the partial-update merge engine cannot accept delete records; set \
                             'ignore-delete' = 'true' to ignore them or \
                             'partial-update.remove-record-on-delete' = 'true' to delete the row",
                        ));
                    }
                    for (c, cell) in cells.iter_mut().enumerate() {
                        if !values.is_null(i, c) {
                            *cell = Cell::Input(i);
                        }
                    }
                    meet_insert = true;
                    filled = true;
                }
                Ok(MergeOutcome::Row(if deleted || !meet_insert {
                    RowKind::Delete
                } else {
                    RowKind::Insert
                }))
            }
            Engine::Aggregation {
                remove_record_on_delete,
                aggregators,
            } => {
                let remove = *remove_record_on_delete;
                let cells = &mut self.cells;
                cells.iter_mut().for_each(|c| *c = Cell::Null);
                aggregators.iter_mut().for_each(ColumnAggregator::reset);
                let mut deleted = false;
                for (i, k) in kinds.iter().enumerate() {
                    deleted = remove && *k == RowKind::Delete;
                    if deleted {
                        init_row(cells, i, values);
                        continue;
                    }
                    let retract = k.is_retract();
                    for (c, (cell, agg)) in cells.iter_mut().zip(aggregators.iter_mut()).enumerate()
                    {
                        let acc = std::mem::replace(cell, Cell::Null);
                        *cell = if retract {
                            agg.retract(acc, i, c, values)?
                        } else {
                            agg.agg(acc, i, c, values)?
                        };
                    }
                }
                Ok(MergeOutcome::Row(if deleted {
                    RowKind::Delete
                } else {
                    RowKind::Insert
                }))
            }
        }
    }
}

/// Every column takes record `rec`'s value (Java's `initRow`).
fn init_row(cells: &mut [Cell], rec: usize, values: &dyn RecordValues) {
    for (c, cell) in cells.iter_mut().enumerate() {
        *cell = if values.is_null(rec, c) {
            Cell::Null
        } else {
            Cell::Input(rec)
        };
    }
}

//! What the simulation knows independently of the table: the rows each commit attempt wrote
//! (every row carries its commit's token), and the table state they fold into.
//!
//! The simulated table is `k BIGINT NOT NULL, v STRING, tok STRING`, keyed by `k`. A commit
//! writes distinct keys, each `+I` or `-D`, every row with `tok` = the commit's token
//! (`<actor>.<step>`), so any row found anywhere names the commit that wrote it.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::SchemaRef;
use streamhouse::RowKind;

use super::rng::SimRng;

pub const COLUMNS: &str = "k BIGINT NOT NULL, v STRING, tok STRING";

/// One change: a row with its kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Change {
    pub kind: RowKind,
    pub k: i64,
    pub v: String,
    pub tok: String,
}

/// The table's rows: key → (v, tok).
pub type State = BTreeMap<i64, (String, String)>;

/// Applies changes (in order) to a state.
pub fn apply(state: &mut State, changes: &[Change]) {
    for c in changes {
        match c.kind {
            RowKind::Insert | RowKind::UpdateAfter => {
                state.insert(c.k, (c.v.clone(), c.tok.clone()));
            }
            RowKind::Delete | RowKind::UpdateBefore => {
                state.remove(&c.k);
            }
        }
    }
}

/// How a commit attempt ended, as its caller saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledged: the snapshot ids the call returned.
    Acked(Vec<i64>),
    /// The commit call failed: it may have landed once, never twice.
    Failed(String),
    /// Failed before committing (writing or staging): it must not be in the table.
    NotCommitted(String),
}

/// One commit attempt (retries through new committers included) of one writer.
#[derive(Debug, Clone)]
pub struct CommitRecord {
    pub token: String,
    pub writer: String,
    /// Commit user and identifier, when the writer chose them (staged commits).
    pub user: Option<(String, i64)>,
    /// Sorted.
    pub changes: Vec<Change>,
    pub outcome: Outcome,
}

/// `n` distinct random keys below `keys` that are `lane` modulo `lanes`, each an insert or,
/// one time in four, a delete.
///
/// Writers own disjoint lanes of keys: the merge orders a key's versions by sequence number,
/// which each writer assigns itself, so two writers updating one key concurrently is outside
/// the table's contract (one writer per key range, as Paimon asks of a bucket); one writer's
/// commits of a key land in the order it made them.
pub fn random_changes(
    rng: &mut SimRng,
    (lane, lanes): (u64, u64),
    keys: i64,
    n: usize,
    token: &str,
) -> Vec<Change> {
    let mine = (keys as u64).div_ceil(lanes.max(1)).max(1);
    let mut picked: Vec<i64> = vec![];
    while picked.len() < n.min(mine as usize) {
        let k = (rng.below(mine) * lanes.max(1) + lane) as i64;
        if !picked.contains(&k) {
            picked.push(k);
        }
    }
    let mut out: Vec<Change> = picked
        .into_iter()
        .map(|k| {
            let delete = rng.chance(0.25);
            Change {
                kind: if delete {
                    RowKind::Delete
                } else {
                    RowKind::Insert
                },
                k,
                v: if delete {
                    String::new()
                } else {
                    format!("v{}", rng.below(1000))
                },
                tok: token.to_string(),
            }
        })
        .collect();
    out.sort();
    out
}

/// The changes as a batch in the table's schema, and their kinds.
pub fn batch_of(schema: SchemaRef, changes: &[Change]) -> (RecordBatch, Vec<RowKind>) {
    let k: ArrayRef = Arc::new(Int64Array::from_iter_values(changes.iter().map(|c| c.k)));
    let v: ArrayRef = Arc::new(StringArray::from_iter_values(
        changes.iter().map(|c| c.v.as_str()),
    ));
    let tok: ArrayRef = Arc::new(StringArray::from_iter_values(
        changes.iter().map(|c| c.tok.as_str()),
    ));
    let batch = RecordBatch::try_new(schema, vec![k, v, tok]).expect("the simulation's batch");
    (batch, changes.iter().map(|c| c.kind).collect())
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T, String> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| format!("column {name} missing or of another type"))
}

/// The rows of a batch as `(k, v, tok)`.
pub fn rows_of(batch: &RecordBatch) -> Result<Vec<(i64, String, String)>, String> {
    let k = column::<Int64Array>(batch, "k")?;
    let v = column::<StringArray>(batch, "v")?;
    let tok = column::<StringArray>(batch, "tok")?;
    let text = |a: &StringArray, i| {
        if a.is_null(i) {
            String::new()
        } else {
            a.value(i).to_string()
        }
    };
    Ok((0..batch.num_rows())
        .map(|i| (k.value(i), text(v, i), text(tok, i)))
        .collect())
}

/// Batches read from the table as a state; a key seen twice is an error.
pub fn state_of(batches: &[RecordBatch]) -> Result<State, String> {
    let mut state = State::new();
    for b in batches {
        for (k, v, tok) in rows_of(b)? {
            if state.insert(k, (v, tok)).is_some() {
                return Err(format!("key {k} read twice"));
            }
        }
    }
    Ok(state)
}

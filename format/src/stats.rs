//! SimpleStats: per-column minimum, maximum and null count, as stored in manifests.

/// Statistics over a list of columns. `min_values` / `max_values` are serialized BinaryRows
/// (4-byte big-endian arity prefix + row bytes, see [`crate::binary_row`]); a column whose
/// minimum or maximum is unknown has its null bit set. `null_counts[i] == None` means unknown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SimpleStats {
    pub min_values: Vec<u8>,
    pub max_values: Vec<u8>,
    pub null_counts: Vec<Option<i64>>,
}

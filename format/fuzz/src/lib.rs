//! The bodies of Streamhouse's fuzz targets: each feeds untrusted bytes to one decoder and
//! everything downstream that a reader would call on the result. A decoder may return an
//! error; it must never panic, hang or allocate far beyond its input. Where a value decodes,
//! encoding it again and decoding that must give the same value.
//!
//! Used by the cargo-fuzz targets in `fuzz_targets/` and, through `#[path]`, by the
//! deterministic mutation test `tests/integration/fuzz_mutations.rs` (which runs on the stable
//! toolchain without libFuzzer).

use streamhouse_format::binary_row::BinaryRow;
use streamhouse_format::manifest::{
    decode_index_manifest, decode_manifest, decode_manifest_list, encode_index_manifest,
    encode_manifest, encode_manifest_list,
};
use streamhouse_format::options::TableOptions;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::snapshot::Snapshot;
use streamhouse_format::types::{parse_columns, DataType};
use streamhouse_reader::dv::DeletionVector;

/// Column types a fuzzed BinaryRow is read as (chosen per field by the input's first bytes).
pub const ROW_TYPES: &str = "a BOOLEAN, b TINYINT, c SMALLINT, d INT, e BIGINT, f FLOAT, \
    g DOUBLE, h DECIMAL(10, 2), i DECIMAL(38, 10), j STRING, k BYTES, l DATE, m TIME(3), \
    n TIMESTAMP(3), o TIMESTAMP(9), p TIMESTAMP(6) WITH LOCAL TIME ZONE, q CHAR(5), \
    r BINARY(4), s VARCHAR(3), t TIMESTAMP(0)";

fn palette() -> &'static [DataType] {
    static TYPES: std::sync::OnceLock<Vec<DataType>> = std::sync::OnceLock::new();
    TYPES.get_or_init(|| {
        parse_columns(ROW_TYPES)
            .map(|cols| cols.into_iter().map(|(_, t)| t).collect())
            .unwrap_or_default()
    })
}

/// `data` = one byte n (field count, mod 33), n type selectors, then a serialized BinaryRow
/// (4-byte big-endian arity + row bytes, the manifest form).
pub fn binary_row(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = (n % 33) as usize;
    if rest.len() < n {
        return;
    }
    let (selectors, bytes) = rest.split_at(n);
    let all = palette();
    if all.is_empty() {
        return;
    }
    let types: Vec<DataType> = selectors
        .iter()
        .map(|s| all[*s as usize % all.len()].clone())
        .collect();
    let Ok(row) = BinaryRow::deserialize(bytes) else {
        return;
    };
    let _ = row.hash_code();
    let _ = row.row_kind();
    for (pos, ty) in types.iter().enumerate().take(row.arity() + 1) {
        let _ = row.is_null_at(pos);
        let _ = row.get(pos, ty);
    }
    if let Ok(values) = row.to_datums(&types) {
        // What decodes encodes again, and decodes to the same values.
        if let Ok(again) = BinaryRow::try_from_datums(&values, &types) {
            let back = BinaryRow::deserialize(&again.serialize())
                .and_then(|r| r.to_datums(&types))
                .unwrap_or_else(|e| panic!("re-encoded row does not decode: {e}"));
            assert_eq!(
                format!("{back:?}"),
                format!("{values:?}"),
                "a decoded row changes when encoded again"
            );
        }
    }
}

/// `data` = a manifest, manifest list or index manifest (Avro object container file); each
/// decoder gets the same bytes, and every BinaryRow inside is decoded too.
pub fn manifest_avro(data: &[u8]) {
    if let Ok(entries) = decode_manifest(data, "fuzz/manifest") {
        for e in &entries {
            let _ = BinaryRow::deserialize(&e.partition);
            let _ = BinaryRow::deserialize(&e.file.min_key);
            let _ = BinaryRow::deserialize(&e.file.max_key);
            let _ = BinaryRow::deserialize(&e.file.key_stats.min_values);
            let _ = BinaryRow::deserialize(&e.file.value_stats.max_values);
        }
        if let Ok(bytes) = encode_manifest(&entries) {
            let back = decode_manifest(&bytes, "fuzz/re-encoded")
                .unwrap_or_else(|e| panic!("a re-encoded manifest does not decode: {e}"));
            assert_eq!(back, entries, "a manifest changes when encoded again");
        }
    }
    if let Ok(metas) = decode_manifest_list(data, "fuzz/manifest-list") {
        for m in &metas {
            let _ = BinaryRow::deserialize(&m.partition_stats.min_values);
            let _ = BinaryRow::deserialize(&m.partition_stats.max_values);
        }
        if let Ok(bytes) = encode_manifest_list(&metas) {
            let back = decode_manifest_list(&bytes, "fuzz/re-encoded")
                .unwrap_or_else(|e| panic!("a re-encoded manifest list does not decode: {e}"));
            assert_eq!(back, metas, "a manifest list changes when encoded again");
        }
    }
    if let Ok(entries) = decode_index_manifest(data, "fuzz/index-manifest") {
        for e in &entries {
            let _ = BinaryRow::deserialize(&e.partition);
        }
        if let Ok(bytes) = encode_index_manifest(&entries) {
            let back = decode_index_manifest(&bytes, "fuzz/re-encoded")
                .unwrap_or_else(|e| panic!("a re-encoded index manifest does not decode: {e}"));
            assert_eq!(
                back, entries,
                "an index manifest changes when encoded again"
            );
        }
    }
}

/// `data` = a snapshot file (JSON).
pub fn snapshot_json(data: &[u8]) {
    let Ok(s) = Snapshot::from_json(data, "fuzz/snapshot-1") else {
        return;
    };
    let back = Snapshot::from_json(&s.to_json(), "fuzz/re-encoded")
        .unwrap_or_else(|e| panic!("a re-encoded snapshot does not decode: {e}"));
    assert_eq!(back, s, "a snapshot changes when encoded again");
}

/// `data` = a schema file (JSON); the schema is also turned into table options and an Arrow
/// schema, as opening a table does.
pub fn schema_json(data: &[u8]) {
    let Ok(s) = TableSchema::from_json(data, "fuzz/schema-0") else {
        return;
    };
    let _ = TableOptions::parse(&s.options, !s.primary_keys.is_empty());
    let _ = s.fields_named(&s.primary_keys);
    let _ = s.fields_named(&s.partition_keys);
    let _ = s.trimmed_primary_keys();
    let _ = s.arrow_schema();
    let back = TableSchema::from_json(&s.to_json(), "fuzz/re-encoded")
        .unwrap_or_else(|e| panic!("a re-encoded schema does not decode: {e}"));
    assert_eq!(back, s, "a schema changes when encoded again");
}

/// `data` = one mode byte, then a deletion-vector index file. Even modes: the vector at offset 1
/// with the length its size field claims (as the writer records it), for a data file of
/// `mode << 12` rows when mode ≥ 2 (the bound readers give), else with the fixed bound; odd
/// modes: offset and length from the next 8 bytes (as a hostile index manifest could record
/// them). Memory stays bounded either way (the run uses an RSS and a malloc limit).
pub fn deletion_vector(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let result = if mode % 2 == 0 {
        let length = rest
            .get(1..5)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as i64)
            .unwrap_or(0);
        match mode {
            0 => DeletionVector::parse(rest, 1, length, "fuzz/index-1"),
            _ => {
                DeletionVector::parse_for_rows(rest, 1, length, "fuzz/index-1", (mode as i64) << 12)
            }
        }
    } else {
        let Some((head, file)) = rest.split_first_chunk::<8>() else {
            return;
        };
        let offset = i32::from_be_bytes([head[0], head[1], head[2], head[3]]) as i64;
        let length = i32::from_be_bytes([head[4], head[5], head[6], head[7]]) as i64;
        DeletionVector::parse(file, offset, length, "fuzz/index-1")
    };
    if let Ok(dv) = result {
        let p = dv.positions();
        if mode % 2 == 0 && mode >= 2 {
            let rows = (mode as u64) << 12;
            assert!(
                p.last().is_none_or(|l| *l < rows),
                "a position past the rows"
            );
        }
        assert!(p.windows(2).all(|w| w[0] < w[1]), "positions ascend");
        let _ = dv.range(0, u64::MAX);
    }
}

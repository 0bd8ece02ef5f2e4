//! Writing deletion-vector index files (format §10.1), byte for byte as Paimon writes them.
//!
//! A DELETION_VECTORS index file is a version byte (1), then one entry per data file, back to
//! back: a big-endian i32 size, the vector (big-endian magic 1581511376 and the
//! run-optimized portable RoaringBitmap of the deleted row positions; `size` is their length),
//! then a big-endian CRC32 of the vector. The index manifest records, per data file, the offset
//! of the size field, the size and the number of deleted rows
//! ([`DeletionVectorMeta`]). Readers decode these files with `streamhouse_reader::dv`.

pub use roaring::RoaringBitmap;

use crate::error::{Error, Result};
use crate::manifest::DeletionVectorMeta;

/// The first byte of every deletion-vector index file.
pub const VERSION: u8 = 1;
/// Magic of the 32-bit bitmap format (big-endian in the file).
pub const MAGIC_32: i32 = 1581511376;

/// One vector's bytes: the magic and the bitmap, run-optimized first as Paimon does.
pub fn encode_vector(bitmap: &RoaringBitmap) -> Result<Vec<u8>> {
    let mut bitmap = bitmap.clone();
    bitmap.optimize();
    let mut out = Vec::with_capacity(4 + bitmap.serialized_size());
    out.extend(MAGIC_32.to_be_bytes());
    bitmap
        .serialize_into(&mut out)
        .map_err(|e| Error::internal(format!("serializing a deletion vector: {e}")))?;
    Ok(out)
}

/// An encoded index file and where each data file's vector sits in it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexFile {
    pub bytes: Vec<u8>,
    /// In file order, one per vector written.
    pub ranges: Vec<DeletionVectorMeta>,
}

/// Encodes the vectors of one bucket's data files (in the order given; empty vectors are
/// left out).
pub fn encode_index_file<'a>(
    vectors: impl IntoIterator<Item = (&'a str, &'a RoaringBitmap)>,
) -> Result<IndexFile> {
    let mut bytes = vec![VERSION];
    let mut ranges = vec![];
    for (data_file, bitmap) in vectors {
        if bitmap.is_empty() {
            continue;
        }
        let vector = encode_vector(bitmap)?;
        let (offset, size) = match (i32::try_from(bytes.len()), i32::try_from(vector.len())) {
            (Ok(o), Ok(s)) if o.checked_add(s).and_then(|e| e.checked_add(8)).is_some() => (o, s),
            _ => {
                return Err(Error::invalid(format!(
                    "deletion-vector index file would exceed 2 GiB at data file {data_file}"
                )))
            }
        };
        bytes.extend(size.to_be_bytes());
        bytes.extend(&vector);
        bytes.extend(crc32fast::hash(&vector).to_be_bytes());
        ranges.push(DeletionVectorMeta {
            data_file_name: data_file.to_string(),
            offset,
            length: size,
            cardinality: Some(bitmap.len() as i64),
        });
    }
    Ok(IndexFile { bytes, ranges })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn writes_the_bytes_paimon_writes() {
        // Format digest §10.1: an index file Paimon wrote for positions {1,3,4,9}.
        let bitmap: RoaringBitmap = [1u32, 3, 4, 9].into_iter().collect();
        let f = encode_index_file([("data-1.parquet", &bitmap)]).unwrap();
        assert_eq!(
            f.bytes,
            hex("01 | 0000001c | 5e43f2d0 | 3a300000 01000000 0000 0300 10000000 0100 0300 0400 0900 | 8f2a55c2")
        );
        assert_eq!(
            f.ranges,
            vec![DeletionVectorMeta {
                data_file_name: "data-1.parquet".into(),
                offset: 1,
                length: 28,
                cardinality: Some(4),
            }]
        );
    }

    #[test]
    fn entries_follow_each_other_and_empty_vectors_are_left_out() {
        let a: RoaringBitmap = (0u32..5000).collect();
        let empty = RoaringBitmap::new();
        let b: RoaringBitmap = [7u32, 70_000].into_iter().collect();
        let f = encode_index_file([("a", &a), ("e", &empty), ("b", &b)]).unwrap();
        assert_eq!(f.ranges.len(), 2);
        let (ra, rb) = (&f.ranges[0], &f.ranges[1]);
        assert_eq!(rb.offset, ra.offset + 4 + ra.length + 4);
        assert_eq!(f.bytes.len() as i32, rb.offset + 4 + rb.length + 4);
        assert_eq!(ra.cardinality, Some(5000));
        // A run of 5000 positions is stored as a run container (cookie 12347 = 0x303b).
        let at = ra.offset as usize + 8;
        assert_eq!(&f.bytes[at..at + 2], &[0x3b, 0x30]);
        for r in &f.ranges {
            let start = r.offset as usize + 4;
            let body = &f.bytes[start..start + r.length as usize];
            let crc = &f.bytes[start + r.length as usize..start + r.length as usize + 4];
            assert_eq!(crc, crc32fast::hash(body).to_be_bytes());
        }
    }
}

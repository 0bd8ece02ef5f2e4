//! The fixed-bucket function and the dynamic-bucket HASH index file.
//!
//! A row's bucket is `abs(h % N)` (Java's truncating remainder) where `h` is the 32-bit Murmur3
//! hash (x86 variant, seed 42) of the bucket key serialized as a [`BinaryRow`] **without** its
//! arity prefix — Java's `BinaryRow.hashCode()`. Build the key with a reused
//! [`BinaryRowWriter`] and hash [`BinaryRowWriter::buffer`]: no allocation per row.
//!
//! Row bytes are always a multiple of 8 long, so the tail handling never runs for rows; it is
//! nevertheless Java-compatible (`MurmurHashUtils.hashUnsafeBytes`): each trailing byte,
//! sign-extended, is mixed in as a full block — not the standard Murmur3 tail.
//!
//! [`BinaryRow`]: crate::binary_row::BinaryRow
//! [`BinaryRowWriter`]: crate::binary_row::BinaryRowWriter
//! [`BinaryRowWriter::buffer`]: crate::binary_row::BinaryRowWriter::buffer

use crate::error::{Error, Result};

/// Seed of Paimon's row hash.
pub const DEFAULT_SEED: i32 = 42;

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

#[inline(always)]
fn mix_k1(k1: u32) -> u32 {
    k1.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

#[inline(always)]
fn mix_h1(h1: u32, k1: u32) -> u32 {
    (h1 ^ k1)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

#[inline(always)]
fn fmix(mut h1: u32, len: usize) -> u32 {
    h1 ^= len as u32;
    h1 ^= h1 >> 16;
    h1 = h1.wrapping_mul(0x85eb_ca6b);
    h1 ^= h1 >> 13;
    h1 = h1.wrapping_mul(0xc2b2_ae35);
    h1 ^ (h1 >> 16)
}

/// Murmur3 x86_32 over little-endian 4-byte words, with Java's (Spark-style) tail: every
/// remaining byte, sign-extended to 32 bits, is mixed as its own block.
pub fn murmur3_32(data: &[u8], seed: i32) -> i32 {
    let mut h1 = seed as u32;
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        h1 = mix_h1(h1, mix_k1(u32::from_le_bytes([w[0], w[1], w[2], w[3]])));
    }
    for &b in words.remainder() {
        h1 = mix_h1(h1, mix_k1(b as i8 as i32 as u32));
    }
    fmix(h1, data.len()) as i32
}

/// Java's `BinaryRow.hashCode()`: Murmur3 with seed 42 over the row bytes (no arity prefix).
#[inline]
pub fn hash_row(row_bytes: &[u8]) -> i32 {
    murmur3_32(row_bytes, DEFAULT_SEED)
}

/// `abs(hash % num_buckets)` with a truncating remainder, as Java's `DefaultBucketFunction`.
/// `num_buckets` must be positive (the `bucket` option is validated when a table is opened);
/// a non-positive count yields bucket 0 rather than a division by zero.
#[inline]
pub fn bucket_of(hash: i32, num_buckets: i32) -> i32 {
    if num_buckets <= 0 {
        return 0;
    }
    (hash % num_buckets).abs()
}

/// Encodes a dynamic-bucket HASH index file: one 4-byte big-endian key hash per key, no header.
pub fn encode_hash_index(hashes: &[i32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hashes.len() * 4);
    for h in hashes {
        out.extend_from_slice(&h.to_be_bytes());
    }
    out
}

/// Decodes a HASH index file (see [`encode_hash_index`]). A length that is not a multiple of 4
/// is corrupt.
pub fn decode_hash_index(bytes: &[u8]) -> Result<Vec<i32>> {
    if !bytes.len().is_multiple_of(4) {
        return Err(Error::corrupt(
            "HASH index file",
            format!("length {} is not a multiple of 4", bytes.len()),
        ));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary_row::tests::hex;
    use crate::binary_row::BinaryRowWriter;

    fn check(w: &BinaryRowWriter, bytes: &str, hash: i32, n: i32, bucket: i32) {
        if !bytes.is_empty() {
            assert_eq!(w.buffer(), hex(bytes).as_slice());
        }
        let h = hash_row(w.buffer());
        assert_eq!(h, hash);
        assert_eq!(bucket_of(h, n), bucket);
    }

    #[test]
    fn int_keys_match_java_vectors() {
        let mut w = BinaryRowWriter::new(1);
        w.write_i32(0, 5);
        check(&w, "0000000000000000 0500000000000000", 260196596, 100, 96);
        let mut w = BinaryRowWriter::new(2);
        w.write_i32(0, 5);
        w.write_i32(1, 6);
        check(
            &w,
            "0000000000000000 0500000000000000 0600000000000000",
            131015827,
            100,
            27,
        );
        let mut w = BinaryRowWriter::new(3);
        for (i, v) in [5, 6, 7].into_iter().enumerate() {
            w.write_i32(i, v);
        }
        check(&w, "", 1805332940, 100, 40);
    }

    #[test]
    fn bigint_keys_match_vectors() {
        let cases: [(i64, &str, i32, i32, i32); 7] = [
            (0, "0000000000000000", -300363099, 2, 1),
            (1, "0100000000000000", 1465514398, 2, 0),
            (3, "0300000000000000", -771300025, 2, 1),
            (7, "0700000000000000", -348168691, 2, 1),
            (-1, "ffffffffffffffff", -821098432, 10, 2),
            (42, "2a00000000000000", 907821237, 10, 7),
            (1 << 40, "0000000000010000", 895061894, 10, 4),
        ];
        let mut w = BinaryRowWriter::new(1);
        for (v, slot, h, n, b) in cases {
            w.reset();
            w.write_i64(0, v);
            check(&w, &format!("0000000000000000{slot}"), h, n, b);
        }
    }

    #[test]
    fn string_and_null_keys_match_vectors() {
        let mut w = BinaryRowWriter::new(1);
        w.write_bytes(0, b"a");
        check(&w, "0000000000000000 6100000000000081", 943281246, 10, 6);
        w.reset();
        w.write_bytes(0, b"hello world");
        check(
            &w,
            "0000000000000000 0b00000010000000 68656c6c6f20776f726c640000000000",
            161593394,
            10,
            4,
        );
        w.reset();
        w.set_null(0);
        check(&w, "0001000000000000 0000000000000000", -1748325344, 10, 4);
    }

    #[test]
    fn sample_table_buckets() {
        let mut w = BinaryRowWriter::new(1);
        for k in 0..15i64 {
            w.reset();
            w.write_i64(0, k);
            let expect = if [1, 2, 4, 5, 6, 8, 10, 12].contains(&k) {
                0
            } else {
                1
            };
            assert_eq!(bucket_of(hash_row(w.buffer()), 2), expect, "key {k}");
        }
    }

    #[test]
    fn null_wide_decimal_java_hash() {
        use crate::types::{DataType, TypeKind};
        let ty = DataType::new(TypeKind::Decimal {
            precision: 38,
            scale: 18,
        });
        let mut w = BinaryRowWriter::new(1);
        w.set_null_for_type(0, &ty);
        assert_eq!(hash_row(w.buffer()) as u32, 2914686536);
        w.reset();
        w.set_null(0); // pypaimon's layout
        assert_eq!(hash_row(w.buffer()) as u32, 2546641952);
    }

    #[test]
    fn java_tail_handling() {
        // Tail bytes are mixed one by one (sign-extended), unlike standard Murmur3.
        let a = murmur3_32(&[1, 2, 3, 4, 0x80], 42);
        let mut h = mix_h1(42, mix_k1(u32::from_le_bytes([1, 2, 3, 4])));
        h = mix_h1(h, mix_k1(0xFFFF_FF80));
        assert_eq!(a, fmix(h, 5) as i32);
        assert_eq!(murmur3_32(&[], 42), fmix(42, 0) as i32);
    }

    #[test]
    fn bucket_of_edge_cases() {
        assert_eq!(bucket_of(i32::MIN, 7), (i32::MIN % 7).abs());
        assert_eq!(bucket_of(-13, 5), 3);
        assert_eq!(bucket_of(5, 0), 0);
    }

    #[test]
    fn hash_index_round_trip() {
        let hashes = [-771300025, 1340390384, 1465514398];
        let bytes = encode_hash_index(&hashes);
        assert_eq!(bytes, hex("d206e547 4fe4bbf0 5759f99e"));
        assert_eq!(decode_hash_index(&bytes).unwrap(), hashes);
        assert!(decode_hash_index(&bytes[..5]).is_err());
        assert!(decode_hash_index(&[]).unwrap().is_empty());
    }
}

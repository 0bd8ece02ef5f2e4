//! Regression tests for inputs that fuzzing found to crash a decoder. Each test names what was
//! found, by which fuzzer, and builds the smallest input that showed it.

use streamhouse_format::manifest::{decode_index_manifest, decode_manifest, decode_manifest_list};

/// Zig-zag varint (Avro `long`).
fn avro_long(n: i64, out: &mut Vec<u8>) {
    let mut v = ((n << 1) ^ (n >> 63)) as u64;
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn avro_bytes(b: &[u8], out: &mut Vec<u8>) {
    avro_long(b.len() as i64, out);
    out.extend_from_slice(b);
}

/// An Avro container header with these metadata entries, then one empty block.
fn container(metadata: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"Obj\x01".to_vec();
    avro_long(metadata.len() as i64, &mut out);
    for (k, v) in metadata {
        avro_bytes(k.as_bytes(), &mut out);
        avro_bytes(v, &mut out);
    }
    avro_long(0, &mut out);
    out.extend_from_slice(&[7u8; 16]); // sync marker
    out
}

/// Found by the deterministic mutation fuzzer (`fuzz_mutations`, manifest_avro target,
/// 100 000 runs): a manifest whose header has `avro.codec = zstandard` and an empty
/// `avro.codec.compression_level` made apache-avro 0.22 index an empty slice (a panic in
/// `read_codec`). The decoders now refuse the header with an error naming the file.
#[test]
fn empty_avro_compression_level_is_an_error_not_a_panic() {
    let schema = br#"{"type":"record","name":"r","fields":[{"name":"_VERSION","type":"int"}]}"#;
    for codec in [&b"zstandard"[..], b"null", b"snappy"] {
        let bytes = container(&[
            ("avro.schema", schema),
            ("avro.codec", codec),
            ("avro.codec.compression_level", b""),
        ]);
        for (what, r) in [
            (
                "manifest",
                decode_manifest(&bytes, "t/manifest/manifest-x").map(|_| ()),
            ),
            (
                "manifest list",
                decode_manifest_list(&bytes, "t/manifest/manifest-x").map(|_| ()),
            ),
            (
                "index manifest",
                decode_index_manifest(&bytes, "t/manifest/manifest-x").map(|_| ()),
            ),
        ] {
            let e = r.expect_err(what).to_string();
            assert!(e.contains("t/manifest/manifest-x"), "{what}: {e}");
            assert!(e.contains("compression_level"), "{what}: {e}");
        }
    }
    // A header that is cut inside its metadata is an error too.
    let whole = container(&[("avro.schema", schema), ("avro.codec", b"null")]);
    for cut in 4..whole.len() - 16 {
        assert!(decode_manifest(&whole[..cut], "m").is_err(), "cut at {cut}");
    }
}

/// Found by reading the deletion-vector decoder while writing its fuzz target:
/// `DeletionVector::parse` expanded the bitmap into a `Vec<u64>` of positions without a bound,
/// so a few bytes of run containers asked for gigabytes (each 10-byte container can hold
/// 65 536 positions = 512 KiB). Now the count is checked before expanding: against the data
/// file's row count (`parse_for_rows`) or a fixed bound (`parse`), and the error names the
/// index file.
#[test]
fn deletion_vector_memory_is_bounded_before_expanding() {
    use roaring::RoaringBitmap;
    use streamhouse_reader::dv::{DeletionVector, MAGIC_32, MAX_POSITIONS};
    let vector = |range: std::ops::RangeInclusive<u32>| {
        let mut b = RoaringBitmap::new();
        b.insert_range(range);
        b.optimize();
        let mut bitmap = vec![];
        b.serialize_into(&mut bitmap).unwrap();
        let mut file = vec![1u8];
        file.extend(((bitmap.len() + 4) as i32).to_be_bytes());
        file.extend(MAGIC_32.to_be_bytes());
        file.extend(&bitmap);
        file.extend([0u8; 4]);
        (file, bitmap.len() as i64 + 4)
    };
    // 2^24 positions in a few hundred bytes, for a data file of 1000 rows.
    let (file, length) = vector(0..=(1 << 24) - 1);
    assert!(file.len() < 4096, "{} bytes", file.len());
    let e = DeletionVector::parse_for_rows(&file, 1, length, "t/index/index-1", 1000)
        .unwrap_err()
        .to_string();
    assert!(e.contains("t/index/index-1"), "{e}");
    // Every 32-bit position, without a row count: the fixed bound.
    let (file, length) = vector(0..=u32::MAX);
    let e = DeletionVector::parse(&file, 1, length, "t/index/index-2")
        .unwrap_err()
        .to_string();
    assert!(e.contains("t/index/index-2"), "{e}");
    assert!(e.contains(&MAX_POSITIONS.to_string()), "{e}");
}

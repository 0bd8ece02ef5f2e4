//! Parquet INT96 timestamps, as Java Paimon stores TIMESTAMP(7..9) and
//! TIMESTAMP_LTZ(7..9) columns (`ParquetSchemaConverter`: precision > 6 → INT96).
//!
//! An INT96 value is 12 bytes: the nanoseconds of the day as a little-endian 64-bit integer,
//! then the Julian day number as a little-endian 32-bit integer (2 440 588 is 1970-01-01).
//! Every reader (Java Paimon's `TimestampColumnReader`, parquet-mr, Spark, Hive, pyarrow,
//! arrow-rs) takes the instant as `(julian_day − 2 440 588) × 86 400 s + nanos_of_day`.
//!
//! We write the conventional form (Impala's, Hive's, Spark's): the day is floored, so
//! `nanos_of_day` is always in `0..86 400 × 10⁹`. For instants at or after 1970-01-01 and for
//! whole-day instants before it these are exactly the bytes Java's
//! `ParquetRowDataWriter.timestampToInt96` writes. Before 1970 Java divides toward zero and
//! writes a negative `nanos_of_day` (for `1969-12-31T23:59:59.999999999`: day 2 440 588, nanos
//! −1). Java's vectorized reader corrects a negative nano-of-millisecond, so it reads both
//! forms (`tests/integration/java_timestamps.rs`); a reader that divides the nanoseconds toward
//! zero (Paimon's older `TimestampColumnReader`) rejects Java's form, never ours.
//! [`to_epoch_nanos`] accepts both.
//!
//! A value is handled as the parquet crate holds it (`parquet::data_type::Int96::data()`):
//! three little-endian words, nanoseconds low, nanoseconds high, day.

/// An INT96 value: nanoseconds of the day (low word, high word), Julian day.
pub type Words = [u32; 3];

/// Julian day number of 1970-01-01.
pub const JULIAN_DAY_OF_EPOCH: i64 = 2_440_588;
/// Nanoseconds in a day.
pub const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// The INT96 value of an instant given in nanoseconds since the epoch (day floored).
pub fn from_epoch_nanos(nanos: i64) -> Words {
    let day = nanos.div_euclid(NANOS_PER_DAY) + JULIAN_DAY_OF_EPOCH;
    let nanos_of_day = nanos.rem_euclid(NANOS_PER_DAY) as u64;
    // Days of i64 nanoseconds lie within ±106 752 of the epoch: always an i32.
    [
        nanos_of_day as u32,
        (nanos_of_day >> 32) as u32,
        day as i32 as u32,
    ]
}

/// The instant of an INT96 value in nanoseconds since the epoch, or `None` when it lies
/// outside the i64 nanosecond range (before 1677-09-21 or after 2262-04-11). Accepts a
/// negative or more-than-a-day `nanos_of_day` (Java's writer before 1970).
pub fn to_epoch_nanos(v: Words) -> Option<i64> {
    let nanos_of_day = ((u64::from(v[1]) << 32) | u64::from(v[0])) as i64;
    let day = i64::from(v[2] as i32);
    // In i128: the first day of the range starts before i64::MIN.
    let nanos = i128::from(day - JULIAN_DAY_OF_EPOCH) * i128::from(NANOS_PER_DAY)
        + i128::from(nanos_of_day);
    i64::try_from(nanos).ok()
}

/// The 12 bytes of an INT96 value as stored in a Parquet page (and hashed by bloom filters).
pub fn to_le_bytes(v: Words) -> [u8; 12] {
    let mut out = [0u8; 12];
    for (i, word) in v.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// An INT96 value from its 12 stored bytes.
pub fn from_le_bytes(b: [u8; 12]) -> Words {
    let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    [word(0), word(4), word(8)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Java's `ParquetRowDataWriter.timestampToInt96` for a Paimon `Timestamp`
    /// (`millisecond`, `nanoOfMillisecond`), with Java's truncating `/` and `%`.
    fn java_int96(millis: i64, nano_of_milli: i64) -> [u8; 12] {
        const MILLIS_IN_DAY: i64 = 86_400_000;
        let julian_day = (millis / MILLIS_IN_DAY + JULIAN_DAY_OF_EPOCH) as i32;
        let nanos_of_day = (millis % MILLIS_IN_DAY) * 1_000_000 + nano_of_milli;
        let mut out = [0u8; 12];
        out[..8].copy_from_slice(&nanos_of_day.to_le_bytes());
        out[8..].copy_from_slice(&julian_day.to_le_bytes());
        out
    }

    /// Paimon's `Timestamp` fields of an instant in nanoseconds.
    fn paimon_timestamp(nanos: i64) -> (i64, i64) {
        (nanos.div_euclid(1_000_000), nanos.rem_euclid(1_000_000))
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn known_byte_vectors() {
        // 1970-01-01T00:00:00: nanos 0, Julian day 2 440 588 = 0x00253D8C.
        assert_eq!(
            hex(&to_le_bytes(from_epoch_nanos(0))),
            "00000000000000008c3d2500"
        );
        // 2024-01-01T00:00:00.000000001: epoch day 19 723 → Julian day 2 460 311 = 0x00258A97.
        let t = 19_723 * NANOS_PER_DAY + 1;
        assert_eq!(
            hex(&to_le_bytes(from_epoch_nanos(t))),
            "0100000000000000978a2500"
        );
        // 2024-11-26T06:38:56.021000021: nanos of day 23 936 021 000 021 = 0x15C5_0A07_6F55,
        // Julian day 2 460 641 = 0x00258BE1.
        let t = 1_732_603_136_021_000_021;
        assert_eq!(
            hex(&to_le_bytes(from_epoch_nanos(t))),
            "556f070ac5150000e18b2500"
        );
        // 1969-12-31T23:59:59.999999999: Julian day 2 440 587 = 0x00253D8B, nanos of day
        // 86 399 999 999 999 = 0x4E94_914E_FFFF.
        assert_eq!(
            hex(&to_le_bytes(from_epoch_nanos(-1))),
            "ffff4e91944e00008b3d2500"
        );
    }

    #[test]
    fn same_bytes_as_java_from_1970_and_on_whole_days_before() {
        for t in [
            0,
            1,
            999_999_999,
            1_732_603_136_021_000_021,
            i64::MAX,
            19_723 * NANOS_PER_DAY + 1,
            -NANOS_PER_DAY,
            -1_000 * NANOS_PER_DAY,
        ] {
            let (ms, nano) = paimon_timestamp(t);
            assert_eq!(
                to_le_bytes(from_epoch_nanos(t)),
                java_int96(ms, nano),
                "instant {t}"
            );
        }
    }

    #[test]
    fn java_pre_1970_form_decodes_to_the_same_instant() {
        for t in [
            -1,
            -999_999,
            -1_000_000,
            -1_500_000_000,
            -NANOS_PER_DAY - 1,
            -86_399_999_999_999,
            i64::MIN,
            i64::MIN + 1,
        ] {
            let (ms, nano) = paimon_timestamp(t);
            let java = from_le_bytes(java_int96(ms, nano));
            assert_eq!(to_epoch_nanos(java), Some(t), "Java's bytes of {t}");
            let ours = from_epoch_nanos(t);
            assert_eq!(to_epoch_nanos(ours), Some(t), "our bytes of {t}");
            // Ours keeps nanos-of-day within a day.
            let nod = (u64::from(ours[1]) << 32) | u64::from(ours[0]);
            assert!(nod < NANOS_PER_DAY as u64, "{t}: {nod}");
        }
        // Java's bytes for 1969-12-31T23:59:59.999999999: nanos −1 on day 2 440 588.
        assert_eq!(hex(&java_int96(-1, 999_999)), "ffffffffffffffff8c3d2500");
    }

    #[test]
    fn round_trips_and_extremes() {
        let mut t: i64 = i64::MIN;
        let step = i64::MAX / 997;
        while let Some(next) = t.checked_add(step) {
            let v = from_epoch_nanos(t);
            assert_eq!(to_epoch_nanos(v), Some(t));
            assert_eq!(to_epoch_nanos(from_le_bytes(to_le_bytes(v))), Some(t));
            t = next;
        }
        for t in [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX] {
            assert_eq!(to_epoch_nanos(from_epoch_nanos(t)), Some(t));
        }
        // 1677-09-21T00:12:43.145224192 and 2262-04-11T23:47:16.854775807.
        assert_eq!(to_epoch_nanos(from_epoch_nanos(i64::MIN)), Some(i64::MIN));
        // Year 0001 and 9999 (Java can write them) lie outside the nanosecond range.
        let year_1 = from_le_bytes(java_int96(-62_135_596_800_000, 0));
        assert_eq!(to_epoch_nanos(year_1), None);
        let year_9999 = from_le_bytes(java_int96(253_402_300_799_999, 999_999));
        assert_eq!(to_epoch_nanos(year_9999), None);
        // One day past the maximum day boundary.
        let mut past = from_epoch_nanos(i64::MAX);
        past[2] += 1;
        assert_eq!(to_epoch_nanos(past), None);
    }
}

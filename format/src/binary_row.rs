//! Java's `BinaryRow`: the compact row encoding Paimon uses for partition values, primary-key
//! bounds, statistics rows and (without the arity prefix) bucket hashing.
//!
//! # Layout
//!
//! A row with `arity` fields is a fixed part followed by a variable part. Everything inside the
//! row is **little-endian**:
//!
//! ```text
//! | header + null bits : W bytes | slot 0 (8 B) | … | slot arity-1 (8 B) | variable part … |
//! ```
//!
//! * `W = ((arity + 63 + 8) / 64) * 8` ([`null_bits_width`]): 8 bytes up to 56 fields.
//! * Byte 0 is the row kind (0 = +I, 1 = −U, 2 = +U, 3 = −D); always 0 outside data files.
//! * Field `i` is null when bit `i + 8` is set (byte `(i + 8) / 8`, mask `1 << ((i + 8) % 8)`).
//!   A null field's slot is zero, except for non-compact DECIMAL / TIMESTAMP (see below).
//! * Fixed-width values sit at the start of their slot, the rest of the slot is zero:
//!   BOOLEAN/TINYINT 1 byte, SMALLINT 2, INT/DATE (days)/TIME (millis of day)/FLOAT 4,
//!   BIGINT/DOUBLE 8, DECIMAL(p ≤ 18) as the unscaled i64, TIMESTAMP(p ≤ 3) as epoch millis.
//! * Strings and binaries of at most 7 bytes are inline: the bytes, zero padding, and byte 7 of
//!   the slot = `0x80 | len`. Longer ones go to the variable part (8-aligned, zero padded) and the
//!   slot holds `(offset << 32) | len`, `offset` counted from byte 0 of the row.
//! * DECIMAL(p > 18) always reserves 16 zero bytes in the variable part and writes the unscaled
//!   value there as minimal big-endian two's complement (Java `BigInteger.toByteArray`); slot =
//!   `(offset << 32) | byte_len`.
//! * TIMESTAMP(p > 3) puts the epoch millis (i64) in 8 variable bytes; slot =
//!   `(offset << 32) | nanos_of_millisecond`.
//! * A *null* non-compact DECIMAL / TIMESTAMP still reserves its 16 / 8 zero bytes and stores
//!   `offset << 32` in the slot (Java `RowHelper` behaviour; pypaimon differs, and the bytes —
//!   hence bucket hashes — differ with it).
//!
//! In manifests a row is stored with a 4-byte **big-endian** arity prefix
//! ([`BinaryRow::serialize`]); bucket hashing uses the bare row bytes ([`BinaryRowWriter::buffer`]).

use crate::datum::Datum;
use crate::error::{Error, Result};
use crate::types::{
    DataType, TypeKind, MAX_COMPACT_DECIMAL_PRECISION, MAX_COMPACT_TIMESTAMP_PRECISION,
};

/// The serialized (arity-prefixed) empty row: arity 0 followed by an 8-byte zero header.
pub const EMPTY_ROW_SERIALIZED: [u8; 12] = [0; 12];

/// Size of the header + null bit set, in bytes, for a row of `arity` fields.
pub const fn null_bits_width(arity: usize) -> usize {
    ((arity + 63 + 8) / 64) * 8
}

/// Size of the fixed part (header, null bits and one 8-byte slot per field).
pub const fn fixed_part_size(arity: usize) -> usize {
    null_bits_width(arity) + 8 * arity
}

/// Whether a DECIMAL of this precision is stored inline as an i64.
pub fn is_compact_decimal(precision: u32) -> bool {
    precision <= MAX_COMPACT_DECIMAL_PRECISION
}

/// Whether a TIMESTAMP of this precision is stored inline as epoch millis.
pub fn is_compact_timestamp(precision: u32) -> bool {
    precision <= MAX_COMPACT_TIMESTAMP_PRECISION
}

const INLINE_MARK: u8 = 0x80;

fn round_to_word(len: usize) -> usize {
    (len + 7) & !7
}

/// Java `BigInteger.toByteArray`: the shortest big-endian two's-complement encoding (at least one
/// byte; zero is `[0]`). Returns the 16-byte buffer and the index where the value starts.
fn minimal_be_twos_complement(v: i128) -> ([u8; 16], usize) {
    let b = v.to_be_bytes();
    let mut start = 0;
    while start < 15 {
        let redundant = (b[start] == 0x00 && b[start + 1] & 0x80 == 0)
            || (b[start] == 0xFF && b[start + 1] & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    (b, start)
}

/// Builds BinaryRows. Reusable: [`reset`](Self::reset) keeps the buffer, so writing a row
/// allocates nothing once the buffer has grown to the largest row seen.
///
/// Every `write_*` / `set_null*` call takes a field position; positions must be `< arity`
/// (checked, panics otherwise — a programming error, never caused by data).
#[derive(Debug, Clone)]
pub struct BinaryRowWriter {
    arity: usize,
    null_bits: usize,
    fixed: usize,
    buf: Vec<u8>,
}

/// `write_*` methods of [`BinaryRowWriter`] storing a number in its fixed-length slot,
/// little-endian.
macro_rules! fixed_writers {
    ($($(#[$doc:meta])* $name:ident: $t:ty),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(&mut self, pos: usize, v: $t) {
            self.put_fixed(pos, &v.to_le_bytes());
        }
    )*};
}

impl BinaryRowWriter {
    pub fn new(arity: usize) -> Self {
        let fixed = fixed_part_size(arity);
        BinaryRowWriter {
            arity,
            null_bits: null_bits_width(arity),
            fixed,
            buf: vec![0; fixed],
        }
    }

    pub fn arity(&self) -> usize {
        self.arity
    }

    /// Starts a new row: zeroes the whole fixed part (header, null bits, slots) and drops the
    /// variable part.
    pub fn reset(&mut self) {
        self.buf.truncate(self.fixed);
        self.buf.fill(0);
    }

    /// Sets the row kind byte (0 = +I, 1 = −U, 2 = +U, 3 = −D).
    pub fn set_row_kind(&mut self, kind: u8) {
        self.buf[0] = kind;
    }

    /// The row bytes written so far (no arity prefix): what bucket hashing consumes.
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Copies the current row out as an owned [`BinaryRow`].
    pub fn to_row(&self) -> BinaryRow {
        BinaryRow {
            arity: self.arity,
            data: self.buf.clone(),
        }
    }

    #[inline]
    fn slot_offset(&self, pos: usize) -> usize {
        assert!(
            pos < self.arity,
            "BinaryRow field {pos} out of range (arity {})",
            self.arity
        );
        self.null_bits + 8 * pos
    }

    #[inline]
    fn put_slot(&mut self, pos: usize, v: [u8; 8]) {
        let off = self.slot_offset(pos);
        self.buf[off..off + 8].copy_from_slice(&v);
    }

    #[inline]
    fn set_null_bit(&mut self, pos: usize) {
        let bit = pos + 8;
        self.buf[bit / 8] |= 1 << (bit % 8);
    }

    #[inline]
    fn clear_null_bit(&mut self, pos: usize) {
        let bit = pos + 8;
        self.buf[bit / 8] &= !(1 << (bit % 8));
    }

    #[inline]
    fn put_offset_and_size(&mut self, pos: usize, offset: usize, size: u64) {
        let v = ((offset as u64) << 32) | (size & 0xFFFF_FFFF);
        self.put_slot(pos, v.to_le_bytes());
    }

    /// Appends `n` zero bytes to the variable part and returns where they start.
    #[inline]
    fn reserve_zeroed(&mut self, n: usize) -> usize {
        let offset = self.buf.len();
        self.buf.resize(offset + n, 0);
        offset
    }

    /// Marks a field null and zeroes its slot.
    pub fn set_null(&mut self, pos: usize) {
        self.set_null_bit(pos);
        self.put_slot(pos, [0; 8]);
    }

    /// Marks a field null the way Java's `RowHelper` does for its type: non-compact DECIMAL
    /// reserves 16 zero bytes and TIMESTAMP(p > 3) 8 zero bytes in the variable part, with the
    /// slot holding `offset << 32`; every other type just gets a zero slot.
    pub fn set_null_for_type(&mut self, pos: usize, ty: &DataType) {
        let reserve = match ty.kind {
            TypeKind::Decimal { precision, .. } if !is_compact_decimal(precision) => 16,
            TypeKind::Timestamp(p) | TypeKind::LocalZonedTimestamp(p)
                if !is_compact_timestamp(p) =>
            {
                8
            }
            _ => return self.set_null(pos),
        };
        let offset = self.reserve_zeroed(reserve);
        self.set_null_bit(pos);
        self.put_offset_and_size(pos, offset, 0);
    }

    #[inline]
    fn put_fixed(&mut self, pos: usize, bytes: &[u8]) {
        let mut slot = [0u8; 8];
        slot[..bytes.len()].copy_from_slice(bytes);
        self.clear_null_bit(pos);
        self.put_slot(pos, slot);
    }

    pub fn write_bool(&mut self, pos: usize, v: bool) {
        self.put_fixed(pos, &[v as u8]);
    }
    fixed_writers! {
        write_i8: i8,
        write_i16: i16,
        /// INT, DATE (days since epoch) and TIME (millis of day).
        write_i32: i32,
        write_i64: i64,
        write_f32: f32,
        write_f64: f64,
    }

    /// A string (UTF-8 bytes) or binary value: inline up to 7 bytes, else out of line.
    pub fn write_bytes(&mut self, pos: usize, data: &[u8]) {
        let len = data.len();
        if len <= 7 {
            let mut slot = [0u8; 8];
            slot[..len].copy_from_slice(data);
            slot[7] = INLINE_MARK | len as u8;
            self.clear_null_bit(pos);
            self.put_slot(pos, slot);
        } else {
            let offset = self.buf.len();
            self.buf.extend_from_slice(data);
            self.buf.resize(offset + round_to_word(len), 0);
            self.clear_null_bit(pos);
            self.put_offset_and_size(pos, offset, len as u64);
        }
    }

    /// A DECIMAL's unscaled value. Precision ≤ 18: the value as an i64 in the slot (it must fit;
    /// a decimal of that precision always does). Otherwise 16 reserved bytes holding the minimal
    /// big-endian two's-complement bytes, slot = `(offset << 32) | byte_len`.
    pub fn write_decimal(&mut self, pos: usize, unscaled: i128, precision: u32) {
        if is_compact_decimal(precision) {
            debug_assert!(
                i64::try_from(unscaled).is_ok(),
                "compact decimal out of i64 range"
            );
            self.write_i64(pos, unscaled as i64);
        } else {
            let offset = self.reserve_zeroed(16);
            let (bytes, start) = minimal_be_twos_complement(unscaled);
            let n = 16 - start;
            self.buf[offset..offset + n].copy_from_slice(&bytes[start..]);
            self.clear_null_bit(pos);
            self.put_offset_and_size(pos, offset, n as u64);
        }
    }

    /// A TIMESTAMP / TIMESTAMP_LTZ: epoch millis plus nanoseconds within the millisecond
    /// (0..=999_999). Precision ≤ 3 stores only the millis in the slot.
    pub fn write_timestamp(
        &mut self,
        pos: usize,
        millis: i64,
        nanos_of_milli: i32,
        precision: u32,
    ) {
        if is_compact_timestamp(precision) {
            self.write_i64(pos, millis);
        } else {
            let offset = self.reserve_zeroed(8);
            self.buf[offset..offset + 8].copy_from_slice(&millis.to_le_bytes());
            self.clear_null_bit(pos);
            self.put_offset_and_size(pos, offset, nanos_of_milli as u32 as u64);
        }
    }

    /// Writes a nullable value of the given column type. `None` is written as Java writes a null
    /// of that type ([`set_null_for_type`](Self::set_null_for_type)). Fails when the datum does
    /// not belong to the type or the type cannot live in a BinaryRow here (nested types).
    pub fn write_datum(&mut self, pos: usize, value: Option<&Datum>, ty: &DataType) -> Result<()> {
        let Some(v) = value else {
            self.set_null_for_type(pos, ty);
            return Ok(());
        };
        match (&ty.kind, v) {
            (TypeKind::Boolean, Datum::Bool(b)) => self.write_bool(pos, *b),
            (TypeKind::TinyInt, Datum::TinyInt(x)) => self.write_i8(pos, *x),
            (TypeKind::SmallInt, Datum::SmallInt(x)) => self.write_i16(pos, *x),
            (TypeKind::Int, Datum::Int(x))
            | (TypeKind::Date, Datum::Date(x))
            | (TypeKind::Time(_), Datum::Time(x)) => self.write_i32(pos, *x),
            (TypeKind::BigInt, Datum::BigInt(x)) => self.write_i64(pos, *x),
            (TypeKind::Float, Datum::Float(x)) => self.write_f32(pos, *x),
            (TypeKind::Double, Datum::Double(x)) => self.write_f64(pos, *x),
            (TypeKind::Decimal { precision, .. }, Datum::Decimal(u)) => {
                if is_compact_decimal(*precision) && i64::try_from(*u).is_err() {
                    return Err(Error::invalid(format!(
                        "decimal unscaled value {u} does not fit {ty}"
                    )));
                }
                self.write_decimal(pos, *u, *precision)
            }
            (TypeKind::Char(_) | TypeKind::VarChar(_), Datum::String(s)) => {
                self.write_bytes(pos, s.as_bytes())
            }
            (TypeKind::Binary(_) | TypeKind::VarBinary(_), Datum::Bytes(b)) => {
                self.write_bytes(pos, b)
            }
            (
                TypeKind::Timestamp(p) | TypeKind::LocalZonedTimestamp(p),
                Datum::Timestamp { millis, nanos },
            ) => {
                if !(0..=999_999).contains(nanos) {
                    return Err(Error::invalid(format!(
                        "timestamp nanos-of-millisecond {nanos} out of range 0..999999"
                    )));
                }
                self.write_timestamp(pos, *millis, *nanos, *p)
            }
            _ if ty.is_nested() => {
                return Err(Error::unsupported(format!("{ty} values in a BinaryRow")));
            }
            _ => {
                return Err(Error::invalid(format!(
                    "value {v:?} does not match column type {ty} (field {pos})"
                )));
            }
        }
        Ok(())
    }
}

/// An owned BinaryRow: its field count and its bytes (no arity prefix).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BinaryRow {
    arity: usize,
    data: Vec<u8>,
}

fn corrupt(detail: impl std::fmt::Display) -> Error {
    Error::corrupt("BinaryRow", detail)
}

impl BinaryRow {
    /// The row with no fields: 8 zero header bytes.
    pub fn empty() -> Self {
        BinaryRow {
            arity: 0,
            data: vec![0; 8],
        }
    }

    /// Wraps row bytes (no arity prefix), checking the fixed part is complete.
    pub fn from_bytes(arity: usize, data: Vec<u8>) -> Result<Self> {
        let need = fixed_part_size_checked(arity)
            .ok_or_else(|| corrupt(format!("arity {arity} is too large")))?;
        if data.len() < need {
            return Err(corrupt(format!(
                "{} bytes cannot hold a row of {arity} fields (fixed part is {need} bytes)",
                data.len()
            )));
        }
        Ok(BinaryRow { arity, data })
    }

    /// Encodes values of the given types. Panics when a value does not match its type (a
    /// programming error); use [`try_from_datums`](Self::try_from_datums) for unchecked input.
    pub fn from_datums(values: &[Option<Datum>], types: &[DataType]) -> BinaryRow {
        match Self::try_from_datums(values, types) {
            Ok(r) => r,
            Err(e) => panic!("BinaryRow::from_datums: {e}"),
        }
    }

    /// Encodes values of the given types; fails on a count or type mismatch.
    pub fn try_from_datums(values: &[Option<Datum>], types: &[DataType]) -> Result<BinaryRow> {
        if values.len() != types.len() {
            return Err(Error::invalid(format!(
                "{} values for {} BinaryRow fields",
                values.len(),
                types.len()
            )));
        }
        let mut w = BinaryRowWriter::new(types.len());
        for (i, (v, t)) in values.iter().zip(types).enumerate() {
            w.write_datum(i, v.as_ref(), t)?;
        }
        Ok(w.to_row())
    }

    pub fn arity(&self) -> usize {
        self.arity
    }

    /// The row bytes without the arity prefix (the bucket-hash input).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The row kind byte.
    pub fn row_kind(&self) -> u8 {
        self.data.first().copied().unwrap_or(0)
    }

    /// Murmur3 hash of the row bytes, as Java's `BinaryRow.hashCode()`.
    pub fn hash_code(&self) -> i32 {
        crate::bucket::hash_row(&self.data)
    }

    /// Whether field `pos` is null. Positions at or past the arity read as null (a row written
    /// before columns were added has no value for them).
    pub fn is_null_at(&self, pos: usize) -> bool {
        if pos >= self.arity {
            return true;
        }
        let bit = pos + 8;
        self.data[bit / 8] & (1 << (bit % 8)) != 0
    }

    fn slot(&self, pos: usize) -> [u8; 8] {
        let off = null_bits_width(self.arity) + 8 * pos;
        let mut s = [0u8; 8];
        s.copy_from_slice(&self.data[off..off + 8]);
        s
    }

    /// `len` bytes at `offset` of the row, bounds-checked.
    fn var_bytes(&self, pos: usize, offset: u64, len: u64) -> Result<&[u8]> {
        let end = offset
            .checked_add(len)
            .filter(|e| *e <= self.data.len() as u64);
        match end {
            Some(end) => Ok(&self.data[offset as usize..end as usize]),
            None => Err(corrupt(format!(
                "field {pos}: {len} bytes at offset {offset} run past the row end ({} bytes)",
                self.data.len()
            ))),
        }
    }

    /// A string / binary field's bytes (inline or out of line).
    fn bytes_at(&self, pos: usize) -> Result<&[u8]> {
        let slot = self.slot(pos);
        if slot[7] & INLINE_MARK != 0 {
            let len = (slot[7] & 0x7F) as usize;
            if len > 7 {
                return Err(corrupt(format!(
                    "field {pos}: inline length {len} is above 7"
                )));
            }
            let off = null_bits_width(self.arity) + 8 * pos;
            Ok(&self.data[off..off + len])
        } else {
            let v = u64::from_le_bytes(slot);
            self.var_bytes(pos, v >> 32, v & 0xFFFF_FFFF)
        }
    }

    /// Reads field `pos` as a value of type `ty`; `None` when null. Every offset and length is
    /// checked against the row, so hostile bytes give [`Error::Corrupt`], never a panic.
    pub fn get(&self, pos: usize, ty: &DataType) -> Result<Option<Datum>> {
        if pos >= self.arity {
            return Err(corrupt(format!(
                "field {pos} read from a row of {} fields",
                self.arity
            )));
        }
        if self.is_null_at(pos) {
            return Ok(None);
        }
        let s = self.slot(pos);
        let i32_at = || i32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        let i64_at = || i64::from_le_bytes(s);
        let d = match &ty.kind {
            TypeKind::Boolean => Datum::Bool(s[0] != 0),
            TypeKind::TinyInt => Datum::TinyInt(s[0] as i8),
            TypeKind::SmallInt => Datum::SmallInt(i16::from_le_bytes([s[0], s[1]])),
            TypeKind::Int => Datum::Int(i32_at()),
            TypeKind::Date => Datum::Date(i32_at()),
            TypeKind::Time(_) => Datum::Time(i32_at()),
            TypeKind::BigInt => Datum::BigInt(i64_at()),
            TypeKind::Float => Datum::Float(f32::from_le_bytes([s[0], s[1], s[2], s[3]])),
            TypeKind::Double => Datum::Double(f64::from_le_bytes(s)),
            TypeKind::Decimal { precision, .. } => {
                if is_compact_decimal(*precision) {
                    Datum::Decimal(i64_at() as i128)
                } else {
                    let v = u64::from_le_bytes(s);
                    let len = v & 0xFFFF_FFFF;
                    if !(1..=16).contains(&len) {
                        return Err(corrupt(format!(
                            "field {pos}: decimal of {len} bytes (expected 1..16)"
                        )));
                    }
                    let b = self.var_bytes(pos, v >> 32, len)?;
                    let fill = if b[0] & 0x80 != 0 { 0xFF } else { 0x00 };
                    let mut full = [fill; 16];
                    full[16 - b.len()..].copy_from_slice(b);
                    Datum::Decimal(i128::from_be_bytes(full))
                }
            }
            TypeKind::Char(_) | TypeKind::VarChar(_) => {
                let b = self.bytes_at(pos)?;
                let s = std::str::from_utf8(b)
                    .map_err(|e| corrupt(format!("field {pos}: invalid UTF-8 string: {e}")))?;
                Datum::String(s.to_string())
            }
            TypeKind::Binary(_) | TypeKind::VarBinary(_) => {
                Datum::Bytes(self.bytes_at(pos)?.to_vec())
            }
            TypeKind::Timestamp(p) | TypeKind::LocalZonedTimestamp(p) => {
                if is_compact_timestamp(*p) {
                    Datum::Timestamp {
                        millis: i64_at(),
                        nanos: 0,
                    }
                } else {
                    let v = u64::from_le_bytes(s);
                    let nanos = (v & 0xFFFF_FFFF) as i64;
                    if !(0..=999_999).contains(&nanos) {
                        return Err(corrupt(format!(
                            "field {pos}: nanos-of-millisecond {nanos} out of range"
                        )));
                    }
                    let b = self.var_bytes(pos, v >> 32, 8)?;
                    let mut m = [0u8; 8];
                    m.copy_from_slice(b);
                    Datum::Timestamp {
                        millis: i64::from_le_bytes(m),
                        nanos: nanos as i32,
                    }
                }
            }
            _ => return Err(Error::unsupported(format!("reading {ty} from a BinaryRow"))),
        };
        Ok(Some(d))
    }

    /// Reads every field; `types` must have one type per field.
    pub fn to_datums(&self, types: &[DataType]) -> Result<Vec<Option<Datum>>> {
        if types.len() != self.arity {
            return Err(corrupt(format!(
                "row has {} fields but {} types were given",
                self.arity,
                types.len()
            )));
        }
        types
            .iter()
            .enumerate()
            .map(|(i, t)| self.get(i, t))
            .collect()
    }

    /// The manifest form: 4-byte big-endian arity, then the row bytes.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.data.len());
        out.extend_from_slice(&(self.arity as i32).to_be_bytes());
        out.extend_from_slice(&self.data);
        out
    }

    /// Parses the manifest form. Empty input (or anything shorter than the arity prefix and
    /// the fixed part it announces) is an error.
    pub fn deserialize(bytes: &[u8]) -> Result<BinaryRow> {
        let Some((prefix, rest)) = bytes.split_first_chunk::<4>() else {
            return Err(corrupt(format!(
                "{} bytes is too short for a serialized row (need a 4-byte arity)",
                bytes.len()
            )));
        };
        let arity = i32::from_be_bytes(*prefix);
        if arity < 0 {
            return Err(corrupt(format!("negative arity {arity}")));
        }
        let arity = arity as usize;
        if rest.len() < fixed_part_size_checked(arity).unwrap_or(usize::MAX) {
            return Err(corrupt(format!(
                "{} row bytes cannot hold {arity} fields",
                rest.len()
            )));
        }
        BinaryRow::from_bytes(arity, rest.to_vec())
    }
}

fn fixed_part_size_checked(arity: usize) -> Option<usize> {
    let bits = (arity.checked_add(71)? / 64) * 8;
    arity.checked_mul(8)?.checked_add(bits)
}

#[cfg(test)]
#[path = "binary_row_tests.rs"]
pub(crate) mod tests;

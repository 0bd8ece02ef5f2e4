//! Paimon data types: the JSON type strings of schema files, the SQL-ish spelling the CLI accepts,
//! and the mapping to Arrow types.
//!
//! A [`DataType`] is a [`TypeKind`] plus nullability. Paimon spells a nullable type bare
//! (`BIGINT`) and a non-null one with a suffix (`BIGINT NOT NULL`).

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{DataType as ArrowType, Field as ArrowField, TimeUnit};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest length of VARCHAR / VARBINARY; spelled `STRING` / `BYTES`.
pub const MAX_LENGTH: u32 = i32::MAX as u32;

/// Highest precision a DECIMAL stores compactly (as an i64 in a BinaryRow slot).
pub const MAX_COMPACT_DECIMAL_PRECISION: u32 = 18;
/// Highest precision a TIMESTAMP stores compactly (epoch millis in a BinaryRow slot).
pub const MAX_COMPACT_TIMESTAMP_PRECISION: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeKind {
    Boolean,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Float,
    Double,
    Decimal {
        precision: u32,
        scale: u32,
    },
    Char(u32),
    VarChar(u32),
    Binary(u32),
    VarBinary(u32),
    Date,
    /// TIME(p): millis of day.
    Time(u32),
    /// TIMESTAMP(p) WITHOUT TIME ZONE.
    Timestamp(u32),
    /// TIMESTAMP(p) WITH LOCAL TIME ZONE: a UTC instant.
    LocalZonedTimestamp(u32),
    Array(Box<DataType>),
    Multiset(Box<DataType>),
    Map(Box<DataType>, Box<DataType>),
    Row(Vec<DataField>),
    Variant,
    Blob,
}

impl TypeKind {
    /// Whether values are numbers: the integer types, FLOAT, DOUBLE and DECIMAL.
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            TypeKind::TinyInt
                | TypeKind::SmallInt
                | TypeKind::Int
                | TypeKind::BigInt
                | TypeKind::Float
                | TypeKind::Double
                | TypeKind::Decimal { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataType {
    pub kind: TypeKind,
    pub nullable: bool,
}

impl DataType {
    pub fn new(kind: TypeKind) -> Self {
        DataType {
            kind,
            nullable: true,
        }
    }
    pub fn not_null(kind: TypeKind) -> Self {
        DataType {
            kind,
            nullable: false,
        }
    }
    pub fn with_nullable(&self, nullable: bool) -> Self {
        DataType {
            kind: self.kind.clone(),
            nullable,
        }
    }
    pub fn string() -> Self {
        Self::new(TypeKind::VarChar(MAX_LENGTH))
    }

    pub fn is_string(&self) -> bool {
        matches!(self.kind, TypeKind::Char(_) | TypeKind::VarChar(_))
    }
    pub fn is_binary(&self) -> bool {
        matches!(self.kind, TypeKind::Binary(_) | TypeKind::VarBinary(_))
    }
    pub fn is_nested(&self) -> bool {
        matches!(
            self.kind,
            TypeKind::Array(_)
                | TypeKind::Multiset(_)
                | TypeKind::Map(_, _)
                | TypeKind::Row(_)
                | TypeKind::Variant
                | TypeKind::Blob
        )
    }

    /// The type as Paimon writes it in a schema file: a string for primitive types,
    /// an object for nested ones.
    pub fn to_json(&self) -> serde_json::Value {
        let nn = if self.nullable { "" } else { " NOT NULL" };
        use serde_json::json;
        match &self.kind {
            TypeKind::Array(e) => json!({"type": format!("ARRAY{nn}"), "element": e.to_json()}),
            TypeKind::Multiset(e) => {
                json!({"type": format!("MULTISET{nn}"), "element": e.to_json()})
            }
            TypeKind::Map(k, v) => {
                json!({"type": format!("MAP{nn}"), "key": k.to_json(), "value": v.to_json()})
            }
            TypeKind::Row(fields) => json!({
                "type": format!("ROW{nn}"),
                "fields": fields.iter().map(DataField::to_json).collect::<Vec<_>>()
            }),
            _ => serde_json::Value::String(self.to_string()),
        }
    }

    pub fn from_json(v: &serde_json::Value) -> Result<Self> {
        match v {
            serde_json::Value::String(s) => parse_type(s),
            serde_json::Value::Object(o) => {
                let ty = o
                    .get("type")
                    .and_then(|t| t.as_str())
                    .ok_or_else(|| Error::schema(format!("nested type without \"type\": {v}")))?;
                let (root, nullable) = split_not_null(ty);
                let sub = |name: &str| -> Result<Box<DataType>> {
                    let f = o
                        .get(name)
                        .ok_or_else(|| Error::schema(format!("{root} type without \"{name}\"")))?;
                    Ok(Box::new(DataType::from_json(f)?))
                };
                let kind = match root.to_ascii_uppercase().as_str() {
                    "ARRAY" => TypeKind::Array(sub("element")?),
                    "MULTISET" => TypeKind::Multiset(sub("element")?),
                    "MAP" => TypeKind::Map(sub("key")?, sub("value")?),
                    "ROW" => {
                        let fields = o
                            .get("fields")
                            .and_then(|f| f.as_array())
                            .ok_or_else(|| Error::schema("ROW type without \"fields\""))?;
                        TypeKind::Row(
                            fields
                                .iter()
                                .map(DataField::from_json)
                                .collect::<Result<_>>()?,
                        )
                    }
                    "VECTOR" => TypeKind::Array(sub("element")?),
                    other => return Err(Error::schema(format!("unknown nested type {other:?}"))),
                };
                Ok(DataType { kind, nullable })
            }
            _ => Err(Error::schema(format!("invalid type in schema: {v}"))),
        }
    }

    /// The Arrow type used for this column in record batches and Parquet files.
    pub fn to_arrow(&self) -> ArrowType {
        match &self.kind {
            TypeKind::Boolean => ArrowType::Boolean,
            TypeKind::TinyInt => ArrowType::Int8,
            TypeKind::SmallInt => ArrowType::Int16,
            TypeKind::Int => ArrowType::Int32,
            TypeKind::BigInt => ArrowType::Int64,
            TypeKind::Float => ArrowType::Float32,
            TypeKind::Double => ArrowType::Float64,
            TypeKind::Decimal { precision, scale } => {
                ArrowType::Decimal128(*precision as u8, *scale as i8)
            }
            TypeKind::Char(_) | TypeKind::VarChar(_) => ArrowType::Utf8,
            TypeKind::Binary(_) | TypeKind::VarBinary(_) | TypeKind::Variant | TypeKind::Blob => {
                ArrowType::Binary
            }
            TypeKind::Date => ArrowType::Date32,
            TypeKind::Time(_) => ArrowType::Time32(TimeUnit::Millisecond),
            TypeKind::Timestamp(p) => ArrowType::Timestamp(timestamp_unit(*p), None),
            TypeKind::LocalZonedTimestamp(p) => {
                ArrowType::Timestamp(timestamp_unit(*p), Some("UTC".into()))
            }
            TypeKind::Array(e) | TypeKind::Multiset(e) => ArrowType::List(Arc::new(
                ArrowField::new("element", e.to_arrow(), e.nullable),
            )),
            TypeKind::Map(k, v) => ArrowType::Map(
                Arc::new(ArrowField::new(
                    "key_value",
                    ArrowType::Struct(
                        vec![
                            ArrowField::new("key", k.to_arrow(), false),
                            ArrowField::new("value", v.to_arrow(), v.nullable),
                        ]
                        .into(),
                    ),
                    false,
                )),
                false,
            ),
            TypeKind::Row(fields) => ArrowType::Struct(
                fields
                    .iter()
                    .map(|f| f.to_arrow_field())
                    .collect::<Vec<_>>()
                    .into(),
            ),
        }
    }
}

/// Arrow time unit for a TIMESTAMP precision: millis up to 3, micros up to 6, else nanos.
pub fn timestamp_unit(precision: u32) -> TimeUnit {
    match precision {
        0..=3 => TimeUnit::Millisecond,
        4..=6 => TimeUnit::Microsecond,
        _ => TimeUnit::Nanosecond,
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TypeKind::Boolean => f.write_str("BOOLEAN")?,
            TypeKind::TinyInt => f.write_str("TINYINT")?,
            TypeKind::SmallInt => f.write_str("SMALLINT")?,
            TypeKind::Int => f.write_str("INT")?,
            TypeKind::BigInt => f.write_str("BIGINT")?,
            TypeKind::Float => f.write_str("FLOAT")?,
            TypeKind::Double => f.write_str("DOUBLE")?,
            TypeKind::Decimal { precision, scale } => write!(f, "DECIMAL({precision}, {scale})")?,
            TypeKind::Char(n) => write!(f, "CHAR({n})")?,
            TypeKind::VarChar(n) if *n == MAX_LENGTH => f.write_str("STRING")?,
            TypeKind::VarChar(n) => write!(f, "VARCHAR({n})")?,
            TypeKind::Binary(n) => write!(f, "BINARY({n})")?,
            TypeKind::VarBinary(n) if *n == MAX_LENGTH => f.write_str("BYTES")?,
            TypeKind::VarBinary(n) => write!(f, "VARBINARY({n})")?,
            TypeKind::Date => f.write_str("DATE")?,
            TypeKind::Time(p) => write!(f, "TIME({p})")?,
            TypeKind::Timestamp(p) => write!(f, "TIMESTAMP({p})")?,
            TypeKind::LocalZonedTimestamp(p) => write!(f, "TIMESTAMP({p}) WITH LOCAL TIME ZONE")?,
            TypeKind::Array(e) => write!(f, "ARRAY<{e}>")?,
            TypeKind::Multiset(e) => write!(f, "MULTISET<{e}>")?,
            TypeKind::Map(k, v) => write!(f, "MAP<{k}, {v}>")?,
            TypeKind::Row(fields) => {
                f.write_str("ROW<")?;
                for (i, fl) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{} {}", fl.name, fl.data_type)?;
                }
                f.write_str(">")?;
            }
            TypeKind::Variant => f.write_str("VARIANT")?,
            TypeKind::Blob => f.write_str("BLOB")?,
        }
        if !self.nullable {
            f.write_str(" NOT NULL")?;
        }
        Ok(())
    }
}

fn split_not_null(s: &str) -> (&str, bool) {
    let t = s.trim();
    let upper = t.to_ascii_uppercase();
    if upper.ends_with("NOT NULL") {
        let head = t[..t.len() - "NOT NULL".len()].trim_end();
        (head, false)
    } else if upper.ends_with(" NULL") {
        (t[..t.len() - " NULL".len()].trim_end(), true)
    } else {
        (t, true)
    }
}

/// Parses a type string: Paimon's schema-file spelling (`DECIMAL(10, 2) NOT NULL`,
/// `TIMESTAMP(3) WITH LOCAL TIME ZONE`) and common SQL aliases (`INTEGER`, `TEXT`, `VARCHAR`,
/// `TIMESTAMP_LTZ(6)`, `ARRAY<INT>`, `MAP<STRING, INT>`).
pub fn parse_type(s: &str) -> Result<DataType> {
    let mut p = TypeParser { src: s, pos: 0 };
    let t = p.parse()?;
    p.skip_ws();
    if p.pos != s.len() {
        return Err(Error::schema(format!(
            "unexpected {:?} at position {} in type {s:?}",
            &s[p.pos..],
            p.pos + 1
        )));
    }
    Ok(t)
}

struct TypeParser<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> TypeParser<'a> {
    fn skip_ws(&mut self) {
        while self.pos < self.src.len() && self.src.as_bytes()[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }
    fn err(&self, what: &str) -> Error {
        Error::schema(format!(
            "{what} at position {} in type {:?}",
            self.pos + 1,
            self.src
        ))
    }
    fn word(&mut self) -> Option<String> {
        self.skip_ws();
        let start = self.pos;
        let b = self.src.as_bytes();
        while self.pos < b.len() && (b[self.pos].is_ascii_alphanumeric() || b[self.pos] == b'_') {
            self.pos += 1;
        }
        (self.pos > start).then(|| self.src[start..self.pos].to_ascii_uppercase())
    }
    fn peek_char(&mut self) -> Option<u8> {
        self.skip_ws();
        self.src.as_bytes().get(self.pos).copied()
    }
    fn expect(&mut self, c: u8) -> Result<()> {
        if self.peek_char() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected '{}'", c as char)))
        }
    }
    fn number(&mut self) -> Result<u32> {
        self.skip_ws();
        let start = self.pos;
        let b = self.src.as_bytes();
        while self.pos < b.len() && b[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        self.src[start..self.pos]
            .parse()
            .map_err(|_| self.err("expected a number"))
    }
    /// `(n)` or `(n, m)` when present.
    fn params(&mut self) -> Result<Vec<u32>> {
        let mut out = vec![];
        if self.peek_char() == Some(b'(') {
            self.pos += 1;
            out.push(self.number()?);
            while self.peek_char() == Some(b',') {
                self.pos += 1;
                out.push(self.number()?);
            }
            self.expect(b')')?;
        }
        Ok(out)
    }
    /// Consumes the given words if they all follow; otherwise leaves the position alone.
    fn try_words(&mut self, words: &[&str]) -> bool {
        let save = self.pos;
        for w in words {
            if self.word().as_deref() != Some(*w) {
                self.pos = save;
                return false;
            }
        }
        true
    }

    fn parse(&mut self) -> Result<DataType> {
        let name = self
            .word()
            .ok_or_else(|| self.err("expected a type name"))?;
        let one = |ps: &[u32], default: u32| ps.first().copied().unwrap_or(default);
        let kind = match name.as_str() {
            "BOOLEAN" | "BOOL" => TypeKind::Boolean,
            "TINYINT" => TypeKind::TinyInt,
            "SMALLINT" => TypeKind::SmallInt,
            "INT" | "INTEGER" => TypeKind::Int,
            "BIGINT" | "LONG" => TypeKind::BigInt,
            "FLOAT" | "REAL" => TypeKind::Float,
            "DOUBLE" => {
                self.try_words(&["PRECISION"]);
                TypeKind::Double
            }
            "DECIMAL" | "NUMERIC" | "DEC" => {
                let ps = self.params()?;
                let precision = one(&ps, 10);
                let scale = ps.get(1).copied().unwrap_or(0);
                if !(1..=38).contains(&precision) || scale > precision {
                    return Err(self.err(&format!(
                        "DECIMAL({precision}, {scale}) is out of range (precision 1..38, scale ≤ precision)"
                    )));
                }
                TypeKind::Decimal { precision, scale }
            }
            "CHAR" => TypeKind::Char(one(&self.params()?, 1)),
            "VARCHAR" => TypeKind::VarChar(one(&self.params()?, MAX_LENGTH)),
            "STRING" | "TEXT" => TypeKind::VarChar(MAX_LENGTH),
            "BINARY" => TypeKind::Binary(one(&self.params()?, 1)),
            "VARBINARY" => TypeKind::VarBinary(one(&self.params()?, MAX_LENGTH)),
            "BYTES" | "BLOB_BYTES" => TypeKind::VarBinary(MAX_LENGTH),
            "DATE" => TypeKind::Date,
            "TIME" => {
                let p = one(&self.params()?, 0);
                self.try_words(&["WITHOUT", "TIME", "ZONE"]);
                TypeKind::Time(p)
            }
            "TIMESTAMP" => {
                let p = one(&self.params()?, 6);
                if p > 9 {
                    return Err(self.err(&format!("TIMESTAMP precision {p} is above 9")));
                }
                if self.try_words(&["WITH", "LOCAL", "TIME", "ZONE"]) {
                    TypeKind::LocalZonedTimestamp(p)
                } else {
                    self.try_words(&["WITHOUT", "TIME", "ZONE"]);
                    TypeKind::Timestamp(p)
                }
            }
            "TIMESTAMP_LTZ" => TypeKind::LocalZonedTimestamp(one(&self.params()?, 6)),
            "VARIANT" => TypeKind::Variant,
            "BLOB" => TypeKind::Blob,
            "ARRAY" | "MULTISET" => {
                self.expect(b'<')?;
                let e = Box::new(self.parse()?);
                self.expect(b'>')?;
                if name == "ARRAY" {
                    TypeKind::Array(e)
                } else {
                    TypeKind::Multiset(e)
                }
            }
            "MAP" => {
                self.expect(b'<')?;
                let k = Box::new(self.parse()?);
                self.expect(b',')?;
                let v = Box::new(self.parse()?);
                self.expect(b'>')?;
                TypeKind::Map(k, v)
            }
            "ROW" => {
                self.expect(b'<')?;
                let mut fields = vec![];
                loop {
                    let fname = self
                        .word()
                        .ok_or_else(|| self.err("expected a field name"))?;
                    let ty = self.parse()?;
                    fields.push(DataField::new(
                        fields.len() as i32,
                        fname.to_lowercase(),
                        ty,
                    ));
                    if self.peek_char() == Some(b',') {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                self.expect(b'>')?;
                TypeKind::Row(fields)
            }
            other => return Err(self.err(&format!("unknown type {other}"))),
        };
        let nullable = if self.try_words(&["NOT", "NULL"]) {
            false
        } else {
            self.try_words(&["NULL"]);
            true
        };
        Ok(DataType { kind, nullable })
    }
}

/// One column of a table schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataField {
    pub id: i32,
    pub name: String,
    pub data_type: DataType,
    pub description: Option<String>,
    pub default_value: Option<String>,
}

impl DataField {
    pub fn new(id: i32, name: impl Into<String>, data_type: DataType) -> Self {
        DataField {
            id,
            name: name.into(),
            data_type,
            description: None,
            default_value: None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("id".into(), self.id.into());
        m.insert("name".into(), self.name.clone().into());
        m.insert("type".into(), self.data_type.to_json());
        if let Some(d) = &self.description {
            m.insert("description".into(), d.clone().into());
        }
        if let Some(d) = &self.default_value {
            m.insert("defaultValue".into(), d.clone().into());
        }
        serde_json::Value::Object(m)
    }

    pub fn from_json(v: &serde_json::Value) -> Result<Self> {
        let id = v
            .get("id")
            .and_then(|x| x.as_i64())
            .ok_or_else(|| Error::schema(format!("field without integer \"id\": {v}")))?;
        let name = v
            .get("name")
            .and_then(|x| x.as_str())
            .ok_or_else(|| Error::schema(format!("field without \"name\": {v}")))?;
        let ty = v
            .get("type")
            .ok_or_else(|| Error::schema(format!("field {name} without \"type\"")))?;
        Ok(DataField {
            id: id as i32,
            name: name.to_string(),
            data_type: DataType::from_json(ty)
                .map_err(|e| Error::schema(format!("field {name}: {}", inner(e))))?,
            description: v
                .get("description")
                .and_then(|x| x.as_str())
                .map(str::to_string),
            default_value: v
                .get("defaultValue")
                .and_then(|x| x.as_str())
                .map(str::to_string),
        })
    }

    /// The Arrow field, carrying the Paimon field id as Parquet's `PARQUET:field_id`.
    pub fn to_arrow_field(&self) -> ArrowField {
        arrow_field_with_id(
            &self.name,
            self.data_type.to_arrow(),
            self.data_type.nullable,
            self.id,
        )
    }
}

/// An Arrow field whose metadata carries a Parquet field id.
pub fn arrow_field_with_id(name: &str, ty: ArrowType, nullable: bool, id: i32) -> ArrowField {
    ArrowField::new(name, ty, nullable).with_metadata(
        [("PARQUET:field_id".to_string(), id.to_string())]
            .into_iter()
            .collect(),
    )
}

impl Serialize for DataField {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for DataField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        DataField::from_json(&v).map_err(serde::de::Error::custom)
    }
}

/// The message of a schema error without its "invalid schema" prefix, for wrapping.
fn inner(e: Error) -> String {
    match e {
        Error::Schema(m) => m,
        e => e.to_string(),
    }
}

/// Parses a column list as the CLI takes it: `id BIGINT NOT NULL, name STRING, price DECIMAL(10, 2)`.
/// Commas inside parentheses or angle brackets belong to the type.
pub fn parse_columns(s: &str) -> Result<Vec<(String, DataType)>> {
    let mut cols = vec![];
    let mut depth = 0i32;
    let mut start = 0;
    let bytes = s.as_bytes();
    let mut pieces = vec![];
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'(' | b'<' => depth += 1,
            b')' | b'>' => depth -= 1,
            b',' if depth == 0 => {
                pieces.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&s[start..]);
    for piece in pieces {
        let piece = piece.trim();
        if piece.is_empty() {
            return Err(Error::schema(format!("empty column definition in {s:?}")));
        }
        let (name, ty) = piece
            .split_once(char::is_whitespace)
            .ok_or_else(|| Error::schema(format!("column {piece:?} has no type")))?;
        let name = name.trim_matches('`').trim_matches('"');
        let ty =
            parse_type(ty).map_err(|e| Error::schema(format!("column {name}: {}", inner(e))))?;
        if cols.iter().any(|(n, _): &(String, DataType)| n == name) {
            return Err(Error::schema(format!("column {name} is declared twice")));
        }
        cols.push((name.to_string(), ty));
    }
    Ok(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_primitive_type() {
        let cases = [
            "BOOLEAN",
            "TINYINT",
            "SMALLINT",
            "INT",
            "BIGINT NOT NULL",
            "FLOAT",
            "DOUBLE",
            "DECIMAL(10, 2)",
            "DECIMAL(38, 18) NOT NULL",
            "CHAR(5)",
            "VARCHAR(20)",
            "STRING",
            "BINARY(4)",
            "VARBINARY(9)",
            "BYTES",
            "DATE",
            "TIME(0)",
            "TIME(3)",
            "TIMESTAMP(3)",
            "TIMESTAMP(6) NOT NULL",
            "TIMESTAMP(9)",
            "TIMESTAMP(3) WITH LOCAL TIME ZONE",
            "TIMESTAMP(6) WITH LOCAL TIME ZONE NOT NULL",
        ];
        for c in cases {
            let t = parse_type(c).unwrap();
            assert_eq!(t.to_string(), c);
            assert_eq!(DataType::from_json(&t.to_json()).unwrap(), t);
        }
    }

    #[test]
    fn aliases_and_defaults() {
        assert_eq!(parse_type("integer").unwrap().kind, TypeKind::Int);
        assert_eq!(parse_type("decimal").unwrap().to_string(), "DECIMAL(10, 0)");
        assert_eq!(parse_type("TIMESTAMP").unwrap().to_string(), "TIMESTAMP(6)");
        assert_eq!(
            parse_type("timestamp_ltz(3)").unwrap().to_string(),
            "TIMESTAMP(3) WITH LOCAL TIME ZONE"
        );
        assert_eq!(
            parse_type("VARCHAR(2147483647)").unwrap().to_string(),
            "STRING"
        );
    }

    #[test]
    fn nested_types_as_json_objects() {
        let t = parse_type("ARRAY<INT NOT NULL> NOT NULL").unwrap();
        let j = t.to_json();
        assert_eq!(j["type"], "ARRAY NOT NULL");
        assert_eq!(j["element"], "INT NOT NULL");
        assert_eq!(DataType::from_json(&j).unwrap(), t);
        let m = parse_type("MAP<STRING, BIGINT>").unwrap();
        assert_eq!(DataType::from_json(&m.to_json()).unwrap(), m);
    }

    #[test]
    fn bad_types_name_the_problem() {
        let e = parse_type("DECIMAL(50, 2)").unwrap_err().to_string();
        assert!(e.contains("out of range"), "{e}");
        let e = parse_type("BIGNUM").unwrap_err().to_string();
        assert!(e.contains("unknown type BIGNUM"), "{e}");
        let e = parse_columns("x BIGNUM").unwrap_err().to_string();
        assert_eq!(e.matches("invalid schema").count(), 1, "{e}");
        let e = parse_type("INT extra").unwrap_err().to_string();
        assert!(e.contains("position"), "{e}");
    }

    #[test]
    fn column_lists() {
        let cols = parse_columns("id BIGINT NOT NULL, name STRING, price DECIMAL(10, 2)").unwrap();
        assert_eq!(cols.len(), 3);
        assert_eq!(cols[2].1.to_string(), "DECIMAL(10, 2)");
        assert!(!cols[0].1.nullable);
        assert!(parse_columns("id BIGINT, id INT").is_err());
        assert!(parse_columns("id").is_err());
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn primitive() -> impl Strategy<Value = TypeKind> {
        prop_oneof![
            Just(TypeKind::Boolean),
            Just(TypeKind::TinyInt),
            Just(TypeKind::SmallInt),
            Just(TypeKind::Int),
            Just(TypeKind::BigInt),
            Just(TypeKind::Float),
            Just(TypeKind::Double),
            (1u32..=38)
                .prop_flat_map(|p| (Just(p), 0..=p))
                .prop_map(|(precision, scale)| TypeKind::Decimal { precision, scale }),
            (1u32..100).prop_map(TypeKind::Char),
            prop_oneof![1u32..100, Just(MAX_LENGTH)].prop_map(TypeKind::VarChar),
            (1u32..100).prop_map(TypeKind::Binary),
            prop_oneof![1u32..100, Just(MAX_LENGTH)].prop_map(TypeKind::VarBinary),
            Just(TypeKind::Date),
            (0u32..=3).prop_map(TypeKind::Time),
            (0u32..=9).prop_map(TypeKind::Timestamp),
            (0u32..=9).prop_map(TypeKind::LocalZonedTimestamp),
        ]
    }

    fn data_type() -> impl Strategy<Value = DataType> {
        let leaf =
            (primitive(), any::<bool>()).prop_map(|(kind, nullable)| DataType { kind, nullable });
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                (inner.clone(), any::<bool>()).prop_map(|(e, n)| DataType {
                    kind: TypeKind::Array(Box::new(e)),
                    nullable: n
                }),
                (inner.clone(), inner.clone(), any::<bool>()).prop_map(|(k, v, n)| DataType {
                    kind: TypeKind::Map(Box::new(k), Box::new(v)),
                    nullable: n
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn every_type_round_trips_through_schema_json(t in data_type()) {
            let json = t.to_json();
            prop_assert_eq!(DataType::from_json(&json).unwrap(), t.clone());
            let text = serde_json::to_string(&json).unwrap();
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(DataType::from_json(&back).unwrap(), t.clone());
            if !t.is_nested() {
                prop_assert_eq!(parse_type(&t.to_string()).unwrap(), t);
            }
        }

        #[test]
        fn the_parser_never_panics(s in "\\PC{0,40}") {
            let _ = parse_type(&s);
            let _ = parse_columns(&s);
        }
    }
}

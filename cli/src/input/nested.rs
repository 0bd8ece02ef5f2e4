//! ARRAY / MULTISET, MAP and ROW columns from JSON values (or, in CSV, JSON text).

use std::sync::Arc;

use arrow::array::{ArrayRef, ListArray, MapArray, StructArray};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::DataType as ArrowType;
use serde_json::Value;
use streamhouse::{DataType, TypeKind};

use super::convert::{build_array, json_kind, show, type_name, CellError, CellResult, Raw};

/// Nested values arrive as JSON values, or (from CSV) as JSON text parsed here.
fn parse_nested(cells: &[Raw], rows: &[usize], name: &str) -> CellResult<Vec<Option<Value>>> {
    cells
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            Raw::Text(s) => serde_json::from_str::<Value>(s)
                .map(Some)
                .map_err(|e| CellError {
                    row: rows[i],
                    detail: format!(
                        "{} is not JSON for {name}: {}",
                        show(c),
                        crate::input::json::describe_json_error(&e)
                    ),
                }),
            _ => Ok(None),
        })
        .collect()
}

fn nested_value<'a>(c: &Raw<'a>, parsed: &'a Option<Value>) -> Option<&'a Value> {
    match (c, parsed) {
        (_, Some(v)) => Some(v),
        (Raw::Json(v), None) => Some(v),
        _ => None,
    }
}

fn null_buffer(valid: Vec<bool>) -> Option<NullBuffer> {
    valid.iter().any(|v| !v).then(|| NullBuffer::from(valid))
}

fn arrow_err(e: arrow::error::ArrowError) -> CellError {
    CellError {
        row: 0,
        detail: e.to_string(),
    }
}

pub fn list(ty: &DataType, elem: &DataType, cells: &[Raw], rows: &[usize]) -> CellResult<ArrayRef> {
    let name = type_name(ty);
    let ArrowType::List(field) = ty.to_arrow() else {
        return Err(CellError {
            row: 0,
            detail: format!("unexpected Arrow type for {name}"),
        });
    };
    let parsed = parse_nested(cells, rows, &name)?;
    let (mut children, mut child_rows, mut offsets, mut valid) =
        (vec![], vec![], vec![0i32], vec![]);
    for (i, c) in cells.iter().enumerate() {
        match nested_value(c, &parsed[i]) {
            Some(Value::Array(items)) => {
                children.extend(items.iter().map(Raw::from_json));
                child_rows.extend(std::iter::repeat_n(rows[i], items.len()));
                valid.push(true);
            }
            Some(v) => return Err(wrong_kind(c, v, rows[i], &name, "a JSON array")),
            None => valid.push(false),
        }
        offsets.push(children.len() as i32);
    }
    let values = build_array(elem, &children, &child_rows)?;
    let offsets = OffsetBuffer::new(offsets.into());
    Ok(Arc::new(
        ListArray::try_new(field, offsets, values, null_buffer(valid)).map_err(arrow_err)?,
    ))
}

pub fn map(
    ty: &DataType,
    key: &DataType,
    value: &DataType,
    cells: &[Raw],
    rows: &[usize],
) -> CellResult<ArrayRef> {
    let name = type_name(ty);
    let ArrowType::Map(entries_field, sorted) = ty.to_arrow() else {
        return Err(CellError {
            row: 0,
            detail: format!("unexpected Arrow type for {name}"),
        });
    };
    let ArrowType::Struct(entry_fields) = entries_field.data_type().clone() else {
        return Err(CellError {
            row: 0,
            detail: format!("unexpected Arrow type for {name}"),
        });
    };
    let parsed = parse_nested(cells, rows, &name)?;
    let (mut keys, mut vals, mut child_rows, mut offsets, mut valid) =
        (vec![], vec![], vec![], vec![0i32], vec![]);
    for (i, c) in cells.iter().enumerate() {
        match nested_value(c, &parsed[i]) {
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    keys.push(Raw::Text(k));
                    vals.push(Raw::from_json(v));
                    child_rows.push(rows[i]);
                }
                valid.push(true);
            }
            Some(v) => return Err(wrong_kind(c, v, rows[i], &name, "a JSON object")),
            None => valid.push(false),
        }
        offsets.push(keys.len() as i32);
    }
    let key_array = build_array(&key.with_nullable(false), &keys, &child_rows)?;
    let value_array = build_array(value, &vals, &child_rows)?;
    let entries = StructArray::try_new(entry_fields, vec![key_array, value_array], None)
        .map_err(arrow_err)?;
    let offsets = OffsetBuffer::new(offsets.into());
    Ok(Arc::new(
        MapArray::try_new(entries_field, offsets, entries, null_buffer(valid), sorted)
            .map_err(arrow_err)?,
    ))
}

pub fn row(ty: &DataType, cells: &[Raw], rows: &[usize]) -> CellResult<ArrayRef> {
    let name = type_name(ty);
    let (TypeKind::Row(fields), ArrowType::Struct(arrow_fields)) = (&ty.kind, ty.to_arrow()) else {
        return Err(CellError {
            row: 0,
            detail: format!("unexpected Arrow type for {name}"),
        });
    };
    let parsed = parse_nested(cells, rows, &name)?;
    let mut objects = Vec::with_capacity(cells.len());
    for (i, c) in cells.iter().enumerate() {
        match nested_value(c, &parsed[i]) {
            Some(Value::Object(m)) => {
                if let Some(k) = m.keys().find(|k| !fields.iter().any(|f| &f.name == *k)) {
                    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                    return Err(CellError {
                        row: rows[i],
                        detail: format!("{name} has no field {k:?} (fields: {})", names.join(", ")),
                    });
                }
                objects.push(Some(m));
            }
            Some(v) => return Err(wrong_kind(c, v, rows[i], &name, "a JSON object")),
            None => objects.push(None),
        }
    }
    let mut arrays = Vec::with_capacity(fields.len());
    for f in fields {
        let child: Vec<Raw> = objects
            .iter()
            .map(|o| match o {
                Some(m) => m.get(&f.name).map(Raw::from_json).unwrap_or(Raw::Null),
                None => Raw::Absent,
            })
            .collect();
        arrays.push(
            build_array(&f.data_type, &child, rows).map_err(|e| CellError {
                row: e.row,
                detail: format!("field {}: {}", f.name, e.detail),
            })?,
        );
    }
    let valid = objects.iter().map(Option::is_some).collect();
    Ok(Arc::new(
        StructArray::try_new(arrow_fields, arrays, null_buffer(valid)).map_err(arrow_err)?,
    ))
}

/// A nested column's value of the wrong JSON kind (`expected`: "a JSON array", …).
fn wrong_kind(cell: &Raw, value: &Value, row: usize, name: &str, expected: &str) -> CellError {
    CellError {
        row,
        detail: format!(
            "{} is {}, but {name} takes {expected}",
            show(cell),
            json_kind(value)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::convert::tests::build;
    use arrow::array::{Array, AsArray};

    #[test]
    fn nested_values_from_json_and_text() {
        let v = serde_json::json!([1, 2, null]);
        let a = build("ARRAY<INT>", &[Raw::Json(&v), Raw::Text("[3]"), Raw::Null]).unwrap();
        let l = a.as_list::<i32>();
        assert_eq!(
            (l.value(0).len(), l.value(1).len(), l.is_null(2)),
            (3, 1, true)
        );
        assert!(build("ARRAY<INT NOT NULL>", &[Raw::Json(&v)]).is_err());
        let m = serde_json::json!({"a": 1});
        let a = build("MAP<STRING, BIGINT>", &[Raw::Json(&m)]).unwrap();
        assert_eq!(a.as_map().value(0).len(), 1);
        let r = serde_json::json!({"x": 1});
        let a = build("ROW<x INT NOT NULL, y STRING>", &[Raw::Json(&r), Raw::Null]).unwrap();
        assert!(a.is_null(1));
        let bad = serde_json::json!({"z": 1});
        assert!(build("ROW<x INT>", &[Raw::Json(&bad)])
            .unwrap_err()
            .detail
            .contains("no field \"z\""));
    }
}

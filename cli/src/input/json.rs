//! JSON lines input: one object per line, keys are column names; blank lines are skipped.

use std::io::BufRead;

use serde_json::{Map, Value};
use streamhouse_format::Error;

use super::convert::Raw;
use super::{read_line, BatchShape, Chunk};
use crate::error::CliResult;

/// serde_json's message without its "at line 1 column N" suffix, plus where in the line.
pub fn describe_json_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => &msg,
    };
    format!("{msg} (at character {})", e.column())
}

pub fn read(
    mut reader: impl BufRead,
    shape: &BatchShape,
    mut send: impl FnMut(Chunk) -> bool,
) -> CliResult<()> {
    let src = &shape.source;
    let mut rows: Vec<(u64, Map<String, Value>)> =
        Vec::with_capacity(shape.batch_rows.min(1 << 16));
    let mut buf = String::new();
    let mut line = 0u64;
    while read_line(&mut reader, &mut buf, &mut line, src)? {
        let t = buf.trim();
        if t.is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(t).map_err(|e| {
            Error::input_at(
                format!("{src} line {line}"),
                format!("malformed JSON: {}", describe_json_error(&e)),
            )
        })?;
        let Value::Object(obj) = value else {
            return Err(Error::input_at(
                format!("{src} line {line}"),
                format!(
                    "expected a JSON object with column names as keys, found {}",
                    short(&value)
                ),
            )
            .into());
        };
        if let Some(k) = obj.keys().find(|k| !shape.accepts(k)) {
            return Err(
                Error::input_at(format!("{src} line {line}"), shape.unknown_column(k)).into(),
            );
        }
        rows.push((line, obj));
        if rows.len() >= shape.batch_rows {
            if !send(to_chunk(&rows, shape)?) {
                return Ok(());
            }
            rows.clear();
        }
    }
    if !rows.is_empty() {
        send(to_chunk(&rows, shape)?);
    }
    Ok(())
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

fn to_chunk(rows: &[(u64, Map<String, Value>)], shape: &BatchShape) -> CliResult<Chunk> {
    let lines: Vec<u64> = rows.iter().map(|(l, _)| *l).collect();
    let columns: Vec<Vec<Raw>> = shape
        .schema
        .fields
        .iter()
        .map(|f| {
            rows.iter()
                .map(|(_, o)| o.get(&f.name).map(Raw::from_json).unwrap_or(Raw::Null))
                .collect()
        })
        .collect();
    let kinds: Option<Vec<Raw>> = shape.rowkind_column().map(|k| {
        rows.iter()
            .map(|(_, o)| o.get(k).map(Raw::from_json).unwrap_or(Raw::Null))
            .collect()
    });
    shape.chunk(&columns, kinds.as_deref(), &lines)
}

//! JSON lines input: one object per line, keys are column names; blank lines are skipped.

use std::io::BufRead;

use serde_json::{Map, Value};
use streamhouse::Error;

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
    reader: impl BufRead,
    shape: &BatchShape,
    send: impl FnMut(Chunk) -> bool,
) -> CliResult<()> {
    read_with(reader, shape, send, None::<fn(&_) -> bool>)
}

/// Like [`read`], for a stream (`write --follow`): the rows read so far are also handed over
/// whenever the input has nothing more buffered, so that lines arriving one by one are not
/// held back until a batch fills.
pub fn read_streaming<R: std::io::Read>(
    reader: std::io::BufReader<R>,
    shape: &BatchShape,
    send: impl FnMut(Chunk) -> bool,
) -> CliResult<()> {
    read_with(
        reader,
        shape,
        send,
        Some(|r: &std::io::BufReader<R>| r.buffer().is_empty()),
    )
}

fn read_with<B: BufRead>(
    mut reader: B,
    shape: &BatchShape,
    mut send: impl FnMut(Chunk) -> bool,
    idle: Option<impl Fn(&B) -> bool>,
) -> CliResult<()> {
    let streaming = idle.is_some();
    let idle = |r: &B| idle.as_ref().is_some_and(|f| f(r));
    let src = &shape.source;
    // Converts and hands over rows (`false`: the receiver is gone). A stream first hands over
    // the rows before a value that does not convert, then fails naming it.
    let mut emit = |rows: &[(u64, Map<String, Value>)]| -> CliResult<bool> {
        match to_chunk(rows, shape) {
            Ok(chunk) => Ok(send(chunk)),
            Err(e) if streaming => {
                let (good, e) = good_prefix(rows, shape, e);
                if good > 0 {
                    send(to_chunk(&rows[..good], shape)?);
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    };
    let mut rows: Vec<(u64, Map<String, Value>)> =
        Vec::with_capacity(shape.batch_rows.min(1 << 16));
    let mut buf = String::new();
    let mut line = 0u64;
    loop {
        let parsed = match read_line(&mut reader, &mut buf, &mut line, src) {
            Ok(false) => break,
            Ok(true) => parse_line(buf.trim(), shape, line),
            Err(e) => Err(e),
        };
        match parsed {
            Ok(Some(obj)) => rows.push((line, obj)),
            Ok(None) => {}
            Err(e) => {
                // A stream keeps what came before the bad line.
                if streaming && !rows.is_empty() {
                    emit(&rows)?;
                }
                return Err(e);
            }
        }
        if !rows.is_empty() && (rows.len() >= shape.batch_rows || idle(&reader)) {
            if !emit(&rows)? {
                return Ok(());
            }
            rows.clear();
        }
    }
    if !rows.is_empty() {
        emit(&rows)?;
    }
    Ok(())
}

/// The number of leading rows that convert, and the error of the first one that does not
/// (found by bisection: conversion errors name the row).
fn good_prefix(
    rows: &[(u64, Map<String, Value>)],
    shape: &BatchShape,
    mut error: crate::error::CliError,
) -> (usize, crate::error::CliError) {
    let (mut lo, mut hi) = (0, rows.len());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match to_chunk(&rows[..mid], shape) {
            Ok(_) => lo = mid,
            Err(e) => {
                hi = mid;
                error = e;
            }
        }
    }
    (lo, error)
}

/// One line as a row; `None` for a blank line.
fn parse_line(t: &str, shape: &BatchShape, line: u64) -> CliResult<Option<Map<String, Value>>> {
    let src = &shape.source;
    if t.is_empty() {
        return Ok(None);
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
        return Err(Error::input_at(format!("{src} line {line}"), shape.unknown_column(k)).into());
    }
    Ok(Some(obj))
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

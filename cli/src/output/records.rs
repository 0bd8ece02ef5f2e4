//! Small listings (snapshots, files, tables, columns) printed as a table, CSV or JSON lines.

use std::io::Write;

use serde_json::Value;

use super::{csv_field, table};
use crate::args::InfoOutput;
use crate::error::{CliError, CliResult};

pub struct Records {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Value>>,
}

impl Records {
    pub fn new(columns: Vec<&'static str>) -> Self {
        Records {
            columns,
            rows: vec![],
        }
    }

    pub fn push(&mut self, row: Vec<Value>) {
        self.rows.push(row);
    }

    fn text(v: &Value) -> String {
        match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            v => v.to_string(),
        }
    }

    /// The listing as text in `format`.
    pub fn render(&self, format: InfoOutput) -> String {
        let mut out = String::new();
        match format {
            InfoOutput::Table => {
                let right: Vec<bool> = (0..self.columns.len())
                    .map(|j| {
                        let mut vals = self
                            .rows
                            .iter()
                            .map(|r| &r[j])
                            .filter(|v| !v.is_null())
                            .peekable();
                        vals.peek().is_some() && vals.all(Value::is_number)
                    })
                    .collect();
                let headers: Vec<String> = self.columns.iter().map(|c| c.to_string()).collect();
                let rows: Vec<Vec<String>> = self
                    .rows
                    .iter()
                    .map(|r| r.iter().map(|v| table::cell(&Self::text(v))).collect())
                    .collect();
                out.push_str(&table::render(&headers, &right, &rows));
            }
            InfoOutput::Csv => {
                out.push_str(&self.columns.join(","));
                out.push('\n');
                for r in &self.rows {
                    let fields: Vec<String> = r
                        .iter()
                        .map(|v| {
                            if v.is_null() {
                                String::new()
                            } else {
                                csv_field(&Self::text(v))
                            }
                        })
                        .collect();
                    out.push_str(&fields.join(","));
                    out.push('\n');
                }
            }
            InfoOutput::Json => {
                for r in &self.rows {
                    let obj: serde_json::Map<String, Value> = self
                        .columns
                        .iter()
                        .map(|c| c.to_string())
                        .zip(r.iter().cloned())
                        .collect();
                    out.push_str(&Value::Object(obj).to_string());
                    out.push('\n');
                }
            }
        }
        out
    }

    pub fn print(&self, format: InfoOutput) -> CliResult<()> {
        print_text(&self.render(format))
    }
}

/// Writes text to stdout.
pub fn print_text(text: &str) -> CliResult<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(CliError::io("writing to stdout"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn three_forms() {
        let mut r = Records::new(vec!["id", "name"]);
        r.push(vec![json!(1), json!("a,b")]);
        r.push(vec![json!(2), Value::Null]);
        assert_eq!(r.render(InfoOutput::Csv), "id,name\n1,\"a,b\"\n2,\n");
        assert_eq!(
            r.render(InfoOutput::Json),
            "{\"id\":1,\"name\":\"a,b\"}\n{\"id\":2,\"name\":null}\n"
        );
        assert!(r.render(InfoOutput::Table).contains("|  1 | a,b  |"));
    }
}

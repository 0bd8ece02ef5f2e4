//! `streamhouse scan`: a snapshot's rows, streamed batch by batch into the chosen output.

use std::sync::Arc;

use arrow::datatypes::Schema;
use futures::StreamExt;
use streamhouse_format::io::Table;

use crate::args::{ScanArgs, ScanOutput};
use crate::error::CliResult;
use crate::output::{open_sink, Dest};
use crate::read;
use crate::warehouse::Warehouse;

pub struct ScanRequest {
    pub snapshot: Option<i64>,
    pub columns: Option<Vec<String>>,
    pub limit: Option<usize>,
    pub format: ScanOutput,
}

pub async fn run(wh: &Warehouse, args: ScanArgs) -> CliResult<()> {
    let table = wh.open_table(&args.table).await?;
    let columns: Vec<String> = args
        .columns
        .iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    for c in &columns {
        table.schema.field_index(c)?;
    }
    let request = ScanRequest {
        snapshot: args.snapshot,
        columns: (!columns.is_empty()).then_some(columns),
        limit: args.limit,
        format: args.output,
    };
    let dest = args.out.map(Dest::File).unwrap_or(Dest::Stdout);
    let result = scan_to(wh, &table, &request, &dest).await;
    if result.is_err() {
        if let Dest::File(p) = &dest {
            let _ = std::fs::remove_file(p);
        }
    }
    result.map(|_| ())
}

/// Writes the rows `request` asks for to `dest`; returns how many.
pub async fn scan_to(
    wh: &Warehouse,
    table: &Table,
    request: &ScanRequest,
    dest: &Dest,
) -> CliResult<u64> {
    let type_of = |name: &str| table.schema.field(name).map(|f| f.data_type.clone());
    let Some(snapshot) = wh.resolve_snapshot(table, request.snapshot).await? else {
        // Nothing written yet: an empty result with the requested columns.
        let all = table.schema.arrow_schema();
        let schema = match &request.columns {
            Some(cols) => {
                let idx = table.schema.indices_of(cols)?;
                Arc::new(Schema::new(
                    idx.iter()
                        .map(|&i| all.field(i).clone())
                        .collect::<Vec<_>>(),
                ))
            }
            None => all,
        };
        let types = schema.fields().iter().map(|f| type_of(f.name())).collect();
        return open_sink(request.format, dest, schema, types)?.finish();
    };
    let mut stream = read::scan(
        table,
        Some(snapshot),
        request.columns.clone(),
        request.limit,
    )
    .await?;
    let types = stream
        .schema
        .fields()
        .iter()
        .map(|f| type_of(f.name()))
        .collect();
    let mut sink = open_sink(request.format, dest, stream.schema.clone(), types)?;
    let mut remaining = request.limit;
    while remaining != Some(0) {
        let Some(batch) = stream.batches.next().await else {
            break;
        };
        let mut batch = batch?;
        if let Some(r) = remaining {
            if batch.num_rows() > r {
                batch = batch.slice(0, r);
            }
            remaining = Some(r - batch.num_rows());
        }
        if batch.num_rows() > 0 {
            sink.write(&batch)?;
        }
    }
    sink.finish()
}

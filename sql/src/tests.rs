//! SQL over a written table: aggregates, filters pushed down exactly, limits, several tables.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{Float64Type, Int64Type};
use datafusion::prelude::SessionContext;
use streamhouse::{Catalog, Identifier, Table, TableSpec};

async fn make(catalog: &Catalog, name: &str, pk: bool, rows: i64) -> Table {
    let mut spec = TableSpec::parse("id BIGINT NOT NULL, category STRING, amount DOUBLE").unwrap();
    if pk {
        spec = spec.primary_key(["id"]).option("bucket", "3");
    }
    let id = Identifier::parse(name).unwrap();
    let table = catalog.create_table(&id, spec, false).await.unwrap();
    let table = table.into_table();
    let arrow = table.arrow_schema();
    let mut w = table.writer().await.unwrap();
    // Two commits; for the primary-key table the second overwrites the even ids.
    for round in 0..2i64 {
        let ids: Vec<i64> = if round == 0 {
            (0..rows).collect()
        } else if pk {
            (0..rows).step_by(2).collect()
        } else {
            (rows..rows + 10).collect()
        };
        let cats: Vec<String> = ids.iter().map(|i| format!("c{}", i % 3)).collect();
        let amounts: Vec<f64> = ids
            .iter()
            .map(|i| (*i as f64) + round as f64 * 1000.0)
            .collect();
        let b = RecordBatch::try_new(
            arrow.clone(),
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(cats)),
                Arc::new(Float64Array::from(amounts)),
            ],
        )
        .unwrap();
        w.write(&b).await.unwrap();
        w.commit().await.unwrap();
    }
    w.close().await.unwrap();
    table
}

async fn query(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn aggregates_filters_and_limits_over_a_warehouse() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::builder(dir.path().to_str().unwrap())
        .open()
        .unwrap();
    make(&catalog, "db.pk", true, 100).await;
    make(&catalog, "db.log", false, 50).await;
    let ctx = SessionContext::new();
    assert_eq!(crate::register_catalog(&ctx, &catalog).await.unwrap(), 2);

    // Merged rows: even ids carry +1000.
    let b = query(
        &ctx,
        "SELECT category, sum(amount) AS s, count(*) AS n FROM db.pk WHERE id < 30 GROUP BY 1 ORDER BY 1",
    )
    .await;
    let mut got = vec![];
    for batch in &b {
        let c = batch.column(0).as_string::<i32>();
        let s = batch.column(1).as_primitive::<Float64Type>();
        let n = batch.column(2).as_primitive::<Int64Type>();
        for i in 0..batch.num_rows() {
            got.push((c.value(i).to_string(), s.value(i), n.value(i)));
        }
    }
    let mut want = vec![];
    for c in 0..3 {
        let ids: Vec<i64> = (0..30).filter(|i| i % 3 == c).collect();
        let sum: f64 = ids
            .iter()
            .map(|i| *i as f64 + if i % 2 == 0 { 1000.0 } else { 0.0 })
            .sum();
        want.push((format!("c{c}"), sum, ids.len() as i64));
    }
    assert_eq!(got, want);

    // Pushed-down filter forms and a filter DataFusion keeps.
    for (sql, n) in [
        ("SELECT id FROM db.pk WHERE id BETWEEN 10 AND 19", 10),
        ("SELECT id FROM db.pk WHERE id IN (1, 2, 300)", 2),
        (
            "SELECT id FROM db.pk WHERE category = 'c1' AND NOT (id >= 50)",
            17,
        ),
        ("SELECT id FROM db.pk WHERE amount > 1000", 49),
        ("SELECT id FROM db.pk WHERE id % 10 = 0", 10),
        ("SELECT id FROM db.log WHERE id >= 45", 15),
        ("SELECT id FROM db.log WHERE category IS NULL", 0),
    ] {
        let rows: usize = query(&ctx, sql).await.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, n, "{sql}");
    }
    let rows: usize = query(&ctx, "SELECT * FROM db.log LIMIT 7")
        .await
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(rows, 7);
    let b = query(&ctx, "SELECT count(*) FROM db.log").await;
    assert_eq!(b[0].column(0).as_primitive::<Int64Type>().value(0), 60);
    assert!(b[0].column(0).null_count() == 0);

    // The plan shows the pushed predicate.
    let explain = query(&ctx, "EXPLAIN SELECT id FROM db.pk WHERE id < 5").await;
    let text = arrow::util::pretty::pretty_format_batches(&explain)
        .unwrap()
        .to_string();
    assert!(
        text.contains("StreamhouseScanExec") && text.contains("id < 5"),
        "{text}"
    );
}

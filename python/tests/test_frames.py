"""Round trips with pandas, polars and DuckDB: their frames in, our scans out (zero copy
through the Arrow C stream interface)."""

import datetime as dt

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa

SCHEMA = "id BIGINT NOT NULL, name STRING, price DOUBLE, day DATE, n INT"


def make(catalog, name="db.f"):
    return catalog.create_table(name, schema=SCHEMA, primary_key=["id"], options={"bucket": "2"})


def test_pandas_round_trip(catalog):
    t = make(catalog)
    df = pd.DataFrame(
        {
            "id": [3, 1, 2],
            "name": ["c", None, "b"],
            "price": [3.5, 1.0, float("nan")],
            "day": [dt.date(2024, 1, 3), dt.date(2024, 1, 1), None],
            "n": pd.array([3, None, 2], dtype="Int32"),
        },
        index=[10, 11, 12],  # the index is not a column
    )
    t.write(df)
    back = t.to_pandas().sort_values("id").reset_index(drop=True)
    expected = df.sort_values("id").reset_index(drop=True)
    assert back["id"].tolist() == expected["id"].tolist()
    assert back["name"].tolist() == [None, "b", "c"]
    assert back["price"].isna().tolist() == [False, True, False]
    assert back["day"].tolist() == [dt.date(2024, 1, 1), None, dt.date(2024, 1, 3)]
    assert back["n"].isna().tolist() == [True, False, False]
    # rowkind as a pandas column
    t.write(pd.DataFrame({"id": [1], "rowkind": ["-D"]}))
    assert sorted(t.to_pandas()["id"]) == [2, 3]


def test_polars_round_trip(catalog):
    t = make(catalog)
    df = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["a", "b", None],
            "price": [1.5, 2.5, 3.5],
            "day": [dt.date(2024, 1, 1), None, dt.date(2024, 3, 1)],
            "n": pl.Series([1, 2, 3], dtype=pl.Int32),
        }
    )
    t.write(df)  # through __arrow_c_stream__ (string views and all)
    back = pl.from_arrow(t.scan()).sort("id")
    assert back.equals(df)
    lazy = pl.from_arrow(t.scan(filter="price > 2")).lazy().select(pl.col("price").sum()).collect()
    assert lazy.item() == 6.0
    keys = pl.DataFrame({"id": [3, 1]})
    assert t.get_many(keys).column("id").to_pylist() == [3, 1]
    t.delete(keys)
    assert pl.from_arrow(t.scan())["id"].to_list() == [2]


def test_duckdb_round_trip(catalog):
    t = make(catalog)
    con = duckdb.connect()
    source = con.sql(
        "SELECT i AS id, 'name' || i AS name, i * 1.5 AS price, DATE '2024-01-01' + i::INT AS day, i::INT AS n "
        "FROM range(1000) t(i)"
    )
    t.write(source)  # a DuckDB relation, through __arrow_c_stream__
    reader = t.scan()
    got = con.sql("SELECT count(*), sum(id), min(day), max(name) FROM reader").fetchall()
    assert got == [(1000, 499500, dt.date(2024, 1, 1), "name999")]
    rel = t.scan(columns=["id", "price"], filter="id < 10")
    assert con.sql("SELECT sum(price) FROM rel").fetchall() == [(sum(i * 1.5 for i in range(10)),)]
    # a DuckDB query over our scan, written into another table
    t2 = make(catalog, "db.f2")
    tail = t.scan(filter="id >= 990")
    t2.write(con.sql("SELECT * FROM tail").to_arrow_table())
    assert sorted(t2.to_arrow().column("id").to_pylist()) == list(range(990, 1000))


def test_scan_batches_are_zero_copy_arrow(catalog):
    t = make(catalog)
    t.write(pa.table({"id": list(range(100)), "name": [str(i) for i in range(100)]}))
    reader = t.scan()
    assert isinstance(reader, pa.RecordBatchReader)
    batches = list(reader)
    assert all(isinstance(b, pa.RecordBatch) for b in batches)
    assert sum(b.num_rows for b in batches) == 100
    # the reader also exports the C stream interface itself
    assert pa.table(t.scan()).num_rows == 100

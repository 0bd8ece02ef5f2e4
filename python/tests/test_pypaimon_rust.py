"""Interop with pypaimon-rust 0.4.0 on the same tables, both ways."""

import decimal

import pyarrow as pa
import pytest

datafusion = pytest.importorskip("pypaimon_rust.datafusion")

import streamhouse  # noqa: E402

SCHEMA = pa.schema(
    [
        pa.field("dt", pa.string(), nullable=False),
        pa.field("id", pa.int64(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("price", pa.decimal128(10, 2)),
    ]
)


def key(r):
    return (r["dt"], r["id"])


def their_rows(warehouse, ident, projection=None):
    table = datafusion.PaimonCatalog({"warehouse": warehouse}).get_table(ident)
    builder = table.new_read_builder()
    if projection:
        builder = builder.with_projection(projection)
    batches = builder.new_read().read(builder.new_scan().plan().splits())
    return sorted(pa.Table.from_batches(batches).to_pylist(), key=key) if batches else []


def their_write(warehouse, ident, rows):
    table = datafusion.PaimonCatalog({"warehouse": warehouse}).get_table(ident)
    builder = table.new_batch_write_builder()
    write, commit = builder.new_write(), builder.new_commit()
    for batch in pa.Table.from_pylist(rows, schema=SCHEMA).to_batches():
        write.write_arrow(batch)
    commit.commit(write.prepare_commit())
    write.close()


def rows(n, dt="2024-01-01", name="n", start=0):
    return [{"dt": dt, "id": i, "name": f"{name}{i}", "price": decimal.Decimal(f"{i}.25")} for i in range(start, n)]


def test_both_ways(warehouse):
    cat = streamhouse.Catalog(warehouse)
    t = cat.create_table("db.t", schema=SCHEMA, primary_key=["dt", "id"], partition_by=["dt"], options={"bucket": "2"})
    t.write(pa.Table.from_pylist(rows(40) + rows(10, dt="2024-01-02"), schema=SCHEMA))
    t.write(pa.Table.from_pylist(rows(20, name="u", start=10), schema=SCHEMA))
    t.delete({"dt": ["2024-01-01"], "id": [0]})
    ours = sorted(t.to_arrow().to_pylist(), key=key)
    assert their_rows(warehouse, "db.t") == ours
    assert their_rows(warehouse, "db.t", ["dt", "id"]) == sorted(t.to_arrow(columns=["dt", "id"]).to_pylist(), key=key)
    t.compact(full=True)
    assert their_rows(warehouse, "db.t") == ours
    # pypaimon-rust writes on our table: we scan, get and tail its commit
    their_write(warehouse, "db.t", rows(45, name="r", start=35) + rows(3, dt="2024-01-03"))
    after = sorted(t.to_arrow().to_pylist(), key=key)
    assert after == their_rows(warehouse, "db.t")
    assert len(after) == 39 + 10 + 5 + 3
    assert t.get({"dt": "2024-01-01", "id": 44})["name"] == "r44"
    assert t.get({"dt": "2024-01-03", "id": 2})["price"] == decimal.Decimal("2.25")
    latest = t.latest_snapshot_id()
    assert len([r for b in t.tail(start=latest) for r in b.to_pylist()]) == 13

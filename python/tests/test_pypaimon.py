"""Interop with pypaimon 2.1.0 on the same tables, both ways: what we write pypaimon reads
(and the rows are equal), what pypaimon writes we scan, get and tail."""

import decimal

import pyarrow as pa
import pytest

pypaimon = pytest.importorskip("pypaimon")

import streamhouse  # noqa: E402

SCHEMA = pa.schema(
    [
        pa.field("dt", pa.string(), nullable=False),
        pa.field("id", pa.int64(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("price", pa.decimal128(10, 2)),
        pa.field("qty", pa.int32()),
    ]
)


def rows(data):
    return sorted(data.to_pylist(), key=lambda r: (r["dt"], r["id"]))


def pypaimon_read(warehouse, ident, projection=None):
    catalog = pypaimon.CatalogFactory.create({"warehouse": warehouse})
    table = catalog.get_table(ident)
    builder = table.new_read_builder()
    if projection:
        builder = builder.with_projection(projection)
    return builder.new_read().to_arrow(builder.new_scan().plan().splits())


def pypaimon_write(warehouse, ident, batches, primary_key=("dt", "id"), options=None):
    catalog = pypaimon.CatalogFactory.create({"warehouse": warehouse})
    catalog.create_database(ident.split(".")[0], True)
    schema = pypaimon.Schema.from_pyarrow_schema(
        SCHEMA, partition_keys=["dt"], primary_keys=list(primary_key), options=options or {"bucket": "2"}
    )
    catalog.create_table(ident, schema, False)
    table = catalog.get_table(ident)
    for data in batches:
        builder = table.new_batch_write_builder()
        writer, committer = builder.new_write(), builder.new_commit()
        try:
            writer.write_arrow(pa.Table.from_pylist(data, schema=SCHEMA))
            committer.commit(writer.prepare_commit())
        finally:
            writer.close()
            committer.close()


def data(ids, dt="2024-01-01", name="n"):
    return [
        {"dt": dt, "id": i, "name": f"{name}{i}", "price": decimal.Decimal(f"{i}.50"), "qty": i}
        for i in ids
    ]


def test_pypaimon_reads_what_we_write(warehouse):
    cat = streamhouse.Catalog(warehouse)
    t = cat.create_table("db.ours", schema=SCHEMA, primary_key=["dt", "id"], partition_by=["dt"], options={"bucket": "2"})
    t.write(pa.Table.from_pylist(data(range(50)) + data(range(20), dt="2024-01-02"), schema=SCHEMA))
    t.write(pa.Table.from_pylist(data(range(10, 30), name="upd"), schema=SCHEMA))
    t.delete({"dt": ["2024-01-01", "2024-01-02"], "id": [0, 5]})
    t.write({"dt": ["2024-01-02"], "id": [7], "name": ["x"], "rowkind": ["+U"]})
    ours = rows(t.to_arrow())
    theirs = rows(pypaimon_read(warehouse, "db.ours"))
    assert len(ours) == 50 - 1 + 20 - 1
    assert theirs == ours
    t.compact(full=True)
    assert rows(pypaimon_read(warehouse, "db.ours")) == ours
    projected = pypaimon_read(warehouse, "db.ours", ["dt", "id", "name"])
    assert rows(projected) == rows(t.to_arrow(columns=["dt", "id", "name"]))


def test_pypaimon_reads_our_append_table(warehouse):
    cat = streamhouse.Catalog(warehouse)
    t = cat.create_table("db.log", schema=SCHEMA)
    t.write(pa.Table.from_pylist(data(range(5)) * 2, schema=SCHEMA))
    assert rows(pypaimon_read(warehouse, "db.log")) == rows(t.to_arrow())


def test_we_read_what_pypaimon_writes(warehouse):
    pypaimon_write(
        warehouse,
        "db.theirs",
        [data(range(40)) + data(range(10), dt="2024-01-02"), data(range(20, 60), name="v2")],
    )
    theirs = rows(pypaimon_read(warehouse, "db.theirs"))
    t = streamhouse.Catalog(warehouse).table("db.theirs")
    assert t.primary_key == ["dt", "id"]
    assert rows(t.to_arrow()) == theirs
    assert len(theirs) == 60 + 10
    assert t.get({"dt": "2024-01-01", "id": 25}) == {
        "dt": "2024-01-01", "id": 25, "name": "v225", "price": decimal.Decimal("25.50"), "qty": 25,
    }
    assert t.get({"dt": "2024-01-03", "id": 1}) is None
    found = t.get_many({"dt": ["2024-01-02", "2024-01-01"], "id": [3, 59]})
    assert [r["name"] for r in found.to_pylist()] == ["n3", "v259"]
    assert t.to_arrow(filter="dt = '2024-01-01' AND id BETWEEN 10 AND 19").num_rows == 10
    changes = [r for b in t.tail(start=2) for r in b.to_pylist()]
    assert len(changes) == 40 and {r["_row_kind"] for r in changes} == {"+I"}
    # and we write on: pypaimon sees our commit on its table
    t.delete({"dt": ["2024-01-01"], "id": [0]})
    t.write(pa.Table.from_pylist(data([100], dt="2024-01-02"), schema=SCHEMA))
    assert rows(pypaimon_read(warehouse, "db.theirs")) == rows(t.to_arrow())
    assert len(rows(t.to_arrow())) == 70

"""Every call of the API on local and in-memory warehouses."""

import datetime as dt
import time
import uuid

import pyarrow as pa
import pytest

import streamhouse
from conftest import ORDERS, rows_of


def test_catalog_create_list_open_drop(catalog):
    t = catalog.create_table("db.a", schema=ORDERS, primary_key=["id"])
    assert t.name == "db.a"
    assert t.primary_key == ["id"]
    assert t.partition_by == []
    assert t.options["bucket"] == "1"
    assert t.schema.field("id").type == pa.int64()
    assert not t.schema.field("id").nullable
    catalog.create_table("db.b", schema="id BIGINT NOT NULL, v STRING")
    catalog.create_table("other.c", schema=ORDERS)
    assert catalog.list_tables("db") == ["db.a", "db.b"]
    assert catalog.list_tables() == ["db.a", "db.b", "other.c"]
    assert catalog.list_databases() == ["db", "other"]
    assert catalog.table("db.a").schema == t.schema
    same = catalog.create_table("db.a", schema=ORDERS, primary_key=["id"], if_not_exists=True)
    assert same.name == "db.a"
    assert catalog.drop_table("db.b") > 0
    assert catalog.list_tables("db") == ["db.a"]
    assert catalog.drop_table("db.b", if_exists=True) == 0
    assert repr(catalog).startswith("streamhouse.Catalog(")


def test_schema_types_round_trip(catalog):
    schema = pa.schema(
        [
            pa.field("id", pa.int32(), nullable=False),
            ("b", pa.bool_()),
            ("i8", pa.int8()),
            ("i16", pa.int16()),
            ("f", pa.float32()),
            ("d", pa.float64()),
            ("dec", pa.decimal128(10, 2)),
            ("s", pa.string()),
            ("bin", pa.binary()),
            ("day", pa.date32()),
            ("ts", pa.timestamp("us")),
            ("tsz", pa.timestamp("ms", tz="UTC")),
            ("tags", pa.list_(pa.string())),
            ("attrs", pa.map_(pa.string(), pa.int64())),
            ("point", pa.struct([("x", pa.float64()), ("y", pa.float64())])),
        ]
    )
    t = catalog.create_table("db.types", schema=schema, primary_key=["id"])
    row = {
        "id": 1,
        "b": True,
        "i8": -8,
        "i16": 300,
        "f": 1.5,
        "d": 2.25,
        "dec": __import__("decimal").Decimal("12.30"),
        "s": "héllo",
        "bin": b"\x00\x01",
        "day": dt.date(2024, 1, 31),
        "ts": dt.datetime(2024, 1, 31, 13, 45, 0, 123456),
        "tsz": dt.datetime(2024, 1, 31, 13, 45, tzinfo=dt.timezone.utc),
        "tags": ["a", "b"],
        "attrs": [("k", 1)],
        "point": {"x": 1.0, "y": -1.0},
    }
    t.write(pa.Table.from_pylist([row], schema=schema))
    got = t.to_arrow()
    assert got.to_pylist() == [row]
    assert got.schema.field("tsz").type == pa.timestamp("ms", tz="UTC")


def test_write_returns_snapshots_and_upserts(orders):
    assert orders.latest_snapshot_id() is None
    assert orders.to_arrow().num_rows == 0
    assert orders.write(pa.table({"id": [1, 2, 3], "item": ["a", "b", "c"], "qty": [1, 2, 3]})) == 1
    # Columns by name, any order; a missing nullable column is NULL; types cast when exact.
    assert orders.write(pa.table({"item": ["B"], "id": pa.array([2], pa.int32())})) == 2
    assert rows_of(orders) == [
        {"id": 1, "item": "a", "qty": 1},
        {"id": 2, "item": "B", "qty": None},
        {"id": 3, "item": "c", "qty": 3},
    ]
    assert orders.latest_snapshot_id() >= 2
    # No rows: no commit.
    before = orders.latest_snapshot_id()
    assert orders.write(pa.table({"id": pa.array([], pa.int64())})) is None
    assert orders.latest_snapshot_id() == before


def test_write_inputs(orders):
    batch = pa.record_batch({"id": [1], "item": ["rb"]})
    orders.write(batch)
    orders.write(pa.RecordBatchReader.from_batches(batch.schema, [pa.record_batch({"id": [2], "item": ["rdr"]})]))
    orders.write({"id": [3], "item": ["dict"]})
    orders.write([{"id": 4, "item": "rows"}])

    class Capsule:  # any object with __arrow_c_stream__
        def __arrow_c_stream__(self, requested_schema=None):
            return pa.table({"id": [5], "item": ["capsule"]}).__arrow_c_stream__(requested_schema)

    orders.write(Capsule())
    assert [r["item"] for r in rows_of(orders)] == ["rb", "rdr", "dict", "rows", "capsule"]


def test_rowkind_column(orders):
    orders.write({"id": [1, 2, 3], "item": ["a", "b", "c"]})
    orders.write({"id": [1, 2, 2, 4], "item": ["a", "b", "B", "d"], "rowkind": ["-D", "-U", "+U", None]})
    assert [(r["id"], r["item"]) for r in rows_of(orders)] == [(2, "B"), (3, "c"), (4, "d")]


def test_delete_by_key(orders):
    orders.write({"id": [1, 2, 3], "item": ["a", "b", "c"]})
    snap = orders.delete({"id": [1, 3, 99]})
    assert snap == orders.latest_snapshot_id() or snap < orders.latest_snapshot_id()
    assert [r["id"] for r in rows_of(orders)] == [2]
    assert orders.delete(pa.table({"id": pa.array([], pa.int64())})) is None


def test_delete_fills_not_null_value_columns(catalog):
    t = catalog.create_table(
        "db.nn", schema="id BIGINT NOT NULL, name STRING NOT NULL, n INT NOT NULL", primary_key=["id"]
    )
    t.write({"id": [1, 2], "name": ["a", "b"], "n": [1, 2]})
    t.delete({"id": [1]})
    assert t.to_arrow().to_pylist() == [{"id": 2, "name": "b", "n": 2}]


def test_scan_options(orders):
    s1 = orders.write({"id": list(range(1, 11)), "item": [f"i{i}" for i in range(1, 11)], "qty": list(range(10))})
    time.sleep(0.01)
    mid = dt.datetime.now()
    time.sleep(0.01)
    orders.write({"id": [1], "item": ["changed"]})
    reader = orders.scan(columns=["item", "id"], filter="id BETWEEN 2 AND 4 OR item = 'changed'")
    assert isinstance(reader, pa.RecordBatchReader)
    assert reader.schema.names == ["item", "id"]
    got = sorted(reader.read_all().to_pylist(), key=lambda r: r["id"])
    assert got == [{"item": "changed", "id": 1}, {"item": "i2", "id": 2}, {"item": "i3", "id": 3}, {"item": "i4", "id": 4}]
    assert rows_of(orders, snapshot_id=s1)[0]["item"] == "i1"
    assert rows_of(orders, as_of=mid)[0]["item"] == "i1"
    assert rows_of(orders, as_of=int(mid.timestamp() * 1000))[0]["item"] == "i1"
    assert orders.to_arrow(limit=3).num_rows == 3
    assert orders.to_arrow(filter="qty IS NULL").num_rows == 1
    df = orders.to_pandas(columns=["id"], filter="id IN (1, 5)")
    assert sorted(df["id"].tolist()) == [1, 5]


def test_tags(orders):
    s1 = orders.write({"id": [1], "item": ["old"]})
    assert orders.create_tag("v1") == s1
    orders.write({"id": [1], "item": ["new"]})
    assert orders.create_tag("first", snapshot_id=s1) == s1
    assert orders.tags() == {"first": s1, "v1": s1}
    assert rows_of(orders, tag="v1")[0]["item"] == "old"
    assert orders.delete_tag("first") == s1
    assert list(orders.tags()) == ["v1"]


def test_get_and_get_many(orders):
    orders.write({"id": [1, 2, 3], "item": ["a", "b", "c"], "qty": [10, 20, 30]})
    assert orders.get({"id": 2}) == {"id": 2, "item": "b", "qty": 20}
    assert orders.get({"id": 7}) is None
    # The cached lookup index follows new commits.
    orders.write({"id": [2], "item": ["B"]})
    assert orders.get({"id": 2})["item"] == "B"
    orders.delete({"id": [2]})
    assert orders.get({"id": 2}) is None
    found = orders.get_many({"id": [3, 9, 1]})
    assert isinstance(found, pa.Table)
    assert found.to_pylist() == [{"id": 3, "item": "c", "qty": 30}, {"id": 1, "item": "a", "qty": 10}]
    assert orders.get_many(pa.table({"id": pa.array([], pa.int64())})).num_rows == 0


def test_get_sees_other_writers_within_max_staleness(orders, warehouse):
    orders.write({"id": [1], "item": ["a"]})
    assert orders.get({"id": 1}, max_staleness=3600)["item"] == "a"
    # Another writer (its own catalog) commits: a warm index looks for it only when its last
    # look is older than max_staleness.
    with streamhouse.Catalog(warehouse) as other:
        other.table("db.orders").write({"id": [1], "item": ["z"]})
    assert orders.get({"id": 1}, max_staleness=3600)["item"] == "a"
    assert orders.get_many({"id": [1]}, max_staleness=3600).to_pylist()[0]["item"] == "a"
    assert orders.get({"id": 1}, max_staleness=0)["item"] == "z"
    with streamhouse.Catalog(warehouse) as other:
        other.table("db.orders").write({"id": [1], "item": ["y"]})
    time.sleep(0.05)
    assert orders.get({"id": 1}, max_staleness=0.01)["item"] == "y"
    with pytest.raises(streamhouse.InvalidInput, match="max_staleness"):
        orders.get({"id": 1}, max_staleness=-1)


def test_get_composite_and_partitioned_keys(catalog):
    t = catalog.create_table(
        "db.events",
        schema="dt STRING NOT NULL, id INT NOT NULL, v DOUBLE",
        primary_key=["dt", "id"],
        partition_by=["dt"],
        options={"bucket": "3"},
    )
    t.write({"dt": ["2024-01-01", "2024-01-02", "2024-01-02"], "id": [1, 1, 2], "v": [1.0, 2.0, 3.0]})
    assert t.get({"id": 1, "dt": "2024-01-02"}) == {"dt": "2024-01-02", "id": 1, "v": 2.0}
    assert t.get_many({"dt": ["2024-01-01", "2024-01-03"], "id": [1, 1]}).num_rows == 1
    t.delete({"dt": ["2024-01-02"], "id": [2]})
    assert t.to_arrow(filter="dt = '2024-01-02'").num_rows == 1


def test_tail(orders):
    orders.write({"id": [1, 2], "item": ["a", "b"]})
    orders.write({"id": [2], "item": ["B"], "rowkind": ["+U"]})
    orders.delete({"id": [1]})
    with orders.tail() as tail:  # latest-full: the latest snapshot as +I rows
        rows = [r for b in tail for r in b.to_pylist()]
    assert rows == [{"_row_kind": "+I", "id": 2, "item": "B", "qty": None}]
    changes = [(r["_row_kind"], r["id"]) for b in orders.tail(start=2) for r in b.to_pylist()]
    assert changes == [("+U", 2), ("-D", 1)]
    latest = orders.tail(start="latest")
    assert list(latest) == []
    # columns and the snapshot of the last batch
    tail = orders.tail(start=1, columns=["id"])
    first = next(tail)
    assert first.schema.names == ["_row_kind", "id"]
    assert tail.snapshot_id == 1
    tail.close()
    assert tail.closed
    assert list(tail) == []


def test_tail_follow_sees_new_commits_and_times_out(orders):
    import threading

    orders.write({"id": [1], "item": ["a"]})
    seen = []
    tail = orders.tail(start="latest", follow=True, timeout=5)

    def consume():
        for batch in tail:
            seen.extend(batch.to_pylist())
            if len(seen) >= 2:
                break

    reader = threading.Thread(target=consume)
    reader.start()
    time.sleep(0.3)
    orders.write({"id": [2], "item": ["b"]})
    orders.write({"id": [3], "item": ["c"]})
    reader.join(20)
    assert not reader.is_alive()
    assert [(r["_row_kind"], r["id"]) for r in seen] == [("+I", 2), ("+I", 3)]
    started = time.monotonic()
    quiet = orders.tail(start="latest", follow=True, timeout=0.3)
    assert list(quiet) == []
    assert time.monotonic() - started < 10


def test_tail_consumer_resumes(orders):
    orders.write({"id": [1], "item": ["a"]})
    assert [r["id"] for b in orders.tail(start=1, consumer="c1") for r in b.to_pylist()] == [1]
    orders.write({"id": [2], "item": ["b"]})
    assert [r["id"] for b in orders.tail(start=1, consumer="c1") for r in b.to_pylist()] == [2]


def test_compact_expire_snapshots(orders):
    for i in range(4):
        orders.write({"id": [i, i + 10], "item": [f"v{i}", "x"]})
    before = rows_of(orders)
    summary = orders.compact(full=True)
    assert summary["snapshot_id"] == orders.latest_snapshot_id()
    assert summary["buckets"] >= 1
    assert summary["files_after"] <= summary["files_before"]
    # Each total sums its own field over the buckets: full compaction of four commits reads
    # more files than it writes, and reads and writes some bytes.
    assert summary["files_before"] >= 4 and summary["files_after"] < summary["files_before"]
    assert summary["bytes_read"] > 0 and summary["bytes_written"] > 0
    assert rows_of(orders) == before
    snaps = orders.snapshots()
    assert snaps.column_names[:4] == ["snapshot_id", "schema_id", "commit_kind", "commit_time"]
    assert snaps.column("commit_kind").to_pylist()[-1] == "COMPACT"
    assert snaps.column("snapshot_id").to_pylist() == list(range(1, snaps.num_rows + 1))
    assert orders.expire(older_than="1h") == []
    expired = orders.expire(retain_max=1)
    assert expired == list(range(1, snaps.num_rows))
    assert orders.snapshots().num_rows == 1
    assert rows_of(orders) == before


def test_append_table(catalog):
    t = catalog.create_table("db.log", schema="ts BIGINT, msg STRING")
    t.write({"ts": [1, 1], "msg": ["x", "x"]})
    t.write({"ts": [2], "msg": ["y"]})
    assert t.to_arrow().num_rows == 3
    assert [r["_row_kind"] for b in t.tail(start=1) for r in b.to_pylist()] == ["+I"] * 3


def test_memory_warehouses_are_shared_by_name():
    name = f"memory://py-{uuid.uuid4().hex[:8]}"
    a = streamhouse.Catalog(name)
    a.create_table("db.t", schema="id BIGINT NOT NULL", primary_key=["id"]).write({"id": [1]})
    assert streamhouse.Catalog(name).table("db.t").get({"id": 1}) == {"id": 1}


def test_sql(orders):
    orders.write({"id": [1, 2, 3], "item": ["a", "b", "a"], "qty": [1, 2, 3]})
    got = orders.catalog.sql("SELECT item, sum(qty) AS n FROM db.orders GROUP BY item ORDER BY item")
    assert got.to_pylist() == [{"item": "a", "n": 4}, {"item": "b", "n": 2}]


def test_docs_and_stub():
    import os

    assert "Streamhouse" in streamhouse.__doc__
    for name in ["write", "delete", "scan", "get", "get_many", "tail", "compact", "expire", "snapshots", "create_tag"]:
        assert getattr(streamhouse.Table, name).__doc__, name
    stub = os.path.join(os.path.dirname(streamhouse.__file__), "__init__.pyi")
    assert os.path.exists(stub)
    assert os.path.exists(os.path.join(os.path.dirname(streamhouse.__file__), "py.typed"))

"""Bad input raises the right exception and commits nothing."""

import pyarrow as pa
import pytest

import streamhouse
from streamhouse import AlreadyExists, InvalidInput, NotFound, StreamhouseError, Unsupported
from conftest import ORDERS


def snapshot_count(t):
    return t.snapshots().num_rows


def test_exception_classes():
    for cls in [streamhouse.NotFound, streamhouse.AlreadyExists, streamhouse.Conflict,
                streamhouse.InvalidInput, streamhouse.Corrupt, streamhouse.Unsupported,
                streamhouse.StorageError]:
        assert issubclass(cls, StreamhouseError)
    assert issubclass(InvalidInput, ValueError)
    assert issubclass(NotFound, LookupError)


def test_catalog_errors(catalog):
    with pytest.raises(NotFound) as e:
        catalog.table("db.missing")
    assert e.value.kind == "not found" and not e.value.retryable
    assert "db.missing" in str(e.value)
    with pytest.raises(NotFound):
        catalog.drop_table("db.missing")
    catalog.create_table("db.t", schema=ORDERS, primary_key=["id"])
    with pytest.raises(AlreadyExists):
        catalog.create_table("db.t", schema=ORDERS, primary_key=["id"])
    with pytest.raises(InvalidInput):
        catalog.table("no_dot")
    with pytest.raises(StreamhouseError):  # a key column that is not a column
        catalog.create_table("db.u", schema=ORDERS, primary_key=["nope"])
    with pytest.raises(InvalidInput):
        catalog.create_table("db.u", schema=42)
    with pytest.raises(Unsupported):
        catalog.create_table("db.u", schema=pa.schema([("x", pa.uint64())]))
    with pytest.raises(Unsupported):
        catalog.create_table("db.u", schema=ORDERS, options={"file.format": "orc"})
    with pytest.raises(InvalidInput):
        streamhouse.Catalog("s3://bucket/x", storage_options={"no_such_option": "1"})
    assert catalog.list_tables("db") == ["db.t"]


def test_closed_catalog(warehouse):
    c = streamhouse.Catalog(warehouse)
    t = c.create_table("db.t", schema=ORDERS, primary_key=["id"])
    c.close()
    assert c.closed
    for call in [lambda: c.table("db.t"), lambda: c.list_tables(), lambda: t.write({"id": [1]}),
                 lambda: t.scan(), lambda: t.get({"id": 1}), lambda: t.tail()]:
        with pytest.raises(InvalidInput, match="closed"):
            call()
    assert streamhouse.Catalog(warehouse).table("db.t").latest_snapshot_id() is None


@pytest.mark.parametrize(
    "data, message",
    [
        ({"id": [1], "nope": ["x"]}, "unknown column"),
        ({"item": ["no key"]}, "missing"),
        ({"id": [1, None], "item": ["a", "b"]}, "NULL"),
        ({"id": ["one"], "item": ["a"]}, "id"),
        ({"id": [1], "qty": [2**40]}, "qty"),
        ({"id": [1], "rowkind": ["+X"]}, "row kind"),
        ({"id": [1], "rowkind": [1]}, "rowkind"),
        ({"id": [1], "id2": [1]}, "unknown column"),
    ],
)
def test_bad_rows_commit_nothing(orders, data, message):
    orders.write({"id": [1], "item": ["kept"]})
    before = snapshot_count(orders)
    with pytest.raises(InvalidInput, match=message):
        orders.write(data)
    assert snapshot_count(orders) == before
    assert orders.to_arrow().to_pylist() == [{"id": 1, "item": "kept", "qty": None}]


def test_bad_batch_late_in_a_stream_commits_nothing(orders):
    good = pa.record_batch({"id": [1, 2], "item": ["a", "b"]})
    bad = pa.record_batch({"id": [3, None], "item": ["c", "d"]})
    reader = pa.RecordBatchReader.from_batches(good.schema, [good, good, bad])
    with pytest.raises(InvalidInput, match="rows 5-6"):
        orders.write(reader)
    assert orders.latest_snapshot_id() is None
    assert orders.to_arrow().num_rows == 0


def test_failing_input_stream_commits_nothing(orders):
    schema = pa.schema([("id", pa.int64())])

    def batches():
        yield pa.record_batch({"id": [1]}, schema=schema)
        raise RuntimeError("the source broke")

    with pytest.raises(Exception, match="the source broke"):
        orders.write(pa.RecordBatchReader.from_batches(schema, batches()))
    assert orders.latest_snapshot_id() is None


def test_wrong_types(orders):
    for bad in [42, "id,item\n1,a", object(), [1, 2]]:
        with pytest.raises(InvalidInput):
            orders.write(bad)
    with pytest.raises(InvalidInput):
        orders.get(5)
    with pytest.raises(InvalidInput):
        orders.scan(columns=[1])
    with pytest.raises(InvalidInput):
        orders.scan(snapshot_id="1")
    with pytest.raises(InvalidInput):
        orders.scan(limit=1.5)
    with pytest.raises(InvalidInput):
        orders.tail(start=object())
    with pytest.raises(InvalidInput):
        orders.expire(older_than="soon")
    assert orders.latest_snapshot_id() is None


def test_bad_reads(orders):
    orders.write({"id": [1], "item": ["a"]})
    with pytest.raises(InvalidInput):
        orders.scan(columns=["nope"])
    with pytest.raises(InvalidInput):
        orders.scan(filter="id >>> 3")
    with pytest.raises(InvalidInput):
        orders.scan(filter="nope = 1")
    with pytest.raises(NotFound):
        orders.scan(snapshot_id=99)
    with pytest.raises(NotFound):
        orders.scan(tag="nope")
    with pytest.raises(InvalidInput):
        orders.scan(snapshot_id=1, tag="x")
    with pytest.raises(InvalidInput):
        orders.tail(start="yesterday")
    with pytest.raises(InvalidInput):
        orders.tail(columns=["nope"])
    with pytest.raises(InvalidInput, match="start at 1"):
        orders.tail(start=0)
    assert list(orders.tail(start=99)) == []  # nothing committed from there on yet


def test_bad_keys(orders, catalog):
    orders.write({"id": [1], "item": ["a"]})
    before = snapshot_count(orders)
    with pytest.raises(InvalidInput, match="not a primary-key column"):
        orders.get({"item": "a"})
    with pytest.raises(InvalidInput, match="missing"):
        orders.get({})
    with pytest.raises(InvalidInput, match="NULL"):
        orders.get({"id": None})
    with pytest.raises(InvalidInput, match="NULL"):
        orders.get_many({"id": [1, None]})
    with pytest.raises(InvalidInput):
        orders.get({"id": "x"})
    with pytest.raises(InvalidInput, match="not a primary-key column"):
        orders.delete({"id": [1], "item": ["a"]})
    with pytest.raises(InvalidInput, match="NULL"):
        orders.delete({"id": [None]})
    assert snapshot_count(orders) == before
    log = catalog.create_table("db.log", schema="msg STRING")
    with pytest.raises(InvalidInput, match="no primary key"):
        log.get({"msg": "x"})
    with pytest.raises(InvalidInput, match="no primary key"):
        log.delete({"msg": ["x"]})


def test_tags_and_maintenance_errors(orders):
    with pytest.raises(StreamhouseError):
        orders.create_tag("v1")  # no snapshot yet
    orders.write({"id": [1], "item": ["a"]})
    orders.create_tag("v1")
    with pytest.raises(AlreadyExists):
        orders.create_tag("v1")
    with pytest.raises(InvalidInput):
        orders.create_tag("123")
    with pytest.raises(NotFound):
        orders.delete_tag("nope")
    with pytest.raises(NotFound):
        orders.create_tag("v2", snapshot_id=42)
    with pytest.raises(InvalidInput):
        orders.expire(retain_max=1, retain_min=2)

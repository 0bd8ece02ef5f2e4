"""The API on the S3 test server (moto) that tests/run.sh starts: write, scan, get, tail,
compact, expire, and pypaimon reading the same table. Skipped when no server is configured
(STREAMHOUSE_S3_ENDPOINT unset)."""

import os

import pyarrow as pa
import pytest

import streamhouse
from conftest import ORDERS, s3_options, s3_url

pytestmark = pytest.mark.skipif(
    not os.environ.get("STREAMHOUSE_S3_ENDPOINT"), reason="no S3 test server (tests/run.sh starts one)"
)


def test_s3_round_trip():
    url = s3_url()
    cat = streamhouse.Catalog(url, storage_options=s3_options())
    t = cat.create_table("db.orders", schema=ORDERS, primary_key=["id"], options={"bucket": "2"})
    assert t.write({"id": list(range(100)), "item": [f"i{i}" for i in range(100)]}) == 1
    t.write({"id": [5], "item": ["five"], "rowkind": ["+U"]})
    t.delete({"id": [6]})
    assert t.to_arrow().num_rows == 99
    assert t.get({"id": 5})["item"] == "five"
    assert t.get({"id": 6}) is None
    assert t.to_arrow(filter="id BETWEEN 10 AND 19").num_rows == 10
    kinds = sorted(r["_row_kind"] for b in t.tail(start=2) for r in b.to_pylist())
    assert kinds == ["+U", "-D"]
    t.compact(full=True)
    assert t.to_arrow().num_rows == 99
    t.expire(retain_max=1)
    assert t.snapshots().num_rows == 1
    assert cat.list_tables() == ["db.orders"]
    # the same table through the environment's credentials (AWS_* as tests/run.sh exports)
    again = streamhouse.Catalog(url, storage_options={"aws_endpoint": os.environ["STREAMHOUSE_S3_ENDPOINT"], "aws_allow_http": "true"})
    assert again.table("db.orders").get({"id": 1}) == {"id": 1, "item": "i1", "qty": None}


def test_pypaimon_reads_our_s3_table():
    pypaimon = pytest.importorskip("pypaimon")
    url = s3_url()
    cat = streamhouse.Catalog(url, storage_options=s3_options())
    t = cat.create_table("db.t", schema=ORDERS, primary_key=["id"], options={"bucket": "2"})
    t.write({"id": [1, 2, 3], "item": ["a", "b", "c"], "qty": [1, 2, 3]})
    t.delete({"id": [2]})
    from pypaimon.table.file_store_table import FileStoreTable

    endpoint = os.environ["STREAMHOUSE_S3_ENDPOINT"]
    options = {
        "s3.path-style-access": "true",
        "fs.s3.endpoint": endpoint,
        "fs.s3.accessKeyId": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        "fs.s3.accessKeySecret": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        "fs.s3.region": os.environ.get("AWS_REGION", "us-east-1"),
    }
    table = FileStoreTable.from_path(f"{url}/db.db/t", options)
    builder = table.new_read_builder()
    theirs = builder.new_read().to_arrow(builder.new_scan().plan().splits())
    key = lambda r: r["id"]  # noqa: E731
    assert sorted(theirs.to_pylist(), key=key) == sorted(t.to_arrow().to_pylist(), key=key)


def test_s3_errors():
    cat = streamhouse.Catalog(s3_url(), storage_options=s3_options())
    with pytest.raises(streamhouse.NotFound):
        cat.table("db.none")
    bad = streamhouse.Catalog(
        "s3://no-such-bucket-here/x",
        storage_options={**s3_options()},
    )
    with pytest.raises(streamhouse.StreamhouseError):
        bad.create_table("db.t", schema=ORDERS)

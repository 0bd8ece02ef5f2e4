"""Fixtures of the Python package's tests: warehouses on the local disk, in memory and on the
S3 test server that tests/run.sh starts (STREAMHOUSE_S3_ENDPOINT, bucket STREAMHOUSE_S3_BUCKET)."""

import os
import uuid

import pyarrow as pa
import pytest

import streamhouse

ORDERS = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("item", pa.string()),
        pa.field("qty", pa.int32()),
    ]
)


@pytest.fixture
def warehouse(tmp_path):
    return str(tmp_path / "warehouse")


@pytest.fixture
def catalog(warehouse):
    with streamhouse.Catalog(warehouse) as c:
        yield c


@pytest.fixture
def orders(catalog):
    """A primary-key table db.orders (id → item, qty) with two buckets."""
    return catalog.create_table("db.orders", schema=ORDERS, primary_key=["id"], options={"bucket": "2"})


def rows_of(table, **scan):
    """The scanned rows as dicts, sorted by id."""
    return sorted(table.to_arrow(**scan).to_pylist(), key=lambda r: r["id"])


def s3_url():
    endpoint = os.environ.get("STREAMHOUSE_S3_ENDPOINT")
    if not endpoint:
        return None
    bucket = os.environ.get("STREAMHOUSE_S3_BUCKET", "lake")
    return f"s3://{bucket}/python-{uuid.uuid4().hex[:8]}"


def s3_options():
    return {
        "aws_endpoint": os.environ["STREAMHOUSE_S3_ENDPOINT"],
        "aws_allow_http": "true",
        "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        "aws_region": os.environ.get("AWS_REGION", "us-east-1"),
    }

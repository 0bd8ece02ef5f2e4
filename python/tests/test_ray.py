"""streamhouse.ray on a local Ray cluster (ray.init(num_cpus=2)): one read task per split,
merged rows equal to our scan and pypaimon's read; a distributed write is ONE commit, and a
failed task commits nothing."""

import pyarrow as pa
import pytest

ray = pytest.importorskip("ray")

import streamhouse  # noqa: E402
import streamhouse.ray as sr  # noqa: E402

SCHEMA = "dt STRING NOT NULL, id BIGINT NOT NULL, v DOUBLE"


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def key(r):
    return (r["dt"], r["id"])


@pytest.fixture
def source(warehouse):
    cat = streamhouse.Catalog(warehouse)
    t = cat.create_table("db.src", schema=SCHEMA, primary_key=["dt", "id"], partition_by=["dt"], options={"bucket": "3"})
    t.write({"dt": ["a"] * 50 + ["b"] * 50, "id": list(range(100)), "v": [float(i) for i in range(100)]})
    t.write({"dt": ["a"] * 10, "id": list(range(10)), "v": [-1.0] * 10})  # updates, merged in the tasks
    t.delete({"dt": ["b"], "id": [99]})
    return cat, t


def test_read_one_task_per_split(cluster, warehouse, source):
    cat, t = source
    splits = t._native.plan_splits(None, None, None)[1]
    assert len(splits) == 6  # 2 partitions x 3 buckets
    datasource = sr.StreamhouseDatasource(warehouse, "db.src")
    assert len(datasource.get_read_tasks(2)) == len(splits)
    ds = sr.read_streamhouse(warehouse, "db.src")
    rows = sorted(ds.take_all(), key=key)
    assert rows == sorted(t.to_arrow().to_pylist(), key=key)
    assert len(rows) == 99 and rows[0]["v"] == -1.0
    # and pypaimon reads the same rows
    pypaimon = pytest.importorskip("pypaimon")
    table = pypaimon.CatalogFactory.create({"warehouse": warehouse}).get_table("db.src")
    builder = table.new_read_builder()
    theirs = builder.new_read().to_arrow(builder.new_scan().plan().splits())
    assert sorted(theirs.to_pylist(), key=key) == rows
    # columns and filter
    few = sorted(sr.read_streamhouse(warehouse, "db.src", columns=["id", "dt"], filter="id < 5").take_all(), key=key)
    assert few == sorted(t.to_arrow(columns=["id", "dt"], filter="id < 5").to_pylist(), key=key)


def test_write_is_one_commit(cluster, warehouse, source):
    cat, t = source
    dst = cat.create_table("db.dst", schema=SCHEMA, primary_key=["dt", "id"], partition_by=["dt"], options={"bucket": "2"})
    ds = sr.read_streamhouse(warehouse, "db.src").repartition(4)
    snapshot = sr.write_streamhouse(ds, warehouse, "db.dst")
    assert snapshot == 1
    assert dst.snapshots().num_rows == 1
    assert sorted(dst.to_arrow().to_pylist(), key=key) == sorted(t.to_arrow().to_pylist(), key=key)


def test_failed_task_commits_nothing(cluster, warehouse, source):
    cat, _ = source
    dst = cat.create_table("db.bad", schema=SCHEMA, primary_key=["dt", "id"], partition_by=["dt"])
    good = [{"dt": "a", "id": i, "v": 1.0} for i in range(20)]
    bad = [{"dt": "a", "id": None, "v": 1.0}]  # a NULL key: that block's task fails
    ds = ray.data.from_arrow([pa.Table.from_pylist(good[:10]), pa.Table.from_pylist(bad), pa.Table.from_pylist(good[10:])])
    with pytest.raises(Exception):
        sr.write_streamhouse(ds, warehouse, "db.bad")
    assert dst.latest_snapshot_id() is None
    assert dst.to_arrow().num_rows == 0

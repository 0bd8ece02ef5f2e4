"""Ray Data over streamhouse tables, past one machine.

    >>> import ray, streamhouse.ray
    >>> ds = streamhouse.ray.read_streamhouse("s3://bucket/lake", "db.t", filter="id < 1000")
    >>> streamhouse.ray.write_streamhouse(ds, "s3://bucket/lake", "db.copy")

:func:`read_streamhouse` plans the scan once on the driver (pinning the snapshot) and makes one
read task per split — a partition and bucket's files, merged by key inside its task — so the
merge-on-read result equals :meth:`streamhouse.Table.scan`. :func:`write_streamhouse` writes each
block into data files on the workers without committing (:meth:`Table.stage`); the driver then
commits every task's files as ONE snapshot. A failed task fails the write and nothing is
committed (its uncommitted files are orphans that ``clean_orphans`` removes).

Rows of one primary key that arrive in several blocks are written by different tasks; which of
them wins is not defined, as in any unordered write. Give each key once per write.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

import pyarrow as pa

from . import Catalog, _arrow_stream, _names

__all__ = ["read_streamhouse", "write_streamhouse", "StreamhouseDatasource", "StreamhouseDatasink"]


def _ray_data():
    try:
        import ray.data  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("streamhouse.ray needs Ray Data: pip install 'ray[data]'") from e
    return ray.data


def _open(url: str, ident: str, storage_options: Optional[Mapping[str, str]]):
    return Catalog(url, storage_options).table(ident)


def _datasource_class():
    data = _ray_data()
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    class StreamhouseDatasource(Datasource):
        """One read task per split of a planned scan (snapshot pinned on the driver)."""

        def __init__(self, url, ident, columns=None, filter=None, snapshot_id=None, storage_options=None):
            self._url, self._ident, self._options = url, ident, storage_options
            self._columns = _names(columns, "columns")
            self._filter = filter
            table = _open(url, ident, storage_options)
            self._schema = table.schema
            if self._columns is not None:
                self._schema = pa.schema([self._schema.field(c) for c in self._columns])
            self._snapshot, self._split_rows = table._native.plan_splits(self._columns, filter, snapshot_id)

        def estimate_inmemory_data_size(self) -> Optional[int]:
            return None

        def get_read_tasks(self, parallelism: int, per_task_row_limit=None, data_context=None) -> List[Any]:
            if self._snapshot is None or not self._split_rows:
                return []
            url, ident, options = self._url, self._ident, self._options
            snapshot, columns, filter = self._snapshot, self._columns, self._filter

            def make(position: int):
                def read() -> Iterable[pa.Table]:
                    native = _open(url, ident, options)._native
                    batches = native.scan_splits(snapshot, [position], columns, filter)
                    yield pa.Table.from_batches(list(batches), schema=batches.schema)

                return read

            tasks = []
            for position, rows in enumerate(self._split_rows):
                meta = BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None, input_files=None)
                tasks.append(ReadTask(make(position), meta, schema=self._schema))
            return tasks

    return StreamhouseDatasource


def _datasink_class():
    _ray_data()
    from ray.data.block import BlockAccessor
    from ray.data.datasource import Datasink

    class StreamhouseDatasink(Datasink):
        """Workers stage data files; the driver commits them all as one snapshot."""

        def __init__(self, url, ident, storage_options=None):
            self._url, self._ident, self._options = url, ident, storage_options
            _open(url, ident, storage_options)  # fail early: the table must exist
            self.snapshot_id: Optional[int] = None

        def write(self, blocks, ctx) -> Any:
            table = _open(self._url, self._ident, self._options)
            tables = [BlockAccessor.for_block(b).to_arrow() for b in blocks]
            tables = [t for t in tables if t.num_rows > 0]
            if not tables:
                return None
            data = pa.concat_tables(tables, promote_options="default")
            return table._native.stage(_arrow_stream(data, "block"))

        def on_write_complete(self, write_result) -> None:
            returns = getattr(write_result, "write_returns", write_result)
            staged = [r for r in returns if r is not None]
            table = _open(self._url, self._ident, self._options)
            self.snapshot_id = table._native.commit_staged([(bytes(d), bytes(c)) for d, c in staged])

    return StreamhouseDatasink


def __getattr__(name: str) -> Any:
    # The Ray classes are made on first use, so importing streamhouse.ray needs no Ray.
    if name == "StreamhouseDatasource":
        return _datasource_class()
    if name == "StreamhouseDatasink":
        return _datasink_class()
    raise AttributeError(name)


def read_streamhouse(
    url: str,
    ident: str,
    columns: Optional[Sequence[str]] = None,
    filter: Optional[str] = None,
    snapshot_id: Optional[int] = None,
    storage_options: Optional[Mapping[str, str]] = None,
    **read_args: Any,
) -> Any:  # ray.data.Dataset
    """A ``ray.data.Dataset`` of table ``ident`` in warehouse ``url``: one read task per split
    (partition and bucket), each merged by key inside its task. ``columns`` and ``filter`` are
    those of :meth:`streamhouse.Table.scan`; the snapshot is the latest when called (or
    ``snapshot_id``). Extra keyword arguments go to ``ray.data.read_datasource``."""
    data = _ray_data()
    source = _datasource_class()(url, ident, columns, filter, snapshot_id, storage_options)
    return data.read_datasource(source, **read_args)


def write_streamhouse(
    ds: Any, url: str, ident: str, storage_options: Optional[Mapping[str, str]] = None
) -> Optional[int]:
    """Writes dataset ``ds`` into table ``ident`` of warehouse ``url`` as ONE commit: the
    workers write data files, the driver commits them together. Returns the snapshot id (None
    when there were no rows). A failed task fails the write and nothing is committed."""
    sink = _datasink_class()(url, ident, storage_options)
    ds.write_datasink(sink)
    return sink.snapshot_id

"""Streamhouse: streaming lakehouse tables in Apache Paimon's format, from Python.

One table is at the same time a change log you can tail, sorted Parquet files you can scan, a
primary-key index you can look rows up in, and an LSM tree that compaction keeps small. The
work is done by the Rust library; data crosses into Python as Arrow without copies, so what a
scan returns goes straight into pyarrow, pandas, polars or DuckDB.

    >>> import pyarrow as pa, streamhouse
    >>> cat = streamhouse.Catalog("memory://demo")            # or a path, file://, s3://bucket/prefix
    >>> t = cat.create_table("shop.orders",
    ...     schema=pa.schema([pa.field("id", pa.int64(), nullable=False), ("item", pa.string())]),
    ...     primary_key=["id"])
    >>> t.write(pa.table({"id": [1, 2], "item": ["tea", "mug"]}))   # one commit: snapshot 1
    1
    >>> t.get({"id": 2})
    {'id': 2, 'item': 'mug'}
    >>> t.to_arrow(filter="id >= 2").num_rows
    1

Errors are :class:`StreamhouseError` subclasses: :class:`NotFound`, :class:`AlreadyExists`,
:class:`Conflict`, :class:`InvalidInput`, :class:`Corrupt`, :class:`Unsupported` (and
:class:`StorageError`). Every call that reads or writes storage releases the GIL; Ctrl-C
interrupts a long scan, tail or write with ``KeyboardInterrupt``, and an interrupted or failed
write commits nothing.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, TypeVar, Union

import pyarrow as pa

from . import _errors, _streamhouse
from ._errors import (
    AlreadyExists,
    Conflict,
    Corrupt,
    InvalidInput,
    NotFound,
    StorageError,
    StreamhouseError,
    Unsupported,
)

__version__ = _streamhouse.__version__

__all__ = ["Catalog", "Table", "Tail", *_errors.__all__]


# ---- inputs -------------------------------------------------------------------------------------


def _arrow_stream(data: Any, what: str) -> Any:
    """Any table-like object as something with ``__arrow_c_stream__`` (or a pyarrow reader).

    Takes pyarrow Tables, RecordBatches and RecordBatchReaders, pandas and polars DataFrames,
    anything implementing the Arrow PyCapsule stream or array interface, a dict of columns and
    a list of row dicts.
    """
    if isinstance(data, (pa.Table, pa.RecordBatchReader)):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    module = type(data).__module__ or ""
    if module.startswith("pandas"):
        if not hasattr(data, "columns"):
            raise InvalidInput(f"{what}: a pandas {type(data).__name__} is not a table; pass a DataFrame")
        try:
            return pa.Table.from_pandas(data, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError) as e:
            raise InvalidInput(f"{what}: cannot convert the pandas DataFrame to Arrow: {e}") from e
    if hasattr(data, "__arrow_c_stream__"):
        return data
    if hasattr(data, "__arrow_c_array__"):
        return pa.Table.from_batches([pa.record_batch(data)])
    if isinstance(data, Mapping):
        try:
            return pa.table(dict(data))
        except (pa.ArrowException, TypeError, ValueError) as e:
            raise InvalidInput(f"{what}: cannot make Arrow columns of the dict: {e}") from e
    if isinstance(data, list) and all(isinstance(r, Mapping) for r in data):
        try:
            return pa.Table.from_pylist(data)
        except (pa.ArrowException, TypeError, ValueError) as e:
            raise InvalidInput(f"{what}: cannot make Arrow rows of the list: {e}") from e
    raise InvalidInput(
        f"{what} must be a pyarrow Table, RecordBatch or RecordBatchReader, a pandas or polars "
        f"DataFrame, an object with __arrow_c_stream__, a dict of columns or a list of row dicts, "
        f"not {type(data).__module__}.{type(data).__qualname__}"
    )


def _seconds(value: Any, what: str) -> Optional[float]:
    """A duration as seconds: a number, a datetime.timedelta or text such as '1h', '30s', '7d'."""
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be seconds, a timedelta or text such as '1h', not a bool")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        units = {"ms": 0.001, "s": 1, "min": 60, "m": 60, "h": 3600, "d": 86400}
        text = value.strip().lower()
        for unit in sorted(units, key=len, reverse=True):
            if text.endswith(unit) and text[: -len(unit)].strip().replace(".", "", 1).isdigit():
                return float(text[: -len(unit)]) * units[unit]
    raise InvalidInput(f"{what} must be seconds, a timedelta or text such as '1h', not {value!r}")


def _millis(value: Any, what: str) -> Optional[int]:
    """An instant as epoch milliseconds: a datetime (naive: local time), a date or a number
    (epoch milliseconds)."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, _dt.date):
        return int(_dt.datetime(value.year, value.month, value.day).timestamp() * 1000)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    raise InvalidInput(f"{what} must be a datetime or epoch milliseconds, not {value!r}")


def _names(value: Any, what: str) -> Optional[List[str]]:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise InvalidInput(f"{what} must be a list of column names, not {value!r}") from None
    if not all(isinstance(n, str) for n in names):
        raise InvalidInput(f"{what} must be a list of column names, not {value!r}")
    return names


def _check_int(value: Any, what: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} must be an int, not {value!r}")
    return value


# ---- catalog ------------------------------------------------------------------------------------

_C = TypeVar("_C", bound="_Closable")


class _Closable:
    """A wrapper of a native object that closes: ``closed``, and ``with`` blocks that close it."""

    _native: Any

    @property
    def closed(self) -> bool:
        return self._native.closed

    def close(self) -> None:
        self._native.close()

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Catalog(_Closable):
    """A warehouse: the tables under one storage location, as ``<db>.db/<table>/``.

    ``url`` is a local path, ``file:///abs/path``, ``memory://name`` (shared by everything in
    this process that opens the same name) or ``s3://bucket/prefix`` (configured from the AWS
    environment variables, then ``storage_options`` such as ``aws_endpoint``, ``aws_region``,
    ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_allow_http``).

    Use it as a context manager, or call :meth:`close`; a closed catalog (and every table
    opened from it) raises :class:`InvalidInput`.
    """

    def __init__(self, url: str, storage_options: Optional[Mapping[str, str]] = None):
        if not isinstance(url, str):
            raise InvalidInput(f"url must be a string, not {url!r}")
        options = None
        if storage_options is not None:
            options = {str(k): str(v) for k, v in dict(storage_options).items()}
        self._native = _streamhouse.Catalog(url, options)

    @property
    def url(self) -> str:
        """The URL the catalog was opened with."""
        return self._native.url

    def close(self) -> None:
        """Closes the catalog and every table opened from it."""
        self._native.close()

    def __repr__(self) -> str:
        return f"streamhouse.Catalog({self.url!r})"

    def create_table(
        self,
        ident: str,
        schema: Union[pa.Schema, str],
        primary_key: Optional[Sequence[str]] = None,
        partition_by: Optional[Sequence[str]] = None,
        options: Optional[Mapping[str, Any]] = None,
        if_not_exists: bool = False,
    ) -> "Table":
        """Creates table ``ident`` (``db.table``) and returns it.

        ``schema`` is a ``pyarrow.Schema`` (field nullability becomes NOT NULL; timestamps with a
        time zone become TIMESTAMP WITH LOCAL TIME ZONE) or a column list such as
        ``"id BIGINT NOT NULL, price DECIMAL(10, 2)"``. ``primary_key`` makes a primary-key
        table (else an append table); ``partition_by`` names partition columns (part of the
        key of a primary-key table); ``options`` are Paimon table options such as
        ``{"bucket": "4", "merge-engine": "partial-update", "changelog-producer": "input"}``.
        With ``if_not_exists`` an existing table is opened instead of raising
        :class:`AlreadyExists`.
        """
        if not isinstance(ident, str):
            raise InvalidInput(f"ident must be 'db.table', not {ident!r}")
        opts = None
        if options is not None:
            opts = {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in dict(options).items()}
        native = self._native.create_table(
            ident,
            schema,
            _names(primary_key, "primary_key"),
            _names(partition_by, "partition_by"),
            opts,
            bool(if_not_exists),
        )
        return Table(native, self)

    def table(self, ident: str) -> "Table":
        """Opens table ``ident`` (``db.table``); :class:`NotFound` if there is none."""
        if not isinstance(ident, str):
            raise InvalidInput(f"ident must be 'db.table', not {ident!r}")
        return Table(self._native.table(ident), self)

    def list_tables(self, db: Optional[str] = None) -> List[str]:
        """The tables (as ``db.table``) of database ``db``, or of every database."""
        return self._native.list_tables(db)

    def list_databases(self) -> List[str]:
        """The databases holding at least one table."""
        return self._native.list_databases()

    def drop_table(self, ident: str, if_exists: bool = False) -> int:
        """Deletes every file of table ``ident``; returns how many there were.

        A missing table raises :class:`NotFound` unless ``if_exists``.
        """
        return self._native.drop_table(ident, bool(if_exists))

    def sql(self, query: str) -> pa.Table:
        """Runs a SQL query (DataFusion) over every table of the warehouse, named ``db.table``;
        filters, projections and limits are pushed into the scans."""
        if not isinstance(query, str):
            raise InvalidInput(f"query must be a string, not {query!r}")
        schema, *batches = self._native._sql(query)
        return pa.Table.from_batches(batches, schema=schema)


# ---- table --------------------------------------------------------------------------------------


class Table:
    """One table of a :class:`Catalog`: write, delete, scan, get, tail, compact, expire, tags.

    Obtained from :meth:`Catalog.create_table` or :meth:`Catalog.table`. Its schema is the
    latest when it was opened.
    """

    def __init__(self, native: Any, catalog: Catalog):
        self._native = native
        self._catalog = catalog

    def __repr__(self) -> str:
        return f"streamhouse.Table({self.name!r})"

    @property
    def name(self) -> str:
        """``db.table``."""
        return self._native.name

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    @property
    def schema(self) -> pa.Schema:
        """The table's columns as a ``pyarrow.Schema`` (the types scans return)."""
        return self._native.schema

    @property
    def primary_key(self) -> List[str]:
        return self._native.primary_key

    @property
    def partition_by(self) -> List[str]:
        return self._native.partition_by

    @property
    def options(self) -> Dict[str, str]:
        """The table options (Paimon's names)."""
        return self._native.options

    def latest_snapshot_id(self) -> Optional[int]:
        """The latest snapshot, or None for a table without commits."""
        return self._native.latest_snapshot_id()

    # ---- writes ----

    def write(self, data: Any) -> Optional[int]:
        """Writes rows as ONE commit; returns its snapshot id (None when there were no rows).

        ``data``: a pyarrow Table, RecordBatch or RecordBatchReader, a pandas or polars
        DataFrame, any object with ``__arrow_c_stream__``, a dict of columns or a list of row
        dicts. Columns are matched by name and cast to the table's types where no value changes
        (missing nullable columns are NULL). An optional ``rowkind`` string column gives each
        row's change kind: ``+I`` insert (also NULL), ``-U`` / ``+U`` update before / after,
        ``-D`` delete. Input streams through batch by batch; a bad value, a failure or Ctrl-C
        commits nothing.
        """
        return self._native.write(_arrow_stream(data, "data"))

    def delete(self, keys: Any) -> Optional[int]:
        """Deletes the rows of the given primary keys as ONE commit of ``-D`` changes; returns
        its snapshot id (None for no keys).

        ``keys`` holds exactly the primary-key columns, as any input :meth:`write` takes
        (e.g. ``{"id": [1, 2]}``).
        """
        return self._native.delete(_arrow_stream(keys, "keys"))

    # ---- reads ----

    def scan(
        self,
        columns: Optional[Sequence[str]] = None,
        filter: Optional[str] = None,
        snapshot_id: Optional[int] = None,
        as_of: Any = None,
        tag: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> pa.RecordBatchReader:
        """Reads the table (merged by key) as a ``pyarrow.RecordBatchReader``.

        ``columns``: only these, in this order. ``filter``: a predicate such as
        ``"id BETWEEN 1 AND 9 AND c = 'x'"`` (comparisons, BETWEEN, IN, IS [NOT] NULL,
        AND/OR/NOT), pushed down to partitions, buckets, files, row groups and pages.
        Time travel: ``snapshot_id``, ``as_of`` (a datetime or epoch milliseconds: the latest
        snapshot committed at or before it) or ``tag``. ``limit``: at most this many rows.

        Batches are decoded as the reader is consumed, with the GIL released; DuckDB
        (``duckdb.sql("select … from reader")``), polars (``pl.from_arrow(reader)``) and
        pyarrow read it directly.
        """
        batches = self._native.scan(
            _names(columns, "columns"),
            None if filter is None else _text(filter, "filter"),
            _check_int(snapshot_id, "snapshot_id"),
            _millis(as_of, "as_of"),
            None if tag is None else _text(tag, "tag"),
            _check_int(limit, "limit"),
        )
        return pa.RecordBatchReader.from_batches(batches.schema, batches)

    def to_arrow(self, *args: Any, **kwargs: Any) -> pa.Table:
        """:meth:`scan` (same arguments) read into a ``pyarrow.Table``."""
        return self.scan(*args, **kwargs).read_all()

    def to_pandas(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`scan` (same arguments) read into a pandas DataFrame."""
        return self.to_arrow(*args, **kwargs).to_pandas()

    def get(self, key: Mapping[str, Any], *, max_staleness: float = 0.1) -> Optional[Dict[str, Any]]:
        """The latest row of one primary key as a dict, or None.

        ``key`` maps every primary-key column to its value: ``t.get({"id": 5})``.

        The table keeps its key index warm between calls. A get sees every commit made
        through this ``Table`` at once; commits of other writers within ``max_staleness``
        seconds (looking for a newer snapshot costs a few storage requests, so it is done at
        most that often; ``0`` looks on every call).
        """
        if not isinstance(key, Mapping):
            raise InvalidInput(f"key must be a dict of the primary-key columns, not {key!r}")
        try:
            keys = pa.RecordBatch.from_pydict({k: [v] for k, v in key.items()})
        except (pa.ArrowException, TypeError, ValueError) as e:
            raise InvalidInput(f"key {key!r}: {e}") from e
        rows, positions = self._native.get_many(keys, max_staleness)
        if positions[0] is None:
            return None
        return rows.slice(positions[0], 1).to_pylist()[0]

    def get_many(self, keys: Any, *, max_staleness: float = 0.1) -> pa.Table:
        """The latest rows of many primary keys, as a ``pyarrow.Table`` of the rows found (in
        the order of the keys that found them).

        ``keys`` holds exactly the primary-key columns, as any input :meth:`write` takes.
        ``max_staleness`` as in :meth:`get`.
        """
        rows, _ = self._native.get_many(_arrow_stream(keys, "keys"), max_staleness)
        return pa.Table.from_batches([rows])

    def tail(
        self,
        start: Any = "latest-full",
        consumer: Optional[str] = None,
        follow: bool = False,
        timeout: Any = None,
        columns: Optional[Sequence[str]] = None,
    ) -> "Tail":
        """The table's changes, snapshot by snapshot, as ``pyarrow.RecordBatch``es whose first
        column ``_row_kind`` holds each row's kind (``+I``, ``-U``, ``+U``, ``-D``).

        ``start``: ``"latest-full"`` (the latest snapshot as ``+I`` rows, then later changes),
        ``"latest"`` (only changes committed from now on), a snapshot id (its changes and every
        later one), or a datetime (changes committed at or after it). ``consumer``: keep the
        position in the table under this id and resume from it (expiration keeps what it still
        needs). ``follow``: keep waiting for new commits; ``timeout`` (seconds or a timedelta)
        ends the iteration when no change arrives for that long. :meth:`Tail.close` (or a
        ``with`` block) stops it.
        """
        if isinstance(start, bool):
            raise InvalidInput(f"start must be 'latest-full', 'latest', a snapshot id or a datetime, not {start!r}")
        if isinstance(start, int):
            start = f"snapshot:{start}"
        elif isinstance(start, (_dt.datetime, _dt.date)):
            start = f"timestamp:{_millis(start, 'start')}"
        elif not isinstance(start, str):
            raise InvalidInput(f"start must be 'latest-full', 'latest', a snapshot id or a datetime, not {start!r}")
        if consumer is not None and not isinstance(consumer, str):
            raise InvalidInput(f"consumer must be a string id, not {consumer!r}")
        native = self._native.tail(
            start, consumer, bool(follow), _seconds(timeout, "timeout"), _names(columns, "columns")
        )
        return Tail(native)

    # ---- maintenance ----

    def compact(self, full: bool = False) -> Dict[str, Any]:
        """Compacts the table once: the buckets Paimon's universal-compaction rules pick (or
        every bucket into one run with ``full``), committed as ONE COMPACT snapshot. Reads
        return the same rows. Returns a summary: ``snapshot_id`` (None if nothing needed
        compacting), ``buckets``, ``files_before``, ``files_after``, bytes read and written."""
        return self._native.compact(bool(full))

    def expire(
        self,
        retain_max: Optional[int] = None,
        older_than: Any = None,
        retain_min: Optional[int] = None,
    ) -> List[int]:
        """Deletes old snapshots and the files only they use; returns the ids expired.

        Defaults come from the table options (``snapshot.num-retained.min|max``,
        ``snapshot.time-retained``); ``retain_max`` keeps at most that many snapshots,
        ``older_than`` (seconds, a timedelta or text such as ``"1h"``) expires only older ones.
        Consumers and tags are respected.
        """
        return self._native.expire(
            _check_int(retain_max, "retain_max"),
            _seconds(older_than, "older_than"),
            _check_int(retain_min, "retain_min"),
        )

    def snapshots(self) -> pa.Table:
        """Every snapshot still present, oldest first: id, schema id, commit kind and time,
        record counts, commit user and identifier, watermark."""
        return pa.Table.from_batches([self._native.snapshots()])

    def create_tag(self, name: str, snapshot_id: Optional[int] = None, retain: Any = None) -> int:
        """Tags a snapshot (the latest when None) as ``name`` in Paimon's ``tag/`` format, so
        ``scan(tag=name)`` reads it and expiration keeps it; returns the snapshot id tagged."""
        return self._native.create_tag(
            _text(name, "name"), _check_int(snapshot_id, "snapshot_id"), _seconds(retain, "retain")
        )

    def tags(self) -> Dict[str, int]:
        """Tag names and the snapshot each pins."""
        return dict(self._native.tags())

    def delete_tag(self, name: str) -> int:
        """Deletes a tag; returns the snapshot it pinned."""
        return self._native.delete_tag(_text(name, "name"))


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string, not {value!r}")
    return value


class Tail(_Closable):
    """An iterator over a table's changes (see :meth:`Table.tail`)."""

    def __init__(self, native: Any):
        self._native = native

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self

    def __next__(self) -> pa.RecordBatch:
        batch = self._native.__next__()
        if batch is None:
            raise StopIteration
        return batch

    @property
    def snapshot_id(self) -> Optional[int]:
        """The snapshot the last batch came from."""
        return self._native.snapshot_id

    def close(self) -> None:
        """Stops the tail; the iteration ends."""
        self._native.close()

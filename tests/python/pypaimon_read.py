"""Read a Paimon table with pypaimon and print its rows in the canonical form.

Usage:
    pypaimon_read.py TABLE_PATH [--snapshot N] [--projection a,b,...]

TABLE_PATH is the table directory (`<warehouse>/<db>.db/<table>`), a local path or an
`s3://bucket/...` URL. For S3 the connection comes from the environment Streamhouse's test runner
sets: STREAMHOUSE_S3_ENDPOINT (or AWS_ENDPOINT_URL), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_REGION; path-style addressing is used.

The read is pypaimon's merged batch read of the latest snapshot (or of snapshot N): for a
primary-key table one row per live key after the merge engine, retractions dropped. Rows are
printed one per line as canonical JSON (see canonical.py), keys sorted, rows sorted. An empty table
(or one without any snapshot) prints nothing. Exit status 0 on success, 1 with a message on stderr
otherwise.

Known pypaimon 2.1.0 limitation (observed with the all_types scenario): its merging read of a
bucket whose files overlap returns TIMESTAMP(7..9) / TIMESTAMP_LTZ(7..9) values truncated to
microseconds, although the files hold the nanoseconds; its raw read of non-overlapping files keeps
them.
"""

import argparse
import os
import sys

import canonical


def s3_options(path):
    """pypaimon file-IO options for an s3:// path, from the test runner's environment."""
    if not path.startswith(("s3://", "s3a://")):
        return {}
    endpoint = os.environ.get("STREAMHOUSE_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL")
    options = {"s3.path-style-access": "true"}
    for key, var in (("fs.s3.endpoint", None), ("fs.s3.accessKeyId", "AWS_ACCESS_KEY_ID"),
                     ("fs.s3.accessKeySecret", "AWS_SECRET_ACCESS_KEY"),
                     ("fs.s3.region", "AWS_REGION")):
        value = endpoint if var is None else os.environ.get(var)
        if value:
            options[key] = value
    return options


def open_table(path):
    from pypaimon.table.file_store_table import FileStoreTable

    return FileStoreTable.from_path(path, s3_options(path))


def read_table(table, snapshot=None, projection=None):
    """pyarrow Table of the merged batch read, or None when there is no snapshot to read."""
    if snapshot is not None:
        table = table.copy({"scan.snapshot-id": str(snapshot)})
    elif table.snapshot_manager().get_latest_snapshot() is None:
        return None
    builder = table.new_read_builder()
    if projection:
        builder = builder.with_projection(projection)
    splits = builder.new_scan().plan().splits()
    return builder.new_read().to_arrow(splits)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("table_path")
    parser.add_argument("--snapshot", type=int, help="read this snapshot id instead of the latest")
    parser.add_argument("--projection", help="comma-separated columns to read (default: all)")
    args = parser.parse_args(argv)
    projection = [c.strip() for c in args.projection.split(",")] if args.projection else None

    return print_read("pypaimon_read", args.table_path,
                      lambda: read_table(open_table(args.table_path), args.snapshot, projection))


def print_read(script, table_path, read):
    """Prints the rows of the pyarrow Table (or None) `read()` returns in the canonical form;
    returns the exit status: 0, or 1 with a message naming the table when pypaimon fails."""
    try:
        data = read()
    except Exception as e:  # noqa: BLE001 - report any pypaimon failure with the table named
        print(f"{script}: cannot read {table_path}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if data is not None:
        canonical.print_rows(canonical.table_rows(data), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

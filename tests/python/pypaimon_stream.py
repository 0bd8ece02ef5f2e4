"""Read a Paimon table with pypaimon's streaming API and print every change in the canonical form.

Usage:
    pypaimon_stream.py TABLE_PATH [--from N] [--to L] [--projection a,b,...]

TABLE_PATH is the table directory (`<warehouse>/<db>.db/<table>`, or an s3:// URL as in
pypaimon_read.py). The read is pypaimon 2.1.0's streaming read (`new_stream_read_builder()
.with_include_row_kind(True)`, `new_streaming_scan()`, `stream_sync()`):

* without --from, its first plan is the initial full scan of the latest snapshot, then the
  changes of later snapshots;
* with --from N, it starts with the changes of snapshot N (`scan.next_snapshot_id = N`).

Every snapshot up to L (default: the latest snapshot when the script starts) is read; then the
script stops (pypaimon's stream never ends by itself). Snapshots pypaimon's follow-up scanner
skips (COMPACT snapshots with changelog-producer=none, snapshots without a changelog list
otherwise) produce no plan.

pypaimon catches up by diffing two snapshots when it is more than 10 snapshots behind; that would
merge many snapshots into one plan, so the threshold is raised here to read snapshot by snapshot,
as Java's streaming read does.

Each change is printed as one canonical row (see canonical.py) plus "_row_kind" (+I, -U, +U,
-D) and "_snapshot_id" (the snapshot whose plan held it; the latest snapshot for the initial full
scan). Rows are printed sorted. Exit status 0 on success, 1 with a message on stderr otherwise.
"""

import argparse
import json
import os
import sys
import time

import canonical
from pypaimon_read import open_table


def scannable_between(table, scan, first, last):
    """Whether any snapshot in first..last produces a plan for this scan."""
    manager = table.snapshot_manager()
    for snapshot_id in range(first, last + 1):
        snapshot = manager.get_snapshot_by_id(snapshot_id)
        if snapshot is not None and scan.follow_up_scanner.should_scan(snapshot):
            return True
    return False


def stream_rows(table, start, last, projection):
    builder = table.new_stream_read_builder().with_include_row_kind(True)
    if projection:
        builder = builder.with_projection(projection)
    scan = builder.new_streaming_scan()
    scan._diff_threshold = 1 << 62
    if start is not None:
        scan.next_snapshot_id = start
    read = builder.new_read()
    rows = []
    plans = scan.stream_sync()
    while True:
        next_id = scan.next_snapshot_id
        if next_id is not None:
            if next_id > last or not scannable_between(table, scan, next_id, last):
                break
        plan = next(plans)
        snapshot_id = plan.snapshot_id if plan.snapshot_id is not None else last
        if next_id is None:
            snapshot_id = last
        splits = plan.splits()
        if not splits:
            continue
        data = read.to_arrow(splits)
        if data is None:
            continue
        for row in canonical.table_rows(data):
            row["_snapshot_id"] = snapshot_id
            rows.append(row)
    return rows


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("table_path")
    parser.add_argument("--from", dest="start", type=int,
                        help="start with the changes of this snapshot (default: full scan first)")
    parser.add_argument("--to", dest="last", type=int,
                        help="read up to this snapshot (default: the latest)")
    parser.add_argument("--projection", help="comma-separated columns to read (default: all)")
    parser.add_argument("--summary", action="store_true",
                        help="print only {\"rows\", \"seconds\", \"kinds\"} (for benchmarks: the"
                             " time of planning and reading, without start-up)")
    args = parser.parse_args(argv)
    projection = [c.strip() for c in args.projection.split(",")] if args.projection else None
    try:
        table = open_table(args.table_path)
        latest = table.snapshot_manager().get_latest_snapshot()
        if latest is None:
            return 0
        last = args.last if args.last is not None else latest.id
        started = time.perf_counter()
        rows = stream_rows(table, args.start, last, projection)
        seconds = time.perf_counter() - started
    except Exception as e:  # noqa: BLE001 - report any pypaimon failure with the table named
        print(f"pypaimon_stream: cannot stream {args.table_path}: {type(e).__name__}: {e}",
              file=sys.stderr)
        return 1
    if args.summary:
        kinds = {}
        for row in rows:
            kinds[row["_row_kind"]] = kinds.get(row["_row_kind"], 0) + 1
        print(json.dumps({"rows": len(rows), "seconds": seconds, "kinds": kinds}))
        return 0
    canonical.print_rows(rows, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.stdout.flush()
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # pypaimon's prefetch thread may keep the interpreter alive.
    os._exit(code)

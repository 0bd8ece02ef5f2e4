"""Time pypaimon's filtered read of single keys (the baseline of the workload W get phase).

Usage:
    pypaimon_get_bench.py TABLE_PATH KEY_COLUMN KEY [KEY ...]

Opens the table once, then for each KEY (an integer) runs pypaimon's merged batch read with the
filter `KEY_COLUMN = KEY` (plan and read) and times it. Prints one JSON object:
{"ms": [per-key milliseconds], "rows": [rows returned per key], "open_ms": ms to open the table}.
Exit status 0 on success, 1 with a message on stderr otherwise.
"""

import json
import sys
import time

import pyarrow.compute as pc

import pypaimon_read


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 1
    path, column, keys = argv[0], argv[1], [int(k) for k in argv[2:]]
    try:
        started = time.perf_counter()
        table = pypaimon_read.open_table(path)
        open_ms = (time.perf_counter() - started) * 1000
        times, rows = [], []
        for key in keys:
            started = time.perf_counter()
            builder = table.new_read_builder()
            builder = builder.with_filter(builder.new_predicate_builder().equal(column, key))
            splits = builder.new_scan().plan().splits()
            data = builder.new_read().to_arrow(splits)
            n = 0 if data is None else data.filter(pc.equal(data.column(column), key)).num_rows
            times.append((time.perf_counter() - started) * 1000)
            rows.append(n)
    except Exception as e:  # noqa: BLE001 - report any pypaimon failure with the table named
        print(f"pypaimon_get_bench: cannot read {path}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"ms": times, "rows": rows, "open_ms": open_ms}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

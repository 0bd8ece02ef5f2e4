"""Print the rows of one Parquet file, as pyarrow reads it, in the canonical form.

Usage:
    parquet_rows.py FILE [--columns a,b,...]

Every column of the file is printed (for a Paimon data file also `_KEY_*`, `_SEQUENCE_NUMBER`,
`_VALUE_KIND`), one canonical JSON line per row (see canonical.py), sorted. An independent view
of a single file Streamhouse wrote, without any Paimon metadata.
"""

import argparse
import sys

import pyarrow.parquet as pq

import canonical


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file")
    parser.add_argument("--columns", help="comma-separated columns to print (default: all)")
    args = parser.parse_args(argv)
    columns = args.columns.split(",") if args.columns else None
    try:
        table = pq.read_table(args.file, columns=columns)
    except Exception as e:  # noqa: BLE001 - report any pyarrow failure with the file named
        print(f"parquet_rows: cannot read {args.file}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    canonical.print_rows(canonical.table_rows(table), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Read a Paimon table with pypaimon's filter API and print the matching rows in the canonical
form (see canonical.py).

Usage:
    pypaimon_filter_read.py TABLE_PATH PREDICATE_JSON [--tag NAME] [--snapshot N]

PREDICATE_JSON is `null` (no filter) or a tree of objects:
    {"method": "and" | "or", "children": [...]}
    {"method": "equal" | "not_equal" | "less_than" | "less_or_equal" | "greater_than"
               | "greater_or_equal" | "is_in" | "is_not_in" | "between" | "is_null"
               | "is_not_null", "field": NAME, "literals": [...]}
Literals are JSON values; {"decimal": "12.34"} is a decimal.Decimal and {"date": DAYS} a
datetime.date (days since 1970-01-01). The methods are pypaimon's PredicateBuilder methods.

pypaimon's filter is not exact (it may return rows that do not match, e.g. for OR of value
predicates on an append table); with --exact the predicate is then applied to the rows it
returned with SQL three-valued logic (pyarrow compute, Kleene AND/OR, NULL never matches), so the
printed rows are exactly the matching ones — provided pypaimon did not drop any.

The read is pypaimon's merged batch read of the latest snapshot, of snapshot N, or of the
snapshot of tag NAME (`table.copy({'scan.tag-name': NAME})`). Exit status 0 on success, 1 with a
message on stderr otherwise.
"""

import argparse
import datetime
import decimal
import json
import sys

import pypaimon_read


def literal(v):
    if isinstance(v, dict) and "decimal" in v:
        return decimal.Decimal(v["decimal"])
    if isinstance(v, dict) and "date" in v:
        return datetime.date(1970, 1, 1) + datetime.timedelta(days=v["date"])
    return v


def build(pb, node):
    from pypaimon.common.predicate_builder import PredicateBuilder

    method = node["method"]
    if method in ("and", "or"):
        children = [build(pb, c) for c in node["children"]]
        if method == "and":
            return PredicateBuilder.and_predicates(children)
        return PredicateBuilder.or_predicates(children)
    field = node["field"]
    literals = [literal(v) for v in node.get("literals", [])]
    if method in ("is_in", "is_not_in"):
        return getattr(pb, method)(field, literals)
    return getattr(pb, method)(field, *literals)


def mask(data, node):
    """The predicate's three-valued value on every row of a pyarrow table."""
    import pyarrow as pa
    import pyarrow.compute as pc

    method = node["method"]
    if method in ("and", "or"):
        parts = [mask(data, c) for c in node["children"]]
        out = parts[0]
        for m in parts[1:]:
            out = pc.and_kleene(out, m) if method == "and" else pc.or_kleene(out, m)
        return out
    col = data.column(node["field"])
    lits = [pa.scalar(literal(v), type=col.type) for v in node.get("literals", [])]
    if method == "is_null":
        return pc.is_null(col)
    if method == "is_not_null":
        return pc.is_valid(col)
    if method in ("is_in", "is_not_in"):
        found = pc.is_in(col, value_set=pa.array([x.as_py() for x in lits], type=col.type))
        if method == "is_not_in":
            found = pc.invert(found)
        return pc.if_else(pc.is_valid(col), found, pa.scalar(None, type=pa.bool_()))
    if method == "between":
        return pc.and_kleene(pc.greater_equal(col, lits[0]), pc.less_equal(col, lits[1]))
    fn = {"equal": pc.equal, "not_equal": pc.not_equal, "less_than": pc.less,
          "less_or_equal": pc.less_equal, "greater_than": pc.greater,
          "greater_or_equal": pc.greater_equal}[method]
    return fn(col, lits[0])


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("table_path")
    parser.add_argument("predicate")
    parser.add_argument("--tag", help="read the snapshot of this tag")
    parser.add_argument("--snapshot", type=int, help="read this snapshot id")
    parser.add_argument("--exact", action="store_true",
                        help="apply the predicate to the rows pypaimon returns")
    args = parser.parse_args(argv)
    return pypaimon_read.print_read("pypaimon_filter_read", args.table_path, lambda: read(args))


def read(args):
    table = pypaimon_read.open_table(args.table_path)
    if args.tag:
        table = table.copy({"scan.tag-name": args.tag})
    elif args.snapshot is not None:
        table = table.copy({"scan.snapshot-id": str(args.snapshot)})
    builder = table.new_read_builder()
    tree = json.loads(args.predicate)
    if tree is not None:
        builder = builder.with_filter(build(builder.new_predicate_builder(), tree))
    splits = builder.new_scan().plan().splits()
    data = builder.new_read().to_arrow(splits)
    if args.exact and tree is not None and data is not None:
        data = data.filter(mask(data, tree))
    return data


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Write a scenario table with pypaimon and print the rows a correct reader must return.

Usage:
    pypaimon_write.py WAREHOUSE SCENARIO
    pypaimon_write.py --list

Creates database `db` (if missing) and table `db.<SCENARIO>` in the filesystem-catalog warehouse
WAREHOUSE (the table directory is WAREHOUSE/db.db/SCENARIO; it must not exist yet), commits the
scenario's input batches with pypaimon, one snapshot per batch, and prints the expected rows of
the latest snapshot as canonical JSON lines (see canonical.py). The expected rows are computed from
the input batches by a small model of the table's merge semantics written here, NOT by reading the
table back, so they are an independent oracle for Streamhouse's reader and for pypaimon's.

Scenarios:
  pk_partitioned  PK (dt, id), partitioned by dt, bucket=3, deduplicate engine; 3 commits of
                  inserts, updates (-U/+U pairs, bare +U), deletes (-D), a delete of a missing
                  key, delete-then-reinsert, two updates of one key in one commit, a key whose
                  last record is -U. Row kinds come from `rowkind.field = op`: pypaimon takes the
                  kind from the STRING column `op` ('+I', '-U', '+U', '-D') and ALSO stores `op`
                  as an ordinary column, so reads return it (the value of the winning record).
  append_unaware  append table, bucket=-1 (unaware), 3 commits, duplicate rows kept.
  append_fixed    append table, partitioned by region, bucket=2, bucket-key=id, 3 commits.
  all_types       PK (id), bucket=2: every primitive type pypaimon can write (see ALL_TYPES),
                  edge values (min/max, negative, pre-1970, nanoseconds, NaN/inf, empty,
                  non-ASCII), a row of nulls, and a second commit that updates two rows.
                  Not covered because pypaimon 2.1.0 cannot write them or maps them lossily:
                  TIMESTAMP(0) (carried as Arrow seconds - left out to keep to the Arrow types
                  Streamhouse uses), TIME with p > 3 (pypaimon always uses time32[ms] and keeps
                  milliseconds whatever p is), BINARY(n) values shorter than n (pypaimon stores
                  them unpadded, so the BINARY(4) values here have 4 bytes), VARIANT/BLOB/nested
                  types. CHAR(n) values are stored unpadded too ('ab' in CHAR(5) reads 'ab').
                  pypaimon's own read of this table truncates the TIMESTAMP(9) values of merged
                  buckets to microseconds (see pypaimon_read.py); the expected rows keep them.
  partial_update  merge-engine=partial-update, bucket=2: per column the latest non-null wins.
  aggregation     merge-engine=aggregation, bucket=2: sum, product, min, max, last_value,
                  last_non_null_value, first_value, first_non_null_value, bool_or, bool_and,
                  listagg (every scalar aggregate pypaimon 2.1.0 implements; it has no `count`).
  changelog_input changelog-producer=input, bucket=2, rowkind.field=op, 3 commits with updates
                  and deletes (pypaimon writes folded changelog rows - a known divergence from
                  Java, which writes every input record). Expected rows = final table state.
  sequence_field  sequence.field=ts, bucket=2: the record with the highest ts wins, ties go to the
                  later record; late records with a lower ts lose, also across commits.
"""

import argparse
import datetime as dt
import os
import sys
from decimal import Decimal

import pyarrow as pa

import canonical

EPOCH = dt.datetime(1970, 1, 1)


def days(text):
    """Days since 1970-01-01 of 'YYYY-MM-DD' (DATE values are given as day counts)."""
    return (dt.date.fromisoformat(text) - EPOCH.date()).days


def millis_of_day(text):
    t = dt.time.fromisoformat(text)
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.microsecond // 1000


def micros(text):
    """Microseconds since the epoch of 'YYYY-MM-DD HH:MM:SS[.ffffff]' read as UTC."""
    delta = dt.datetime.fromisoformat(text) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def millis(text):
    value = micros(text)
    assert value % 1000 == 0, text
    return value // 1000


def nanos(text, extra_nanos=0):
    return micros(text) * 1000 + extra_nanos


class Scenario:
    """A table definition plus its input batches; `expected()` models the merge semantics."""

    def __init__(self, columns, primary_keys=(), partition_keys=(), options=None, commits=()):
        self.columns = columns  # [(name, paimon type string)]; ' NOT NULL' marks non-null
        self.primary_keys = list(primary_keys)
        self.partition_keys = list(partition_keys)
        self.options = dict(options or {})
        self.commits = [list(c) for c in commits]

    def names(self):
        return [name for name, _ in self.columns]

    def records(self):
        """Every input record in arrival order (commit by commit, row by row)."""
        return [row for commit in self.commits for row in commit]


def schema_of(scenario):
    from pypaimon import Schema
    from pypaimon.schema.data_types import AtomicType, DataField

    fields = []
    for i, (name, type_text) in enumerate(scenario.columns):
        nullable = not type_text.endswith(" NOT NULL")
        base = type_text[: -len(" NOT NULL")] if not nullable else type_text
        fields.append(DataField(i, name, AtomicType(base, nullable)))
    return Schema(fields, scenario.partition_keys, scenario.primary_keys, scenario.options)


def arrow_schema_of(scenario):
    from pypaimon.schema.data_types import PyarrowFieldParser

    return PyarrowFieldParser.from_paimon_schema(schema_of(scenario).fields)


# ---------------------------------------------------------------------------------------------
# Models of the merge engines (what Java Paimon specifies; pypaimon is checked against them).

RETRACT = ("-U", "-D")


def model_deduplicate(scenario, rowkind=None, sequence=None):
    """Last record per key wins (ordered by `sequence` column, then arrival); retract -> absent."""
    winners = {}
    for arrival, row in enumerate(scenario.records()):
        key = tuple(row[k] for k in scenario.primary_keys)
        order = ((row[sequence],) if sequence else ()) + (arrival,)
        if key not in winners or order > winners[key][0]:
            winners[key] = (order, row)
    return [row for _, row in winners.values() if not (rowkind and row[rowkind] in RETRACT)]


def model_partial_update(scenario):
    merged = {}
    for row in scenario.records():
        key = tuple(row[k] for k in scenario.primary_keys)
        acc = merged.setdefault(key, {name: None for name in scenario.names()})
        for name, value in row.items():
            if value is not None:
                acc[name] = value
    return list(merged.values())


def _skip_nulls(fold):
    def step(acc, value):
        if value is None:
            return acc
        return value if acc is None else fold(acc, value)
    return step


AGGREGATES = {
    "sum": _skip_nulls(lambda a, v: a + v),
    "product": _skip_nulls(lambda a, v: a * v),
    "min": _skip_nulls(min),
    "max": _skip_nulls(max),
    "bool_or": _skip_nulls(lambda a, v: a or v),
    "bool_and": _skip_nulls(lambda a, v: a and v),
    "listagg": _skip_nulls(lambda a, v: f"{a},{v}"),
    "last_value": lambda acc, value: value,
    "last_non_null_value": lambda acc, value: acc if value is None else value,
    "first_non_null_value": lambda acc, value: value if acc is None else acc,
}


def model_aggregation(scenario):
    functions = {
        name: scenario.options.get(f"fields.{name}.aggregate-function", "last_non_null_value")
        for name in scenario.names() if name not in scenario.primary_keys
    }
    merged = {}
    for row in scenario.records():
        key = tuple(row[k] for k in scenario.primary_keys)
        if key not in merged:  # the first record initialises every aggregate as itself
            merged[key] = dict(row)
            continue
        acc = merged[key]
        for name, function in functions.items():
            if function != "first_value":
                acc[name] = AGGREGATES[function](acc[name], row[name])
    return list(merged.values())


def model_append(scenario):
    return scenario.records()


# ---------------------------------------------------------------------------------------------
# Scenarios.

def pk_partitioned():
    days_ = ["2024-01-01", "2024-01-02", "2024-01-03"]
    first = [
        {"dt": d, "id": i, "name": f"{d[-2:]}-{i}", "amount": i * 1.5, "op": "+I"}
        for d in days_ for i in range(1, 13)
    ]
    first.append({"dt": "2024-01-03", "id": 99, "name": None, "amount": None, "op": "+I"})
    second = []
    for i in (3, 6, 9, 12):  # -U/+U pairs in day 1
        second.append({"dt": "2024-01-01", "id": i, "name": f"01-{i}", "amount": i * 1.5,
                       "op": "-U"})
        second.append({"dt": "2024-01-01", "id": i, "name": f"01-{i}-v2", "amount": i * 10.0,
                       "op": "+U"})
    for i in (4, 8, 12):  # deletes in day 2
        second.append({"dt": "2024-01-02", "id": i, "name": None, "amount": None, "op": "-D"})
    for i in (13, 14, 15):  # new keys in day 3
        second.append({"dt": "2024-01-03", "id": i, "name": f"03-{i}", "amount": -i * 0.25,
                       "op": "+I"})
    second.append({"dt": "2024-01-02", "id": 500, "name": None, "amount": None, "op": "-D"})
    third = [
        # two updates of one key in one commit: the second wins
        {"dt": "2024-01-01", "id": 1, "name": "01-1-v2", "amount": 2.0, "op": "+U"},
        {"dt": "2024-01-01", "id": 1, "name": "01-1-v3", "amount": 3.0, "op": "+U"},
        # delete then re-insert in one commit
        {"dt": "2024-01-02", "id": 1, "name": None, "amount": None, "op": "-D"},
        {"dt": "2024-01-02", "id": 1, "name": "02-1-back", "amount": 0.5, "op": "+I"},
        # re-insert a key deleted in the previous commit
        {"dt": "2024-01-02", "id": 4, "name": "02-4-back", "amount": 4.0, "op": "+I"},
        # a key whose last record is an update-before: gone
        {"dt": "2024-01-03", "id": 2, "name": "03-2", "amount": 3.0, "op": "-U"},
        # insert then delete in one commit
        {"dt": "2024-01-03", "id": 16, "name": "03-16", "amount": 1.0, "op": "+I"},
        {"dt": "2024-01-03", "id": 16, "name": "03-16", "amount": 1.0, "op": "-D"},
        # update of the null row to values, and a new partition
        {"dt": "2024-01-03", "id": 99, "name": "03-99", "amount": 99.0, "op": "+U"},
        {"dt": "2024-01-04", "id": 1, "name": "04-1", "amount": 1e-3, "op": "+I"},
    ]
    scenario = Scenario(
        [("dt", "STRING NOT NULL"), ("id", "BIGINT NOT NULL"), ("name", "STRING"),
         ("amount", "DOUBLE"), ("op", "STRING")],
        primary_keys=["dt", "id"], partition_keys=["dt"],
        options={"bucket": "3", "rowkind.field": "op"},
        commits=[first, second, third])
    return scenario, model_deduplicate(scenario, rowkind="op")


def append_unaware():
    rows = [
        [{"id": i, "category": f"cat_{i % 3}", "value": i / 4, "note": None if i % 4 else "four"}
         for i in range(10)],
        [{"id": 3, "category": "cat_0", "value": 0.75, "note": None},  # exact duplicate
         {"id": 100, "category": None, "value": None, "note": "nulls"}],
        [{"id": i, "category": "cat_9", "value": -float(i), "note": "x" * i} for i in range(20, 26)],
    ]
    scenario = Scenario(
        [("id", "INT"), ("category", "STRING"), ("value", "DOUBLE"), ("note", "STRING")],
        options={"bucket": "-1"}, commits=rows)
    return scenario, model_append(scenario)


def append_fixed():
    regions = ["eu", "us", "ap"]
    rows = [
        [{"region": regions[i % 3], "id": i, "amount": i * 100, "label": f"r{i}"}
         for i in range(12)],
        [{"region": "eu", "id": 0, "amount": 1, "label": "r0-again"},
         {"region": "us", "id": 1000, "amount": None, "label": None}],
        [{"region": regions[i % 3], "id": i, "amount": -i, "label": f"late{i}"}
         for i in range(30, 36)],
    ]
    scenario = Scenario(
        [("region", "STRING NOT NULL"), ("id", "BIGINT NOT NULL"), ("amount", "BIGINT"),
         ("label", "STRING")],
        partition_keys=["region"],
        options={"bucket": "2", "bucket-key": "id"}, commits=rows)
    return scenario, model_append(scenario)


ALL_TYPES = [
    ("id", "INT NOT NULL"),
    ("c_boolean", "BOOLEAN"),
    ("c_tinyint", "TINYINT"),
    ("c_smallint", "SMALLINT"),
    ("c_int", "INT"),
    ("c_bigint", "BIGINT"),
    ("c_float", "FLOAT"),
    ("c_double", "DOUBLE"),
    ("c_decimal_10_2", "DECIMAL(10, 2)"),
    ("c_decimal_38_18", "DECIMAL(38, 18)"),
    ("c_char", "CHAR(5)"),
    ("c_varchar", "VARCHAR(20)"),
    ("c_string", "STRING"),
    ("c_binary", "BINARY(4)"),
    ("c_varbinary", "VARBINARY(10)"),
    ("c_bytes", "BYTES"),
    ("c_date", "DATE"),
    ("c_time", "TIME(3)"),
    ("c_ts3", "TIMESTAMP(3)"),
    ("c_ts6", "TIMESTAMP(6)"),
    ("c_ts9", "TIMESTAMP(9)"),
    ("c_ltz3", "TIMESTAMP(3) WITH LOCAL TIME ZONE"),
    ("c_ltz6", "TIMESTAMP(6) WITH LOCAL TIME ZONE"),
    ("c_ltz9", "TIMESTAMP(9) WITH LOCAL TIME ZONE"),
]


def all_types():
    def row(id_, *values):
        return dict(zip([name for name, _ in ALL_TYPES], (id_,) + values))

    typical = row(
        1, True, 7, 300, 70000, 5_000_000_000, 0.1, 0.1, Decimal("12.30"),
        Decimal("3.141592653589793238"), "abcde", "varchar", "string", b"\x01\x02\x03\x04",
        b"\xca\xfe", b"bytes", days("2024-02-29"), millis_of_day("12:34:56.789"),
        millis("2024-02-29 12:34:56.789"), micros("2024-02-29 12:34:56.789012"),
        nanos("2024-02-29 12:34:56.789012", 345), millis("2024-02-29 12:34:56.789"),
        micros("2024-02-29 12:34:56.789012"), nanos("2024-02-29 12:34:56.789012", 345))
    low = row(
        2, False, -128, -32768, -2**31, -2**63, -1.5, -0.0, Decimal("-99999999.99"),
        Decimal("-99999999999999999999.999999999999999999"), "ab", "", "héllo ✓ 日本",
        b"\x00\x00\x00\x00", b"", b"\xff\xff\xff", days("0001-01-01"), millis_of_day("00:00:00"),
        millis("1969-12-31 23:59:59.999"), micros("1900-01-01 00:00:00.000001"),
        nanos("1969-12-31 23:59:59.999999", 999), millis("1969-12-31 23:59:59.999"),
        micros("1900-01-01 00:00:00.000001"), nanos("1970-01-01 00:00:00", 1))
    high = row(
        3, True, 127, 32767, 2**31 - 1, 2**63 - 1, float("nan"), float("inf"),
        Decimal("99999999.99"), Decimal("99999999999999999999.999999999999999999"),
        "z\"\\\n\t", "quote\"back\\slash", "\u0001ctl\u007f", b"\xff\xfe\xfd\xfc",
        bytes(range(10)), bytes(range(256)), days("9999-12-31"), millis_of_day("23:59:59.999"),
        millis("9999-12-31 23:59:59.999"), micros("2262-04-11 23:47:16.854775"),
        nanos("2262-04-11 23:47:16.854775", 807), millis("2038-01-19 03:14:08"),
        micros("1970-01-01 00:00:00"), nanos("2000-01-01 00:00:00"))
    nulls = row(4, *([None] * (len(ALL_TYPES) - 1)))
    zeros = row(
        5, False, 0, 0, 0, 0, 0.0, 0.0, Decimal("0.00"), Decimal("0E-18"), "     ", " ", " ",
        b"\x00\x01\x00\x01", b"\x00", b"", days("1970-01-01"), millis_of_day("00:00:00.001"),
        millis("1970-01-01 00:00:00"), micros("1970-01-01 00:00:00"), 0, 0, 0, 0)
    updated_low = dict(low, c_string="updated", c_int=None, c_ts9=nanos("2001-09-09 01:46:40", 5),
                       c_decimal_10_2=Decimal("0.05"))
    updated_nulls = dict(nulls, c_boolean=True, c_date=days("1969-07-20"))
    scenario = Scenario(ALL_TYPES, primary_keys=["id"], options={"bucket": "2"},
                        commits=[[typical, low, high, nulls, zeros], [updated_low, updated_nulls]])
    return scenario, model_deduplicate(scenario)


def partial_update():
    def r(id_, a, b, c):
        return {"id": id_, "a": a, "b": b, "c": c}

    scenario = Scenario(
        [("id", "BIGINT NOT NULL"), ("a", "INT"), ("b", "STRING"), ("c", "DOUBLE")],
        primary_keys=["id"], options={"bucket": "2", "merge-engine": "partial-update"},
        commits=[
            [r(1, 10, None, None), r(2, None, "x", 1.0), r(4, None, None, None)],
            [r(1, None, "y", None), r(1, 11, None, None), r(3, 1, "z", None)],
            [r(2, 5, None, 2.5), r(1, None, None, 9.9), r(3, None, "z2", None)],
        ])
    return scenario, model_partial_update(scenario)


AGGREGATION_FUNCTIONS = {
    "s": ("BIGINT", "sum"),
    "p": ("BIGINT", "product"),
    "mn": ("INT", "min"),
    "mx": ("DOUBLE", "max"),
    "lv": ("STRING", "last_value"),
    "lnn": ("STRING", "last_non_null_value"),
    "fv": ("STRING", "first_value"),
    "fnn": ("STRING", "first_non_null_value"),
    "bor": ("BOOLEAN", "bool_or"),
    "band": ("BOOLEAN", "bool_and"),
    "la": ("STRING", "listagg"),
}


def aggregation():
    names = list(AGGREGATION_FUNCTIONS)

    def r(id_, *values):
        return dict(zip(["id"] + names, (id_,) + values))

    #          s     p     mn    mx    lv    lnn   fv    fnn   bor    band   la
    commits = [
        [r(1, 10, 2, 5, 1.5, "a", "a", None, None, False, True, "x"),
         r(2, None, None, None, None, None, None, "f", None, None, None, None)],
        [r(1, 5, 3, 3, 0.5, None, None, "b", "b", False, True, None),
         r(2, 7, 4, 9, -2.0, "l", "l", "g", "g", True, False, "p"),
         r(1, -1, -1, 8, 4.0, "c", None, "c", "c", True, False, "y")],
        [r(3, 1, 1, 1, 1.0, "only", "only", "only", "only", False, False, "only"),
         r(2, 1, 10, -5, None, None, None, None, "h", None, True, "q")],
    ]
    options = {"bucket": "2", "merge-engine": "aggregation"}
    for name, (_, function) in AGGREGATION_FUNCTIONS.items():
        options[f"fields.{name}.aggregate-function"] = function
    scenario = Scenario(
        [("id", "BIGINT NOT NULL")] + [(n, t) for n, (t, _) in AGGREGATION_FUNCTIONS.items()],
        primary_keys=["id"], options=options, commits=commits)
    return scenario, model_aggregation(scenario)


def changelog_input():
    def r(id_, v, n, op):
        return {"id": id_, "v": v, "n": n, "op": op}

    scenario = Scenario(
        [("id", "BIGINT NOT NULL"), ("v", "STRING"), ("n", "INT"), ("op", "STRING")],
        primary_keys=["id"],
        options={"bucket": "2", "changelog-producer": "input", "rowkind.field": "op"},
        commits=[
            [r(i, f"v{i}", i, "+I") for i in range(1, 9)],
            [r(1, "v1", 1, "-U"), r(1, "v1b", 10, "+U"), r(2, "v2", 2, "-D"), r(9, "v9", 9, "+I")],
            [r(3, "v3b", 30, "+U"), r(3, "v3c", 31, "+U"), r(9, "v9", 9, "-D"),
             r(2, "v2back", 20, "+I"), r(4, "v4", 4, "-U")],
        ])
    return scenario, model_deduplicate(scenario, rowkind="op")


def sequence_field():
    def r(id_, ts, v):
        return {"id": id_, "ts": ts, "v": v}

    scenario = Scenario(
        [("id", "BIGINT NOT NULL"), ("ts", "BIGINT NOT NULL"), ("v", "STRING")],
        primary_keys=["id"], options={"bucket": "2", "sequence.field": "ts"},
        commits=[
            [r(1, 5, "a"), r(2, 1, "b"), r(1, 3, "older-same-commit"), r(4, 7, "d")],
            [r(1, 4, "late-but-older"), r(2, 1, "tie-later-wins"), r(3, 10, "c"),
             r(4, 8, "d-newer")],
            [r(3, 11, "c-newer"), r(3, 9, "c-older"), r(4, 6, "d-older")],
        ])
    return scenario, model_deduplicate(scenario, sequence="ts")


SCENARIOS = {
    "pk_partitioned": pk_partitioned,
    "append_unaware": append_unaware,
    "append_fixed": append_fixed,
    "all_types": all_types,
    "partial_update": partial_update,
    "aggregation": aggregation,
    "changelog_input": changelog_input,
    "sequence_field": sequence_field,
}


# ---------------------------------------------------------------------------------------------

def write(warehouse, name, scenario):
    from pypaimon import CatalogFactory

    table_dir = os.path.join(warehouse, "db.db", name)
    if os.path.exists(table_dir):
        raise RuntimeError(f"table directory {table_dir} already exists")
    catalog = CatalogFactory.create({"warehouse": warehouse})
    catalog.create_database("db", True)
    catalog.create_table(f"db.{name}", schema_of(scenario), False)
    table = catalog.get_table(f"db.{name}")
    arrow_schema = arrow_schema_of(scenario)
    for number, rows in enumerate(scenario.commits, start=1):
        builder = table.new_batch_write_builder()
        writer, committer = builder.new_write(), builder.new_commit()
        try:
            writer.write_arrow(pa.Table.from_pylist(rows, schema=arrow_schema))
            committer.commit(writer.prepare_commit())
        except Exception as e:
            raise RuntimeError(f"commit {number} of scenario {name} failed: {e}") from e
        finally:
            writer.close()
            committer.close()


def expected_rows(scenario, rows):
    table = pa.Table.from_pylist(rows, schema=arrow_schema_of(scenario))
    return canonical.table_rows(table)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse", nargs="?")
    parser.add_argument("scenario", nargs="?", choices=sorted(SCENARIOS))
    parser.add_argument("--list", action="store_true", help="print the scenario names and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(SCENARIOS))
        return 0
    if not args.warehouse or not args.scenario:
        parser.error("WAREHOUSE and SCENARIO are required")

    scenario, expected = SCENARIOS[args.scenario]()
    try:
        write(args.warehouse, args.scenario, scenario)
    except Exception as e:  # noqa: BLE001 - name the scenario and warehouse in any failure
        print(f"pypaimon_write: {args.scenario} in {args.warehouse}: {type(e).__name__}: {e}",
              file=sys.stderr)
        return 1
    canonical.print_rows(expected_rows(scenario, expected), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Cross-check three independent Paimon implementations on the same tables.

Usage:
    peer_check.py --peer PAIMON_PEER_BIN --work DIR [--streamhouse STREAMHOUSE_BIN]

Run by tests/run.sh with the test venv's Python. For every table it compares, in the canonical
row form (canonical.py):
  * the rows the `paimon` crate reads (`paimon-peer read`),
  * the rows pypaimon reads (pypaimon_read.py), and
  * the rows the table must hold, computed from the input by a model of the merge semantics.

Tables:
  1. every scenario of pypaimon_write.py, written by pypaimon;
  2. tables written by Streamhouse's CLI (`streamhouse create` / `write`): a partitioned
     primary-key table with updates and deletes over several commits and buckets, an append
     table, and a table of primitive types. Skipped, with a loud note, when no Streamhouse binary
     is given or it does not have the create/write/scan commands yet.

Known divergence, normalised before comparing pypaimon's rows (never the paimon crate's):
pypaimon 2.1.0 truncates TIMESTAMP(7..9) values to microseconds when it merges a bucket whose
files overlap (its raw, non-merging read keeps the nanoseconds); the files hold the nanoseconds.

Prints one line per comparison and a closing `peer_check: N passed, N failed` line; exits 1 if
any comparison failed.
"""

import argparse
import base64
import os
import re
import subprocess
import sys
import time
from decimal import Decimal

import canonical
import pypaimon_read
import pypaimon_write as pw

NANOS_9 = re.compile(r"^(\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})\d{3}(Z?)$")


def truncate_nanos(rows):
    def fix(value):
        if isinstance(value, str):
            m = NANOS_9.match(value)
            if m:
                return m.group(1) + m.group(2)
        return value
    return [{k: fix(v) for k, v in row.items()} for row in rows]


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def compare(self, label, actual_name, actual, expected_name, expected):
        got, want = canonical.sorted_lines(actual), canonical.sorted_lines(expected)
        if got == want:
            self.passed += 1
            print(f"ok    {label}: {actual_name} == {expected_name} ({len(want)} rows)")
            return
        self.failed += 1
        print(f"FAIL  {label}: {actual_name} != {expected_name} "
              f"({len(got)} vs {len(want)} rows)")
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        for title, lines in ((f"only in {expected_name}", missing),
                             (f"only in {actual_name}", extra)):
            for line in lines[:8]:
                print(f"        {title}: {line}")
            if len(lines) > 8:
                print(f"        ... {len(lines) - 8} more {title}")
        if not missing and not extra:
            print("        (same rows, different multiplicities)")

    def error(self, label, message):
        self.failed += 1
        print(f"FAIL  {label}: {message}")


def peer_rows(peer, warehouse, table):
    result = subprocess.run([peer, "read", warehouse, table], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"paimon-peer read failed ({result.returncode}): "
                           f"{result.stderr.strip()[-2000:]}")
    return canonical.read_lines(result.stdout)


def pypaimon_rows(table_dir):
    data = pypaimon_read.read_table(pypaimon_read.open_table(table_dir))
    return [] if data is None else canonical.table_rows(data)


def cross_check(checker, peer, warehouse, table, expected):
    """paimon crate vs expected, pypaimon vs expected, paimon crate vs pypaimon."""
    label = table
    db, name = table.split(".", 1)
    try:
        by_peer = peer_rows(peer, warehouse, table)
    except Exception as e:  # noqa: BLE001
        checker.error(label, str(e))
        by_peer = None
    try:
        by_pypaimon = truncate_nanos(pypaimon_rows(os.path.join(warehouse, f"{db}.db", name)))
    except Exception as e:  # noqa: BLE001
        checker.error(label, f"pypaimon read failed: {type(e).__name__}: {e}")
        by_pypaimon = None
    if by_peer is not None:
        checker.compare(label, "paimon crate", by_peer, "expected", expected)
    if by_pypaimon is not None:
        checker.compare(label, "pypaimon", by_pypaimon, "expected", truncate_nanos(expected))
    if by_peer is not None and by_pypaimon is not None:
        checker.compare(label, "paimon crate", truncate_nanos(by_peer), "pypaimon", by_pypaimon)


# ---------------------------------------------------------------------------------------------
# 1. Tables written by pypaimon.

def check_pypaimon_written(checker, peer, work):
    warehouse = os.path.join(work, "pypaimon-warehouse")
    os.makedirs(warehouse, exist_ok=True)
    for name, make in pw.SCENARIOS.items():
        scenario, rows = make()
        try:
            pw.write(warehouse, name, scenario)
        except Exception as e:  # noqa: BLE001
            checker.error(f"db.{name}", f"pypaimon write failed: {type(e).__name__}: {e}")
            continue
        cross_check(checker, peer, warehouse, f"db.{name}", pw.expected_rows(scenario, rows))


# ---------------------------------------------------------------------------------------------
# 2. Tables written by Streamhouse's CLI.

def cli_value(value, paimon_type):
    """A Python input value in the form `streamhouse write` reads from JSON lines."""
    if value is None:
        return None
    t = paimon_type.upper()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if t.startswith("DATE"):
        return canonical.render_date(value)
    if t.startswith("TIMESTAMP"):  # given in the Arrow unit pypaimon uses for its precision
        m = re.match(r"TIMESTAMP\((\d)\)", t)
        precision = int(m.group(1)) if m else 6
        unit = "s" if precision == 0 else "ms" if precision <= 3 else "us" if precision <= 6 else "ns"
        text = canonical.render_timestamp(value * canonical.NANOS_PER_UNIT[unit],
                                          "LOCAL TIME ZONE" in t)
        # at most `precision` fraction digits: the CLI rejects more, even zeros
        head, frac = text.rstrip("Z").split(".")
        frac = frac.ljust(9, "0")
        assert set(frac[precision:]) <= {"0"}, (value, paimon_type)
        return head + ("." + frac[:precision] if precision else "") + ("Z" if text.endswith("Z") else "")
    return value


def cli_tables():
    """(name, Scenario, rowkind column or None) of the tables the CLI writes."""
    def kinds(rows):
        return [dict(r, rowkind=r.get("rowkind", "+I")) for r in rows]

    pk = pw.Scenario(
        [("dt", "STRING NOT NULL"), ("id", "BIGINT NOT NULL"), ("name", "STRING"),
         ("amount", "DOUBLE"), ("qty", "INT")],
        primary_keys=["dt", "id"], partition_keys=["dt"], options={"bucket": "2"},
        commits=[
            kinds([{"dt": d, "id": i, "name": f"{d}/{i}", "amount": i * 0.5, "qty": i}
                   for d in ("2024-05-01", "2024-05-02") for i in range(1, 11)]),
            kinds([{"dt": "2024-05-01", "id": 2, "name": "2/old", "amount": 1.0, "qty": 2,
                    "rowkind": "-U"},
                   {"dt": "2024-05-01", "id": 2, "name": "2/new", "amount": 20.0, "qty": None,
                    "rowkind": "+U"},
                   {"dt": "2024-05-02", "id": 3, "name": None, "amount": None, "qty": None,
                    "rowkind": "-D"},
                   {"dt": "2024-05-03", "id": 1, "name": "fresh", "amount": -1.25, "qty": 0}]),
            kinds([{"dt": "2024-05-01", "id": 5, "name": "5/a", "amount": 5.0, "qty": 5,
                    "rowkind": "+U"},
                   {"dt": "2024-05-01", "id": 5, "name": "5/b", "amount": 6.0, "qty": 6,
                    "rowkind": "+U"},
                   {"dt": "2024-05-02", "id": 3, "name": "3/back", "amount": 3.0, "qty": 3},
                   {"dt": "2024-05-02", "id": 7, "name": None, "amount": None, "qty": None,
                    "rowkind": "-D"},
                   {"dt": "2024-05-03", "id": 1, "name": None, "amount": None, "qty": None,
                    "rowkind": "-D"}]),
        ])
    append = pw.Scenario(
        [("id", "BIGINT"), ("msg", "STRING"), ("ok", "BOOLEAN")],
        options={"bucket": "-1"},
        commits=[[{"id": i, "msg": f"m{i}", "ok": i % 2 == 0} for i in range(6)],
                 [{"id": 1, "msg": "m1", "ok": False}, {"id": None, "msg": None, "ok": None}]])
    type_columns = [
        ("id", "INT NOT NULL"), ("b", "BOOLEAN"), ("i8", "TINYINT"), ("i16", "SMALLINT"),
        ("i32", "INT"), ("i64", "BIGINT"), ("f32", "FLOAT"), ("f64", "DOUBLE"),
        ("d10", "DECIMAL(10, 2)"), ("d38", "DECIMAL(38, 18)"), ("s", "STRING"),
        ("vc", "VARCHAR(10)"), ("bin", "BYTES"), ("day", "DATE"), ("ts3", "TIMESTAMP(3)"),
        ("ts6", "TIMESTAMP(6)"), ("ltz3", "TIMESTAMP(3) WITH LOCAL TIME ZONE"),
    ]
    names = [n for n, _ in type_columns]

    def typed(*values):
        return dict(zip(names, values))

    us, ms = pw.micros, pw.millis
    types = pw.Scenario(
        type_columns, primary_keys=["id"], options={"bucket": "2"},
        commits=[
            kinds([typed(1, True, -128, 32767, -7, 2**62, 0.5, 0.1, Decimal("12.30"),
                         Decimal("-1.000000000000000001"), "héllo", "", b"\x00\xff",
                         pw.days("1969-12-31"), ms("2024-01-31 13:45:00.123"),
                         us("1900-01-01 00:00:00.000001"), ms("2024-01-31 13:45:00.999")),
                   typed(2, *([None] * (len(names) - 1))),
                   typed(3, False, 0, 0, 0, 0, -0.25, 1e300, Decimal("0.00"), Decimal("0E-18"),
                         "x", "0123456789", b"", pw.days("2024-02-29"),
                         ms("1970-01-01 00:00:00"), us("2024-02-29 23:59:59.999999"),
                         ms("1969-12-31 23:59:59.999"))]),
            kinds([typed(2, False, 1, 2, 3, 4, 5.5, 6.5, Decimal("7.80"), Decimal("9.5"), "two",
                         "2", b"two", pw.days("2000-01-01"), ms("2000-01-01 00:00:00.001"),
                         us("2000-01-01 00:00:00.000002"), ms("2000-01-01 00:00:00.003"))]),
        ])
    return [("sh.pk_updates", pk), ("sh.append_log", append), ("sh.types", types)]


def cli_supports_tables(streamhouse):
    try:
        result = subprocess.run([streamhouse, "--help"], capture_output=True, text=True,
                                timeout=60)
    except OSError as e:
        return f"cannot run {streamhouse}: {e}"
    missing = [c for c in ("create", "write", "scan") if not re.search(rf"^\s+{c}\b",
                                                                       result.stdout, re.M)]
    return f"`{streamhouse} --help` lists no {', '.join(missing)} command" if missing else None


def run_cli(streamhouse, warehouse, *args):
    result = subprocess.run([streamhouse, "--warehouse", warehouse, *args],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"streamhouse {' '.join(args)} failed ({result.returncode}): "
                           f"{result.stderr.strip()[-2000:]}")


def check_streamhouse_written(checker, peer, streamhouse, work):
    warehouse = os.path.join(work, "streamhouse-warehouse")
    os.makedirs(warehouse, exist_ok=True)
    for table, scenario in cli_tables():
        types = dict(scenario.columns)
        create = ["create", table, "--schema",
                  ", ".join(f"{n} {t}" for n, t in scenario.columns)]
        if scenario.primary_keys:
            create += ["--primary-key", ",".join(scenario.primary_keys)]
        if scenario.partition_keys:
            create += ["--partition-by", ",".join(scenario.partition_keys)]
        for key, value in scenario.options.items():
            create += ["--option", f"{key}={value}"]
        try:
            run_cli(streamhouse, warehouse, *create)
            for number, rows in enumerate(scenario.commits, start=1):
                path = os.path.join(work, f"{table}-{number}.json")
                with open(path, "w", encoding="utf-8") as f:
                    for row in rows:
                        line = {k: (v if k == "rowkind" else cli_value(v, types[k]))
                                for k, v in row.items()}
                        f.write(canonical.row_line(line) + "\n")
                run_cli(streamhouse, warehouse, "write", table, "--input", path)
        except Exception as e:  # noqa: BLE001
            checker.error(table, str(e))
            continue
        has_kinds = any("rowkind" in r for r in scenario.records())
        if scenario.primary_keys:
            final = pw.model_deduplicate(scenario, rowkind="rowkind" if has_kinds else None)
        else:
            final = pw.model_append(scenario)
        final = [{k: v for k, v in r.items() if k != "rowkind"} for r in final]
        expected = pw.expected_rows(scenario, final)
        cross_check(checker, peer, warehouse, table, expected)
        if scenario.primary_keys:
            # Compacted into the highest level and with old snapshots expired, the table must
            # read the same in every peer.
            try:
                run_cli(streamhouse, warehouse, "compact", table, "--full")
                run_cli(streamhouse, warehouse, "expire", table, "--retain-min", "1",
                        "--older-than", "0s")
            except Exception as e:  # noqa: BLE001
                checker.error(f"{table} (compacted)", str(e))
                continue
            cross_check(checker, peer, warehouse, table, expected)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", required=True, help="the paimon-peer binary")
    parser.add_argument("--work", required=True, help="an empty scratch directory")
    parser.add_argument("--streamhouse", help="the streamhouse CLI binary")
    args = parser.parse_args(argv)
    checker = Checker()

    started = time.monotonic()
    print("-- tables written by pypaimon")
    check_pypaimon_written(checker, args.peer, args.work)
    print("-- tables written by the streamhouse CLI")
    reason = None
    if not args.streamhouse or not os.path.exists(args.streamhouse):
        reason = f"no streamhouse binary at {args.streamhouse!r}"
    else:
        reason = cli_supports_tables(args.streamhouse)
    if reason:
        print(f"!!! SKIPPED the Streamhouse-written tables: {reason}")
    else:
        check_streamhouse_written(checker, args.peer, args.streamhouse, args.work)
    print(f"peer_check took {time.monotonic() - started:.1f}s")
    print(f"peer_check: {checker.passed} passed, {checker.failed} failed")
    return 1 if checker.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

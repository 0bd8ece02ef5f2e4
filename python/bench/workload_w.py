"""Workload W through the Python package, beside pypaimon 2.1.0 in the same run.

Usage (a release build of the package is what to measure):

    pip install ./python            # or: cd python && maturin build --release && pip install <wheel>
    pip install pypaimon==2.1.0
    python python/bench/workload_w.py [--scale 1.0] [--buckets 4] [--work DIR] [--skip-pypaimon]
        [--rust-baseline target/release/python-phases]

Workload W (../shared/workloads/WORKLOAD.md): a primary-key table `id BIGINT NOT NULL,
category STRING, ts BIGINT, amount DOUBLE, payload STRING` (64-byte payloads), `bucket = 4`;
phases: load (2 M ids in seeded shuffled order, 20 commits of 100 k), upsert (5 rounds of 100 k
updates + 100 k new ids, one commit each), full read (2.5 M rows, checked against the generator's
row count and sum of amount), range (`id BETWEEN 1,062,502 AND 1,087,501`, 1 %), GET of 100
seeded random ids one at a time — warm (one open table, its lookup index cached) and cold (a new
catalog and table per key) — plus a multi-get of 10 k ids, and the changes of the last commit.
`--scale` multiplies every row count. Both implementations get the same generated Arrow
batches and write into their own table of one local warehouse.

pypaimon has no lookup: its GET is a merged read filtered on `id = key` (plan + read), as
tests/python/pypaimon_get_bench.py times it. Its changes are its streaming read of the last
snapshot (`new_stream_read_builder`, `scan.next_snapshot_id`).

pypaimon-rust 0.4.0 runs the load, upsert and full-read phases (see PypaimonRust).

`--rust-baseline` runs the same phases through the Rust library (the `python-phases` binary:
`cargo build --release -p streamhouse-tests --bin python-phases`) on the same batches, written
to Arrow IPC files first, so the Python package's overhead is measured in the same run.

Prints one table: seconds and rows/s per phase and implementation, and the ratios
other / streamhouse (how many times faster streamhouse is) and streamhouse / Rust library
(the Python overhead).
"""

import argparse
import json
import os
import subprocess
import shutil
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import streamhouse

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("category", pa.string()),
        pa.field("ts", pa.int64()),
        pa.field("amount", pa.float64()),
        pa.field("payload", pa.string()),
    ]
)
SEED = 42


class Generator:
    """The workload's batches, deterministic for a seed; keeps the expected sum of amount."""

    def __init__(self, scale):
        self.rng = np.random.default_rng(SEED)
        self.n_load = int(2_000_000 * scale)
        self.batch = max(1, self.n_load // 20)
        self.round = int(100_000 * scale)
        self.ts = 0
        self.latest = np.zeros(self.n_load + 5 * self.round, dtype=np.float64)
        self.present = np.zeros(len(self.latest), dtype=bool)
        self.next_id = self.n_load

    def rows(self, ids):
        n = len(ids)
        ts = np.arange(self.ts, self.ts + n, dtype=np.int64)
        self.ts += n
        amount = np.round(self.rng.random(n) * 100_000) / 100
        self.latest[ids] = amount
        self.present[ids] = True
        category = pa.array([f"cat_{i:02d}" for i in range(10)])
        # 64 ASCII bytes: the id in 12 digits, then 52 x
        return pa.record_batch(
            [
                pa.array(ids, pa.int64()),
                pc.take(category, pa.array(ids % 10)),
                pa.array(ts),
                pa.array(amount),
                pc.binary_join_element_wise(
                    pa.array(np.char.zfill(ids.astype(str), 12)), pa.scalar("x" * 52), ""
                ),
            ],
            schema=SCHEMA,
        )

    def load_batches(self):
        order = self.rng.permutation(self.n_load).astype(np.int64)
        return [self.rows(order[i : i + self.batch]) for i in range(0, self.n_load, self.batch)]

    def upsert_rounds(self):
        rounds = []
        for _ in range(5):
            updates = self.rng.choice(self.next_id, size=self.round, replace=False).astype(np.int64)
            new = np.arange(self.next_id, self.next_id + self.round, dtype=np.int64)
            self.next_id += self.round
            ids = np.concatenate([updates, new])
            self.rng.shuffle(ids)
            rounds.append(self.rows(ids))
        return rounds

    def expected(self):
        return int(self.present.sum()), float(self.latest[self.present].sum())


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


# ---- streamhouse ------------------------------------------------------------------------------


class Ours:
    name = "streamhouse"

    def __init__(self, warehouse, buckets):
        self.warehouse = warehouse
        self.catalog = streamhouse.Catalog(warehouse)
        self.table = self.catalog.create_table(
            "bench.w", schema=SCHEMA, primary_key=["id"], options={"bucket": str(buckets)}
        )

    def write(self, batch):
        self.last_write = self.table.write(batch)

    def full_read(self):
        return self.table.to_arrow()

    def range(self, lo, hi):
        return self.table.to_arrow(filter=f"id BETWEEN {lo} AND {hi}")

    def get_warm(self, key):
        return self.table.get({"id": key})

    def get_cold(self, key):
        return streamhouse.Catalog(self.warehouse).table("bench.w").get({"id": key})

    def multi_get(self, keys):
        return self.table.get_many({"id": keys})

    def last_changes(self):
        # the snapshot of the last write (compaction may have committed after it)
        batches = list(self.table.tail(start=self.last_write))
        return pa.Table.from_batches(batches) if batches else None


# ---- pypaimon ---------------------------------------------------------------------------------


class Pypaimon:
    name = "pypaimon 2.1.0"

    def __init__(self, warehouse, buckets):
        import pypaimon

        self.pypaimon = pypaimon
        self.warehouse = warehouse
        catalog = pypaimon.CatalogFactory.create({"warehouse": warehouse})
        catalog.create_database("pp", True)
        schema = pypaimon.Schema.from_pyarrow_schema(
            SCHEMA, primary_keys=["id"], options={"bucket": str(buckets)}
        )
        catalog.create_table("pp.w", schema, False)
        self.table = catalog.get_table("pp.w")

    def write(self, batch):
        builder = self.table.new_batch_write_builder()
        writer, committer = builder.new_write(), builder.new_commit()
        try:
            writer.write_arrow(pa.Table.from_batches([batch]))
            committer.commit(writer.prepare_commit())
        finally:
            writer.close()
            committer.close()

    def _read(self, table, predicate=None):
        builder = table.new_read_builder()
        if predicate is not None:
            builder = builder.with_filter(predicate(builder.new_predicate_builder()))
        return builder.new_read().to_arrow(builder.new_scan().plan().splits())

    def full_read(self):
        return self._read(self.table)

    def range(self, lo, hi):
        data = self._read(self.table, lambda p: p.between("id", lo, hi))
        return data.filter(pc.and_(pc.greater_equal(data["id"], lo), pc.less_equal(data["id"], hi)))

    def _get(self, table, key):
        data = self._read(table, lambda p: p.equal("id", key))
        return data.filter(pc.equal(data["id"], key))

    def get_warm(self, key):
        return self._get(self.table, key)

    def get_cold(self, key):
        catalog = self.pypaimon.CatalogFactory.create({"warehouse": self.warehouse})
        return self._get(catalog.get_table("pp.w"), key)

    def multi_get(self, keys):
        data = self._read(self.table, lambda p: p.is_in("id", keys))
        return data.filter(pc.is_in(data["id"], pa.array(keys)))

    def last_changes(self):
        builder = self.table.new_stream_read_builder().with_include_row_kind(True)
        scan = builder.new_streaming_scan()
        scan._diff_threshold = 1 << 62
        scan.next_snapshot_id = self.table.snapshot_manager().get_latest_snapshot().id
        plan = next(scan.stream_sync())
        return builder.new_read().to_arrow(plan.splits())


class PypaimonRust:
    """pypaimon-rust 0.4.0: writes and full reads (it has no lookup, and its filter and
    incremental-scan arguments are not used here, so those phases are left out)."""

    name = "pypaimon-rust 0.4.0"
    phases = {"load", "upsert (5 rounds)", "full read"}

    def __init__(self, warehouse, buckets):
        import pypaimon
        from pypaimon_rust.datafusion import PaimonCatalog

        # created through pypaimon (same schema file format), written and read by pypaimon-rust
        catalog = pypaimon.CatalogFactory.create({"warehouse": warehouse})
        catalog.create_database("pr", True)
        schema = pypaimon.Schema.from_pyarrow_schema(
            SCHEMA, primary_keys=["id"], options={"bucket": str(buckets)}
        )
        catalog.create_table("pr.w", schema, False)
        self.table = PaimonCatalog({"warehouse": warehouse}).get_table("pr.w")

    def write(self, batch):
        builder = self.table.new_batch_write_builder()
        write, commit = builder.new_write(), builder.new_commit()
        write.write_arrow(batch)
        commit.commit(write.prepare_commit())
        write.close()

    def full_read(self):
        builder = self.table.new_read_builder()
        return pa.Table.from_batches(builder.new_read().read(builder.new_scan().plan().splits()))


# ---- the run ----------------------------------------------------------------------------------


def run(impl, gen_batches, upserts, expected, lo, hi, get_keys, multi_keys, report, slow_gets=None):
    def phase(name, rows, fn):
        if name not in getattr(impl, "phases", {name}):
            return None
        seconds, result = timed(fn)
        report.setdefault(name, {})[impl.name] = (seconds, rows)
        print(f"  {impl.name:15} {name:22} {seconds:9.3f} s", file=sys.stderr, flush=True)
        return result

    phase("load", sum(b.num_rows for b in gen_batches), lambda: [impl.write(b) for b in gen_batches])
    phase("upsert (5 rounds)", sum(b.num_rows for b in upserts), lambda: [impl.write(b) for b in upserts])
    data = phase("full read", expected[0], impl.full_read)
    rows, total = data.num_rows, pc.sum(data["amount"]).as_py()
    if rows != expected[0] or abs(total - expected[1]) > 1e-6 * max(1.0, abs(expected[1])):
        raise SystemExit(f"{impl.name}: full read gave {rows} rows, sum {total}; expected {expected}")
    del data
    if not hasattr(impl, "range"):
        return
    got = phase("range (1 %)", hi - lo + 1, lambda: impl.range(lo, hi))
    if got.num_rows != hi - lo + 1:
        raise SystemExit(f"{impl.name}: range gave {got.num_rows} rows, expected {hi - lo + 1}")
    impl.get_warm(get_keys[0])  # open (and cache) the index: warm gets measure lookups only
    # An implementation whose GET is a filtered read of the whole table is timed on the first
    # `slow_gets` keys only; the report scales its time to the 100 keys (per-key time × 100).
    keys = get_keys if slow_gets is None else get_keys[:slow_gets]
    scale = len(get_keys) / len(keys)

    def scaled(name, fn):
        found = phase(name, len(get_keys), fn)
        seconds, rows = report[name][impl.name]
        report[name][impl.name] = (seconds * scale, rows)
        return found

    found = scaled("GET warm (100 keys)", lambda: [impl.get_warm(k) for k in keys])
    assert all((f is not None) and (getattr(f, "num_rows", 1) == 1) for f in found), impl.name
    scaled("GET cold (100 keys)", lambda: [impl.get_cold(k) for k in keys])
    many = phase("multi-get (10 k keys)", len(multi_keys), lambda: impl.multi_get(multi_keys))
    if many.num_rows != len(multi_keys):
        raise SystemExit(f"{impl.name}: multi-get found {many.num_rows} of {len(multi_keys)}")
    changes = phase("last commit's changes", upserts[-1].num_rows, impl.last_changes)
    if changes is None or changes.num_rows != upserts[-1].num_rows:
        raise SystemExit(
            f"{impl.name}: last commit's changes had {None if changes is None else changes.num_rows} rows"
        )


def rust_baseline(binary, work, batches, upserts, lo, hi, get_keys, multi_keys, buckets, report):
    """Runs the phases through the Rust library (see the module doc) and adds its times."""
    data = os.path.join(work, "rust-input")
    os.makedirs(data, exist_ok=True)
    for prefix, group in (("load", batches), ("upsert", upserts)):
        for i, batch in enumerate(group):
            with pa.OSFile(os.path.join(data, f"{prefix}-{i:03d}.arrow"), "wb") as f:
                with pa.ipc.new_file(f, batch.schema) as w:
                    w.write_batch(batch)
    with open(os.path.join(data, "keys.json"), "w") as f:
        json.dump({"lo": lo, "hi": hi, "get_keys": get_keys, "multi_keys": multi_keys}, f)
    out = subprocess.run(
        [binary, "--input", data, "--warehouse", os.path.join(work, "rust"), "--buckets", str(buckets)],
        check=True, stdout=subprocess.PIPE, text=True,
    )
    times = json.loads(out.stdout)
    for name, by in report.items():
        if name in times and "streamhouse" in by:
            by["rust library"] = (times[name], by["streamhouse"][1])


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--buckets", type=int, default=4)
    parser.add_argument("--work", help="directory for the warehouse (default: a temporary one)")
    parser.add_argument("--skip-pypaimon", action="store_true")
    parser.add_argument("--skip-pypaimon-rust", action="store_true")
    parser.add_argument(
        "--rust-baseline", metavar="BINARY",
        help="the python-phases binary: run the same phases through the Rust library (Python overhead)",
    )
    parser.add_argument(
        "--pypaimon-gets", type=int, default=10,
        help="keys pypaimon's GET phases time (each a filtered full read), scaled to 100 in the table",
    )
    args = parser.parse_args(argv)

    gen = Generator(args.scale)
    batches = gen.load_batches()
    upserts = gen.upsert_rounds()
    expected = gen.expected()
    n_keys = gen.next_id
    lo, hi = int(1_062_502 * args.scale), int(1_087_501 * args.scale)
    rng = np.random.default_rng(SEED + 1)
    get_keys = [int(k) for k in rng.choice(n_keys, size=100, replace=False)]
    multi_keys = [int(k) for k in rng.choice(n_keys, size=min(10_000, n_keys), replace=False)]

    work = args.work or tempfile.mkdtemp(prefix="workload-w-py-")
    os.makedirs(work, exist_ok=True)
    report = {}
    try:
        impls = [Ours(os.path.join(work, "ours"), args.buckets)]
        if not args.skip_pypaimon:
            impls.append(Pypaimon(os.path.join(work, "pypaimon"), args.buckets))
        if not args.skip_pypaimon_rust:
            impls.append(PypaimonRust(os.path.join(work, "pypaimon-rust"), args.buckets))
        for impl in impls:
            slow = args.pypaimon_gets if isinstance(impl, Pypaimon) else None
            run(impl, batches, upserts, expected, lo, hi, get_keys, multi_keys, report, slow)
        if args.rust_baseline:
            rust_baseline(
                args.rust_baseline, work, batches, upserts, lo, hi, get_keys, multi_keys,
                args.buckets, report,
            )
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nworkload W, scale {args.scale}, bucket {args.buckets}, streamhouse {streamhouse.__version__}\n")
    print(
        "| phase | rows | streamhouse s | rows/s | pypaimon 2.1.0 s | rows/s | pypaimon / streamhouse "
        "| pypaimon-rust 0.4.0 s | rows/s | pypaimon-rust / streamhouse | Rust library s | streamhouse / Rust |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, by in report.items():
        ours = by.get("streamhouse")
        theirs = by.get("pypaimon 2.1.0")
        rows = ours[1]

        def cells(r):
            return ("", "") if r is None else (f"{r[0]:.3f}", f"{r[1] / r[0]:,.0f}" if r[0] > 0 else "")

        rust = by.get("pypaimon-rust 0.4.0")

        def ratio(other):
            return f"{other[0] / ours[0]:.1f}×" if ours and other and ours[0] > 0 else ""

        lib = by.get("rust library")
        overhead = f"{ours[0] / lib[0]:.2f}×" if ours and lib and lib[0] > 0 else ""
        print(
            f"| {name} | {rows:,} | {' | '.join(cells(ours))} | {' | '.join(cells(theirs))} | {ratio(theirs)} "
            f"| {' | '.join(cells(rust))} | {ratio(rust)} | {'' if lib is None else f'{lib[0]:.3f}'} | {overhead} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

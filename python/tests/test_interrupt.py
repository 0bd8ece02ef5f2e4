"""Ctrl-C (SIGINT) during a blocking call raises KeyboardInterrupt promptly; an interrupted
write commits nothing. Each case runs in a child interpreter that is sent SIGINT."""

import os
import signal
import subprocess
import sys
import textwrap
import time

PRELUDE = """
import sys, time
import pyarrow as pa
import streamhouse
cat = streamhouse.Catalog(sys.argv[1])
t = cat.create_table("db.t", schema="id BIGINT NOT NULL, v STRING", primary_key=["id"],
                     options={"bucket": "2"}, if_not_exists=True)
"""


def run_interrupted(tmp_path, body, delay):
    script = tmp_path / "child.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    child = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "wh")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "ready", child.stderr.read()
    time.sleep(delay)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    return out, err, time.monotonic() - sent


def test_ctrl_c_stops_a_following_tail(tmp_path):
    out, err, took = run_interrupted(
        tmp_path,
        """
        t.write({"id": [1], "v": ["a"]})
        print("ready", flush=True)
        try:
            for batch in t.tail(start="latest", follow=True):
                pass
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        """,
        0.5,
    )
    assert "interrupted" in out, err
    assert took < 5


def test_ctrl_c_during_a_write_commits_nothing(tmp_path):
    out, err, took = run_interrupted(
        tmp_path,
        """
        n = 3_000_000
        data = pa.table({"id": pa.array(range(n), pa.int64()), "v": pa.array(["x" * 20] * n)})
        print("ready", flush=True)
        try:
            t.write(data.to_reader(max_chunksize=2_000))
            print("finished", flush=True)
        except KeyboardInterrupt:
            print("interrupted", t.latest_snapshot_id(), flush=True)
        """,
        0.5,
    )
    assert "interrupted None" in out, (out, err)
    assert took < 5
    assert streamhouse_table_rows(tmp_path) == 0


def streamhouse_table_rows(tmp_path):
    import streamhouse

    return streamhouse.Catalog(str(tmp_path / "wh")).table("db.t").to_arrow().num_rows

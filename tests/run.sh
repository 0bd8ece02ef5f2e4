#!/usr/bin/env bash
# Runs ALL of Streamhouse's tests: the one entry point for developers and CI (.ci/run).
#
#   bash tests/run.sh
#
# Needs Rust (cargo), Python >= 3.9 with venv/pip, Java 17+ with Maven, and access to crates.io,
# PyPI and Maven Central. Steps:
#   1. Python venv .venv-tests/ (git-ignored) with tests/python/requirements.txt, pinned by
#      constraints.txt; rebuilt only when those files change.
#   2. A moto S3 server on 127.0.0.1:<free port> with bucket `lake` (through
#      tests/python/moto_server_atomic.py, which makes conditional puts atomic); stopped on exit.
#      Exported for the tests: STREAMHOUSE_PYTHON, STREAMHOUSE_S3_ENDPOINT, STREAMHOUSE_S3_BUCKET,
#      AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ALLOW_HTTP.
#   3. The JVM test bench tests/jvm/ (Maven: Apache Paimon's Java library 1.3.1 and Flink 1.20.3
#      with Paimon's Flink connector), exported as STREAMHOUSE_JVM_BENCH (its jar, whose
#      manifest names the jars in tests/jvm/target/lib/).
#      Needs Java 17+ and Maven 3.8+ with access to Maven Central (~/.m2 is a cache, not a need).
#   4. cargo fmt --check, then cargo test --workspace --locked (debug; one build; a stale
#      Cargo.lock is an error), then cargo clippy --workspace --all-targets -D warnings.
#   5. The streamhouse CLI binary (reuses step 4's build); then the Python package python/
#      installed into the venv with `pip install ./python` (maturin, dev profile, the same target
#      dir, so only the extension crate itself is compiled again), and its pytest suite
#      python/tests (with the moto server and pypaimon).
#   6. tests/paimon-peer (a separate cargo workspace with its own target dir), then
#      tests/python/peer_check.py: the `paimon` crate, pypaimon and each table's expected rows must
#      agree on tables written by pypaimon and by the streamhouse CLI.
#   7. A bounded cargo-fuzz run of every decoder target in format/fuzz/ (FUZZ_SECONDS per target,
#      default 30; installs cargo-fuzz from crates.io if missing; RUSTC_BOOTSTRAP=1 on stable).
# Every step runs even if an earlier test step failed; the exit status is non-zero if any failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV="$ROOT/.venv-tests"
MAIN_TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
# A one-shot run (CI) gains nothing from incremental compilation, which would write several GB
# of caches beside the build; a developer's repeated runs keep it.
if [ -n "${CI:-}" ]; then
    export CARGO_INCREMENTAL=0
fi
PEER_DIR="$ROOT/tests/paimon-peer"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/streamhouse-tests.XXXXXX")
MOTO_PID=""
RUN_STARTED=$SECONDS
PASSED=0
FAILED=0
SUMMARY=()

cleanup() {
    if [ -n "$MOTO_PID" ]; then
        kill "$MOTO_PID" 2>/dev/null || true
        wait "$MOTO_PID" 2>/dev/null || true
    fi
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

section() {
    printf '\n==================== %s ====================\n' "$1"
}

die() {
    echo "tests/run.sh: $*" >&2
    exit 1
}

# Free space where the builds go: every step prints it, since a full disk is a failure too.
disk_free() {
    local dir=$MAIN_TARGET
    [ -d "$dir" ] || dir=$ROOT
    df -h --output=avail "$dir" 2>/dev/null | tail -n 1 | tr -d ' ' || echo "?"
}

# step NAME COMMAND...: runs a test step, records its outcome and time, never aborts the run.
# COMMAND runs with errexit off (it sits in an `||` list), so each step is a single command.
step() {
    local name=$1 started=$SECONDS status=0
    shift
    section "$name"
    "$@" || status=$?
    local took=$((SECONDS - started)) free
    free=$(disk_free)
    echo "-- $name: exit $status after ${took}s; $free free on the build disk"
    if [ "$status" -eq 0 ]; then
        PASSED=$((PASSED + 1))
        SUMMARY+=("ok      ${took}s  $name ($free free)")
    else
        FAILED=$((FAILED + 1))
        SUMMARY+=("FAILED  ${took}s  $name (exit $status; $free free)")
    fi
}

# --- 1. Python venv ---------------------------------------------------------------------------
setup_venv() {
    local python stamp
    python=$(command -v python3.11 || command -v python3 || true)
    [ -n "$python" ] || die "no python3 found (Python 3.11 is expected)"
    stamp=$(cat tests/python/requirements.txt tests/python/constraints.txt \
        <("$python" --version 2>&1) | sha256sum | cut -d' ' -f1)
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.installed" 2>/dev/null)" = "$stamp" ]; then
        echo "venv $VENV is up to date"
        return
    fi
    echo "creating $VENV with $("$python" --version 2>&1)"
    rm -rf "$VENV"
    "$python" -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    "$VENV/bin/pip" install --disable-pip-version-check --no-input -q \
        -r tests/python/requirements.txt -c tests/python/constraints.txt \
        || die "pip install of tests/python/requirements.txt failed"
    echo "$stamp" > "$VENV/.installed"
}

# --- 2. moto S3 server ------------------------------------------------------------------------
free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits for the server, then creates bucket `lake`; fails if the server died or never answered.
moto_ready() {
    "$VENV/bin/python" - "$1" "$MOTO_PID" <<'PY'
import os, sys, time, urllib.request
endpoint, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 30
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("moto exited")
    try:
        urllib.request.urlopen(endpoint + "/moto-api/", timeout=2).read()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("moto did not answer within 30 s")
        time.sleep(0.2)
request = urllib.request.Request(endpoint + "/lake", method="PUT")
urllib.request.urlopen(request, timeout=10).read()
PY
}

start_moto() {
    local port endpoint attempt
    for attempt in 1 2 3; do
        port=$(free_port)
        endpoint="http://127.0.0.1:$port"
        # moto's own server can let two racing create-only puts of one key both win under
        # load; this launcher serves the same app with writes made atomic.
        "$VENV/bin/python" tests/python/moto_server_atomic.py -H 127.0.0.1 -p "$port" \
            > "$SCRATCH/moto.log" 2>&1 &
        MOTO_PID=$!
        if moto_ready "$endpoint"; then
            echo "moto S3 server (pid $MOTO_PID) at $endpoint, bucket lake"
            export STREAMHOUSE_S3_ENDPOINT="$endpoint" STREAMHOUSE_S3_BUCKET=lake
            export AWS_ENDPOINT_URL="$endpoint" AWS_ALLOW_HTTP=true
            export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
            export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
            return
        fi
        echo "moto did not start on port $port (attempt $attempt):"
        tail -n 20 "$SCRATCH/moto.log" || true
        kill "$MOTO_PID" 2>/dev/null || true
        wait "$MOTO_PID" 2>/dev/null || true
        MOTO_PID=""
    done
    die "could not start the moto S3 server"
}

# --- 3. the JVM bench ----------------------------------------------------------------------------
JVM_BENCH_JAR="$ROOT/tests/jvm/target/streamhouse-jvm-bench.jar"

# Builds tests/jvm quietly (Maven prints only errors) and exports STREAMHOUSE_JVM_BENCH for the
# Rust tests (tests/integration/java_support.rs); left unset when the build fails, so those
# tests fail under CI and skip loudly otherwise.
build_jvm_bench() {
    command -v mvn >/dev/null || { echo "mvn not found (apt-get install maven)"; return 1; }
    command -v java >/dev/null || { echo "java not found (apt-get install openjdk-17-jdk-headless)"; return 1; }
    rm -rf "$ROOT/tests/jvm/target/lib" # no stale jars when a dependency changes
    # Debian's Maven prints bare colour resets even in quiet batch mode: strip them.
    mvn -B -q -f tests/jvm/pom.xml package -DskipTests 2>&1 | sed -e 's/\x1b\[0m//g' || return 1
    [ -f "$JVM_BENCH_JAR" ] || { echo "no $JVM_BENCH_JAR after the build"; return 1; }
    export STREAMHOUSE_JVM_BENCH="$JVM_BENCH_JAR"
    echo "STREAMHOUSE_JVM_BENCH=$STREAMHOUSE_JVM_BENCH"
}

# --- 5./6. binaries and the cross-check -------------------------------------------------------
# `cargo test` builds the CLI only as a test harness; this links the real binary from the same
# dependency builds.
build_cli() {
    cargo build --locked --workspace --bins
}

# `pip install ./python` as a newcomer runs it, but with maturin from the venv (pinned), the dev
# profile and this run's target dir, so the stack built in step 4 is reused.
install_python_package() {
    PATH="$VENV/bin:$PATH" CARGO_TARGET_DIR="$MAIN_TARGET" MATURIN_PEP517_ARGS="--profile dev --locked" \
        "$VENV/bin/pip" install --disable-pip-version-check --no-input -q \
        --no-build-isolation --no-deps --force-reinstall ./python
}

python_tests() {
    # From python/tests, so that `import streamhouse` is the installed package.
    (cd python/tests && "$VENV/bin/python" -m pytest -q -p no:cacheprovider .)
}

build_peer() {
    CARGO_TARGET_DIR="$PEER_DIR/target" cargo build --locked --manifest-path "$PEER_DIR/Cargo.toml"
}

peer_check() {
    local status=0
    "$VENV/bin/python" tests/python/peer_check.py \
        --peer "$PEER_DIR/target/debug/paimon-peer" \
        --streamhouse "$MAIN_TARGET/debug/streamhouse" \
        --work "$SCRATCH/peer-check" || status=$?
    # Under CI the peer's build is not needed again: give its disk to the fuzz build.
    if [ -n "${CI:-}" ]; then
        rm -rf "$PEER_DIR/target"
    fi
    return "$status"
}

fuzz_bounded() {
    mkdir -p "$SCRATCH/fuzz"
    bash format/fuzz/run-fuzz.sh "$SCRATCH/fuzz"
}

section "python venv (pypaimon, moto)"
started=$SECONDS
setup_venv
export STREAMHOUSE_PYTHON="$VENV/bin/python"
echo "STREAMHOUSE_PYTHON=$STREAMHOUSE_PYTHON ($((SECONDS - started))s)"

section "moto S3 server"
start_moto

step "build the JVM bench tests/jvm (Maven, Paimon Java 1.3.1, Flink 1.20.3)" build_jvm_bench
step "cargo fmt --check" cargo fmt --all -- --check
step "cargo test --workspace --locked" cargo test --workspace --locked
step "cargo clippy --workspace --all-targets (warnings are errors)" \
    cargo clippy --locked --workspace --all-targets -- -D warnings
step "build the streamhouse CLI" build_cli
step "install the Python package (pip install ./python, maturin)" install_python_package
step "Python package tests (pytest python/tests)" python_tests
step "build tests/paimon-peer (the paimon crate)" build_peer
if [ -x "$PEER_DIR/target/debug/paimon-peer" ]; then
    mkdir -p "$SCRATCH/peer-check"
    step "peer check: paimon crate vs pypaimon vs expected" peer_check
fi

step "fuzz: every decoder target for ${FUZZ_SECONDS:-30}s (cargo-fuzz)" fuzz_bounded

section "summary"
printf '%s\n' "${SUMMARY[@]}"
echo "total $((SECONDS - RUN_STARTED))s"
echo "steps: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]

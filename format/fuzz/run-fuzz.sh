#!/usr/bin/env bash
# A bounded cargo-fuzz run of every target (what tests/run.sh calls):
#
#   bash format/fuzz/run-fuzz.sh [WORK_DIR]
#
# FUZZ_SECONDS (default 30) bounds each target. Installs cargo-fuzz from crates.io when it is
# missing. cargo-fuzz needs nightly flags (-Zsanitizer=address, sanitizer coverage);
# RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them. The seed corpus comes from a real
# table written by the library (the `fuzz_mutations` integration test writes it), so seeds
# always match the current format. A crash fails the run and names the saved input; turn it
# into a test in tests/integration/regressions.rs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=${1:-$(mktemp -d "${TMPDIR:-/tmp}/streamhouse-fuzz.XXXXXX")}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-30}
TARGETS=(binary_row manifest_avro snapshot_json schema_json deletion_vector)
mkdir -p "$WORK"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz from crates.io"
    cargo install cargo-fuzz --locked --quiet
fi

echo "writing seed corpora to $WORK/corpus"
(cd "$ROOT" && STREAMHOUSE_FUZZ_SEED_DIR="$WORK/corpus" STREAMHOUSE_FUZZ_MUTATIONS=1 \
    cargo test -q -p streamhouse-tests --test integration fuzz_mutations:: >/dev/null)

cd "$ROOT/format/fuzz"
export RUSTC_BOOTSTRAP=1
echo "building the fuzz targets (debug, AddressSanitizer)"
cargo fuzz build --dev

status=0
summary=()
for t in "${TARGETS[@]}"; do
    log="$WORK/$t.log"
    mkdir -p "$WORK/corpus/$t" "$WORK/artifacts/$t"
    echo "fuzzing $t for ${SECONDS_PER_TARGET}s"
    if cargo fuzz run --dev "$t" "$WORK/corpus/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -malloc_limit_mb=1024 \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$WORK/artifacts/$t/" >"$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
        summary+=("$t $runs")
    else
        status=1
        summary+=("$t FAILED")
        echo "fuzz target $t found a failure; the input is in $WORK/artifacts/$t:" >&2
        grep -E 'ERROR|panicked|SUMMARY|Test unit written' "$log" | head -20 >&2 || tail -40 "$log" >&2
    fi
done
echo "fuzz executions per target (${SECONDS_PER_TARGET}s each): ${summary[*]}"
exit $status

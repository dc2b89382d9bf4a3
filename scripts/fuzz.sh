#!/usr/bin/env bash
# `make fuzz`: every fuzz target of fuzz/ (docs/fuzzing.md) for FUZZ_SECS seconds each
# (default 60), coverage-guided by libFuzzer, on the stable toolchain: the build passes
# LLVM's sanitizer-coverage flags by hand (what cargo-fuzz passes with `--sanitizer none`),
# so no nightly and no extra tool is needed; the `fuzz` profile is Cargo.toml's. Each target starts from its seeds
# (fuzz/corpus/TARGET, kept in the repository) and a working corpus under target/fuzz/,
# which grows across runs. A crash stops the run with the input saved under
# target/fuzz/artifacts/TARGET/ and a non-zero exit. FUZZ_TARGETS="verify sse" picks some.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

# --smoke (what `make test` runs): the targets built like the test build (no coverage
# instrumentation, the same features, so little to compile), each run over its seeds and
# FUZZ_RUNS (2000) mutations of them. It shows that every target builds, runs and passes its
# seeds; finding bugs takes the coverage-guided runs.
SMOKE=0
[ "${1:-}" = --smoke ] && SMOKE=1
SECS=${FUZZ_SECS:-60}
TARGETS=${FUZZ_TARGETS:-$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^mcp-oauth-gateway-fuzz$')}
OUT="$ROOT/target/fuzz"
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')

if [ "$SMOKE" = 1 ]; then
  cargo build --locked -p mcp-oauth-gateway-fuzz --features mcp-oauth-gateway/shared-test-build --bins
  for t in $TARGETS; do
    scratch=$(mktemp -d)
    # New inputs go to the first directory (scratch), never into the seeds.
    if ! "$ROOT/target/debug/$t" -runs="${FUZZ_RUNS:-2000}" -seed=1 -max_len=65536 \
        -artifact_prefix="$scratch/" "$scratch" "fuzz/corpus/$t" > "$scratch/log" 2>&1; then
      grep -E 'panicked at|deadly signal|SUMMARY' "$scratch/log" >&2 || tail -n 20 "$scratch/log" >&2
      die "fuzz smoke: $t failed (log and input in $scratch)"
    fi
    echo "fuzz smoke: $t: $(grep -oE '^#[0-9]+[[:space:]]+DONE.*' "$scratch/log" | head -n 1)"
    rm -rf "$scratch"
  done
  exit 0
fi

say "Building the fuzz targets (instrumented release build, $TRIPLE)"
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
  cargo build --locked --profile fuzz -p mcp-oauth-gateway-fuzz --target "$TRIPLE" \
  --target-dir "$OUT/build" --bins

failed=()
for t in $TARGETS; do
  say "fuzz $t for ${SECS}s"
  mkdir -p "$OUT/corpus/$t" "$OUT/artifacts/$t"
  status=0
  "$OUT/build/$TRIPLE/fuzz/$t" -max_total_time="$SECS" -print_final_stats=1 \
    -artifact_prefix="$OUT/artifacts/$t/" -max_len=65536 \
    "$OUT/corpus/$t" "fuzz/corpus/$t" > "$OUT/$t.log" 2>&1 || status=$?
  # The summary: executions, speed, coverage (cov: edges, ft: features), corpus size.
  grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$OUT/$t.log" || true
  if [ "$status" -ne 0 ]; then
    grep -E 'panicked at|deadly signal|Test unit written|SUMMARY' "$OUT/$t.log" >&2 || tail -n 20 "$OUT/$t.log" >&2
    failed+=("$t")
  fi
done
[ ${#failed[@]} -eq 0 ] || die "crashes in: ${failed[*]} (inputs under ${OUT#"$ROOT"/}/artifacts/, logs ${OUT#"$ROOT"/}/TARGET.log)"
say "No crash in: $(echo $TARGETS)"

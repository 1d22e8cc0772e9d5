#!/usr/bin/env bash
# Builds one libFuzzer target of tools/fuzz (onnx, png or jpeg) and runs it for SECONDS on one core,
# seeded from the repository's fixtures; findings (crash-*, timeout-*, oom-*, slow-unit-*) go to OUT/findings.
#
# usage: tools/fuzz/run-libfuzzer.sh TARGET SECONDS [OUT]        (OUT defaults to /tmp/libfuzzer-TARGET)
#   environment: SCRATCH   build folder (default: .build-libfuzzer at the repository root)
#                ASAN=1    add AddressSanitizer (slower to build and run)
#                NO_BUILD=1  run the binary already built
#                KEEP_GOING=1  go on after a finding (fork mode; see below)
#                FUZZ_ARGS   extra libFuzzer flags, e.g. "-seed=1 -max_len=4096"
#                PYTHON      a Python with onnx for the ONNX seeds (default: python3 if it has onnx, else
#                            .venv-conformance/bin/python, which tools/conformance.sh makes)
#                CONFORMANCE_DATA  the node suite's parent for ONNX seeds (default: conformance-data, which
#                            tools/conformance.sh makes); Tests/Fixtures' models are seeds in any case
#
# OUT/corpus keeps the inputs libFuzzer found interesting, so a second run goes on where the first stopped.
# A finding is reproduced by running the binary on the file: $SCRATCH/debug/fuzz-TARGET OUT/findings/crash-...
# Prints executions, findings and peak RSS; exits 1 if anything was found. Timeouts that finish when re-run
# alone are set apart as slow-under-load (see below), not counted as findings.
#
# The build is `-c debug -Xswiftc -O`: optimized, but without the -Ounchecked the main package gives Tensor
# in release, so integer overflow and bounds traps stay on in every module (a fuzzer should see them).
set -euo pipefail
target=${1:?usage: run-libfuzzer.sh onnx|png|jpeg SECONDS [OUT]}
seconds=${2:?usage: run-libfuzzer.sh onnx|png|jpeg SECONDS [OUT]}
case "$target" in onnx|png|jpeg) ;; *) echo "unknown target $target (onnx, png or jpeg)" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mkdir -p "${3:-/tmp/libfuzzer-$target}" && cd "${3:-/tmp/libfuzzer-$target}" && pwd)
scratch=${SCRATCH:-$root/.build-libfuzzer}
export OPENBLAS_NUM_THREADS=1
# Swift's own crash backtracer takes SIGILL (a Swift trap) before libFuzzer can save the input; off.
export SWIFT_BACKTRACE=enable=no

# --sanitize (not -Xswiftc -sanitize=...): SwiftPM then leaves `main` to libFuzzer instead of linking the
# executable's renamed Swift entry point as main.
sanitizers=(--sanitize fuzzer)
[ "${ASAN:-0}" = 1 ] && sanitizers+=(--sanitize address)
if [ "${NO_BUILD:-0}" != 1 ]; then
  # The main package's pins, so the build resolves from SwiftPM's cache without the network.
  [ -f "$root/tools/fuzz/Package.resolved" ] || [ ! -f "$root/Package.resolved" ] \
    || cp "$root/Package.resolved" "$root/tools/fuzz/Package.resolved"
  (cd "$root/tools/fuzz" && swift build --scratch-path "$scratch" -c debug --product "fuzz-$target" \
    "${sanitizers[@]}" -Xswiftc -O -Xswiftc -parse-as-library)
fi
binary=$scratch/debug/fuzz-$target

mkdir -p "$out/seeds" "$out/corpus" "$out/findings"
case "$target" in
  onnx)
    roots=()
    node=${CONFORMANCE_DATA:-$root/conformance-data}/node
    for r in "$node" "$root"/Tests/Fixtures/{golden,parity,fuzz,hostile}; do
      [ -d "$r" ] && roots+=("$r")
    done
    [ -d "$node" ] || echo "note: no $node (tools/conformance.sh makes it); seeding from Tests/Fixtures only" >&2
    python=${PYTHON:-python3}
    [ -n "${PYTHON:-}" ] || python3 -c 'import onnx' >/dev/null 2>&1 || python=$root/.venv-conformance/bin/python
    "$python" "$root/tools/fuzz/make-libfuzzer-seeds.py" "$out/seeds" "${roots[@]}"
    max_len=200000 ;;
  png)
    cp "$root"/Tests/Fixtures/images/*.png "$root"/examples/*.png "$root"/docs/*.png "$out/seeds/"
    max_len=65536 ;;
  jpeg)
    cp "$root"/Tests/Fixtures/images/*.jpg "$root"/docs/*.jpg "$out/seeds/"
    max_len=65536 ;;
esac

log=$out/fuzz.log
flags=(-max_total_time="$seconds" -rss_limit_mb=4096 -timeout=10 -max_len="$max_len"
       -artifact_prefix="$out/findings/" -print_final_stats=1)
# KEEP_GOING=1: libFuzzer's fork mode, one worker process at a time that is restarted after a finding, so
# one run collects every finding instead of stopping at the first.
[ "${KEEP_GOING:-0}" = 1 ] && flags+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
# The peak RSS over the fuzzer and its workers (GNU time reports the largest waited-for descendant).
timer=()
[ -x /usr/bin/time ] && timer=(/usr/bin/time -f %M -o "$out/peak-rss-kb")
status=0
# shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
"${timer[@]}" "$binary" "$out/corpus" "$out/seeds" "${flags[@]}" ${FUZZ_ARGS:-} 2>"$log" || status=$?
# Executions: the final stats, or in fork mode the last progress line's count.
executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
[ -n "$executions" ] || executions=$(sed -n 's/^#\([0-9]*\):* .*/\1/p' "$log" | tail -1)
peak=$( [ -f "$out/peak-rss-kb" ] && echo $(( $(tail -1 "$out/peak-rss-kb" | tr -dc 0-9) / 1024 )) )
# A timeout is re-run alone (-timeout=30): one that finishes is legitimate work that the machine's load
# stretched past 10 s (moved to OUT/slow-under-load, with its time alone), not a hang.
mkdir -p "$out/slow-under-load"
for t in "$out"/findings/timeout-*; do
  [ -f "$t" ] || continue
  start=$(date +%s%N)
  if "$binary" -runs=1 -timeout=30 -rss_limit_mb=4096 "$t" >/dev/null 2>&1; then
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    mv "$t" "$out/slow-under-load/"
    echo "$(basename "$t"): ${elapsed} ms when re-run alone; not a hang" | tee -a "$out/slow-under-load/README"
  fi
done
findings=$(find "$out/findings" -type f | wc -l)
echo "fuzz-$target: ${executions:-?} executions in ${seconds} s, $findings finding(s) in $out/findings, peak RSS ${peak:-?} MiB (log: $log)"
if [ "$findings" -gt 0 ] || [ "$status" -ne 0 ]; then
  grep -E '^(==[0-9]+==|SUMMARY|Fatal error|.*: Fatal error)' "$log" | head -5 >&2 || true
  exit 1
fi

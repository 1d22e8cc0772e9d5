#!/usr/bin/env bash
# Data-parallel scaling on this machine: training images/s with 1 process and with N (one thread and one core
# each), the time and bytes of the per-step gradient all-reduces, and a paper estimate for 8 processes on
# separate machines over 10 Gb/s Ethernet from the measured bytes.
# Usage: tools/mpi/scaling.sh PAGES [BINARY] [STEPS] [N]   (e.g. a folder of Pepper&Carrot pages)
# The architecture is the default model's (6 levels, widths x0.25, 128 crops, PatchGAN, a*b* classes).
set -euo pipefail
pages=$(realpath "$1"); mc=$(realpath "${2:-.build/release/mangacolor}"); steps=${3:-60}; n=${4:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--data "$pages" --size 128 --levels 6 --width-multiplier 0.25 --discriminator patch --colour ab-classes
      --l1-weight 10 --feature-matching 10 --steps "$steps" --checkpoint-every 100000 --seed 3 --batch-size 1)
taskset -c 0 "$mc" train "${args[@]}" --out "$work/one" >/dev/null 2>"$work/one.log" || { cat "$work/one.log"; exit 1; }
mpirun -n "$n" --bind-to core --mca btl self,vader,tcp "$mc" train "${args[@]}" --out "$work/many" >/dev/null 2>"$work/many.log" \
  || { cat "$work/many.log"; exit 1; }
python3 - "$work" "$n" <<'PY'
import json, statistics, sys
work, n = sys.argv[1], int(sys.argv[2])
def rows(run):
    r = [json.loads(l) for l in open(f"{work}/{run}/metrics.jsonl")]
    return r[len(r) // 5:]  # skip warm-up steps
one, many = rows("one"), rows("many")
ips1 = statistics.median(r["imagesPerSecond"] for r in one)
ipsn = statistics.median(r["imagesPerSecond"] for r in many)
t1 = statistics.median(r["seconds"] for r in one)
tn = statistics.median(r["seconds"] for r in many)
ar = statistics.median(r["allReduceSeconds"] for r in many)
nbytes = statistics.median(r["allReduceBytes"] for r in many)
print(f"1 process : {ips1:.2f} images/s, {t1 * 1000:.0f} ms a step (batch 1)")
print(f"{n} processes: {ipsn:.2f} images/s, {tn * 1000:.0f} ms a step (global batch {n}); speed-up {ipsn / ips1:.2f}x, efficiency {ipsn / ips1 / n:.0%}")
print(f"all-reduce: {nbytes / 1e6:.2f} MB per process per step (G and D gradients, two calls), median {ar * 1000:.1f} ms a step "
      f"({ar / tn:.0%} of the step; includes waiting for the slower process)")
# Ring all-reduce: each process sends and receives 2 (P - 1) / P of the buffer; latency 2 (P - 1) messages per call.
p, link, latency, calls = 8, 10e9 / 8, 50e-6, 2
comm = 2 * (p - 1) / p * nbytes / link + calls * 2 * (p - 1) * latency
print(f"estimate, {p} machines over 10 Gb/s (ring all-reduce, {latency * 1e6:.0f} us a message): {comm * 1000:.1f} ms of communication "
      f"a step against {t1 * 1000:.0f} ms of compute -> {p * ips1 * t1 / (t1 + comm):.1f} images/s ({t1 / (t1 + comm):.0%} efficiency)")
PY

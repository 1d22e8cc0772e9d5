#!/usr/bin/env python3
"""Times `mangacolor bench` and onnxruntime on the same model and input shape, in one run.

Prints both medians and the ratio ours / onnxruntime (below 1 means we are faster). It reports; it never
asserts a speed. Default model: the seed generator (tools/seed-generator.py, width scale 1, seed 0) written
to a temporary file; default shape 1x1x512x512.

onnxruntime runs with intra_op_num_threads = --threads (default 2), inter_op 1, all graph optimisations, on a
random uniform [-1, 1) input; the median is over --runs timed runs after --warmup untimed ones.
`mangacolor bench` gets the same shape and --runs, and OPENBLAS_NUM_THREADS = --threads in its environment.

With --rounds R the two alternate R times and the medians of the per-round medians are compared.

usage: tools/bench-vs-onnxruntime.py [MODEL.onnx] [--shape 1x1x512x512] [--runs 5] [--rounds 1]
                                     [--mangacolor .build/release/mangacolor] [--only ours|ort]
"""
import argparse
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_LINE = re.compile(r"min\s+([0-9.]+)\s*ms,\s*median\s+([0-9.]+)\s*ms(?:,\s*([0-9.]+)\s*GFLOP/s)?")


def seed_generator(path, layout):
    spec = importlib.util.spec_from_file_location("seed_generator", os.path.join(ROOT, "tools", "seed-generator.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model, params, flops = module.build(layout=layout)
    import onnx
    onnx.save(model, path)
    print(f"seed generator ({layout} layout): {params / 1e6:.2f} M parameters, {flops / 1e9:.2f} GFLOP at 1x1x512x512 -> {path}")


def time_onnxruntime(model, shape, runs, warmup, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    if len(inputs) != 1:
        sys.exit(f"error: the model has {len(inputs)} inputs; this script feeds one (give a one-input model)")
    dtype = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16}.get(inputs[0].type)
    if dtype is None:
        sys.exit(f"error: input \"{inputs[0].name}\" is {inputs[0].type}; this script feeds float tensors only")
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype(dtype)
    return session_times(session, {inputs[0].name: x}, runs, warmup)


def session_times(session, feed, runs, warmup):
    """(min, median) milliseconds of `runs` timed session.run calls after `warmup` untimed ones."""
    for _ in range(warmup):
        session.run(None, feed)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feed)
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def time_ours(binary, model, shape_text, runs, threads):
    if not os.path.exists(binary):
        sys.exit(f"error: {binary} not found; build it with `swift build -c release` or pass --mangacolor PATH")
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
    command = [binary, "bench", model, "--shape", shape_text, "--runs", str(runs)]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(command)} exited {result.returncode}:\n{result.stderr.strip()}")
    for line in (result.stdout + result.stderr).splitlines():
        match = BENCH_LINE.search(line)
        if match:
            return float(match.group(1)), float(match.group(2)), line.strip()
    sys.exit(f"error: no `min X ms, median Y ms` line in the output of {' '.join(command)}:\n{result.stdout}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", help="ONNX model (default: the seed generator)")
    parser.add_argument("--shape", default="1x1x512x512", help="input shape, e.g. 1x1x512x512")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (median reported)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed onnxruntime runs first")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate ours and onnxruntime this many times (fairer on a busy machine)")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads, OPENBLAS_NUM_THREADS")
    parser.add_argument("--mangacolor", default=os.path.join(ROOT, ".build", "release", "mangacolor"),
                        help="the mangacolor binary (default: the release build)")
    parser.add_argument("--seed-layout", choices=["design", "trainer"], default="design",
                        help="the default model's layout (tools/seed-generator.py --layout)")
    parser.add_argument("--only", choices=["ours", "ort"], help="time only one side")
    args = parser.parse_args()

    try:
        shape = [int(d) for d in args.shape.lower().split("x")]
    except ValueError:
        sys.exit(f"error: --shape \"{args.shape}\" is not like 1x1x512x512")

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            model = os.path.join(tmp, "seed-generator.onnx")
            seed_generator(model, args.seed_layout)
        ours_medians, ort_medians = [], []
        for round_index in range(args.rounds):
            prefix = f"[{round_index + 1}/{args.rounds}] " if args.rounds > 1 else ""
            if args.only != "ort":
                ours = time_ours(args.mangacolor, model, args.shape, args.runs, args.threads)
                ours_medians.append(ours[1])
                print(f"{prefix}mangacolor : min {ours[0]:9.1f} ms, median {ours[1]:9.1f} ms   ({ours[2]})", flush=True)
            if args.only != "ours":
                ort_times = time_onnxruntime(model, shape, args.runs, args.warmup, args.threads)
                ort_medians.append(ort_times[1])
                print(f"{prefix}onnxruntime: min {ort_times[0]:9.1f} ms, median {ort_times[1]:9.1f} ms   "
                      f"({args.threads} intra-op threads, {args.runs} runs after {args.warmup} warm-up)", flush=True)
        if ours_medians and ort_medians:
            ours_m, ort_m = statistics.median(ours_medians), statistics.median(ort_medians)
            label = f"median of {args.rounds} rounds' medians" if args.rounds > 1 else "median"
            print(f"mangacolor {ours_m:.1f} ms, onnxruntime {ort_m:.1f} ms ({label}); "
                  f"ratio ours/onnxruntime: {ours_m / ort_m:.2f}")
        try:
            print(f"load average while timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
                  "(a busy machine makes both numbers noisy)")
        except OSError:
            pass


if __name__ == "__main__":
    main()

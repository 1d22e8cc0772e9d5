#!/usr/bin/env python3
"""Runs `mangacolor run` on the parity cases and compares with onnxruntime's outputs.

Every case folder under --fixtures (default Tests/Fixtures/parity) holds model.onnx and
test_data_set_N/input_K.pb, output_K.pb (onnxruntime's outputs, written by export_generators.py).
A case passes when every output has the expected shape and max |ours - onnxruntime| <= --tolerance (1e-4).

--full also exports each network afresh (export_generators.py, widths x2) with every exporter and runs it at
1x?x128x128 and 1x?x256x192 (dynamic H and W), comparing with onnxruntime run live.

Prints a table; exits 1 when any case fails, 2 when the binary is missing.

--seed-generator SHAPE also runs the full-width seed generator (tools/seed-generator.py, both layouts) at SHAPE.

usage: tools/parity/check.py [--mangacolor PATH] [--fixtures DIR] [--full] [--seed-generator 1x1x512x512]
                             [--tolerance 1e-4] [--filter TEXT]
"""
import argparse
import glob
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def default_binary():
    for config in ("release", "debug"):
        path = os.path.join(ROOT, ".build", config, "mangacolor")
        if os.path.exists(path):
            return path
    return os.path.join(ROOT, ".build", "debug", "mangacolor")


def read_pb(path):
    tensor = onnx.TensorProto()
    with open(path, "rb") as f:
        tensor.ParseFromString(f.read())
    return numpy_helper.to_array(tensor)


def write_pb(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array, name).SerializeToString())


def compare(got, want, tolerance):
    """Returns (ok, max abs diff or None, message) with the worst index and a few got/want pairs on failure."""
    if got.shape != want.shape:
        return False, None, f"shape {list(got.shape)}, want {list(want.shape)}"
    if got.size == 0:
        return True, 0.0, ""
    got64, want64 = got.astype(np.float64), want.astype(np.float64)
    diff = np.abs(got64 - want64)
    diff[np.isnan(got64) & np.isnan(want64)] = 0
    diff[np.isnan(diff)] = np.inf
    worst = float(diff.max())
    if worst <= tolerance:
        return True, worst, ""
    where = np.unravel_index(int(np.argmax(diff)), diff.shape)
    bad = np.argwhere(diff > tolerance)[:3]
    pairs = ", ".join(f"{list(map(int, i))}: {got64[tuple(i)]:.6g} vs {want64[tuple(i)]:.6g}" for i in bad)
    count = int((diff > tolerance).sum())
    return False, worst, (f"max abs diff {worst:.3g} at {list(map(int, where))}; {count} of {diff.size} elements "
                          f"past {tolerance:g}; got vs want {pairs}")


def run_ours(binary, model, input_paths, out_dir):
    """Runs mangacolor run; returns (outputs as arrays by index, seconds, error text or None)."""
    os.makedirs(out_dir, exist_ok=True)
    command = [binary, "run", model]
    for path in input_paths:
        command += ["--input", path]
    command += ["--output-dir", out_dir, "--format", "npy"]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        text = (result.stderr.strip() or result.stdout.strip()).splitlines()
        return None, seconds, f"exit {result.returncode}: {text[-1] if text else '(no output)'}"
    outputs = {}
    for path in glob.glob(os.path.join(out_dir, "output_*.npy")):
        index = int(os.path.basename(path)[len("output_"):-len(".npy")])
        outputs[index] = np.load(path)
    return outputs, seconds, None


def check(binary, name, model, input_paths, expected, out_dir, tolerance):
    """One row of the table: (name, ok, max diff text, seconds, message)."""
    outputs, seconds, error = run_ours(binary, model, input_paths, out_dir)
    if error:
        return name, False, "-", seconds, error
    worst, messages, ok = 0.0, [], True
    for k, want in enumerate(expected):
        if k not in outputs:
            return name, False, "-", seconds, f"no output_{k}.npy written"
        good, diff, message = compare(outputs[k], want, tolerance)
        ok &= good
        if diff is not None:
            worst = max(worst, diff)
        if message:
            messages.append(f"output {k}: {message}")
    return name, ok, f"{worst:.2e}", seconds, "; ".join(messages)


def fixture_rows(binary, fixtures, tmp, tolerance, name_filter):
    rows = []
    for case in sorted(glob.glob(os.path.join(fixtures, "*", "model.onnx"))):
        case_dir = os.path.dirname(case)
        if name_filter and name_filter not in os.path.basename(case_dir):
            continue
        for data_dir in sorted(glob.glob(os.path.join(case_dir, "test_data_set_*"))):
            inputs = sorted(glob.glob(os.path.join(data_dir, "input_*.pb")),
                            key=lambda p: int(os.path.basename(p)[6:-3]))
            outputs = sorted(glob.glob(os.path.join(data_dir, "output_*.pb")),
                             key=lambda p: int(os.path.basename(p)[7:-3]))
            expected = [read_pb(p) for p in outputs]
            shape = "x".join(map(str, read_pb(inputs[0]).shape)) if inputs else ""
            name = f"{os.path.basename(case_dir)} {shape}"
            out_dir = os.path.join(tmp, os.path.basename(case_dir), os.path.basename(data_dir))
            rows.append(check(binary, name, case, inputs, expected, out_dir, tolerance))
            print_row(rows[-1])
    return rows


def full_rows(binary, tmp, tolerance, name_filter):
    spec = importlib.util.spec_from_file_location("export_generators", os.path.join(HERE, "export_generators.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    import onnxruntime as ort
    rows = []
    rng = np.random.default_rng(7)
    for net_name in gen.NETWORKS:
        for exporter in gen.EXPORTERS:
            kind = "dynamo" if exporter == "dynamo" else "torchscript"
            guess = f"{net_name}_{kind}_opset{exporter[len('torchscript'):] if kind == 'torchscript' else 20}"
            if name_filter and name_filter not in guess:
                continue
            net, channels = gen.make_network(net_name, seed=1, width_scale=2)
            model = os.path.join(tmp, "full", f"{net_name}_{exporter}.onnx")
            os.makedirs(os.path.dirname(model), exist_ok=True)
            opset = gen.export(net, channels, exporter, model)
            label = f"{net_name}_{kind}_opset{opset} (fresh, x2)"
            session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
            input_name = session.get_inputs()[0].name
            for h, w in [(128, 128), (256, 192)]:
                x = rng.uniform(-1, 1, (1, channels, h, w)).astype(np.float32)
                want = session.run(None, {input_name: x})
                case_dir = os.path.join(tmp, "full", f"{net_name}_{exporter}_{h}x{w}")
                os.makedirs(case_dir, exist_ok=True)
                input_path = os.path.join(case_dir, "input_0.pb")
                write_pb(input_path, x, input_name)
                name = f"{label} 1x{channels}x{h}x{w}"
                rows.append(check(binary, name, model, [input_path], want, os.path.join(case_dir, "out"), tolerance))
                print_row(rows[-1])
    return rows


def seed_rows(binary, tmp, tolerance, shape):
    """The full-width seed generator (tools/seed-generator.py, seed 0) at `shape` against onnxruntime."""
    spec = importlib.util.spec_from_file_location("seed_generator", os.path.join(ROOT, "tools", "seed-generator.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import onnxruntime as ort
    rows = []
    for layout in ("design", "trainer"):
        model_proto, _, _ = module.build(layout=layout)
        model = os.path.join(tmp, f"seed-{layout}.onnx")
        onnx.save(model_proto, model)
        x = np.random.default_rng(5).uniform(-1, 1, shape).astype(np.float32)
        want = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, {"gray": x})
        input_path = os.path.join(tmp, f"seed-{layout}-input.pb")
        write_pb(input_path, x, "gray")
        name = f"seed generator ({layout} layout) {'x'.join(map(str, shape))}"
        rows.append(check(binary, name, model, [input_path], want, os.path.join(tmp, f"seed-{layout}"), tolerance))
        print_row(rows[-1])
    return rows


def print_row(row):
    name, ok, diff, seconds, message = row
    print(f"{'PASS' if ok else 'FAIL'}  {name:58s} {diff:>9s} {seconds:7.2f} s  {message}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mangacolor", default=default_binary(), help="the binary (default: release, else debug)")
    parser.add_argument("--fixtures", default=os.path.join(ROOT, "Tests", "Fixtures", "parity"))
    parser.add_argument("--full", action="store_true", help="also fresh exports at 128x128 and 256x192")
    parser.add_argument("--seed-generator", metavar="SHAPE",
                        help="also the full seed generator (both layouts) at SHAPE, e.g. 1x1x512x512")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--filter", help="only cases whose name contains this text")
    args = parser.parse_args()
    if not os.path.exists(args.mangacolor):
        print(f"error: {args.mangacolor} not found; build with `swift build` or pass --mangacolor PATH", file=sys.stderr)
        sys.exit(2)

    print(f"{'':4s}  {'case':58s} {'max diff':>9s} {'time':>9s}")
    with tempfile.TemporaryDirectory() as tmp:
        rows = fixture_rows(args.mangacolor, args.fixtures, tmp, args.tolerance, args.filter)
        if args.full:
            rows += full_rows(args.mangacolor, tmp, args.tolerance, args.filter)
        if args.seed_generator:
            shape = [int(d) for d in args.seed_generator.lower().split("x")]
            rows += seed_rows(args.mangacolor, tmp, args.tolerance, shape)
    failed = [r for r in rows if not r[1]]
    print(f"{len(rows) - len(failed)} passed, {len(failed)} failed (max abs diff <= {args.tolerance:g})")
    if not rows:
        print("error: no cases found", file=sys.stderr)
        sys.exit(1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

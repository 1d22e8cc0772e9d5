#!/usr/bin/env python3
"""Finds the first node where `mangacolor run` and onnxruntime disagree.

Makes a copy of the model in which every node output (of the main graph) is also a graph output, runs it in
both, and compares the tensors in node order. Prints the first node past the tolerance (op, name, input and
output shapes, max abs difference, a few got/want pairs) and, with --all, every node's difference.

usage: tools/parity/first_difference.py CASE_DIR               (model.onnx + test_data_set_0/input_K.pb)
       tools/parity/first_difference.py MODEL.onnx --input X.pb [--input ...]
       [--mangacolor PATH] [--atol 1e-4] [--rtol 0] [--all]
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from check import default_binary, read_pb  # noqa: E402


def read_input(path):
    return np.load(path) if path.endswith(".npy") else read_pb(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a case folder or an .onnx file")
    parser.add_argument("--input", action="append", default=[], help="input files (.pb or .npy), in order")
    parser.add_argument("--mangacolor", default=default_binary())
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--rtol", type=float, default=0.0)
    parser.add_argument("--all", action="store_true", help="print every node's difference")
    args = parser.parse_args()

    model_path, inputs = args.model, args.input
    if os.path.isdir(model_path):
        inputs = inputs or sorted(glob.glob(os.path.join(model_path, "test_data_set_0", "input_*.pb")),
                                  key=lambda p: int(os.path.basename(p)[6:-3]))
        model_path = os.path.join(model_path, "model.onnx")
    model = onnx.load(model_path)
    initializers = {i.name for i in model.graph.initializer}
    graph_inputs = [v for v in model.graph.input if v.name not in initializers]
    if len(inputs) != len(graph_inputs):
        sys.exit(f"error: the model takes {len(graph_inputs)} inputs, {len(inputs)} given")
    feeds = {v.name: read_input(p) for v, p in zip(graph_inputs, inputs)}

    # Every node output becomes a graph output (types left for the runtimes to infer).
    existing = {o.name for o in model.graph.output}
    probes = []
    for node in model.graph.node:
        for name in node.output:
            if name and name not in existing:
                model.graph.output.append(onnx.ValueInfoProto(name=name))
                existing.add(name)
            if name:
                probes.append((node, name))
    names = [o.name for o in model.graph.output]

    import onnxruntime as ort
    with tempfile.TemporaryDirectory() as tmp:
        probe_path = os.path.join(tmp, "probed.onnx")
        onnx.save(model, probe_path)
        session = ort.InferenceSession(probe_path, providers=["CPUExecutionProvider"])
        want = dict(zip(names, session.run(names, feeds)))
        input_paths = []
        for k, (name, value) in enumerate(feeds.items()):
            path = os.path.join(tmp, f"input_{k}.pb")
            with open(path, "wb") as f:
                f.write(numpy_helper.from_array(value, name).SerializeToString())
            input_paths.append(path)
        command = [args.mangacolor, "run", probe_path, "--output-dir", os.path.join(tmp, "out")]
        for path in input_paths:
            command += ["--input", path]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"error: {' '.join(command)} failed:\n{result.stderr.strip()}")
        got = {name: np.load(os.path.join(tmp, "out", f"output_{k}.npy")) for k, name in enumerate(names)}

    first = None
    for node, name in probes:
        g, w = got[name], want[name]
        label = f'{node.op_type} "{node.name or name}" -> {name}'
        if g.shape != w.shape:
            line, bad = f"{label}: shape {list(g.shape)}, onnxruntime {list(w.shape)}", True
        elif g.dtype.kind in "fc" or w.dtype.kind in "fc":
            g64, w64 = g.astype(np.float64), w.astype(np.float64)
            diff = np.abs(g64 - w64)
            diff[np.isnan(g64) & np.isnan(w64)] = 0
            diff = np.nan_to_num(diff, nan=np.inf)
            worst = float(diff.max()) if diff.size else 0.0
            bad = bool((diff > args.atol + args.rtol * np.abs(w64)).any())
            line = f"{label}: {list(g.shape)} max abs diff {worst:.3g}"
            if bad:
                idx = np.argwhere(diff > args.atol + args.rtol * np.abs(w64))[:4]
                line += "; got vs want " + ", ".join(
                    f"{list(map(int, i))}: {g64[tuple(i)]:.6g} vs {w64[tuple(i)]:.6g}" for i in idx)
        else:
            bad = not np.array_equal(g, w)
            line = f"{label}: {g.dtype} {list(g.shape)} {'differs' if bad else 'equal'}"
        if args.all:
            print(("DIFF " if bad else "ok   ") + line)
        if bad and first is None:
            first = (node, line)
            if not args.all:
                break
    if first is None:
        print(f"all {len(probes)} node outputs agree with onnxruntime (atol {args.atol:g}, rtol {args.rtol:g})")
        return
    node, line = first
    shapes = ", ".join(f"{n}: {list(want[n].shape) if n in want else list(feeds[n].shape) if n in feeds else 'initializer'}"
                       for n in node.input if n)
    print(f"first difference: {line}\n  inputs: {shapes}\n  attributes: "
          + ", ".join(f"{a.name}={onnx.helper.get_attribute_value(a)}" for a in node.attribute))
    sys.exit(1)


if __name__ == "__main__":
    main()

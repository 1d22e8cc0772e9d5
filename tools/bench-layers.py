#!/usr/bin/env python3
"""Times single layers of published mobile networks in `mangacolor bench` and onnxruntime side by side.

Each layer is a one- or two-node model written to a temporary folder with random weights: depthwise 3x3 and
5x5 convolutions (stride 1 and 2) followed by HardSwish, as in MobileNetV3 / PP-LCNet; pointwise 1x1
convolutions; a dense stem; a 2x2 SAME MaxPool; GELU spelled with Erf. For each it runs
tools/bench-vs-onnxruntime.py (same threads, runs and alternating rounds) and prints one table row: our
median, onnxruntime's, and the ratio (below 1: we are faster). It reports; it never asserts a speed.

usage: tools/bench-layers.py [--mangacolor .build/release/mangacolor] [--runs 30] [--rounds 2] [--only NAME]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RATIO = re.compile(r"mangacolor ([0-9.]+) ms, onnxruntime ([0-9.]+) ms .*ratio ours/onnxruntime: ([0-9.]+)")


def conv(name, c, oc, k, stride, group, hw, activation="HardSwish"):
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((oc, c // group, k, k)) / np.sqrt(c // group * k * k)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[k // 2] * 4, strides=[stride] * 2,
                              group=group, kernel_shape=[k, k])]
    nodes.append(helper.make_node(activation, ["y"], ["z"]))
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.zeros(oc, np.float32), "b")]
    return name, nodes, inits, [1, c, hw, hw]


def layers():
    yield conv("depthwise 3x3 s1, 64 ch, 56x56", 64, 64, 3, 1, 64, 56)
    yield conv("depthwise 3x3 s2, 128 ch, 56x56", 128, 128, 3, 2, 128, 56)
    yield conv("depthwise 5x5 s1, 256 ch, 14x14", 256, 256, 5, 1, 256, 14)
    yield conv("depthwise 5x5 s2, 96 ch, 28x28", 96, 96, 5, 2, 96, 28)
    yield conv("pointwise 64 -> 128, 56x56", 64, 128, 1, 1, 1, 56)
    yield conv("pointwise 256 -> 512, 14x14", 256, 512, 1, 1, 1, 14)
    yield conv("stem 3x3 s2, 3 -> 16, 224x224", 3, 16, 3, 2, 1, 224)
    yield ("maxpool 2x2 s1 SAME_UPPER, 64 ch, 120x160",
           [helper.make_node("MaxPool", ["x"], ["z"], kernel_shape=[2, 2], strides=[1, 1], auto_pad="SAME_UPPER")],
           [], [1, 64, 120, 160])
    # GELU as exported without a fused op: x * 0.5 * (1 + erf(x / sqrt 2)).
    yield ("GELU via Erf, 1x64x120x160",
           [helper.make_node("Div", ["x", "r2"], ["d"]), helper.make_node("Erf", ["d"], ["e"]),
            helper.make_node("Add", ["e", "one"], ["a"]), helper.make_node("Mul", ["x", "a"], ["m"]),
            helper.make_node("Mul", ["m", "half"], ["z"])],
           [numpy_helper.from_array(np.array(np.sqrt(2), np.float32), "r2"),
            numpy_helper.from_array(np.array(1, np.float32), "one"),
            numpy_helper.from_array(np.array(0.5, np.float32), "half")], [1, 64, 120, 160])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mangacolor", default=os.path.join(ROOT, ".build", "release", "mangacolor"))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", help="run the layers whose name contains this")
    args = parser.parse_args()
    if not os.path.exists(args.mangacolor):
        sys.exit(f"error: no binary at {args.mangacolor} (swift build -c release)")
    print("| layer | ours ms | onnxruntime ms | ratio |\n| --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for name, nodes, inits, shape in layers():
            if args.only and args.only not in name:
                continue
            graph = helper.make_graph(nodes, "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                                      [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)], inits)
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
            model.ir_version = 8
            path = os.path.join(tmp, "layer.onnx")
            onnx.save(model, path)
            out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench-vs-onnxruntime.py"), path,
                                  "--shape", "x".join(map(str, shape)), "--runs", str(args.runs),
                                  "--rounds", str(args.rounds), "--mangacolor", args.mangacolor],
                                 capture_output=True, text=True)
            match = RATIO.search(out.stdout)
            if not match:
                print(f"| {name} | error: {(out.stderr or out.stdout).strip().splitlines()[-1:]} | | |")
                continue
            print(f"| {name} | {match.group(1)} | {match.group(2)} | {match.group(3)} |", flush=True)


if __name__ == "__main__":
    main()

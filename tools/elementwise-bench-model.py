#!/usr/bin/env python3
"""Writes ONNX models that time the element-wise kernels with `mangacolor bench`.

Usage: tools/elementwise-bench-model.py OUTDIR
Then:  mangacolor bench OUTDIR/<name>.onnx --shape 1x64x128x128 --runs 20

Each model applies one operator 8 times in a chain to a [1,64,128,128] float32 input, so the time per op is
about (median / 8). Cases: same-shape Add, per-channel Add ([1,C,1,1]), scalar Mul, Relu, LeakyRelu,
Sigmoid, Tanh, Clip.
"""
import sys
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper

out = sys.argv[1]
C = 64

def save(name, make_node, inits=()):
    nodes, prev = [], "x"
    for i in range(8):
        y = f"y{i}" if i < 7 else "y"
        nodes.append(make_node(prev, y, i))
        prev = y
    g = helper.make_graph(nodes, name,
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, C, "H", "W"])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, C, "H", "W"])],
                          list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(m, f"{out}/{name}.onnx")

rng = np.random.default_rng(0)
bias = numpy_helper.from_array(rng.standard_normal((1, C, 1, 1)).astype(np.float32), "bias")
scale = numpy_helper.from_array(np.array(0.5, dtype=np.float32), "scale")
lo = numpy_helper.from_array(np.array(-1, dtype=np.float32), "lo")
hi = numpy_helper.from_array(np.array(1, dtype=np.float32), "hi")
save("add_same", lambda a, y, i: helper.make_node("Add", [a, a], [y]))
save("add_channel", lambda a, y, i: helper.make_node("Add", [a, "bias"], [y]), [bias])
save("mul_scalar", lambda a, y, i: helper.make_node("Mul", [a, "scale"], [y]), [scale])
save("relu", lambda a, y, i: helper.make_node("Relu", [a], [y]))
save("leakyrelu", lambda a, y, i: helper.make_node("LeakyRelu", [a], [y], alpha=0.2))
save("sigmoid", lambda a, y, i: helper.make_node("Sigmoid", [a], [y]))
save("tanh", lambda a, y, i: helper.make_node("Tanh", [a], [y]))
save("clip", lambda a, y, i: helper.make_node("Clip", [a, "lo", "hi"], [y]), [lo, hi])

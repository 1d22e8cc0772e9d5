#!/usr/bin/env python3
"""Writes crafted ONNX files that must be refused with an error, never a crash (issue 8).

Each model is a few hundred bytes: one or two nodes whose attributes, declared sizes or shape inputs are
out of range (pads, strides, dilations, output_padding of 2^62; initializers that declare 10^12 elements
and carry 16 bytes; ConstantOfShape/Expand/Tile/Range/Resize to shapes no memory holds). onnxruntime
rejects all of them. `swift test` (Tests/RuntimeTests/HostileModelTests.swift) decodes, plans and runs
each one on zero inputs of its declared shapes and expects a thrown error.

Writes Tests/Fixtures/hostile/<case>.onnx and Tests/Fixtures/hostile/README.md (one line per case: why).

usage: tools/make-hostile-models.py [--out Tests/Fixtures/hostile]
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIG = 2**62
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)
CASES = []


def case(why):
    def register(fn):
        CASES.append((fn.__name__, why, fn))
        return fn
    return register


def model(nodes, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph(nodes, "hostile", inputs, outputs, list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="make-hostile-models")
    m.ir_version = 8
    return m


def fin(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def iin(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.INT64, shape)


def out(name="y"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, None)


def weight(shape, name="w"):
    return numpy_helper.from_array(np.ones(shape, np.float32), name)


def ints(values, name):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def lying_tensor(name, dims, raw=b"\0" * 16):
    """A float tensor declaring `dims` whose data is `raw` (None: no data field at all)."""
    t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims)
    if raw is not None:
        t.raw_data = raw
    return t


def conv(**attributes):
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c", **attributes)
    return model([node], [fin("x", [1, 1, 4, 4])], [out()], [weight([1, 1, 3, 3])])


def conv_transpose(**attributes):
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="ct", **attributes)
    return model([node], [fin("x", [1, 1, 4, 4])], [out()], [weight([1, 1, 3, 3])])


@case("Conv pads of 2^62 (segfaulted in the convolution kernel)")
def conv_pads_huge():
    return conv(pads=[BIG] * 4)


@case("Conv pads of -2^62")
def conv_pads_negative_huge():
    return conv(pads=[-BIG] * 4)


@case("Conv dilations of 2^62 (overflow trap in shape inference)")
def conv_dilations_huge():
    return conv(dilations=[BIG, BIG])


@case("Conv strides of 2^62 with SAME_UPPER (overflow in the padding computation)")
def conv_strides_huge_same():
    return conv(strides=[BIG, BIG], auto_pad="SAME_UPPER")


@case("Conv kernel_shape of 2^62 (does not match the weight)")
def conv_kernel_huge():
    return conv(kernel_shape=[BIG, BIG])


@case("Conv group of 2^62")
def conv_group_huge():
    return conv(group=BIG)


@case("ConvTranspose strides of 2^62 (overflow trap)")
def conv_transpose_strides_huge():
    return conv_transpose(strides=[BIG, BIG])


@case("ConvTranspose strides of -2^62")
def conv_transpose_strides_negative():
    return conv_transpose(strides=[-BIG, -BIG])


@case("ConvTranspose output_padding of 2^62 (exited 0 with a wrapped element count)")
def conv_transpose_output_padding_huge():
    return conv_transpose(strides=[2, 2], output_padding=[BIG, BIG])


@case("ConvTranspose output_shape of 2^62")
def conv_transpose_output_shape_huge():
    return conv_transpose(output_shape=[BIG, BIG])


@case("ConvTranspose dilations of 2^62")
def conv_transpose_dilations_huge():
    return conv_transpose(dilations=[BIG, BIG])


@case("ConvTranspose pads of -2^62 (output grows by 2^63)")
def conv_transpose_pads_negative():
    return conv_transpose(pads=[-BIG] * 4)


@case("MaxPool pads and strides of 2^62")
def max_pool_huge():
    node = helper.make_node("MaxPool", ["x"], ["y"], name="p", kernel_shape=[2, 2], pads=[BIG] * 4, strides=[BIG, BIG])
    return model([node], [fin("x", [1, 1, 4, 4])], [out()])


@case("AveragePool kernel_shape of 2^62")
def average_pool_kernel_huge():
    node = helper.make_node("AveragePool", ["x"], ["y"], name="p", kernel_shape=[BIG, BIG])
    return model([node], [fin("x", [1, 1, 4, 4])], [out()])


@case("MaxPool dilations of 2^62")
def max_pool_dilations_huge():
    node = helper.make_node("MaxPool", ["x"], ["y"], name="p", kernel_shape=[2, 2], dilations=[BIG, BIG])
    return model([node], [fin("x", [1, 1, 4, 4])], [out()])


@case("an initializer declaring [1e5, 1e5, 100] floats with 16 bytes of raw_data (allocated 4 TB first)")
def initializer_lying_raw_data():
    node = helper.make_node("Add", ["x", "big"], ["y"], name="a")
    return model([node], [fin("x", [1])], [out()], [lying_tensor("big", [100000, 100000, 100])])


@case("an initializer declaring [1e5, 1e5, 100] floats with no data at all")
def initializer_no_data():
    node = helper.make_node("Add", ["x", "big"], ["y"], name="a")
    return model([node], [fin("x", [1])], [out()], [lying_tensor("big", [100000, 100000, 100], raw=None)])


@case("an initializer whose dims multiply past 2^63")
def initializer_dims_overflow():
    node = helper.make_node("Add", ["x", "big"], ["y"], name="a")
    return model([node], [fin("x", [1])], [out()], [lying_tensor("big", [2**40, 2**40])])


@case("a Constant whose value declares [1e5, 1e5, 100] floats with 16 bytes")
def constant_lying_raw_data():
    node = helper.make_node("Constant", [], ["y"], name="k", value=lying_tensor("v", [100000, 100000, 100]))
    return model([node], [], [out()])


@case("ConstantOfShape to [1e5, 1e5, 100] from a constant (constant folding allocated 4 TB)")
def constant_of_shape_huge_folded():
    node = helper.make_node("ConstantOfShape", ["s"], ["y"], name="cos")
    return model([node], [], [out()], [ints([100000, 100000, 100], "s")])


@case("ConstantOfShape to 2^40 elements from a graph input")
def constant_of_shape_huge_runtime():
    shape = helper.make_node("Shape", ["x"], ["s0"], name="shape")
    mul = helper.make_node("Mul", ["s0", "k"], ["s"], name="mul")
    node = helper.make_node("ConstantOfShape", ["s"], ["y"], name="cos")
    return model([shape, mul, node], [fin("x", [1])], [out()], [ints([2**40], "k")])


@case("ConstantOfShape whose dims multiply past 2^63")
def constant_of_shape_overflow():
    node = helper.make_node("ConstantOfShape", ["s"], ["y"], name="cos")
    return model([node], [], [out()], [ints([2**32, 2**32, 2**32], "s")])


@case("Expand of a scalar to [1e5, 1e5, 100] (folded)")
def expand_huge_folded():
    node = helper.make_node("Expand", ["v", "s"], ["y"], name="e")
    return model([node], [], [out()], [numpy_helper.from_array(np.ones([1], np.float32), "v"),
                                       ints([100000, 100000, 100], "s")])


@case("Expand of a graph input to [1e5, 1e5, 100]")
def expand_huge_runtime():
    node = helper.make_node("Expand", ["x", "s"], ["y"], name="e")
    return model([node], [fin("x", [1])], [out()], [ints([100000, 100000, 100], "s")])


@case("Tile with repeats of 2^40")
def tile_huge():
    node = helper.make_node("Tile", ["x", "r"], ["y"], name="t")
    return model([node], [fin("x", [2, 2])], [out()], [ints([2**40, 2**40], "r")])


@case("Range of 2^62 elements")
def range_huge():
    node = helper.make_node("Range", ["a", "b", "d"], ["y"], name="r")
    return model([node], [], [helper.make_tensor_value_info("y", TensorProto.INT64, None)],
                 [ints(0, "a"), ints(BIG, "b"), ints(1, "d")])


@case("Range from INT64_MIN to INT64_MAX (the count overflows)")
def range_overflow():
    node = helper.make_node("Range", ["a", "b", "d"], ["y"], name="r")
    return model([node], [], [helper.make_tensor_value_info("y", TensorProto.INT64, None)],
                 [ints(I64_MIN, "a"), ints(I64_MAX, "b"), ints(1, "d")])


@case("Resize by a scale of 1e9")
def resize_scale_huge():
    scales = numpy_helper.from_array(np.array([1, 1, 1e9, 1e9], np.float32), "scales")
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], name="rs", mode="nearest")
    return model([node], [fin("x", [1, 1, 4, 4])], [out()], [scales])


@case("Resize to sizes of 2^40")
def resize_sizes_huge():
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], name="rs", mode="nearest")
    return model([node], [fin("x", [1, 1, 4, 4])], [out()], [ints([1, 1, 2**40, 2**40], "sizes")])


@case("Pad by 2^62")
def pad_huge():
    node = helper.make_node("Pad", ["x", "p"], ["y"], name="pad")
    return model([node], [fin("x", [1, 1, 4, 4])], [out()], [ints([0, 0, BIG, BIG, 0, 0, BIG, BIG], "p")])


@case("Reshape to [2^62, 4] (the element count overflows)")
def reshape_overflow():
    node = helper.make_node("Reshape", ["x", "s"], ["y"], name="rsh")
    return model([node], [fin("x", [4])], [out()], [ints([BIG, 4], "s")])


@case("Add broadcasting [1e5, 1] with [1, 1e5] (40 GB from two small inputs)")
def broadcast_huge():
    node = helper.make_node("Add", ["x", "z"], ["y"], name="add")
    return model([node], [fin("x", [100000, 1]), fin("z", [1, 100000])], [out()])


@case("MatMul of [2e5, 1] by [1, 2e5] (160 GB from two small inputs)")
def matmul_outer_huge():
    node = helper.make_node("MatMul", ["x", "z"], ["y"], name="mm")
    return model([node], [fin("x", [200000, 1]), fin("z", [1, 200000])], [out()])


@case("OneHot with depth 2^40")
def one_hot_huge():
    node = helper.make_node("OneHot", ["i", "d", "v"], ["y"], name="oh")
    return model([node], [], [out()], [ints([0, 1], "i"), ints(2**40, "d"),
                                       numpy_helper.from_array(np.array([0, 1], np.float32), "v")])


def _varint(n):
    out = b""
    while True:
        low, n = n & 0x7F, n >> 7
        if n:
            out += bytes([low | 0x80])
        else:
            return out + bytes([low])


def _field(number, payload):
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


@case("graphs nested 1000 deep through If attributes (200 000 deep, 4.7 MB, overflowed the stack); raw bytes, "
      "as the onnx package refuses to serialize such depth")
def nested_graphs_deep():
    inner = b""
    for _ in range(1000):
        attribute = _field(1, b"then_branch") + _varint(20 << 3) + _varint(5) + _field(6, inner)
        inner = _field(1, _field(4, b"If") + _field(5, attribute))
    return _varint(1 << 3) + _varint(8) + _field(7, inner) + _field(8, _varint(2 << 3) + _varint(17))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "hostile"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    lines = ["# Crafted ONNX files that must be refused with an error", "",
             "Made by `tools/make-hostile-models.py`; `HostileModelTests` expects each to throw at decode, plan",
             "or run (on zero inputs of the declared shapes), never to crash or allocate what it declares.", "",
             "| case | what |", "| --- | --- |"]
    for name, why, fn in CASES:
        m = fn()
        with open(os.path.join(args.out, name + ".onnx"), "wb") as f:
            f.write(m if isinstance(m, bytes) else m.SerializeToString())
        lines.append(f"| `{name}` | {why} |")
    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(CASES)} models to {args.out}")


if __name__ == "__main__":
    main()

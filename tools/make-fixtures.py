#!/usr/bin/env python3
"""Writes small golden cases for `swift test`: one or a few ONNX nodes at shapes the node suite does not reach.

The ONNX node suite uses tiny tensors (often 1x1x5x5), so fast kernel paths (GEMM blocking, im2col tiles,
vector loops with remainders) are barely exercised. These cases use odd sizes (17, 19, 37 ...), groups,
dilations, asymmetric pads, ceil-mode pooling, large-offset InstanceNorm inputs, Resize modes image models use,
and a tiny copy of the seed generator. Each expected output is onnxruntime's; onnx's reference evaluator is run
too and must agree within 1e-4 (two independent oracles), otherwise the script stops.

Writes Tests/Fixtures/golden/<case>/model.onnx, test_data_set_0/input_K.pb, output_K.pb, and README.md.

usage: tools/make-fixtures.py [--out Tests/Fixtures/golden] [--seed 0] [--only GROUP[,GROUP]]

--only rewrites just those groups (e.g. `--only recurrent`, which needs no PyTorch), each from its own generator
seeded by --seed and the group's name, and prints their README rows to paste.
"""
import argparse
import importlib.util
import os
import shutil
import sys
import zlib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = []


def case(fn):
    CASES.append(fn)
    return fn


class Maker:
    def __init__(self, out, rng):
        self.out = out
        self.rng = rng
        self.rows = []

    def normal(self, *shape, scale=1.0, offset=0.0):
        return (self.rng.standard_normal(shape) * scale + offset).astype(np.float32)

    def write(self, name, why, nodes, inputs, initializers=None, opset=17, outputs=("Y",), oracle=None, exact=None):
        """inputs: {name: array} fed at run time; initializers: {name: array} stored in the model."""
        initializers = initializers or {}
        graph = helper.make_graph(
            nodes, name,
            [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), list(v.shape))
             for k, v in inputs.items()],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
            [numpy_helper.from_array(v, k) for k, v in initializers.items()])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                                  producer_name="mangacolor-tools/make-fixtures")
        model.ir_version = 8 if opset <= 17 else 9
        model.doc_string = why
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True)  # fills the outputs' shapes
        if any(not o.type.tensor_type.HasField("shape") for o in model.graph.output):
            # No shape inference for this op (a function op such as GroupNormalization-21): ask onnxruntime.
            got = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, inputs)
            for o, value in zip(model.graph.output, got):
                o.CopyFrom(helper.make_tensor_value_info(o.name, TensorProto.FLOAT, list(value.shape)))
        onnx.checker.check_model(model, full_check=True)
        self.save(name, why, model, inputs, oracle, exact)

    def save(self, name, why, model, inputs, oracle=None, exact=None):
        """oracle: a second implementation (PyTorch) where onnx's reference evaluator is wrong.
        exact: float64 outputs to store instead of onnxruntime's, where onnxruntime's own error is notable."""
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        got = session.run(None, inputs)
        reference = oracle() if oracle else ReferenceEvaluator(model).run(None, inputs)
        if exact:
            reference, got = got, [value.astype(np.float32) for value in exact()]
        worst = max(float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max()) for a, b in zip(got, reference))
        if worst > 1e-4:
            sys.exit(f"error: {name}: onnxruntime and onnx's reference evaluator differ by {worst:.3g}")
        case_dir = os.path.join(self.out, name)
        if os.path.exists(case_dir):  # --only rewrites a group's folders in place
            shutil.rmtree(case_dir)
        data_dir = os.path.join(case_dir, "test_data_set_0")
        os.makedirs(data_dir)
        onnx.save(model, os.path.join(case_dir, "model.onnx"))
        for k, (input_name, value) in enumerate(inputs.items()):
            with open(os.path.join(data_dir, f"input_{k}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(value, input_name).SerializeToString())
        for k, value in enumerate(got):
            with open(os.path.join(data_dir, f"output_{k}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(value, model.graph.output[k].name).SerializeToString())
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(case_dir) for f in fs)
        shapes = ", ".join("x".join(map(str, g.shape)) for g in got)
        self.rows.append((name, why, size, worst, shapes))
        print(f"{name:34s} {size / 1024:7.1f} KB  out {shapes:18s} |ort - second oracle| {worst:.1e}")


def conv(m, name, why, x_shape, w_shape, bias=True, opset=17, **attrs):
    x = m.normal(*x_shape)
    w = m.normal(*w_shape, scale=1 / np.sqrt(np.prod(w_shape[1:])))
    init = {"W": w}
    ins = ["X", "W"]
    if bias:
        init["B"] = m.normal(w_shape[0], scale=0.1)
        ins.append("B")
    m.write(name, why, [helper.make_node("Conv", ins, ["Y"], **attrs)], {"X": x}, init, opset)


@case
def convolutions(m):
    conv(m, "conv_3x3_odd_channels", "Conv 3x3 pad 1, 19 -> 37 channels, 17x17: GEMM tiles with remainders",
         (1, 19, 17, 17), (37, 19, 3, 3), kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    conv(m, "conv_grouped_strided_dilated", "Conv group 3, stride 2, dilation 2, asymmetric pads, batch 2",
         (2, 12, 15, 13), (18, 4, 3, 3), group=3, strides=[2, 2], dilations=[2, 2], pads=[1, 2, 1, 0])
    conv(m, "conv_depthwise", "depthwise Conv 3x3 (group = channels = 16), pad 1",
         (1, 16, 14, 14), (16, 1, 3, 3), group=16, pads=[1, 1, 1, 1])
    conv(m, "conv_1x1_no_bias", "pointwise Conv, no bias, 24 -> 40 channels, 9x11",
         (1, 24, 9, 11), (40, 24, 1, 1), bias=False)
    conv(m, "conv_4x4_stride2_same_upper", "Conv 4x4 stride 2, auto_pad SAME_UPPER (pix2pix-style downsampling)",
         (1, 6, 13, 16), (10, 6, 4, 4), strides=[2, 2], auto_pad="SAME_UPPER")
    conv(m, "conv_7x7_no_pad", "Conv 7x7 valid (after a reflect pad in residual generators), 3 -> 8 channels",
         (1, 3, 22, 19), (8, 3, 7, 7))


@case
def transposed(m):
    x = m.normal(1, 20, 9, 7)
    w = m.normal(20, 12, 3, 3, scale=0.2)
    m.write("conv_transpose_s2_output_padding", "ConvTranspose 3x3 stride 2 pad 1 output_padding 1 (the seed decoder)",
            [helper.make_node("ConvTranspose", ["X", "W", "B"], ["Y"], strides=[2, 2], pads=[1, 1, 1, 1],
                              output_padding=[1, 1])],
            {"X": x}, {"W": w, "B": m.normal(12, scale=0.1)})
    x = m.normal(2, 8, 6, 5)
    w = m.normal(8, 3, 4, 4, scale=0.2)

    def torch_oracle():
        # NOTE: onnx 1.23's reference ConvTranspose mis-reshapes grouped weights; PyTorch is the second oracle.
        import torch
        y = torch.nn.functional.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), stride=2, padding=1,
                                                 groups=2)
        return [y.numpy()]

    m.write("conv_transpose_group_4x4", "ConvTranspose 4x4 stride 2 pad 1, group 2, no bias, batch 2 "
            "(second oracle: PyTorch)",
            [helper.make_node("ConvTranspose", ["X", "W"], ["Y"], strides=[2, 2], pads=[1, 1, 1, 1], group=2)],
            {"X": x}, {"W": w}, oracle=torch_oracle)
    # NOTE: no output_shape case: onnxruntime and onnx's reference evaluator place the implicit pads
    # differently, so a golden output would only encode one runtime's reading of the spec.


@case
def normalisation(m):
    c = 7
    x = m.normal(2, c, 33, 31, scale=0.5, offset=30.0)
    scale, bias = m.normal(c, scale=0.5, offset=1.0), m.normal(c, scale=0.2)

    def exact():
        x64 = x.astype(np.float64)
        mean, var = x64.mean((2, 3), keepdims=True), x64.var((2, 3), keepdims=True)
        return [(x64 - mean) / np.sqrt(var + 1e-5) * scale.reshape(1, c, 1, 1) + bias.reshape(1, c, 1, 1)]

    # NOTE: expected output computed in float64; onnxruntime is 2e-5 off it (column: ort vs this).
    m.write("instance_norm_offset_input", "InstanceNormalization on 33x31 planes with mean 30, std 0.5: "
            "a one-pass E[x^2] - E[x]^2 variance is 1e-3 off here (expected: float64 exact)",
            [helper.make_node("InstanceNormalization", ["X", "S", "B"], ["Y"], epsilon=1e-5)],
            {"X": x}, {"S": scale, "B": bias}, exact=exact)
    c = 9
    m.write("batch_norm_eval", "BatchNormalization (inference) with running statistics, 11x13",
            [helper.make_node("BatchNormalization", ["X", "S", "B", "M", "V"], ["Y"], epsilon=1e-3)],
            {"X": m.normal(2, c, 11, 13)},
            {"S": m.normal(c, scale=0.5, offset=1.0), "B": m.normal(c, scale=0.2), "M": m.normal(c, scale=0.3),
             "V": (m.rng.uniform(0.5, 2.0, c)).astype(np.float32)})
    x = m.normal(2, 12, 10, 9, scale=2.0, offset=1.0)
    m.write("group_norm_4_groups", "GroupNormalization (opset 21: per-channel scale and bias), 4 groups of 3",
            [helper.make_node("GroupNormalization", ["X", "S", "B"], ["Y"], num_groups=4, epsilon=1e-5)],
            {"X": x}, {"S": m.normal(12, scale=0.5, offset=1.0), "B": m.normal(12, scale=0.2)}, opset=21)


@case
def pooling(m):
    x = m.normal(1, 5, 17, 17)
    m.write("max_pool_ceil_mode", "MaxPool 3x3 stride 2 pad 1 ceil_mode 1 (output 9x9, last window clipped)",
            [helper.make_node("MaxPool", ["X"], ["Y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                              ceil_mode=1)], {"X": x})
    for include in (0, 1):
        m.write(f"average_pool_pad_count_{'include' if include else 'exclude'}",
                f"AveragePool 3x3 stride 2 pad 1, count_include_pad {include}, 17x16",
                [helper.make_node("AveragePool", ["X"], ["Y"], kernel_shape=[3, 3], strides=[2, 2],
                                  pads=[1, 1, 1, 1], count_include_pad=include)], {"X": m.normal(1, 4, 17, 16)})
    m.write("max_pool_2x2_odd_input", "MaxPool 2x2 stride 2 on 15x13 (floor: last row and column dropped)",
            [helper.make_node("MaxPool", ["X"], ["Y"], kernel_shape=[2, 2], strides=[2, 2])],
            {"X": m.normal(2, 3, 15, 13)})


@case
def resizing(m):
    def resize(name, why, x, sizes=None, scales=None, **attrs):
        init = {"roi": np.zeros(0, np.float32)}
        ins = ["X", "roi"]
        if scales is not None:
            init["scales"] = np.array(scales, np.float32)
            ins.append("scales")
        else:
            init["sizes"] = np.array(sizes, np.int64)
            ins += ["", "sizes"]
        m.write(name, why, [helper.make_node("Resize", ins, ["Y"], **attrs)], {"X": x}, init, opset=19)

    resize("resize_bilinear_down_sizes", "Resize linear half_pixel to sizes 8x11 from 17x23 (downscale)",
           m.normal(1, 3, 17, 23), sizes=[1, 3, 8, 11], mode="linear", coordinate_transformation_mode="half_pixel")
    resize("resize_bilinear_align_corners_up", "Resize linear align_corners to 13x19 from 5x7",
           m.normal(1, 2, 5, 7), sizes=[1, 2, 13, 19], mode="linear", coordinate_transformation_mode="align_corners")
    resize("resize_nearest_asymmetric_floor_x2", "Resize nearest asymmetric floor, scales 2 (PyTorch nearest)",
           m.normal(1, 3, 6, 5), scales=[1, 1, 2, 2], mode="nearest", coordinate_transformation_mode="asymmetric",
           nearest_mode="floor")
    resize("resize_cubic_pytorch_half_pixel", "Resize cubic (a = -0.75) pytorch_half_pixel to 11x9 from 6x5",
           m.normal(1, 2, 6, 5), sizes=[1, 2, 11, 9], mode="cubic", cubic_coeff_a=-0.75,
           coordinate_transformation_mode="pytorch_half_pixel")
    resize("resize_nearest_round_prefer_ceil", "Resize nearest half_pixel round_prefer_ceil x3 (ONNX default modes)",
           m.normal(1, 1, 4, 5), scales=[1, 1, 3, 3], mode="nearest")


@case
def matrices(m):
    m.write("matmul_batched_broadcast", "MatMul [3, 37, 45] x [45, 29] (broadcast B), odd sizes",
            [helper.make_node("MatMul", ["A", "B"], ["Y"])], {"A": m.normal(3, 37, 45)},
            {"B": m.normal(45, 29, scale=0.15)})
    m.write("gemm_transb_bias", "Gemm transB=1 alpha 0.5 beta 2 with a row bias (a classifier head)",
            [helper.make_node("Gemm", ["A", "B", "C"], ["Y"], transB=1, alpha=0.5, beta=2.0)],
            {"A": m.normal(5, 70)}, {"B": m.normal(33, 70, scale=0.1), "C": m.normal(33)})
    m.write("softmax_axis1_nchw", "Softmax over channels of an NCHW tensor (opset 13 semantics: one axis)",
            [helper.make_node("Softmax", ["X"], ["Y"], axis=1)], {"X": m.normal(2, 10, 7, 5, scale=3.0)}, opset=13)


@case
def seed_generator(m):
    path = os.path.join(ROOT, "tools", "seed-generator.py")
    spec = importlib.util.spec_from_file_location("seed_generator", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model, params, _ = module.build(width_scale=1 / 32, seed=3)
    model.doc_string = "the seed U-Net (tools/seed-generator.py) at 1/32 width, 128x64 input (2x1 at 1/64)"
    x = m.rng.uniform(-1, 1, (1, 1, 128, 64)).astype(np.float32)
    m.save("seed_generator_width_1_32", f"seed U-Net at 1/32 width ({params:,} parameters), 1x1x128x64",
           model, {"gray": x})


def numpy_lstm(x, w, r, b, lengths=None, h0=None, c0=None, p=None, direction="forward", clip=None, layout=0,
               activations=("Sigmoid", "Tanh", "Tanh"), alpha=(), beta=()):
    """The ONNX LSTM written out in numpy (float64), the second oracle where onnx's reference evaluator ignores
    sequence_lens. Gates i, o, f, c; reverse runs each sequence from its own last step."""
    funcs = {"Sigmoid": lambda v: 1 / (1 + np.exp(-v)), "Tanh": np.tanh,
             "HardSigmoid": lambda v: np.clip(alpha[0] * v + beta[0], 0, 1)}
    f, g, h = (funcs[a] for a in activations)
    x = x.astype(np.float64)
    if layout == 1:
        x = x.transpose(1, 0, 2)
    steps, batch, _ = x.shape
    dirs = 2 if direction == "bidirectional" else 1
    hidden = r.shape[2]
    lengths = np.full(batch, steps) if lengths is None else lengths
    y = np.zeros((steps, dirs, batch, hidden))
    yh = np.zeros((dirs, batch, hidden))
    yc = np.zeros((dirs, batch, hidden))
    for d in range(dirs):
        backwards = direction == "reverse" or d == 1
        wb, rb = b[d, :4 * hidden], b[d, 4 * hidden:]
        for n in range(batch):
            hs = np.zeros(hidden) if h0 is None else h0[d, n].astype(np.float64)
            cs = np.zeros(hidden) if c0 is None else c0[d, n].astype(np.float64)
            pi, po, pf = (np.zeros(hidden),) * 3 if p is None else np.split(p[d].astype(np.float64), 3)
            for s in range(lengths[n]):
                t = lengths[n] - 1 - s if backwards else s
                z = x[t, n] @ w[d].T + hs @ r[d].T + wb + rb
                zi, zo, zf, zc = np.split(z, 4)
                cut = (lambda v: np.clip(v, -clip, clip)) if clip else (lambda v: v)
                i = f(cut(zi + pi * cs))
                fg = f(cut(zf + pf * cs))
                cs = fg * cs + i * g(cut(zc))
                o = f(cut(zo + po * cs))
                hs = o * h(cs)
                y[t, d, n] = hs
            yh[d, n], yc[d, n] = hs, cs
    if layout == 1:
        return [y.transpose(2, 0, 1, 3), yh.transpose(1, 0, 2), yc.transpose(1, 0, 2)]
    return [y, yh, yc]


@case
def recurrent(m):
    # LSTM: gates i, o, f, c; the node suite has no sequence_lens, clip or layout-with-lengths case.
    steps, batch, inputs, hidden = 7, 3, 5, 6

    def weights(directions):
        scale = 1 / np.sqrt(hidden)
        return {"W": m.normal(directions, 4 * hidden, inputs, scale=scale), "R": m.normal(directions, 4 * hidden, hidden, scale=scale),
                "B": m.normal(directions, 8 * hidden, scale=0.1)}

    lengths = np.array([7, 4, 1], dtype=np.int32)
    init, x = weights(1), m.normal(steps, batch, inputs)
    init["L"] = lengths
    m.write("lstm_sequence_lens", "LSTM forward, 7 steps, sequence_lens 7/4/1 (later rows zero, Y_h at each end)",
            [helper.make_node("LSTM", ["X", "W", "R", "B", "L"], ["Y", "Y_h", "Y_c"], hidden_size=hidden)],
            {"X": x}, init, opset=14, outputs=("Y", "Y_h", "Y_c"),
            oracle=lambda i=init, x=x: numpy_lstm(x, i["W"], i["R"], i["B"], lengths))
    init, x = weights(2), m.normal(steps, batch, inputs, scale=2.0)
    init.update({"L": lengths, "H0": m.normal(2, batch, hidden, scale=0.5), "C0": m.normal(2, batch, hidden, scale=0.5),
                 "P": m.normal(2, 3 * hidden, scale=0.3)})
    m.write("lstm_bidirectional_lens_peepholes_clip",
            "LSTM bidirectional, sequence_lens, initial states, peepholes, clip 1.5 (reverse runs from each end)",
            [helper.make_node("LSTM", ["X", "W", "R", "B", "L", "H0", "C0", "P"], ["Y", "Y_h", "Y_c"], hidden_size=hidden,
                              direction="bidirectional", clip=1.5)],
            {"X": x}, init, opset=14, outputs=("Y", "Y_h", "Y_c"),
            oracle=lambda i=init, x=x: numpy_lstm(x, i["W"], i["R"], i["B"], lengths, i["H0"], i["C0"], i["P"],
                                                  direction="bidirectional", clip=1.5))
    # (layout 1 is the node suite's test_lstm_batchwise; onnxruntime refuses it, so it cannot be a golden case.)
    init, x = weights(1), m.normal(steps, batch, inputs)
    m.write("lstm_reverse_hard_sigmoid", "LSTM reverse, HardSigmoid/Tanh/Tanh activations with alpha/beta",
            [helper.make_node("LSTM", ["X", "W", "R", "B"], ["Y", "Y_h", "Y_c"], hidden_size=hidden, direction="reverse",
                              activations=["HardSigmoid", "Tanh", "Tanh"], activation_alpha=[0.25],
                              activation_beta=[0.45])],
            {"X": x}, init, opset=14, outputs=("Y", "Y_h", "Y_c"),
            oracle=lambda i=init, x=x: numpy_lstm(x, i["W"], i["R"], i["B"], direction="reverse",
                                                  activations=("HardSigmoid", "Tanh", "Tanh"), alpha=(0.25,), beta=(0.45,)))


def quantized_operand(a):
    """onnxruntime's dynamic quantisation of a float32 GEMM operand (rnn_helpers ComputeGemm): uint8 over the
    range [min(a, 0), max(a, 0)], returned less its zero point, with the scale (float32 arithmetic)."""
    a = a.astype(np.float32)
    low, high = np.float32(min(a.min(), 0)), np.float32(max(a.max(), 0))
    scale = np.float32(1) if high == low else np.float32((high - low) / np.float32(255))
    zero = np.float32(np.rint(np.clip(np.float32(0) - low / scale, 0, 255)))
    return np.rint(np.clip(a / scale, -zero, np.float32(255) - zero)).astype(np.float64), np.float64(scale)


def numpy_quantized_lstm(x, wq, wzp, wscale, rq, rzp, rscale, b, h0=None, c0=None, direction="forward"):
    """com.microsoft DynamicQuantizeLSTM for batch 1 in numpy: W [dirs, input, 4h] and R [dirs, h, 4h] integer
    weights with per-tensor ([dirs]) or per-column ([dirs, 4h]) scales and zero points; X quantised once over
    every step, H at every step (the second oracle: onnx's reference evaluator has no contrib operators)."""
    sigmoid = lambda v: 1 / (1 + np.exp(-v))
    steps, batch, _ = x.shape
    assert batch == 1
    dirs, hidden = wq.shape[0], rq.shape[1]
    xq, xs = quantized_operand(x.reshape(steps, -1))
    y, yh, yc = np.zeros((steps, dirs, 1, hidden)), np.zeros((dirs, 1, hidden)), np.zeros((dirs, 1, hidden))
    for d in range(dirs):
        wd = wq[d].astype(np.float64) - np.reshape(wzp[d], (1, -1)).astype(np.float64)
        rd = rq[d].astype(np.float64) - np.reshape(rzp[d], (1, -1)).astype(np.float64)
        projected = (xq @ wd) * (xs * np.float64(np.float32(1)) * np.reshape(wscale[d], (1, -1)).astype(np.float64))
        hs = np.zeros(hidden) if h0 is None else h0[d, 0].astype(np.float64)
        cs = np.zeros(hidden) if c0 is None else c0[d, 0].astype(np.float64)
        for s in range(steps):
            t = steps - 1 - s if (direction == "reverse" or d == 1) else s
            hq, hsc = quantized_operand(hs)
            z = projected[t] + (hq @ rd) * (hsc * np.reshape(rscale[d], (-1,)).astype(np.float64)) + b[d, :4 * hidden] + b[d, 4 * hidden:]
            zi, zo, zf, zc = np.split(z, 4)
            cs = sigmoid(zf) * cs + sigmoid(zi) * np.tanh(zc)
            hs = sigmoid(zo) * np.tanh(cs)
            y[t, d, 0] = hs
        yh[d, 0], yc[d, 0] = hs, cs
    return [y, yh, yc]


@case
def quantized_recurrent(m):
    # com.microsoft DynamicQuantizeLSTM (onnxruntime's quantize_dynamic writes it for LSTMs), batch 1: the
    # case whose quantisation onnxruntime does not split by its thread count.
    steps, inputs, hidden = 9, 7, 5

    def weights(directions, dtype, per_column):
        low, high = (-127, 128) if dtype == np.int8 else (0, 256)
        shape = (directions, 4 * hidden) if per_column else (directions,)
        zp = np.zeros(shape, dtype) if dtype == np.int8 else np.full(shape, 131, dtype)
        return {"W": m.rng.integers(low, high, (directions, inputs, 4 * hidden)).astype(dtype),
                "R": m.rng.integers(low, high, (directions, hidden, 4 * hidden)).astype(dtype),
                "B": m.normal(directions, 8 * hidden, scale=0.1),
                "Ws": (m.rng.uniform(0.5, 1.5, shape) / 200).astype(np.float32), "Wz": zp,
                "Rs": (m.rng.uniform(0.5, 1.5, shape) / 200).astype(np.float32), "Rz": zp.copy()}

    for name, why, directions, dtype, per_column, direction, states in [
        ("dq_lstm_bidirectional_int8", "DynamicQuantizeLSTM bidirectional, int8 weights, per-tensor scales",
         2, np.int8, False, "bidirectional", False),
        ("dq_lstm_uint8_initial_states", "DynamicQuantizeLSTM forward, uint8 weights (zero point 131), initial h and c",
         1, np.uint8, False, "forward", True),
        ("dq_lstm_reverse_per_column", "DynamicQuantizeLSTM reverse, int8 weights, per-column scales",
         1, np.int8, True, "reverse", False)]:
        init = weights(directions, dtype, per_column)
        x = m.normal(steps, 1, inputs, scale=1.5)
        names = ["X", "W", "R", "B", "", "", "", "", "Ws", "Wz", "Rs", "Rz"]
        if states:
            init["H0"], init["C0"] = m.normal(directions, 1, hidden, scale=0.5), m.normal(directions, 1, hidden, scale=0.5)
            names[5], names[6] = "H0", "C0"
        node = helper.make_node("DynamicQuantizeLSTM", names, ["Y", "Y_h", "Y_c"], domain="com.microsoft",
                                hidden_size=hidden, direction=direction)
        graph = helper.make_graph(
            [node], name, [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x.shape))],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in ("Y", "Y_h", "Y_c")],
            [numpy_helper.from_array(v, k) for k, v in init.items()])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
                                  producer_name="mangacolor-tools/make-fixtures")
        model.ir_version = 8
        model.doc_string = why
        m.save(name, why, model, {"X": x},
               oracle=lambda i=init, x=x, d=direction: numpy_quantized_lstm(
                   x, i["W"], i["Wz"], i["Ws"], i["R"], i["Rz"], i["Rs"], i["B"], i.get("H0"), i.get("C0"), d))


README = """# Golden cases: single operators at shapes the node suite does not reach

Made by `tools/make-fixtures.py` (seed {seed}) with onnx {onnx_version} and onnxruntime {ort_version}:

    /work/venv/bin/python tools/make-fixtures.py      # rewrites this folder

Why: the ONNX node suite's tensors are tiny, so fast kernel paths (GEMM blocking, im2col tiles, vector loops
with remainders) barely run there. Each case here is one node (or the seed generator at 1/32 width) on odd
sizes. Expected outputs are onnxruntime's; a second oracle agreed with each within 1e-4 when they were made
(column "ort vs reference": onnx's reference evaluator, or PyTorch for grouped ConvTranspose, which onnx
1.23's evaluator gets wrong; for instance_norm_offset_input the stored output is float64-exact and the column
is onnxruntime's distance from it). No ConvTranspose output_shape case: onnxruntime and the reference evaluator
place its implicit pads differently. Same layout as the node suite (`model.onnx`,
`test_data_set_0/input_K.pb`, `output_K.pb`): `mangacolor conformance Tests/Fixtures/golden` runs them; a Swift
test can use `fixtureCases("golden")` with atol 1e-4.

| case | what | output | size | ort vs reference |
| --- | --- | --- | --- | --- |
{rows}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "golden"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="comma-separated case groups (function names, e.g. recurrent): rewrite only "
                        "their folders, each group with its own generator seeded from --seed and its name; the "
                        "README's rows for them are printed, not written")
    args = parser.parse_args()
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - {make.__name__ for make in CASES}
        if unknown:
            sys.exit(f"error: no case group {', '.join(sorted(unknown))}; groups: {', '.join(f.__name__ for f in CASES)}")
        for make in CASES:
            if make.__name__ in wanted:
                maker = Maker(args.out, np.random.default_rng([args.seed, zlib.crc32(make.__name__.encode())]))
                make(maker)
                for n, why, size, worst, shapes in maker.rows:
                    print(f"| `{n}` | {why} | {shapes} | {size / 1024:.0f} KB | {worst:.1e} |")
        return
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    maker = Maker(args.out, np.random.default_rng(args.seed))
    for make in CASES:
        make(maker)
    rows = "\n".join(f"| `{n}` | {why} | {shapes} | {size / 1024:.0f} KB | {worst:.1e} |"
                     for n, why, size, worst, shapes in maker.rows)
    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write(README.format(seed=args.seed, onnx_version=onnx.__version__, ort_version=ort.__version__,
                              rows=rows))
    total = sum(r[2] for r in maker.rows)
    print(f"{len(maker.rows)} cases, {total / 1024:.0f} KB in {args.out}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the seed U-Net generator (DESIGN.md, "The model") as ONNX with random Kaiming weights.

Graph: input "gray" [N, 1, H, W] (N, H, W symbolic; H and W multiples of 64), output "color" [N, 3, H, W].
Every 3x3 convolution (pad 1) and every transposed convolution is followed by InstanceNormalization and
LeakyRelu(0.2); the last convolution (to 3 channels) is followed by Tanh.

  encoder   full res  16, 32, 32        decoder   1/64 -> 1/32  ConvT 512, concat, 512, 512
            1/2       64, 64                      1/32 -> 1/16  ConvT 512, concat, 512, 512
            1/4       128, 128                    1/16 -> 1/8   ConvT 256, concat, 256, 256
            1/8       256, 256                    1/8  -> 1/4   ConvT 128, concat, 128, 128
            1/16      512, 512                    1/4  -> 1/2   ConvT 64, concat, 64, 64
            1/32      512, 512                    1/2  -> 1     ConvT 32, concat, 32, 32
            1/64      512, 512                    output        3x3 conv to 3, Tanh
  (MaxPool 2x2 between encoder levels; ConvTranspose 3x3 stride 2 pad 1 output_padding 1 doubles H and W and
  sets the channels to the skip's width.)

NOTE: the seed's table (and DESIGN.md's summary) shows one 512 conv at 1/32 and one at 1/64. With one conv there
the model has 32.2 M parameters and 125.6 GFLOP at 512x512; with two (as at every other level) it has 36.95 M and
127.1 GFLOP, which are exactly the "about 37 M parameters, ~127 GFLOP" that DESIGN.md states. Two it is;
--single-deep gives the one-conv reading.

--layout trainer builds what Sources/Training/Models/UNetGenerator.swift builds (GeneratorConfiguration.seed):
one conv at 1/32 and at 1/64, and each decoder level's convs are its encoder widths reversed (so 32, 32, 16 at
full resolution, then the 3x3 output conv from 16 channels): 29.9 M parameters, 126.5 GFLOP at 512x512.

usage: tools/seed-generator.py --out seed.onnx [--width-scale 1.0] [--seed 0]
FLOPs count 2 per multiply-add of convolutions and transposed convolutions only (norms and activations add
well under 1%).
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ENCODER = [[16, 32, 32], [64, 64], [128, 128], [256, 256], [512, 512], [512, 512], [512, 512]]
DECODER_CONVS = 2
NEGATIVE_SLOPE = 0.2


class Builder:
    """Accumulates nodes and initializers; counts parameters and FLOPs at a reference size."""

    def __init__(self, rng, size):
        self.rng = rng
        self.size = size  # reference H = W for the FLOP count
        self.nodes = []
        self.initializers = []
        self.params = 0
        self.flops = 0
        self.counter = {}

    def name(self, prefix):
        n = self.counter.get(prefix, 0)
        self.counter[prefix] = n + 1
        return f"{prefix}{n}"

    def weight(self, name, array):
        array = np.ascontiguousarray(array, dtype=np.float32)
        self.initializers.append(numpy_helper.from_array(array, name))
        self.params += array.size
        return name

    def kaiming(self, shape, fan_in, gain):
        # He initialisation, normal, fan_in mode; gain sqrt(2 / (1 + a^2)) for LeakyReLU(a), as torch.nn.init.
        return self.rng.standard_normal(shape).astype(np.float32) * np.float32(gain / np.sqrt(fan_in))

    def conv(self, x, cin, cout, scale, gain):
        """3x3 conv, pad 1, at 1/scale resolution."""
        n = self.name("conv")
        w = self.weight(f"{n}.weight", self.kaiming((cout, cin, 3, 3), cin * 9, gain))
        b = self.weight(f"{n}.bias", np.zeros(cout))
        y = f"{n}.out"
        self.nodes.append(helper.make_node("Conv", [x, w, b], [y], name=n, kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        hw = (self.size // scale) ** 2
        self.flops += 2 * cin * cout * 9 * hw
        return y

    def conv_transpose(self, x, cin, cout, out_scale, gain):
        """ConvTranspose 3x3 stride 2 pad 1 output_padding 1: [N, cin, h, w] -> [N, cout, 2h, 2w]."""
        n = self.name("up")
        # Weight layout (C_in, C_out, kH, kW); fan_in as torch computes it for ConvTranspose (dim 1 x kernel).
        w = self.weight(f"{n}.weight", self.kaiming((cin, cout, 3, 3), cout * 9, gain))
        b = self.weight(f"{n}.bias", np.zeros(cout))
        y = f"{n}.out"
        self.nodes.append(helper.make_node(
            "ConvTranspose", [x, w, b], [y], name=n, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
            output_padding=[1, 1]))
        input_hw = (self.size // (out_scale * 2)) ** 2
        self.flops += 2 * cin * cout * 9 * input_hw
        return y

    def norm_act(self, x, channels):
        n = self.name("norm")
        s = self.weight(f"{n}.scale", np.ones(channels))
        b = self.weight(f"{n}.bias", np.zeros(channels))
        y = f"{n}.out"
        self.nodes.append(helper.make_node("InstanceNormalization", [x, s, b], [y], name=n, epsilon=1e-5))
        a = self.name("lrelu")
        z = f"{a}.out"
        self.nodes.append(helper.make_node("LeakyRelu", [y], [z], name=a, alpha=NEGATIVE_SLOPE))
        return z

    def block(self, x, cin, cout, scale):
        gain = np.sqrt(2.0 / (1 + NEGATIVE_SLOPE ** 2))
        return self.norm_act(self.conv(x, cin, cout, scale, gain), cout)


def build(width_scale=1.0, seed=0, single_deep=False, size=512, layout="design"):
    """Returns (ModelProto, parameter count, FLOPs at size x size)."""
    rng = np.random.default_rng(seed)
    encoder = [list(level) for level in ENCODER]
    if single_deep or layout == "trainer":
        encoder[5], encoder[6] = [512], [512]
    encoder = [[max(1, int(round(c * width_scale))) for c in level] for level in encoder]
    g = Builder(rng, size)
    gain = np.sqrt(2.0 / (1 + NEGATIVE_SLOPE ** 2))

    x, c = "gray", 1
    skips = []
    for level, widths in enumerate(encoder):
        if level > 0:
            p = g.name("pool")
            g.nodes.append(helper.make_node("MaxPool", [x], [f"{p}.out"], name=p, kernel_shape=[2, 2], strides=[2, 2]))
            x = f"{p}.out"
        for width in widths:
            x = g.block(x, c, width, 1 << level)
            c = width
        skips.append((x, c))

    for level in range(len(encoder) - 2, -1, -1):
        skip, skip_c = skips[level]
        scale = 1 << level
        x = g.norm_act(g.conv_transpose(x, c, skip_c, scale, gain), skip_c)
        n = g.name("concat")
        g.nodes.append(helper.make_node("Concat", [x, skip], [f"{n}.out"], name=n, axis=1))
        x, c = f"{n}.out", 2 * skip_c
        widths = [skip_c] * DECODER_CONVS if layout == "design" else list(reversed(encoder[level]))
        for width in widths:
            x = g.block(x, c, width, scale)
            c = width

    y = g.conv(x, c, 3, 1, 1.0)  # unit gain: pre-Tanh std about 1, so random outputs are not all saturated
    g.nodes.append(helper.make_node("Tanh", [y], ["color"], name="tanh"))

    graph = helper.make_graph(
        g.nodes, "seed_generator",
        [helper.make_tensor_value_info("gray", TensorProto.FLOAT, ["N", 1, "H", "W"])],
        [helper.make_tensor_value_info("color", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="mangacolor-tools")
    model.ir_version = 8
    model.doc_string = (f"Seed U-Net generator (DESIGN.md), random Kaiming weights, seed {seed}, "
                        f"width scale {width_scale}. H and W must be multiples of 64.")
    onnx.checker.check_model(model, full_check=True)
    return model, g.params, g.flops


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="where to write the .onnx file")
    parser.add_argument("--width-scale", type=float, default=1.0, help="multiply every width (0.25 for a small model)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for the weights")
    parser.add_argument("--single-deep", action="store_true", help="one conv at 1/32 and 1/64 (the seed table's reading)")
    parser.add_argument("--layout", choices=["design", "trainer"], default="design",
                        help="design: two convs per decoder level (37 M); trainer: as UNetGenerator.swift builds it")
    parser.add_argument("--check", action="store_true", help="run the model in onnxruntime at 1x1x64x64 and 1x1x128x192")
    args = parser.parse_args()

    model, params, flops = build(args.width_scale, args.seed, args.single_deep, layout=args.layout)
    onnx.save(model, args.out)
    print(f"wrote {args.out}: {params:,} parameters ({params / 1e6:.2f} M), "
          f"{flops / 1e9:.2f} GFLOP at 1x1x512x512, {len(model.graph.node)} nodes")

    if args.check:
        import onnxruntime as ort
        session = ort.InferenceSession(args.out, providers=["CPUExecutionProvider"])
        rng = np.random.default_rng(1)
        for shape in [(1, 1, 64, 64), (1, 1, 128, 192)]:
            gray = rng.uniform(-1, 1, shape).astype(np.float32)
            (color,) = session.run(None, {"gray": gray})
            expected = (shape[0], 3, shape[2], shape[3])
            if color.shape != expected or not np.all(np.isfinite(color)):
                print(f"onnxruntime check failed at {shape}: got {color.shape}", file=sys.stderr)
                sys.exit(1)
            print(f"onnxruntime {shape} -> {color.shape}, range [{color.min():.3f}, {color.max():.3f}], "
                  f"std {color.std():.3f}")


if __name__ == "__main__":
    main()

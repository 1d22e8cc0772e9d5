#!/usr/bin/env python3
"""Exports four small image-to-image PyTorch generators with both torch ONNX exporters, as parity cases.

Networks (random weights, eval mode; input [N, C, H, W] with H and W multiples of 16):
  unet_in      U-Net: Conv 3x3 + InstanceNorm (affine and not) + LeakyReLU, MaxPool 2x2, ConvTranspose 3x3
               stride 2 (output_padding 1), Concat skips, 1x1 conv to 3 channels, Tanh.  1 -> 3 channels.
  pix2pix      pix2pix U-Net: Conv 4x4 stride 2 + BatchNorm (eval, random running stats) + LeakyReLU,
               ConvTranspose 4x4 stride 2 + BatchNorm + Dropout (eval: identity) + ReLU, Concat skips, Tanh.
  resnet       CycleGAN-style residual generator: ReflectionPad2d, 7x7 conv, InstanceNorm, ReLU, stride-2 convs,
               residual blocks (ReflectionPad2d + conv + InstanceNorm, Add), ConvTranspose up, Tanh.  3 -> 3.
  resize_conv  resize-convolution decoder: strided convs down, Upsample nearest + conv, Upsample bilinear + conv,
               interpolate(size = another tensor's H, W, bilinear, align_corners=True) added as a skip,
               conv to 12 channels + PixelShuffle(2).  1 -> 3.

Exporters: "dynamo" (torch.onnx.export(dynamo=True), its default opset) and "torchscript"
(dynamo=False) at opsets 11, 13 and 17; H and W are dynamic in every export.

Each case is a folder <net>_<exporter>_opset<N>/ with model.onnx and test_data_set_0/input_0.pb, output_0.pb:
a random uniform [-1, 1) input and onnxruntime's output for it (checked against PyTorch's own output).

usage: tools/parity/export_generators.py [--out Tests/Fixtures/parity] [--size 32x32] [--seed 0]
       [--nets unet_in,...] [--exporters dynamo,torchscript11,...] [--width-scale 1]
"""
import argparse
import logging
import os
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

EXPORTERS = ["dynamo", "torchscript11", "torchscript13", "torchscript17"]


class UNetIN(nn.Module):
    def __init__(self, w=8):
        super().__init__()

        def block(ci, co, affine=True):
            return nn.Sequential(nn.Conv2d(ci, co, 3, padding=1), nn.InstanceNorm2d(co, affine=affine),
                                 nn.LeakyReLU(0.2))

        self.e1 = nn.Sequential(block(1, w, affine=False), block(w, w))
        self.e2 = block(w, 2 * w)
        self.e3 = block(2 * w, 4 * w)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, 3, stride=2, padding=1, output_padding=1)
        self.d2 = block(4 * w, 2 * w)
        self.up1 = nn.ConvTranspose2d(2 * w, w, 3, stride=2, padding=1, output_padding=1)
        self.d1 = block(2 * w, w)
        self.out = nn.Conv2d(w, 3, 1)

    def forward(self, x):
        s1 = self.e1(x)
        s2 = self.e2(self.pool(s1))
        b = self.e3(self.pool(s2))
        y = self.d2(torch.cat([self.up2(b), s2], 1))
        y = self.d1(torch.cat([self.up1(y), s1], 1))
        return torch.tanh(self.out(y))


class Pix2Pix(nn.Module):
    def __init__(self, w=4):
        super().__init__()

        def down(ci, co, norm=True):
            layers = [nn.Conv2d(ci, co, 4, 2, 1, bias=not norm)]
            if norm:
                layers.append(nn.BatchNorm2d(co))
            layers.append(nn.LeakyReLU(0.2))
            return nn.Sequential(*layers)

        def up(ci, co, dropout):
            layers = [nn.ConvTranspose2d(ci, co, 4, 2, 1, bias=False), nn.BatchNorm2d(co)]
            if dropout:
                layers.append(nn.Dropout(0.5))
            layers.append(nn.ReLU())
            return nn.Sequential(*layers)

        self.d1 = down(1, w, norm=False)
        self.d2 = down(w, 2 * w)
        self.d3 = down(2 * w, 4 * w)
        self.d4 = nn.Sequential(nn.Conv2d(4 * w, 4 * w, 4, 2, 1), nn.ReLU())
        self.u4 = up(4 * w, 4 * w, dropout=True)
        self.u3 = up(8 * w, 2 * w, dropout=True)
        self.u2 = up(4 * w, w, dropout=False)
        self.u1 = nn.Sequential(nn.ConvTranspose2d(2 * w, 3, 4, 2, 1), nn.Tanh())

    def forward(self, x):
        a = self.d1(x)
        b = self.d2(a)
        c = self.d3(b)
        y = self.u4(self.d4(c))
        y = self.u3(torch.cat([y, c], 1))
        y = self.u2(torch.cat([y, b], 1))
        return self.u1(torch.cat([y, a], 1))


class ResidualBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c))

    def forward(self, x):
        return x + self.body(x)


class ResNetGenerator(nn.Module):
    def __init__(self, w=4, blocks=2):
        super().__init__()
        self.net = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(3, w, 7), nn.InstanceNorm2d(w, affine=True), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, 2, 1), nn.InstanceNorm2d(2 * w, affine=True), nn.ReLU(),
            nn.Conv2d(2 * w, 4 * w, 3, 2, 1), nn.InstanceNorm2d(4 * w, affine=True), nn.ReLU(),
            *[ResidualBlock(4 * w) for _ in range(blocks)],
            nn.ConvTranspose2d(4 * w, 2 * w, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(2 * w, affine=True),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(w, affine=True), nn.ReLU(),
            nn.ReflectionPad2d(3), nn.Conv2d(w, 3, 7), nn.Tanh())

    def forward(self, x):
        return self.net(x)


class ResizeConvDecoder(nn.Module):
    def __init__(self, w=8):
        super().__init__()
        self.down1 = nn.Conv2d(1, w, 3, 2, 1)
        self.down2 = nn.Conv2d(w, 2 * w, 3, 2, 1)
        self.down3 = nn.Conv2d(2 * w, 4 * w, 3, 2, 1)
        self.up_nearest = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(4 * w, 2 * w, 3, 1, 1),
                                        nn.ReLU())
        self.up_bilinear = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                         nn.Conv2d(2 * w, w, 3, 1, 1), nn.ELU())
        self.side = nn.Conv2d(4 * w, w, 1)
        self.to_pixels = nn.Conv2d(w, 3 * 4, 3, 1, 1)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x):
        a = F.relu(self.down1(x))
        b = F.relu(self.down2(a))
        c = F.relu(self.down3(b))
        y = self.up_bilinear(self.up_nearest(c))
        side = F.interpolate(self.side(c), size=y.shape[2:], mode="bilinear", align_corners=True)
        return self.shuffle(self.to_pixels(torch.sigmoid(y) * side + a))


NETWORKS = {
    "unet_in": (UNetIN, 1),
    "pix2pix": (Pix2Pix, 1),
    "resnet": (ResNetGenerator, 3),
    "resize_conv": (ResizeConvDecoder, 1),
}


def make_network(name, seed, width_scale=1):
    """The network with deterministic random weights (BatchNorm running stats and affine parts included)."""
    cls, channels = NETWORKS[name]
    torch.manual_seed(seed)
    net = cls() if width_scale == 1 else cls(w=int(cls.__init__.__defaults__[0] * width_scale))
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (nn.BatchNorm2d, nn.InstanceNorm2d)):
                if module.weight is not None:
                    module.weight.copy_(torch.rand(module.weight.shape, generator=generator) + 0.5)
                    module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.2)
                if isinstance(module, nn.BatchNorm2d):
                    module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=generator) * 0.2)
                    module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)
    return net.eval(), channels


def export(net, channels, exporter, path, size=(32, 32)):
    """Writes net to path as ONNX with dynamic H and W; returns the model's opset."""
    x = torch.zeros(1, channels, *size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The dynamo exporter logs one line per torchvision operator it cannot register; not our concern.
        logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
        if exporter == "dynamo":
            h, w = torch.export.Dim("H", min=16, max=4096), torch.export.Dim("W", min=16, max=4096)
            program = torch.onnx.export(net, (x,), dynamo=True, input_names=["input"], output_names=["output"],
                                        dynamic_shapes={"x": {2: h, 3: w}}, verbose=False)
            program.save(path, external_data=False)
        elif exporter.startswith("torchscript"):
            opset = int(exporter[len("torchscript"):])
            torch.onnx.export(net, (x,), path, dynamo=False, opset_version=opset, input_names=["input"],
                              output_names=["output"], dynamic_axes={"input": {2: "H", 3: "W"},
                                                                     "output": {2: "H", 3: "W"}})
        else:
            raise ValueError(f"unknown exporter {exporter!r}; expected one of {', '.join(EXPORTERS)}")
    model = onnx.load(path)
    onnx.checker.check_model(model)
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def run_onnxruntime(path, x):
    import onnxruntime as ort
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def write_tensor(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array, name).SerializeToString())


def make_case(out_dir, net_name, exporter, size, seed, width_scale=1):
    """Exports one case folder; returns (folder, opset, max |onnxruntime - torch|)."""
    net, channels = make_network(net_name, seed, width_scale)
    tmp_path = os.path.join(out_dir, f".{net_name}_{exporter}.onnx")
    os.makedirs(out_dir, exist_ok=True)
    opset = export(net, channels, exporter, tmp_path)
    kind = "dynamo" if exporter == "dynamo" else "torchscript"
    case = os.path.join(out_dir, f"{net_name}_{kind}_opset{opset}")
    os.makedirs(os.path.join(case, "test_data_set_0"), exist_ok=True)
    os.replace(tmp_path, os.path.join(case, "model.onnx"))
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (1, channels, *size)).astype(np.float32)
    y = run_onnxruntime(os.path.join(case, "model.onnx"), x)
    with torch.no_grad():
        reference = net(torch.from_numpy(x)).numpy()
    model = onnx.load(os.path.join(case, "model.onnx"), load_external_data=False)
    write_tensor(os.path.join(case, "test_data_set_0", "input_0.pb"), x, model.graph.input[0].name)
    write_tensor(os.path.join(case, "test_data_set_0", "output_0.pb"), y, model.graph.output[0].name)
    return case, opset, float(np.abs(y - reference).max())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--out", default=os.path.join(root, "Tests", "Fixtures", "parity"))
    parser.add_argument("--size", default="32x32", help="input H x W (multiples of 16)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nets", default=",".join(NETWORKS))
    parser.add_argument("--exporters", default=",".join(EXPORTERS))
    parser.add_argument("--width-scale", type=float, default=1)
    args = parser.parse_args()
    size = tuple(int(d) for d in args.size.lower().split("x"))
    print(f"torch {torch.__version__}, onnx {onnx.__version__}")
    worst = 0.0
    for net_name in args.nets.split(","):
        for exporter in args.exporters.split(","):
            case, opset, diff = make_case(args.out, net_name, exporter, size, args.seed, args.width_scale)
            size_kb = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(case) for f in fs) / 1024
            print(f"{os.path.basename(case):34s} opset {opset:2d}  {size_kb:7.1f} KB  |ort - torch| {diff:.2e}")
            worst = max(worst, diff)
    if worst > 1e-4:
        print(f"error: onnxruntime and PyTorch differ by {worst:.2e} (> 1e-4): an exporter problem", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

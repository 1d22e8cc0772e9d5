#!/usr/bin/env python3
"""PyTorch oracle for the trainer: the same tiny U-Net, the same initial weights, three Adam steps of L1.

Runs the Swift test hook `pytorchAdamDump` (Tests/TrainingTests/PyTorchDumpTests.swift) with
MANGACOLOR_ADAM_DUMP=DIR, which writes the trainer's initial weights (G0.onnx), the input and target, the
initial forward output, the step-1 gradients and the weights after 1 and 3 Adam steps (G1.onnx, G3.onnx).
This script rebuilds the architecture functionally in PyTorch from the initializer names
(enc{i}.{j}.conv/norm, up{i}.conv/norm, dec{i}.{j}.conv/norm, out), loads G0, and repeats the steps with
torch.optim.Adam(lr=1e-3, betas=(0.5, 0.999), eps=1e-8) on F.l1_loss.

It also runs the exported generator and both exported discriminators in onnxruntime (after
onnx.checker) against the trainer's forward outputs (max abs <= 1e-5).

Tolerances (float32 both sides, different summation orders):
  forward output      max abs <= 1e-5
  step-1 gradients    max abs <= 1e-5 + 1e-3 * max|grad| per tensor
  weights after 1, 3  max abs <= 1e-6 + 1e-3 * lr ... see below
Adam's first steps move each weight by about lr * m / sqrt(v), i.e. ~lr * sign(grad): a gradient that is
analytically zero (the bias of a conv followed by InstanceNorm: the norm removes any constant) is float
noise on both sides, and Adam turns noise into +-lr with a random sign. Those tensors (max |grad| below
1e-6 on the PyTorch side) are reported and compared on the gradient only. Every other weight must agree
to 2e-6 absolute (lr = 1e-3, so that is 0.2 % of a step).

Usage: /work/venv/bin/python tools/pytorch_adam_check.py [--dir DIR] [--no-run]
Exit status 0 when everything is within tolerance.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def initializers(path):
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}


def forward(P, x, levels):
    def block(h, prefix):
        h = F.conv2d(h, P[prefix + ".conv.weight"], P[prefix + ".conv.bias"], padding=1)
        h = F.instance_norm(h, weight=P[prefix + ".norm.weight"], bias=P[prefix + ".norm.bias"], eps=1e-5)
        return F.leaky_relu(h, 0.2)

    skips, h = [], x
    for i, widths in enumerate(levels):
        if i > 0:
            h = F.max_pool2d(h, 2)
        for j in range(len(widths)):
            h = block(h, f"enc{i}.{j}")
        skips.append(h)
    for i in range(len(levels) - 2, -1, -1):
        h = F.conv_transpose2d(h, P[f"up{i}.conv.weight"], P[f"up{i}.conv.bias"], stride=2, padding=1, output_padding=1)
        h = F.instance_norm(h, weight=P[f"up{i}.norm.weight"], bias=P[f"up{i}.norm.bias"], eps=1e-5)
        h = F.leaky_relu(h, 0.2)
        h = torch.cat([h, skips[i]], dim=1)
        for j in range(len(levels[i])):
            h = block(h, f"dec{i}.{j}")
    return torch.tanh(F.conv2d(h, P["out.weight"], P["out.bias"], padding=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", help="dump folder (default: a temporary one)")
    ap.add_argument("--no-run", action="store_true", help="use an existing dump instead of running swift test")
    args = ap.parse_args()
    d = args.dir or tempfile.mkdtemp(prefix="mangacolor-adam-")
    if not args.no_run:
        env = dict(os.environ, MANGACOLOR_ADAM_DUMP=d)
        r = subprocess.run(["swift", "test", "--filter", "pytorchAdamDump"], env=env, capture_output=True, text=True,
                           cwd=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
        if r.returncode != 0:
            print(r.stdout[-4000:], r.stderr[-4000:])
            return 1
    levels = json.load(open(os.path.join(d, "config.json")))["levels"]
    x = torch.from_numpy(load_pb(os.path.join(d, "input.pb")).copy())
    y = torch.from_numpy(load_pb(os.path.join(d, "target.pb")).copy())
    g0 = initializers(os.path.join(d, "G0.onnx"))
    P = {k: torch.nn.Parameter(torch.from_numpy(v.copy())) for k, v in g0.items()
         if not k.endswith("running_mean")}
    ok = True

    def report(what, diff, tol):
        nonlocal ok
        good = diff <= tol
        ok &= good
        print(f"{'ok  ' if good else 'FAIL'} {what}: max abs diff {diff:.3g} (tolerance {tol:.3g})")

    with torch.no_grad():
        out0 = forward(P, x, levels).numpy()
    report("forward output", float(np.abs(out0 - load_pb(os.path.join(d, "output0.pb"))).max()), 1e-5)

    # The exporter against onnxruntime: generator and both discriminators (trainer forward in the dump).
    import onnxruntime as ort
    for name, inp, want in [("G0", "input.pb", "output0.pb")] + [
            (f"D_{k}", f"D_{k}_input.pb", f"D_{k}_output.pb") for k in ("seed", "patch")]:
        path = os.path.join(d, name + ".onnx")
        onnx.checker.check_model(onnx.load(path))
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        got = sess.run(None, {"input": load_pb(os.path.join(d, inp))})[0]
        report(f"onnxruntime vs trainer, {name}.onnx", float(np.abs(got - load_pb(os.path.join(d, want))).max()), 1e-5)

    opt = torch.optim.Adam(P.values(), lr=1e-3, betas=(0.5, 0.999), eps=1e-8)
    zero_grad = set()
    for step in (1, 2, 3):
        opt.zero_grad()
        loss = F.l1_loss(forward(P, x, levels), y)
        loss.backward()
        if step == 1:
            worst = 0.0
            for k, p in P.items():
                ours = load_pb(os.path.join(d, "grad", k + ".pb"))
                ref = p.grad.numpy()
                scale = float(np.abs(ref).max())
                if scale < 1e-6:
                    zero_grad.add(k)
                diff = float(np.abs(ours - ref).max())
                if diff > 1e-5 + 1e-3 * scale:
                    ok = False
                    print(f"FAIL gradient {k}: max abs diff {diff:.3g}, max |grad| {scale:.3g}")
                worst = max(worst, diff / (1e-5 + 1e-3 * scale))
            print(f"{'ok  ' if worst <= 1 else 'FAIL'} step-1 gradients of {len(P)} tensors: worst diff / tolerance {worst:.3g}")
            print(f"     analytically-zero gradients (update not compared): {sorted(zero_grad)}")
        opt.step()
        if step in (1, 3):
            ours = initializers(os.path.join(d, f"G{step}.onnx"))
            worst, where = 0.0, ""
            for k, p in P.items():
                if k in zero_grad:
                    continue
                diff = float(np.abs(ours[k] - p.detach().numpy()).max())
                if diff > worst:
                    worst, where = diff, k
            report(f"weights after {step} Adam step(s) (worst: {where})", worst, 2e-6)
    print("PASS" if ok else "FAIL", f"(dump in {d})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

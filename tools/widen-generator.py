#!/usr/bin/env python3
"""Widen an exported mangacolor U-Net generator without changing what it computes (Net2WiderNet,
Chen, Goodfellow & Shlens 2016, "Net2Net: Accelerating Learning via Knowledge Transfer").

Every hidden layer's channels grow by --factor: the first channels are the old ones, each new channel copies a
randomly chosen old one (its filter, bias and InstanceNorm scale/shift, so after the norm it carries the same
values), and the layers that read a copied channel divide its incoming weight by the number of copies, so the
sum they form is unchanged. Skip concatenations carry both halves' copies. The output heads (L*, a*b* classes or
colour channels) keep their channels. Replicated filters get a little noise (--noise, relative to the layer's
weight spread) so training can tell the copies apart: Adam updates exact copies identically forever.

    python3 tools/widen-generator.py models/mangacolor-default.onnx --factor 1.5 -o wide.onnx
    mangacolor train --init wide.onnx --width-multiplier 0.375 --levels 6 ...   # 0.25 x 1.5

Prints the largest output difference between the two models on a random page (onnxruntime, when installed).
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HEADS = ("out.weight", "classes.weight", "classes.decoding")


def widen(model, factor, noise, seed):
    rng = np.random.default_rng(seed)
    inits = {t.name: numpy_helper.to_array(t).copy() for t in model.graph.initializer}
    new = dict(inits)
    # channel map of every activation: (source channel of each channel, copies of each source channel)
    maps = {model.graph.input[0].name: (np.arange(1), np.ones(1))}

    def grow(c):
        wide = int(round(c * factor))
        if wide < c or abs(wide - c * factor) > 1e-6:
            sys.exit(f"a width of {c} times {factor} is not a whole number of channels at least {c}")
        g = np.concatenate([np.arange(c), rng.integers(0, c, wide - c)])
        return g, np.bincount(g, minlength=c).astype(np.float32)

    def jitter(w, g, c, axis):
        spread = float(w.std()) or 1.0
        idx = [slice(None)] * w.ndim
        idx[axis] = slice(c, None)
        w[tuple(idx)] += rng.normal(0, noise * spread, w[tuple(idx)].shape).astype(np.float32)

    for node in model.graph.node:
        op, x = node.op_type, node.input[0] if node.input else None
        if op in ("Conv", "ConvTranspose") and node.input[1] in inits:
            gin, counts = maps[x]
            wname = node.input[1]
            w = inits[wname]
            transpose = op == "ConvTranspose"
            cout = w.shape[1] if transpose else w.shape[0]
            if wname in HEADS:
                gout, cout_counts = np.arange(cout), np.ones(cout, np.float32)
            else:
                gout, cout_counts = grow(cout)
            if transpose:
                wn = w[gin][:, gout] / counts[gin][:, None, None, None]
            else:
                wn = w[gout][:, gin] / counts[gin][None, :, None, None]
            wn = wn.astype(np.float32)
            if wname not in HEADS and noise > 0:
                jitter(wn, gout, cout, 1 if transpose else 0)
            new[wname] = wn
            if len(node.input) > 2:
                new[node.input[2]] = inits[node.input[2]][gout]
            maps[node.output[0]] = (gout, cout_counts)
        elif op == "InstanceNormalization":
            g, counts = maps[x]
            for name in node.input[1:3]:
                new[name] = inits[name][g]
            maps[node.output[0]] = (g, counts)
        elif op == "Concat":
            parts = [maps[i] for i in node.input]
            offset, gs, cs = 0, [], []
            for g, counts in parts:
                gs.append(g + offset)
                cs.append(counts)
                offset += len(counts)
            maps[node.output[0]] = (np.concatenate(gs), np.concatenate(cs))
        elif op in ("LeakyRelu", "Relu", "MaxPool", "Tanh", "Mul", "Softmax", "Dropout", "Identity"):
            maps[node.output[0]] = maps[x]
        else:
            sys.exit(f"widen-generator: no rule for {op} ({node.name or node.output[0]})")

    del model.graph.initializer[:]
    model.graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in new.items())
    for p in model.metadata_props:
        if p.key == "mangacolor.levels":
            p.value = "|".join(",".join(str(int(round(int(w) * factor))) for w in level.split(","))
                               for level in p.value.split("|"))
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--factor", type=float, required=True, help="channel growth of every hidden layer, e.g. 1.5")
    ap.add_argument("--noise", type=float, default=0.002, help="noise on copied filters, relative to the layer's weight std")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    wide = widen(onnx.load(a.model), a.factor, a.noise, a.seed)
    onnx.checker.check_model(wide)
    onnx.save(wide, a.output)
    n = sum(int(np.prod(t.dims)) for t in wide.graph.initializer)
    print(f"{a.output}: {n:,} parameters")
    try:
        import onnxruntime as ort
    except ImportError:
        return
    x = np.random.default_rng(1).uniform(-1, 1, (1, 1, 128, 96)).astype(np.float32)
    y0 = ort.InferenceSession(a.model).run(None, {"input": x})[0]
    y1 = ort.InferenceSession(a.output).run(None, {"input": x})[0]
    print(f"largest output difference on a random 128x96 page: {np.abs(y0 - y1).max():.2e} (output range {np.ptp(y0):.2f})")


if __name__ == "__main__":
    main()

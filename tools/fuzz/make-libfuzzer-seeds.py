#!/usr/bin/env python3
"""Seed corpus for the libFuzzer ONNX target (tools/fuzz/Sources/fuzz-onnx): one file per model.

For every case folder under the given roots (a model.onnx with its inputs in test_data_set_0/input_K.pb, as
in the ONNX node suite and Tests/Fixtures/golden and parity, or beside it, as in Tests/Fixtures/fuzz), writes
- NAME.onnx: the model as it is (the target feeds its inputs small generated values), and
- NAME.baked.onnx: the model with the case's own inputs turned into initializers, so that the graph folds
  to constants at plan time on the values the case was made for (shape tensors, axes and indices that are in
  range), when those inputs hold at most --max-input-bytes.
A model.onnx without inputs (Tests/Fixtures/hostile) gives NAME.onnx only. Models over --max-bytes are
skipped: libFuzzer mutates small inputs best, and its -max_len follows the largest seed.

usage: tools/fuzz/make-libfuzzer-seeds.py OUT ROOT... [--max-bytes 200000] [--max-input-bytes 65536]
"""
import argparse
import glob
import os
import sys

import onnx


def input_files(case):
    for folder in (os.path.join(case, "test_data_set_0"), case):
        files = []
        while os.path.exists(os.path.join(folder, f"input_{len(files)}.pb")):
            files.append(os.path.join(folder, f"input_{len(files)}.pb"))
        if files:
            return files
    return []


def baked(model, files):
    """The model with its first len(files) runtime inputs given as initializers (IR >= 4 allows inputs
    that are not listed among the graph inputs; they are dropped from the inputs)."""
    initialized = {t.name for t in model.graph.initializer}
    runtime = [i for i in model.graph.input if i.name not in initialized]
    if len(runtime) != len(files):
        return None
    for info, path in zip(runtime, files):
        t = onnx.TensorProto()
        with open(path, "rb") as f:
            t.ParseFromString(f.read())
        t.name = info.name
        model.graph.initializer.append(t)
    keep = [i for i in model.graph.input if i.name in initialized]
    del model.graph.input[:]
    model.graph.input.extend(keep)
    if model.ir_version < 4:
        model.ir_version = 4
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("roots", nargs="+")
    parser.add_argument("--max-bytes", type=int, default=200_000)
    parser.add_argument("--max-input-bytes", type=int, default=65_536)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    written = skipped = 0
    for root in args.roots:
        for path in sorted(glob.glob(os.path.join(root, "**", "model.onnx"), recursive=True)):
            case = os.path.dirname(path)
            name = os.path.relpath(case, root).replace(os.sep, "_") or os.path.basename(root)
            name = os.path.basename(os.path.normpath(root)) + "_" + name
            if os.path.getsize(path) > args.max_bytes:
                skipped += 1
                continue
            with open(path, "rb") as f:
                data = f.read()
            with open(os.path.join(args.out, name + ".onnx"), "wb") as f:
                f.write(data)
            written += 1
            files = input_files(case)
            if not files or sum(os.path.getsize(p) for p in files) > args.max_input_bytes:
                continue
            try:
                model = baked(onnx.load_from_string(data), files)
            except Exception:  # a hostile or fuzzed model onnx cannot parse: keep the plain seed only
                model = None
            if model is not None:
                with open(os.path.join(args.out, name + ".baked.onnx"), "wb") as f:
                    f.write(model.SerializeToString())
                written += 1
    print(f"{written} seeds in {args.out} ({skipped} models over {args.max_bytes} bytes skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A bounded mutation fuzzer for PNG and JPEG decoding, through `mangacolor colorize` in child processes.

Seeds are the image fixtures (Tests/Fixtures/images). Each execution flips, inserts, deletes or overwrites
a few bytes of one seed (or rewrites a PNG IHDR / JPEG SOF size field to an extreme, with a valid PNG
CRC so that libpng reads on) and colorizes it with a three-node stand-in generator (grey to RGB by Concat),
so the time goes to decoding, not to a network. Findings as in fuzz-onnx.py: a signal, an exit status other
than 0 or 1, a run past --timeout or a peak RSS over --rss-gb; each is kept under OUT/<n>/.

usage: tools/fuzz/fuzz-images.py [--binary .build/debug/mangacolor] [--seconds 60] [--seed 0]
                                 [--out /tmp/fuzz-images] [--timeout 10] [--rss-gb 4]
"""
import argparse
import glob
import importlib.util
import os
import shutil
import struct
import sys
import tempfile
import time
import zlib

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
spec = importlib.util.spec_from_file_location("fuzz_onnx", os.path.join(HERE, "fuzz-onnx.py"))
fuzz_onnx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fuzz_onnx)
SIZES = [0, 1, 7, 65500, 65535, 2**16, 2**24, 2**31 - 1, 2**32 - 1]


def stand_in_generator(path):
    node = helper.make_node("Concat", ["x", "x", "x"], ["y"], name="grey_to_rgb", axis=1)
    graph = helper.make_graph([node], "stand_in", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, "H", "W"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, "H", "W"])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def mutate(rng, data):
    data = bytearray(data)
    kind = rng.randrange(5)
    if kind == 0 and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 33:
        # IHDR width/height (and depth/colour type) to extremes, CRC fixed so libpng reads on.
        struct.pack_into(">II", data, 16, rng.choice(SIZES), rng.choice(SIZES))
        if rng.random() < 0.3:
            data[24] = rng.choice([1, 2, 4, 8, 16, 3, 255])
            data[25] = rng.choice([0, 2, 3, 4, 6, 1, 255])
        struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
        return bytes(data), "png size"
    if kind == 0 and data[:2] == b"\xff\xd8":
        at = data.find(b"\xff\xc0")
        if at < 0:
            at = data.find(b"\xff\xc2")
        if at >= 0 and at + 9 <= len(data):
            struct.pack_into(">HH", data, at + 5, rng.choice(SIZES) & 0xFFFF, rng.choice(SIZES) & 0xFFFF)
            return bytes(data), "jpeg size"
    if kind <= 1:
        for _ in range(rng.randint(1, 16)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data), "bytes overwritten"
    if kind == 2:
        at = rng.randrange(len(data))
        return bytes(data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) + data[at:]), "bytes inserted"
    if kind == 3:
        at = rng.randrange(len(data))
        return bytes(data[:at] + data[at + rng.randint(1, 64):]), "bytes deleted"
    return bytes(data[: rng.randrange(1, len(data))]), "truncated"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default=os.path.join(ROOT, "Tests", "Fixtures", "images"))
    fuzz_onnx.add_common_arguments(parser, "fuzz-images")
    args = parser.parse_args()
    seeds = sorted(glob.glob(os.path.join(args.seeds, "*.png")) + glob.glob(os.path.join(args.seeds, "*.jpg")))
    if not seeds:
        sys.exit(f"no PNG or JPEG seeds in {args.seeds}")
    rng, cap, env = fuzz_onnx.prepare(args)
    work = tempfile.mkdtemp(prefix="fuzz-images-")
    model = os.path.join(work, "stand-in.onnx")
    stand_in_generator(model)
    executions, findings, largest = 0, {}, 0
    started = time.time()
    stop = []
    fuzz_onnx.signal.signal(fuzz_onnx.signal.SIGTERM, lambda *_: stop.append(True))
    while time.time() < started + args.seconds and not stop:
        seed = rng.choice(seeds)
        with open(seed, "rb") as f:
            data, what = mutate(rng, f.read())
        page = os.path.join(work, "page" + os.path.splitext(seed)[1])
        with open(page, "wb") as f:
            f.write(data)
        out = os.path.join(work, "out")
        shutil.rmtree(out, ignore_errors=True)
        command = [args.binary, "colorize", page, "-o", out, "--model", model, "--force"]
        rc, rss, seconds, stderr = fuzz_onnx.run_child(command, env, args.timeout, cap)
        executions += 1
        largest = max(largest, rss)
        kind = fuzz_onnx.classify(rc, rss, cap)
        if kind:
            keep = fuzz_onnx.keep_finding(findings, args.out, kind, lambda keep: shutil.copy(page, keep),
                                          f"{kind}\nseed {seed}\nmutation {what}\n{' '.join(command)}\n{stderr[-3000:]}\n")
            print(f"FINDING {kind}: {os.path.basename(seed)} {what} -> {keep}", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    fuzz_onnx.finish(executions, started, len(seeds), findings, largest)


if __name__ == "__main__":
    main()

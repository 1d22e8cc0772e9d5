#!/usr/bin/env python3
"""Compares two mangacolor training checkpoints (RUN/checkpoint.mcc) tensor by tensor.

    compare-checkpoints.py A.mcc B.mcc [--tolerance 1e-5] [--ignore REGEX] [--moment-tolerance T]

Prints the largest absolute difference of the weights (G.*, D.*, EMA.*), of the Adam moments, and whether
the step and the random-generator state agree; exits 1 when a weight differs by more than the tolerance, a
tensor is missing from one side, or the step or random state differ. --ignore leaves weights whose name
matches out of the tolerance check (they are still reported). Standard library only (the format is
Sources/Training/GAN/Checkpoint.swift's: "MCCKPT01", u32 count, then per tensor u16 name length, name, u8
ONNX dtype, u8 rank, i64 dims, raw little-endian data).
"""
import argparse
import array
import re
import struct
import sys

SIZES = {1: ("f", 4), 2: ("B", 1), 3: ("b", 1), 6: ("i", 4), 7: ("q", 8), 11: ("d", 8), 13: ("Q", 8), 12: ("I", 4)}


def read(path):
    data = open(path, "rb").read()
    if data[:8] != b"MCCKPT01":
        sys.exit(f"{path}: not a mangacolor checkpoint (magic {data[:8]!r})")
    (count,), at = struct.unpack_from("<I", data, 8), 12
    out = {}
    for _ in range(count):
        (n,) = struct.unpack_from("<H", data, at); at += 2
        name = data[at:at + n].decode(); at += n
        dtype, rank = data[at], data[at + 1]; at += 2
        dims = struct.unpack_from(f"<{rank}q", data, at); at += 8 * rank
        code, size = SIZES.get(dtype, ("B", 1))
        elements = 1
        for d in dims:
            elements *= d
        values = array.array(code)
        values.frombytes(data[at:at + elements * size]); at += elements * size
        if sys.byteorder != "little":
            values.byteswap()
        out[name] = values
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--ignore", help="regular expression: weights not held to the tolerance")
    parser.add_argument("--moment-tolerance", type=float, help="also hold the Adam moments to this (default: report only)")
    args = parser.parse_args()
    a, b = read(args.a), read(args.b)
    problems = []
    if set(a) != set(b):
        problems.append(f"tensors only in one: {sorted(set(a) ^ set(b))[:8]}")
    ignore = re.compile(args.ignore) if args.ignore else None
    worst = {"weights": (0.0, ""), "ignored": (0.0, ""), "adam": (0.0, "")}
    for name in sorted(set(a) & set(b)):
        if name == "config":
            continue
        if name in ("step", "rng") or name.endswith(".step"):
            if list(a[name]) != list(b[name]):
                problems.append(f"{name} differs: {list(a[name])} vs {list(b[name])}")
            continue
        if len(a[name]) != len(b[name]):
            problems.append(f"{name}: {len(a[name])} vs {len(b[name])} elements")
            continue
        diff = max((abs(x - y) for x, y in zip(a[name], b[name])), default=0.0)
        kind = "adam" if name.startswith("adam") else "ignored" if ignore and ignore.search(name) else "weights"
        if diff > worst[kind][0]:
            worst[kind] = (diff, name)
    print(f"weights: max abs difference {worst['weights'][0]:.3g} ({worst['weights'][1] or 'all equal'})")
    if ignore:
        print(f"ignored weights: max abs difference {worst['ignored'][0]:.3g} ({worst['ignored'][1] or 'all equal'})")
    print(f"Adam moments: max abs difference {worst['adam'][0]:.3g} ({worst['adam'][1] or 'all equal'})")
    if args.moment_tolerance is not None and worst["adam"][0] > args.moment_tolerance:
        problems.append(f"Adam moments differ by {worst['adam'][0]:.3g} > {args.moment_tolerance:g}")
    if worst["weights"][0] > args.tolerance:
        problems.append(f"weights differ by {worst['weights'][0]:.3g} > {args.tolerance:g}")
    for p in problems:
        print("FAIL:", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

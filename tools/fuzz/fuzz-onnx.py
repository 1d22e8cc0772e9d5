#!/usr/bin/env python3
"""A bounded mutation fuzzer for ONNX decode + plan + run, through `mangacolor run` in child processes.

Seeds are backend-test case folders (model.onnx + test_data_set_0/input_K.pb): the ONNX node suite
(`tools/conformance-data.py OUT --suites node`) and Tests/Fixtures/golden. Each execution takes one seed,
applies one to three mutations and runs the binary on it under a memory cap and a time limit:

- an int or ints attribute set to an extreme (2^62, -2^62, INT64_MAX, INT64_MIN, 2^31, 2^40, 0, -1, ...),
  or such an attribute added to a node (pads, strides, axis, axes, kernel_shape, ...);
- a float attribute set to NaN, +-inf or 1e30;
- an integer input (shapes, axes, pads, indices, repeats) given an extreme element, a float input NaN,
  inf or 1e30 (scales), an input given another rank and shape;
- an input given another element type (its declared type changed to match, so the kernels see it);
- an initializer's dims changed (the data no longer matches), or bytes of the serialized model flipped.

A child that dies by a signal, exits with a status other than 0 or 1, runs past --timeout or has a peak
RSS over --rss-gb is a finding: its model and inputs are kept under OUT/<n>/ with the command line.
The runtime's memory budget is set below the cap (MANGACOLOR_MEMORY_LIMIT), so a refused allocation is
an error message, and an allocation that gets past the budget and the cap is a finding.

Prints executions, findings by kind, executions/s and the largest RSS seen. Exits 1 if anything was found.

usage: tools/fuzz/fuzz-onnx.py SEED_DIR... [--binary .build/debug/mangacolor] [--seconds 60] [--seed 0]
                              [--out /tmp/fuzz-onnx] [--timeout 10] [--rss-gb 4]
"""
import argparse
import glob
import os
import random
import shutil
import signal
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXTREME_INTS = [2**62, -(2**62), 2**63 - 1, -(2**63), 2**31, -(2**31), 2**40, 65536, 0, -1, 1, 3]
EXTREME_FLOATS = [float("nan"), float("inf"), float("-inf"), 1e30, -1e30, 0.0, 1e-30]
ATTRIBUTE_NAMES = ["pads", "strides", "dilations", "kernel_shape", "axis", "axes", "output_padding",
                   "output_shape", "group", "blocksize", "k", "perm", "split", "repeats", "keepdims",
                   "batch_dims", "depth", "size", "sample_size", "dtype", "to", "start", "end"]


def seeds(folders):
    found = []
    for folder in folders:
        for model in sorted(glob.glob(os.path.join(folder, "**", "model.onnx"), recursive=True)):
            case = os.path.dirname(model)
            if os.path.isdir(os.path.join(case, "test_data_set_0")):
                found.append(case)
    return found


def load_case(case):
    model = onnx.load(os.path.join(case, "model.onnx"), load_external_data=False)
    inputs = []
    data = os.path.join(case, "test_data_set_0")
    k = 0
    while os.path.exists(os.path.join(data, f"input_{k}.pb")):
        t = onnx.TensorProto()
        with open(os.path.join(data, f"input_{k}.pb"), "rb") as f:
            t.ParseFromString(f.read())
        inputs.append(t)
        k += 1
    return model, inputs


def mutate_attribute(rng, model, inputs):
    nodes = [n for n in model.graph.node if any(a.type in (onnx.AttributeProto.INT, onnx.AttributeProto.INTS,
                                                           onnx.AttributeProto.FLOAT) for a in n.attribute)]
    if not nodes:
        return add_attribute(rng, model, inputs)
    node = rng.choice(nodes)
    attributes = [a for a in node.attribute if a.type in (onnx.AttributeProto.INT, onnx.AttributeProto.INTS,
                                                          onnx.AttributeProto.FLOAT)]
    a = rng.choice(attributes)
    if a.type == onnx.AttributeProto.INT:
        a.i = rng.choice(EXTREME_INTS)
    elif a.type == onnx.AttributeProto.FLOAT:
        a.f = rng.choice(EXTREME_FLOATS)
    elif len(a.ints) > 0:
        a.ints[rng.randrange(len(a.ints))] = rng.choice(EXTREME_INTS)
    return f"attribute {node.op_type}.{a.name}"


def add_attribute(rng, model, inputs):
    if not model.graph.node:
        return "nothing"
    node = rng.choice(model.graph.node)
    name = rng.choice(ATTRIBUTE_NAMES)
    for a in list(node.attribute):
        if a.name == name:
            node.attribute.remove(a)
    if rng.random() < 0.5:
        node.attribute.append(helper.make_attribute(name, rng.choice(EXTREME_INTS)))
    else:
        node.attribute.append(helper.make_attribute(name, [rng.choice(EXTREME_INTS) for _ in range(rng.randint(1, 6))]))
    return f"added {node.op_type}.{name}"


def mutate_input_values(rng, model, inputs):
    if not inputs:
        return mutate_attribute(rng, model, inputs)
    k = rng.randrange(len(inputs))
    array = numpy_helper.to_array(inputs[k]).copy()
    if array.size == 0:
        return "empty input"
    flat = array.reshape(-1)
    i = rng.randrange(flat.size)
    if array.dtype.kind in "iu":
        info = np.iinfo(array.dtype)
        flat[i] = max(min(rng.choice(EXTREME_INTS), int(info.max)), int(info.min))
    elif array.dtype.kind == "f":
        flat[i] = rng.choice(EXTREME_FLOATS)
    else:
        return "input kept"
    inputs[k] = numpy_helper.from_array(array, inputs[k].name)
    return f"input {k} value"


def mutate_input_shape(rng, model, inputs):
    if not inputs:
        return mutate_attribute(rng, model, inputs)
    k = rng.randrange(len(inputs))
    array = numpy_helper.to_array(inputs[k])
    shape = [rng.choice([0, 1, 2, 3, 5]) for _ in range(rng.randint(0, 5))]
    inputs[k] = numpy_helper.from_array(np.zeros(shape, array.dtype), inputs[k].name)
    # Drop the declared shape so that the plan's input check lets it through to the kernels.
    for value in model.graph.input:
        if value.name == inputs[k].name or (k < len(model.graph.input) and value is model.graph.input[k]):
            value.type.tensor_type.ClearField("shape")
    return f"input {k} shape {shape}"


def mutate_input_type(rng, model, inputs):
    """An input of another element type, its declared type cleared so that the kernels see it."""
    if not inputs:
        return mutate_initializer(rng, model, inputs)
    k = rng.randrange(len(inputs))
    array = numpy_helper.to_array(inputs[k])
    if array.dtype.kind not in "iufb":
        return "input type kept"
    target = rng.choice([np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_, np.float16])
    inputs[k] = numpy_helper.from_array(array.astype(target), inputs[k].name)
    for value in model.graph.input:
        if value.name == inputs[k].name:
            value.type.tensor_type.elem_type = inputs[k].data_type
    return f"input {k} as {np.dtype(target).name}"


def mutate_initializer(rng, model, inputs):
    tensors = list(model.graph.initializer)
    if not tensors:
        return mutate_input_values(rng, model, inputs)
    t = rng.choice(tensors)
    if len(t.dims) == 0:
        t.dims.append(rng.choice(EXTREME_INTS[:8]))
    else:
        t.dims[rng.randrange(len(t.dims))] = rng.choice([2**40, 2**31, 10**5, 0, 7])
    return f"initializer {t.name} dims {list(t.dims)}"


MUTATIONS = [mutate_attribute, mutate_attribute, add_attribute, mutate_input_values, mutate_input_values,
             mutate_input_shape, mutate_input_type, mutate_initializer]


def run_child(command, env, timeout, cap_bytes):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (cap_bytes, cap_bytes))
        os.setpgrp()
    import subprocess
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, preexec_fn=limit)
    start = time.time()
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid != 0:
            child.returncode = os.waitstatus_to_exitcode(status)
            stderr = child.stderr.read().decode(errors="replace")
            return child.returncode, usage.ru_maxrss * 1024, time.time() - start, stderr
        if time.time() - start > timeout:
            os.killpg(child.pid, signal.SIGKILL)   # the child's own process group (setpgrp above)
            os.wait4(child.pid, 0)
            return "timeout", 0, time.time() - start, ""
        time.sleep(0.005)


import resource  # noqa: E402  (used in the child's preexec)


def classify(rc, rss, cap):
    """What a child's end means: None (a clean exit or error), "hang", "signal N", "exit N" or "rss"."""
    if rc == "timeout":
        return "hang"
    if rc not in (0, 1):
        return f"signal {-rc}" if rc < 0 else f"exit {rc}"
    return "rss" if rss > cap else None


def keep_finding(findings, out_dir, kind, copy, report):
    """Counts a finding and keeps its input under out_dir/NNNN with finding.txt; copy(folder) puts the files there."""
    n = sum(findings.values())
    findings[kind] = findings.get(kind, 0) + 1
    keep = os.path.join(out_dir, f"{n:04d}")
    os.makedirs(keep, exist_ok=True)
    copy(keep)
    with open(os.path.join(keep, "finding.txt"), "w") as f:
        f.write(report)
    return keep


def finish(executions, started, seeds, findings, largest):
    """The summary line every fuzzer ends with; exits 1 when anything was found."""
    elapsed = time.time() - started
    print(f"{executions} executions in {elapsed:.0f} s ({executions / max(elapsed, 1e-9):.1f}/s), "
          f"{seeds} seeds, findings {findings or 0}, largest RSS {largest / 2**20:.0f} MiB")
    sys.exit(1 if findings else 0)


def add_common_arguments(parser, name):
    """The options both fuzzers take: the binary, the time, the seed, the findings folder and the limits."""
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "mangacolor"))
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), name))
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--rss-gb", type=float, default=4)


def prepare(args):
    """The run's random generator, the RSS cap in bytes, and the children's environment (a memory budget of a
    quarter of the cap); makes the findings folder."""
    cap = int(args.rss_gb * 2**30)
    env = dict(os.environ, MANGACOLOR_MEMORY_LIMIT=str(cap // 4))
    os.makedirs(args.out, exist_ok=True)
    return random.Random(args.seed), cap, env


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seed_dirs", nargs="+")
    add_common_arguments(parser, "fuzz-onnx")
    args = parser.parse_args()
    cases = seeds(args.seed_dirs)
    if not cases:
        sys.exit(f"no seed cases (model.onnx + test_data_set_0) under {args.seed_dirs}")
    rng, cap, env = prepare(args)
    work = tempfile.mkdtemp(prefix="fuzz-onnx-")
    executions, findings, largest = 0, {}, 0
    deadline = time.time() + args.seconds
    started = time.time()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))   # finish the execution, then report
    last_report = started
    while time.time() < deadline and not stop:
        if time.time() - last_report > 60:
            last_report = time.time()
            print(f"... {executions} executions, findings {findings or 0}", flush=True)
        case = rng.choice(cases)
        try:
            model, inputs = load_case(case)
        except Exception:
            continue
        what = []
        for _ in range(rng.randint(1, 3)):
            try:
                what.append(rng.choice(MUTATIONS)(rng, model, inputs))
            except Exception as error:  # a mutation that does not apply to this seed (string tensors, ...)
                what.append(f"skipped ({type(error).__name__})")
        try:
            blob = model.SerializeToString()
            encoded = [t.SerializeToString() for t in inputs]
        except Exception:
            continue
        if rng.random() < 0.1:
            blob = bytearray(blob)
            for _ in range(rng.randint(1, 8)):
                blob[rng.randrange(len(blob))] = rng.randrange(256)
            what.append("bytes flipped")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        with open(os.path.join(work, "model.onnx"), "wb") as f:
            f.write(bytes(blob))
        command = [args.binary, "run", os.path.join(work, "model.onnx"), "--output-dir", os.path.join(work, "out")]
        for k, t in enumerate(encoded):
            path = os.path.join(work, f"input_{k}.pb")
            with open(path, "wb") as f:
                f.write(t)
            command += ["--input", path]
        rc, rss, seconds, stderr = run_child(command, env, args.timeout, cap)
        executions += 1
        largest = max(largest, rss)
        kind = classify(rc, rss, cap)
        if kind:
            keep = keep_finding(findings, args.out, kind, lambda keep: shutil.copytree(work, keep, dirs_exist_ok=True),
                                f"{kind}\nseed {case}\nmutations {what}\n{' '.join(command)}\n{stderr[-3000:]}\n")
            print(f"FINDING {kind}: {os.path.basename(case)} {what} -> {keep}", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    finish(executions, started, len(cases), findings, largest)


if __name__ == "__main__":
    main()

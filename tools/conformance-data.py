#!/usr/bin/env python3
"""Builds the ONNX backend conformance data for `mangacolor conformance`.

Writes OUT/node/<case>/ from the node test cases that `onnx.backend.test.case.node.collect_testcases`
generates (model.onnx + test_data_set_N/input_K.pb, output_K.pb), and copies the suites the onnx
wheel bundles: pytorch-converted, pytorch-operator, simple and light.

usage: tools/conformance-data.py OUT [--suites node,pytorch-converted,...]
Needs only the `onnx` pip package (and numpy).
"""
import argparse
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.backend.test.case import node as node_cases

BUNDLED = ["pytorch-converted", "pytorch-operator", "simple", "light"]


def write_tensor(path, value, name):
    if isinstance(value, onnx.TensorProto):
        proto = value
    else:
        proto = numpy_helper.from_array(value, name)
    with open(path, "wb") as f:
        f.write(proto.SerializeToString())


def write_node_cases(out):
    written = skipped = 0
    for case in node_cases.collect_testcases(None):
        case_dir = os.path.join(out, "node", case.name)
        os.makedirs(case_dir, exist_ok=True)
        with open(os.path.join(case_dir, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        ok = True
        for i, (inputs, outputs) in enumerate(case.data_sets):
            data_dir = os.path.join(case_dir, f"test_data_set_{i}")
            os.makedirs(data_dir, exist_ok=True)
            graph_inputs = [v for v in case.model.graph.input]
            try:
                for j, value in enumerate(inputs):
                    if not graph_inputs[j].type.HasField("tensor_type"):
                        raise TypeError("non-tensor input")
                    write_tensor(os.path.join(data_dir, f"input_{j}.pb"), value, graph_inputs[j].name)
                for j, value in enumerate(outputs):
                    write_tensor(os.path.join(data_dir, f"output_{j}.pb"), value, case.model.graph.output[j].name)
            except (TypeError, ValueError, AttributeError):
                ok = False
        if ok:
            written += 1
        else:
            # Sequences, maps and optionals: not tensors, outside what this runtime carries.
            shutil.rmtree(case_dir)
            skipped += 1
    print(f"node: {written} cases written, {skipped} skipped (non-tensor inputs or outputs)")


def copy_bundled(out, suite):
    src = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", suite)
    if not os.path.isdir(src):
        print(f"{suite}: not in this onnx wheel", file=sys.stderr)
        return
    dst = os.path.join(out, suite)
    if os.path.exists(dst):
        shutil.rmtree(dst)
    if suite == "light":
        write_light_cases(src, dst)
        return
    shutil.copytree(src, dst)
    print(f"{suite}: {len(os.listdir(dst))} cases copied")


def write_light_cases(src, dst):
    """The light suite ships light_NAME.onnx + light_NAME_output_K.pb and no inputs: onnx's runner feeds
    arange(n) / n (float32, symbolic dims as 1) to each graph input that is not an initializer
    (BackendTest.generate_dummy_data, random=False). Lay each out as a case folder with those inputs."""
    count = 0
    for file in sorted(os.listdir(src)):
        if not file.endswith(".onnx"):
            continue
        name = file[:-len(".onnx")]
        model = onnx.load(os.path.join(src, file))
        case_dir = os.path.join(dst, name)
        data_dir = os.path.join(case_dir, "test_data_set_0")
        os.makedirs(data_dir)
        shutil.copy(os.path.join(src, file), os.path.join(case_dir, "model.onnx"))
        initializers = {i.name for i in model.graph.initializer}
        inputs = [v for v in model.graph.input if v.name not in initializers]
        for j, value in enumerate(inputs):
            shape = tuple(d.dim_value if d.HasField("dim_value") else 1 for d in value.type.tensor_type.shape.dim)
            n = int(np.prod(shape))
            write_tensor(os.path.join(data_dir, f"input_{j}.pb"),
                         (np.arange(n).reshape(shape) / n).astype(np.float32), value.name)
        for j in range(len(model.graph.output)):
            shutil.copy(os.path.join(src, f"{name}_output_{j}.pb"), os.path.join(data_dir, f"output_{j}.pb"))
        count += 1
    print(f"light: {count} cases written (dummy arange inputs, as onnx's runner feeds them)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--suites", default=",".join(["node"] + BUNDLED))
    args = parser.parse_args()
    print(f"onnx {onnx.__version__}, newest opset {onnx.defs.onnx_opset_version()}")
    for suite in args.suites.split(","):
        if suite == "node":
            write_node_cases(args.out)
        else:
            copy_bundled(args.out, suite)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Sorts the ONNX node conformance cases into those an image-model runtime must pass and the rest.

A node case is in scope when every operator in its graph (subgraphs included) is in the image-model operator
list below (default ONNX domain) and no tensor in it — graph inputs, outputs, initializers, value infos,
Constant / ConstantOfShape values, Cast / CastLike targets, test data — has an element type nobody exports image
models with (float8*, int4/uint4, float4, complex, string).

Prints the counts and writes the in-scope case names, one a line, to --out. Given a `mangacolor conformance`
log (`PASS name` / `FAIL name: reason` lines; a `suite: ` prefix as in conformance.sh --list-failures is
accepted; a failures-only list counts the cases missing from it as passed), also reports in-scope passes and failures, lists the in-scope failures with their reasons and counts
them by the operator named in the reason.

usage: tools/conformance-classify.py [--data DIR/node] [--out conformance-data/node-in-scope.txt] [--log conformance-node.log]
                                     [--verbose]
"""
import argparse
import collections
import os
import re
import sys

import onnx
from onnx import TensorProto

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

IMAGE_OPS = set("""
Conv ConvTranspose MaxPool AveragePool GlobalAveragePool GlobalMaxPool InstanceNormalization BatchNormalization
LayerNormalization GroupNormalization Relu LeakyRelu PRelu Elu Selu Sigmoid HardSigmoid HardSwish Tanh Softplus
Softsign Gelu Mish Clip Erf Concat Add Sub Mul Div Pow Sqrt Exp Log Abs Neg Reciprocal Min Max Sum Mean Floor Ceil
Round Sign Reshape Flatten Transpose Squeeze Unsqueeze Pad Resize Upsample DepthToSpace SpaceToDepth Slice Split
Gather Shape Size Cast CastLike Constant ConstantOfShape Identity Dropout Expand Tile Range Gemm MatMul Softmax
LogSoftmax ReduceMean ReduceSum ReduceMax ReduceMin ReduceL2 ReduceSumSquare Equal Less Greater LessOrEqual
GreaterOrEqual Not And Or Where
""".split())


def exotic_types():
    names = ["STRING", "COMPLEX64", "COMPLEX128", "INT4", "UINT4", "FLOAT4E2M1", "INT2", "UINT2"]
    names += [n for n in TensorProto.DataType.keys() if n.startswith("FLOAT8")]
    return {getattr(TensorProto, n): n.lower() for n in names if hasattr(TensorProto, n)}


EXOTIC = exotic_types()


def graphs_of(graph):
    """The graph and every subgraph (If/Loop/Scan bodies), depth first."""
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from graphs_of(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from graphs_of(g)


def value_types(type_proto):
    """Element types inside a TypeProto (tensor, sparse tensor, sequence/optional of them)."""
    which = type_proto.WhichOneof("value")
    if which in ("tensor_type", "sparse_tensor_type"):
        yield getattr(type_proto, which).elem_type
    elif which == "sequence_type":
        yield from value_types(type_proto.sequence_type.elem_type)
    elif which == "optional_type":
        yield from value_types(type_proto.optional_type.elem_type)
    elif which == "map_type":
        yield type_proto.map_type.key_type
        yield from value_types(type_proto.map_type.value_type)


def classify(case_dir):
    """Returns (ops outside the list, exotic element type names) for one case folder."""
    model = onnx.load(os.path.join(case_dir, "model.onnx"), load_external_data=False)
    outside, types = set(), set()
    for graph in graphs_of(model.graph):
        for value in list(graph.input) + list(graph.output) + list(graph.value_info):
            types.update(value_types(value.type))
        types.update(t.data_type for t in graph.initializer)
        for node in graph.node:
            if node.domain not in ("", "ai.onnx") or node.op_type not in IMAGE_OPS:
                outside.add(node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}")
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.TENSOR:
                    types.add(attr.t.data_type)
                elif attr.name == "to" and attr.type == onnx.AttributeProto.INT:
                    types.add(attr.i)
    for entry in sorted(os.listdir(case_dir)):
        data_dir = os.path.join(case_dir, entry)
        if entry.startswith("test_data_set_") and os.path.isdir(data_dir):
            for file in os.listdir(data_dir):
                if file.endswith(".pb"):
                    tensor = onnx.TensorProto()
                    with open(os.path.join(data_dir, file), "rb") as f:
                        try:
                            tensor.ParseFromString(f.read())
                            types.add(tensor.data_type)
                        except Exception:  # not a TensorProto (sequence/optional protos): outside scope anyway
                            outside.add("(non-tensor data)")
    return outside, sorted(EXOTIC[t] for t in types if t in EXOTIC)


def read_log(path):
    """{case name: (passed, reason)} from PASS/FAIL lines; a 'suite: ' prefix is dropped."""
    results = {}
    line_re = re.compile(r"^(?:([\w.-]+): )?(PASS|FAIL) (\S+?)(?::\s(.*))?$")
    with open(path, errors="replace") as f:
        for line in f:
            match = line_re.match(line.rstrip("\n"))
            if match and match.group(1) in (None, "node"):
                results[match.group(3)] = (match.group(2) == "PASS", match.group(4) or "")
    return results


def default_data():
    for path in (os.path.join(ROOT, "conformance-data", "node"), "/work/conformance/node"):
        if os.path.isdir(path):
            return path
    return os.path.join(ROOT, "conformance-data", "node")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=default_data(), help="the node suite folder (conformance-data.py)")
    parser.add_argument("--out", default=os.path.join(ROOT, "conformance-data", "node-in-scope.txt"),
                        help="where to write the in-scope case names (default in the git-ignored conformance-data/)")
    parser.add_argument("--log", help="a `mangacolor conformance` log of the node suite")
    parser.add_argument("--verbose", action="store_true", help="list the out-of-scope operators by case count")
    args = parser.parse_args()
    if not os.path.isdir(args.data):
        sys.exit(f"error: {args.data} is not a folder; build it with tools/conformance-data.py or pass --data")

    cases = sorted(d for d in os.listdir(args.data) if os.path.exists(os.path.join(args.data, d, "model.onnx")))
    in_scope, exotic_cases = [], []
    blocking = collections.Counter()
    for name in cases:
        outside, exotic = classify(os.path.join(args.data, name))
        if outside:
            for op in outside:
                blocking[op] += 1
        elif exotic:
            exotic_cases.append((name, exotic))
        else:
            in_scope.append(name)

    only_listed = len(in_scope) + len(exotic_cases)
    print(f"node suite: {len(cases)} cases in {args.data}")
    print(f"  {only_listed} use only the {len(IMAGE_OPS)} image-model operators")
    print(f"  {len(exotic_cases)} of those use element types outside image models "
          f"({', '.join(sorted({t for _, ts in exotic_cases for t in ts}))})")
    print(f"  {len(in_scope)} in scope")
    if args.verbose:
        print("operators outside the list, by number of cases they keep out:")
        for op, n in blocking.most_common():
            print(f"  {n:4d} {op}")
        print("cases with only listed operators but exotic element types:")
        for name, types in exotic_cases:
            print(f"  {name}: {', '.join(types)}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("".join(name + "\n" for name in in_scope))
    print(f"wrote {args.out}")

    if args.log:
        results = read_log(args.log)
        if results and not any(ok for ok, _ in results.values()):
            # A failures-only list (conformance.sh --list-failures): cases missing from it passed.
            print(f"\n{args.log} lists failures only: in-scope cases not in it are counted as passed")
            results.update({n: (True, "") for n in in_scope if n not in results})
        passed = [n for n in in_scope if results.get(n, (False, ""))[0]]
        failed = [(n, results[n][1]) for n in in_scope if n in results and not results[n][0]]
        missing = [n for n in in_scope if n not in results]
        print(f"\nin scope, from {args.log}: {len(passed)} passed, {len(failed)} failed"
              + (f", {len(missing)} not in the log" if missing else ""))
        by_op = collections.Counter()
        for name, reason in failed:
            match = re.match(r'(\w+) "', reason)
            by_op[match.group(1) if match else "(other)"] += 1
        if by_op:
            print("in-scope failures by the operator the reason names:")
            for op, n in by_op.most_common():
                print(f"  {n:4d} {op}")
        if failed:
            print("in-scope failures:")
            for name, reason in failed:
                print(f"  FAIL {name}: {reason}")
        if missing:
            print("in scope but not in the log:")
            for name in missing:
                print(f"  {name}")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Regenerates Sources/ONNXProto from schemas/onnx.proto with protoc-c (Debian: protobuf-c-compiler).
# The output is committed so that building the package needs no protobuf compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc-c >/dev/null || { echo "protoc-c not found: apt-get install protobuf-c-compiler" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protoc-c --proto_path=schemas --c_out="$tmp" schemas/onnx.proto
mv "$tmp/onnx.pb-c.h" Sources/ONNXProto/include/onnx.pb-c.h
# The generated .c includes its header by the proto's relative name; it sits in include/ here.
sed 's|#include "onnx.pb-c.h"|#include "include/onnx.pb-c.h"|' "$tmp/onnx.pb-c.c" > Sources/ONNXProto/onnx.pb-c.c
echo "regenerated Sources/ONNXProto from schemas/onnx.proto ($(protoc-c --version | head -1))"

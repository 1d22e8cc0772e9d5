#!/usr/bin/env bash
# Turns a libFuzzer ONNX finding into a regression case: Tests/Fixtures/fuzz/NAME/model.onnx plus the
# input_K.pb files the fuzz target fed it (regenerated from the file, FUZZ_WRITE_INPUTS), which
# FuzzRegressionTests runs. Add a row for it to Tests/Fixtures/fuzz/README.md.
#
# usage: tools/fuzz/keep-onnx-crasher.sh FINDING NAME      (SCRATCH as for run-libfuzzer.sh)
set -euo pipefail
finding=${1:?usage: keep-onnx-crasher.sh FINDING NAME}
name=${2:?usage: keep-onnx-crasher.sh FINDING NAME}
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=${SCRATCH:-$root/.build-libfuzzer}/debug/fuzz-onnx
case=$root/Tests/Fixtures/fuzz/$name
mkdir -p "$case"
cp "$finding" "$case/model.onnx"
# The run crashes when the bug is still there; the inputs are written before the plan runs.
SWIFT_BACKTRACE=enable=no FUZZ_WRITE_INPUTS=$case OPENBLAS_NUM_THREADS=1 "$binary" -runs=1 "$case/model.onnx" \
  >/dev/null 2>&1 || true
ls "$case"

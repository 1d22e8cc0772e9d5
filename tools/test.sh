#!/usr/bin/env bash
# The test command (README and CI): build, run the unit and fixture tests, then the ONNX conformance
# suites with a ratchet (tools/conformance-baseline.txt: pass counts may only go up).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
swift test
tools/conformance.sh --ratchet --no-build

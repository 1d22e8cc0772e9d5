#!/usr/bin/env bash
# The test command (README and CI): build, run the unit and fixture tests, then the ONNX conformance
# suites with a ratchet (tools/conformance-baseline.txt: pass counts may only go up; tools/conformance-passing.txt:
# no listed case may stop passing), then a short bounded fuzz smoke (tools/fuzz/: mutated ONNX models and images
# in child processes; any crash, hang or runaway memory fails), then the data-parallel checks when mpirun is
# installed (tools/mpi/check.sh: 2 processes train as one with the global batch; a killed rank ends the job).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
swift test
tools/conformance.sh --ratchet --no-build
# conformance.sh made conformance-data/ and, when python3 lacks onnx, .venv-conformance.
python=python3
python3 -c 'import onnx, numpy' >/dev/null 2>&1 || python=.venv-conformance/bin/python
"$python" tools/fuzz/fuzz-onnx.py conformance-data/node Tests/Fixtures/golden --binary .build/debug/mangacolor \
  --seconds "${FUZZ_SECONDS:-60}" --out "$(mktemp -d)"
"$python" tools/fuzz/fuzz-images.py --binary .build/debug/mangacolor --seconds "${FUZZ_SECONDS:-30}" --out "$(mktemp -d)"
tools/mpi/check.sh .build/debug/mangacolor

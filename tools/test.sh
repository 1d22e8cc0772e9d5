#!/usr/bin/env bash
# The test command (README and CI): build, run the unit and fixture tests.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
swift test

#!/usr/bin/env bash
# One command on a fresh Debian 12 machine with Swift 6: install the system packages, build (release),
# and colorize the bundled example page with the default model into out/page-colorized.png.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
swift build -c release
mkdir -p out
.build/release/mangacolor colorize examples/page.png -o out/page-colorized.png
echo "done: out/page-colorized.png (from examples/page.png, with models/mangacolor-default.onnx)"

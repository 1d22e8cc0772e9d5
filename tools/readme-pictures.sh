#!/usr/bin/env bash
# Makes docs/before-after.png for the README: a synthetic page (mangacolor synth), its colorize output with the
# default model (default --keep-lines, and --no-keep-lines), and its ground truth. Needs a release build and Python
# with Pillow (pip install pillow) for the side-by-side composition.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
M=.build/release/mangacolor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$M" synth --out "$tmp/synth" --count 1 --width 640 --height 896 --seed 2026
"$M" colorize "$tmp/synth/synth_00000_manga.png" -o "$tmp/colour.png"
"$M" colorize "$tmp/synth/synth_00000_manga.png" -o "$tmp/raw.png" --no-keep-lines
mkdir -p docs
"$PY" - "$tmp/synth/synth_00000_manga.png" "$tmp/colour.png" "$tmp/raw.png" "$tmp/synth/synth_00000_color.png" docs/before-after.png <<'PYEOF'
import sys
from PIL import Image
paths, out = sys.argv[1:-1], sys.argv[-1]
images = [Image.open(p).convert("RGB") for p in paths]
scale = 0.4
images = [im.resize((int(im.width * scale), int(im.height * scale)), Image.LANCZOS) for im in images]
gap = 8
canvas = Image.new("RGB", (sum(im.width for im in images) + gap * (len(images) - 1), max(im.height for im in images)), "white")
x = 0
for im in images:
    canvas.paste(im, (x, 0))
    x += im.width + gap
canvas.save(out, optimize=True)
print("wrote", out)
PYEOF

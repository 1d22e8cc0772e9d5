#!/usr/bin/env bash
# Makes the README pictures. Needs a release build and Python with Pillow (pip install pillow) for the
# side-by-side composition.
#   docs/before-after.png  a synthetic page (mangacolor synth): the black-and-white input, the descreened page
#                          the generator sees (colorize --layers), colorize's output with the default model,
#                          and the ground truth.
#   docs/e20-manga.jpg     with PEPPER_PAGE=path/to/pc_E20P05.png (a held-out Pepper&Carrot page, CC BY 4.0,
#                          David Revoy): the page rendered as manga (synth --from), colorized, and the original.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
M=.build/release/mangacolor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
compose() {  # compose OUT SCALE IMAGES...
  "$PY" - "$@" <<'PYEOF'
import sys
from PIL import Image
out, scale, paths = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
images = [Image.open(p).convert("RGB") for p in paths]
images = [im.resize((int(im.width * scale), int(im.height * scale)), Image.LANCZOS) for im in images]
gap = 8
canvas = Image.new("RGB", (sum(im.width for im in images) + gap * (len(images) - 1), max(im.height for im in images)), "white")
x = 0
for im in images:
    canvas.paste(im, (x, 0))
    x += im.width + gap
canvas.save(out, quality=88, optimize=True) if out.endswith(".jpg") else canvas.save(out, optimize=True)
print("wrote", out)
PYEOF
}
mkdir -p docs
"$M" synth --out "$tmp/synth" --count 1 --width 640 --height 896 --seed 2026
"$M" colorize "$tmp/synth/synth_00000_manga.png" -o "$tmp/colour.png" --layers
compose docs/before-after.png 0.4 "$tmp/synth/synth_00000_manga.png" "$tmp/colour.descreened.png" "$tmp/colour.png" \
  "$tmp/synth/synth_00000_color.png"
if [ -n "${PEPPER_PAGE:-}" ]; then
  "$M" synth --from "$PEPPER_PAGE" --out "$tmp/render"
  stem=$(basename "${PEPPER_PAGE%.*}")
  "$M" colorize "$tmp/render/${stem}_screen0.png" -o "$tmp/pepper.png"
  compose docs/e20-manga.jpg 0.45 "$tmp/render/${stem}_screen0.png" "$tmp/pepper.png" "$PEPPER_PAGE"
fi

#!/usr/bin/env python3
"""Writes the tiny PNG fixtures of Tests/Fixtures/images/ with a hand-rolled PNG encoder (zlib + struct,
no imaging library), so every colour type, bit depth and Adam7 interlacing is covered by a file that
libpng did not write itself. Pixel values follow formulas that Tests/ColorizeTests/PNGTests.swift
recomputes:

    8-bit sample   v8(x, y, c)  = (37x + 53y + 91c) mod 256
    16-bit sample  v16(x, y, c) = v8(x, y, c) * 256 + 17
    alpha          a8(x, y)     = [0, 128, 255][(x + y) mod 3]       (16-bit: a8 * 257)
    1-bit grey     (x + y) mod 2
    palette        index (x + 3y) mod 16, entry i = (16i, 255 - 16i, 77i mod 256);
                   the tRNS variant makes entry 0 transparent and entry 5 alpha 128

Size 7x5 (odd, so the Adam7 passes are uneven). Also writes three broken files: truncated.png (first
60 bytes of rgb8), badcrc.png (an IDAT CRC flipped) and huge.png (a valid header claiming 40000x8).

Run: /work/venv/bin/python tools/make-image-fixtures.py   (rewrites the files; output is deterministic)
"""
import os
import struct
import zlib

W, H = 7, 5
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "images")


def v8(x, y, c):
    return (37 * x + 53 * y + 91 * c) % 256


def a8(x, y):
    return [0, 128, 255][(x + y) % 3]


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """Samples of one row (already flattened across channels) to bytes at the given bit depth."""
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    out, acc, nbits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        nbits += depth
        if nbits == 8:
            out.append(acc)
            acc, nbits = 0, 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png(color_type, depth, pixel, interlace=False, plte=None, trns=None):
    """pixel(x, y) -> list of samples for that pixel."""
    raw = bytearray()
    if not interlace:
        for y in range(H):
            raw.append(0)
            raw += pack_row([s for x in range(W) for s in pixel(x, y)], depth)
    else:
        for (x0, y0, dx, dy) in ADAM7:
            xs, ys = list(range(x0, W, dx)), list(range(y0, H, dy))
            if not xs or not ys:
                continue
            for y in ys:
                raw.append(0)
                raw += pack_row([s for x in xs for s in pixel(x, y)], depth)
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, depth, color_type, 0, 0, 1 if interlace else 0))
    if plte is not None:
        out += chunk(b"PLTE", bytes(plte))
    if trns is not None:
        out += chunk(b"tRNS", bytes(trns))
    out += chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    out += chunk(b"IEND", b"")
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    palette = [b for i in range(16) for b in (16 * i, 255 - 16 * i, (77 * i) % 256)]
    files = {
        "gray1.png": png(0, 1, lambda x, y: [(x + y) % 2]),
        "gray8.png": png(0, 8, lambda x, y: [v8(x, y, 0)]),
        "gray16.png": png(0, 16, lambda x, y: [v8(x, y, 0) * 256 + 17]),
        "graya8.png": png(4, 8, lambda x, y: [v8(x, y, 0), a8(x, y)]),
        "graya16.png": png(4, 16, lambda x, y: [v8(x, y, 0) * 256 + 17, a8(x, y) * 257]),
        "rgb8.png": png(2, 8, lambda x, y: [v8(x, y, c) for c in range(3)]),
        "rgb16.png": png(2, 16, lambda x, y: [v8(x, y, c) * 256 + 17 for c in range(3)]),
        "rgba8.png": png(6, 8, lambda x, y: [v8(x, y, c) for c in range(3)] + [a8(x, y)]),
        "rgba16.png": png(6, 16, lambda x, y: [v8(x, y, c) * 256 + 17 for c in range(3)] + [a8(x, y) * 257]),
        "pal8.png": png(3, 8, lambda x, y: [(x + 3 * y) % 16], plte=palette),
        "pal4trns.png": png(3, 4, lambda x, y: [(x + 3 * y) % 16], plte=palette,
                            trns=[0, 255, 255, 255, 255, 128]),
        "rgb8-interlaced.png": png(2, 8, lambda x, y: [v8(x, y, c) for c in range(3)], interlace=True),
        "gray8-interlaced.png": png(0, 8, lambda x, y: [v8(x, y, 0)], interlace=True),
        "rgb16-interlaced.png": png(2, 16, lambda x, y: [v8(x, y, c) * 256 + 17 for c in range(3)], interlace=True),
        "rgba8-interlaced.png": png(6, 8, lambda x, y: [v8(x, y, c) for c in range(3)] + [a8(x, y)],
                                    interlace=True),
        "rgba16-interlaced.png": png(6, 16, lambda x, y: [v8(x, y, c) * 256 + 17 for c in range(3)]
                                     + [a8(x, y) * 257], interlace=True),
    }
    rgb8 = files["rgb8.png"]
    files["truncated.png"] = rgb8[:60]
    bad = bytearray(rgb8)
    idat = bad.find(b"IDAT")
    length = struct.unpack(">I", bad[idat - 4:idat])[0]
    bad[idat + 4 + length] ^= 0xFF  # first CRC byte
    files["badcrc.png"] = bytes(bad)
    huge = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40000, 8, 8, 0, 0, 0, 0))
    huge += chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + chunk(b"IEND", b"")
    files["huge.png"] = huge
    for name, data in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(files)} files to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()

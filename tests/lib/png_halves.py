#!/usr/bin/env python3
"""png_halves.py SIDE LEFT RIGHT: exit 0 when the 8-bit PNG SIDE is LEFT and RIGHT side by side,
pixel for pixel (non-interlaced PNGs, as libvips writes them; no third-party modules)."""
import struct
import sys
import zlib


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(path + ": not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or interlace:
        raise ValueError(path + ": only 8-bit non-interlaced PNGs")
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        ft, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ft == 1: line[i] = (line[i] + a) & 255
            elif ft == 2: line[i] = (line[i] + b) & 255
            elif ft == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def main():
    sw, sh, sb, side = load(sys.argv[1])
    lw, lh, lb, left = load(sys.argv[2])
    rw, rh, rb, right = load(sys.argv[3])
    if not (sh == lh == rh and sw == lw + rw and sb == lb == rb):
        print("sizes differ", (sw, sh), (lw, lh), (rw, rh), file=sys.stderr)
        return 1
    for y in range(sh):
        if side[y] != left[y] + right[y]:
            print("row", y, "differs", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

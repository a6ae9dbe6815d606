#!/usr/bin/python3
"""Make the 32-bit BMP test files and PIL's pixels for them.

Run with Debian's Python (python3-pil), from anywhere:

    /usr/bin/python3 infer/preprocess/testdata/gen_bmp_reference.py

It writes small 32-bit BMPs in the header, mask and row-order variants PIL
reads to testdata/bmp/ (the bytes are built here with struct: no encoder
writes most of them), then decodes them and every BMP in pngsuite/bmp
(../shared/data, relative to the repository root, when present) with PIL's
convert("RGB") and writes the RGB bytes, concatenated in HWC order, to
bmp_reference.bin.gz with an index in bmp_reference.json. TestBMPMatchesPIL
compares against them.
"""
import glob
import gzip
import hashlib
import json
import os
import struct

import PIL
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DATA = os.path.join(ROOT, "..", "shared", "data")
OUT = os.path.join(HERE, "bmp")

W, H = 5, 3


def pixel(x, y):
    """RGBA of displayed pixel (x, y): every channel varies, alpha too."""
    return (40 * x + 7, 60 * y + 11, (23 * x * y + 5) & 0xFF, 255 - 50 * x)


def pack(r, g, b, a, masks):
    """A little-endian 32-bit pixel with each channel in its byte mask."""
    v = 0
    for c, m in zip((r, g, b, a), masks):
        if m:
            shift = (m & -m).bit_length() - 1
            v |= c << shift
    return struct.pack("<I", v)


def bmp(header_len, compression, masks, top_down=False, gap=b"", offset=None, extra_masks=False, layout=None):
    """A 32-bit BMP of W×H pixels.

    layout (masks unless given) places R, G, B, A in the pixel; with
    BI_BITFIELDS the masks are written to the header (after a 40-byte
    header when extra_masks)."""
    info = struct.pack("<IiiHHIIiiII", header_len, W, -H if top_down else H, 1, 32,
                       compression, 4 * W * H, 2835, 2835, 0, 0)
    if header_len > 40:
        rest = struct.pack("<IIII", *masks) if compression == 3 else bytes(16)
        if header_len >= 108:
            rest += b"BGRs" + bytes(header_len - 40 - 16 - 4)
        info += rest[: header_len - 40]
    if extra_masks:
        info += struct.pack("<III", *masks[:3])
    rows = []
    for y in range(H):
        rows.append(b"".join(pack(*pixel(x, y), layout or masks) for x in range(W)))
    if not top_down:
        rows.reverse()
    pix = b"".join(rows)
    start = 14 + len(info) + len(gap)
    if offset is None:
        offset = start
    head = b"BM" + struct.pack("<IHHI", start + len(pix), 0, 0, offset)
    return head + info + gap + pix


BGRA = (0xFF0000, 0xFF00, 0xFF, 0xFF000000)
CASES = {
    # BI_RGB: B, G, R and a fourth byte PIL ignores (X).
    "rgb40.bmp": bmp(40, 0, BGRA),
    "rgb40-topdown.bmp": bmp(40, 0, BGRA, top_down=True),
    "rgb40-gap.bmp": bmp(40, 0, BGRA, gap=b"\xaa" * 6),
    "rgb124-gap.bmp": bmp(124, 0, BGRA, gap=b"\x55" * 12),  # as pngsuite's
    "rgb124-offset0.bmp": bmp(124, 0, BGRA, offset=0),  # 0: pixels follow the header
    # BI_BITFIELDS with the masks after a 40-byte header.
    "bf40-bgrx.bmp": bmp(40, 3, (0xFF0000, 0xFF00, 0xFF, 0), extra_masks=True),
    "bf40-xbgr.bmp": bmp(40, 3, (0xFF000000, 0xFF0000, 0xFF00, 0), extra_masks=True),
    # BI_BITFIELDS with the masks (alpha too) inside V4/V5 headers.
    "bf108-bgra.bmp": bmp(108, 3, BGRA),
    "bf124-rgba-topdown-gap.bmp": bmp(124, 3, (0xFF, 0xFF00, 0xFF0000, 0xFF000000), top_down=True, gap=bytes(12)),
    "bf124-abgr.bmp": bmp(124, 3, (0xFF000000, 0xFF0000, 0xFF00, 0xFF)),
    "bf124-zeromasks.bmp": bmp(124, 3, (0, 0, 0, 0), layout=BGRA),  # PIL: BGRA
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in CASES.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    files = [("testdata/bmp/" + n, os.path.join(OUT, n)) for n in sorted(CASES)]
    shared = sorted(glob.glob(os.path.join(DATA, "pngsuite", "bmp", "*.bmp")))
    if not shared:
        raise SystemExit(f"no BMPs under {DATA}/pngsuite/bmp: the references need them")
    files += [(os.path.relpath(p, DATA), p) for p in shared]
    entries, blob = [], bytearray()
    for image, path in files:
        raw = open(path, "rb").read()
        im = Image.open(path)
        rgb = im.convert("RGB").tobytes()
        entries.append({
            "image": image,  # testdata/... in this folder, else under ../shared/data
            "sha256": hashlib.sha256(raw).hexdigest(),
            "mode": im.mode,
            "width": im.width,
            "height": im.height,
            "offset": len(blob),
            "length": len(rgb),
        })
        blob += rgb
    with open(os.path.join(HERE, "bmp_reference.json"), "w") as f:
        json.dump({"pil": PIL.__version__, "entries": entries}, f, indent=1)
        f.write("\n")
    with gzip.GzipFile(os.path.join(HERE, "bmp_reference.bin.gz"), "wb", mtime=0) as f:
        f.write(blob)
    print(f"{len(entries)} images, {len(blob)} bytes of pixels")


if __name__ == "__main__":
    main()

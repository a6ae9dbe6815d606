#!/usr/bin/python3
"""Make PIL reference pixels for infer/preprocess's tests.

Run with Debian's Python (python3-pil, python3-numpy, python3-torchvision):

    /usr/bin/python3 infer/preprocess/testdata/gen_reference.py

It reads real images from ../shared/data (relative to the repository root),
applies the pipeline a model trained with PIL/torchvision sees (open ->
ImageOps.exif_transpose -> convert("RGB") -> resize mode -> crop/pad) and
writes the uint8 RGB results, before rescaling and normalisation, to
reference.bin.gz (all results concatenated, HWC order) with an index in
reference.json.
"""
import gzip
import hashlib
import json
import os
import sys

import numpy as np
import PIL
from PIL import Image, ImageOps
import torchvision
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DATA = os.path.join(ROOT, "..", "shared", "data")

IMAGES = [
    # photos, 4:2:0 JPEG, several sizes and aspect ratios
    "caltech101-neardup/dups/g0000/original.jpg",
    "caltech101-neardup/dups/g0000/thumb.jpg",
    "caltech101-neardup/dups/g0001/rot90.jpg",
    "caltech101-neardup/dups/g0000/exif8.jpg",  # EXIF orientation 8
    "caltech101-neardup/dups/g0001/png.png",
    "caltech101-neardup/dups/g0001/webp.webp",  # lossy WebP
    "caltech101-neardup/distractors/images_BACKGROUND_Google_image_0013.jpg",  # 1280x1024
    "caltech101-neardup/distractors/images_BACKGROUND_Google_image_0016.jpg",
    "pillow-test-images/images/app13-multiple.jpg",  # progressive
    "pillow-test-images/images/iptc.jpg",  # 4:2:2
    "pillow-test-images/images/flower2.jpg",  # 4:4:4
    "pillow-test-images/images/pil_sample_cmyk.jpg",  # Adobe CMYK
    "pillow-test-images/images/hopper_gray.jpg",  # greyscale JPEG
    "pillow-test-images/images/hopper_orientation_6.jpg",
    "pillow-test-images/images/hopper_orientation_5.webp",
    "pillow-test-images/images/hopper.gif",
    "pillow-test-images/images/transparent.gif",  # transparent palette entry
    "pillow-test-images/images/first_frame_transparency.gif",
    "pillow-test-images/images/hopper.bmp",
    "pillow-test-images/images/exif_imagemagick_orientation.png",  # orientation in a "Raw profile type exif" text chunk
    "pillow-test-images/images/xmp_tags_orientation.png",  # orientation only in XMP
    "pillow-test-images/images/hopper.tif",
    "pngsuite/png/basn6a08.png",  # RGBA: PIL drops alpha
    "pngsuite/png/basn2c16.png",  # 16-bit RGB
    "pngsuite/png/basn3p08.png",  # palette
    "pngsuite/png/tbrn2c08.png",  # tRNS on truecolour
]

# (name, resize, size, crop [h, w], interpolation, pad colour)
MODES = [
    ("crop64-bicubic", "shortest_crop", 72, (64, 64), "bicubic", None),
    ("crop96x112-bilinear", "shortest_crop", 112, (96, 112), "bilinear", None),
    ("squash64x96-bicubic", "squash", 0, (64, 96), "bicubic", None),
    ("pad80-bilinear", "pad", 0, (80, 80), "bilinear", (124, 116, 104)),
]

RESAMPLE = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}
TV = {"bicubic": InterpolationMode.BICUBIC, "bilinear": InterpolationMode.BILINEAR}


def fit_inside(w, h, cw, ch):
    # Same integer rule as fitInside in resize.go (free side rounded half up).
    if w * ch >= h * cw:
        return cw, max(1, min((2 * h * cw + w) // (2 * w), ch))
    return max(1, min((2 * w * ch + h) // (2 * h), cw)), ch


def prepare(im, resize, size, crop, interp, pad):
    ch, cw = crop
    if resize == "shortest_crop":
        im = F.resize(im, size, TV[interp])  # torchvision's Resize(size)
        im = F.center_crop(im, [ch, cw])
    elif resize == "squash":
        im = im.resize((cw, ch), RESAMPLE[interp])
    else:
        nw, nh = fit_inside(im.width, im.height, cw, ch)
        inner = im.resize((nw, nh), RESAMPLE[interp])
        im = Image.new("RGB", (cw, ch), pad)
        im.paste(inner, ((cw - nw) // 2, (ch - nh) // 2))
    a = np.asarray(im, dtype=np.uint8)
    assert a.shape == (ch, cw, 3), a.shape
    return a


def main():
    if not os.path.isdir(DATA):
        sys.exit(f"test data not found at {DATA}")
    index = {
        "generator": "gen_reference.py",
        "pillow": PIL.__version__,
        "torchvision": torchvision.__version__,
        "entries": [],
    }
    blob = bytearray()
    for rel in IMAGES:
        path = os.path.join(DATA, rel)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        src = Image.open(path)
        src = ImageOps.exif_transpose(src)
        src = src.convert("RGB")
        for name, resize, size, crop, interp, pad in MODES:
            a = prepare(src, resize, size, crop, interp, pad)
            index["entries"].append({
                "image": rel, "sha256": digest, "mode": name,
                "resize": resize, "size": size, "crop": list(crop),
                "interpolation": interp, "pad_color": list(pad or (0, 0, 0)),
                "offset": len(blob), "length": a.size,
            })
            blob += a.tobytes()
    with gzip.GzipFile(os.path.join(HERE, "reference.bin.gz"), "wb", mtime=0) as f:
        f.write(blob)
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    print(f"{len(index['entries'])} references, {len(blob)} bytes before gzip")


if __name__ == "__main__":
    main()

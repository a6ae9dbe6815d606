#!/usr/bin/python3
"""Make PIL reference pixels for infer/preprocess's tests.

Run with Debian's Python (python3-pil, python3-numpy):

    /usr/bin/python3 infer/preprocess/testdata/gen_reference.py

It reads real images from ../shared/data (relative to the repository root),
applies the pipeline a model trained with PIL/torchvision sees (open ->
ImageOps.exif_transpose -> convert("RGB") -> resize mode -> crop/pad) and
writes the uint8 RGB results, before rescaling and normalisation, to
reference.bin.gz (all results concatenated, HWC order) with an index in
reference.json.

torchvision's Resize(size) and CenterCrop on PIL images are written out
below (tv_resize, tv_center_crop: torchvision 0.14's code for PIL images,
which calls Image.resize and Image.crop), so that torchvision need not be
installed; the references they made with torchvision itself are unchanged.

The DRAFT_MODES are the preprocessing a manifest may declare beyond that:
jpeg_draft (Image.draft("RGB", 4 times the resize target) before anything
else, for JPEGs) and reducing_gap (Image.resize(..., reducing_gap=g)).
"""
import gzip
import hashlib
import json
import os
import sys

import numpy as np
import PIL
from PIL import Image, ImageOps

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

# (name, resize, size, crop [h, w], interpolation, pad colour, jpeg_draft, reducing_gap)
MODES = [
    ("crop64-bicubic", "shortest_crop", 72, (64, 64), "bicubic", None, False, None),
    ("crop96x112-bilinear", "shortest_crop", 112, (96, 112), "bilinear", None, False, None),
    ("squash64x96-bicubic", "squash", 0, (64, 96), "bicubic", None, False, None),
    ("pad80-bilinear", "pad", 0, (80, 80), "bilinear", (124, 116, 104), False, None),
]

# Large photos (the draft only acts on images at least 8 times the resize
# target), turned ones, CMYK, and a PNG for the reducing gap alone.
DRAFT_IMAGES = [
    "caltech101-neardup/distractors/images_BACKGROUND_Google_image_0451.jpg",  # 2799x3999, sharp
    "caltech101-neardup/distractors/images_BACKGROUND_Google_image_0013.jpg",  # 1280x1024
    "exif-orientation/Landscape_6.jpg",  # EXIF orientation 6 (turned 90°)
    "exif-orientation/Landscape_3.jpg",  # EXIF orientation 3 (turned 180°)
    "pdq-bridge-variants/misc-images/modes/CMYK.jpg",  # Adobe CMYK, 1600x1004
    "caltech101-neardup/dups/g0001/png.png",
]

DRAFT_MODES = [
    # the built-in model's preprocessing
    ("builtin-squash64-draft-gap3", "squash", 0, (64, 64), "bicubic", None, True, 3.0),
    ("crop64-bicubic-draft", "shortest_crop", 72, (64, 64), "bicubic", None, True, None),
    ("crop224-bicubic-draft-gap2", "shortest_crop", 224, (224, 224), "bicubic", None, True, 2.0),
    ("pad80-bilinear-gap2", "pad", 0, (80, 80), "bilinear", (124, 116, 104), False, 2.0),
]

RESAMPLE = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}


def shortest_side(w, h, size):
    # torchvision's Resize(size) for an int size (_compute_resized_output_size).
    if w <= h:
        return size, int(size * h / w)
    return int(size * w / h), size


def tv_resize(im, size, interp, gap):
    # torchvision 0.14 F.resize on a PIL image: Image.resize to the size
    # above (no reducing_gap there; gap is ours, for the manifest field).
    w, h = shortest_side(im.width, im.height, size)
    if (w, h) == im.size:
        return im
    return im.resize((w, h), RESAMPLE[interp], reducing_gap=gap)


def tv_center_crop(im, crop):
    # torchvision 0.14 F.center_crop on a PIL image, crop smaller than it.
    ch, cw = crop
    top = int(round((im.height - ch) / 2.0))
    left = int(round((im.width - cw) / 2.0))
    return im.crop((left, top, left + cw, top + ch))


def fit_inside(w, h, cw, ch):
    # Same integer rule as fitInside in resize.go (free side rounded half up).
    if w * ch >= h * cw:
        return cw, max(1, min((2 * h * cw + w) // (2 * w), ch))
    return max(1, min((2 * w * ch + h) // (2 * h), cw)), ch


def target(w, h, resize, size, crop):
    # The size the resize step makes of a w x h image.
    ch, cw = crop
    if resize == "shortest_crop":
        return shortest_side(w, h, size)
    if resize == "squash":
        return cw, ch
    return fit_inside(w, h, cw, ch)


def open_rgb(path, draft, resize, size, crop):
    im = Image.open(path)
    if draft and im.format == "JPEG":
        # draft() sees the stored image; the target is for the displayed one.
        turned = im.getexif().get(0x0112, 1) in (5, 6, 7, 8)
        w, h = (im.height, im.width) if turned else im.size
        tw, th = target(w, h, resize, size, crop)
        if turned:
            tw, th = th, tw
        im.draft("RGB", (4 * tw, 4 * th))
    im = ImageOps.exif_transpose(im)
    return im.convert("RGB")


def prepare(im, resize, size, crop, interp, pad, gap):
    ch, cw = crop
    if resize == "shortest_crop":
        im = tv_resize(im, size, interp, gap)  # torchvision's Resize(size)
        im = tv_center_crop(im, crop)
    elif resize == "squash":
        im = im.resize((cw, ch), RESAMPLE[interp], reducing_gap=gap)
    else:
        nw, nh = fit_inside(im.width, im.height, cw, ch)
        inner = im.resize((nw, nh), RESAMPLE[interp], reducing_gap=gap)
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
        "entries": [],
    }
    blob = bytearray()
    jobs = [(rel, m) for rel in IMAGES for m in MODES]
    jobs += [(rel, m) for rel in DRAFT_IMAGES for m in DRAFT_MODES]
    for rel, (name, resize, size, crop, interp, pad, draft, gap) in jobs:
        path = os.path.join(DATA, rel)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        src = open_rgb(path, draft, resize, size, crop)
        a = prepare(src, resize, size, crop, interp, pad, gap)
        e = {
            "image": rel, "sha256": digest, "mode": name,
            "resize": resize, "size": size, "crop": list(crop),
            "interpolation": interp, "pad_color": list(pad or (0, 0, 0)),
        }
        if draft:
            e["jpeg_draft"] = True
        if gap:
            e["reducing_gap"] = gap
        e.update({"offset": len(blob), "length": a.size})
        index["entries"].append(e)
        blob += a.tobytes()
    with gzip.GzipFile(os.path.join(HERE, "reference.bin.gz"), "wb", mtime=0) as f:
        f.write(blob)
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    print(f"{len(index['entries'])} references, {len(blob)} bytes before gzip")


if __name__ == "__main__":
    main()

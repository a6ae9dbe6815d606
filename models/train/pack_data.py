#!/usr/bin/python3
"""Pack the training images into one file for a machine without the data
folder (the GPU machine: up to 64 MiB travel with the code).

    /usr/bin/python3 models/train/pack_data.py [--data ../shared/data] [--out models/train/runs/pack.pkl]

The file holds each image's original bytes (JPEG/PNG as stored: 35.9 MB
for train-photos and cifar10-train-subset), in the order train.py's cache
uses, so train.py --pack FILE splits off the same held-out photos. Refuses
to write more than 60 MiB. train.py decodes them at start (about 20 s).
"""
import argparse
import io
import os
import pickle
import sys

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LIMIT = 60 << 20


def load(path, log=print):
    """The cache train.py uses (images as uint8 arrays, origin, names) from a pack."""
    with open(path, "rb") as f:
        p = pickle.load(f)
    images = []
    for b in p["blobs"]:
        with Image.open(io.BytesIO(b)) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            w, h = im.size
            if max(w, h) > 160:  # as train.build_cache
                s = 160 / max(w, h)
                im = im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BICUBIC)
            images.append(np.asarray(im, dtype=np.uint8))
    log(f"pack {path}: {len(images)} images")
    return {"images": images, "origin": p["origin"], "names": p["names"]}


def main():
    sys.path.insert(0, HERE)
    import train
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(REPO), "shared", "data"))
    ap.add_argument("--out", default=os.path.join(HERE, "runs", "pack.pkl"))
    ap.add_argument("--limit", type=int, default=0,
                    help="only the first N images of each set (a quick check of the scripts; not for training)")
    args = ap.parse_args()
    blobs, origin, names = [], [], []
    for name, sub in (("train-photos", "train-photos/train"), ("cifar10", "cifar10-train-subset/train")):
        paths = train._list(os.path.join(args.data, sub))
        for p in paths[: args.limit] if args.limit else paths:
            with open(p, "rb") as f:
                blobs.append(f.read())
            origin.append(name)
            names.append(os.path.relpath(p, args.data))
    data = pickle.dumps({"blobs": blobs, "origin": origin, "names": names}, protocol=4)
    if len(data) > LIMIT:
        sys.exit(f"pack would be {len(data)} bytes, over {LIMIT}")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".tmp", "wb") as f:
        f.write(data)
    os.replace(args.out + ".tmp", args.out)
    print(f"wrote {args.out}: {len(blobs)} images, {len(data)} bytes")


if __name__ == "__main__":
    main()

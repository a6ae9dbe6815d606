#!/usr/bin/python3
"""Embed a folder with the PyTorch model (a checkpoint from train.py) and write
JSONL lines {"path": ..., "vector": [...]} for bench/score_neardup.py.

Preprocessing is the manifest's, done with PIL exactly as the Go side does it:
open -> EXIF transpose -> RGB -> squash resize (bicubic) -> /255 -> mean/std.

    /usr/bin/python3 models/train/embed_torch.py CKPT DIR > emb.jsonl
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import augment  # noqa: E402
from net import Dihedral, Encoder  # noqa: E402

EXT = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".pgm", ".pbm", ".ppm", ".svg")


def load_model(ckpt_path):
    ck = torch.load(ckpt_path, map_location="cpu")
    a = ck["args"]
    m = Encoder(tuple(int(x) for x in a["widths"].split(",")), tuple(int(x) for x in a["depths"].split(",")),
                dim=a["dim"])
    m.load_state_dict(ck["model"])
    return m.eval(), a


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("dir")
    ap.add_argument("--size", type=int, help="input size (default: the checkpoint's)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--orbit", type=int, default=None, help="dihedral orbit pooling: 1, 2, 4 or 8 (default: the checkpoint's)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--cache", help="npz file to keep the preprocessed tensors in (reused when present)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, a = load_model(args.checkpoint)
    orbit = args.orbit or a.get("orbit", 1)
    if orbit > 1:
        model = Dihedral(model, orbit).eval()
    size = args.size or a["size"]
    paths = []
    for d, _, fs in os.walk(args.dir):
        for f in fs:
            if f.lower().endswith(EXT):
                paths.append(os.path.relpath(os.path.join(d, f), args.dir))
    paths.sort()
    out = sys.stdout
    failed = 0
    if args.cache and os.path.exists(args.cache):
        c = np.load(args.cache)
        assert c["x"].shape[2] == size
        names, x = list(c["names"]), c["x"]
        with torch.no_grad():
            for i in range(0, len(names), args.batch):
                z = model(torch.from_numpy(x[i:i + args.batch])).numpy()
                for p, v in zip(names[i:i + args.batch], z):
                    out.write(json.dumps({"path": p, "vector": [round(float(t), 6) for t in v]}) + "\n")
        print(f"embedded {len(names)} cached images", file=sys.stderr)
        return
    kept_x, kept_n = [], []

    def flush(batch, names):
        with torch.no_grad():
            z = model(torch.from_numpy(np.stack(batch))).numpy()
        for p, v in zip(names, z):
            out.write(json.dumps({"path": p, "vector": [round(float(t), 6) for t in v]}) + "\n")

    batch, names = [], []
    for p in paths:
        try:
            img = augment.load_eval_image(os.path.join(args.dir, p))
        except Exception as e:  # undecodable files are skipped (scored as missed)
            failed += 1
            print(f"skip {p}: {e}", file=sys.stderr)
            continue
        batch.append(augment.to_tensor_array(img, size))
        names.append(p)
        if args.cache:
            kept_x.append(batch[-1])
            kept_n.append(p)
        if len(batch) == args.batch:
            flush(batch, names)
            batch, names = [], []
    if batch:
        flush(batch, names)
    if args.cache:
        np.savez(args.cache, x=np.stack(kept_x), names=np.array(kept_n))
    print(f"embedded {len(paths) - failed} images, {failed} skipped", file=sys.stderr)


if __name__ == "__main__":
    main()

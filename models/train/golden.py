#!/usr/bin/python3
"""Write reference embeddings of a few real images made with PyTorch and the
PIL pipeline, so the Go side (onnxruntime + its own preprocessing) can be
checked against them.

    /usr/bin/python3 models/train/golden.py CKPT > models/train/golden.jsonl

Each line: {"path": relative to ../shared/data, "vector": [...]} with the
shipped graph (orbit pooling included). Preprocessing: open -> EXIF
transpose -> RGB -> squash to the input size (PIL bicubic) -> /255 ->
mean/std. Expect agreement to ~1e-4 (float summation order) when the
preprocessing matches; a different resize filter shows up as ~1e-2.
"""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import augment  # noqa: E402
from embed_torch import load_model  # noqa: E402
from net import Dihedral  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))), "shared", "data")
FILES = [
    "caltech101-neardup/dups/g0000/original.jpg",
    "caltech101-neardup/dups/g0000/exif8.jpg",
    "caltech101-neardup/dups/g0000/png.png",
    "caltech101-neardup/dups/g0001/webp.webp",
    "pdq-bridge-variants/misc-images/modes/CMYK.jpg",
    "pdq-bridge-variants/misc-images/modes/LA.png",
    "pdq-bridge-variants/misc-images/modes/P.png",
    "exif-orientation/Landscape_6.jpg",
]


def main():
    torch.set_num_threads(1)
    model, a = load_model(sys.argv[1])
    orbit = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    if orbit > 1:
        model = Dihedral(model, orbit).eval()
    for rel in FILES:
        x = augment.to_tensor_array(augment.load_eval_image(os.path.join(DATA, rel)), a["size"])
        with torch.no_grad():
            z = model(torch.from_numpy(x[None]))[0].numpy()
        print(json.dumps({"path": rel, "vector": [round(float(t), 7) for t in z],
                          "input_sum": round(float(np.float64(x).sum()), 4)}))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Inference speed estimate of the built-in model with PyTorch (eval mode,
ready tensors, batch 32), beside peers measured in the same run.

Prints images per second of wall time with --threads threads and images per
CPU-second (process time, which is robust to other load on a shared machine).
The Go side runs the ONNX export through onnxruntime; this is an estimate.

    /usr/bin/python3 models/train/speed.py [--ckpt models/train/checkpoints/ntxent-last.pt]
"""
import argparse
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from net import Dihedral, Encoder  # noqa: E402


def measure(m, size, batch, seconds):
    x = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        m(x)
        c0, w0, n = time.process_time(), time.time(), 0
        while time.time() - w0 < seconds:
            m(x)
            n += batch
        return n / (time.time() - w0), n / max(time.process_time() - c0, 1e-9)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--ckpt", help="checkpoint to load (weights do not change speed)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    enc = Encoder((16, 48, 96, 192), (1, 1, 1, 1))
    if args.ckpt:
        enc.load_state_dict(torch.load(args.ckpt, map_location="cpu")["model"])
    enc.eval()
    rows = [("builtin encoder, orbit 1", enc, 64), ("builtin encoder, orbit 4 (shipped)", Dihedral(enc, 4).eval(), 64),
            ("builtin encoder, orbit 8", Dihedral(enc, 8).eval(), 64), ("same encoder at 96 px, orbit 1", enc, 96)]
    try:
        import torchvision
        rows.append(("peer: torchvision resnet18 at 224 px", torchvision.models.resnet18().eval(), 224))
    except Exception:
        pass
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'model':<40}{'input':>6}{'img/s (wall)':>14}{'img/CPU-s':>11}")
    for name, m, s in rows:
        w, c = measure(m, s, args.batch, args.seconds)
        print(f"{name:<40}{s:>6}{w:>14.0f}{c:>11.0f}", flush=True)


if __name__ == "__main__":
    main()

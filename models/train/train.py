#!/usr/bin/python3
"""Train the built-in contrastive image encoder and export it for embedsearch.

One command retrains from scratch with a fixed seed and writes model.onnx,
manifest.json and train.log into --out:

    nice -n 5 /usr/bin/python3 models/train/train.py --steps 1500

Losses (--loss):
  ntxent       SimCLR NT-Xent over two augmented views, in-batch negatives (default)
  contrastive  pairwise L = (1-Y)*d^2 + Y*max(0, m - d^2), Y=0 for the two views
               of one image, Y=1 for every other pair in the batch
  triplet      max(0, d(a,p)^2 - d(a,n)^2 + m) with hard negatives: for each
               anchor the --hard-k nearest non-positives among the batch and a
               memory of recent embeddings (nearest-neighbour search)

Checkpoints go to --ckpt-dir every --ckpt-every steps; --resume continues the
latest one. The data (training photos, CIFAR subset, Caltech distractors) are
decoded once into a numpy cache. Scored ground-truth groups are never read.
"""
import argparse
import datetime
import hashlib
import json
import math
import os
import pickle
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import augment  # noqa: E402
from net import Dihedral, Encoder  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
IMG_EXT = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


# ---------------------------------------------------------------- data

def _list(root):
    out = []
    for d, _, fs in os.walk(root):
        for f in fs:
            if f.lower().endswith(IMG_EXT):
                out.append(os.path.join(d, f))
    return sorted(out)


def build_cache(data, path, log):
    """Decode the training images once into uint8 arrays (pickled list)."""
    if os.path.exists(path):
        with open(path, "rb") as f:
            c = pickle.load(f)
        log(f"cache {path}: {len(c['images'])} images")
        return c
    src = [("train-photos", _list(os.path.join(data, "train-photos", "train"))),
           ("cifar10", _list(os.path.join(data, "cifar10-train-subset", "train"))),
           ("caltech-distractors", _list(os.path.join(data, "caltech101-neardup", "distractors")))]
    images, origin, names = [], [], []
    for name, paths in src:
        for p in paths:
            assert "/dups/" not in p
            im = augment.load_eval_image(p)
            w, h = im.size
            if max(w, h) > 160:  # larger photos are kept at 160 px on the long side
                s = 160 / max(w, h)
                im = im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BICUBIC)
            images.append(np.asarray(im, dtype=np.uint8))
            origin.append(name)
            names.append(os.path.relpath(p, data))
        log(f"decoded {len(paths)} images from {name}")
    c = {"images": images, "origin": origin, "names": names}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        pickle.dump(c, f, protocol=4)
    os.replace(path + ".tmp", path)
    return c


def split(cache, seed, n_val):
    """Hold out n_val training photos (never trained on) for threshold selection."""
    idx = [i for i, o in enumerate(cache["origin"]) if o == "train-photos"]
    rs = np.random.RandomState(seed)
    rs.shuffle(idx)
    val = sorted(idx[:n_val])
    vs = set(val)
    train = [i for i in range(len(cache["images"])) if i not in vs]
    return train, val


class Views(torch.utils.data.Dataset):
    """Item g (a global sample counter) -> two views of one training image.

    The image and the augmentation randomness are pure functions of
    (seed, g), so a resumed run sees the same data as an uninterrupted one."""

    def __init__(self, images, train_idx, size, seed, asym=False):
        self.images, self.idx, self.size, self.seed = images, train_idx, size, seed
        self.asym = asym
        self._perm_epoch, self._perm = -1, None

    def __len__(self):
        return 1 << 40

    def _image_index(self, g):
        n = len(self.idx)
        e, pos = divmod(g, n)
        if e != self._perm_epoch:
            self._perm = np.random.RandomState(self.seed * 1000 + e).permutation(n)
            self._perm_epoch = e
        return self.idx[self._perm[pos]]

    def __getitem__(self, g):
        i = self._image_index(g)
        img = Image.fromarray(self.images[i])
        rng = random.Random(self.seed * 1_000_003 + g)
        if self.asym:
            # A copy is made from an original: one near-original view (light
            # photometric noise, shallow crop half the time) against one
            # heavy view (deep crops, borders, overlays, colour more often).
            a = augment.view(img, rng, self.size, strength=0.3, crop_p=0.5, crop_min=0.7)
            b = augment.view(img, rng, self.size, strength=1.4, crop_p=0.9, crop_min=0.25)
        else:
            a = augment.view(img, rng, self.size)
            b = augment.view(img, rng, self.size)
        return torch.from_numpy(a), torch.from_numpy(b)


class FromStep(torch.utils.data.Sampler):
    def __init__(self, start):
        self.start = start

    def __iter__(self):
        g = self.start
        while True:
            yield g
            g += 1

    def __len__(self):
        return 1 << 40


def _worker_init(_):
    torch.set_num_threads(1)


# ---------------------------------------------------------------- losses

def ntxent(z1, z2, temp):
    z = torch.cat([z1, z2])
    n = z1.shape[0]
    logits = z @ z.t() / temp
    logits.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, target)


def pairwise_contrastive(z1, z2, margin):
    """L = (1-Y)*d^2 + Y*max(0, m-d^2); Y=0 similar (two views), Y=1 otherwise.
    Positive and negative terms are averaged separately (1 positive vs 2N-2
    negatives per row) so neither swamps the other."""
    z = torch.cat([z1, z2])
    n = z1.shape[0]
    d2 = (2 - 2 * (z @ z.t())).clamp(min=0)
    y = torch.ones_like(d2)
    idx = torch.arange(2 * n, device=z.device)
    pos = torch.cat([idx[n:], idx[:n]])
    y[idx, pos] = 0
    y.fill_diagonal_(-1)  # self pairs: excluded
    lpos = d2[y == 0].mean()
    lneg = F.relu(margin - d2[y == 1]).mean()
    return lpos + lneg


class Memory:
    """Ring buffer of recent (detached) embeddings searched for hard negatives."""

    def __init__(self, size, dim, device):
        self.z = torch.zeros(0, dim, device=device)
        self.size = size

    def push(self, z):
        self.z = torch.cat([z.detach(), self.z])[: self.size]


def triplet_hard(z1, z2, margin, k, memory):
    """Anchors z1 (and z2 symmetrically), positives the other view, negatives
    the k nearest non-positives among the batch and the memory."""
    n = z1.shape[0]
    losses = []
    for a, p in ((z1, z2), (z2, z1)):
        cand = torch.cat([z1, z2, memory.z])  # memory entries are other images
        sim = a @ cand.t()
        idx = torch.arange(n, device=a.device)
        sim[idx, idx] = float("-inf")          # self (in z1 block) or its view
        sim[idx, idx + n] = float("-inf")
        with torch.no_grad():
            nn_idx = sim.topk(k, dim=1).indices  # nearest = largest cosine
        neg = cand[nn_idx]                       # (n, k, d)
        dap = ((a - p) ** 2).sum(1, keepdim=True)
        dan = ((a.unsqueeze(1) - neg) ** 2).sum(2)
        losses.append(F.relu(dap - dan + margin).mean())
    memory.push(torch.cat([z1, z2]))
    return sum(losses) / 2


# ---------------------------------------------------------------- export

def export_onnx(model, size, path):
    model = model.eval().cpu()
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        dim = model(x).shape[1]
    torch.onnx.export(model, x, path, input_names=["pixels"], output_names=["embedding"],
                      dynamic_axes={"pixels": {0: "batch"}, "embedding": {0: "batch"}},
                      opset_version=17, do_constant_folding=True)
    import onnx
    m = onnx.load(path)
    # Fix the embedding width in the graph's output type (the exporter leaves it symbolic).
    d = m.graph.output[0].type.tensor_type.shape.dim[1]
    d.Clear()
    d.dim_value = dim
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


@torch.no_grad()
def embed_arrays(model, arrays, device, batch=128):
    out = []
    for i in range(0, len(arrays), batch):
        x = torch.from_numpy(np.stack(arrays[i:i + batch])).to(device)
        out.append(model(x).cpu())
    return torch.cat(out).numpy()


@torch.no_grad()
def choose_thresholds(model, cache, val_idx, size, device, seed, log):
    """Thresholds from held-out training photos (never trained on): each of the
    first 400 gets the benchmark-style copies; the rest are distractors.
    near = the distance maximising pairwise F1; exact = 99th percentile of the
    distance to a quality-90 JPEG re-encode; similar = 99th percentile of the
    copy-to-original distances."""
    model.eval()
    rng = random.Random(seed)
    arrays, group = [], []
    n_src = min(400, len(val_idx) // 2)
    re90 = []
    for j, i in enumerate(val_idx):
        src = Image.fromarray(cache["images"][i])
        src = src.resize((src.width * 3, src.height * 3), Image.BICUBIC)  # ~ benchmark photo size
        arrays.append(augment.to_tensor_array(src, size))
        group.append(j if j < n_src else -1 - j)
        if j < n_src:
            for name, v in augment.copy_variants(src, rng).items():
                arrays.append(augment.to_tensor_array(v, size))
                group.append(j)
            re90.append(augment.to_tensor_array(augment._jpeg(src, rng, 90), size))
    z = embed_arrays(model, arrays, device)
    zr = embed_arrays(model, re90, device)
    g = np.array(group)
    d = np.sqrt(np.clip(2 - 2 * z @ z.T, 0, None))
    iu = np.triu_indices(len(g), 1)
    dd, same = d[iu], (g[iu[0]] == g[iu[1]])
    order = np.argsort(dd)
    tp = np.cumsum(same[order])
    k = np.arange(1, len(order) + 1)
    prec, rec = tp / k, tp / same.sum()
    f1 = 2 * prec * rec / np.maximum(prec + rec, 1e-12)
    b = int(np.argmax(f1))
    near = float((dd[order][b] + dd[order][min(b + 1, len(order) - 1)]) / 2)
    orig_rows = [r for r in range(len(g)) if g[r] >= 0 and (r == 0 or g[r - 1] != g[r])]
    exact = float(np.percentile(np.linalg.norm(z[orig_rows] - zr, axis=1), 99))
    similar = float(np.percentile(dd[same], 99))
    log(f"val: {n_src} groups x 15, {len(val_idx) - n_src} distractors; best F1 {f1[b]:.4f} "
        f"(P {prec[b]:.4f} R {rec[b]:.4f}) at d={near:.4f}; exact={exact:.4f} similar={similar:.4f}")
    return {"exact": round(exact, 4), "near": round(near, 4), "similar": round(max(similar, near), 4)}, float(f1[b])


def write_manifest(out, args, thresholds, run):
    onnx_path = os.path.join(out, "model.onnx")
    m = {
        "format": 1,
        "id": args.id,
        "description": (f"embedsearch built-in encoder: ResNet-style CNN, {args.size}x{args.size} input, "
                        f"{args.dim}-d L2-normalised embedding, trained with {args.loss} on augmented views"
                        + (f"; mean over {args.orbit} rotations/mirrors" if args.orbit > 1 else "")),
        "license": ("MIT (weights and recipe). Trained on research-licensed images (Tiny-ImageNet "
                    "subset, CIFAR-10 subset, Caltech-101 distractors) which are not shipped."),
        "dim": args.dim,
        "normalized": True,
        "files": [{"name": "model.onnx", "size": os.path.getsize(onnx_path), "sha256": sha256(onnx_path)}],
        "image": {
            "file": "model.onnx",
            "input": {"name": "pixels", "dtype": "float32", "layout": "NCHW", "channels": 3,
                      "height": args.size, "width": args.size, "dynamic_batch": True},
            "output": {"name": "embedding", "dtype": "float32"},
        },
        "preprocess": {
            "resize": "squash",
            "size": args.size,
            "crop": [args.size, args.size],
            "interpolation": "bicubic",
            "rescale": augment.RESCALE,
            "mean": list(augment.MEAN),
            "std": list(augment.STD),
            "pad_color": [0, 0, 0],
            # How embedsearch prepares large images at inference (PIL's own
            # steps, see models.Preprocess); augment.py decodes training
            # images at full size. Neither acts on images whose sides are both
            # under 384 pixels.
            "jpeg_draft": True,
            "reducing_gap": 3,
        },
        "thresholds": thresholds,
        "training": {"recipe": ("models/train/retrain.sh, stage 2: " if args.init else "") +
                     "models/train/train.py " + " ".join(args.recipe_argv), "run": run},
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(m, f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------- main

def _recipe_argv(argv):
    """The command line minus flags that do not change the result (resume,
    export, parallelism), i.e. the from-scratch command."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("--resume", "--export-only"):
            continue
        if a in ("--threads", "--workers", "--note", "--out", "--ckpt-dir", "--cache"):
            skip = True
            continue
        if a.startswith(("--threads=", "--workers=", "--note=", "--out=", "--ckpt-dir=", "--cache=")):
            continue
        out.append(a)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "models", "builtin"))
    ap.add_argument("--data", default=os.path.join(os.path.dirname(REPO), "shared", "data"))
    ap.add_argument("--ckpt-dir", default=os.path.join(HERE, "checkpoints"))
    ap.add_argument("--cache", default=os.path.join(HERE, "runs", "cache.pkl"))
    ap.add_argument("--loss", choices=["ntxent", "contrastive", "triplet"], default="ntxent")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--cycles", help="comma-separated cosine cycle lengths (warm restarts); overrides --steps")
    ap.add_argument("--batch", type=int, default=128, help="images per step (two views each)")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--widths", default="16,48,96,192")
    ap.add_argument("--depths", default="1,1,1,1")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--wd", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--temp", type=float, default=0.1, help="NT-Xent temperature")
    ap.add_argument("--margin", type=float, default=None,
                    help="margin on squared distance (contrastive default 1.0, triplet default 0.5)")
    ap.add_argument("--hard-k", type=int, default=4)
    ap.add_argument("--memory", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--val", type=int, default=1000, help="held-out training photos for thresholds")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--ckpt-every", type=int, default=25)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init", help="start from this checkpoint's weights (fresh optimiser and schedule)")
    ap.add_argument("--views", choices=["sym", "asym"], default="sym",
                    help="sym: two equally strong views; asym: a near-original view against a heavy one")
    ap.add_argument("--id", default="builtin-v3", help="model id written to the manifest")
    ap.add_argument("--export-only", action="store_true", help="export the latest checkpoint and stop")
    ap.add_argument("--orbit", type=int, default=4, choices=[1, 2, 4, 8],
                    help="export the mean embedding over this many rotations/mirrors (exact invariance; n x inference cost)")
    ap.add_argument("--note", default="", help="appended to the manifest's training.run")
    args = ap.parse_args()
    args.recipe_argv = _recipe_argv(sys.argv[1:])
    if args.margin is None:
        args.margin = 1.0 if args.loss == "contrastive" else 0.5

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.ckpt_dir, exist_ok=True)
    # A run started from --init continues the log of the run it starts from.
    logf = open(os.path.join(args.out, "train.log"), "a" if (args.resume or args.export_only or args.init) else "w")

    def log(msg):
        line = f"{datetime.datetime.utcnow():%Y-%m-%dT%H:%M:%SZ} {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    log(f"args: {' '.join(sys.argv[1:])}; torch {torch.__version__}; device {device}; threads {args.threads}")
    cache = build_cache(args.data, args.cache, log)
    train_idx, val_idx = split(cache, args.seed, args.val)
    log(f"train images {len(train_idx)}, held-out {len(val_idx)}")

    widths = tuple(int(x) for x in args.widths.split(","))
    depths = tuple(int(x) for x in args.depths.split(","))
    model = Encoder(widths, depths, dim=args.dim).to(device)
    nparam = sum(p.numel() for p in model.parameters())
    log(f"model: widths {widths} depths {depths} dim {args.dim}; {nparam} parameters")
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wd)

    cycles = [int(c) for c in args.cycles.split(",")] if args.cycles else [args.steps]
    args.steps = sum(cycles)

    def lr_at(step):
        """Linear warmup, then cosine decay to 2% of the peak, per cycle; each
        further cycle (warm restart) peaks at half the previous one."""
        start = 0
        for c, n in enumerate(cycles):
            if step < start + n or c == len(cycles) - 1:
                break
            start += n
        peak, local = args.lr * 0.5 ** c, step - start
        warm = args.warmup if c == 0 else min(args.warmup, 20)
        if local < warm:
            return peak * (local + 1) / warm
        t = (local - warm) / max(1, n - warm)
        return peak * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))

    ckpt_path = os.path.join(args.ckpt_dir, f"{args.loss}-last.pt")
    step, elapsed = 0, 0.0
    memory = Memory(args.memory, args.dim, device)
    if args.resume or args.export_only:
        if os.path.exists(ckpt_path):
            ck = torch.load(ckpt_path, map_location=device)
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["opt"])
            step, elapsed = ck["step"], ck.get("elapsed", 0.0)
            torch.set_rng_state(ck["torch_rng"])
            log(f"resumed from {ckpt_path} at step {step}")
        elif args.export_only:
            sys.exit(f"no checkpoint at {ckpt_path}")
    if step == 0 and args.init and not args.export_only:
        model.load_state_dict(torch.load(args.init, map_location=device)["model"])
        log(f"initialised from {args.init}")

    def save():
        tmp = ckpt_path + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                    "elapsed": elapsed, "torch_rng": torch.get_rng_state(), "args": vars(args)}, tmp)
        os.replace(tmp, ckpt_path)

    if step < args.steps and not args.export_only:
        ds = Views(cache["images"], train_idx, args.size, args.seed, asym=args.views == "asym")
        kw = dict(num_workers=args.workers, worker_init_fn=_worker_init, persistent_workers=True,
                  prefetch_factor=2) if args.workers > 0 else {}
        dl = torch.utils.data.DataLoader(ds, batch_size=args.batch, sampler=FromStep(step * args.batch), **kw)
        it = iter(dl)
        model.train()
        t_log, ema = time.time(), None
        while step < args.steps:
            t0 = time.time()
            a, b = next(it)
            a, b = a.to(device, non_blocking=True), b.to(device, non_blocking=True)
            for gparam in opt.param_groups:
                gparam["lr"] = lr_at(step)
            z = model(torch.cat([a, b]))
            z1, z2 = z[: a.shape[0]], z[a.shape[0]:]
            if args.loss == "ntxent":
                loss = ntxent(z1, z2, args.temp)
            elif args.loss == "contrastive":
                loss = pairwise_contrastive(z1, z2, args.margin)
            else:
                loss = triplet_hard(z1, z2, args.margin, args.hard_k, memory)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            elapsed += time.time() - t0
            with torch.no_grad():
                pos_d = (z1 - z2).norm(dim=1).mean().item()
                top1 = ((z1 @ z2.t()).argmax(1) == torch.arange(len(z1), device=device)).float().mean().item()
            ema = loss.item() if ema is None else 0.9 * ema + 0.1 * loss.item()
            if step % 10 == 0 or step == 1:
                log(f"step {step}/{args.steps} loss {loss.item():.4f} (ema {ema:.4f}) pos_d {pos_d:.3f} "
                    f"view_top1 {top1:.3f} lr {lr_at(step - 1):.2e} {time.time() - t_log:.1f}s/10 "
                    f"elapsed {elapsed / 60:.1f} min")
                t_log = time.time()
            if step % args.ckpt_every == 0 or step == args.steps:
                save()
        del it, dl
        log(f"training done: {step} steps, {elapsed / 60:.1f} min of step time")

    model.eval()
    final = Dihedral(model, args.orbit).eval() if args.orbit > 1 else model
    thresholds, vf1 = choose_thresholds(final, cache, val_idx, args.size, device, args.seed, log)
    export_onnx(final, args.size, os.path.join(args.out, "model.onnx"))
    # The exported graph must give what the torch model gives.
    run = (f"{args.loss}, {step} steps x {args.batch} images (2 views), {args.size}px, seed {args.seed}, "
           f"device {args.device}, {elapsed / 60:.0f} min; held-out F1 {vf1:.3f}; "
           f"{datetime.datetime.utcnow():%Y-%m-%d}" + (f"; {args.note}" if args.note else ""))
    write_manifest(args.out, args, thresholds, run)
    log(f"wrote {args.out}/model.onnx ({os.path.getsize(os.path.join(args.out, 'model.onnx'))} bytes), "
        f"manifest.json (thresholds {thresholds})")


if __name__ == "__main__":
    main()

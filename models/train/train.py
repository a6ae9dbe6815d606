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
               memory of recent embeddings (nearest-neighbour search); with
               --semihard only negatives with d(a,p) < d(a,n) < d(a,p) + margin

Hard negatives mined by search (--mine-every N, stage 3): every N steps the
whole training set is embedded with the current weights and each image's
--mine-k nearest other images beyond --mine-skip (the model's `exact`
distance: closer ones may be real duplicates in the training photos) are
kept; half of every batch (--hard-frac) is then the mined neighbours of the
other half, so each loss sees look-alikes as negatives (NT-Xent: among the
2N-2 in-batch negatives; triplet: the nearest ones).

--budget-min M trains for M minutes of wall time (steps, mining and
validation) with the cosine schedule on the elapsed fraction of the budget,
and stops there; --init accepts a checkpoint or an exported model.onnx
(from_onnx.py).

Checkpoints go to --ckpt-dir every --ckpt-every steps; --resume continues the
latest one. The data (training photos and the CIFAR subset; nothing of any
benchmark) are decoded once into a numpy cache, or read from a pack made by
pack_data.py (--pack).
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
import from_onnx  # noqa: E402
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
    # Only these two sets are trained on (issue 14): no benchmark's images,
    # not even caltech101-neardup's distractors (its purity is scored on them).
    src = [("train-photos", _list(os.path.join(data, "train-photos", "train"))),
           ("cifar10", _list(os.path.join(data, "cifar10-train-subset", "train")))]
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

    def __init__(self, images, train_idx, size, seed, asym=False, edits=False):
        self.images, self.idx, self.size, self.seed = images, train_idx, size, seed
        self.asym, self.edits = asym, edits
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
        if isinstance(g, tuple):  # (sample number, image) from MinedBatches
            g, i = g
        else:
            i = self._image_index(g)
        img = Image.fromarray(self.images[i])
        rng = random.Random(self.seed * 1_000_003 + g)
        if self.edits:
            # Stage 3: the near-original view against the edits users make.
            a = augment.view(img, rng, self.size, strength=0.3, crop_p=0.5, crop_min=0.7)
            b = augment.edited_view(img, rng, self.size)
        elif self.asym:
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


class MinedBatches(torch.utils.data.Sampler):
    """Batches of (sample number, image index): the first half are the next
    images of the epoch order, the second half one mined neighbour of each
    (drawn from its --mine-k nearest, a pure function of the sample number).
    Runs in the main process, so a new neighbour table (self.table, rows =
    positions in train_idx, values = positions too) is used from the next
    batch the loader asks for."""

    def __init__(self, ds, start_step, batch, hard_frac):
        self.ds, self.step, self.batch = ds, start_step, batch
        self.n_hard = int(batch * hard_frac) if hard_frac > 0 else 0
        self.table = None

    def __iter__(self):
        pos_of = None
        while True:
            base = self.step * self.batch
            n_anchor = self.batch - self.n_hard  # the table is mined before the first batch
            out = [(base + k, self.ds._image_index(self.step * n_anchor + k)) for k in range(n_anchor)]
            if self.table is not None:
                if pos_of is None or pos_of[0] is not self.ds.idx:
                    pos_of = (self.ds.idx, {v: p for p, v in enumerate(self.ds.idx)})
                taken = {i for _, i in out}
                for k in range(self.batch - n_anchor):
                    g = base + n_anchor + k
                    row = self.table[pos_of[1][out[k % n_anchor][1]]]
                    r = random.Random(self.ds.seed * 7_000_003 + g)
                    cand = [self.ds.idx[j] for j in r.sample(list(row), len(row)) if j >= 0]
                    pick = next((c for c in cand if c not in taken), None)
                    if pick is None:  # every neighbour already in the batch: a random image
                        pick = self.ds.idx[r.randrange(len(self.ds.idx))]
                        while pick in taken:
                            pick = self.ds.idx[r.randrange(len(self.ds.idx))]
                    taken.add(pick)
                    out.append((g, pick))
            yield out
            self.step += 1

    def __len__(self):
        return 1 << 40


def eval_arrays(images, idx, size):
    """The evaluation input of each image (squash to size, bicubic), uint8 HWC."""
    out = np.empty((len(idx), size, size, 3), np.uint8)
    for k, i in enumerate(idx):
        im = Image.fromarray(images[i])
        if im.size != (size, size):
            im = im.resize((size, size), Image.BICUBIC)
        out[k] = np.asarray(im)
    return out


_MEAN = np.array(augment.MEAN, np.float32).reshape(1, 3, 1, 1)
_STD = np.array(augment.STD, np.float32).reshape(1, 3, 1, 1)


@torch.no_grad()
def embed_uint8(model, arr, device, batch=512):
    """Embeddings of uint8 NHWC eval inputs (model in eval mode)."""
    out = []
    for i in range(0, len(arr), batch):
        x = arr[i:i + batch].transpose(0, 3, 1, 2).astype(np.float32) * np.float32(augment.RESCALE)
        x = (x - _MEAN) / _STD
        out.append(model(torch.from_numpy(x).to(device)).float())
    return torch.cat(out)


@torch.no_grad()
def mine(model, arr, device, k, skip, chunk=2048):
    """Each training image's k nearest other training images farther than
    skip (exact k-NN on the current embeddings). Returns (table, stats)."""
    was = model.training
    model.eval()
    z = embed_uint8(model, arr, device)
    n = len(z)
    table = np.full((n, k), -1, np.int64)
    near_d, skipped = [], 0
    for s in range(0, n, chunk):
        sim = z[s:s + chunk] @ z.t()
        d = (2 - 2 * sim).clamp(min=0).sqrt()
        rows = torch.arange(s, min(n, s + chunk), device=d.device)
        d[rows - s, rows] = float("inf")
        close = d <= skip
        skipped += int(close.sum())
        d[close] = float("inf")
        v, j = d.topk(k, dim=1, largest=False)
        j[~torch.isfinite(v)] = -1
        table[s:s + len(rows)] = j.cpu().numpy()
        near_d.append(v[:, 0].cpu())
    model.train(was)
    nd = torch.cat(near_d)
    nd = nd[torch.isfinite(nd)]
    return table, {"median_nn": float(nd.median()), "p10_nn": float(nd.quantile(0.1)), "skipped_pairs": skipped // 2}


def make_val_probe(cache, val_idx, size, seed, n_src=200, n_dis=300):
    """A fixed held-out probe for the validation curve: n_src held-out photos
    (upscaled 3x), each with benchmark-style copies and 4 copies with the
    edits of stage 3, and n_dis held-out photos as distractors."""
    rng = random.Random(seed + 17)
    arrays, group = [], []
    for j, i in enumerate(val_idx[: n_src + n_dis]):
        src = Image.fromarray(cache["images"][i])
        src = src.resize((src.width * 3, src.height * 3), Image.BICUBIC)
        arrays.append(augment.to_tensor_array(src, size))
        group.append(j if j < n_src else -1 - j)
        if j < n_src:
            for v in augment.copy_variants(src, rng).values():
                arrays.append(augment.to_tensor_array(v, size))
                group.append(j)
            for _ in range(4):
                arrays.append(augment.edited_view(src, rng, size, p_edit=1.0))
                group.append(j)
    return np.stack(arrays), np.array(group)


@torch.no_grad()
def val_probe(model, probe, device):
    """recall@1 (a copy's nearest other image is of its group) and the best
    pairwise F1 on the probe, with the model in eval mode."""
    arrays, g = probe
    was = model.training
    model.eval()
    z = torch.cat([model(torch.from_numpy(arrays[i:i + 512]).to(device)) for i in range(0, len(arrays), 512)])
    model.train(was)
    z = z.cpu().numpy()
    sim = z @ z.T
    np.fill_diagonal(sim, -np.inf)
    copies = np.array([r for r in range(len(g)) if g[r] >= 0 and (r > 0 and g[r - 1] == g[r])])
    r1 = float((g[sim[copies].argmax(1)] == g[copies]).mean())
    d = np.sqrt(np.clip(2 - 2 * sim, 0, None))
    iu = np.triu_indices(len(g), 1)
    dd, same = d[iu], (g[iu[0]] == g[iu[1]])
    order = np.argsort(dd)
    tp = np.cumsum(same[order])
    k = np.arange(1, len(order) + 1)
    f1 = 2 * tp / (k + same.sum())
    return r1, float(f1.max())


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


def triplet_hard(z1, z2, margin, k, memory, semihard=False):
    """Anchors z1 (and z2 symmetrically), positives the other view, negatives
    the k nearest non-positives among the batch and the memory; semihard:
    the k nearest among those with d(a,p) < d(a,n) < d(a,p) + margin (on
    squared distances; FaceNet), else the nearest ones."""
    n = z1.shape[0]
    losses = []
    for a, p in ((z1, z2), (z2, z1)):
        cand = torch.cat([z1, z2, memory.z])  # memory entries are other images
        sim = a @ cand.t()
        idx = torch.arange(n, device=a.device)
        sim[idx, idx] = float("-inf")          # self (in z1 block) or its view
        sim[idx, idx + n] = float("-inf")
        dap = ((a - p) ** 2).sum(1, keepdim=True)
        with torch.no_grad():
            if semihard:
                dall = 2 - 2 * sim
                band = (dall > dap.detach()) & (dall < dap.detach() + margin)
                sim = torch.where(band, sim, sim - 4)  # outside the band: only if the band is short
            nn_idx = sim.topk(k, dim=1).indices  # nearest = largest cosine
        neg = cand[nn_idx]                       # (n, k, d)
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
                    "subset, CIFAR-10 subset) which are not shipped."),
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
        "training": {"recipe": ("models/train/retrain.sh, last stage: " if args.init else "") +
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
        if a in ("--threads", "--workers", "--note", "--out", "--ckpt-dir", "--cache", "--pack"):
            skip = True
            continue
        if a.startswith(("--threads=", "--workers=", "--note=", "--out=", "--ckpt-dir=", "--cache=", "--pack=")):
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
    ap.add_argument("--views", choices=["sym", "asym", "edits"], default="sym",
                    help="sym: two equally strong views; asym: a near-original view against a heavy one; "
                         "edits: a near-original view against the edits users make (augment.edited_view)")
    ap.add_argument("--semihard", action="store_true", help="triplet: semi-hard negatives (FaceNet)")
    ap.add_argument("--mine-every", type=int, default=0,
                    help="mine hard negatives by k-NN over the training set every N steps (0: off)")
    ap.add_argument("--mine-k", type=int, default=8, help="mined neighbours kept per image")
    ap.add_argument("--mine-skip", type=float, default=0.0311,
                    help="skip neighbours at or below this distance (the model's exact threshold)")
    ap.add_argument("--hard-frac", type=float, default=0.5, help="share of a batch that is mined neighbours")
    ap.add_argument("--budget-min", type=float, default=0,
                    help="wall-time budget in minutes: cosine schedule over the budget, stop when spent")
    ap.add_argument("--val-every", type=int, default=0, help="held-out probe (recall@1, F1) every N steps")
    ap.add_argument("--pack", help="read the training images from pack_data.py's file instead of --data")
    ap.add_argument("--id", default="builtin-v4", help="model id written to the manifest")
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
    if args.pack:
        import pack_data
        cache = pack_data.load(args.pack, log)
    else:
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
        if args.budget_min > 0:  # the schedule follows the wall-time budget
            t = elapsed / (args.budget_min * 60)
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
        if args.init.endswith(".onnx"):
            calib = eval_arrays(cache["images"], train_idx[::10], args.size)
            err = from_onnx.load(model, args.init, embed_uint8, calib, device)
            log(f"initialised from {args.init} (folded batch norms unfolded; max |torch - onnx graph| {err:.2e})")
        else:
            model.load_state_dict(torch.load(args.init, map_location=device)["model"])
            log(f"initialised from {args.init}")

    def save():
        tmp = ckpt_path + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                    "elapsed": elapsed, "torch_rng": torch.get_rng_state(), "args": vars(args)}, tmp)
        os.replace(tmp, ckpt_path)

    def budget_left():
        return args.budget_min <= 0 or elapsed < args.budget_min * 60

    if step < args.steps and budget_left() and not args.export_only:
        ds = Views(cache["images"], train_idx, args.size, args.seed, asym=args.views == "asym",
                   edits=args.views == "edits")
        kw = dict(num_workers=args.workers, worker_init_fn=_worker_init, persistent_workers=True,
                  prefetch_factor=2) if args.workers > 0 else {}
        if args.mine_every > 0:
            sampler = MinedBatches(ds, step, args.batch, args.hard_frac)
            dl = torch.utils.data.DataLoader(ds, batch_sampler=sampler, **kw)
            mine_arr = eval_arrays(cache["images"], train_idx, args.size)
        else:
            dl = torch.utils.data.DataLoader(ds, batch_size=args.batch, sampler=FromStep(step * args.batch), **kw)
        probe = make_val_probe(cache, val_idx, args.size, args.seed) if args.val_every > 0 else None

        def checks(t0):
            """Mining and the validation probe when due; their time counts in the budget."""
            if args.mine_every > 0 and (step % args.mine_every == 0 or sampler.table is None):
                tm = time.time()
                sampler.table, st = mine(model, mine_arr, device, args.mine_k, args.mine_skip)
                log(f"mined at step {step}: {len(mine_arr)} images x {args.mine_k} neighbours beyond "
                    f"{args.mine_skip} ({st['skipped_pairs']} pairs skipped as duplicates); nearest-neighbour "
                    f"distance median {st['median_nn']:.3f}, 10th percentile {st['p10_nn']:.3f}; "
                    f"{time.time() - tm:.0f}s")
            if probe is not None and step % args.val_every == 0:
                r1, f1 = val_probe(model, probe, device)
                log(f"val step {step}: held-out probe recall@1 {r1:.4f} best F1 {f1:.4f}")

        checks(None)
        it = iter(dl)
        model.train()
        t_log, ema = time.time(), None
        while step < args.steps and budget_left():
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
                loss = triplet_hard(z1, z2, args.margin, args.hard_k, memory, args.semihard)
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
            if step < args.steps and budget_left():
                tc = time.time()
                checks(t0)
                elapsed += time.time() - tc
            if step % args.ckpt_every == 0 or step == args.steps or not budget_left():
                save()
        del it, dl
        if probe is not None and step % args.val_every:
            r1, f1 = val_probe(model, probe, device)
            log(f"val step {step}: held-out probe recall@1 {r1:.4f} best F1 {f1:.4f}")
        log(f"training done: {step} steps, {elapsed / 60:.1f} min of step time")

    model.eval()
    final = Dihedral(model, args.orbit).eval() if args.orbit > 1 else model
    thresholds, vf1 = choose_thresholds(final, cache, val_idx, args.size, device, args.seed, log)
    export_onnx(final, args.size, os.path.join(args.out, "model.onnx"))
    # The exported graph must give what the torch model gives.
    mined = (f", half of each batch mined neighbours (k-NN over the training set every {args.mine_every} steps, "
             f"{args.mine_k} kept, beyond {args.mine_skip})" if args.mine_every > 0 else "")
    run = (f"{args.loss}, {step} steps x {args.batch} images (2 views, {args.views}){mined}, {args.size}px, "
           f"seed {args.seed}, device {args.device}, {elapsed / 60:.0f} min; held-out F1 {vf1:.3f}; "
           f"{datetime.datetime.utcnow():%Y-%m-%d}" + (f"; {args.note}" if args.note else ""))
    write_manifest(args.out, args, thresholds, run)
    log(f"wrote {args.out}/model.onnx ({os.path.getsize(os.path.join(args.out, 'model.onnx'))} bytes), "
        f"manifest.json (thresholds {thresholds})")


if __name__ == "__main__":
    main()

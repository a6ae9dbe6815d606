#!/usr/bin/env python3
"""Score embeddings on a near-duplicate data set (numpy only).

    python3 bench/score_neardup.py EMB.jsonl DATASET_DIR [--threshold D | --manifest M]

EMB.jsonl: one {"path": ..., "vector": [...]} per line (paths absolute or
relative to DATASET_DIR; matched on the path relative to DATASET_DIR).
DATASET_DIR holds groups.tsv (one near-duplicate group per line, original
first), optionally labels.tsv (path<TAB>class) and ignore_pairs.tsv (pairs
scored neither way). Images without an embedding (failed to decode) count as
missed: their pairs are false negatives.

Prints: pairwise precision/recall/F1 at the threshold (Euclidean distance
between L2-normalised vectors), recall@1 of the original for each copy (its nearest image, other copies of
the same group left out, is the original),
per-copy-type recall, an F1 sweep over thresholds, and semantic precision@10
by class (labels.tsv; BACKGROUND_Google excluded) against the random baseline.
"""
import argparse
import collections
import json
import os
import sys

import numpy as np


def read_tsv(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def load(emb_path, root):
    root = os.path.realpath(root)
    paths, vecs = [], []
    with open(emb_path) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            if r.get("vector") is None:
                continue
            p = r["path"]
            ap = os.path.realpath(p if os.path.isabs(p) else os.path.join(root, p))
            if os.path.isabs(p) or os.path.exists(ap):
                rel = os.path.relpath(ap, root)
            else:
                rel = os.path.normpath(p)
            paths.append(rel)
            vecs.append(r["vector"])
    x = np.asarray(vecs, dtype=np.float64)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return paths, x


def copy_type(path):
    return os.path.splitext(os.path.basename(path))[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("embeddings")
    ap.add_argument("dataset")
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--manifest", help="model manifest.json; its thresholds.near is the default threshold")
    ap.add_argument("--k", type=int, default=10, help="k for semantic precision@k")
    ap.add_argument("--types", action="store_true", help="per-copy-type recall by file stem (default: on when stems repeat)")
    args = ap.parse_args()

    thr = args.threshold
    if thr is None and args.manifest:
        with open(args.manifest) as f:
            thr = json.load(f)["thresholds"]["near"]
    if thr is None:
        sys.exit("give --threshold or --manifest")

    paths, x = load(args.embeddings, args.dataset)
    index = {p: i for i, p in enumerate(paths)}
    n = len(paths)
    groups = [[os.path.normpath(p) for p in g] for g in read_tsv(os.path.join(args.dataset, "groups.tsv"))]
    ignore = set()
    ip = os.path.join(args.dataset, "ignore_pairs.tsv")
    if os.path.exists(ip):
        for a, b in read_tsv(ip):
            ignore.add(frozenset((os.path.normpath(a), os.path.normpath(b))))

    gid = np.full(n, -1)
    missing = 0
    for k, g in enumerate(groups):
        for p in g:
            if p in index:
                gid[index[p]] = k
            else:
                missing += 1
    d = np.sqrt(np.clip(2 - 2 * x @ x.T, 0, None))
    iu = np.triu_indices(n, 1)
    dd = d[iu]
    same = (gid[iu[0]] >= 0) & (gid[iu[0]] == gid[iu[1]])
    keep = np.ones(len(dd), bool)
    if ignore:
        for pair in ignore:
            a, b = sorted(pair)
            if a in index and b in index:
                i, j = sorted((index[a], index[b]))
                keep[i * n - i * (i + 1) // 2 + (j - i - 1)] = False
    dd, same = dd[keep], same[keep]
    total_pos = sum(len(g) * (len(g) - 1) // 2 for g in groups)  # incl. pairs with a missing image
    for pair in ignore:  # ignored pairs inside a group are not positives either
        for g in groups:
            if all(p in g for p in pair):
                total_pos -= 1

    def prf(t):
        pred = dd <= t
        tp = int((pred & same).sum())
        fp = int((pred & ~same).sum())
        p = tp / max(tp + fp, 1)
        r = tp / max(total_pos, 1)
        f = 2 * p * r / max(p + r, 1e-12)
        return p, r, f, tp, fp

    print(f"dataset {args.dataset}: {n} embedded images, {len(groups)} groups, {total_pos} positive pairs, "
          f"{missing} group members without an embedding, {len(ignore)} ignored pairs")
    p, r, f, tp, fp = prf(thr)
    print(f"\npairwise at threshold {thr:.4f}: precision {p:.4f}  recall {r:.4f}  F1 {f:.4f}  (TP {tp}, FP {fp}, FN {total_pos - tp})")

    # recall@1 of the original: for each copy, is the original its nearest other image?
    hits, cnt = 0, 0
    per = collections.defaultdict(lambda: [0, 0, 0, 0])  # type -> [copies, r@1 hits, pair within thr, NN in group]
    ghits = 0
    dself = d.copy()
    np.fill_diagonal(dself, np.inf)
    for g in groups:
        if g[0] not in index:
            continue
        o = index[g[0]]
        others = [index[q] for q in g if q in index]
        for p in g[1:]:
            t = copy_type(p)
            per[t][0] += 1
            cnt += 1
            if p not in index:
                continue
            i = index[p]
            # the copy's nearest image among everything except the other copies of its own
            # group (originals, distractors and other groups' copies all compete)
            row = dself[i].copy()
            row[others] = np.inf
            row[o] = d[i, o]
            nn = int(np.argmin(row))
            if nn == o or row[nn] == row[o]:
                hits += 1
                per[t][1] += 1
            nn_any = int(np.argmin(dself[i]))
            if gid[nn_any] == gid[i]:
                ghits += 1
                per[t][3] += 1
            if d[i, o] <= thr:
                per[t][2] += 1
    print(f"recall@1 of the original: {hits / max(cnt, 1):.4f} ({hits}/{cnt} copies); "
          f"nearest neighbour in the same group: {ghits / max(cnt, 1):.4f}")

    types = collections.Counter(copy_type(p) for g in groups for p in g[1:])
    if args.types or 0 < len(types) <= 60:
        print(f"\nper copy type (file stem): recall@1 of the original, and recall of the pair (copy, original) at d <= {thr:.4f}")
        print(f"{'type':<28}{'copies':>7}{'r@1':>8}{'pair recall':>13}{'NN in group':>13}")
        for t in sorted(per):
            c, h, w, gg = per[t]
            print(f"{t:<28}{c:>7}{h / c:>8.3f}{w / c:>13.3f}{gg / c:>13.3f}")

    print("\nthreshold sweep (pairwise):")
    print(f"{'threshold':>10}{'precision':>11}{'recall':>9}{'F1':>8}")
    grid = sorted(set(np.round(np.arange(0.1, 1.31, 0.1), 3)) | set(np.round(thr * np.arange(0.6, 1.41, 0.1), 3)))
    for t in grid:
        p, r, f, _, _ = prf(t)
        mark = "  <- threshold" if abs(t - thr) < 1e-9 else ""
        print(f"{t:>10.3f}{p:>11.4f}{r:>9.4f}{f:>8.4f}{mark}")
    order = np.argsort(dd)
    tpc = np.cumsum(same[order])
    kk = np.arange(1, len(order) + 1)
    pr, rc = tpc / kk, tpc / max(total_pos, 1)
    f1 = 2 * pr * rc / np.maximum(pr + rc, 1e-12)
    b = int(np.argmax(f1))
    print(f"best F1 {f1[b]:.4f} at threshold {dd[order][b]:.4f} (precision {pr[b]:.4f}, recall {rc[b]:.4f})")

    lp = os.path.join(args.dataset, "labels.tsv")
    if os.path.exists(lp):
        lab = {os.path.normpath(a): b for a, b in read_tsv(lp)}
        # originals and distractors only (copies would make it a duplicate test)
        copies = {p for g in groups for p in g[1:]}
        rows = [i for i, pth in enumerate(paths)
                if pth in lab and pth not in copies and lab[pth] != "BACKGROUND_Google"]
        if len(rows) > args.k:
            y = np.array([lab[paths[i]] for i in rows])
            sub = d[np.ix_(rows, rows)].copy()
            np.fill_diagonal(sub, np.inf)
            nn = np.argsort(sub, axis=1, kind="stable")[:, : args.k]
            prec = (y[nn] == y[:, None]).mean()
            _, counts = np.unique(y, return_counts=True)
            m = len(y)
            rand = float((counts * (counts - 1)).sum() / (m * (m - 1)))
            print(f"\nsemantic precision@{args.k} by class ({m} originals+distractors, {len(counts)} classes, "
                  f"BACKGROUND_Google excluded): {prec:.4f}  (random neighbours: {rand:.4f}, x{prec / rand:.1f})")


if __name__ == "__main__":
    main()

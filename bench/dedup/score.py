#!/usr/bin/python3
"""Near-duplicate quality of `embedsearch dedup`, through the CLI.

    /usr/bin/python3 bench/dedup/score.py [--bin BIN] [--model M] [--thresholds 0.1,0.2,...]
                                          [--data DIR] [--datasets a,b] [-- EXTRA DEDUP ARGS]

For each data set (default: caltech101-neardup, pdq-bridge-variants,
imagededup-ukbench, caltech101-faces-crops under ../shared/data), it indexes
the folder into a fresh temporary store with `embedsearch dedup DIR --json`,
then runs `embedsearch dedup --in DIR --threshold D --json` for every
threshold D of the sweep. The pairs implied by the groups (every unordered
pair inside a group: what a user acting on the groups would treat as
duplicates, chains included) are scored against groups.tsv: pairwise
precision, recall and F1. Pairs listed in ignore_pairs.tsv count neither way.
Images the tool could not index stay in the truth, so their pairs are misses.

Prints one table per data set (largest: the biggest group, where chains
show; maxd: the largest distance inside any group), then the macro-average F1 per threshold (the
number to choose the default threshold from) and each set's best threshold.
BIN defaults to a fresh `go build` of ./cmd/embedsearch. Needs only the
Python standard library.
"""
import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATASETS = ["caltech101-neardup", "pdq-bridge-variants", "imagededup-ukbench", "caltech101-faces-crops"]
OK_CODES = (0, 3, 4)  # ok, some files failed to index (corrupt on purpose), duplicates found


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def pairs_of(groups):
    out = set()
    for g in groups:
        for a, b in itertools.combinations(sorted(set(g)), 2):
            out.add((a, b))
    return out


def run_dedup(args, cmd_args):
    cmd = [args.bin, "dedup", "--json", "--model", args.model] + cmd_args + args.extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in OK_CODES:
        sys.exit("command failed (exit %d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr))
    return json.loads(p.stdout), p.stderr


def score(pred, truth, ignore):
    pred, truth = pred - ignore, truth - ignore
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(truth) if truth else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1, tp


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", help="embedsearch binary (default: go build)")
    ap.add_argument("--model", default="builtin")
    ap.add_argument("--thresholds", default="0.05,0.1,0.15,0.2,0.25,0.3,0.35,0.4,0.45,0.5,0.6,0.7,0.8")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(REPO), "shared", "data"))
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("extra", nargs="*", help="more dedup flags, after --")
    args = ap.parse_args()
    thresholds = [float(t) for t in args.thresholds.split(",")]
    if not os.path.isdir(args.data):
        sys.exit("no test data at %s (see DESIGN.md, 'Test data')" % args.data)
    with tempfile.TemporaryDirectory(prefix="dedup-score-") as tmp:
        if not args.bin:
            args.bin = os.path.join(tmp, "embedsearch")
            subprocess.run(["go", "build", "-o", args.bin, "./cmd/embedsearch"], cwd=REPO, check=True)
        summary = {}
        for name in args.datasets.split(","):
            root = os.path.realpath(os.path.join(args.data, name))
            truth = pairs_of(read_tsv(os.path.join(root, "groups.tsv")))
            ignore = pairs_of(read_tsv(os.path.join(root, "ignore_pairs.tsv")))
            st = os.path.join(tmp, "store-" + name)
            # Index once (and group at the first threshold), then re-group.
            out, err = run_dedup(args, ["--store", st, "--threshold", str(thresholds[0]), root])
            print("\n## %s (%d true pairs%s, %d images indexed)" % (
                name, len(truth - ignore), ", %d ignored" % len(ignore) if ignore else "",
                out["stats"]["images"]))
            print("%-9s %7s %8s %10s %9s %7s %7s %6s" % ("threshold", "groups", "largest", "pred_pairs", "precision", "recall", "F1", "maxd"))
            for t in thresholds:
                if t != thresholds[0]:
                    out, _ = run_dedup(args, ["--store", st, "--threshold", str(t), "--in", root])
                groups = [[os.path.relpath(m["path"], root) for m in g["members"]] for g in out["groups"]]
                pred = pairs_of(groups)
                p, r, f1, _ = score(pred, truth, ignore)
                maxd = max([g["max_distance"] for g in out["groups"]] or [0])
                summary.setdefault(t, {})[name] = (p, r, f1)
                largest = max([len(g) for g in groups] or [0])
                print("%-9g %7d %8d %10d %9.3f %7.3f %7.3f %6.3f" % (t, len(groups), largest, len(pred - ignore), p, r, f1, maxd))
        names = args.datasets.split(",")
        print("\n## macro average over %s (model %s)" % (", ".join(names), args.model))
        print("%-9s %9s %7s %7s   %s" % ("threshold", "precision", "recall", "F1", "  ".join("F1:" + n for n in names)))
        for t in thresholds:
            row = [summary[t][n] for n in names]
            mp, mr, mf = (sum(x[i] for x in row) / len(row) for i in range(3))
            print("%-9g %9.3f %7.3f %7.3f   %s" % (t, mp, mr, mf, "  ".join("%.3f" % x[2] for x in row)))
        best = max(thresholds, key=lambda t: sum(summary[t][n][2] for n in names))
        print("\nbest macro-F1 threshold: %g" % best)
        for n in names:
            bt = max(thresholds, key=lambda t: summary[t][n][2])
            print("best for %-24s %g (F1 %.3f)" % (n + ":", bt, summary[bt][n][2]))


if __name__ == "__main__":
    main()

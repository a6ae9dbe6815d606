#!/usr/bin/python3
"""Near-duplicate quality of `embedsearch dedup`, through the CLI.

    /usr/bin/python3 bench/dedup/score.py [--bin BIN] [--model M] [--runs default,preset:exact,t:0.4,...]
                                          [--data DIR] [--datasets a,b] [--rename] [--json-out FILE]
                                          [-- EXTRA DEDUP ARGS]

For each data set (default: caltech101-neardup, pdq-bridge-variants,
imagededup-ukbench, caltech101-faces-crops under ../shared/data), it indexes
the folder into a fresh temporary store with `embedsearch dedup DIR --json`
(the default preset: what a new user gets), then runs `embedsearch dedup
--in DIR --json` once for each further run of --runs: `default` (no
threshold flag), `preset:NAME` (--preset NAME) or `t:D` (--threshold D).

Scores, against groups.tsv (pairs in ignore_pairs.tsv count neither way;
images the tool could not index stay in the truth, so their pairs are
misses):
  - pairwise precision, recall, F1 over the pairs the groups imply (every
    unordered pair inside a group: what a user acting on the groups treats
    as duplicates);
  - groups, and wrong groups: a group holding two members that are not
    copies of each other; purity = 1 - wrong/groups;
  - innocents: images put in a group that holds no true copy of them (an
    action on the group would take them);
  - keeper quality, for sets that say which files are undegraded
    (caltech101-neardup and the calibration sets: original, png, exif8, and
    distractors): of the
    groups that hold an undegraded member, the share whose keeper is one.
    `keeper` prints it as kept/eligible.

Audits: where bench/dedup/audit/NAME.tsv exists, each run gets a second
row, "audited", scored against the set's groups corrected by that file: a
pair judged `copy` by eye (the same photo: recropped, rescaled, retouched)
joins the two groups, a pair judged `unsure` counts neither way, `distinct`
changes nothing. The caltech101-neardup audit looked at every pair of its
originals and distractors within distance 0.30 of the built-in model that
groups.tsv does not call copies, and at every such pair dedup grouped:
see the file. The labelled row stays the headline number.

--rename scores a copy of each set in which every file has a random name
(hard links when possible, else copies keeping the modification time), so
that nothing can depend on file names: keeper quality must not change.
--json-out writes every row as JSON (for the calibration notes).
BIN defaults to a fresh `go build` of ./cmd/embedsearch. Needs only the
Python standard library.
"""
import argparse
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATASETS = ["caltech101-neardup", "pdq-bridge-variants", "imagededup-ukbench", "caltech101-faces-crops"]
OK_CODES = (0, 3, 4)  # ok, some files failed to index (corrupt on purpose), duplicates found
UNDEGRADED_STEMS = {"original", "png", "exif8"}


def undegraded_rule(name):
    """Which files of a set are undegraded copies (None: the set does not say)."""
    if name.startswith("caltech101-neardup") or name.startswith("calib-"):
        return lambda rel: rel.startswith("distractors/") or os.path.splitext(os.path.basename(rel))[0] in UNDEGRADED_STEMS
    return None


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


def read_audit(name):
    """The audit rows (verdict, a, b) for data set name, or None."""
    path = os.path.join(REPO, "bench", "dedup", "audit", name + ".tsv")
    if not os.path.exists(path):
        return None
    rows = [r for r in read_tsv(path) if not r[0].startswith("#")]
    for r in rows:
        if r[0] not in ("copy", "distinct", "unsure") or len(r) < 3:
            sys.exit("%s: bad audit row %r" % (path, r))
    return rows


def audited(groups, audit):
    """Truth and ignore pairs of groups corrected by audit rows: copies join
    their groups, unsure pairs ignore every pair between their groups."""
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for g in groups:
        for m in g[1:]:
            parent[find(m)] = find(g[0])
    for v, a, b, *_ in audit:
        if v == "copy":
            parent[find(a)] = find(b)
    merged = {}
    for x in list(parent):
        merged.setdefault(find(x), []).append(x)
    members = lambda x: merged.get(find(x), [x]) if x in parent else [x]
    ignore = set()
    for v, a, b, *_ in audit:
        if v == "unsure":
            for x in members(a):
                for y in members(b):
                    ignore.add((min(x, y), max(x, y)))
    return pairs_of(merged.values()), ignore


def run_dedup(args, cmd_args):
    cmd = [args.bin, "dedup", "--json"] + (["--model", args.model] if args.model else []) + cmd_args + args.extra
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


def group_scores(groups, keepers, truth, ignore, undegraded):
    """Wrong groups, innocents and keeper quality of the groups dedup reported."""
    def dup(a, b):
        k = (min(a, b), max(a, b))
        return k in truth or k in ignore
    wrong = 0
    innocents = 0
    for g in groups:
        if any(not dup(a, b) for a, b in itertools.combinations(g, 2)):
            wrong += 1
        for m in g:
            if not any(dup(m, o) for o in g if o != m):
                innocents += 1
    kept = eligible = 0
    if undegraded is not None:
        for g, k in zip(groups, keepers):
            if any(undegraded(m) for m in g):
                eligible += 1
                kept += undegraded(k)
    return {
        "groups": len(groups), "wrong": wrong,
        "purity": 1 - wrong / len(groups) if groups else 1.0,
        "innocents": innocents,
        "keeper": kept / eligible if eligible else None, "keeper_kept": kept, "keeper_eligible": eligible,
    }


def renamed_copy(root, dest, seed):
    """Copies root's images to dest under random names; returns {new rel: old rel}."""
    rng = random.Random(seed)
    back = {}
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            if rel.endswith((".tsv", ".md", ".txt")):
                continue
            ext = os.path.splitext(f)[1]
            new = "%016x%s" % (rng.getrandbits(64), ext)
            src, dst = os.path.join(root, rel), os.path.join(dest, new)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
            back[new] = rel
    return back


def parse_run(spec):
    if spec == "default":
        return []
    kind, _, v = spec.partition(":")
    if kind == "preset":
        return ["--preset", v]
    if kind == "t":
        return ["--threshold", v]
    sys.exit("bad run %r: use default, preset:NAME or t:D" % spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", help="embedsearch binary (default: go build)")
    ap.add_argument("--model", default="", help="--model for dedup (default: the store's, i.e. the built-in model)")
    ap.add_argument("--runs", default="default,preset:exact,preset:similar",
                    help="comma-separated: default | preset:NAME | t:D (the first run indexes)")
    ap.add_argument("--thresholds", help="shorthand: append t:D for each D of this comma-separated list")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(REPO), "shared", "data"))
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--rename", action="store_true", help="score copies of the sets with every file renamed at random")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json-out", help="write every row as JSON to FILE")
    ap.add_argument("extra", nargs="*", help="more dedup flags, after --")
    args = ap.parse_args()
    runs = args.runs.split(",") if args.runs else []
    if args.thresholds:
        runs += ["t:" + t for t in args.thresholds.split(",")]
    if not runs:
        sys.exit("nothing to run")
    if not os.path.isdir(args.data):
        sys.exit("no test data at %s (see DESIGN.md, 'Test data')" % args.data)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dedup-score-") as tmp:
        if not args.bin:
            args.bin = os.path.join(tmp, "embedsearch")
            subprocess.run(["go", "build", "-o", args.bin, "./cmd/embedsearch"], cwd=REPO, check=True)
        summary = {}
        names = args.datasets.split(",")
        for name in names:
            src = os.path.realpath(os.path.join(args.data, name))
            truth = pairs_of(read_tsv(os.path.join(src, "groups.tsv")))
            ignore = pairs_of(read_tsv(os.path.join(src, "ignore_pairs.tsv")))
            audit = read_audit(name)
            if audit is not None:
                a_truth, a_ignore = audited(read_tsv(os.path.join(src, "groups.tsv")), audit)
                a_ignore |= ignore
            undegraded = undegraded_rule(name)
            root, back = src, None
            if args.rename:
                root = os.path.join(tmp, "renamed-" + name)
                os.makedirs(root)
                back = renamed_copy(src, root, args.seed)
            st = os.path.join(tmp, "store-" + name)
            print("\n## %s (%d true pairs%s)%s" % (name, len(truth - ignore),
                  ", %d ignored" % len(ignore) if ignore else "", " renamed at random" if back else ""))
            print("%-16s %6s %6s %6s %9s %7s %7s %7s %6s %6s %6s %9s" % (
                "run", "images", "groups", "wrong", "purity", "innoc", "largest", "precis", "recall", "F1", "maxd", "keeper"))
            for i, run in enumerate(runs):
                extra = parse_run(run)
                if i == 0:
                    out, _ = run_dedup(args, ["--store", st] + extra + [root])
                else:
                    out, _ = run_dedup(args, ["--store", st, "--in", root] + extra)
                rel = lambda p: back[os.path.relpath(p, root)] if back else os.path.relpath(p, root)
                groups = [[rel(m["path"]) for m in g["members"]] for g in out["groups"]]
                keepers = [rel(g["keep"]) for g in out["groups"]]
                pred = pairs_of(groups)
                maxd = max([g["max_distance"] for g in out["groups"]] or [0])
                largest = max([len(g) for g in groups] or [0])

                def emit(label, truth, ignore, **extra):
                    """Scores the groups against truth, prints the row and keeps it."""
                    p, r, f1, _ = score(pred, truth, ignore)
                    gs = group_scores(groups, keepers, truth, ignore, undegraded)
                    keeper = "-" if gs["keeper"] is None else "%.3f %d/%d" % (gs["keeper"], gs["keeper_kept"], gs["keeper_eligible"])
                    print("%-16s %6d %6d %6d %9.3f %7d %7d %7.3f %6.3f %6.3f %6.3f %9s" % (
                        label[:16], out["stats"]["images"], gs["groups"], gs["wrong"], gs["purity"], gs["innocents"],
                        largest, p, r, f1, maxd, keeper))
                    rows.append(dict(dataset=name, run=run, **extra, renamed=bool(back), threshold=out["threshold"],
                                     images=out["stats"]["images"], precision=p, recall=r, f1=f1, largest=largest,
                                     maxd=maxd, **gs))
                    return p, r, f1, gs

                label = run if run != "default" else "default (%s)" % out.get("preset", out["threshold"])
                p, r, f1, gs = emit(label, truth, ignore)
                summary.setdefault(run, {})[name] = (p, r, f1, gs["purity"])
                if audit is not None:
                    emit("  audited", a_truth, a_ignore, audited=True)
        print("\n## macro average over %s" % ", ".join(names))
        print("%-16s %9s %7s %7s %7s   %s" % ("run", "precision", "recall", "F1", "purity", "  ".join("F1:" + n for n in names)))
        for run in runs:
            row = [summary[run][n] for n in names]
            mp, mr, mf, mpur = (sum(x[i] for x in row) / len(row) for i in range(4))
            print("%-16s %9.3f %7.3f %7.3f %7.3f   %s" % (run[:16], mp, mr, mf, mpur, "  ".join("%.3f" % x[2] for x in row)))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()

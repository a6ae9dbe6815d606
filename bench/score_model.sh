#!/bin/sh
# Scores a model on the near-duplicate sets through the CLI, as README
# reports it: `embedsearch embed` of every image into bench/score_neardup.py
# (pairwise P/R/F1 at the manifest's `near` threshold, recall@1 of the
# original, per copy type, threshold sweep, semantic precision@10), then
# bench/dedup/score.py (the groups `dedup` forms at the default preset and
# at exact and similar: pairwise P/R/F1, wrong groups, purity, innocents,
# keeper quality).
#
#   sh bench/score_model.sh [MODEL]      # default: the built-in model
#
# MODEL is anything --model takes (a name, a folder with manifest.json).
# SKIP_DEDUP=1 stops after the embedding scores (the dedup sweep indexes
# every set again).
# Writes embeddings and reports under bench/out/score-<name>/ (git-ignored).
set -e
cd "$(dirname "$0")/.."
MODEL=${1:-builtin}
DATA=$(cd "${EMBEDSEARCH_DATA:-../shared/data}" && pwd)
OUT=bench/out/score-$(basename "$MODEL")
mkdir -p "$OUT"
go build -o "$OUT/embedsearch" ./cmd/embedsearch
MANIFEST=$MODEL/manifest.json
[ -f "$MANIFEST" ] || MANIFEST=models/builtin/manifest.json
for ds in caltech101-neardup pdq-bridge-variants imagededup-ukbench; do
	# Files that fail to decode (ukbench has corrupt ones on purpose) are
	# reported on stderr and scored as misses; exit code 3 is expected.
	"$OUT/embedsearch" embed --model "$MODEL" --format jsonl "$DATA/$ds" >"$OUT/emb-$ds.jsonl" 2>"$OUT/emb-$ds.err" || [ $? -eq 3 ]
	/usr/bin/python3 bench/score_neardup.py "$OUT/emb-$ds.jsonl" "$DATA/$ds" --manifest "$MANIFEST" >"$OUT/$ds.txt"
	echo "== $ds"
	sed -n '3,4p' "$OUT/$ds.txt"
	grep -E '^best F1|^semantic' "$OUT/$ds.txt" || true
done
if [ -n "${SKIP_DEDUP:-}" ]; then exit 0; fi
/usr/bin/python3 bench/dedup/score.py --bin "$OUT/embedsearch" --model "$MODEL" >"$OUT/dedup.txt"
echo "== dedup groups: $OUT/dedup.txt"
grep -E '^(## |run |default)' "$OUT/dedup.txt"

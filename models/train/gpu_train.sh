#!/bin/sh
# Stage 3 (builtin-v4's recipe) on a machine with a GPU and no data folder.
#
#   sh models/train/gpu_train.sh pack            # where ../shared/data is: writes models/train/runs/pack.pkl (37 MB, ignored)
#   sh models/train/gpu_train.sh train [MINUTES] # trains for MINUTES of wall time (default 8) from builtin-v3's
#                                                # weights with --device cuda --batch 512, then exports to
#                                                # models/train/runs/gpu/ (model.onnx, manifest.json, train.log)
#
# The pack holds the original bytes of train-photos and cifar10-train-subset
# (nothing else), in train.py's order, so the same 1,000 photos are held out.
# Environment: DEVICE (cuda), BATCH (512), WORKERS (12), THREADS (4),
# MINE_EVERY (100 steps), INIT (builtin-v3's model.onnx), PYTHON (python3),
# OUT (models/train/runs/gpu), PACK (models/train/runs/pack.pkl). A quick check
# on the CPU, on a small pack (1,500 photos, 1,000 of them held out):
#   /usr/bin/python3 models/train/pack_data.py --limit 1500 --out models/train/runs/pack-small.pkl
#   PACK=runs/pack-small.pkl DEVICE=cpu BATCH=32 WORKERS=2 MINE_EVERY=5 PYTHON=/usr/bin/python3 \
#     OUT=runs/gpucheck sh models/train/gpu_train.sh train 0.5
set -e
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
case "$1" in
pack)
	exec "$PY" pack_data.py --out "${PACK:-runs/pack.pkl}"
	;;
train)
	PACK=${PACK:-runs/pack.pkl}
	[ -f "$PACK" ] || { echo "$PACK missing: run '$0 pack' where the data is" >&2; exit 1; }
	INIT=${INIT:-../builtin/model.onnx}
	[ -f "$INIT" ] || INIT=../builtin/model.onnx
	OUT=${OUT:-runs/gpu}
	"$PY" train.py --pack "$PACK" --init "$INIT" --views edits --mine-every "${MINE_EVERY:-100}" \
		--mine-k 8 --mine-skip 0.0311 --hard-frac 0.5 --steps 1000000 --budget-min "${2:-8}" --lr 5e-4 \
		--warmup 20 --val-every "${MINE_EVERY:-100}" --device "${DEVICE:-cuda}" --batch "${BATCH:-512}" \
		--workers "${WORKERS:-12}" --threads "${THREADS:-4}" --ckpt-dir "$OUT/checkpoints" --out "$OUT" \
		--id builtin-v4 --note "gpu_train.sh"
	;;
*)
	echo "usage: $0 pack | train [MINUTES]" >&2
	exit 2
	;;
esac

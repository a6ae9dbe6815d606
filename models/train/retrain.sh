#!/bin/sh
# Retrains the built-in model from scratch, as shipped (models/builtin/):
# stage 1, symmetric SimCLR views (900 steps in two cosine cycles), then
# stage 2 from stage 1's weights, a near-original view against a heavy one
# (the way copies are made from originals). Each stage checkpoints every 25
# steps; rerun with RESUME=--resume after a stop. Extra arguments go to both
# stages (e.g. --device cuda). The shipped run: 120 min of training steps on
# 2 shared CPU cores (51 + 69), plus about 6 min per stage for thresholds and export.
set -e
cd "$(dirname "$0")"
PY=${PYTHON:-/usr/bin/python3}
nice -n 5 "$PY" train.py --cycles 600,300 --ckpt-dir checkpoints/stage1 $RESUME "$@"
nice -n 5 "$PY" train.py --init checkpoints/stage1/ntxent-last.pt --views asym --steps 3000 --lr 1e-3 --warmup 20 \
	--ckpt-dir checkpoints/stage2 $RESUME "$@"

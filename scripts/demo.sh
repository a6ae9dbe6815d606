#!/usr/bin/env bash
# The main job, end to end on a fresh machine: build embedsearch, index a
# folder of images with the built-in model, then ask for the neighbours of one
# of its images and for its near-duplicate groups.
#
#   scripts/demo.sh [DIR]      (default: ../shared/data/caltech101-neardup/dups)
#
# The store goes to bin/demo-store-<model id> (delete it to start over), so a
# build with a new built-in model starts a store of its own. onnxruntime is
# fetched and verified on first use by embedsearch itself.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-../shared/data/caltech101-neardup/dups}
if [ ! -d "$dir" ]; then
	echo "demo: no folder $dir; pass a folder of images: scripts/demo.sh ~/Pictures" >&2
	exit 2
fi
go build -o bin/embedsearch ./cmd/embedsearch
store=bin/demo-store-$(bin/embedsearch models info builtin | awk '$1 == "id:" {print $2}')
echo "== embedsearch index --store $store $dir"
status=0
bin/embedsearch index --store "$store" "$dir" || status=$?
# 3 = completed, but some files could not be read: still a usable index.
if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then exit "$status"; fi
q=$(find "$dir" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.webp' \) | sort | head -n 1 || true)
echo "== embedsearch query --store $store -k 5 $q"
bin/embedsearch query --store "$store" -k 5 "$q"
echo "== embedsearch dedup --store $store   (report only; first 20 lines)"
bin/embedsearch dedup --store "$store" | head -n 20 || true

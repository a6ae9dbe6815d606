#!/usr/bin/env bash
# The main job, end to end on a fresh clone: build embedsearch, index a
# folder of images with the built-in model, ask for the neighbours of one of
# its images, and list its near-duplicate groups.
#
#   scripts/demo.sh          the demo folder: the 29 photos of testdata/photos
#                            plus two copies of each made by package copies
#                            (saved again, resized, cropped, framed, mirrored,
#                            captioned, recoloured, EXIF-turned)
#   scripts/demo.sh DIR      your own folder of images
#
# Everything goes under $EMBEDSEARCH_DEMO_OUT (default bin/demo): the binary,
# the demo folder and the stores (store-<model id> for the demo folder, made
# anew each run; mystore-<model id> for DIR, indexed incrementally: delete it
# to start over). onnxruntime is fetched and verified on first use by
# embedsearch itself.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${EMBEDSEARCH_DEMO_OUT:-bin/demo}
mkdir -p "$out"
go build -o "$out/" ./cmd/embedsearch ./scripts/demofolder
es=$out/embedsearch
model=$("$es" models info builtin | awk '$1 == "id:" {print $2}')

if [ $# -eq 0 ]; then
	dir=$out/photos
	store=$out/store-$model
	rm -rf "$dir" "$store"
	"$out/demofolder" testdata/photos "$dir"
	q=$dir/originals/cat.jpg
	echo "== embedsearch index --store $store $dir"
	"$es" index --store "$store" "$dir"
	echo "== embedsearch query --store $store --exclude-self -k 5 $q"
	echo "   (the photos closest to cat.jpg: its copies come first)"
	"$es" query --store "$store" --exclude-self -k 5 "$q"
	echo "== embedsearch dedup --store $store   (report only: nothing is moved or deleted)"
	"$es" dedup --store "$store"
	exit 0
fi

dir=$1
if [ ! -d "$dir" ]; then
	echo "demo: no folder $dir; pass a folder of images (scripts/demo.sh ~/Pictures), or nothing for the demo folder" >&2
	exit 2
fi
store=$out/mystore-$model
echo "== embedsearch index --store $store $dir"
status=0
"$es" index --store "$store" "$dir" || status=$?
# 3 = completed, but some files could not be read: still a usable index.
if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then exit "$status"; fi
q=$(find "$dir" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.webp' \) | sort | head -n 1 || true)
echo "== embedsearch query --store $store --exclude-self -k 5 $q"
"$es" query --store "$store" --exclude-self -k 5 "$q"
echo "== embedsearch dedup --store $store   (report only; first 40 lines)"
"$es" dedup --store "$store" | head -n 40 || true

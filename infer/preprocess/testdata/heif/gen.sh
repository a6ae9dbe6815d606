#!/usr/bin/env bash
# Makes the HEIC and AVIF fixtures of heif_test.go with Debian's tools
# (imagemagick, libheif-examples) and gridmux.go. Run from this folder;
# the outputs are checked in, so tests need none of these tools.
set -euo pipefail
IM=/usr/bin/convert # not a stand-in earlier on PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# An asymmetric picture (a swirled gradient, a white block at the top
# left), so that each of the 8 rotations and mirrors looks different.
$IM -size 192x256 gradient:yellow-navy -rotate 90 -swirl 120 \
	-fill white -draw "rectangle 12,10 70,44" -strip PNG24:src.png

heif-enc -q 90 -t 64 -o photo.heic src.png >/dev/null    # with a 64×48 thumbnail
heif-enc -A -q 90 -o photo.avif src.png >/dev/null

# A 2×2 grid of 128×96 tiles, as phones tile their photos, and the same
# tiles with irot/imir on the grid item.
for i in 0 1 2 3; do
	$IM src.png -crop 128x96+$(( (i % 2) * 128 ))+$(( (i / 2) * 96 )) +repage "$tmp/t$i.png"
	heif-enc -q 90 -o "$tmp/t$i.heic" "$tmp/t$i.png" >/dev/null
done
tiles=("$tmp"/t0.heic "$tmp"/t1.heic "$tmp"/t2.heic "$tmp"/t3.heic)
go run gridmux.go -rows 2 -cols 2 -o grid.heic "${tiles[@]}"
go run gridmux.go -rows 2 -cols 2 -irot 1 -o grid-irot1.heic "${tiles[@]}"
go run gridmux.go -rows 2 -cols 2 -imir 0 -o grid-imir0.heic "${tiles[@]}"
go run gridmux.go -rows 2 -cols 2 -irot 3 -imir 1 -o grid-irot3-imir1.heic "${tiles[@]}"

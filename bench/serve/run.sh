#!/usr/bin/env bash
# The load test of 'embedsearch serve' (README, "serve"): the shipped photos
# (testdata/photos) and copies of each, indexed with the built-in model into
# a fresh store, served on loopback; then C clients (default 50) for D
# (default 30s), each asking for "more like" a random image and fetching the
# thumbnails of its first 6 results. Prints requests, errors and p50/p90/p99.
#
#   bench/serve/run.sh            # C=50 D=30s
set -euo pipefail
cd "$(dirname "$0")/../.."
c=${C:-50}
d=${D:-30s}
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

go build -o "$work/es" ./cmd/embedsearch
go build -o "$work/load" ./bench/serve/load
mkdir -p "$work/photos/copies"
cp testdata/photos/*.jpg "$work/photos/"
for f in testdata/photos/*.jpg; do
	convert "$f" -resize 50% -quality 80 "$work/photos/copies/$(basename "$f" .jpg)-half.jpg" 2>/dev/null ||
		cp "$f" "$work/photos/copies/$(basename "$f" .jpg)-copy.jpg"
done
"$work/es" index -q --store "$work/store" "$work/photos" >&2
"$work/es" serve --store "$work/store" --addr 127.0.0.1:0 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do grep -q 'serving' "$work/serve.log" && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$work/serve.log" | head -1)
echo "server $url, $(nproc) cores" >&2
"$work/load" -url "$url" -c "$c" -d "$d"

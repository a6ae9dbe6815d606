#!/usr/bin/env bash
# The decoding benchmarks of README's "Camera photos" table, each row with
# its peer measured in the same run:
#
#   1. index throughput, built-in model, N 12-MP photos: this tree against
#      the tree before libjpeg-turbo (TODAY, a commit), runs alternating;
#   2. CPU per image of embed (built-in model) against PIL's open + draft()
#      + resize to 64x64 (bench/decode/pil_draft.py), start-up of each
#      measured alone (no image) and subtracted;
#   3. go test's BenchmarkJPEGPaths (decode+preprocess paths, interleaved)
#      and BenchmarkPipeline/12mp (1 and 2 decoding workers).
#
#   bench/decode/run.sh                     # RUNS=5 N=32 TODAY=d7de1e4
#
# Needs ../shared/data, Debian's python3-pil, libturbojpeg0, and GNU time.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-5}
n=${N:-32}
today=${TODAY:-d7de1e4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== photos, binaries" >&2
go run ./bench/decode/mkphotos -n "$n" "$work/photos"
go build -o "$work/es" ./cmd/embedsearch
mkdir "$work/today" "$work/empty"
git archive "$today" | tar -x -C "$work/today"
(cd "$work/today" && go build -o "$work/es-today" ./cmd/embedsearch)
du -sh "$work/photos" >&2

# t FILE CMD...: appends "wall cpu" (seconds; cpu = user + system) of CMD.
t() {
	local out=$1
	shift
	/usr/bin/time -f '%e %U %S' -o "$work/t" "$@" >/dev/null 2>&1
	awk '{printf "%s %.3f\n", $1, $2 + $3}' "$work/t" >>"$work/$out"
}
for i in $(seq "$runs"); do
	echo "== run $i of $runs" >&2
	rm -rf "$work/s1" "$work/s2"
	t index "$work/es" index --store "$work/s1" "$work/photos"
	t index-today "$work/es-today" index --store "$work/s2" "$work/photos"
	t embed "$work/es" embed "$work/photos"
	t embed0 "$work/es" embed "$work/empty"
	t pil /usr/bin/python3 bench/decode/pil_draft.py 64 "$work"/photos/*.jpg
	t pil0 /usr/bin/python3 bench/decode/pil_draft.py 64
done
# med FILE COLUMN: the median.
med() { awk -v c="$2" '{print $c}' "$work/$1" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

echo
echo "index, built-in model, $n photos of 12 MP, median of $runs runs:"
echo
echo "| binary | wall s | images/s | CPU s | CPU ms/image |"
echo "|---|---:|---:|---:|---:|"
for b in index index-today; do
	w=$(med $b 1)
	c=$(med $b 2)
	awk -v b="$b" -v w="$w" -v c="$c" -v n="$n" 'BEGIN {printf "| %s | %.2f | %.1f | %.2f | %.1f |\n", b, w, n / w, c, 1000 * c / n}'
done
echo
echo "CPU ms per image, start-up (no image) subtracted, medians of $runs runs:"
echo
e=$(med embed 2)
e0=$(med embed0 2)
p=$(med pil 2)
p0=$(med pil0 2)
awk -v e="$e" -v e0="$e0" -v p="$p" -v p0="$p0" -v n="$n" 'BEGIN {
	a = 1000 * (e - e0) / n; b = 1000 * (p - p0) / n
	printf "embed: %.1f (run %.3f s, start-up %.3f s); PIL: %.1f (run %.3f s, start-up %.3f s); ratio %.3f\n", a, e, e0, b, p, p0, a / b
}'
echo
go test ./infer/preprocess -run '^$' -bench 'JPEGPaths' -benchtime "${BENCHTIME:-16x}" -count 1
go test ./infer -run '^$' -bench 'Pipeline/12mp' -benchtime "${PIPETIME:-2x}" -count 1

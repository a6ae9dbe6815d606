#!/usr/bin/env bash
# Decode+preprocess benchmark for infer/preprocess; prints a table.
#
#   bench/decode/run.sh            # image/jpeg path only
#   LIBJPEG=1 bench/decode/run.sh  # also the libjpeg peer (needs libjpeg62-turbo-dev)
#
# Needs ../shared/data (caltech101-neardup) and ImageMagick's convert, which
# makes the 12-megapixel JPEGs in a temporary folder at run time.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${BENCHTIME:-20x}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

go test ./infer/preprocess/ -run '^$' -bench 'BenchmarkDecodePreprocess|BenchmarkDecode12MP' \
	-benchtime "$n" -count 1 | tee -a "$log" >&2
if [ "${LIBJPEG:-0}" = 1 ]; then
	go test -tags libjpeg ./infer/preprocess/ -run '^$' -bench 'BenchmarkJPEGPaths' \
		-benchtime "$n" -count 1 | tee -a "$log" >&2
fi

echo
echo "| benchmark | wall ms/image | CPU ms/image | images/s per core (CPU) |"
echo "|---|---:|---:|---:|"
awk '/^Benchmark(DecodePreprocess|Decode12MP)/ {
	ms = 0; cpu = 0
	for (i = 1; i < NF; i++) {
		if ($(i+1) == "ns/op") ms = $i / 1e6
		if ($(i+1) == "cpu-ms/op") cpu = $i
	}
	name = $1; sub(/-[0-9]+$/, "", name)
	printf "| %s | %.1f | %.1f | %.1f |\n", name, ms, cpu, (cpu > 0 ? 1000 / cpu : 0)
}' "$log"
if grep -q '^BenchmarkJPEGPaths' "$log"; then
	echo
	echo "Interleaved JPEG paths (median wall ms, mean CPU ms per image; agreement with libjpeg full size = PIL):"
	echo
	echo "| set | path | wall ms | CPU ms | % values within 2/255 | mean abs diff (1/255) |"
	echo "|---|---|---:|---:|---:|---:|"
	awk '/^BenchmarkJPEGPaths/ {
		set = $1; sub(/^BenchmarkJPEGPaths\//, "", set); sub(/-[0-9]+$/, "", set)
		delete ms; delete cpu; delete w2; delete mae; n = 0
		for (i = 1; i < NF; i++) {
			u = $(i+1)
			if (u ~ /-ms$/) { p = u; sub(/-ms$/, "", p); ms[p] = $i; order[++n] = p }
			if (u ~ /-cpums$/) { p = u; sub(/-cpums$/, "", p); cpu[p] = $i }
			if (u ~ /-%within2$/) { p = u; sub(/-%within2$/, "", p); w2[p] = $i }
			if (u ~ /-mae$/) { p = u; sub(/-mae$/, "", p); mae[p] = $i }
		}
		for (k = 1; k <= n; k++) {
			p = order[k]
			printf "| %s | %s | %.1f | %.1f | %s | %s |\n", set, p, ms[p], cpu[p], (p in w2) ? w2[p] : "exact", (p in mae) ? mae[p] : "–"
		}
	}' "$log"
fi

#!/usr/bin/env bash
# Builds bin/embedsearch with its version, commit and build date stamped in
# (what `embedsearch version` and `--version` print).
#
#   scripts/build.sh [OUTPUT]     (default: bin/embedsearch)
#
# version: the nearest tag (`git describe`), else the short commit, with
# "-dirty" for uncommitted changes; the date is the commit's unless
# SOURCE_DATE_EPOCH is set, so two builds of one commit are identical.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bin/embedsearch}
version=$(git describe --tags --always --dirty 2>/dev/null || echo unknown)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
else
	date=$(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
fi
go build -ldflags "-X main.version=$version -X main.commit=$commit -X main.date=$date" -o "$out" ./cmd/embedsearch

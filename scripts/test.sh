#!/usr/bin/env bash
# Runs the whole embedsearch test suite on a fresh machine.
#
# Set-up it does by itself (idempotent): npm packages for the cross-check
# against a second onnxruntime implementation. The onnxruntime library is
# provisioned by embedsearch itself on first use (pinned, checksum-verified)
# into the user cache. Tests that need ../shared/data skip when it is absent.
#
# Fails when any test fails, when vet fails, or when no test ran at all.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v npm >/dev/null && [ -f bench/crosscheck/package-lock.json ] && [ ! -d bench/crosscheck/node_modules ]; then
	echo "== npm ci (bench/crosscheck)"
	(cd bench/crosscheck && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "not gofmt-ed:"; echo "$unformatted"; exit 1
fi
echo "== go vet"
go vet ./...

echo "== go test -race"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
go test -race -count=1 -timeout 40m -json ./... >"$log"
status=$?
set -e
# Human-readable summary: failures in full, one line per package.
grep -E '"Action":"(fail|skip)","Package":"[^"]*","Test"' "$log" |
	sed -E 's/.*"Action":"([a-z]+)","Package":"([^"]*)","Test":"([^"]*)".*/\1 \2 \3/' | sort | uniq || true
grep -E '"Action":"(pass|fail)","Package":"[^"]*","Elapsed"' "$log" |
	sed -E 's/.*"Action":"([a-z]+)","Package":"([^"]*)","Elapsed":([0-9.]+).*/\1\t\2\t\3s/' || true
passed=$(grep -cE '"Action":"pass","Package":"[^"]*","Test"' "$log" || true)
failed=$(grep -cE '"Action":"fail","Package":"[^"]*","Test"' "$log" || true)
skipped=$(grep -cE '"Action":"skip","Package":"[^"]*","Test"' "$log" || true)
echo "== tests: $passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ]; then
	grep -E '"Action":"output"' "$log" | grep -E -- '--- FAIL|panic|FAIL|Error' | sed -E 's/.*"Output":"(.*)"\}$/\1/' | head -100 || true
	echo "go test failed (exit $status)"; exit 1
fi
if [ "$passed" -eq 0 ]; then
	echo "no tests ran: treating as failure"; exit 1
fi

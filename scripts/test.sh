#!/usr/bin/env bash
# Runs the whole embedsearch test suite on a fresh machine.
#
# Set-up it does by itself (idempotent): npm packages for the cross-check
# against a second onnxruntime implementation; Debian packages for optional
# tests (when root). The onnxruntime library is
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

# Optional: zsh, fish and groff for the completion-script and man-page tests,
# which skip (saying so) without them.
missing=""
for c in zsh fish groff; do command -v "$c" >/dev/null || missing="$missing ${c/groff/groff-base}"; done
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "== apt-get install$missing (optional)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null 2>&1; } ||
		echo "note: could not install$missing; their tests skip"
fi

# Optional: libturbojpeg0 (libjpeg-turbo, the JPEG decoder PIL uses,
# loaded at run time), libheif1 (HEIC and AVIF, loaded at run time) and
# exiftool (the oracle of the RAW preview tests); without them those tests
# skip and the missing-library fallback is what gets tested (the fallback
# of JPEG decoding is tested either way).
decoders=""
ldconfig -p 2>/dev/null | grep -q 'libturbojpeg\.so\.0 ' || decoders="$decoders libturbojpeg0"
ldconfig -p 2>/dev/null | grep -q 'libheif\.so\.1 ' || decoders="$decoders libheif1"
command -v exiftool >/dev/null || decoders="$decoders libimage-exiftool-perl"
if [ -n "$decoders" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "== apt-get install$decoders (optional)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $decoders >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $decoders >/dev/null 2>&1; } ||
		echo "note: could not install$decoders; their tests skip"
fi

# Chromium for the browser test of 'serve' (cmd/embedsearch
# TestServeInBrowser, driven by chromedp): installed when missing, as root
# or through sudo; without it that test skips, except under CI=true, where
# it fails.
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then
	sudo=""
	[ "$(id -u)" = 0 ] || { sudo -n true 2>/dev/null && sudo="sudo -n"; }
	if [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; then
		echo "== apt-get install chromium (browser test)"
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 ||
			{ $sudo apt-get update -q >/dev/null 2>&1 && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; } ||
			echo "note: could not install chromium; the browser test skips (fails under CI=true)"
	fi
fi

# The Weaviate server the weaviate:// store is tested against
# (weaviatestore, cmd/embedsearch TestStoreBackends and others): the pinned
# version, built from the Go module proxy when not installed (5 to 16
# minutes on 2 cores, seconds once in the build cache). Without it those
# tests skip, except under CI=true, where they fail.
weaviate_version=v1.35.2
gobin=$(go env GOBIN); [ -n "$gobin" ] || gobin="$(go env GOPATH | cut -d: -f1)/bin"
if [ -z "${EMBEDSEARCH_WEAVIATE_SERVER:-}" ] && [ ! -x "$gobin/weaviate-server" ] && [ ! -x "$HOME/go/bin/weaviate-server" ] && ! command -v weaviate-server >/dev/null; then
	echo "== go install weaviate-server@$weaviate_version (the weaviate:// store's tests)"
	GOFLAGS=-mod=mod go install "github.com/weaviate/weaviate/cmd/weaviate-server@$weaviate_version" ||
		echo "note: could not build weaviate-server; the weaviate:// store's tests skip (fail under CI=true)"
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "not gofmt-ed:"; echo "$unformatted"; exit 1
fi
echo "== go vet"
go vet ./...
# Without cgo (no C compiler) and on the other systems people keep photos
# on: everything must build and vet; only running a model needs cgo.
for goos in linux darwin windows; do
	echo "== CGO_ENABLED=0 GOOS=$goos go vet"
	CGO_ENABLED=0 GOOS=$goos go vet ./...
done

echo "== go test -race"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
go test -race -count=1 -timeout 40m -json ./... >"$log"
status=$?
set -e
# One line per package, the full output of failed tests, the counts; fails
# when anything failed or when no test ran at all.
go run ./scripts/testreport <"$log"
if [ "$status" -ne 0 ]; then
	echo "go test failed (exit $status)"; exit 1
fi

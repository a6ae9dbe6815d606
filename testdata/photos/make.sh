#!/usr/bin/env bash
# Makes the demo photos in this folder from their sources (see README.md):
# scikit-image's data folder in Debian 12's python3-skimage 0.19.3-8, and the
# HDR panoramas in the npm package @pmndrs/assets 1.7.0 (Poly Haven HDRIs).
# Needs apt-get, dpkg-deb, npm, base64, ImageMagick with OpenEXR, and Go.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download python3-skimage=0.19.3-8
dpkg-deb -x python3-skimage_0.19.3-8_all.deb sk
npm pack --silent @pmndrs/assets@1.7.0
tar xzf pmndrs-assets-1.7.0.tgz package/hdri
mkdir raw
for js in package/hdri/*.exr.js; do
	name=$(basename "$js" .exr.js)
	sed -e "s|^export default 'data:application/exr;base64,||" -e "s|'.*$||" "$js" | base64 -d >"raw/$name.exr"
	convert "raw/$name.exr" -endian MSB -depth 16 "rgb:raw/$name.rgb16"
done
cd "$here/../.."
go run testdata/photos/make.go "$work/sk/usr/lib/python3/dist-packages/skimage/data" "$work/raw" "$here"

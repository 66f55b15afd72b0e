#!/usr/bin/env bash
# Package dist/MangalmSales.app into a compressed disk image (macOS only).
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(python -c "import tomllib;print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])")
staging=$(mktemp -d)
cp -R dist/MangalmSales.app "$staging/"
ln -s /Applications "$staging/Applications"
hdiutil create -volname "Mangalm Sales" -srcfolder "$staging" -ov -format UDZO \
  "dist/MangalmSales-${version}.dmg"

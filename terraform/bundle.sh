#!/usr/bin/env bash
# Stages what Cloud Functions builds and runs: package files, TypeScript config and sources, no tests. Terraform zips
# this folder and uploads it under its content hash; Cloud Functions' build runs the gcp-build script (tsc) on it.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.bundle/source}"
rm -rf "$out"
mkdir -p "$out"
cp package.json package-lock.json tsconfig.json tsconfig.build.json "$out/"
cp -R functions shared "$out/"
echo "staged $(find "$out" -type f | wc -l) files in $out"

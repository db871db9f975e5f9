#!/usr/bin/env bash
# The main job on a sample file: make a chunk store and an index, extract it back, compare.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p sample
node scripts/make-sample.mjs sample/sample.bin 64
echo "make:    desync make -s ./store sample/sample.caibx sample/sample.bin"
node apps/cli/bin/run.js make -s ./store sample/sample.caibx sample/sample.bin
echo "extract: desync extract -s ./store sample/sample.caibx sample/extracted.bin"
rm -f sample/extracted.bin
node apps/cli/bin/run.js extract -s ./store sample/sample.caibx sample/extracted.bin
cmp sample/sample.bin sample/extracted.bin
chunks=$(node apps/cli/bin/run.js list-chunks sample/sample.caibx | wc -l)
echo "ok: sample/extracted.bin is identical to sample/sample.bin ($chunks chunks in ./store)"

#!/usr/bin/env bash
# Builds .devbundle/: the spinemet binaries (from BUILD_DIR; START_BIN, if set, is
# copied in as bin/spinemet_start for run_analyze_scaling.sh), dcm2niix, dcmcjpeg
# and GNU time with every shared library they load, the dynamic loader and the
# DCMTK dictionary, so the run_*.sh scripts here can run on a bare
# x86-64 machine (the lent 16-core device) as
#   bash .devbundle/run_bench2.sh   (from the repo root, .devbundle carried along)
# The bundle (~83 MB) is over what a device call carries (64 MiB), so it is
# also packed as .devpack/b.tgz (~32 MB): carry .devpack and start the command
# with `tar xzf .devpack/b.tgz && ...`.
# Usage: [START_BIN=OLD_BINARY] bench/device/make_bundle.sh [BUILD_DIR]   (from the repo root)
set -euo pipefail
B=${1:-build}
rm -rf .devbundle && mkdir -p .devbundle/bin .devbundle/lib
cp "$B/pipeline/spinemet" "$B/bench/seg_eval" .devbundle/bin/
[ -n "${START_BIN:-}" ] && cp "$START_BIN" .devbundle/bin/spinemet_start
cp "$(command -v dcm2niix)" "$(command -v dcmcjpeg)" /usr/bin/time .devbundle/bin/
for b in .devbundle/bin/*; do ldd "$b" | awk '/=>/ {print $3} /ld-linux/ {print $1}'; done | sort -u |
  while read -r l; do [ -f "$l" ] && cp -L "$l" .devbundle/lib/; done
cp /usr/share/libdcmtk17/dicom.dic sample_data/full_size.json bench/device/run_*.sh .devbundle/
ex=$(git rev-parse --git-path info/exclude) # .git is a file in a worktree
mkdir -p "$(dirname "$ex")"
for d in .devbundle .devpack; do grep -q "^/$d/" "$ex" 2>/dev/null || echo "/$d/" >>"$ex"; done
mkdir -p .devpack && tar czf .devpack/b.tgz .devbundle
du -sh .devbundle .devpack

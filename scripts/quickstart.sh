#!/usr/bin/env bash
# The README's first command: installs what is missing (Debian 12, as root),
# builds spinemet, generates the default phantom (a lytic L1 with 55 % collapse,
# sample_data/lytic_l1_collapse.json) and runs the main job on its DICOM series,
# then prints where the report is.
# Usage: scripts/quickstart.sh [OUTPUT_DIR]   (default: ./out/quickstart)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/quickstart}
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
rm -rf "$OUT"
mkdir -p "$OUT"
build/pipeline/spinemet -q phantom sample_data/lytic_l1_collapse.json -o "$OUT/phantom" --png
build/pipeline/spinemet analyze "$OUT/phantom/dicom" -o "$OUT/report"
echo
echo "spinemet quick start done."
echo "  input series : $OUT/phantom/dicom (synthetic CT; ground truth in $OUT/phantom/truth.json)"
echo "  report       : $OUT/report/report.html (open in a browser), $OUT/report/report.json, $OUT/report/report.csv"
echo "  DICOM out    : $OUT/report/seg.dcm (Segmentation), $OUT/report/sr.dcm (TID 1500 Structured Report)"
echo "  label maps   : $OUT/report/vertebrae.nii.gz, $OUT/report/parts.nii.gz; key images in $OUT/report/keyimages/"

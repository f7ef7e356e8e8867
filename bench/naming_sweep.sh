#!/bin/bash
# naming_sweep.sh - names and the diseased level's body Dice on phantoms the
# suite does not hold: 24 cropped lumbar scans with one crushed lytic level
# (seeds 41, 57, 63, 77; L1, L2 or L3 lytic over 75 % of the body and one
# pedicle, 30 % crush; T12-L4 or T11-L5; 1.4 mm pixels, 1.5 mm slices) and
# 12 cervico-thoracic scans (sample_data/cervical_c2.json with seeds
# 101-104 at size_scale 0.8, 0.9 and 1.0). Markdown on stdout: per scan the
# levels named right (our label = truth label at the most-overlapping
# vertebra, seg_eval's "named right"), the names we flagged uncertain, and
# for the lumbar scans the crushed level's body Dice.
#   bench/naming_sweep.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
WORK=${2:-/tmp/spinemet_naming_sweep}
BIN=$BUILD/pipeline/spinemet
EVAL=$BUILD/bench/seg_eval
mkdir -p "$WORK"
one() { # name spec-json lesion-level
  local d=$WORK/$1
  mkdir -p "$d"
  printf '%s\n' "$2" >"$d/spec.json"
  [ -f "$d/ph/truth.json" ] || "$BIN" -q phantom "$d/spec.json" -o "$d/ph" >/dev/null
  rm -rf "$d/seg"
  if ! "$BIN" -q segment "$d/ph/dicom" -o "$d/seg" 2>/dev/null; then echo "| $1 | segmentation failed | | |"; return; fi
  local res right tot unc dice
  res=$("$EVAL" "$d/seg/vertebrae.nii.gz" "$d/ph/truth_vertebrae.nii.gz" verse x "$d/seg/parts.nii.gz" "$d/ph/truth_parts.nii.gz")
  right=$(echo "$res" | awk -F'|' '$6 ~ /yes/' | wc -l)
  tot=$(echo "$res" | grep -c '^|')
  unc=$(python3 -c "import json,sys; print(sum(v['uncertain'] for v in json.load(open(sys.argv[1]))['vertebrae']))" "$d/seg/vertebrae.json")
  dice=-
  [ -n "$3" ] && dice=$(echo "$res" | awk -F'|' -v l=" $3 " '$3==l {gsub(/ /,"",$11); print $11}')
  echo "| $1 | $right/$tot | $unc | $dice |"
}
echo "| scan | named right | flagged uncertain | crushed level's body Dice (matched) |"
echo "|---|---|---|---|"
for sd in 41 57 63 77; do for lev in L1 L2 L3; do for crop in T12-L4 T11-L5; do
  side=$([ $((sd % 2)) = 0 ] && echo left || echo right)
  one "lumbar_s${sd}_${lev}_${crop}" "{\"seed\": $sd, \"anatomy\": {\"from\": \"${crop%-*}\", \"to\": \"${crop#*-}\"},
 \"scan\": {\"matrix\": [192, 192], \"pixel_mm\": 1.4, \"slice_mm\": 1.5},
 \"vertebrae\": {\"$lev\": {\"collapse_pct\": 30, \"collapse_shape\": \"crush\",
 \"lesion\": {\"type\": \"lytic\", \"parts\": [\"body\", \"pedicle_$side\"], \"body_extent_pct\": 75, \"cortical_breach\": true}}}}" "$lev"
done; done; done
for sd in 101 102 103 104; do for sc in 0.8 0.9 1.0; do
  spec=$(python3 -c "import json,sys; s=json.load(open(sys.argv[1])); s['seed']=int(sys.argv[2]); s['patient']={'size_scale': float(sys.argv[3])}; print(json.dumps(s))" \
    "$ROOT/sample_data/cervical_c2.json" "$sd" "$sc")
  one "cervical_s${sd}_x${sc}" "$spec" ""
done; done

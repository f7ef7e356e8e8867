#!/usr/bin/env bash
# Segmentation accuracy: per-vertebra Dice, body Dice, identification and
# centroid error on every phantom in sample_data/ (except full_size) and on the
# real CT in ../shared/data (TotalSegmentator reference labels).
# Usage: bench/accuracy_seg.sh [BUILD_DIR]   -> Markdown on stdout
# docs/accuracy.md quotes its output; rerun it after any segmentation change.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
EXE=$B/pipeline/spinemet
EVAL=$B/bench/seg_eval
WORK=${ACC_WORK:-/tmp/spinemet-accuracy}
mkdir -p "$WORK"
rows="$WORK/rows.md"; : >"$rows"; : >"$WORK/uncertain.txt"; : >"$WORK/flags.md"  # a stopped earlier run left rows there

echo "## Phantoms (sample_data/*.json and the held-out bench/heldout/*.json, our segmentation vs truth_vertebrae / truth_parts)"
echo
# sample_data/ (tuned on) and bench/heldout/ (written after the rules were set)
for spec in sample_data/*.json bench/heldout/*.json; do
  name=$(basename "$spec" .json)
  [ "$name" = full_size ] && continue
  d="$WORK/$name"
  [ -f "$d/truth.json" ] || "$EXE" -q phantom "$spec" -o "$d"
  "$EXE" -q segment "$d/dicom" -o "$d/seg" || { echo "| $name | segmentation failed |" >>"$rows"; continue; }
  "$EVAL" "$d/seg/vertebrae.nii.gz" "$d/truth_vertebrae.nii.gz" verse "$name" "$d/seg/parts.nii.gz" "$d/truth_parts.nii.gz" >>"$rows"
  python3 - "$d/seg/vertebrae.json" "$name" "$WORK/uncertain.txt" >>"$WORK/flags.md" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
unc = [v["level"] for v in j["vertebrae"] if v["uncertain"]]
with open(sys.argv[3], "a") as f:
    for v in j["vertebrae"]:
        if v["uncertain"]: f.write(f"{sys.argv[2]} {v['label']}\n")
print(f"| {sys.argv[2]} | {j['anchors'].strip()} | {j['flags'].strip() or '-'} | {', '.join(unc) or '-'} |")
PY
done
python3 - "$rows" "$WORK/uncertain.txt" <<'PY'
import sys, statistics as st
unc = set(tuple(l.split()) for l in open(sys.argv[2]))
rows = [l.strip().strip('|').split('|') for l in open(sys.argv[1]) if l.count('|') >= 10]
by = {}
for r in rows:
    r = [x.strip() for x in r]
    by.setdefault(r[0], []).append(r)
print("| phantom | vertebrae | named right | right or flagged uncertain | median Dice | min Dice | median matched Dice | median body Dice | min body Dice | median matched body Dice | median centroid error mm | max centroid error mm |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
allv = []
for name, rs in by.items():
    rs = [r for r in rs if r[1] != 'S']  # the sacrum is reported apart (its truth starts at S1's top)
    allv += rs
    d = [float(r[2]) for r in rs]; b = [float(r[6]) for r in rs if r[6] != '-']
    e = [float(r[3]) for r in rs if r[3] != 'nan']
    ok = sum(r[4] == 'yes' for r in rs)
    okf = sum(r[4] == 'yes' or (name, r[7]) in unc for r in rs)
    m = [float(r[8]) for r in rs]
    mb = [float(r[9]) for r in rs if r[9] != '-']
    print(f"| {name} | {len(rs)} | {ok} | {okf} | {st.median(d):.3f} | {min(d):.3f} | {st.median(m):.3f} | {st.median(b):.3f} | {min(b):.3f} | {st.median(mb):.3f} | {st.median(e) if e else float('nan'):.1f} | {max(e) if e else float('nan'):.1f} |")
ok = sum(r[4] == 'yes' for r in allv)
okf = sum(r[4] == 'yes' or (r[0], r[7]) in unc for r in allv)
b = [float(r[6]) for r in allv if r[6] != '-']
print(f"| **all** | {len(allv)} | {ok} ({100*ok/len(allv):.0f} %) | {okf} ({100*okf/len(allv):.0f} %) | {st.median([float(r[2]) for r in allv]):.3f} | | {st.median([float(r[8]) for r in allv]):.3f} | {st.median(b):.3f} | | {st.median([float(r[9]) for r in allv if r[9] != '-']):.3f} | | |")
PY
echo
echo "Anchors, flags and names marked uncertain:"
echo
echo "| phantom | anchors | flags | uncertain names |"
echo "|---|---|---|---|"
cat "$WORK/flags.md"; rm -f "$WORK/flags.md"
echo
REAL=../shared/data/ct-totalseg
if [ -d "$REAL" ]; then
  echo "## Real CT: ct-totalseg/example_ct.nii.gz vs TotalSegmentator's totalseg.nii.gz"
  echo
  "$EXE" -q segment "$REAL/example_ct.nii.gz" -o "$WORK/real"
  echo "| case | level | Dice | centroid error mm | named right | reference voxels | body Dice | our label | matched Dice | matched body Dice |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  "$EVAL" "$WORK/real/vertebrae.nii.gz" "$REAL/spine_report/example_ct_report/totalseg.nii.gz" totalseg example_ct
  echo
  echo "(The reference labels only S1 of the sacrum and a 76-voxel sliver of T11 at the top edge.)"
else
  echo "../shared/data absent: real-CT rows skipped."
fi

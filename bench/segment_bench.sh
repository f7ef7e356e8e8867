#!/usr/bin/env bash
# Benchmark: the segment stage on the full-size phantom (sample_data/full_size.json,
# 512x512x608 at 0.8 mm), median of RUNS runs at 1 and 2 threads: the stage's own
# time (vertebrae.json "seconds"), the whole command's wall time and peak RSS.
# Input is an uncompressed NIfTI so that DICOM decoding is not counted; the
# outputs of the 1- and 2-thread runs are compared byte for byte.
# Usage: bench/segment_bench.sh [RUNS] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
B=${2:-build}
EXE=$B/pipeline/spinemet
WORK=${BENCH_WORK:-/tmp/spinemet-bench}
mkdir -p "$WORK" bench/results
[ -d "$WORK/full/dicom" ] || "$EXE" -q phantom sample_data/full_size.json -o "$WORK/full"
[ -f "$WORK/full.nii" ] || "$EXE" -q convert "$WORK/full/dicom" -o "$WORK/full.nii"
VOX_MB=$(python3 -c "import os; print(round((os.path.getsize('$WORK/full.nii') - 352) / 2**20))")
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
{
echo "| threads | segment stage s (median) | whole command s | peak RSS MB | runs |"
echo "|---|---|---|---|---|"
for t in 1 2; do
  : >"$WORK/s.txt"; : >"$WORK/w.txt"; : >"$WORK/m.txt"
  for i in $(seq "$RUNS"); do
    rm -rf "$WORK/seg$t"
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" env OMP_NUM_THREADS=$t "$EXE" -q segment "$WORK/full.nii" -o "$WORK/seg$t"
    python3 -c "import json; print(json.load(open('$WORK/seg$t/vertebrae.json'))['seconds'])" >>"$WORK/s.txt"
    read -r w m <"$WORK/time.txt"; echo "$w" >>"$WORK/w.txt"; echo "$m" >>"$WORK/m.txt"
  done
  printf "| %d | %.2f | %.2f | %.0f | %d |\n" "$t" "$(median <"$WORK/s.txt")" "$(median <"$WORK/w.txt")" \
    "$(awk -v m="$(median <"$WORK/m.txt")" 'BEGIN{print m/1024}')" "$RUNS"
done
cmp -s "$WORK/seg1/vertebrae.nii.gz" "$WORK/seg2/vertebrae.nii.gz" && cmp -s "$WORK/seg1/parts.nii.gz" "$WORK/seg2/parts.nii.gz" \
  && echo && echo "Label maps at 1 and 2 threads: byte-identical." || echo "Label maps at 1 and 2 threads DIFFER."
echo "Volume: $VOX_MB MB of int16 voxels; aim: peak RSS <= 3 x volume + 200 MB = $((3 * VOX_MB + 200)) MB, stage <= 10 s at 2 threads."
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%Y-%m-%d)"
} | tee bench/results/segment.md

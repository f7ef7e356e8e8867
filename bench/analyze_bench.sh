#!/usr/bin/env bash
# Benchmark: the whole `spinemet analyze` on the full-size phantom
# (sample_data/full_size.json: normal T1-S1, 512x512x608 at 0.8 mm) from its
# DICOM folder, writing every output (label maps, report.json/html/csv, key
# images, seg.dcm, sr.dcm). Median of RUNS runs at 1 and 2 threads of each
# stage (report.json "timings"), the wall time of the command and its peak
# RSS (GNU time). The report outputs of the 1- and 2-thread runs are compared
# byte for byte.
# Usage: bench/analyze_bench.sh [RUNS] [BUILD_DIR]    (writes bench/results/analyze.md)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
B=${2:-build}
EXE=$B/pipeline/spinemet
WORK=${BENCH_WORK:-/tmp/spinemet-bench}
mkdir -p "$WORK" bench/results
[ -d "$WORK/full/dicom" ] || "$EXE" -q phantom sample_data/full_size.json -o "$WORK/full"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
{
echo "| threads | load s | segment s | measure s | score s | report s | whole command s | peak RSS MB | runs |"
echo "|---|---|---|---|---|---|---|---|---|"
for t in 1 2; do
  for f in load segment measure score report wall rss; do : >"$WORK/$f.txt"; done
  for i in $(seq "$RUNS"); do
    rm -rf "$WORK/an$t"
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$EXE" -q analyze "$WORK/full/dicom" -o "$WORK/an$t" --threads "$t"
    for f in load segment measure score report; do
      python3 -c "import json; print(json.load(open('$WORK/an$t/report.json'))['timings']['${f}_s'])" >>"$WORK/$f.txt"
    done
    read -r w m <"$WORK/time.txt"; echo "$w" >>"$WORK/wall.txt"; echo "$m" >>"$WORK/rss.txt"
  done
  printf "| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f | %d |\n" "$t" "$(median <"$WORK/load.txt")" \
    "$(median <"$WORK/segment.txt")" "$(median <"$WORK/measure.txt")" "$(median <"$WORK/score.txt")" \
    "$(median <"$WORK/report.txt")" "$(median <"$WORK/wall.txt")" \
    "$(awk -v m="$(median <"$WORK/rss.txt")" 'BEGIN{print m/1024}')" "$RUNS"
done
same=1
for f in report.html report.csv seg.dcm sr.dcm keyimages/sagittal.png keyimages/coronal.png; do
  cmp -s "$WORK/an1/$f" "$WORK/an2/$f" || { echo; echo "$f DIFFERS between 1 and 2 threads."; same=0; }
done
[ $same = 1 ] && echo && echo "report.html, report.csv, seg.dcm, sr.dcm and key images at 1 and 2 threads: byte-identical."
echo "Input: $(ls "$WORK/full/dicom" | wc -l) DICOM slices ($(du -sm "$WORK/full/dicom" | cut -f1) MB). Aim: whole command < 20 s at 2 threads."
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%Y-%m-%d)"
} | tee bench/results/analyze.md

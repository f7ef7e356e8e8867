#!/usr/bin/env bash
# Benchmark: `spinemet batch` throughput in studies per hour, 1 job x all
# cores' threads vs 2 jobs x (cores/2) threads, on a ROOT of NSTUDIES phantom
# studies (T10-L5, 320x320 at 1.0 mm, 2 mm slices, a lytic L1; each with its
# own seed, so its own Study UID). Every run starts from an empty OUTDIR; the
# wall time of the whole batch (scan, children, cohort.csv) is what counts.
# The machine's load average before each run is recorded, because on a shared
# machine it moves the numbers. cohort.csv of the 1- and 2-job runs is
# compared (the analyses are deterministic, only the order of work differs).
# BENCH_SPEC=FILE uses another phantom spec (e.g. sample_data/full_size.json).
# Usage: bench/batch_bench.sh [NSTUDIES] [RUNS] [BUILD_DIR]   (writes bench/results/batch.md)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-6}
RUNS=${2:-1}
B=${3:-build}
EXE=$B/pipeline/spinemet
WORK=${BENCH_WORK:-/tmp/spinemet-batch-bench}
[ -n "${BENCH_SPEC:-}" ] && WORK=$WORK-$(basename "$BENCH_SPEC" .json)
CORES=$(nproc)
mkdir -p "$WORK" bench/results
SPEC='{"anatomy": {"from": "T10", "to": "L5"}, "scan": {"matrix": [320,320], "pixel_mm": 1.0, "slice_mm": 2.0},
 "vertebrae": {"L1": {"lesion": {"type": "lytic", "parts": ["body"], "body_extent_pct": 40}}}}'
if [ -n "${BENCH_SPEC:-}" ]; then cp "$BENCH_SPEC" "$WORK/spec.json"; else echo "$SPEC" >"$WORK/spec.json"; fi
for i in $(seq "$N"); do
  [ -d "$WORK/root/study$i" ] && continue
  "$EXE" -q phantom "$WORK/spec.json" -o "$WORK/gen$i" --seed "$i"
  mkdir -p "$WORK/root"
  mv "$WORK/gen$i/dicom" "$WORK/root/study$i"
  rm -rf "$WORK/gen$i"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
{
echo "| jobs | threads per job | studies | wall s (median of $RUNS) | studies per hour | load average before |"
echo "|---|---|---|---|---|---|"
for jobs in 1 2; do
  threads=$(( CORES / jobs > 1 ? CORES / jobs : 1 ))
  : >"$WORK/wall.txt"; loads=""
  for r in $(seq "$RUNS"); do
    rm -rf "$WORK/out$jobs"
    loads="$loads $(cut -d' ' -f1 /proc/loadavg)"
    t0=$(date +%s.%N)
    "$EXE" -q batch "$WORK/root" -o "$WORK/out$jobs" --jobs "$jobs" --threads "$threads"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l >>"$WORK/wall.txt"
  done
  w=$(median <"$WORK/wall.txt")
  printf "| %d | %d | %d | %.1f | %.0f |%s |\n" "$jobs" "$threads" "$N" "$w" "$(echo "$N * 3600 / $w" | bc -l)" "$loads"
done
echo
if cmp -s "$WORK/out1/cohort.csv" "$WORK/out2/cohort.csv"; then echo "cohort.csv: identical for 1 and 2 jobs."
else echo "cohort.csv DIFFERS between 1 and 2 jobs."; fi
echo "Machine: $CORES cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%F)"
echo "Command: ${BENCH_SPEC:+BENCH_SPEC=$BENCH_SPEC }bench/batch_bench.sh $N $RUNS $B"
} | tee bench/results/batch.md

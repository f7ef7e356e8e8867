#!/usr/bin/env bash
# Benchmark: `spinemet convert` against dcm2niix on the same large CT series,
# uncompressed and JPEG-lossless compressed, side by side in one run.
# Usage: bench/convert_bench.sh [RUNS]   (default 5 runs per tool and variant)
# Needs a built tree (build/) and the phantom command. Writes the table to
# stdout and to bench/results/convert.md; docs/benchmarks.md quotes it.
# Caches are warm (one discarded warm-up run per tool): this measures CPU work,
# not the disk.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
EXE=build/pipeline/spinemet
WORK=${BENCH_WORK:-/tmp/spinemet-bench}
mkdir -p "$WORK" bench/results
command -v dcm2niix >/dev/null || { echo "dcm2niix missing: run scripts/install-deps.sh"; exit 1; }

# 1. A full-size series (about 512x512x600) from the phantom generator.
if [ ! -d "$WORK/full/dicom" ]; then
  "$EXE" -q phantom sample_data/full_size.json -o "$WORK/full"
fi
# 2. The same series, JPEG lossless (process 14, SV1), by DCMTK's dcmcjpeg.
if [ ! -d "$WORK/full_jpll" ]; then
  mkdir -p "$WORK/full_jpll"
  for f in "$WORK"/full/dicom/*; do dcmcjpeg +e1 "$f" "$WORK/full_jpll/$(basename "$f")"; done
fi
NSL=$(ls "$WORK/full/dicom" | wc -l)

# run_one TOOL VARIANT THREADS -> "seconds peak_kb"
run_one() {
  local tool=$1 dir=$2 thr=$3 out="$WORK/out"
  rm -rf "$out"; mkdir -p "$out"
  if [ "$tool" = spinemet ]; then
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" env OMP_NUM_THREADS="$thr" "$EXE" -q convert "$dir" -o "$out/v.nii" >/dev/null
  else
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" dcm2niix -b n -z n -f v -o "$out" "$dir" >/dev/null
  fi
  cat "$WORK/time.txt"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

{
echo "| series | tool | threads | median wall s | peak RSS MB | runs |"
echo "|---|---|---|---|---|---|"
for variant in full full_jpll; do
  dir="$WORK/$variant"; [ "$variant" = full ] && dir="$WORK/full/dicom"
  for cfg in "dcm2niix 1" "spinemet 1" "spinemet 2"; do
    set -- $cfg
    run_one "$1" "$dir" "$2" >/dev/null   # warm-up
    : >"$WORK/t.txt"; : >"$WORK/m.txt"
    for i in $(seq "$RUNS"); do
      read -r t m < <(run_one "$1" "$dir" "$2")
      echo "$t" >>"$WORK/t.txt"; echo "$m" >>"$WORK/m.txt"
    done
    tm=$(median <"$WORK/t.txt"); mm=$(median <"$WORK/m.txt")
    echo "$variant $1 $2 $tm $mm" >>"$WORK/summary.txt.new"
    printf "| %s (%d slices) | %s | %s | %.2f | %.0f | %d |\n" "$variant" "$NSL" "$1" "$2" "$tm" "$(awk -v m="$mm" 'BEGIN{print m/1024}')" "$RUNS"
  done
done
echo
echo "Ratios (dcm2niix median / spinemet median, >1 means spinemet is faster):"
awk '{k=$1; if ($2=="dcm2niix") d[k]=$4; else s[k" "$3]=$4} END {for (x in s) {split(x,p," "); printf "- %s, spinemet %s thread(s): %.2fx\n", p[1], p[2], d[p[1]]/s[x]}}' "$WORK/summary.txt.new" | sort
rm -f "$WORK/summary.txt.new"
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%Y-%m-%d)"
} | tee bench/results/convert.md

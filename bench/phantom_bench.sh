#!/bin/sh
# phantom_bench.sh - wall time of the full-size phantom (512x512x~600) at 1 and
# 2 threads. Prints the render time (the generator itself, as logged) and the
# wall time of the whole command with and without writing the DICOM series.
# usage: bench/phantom_bench.sh [path/to/spinemet]   (default build/pipeline/spinemet)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build/pipeline/spinemet}
spec=$here/sample_data/full_size.json
out=$(mktemp -d "${TMPDIR:-/tmp}/phantom-bench-XXXXXX")
trap 'rm -rf "$out"' EXIT
for t in 1 2; do
    for mode in --no-dicom ""; do
        rm -rf "$out/o"
        s=$(date +%s.%N)
        OMP_NUM_THREADS=$t "$bin" phantom "$spec" -o "$out/o" $mode 2>"$out/log"
        e=$(date +%s.%N)
        render=$(sed -n 's/.*rendered in \([0-9.]*\) s.*/\1/p' "$out/log")
        printf 'threads=%s %-10s render=%ss wall=%.2fs\n' "$t" "${mode:-+dicom}" "$render" \
            "$(echo "$e - $s" | bc)"
    done
done

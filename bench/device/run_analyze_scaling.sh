#!/usr/bin/env bash
# The whole `spinemet analyze` on the full-size phantom at several thread
# counts on the lent 16-core machine (bundle from make_bundle.sh, carried
# along): per-stage medians of RUNS runs (report.json "timings"), the command's
# wall time and peak RSS (GNU time), then every output of each thread count
# compared byte for byte with the 1-thread run's (report.json without its
# "timings" block and vertebrae.json without its "seconds", which differ by
# design). A second build copied into the bundle as bin/spinemet_start (an
# earlier commit's) is run in turn with the current one, run for run, so both
# see the same machine.
# Usage (repo root, .devbundle carried):
#   bash .devbundle/run_analyze_scaling.sh [RUNS] [THREADS ...]   (default 3; 1 2 4 8 16)
set -u
RUNS=${1:-3}
shift || true
THREADS=${*:-1 2 4 8 16}
B=$(pwd)/.devbundle
export DCMDICTPATH=$B/dicom.dic
LDR="$B/lib/ld-linux-x86-64.so.2 --library-path $B/lib"
W=$(mktemp -d /tmp/analyze_scaling.XXXXXX) || exit 1
trap 'rm -rf "$W"' EXIT
R=${OUT:-/tmp}/analyze_scaling.md
BUILDS=spinemet
[ -x $B/bin/spinemet_start ] && BUILDS="spinemet_start spinemet"
med() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
timing() { grep -o "\"$1_s\":[[:space:]]*[0-9.e+-]*" "$2" | awk -F: '{print $2+0}'; }
strip() { sed -e '/"timings"/,/}/d' -e '/^[[:space:]]*"seconds":/d' "$1"; }
$LDR $B/bin/spinemet -q phantom $B/full_size.json -o $W/full --threads 16 || exit 1
{
echo "| build | threads | load s | segment s | measure s | score s | report s | whole command s | peak RSS MB | runs |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for t in $THREADS; do
  for b in $BUILDS; do : >$W/rows_$b.txt; done
  for i in $(seq "$RUNS"); do
    for b in $BUILDS; do
      o=$W/$b.$t; rm -rf $o
      $LDR $B/bin/time -f "%e %M" -o $W/t.txt $LDR $B/bin/$b -q analyze $W/full/dicom -o $o --threads $t \
        >/dev/null 2>$W/err.txt || { echo "$b analyze failed at $t threads:"; cat $W/err.txt; }
      j=$o/report.json
      echo "$(timing load $j) $(timing segment $j) $(timing measure $j) $(timing score $j) $(timing report $j) $(cat $W/t.txt)" >>$W/rows_$b.txt
    done
  done
  for b in $BUILDS; do
    lbl=current; [ $b = spinemet_start ] && lbl=start
    printf "| %s | %d" $lbl $t
    for c in 1 2 3 4 5 6; do printf " | %.2f" "$(awk -v c=$c '{print $c}' $W/rows_$b.txt | med)"; done
    printf " | %.0f | %d |\n" "$(awk '{print $7}' $W/rows_$b.txt | med | awk '{print $1/1024}')" "$RUNS"
  done
done
echo
first=${THREADS%% *}
for b in $BUILDS; do
  for t in $THREADS; do
    [ "$t" = "$first" ] && [ "$b" = spinemet ] && continue
    d=$(cd $W/spinemet.$first && find . -type f ! -name '*.json' | sort | while read -r f; do cmp -s "$f" "$W/$b.$t/$f" || echo "$f"; done)
    for f in report.json vertebrae.json; do cmp -s <(strip $W/spinemet.$first/$f) <(strip $W/$b.$t/$f) || d="$d $f"; done
    n=$(cd $W/spinemet.$first && find . -type f | wc -l)
    if [ -z "$d" ]; then echo "$b at $t threads: all $n output files byte-identical to spinemet at $first (JSON without timings)."
    else echo "$b at $t threads: DIFFER from spinemet at $first: $d"; fi
  done
done
echo "Input: $(ls $W/full/dicom | wc -l) DICOM slices. Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%Y-%m-%d)"
} 2>&1 | tee $R

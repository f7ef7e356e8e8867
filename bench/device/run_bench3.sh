#!/usr/bin/env bash
set -u
B=$(pwd)/.devbundle
export DCMDICTPATH=$B/dicom.dic
LDR="$B/lib/ld-linux-x86-64.so.2 --library-path $B/lib"
W=/tmp/bw; mkdir -p $W
med() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
run() { $LDR $B/bin/time -f "%e %M" -o $W/t.txt $LDR "$@" >/dev/null 2>&1; cat $W/t.txt; }
OMP_NUM_THREADS=16 $LDR $B/bin/spinemet -q phantom $B/full_size.json -o $W/full
{
for r in 1 2; do
  for i in 1 2 3 4 5; do rm -rf $W/o; mkdir $W/o; run $B/bin/dcm2niix -b n -z n -f v -o $W/o $W/full/dicom; done > $W/r.txt
  echo "round $r dcm2niix median s: $(awk '{print $1}' $W/r.txt | med) peak KB: $(awk '{print $2}' $W/r.txt | med)"
  for t in 1 2; do
    for i in 1 2 3 4 5; do OMP_NUM_THREADS=$t run $B/bin/spinemet -q convert $W/full/dicom -o $W/c.nii; done > $W/r.txt
    echo "round $r spinemet threads $t median s: $(awk '{print $1}' $W/r.txt | med) peak KB: $(awk '{print $2}' $W/r.txt | med)"
  done
done
} 2>&1 | tee ${OUT:-/tmp}/results3.txt

#!/usr/bin/env bash
set -u
B=$(pwd)/.devbundle
export DCMDICTPATH=$B/dicom.dic
LDR="$B/lib/ld-linux-x86-64.so.2 --library-path $B/lib"
W=/tmp/bw
med() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
run() { $LDR $B/bin/time -f "%e %M" -o $W/t.txt $LDR "$@" >/dev/null 2>&1; cat $W/t.txt; }
[ -d $W/full/dicom ] || { OMP_NUM_THREADS=16 $LDR $B/bin/spinemet -q phantom $B/full_size.json -o $W/full; mkdir -p $W/jpll; ls $W/full/dicom | xargs -P 16 -I{} $LDR $B/bin/dcmcjpeg +e1 $W/full/dicom/{} $W/jpll/{}; }
{
for v in full/dicom jpll; do
  for i in 1 2 3 4 5; do rm -rf $W/o; mkdir $W/o; run $B/bin/dcm2niix -b n -z n -f v -o $W/o $W/$v; done > $W/r.txt
  echo "dcm2niix $v median s: $(awk '{print $1}' $W/r.txt | med) peak KB: $(awk '{print $2}' $W/r.txt | med)"
  for t in 1 2; do
    for i in 1 2 3 4 5; do OMP_NUM_THREADS=$t run $B/bin/spinemet -q convert $W/$v -o $W/c.nii; done > $W/r.txt
    echo "spinemet $v threads $t median s: $(awk '{print $1}' $W/r.txt | med) peak KB: $(awk '{print $2}' $W/r.txt | med)"
  done
done
for t in 1 2 16; do
  for i in 1 2 3; do OMP_NUM_THREADS=$t run $B/bin/spinemet -q segment $W/c.nii -o $W/s$t; done > $W/r.txt
  echo "segment command (nii in) threads $t median s: $(awk '{print $1}' $W/r.txt | med) peak KB: $(awk '{print $2}' $W/r.txt | med)"
done
} 2>&1 | tee ${OUT:-/tmp}/results2.txt

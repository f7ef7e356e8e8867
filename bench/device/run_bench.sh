#!/usr/bin/env bash
# Prepared device benchmark: OpenMP scaling of convert / segment / phantom at
# 1-16 threads, with dcm2niix side by side. Run from the repo root on the device.
set -u
B=$(pwd)/.devbundle
export DCMDICTPATH=$B/dicom.dic
LDR="$B/lib/ld-linux-x86-64.so.2 --library-path $B/lib"
R=${OUT:-/tmp}/results.txt
W=/tmp/bw; rm -rf $W; mkdir -p $W
sm() { $LDR $B/bin/spinemet "$@"; }
tm() { $LDR $B/bin/time -f "%e %M" -o $W/t.txt $LDR "$@"; cat $W/t.txt; }
med() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
{
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
for t in 1 2 4 8 16; do
  rm -rf $W/ph; /usr/bin/env OMP_NUM_THREADS=$t bash -c "true"
  s=$(OMP_NUM_THREADS=$t tm $B/bin/spinemet -q phantom $B/full_size.json -o $W/ph --no-dicom)
  echo "phantom_nodicom threads $t: $s"
done
OMP_NUM_THREADS=16 sm -q phantom $B/full_size.json -o $W/full
mkdir -p $W/jpll; ls $W/full/dicom | xargs -P 16 -I{} $LDR $B/bin/dcmcjpeg +e1 $W/full/dicom/{} $W/jpll/{}
echo "slices: $(ls $W/full/dicom | wc -l), jpll files: $(ls $W/jpll | wc -l)"
for v in full/dicom jpll; do
  for i in 1 2 3; do rm -rf $W/o; mkdir $W/o; tm $B/bin/dcm2niix -b n -z n -f v -o $W/o $W/$v >/dev/null; done | awk '{print $1}' | med | sed "s|^|dcm2niix $v median s: |"
  for t in 1 2 4 8 16; do
    for i in 1 2 3; do OMP_NUM_THREADS=$t tm $B/bin/spinemet -q convert $W/$v -o $W/c.nii; done > $W/r.txt
    echo "spinemet convert $v threads $t median s: $(awk '{print $1}' $W/r.txt | med) peak KB: $(awk '{print $2}' $W/r.txt | med)"
  done
done
for t in 1 2 4 8 16; do
  for i in 1 2 3; do rm -rf $W/s$t; OMP_NUM_THREADS=$t tm $B/bin/spinemet -q segment $W/c.nii -o $W/s$t >/dev/null;
    python3 -c "import json; print(json.load(open('$W/s$t/vertebrae.json'))['seconds'])" 2>/dev/null || grep -o '"seconds": *[0-9.]*' $W/s$t/vertebrae.json; done > $W/r.txt
  echo "segment threads $t: $(tr '\n' ' ' < $W/r.txt)"
done
cmp $W/s1/vertebrae.nii.gz $W/s16/vertebrae.nii.gz && echo "segment labels identical at 1 and 16 threads"
} 2>&1 | tee $R

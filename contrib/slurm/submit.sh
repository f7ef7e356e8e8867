#!/usr/bin/env bash
# submit.sh - submits a whole cohort to Slurm: the array job
# (spinemet-array.sbatch, one shard per task) and the merge
# (spinemet-merge.sbatch) as a job that starts when the array has ended.
#
#   contrib/slurm/submit.sh ROOT OUT [SBATCH_OPTION...] [-- BATCH_OPTION...]
#
#   ROOT              folder tree of studies, readable from every node
#   OUT               shared output folder (created): OUT/shard-<task>/ per
#                     task, OUT/merged/cohort.csv + batch.json, OUT/slurm-*.out logs
#   SBATCH_OPTION...  options for the array job, e.g. --array=0-15%8
#                     --cpus-per-task=8 --mem=16G --time=8:00:00 --partition=cpu
#                     (they override the #SBATCH lines of spinemet-array.sbatch)
#   BATCH_OPTION...   after --: passed on to `spinemet batch` (--deidentify, ...)
#
# Environment:
#   SPINEMET           the spinemet binary (default: `spinemet` on PATH); made
#                      absolute and exported to both jobs
#   MERGE_SBATCH_OPTS  options for the merge job (word-split), e.g. "--partition=cpu"
#   SUBMIT_WAIT=1      wait for the merge to end (sbatch --wait) and exit with
#                      its exit code (0 every study done, 7 partial)
#   SBATCH_PARTITION, SBATCH_ACCOUNT, ... (sbatch's own variables) apply to both jobs
#
# Prints "array job ID" and "merge job ID". Example:
#   SPINEMET=$HOME/spinemet/build/pipeline/spinemet \
#     contrib/slurm/submit.sh /data/export /scratch/$USER/cohort --array=0-7 --cpus-per-task=4 --mem=8G
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "submit.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: submit.sh ROOT OUT [SBATCH_OPTION...] [-- BATCH_OPTION...]"
root=$(realpath -e "$1") || die "ROOT $1 does not exist"
mkdir -p "$2"
out=$(realpath -e "$2")
shift 2
sbatch_opts=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do sbatch_opts+=("$1"); shift; done
[ $# -gt 0 ] && shift # the --
SPINEMET=$(command -v "${SPINEMET:-spinemet}") || die "spinemet binary '${SPINEMET:-spinemet}' not found (set SPINEMET)"
SPINEMET=$(realpath "$SPINEMET")
export SPINEMET

array_id=$(sbatch --parsable --output="$out/slurm-%A_%a.out" "${sbatch_opts[@]}" \
    "$here/spinemet-array.sbatch" "$root" "$out" "$@")
array_id=${array_id%%;*} # "id;cluster" on multi-cluster setups
echo "array job $array_id: spinemet batch $root -> $out/shard-<task>"

wait_opt=()
[ "${SUBMIT_WAIT:-0}" = 1 ] && wait_opt=(--wait)
# shellcheck disable=SC2086 # MERGE_SBATCH_OPTS is a list of options
merge_id=$(sbatch --parsable "${wait_opt[@]}" --dependency="afterany:$array_id" --output="$out/slurm-%j-merge.out" \
    ${MERGE_SBATCH_OPTS:-} "$here/spinemet-merge.sbatch" "$out" | head -n1) &&
    rc=0 || rc=$?
echo "merge job ${merge_id%%;*}: spinemet merge $out/shard-* -> $out/merged (after job $array_id ends)"
exit "$rc"

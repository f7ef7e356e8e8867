#!/usr/bin/env bash
# run_slurm_test.sh - the contrib/slurm scripts on a real, single-node Slurm.
#
# Usage: tests/slurm/run_slurm_test.sh SPINEMET_BINARY
# Exit 0: passed. Exit 77: skipped (the reason is the last line, "SKIP: ...").
# Anything else: failed (the daemons' logs are printed).
#
# What it does (docs/batch.md, "Slurm"):
#  1. makes a temporary folder T and two private network namespaces joined by
#     a veth pair: the daemons' namespace (lo + 10.213.0.2/24) and a peer
#     namespace holding only the other end (10.213.0.1/24). slurmd needs an
#     address that is not loopback; neither namespace has a default route or
#     a link to a real interface, so nothing can leave the machine, and the
#     Slurm ports (6817/6818) cannot clash with anything outside;
#  2. writes a random munge key and a slurm.conf (one node, CPUs=2, every
#     state, spool, pid and log file under T) and starts munged, slurmctld and
#     slurmd in the daemons' namespace, as root, in the foreground (by pid);
#  3. generates 4 small phantom studies (T12-L2, 128x128) and one broken
#     file (a failing study) under T/root;
#  4. runs contrib/slurm/submit.sh: an `sbatch --array=0-2` of
#     spinemet-array.sbatch (3 shards) and the dependent spinemet-merge.sbatch
#     (afterany), waiting for the merge (sbatch --wait); checks that the
#     three tasks ran (two exit 0, the one holding the broken study exit 7),
#     each as its own shard, and that the merge ran anyway (exit 7);
#  5. runs a single-machine `spinemet batch` over the same root (exit 7 too)
#     and checks that the merged cohort.csv is byte-identical to its
#     cohort.csv and that the merged batch.json holds the same studies, 4
#     done and the broken one failed, no shard missing;
#  6. on exit (pass or fail) cancels the jobs, stops every process in the
#     namespace by pid, deletes both namespaces and T (KEEP=1 keeps T).
#
# Needs root, munge, slurm-wlm (slurmctld, slurmd, client) and iproute2
# (scripts/install-deps.sh). Skips without them. With CI=true, a root run
# that cannot create the namespaces fails instead of skipping.
set -euo pipefail

SPINEMET=${1:?usage: run_slurm_test.sh SPINEMET_BINARY}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
CONTRIB="$SRC/contrib/slurm"
T0=$(date +%s)

say() { printf '[slurm-test %3ds] %s\n' "$(($(date +%s) - T0))" "$*"; }
skip() { echo "SKIP: $*"; exit 77; }

# the daemons and ip live in /usr/sbin, which a CI shell's PATH may lack
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
[ "$(id -u)" = 0 ] || skip "not root (munged, slurmd and network namespaces need root)"
for b in munged slurmctld slurmd sbatch sinfo scontrol squeue scancel ip nsenter; do
    command -v "$b" >/dev/null 2>&1 || skip "$b not installed (scripts/install-deps.sh installs slurm-wlm, munge, iproute2)"
done
[ -x "$SPINEMET" ] || { echo "FAIL: $SPINEMET is not an executable" >&2; exit 1; }
SPINEMET=$(cd "$(dirname "$SPINEMET")" && pwd)/$(basename "$SPINEMET")

T=$(mktemp -d "${TMPDIR:-/tmp}/spinemet-slurm-XXXXXX")
chmod 0700 "$T"
tag=spm$$                      # names of the namespaces and veth ends (<= 15 chars)
NS=${tag}d PEER=${tag}p
ADDR=10.213.0.2 PEER_ADDR=10.213.0.1
NODE=$(hostname -s)
PIDS=()
ns_made=false

logs() {
    for f in "$T"/log/*.log "$T"/out/slurm-*.out; do
        [ -f "$f" ] || continue
        echo "---- $f (last 40 lines)"
        tail -n 40 "$f"
    done
}

cleanup() {
    rc=$?
    set +e
    exec 1>&3 2>&4 # a signal may arrive inside a redirected command
    if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then logs; fi
    if $ns_made; then
        # cancel what is still queued or running, then stop the daemons (and any
        # job step left) by pid: every process in the namespace was started here
        [ -f "$T/slurm.conf" ] && SLURM_CONF="$T/slurm.conf" timeout 5 nsenter --net="/run/netns/$NS" scancel --quiet --full \
            -u root >/dev/null 2>&1
        for p in "${PIDS[@]}" $(ip netns pids "$NS" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
        for _ in $(seq 50); do
            [ -z "$(ip netns pids "$NS" 2>/dev/null)" ] && break
            sleep 0.1
        done
        for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done # reap the daemons
        ip netns del "$NS" 2>/dev/null
        ip netns del "$PEER" 2>/dev/null
        ip link del "${tag}a" 2>/dev/null # only there when moving it into $NS failed
    fi
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
    exit "$rc"
}
exec 3>&1 4>&2
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. network namespaces ---------------------------------------------------
if ! { ip netns add "$NS" && ns_made=true && ip netns add "$PEER" &&
       ip link add "${tag}a" type veth peer name "${tag}b" &&
       ip link set "${tag}a" netns "$NS" && ip link set "${tag}b" netns "$PEER" &&
       ip -n "$NS" addr add "$ADDR/24" dev "${tag}a" && ip -n "$PEER" addr add "$PEER_ADDR/24" dev "${tag}b" &&
       ip -n "$NS" link set lo up && ip -n "$NS" link set "${tag}a" up && ip -n "$PEER" link set "${tag}b" up; } 2>"$T/netns.err"
then
    msg="cannot create a network namespace with a veth pair: $(tr '\n' ' ' <"$T/netns.err")"
    if [ "${CI:-}" = true ]; then echo "FAIL: $msg (CI=true: a root CI run must run this test)" >&2; exit 1; fi
    skip "$msg"
fi
if ip -n "$NS" route show default | grep -q .; then echo "FAIL: the namespace has a default route" >&2; exit 1; fi
# nsenter --net enters only the network namespace (`ip netns exec` also
# remounts /sys)
in_ns() { nsenter --net="/run/netns/$NS" "$@"; }
# the daemons are started as `nsenter ... DAEMON &` directly (nsenter execs it),
# not through in_ns, so that $! is the daemon's own pid
say "namespace $NS: lo + ${tag}a $ADDR/24 (peer $PEER_ADDR in $PEER), no default route"

# ---- 2. munge + Slurm ----------------------------------------------------------
mkdir -p "$T"/{munge,log,state,spool,run,root,out,gen,cgroup}
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 0600 "$T/munge/munge.key"
MUNGE_SOCKET="$T/munge/munge.socket"
# --force: run as root and accept /tmp's permissions
nsenter --net="/run/netns/$NS" munged --foreground --force --socket="$MUNGE_SOCKET" --key-file="$T/munge/munge.key" \
    --log-file="$T/log/munged.log" --pid-file="$T/run/munged.pid" --seed-file="$T/munge/munged.seed" \
    >"$T/log/munged.stdout.log" 2>&1 &
PIDS+=($!)

export SLURM_CONF="$T/slurm.conf"
cat >"$SLURM_CONF" <<EOF
# single-node test cluster of tests/slurm/run_slurm_test.sh
ClusterName=spinemettest
SlurmctldHost=$NODE($ADDR)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DependencyParameters=kill_invalid_depend
ReturnToService=2
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/run/slurmctld.pid
SlurmdPidFile=$T/run/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=600
NodeName=$NODE NodeAddr=$ADDR NodeHostname=$NODE CPUs=2 RealMemory=2000 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=30 State=UP
EOF
# slurmd 22.05 loads a cgroup plugin whatever the task and proctrack plugins
# are, and autodetect fails or needs systemd on many hosts (cgroup v2 in a
# container, read-only /sys/fs/cgroup). Nothing here uses cgroups
# (proctrack/linuxproc, task/none, no accounting), so: the v1 plugin on an
# empty folder of T; slurmd never touches the host's cgroups
cat >"$T/cgroup.conf" <<EOF
CgroupPlugin=cgroup/v1
CgroupMountpoint=$T/cgroup
EOF

for _ in $(seq 50); do [ -S "$MUNGE_SOCKET" ] && break; sleep 0.1; done
[ -S "$MUNGE_SOCKET" ] || { echo "FAIL: munged did not start" >&2; exit 1; }
nsenter --net="/run/netns/$NS" slurmctld -D -i -f "$SLURM_CONF" >"$T/log/slurmctld.stdout.log" 2>&1 &
PIDS+=($!)
nsenter --net="/run/netns/$NS" slurmd -D -N "$NODE" -f "$SLURM_CONF" >"$T/log/slurmd.stdout.log" 2>&1 &
PIDS+=($!)

state=
for _ in $(seq 120); do
    state=$(in_ns sinfo -h -N -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.5
done
[ "$state" = idle ] || { echo "FAIL: node not idle after 60 s (sinfo: '$state')" >&2; exit 1; }
say "munged, slurmctld, slurmd up; node $NODE idle"

# ---- 3. phantom studies ---------------------------------------------------------
NSTUDIES=4
for i in $(seq 0 $((NSTUDIES - 1))); do
    printf '{"anatomy":{"from":"T12","to":"L2"},"scan":{"matrix":[128,128],"pixel_mm":2.0,"slice_mm":3.0},"patient":{"id":"PAT%d"}}' \
        "$i" >"$T/gen/spec$i.json"
    "$SPINEMET" -q phantom "$T/gen/spec$i.json" -o "$T/gen/p$i" --seed $((i + 1)) --threads 1
    mkdir -p "$T/root/site$((i % 2))"
    mv "$T/gen/p$i/dicom" "$T/root/site$((i % 2))/study$i"
done
# and one study that fails (not a NIfTI volume): its shard's task exits 7,
# and the merge must still run (afterany) and report it
echo 'not a volume' >"$T/root/site1/broken.nii.gz"
say "$NSTUDIES phantom studies and a broken one under $T/root"

# ---- 4. the array job and the dependent merge, through the shipped scripts -------
set +e
SPINEMET="$SPINEMET" SUBMIT_WAIT=1 MERGE_SBATCH_OPTS="--mem=200 --time=5" \
    in_ns "$CONTRIB/submit.sh" "$T/root" "$T/out" --array=0-2 --cpus-per-task=1 --mem=500 --time=10 \
    >"$T/log/submit.log" 2>&1 &
wait $! # in the background, so that a signal stops the test at once
merge_rc=$?
set -e
cat "$T/log/submit.log"
[ "$merge_rc" = 7 ] || { echo "FAIL: submit.sh (merge job) exited $merge_rc, expected 7 (one study failed)" >&2; exit 1; }
array_id=$(sed -n 's/^array job \([0-9]*\).*/\1/p' "$T/log/submit.log")
[ -n "$array_id" ] || { echo "FAIL: submit.sh did not print the array job id" >&2; exit 1; }
say "array job $array_id and its merge finished"

# every task of the array ran: two with exit 0, the one holding the broken
# study with 7; each wrote its own shard
tasks=$(in_ns scontrol -o show job "$array_id" | grep -o 'JobState=[A-Z]* .*ExitCode=[0-9:]*' |
    sed 's/^JobState=\([A-Z]*\) .*ExitCode=\([0-9:]*\)$/\1 \2/' | sort | uniq -c | awk '{printf "%s %s %s; ", $1, $2, $3}')
echo "array tasks (count state exit): $tasks"
[ "$tasks" = "2 COMPLETED 0:0; 1 FAILED 7:0; " ] ||
    { echo "FAIL: expected 2 tasks COMPLETED 0:0 and 1 FAILED 7:0" >&2; exit 1; }
for i in 0 1 2; do
    grep -q "\"shard\":[[:space:]]*\"$i/3\"" "$T/out/shard-$i/batch.json" ||
        { echo "FAIL: $T/out/shard-$i/batch.json is not shard $i/3" >&2; exit 1; }
done

# ---- 5. the same cohort on one machine ------------------------------------------
# --threads 1 as in the array tasks (SPINEMET_THREADS' default), so both run
# the same arithmetic
rc=0
"$SPINEMET" -q batch "$T/root" -o "$T/single" --jobs 2 --threads 1 || rc=$?
[ "$rc" = 7 ] || { echo "FAIL: single batch exited $rc, expected 7 (one study failed)" >&2; exit 1; }
say "single-machine batch done"

ids() { grep -o '"id":[[:space:]]*"[0-9a-f]*"' "$1" | tr -d " \t" | sort; }
[ "$(ids "$T/single/batch.json" | wc -l)" = $((NSTUDIES + 1)) ] || { echo "FAIL: single batch.json" >&2; exit 1; }
[ "$(ids "$T/out/merged/batch.json")" = "$(ids "$T/single/batch.json")" ] ||
    { echo "FAIL: merged batch.json holds other studies than the single batch" >&2; exit 1; }
grep -q '"missing_shards":[[:space:]]*0' "$T/out/merged/batch.json" || { echo "FAIL: merge reports missing shards" >&2; exit 1; }
grep -q '"ok":[[:space:]]*'"$NSTUDIES" "$T/out/merged/batch.json" || { echo "FAIL: merged batch.json: not $NSTUDIES studies ok" >&2; exit 1; }
[ "$(grep -c '"status":[[:space:]]*"failed"' "$T/out/merged/batch.json")" = 1 ] ||
    { echo "FAIL: merged batch.json: the broken study is not the one failed study" >&2; exit 1; }
rows=$(($(wc -l <"$T/single/cohort.csv") - 1))
[ "$rows" = $((NSTUDIES * 3)) ] || { echo "FAIL: single cohort.csv has $rows rows, expected $((NSTUDIES * 3))" >&2; exit 1; }
if ! cmp "$T/single/cohort.csv" "$T/out/merged/cohort.csv"; then
    diff "$T/single/cohort.csv" "$T/out/merged/cohort.csv" | head -20
    echo "FAIL: merged cohort.csv differs from the single-machine cohort.csv" >&2
    exit 1
fi
say "PASS: merged cohort.csv of 3 Slurm array tasks is byte-identical to the single batch ($NSTUDIES studies done, 1 failed, $rows rows)"

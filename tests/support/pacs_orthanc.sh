#!/bin/sh
# pacs_orthanc.sh - `spinemet pull` / `push` against a real Orthanc with the
# DICOMweb plugin. tests/test_pacs.c runs it inside a private network
# namespace (`unshare -n`), so Orthanc, which listens on every interface,
# can only be reached over this namespace's loopback and no traffic can
# leave the machine. Orthanc is stopped by its pid on any exit.
#
# usage: unshare -n sh pacs_orthanc.sh WORKDIR SPINEMET PLUGIN.so
# Exits 0 when every step passed; otherwise prints "FAIL: step" with the
# command's output and the tail of Orthanc's log, and exits 1.
set -u
PATH=$PATH:/usr/sbin:/sbin # Orthanc and ip live there
W=$1 S=$2 PLUGIN=$3
PORT=8042
U=http://127.0.0.1:$PORT/dicom-web
AUTH=spinemet:test-password
OPID=

cleanup() {
    if [ -n "$OPID" ]; then
        kill "$OPID" 2>/dev/null
        wait "$OPID" 2>/dev/null
        OPID=
    fi
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM HUP

fail() {
    echo "pacs_orthanc: FAIL: $*"
    [ -f "$W/out.txt" ] && sed 's/^/  | /' "$W/out.txt" | tail -n 30
    [ -f "$W/orthanc.log" ] && echo "  Orthanc log (tail):" && tail -n 15 "$W/orthanc.log" | sed 's/^/  | /'
    exit 1
}
step() { echo "pacs_orthanc: $*"; }

# Runs spinemet with a time limit, output in $W/out.txt; sets RC.
sm() {
    timeout 120 "$S" "$@" >"$W/out.txt" 2>&1
    RC=$?
}
expect_rc() { [ "$RC" -eq "$1" ] || fail "$2: exit $RC, expected $1"; }
expect_out() { grep -q -- "$1" "$W/out.txt" || fail "$2: output lacks '$1'"; }

# Sorted checksums of the files in a folder: same content, whatever the names.
sums() { (cd "$1" && md5sum -- * | cut -d' ' -f1 | sort); }

# ---- the namespace and the server ----------------------------------------
ip link set lo up || fail "cannot bring up lo"
[ "$(ip -o link | wc -l)" -eq 1 ] || fail "not a private network namespace: $(ip -o link | cut -d: -f2 | tr '\n' ' ')"

mkdir -p "$W/orthanc-db" || fail "mkdir"
cat >"$W/orthanc.json" <<EOF
{
  "Name": "spinemet-test",
  "StorageDirectory": "$W/orthanc-db",
  "IndexDirectory": "$W/orthanc-db",
  "HttpPort": $PORT,
  "DicomPort": 4242,
  "RemoteAccessAllowed": true,
  "AuthenticationEnabled": true,
  "RegisteredUsers": { "spinemet": "test-password" },
  "Plugins": [ "$PLUGIN" ],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/" }
}
EOF
Orthanc "$W/orthanc.json" >"$W/orthanc.log" 2>&1 &
OPID=$!
t=0
until curl -s -f -u "$AUTH" -o /dev/null "http://127.0.0.1:$PORT/system"; do
    kill -0 "$OPID" 2>/dev/null || { OPID=; fail "Orthanc exited at start"; }
    t=$((t + 1))
    [ $t -le 300 ] || fail "Orthanc did not answer within 30 s"
    sleep 0.1
done
step "Orthanc (pid $OPID) answers on 127.0.0.1:$PORT after ~$((t / 10)) s"

# ---- a small phantom study -----------------------------------------------
printf '%s' '{"anatomy":{"from":"T12","to":"L2"},"scan":{"matrix":[128,128],"pixel_mm":2.0,"slice_mm":3.0},"patient":{"id":"PACS-TEST-1"}}' >"$W/spec.json"
sm -q phantom "$W/spec.json" -o "$W/gen" --threads 1
expect_rc 0 "phantom"
N=$(ls "$W/gen/dicom" | wc -l)
STUDY=$("$S" scan "$W/gen/dicom" --json | sed -n 's/.*"study_uid":[[:space:]]*"\([0-9.]*\)".*/\1/p' | head -n 1)
[ -n "$STUDY" ] || fail "no study UID from spinemet scan"
step "phantom: $N slices, study $STUDY"

# ---- push ----------------------------------------------------------------
sm push "$U" "$W/gen/dicom"
expect_rc 2 "push without credentials"
expect_out "HTTP 401" "push without credentials"

sm push "$U" "$W/gen/dicom" --user "$AUTH"
expect_rc 0 "push of the phantom"
expect_out "$N files: $N stored, 0 failed" "push of the phantom"
step "push: $N files stored"

# ---- pull by Study UID, byte for byte ----------------------------------
SPINEMET_DICOMWEB_USER=$AUTH sm pull "$U" -o "$W/p1" --study "$STUDY"
expect_rc 0 "pull --study (credentials from the environment)"
ID=$(ls "$W/p1")
if [ "$(echo "$ID" | wc -w)" -ne 1 ] || ! echo "$ID" | grep -q '^[0-9a-f]\{16\}$'; then
    fail "pull --study: folders in p1: $ID"
fi
[ "$(ls "$W/p1/$ID" | wc -l)" -eq "$N" ] || fail "pull --study: $(ls "$W/p1/$ID" | wc -l) files, expected $N"
[ "$(sums "$W/gen/dicom")" = "$(sums "$W/p1/$ID")" ] || fail "pull --study: files differ from the originals"
ls "$W/p1/$ID" | grep -qv '^[0-9.]*\.dcm$' && fail "pull --study: a file not named <SOP Instance UID>.dcm"
step "pull --study: $N files identical to the originals in p1/$ID"

# ---- pull by a QIDO query; resume; no match --------------------------------
sm pull "$U" -o "$W/p2" --user "$AUTH" --patient-id PACS-TEST-1 --modality CT --study-date 19990101-20011231
expect_rc 0 "pull by query"
[ "$(sums "$W/gen/dicom")" = "$(sums "$W/p2/$ID")" ] || fail "pull by query: files differ from the originals"
grep -q PACS-TEST-1 "$W/out.txt" && fail "pull by query: the Patient ID appears in the log"
sm pull "$U" -o "$W/p2" --user "$AUTH" --patient-id PACS-TEST-1 --modality CT
expect_rc 0 "pull by query again"
expect_out "1 already present" "pull by query again"
sm pull "$U" -o "$W/p2" --user "$AUTH" --patient-id NOBODY-HERE
expect_rc 3 "pull with a query that matches nothing"
expect_out "no study matches" "pull with a query that matches nothing"
step "pull by query: same files; rerun skips the study; no match -> exit 3"

# ---- analyze, push SEG and SR, find them by QIDO ---------------------------
sm -q analyze "$W/p1/$ID" -o "$W/out" --threads 1
expect_rc 0 "analyze of the pulled study"
sm push "$U" "$W/out" --user "$AUTH"
expect_rc 0 "push of analyze's folder"
expect_out "2 files: 2 stored, 0 failed" "push of analyze's folder"
curl -s -f -u "$AUTH" -H 'Accept: application/dicom+json' "$U/studies/$STUDY/series" >"$W/out.txt" || fail "QIDO series"
for m in CT SEG SR; do
    grep -q "\"$m\"" "$W/out.txt" || fail "QIDO series of the study: no $m series"
done
step "push of analyze's output: SEG and SR series now in the study"

sm push "$U" "$W/out/seg.dcm" "$W/out/report.json" --user "$AUTH"
expect_rc 7 "push of a DICOM and a non-DICOM file"
expect_out "report.json: not sent" "push of a DICOM and a non-DICOM file"

# ---- failures: a missing study, nothing listening ---------------------------
sm pull "$U" -o "$W/p3" --user "$AUTH" --study "$STUDY" --study 1.2.826.0.1.3680043.99999
expect_rc 7 "pull of a present and a missing study"
expect_out "HTTP 404" "pull of a present and a missing study"
[ "$(ls "$W/p3/$ID" | wc -l)" -eq $((N + 2)) ] || fail "pull of a present and a missing study: $(ls "$W/p3/$ID" | wc -l) files, expected $((N + 2))"

t0=$(date +%s)
sm pull http://127.0.0.1:9/dicom-web -o "$W/p4" --study "$STUDY" --study 1.2.826.0.1.3680043.99999 --timeout 5
expect_rc 2 "pull from a port nothing listens on"
expect_out "127.0.0.1:9/dicom-web" "pull from a port nothing listens on"
expect_out "connect" "pull from a port nothing listens on"
expect_out "the other 1 studies are not tried" "pull from a port nothing listens on"
sm pull http://127.0.0.1:9/dicom-web -o "$W/p4" --modality CT --timeout 5
expect_rc 2 "search on a port nothing listens on"
sm push http://127.0.0.1:9/dicom-web "$W/out" --timeout 5
expect_rc 2 "push to a port nothing listens on"
[ $(($(date +%s) - t0)) -le 15 ] || fail "unreachable server: took $(($(date +%s) - t0)) s"
ls -A "$W/p3" "$W/p4" | grep -q partial && fail "a .partial folder was left behind"
step "missing study -> exit 7; nothing listening -> exit 2 at once"

P=$OPID
cleanup
kill -0 "$P" 2>/dev/null && fail "Orthanc (pid $P) still running after kill"
step "all passed; Orthanc stopped"
exit 0

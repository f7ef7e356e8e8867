#!/usr/bin/env bash
# Installs the Debian 12 packages spinemet needs to build, test and benchmark.
# Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config          # toolchain
  libdcmtk-dev dcmtk                        # DICOM read/decode/write (+ dcmdump etc. for tests)
  libniftiio-dev                            # NIfTI-1 I/O (nifti_clib)
  libinsighttoolkit5-dev                    # ITK 5: the binary closing in segment/itk_shim.cpp
  libopenjp2-7-dev                          # JPEG 2000 decoding (DCMTK has none)
  libcjson-dev libpng-dev zlib1g-dev        # JSON, PNG, zlib
  libcriterion-dev                          # tests
  dicom3tools                               # dciodvfy: validates our DICOM output in tests
  dcm2niix time                             # the reference converter and GNU time, for bench/
  chromium                                  # headless rendering check of report.html in tests
  libcurl4-openssl-dev                      # DICOMweb client (spinemet pull/push)
  libssl-dev                                # libcrypto SHA-256/HMAC: the --deidentify UID mapping
  orthanc orthanc-dicomweb                  # a real PACS for the pull/push tests (run in a netns)
  slurm-wlm munge                           # single-node Slurm for the sbatch --array test (netns)
  iproute2 util-linux                       # ip/unshare: private network namespaces for those tests
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

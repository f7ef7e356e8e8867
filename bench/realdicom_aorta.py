#!/usr/bin/python3
"""Contrast aorta in the vertebra labels of the real PET/CT series.

Segments ../shared/data/ct-totalseg/example_ct_dicom with spinemet and counts
our vertebra-labelled voxels that the reference label map
example_seg_dicom.nii.gz calls aorta (TotalSegmentator "total" 52), and the
reference T11/T12 voxels we label. The reference stores its rows in the other
order, so it is put on our grid through both affines. Needs numpy and nibabel.
Usage: bench/realdicom_aorta.py [BUILD_DIR]
"""
import os
import subprocess
import sys
import tempfile

import nibabel as nib
import numpy as np

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build")
data = os.path.join(root, "..", "shared", "data", "ct-totalseg")
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([os.path.join(build, "pipeline", "spinemet"), "-q", "segment",
                    os.path.join(data, "example_ct_dicom"), "-o", tmp], check=True)
    ours = nib.load(os.path.join(tmp, "vertebrae.nii.gz"))
    lab = np.asarray(ours.dataobj)
    ref = nib.load(os.path.join(data, "example_seg_dicom.nii.gz"))
    # our voxel -> reference voxel (same voxel centres, other storage order)
    m = np.linalg.inv(ref.affine) @ ours.affine
    idx = np.indices(lab.shape).reshape(3, -1)
    rv = np.rint(m[:3, :3] @ idx + m[:3, 3:4]).astype(int)
    refl = np.asarray(ref.dataobj)[rv[0], rv[1], rv[2]].reshape(lab.shape)
    print(f"aorta voxels labelled as vertebra: {int(((lab > 0) & (refl == 52)).sum())} "
          f"of {int((refl == 52).sum())}; reference T11/T12 voxels labelled: "
          f"{int(((lab > 0) & ((refl == 32) | (refl == 33))).sum())} of {int(((refl == 32) | (refl == 33)).sum())}")

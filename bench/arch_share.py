#!/usr/bin/python3
"""Share of each vertebra's arch labelled with its own level, end to end.

Reads a bench/accuracy_score.sh work folder (default /tmp/spinemet_accuracy_score):
for every phantom with end_to_end/vertebrae.nii.gz, the truth's lamina,
spinous-process and articular-process voxels (phantom parts 4, 5, 6, 9, 10) of
each level, and the share of them carrying the label our segmentation gave that
level's body (the label most of the truth body's voxels carry). Prints per
level: all / laminae / spinous / articular, then the mean over all levels.
Needs numpy and nibabel (a developer's /usr/bin/python3 with python3-nibabel).
Usage: bench/arch_share.py [WORK_DIR] [SPEC...]
"""
import os
import sys

import nibabel as nib
import numpy as np

work = sys.argv[1] if len(sys.argv) > 1 else '/tmp/spinemet_accuracy_score'
specs = sys.argv[2:] or sorted(os.listdir(work))
shares = []
for s in specs:
    d = os.path.join(work, s)
    ours = os.path.join(d, 'end_to_end', 'vertebrae.nii.gz')
    if not os.path.exists(ours) or not os.path.exists(os.path.join(d, 'truth_parts.nii.gz')):
        continue
    tv = np.asarray(nib.load(os.path.join(d, 'truth_vertebrae.nii.gz')).dataobj)
    tp = np.asarray(nib.load(os.path.join(d, 'truth_parts.nii.gz')).dataobj)
    ov = np.asarray(nib.load(ours).dataobj)
    row = []
    for t in range(1, 26):
        arch = (tv == t) & np.isin(tp, (4, 5, 6, 9, 10))
        if arch.sum() < 100:
            continue
        labs, counts = np.unique(ov[(tv == t) & (tp == 1)], return_counts=True)
        if not len(labs) or labs[np.argmax(counts)] == 0:
            continue
        own = labs[np.argmax(counts)]
        part = [(ov[arch & np.isin(tp, p)] == own).mean() for p in ((4, 5), (6,), (9, 10))]
        share = (ov[arch] == own).mean()
        shares.append(share)
        row.append(f'{t}:{share:.2f}/{part[0]:.2f}/{part[1]:.2f}/{part[2]:.2f}')
    print(s, ' '.join(row))
if shares:
    print(f'levels {len(shares)}, mean share {np.mean(shares):.3f}, min {np.min(shares):.2f}')

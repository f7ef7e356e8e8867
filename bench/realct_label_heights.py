#!/usr/bin/python3
"""The imported label's own extent along spinemet's measuring lines.

For each vertebra of report.json with heights, walk its anterior / middle /
posterior measuring line (evidence.heights.lines_lps, LPS mm) in 0.1 mm steps
from its midpoint outwards through the label map (nearest voxel) and report
the length of the run that keeps the vertebra's label: the height the mask
alone gives on the same line, without spinemet's HU edge refinement. This
separates a difference in method (where on the body, which axis) from a
difference in the mask. Needs numpy and nibabel (Debian: python3-nibabel).
Usage: realct_label_heights.py REPORT_JSON LABELS_NII TOTALSEG_MAP_JSON
Prints JSON {level: [anterior, middle, posterior]}.
"""
import json
import sys

import nibabel as nib
import numpy as np

rep = json.load(open(sys.argv[1]))
img = nib.load(sys.argv[2])
lab = np.asarray(img.dataobj)
inv = np.linalg.inv(img.affine)
# VerSe-style level name -> label value in the map (TotalSegmentator "total": L5 = 27 ... T12 = 32)
names = json.load(open(sys.argv[3]))["total"]
value = {v: int(k) for k, v in names.items()}


def label_at(p_lps):
    ras = np.array([-p_lps[0], -p_lps[1], p_lps[2], 1.0])
    i, j, k = np.rint(inv @ ras)[:3].astype(int)
    if not (0 <= i < lab.shape[0] and 0 <= j < lab.shape[1] and 0 <= k < lab.shape[2]):
        return None
    return int(lab[i, j, k])


out = {}
for v in rep["vertebrae"]:
    lines = (v.get("evidence", {}).get("heights", {}) or {}).get("lines_lps")
    want = value.get(v["level"]) or value.get("vertebrae_" + v["level"])
    if not lines or want is None:
        continue
    hs = []
    for side in ("anterior", "middle", "posterior"):
        a, b = (np.array(p, float) for p in lines[side])
        mid, u = (a + b) / 2, (b - a) / np.linalg.norm(b - a)
        ext = []
        for sgn in (-1, 1):
            t = 0.0
            while t < 60 and label_at(mid + sgn * (t + 0.1) * u) == want:
                t += 0.1
            ext.append(t)
        hs.append(round(sum(ext), 1))
    out[v["level"]] = hs
print(json.dumps(out))

#!/usr/bin/env python3
"""rule_surveys.py - the measurements behind two session-20 rules
(docs/scoring.md), read from the seed survey's phantoms and our end-to-end
outputs (bench/seed_survey.sh work folder: SPEC_SEED/{truth.json,
end_to_end/{report.json,vertebrae.json,vertebrae.nii.gz,parts.nii.gz},
ct.nii.gz}).
  bench/rule_surveys.py pedicles WORK [MAX_SEED]   sclerotic-pedicle rule
  bench/rule_surveys.py fragments WORK [MAX_SEED]  fragment at the column's end
MAX_SEED keeps the seeds the rule was chosen on (149 and 173 in session 20).
pedicles: per level and side, the share of our pedicle voxels (parts map)
above the report's blastic threshold minus the median of the same side at up
to two levels each side (sacrum left out, >= 20 voxels each), and the
voxel count against theirs; normal sides against involved ones (truth).
fragments: the first level's voxels against the second's and its centre's
distance against the second-to-third spacing; levels the phantom lacks
against real ones. Needs python3-nibabel and numpy (pedicles only)."""
import glob, json, os, sys


def seed_dirs(work, max_seed):
    for d in sorted(glob.glob(os.path.join(work, '*_*/'))):
        d = d.rstrip('/')
        try:
            seed = int(d.rsplit('_', 1)[1])
        except ValueError:
            continue
        if seed <= max_seed and os.path.exists(f'{d}/end_to_end/report.json'):
            yield d


def median(a):
    a = sorted(a)
    n = len(a)
    return (a[n // 2] if n % 2 else 0.5 * (a[n // 2 - 1] + a[n // 2])) if n else float('nan')


def pedicles(work, max_seed):
    import nibabel as nib
    import numpy as np
    normal, involved = [], []
    for d in seed_dirs(work, max_seed):
        ct = np.asarray(nib.load(f'{d}/ct.nii.gz').dataobj)
        ev = np.asarray(nib.load(f'{d}/end_to_end/vertebrae.nii.gz').dataobj)
        ep = np.asarray(nib.load(f'{d}/end_to_end/parts.nii.gz').dataobj)
        verts = json.load(open(f'{d}/end_to_end/vertebrae.json'))['vertebrae']
        thr = json.load(open(f'{d}/end_to_end/report.json'))['thresholds']['blastic_above_hu']
        truth = {v['name']: v for v in json.load(open(f'{d}/truth.json'))['vertebrae']}
        sides = []  # per level: [(voxels, dense share) left, right], None under 20 voxels or sacrum
        for v in verts:
            m = ev == v['label']
            row = []
            for part in (2, 3):
                p = m & (ep == part)
                n = int(p.sum())
                row.append((n, float((ct[p] > thr).mean())) if n >= 20 and v['label'] != 26 else None)
            sides.append(row)
        for k, v in enumerate(verts):
            t = truth.get(v['level'])
            if v['label'] == 26 or t is None:
                continue
            les = t['lesion']
            for s in (0, 1):
                own = sides[k][s]
                nb = [sides[j][s] for j in range(k - 2, k + 3) if j != k and 0 <= j < len(verts) and sides[j][s]]
                if own is None or len(nb) < 2:
                    continue
                excess = own[1] - median([x[1] for x in nb])
                size = own[0] / median([x[0] for x in nb])
                inv = bool(les and les['posterolateral'][('left', 'right')[s]])
                rec = (excess, size, os.path.basename(d), v['level'], 'LR'[s], les['character'] if les else 'none')
                (involved if inv else normal).append(rec)
    big = [x for x in normal if x[1] >= 0.5]
    at_les = [x for x in big if x[5] != 'none']
    print(f'normal sides {len(normal)}, with >= 0.5 x the neighbours\' voxels {len(big)}: '
          f'{sum(x[0] >= 0.2 for x in big)} at >= 0.20 over, max {max(x[0] for x in big):.2f}')
    print(f'  below 0.5 x their voxels: max {max((x[0] for x in normal if x[1] < 0.5), default=float("nan")):.2f}')
    print(f'  at lesion levels: {len(at_les)}, max {max(x[0] for x in at_les):.2f} '
          f'({max(at_les)[2]} {max(at_les)[3]} {max(at_les)[4]})')
    print(f'involved sides {len(involved)}; by lesion character and level:')
    groups = {}
    for x in involved:
        groups.setdefault((x[5], x[3]), []).append(x)
    for (ch, lev), xs in sorted(groups.items()):
        print(f'  {ch} {lev}: {len(xs)} sides, excess {min(x[0] for x in xs):+.2f} to {max(x[0] for x in xs):+.2f}, '
              f'{sum(x[0] >= 0.2 and x[1] >= 0.5 for x in xs)} meet the rule')


def fragments(work, max_seed):
    lacked, real = [], []
    roots = list(seed_dirs(work, max_seed))
    for d in roots:
        verts = json.load(open(f'{d}/end_to_end/vertebrae.json'))['vertebrae']
        names = {v['name'] for v in json.load(open(f'{d}/truth.json'))['vertebrae']}
        if len(verts) < 3:
            continue
        a, b, c = verts[0], verts[1], verts[2]
        dist = lambda p, q: sum((x - y) ** 2 for x, y in zip(p, q)) ** 0.5
        rec = (a['voxels'] / b['voxels'], dist(a['body_centre_lps_mm'], b['body_centre_lps_mm']) /
               dist(b['body_centre_lps_mm'], c['body_centre_lps_mm']), os.path.basename(d), a['level'], a['partial'])
        (real if a['level'] in names else lacked).append(rec)
    cut = [x for x in lacked if not x[4]]
    print(f'{len(roots)} phantoms; first level not in the phantom: {len(lacked)} ({len(cut)} not flagged cut by the scan)')
    for x in sorted(cut):
        print(f'  {x[2]} {x[3]}: voxels {x[0]:.2f}, spacing {x[1]:.2f}')
    print(f'first level a real vertebra: {len(real)}; voxels >= {min(x[0] for x in real):.2f}, '
          f'spacing >= {min(x[1] for x in real):.2f} (lowest of each)')


if __name__ == '__main__':
    if len(sys.argv) < 3 or sys.argv[1] not in ('pedicles', 'fragments'):
        sys.exit(__doc__)
    (pedicles if sys.argv[1] == 'pedicles' else fragments)(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 10**9)

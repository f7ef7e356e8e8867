#!/usr/bin/env python3
"""wedge_endplate_survey.py - how far the wedge the end lines imply exceeds
the angle between the fitted endplate planes, per measured level, over
report.json files (with truth.json beside their folder where there is one).
It backs the SP_WEDGE_ENDPLATE_DEG threshold (docs/scoring.md, "A fifth
sign"): real fractures against normal bodies read as fractures.
  bench/wedge_endplate_survey.py REPORT_ROOT [REPORT_ROOT ...] [--top N]
e.g. after bench/accuracy.sh:
  bench/wedge_endplate_survey.py /tmp/spinemet_seed_survey /tmp/spinemet_accuracy_score
Lines between the anterior and posterior measuring lines: 70 % of the depth
(score/internal.h, SC_FRONT_LINE_FRAC / SC_BACK_LINE_FRAC)."""
import glob, json, math, os, re, sys

args = sys.argv[1:]
top = 15
if '--top' in args:
    i = args.index('--top'); top = int(args[i + 1]); del args[i:i + 2]
if not args:
    sys.exit(__doc__)
rows, levels = [], 0
for root in args:
    for p in sorted(glob.glob(f'{root}/**/report.json', recursive=True)):
        truth = os.path.join(os.path.dirname(os.path.dirname(p)), 'truth.json')
        t = {v['name']: v for v in json.load(open(truth))['vertebrae']} if os.path.exists(truth) else {}
        for v in json.load(open(p))['vertebrae']:
            h = v['heights_mm']
            m = (v.get('evidence', {}).get('heights') or {}).get('measurement', '')
            d = re.search(r'AP depth \(([\d.]+) mm', m); e = re.search(r'endplate planes ([\d.]+) deg', m)
            if not h or v['level'] == 'S' or not d or not e:
                continue
            levels += 1
            wedge = math.degrees(math.atan2(abs(h['posterior'] - h['anterior']), 0.7 * float(d.group(1))))
            tg = t.get(v['level'], {}).get('genant', {}).get('grade')
            rows.append((wedge - float(e.group(1)), p, v['level'], h, v['genant_grade'], tg))
rows.sort(key=lambda r: -r[0])
print(f'{levels} measured levels; excess = lines\' wedge - endplate angle (deg)')
print('\nlargest excess:')
for x, p, lv, h, g, tg in rows[:top]:
    print(f'{x:6.1f}  {p}  {lv}  {h["anterior"]:.1f} / {h["middle"]:.1f} / {h["posterior"]:.1f} mm  grade {g} (truth {tg})')
real = [r for r in rows if r[5] not in (None, 0)]
if real:
    x, p, lv, h, g, tg = real[0]
    print(f'\nlargest excess at a level with a generated fracture: {x:.1f} ({p} {lv}, truth grade {tg})')

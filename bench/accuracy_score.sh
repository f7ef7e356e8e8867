#!/bin/bash
# accuracy_score.sh - regenerates the measurement accuracy tables of
# docs/scoring.md: phantoms from sample_data/ analysed with their truth
# labels imported (the scoring stage alone) and end to end with spinemet's
# own segmentation, compared with truth.json. Markdown on stdout.
#   bench/accuracy_score.sh [BUILD_DIR] [WORK_DIR]   (WORK_DIR default: $ACC_SCORE_WORK or
#   /tmp/spinemet_accuracy_score)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-score}
WORK=${2:-${ACC_SCORE_WORK:-/tmp/spinemet_accuracy_score}}
BIN=$BUILD/pipeline/spinemet
SPECS="normal lytic_l1_collapse blastic_t7 mixed_bilateral_t10 translation_t12_l1 osteoporotic_fracture thick_slice scoliosis contrast_aorta"
# Held out: phantoms no threshold was tuned on (bench/heldout/, written after
# the rules were set); reported in their own tables.
HELDOUT=$(cd "$ROOT/bench/heldout" && ls *.json | sed 's/\.json$//' | tr '\n' ' ')
mkdir -p "$WORK"
for s in $SPECS $HELDOUT; do
  d=$WORK/$s
  spec=$ROOT/sample_data/$s.json
  [ -f "$spec" ] || spec=$ROOT/bench/heldout/$s.json
  if [ ! -f "$d/ct.nii.gz" ]; then
    "$BIN" -q phantom "$spec" -o "$d" >/dev/null
    "$BIN" -q convert "$d/dicom" -o "$d/ct.nii.gz"
    rm -rf "$d/dicom"
  fi
  "$BIN" -q analyze "$d/ct.nii.gz" -o "$d/truth_labels" --labels "$d/truth_vertebrae.nii.gz" --label-scheme verse || echo "analyze failed: $s" >&2
  "$BIN" -q analyze "$d/ct.nii.gz" -o "$d/end_to_end" || echo "end-to-end analyze failed: $s" >&2
done
python3 - "$WORK" "$SPECS" "$HELDOUT" <<'PY'
import json, os, sys
work, tuned, heldout = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
def table(mode, specs, title):
    hs=[]; nm=[]; by_dz={}; gen=[0,0]; ch=[0,0]; comp={k:[0,0] for k in ['location','bone_lesion','alignment','collapse','posterolateral']}
    tot=[0,0]; jac=[]; rows=[]; fp=[0,0]; ext={'epidural':[0,0,0,0],'paravertebral':[0,0,0,0]}
    for s in specs:
        d=f'{work}/{s}'; p=f'{d}/{mode}/report.json'
        if not os.path.exists(p): rows.append(f'| {s} | (no report) |'); continue
        t=json.load(open(f'{d}/truth.json')); r=json.load(open(p))
        rv={v['level']:v for v in r['vertebrae']}
        for v in t['vertebrae']:
            x=rv.get(v['name'])
            if v['label']==26 and v['in_fov']!='none' and not v['lesion']:
                # the sacrum: no heights, but a lesion reported there is false (the phantom has none)
                xs=rv.get('S')
                if xs: fp[1]+=1
                if xs and xs['lesion']['character'] not in ('none','not assessed'):
                    fp[0]+=1
                    rows.append(f"| {s} | S | FALSE {xs['lesion']['character']} ({xs['lesion']['lytic_ml']} ml lytic, {xs['lesion']['blastic_ml']} ml blastic)/none | | | |")
                continue
            if v['in_fov']!='full' or v['name']=='S1' or v['label']==26: continue
            if x is None:
                gen[1]+=1; continue
            if x['heights_mm'] is None:
                # not measured: wrong for Genant; the lesion and SINS rows below still count it
                nm.append(f"{s} {v['name']}")
            else:
                for k,kk in (('anterior','anterior_mm'),('middle','middle_mm'),('posterior','posterior_mm')):
                    hs.append(abs(x['heights_mm'][k]-v['heights'][kk]))
                    by_dz.setdefault(t['grid']['spacing_mm'][2], []).append(hs[-1])
            gen[0]+= x['genant_grade']==v['genant']['grade']; gen[1]+=1
            tl=v['lesion']; tc=tl['character'] if tl else 'none'
            if tl:
                ch[0]+= x['lesion']['character']==tc; ch[1]+=1
                ts=v['sins']; xs=x['sins']
                for k in comp:
                    comp[k][0]+= xs.get(k)==ts.get(k); comp[k][1]+=1
                if xs.get('imaging_subtotal') is not None: tot[0]+= abs(xs['imaging_subtotal']-ts['imaging_subtotal'])<=1
                tot[1]+=1
                a=set(tl['wbb']['zones']); b=set(x['wbb']['zones'])
                jac.append(len(a&b)/len(a|b) if a|b else 1.0)
                # extension outside the bone: present in the truth when the
                # phantom rendered any voxel of it
                yn={}
                for k in ext:
                    te=tl['voxels'][k]>0; oe=x['lesion'][k]
                    if oe is None: # not assessed (paravertebral): counts where the truth has it
                        ext[k][2]+=te; ext[k][3]+=1; yn[k]=f"n/a/{'yes' if te else 'no'}"; continue
                    ext[k][0]+= te==bool(oe); ext[k][1]+=1
                    yn[k]=f"{'yes' if oe else 'no'}/{'yes' if te else 'no'}"
                rows.append(f"| {s} | {v['name']} | {x['lesion']['character']}/{tc} | " +
                  " ".join(f"{xs.get(k)}/{ts.get(k)}" for k in comp) + f" | {xs.get('imaging_subtotal')}/{ts['imaging_subtotal']} | {sorted(b)}/{sorted(a)} | {yn['epidural']} {yn['paravertebral']} |")
            else:
                fp[1]+=1
                if x['lesion']['character']!='none':
                    fp[0]+=1
                    rows.append(f"| {s} | {v['name']} | FALSE {x['lesion']['character']}/none | | | | |")
    hs.sort()
    pct=lambda a:f'{100*a[0]/a[1]:.0f} % ({a[0]}/{a[1]})' if a[1] else 'n/a'
    print(f'\n### {title}\n')
    print('| metric | value | target |\n|---|---|---|')
    if hs:
        print(f'| height error, median / 90th pct / max (mm) | {hs[len(hs)//2]:.2f} / {hs[int(len(hs)*0.9)]:.2f} / {hs[-1]:.2f} | within 1 mm |')
        print(f'| heights within 1 mm | {100*sum(h<=1 for h in hs)/len(hs):.0f} % of {len(hs)} | 100 % |')
        for dz in sorted(by_dz):
            e=sorted(by_dz[dz])
            print(f'| heights within 1 mm at {dz:g} mm slices (median error) | {100*sum(h<=1 for h in e)/len(e):.0f} % of {len(e)} ({e[len(e)//2]:.2f} mm) | 100 % |')
    print(f'| fully visible levels with heights not measured (counted wrong for Genant) | {len(nm)}{": " + ", ".join(nm) if nm else ""} | 0 |')
    print(f'| Genant grade exact | {pct(gen)} | >= 90 % |')
    print(f'| lesion character right | {pct(ch)} | >= 90 % |')
    print(f'| lesion-free levels (sacrum included) reported with a lesion | {pct(fp)} | 0 % |')
    for k,v in comp.items(): print(f'| SINS {k} exact | {pct(v)} | >= 90 % |')
    print(f'| SINS imaging subtotal within +-1 | {pct(tot)} | >= 95 % |')
    if jac: print(f'| WBB zones Jaccard, mean (min) | {sum(jac)/len(jac):.2f} ({min(jac):.2f}) | >= 0.8 |')
    for k,v in ext.items():
        if v[1]: print(f'| {k} extension present/absent right | {pct(v[:2])} | (no target) |')
        if v[3]: print(f'| {k} extension | not assessed (the truth has it at {v[2]} of {v[3]} lesion levels) | (no target) |')
    print('\n| spec | level | character | SINS loc lesion align collapse PL (ours/truth) | subtotal | WBB zones (ours/truth) | epidural, paravertebral (ours/truth) |\n|---|---|---|---|---|---|---|')
    for r in rows: print(r)
print(f'Phantoms: {", ".join(tuned)} (sample_data/, seeds as given).')
table('truth_labels', tuned, 'truth labels'); table('end_to_end', tuned, 'end to end')
print(f'\n## Held-out phantoms\n\nWritten after the rules and thresholds were set and never tuned on '
      f'(bench/heldout/: {", ".join(heldout)}): other seeds, levels, part combinations, slice spacings (1.5, 2, 2.5 mm), '
      f'in-plane spacing, noise and kyphosis. Exceptions: session 4 developed its disc rule beside a lytic body '
      f'and its arch seeds on lytic_t8_epidural\'s failure (a cropped copy of it is in tests/test_seg_lesions.c), '
      f'so that phantom is no longer held out for those two rules; lytic_l2_crush and mixed_t11_scoliosis were '
      f'written in session 4 before any rule was measured on them. Session 5 developed the mirrored hull of a '
      f'destroyed body on lytic_l2_crush, and found the depth rule for sclerotic candidates on mixed_t11_scoliosis '
      f'and mixed_l4_wedge (docs/segmentation.md, docs/scoring.md): those three are no longer held out for those '
      f'rules; each rule was then checked on cropped variants with other seeds (tests/test_seg_lesions.c, '
      f'tests/test_score.c). Session 6 developed the mirrored pedicle fill on lytic_l1_collapse and cropped '
      f'T11-L3 variants; its effect on the held-out phantoms was read, not tuned on. Its rule for sclerotic '
      f'posterior parts came from scratch phantoms, but its 400 HU margin was set above what blastic_l3_spinous '
      f'reads end to end at L4 (+311 HU, its spinous process mislabelled), so that phantom is no longer held out '
      f'for it. Its mirror test for a destroyed pedicle was developed on lytic_l2_crush, which is no longer held '
      f'out for it. Session 8 developed the directional arch growth (docs/segmentation.md) on the tuned '
      f'phantoms\' arch labels and read the held-out ones while choosing among its variants: the exception for '
      f'levels with midline arch seeds came from lytic_t8_epidural (posterolateral 3 -> 1 without it), and its '
      f'cranial cost of 4 was kept over 2 on the held-out WBB mean (0.83 against 0.79), so for that rule the '
      f'held-out phantoms are no longer held out. Session 9 developed the heights from the neighbours\' room '
      f'(docs/scoring.md) on lytic_l2_crush, which is no longer held out for that rule; its top-level axis check '
      f'and its fill of a destroyed pedicle up to the facet joint were developed on tuned phantoms and a cropped '
      f'lytic T8 and then read on the held-out ones (lytic_t8_epidural\'s T1 is measured since). Session 11 '
      f'developed the rule for the disc in a sunken endplate\'s cup on mixed_bilateral_t10 (seeds 4, 3 and 11) and '
      f'chose its variant (middle line only) after reading the held-out ones too: on every line it left '
      f'lytic_l2_crush\'s L2 unmeasured, so for that rule they are no longer held out. Session 18 developed '
      f'its test for sheet-like sclerotic seeds on lytic_l2_crush and lytic_l1_collapse with survey seeds, and its one-pedicle '
      f'rule\'s guard (an implausibly large other pedicle) on a lytic_l2_crush variant with seed 21 (a test), so '
      f'lytic_l2_crush is no longer held out for those rules; neither changed a value of these tables. Session 19\'s '
      f'withdrawal of collapses whose end lines left the body (posterior line alone short, lines\' wedge far over the '
      f'endplates\' angle, overlong posterior wall) came from survey seeds of lytic_t4_left, blastic_l3_spinous and '
      f'the suite\'s osteoporotic spec; it changed no value of these tables.')
table('truth_labels', heldout, 'held out, truth labels'); table('end_to_end', heldout, 'held out, end to end')
PY
# Real CT (3 mm) with its TotalSegmentator labels, when the shared data is there.
CTD=$ROOT/../shared/data/ct-totalseg
REP=$CTD/spine_report/example_ct_report
if [ -f "$CTD/example_ct.nii.gz" ] && [ -f "$REP/totalseg.nii.gz" ]; then
  "$BIN" -q analyze "$CTD/example_ct.nii.gz" -o "$WORK/real_ct" --labels "$REP/totalseg.nii.gz" --label-scheme totalseg ||
    echo "analyze failed: real CT" >&2
  # the label's own extent along our lines needs numpy + nibabel (a developer's
  # /usr/bin/python3 with python3-nibabel); without them that column says so
  /usr/bin/python3 "$ROOT/bench/realct_label_heights.py" "$WORK/real_ct/report.json" "$REP/totalseg.nii.gz" \
    "$CTD/label_maps_total_vertebrae_body_pp.json" >"$WORK/real_ct/label_heights.json" 2>/dev/null ||
    echo '{}' >"$WORK/real_ct/label_heights.json"
  python3 - "$WORK/real_ct/report.json" "$REP/spine_report.json" "$WORK/real_ct/label_heights.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))['results']
lab = json.load(open(sys.argv[3]))
print('\n### real CT (example_ct, TotalSegmentator labels)\n')
print("Heights are anterior / middle / posterior (mm). \"Label's own extent\" is the imported label's run along "
      "each of our measuring lines (nearest voxel, no HU refinement; `bench/realct_label_heights.py`): "
      "the same lines and mask, so it shows what our HU edge refinement adds; spine_report.json is another tool's "
      "measurement on the 3 mm mask.\n")
print("| level | ours | label's own extent on our lines | spine_report.json | collapse %, Genant grade, shape (ours) | lesion |")
print('|---|---|---|---|---|---|')
n = ok = okl = nl = 0
fmt = lambda xs: ' / '.join(f'{x:.1f}' for x in xs)
for v in r['vertebrae']:
    h = v['heights_mm']; k = f"vertebrae_{v['level']}_height_"
    if h and k + 'anterior_mm' in t:
        ref = [t[k + x + '_mm'] for x in ('anterior', 'middle', 'posterior')]
        ours = [h[x] for x in ('anterior', 'middle', 'posterior')]
        n += 3; ok += sum(abs(a - b) <= 2 for a, b in zip(ours, ref))
        own = lab.get(v['level'])
        if own:
            nl += 3; okl += sum(abs(a - b) <= 2 for a, b in zip(ours, own))
        g = f"{v['collapse_pct']:.1f}, {v['genant_grade']}, {v['genant_shape']}" if v['collapse_pct'] is not None else '—'
        print(f"| {v['level']} | {fmt(ours)} | {fmt(own) if own else 'not computed (numpy/nibabel missing)'} | "
              f"{' / '.join(f'{x:g}' for x in ref)} | {g} | {v['lesion']['character']} |")
    else:
        print(f"| {v['level']} | — | — | — | — | {v['lesion']['character']} |")
print(f'\nheights within 2 mm of spine_report.json: {ok}/{n}; within 2 mm of the label\'s own extent on the same lines: '
      f"{okl}/{nl}; levels with a lesion: "
      f"{sum(v['lesion']['character'] not in ('none', 'not assessed') for v in r['vertebrae'])}")
PY
  # The same CT with the reference tool's own mask: its refined vertebral-body
  # labels (test_result/, 19 T12 .. 24 L5 as in the VerSe numbering), on which
  # spine_report.json measured. Separates the measuring from the mask.
  PP=$CTD/spine_report/test_result/totalseg_vertebrae_pp_refined.nii.gz
  if [ -f "$PP" ]; then
    "$BIN" -q analyze "$CTD/example_ct.nii.gz" -o "$WORK/real_ct_pp" --labels "$PP" --label-scheme verse ||
      echo "analyze failed: real CT, refined body mask" >&2
    python3 - "$WORK/real_ct_pp/report.json" "$REP/spine_report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))['results']
print("\nWith the reference tool's own mask imported (`test_result/totalseg_vertebrae_pp_refined.nii.gz`: vertebral "
      "bodies only, refined; its volumes are spine_report.json's), the same measuring gives:\n")
print('| level | ours on the refined body mask | spine_report.json | collapse %, Genant grade, shape (ours) |')
print('|---|---|---|---|')
n = ok = 0
for v in r['vertebrae']:
    h = v['heights_mm']; k = f"vertebrae_{v['level']}_height_"
    if not h or k + 'anterior_mm' not in t:
        continue
    ref = [t[k + x + '_mm'] for x in ('anterior', 'middle', 'posterior')]
    ours = [h[x] for x in ('anterior', 'middle', 'posterior')]
    n += 3; ok += sum(abs(a - b) <= 2 for a, b in zip(ours, ref))
    g = f"{v['collapse_pct']:.1f}, {v['genant_grade']}, {v['genant_shape']}" if v['collapse_pct'] is not None else '—'
    print(f"| {v['level']} | {' / '.join(f'{x:.1f}' for x in ours)} | {' / '.join(f'{x:g}' for x in ref)} | {g} |")
print(f'\nheights within 2 mm of spine_report.json on its own mask: {ok}/{n}')
PY
  fi
fi

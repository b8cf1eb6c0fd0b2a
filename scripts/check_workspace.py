#!/usr/bin/env python3
"""Independent check of gating/case.wsp with FlowKit (not part of CI).

Usage: python3 scripts/check_workspace.py OUT  (an `analyze --out` folder)
Opens the FlowJo workspace with FlowKit's workspace reader, applies it to each
site's FCS file and compares every population's count with report.json.
Files FlowKit cannot read (several data sets, e.g. Navios LMD) are skipped."""
import sys, json, flowkit as fk, os
out = sys.argv[1]
rep = json.load(open(os.path.join(out, 'report.json')))
readable = []
for s in rep['sites']:
    try:
        fk.Sample(s['file']); readable.append(s['file'])
    except Exception as e:
        print(f"{os.path.basename(s['file'])}: FlowKit cannot read it ({type(e).__name__}); not checked")
wsp = fk.Workspace(os.path.join(out, 'gating', 'case.wsp'), fcs_samples=readable)
for s in rep['sites']:
    if s['file'] not in readable: continue
    sid = os.path.basename(s['file'])
    wsp.analyze_samples(sample_id=sid)
    res = wsp.get_gating_results(sid)
    df = res.report
    counts = {r['gate_name']: int(r['count']) for _, r in df.iterrows()}
    for g in s['gates']:
        if g.get('id') is None: continue
        fj = counts.get(g['name'])
        flag = 'OK' if fj == g['events'] else ('approx' if g['name']=='blasts' else 'DIFF')
        print(f"{sid:28s} {g['name']:16s} marrowgate {g['events']:7d} FlowKit-wsp {fj} {flag}")
    extra = [k for k in counts if k.startswith('blasts ')]
    for k in extra: print(f"{sid:28s} {k:16s} FlowKit-wsp {counts[k]}")

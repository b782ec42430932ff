#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""The boot-time gate on real boots: ci/boot-gate.sh with a candidate whose
serial8250_init the self-test hook slows by 100 ms must fail and name that
initcall and its level; the same kernel against itself must pass; random
10-against-10 splits of twenty boots of one kernel measure the
false-positive rate; a candidate that panics fails with the panic as the reason; too few
boots is an error."""
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htboot  # noqa: E402

t = htboot.Tap()
GATE = os.path.join(htboot.TOP, 'ci', 'boot-gate.sh')
HT = htboot.HYPERTRACE
t.require(HT, htboot.KERNEL, htboot.INITRAMFS)
work = tempfile.mkdtemp(prefix='ht-gate-')
env = dict(os.environ, HT=HT)


def gate(name, cappend=''):
    """ci/boot-gate.sh, 10 boots each; (exit status, compare.json, out dir)."""
    out = os.path.join(work, name)
    p = subprocess.run([GATE, '--accel', 'tcg', '--baseline', htboot.KERNEL, '--candidate',
                        htboot.KERNEL, '--initrd', htboot.INITRAMFS, '--boots', '10',
                        '--candidate-append', cappend, '-o', out],
                       capture_output=True, text=True, env=env, timeout=600)
    path = os.path.join(out, 'compare.json')
    return p.returncode, json.load(open(path)) if os.path.exists(path) else {}, out, p.stderr


rc, res, out, err = gate('slow', 'hypertrace_test=delay:serial8250_init:100')
regs = {r['metric']: r for r in res.get('regressions', [])}
s = regs.get('initcall serial8250_init', {})
t.ok(rc == 1 and res.get('result') == 'fail', 'slowed candidate: the gate fails (exit 1)', err)
t.ok(s.get('level') == 'device' and s.get('p', 1) < 0.01 and s.get('change_pct', 0) > 100,
     'it names initcall serial8250_init, level device, %+.0f%%, p=%.4f'
     % (s.get('change_pct', 0), s.get('p', 1)), list(regs))
md = open(os.path.join(out, 'report.md')).read()
junit = open(os.path.join(out, 'junit.xml')).read()
t.ok('serial8250\\_init' in md and '**FAILED**' in md, 'report.md names it for a merge request')
t.ok('name="initcall serial8250_init"><failure' in junit, 'junit.xml has its failing test case')
t.ok(os.path.exists(os.path.join(out, 'slowest-candidate.html')),
     'the HTML report of the slowest candidate boot is left as an artifact')

rc, res, out, err = gate('self')
t.ok(rc == 0 and res.get('result') == 'pass' and res.get('metrics_compared', 0) > 300 and
     0 < res.get('metrics_tested', 0) <= res['metrics_compared'],
     'the same kernel against itself passes (%d of %d metrics tested: the others could not '
     'pass the floors)' % (res.get('metrics_tested', 0), res.get('metrics_compared', 0)),
     json.dumps(res.get('regressions'))[:500])

# false positives: random 10/10 splits of these twenty boots of one kernel
pool = [os.path.join(out, '%s-%d' % (side, i), 'report.json')
        for side in ('baseline', 'candidate') for i in range(1, 11)]
rnd = random.Random(7)
splits = []
for _ in range(40):
    rnd.shuffle(pool)
    splits.append(list(pool))
for opts in ([], ['--fdr'], ['--normalize', 'speed']):
    fails = 0
    for sp in splits:
        p = subprocess.run([HT, 'compare'] + opts + ['--baseline'] + sp[:10] + ['--candidate'] +
                           sp[10:], capture_output=True, text=True)
        fails += p.returncode != 0
    t.diag('false positives%s: %d of %d random 10/10 splits of 20 boots of one kernel '
           '(alpha 0.01, > 5%% and > 1 ms)' % (' with ' + ' '.join(opts) if opts else '', fails,
                                               len(splits)))
    t.ok(fails <= 2, 'compare %s: false-positive rate %d/%d splits (expected at most alpha = 1%%)'
         % (' '.join(opts) or '(Holm)', fails, len(splits)))

# a candidate that panics fails, with the panic as the reason
panic = os.path.join(work, 'panic')
subprocess.run([HT, 'boot', '-q', '--accel', 'tcg', '--kernel', htboot.KERNEL, '--initrd',
                htboot.INITRAMFS, '--append', 'hypertrace_test=panic:serial8250_init', '-o', panic],
               capture_output=True)
p = subprocess.run([HT, 'compare', '--markdown', '-', '--baseline'] + pool[:10] +
                   ['--candidate'] + pool[10:19] + [os.path.join(panic, 'report.json')],
                   capture_output=True, text=True)
t.ok(p.returncode == 1 and 'candidate boot **panic**' in p.stdout and 'serial8250\\_init' in p.stdout,
     'a candidate that panics fails the gate with the panic as the reason', p.stdout + p.stderr)

# the gate keeps the vmcore of a kernel's first failed boot, and only that one
out = os.path.join(work, 'vmcore')
p = subprocess.run([GATE, '--accel', 'tcg', '--baseline', htboot.KERNEL, '--candidate',
                    htboot.KERNEL, '--initrd', htboot.INITRAMFS, '--boots', '2',
                    '--candidate-append', 'hypertrace_test=panic:serial8250_init', '-o', out],
                   capture_output=True, text=True, env=env, timeout=600)
cores = sorted(os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out)
               for f in fs if f.endswith('.vmcore'))
t.ok(cores == ['candidate-1/trace.vmcore'] and
     os.stat(os.path.join(out, cores[0])).st_mode & 0o777 == 0o600 and
     "a failed boot's vmcore: " + os.path.join(out, 'candidate-1/trace.vmcore') in p.stdout,
     'boot-gate: one vmcore, of the first failed candidate boot, 0600, named at the end',
     str(cores) + p.stdout[-400:] + p.stderr[-400:])
subprocess.run(['rm', '-rf', out])

p = subprocess.run([HT, 'compare', '--baseline'] + pool[:3] + ['--candidate'] + pool[5:8],
                   capture_output=True, text=True)
import re
m = re.search(r'at least (\d+) boots per side', p.stderr)
t.ok(p.returncode == 2 and m and int(m.group(1)) > 3,
     'three boots each cannot reach p < 0.01 over the metrics that could pass the floors: exit 2, '
     'says %s are needed' % (m.group(1) if m else '?'), p.stderr)
subprocess.run(['rm', '-rf', work])
sys.exit(t.done())

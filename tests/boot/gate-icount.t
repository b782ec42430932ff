#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""The boot-time gate on virtual time (ci/boot-gate.sh --clock icount):
3+3 boots find a candidate whose serial8250_init the self-test hook makes
50 us slower (the baseline's hook adds 0 us, so that both command lines
have one length), and name that initcall; one kernel against itself, with
two CPU hogs loading the host, passes.  (How often separation misleads
when the two sides' boots are not paired is a measurement, not a test:
see the closing note of issue 13.)"""
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htboot  # noqa: E402

t = htboot.Tap()
GATE = os.path.join(htboot.TOP, 'ci', 'boot-gate.sh')
HT = htboot.HYPERTRACE
t.require(HT, htboot.KERNEL, htboot.INITRAMFS)
work = tempfile.mkdtemp(prefix='ht-gate-icount-')
env = dict(os.environ, HT=HT)
VICTIM = 'serial8250_init'
CONTAINERS = {'boot', 'userspace', 'level device', 'phase rest_init', 'phase do_basic_setup'}


def spin():
    """A CPU hog."""
    while True:
        pass


p = subprocess.run([GATE, '--clock', 'icount', '--baseline', htboot.KERNEL, '--candidate',
                    htboot.KERNEL, '--initrd', htboot.INITRAMFS, '--boots', '3',
                    # command lines of one length: a longer one alone moves
                    # setup_arch and the console's replay by tens of us
                    '--baseline-append', 'hypertrace_test=delay_us:%s:00' % VICTIM,
                    '--candidate-append', 'hypertrace_test=delay_us:%s:50' % VICTIM,
                    '-o', os.path.join(work, 'slow')],
                   capture_output=True, text=True, env=env, timeout=900)
res = {}
if os.path.exists(os.path.join(work, 'slow', 'compare.json')):
    res = json.load(open(os.path.join(work, 'slow', 'compare.json')))
regs = {r['metric']: r for r in res.get('regressions', [])}
v = regs.get('initcall ' + VICTIM, {})
t.ok(p.returncode == 1 and res.get('clock') == 'icount' and res.get('decision') == 'separation'
     and v and 0.045 < v['candidate_ms'] - v['baseline_ms'] < 0.060 and
     set(regs) <= CONTAINERS | {'initcall ' + VICTIM},
     'icount gate, 3+3 boots: 50 us more in %s fails the gate, that initcall (+%.1f us) and '
     'only what contains it regressed' % (VICTIM, 1000 * (v.get('candidate_ms', 0) -
                                                         v.get('baseline_ms', 0))),
     str(sorted(regs)) + p.stdout[-600:] + p.stderr[-600:])

# the same kernel against itself through the whole gate, the host loaded
# by two CPU hogs: virtual time leaves the load out, so nothing moves
hogs = [multiprocessing.Process(target=spin, daemon=True) for _ in range(2)]
for h in hogs:
    h.start()
try:
    p = subprocess.run([GATE, '--clock', 'icount', '--baseline', htboot.KERNEL, '--candidate',
                        htboot.KERNEL, '--initrd', htboot.INITRAMFS, '--boots', '3',
                        '-o', os.path.join(work, 'same')],
                       capture_output=True, text=True, env=env, timeout=900)
finally:
    for h in hogs:
        h.terminate()
res = {}
if os.path.exists(os.path.join(work, 'same', 'compare.json')):
    res = json.load(open(os.path.join(work, 'same', 'compare.json')))
worst = 0
for i in range(1, 4):
    b = json.load(open(os.path.join(work, 'same', 'baseline-%d' % i, 'report.json')))
    c = json.load(open(os.path.join(work, 'same', 'candidate-%d' % i, 'report.json')))
    cd = {s['name']: s['duration_ns'] for s in c['initcalls']}
    worst = max([worst] + [abs(s['duration_ns'] - cd.get(s['name'], 0)) for s in b['initcalls']])
# identical inputs give nearly identical boots: a few initcalls move by
# tens of ns, and then a timer interrupt (3.7 us here) can land on either
# side of an initcall's end: within compare's floor of 10 us
t.ok(p.returncode == 0 and res.get('decision') == 'separation' and not res.get('regressions')
     and worst <= 10000,
     'icount gate, one kernel against itself with two CPU hogs: passes; each round\'s two '
     'boots (one input) have every initcall within 10 us (worst %d ns)' % worst,
     p.stdout[-400:] + p.stderr[-400:])

subprocess.run(['rm', '-rf', work])
sys.exit(t.done())

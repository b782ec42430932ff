#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""The host's view of the vCPU threads in report, report --json and html:
the fixture boot with a SCHED chunk appended (vCPU 0 preempted for 10 ms
from 1000 ms and migrated at 1500 ms; vCPU 1 asleep 1300-1400 ms and
runnable to 1402 ms) and one of junk (unknown kinds, a vCPU out of range,
a time before QEMU's launch, a cut event).  Each span's stolen_ns is its
overlap with vCPU 0's preemption; the junk is counted, not used; the page
draws the thin host lanes and the migration mark (headless Chromium)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FX = os.path.join(HERE, 'fixtures')
HT = os.path.abspath(os.path.join(os.environ.get('HT_BUILD', os.path.join(HERE, '..', '..',
                                                                          'build')),
                                  'bin', 'hypertrace'))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests'))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'boot'))
import htboot  # noqa: E402
import htf  # noqa: E402

T = htboot.Tap()
SM = ['--system-map', os.path.join(FX, 'System.map')]
MS = 1_000_000
data = open(os.path.join(FX, 'boot.htf'), 'rb').read()
launch = json.loads(subprocess.run([HT, 'report', '--json'] + SM + [os.path.join(FX, 'boot.htf')],
                                   capture_output=True, text=True).stdout)
# the fixture's metadata: QEMU's launch on CLOCK_MONOTONIC
L = 4888484908487
E = htf.sched_event
good = b''.join([
    E(L + 800 * MS, 0, htf.SCHED_IN, host_cpu=0),
    E(L + 1000 * MS, 0, htf.SCHED_OUT, htf.SCHED_PREEMPTED, host_cpu=0),
    E(L + 1010 * MS, 0, htf.SCHED_IN, host_cpu=0),
    E(L + 1500 * MS, 0, htf.SCHED_MIGRATE, host_cpu=1, arg=0),
    E(L + 1250 * MS, 1, htf.SCHED_IN, host_cpu=1),
    E(L + 1300 * MS, 1, htf.SCHED_OUT, htf.SCHED_BLOCKED, host_cpu=1, arg=1),
    E(L + 1400 * MS, 1, htf.SCHED_WAKEUP, host_cpu=1),
    E(L + 1402 * MS, 1, htf.SCHED_IN, host_cpu=1),
])
junk = b''.join([
    E(L + 1005 * MS, 0, 9),                                 # unknown kind
    E(L + 1005 * MS, 77, htf.SCHED_IN),                     # vCPU out of range
    E(L + 1005 * MS, 0, htf.SCHED_OUT, state=5),            # unknown state
    E(L - 1, 0, htf.SCHED_OUT, htf.SCHED_PREEMPTED),        # before the launch
]) + b'\xff' * 20                                           # a cut event
tmp = tempfile.mkdtemp(prefix='ht-sched-report-')
trace = os.path.join(tmp, 'sched.htf')
open(trace, 'wb').write(data + htf.chunk(htf.SCHED, htf.SRC_NONE, good) +
                        htf.chunk(htf.SCHED, htf.SRC_NONE, junk))

p = subprocess.run([HT, 'report', '--json'] + SM + [trace], capture_output=True, text=True)
r = json.loads(p.stdout) if p.returncode == 0 else {}
h = r.get('host_sched', {})
T.ok(h.get('present') and h.get('aligned') and h.get('events') == 12 and h.get('bad') == 5,
     'report --json: 12 events read, the 4 junk events and the cut one counted bad',
     str({k: v for k, v in h.items() if k != 'vcpus'}))
v = {x['vcpu']: x for x in h.get('vcpus', [])}
T.ok(v.get(0, {}).get('preempted_ns') == 10 * MS and v.get(1, {}).get('preempted_ns') == 2 * MS and
     v.get(1, {}).get('sleeping_ns') == 100 * MS and h.get('stolen_ns') == 12 * MS,
     'per vCPU: 10 ms preempted on vCPU 0; vCPU 1 asleep 100 ms, then 2 ms woken, not running')
T.ok(v.get(0, {}).get('migration_list') == [{'at_ns': 1500 * MS, 'from': 0, 'to': 1}],
     'the migration at 1500 ms, host CPU 0 -> 1', str(v.get(0, {}).get('migration_list')))


def overlap(s, lo, hi):
    """ns of [lo, hi) inside span @s."""
    a, b = s['start_ns'], s['start_ns'] + s['duration_ns']
    return max(0, min(b, hi) - max(a, lo))


def want(s, cpu):
    """(stolen_ns, migrations) span @s should have on guest CPU @cpu."""
    if cpu == 0:
        mig = int(s['start_ns'] <= 1500 * MS < s['start_ns'] + s['duration_ns'])
        return overlap(s, 1000 * MS, 1010 * MS), mig
    return overlap(s, 1400 * MS, 1402 * MS), 0


bad = []
for key in ('phases', 'levels', 'initcalls'):
    for s in r.get(key, []):
        got = (s.get('stolen_ns'), s.get('migrations'))
        # the JSON names an initcall's CPU; a phase or level ran on one of the two
        cpus = [s['cpu']] if key == 'initcalls' else [0, 1]
        if got not in [want(s, c) for c in cpus]:
            bad.append((s['name'], got, [want(s, c) for c in cpus]))
T.ok(not bad and any(s.get('stolen_ns') for s in r.get('phases', [])),
     'every phase, level and initcall: stolen_ns = its overlap with its vCPU\'s preemption, '
     'and its migrations', str(bad[:5]))

txt = subprocess.run([HT, 'report'] + SM + [trace], capture_output=True, text=True).stdout
T.ok('12.000 ms stolen (vCPU runnable, not running), 1 migrations' in txt and
     'migration at 1500.000 ms: vCPU 0, host CPU 0 -> 1' in txt and
     '5 events rejected' in txt,
     'report: totals, the migration and the rejected events', txt[txt.find('host sched'):][:900])

chromium = shutil.which('chromium') or shutil.which('chromium-browser')
if chromium:
    html = os.path.join(tmp, 'r.html')
    subprocess.run([HT, 'html', '-o', html] + SM + [trace], check=True)
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             '--user-data-dir=' + os.path.join(tmp, 'profile'), '--window-size=1400,1000']
    dom = subprocess.run([chromium] + flags + ['--dump-dom', 'file://' + html],
                         capture_output=True, text=True, timeout=120).stdout
    T.ok('vCPU 0 on host' in dom and 'vCPU 1 on host' in dom and
         dom.count('class="host-preempted"') == 2 and dom.count('class="migration"') == 1 and
         'migrated, host CPU 0 -&gt; 1 at 1500.000 ms' in dom,
         'html: a host lane under each CPU lane, the two preemptions and the migration mark')
else:
    T.ok(True, '# SKIP chromium is not installed')
shutil.rmtree(tmp, ignore_errors=True)
sys.exit(T.done())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""hypertrace compare --subtract-stolen and --max-stolen on report JSON:
ten baseline boots in which initcall foo takes 10 ms with nothing stolen,
ten candidate boots in which it takes 15 ms of which the host preempted
its vCPU for 5 ms.  Without the option foo regressed; with it foo's
remaining 10 ms pass; the boot metric loses vCPU 0's stolen time the same
way; candidate boots whose vCPUs lost more than --max-stolen of their time
are flagged in every output, and boots without the host's view are not
(nor is their boot metric reduced).  And --subtract-idle: a 5 ms longer
foo whose CPU idled 5 ms more in it passes once idle time is off."""
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
HT = os.path.abspath(os.path.join(os.environ.get('HT_BUILD', os.path.join(HERE, '..', '..',
                                                                          'build')),
                                  'bin', 'hypertrace'))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'boot'))
import htboot  # noqa: E402

T = htboot.Tap()
tmp = tempfile.mkdtemp(prefix='ht-compare-stolen-')
rnd = random.Random(14)


def report(path, foo_ms, stolen_ms, host=True):
    """A report JSON: boot 50 ms + foo, initcall foo on CPU 0 with its stolen time."""
    jitter = rnd.uniform(-0.2, 0.2)
    foo = int((foo_ms + jitter) * 1e6)
    st = int(stolen_ms * 1e6)
    r = {'boot_ns': 50_000_000 + foo, 'userspace_ns': 0, 'cpus': 2,
         'phases': [], 'levels': [], 'shutdown': [], 'markers': [],
         'initcalls': [{'name': 'foo', 'start_ns': 1_000_000, 'duration_ns': foo,
                        'cpu': 0, 'level': 'device', 'ret': 0, 'addr': '0x0',
                        'stolen_ns': st, 'migrations': 0},
                       {'name': 'bar', 'start_ns': 20_000_000, 'duration_ns': int(5e6 + jitter * 1e6),
                        'cpu': 0, 'level': 'device', 'ret': 0, 'addr': '0x0',
                        'stolen_ns': 0, 'migrations': 0}],
         'failure': {'kind': 'none'}, 'clock': {'mode': 'real'}}
    if host:
        # vCPU 0 lost foo's stolen time, vCPU 1 the same again: 2 x st of 2 x boot
        r['host_sched'] = {'present': True, 'aligned': True, 'stolen_ns': 2 * st,
                           'vcpus': [{'vcpu': 0, 'preempted_ns': st},
                                     {'vcpu': 1, 'preempted_ns': st}]}
    json.dump(r, open(path, 'w'))
    return path


base = [report(os.path.join(tmp, 'b%d.json' % i), 10, 0) for i in range(10)]
cand = [report(os.path.join(tmp, 'c%d.json' % i), 15, 5) for i in range(10)]


def compare(*opts):
    """hypertrace compare with @opts; (exit status, JSON result, Markdown, stderr)."""
    js, md = os.path.join(tmp, 'out.json'), os.path.join(tmp, 'out.md')
    p = subprocess.run([HT, 'compare', '--json', js, '--markdown', md] + list(opts) +
                       ['--baseline'] + base + ['--candidate'] + cand,
                       capture_output=True, text=True)
    return p.returncode, json.load(open(js)), open(md).read(), p.stderr


def regressed(res):
    """The regressed metrics' names."""
    return sorted(r['metric'] for r in res.get('regressions', []))


rc, res, md, err = compare()
T.ok(rc == 1 and 'initcall foo' in regressed(res) and 'boot' in regressed(res) and
     not res['stolen']['subtracted'],
     'without --subtract-stolen: foo (10 -> 15 ms) and the boot regressed', str(regressed(res)))
rc, res, md, err = compare('--subtract-stolen')
T.ok(rc == 0 and not regressed(res) and res['stolen']['subtracted'] and
     'taken off every span' in md,
     '--subtract-stolen: foo less its 5 ms stolen passes, and so does the boot (vCPU 0\'s '
     'stolen time off it)', str(regressed(res)) + err)
# 5 ms of (50 + 15) ms per vCPU: 7.7 % of the candidates' vCPU time
rc, res, md, err = compare('--max-stolen', '7')
flagged = res['stolen']['too_much_stolen']
T.ok(len(flagged) == 10 and all(f['side'] == 'candidate' and 7.6 < f['stolen_pct'] < 7.8
                                for f in flagged) and
     md.count('of its vCPU time stolen') == 10 and err.count('too much stolen time') == 10,
     '--max-stolen 7: the ten candidate boots (7.7%) flagged in JSON, Markdown and the summary',
     str(flagged[:2]) + err)
rc, res, md, err = compare()
T.ok(not res['stolen']['too_much_stolen'] and res['stolen']['max_stolen_pct'] == 25 and
     res['stolen']['boots_with_host_view'] == 20,
     'the default --max-stolen 25 flags none; 20 boots had the host\'s view')
rc, _, _, err = compare('--max-stolen', '101')
T.ok(rc == 2 and 'invalid value' in err, '--max-stolen 101: usage error', err)
cand[:] = [report(os.path.join(tmp, 'n%d.json' % i), 15, 5, host=False) for i in range(10)]
rc, res, md, err = compare('--subtract-stolen', '--max-stolen', '1')
T.ok(rc == 1 and not res['stolen']['too_much_stolen'] and
     res['stolen']['boots_with_host_view'] == 10 and regressed(res) == ['boot'],
     'candidates without host_sched: not flagged; their spans\' stolen_ns is subtracted '
     '(foo passes), the boot has nothing to subtract (it regressed)', str(regressed(res)))

# --subtract-idle: candidates whose foo is 5 ms longer because its CPU
# idled 5 ms more in it (a wait that ended a tick later), no host view
def idled(path, foo_ms, idle_ms):
    """A report whose foo and CPU 0 idled @idle_ms."""
    report(path, foo_ms, 0, host=False)
    r = json.load(open(path))
    r['initcalls'][0]['idle_ns'] = int(idle_ms * 1e6)
    r['idle'] = {'events': 40, 'stretches': 20, 'unmatched': 0,
                 'cpus': [{'cpu': 0, 'idle_ns': int(idle_ms * 1e6)}]}
    json.dump(r, open(path, 'w'))
    return path


base[:] = [idled(os.path.join(tmp, 'ib%d.json' % i), 10, 1) for i in range(10)]
cand[:] = [idled(os.path.join(tmp, 'ic%d.json' % i), 15, 6) for i in range(10)]
rc, res, md, err = compare()
T.ok(rc == 1 and 'initcall foo' in regressed(res) and 'boot' in regressed(res) and
     res['idle_subtracted'] is False,
     'idle time: without --subtract-idle foo (10 -> 15 ms, 5 of them idle) regressed',
     str(regressed(res)))
rc, res, md, err = compare('--subtract-idle')
T.ok(rc == 0 and not regressed(res) and res['idle_subtracted'] is True and
     'Idle time' in md and 'what each one executed' in md,
     '--subtract-idle: foo executed 9 ms on both sides and passes, the boot too (CPU 0\'s '
     'idle time off it)', str(regressed(res)) + err)

subprocess.run(['rm', '-rf', tmp])
sys.exit(T.done())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""hypertrace export on the recorded fixtures: Perfetto JSON that parses,
with named per-CPU tracks and properly nested complete events on every
track; CSV that agrees with report --json; and usage errors."""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FX = os.path.join(HERE, 'fixtures')
HT = os.path.join(os.environ.get('HT_BUILD', os.path.join(HERE, '..', '..', 'build')),
                  'bin', 'hypertrace')
SM = ['--system-map', os.path.join(FX, 'System.map')]
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'boot'))
import htboot  # noqa: E402

T = htboot.Tap()
ok = T.ok


def run(*args):
    """hypertrace with args; (rc, stdout, stderr)."""
    p = subprocess.run([HT] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def nests(events):
    """Whether complete events on one track nest properly; first offender."""
    stack = []
    for e in sorted(events, key=lambda e: (e['ts'], -e['dur'])):
        end = e['ts'] + e['dur']
        while stack and stack[-1] <= e['ts']:
            stack.pop()
        if stack and end > stack[-1] + 1e-9:
            return e
        stack.append(end)
    return None


tmp = tempfile.mkdtemp()
for name in ('boot', 'panic'):
    trace = os.path.join(FX, name + '.htf')
    out = os.path.join(tmp, name + '.json')
    rc, _, err = run('export', '-f', 'perfetto', '-o', out, *SM, trace)
    ok(rc == 0, '%s: perfetto export written' % name, err)
    d = json.load(open(out))
    ev = d['traceEvents']
    rep = json.loads(run('report', '--json', *SM, trace)[1])
    lanes = {e['tid']: e['args']['name'] for e in ev if e['ph'] == 'M' and e['name'] == 'thread_name'}
    cpus = {i['cpu'] for i in rep['initcalls']}
    ok(all(lanes.get(c) == 'CPU %d initcalls' % c for c in cpus) and 'phases' in lanes.values(),
       '%s: named tracks for phases, levels and each CPU' % name, lanes)
    xs = [e for e in ev if e['ph'] == 'X']
    ok(sum(e['cat'] == 'initcall' for e in xs) == len(rep['initcalls']),
       '%s: one complete event per initcall (%d)' % (name, len(rep['initcalls'])))
    bad = [nests([e for e in xs if e['tid'] == tid]) for tid in lanes]
    ok(not any(bad), '%s: every begin/end nests on every track' % name, [b for b in bad if b])
    if name == 'panic':
        ok(any(e['ph'] == 'i' and e['name'] == 'panic' for e in ev), 'panic: an instant event marks it')

out = os.path.join(tmp, 'boot.csv')
rc, _, err = run('export', '--format', 'csv', '-o', out, *SM, os.path.join(FX, 'boot.htf'))
rows = list(csv.DictReader(open(out)))
rep = json.loads(run('report', '--json', *SM, os.path.join(FX, 'boot.htf'))[1])
ok(rc == 0 and [(r['name'], int(r['duration_ns'])) for r in rows] ==
   [(i['name'], i['duration_ns']) for i in rep['initcalls']],
   'csv: the same initcalls and durations as report --json (%d rows)' % len(rows), err)
import shutil
if shutil.which('babeltrace2'):
    ctf = os.path.join(tmp, 'ctf')
    rc, _, err = run('export', '-f', 'ctf', '-o', ctf, *SM, os.path.join(FX, 'boot.htf'))
    ok(rc == 0 and sorted(os.listdir(ctf)) == ['metadata', 'stream_0', 'stream_1'],
       'ctf: metadata and one stream per CPU', err)
    p = subprocess.run(['babeltrace2', ctf], capture_output=True, text=True)
    lines = p.stdout.splitlines()
    dumped = run('dump', '--json', '-q', os.path.join(FX, 'boot.htf'))[1].splitlines()
    ok(p.returncode == 0 and len(lines) == len(dumped) - 1,
       'babeltrace2 reads exactly the trace\'s %d events' % (len(dumped) - 1), p.stderr[-400:])
    ser = [i for i in rep['initcalls'] if i['name'] == 'serial8250_init'][0]
    want = 'initcall_end: { cpu_id = %d }, { seq = ' % ser['cpu']
    hit = [l for l in lines if l.find(want) > 0 and 'name = "serial8250_init"' in l]
    ok(hit and ('a0 = 0x%X' % int(ser['addr'], 16)) in hit[0] and 'a1 = 0x0,' in hit[0],
       'ctf: initcall_end of serial8250_init with its address, name and return value', hit[:1])
    mk = [l for l in lines if 'user_marker' in l]
    ok(mk and 'str = "userspace: init started"' in mk[0], 'ctf: the user marker\'s string', mk[:1])
    starts = [l[1:19] for l in lines]
    ok(starts == sorted(starts), 'ctf: babeltrace2 merges the streams in time order')
else:
    ok(False, 'babeltrace2 installed (scripts/install-deps.sh)')
rc, _, err = run('export', '-f', 'pdf', '-o', out, os.path.join(FX, 'boot.htf'))
ok(rc == 2 and 'unknown format' in err, 'unknown format: exit 2', err)
rc, _, err = run('export', '-f', 'perfetto', os.path.join(FX, 'boot.htf'))
ok(rc == 2, 'no -o: exit 2')
rc, _, err = run('export', '-f', 'csv', '-o', '/nonexistent/dir/x.csv', *SM, os.path.join(FX, 'boot.htf'))
ok(rc == 1 and 'cannot write' in err, 'unwritable output: exit 1 with a message', err)
subprocess.run(['rm', '-rf', tmp])
sys.exit(T.done())

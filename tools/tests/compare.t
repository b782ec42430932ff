#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""hypertrace compare, the boot-time gate: its Markdown, JUnit, JSON and
summary outputs against golden files (report JSON made from the fixture
boot with a slowed, a faster, a new and a vanished initcall and a panicking
candidate; and the fixture traces themselves)."""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FX = os.path.join(HERE, 'fixtures')
HT = os.path.join(os.environ.get('HT_BUILD', os.path.join(HERE, '..', '..', 'build')),
                  'bin', 'hypertrace')
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'boot'))
import htboot  # noqa: E402

T = htboot.Tap()
ok = T.ok
tmp = tempfile.mkdtemp(prefix='ht-compare-')
OUTS = ('md', 'xml', 'json')


def compare(args, cwd, binary=HT):
    """hypertrace compare writing every output into tmp; (exit status, stderr)."""
    p = subprocess.run([binary, 'compare', '--markdown', os.path.join(tmp, 'out.md'),
                        '--junit', os.path.join(tmp, 'out.xml'),
                        '--json', os.path.join(tmp, 'out.json')] + args,
                       cwd=cwd, capture_output=True, text=True)
    return p.returncode, p.stderr


def golden(name, args, cwd, want_rc):
    """Every output and the summary on stderr equal the golden files."""
    rc, err = compare(args, cwd)
    if os.environ.get('HT_COMPARE_GOLDEN'):
        # regenerate the golden files from the binary under test (review the diff)
        for ext in OUTS:
            shutil.copy(os.path.join(tmp, 'out.' + ext),
                        os.path.join(FX, 'compare-%s.%s' % (name, ext)))
        open(os.path.join(FX, 'compare-%s.err' % name), 'w').write(err)
    bad = []
    for ext in OUTS:
        got = open(os.path.join(tmp, 'out.' + ext), 'rb').read()
        if got != open(os.path.join(FX, 'compare-%s.%s' % (name, ext)), 'rb').read():
            bad.append(ext)
    if err != open(os.path.join(FX, 'compare-%s.err' % name)).read():
        bad.append('stderr')
    ok(rc == want_rc and not bad, '%s: exit %d; Markdown, JUnit, JSON and summary match the '
       'golden files' % (name, want_rc), 'exit %d, differ: %s\n%s' % (rc, bad, err))


def write(path, report):
    """A report JSON file."""
    with open(path, 'w') as f:
        json.dump(report, f)


# --- report JSON from the fixture boot, with planted changes ---------------
base = json.load(open(os.path.join(FX, 'boot.report.json')))
panic = json.load(open(os.path.join(FX, 'panic.report.json')))
rnd = random.Random(10)


def jitter(report, side):
    """One boot: every duration within +-2%, and the candidate's changes."""
    r = json.loads(json.dumps(report))
    for key in ('phases', 'levels', 'initcalls', 'shutdown'):
        for s in r[key]:
            s['duration_ns'] = int(s['duration_ns'] * rnd.uniform(0.98, 1.02))
    r['boot_ns'] = int(r['boot_ns'] * rnd.uniform(0.99, 1.01))
    extra = dict(r['initcalls'][0], name='weird|<init>&_\u00e9\u4e2d`*', duration_ns=3000000)
    r['initcalls'].append(extra)
    r['initcalls'].append(dict(extra, name='twice_init', duration_ns=1000000))
    r['initcalls'].append(dict(extra, name='twice_init', duration_ns=1500000))
    if side == 'b':
        r['initcalls'].append(dict(extra, name='gone_init', duration_ns=2000000))
        return r
    r['initcalls'].append(dict(extra, name='new_init', duration_ns=2000000, level='late'))
    for s in r['initcalls']:
        if s['name'] == 'serial8250_init':
            s['duration_ns'] = int(s['duration_ns'] * 1.3)
        if s['name'] == 'con_init':
            s['duration_ns'] //= 2
    return r


jdir = os.path.join(tmp, 'json')
os.mkdir(jdir)
args = ['--alpha', '0.05', '--baseline']
for i in range(10):
    write(os.path.join(jdir, 'b%d.json' % i), jitter(base, 'b'))
    args.append('b%d.json' % i)
args.append('--candidate')
for i in range(9):
    write(os.path.join(jdir, 'c%d.json' % i), jitter(base, 'c'))
    args.append('c%d.json' % i)
write(os.path.join(jdir, 'c9.json'), panic)
args.append('c9.json')
golden('json', args, jdir, 1)
res = json.load(open(os.path.join(tmp, 'out.json')))
ok([r['metric'] for r in res['regressions']] == ['initcall serial8250_init'] and
   [r['metric'] for r in res['improvements']] == ['initcall con_init'] and
   res['new_initcalls'] == ['new_init'] and res['vanished_initcalls'] == ['gone_init'] and
   [f['kind'] for f in res['failed_boots']] == ['panic'],
   'report JSON: the slowed, faster, new and vanished initcalls and the panic are found',
   json.dumps(res)[:1500])

# --- the fixture traces themselves ------------------------------------------
targs = ['--baseline'] + ['boot.htf'] * 10 + ['--candidate'] + ['boot.htf'] * 10 + ['panic.htf']
golden('trace', targs, FX, 1)
res = json.load(open(os.path.join(tmp, 'out.json')))
ok(res['metrics_tested'] > 500 and not res['regressions'] and
   res['failed_boots'][0]['kind'] == 'panic' and res['failed_boots'][0]['initcall'],
   'traces: %d metrics tested, none regressed, the panic and its initcall reported'
   % res['metrics_tested'], json.dumps(res)[:1500])

shutil.rmtree(tmp)
sys.exit(T.done())

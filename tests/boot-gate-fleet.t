#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""ci/boot-gate.sh as a fleet, without booting: a stand-in for `hypertrace
boot` writes each boot's report.json (a fixture's, one initcall slowed on
the candidate, the others jittered by round); three runners boot
--shard 1/3, 2/3 and 3/3, and --merge over their directories gives the
same decision as one runner that booted every round.  Bad --shard and
--merge combinations are usage errors.  The example CI jobs are valid
YAML with the jobs they describe."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'boot'))
import htboot  # noqa: E402

t = htboot.Tap()
GATE = os.path.join(TOP, 'ci', 'boot-gate.sh')
HT = os.path.abspath(htboot.HYPERTRACE)  # the stand-in runs it from elsewhere
t.require(HT)
tmp = tempfile.mkdtemp(prefix='ht-fleet-')
base = json.load(open(os.path.join(TOP, 'tools', 'tests', 'fixtures', 'boot.report.json')))

# the stand-in: "boot" writes a report whose numbers depend on the kernel
# (candidate: serial8250_init +30 %) and on the round (from -o DIR's name);
# everything else goes to the real hypertrace
fake = os.path.join(tmp, 'hypertrace')
json.dump(base, open(os.path.join(tmp, 'base.json'), 'w'))
open(fake, 'w').write('''#!/usr/bin/env python3
import json, os, re, sys
if sys.argv[1] != 'boot':
    os.execv(%r, [%r] + sys.argv[1:])
a = sys.argv
out, kernel = a[a.index('-o') + 1], a[a.index('--kernel') + 1]
n = int(re.search(r'-([0-9]+)$', out).group(1))
r = json.load(open(%r))
for s in r['initcalls']:
    s['duration_ns'] = int(s['duration_ns'] * (1 + 0.002 * ((n * 7) %% 5)))
    if s['name'] == 'serial8250_init' and kernel.endswith('cand'):
        s['duration_ns'] = int(s['duration_ns'] * 1.3)
os.makedirs(out, exist_ok=True)
json.dump(r, open(os.path.join(out, 'report.json'), 'w'))
with open(os.path.join(os.path.dirname(out), 'boots.log'), 'a') as f:
    f.write(os.path.basename(out) + '\\n')
''' % (HT, HT, os.path.join(tmp, 'base.json')))
os.chmod(fake, 0o755)
for k in ('base', 'cand'):
    open(os.path.join(tmp, k), 'w').write('not a kernel: the stand-in boots nothing')
env = dict(os.environ, HT=fake)


def gate(*args):
    """ci/boot-gate.sh; (exit status, stdout + stderr)."""
    p = subprocess.run([GATE] + list(args), capture_output=True, text=True, env=env, cwd=tmp)
    return p.returncode, p.stdout + p.stderr


kernels = ['--baseline', 'base', '--candidate', 'cand', '--initrd', 'base', '--boots', '10']
rc1, out1 = gate(*kernels, '-o', 'one')
one = json.load(open(os.path.join(tmp, 'one', 'compare.json'))) if rc1 != 2 else {}
rcs = []
for k in (1, 2, 3):
    rc, out = gate(*kernels, '--shard', '%d/3' % k, '-o', 'shard%d' % k)
    rcs.append(rc)
logs = [sorted(open(os.path.join(tmp, 'shard%d' % k, 'boots.log')).read().split())
        for k in (1, 2, 3)]
want = [sorted('%s-%d' % (s, i) for i in range(k, 11, 3) for s in ('baseline', 'candidate'))
        for k in (1, 2, 3)]
t.ok(rcs == [0, 0, 0] and logs == want and
     not os.path.exists(os.path.join(tmp, 'shard1', 'compare.json')),
     '--shard K/3: each runner boots rounds K, K+3, ... of both kernels and compares nothing',
     str(logs))
rcm, outm = gate('--merge', 'shard1', '--merge', 'shard2', '--merge', 'shard3', '-o', 'merged')
merged = json.load(open(os.path.join(tmp, 'merged', 'compare.json'))) if rcm != 2 else {}
keys = ('result', 'baseline_boots', 'candidate_boots', 'metrics_tested', 'regressions',
        'improvements')
t.ok(rc1 == 1 and rcm == 1 and one.get('baseline_boots') == 10 and
     [one.get(k) for k in keys] == [merged.get(k) for k in keys] and
     'initcall serial8250_init' in [r['metric'] for r in merged.get('regressions', [])] and
     os.path.exists(os.path.join(tmp, 'merged', 'diff.html')),
     '--merge of the three shards: the same decision as one runner (serial8250_init '
     'regressed, 10+10 boots)', out1[-300:] + outm[-300:])

for args, what, msg in (
        (kernels + ['--shard', '0/3'], '--shard 0/3', '1 <= K <= N'),
        (kernels + ['--shard', '4/3'], '--shard 4/3', '1 <= K <= N'),
        (kernels + ['--shard', '2'], '--shard 2', '1 <= K <= N'),
        (['--merge', 'nowhere'], '--merge of a missing directory', 'no such directory'),
        (['--merge', 'shard1'] + kernels, '--merge with kernels to boot', 'boots nothing')):
    rc, out = gate(*args)
    t.ok(rc == 2 and msg in out, '%s: exit 2, says why' % what, out)

try:
    import yaml
except ImportError:
    yaml = None
if yaml:
    gh = yaml.safe_load(open(os.path.join(TOP, 'ci', 'github-actions.yml')))
    gl = yaml.safe_load(open(os.path.join(TOP, 'ci', 'gitlab-ci.yml')))
    jobs = gh.get('jobs', {})
    t.ok(set(jobs) >= {'boot-gate', 'boots', 'merge'} and
         jobs['merge'].get('needs') == 'boots' and
         'matrix' in jobs['boots'].get('strategy', {}) and
         set(gl) >= {'boot-gate', 'boots', 'merge'} and gl['boots'].get('parallel') and
         gl['merge'].get('needs') == ['boots'],
         'the example CI jobs parse as YAML: one runner, and a sharded matrix with its merge job',
         str(list(jobs)) + str(list(gl)))
else:
    t.ok(False, 'python3-yaml is installed (scripts/install-deps.sh), to check ci/*.yml')

shutil.rmtree(tmp)
sys.exit(t.done())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""hypertrace report and html on a synthetic boot with async work and a
known critical path: slow_async_probe (cookie 1, CPU 1) begins inside
ic_one_init and ends inside the async_synchronize phase (2 ms before
its end: a wait by the phase, not by inference), so the path is
setup_arch, ic_one_init up to 3.5 ms, slow_async_probe, async_synchronize
(it waited), free_initmem; quick_async_fn ended long before and is not on
it.  Text, JSON (keys and values) and the page in headless Chromium (no
console errors, the path's table and outlines, two async lanes).  Then a
hostile trace: ends without begins, a repeated cookie, an end of another
function, all counted.  And a trace with the kernel's wait records: a
wait the inference would miss is on the path, certain."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'boot'))
from htboot import HYPERTRACE as HT, Tap, htf  # noqa: E402

T = Tap()
ok = T.ok
MS = 1_000_000          # 1 GHz: a TSC tick is a nanosecond
SYMS = {'ic_one_init': 0xffffffff81000100, 'ic_two_init': 0xffffffff81000200,
        'ic_three_init': 0xffffffff81000300, 'slow_async_probe': 0xffffffff81000400,
        'quick_async_fn': 0xffffffff81000500}
PH = {'setup_arch': 1, 'do_basic_setup': 9, 'async_synchronize': 10, 'free_initmem': 11}
LV_CORE, LV_DEVICE = 1, 6


class Trace:
    """Guest records on CPUs 0 and 1, each with its own sequence numbers."""

    def __init__(self):
        self.recs = []
        self.seq = [0, 0]

    def ev(self, name, cpu, t, a0=0, a1=0):
        """One record of type @name at @t ns."""
        self.recs.append(htf.record(htf.EV[name], cpu=cpu, seq=self.seq[cpu], tsc=int(t),
                                    a0=a0, a1=a1))
        self.seq[cpu] += 1

    def phase(self, name, a, b):
        """A phase on CPU 0."""
        self.ev('phase_begin', 0, a, PH[name])
        self.ev('phase_end', 0, b, PH[name])

    def initcall(self, name, level, a, b):
        """An initcall on CPU 0."""
        self.ev('initcall_begin', 0, a, SYMS[name], level)
        self.ev('initcall_end', 0, b, SYMS[name], 0)

    def async_(self, name, cookie, a, b):
        """Async work on CPU 1."""
        self.ev('async_begin', 1, a, SYMS[name], cookie)
        self.ev('async_end', 1, b, SYMS[name], cookie)

    def write(self, path):
        """The trace file: metadata, the records, an END."""
        with htf.Writer(path) as w:
            w.header()
            w.metadata({'tool': 'test', 'abi_version': 1, 'accel': 'tcg'})
            w.records(htf.SRC_RING, self.recs)
            w.end({'exit_status': 0, 'verdict': 'none'})


def base():
    """The boot of the docstring, without its async work."""
    t = Trace()
    t.ev('tsc_khz', 0, 100, 1_000_000)
    t.ev('start_kernel', 0, 900)
    t.phase('setup_arch', 1 * MS, 2 * MS)
    t.ev('phase_begin', 0, 3 * MS, PH['do_basic_setup'])
    t.initcall('ic_one_init', LV_CORE, 3.1 * MS, 4 * MS)
    t.initcall('ic_two_init', LV_CORE, 4.1 * MS, 6 * MS)
    t.initcall('ic_three_init', LV_DEVICE, 6.1 * MS, 19 * MS)
    t.ev('phase_end', 0, 20 * MS, PH['do_basic_setup'])
    t.phase('async_synchronize', 21 * MS, 25.05 * MS)
    t.phase('free_initmem', 25.1 * MS, 26 * MS)
    t.ev('boot_done', 0, 27 * MS)
    return t


def run(*args):
    """hypertrace with @args; (exit status, stdout, stderr)."""
    p = subprocess.run([HT] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


tmp = tempfile.mkdtemp()
smap = os.path.join(tmp, 'System.map')
with open(smap, 'w') as f:
    for name, addr in sorted(SYMS.items(), key=lambda kv: kv[1]):
        f.write('%016x T %s\n' % (addr, name))
    f.write('ffffffff81000600 T _etext\n')
trace = os.path.join(tmp, 'async.htf')
t = base()
t.async_('slow_async_probe', 1, 3.5 * MS, 23 * MS)
t.async_('quick_async_fn', 2, 6.2 * MS, 10 * MS)
t.write(trace)

# text
rc, out, err = run('report', '--system-map', smap, trace)
ok(rc == 0, 'report: exit 0', err)
sec = out[out.find('async work:'):]
ok(re.search(r'^async work: 2 spans on 1 CPU, 0 unfinished', sec, re.M),
   'text: the async work section counts 2 spans on 1 CPU', sec[:300])
rows = re.findall(r'^  (\w+)\s+([0-9.]+)\s+([0-9.]+)%\s+([0-9.]+)\s+(\d+)$', sec, re.M)
ok(rows[:2] == [('slow_async_probe', '19.500', '72.2', '3.500', '1'),
                ('quick_async_fn', '3.800', '14.1', '6.200', '1')],
   'text: async spans longest first, with took, share, start and CPU', rows)
crit = out[out.find('critical path'):out.find('\n\n', out.find('critical path'))]
ok(crit.startswith('critical path to the end of the boot at 27.000 ms: 5 links cover '
                   '23.850 ms (88.3%), async work 19.500 ms, 1 wait for it'),
   'text: the critical path\'s summary', crit)
links = re.findall(r'\u2514\u2500(\S+)\s+@\s*([0-9.]+) \+\s*([0-9.]+)\s+[0-9.]+%  (.*)', crit)
want = [('free_initmem', '25.100', '0.900', 'phase'),
        ('async_synchronize', '21.000', '4.050', 'phase, waited for the async work below'),
        ('slow_async_probe', '3.500', '19.500', 'async, CPU 1'),
        ('ic_one_init', '3.100', '0.400', 'initcall core, the async work above began while it ran'),
        ('setup_arch', '1.000', '1.000', 'phase')]
ok(links == want, 'text: the links from the end back, each @start +took and why', crit)
ok('ic_two_init' not in crit and 'ic_three_init' not in crit and 'quick_async_fn' not in crit,
   'text: what the end did not wait for is not on the path')

# JSON
rc, out, err = run('report', '--json', '--system-map', smap, trace)
o = json.loads(out) if rc == 0 else {}
ok(all(k in o for k in ('async', 'async_stats', 'critical_path', 'critical_path_summary')),
   'JSON: async, async_stats, critical_path, critical_path_summary', err)
a = o.get('async', [])
ok([(x['name'], x['cookie'], x['cpu'], x['end_cpu'], x['start_ns'], x['duration_ns'])
    for x in a] == [('slow_async_probe', 1, 1, 1, 3_500_000, 19_500_000),
                    ('quick_async_fn', 2, 1, 1, 6_200_000, 3_800_000)],
   'JSON: async spans by start: name, cookie, CPUs, start, duration', a)
cp = o.get('critical_path', [])
ok([(c['kind'], c['name'], c['why'], c['start_ns'], c['duration_ns']) for c in cp] ==
   [('phase', 'setup_arch', 'sequence', 1_000_000, 1_000_000),
    ('initcall', 'ic_one_init', 'async-began', 3_100_000, 400_000),
    ('async', 'slow_async_probe', 'async', 3_500_000, 19_500_000),
    ('phase', 'async_synchronize', 'waited', 21_000_000, 4_050_000),
    ('phase', 'free_initmem', 'sequence', 25_100_000, 900_000)],
   'JSON: the critical path, earliest first: kind, name, why, start, duration', cp)
ok(cp and cp[1].get('partial') is True and cp[1]['level'] == 'core' and cp[2]['index'] == 0 and
   abs(cp[2]['share'] - 19.5 / 27) < 1e-3,
   'JSON: the partial initcall, its level, the async link\'s index and share', cp[1:3])
s = o.get('critical_path_summary', {})
ok(s == {'end_ns': 27_000_000, 'end': 'boot_done', 'links': 5, 'on_path_ns': 23_850_000,
         'share': round(23.85 / 27, 4), 'async_ns': 19_500_000, 'waits': 1,
         'waits_recorded': False, 'wait_slack_ns': 2_000_000, 'wait_min_ns': 1_000_000},
   'JSON: the summary', s)
ok(o.get('async_stats') == {'events': 4, 'spans': 2, 'unfinished': 0, 'unmatched_ends': 0,
                            'duplicate_begins': 0, 'fn_mismatches': 0, 'dropped': 0,
                            'cap': 65536, 'wait_events': 0, 'waits': 0, 'wait_unmatched': 0,
                            'wait_dropped': 0} and o.get('async_waits') == [],
   'JSON: async_stats, no wait records', o.get('async_stats'))

# the same boot, quick_async_fn ending 0.1 ms before ic_three_init: it waited (inferred)
t2 = base()
t2.async_('slow_async_probe', 1, 3.5 * MS, 5 * MS)
t2.async_('quick_async_fn', 2, 6.2 * MS, 18.9 * MS)
trace2 = os.path.join(tmp, 'inferred.htf')
t2.write(trace2)
o2 = json.loads(run('report', '--json', '--system-map', smap, trace2)[1])
ok([(c['name'], c['why']) for c in o2['critical_path']] ==
   [('setup_arch', 'sequence'), ('ic_one_init', 'sequence'), ('ic_two_init', 'sequence'),
    ('quick_async_fn', 'async'), ('ic_three_init', 'waited-inferred'),
    ('async_synchronize', 'sequence'), ('free_initmem', 'sequence')],
   'JSON: an initcall ending just after async work waited for it (inferred)',
   o2['critical_path'])

# hostile: an end without a begin, an end before its begin, cookie 5 twice,
# an end of another function
t3 = base()
t3.ev('async_end', 1, 2.5 * MS, SYMS['slow_async_probe'], 9)
t3.ev('async_end', 1, 2.6 * MS, SYMS['slow_async_probe'], 6)
t3.ev('async_begin', 1, 2.7 * MS, SYMS['slow_async_probe'], 6)
t3.ev('async_begin', 1, 3.0 * MS, SYMS['slow_async_probe'], 5)
t3.ev('async_begin', 1, 3.1 * MS, SYMS['quick_async_fn'], 5)
t3.ev('async_end', 1, 3.5 * MS, SYMS['slow_async_probe'], 5)
t3.ev('async_begin', 1, 4.0 * MS, SYMS['slow_async_probe'], 7)
t3.ev('async_end', 1, 4.1 * MS, SYMS['quick_async_fn'], 7)
trace3 = os.path.join(tmp, 'hostile.htf')
t3.write(trace3)
rc, out, err = run('report', '--system-map', smap, trace3)
ok(rc == 0 and '  not paired: 2 ends without a begin, 1 duplicate begin, 1 end of another '
   'function, 0 spans beyond the 65536 kept' in out and
   'async work: 3 spans on 1 CPU, 2 unfinished' in out,
   'hostile: text counts what was not paired', out[out.find('async work'):][:400])
o3 = json.loads(run('report', '--json', '--system-map', smap, trace3)[1])
ok(o3['async_stats']['unmatched_ends'] == 2 and o3['async_stats']['duplicate_begins'] == 1 and
   o3['async_stats']['fn_mismatches'] == 1 and
   [x.get('unfinished', False) for x in o3['async']] == [True, False, True] and
   o3['critical_path_summary']['waits'] == 0,
   'hostile: JSON counts, two spans open, no wait on the path', o3['async_stats'])

# the kernel's wait records: ic_three_init (6.1-19 ms) waits 7-15.5 ms in
# pid 1 (woken on CPU 1) and quick_async_fn (cookie 2) ends at 15 ms, 4 ms
# before the initcall does: too far for the inference, certain all the same
t4 = base()
t4.async_('quick_async_fn', 2, 6.2 * MS, 15 * MS)
t4.async_('slow_async_probe', (1 << 64) - 1, 2.1 * MS, 2.5 * MS)   # a cookie JSON cannot hold
t4.ev('async_wait_begin', 0, 7 * MS, 3, 1)
t4.ev('async_wait_end', 1, 15.5 * MS, 3, 1)
t4.ev('async_wait_begin', 0, 21.01 * MS, (1 << 64) - 1, 1)
t4.ev('async_wait_end', 0, 21.02 * MS, (1 << 64) - 1, 1)
trace4 = os.path.join(tmp, 'waits.htf')
t4.write(trace4)
rc, out, err = run('report', '--system-map', smap, trace4)
crit = out[out.find('critical path'):]
ok(rc == 0 and '1 wait for it (recorded by the kernel)' in crit and
   re.search(r'ic_three_init\s+@\s+6\.100 \+\s+12\.900.*initcall device, waited for the async '
             r'work below$', crit, re.M) and re.search(r'quick_async_fn\s+@\s+6\.200 \+\s+8\.800',
                                                     crit),
   'recorded: text: ic_three_init waited for quick_async_fn, the wait recorded', crit[:900])
o4 = json.loads(run('report', '--json', '--system-map', smap, trace4)[1])
ok(o4['critical_path_summary']['waits_recorded'] and
   o4['async_waits'] == [{'cookie': 3, 'all': False, 'pid': 1, 'cpu': 0, 'end_cpu': 1,
                          'start_ns': 7 * MS, 'duration_ns': int(8.5 * MS)},
                         {'cookie': None, 'all': True, 'pid': 1, 'cpu': 0, 'end_cpu': 0,
                          'start_ns': int(21.01 * MS), 'duration_ns': int(0.01 * MS)}] and
   [c['why'] for c in o4['critical_path'] if c['name'] == 'ic_three_init'] == ['waited'] and
   o4['async_stats']['wait_events'] == 4 and o4['async_stats']['wait_unmatched'] == 0 and
   [a['cookie'] for a in o4['async'] if a['name'] == 'slow_async_probe'] == [None],
   'recorded: JSON: async_waits, the wait on the path certain, a cookie above 2^63 null',
   o4['async_waits'])

# the page in headless Chromium
chromium = shutil.which('chromium') or shutil.which('chromium-browser')
if not chromium:
    T.diag('SKIP the page: chromium is not installed')
else:
    page = os.path.join(tmp, 'async.html')
    rc, out, err = run('html', '-o', page, '--system-map', smap, trace)
    ok(rc == 0, 'html written', err)
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             '--user-data-dir=' + os.path.join(tmp, 'profile'), '--window-size=1400,1000']
    p = subprocess.run([chromium] + flags + ['--enable-logging=stderr', '--v=0', '--dump-dom',
                                             'file://' + page],
                       capture_output=True, text=True, timeout=120)
    dom = p.stdout
    errors = [x for x in p.stderr.splitlines() if 'CONSOLE' in x or 'Uncaught' in x]
    ok(p.returncode == 0 and not errors and 'data-rendered' in dom,
       'the page loads without console errors', '\n'.join(errors))
    table = re.search(r'<table id="crit">(.*?)</table>', dom, re.S)
    names = [re.findall(r'<td[^>]*>(.*?)</td>', tr)[:1]
             for tr in re.findall(r'<tr[^>]*>(.*?)</tr>', table.group(1) if table else '')]
    ok([n[0] for n in names if n] == ['free_initmem', 'async_synchronize', 'slow_async_probe',
                                      'ic_one_init', 'setup_arch'],
       'the page\'s critical path table, from the end back', names)
    ok(dom.count('class="crit"') == 5,
       'each of the 5 links is outlined in its lane (%d outlines)' % dom.count('class="crit"'))
    ok('>async work 1<' in dom and '>async work 2<' in dom and '>critical path<' in dom,
       'two lanes of concurrent async work and a critical path lane')
    ok(re.search(r'<p id="critsum">to the end of the boot at 27\.000 ms: 5 links', dom),
       'the page says what the path ends at and how many links')
shutil.rmtree(tmp)
sys.exit(T.done())

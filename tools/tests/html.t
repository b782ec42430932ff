#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""hypertrace html in real headless Chromium: the report of a recorded boot
loads without console errors, draws its timeline (rects in the DOM, a
screenshot that is not blank), and a user marker reading
<script>alert(1)</script> shows as text, not markup.  A hypergraph's call
trees: a known three-level tree is in the page's JSON as it was recorded
and its flame graph and tree table show it; a tree of 100k places is
pruned to the caps, with every folded place and nanosecond accounted for."""
import html as html_lib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FX = os.path.join(HERE, 'fixtures')
HT = os.path.join(os.environ.get('HT_BUILD', os.path.join(HERE, '..', '..', 'build')),
                  'bin', 'hypertrace')
SM = ['--system-map', os.path.join(FX, 'System.map')]
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'boot'))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests'))
import htboot  # noqa: E402
import htf  # noqa: E402

T = htboot.Tap()
ok = T.ok


def marker_chunk(text, tsc, seq):
    """A RECORDS chunk (port) holding one USER_MARKER with @text."""
    return htf.chunk(htf.RECORDS, htf.SRC_PORT,
                     htf.string_records(htf.EV['user_marker'], text, seq=seq, tsc=tsc, a0=1))


chromium = shutil.which('chromium') or shutil.which('chromium-browser')
if not chromium:
    print('1..0 # SKIP chromium is not installed (scripts/install-deps.sh installs it)')
    sys.exit(0)
tmp = tempfile.mkdtemp()
trace = os.path.join(tmp, 'evil.htf')
evil = '<script>alert(1)</script><b>bold?</b> & "quotes"'
data = open(os.path.join(FX, 'boot.htf'), 'rb').read()
open(trace, 'wb').write(data + marker_chunk(evil, 2_000_000_000, 100000))
html = os.path.join(tmp, 'report.html')
p = subprocess.run([HT, 'html', '-o', html] + SM + [trace], capture_output=True, text=True)
ok(p.returncode == 0 and os.path.getsize(html) > 10000, 'html written', p.stderr)
src = open(html).read()
ok('http://' not in src.replace('http://www.w3.org/2000/svg', '') and 'https://' not in src,
   'self-contained: no network address in the page')
ok('<script>alert(1)' not in src and src.count('<script') == 2,
   'the evil marker is not markup in the file (2 script elements, both ours)')

flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--user-data-dir=' + os.path.join(tmp, 'profile'), '--window-size=1400,1000']
p = subprocess.run([chromium] + flags + ['--enable-logging=stderr', '--v=0', '--dump-dom',
                                         'file://' + html],
                   capture_output=True, text=True, timeout=120)
dom = p.stdout
errors = [l for l in p.stderr.splitlines() if 'CONSOLE' in l or 'Uncaught' in l]
ok(p.returncode == 0 and not errors, 'Chromium loads it without console errors', '\n'.join(errors))
m = re.search(r'data-rendered="(\d+)"', dom)
ok(m and int(m.group(1)) > 300, 'the timeline is drawn (%s rects)' % (m.group(1) if m else 'no'))
ok('&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;bold?&lt;/b&gt;' in dom and '<b>bold?</b>' not in dom,
   'the marker <script>alert(1)</script> shows as text in the rendered page')
# the page carries the initcalls as rows; its script turns them back into
# report --json's objects: the slowest table must match the JSON's
rep = json.loads(subprocess.run([HT, 'report', '--json'] + SM + [trace], capture_output=True,
                                text=True).stdout)
want = [[i['name'] + (' (never returned)' if i.get('unfinished') else ''),
         '%.3f' % (i['duration_ns'] / 1e6), i['level'], str(i['cpu'])]
        for i in sorted(rep['initcalls'], key=lambda i: -i['duration_ns'])[:25]]
table = re.search(r'<table id="slow">(.*?)</table>', dom, re.S)
got = [[html_lib.unescape(c) for c in re.findall(r'<td[^>]*>(.*?)</td>', tr)]
       for tr in re.findall(r'<tr>(.*?)</tr>', table.group(1) if table else '')]
got = [[r[0], r[1], r[3], r[4]] for r in got if len(r) == 5]
ok(len(want) == 25 and got == want,
   'the page\'s initcall rows decode to report --json\'s initcalls (slowest 25: name, time, '
   'level, CPU)', 'want %r\ngot  %r' % (want[:3], got[:3]))
png = os.path.join(tmp, 'shot.png')
p = subprocess.run([chromium] + flags + ['--screenshot=' + png, 'file://' + html],
                   capture_output=True, text=True, timeout=120)
ok(os.path.exists(png) and os.path.getsize(png) > 30000,
   'screenshot is not blank (%d bytes)' % (os.path.getsize(png) if os.path.exists(png) else 0))

# the failure banner
html2 = os.path.join(tmp, 'panic.html')
subprocess.run([HT, 'html', '-o', html2] + SM + [os.path.join(FX, 'panic.htf')], check=True)
dom = subprocess.run([chromium] + flags + ['--dump-dom', 'file://' + html2],
                     capture_output=True, text=True, timeout=120).stdout
ok(re.search(r'BOOT FAILED: panic in serial8250_init, at [0-9.]+ ms', dom) and
   'panic in serial8250_init' in dom,
   'a panicked boot shows the failure banner with the time, the initcall and the message')
# 5,000 initcalls: still drawn, and quickly
recs = [htf.record(htf.EV['tsc_khz'], tsc=1000, a0=2_000_000)]       # 2 GHz
seq = 1
for i in range(5000):
    fn = 0xffffffff81000000 + 16 * i
    t = 10_000_000 + i * 200_000
    recs.append(htf.record(htf.EV['initcall_begin'], seq=seq, tsc=t, a0=fn, a1=6))
    recs.append(htf.record(htf.EV['initcall_end'], seq=seq + 1, tsc=t + 150_000, a0=fn))
    seq += 2
big = os.path.join(tmp, 'big.htf')
with htf.Writer(big) as w:
    w.raw(data[:htf.HEADER_SIZE]).records(htf.SRC_RING, recs)
html3 = os.path.join(tmp, 'big.html')
p = subprocess.run([HT, 'html', '-o', html3, big], capture_output=True, text=True)
t0 = time.monotonic()
dom = subprocess.run([chromium] + flags + ['--dump-dom', 'file://' + html3],
                     capture_output=True, text=True, timeout=120).stdout
took = time.monotonic() - t0
m = re.search(r'data-rendered="(\d+)"', dom)
ok(p.returncode == 0 and m and int(m.group(1)) >= 5000,
   '5,000 initcalls: all drawn (%s rects), page loaded in %.1f s with Chromium start-up'
   % (m.group(1) if m else 'no', took), p.stderr)

# ---- call trees and flame graphs ----
DOIC, IC, FA, FB, LEAF = (0xffffffff81000000 + 0x100 * i for i in range(5))


class Graph:
    """Ring records of one boot on CPU 0, pid 1, a 1 GHz TSC (1 tick = 1 ns)."""

    def __init__(self):
        self.recs, self.tsc, self.seq = [], 0, 0
        self.rec('tsc_khz', 100, 1_000_000)
        self.rec('start_kernel', 100)
        self.rec('graph_start', 100)
        self.rec('task_switch', 100, 0, 1)

    def rec(self, kind, dt, a0=0, a1=0):
        """A record @dt ns after the last."""
        self.tsc += dt
        self.recs.append(htf.record(htf.EV[kind], seq=self.seq, tsc=self.tsc, a0=a0, a1=a1))
        self.seq += 1

    def enter(self, fn):
        """A FUNC_ENTRY of @fn, 10 ns on."""
        self.rec('func_entry', 10, (fn & 0xffffffff) | (1 << 32))

    def leave(self, fn, dt):
        """@fn's FUNC_EXIT, @dt ns on."""
        self.rec('func_exit', dt, (fn & 0xffffffff) | (1 << 32))

    def write(self, path):
        """The trace, the fixture's header and these records."""
        with htf.Writer(path) as w:
            w.raw(data[:htf.HEADER_SIZE]).records(htf.SRC_RING, self.recs)


g = Graph()
g.rec('initcall_begin', 100, IC, 6)
g.enter(DOIC)
g.enter(IC)
g.enter(FA)
for _ in range(2):
    g.enter(LEAF)
    g.leave(LEAF, 500_000)
g.leave(FA, 10)
g.enter(FB)
for _ in range(4):
    g.enter(LEAF)
    g.leave(LEAF, 250_000)
g.leave(FB, 10)
g.leave(IC, 10)
g.leave(DOIC, 10)
g.rec('initcall_end', 10, IC, 0)
g.rec('boot_done', 100)
known = os.path.join(tmp, 'known.htf')
g.write(known)
kmap = os.path.join(tmp, 'known.map')
open(kmap, 'w').write(''.join('%x T %s\n' % (a, n) for a, n in [
    (DOIC, 'do_one_initcall'), (IC, 'known_init'), (FA, 'known_a'), (FB, 'known_b'),
    (LEAF, 'known_leaf')]))
html4 = os.path.join(tmp, 'known.html')
p = subprocess.run([HT, 'html', '-o', html4, '--system-map', kmap, known], capture_output=True,
                   text=True)


def page_json(path):
    """The JSON a page carries."""
    return json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>',
                                open(path).read(), re.S).group(1))


def tree_of(ct, t):
    """A page tree's rows as (name, parent name, calls, total, self, folded)."""
    rows = t['rows']
    return [(ct['names'][r[0]], ct['names'][rows[r[1]][0]] if r[1] >= 0 else None,
             r[2], r[3], r[4], r[6]) for r in rows]


ct = page_json(html4).get('calltrees', {}) if p.returncode == 0 else {}
trees = ct.get('initcalls', [])
got = sorted(tree_of(ct, trees[0])) if trees else []
# the leaves' times are their exits' distances from their entries; the
# others' are that plus the 10 ns steps between records
want = sorted([('known_init', None, 1, 2_000_110, 30, 0), ('known_a', 'known_init', 1, 1_000_030, 30, 0),
               ('known_b', 'known_init', 1, 1_000_050, 50, 0),
               ('known_leaf', 'known_a', 2, 1_000_000, 1_000_000, 0),
               ('known_leaf', 'known_b', 4, 1_000_000, 1_000_000, 0)])
ok(p.returncode == 0 and len(trees) == 1 and trees[0]['name'] == 'known_init' and
   trees[0]['nodes'] == 5 and trees[0]['kept'] == 5 and got == want,
   'calltrees: the known tree in the page: initcall -> _a -> leaf x2, -> _b -> leaf x4, '
   'calls and times as recorded', 'got %r\n%s' % (got, p.stderr))
ok(trees and trees[0]['ic'] == 0 and page_json(html4)['initcall_rows'][0][0] == 'known_init',
   'calltrees: the tree names its initcall\'s row in the page')
p = subprocess.run([chromium] + flags + ['--enable-logging=stderr', '--v=0', '--dump-dom',
                                         'file://' + html4],
                   capture_output=True, text=True, timeout=120)
errors = [l for l in p.stderr.splitlines() if 'CONSOLE' in l or 'Uncaught' in l]
ok(p.returncode == 0 and not errors, 'known tree: Chromium loads the page without console errors',
   '\n'.join(errors))
dom = p.stdout
fl = re.search(r'<svg id="flame"[^>]*data-levels="(\d+)"', dom)
bars = re.findall(r'<rect [^>]*class="fl"[^>]*data-depth="(\d+)" data-name="([^"]*)"', dom)
levels = {}
for d, n in bars:
    levels.setdefault(int(d), []).append(n)
ok(fl and fl.group(1) == '3' and levels == {0: ['known_init'], 1: ['known_b', 'known_a'],
                                           2: ['known_leaf', 'known_leaf']},
   'known tree: the flame graph draws three levels: the initcall, _a and _b, the leaf under each',
   repr(levels))
rows = [[html_lib.unescape(re.sub(r'<[^>]+>', '', c)) for c in re.findall(r'<td[^>]*>(.*?)</td>', tr)]
        for tr in re.findall(r'<tr [^>]*role="row"[^>]*>(.*?)</tr>', dom)]
ok([r[:3] for r in rows] == [['\u25beknown_init', '1', '2.000'], ['\u25beknown_b', '1', '1.000'],
                             ['known_leaf', '4', '1.000'], ['\u25beknown_a', '1', '1.000'],
                             ['known_leaf', '2', '1.000']],
   'known tree: the tree table shows it opened three levels deep, longest first', repr(rows))
# zoomed into _b (#tree=...&focus=, as a click on its bar does): the
# initcall above it faded, _b the full width, its leaf in proportion (each
# bar is drawn 0.5 px short, a gap)
dom = subprocess.run([chromium] + flags + ['--dump-dom', 'file://' + html4 +
                                           '#tree=known_init&focus=known_b'],
                     capture_output=True, text=True, timeout=120).stdout
bars = [(c, int(d), n, float(w)) for w, c, d, n in
        re.findall(r'<rect [^>]*width="([0-9.]+)"[^>]*class="(fl[^"]*)"[^>]*data-depth="(\d+)" '
                   r'data-name="([^"]*)"', dom)]
wide_ = max([b[3] for b in bars] or [0])
ok(re.search(r'<svg id="flame"[^>]*data-focus="known_b"', dom) and
   [b[:3] for b in bars] == [('fl anc', 0, 'known_init'), ('fl', 1, 'known_b'), ('fl', 2, 'known_leaf')]
   and wide_ > 1000 and bars[0][3] == bars[1][3] == wide_ and
   abs(bars[2][3] + 0.5 - (wide_ + 0.5) * 1_000_000 / 1_000_050) < 0.01,
   'known tree: zoomed into _b, the flame graph shows the initcall faded above, _b the full '
   'width and its leaf 1,000,000/1,000,050 of it', repr(bars))
tasks = page_json(html4)['calltrees'].get('tasks', [])
got = sorted(tree_of(ct, tasks[0])) if tasks else []
ok(len(tasks) == 1 and tasks[0]['name'] == '? (1)' and tasks[0]['kept'] == 7 and
   got == sorted([('? (1)', None, 1, 2_000_130, 0, 0),
                  ('do_one_initcall', '? (1)', 1, 2_000_130, 20, 0)] +
                 [w[:1] + (w[1] or 'do_one_initcall',) + w[2:] for w in want]),
   'calltrees: pid 1\'s whole-boot tree: the task, do_one_initcall, the known tree',
   repr(got))

# 100k places below one initcall: 1,000 callees with 100 callees each
g = Graph()
g.rec('initcall_begin', 100, IC, 6)
g.enter(IC)
for i in range(1000):
    f = 0xffffffff82000000 + 16 * i
    g.enter(f)
    for j in range(100):
        leaf = 0xffffffff83000000 + 16 * j
        g.enter(leaf)
        g.leave(leaf, 100 + 37 * ((i * 100 + j) % 101))
    g.leave(f, 10)
g.leave(IC, 10)
g.rec('initcall_end', 10, IC, 0)
g.rec('boot_done', 100)
wide = os.path.join(tmp, 'wide.htf')
g.write(wide)


def wide_tree(*opts):
    """The wide trace's page tree with @opts: (tree, seconds hypertrace html took)."""
    out = os.path.join(tmp, 'wide.html')
    t0 = time.monotonic()
    p = subprocess.run([HT, 'html', '-o', out] + list(opts) + [wide], capture_output=True,
                       text=True)
    took = time.monotonic() - t0
    if p.returncode or 'calltrees' not in page_json(out):
        return None, took
    c = page_json(out)['calltrees']
    return (c, c['initcalls'][0] if c['initcalls'] else None), took


def conserved(t):
    """Each kept row's children (kept and "[other]") add up to its total less its self."""
    kids = {}
    for r in t['rows']:
        kids[r[1]] = kids.get(r[1], 0) + r[3]
    return all(kids.get(i, 0) == r[3] - r[4] for i, r in enumerate(t['rows']) if r[6] == 0)


for opts, cap in (((), 2000), (('--tree-min', '0', '--tree-nodes', '500'), 500),
                  (('--tree-min', '0'), 2000)):
    res, took = wide_tree(*opts)
    c, t = res if res else (None, None)
    ok(t and t['nodes'] == 101_001 and len(t['rows']) <= cap and
       t['kept'] + t['folded'] == t['nodes'] and conserved(t) and
       t['kept'] < len(t['rows']) and (t['capped'] or not opts),
       'wide tree %s: 101,001 places, %d rows (cap %d), %d kept + %d folded, time conserved, '
       'written in %.2f s' % (' '.join(opts) or '(defaults)', len(t['rows']) if t else -1, cap,
                              t['kept'] if t else -1, t['folded'] if t else -1, took),
       repr(t)[:600])
res, _ = wide_tree('--tree-budget', '1')
ok(res and res[1] is None and res[0]['skipped'] == 1 and res[0]['trees'] == 0,
   'a page budget too small for a tree: none written, the initcall counted as skipped')
res, _ = wide_tree('--tree-budget', '0')
ok(res is None and 'calltrees' not in page_json(os.path.join(tmp, 'wide.html')),
   '--tree-budget 0: no call trees in the page')
p = subprocess.run([HT, 'html', '-o', os.path.join(tmp, 'x.html'), '--tree-nodes', '1', wide],
                   capture_output=True, text=True)
ok(p.returncode == 2 and 'tree-nodes' in p.stderr, '--tree-nodes 1 is a usage error', p.stderr)
shutil.rmtree(tmp)
sys.exit(T.done())

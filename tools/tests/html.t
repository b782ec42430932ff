#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""hypertrace html in real headless Chromium: the report of a recorded boot
loads without console errors, draws its timeline (rects in the DOM, a
screenshot that is not blank), and a user marker reading
<script>alert(1)</script> shows as text, not markup."""
import html as html_lib
import json
import os
import shutil
import subprocess
import sys
import tempfile

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
import re
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
import time
t0 = time.monotonic()
dom = subprocess.run([chromium] + flags + ['--dump-dom', 'file://' + html3],
                     capture_output=True, text=True, timeout=120).stdout
took = time.monotonic() - t0
m = re.search(r'data-rendered="(\d+)"', dom)
ok(p.returncode == 0 and m and int(m.group(1)) >= 5000,
   '5,000 initcalls: all drawn (%s rects), page loaded in %.1f s with Chromium start-up'
   % (m.group(1) if m else 'no', took), p.stderr)
shutil.rmtree(tmp)
sys.exit(T.done())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""Async work and the critical path on real boots (hypertrace boot, two
CPUs, real time under TCG).  Linux 6.1 unpacks the initramfs in async
work, do_populate_rootfs, that the rootfs initcall populate_rootfs
schedules; with initramfs_async=0 the initcall then waits for it
(wait_for_initramfs()).  The default boot has that span, paired, after
its initcall began; with initramfs_async=0 it runs inside its initcall,
and the critical path goes through it: populate_rootfs waited for it,
as the kernel's own wait record (ASYNC_WAIT_*, pid 1, inside the
initcall) says -- not inferred from the timing, which a slow host
defeats (one CI run saw it missed).  On both the path ends at the end of the boot, its steps
follow one another, and its last link is the last phase before init
runs."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import htboot  # noqa: E402

t = htboot.Tap()
ok = t.ok
for f in (htboot.KERNEL, htboot.INITRAMFS, htboot.HYPERTRACE):
    if not os.path.exists(f):
        print('1..0 # SKIP %s missing: run make check' % f)
        sys.exit(0)
work = tempfile.mkdtemp(prefix='ht-async-')


def boot(name, append=''):
    """hypertrace boot --smp 2; (exit status, report --json or None)."""
    out = os.path.join(work, name)
    cmd = [htboot.HYPERTRACE, 'boot', '-q', '--kernel', htboot.KERNEL, '--initrd',
           htboot.INITRAMFS, '--smp', '2', '--accel', 'tcg',
           '-o', out]
    if append:
        cmd += ['--append', append]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    r = subprocess.run([htboot.HYPERTRACE, 'report', '--json', '--system-map',
                        htboot.SYSTEM_MAP, os.path.join(out, 'trace.htf')],
                       capture_output=True, text=True)
    return p.returncode, (json.loads(r.stdout) if r.returncode == 0 else None), p.stderr


def path_checks(name, o):
    """The critical path's shape on a finished boot."""
    cp, s = o['critical_path'], o['critical_path_summary']
    ok(s['end'] == 'boot_done' and s['end_ns'] == o['boot_ns'] and s['links'] == len(cp) > 50,
       '%s: the path ends at the end of the boot, with %d links' % (name, len(cp)), s)
    seq = [c for c in cp if c['kind'] in ('phase', 'initcall') and not c.get('partial')]
    bad = [(a['name'], b['name']) for a, b in zip(seq, seq[1:])
           if a['start_ns'] + a['duration_ns'] > b['start_ns']]
    ok(not bad, '%s: its steps follow one another' % name, bad[:5])
    last = max((p for p in o['phases'] if p['start_ns'] < o['boot_ns'] and
                p['name'] != 'rest_init'), key=lambda p: p['start_ns'])
    ok(cp[-1]['name'] == last['name'] == 'mark_rodata_ro',
       '%s: the last link is the last phase, %s' % (name, last['name']), cp[-1])
    ok(0 < s['on_path_ns'] <= s['end_ns'], '%s: the links cover %.1f%% of the boot'
       % (name, 100 * s['share']))


rc, o, err = boot('async')
ok(rc == 0 and o and o['failure']['kind'] == 'none', 'default boot: booted', err)
if o:
    a = [x for x in o['async'] if x['name'] == 'do_populate_rootfs']
    ic = [i for i in o['initcalls'] if i['name'] == 'populate_rootfs']
    ok(len(a) == 1 and not a[0].get('unfinished') and a[0]['duration_ns'] > 0,
       'default boot: do_populate_rootfs is async work, paired (%.1f ms on CPU %s)'
       % (a[0]['duration_ns'] / 1e6, a[0]['cpu']) if a else 'no do_populate_rootfs', o['async'])
    ok(a and ic and a[0]['start_ns'] >= ic[0]['start_ns'],
       'default boot: it began after its initcall populate_rootfs did')
    st = o['async_stats']
    ok(st['unmatched_ends'] == st['duplicate_begins'] == st['fn_mismatches'] == st['dropped'] == 0,
       'default boot: every async record paired', st)
    ws = o.get('async_waits', [])
    ok(st.get('wait_unmatched') == 0 and ws and all(not w.get('unfinished') for w in ws) and
       any(w['pid'] == 1 for w in ws) and o['critical_path_summary'].get('waits_recorded'),
       'default boot: %d waits for async work recorded, paired, the boot thread\'s among them'
       % len(ws), (st, ws[:5]))
    path_checks('default boot', o)
rc, o, err = boot('sync', 'initramfs_async=0')
ok(rc == 0 and o and o['failure']['kind'] == 'none', 'initramfs_async=0: booted', err)
if o:
    a = [x for x in o['async'] if x['name'] == 'do_populate_rootfs']
    ic = [i for i in o['initcalls'] if i['name'] == 'populate_rootfs']
    ok(a and ic and ic[0]['start_ns'] <= a[0]['start_ns'] and
       a[0]['start_ns'] + a[0]['duration_ns'] <= ic[0]['start_ns'] + ic[0]['duration_ns'],
       'initramfs_async=0: do_populate_rootfs runs inside populate_rootfs', (a, ic))
    ws = [w for w in o.get('async_waits', []) if w['pid'] == 1 and ic and
          ic[0]['start_ns'] <= w['start_ns'] and
          w['start_ns'] + w['duration_ns'] <= ic[0]['start_ns'] + ic[0]['duration_ns']]
    ok(ws and a and ws[0]['start_ns'] < a[0]['start_ns'] + a[0]['duration_ns'] <=
       ws[0]['start_ns'] + ws[0]['duration_ns'],
       'initramfs_async=0: the kernel recorded pid 1 waiting inside populate_rootfs, '
       'until do_populate_rootfs ended', (ws, a))
    cp = o['critical_path']
    w = [i for i, c in enumerate(cp) if c['name'] == 'populate_rootfs']
    ok(w and cp[w[0]]['why'] == 'waited' and cp[w[0] - 1]['kind'] == 'async' and
       cp[w[0] - 1]['name'] == 'do_populate_rootfs',
       'initramfs_async=0: on the critical path populate_rootfs waited for do_populate_rootfs',
       [cp[i] for i in range(max(0, (w or [0])[0] - 2), min(len(cp), (w or [0])[0] + 1))])
    path_checks('initramfs_async=0', o)
shutil.rmtree(work)
sys.exit(t.done())

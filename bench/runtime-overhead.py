#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""The runtime overhead table: sysbench cpu, memory and fileio inside a TCG
guest, with no tracing, the hypergraph on a fixed filter over each
transport, and in-guest ftrace function_graph on the same filter.

Every boot is recorded with `hypertrace boot` (the collector drains the
rings and counts loss); the rows are interleaved round by round.  Prints
each row's median, min-max and overhead against the no-tracing row.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = ('fileio', 'memory', 'cpu')
# the syscalls' VFS entry points fileio goes through, and the page-fault
# entry the memory test's buffer and every process start go through
FILTER = 'vfs_read,vfs_write,vfs_fsync_range,handle_mm_fault'
ROWS = [
    ('off', 'hypertrace=off'),
    ('shmem', 'hypertrace=shmem hypertrace_graph=' + FILTER),
    ('port', 'hypertrace=port hypertrace_graph=' + FILTER),
    ('batch', 'hypertrace=batch hypertrace_graph=' + FILTER),
    ('ftrace', 'hypertrace=off rt_ftrace=' + FILTER),
]
TOTAL = re.compile(r'rt: (\w+) exit (\d+) +total time: +([0-9.]+)s')


def one_boot(args, append, work):
    """Boot once; return ({test: seconds}, summary dict, console text)."""
    out = os.path.join(work, 'boot')
    shutil.rmtree(out, ignore_errors=True)
    cmd = [args.hypertrace, 'boot', '-q', '-k', args.kernel, '-i', args.initrd,
           '--accel', 'tcg', '--smp', '1', '--hang-timeout', '300', '-o', out,
           '-a', append]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    log = os.path.join(out, 'console.log')
    console = open(log, errors='replace').read() if os.path.exists(log) else ''
    times = {m.group(1): float(m.group(3)) for m in TOTAL.finditer(console)
             if m.group(2) == '0'}
    summ = {'rc': p.returncode}
    trace = os.path.join(out, 'trace.htf')
    if os.path.exists(trace):
        d = subprocess.run([args.hypertrace, 'dump', '--json', '--quiet', trace],
                           capture_output=True, text=True)
        for line in d.stdout.splitlines()[-1:]:
            summ.update(json.loads(line).get('summary', {}))
    m = re.search(r'rt: ftrace (entries.*)', console)
    if m:
        summ['ftrace'] = m.group(1).strip()
    return times, summ, console


def main():
    """Run the rounds and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    b = os.environ.get('HT_BUILD', os.path.join(TOP, 'build'))
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--kernel', default=os.path.join(b, 'kernel', 'bzImage'))
    ap.add_argument('--initrd', default=os.path.join(b, 'bench', 'runtime', 'initramfs.cpio.gz'))
    ap.add_argument('--hypertrace', default=os.path.join(b, 'bin', 'hypertrace'))
    ap.add_argument('--rows', default=','.join(n for n, _ in ROWS),
                    help='which rows, comma-separated (off is always first)')
    args = ap.parse_args()
    want = set(args.rows.split(',')) | {'off'}
    bad = want - {n for n, _ in ROWS}
    if bad:
        sys.exit('runtime-overhead.py: no row %s' % ','.join(sorted(bad)))
    ROWS[:] = [(n, a) for n, a in ROWS if n in want]
    for f in (args.kernel, args.initrd, args.hypertrace):
        if not os.path.exists(f):
            sys.exit('runtime-overhead.py: %s missing' % f)
    work = tempfile.mkdtemp(prefix='ht-runtime-')
    res = {name: {t: [] for t in TESTS} for name, _ in ROWS}
    recs = {name: [] for name, _ in ROWS}
    try:
        for r in range(args.rounds):
            for name, append in ROWS:
                times, summ, console = one_boot(args, append, work)
                for t in TESTS:
                    if t in times:
                        res[name][t].append(times[t])
                per_s = ''
                if 'hypertrace_graph=' in append and summ.get('events') and len(times) == 3:
                    per_s = ', %.0f records/s of sysbench time' % (summ['events'] / sum(times.values()))
                    recs[name].append(summ['events'] / sum(times.values()))
                print('# round %d, %s: %s; %s%s' % (r + 1, name, ' '.join(
                    '%s %.3fs' % (t, times[t]) for t in TESTS if t in times),
                    ', '.join('%s=%s' % kv for kv in summ.items()), per_s), flush=True)
                if len(times) != 3:
                    print('#   console tail: ' + ' | '.join(console.splitlines()[-5:]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print('| row | ' + ' | '.join('%s: median (min-max), overhead' % t for t in TESTS) + ' |')
    print('|---|' + '---|' * len(TESTS))
    base = {t: statistics.median(res[ROWS[0][0]][t]) if res[ROWS[0][0]][t] else None for t in TESTS}
    for name, _ in ROWS:
        cells = []
        for t in TESTS:
            v = res[name][t]
            if not v:
                cells.append('-')
                continue
            med = statistics.median(v)
            ov = '' if name == ROWS[0][0] or not base[t] else ', %+.1f %%' % ((med / base[t] - 1) * 100)
            cells.append('%.3f s (%.3f-%.3f, n=%d)%s' % (med, min(v), max(v), len(v), ov))
        print('| %s | %s |' % (name, ' | '.join(cells)))
    for name, _ in ROWS:
        if recs[name]:  # all of a boot's records over its sysbench seconds: an upper bound
            print('# %s: median %.0f hypergraph records per second of sysbench time'
                  % (name, statistics.median(recs[name])))
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""The hypergraph's boot overhead, side by side with ftrace's function_graph.

Boots one kernel (built with ftrace and CONFIG_HYPERTRACE_GRAPH) with each
row's parameters, round by round so that host drift falls on every row
alike, and measures the time to "Run /init" (the printk timestamp: guest
TSC), the records the guest sent and the trace's size:

  off          hypertrace=off: no tracing at all
  levels       boot levels and initcalls over shmem (the series' default)
  graph-shmem  + the hypergraph below do_one_initcall (hypertrace_graph=initcalls)
  graph-port   the same over the I/O port
  graph-batch  the same over the batched doorbell
  ftrace-fg    ftrace=function_graph ftrace_graph_filter=do_one_initcall
  pm-graph     the same with pm-graph's depth limit and options
  graph-dN     the hypergraph at pm-graph's depth, and at the --depths given
  ftrace-dN    function_graph at those depths
  filter-only, graph-d1-filtered, ftrace-d1-filtered, ring-8m: where the
               cost goes (ftrace_filter= patches only do_one_initcall;
               the hypergraph's default 8 MiB rings alone)

--clock icount (the default) gives virtual time: the guest's instructions,
nothing the host does, so the boots of one row differ only by where its
waits fall against the tick, which the rounds sample on purpose with a
command line a few bytes longer each round (as ci/boot-gate.sh does).  It
does not see what an exit costs (an I/O exit is one instruction to it):
--clock real measures that, under TCG's own costs, with the host's noise.

usage: bench/graph-overhead.py [--clock icount|real] [--rounds N]
           [--rows a,b,...] [--depths 1,2,4] [-o DIR] [--name NAME] [--reuse]
Writes DIR/NAME.json (default graph-overhead-CLOCK) and prints a Markdown
table; the overhead column needs the "off" row in the same run."""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = os.environ.get('HT_BUILD', os.path.join(TOP, 'build'))
PMGRAPH_DEPTH = 2
FTRACE_BUF = 'trace_buf_size=64M'
# pm-graph bootgraph.py's callgraph recipe (its -maxdepth default is 2)
PMGRAPH = ('ftrace=function_graph ftrace_graph_filter=do_one_initcall '
           'ftrace_graph_max_depth=%d trace_options=nooverwrite,funcgraph-abstime,'
           'funcgraph-cpu,funcgraph-duration,funcgraph-proc,funcgraph-tail,'
           'nofuncgraph-overhead,context-info,graph-time ' % PMGRAPH_DEPTH + FTRACE_BUF)
ROWS = {
    'off': 'hypertrace=off',
    'levels': 'hypertrace=shmem',
    'graph-shmem': 'hypertrace=shmem hypertrace_graph=initcalls',
    'graph-port': 'hypertrace=port hypertrace_graph=initcalls',
    'graph-batch': 'hypertrace=batch hypertrace_graph=initcalls',
    'ftrace-fg': ('hypertrace=off ftrace=function_graph ftrace_graph_filter=do_one_initcall '
                  + FTRACE_BUF),
    'pm-graph': 'hypertrace=off ' + PMGRAPH,
    # where the cost of the depth-1 rows goes: ftrace patches every
    # function for a function-graph client unless ftrace_filter= limits it
    'filter-only': 'hypertrace=shmem ftrace_filter=do_one_initcall',
    'graph-d1-filtered': ('hypertrace=shmem hypertrace_graph=initcalls hypertrace_graph_depth=1 '
                          'ftrace_filter=do_one_initcall'),
    'ftrace-d1-filtered': ('hypertrace=off ftrace=function_graph ftrace_graph_filter=do_one_initcall '
                           'ftrace_graph_max_depth=1 ftrace_filter=do_one_initcall ' + FTRACE_BUF),
    # the rings the hypergraph asks for by default, without the hypergraph
    'ring-8m': 'hypertrace=shmem hypertrace_ring=262144',
}
RUN_INIT = re.compile(r'^\[\s*(\d+)\.(\d{6})\] Run /init as init process', re.M)
FTRACE_STAT = re.compile(r'^init: ftrace cpu(\d+) (entries|overrun|bytes): (\d+)', re.M)


def rows_for(args):
    """the rows to boot: name -> kernel parameters"""
    rows = dict(ROWS)
    for d in sorted(set([PMGRAPH_DEPTH] + args.depths)):
        rows['graph-d%d' % d] = 'hypertrace=shmem hypertrace_graph=initcalls hypertrace_graph_depth=%d' % d
        rows['ftrace-d%d' % d] = ('hypertrace=off ftrace=function_graph ftrace_graph_filter=do_one_initcall '
                                  'ftrace_graph_max_depth=%d ' % d + FTRACE_BUF)
    if args.rows:
        want = args.rows.split(',')
        bad = [r for r in want if r not in rows]
        if bad:
            sys.exit('graph-overhead: unknown row(s) %s; rows are %s' % (','.join(bad), ', '.join(rows)))
        rows = {r: rows[r] for r in want}
    return rows


def boot(args, append, out):
    """one recorded boot into @out: {'init_ms', 'records', 'lost', 'bytes', ...} or None"""
    # hypertrace=off shows the collector no progress: only a long silence is a hang
    cmd = [args.ht, 'boot', '-q', '--accel', 'tcg', '--clock', args.clock, '--smp', '1', '--hang-timeout', '600',
           '-k', args.kernel, '-i', args.initrd, '-o', out, '--append', append + ' ht_ftrace=stats']
    if not (args.reuse and os.path.exists(os.path.join(out, 'console.log'))):
        t0 = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.monotonic() - t0
        # 6: the kernel's tracing never came up, as hypertrace=off asks
        if p.returncode not in (0, 6):
            sys.stderr.write('graph-overhead: boot %s failed (exit %d): %s\n'
                             % (out, p.returncode, p.stderr.strip()[-300:]))
            return None
        json.dump({'wall_s': wall}, open(os.path.join(out, 'wall.json'), 'w'))
    con = open(os.path.join(out, 'console.log'), errors='replace').read()
    m = RUN_INIT.search(con)
    if not m:
        sys.stderr.write('graph-overhead: %s: no "Run /init" on the console\n' % out)
        return None
    res = {'init_ms': int(m.group(1)) * 1000 + int(m.group(2)) / 1000.0}
    wj = os.path.join(out, 'wall.json')
    if os.path.exists(wj):
        res['wall_s'] = json.load(open(wj))['wall_s']
    for cpu, key, val in FTRACE_STAT.findall(con):
        res['ftrace_' + key] = res.get('ftrace_' + key, 0) + int(val)
    trace = os.path.join(out, 'trace.htf')
    if os.path.exists(trace):
        res['trace_bytes'] = os.path.getsize(trace)
        rep = os.path.join(out, 'report.json')
        if os.path.exists(rep):
            r = json.load(open(rep))
            res['lost'] = r.get('lost_records')
            g = r.get('hypergraph') or {}
            res['calls'] = g.get('exits')
    return res


def pad(i):
    """what round @i adds to every command line: a few bytes more each round"""
    return 'ht_pad=' + 'x' * (3 * i)


def spread(vals):
    """median and (min, max) of @vals"""
    return statistics.median(vals), min(vals), max(vals)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--clock', default='icount', choices=('icount', 'real'))
    ap.add_argument('--rounds', type=int, default=None,
                    help='boots per row (default 3 on icount, 10 on real time)')
    ap.add_argument('--rows', help='comma-separated rows (default all)')
    ap.add_argument('--depths', default='1,4', help='more hypergraph/ftrace depth rows')
    ap.add_argument('-o', '--output', default=os.path.join(B, 'bench', 'graph'))
    ap.add_argument('--name', help='the JSON file\'s name (default graph-overhead-CLOCK)')
    ap.add_argument('--reuse', action='store_true', help='use the boots already in DIR')
    args = ap.parse_args()
    args.depths = [int(d) for d in args.depths.split(',') if d]
    args.rounds = args.rounds or (3 if args.clock == 'icount' else 10)
    args.ht = os.path.join(B, 'bin', 'hypertrace')
    args.kernel = os.path.join(B, 'kernel', 'bzImage')
    args.initrd = os.path.join(B, 'initramfs.cpio.gz')
    for f in (args.ht, args.kernel, args.initrd):
        if not os.path.exists(f):
            sys.exit('graph-overhead: %s is missing: run make && make kernel initramfs' % f)
    smap = open(os.path.join(B, 'kernel', 'System.map')).read()
    if ' hypertrace_graph_init' not in smap:
        sys.exit('graph-overhead: the kernel has no CONFIG_HYPERTRACE_GRAPH (ftrace off in its config?)')
    rows = rows_for(args)
    os.makedirs(args.output, exist_ok=True)
    res = {r: [] for r in rows}
    tty = sys.stderr.isatty()
    for i in range(args.rounds):
        order = list(rows)
        if i % 2:
            order.reverse()
        for r in order:
            if tty:
                sys.stderr.write('\rgraph-overhead: round %d/%d: %-12s' % (i + 1, args.rounds, r))
            out = os.path.join(args.output, '%s-%s-%d' % (args.clock, r, i))
            os.makedirs(out, exist_ok=True)
            b = boot(args, rows[r] + ' ' + pad(i), out)
            if b:
                res[r].append(b)
    if tty:
        sys.stderr.write('\n')
    table(args, rows, res)


def table(args, rows, res):
    """print the Markdown table and write the JSON"""
    base = [b['init_ms'] for b in res.get('off', [])]
    base_med = statistics.median(base) if base else None
    doc = {'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
           'machine': '%s, %d CPUs, %s' % (cpuinfo(), os.cpu_count(), platform.release()),
           'clock': args.clock, 'rounds': args.rounds, 'rows': {}}
    print('clock: %s (%s), %d boots per row, %s' %
          (args.clock, 'virtual time, -icount shift=1,sleep=off' if args.clock == 'icount'
           else 'real time under TCG', args.rounds, doc['machine']))
    print()
    print('| row | kernel parameters | Run /init, median (min-max) | overhead vs off | recorded | lost | size |')
    print('| --- | --- | --- | --- | --- | --- | --- |')
    for r, append in rows.items():
        bs = res[r]
        if not bs:
            print('| %s | `%s` | no boot succeeded | | | | |' % (r, append))
            continue
        med, lo, hi = spread([b['init_ms'] for b in bs])
        over = '%+.2f %%' % ((med / base_med - 1) * 100) if base_med else ''
        if 'ftrace=' in append:
            recs = '%d ring entries' % statistics.median([b.get('ftrace_entries', 0) for b in bs])
            lost = '%d overrun' % max(b.get('ftrace_overrun', 0) for b in bs)
            size = '%.1f MB in its ring' % (statistics.median([b.get('ftrace_bytes', 0) for b in bs]) / 1e6)
        elif 'trace_bytes' in bs[0]:
            calls = bs[0].get('calls')
            recs = '%d calls' % calls if calls else '-'
            lost = '%s' % (max(b.get('lost') or 0 for b in bs))
            size = '%.2f MB trace file' % (statistics.median([b['trace_bytes'] for b in bs]) / 1e6)
        else:
            recs, lost, size = '-', '-', '-'
        print('| %s | `%s` | %.3f ms (%.3f-%.3f) | %s | %s | %s | %s |'
              % (r, append, med, lo, hi, over, recs, lost, size))
        doc['rows'][r] = {'append': append, 'boots': bs, 'median_ms': med, 'min_ms': lo,
                          'max_ms': hi}
    name = args.name or 'graph-overhead-%s' % args.clock
    json.dump(doc, open(os.path.join(args.output, name + '.json'), 'w'), indent=1)


def cpuinfo():
    """the host CPU's model name"""
    for line in open('/proc/cpuinfo'):
        if line.startswith('model name'):
            return line.split(':', 1)[1].strip()
    return platform.processor()


if __name__ == '__main__':
    main()

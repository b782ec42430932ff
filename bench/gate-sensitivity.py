#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""The boot-time gate's sensitivity, measured: boot one kernel N times as the
baseline and N times with each delay the self-test hook adds to one initcall
(delay_us:FN:US), interleaved round by round so that host drift falls on
every set alike, then ask `hypertrace compare` - with each method given -
whether it finds each delay, and how often it flags anything in random
N-against-N splits of the 2N baseline boots of the one kernel.

usage: bench/gate-sensitivity.py [--boots N] [--side N] [--variants K] [--delays US,US,...]
           [--initcall FN] [--clock real|icount] [--splits K] [-o DIR]
           [--method NAME=OPTIONS]... [--ht-old PATH] [--reuse]

--side N compares N boots a side (default all: N); the delays against the
baseline boots of the first N rounds, the splits N against N of all 2N.
On virtual time (--clock icount) the rounds sample the tick's phase as
ci/boot-gate.sh does, the same for both sides, so two boots of one kernel
and one input are identical: the same-kernel comparisons are instead every
pair of --variants inputs (default 8: the command line 0, 3, 6... bytes
longer), which move the kernel's waits against the tick as a candidate
with a few more instructions would.
The boots stay in DIR (default build/bench/gate-<clock>); --reuse evaluates
the boots already there.  Each --method is a name and the compare options it
adds ('holm=' is today's default); --ht-old runs the default method with
another hypertrace binary too (the tree before a change), side by side.
Writes DIR/sensitivity.json and prints a Markdown table."""
import argparse
import itertools
import json
import os
import platform
import random
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = os.environ.get('HT_BUILD', os.path.join(TOP, 'build'))


def boot(ht, args, kernel, initrd, append, out):
    """one recorded boot into @out; its report.json, or None if it failed"""
    cmd = [ht, 'boot', '-q', '--accel', 'tcg', '--clock', args.clock, '-k', kernel,
           '-i', initrd, '-o', out]
    if append:
        cmd += ['--append', append]
    p = subprocess.run(cmd, capture_output=True, text=True)
    path = os.path.join(out, 'report.json')
    if p.returncode != 0 or not os.path.exists(path):
        sys.stderr.write('gate-sensitivity: boot %s failed (exit %d): %s\n'
                         % (out, p.returncode, p.stderr.strip()[-300:]))
        return None
    return path


def phase_pad(i, clock):
    """what the gate adds per round on virtual time (ci/boot-gate.sh)"""
    if clock != 'icount':
        return ''
    return ('hypertrace_test=delay_us:hypertrace_late_init:%d ht_pad=%s'
            % ((i * 1571) % 4000, 'x' * (i * 7)))


def plan(args):
    """every boot to make: (set, round, file name, kernel parameters), interleaved"""
    width = len(str(max(args.delays)))
    boots = []
    for i in range(1, args.boots + 1):
        order = ['base'] + [str(d) for d in args.delays]
        if args.clock == 'icount':
            # the same kernel, its input a little longer: as a candidate that
            # runs a few more instructions moves its waits against the tick
            order += ['pad-%d' % v for v in range(1, args.variants)]
        else:
            order += ['base']
        if i % 2 == 0:
            order.reverse()
        for j, w in enumerate(order):
            second = w == 'base' and j != order.index('base')
            # the second baseline boot of a round samples its own tick phase
            pad = phase_pad(i + args.boots if second else i, args.clock)
            # every boot's command line as long as the others': delay 0 on the baseline
            delay = int(w) if w.isdigit() else 0
            a = ('%s hypertrace_test=delay_us:%s:%0*d' % (pad, args.initcall, width, delay)).strip()
            if args.clock == 'icount':
                # the same parameters in every boot (one more costs setup_arch
                # some 26 us of parsing: a real difference), longer or not
                a += ' ht_pad2=' + 'y' * (3 * int(w[4:]) if w.startswith('pad-') else 0)
            boots.append((w, i, '%s-%d%s' % (w, i, 'b' if second else ''), a))
    return boots


def collect(args, ht, kernel, initrd):
    """boot every round; {'base': [...], 'DELAY': [...], 'pad-V': [...]} report paths"""
    sets = {}
    for w, i, name, a in plan(args):
        sets.setdefault(w, [])
        if args.progress:
            sys.stderr.write('\rgate-sensitivity: round %d/%d: %-6s' % (i, args.boots, w))
        r = boot(ht, args, kernel, initrd, a, os.path.join(args.output, name))
        if r:
            sets[w].append(r)
    if args.progress:
        sys.stderr.write('\n')
    return sets


def compare(ht, opts, base, cand):
    """hypertrace compare's verdict: (exit status, regressions, p of the initcall)"""
    p = subprocess.run([ht, 'compare', '--json', '-'] + opts + ['--baseline'] + base +
                       ['--candidate'] + cand, capture_output=True, text=True)
    try:
        res = json.loads(p.stdout)
    except ValueError:
        return p.returncode, None
    return p.returncode, res


def evaluate(args, methods, sets):
    """every method on every delay and on the same-kernel splits"""
    def rnd_of(path):
        return int(os.path.basename(os.path.dirname(path)).rsplit('-', 1)[1].rstrip('b'))
    base = sorted(sets['base'], key=lambda p: (p.endswith('b/report.json'), rnd_of(p)))
    first = [b for b in base if not b.endswith('b/report.json')][:args.side]
    rnd = random.Random(1)
    splits = []
    variants = sorted(k for k in sets if k.startswith('pad-'))
    if variants:
        # virtual time: every pair of inputs, the rounds (tick phases) paired
        for x, y in itertools.combinations(['base'] + variants, 2):
            splits.append((sorted(sets[x], key=rnd_of)[:args.side],
                           sorted(sets[y], key=rnd_of)[:args.side]))
    while len(splits) < args.splits and not variants:
        s = rnd.sample(base, len(base))
        splits.append((s[:args.side], s[args.side:2 * args.side]))
    rows = []
    for name, ht, opts in methods:
        row = {'method': name, 'options': ' '.join(opts), 'delays': {}}
        for d in args.delays:
            cand = sorted(sets[str(d)], key=rnd_of)[:args.side]
            rc, res = compare(ht, opts, first, cand)
            regs = [r for r in (res or {}).get('regressions', [])]
            hit = [r for r in regs if r['metric'] == 'initcall ' + args.initcall]
            row['delays'][str(d)] = {
                'exit': rc, 'found': bool(hit),
                'p': hit[0]['p'] if hit else None,
                'others': [r['metric'] for r in regs if not hit or r is not hit[0]],
                'metrics_tested': (res or {}).get('metrics_tested')}
        fp = []
        for a, b in splits:
            rc, res = compare(ht, opts, a, b)
            fp.append({'exit': rc, 'regressions':
                       [r['metric'] for r in (res or {}).get('regressions', [])]})
        row['splits'] = len(fp)
        row['false_positive_splits'] = sum(1 for f in fp if f['exit'] == 1)
        row['split_errors'] = sum(1 for f in fp if f['exit'] not in (0, 1))
        row['false_positive_metrics'] = sorted(set(itertools.chain.from_iterable(
            f['regressions'] for f in fp)))
        rows.append(row)
    return rows


def table(args, rows):
    """the Markdown table of @rows"""
    out = ['| method (%d+%d boots) | ' % (args.side, args.side) +
           ' | '.join('%g ms in %s' % (d / 1000, args.initcall)
                                      for d in args.delays) +
           ' | false positives (%d same-kernel splits) |' % args.splits,
           '|---' * (len(args.delays) + 2) + '|']
    for r in rows:
        cells = []
        for d in args.delays:
            c = r['delays'][str(d)]
            cells.append(('found, p=%.2g' % c['p']) if c['found'] else
                         'not found (exit %d)' % c['exit'])
        fp = '%d' % r['false_positive_splits']
        if r['split_errors']:
            fp += ' (%d errors)' % r['split_errors']
        out.append('| %s `%s` | %s | %s |' % (r['method'], r['options'], ' | '.join(cells), fp))
    return '\n'.join(out)


def main():
    """parse, boot (unless --reuse), evaluate, print"""
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--boots', type=int, default=10)
    ap.add_argument('--side', type=int)
    ap.add_argument('--delays', default='1000,2000,5000')
    ap.add_argument('--initcall', default='serial8250_init')
    ap.add_argument('--clock', default='real', choices=('real', 'icount'))
    ap.add_argument('--splits', type=int, default=40)
    ap.add_argument('--variants', type=int, default=8)
    ap.add_argument('-o', '--output')
    ap.add_argument('--method', action='append', default=[])
    ap.add_argument('--ht-old')
    ap.add_argument('--reuse', action='store_true')
    args = ap.parse_args()
    args.delays = [int(d) for d in args.delays.split(',') if d]
    args.side = args.side or args.boots
    args.output = args.output or os.path.join(B, 'bench', 'gate-' + args.clock)
    args.progress = sys.stderr.isatty()
    ht = os.path.join(B, 'bin', 'hypertrace')
    kernel = os.path.join(B, 'kernel', 'bzImage')
    initrd = os.path.join(B, 'initramfs.cpio.gz')
    for f in (ht, kernel, initrd):
        if not os.path.exists(f):
            sys.exit('gate-sensitivity: %s is missing (make all kernel initramfs)' % f)
    os.makedirs(args.output, exist_ok=True)
    start = time.time()
    if args.reuse:
        sets = json.load(open(os.path.join(args.output, 'boots.json')))
    else:
        sets = collect(args, ht, kernel, initrd)
        json.dump(sets, open(os.path.join(args.output, 'boots.json'), 'w'), indent=1)
    took = time.time() - start
    methods = []
    if args.ht_old:
        methods.append(('before', args.ht_old, []))
    for m in args.method or ['holm=']:
        name, _, opts = m.partition('=')
        methods.append((name, ht, opts.split()))
    rows = evaluate(args, methods, sets)
    args.splits = rows[0]['splits'] if rows else args.splits
    doc = {'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
           'machine': '%s, %d CPUs' % (platform.node(), os.cpu_count()),
           'load': os.getloadavg(), 'boot_seconds': None if args.reuse else round(took),
           'boots': {k: len(v) for k, v in sets.items()}, 'initcall': args.initcall,
           'clock': args.clock, 'command': ' '.join(sys.argv), 'rows': rows}
    json.dump(doc, open(os.path.join(args.output, 'sensitivity.json'), 'w'), indent=1)
    print(table(args, rows))
    print('\n%s; %s; boots %s%s; `%s`' % (doc['date'], doc['machine'], doc['boots'],
                                         '' if args.reuse else ' in %d s' % took,
                                         doc['command']))


if __name__ == '__main__':
    main()

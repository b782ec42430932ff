#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""The failure chain in hypertrace report, report --json and html, on
traces written here: an oops in an initcall that leads to a panic, with
its backtrace; a warning the boot survives; a backtrace that lost frames;
hostile backtrace records; a hang outside any initcall."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'boot'))
from htboot import HYPERTRACE as HT, Tap, htf  # noqa: E402

T = Tap()
ok = T.ok
EV = htf.EV
tmp = tempfile.mkdtemp()
smap = os.path.join(tmp, 'System.map')
SYMS = [(0xffffffff81000000, 'do_one_initcall'), (0xffffffff81000200, 'kernel_init_freeable'),
        (0xffffffff81000400, 'loop_init'), (0xffffffff81000480, 'ret_from_fork'),
        (0xffffffff81000500, 'panic'), (0xffffffff81000600, 'rest_init'),
        (0xffffffff81000700, 'etext_marker')]
with open(smap, 'w') as f:
    for a, n in SYMS:
        f.write('%016x T %s\n' % (a, n))
LOOP = 0xffffffff81000400
HZ = 2_000_000          # kHz: 2 GHz, so 2,000,000 ticks per ms


class Boot:
    """Records of one guest CPU stream, numbered as the guest numbers them."""

    def __init__(self):
        self.recs = [htf.record(EV['tsc_khz'], tsc=1, a0=HZ)]
        self.seq = [1, 0]

    def add(self, name, ms, a0=0, a1=0, cpu=0, text=None):
        """One event at @ms (with its string, if any) on @cpu."""
        tsc = int(ms * HZ)
        if text is None:
            self.recs.append(htf.record(EV[name], cpu, self.seq[cpu], tsc=tsc, a0=a0, a1=a1))
            self.seq[cpu] += 1
        else:
            rs = htf.string_records(EV[name], text, cpu=cpu, seq=self.seq[cpu], tsc=tsc,
                                    a0=a0, a1=a1)
            self.recs.append(rs)
            self.seq[cpu] += len(rs) // 32
        return self

    def backtrace(self, ms, follows, frames, sent=None, cpu=0):
        """A backtrace head (saying @sent frames) and @frames, two a record."""
        self.add('backtrace', ms, sent if sent is not None else len(frames), EV[follows], cpu)
        for i in range(0, len(frames), 2):
            pair = frames[i:i + 2] + [0]
            self.add('frames', ms, pair[0], pair[1], cpu)
        return self

    def write(self, name, verdict='none'):
        """The trace file; its path."""
        path = os.path.join(tmp, name + '.htf')
        with htf.Writer(path) as w:
            w.header().metadata({'tool': 'problems.t', 'abi_version': 1})
            w.records(htf.SRC_RING, self.recs)
            w.end({'exit_status': 0, 'verdict': verdict})
        return path


def start(b):
    """The boot up to loop_init running in level device."""
    return (b.add('start_kernel', 1).add('phase_begin', 2, 7).add('phase_begin', 3, 9)
            .add('level_begin', 4, 6).add('initcall_begin', 5, LOOP, 6))


def report(trace, *opts):
    """hypertrace report with the test's System.map; (status, stdout, stderr)."""
    p = subprocess.run([HT, 'report', '--system-map', smap] + list(opts) + [trace],
                       capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


# an oops in loop_init, its backtrace, then the panic it led to
b = start(Boot())
b.add('warn', 5.5, 0xffffffff81000410, 77, text='drivers/block/loop.c')
b.add('oops', 6, 0, LOOP + 0x12, text='general protection fault')
b.backtrace(6, 'oops', [LOOP + 0x12, 0xffffffff81000000 + 0x5b, 0xffffffff81000200 + 0x1c0])
b.add('panic', 7, LOOP, 1, text='Attempted to kill init! exitcode=0x00000009')
b.backtrace(7, 'panic', [0xffffffff81000500 + 0xf, 0xffffffff81000480 + 0x1f])
oops = b.write('oops', 'panic')
rc, out, err = report(oops, '--json')
r = json.loads(out) if rc == 0 else {}
probs = r.get('problems', [])
ok([p['kind'] for p in probs] == ['warning', 'oops', 'panic'],
   'oops -> panic: the chain lists the warning, the oops and the panic in order',
   json.dumps(probs)[:600])
ok(r.get('failure', {}).get('chain') == 'oops in loop_init -> panic',
   'the chain names the first failure and what it led to: "oops in loop_init -> panic"',
   str(r.get('failure')))
o = probs[1] if len(probs) > 1 else {}
ok(o.get('initcall') == 'loop_init' and o.get('where') == 'level device, initcall loop_init'
   and o.get('message') == 'general protection fault' and o.get('at_ns') == 6_000_000
   and o.get('cpu') == 0, 'the oops: its time, CPU, initcall, level and message', json.dumps(o))
ok([f['symbol'] for f in o.get('backtrace', [])] ==
   ['loop_init+0x12/0x80', 'do_one_initcall+0x5b/0x200', 'kernel_init_freeable+0x1c0/0x200']
   and o.get('ip_symbol') == 'loop_init+0x12/0x80' and o.get('frames_lost') == 0,
   'the oops\'s backtrace, symbolized as function+0xoff/0xsize, top frame the oopsing function',
   json.dumps(o.get('backtrace')))
p = probs[2] if len(probs) > 2 else {}
ok([f['symbol'] for f in p.get('backtrace', [])] == ['panic+0xf/0x100', 'ret_from_fork+0x1f/0x80']
   and p.get('message', '').startswith('Attempted to kill init!'),
   'the panic has its own backtrace and message', json.dumps(p))
w = probs[0] if probs else {}
ok(w.get('file') == 'drivers/block/loop.c' and w.get('line') == 77
   and w.get('ip_symbol') == 'loop_init+0x10/0x80', 'the warning: its file, line and caller',
   json.dumps(w))
rc, out, err = report(oops)
ok(rc == 0 and '*** BOOT FAILED: oops in loop_init -> panic, at 7.000 ms ***' in out
   and 'failure chain (3 problems, in order)' in out
   and 0 < out.index('general protection fault') < out.rindex('Attempted to kill init')
   and 'at drivers/block/loop.c:77, ip loop_init+0x10/0x80' in out
   and 'do_one_initcall+0x5b/0x200' in out,
   'the text report leads with the chain and lists each problem with its backtrace', out[:1500])

# a warning the boot survives is listed, not a failure
b = start(Boot())
b.add('warn', 5.5, 0xffffffff81000410, 77, text='drivers/block/loop.c')
b.backtrace(5.5, 'warn', [0xffffffff81000410])
b.add('initcall_end', 6, LOOP, 0).add('level_end', 7, 6).add('boot_done', 8)
good = b.write('warned')
rc, out, err = report(good, '--json')
r = json.loads(out) if rc == 0 else {}
ok(r.get('failure', {}).get('kind') == 'none' and r['failure'].get('chain') == ''
   and [p['kind'] for p in r.get('problems', [])] == ['warning'],
   'a warning the boot survives: listed, and the boot is not failed', out[-800:])
rc, out, err = report(good)
ok(rc == 0 and 'BOOT FAILED' not in out and 'warnings and errors the boot survived (1)' in out,
   'the text report lists it under what the boot survived', out[:800])

# lost and hostile backtrace records
b = start(Boot())
b.add('oops', 6, 0, LOOP + 0x12, text='invalid opcode')
b.backtrace(6, 'oops', [LOOP + 0x12, 0xffffffff81000000 + 0x5b], sent=5)
b.add('level_begin', 6.05, 7)                       # the rest was lost
b.add('frames', 6.1, 0xdead, 0xbeef)                 # stray
b.add('bug', 6.2, LOOP + 0x20, 12, cpu=1, text='x.c')
b.backtrace(6.2, 'oops', [1, 2, 3], cpu=1)           # names the wrong type
b.backtrace(6.3, 'bug', [LOOP] * 40, sent=1 << 62, cpu=1)
odd = b.write('odd', 'none')
rc, out, err = report(odd, '--json')
r = json.loads(out) if rc == 0 else {}
probs = r.get('problems', [])
ok(r.get('loss', {}).get('stray_backtrace_records') == 8,
   'backtrace records that belong to no problem are counted and reported: 1 stray frames record, '
   'a wrong-type head and its 2, and the 4 past HT_BT_MAX_FRAMES', str(r.get('loss')))
ok(len(probs) == 2 and len(probs[0]['backtrace']) == 2 and probs[0]['frames_lost'] == 3,
   'a backtrace that says 5 frames and brings 2: 2 shown, 3 counted lost', json.dumps(probs)[:400])
ok(len(probs) == 2 and len(probs[1]['backtrace']) == 32 and probs[1]['frames_lost'] == 0
   and probs[1]['cpu'] == 1,
   'a backtrace on another CPU naming another type is ignored; one claiming 2^62 frames keeps '
   'HT_BT_MAX_FRAMES', json.dumps(probs[1:])[:400])
ok(r.get('failure', {}).get('chain') == 'oops in loop_init',
   'an oops, then a BUG on another CPU, no panic: the chain names the oops alone',
   str(r.get('failure')))

# a hang outside any initcall names the phase
b = Boot().add('start_kernel', 1).add('phase_begin', 2, 7).add('level_begin', 3, 0x10)
b.add('level_end', 4, 0x10).add('phase_begin', 5, 8)
hang = b.write('hang', 'hang')
rc, out, err = report(hang, '--json')
r = json.loads(out) if rc == 0 else {}
ok(r.get('failure', {}).get('chain') == 'hang in smp_init, after level early'
   and r.get('problems') == [], 'a hang in SMP bring-up: "hang in smp_init, after level early"',
   str(r.get('failure')))
# return addresses are looked up at address - 1 (as the kernel's %pB):
# a call to panic() that ends its function returns to the next one
b = start(Boot())
b.add('oops', 6, 0, LOOP, text='invalid opcode')
b.backtrace(6, 'oops', [LOOP, 0xffffffff81000600])
b.add('panic', 7, LOOP, 1, text='end of the line')
b.backtrace(7, 'panic', [0xffffffff81000600, 0xffffffff81000480 + 0x1f])
rc, out, err = report(b.write('noreturn', 'panic'), '--json')
r = json.loads(out) if rc == 0 else {}
probs = r.get('problems', [])
ok([[f['symbol'] for f in p['backtrace']] for p in probs] ==
   [['loop_init+0x0/0x80', 'panic+0x100/0x100'], ['panic+0x100/0x100', 'ret_from_fork+0x1f/0x80']],
   'a faulting ip is symbolized as it is, a return address at the end of its function '
   'as that function (panic+0x100/0x100, not rest_init+0x0)', json.dumps(probs)[:600])
rc, out, err = report(b.write('noreturn-text', 'panic'))
ok(rc == 0 and 'panic+0x100/0x100' in out and 'rest_init+' not in out,
   'the text report symbolizes return addresses the same way', out[:1500])

subprocess.run(['rm', '-rf', tmp])
sys.exit(T.done())

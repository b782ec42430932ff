#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""Record/replay without a kernel: the collector's --record and --replay
refuse what cannot work before QEMU runs; hypertrace replay refuses a
directory whose replay.json is missing, broken or of another format, or
whose log is gone; and replay --gdb's script, for a trace written here with
a KASLR offset and an oops, relocates the symbols, breaks at the oops's
instruction and carries the guest's message as one comment line."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'boot'))
from htboot import HYPERTRACE as HT, Tap, htf  # noqa: E402
COLL = os.path.join(os.path.dirname(HT), 'hypertrace-collector')

T = Tap()
ok = T.ok
EV = htf.EV
tmp = tempfile.mkdtemp()
QEMU = ['--', 'qemu-system-x86_64', '-m', '64']


def run(*args):
    """A command: (exit status, stderr)."""
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stderr


def coll(*args):
    """hypertrace-collector run with a fresh trace path."""
    out = os.path.join(tmp, 'c%d.htf' % len(os.listdir(tmp)))
    return run(COLL, 'run', '-q', '-o', out, *args)


rc, err = coll('--record', os.path.join(tmp, 'r.bin'), '--clock', 'real', *QEMU)
ok(rc == 2 and 'needs --clock icount' in err, 'collector --record --clock real: exit 2', err)
rc, err = coll('--record', 'a.bin', '--replay', 'b.bin', *QEMU)
ok(rc == 2 and 'give one --record or --replay' in err, 'collector --record and --replay: exit 2',
   err)
rc, err = coll('--record', os.path.join(tmp, 'a,b.bin'), *QEMU)
ok(rc == 2 and 'comma' in err, 'collector --record PATH,WITH,COMMA: exit 2, says why', err)
rc, err = coll('--record', 'r.bin', *QEMU, '-smp', '2')
ok(rc == 2 and 'boots one CPU only' in err and '--record' in err,
   'collector --record -smp 2: exit 2, one CPU (icount)', err)
exists = os.path.join(tmp, 'exists.bin')
open(exists, 'w').write('x')
rc, err = coll('--record', exists, *QEMU)
ok(rc == 2 and 'File exists' in err and open(exists).read() == 'x',
   'collector --record to an existing file: exit 2, the file untouched', err)
rc, err = coll('--replay', os.path.join(tmp, 'none.bin'), *QEMU)
ok(rc == 1 and 'cannot read the replay log' in err, 'collector --replay of no file: exit 1', err)
short = os.path.join(tmp, 'short.bin')
open(short, 'wb').write(b'\0\xe0\x20')
rc, err = coll('--replay', short, *QEMU)
ok(rc == 1 and 'shorter than its 12-byte header' in err, 'collector --replay of 3 bytes: exit 1',
   err)
rc, err = run(HT, 'boot', '--record', '--clock', 'real', '--kernel', exists)
ok(rc == 2 and 'needs --clock icount' in err, 'boot --record --clock real: exit 2', err)

# ---- replay's description of the recording --------------------------------
rc, err = run(HT, 'replay')
ok(rc == 2 and 'give one directory' in err, 'replay without a directory: exit 2', err)
d = os.path.join(tmp, 'rec')
os.mkdir(d)
open(os.path.join(d, 'replay.json'), 'w').write('{"format": ')
rc, err = run(HT, 'replay', d)
ok(rc == 1 and 'replay.json' in err and 'line' in err, 'replay.json that does not parse: exit 1',
   err)
json.dump({'format': 'something-else', 'version': 1}, open(os.path.join(d, 'replay.json'), 'w'))
rc, err = run(HT, 'replay', d)
ok(rc == 1 and 'not a replay description' in err, 'replay.json of another format: exit 1', err)

# a recording whose trace has a KASLR offset and an oops (whose message
# tries to smuggle a gdb command onto a line of its own)
KASLR = 0x1e000000
IP = 0xffffffff81000412 + KASLR
kernel = os.path.join(tmp, 'bzImage')
open(kernel, 'wb').write(b'not a kernel')
seq = iter(range(1000))
recs = [htf.record(EV['tsc_khz'], tsc=1, seq=next(seq), a0=2_000_000),
        htf.record(EV['kaslr'], tsc=2, seq=next(seq), a0=KASLR),
        htf.record(EV['start_kernel'], tsc=3, seq=next(seq)),
        htf.record(EV['level_begin'], tsc=4, seq=next(seq), a0=6),
        htf.record(EV['initcall_begin'], tsc=5, seq=next(seq), a0=0xffffffff81000400 + KASLR,
                   a1=6)]
rs = htf.string_records(EV['oops'], 'bad\nshell touch /tmp/owned', seq=next(seq), tsc=6, a1=IP)
recs.append(rs)
with htf.Writer(os.path.join(d, 'trace.htf')) as w:
    w.header().metadata({'tool': 'replay.t', 'abi_version': 1, 'clock': 'icount',
                         'icount': 'shift=1', 'rr': 'record'})
    w.records(htf.SRC_RING, recs)
    w.end({'exit_status': 3, 'verdict': 'oops'})
desc = {'format': 'hypertrace-replay', 'version': 1, 'log': 'replay.bin', 'kernel': kernel,
        'kernel_bytes': 12, 'kernel_fnv1a64': '0000000000000000', 'append': '',
        'memory': '64', 'smp': '1', 'accel': 'tcg', 'hang_timeout': '30', 'vmcore': False,
        'vmlinux': '/nonexistent/vmlinux', 'qemu_extra': []}
json.dump(desc, open(os.path.join(d, 'replay.json'), 'w'))
rc, err = run(HT, 'replay', d)
ok(rc == 1 and 'the recording is gone' in err, 'replay without its replay.bin: exit 1', err)
open(os.path.join(d, 'replay.bin'), 'wb').write(b'\x00\xe0\x20\x0c' + b'\0' * 20)
rc, err = run(HT, 'replay', d)
ok(rc == 1 and 'not the file that was recorded' in err,
   'replay when the kernel\'s hash differs from the recorded one: exit 1', err)
h = 0xcbf29ce484222325          # FNV-1a 64 of the kernel, as replay.json has it
for byte in open(kernel, 'rb').read():
    h = ((h ^ byte) * 0x100000001b3) % (1 << 64)
desc['kernel_fnv1a64'] = '%016x' % h
json.dump(desc, open(os.path.join(d, 'replay.json'), 'w'))
g = os.path.join(tmp, 'g')
rc, err = run(HT, 'replay', '-q', '--gdb', '-o', g, d)
script = open(os.path.join(g, 'replay.gdb')).read() if os.path.exists(
    os.path.join(g, 'replay.gdb')) else ''
lines = script.splitlines()
ok('target remote %s/gdb.sock' % os.path.realpath(g) in lines and
   'symbol-file -o %#x /nonexistent/vmlinux' % KASLR in lines and 'break *%#x' % IP in lines
   and lines[-1] == 'continue',
   'replay --gdb: the script connects to OUTDIR/gdb.sock, relocates vmlinux by the KASLR '
   'offset, breaks at the oops\'s ip', script)
ok(not [ln for ln in lines if ln.startswith('shell')] and
   any(ln.startswith('#') and 'bad?shell touch' in ln for ln in lines),
   'the guest\'s message is one comment line, its newline made "?"', script)
ok(rc == 5 and 'gdb -x ' in err and 'replay DIFFERS' in err,
   'replay --gdb printed the gdb command; QEMU refused the fake kernel, the replay DIFFERS, '
   'and under --gdb the exit status is the collector\'s (5, QEMU exited)', err)
subprocess.run(['rm', '-rf', tmp])
sys.exit(T.done())

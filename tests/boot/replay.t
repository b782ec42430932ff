#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""Record and replay a failed boot: `hypertrace boot --record` boots the CI
kernel, panicking in a late initcall, under QEMU's record/replay; `hypertrace
replay` runs the recording again and its trace is the recorded one (the
same events at the same guest times, the same kernel log: checked here with
`hypertrace dump --json` and `hypertrace log --json`, not only by replay's own
check); `replay --gdb` stops under QEMU's gdbstub at panic() with a backtrace
through the self-test; and what cannot be replayed (no recording, an
unfinished or cut log, a changed kernel) fails with a clear message."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htboot  # noqa: E402

t = htboot.Tap()
HT = htboot.HYPERTRACE
VMLINUX = os.path.join(htboot.BUILD, 'kernel', 'vmlinux')
t.require(HT, htboot.KERNEL, htboot.INITRAMFS, VMLINUX)
work = tempfile.mkdtemp(prefix='ht-replay-')
REC = os.path.join(work, 'rec')
APPEND = 'hypertrace_test=panic:print_ICs'


def run(*args, timeout=300):
    """A hypertrace command: (exit status, stderr)."""
    p = subprocess.run([HT] + list(args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stderr


def dump(trace):
    """hypertrace dump --json's event lines of a trace (the summary apart)."""
    p = subprocess.run([HT, 'dump', '--json', '--quiet', trace], capture_output=True, text=True)
    return [ln for ln in p.stdout.splitlines() if '"summary"' not in ln], p.returncode


def klog(trace):
    """hypertrace log --json's records of a trace."""
    p = subprocess.run([HT, 'log', '--json', '--quiet', trace], capture_output=True, text=True)
    return json.loads(p.stdout).get('records', []) if p.returncode == 0 else None


def report(d):
    """report.json of an output directory, {} if none."""
    path = os.path.join(d, 'report.json')
    return json.load(open(path)) if os.path.exists(path) else {}


def guest_side(r):
    """A report without what only the host knew: how far each doorbell
    record's arrival on the host lagged its guest time, clock.rr, how the
    host scheduled the vCPU thread, and the
    vCPUs' registers the collector asks QEMU for once the panicked guest
    paused (a replaying QEMU reaches the end of its log, the recording's
    final shutdown, right after that pause and may exit first)."""
    r = host_free(r)
    r.pop('vcpus', None)
    r['clock'] = {k: v for k, v in r.get('clock', {}).items()
                  if k not in ('rr', 'residual_ns', 'max_residual_ns')}
    return r


def host_free(o):
    """@o without the host scheduler's view (host_sched; each span's
    stolen_ns and migrations): how the host ran the vCPU thread differs
    from recording to replay"""
    if isinstance(o, dict):
        return {k: host_free(v) for k, v in o.items()
                if k not in ('host_sched', 'stolen_ns', 'migrations')}
    if isinstance(o, list):
        return [host_free(v) for v in o]
    return o


# ---- record a panicking boot -------------------------------------------------
t0 = time.monotonic()
rc, err = run('boot', '-q', '--record', '--kernel', htboot.KERNEL, '--initrd', htboot.INITRAMFS,
              '--vmlinux', VMLINUX, '--append', APPEND, '-o', REC)
rec_wall = time.monotonic() - t0
log = os.path.join(REC, 'replay.bin')
rec = report(REC)
t.ok(rc == 3 and rec.get('failure', {}).get('kind') == 'panic' and
     'print_ICs' in rec.get('failure', {}).get('where', ''),
     'boot --record, panic:print_ICs: exit 3, a panic in print_ICs (%.1f s)' % rec_wall, err)
t.ok(os.path.exists(log) and os.stat(log).st_mode & 0o777 == 0o600 and
     os.path.getsize(log) > 12 and
     os.stat(os.path.join(REC, 'replay.json')).st_mode & 0o777 == 0o600,
     'the recording: OUTDIR/replay.bin (%d bytes) and replay.json, both 0600'
     % (os.path.getsize(log) if os.path.exists(log) else 0))
clock = rec.get('clock', {})
t.ok(clock.get('mode') == 'icount' and clock.get('rr') == 'record' and rec.get('cpus') == 1,
     '--record implies the icount clock on one CPU; report.json says clock.rr "record"',
     str(clock))

# ---- replay it: the same trace ----------------------------------------------
t0 = time.monotonic()
rc, err = run('replay', '-q', REC)
rep_wall = time.monotonic() - t0
REP = os.path.join(REC, 'replay')
t.ok(rc == 3 and 'replay identical to the recording' in err,
     'replay DIR: exit 3 (the panic again), "replay identical to the recording" (%.1f s)'
     % rep_wall, err)
a, rca = dump(os.path.join(REC, 'trace.htf'))
b, rcb = dump(os.path.join(REP, 'trace.htf'))
diff = [(x, y) for x, y in zip(a, b) if x != y]
t.ok(rca == 0 and rcb == 0 and len(a) > 500 and a == b,
     'hypertrace dump --json: the replay has the recording\'s %d events, each the same '
     '(type, CPU, seq, guest TSC, arguments, string)' % len(a),
     'recorded %d, replayed %d events; first differences: %s' % (len(a), len(b), diff[:3]))
la, lb = klog(os.path.join(REC, 'trace.htf')), klog(os.path.join(REP, 'trace.htf'))
t.ok(la and la == lb and any('panic in print_ICs' in r['text'] for r in la),
     'hypertrace log --json: the same %d kernel log records, with the kernel\'s own '
     'timestamps, to the panic' % len(la or []),
     'recorded %d, replayed %d records' % (len(la or []), len(lb or [])))
ra, rb = report(REC), report(REP)
t.ok(ra and guest_side(ra) == guest_side(rb) and rb.get('clock', {}).get('rr') == 'replay',
     'report.json: equal but for clock.rr ("replay"), the doorbell\'s host lag and the host\'s scheduling: phases, levels, %d initcalls, the '
     'failure, its time %d ns' % (len(ra.get('initcalls', [])), ra.get('failure', {}).get('at_ns', 0)),
     str([k for k in ra if guest_side(ra).get(k) != guest_side(rb).get(k)]))

# ---- replay --gdb: stop at panic() ------------------------------------------
GDB = os.path.join(work, 'gdb')
if not shutil.which('gdb'):
    t.ok(False, 'replay --gdb: no gdb (scripts/install-deps.sh installs it)')
else:
    p = subprocess.Popen([HT, 'replay', '-q', '--gdb', '-o', GDB, REC],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sock = os.path.join(GDB, 'gdb.sock')
    for _ in range(300):
        if os.path.exists(sock) or p.poll() is not None:
            break
        time.sleep(0.1)
    script = os.path.join(GDB, 'replay.gdb')
    g = subprocess.run(['gdb', '-nx', '-batch', '-x', script, '-ex', 'bt', VMLINUX],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    frames = [m.group(1) for m in re.finditer(r'^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+)', g.stdout,
                                              re.M)]
    t.ok('Breakpoint 1, ' in g.stdout and frames[:1] == ['panic'] and
         '__hypertrace_selftest' in frames and 'do_one_initcall' in frames,
         'replay --gdb, gdb -x OUTDIR/replay.gdb vmlinux: stops at panic(), bt %s'
         % ' <- '.join(frames[:4]), g.stdout[-1500:] + g.stderr[-800:])
    try:
        rc = p.wait(timeout=300)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    gerr = p.stderr.read()
    t.ok(rc == 3 and 'gdb -x ' + script in gerr and 'replay identical to the recording' in gerr,
         'replay --gdb: said which gdb command to run; once gdb detached the replay ran on '
         'to the panic (exit 3), the recorded trace again', gerr)

# ---- what cannot be replayed ------------------------------------------------
rc, err = run('replay', '-q', work)
t.ok(rc == 1 and 'holds no recording' in err and 'boot --record' in err,
     'replay of a directory without a recording: exit 1, says how to record', err)


def variant(name, edit):
    """A copy of the recording changed by @edit(dir); the replay's (status, stderr)."""
    d = os.path.join(work, name)
    shutil.copytree(REC, d, ignore=shutil.ignore_patterns('replay'))
    edit(d)
    return run('replay', '-q', d)


def empty_log(d):
    """What a recording QEMU that was killed (SIGKILL) leaves: nothing."""
    open(os.path.join(d, 'replay.bin'), 'w').close()


rc, err = variant('empty', empty_log)
t.ok(rc == 1 and 'not a finished QEMU replay log' in err,
     'replay of an empty log (the recording QEMU killed): exit 1, says so', err)


def unfinished_log(d):
    """A log whose header QEMU never wrote (it writes it when the recording ends)."""
    with open(os.path.join(d, 'replay.bin'), 'r+b') as f:
        f.write(b'\0' * 4)


rc, err = variant('unfinished', unfinished_log)
t.ok(rc == 1 and 'unfinished QEMU replay log' in err,
     'replay of a log whose recording never ended: exit 1, says so', err)


def cut_log(d):
    """The log cut to its first MB: QEMU runs out of it early in the boot."""
    with open(os.path.join(d, 'replay.bin'), 'r+b') as f:
        f.truncate(1 << 20)


rc, err = variant('cut', cut_log)
t.ok(rc == 1 and 'error reading the replay data' in err and
     'replay DIFFERS from the recording' in err,
     'replay of a cut log: QEMU stops where it ends ("error reading the replay data"), '
     'replay says the trace DIFFERS, exit 1', err)


def changed_kernel(d):
    """replay.json names a kernel that differs in one byte from the recorded one."""
    k = os.path.join(d, 'bzImage')
    data = bytearray(open(htboot.KERNEL, 'rb').read())
    data[-1] ^= 1
    open(k, 'wb').write(data)
    j = json.load(open(os.path.join(d, 'replay.json')))
    j['kernel'] = k
    json.dump(j, open(os.path.join(d, 'replay.json'), 'w'))


rc, err = variant('kernel', changed_kernel)
t.ok(rc == 1 and 'not the file that was recorded' in err,
     'replay with a kernel changed since the recording: exit 1, refused before QEMU runs', err)

shutil.rmtree(work, ignore_errors=True)
sys.exit(t.done())

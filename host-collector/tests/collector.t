#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""hypertrace-collector end to end: the patched CI kernel booted by the
collector under QEMU (TCG), every verdict it can reach, a collector and a
QEMU killed mid-boot, a hostile fake guest, and usage errors.

Needs build/bin/hypertrace-collector (and its ASan twin), build/kernel/
(make kernel), build/initramfs.cpio.gz and build/bin/hypertrace.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'boot'))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests'))
import htboot  # noqa: E402
import htf  # noqa: E402

B = htboot.BUILD
COLL = os.path.join(B, 'bin', 'hypertrace-collector')
COLL_ASAN = os.path.join(B, 'bin', 'asan-hypertrace-collector')
t = htboot.Tap()

t.require(COLL, COLL_ASAN, htboot.KERNEL, htboot.INITRAMFS, htboot.HYPERTRACE)

work = tempfile.mkdtemp(prefix='ht-coll-')
by_name, by_addr = htboot.symbols()
victim = 'serial8250_init'


def qemu(append, smp=1):
    """A QEMU command line for the test kernel."""
    return ['qemu-system-x86_64', '-m', '256', '-smp', str(smp), '-display', 'none',
            '-monitor', 'none', '-no-reboot',
            '-serial', 'file:' + os.path.join(work, 'console.log'),
            '-kernel', htboot.KERNEL, '-initrd', htboot.INITRAMFS,
            '-append', 'console=ttyS0 panic=-1 ' + append]


def collect(name, append='', opts=(), coll=COLL, smp=1, timeout=120):
    """Run the collector; return (exit status, stderr, trace path)."""
    out = os.path.join(work, name + '.htf')
    cmd = [coll, 'run', '-o', out, '--accel', 'tcg', '--dir', work] + list(opts)
    cmd += ['--'] + qemu(append, smp)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stderr, out


def chunks(path):
    """Every good chunk of a trace file: htf.Chunk (kind, source, payload, ...)."""
    return htf.read(path)


def events(path):
    """hypertrace dump --json of a trace file: (events, summary, rc)."""
    return htboot.dump_json(path)[:3]


def wait_level(p):
    """Read the collector's progress lines until the boot is in level device
    (inside the victim's delay: a loaded machine boots slower), then 1 s more."""
    seen = ''
    for line in p.stderr:
        seen += line
        if 'booting level device,' in line:
            break
    time.sleep(1)
    return seen


# ---- usage -------------------------------------------------------------------
p = subprocess.run([COLL], capture_output=True, text=True)
t.ok(p.returncode == 2 and 'usage' in p.stderr, 'no arguments: usage, exit 2')
p = subprocess.run([COLL, 'run', '-o', os.path.join(work, 'x.htf')], capture_output=True, text=True)
t.ok(p.returncode == 2 and 'after --' in p.stderr, 'no QEMU command line: says so, exit 2')
p = subprocess.run([COLL, 'run', '--hang-timeout', 'soon', '--', 'true'], capture_output=True, text=True)
t.ok(p.returncode == 2 and 'soon' in p.stderr, 'bad --hang-timeout value: exit 2')
p = subprocess.run([COLL, 'run', '--help'], capture_output=True, text=True)
t.ok(p.returncode == 0 and 'Exit status' in p.stdout, 'run --help documents the exit status')
open(os.path.join(work, 'exists.htf'), 'w').close()
p = subprocess.run([COLL, 'run', '-o', os.path.join(work, 'exists.htf'), '--', 'true'],
                   capture_output=True, text=True)
t.ok(p.returncode == 1 and 'exists' in p.stderr, 'existing trace file is never overwritten: exit 1')

# A failure before QEMU starts must not close descriptors the collector
# never opened (the channels' fds used to start at 0: close(0), twice).
longdir = os.path.join(work, 'd' * (100 - len(work)))
os.mkdir(longdir)
cmd = [COLL, 'run', '-o', os.path.join(work, 'long.htf'), '--dir', longdir, '--', 'true']
if shutil.which('strace'):
    p = subprocess.run(['strace', '-f', '-qq', '-e', 'trace=close', '-o', os.path.join(work, 'strace.log')]
                       + cmd, capture_output=True, text=True)
    closes = open(os.path.join(work, 'strace.log')).read()
    t.ok(p.returncode == 1 and 'too long' in p.stderr and '--dir' in p.stderr and 'close(0)' not in closes
         and not os.path.exists(os.path.join(work, 'long.htf')) and not os.listdir(longdir),
         '--dir too long for the sockets: says so, exit 1, fd 0 never closed', p.stderr + closes)
else:
    t.ok(True, '--dir too long, fd 0 never closed # SKIP strace not installed')

# ---- a full boot ---------------------------------------------------------------
rc, err, out = collect('boot', 'initcall_debug ignore_loglevel', ['--vmlinux', os.path.join(B, 'kernel', 'vmlinux')], smp=2)
t.ok(rc == 0 and 'boot completed' in err, 'full boot: exit 0, "boot completed"', err)
t.ok(os.stat(out).st_mode & 0o777 == 0o600, 'trace file is 0600')
t.ok(not [d for d in os.listdir(work) if d.startswith('hypertrace-')],
     'private directory and guest RAM file removed afterwards')
evs, summ, drc = events(out)
types = {e['type'] for e in evs}
t.ok(drc == 0 and {'setup_entry', 'decomp_begin', 'kernel_entry', 'boot_done',
                   'machine_call', 'initcall_end'} <= types,
     'trace: setup code to power-off, %d events' % len(evs), str(sorted(types)))
ch = chunks(out)
meta = [json.loads(c[2]) for c in ch if c[0] == 1]
t.ok(meta and meta[0].get('accel') == 'tcg' and meta[0].get('vmlinux_build_id')
     and meta[0].get('host_tsc_khz', 0) > 0 and meta[0].get('qemu_argv'),
     'metadata: accelerator, vmlinux build-id, host TSC rate, command line', str(meta))
bid = subprocess.run(['readelf', '-n', os.path.join(B, 'kernel', 'vmlinux')],
                     capture_output=True, text=True).stdout
t.ok(meta and meta[0].get('vmlinux_build_id', '-') in bid, 'build-id matches readelf -n')
host = [json.loads(c[2]).get('event') for c in ch if c[0] == 3]
t.ok('launch' in host and 'qemu_exit' in host and 'qmp' in host,
     'host events: launch, QMP, QEMU exit', str(host))
clock = [c for c in ch if c[0] == 6]
t.ok(clock and all(len(c[2]) % 32 == 0 for c in clock) and 'clock_sync' not in host,
     'clock samples: %d HTF_CLOCK chunks, no clock_sync host event' % len(clock), str(host))
end = [json.loads(c[2]) for c in ch if c[0] == 5]
t.ok(end and end[-1]['exit_status'] == 0 and end[-1].get('verdict') == 'none',
     'END chunk carries the verdict', str(end))
# the progress line counts each record once: a doorbell copy of a ring record is not a record
ring_keys, nring, bell = set(), 0, []
for c in ch:
    for r in (c.records() if c.kind == 2 else []):
        key = (r.cpu, r.seq)
        if c.source in (1, 4):
            ring_keys.add(key)
            nring += 1
        else:
            bell.append(key)
unique = nring + len({k for k in bell if k not in ring_keys})
counted = re.findall(r'(\d+) records, \d+ lost', err)
t.ok(counted and int(counted[-1]) == unique < nring + len(bell),
     'progress line: %s records, each once (%d ring, %d doorbell, %d unique)'
     % (counted[-1] if counted else '?', nring, len(bell), unique), err)
ini = [e for e in evs if e['type'] == 'initcall_end']
printed = len(htboot.dmesg_initcalls(open(os.path.join(work, 'console.log'), errors='replace').read()))
t.ok(len(ini) >= printed > 100, 'every initcall recorded (%d, kernel printed %d)' % (len(ini), printed))

# ---- accelerator choice on this host -------------------------------------------
out = os.path.join(work, 'auto.htf')
p = subprocess.run([COLL, 'run', '-o', out, '--kvm-probe', '8', '--dir', work, '--'] + qemu(''),
                   capture_output=True, text=True, timeout=120)
if os.path.exists('/dev/kvm'):
    meta = [json.loads(c[2]) for c in chunks(out) if c[0] == 1]
    t.ok(p.returncode == 0 and meta and meta[0]['accel'] in ('kvm', 'tcg'),
         'auto: the boot completes under %s' % (meta[0]['accel'] if meta else '?'), p.stderr)
    if meta and meta[0]['accel'] == 'tcg':
        t.ok('using TCG' in p.stderr, 'auto: says why it fell back to TCG', p.stderr)
else:
    t.ok(p.returncode == 0, 'auto without /dev/kvm: TCG, boot completes', p.stderr)

# ---- failures --------------------------------------------------------------------
rc, err, out = collect('panic', 'hypertrace_test=panic:%s' % victim)
t.ok(rc == 3 and 'panic in %s' % victim in err and '%x' % by_name[victim] in err,
     'panic: exit 3, message and initcall named', err)

start = time.monotonic()
rc, err, out = collect('hang', 'hypertrace_test=hang:%s' % victim,
                       ['--hang-timeout', '4', '--vmlinux', os.path.join(B, 'kernel', 'vmlinux')])
t.ok(rc == 4 and 'guest hang: no progress for 4 s in level device, initcall %s (0x%x) never returned'
     % (victim, by_name[victim]) in err,
     'hang: exit 4 after %.0f s, the level and the initcall named' % (time.monotonic() - start), err)
t.ok(os.path.exists(out) and events(out)[2] == 0, 'hang: trace readable after QEMU was stopped')

rc, err, out = collect('early', 'hypertrace_test=early_panic')
evs, _, _ = events(out)
t.ok(rc == 3 and any(e['type'] == 'panic' for e in evs),
     'panic before the rings: exit 3, recovered from the early buffer in guest RAM', err)

rc, err, out = collect('oops', 'hypertrace_test=oops:%s' % victim)
t.ok(rc == 3 and ('oops' in err.lower() or 'Attempted to kill init' in err),
     'oops in init: exit 3', err)

rc, err, out = collect('off', 'hypertrace=off')
end = [json.loads(c[2]) for c in chunks(out) if c[0] == 5]
early = [c for c in chunks(out) if c[0] == 2 and c[1] == 4]
t.ok(rc == 6 and "tracing never came up" in err and 'hypertrace=off' in err
     and 'crash' not in err, 'hypertrace=off: exit 6, says the kernel\'s tracing never came up', err)
t.ok(early and len(early[0][2]) >= 32,
     'hypertrace=off: the early-buffer events it did write are kept in the trace (%d bytes)'
     % (len(early[0][2]) if early else 0))
t.ok(end and end[-1].get('verdict') == 'silent' and end[-1]['exit_status'] == 6,
     'hypertrace=off: the END chunk says silent', str(end))

# ---- QEMU killed mid-boot: the rings are recovered from guest RAM ------------------
out = os.path.join(work, 'qemu-killed.htf')
p = subprocess.Popen([COLL, 'run', '-o', out, '--accel', 'tcg', '--dir', work, '--keep-ram', '--']
                     + qemu('hypertrace_test=delay:%s:4000' % victim),
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
seen = wait_level(p)
kids = subprocess.run(['pgrep', '-P', str(p.pid)], capture_output=True, text=True).stdout.split()
for k in kids:
    os.kill(int(k), signal.SIGKILL)
err = seen + p.communicate(timeout=60)[1]
evs, _, _ = events(out)
t.ok(kids and p.returncode == 5 and 'before the boot finished, in level device, initcall 0x%x'
     % by_name[victim] in err, 'QEMU killed mid-boot: exit 5 (crash), level and initcall named', err)
t.ok(sum(e['type'] == 'initcall_end' for e in evs) > 50,
     'QEMU killed mid-boot: initcalls recovered from the RAM file (%d)'
     % sum(e['type'] == 'initcall_end' for e in evs))
for d in os.listdir(work):
    if d.startswith('hypertrace-'):
        st = os.stat(os.path.join(work, d))
        t.ok(st.st_mode & 0o777 == 0o700, '--keep-ram: private directory is 0700')
        ram = os.path.join(work, d, 'ram')
        t.ok(os.path.exists(ram) and os.stat(ram).st_mode & 0o077 == 0, 'guest RAM file is owner-only')
        subprocess.run(['rm', '-rf', os.path.join(work, d)])

# ---- the collector killed mid-boot: the trace stays readable ------------------------
out = os.path.join(work, 'coll-killed.htf')
p = subprocess.Popen([COLL, 'run', '-o', out, '--accel', 'tcg', '--dir', work, '--']
                     + qemu('hypertrace_test=delay:%s:4000' % victim),
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                     start_new_session=True)
wait_level(p)
os.kill(p.pid, signal.SIGKILL)
p.wait()
os.killpg(p.pid, signal.SIGKILL)
evs, summ, drc = events(out)
t.ok(drc == 0 and len(evs) > 20, 'collector killed with SIGKILL: trace readable, %d events' % len(evs))

# ---- attach to a QEMU started by someone else ----------------------------------------
att = os.path.join(work, 'att')
os.mkdir(att, 0o700)
q = subprocess.Popen(['qemu-system-x86_64', '-m', '256', '-display', 'none', '-monitor', 'none',
                      '-no-reboot', '-serial', 'file:' + os.path.join(att, 'console.log'),
                      '-object', 'memory-backend-file,id=r,size=256M,mem-path=%s/ram,share=on' % att,
                      '-machine', 'memory-backend=r',
                      '-qmp', 'unix:%s/qmp.sock,server=on,wait=off' % att,
                      '-kernel', htboot.KERNEL, '-initrd', htboot.INITRAMFS,
                      '-append', 'console=ttyS0 panic=-1 hypertrace_test=delay:%s:2000' % victim])
for _ in range(100):
    if os.path.exists(att + '/qmp.sock') and os.path.exists(att + '/ram') and os.path.getsize(att + '/ram'):
        break
    time.sleep(0.05)
out = os.path.join(work, 'attach.htf')
p = subprocess.run([COLL, 'attach', '--qmp', att + '/qmp.sock', '--ram', att + '/ram',
                    '--pid', str(q.pid), '-o', out], capture_output=True, text=True, timeout=120)
q.wait()
evs, _, _ = events(out)
t.ok(p.returncode == 0 and 'boot completed' in p.stderr and
     sum(e['type'] == 'initcall_end' for e in evs) > 100,
     'attach: a running VM recorded to its power-off from the rings', p.stderr)
p = subprocess.run([COLL, 'attach', '--ram', att + '/ram'], capture_output=True, text=True)
t.ok(p.returncode == 2 and '--qmp' in p.stderr, 'attach without --qmp: exit 2')

# ---- a hostile guest: garbage RAM and a doorbell flood, under ASan+UBSan -------------
fake = os.path.join(HERE, 'fake_qemu.py')
out = os.path.join(work, 'hostile.htf')
env = dict(os.environ, ASAN_OPTIONS='abort_on_error=0:exitcode=99')
p = subprocess.run([COLL_ASAN, 'run', '-o', out, '--accel', 'tcg', '--dir', work,
                    '--hang-timeout', '5', '--', sys.executable, fake, '-m', '64'],
                   capture_output=True, text=True, timeout=120, env=env)
# random records may decode to anything, a BOOT_DONE with no PANIC or OOPS
# among them too: any verdict will do, a collector error or a sanitizer's not
t.ok(p.returncode in (0, 3, 4, 5, 6) and 'ERROR: AddressSanitizer' not in p.stderr and
     'runtime error' not in p.stderr,
     'hostile guest (garbage control area, 80 MB doorbell flood): a verdict, no sanitizer error (exit %d)'
     % p.returncode, p.stderr)
loss = [json.loads(c[2]) for c in chunks(out) if c[0] == 4]
t.ok(loss and loss[-1]['doorbell_flooded'], 'hostile guest: the flood is cut off and marked in the trace')

subprocess.run(['rm', '-rf', work])
sys.exit(t.done())

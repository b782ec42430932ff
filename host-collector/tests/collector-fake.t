#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""hypertrace-collector against fake_guest.py, a QEMU stand-in that sends
exactly the records a case needs: the KVM probe's hold-back overflowing;
KVM TSC-offset clock samples from a fake debugfs; and (root, uprobe
events) hypercalls from fake_vcpu's threads read through a uprobe
stand-in for kvm:kvm_hypercall.  No kernel needed.

Needs build/bin/hypertrace-collector and build/tests/fake_vcpu.
"""
import fcntl
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'boot'))
import htboot  # noqa: E402

B = htboot.BUILD
COLL = os.path.join(B, 'bin', 'hypertrace-collector')
FAKE_VCPU = os.path.join(B, 'tests', 'fake_vcpu')
FAKE = [sys.executable, os.path.join(HERE, 'fake_guest.py')]
TRACEFS = '/sys/kernel/tracing'
LOCK_FILE = '/tmp/hypertrace-uprobe-test.lock'
SRC_PORT, SRC_HYPERCALL = 2, 3
K_RECORDS, K_LOSS, K_END, K_CLOCK = 2, 4, 5, 6
CLOCK_DOORBELL, CLOCK_HYPERCALL, CLOCK_KVM_OFFSET = 1, 2, 3
t = htboot.Tap()

for f in (COLL, FAKE_VCPU):
    if not os.path.exists(f):
        t.ok(False, '%s exists (make all)' % f)
        sys.exit(t.done())
work = tempfile.mkdtemp(prefix='ht-fake-')


def chunks(path):
    """(kind, source, host_ns, payload) of every chunk of a trace file."""
    data = open(path, 'rb').read()
    pos, out = 64, []
    while pos + 24 <= len(data):
        magic, kind, src, ln, _crc, ns = struct.unpack('<IHHIIQ', data[pos:pos + 24])
        if magic != 0x4b4e4843 or pos + 24 + ln > len(data):
            break
        out.append((kind, src, ns, data[pos + 24:pos + 24 + ln]))
        pos += 24 + ((ln + 7) & ~7)
    return out


def samples(payload):
    """(guest_tsc, host_ns, cpu, method) of each struct htf_clock_sample."""
    return [struct.unpack('<QQII', payload[i:i + 24]) for i in range(0, len(payload), 32)]


def run(name, fake_args, opts=(), wait=None):
    """The collector under --accel kvm on the fake; (exit status, stderr, chunks)."""
    out = os.path.join(work, name + '.htf')
    cmd = [COLL, 'run', '-o', out, '--accel', 'kvm', '--kvm-probe', '10', '--dir', work,
           '--hang-timeout', '20'] + list(opts) + ['--'] + FAKE + fake_args + ['-m', '64']
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if wait:
        wait(p)
    err = p.communicate(timeout=120)[1]
    return p.returncode, err, chunks(out) if os.path.exists(out) else []


# ---- the KVM probe holds back at most 1024 records: the rest is counted lost ----
rc, err, ch = run('flood', ['probe-flood'])
port = [c for c in ch if c[0] == K_RECORDS and c[1] == SRC_PORT]
nport = sum(len(c[3]) // 32 for c in port)
loss = [json.loads(c[3]) for c in ch if c[0] == K_LOSS]
dropped = loss[-1].get('probe_dropped', 0) if loss else 0
sent = 1500 + 4
t.ok(rc == 0, 'probe flood: the boot completes under the (fake) KVM', err)
t.ok(dropped > 0 and nport + dropped == sent,
     'probe flood: records beyond what the probe holds reach the LOSS chunk '
     '(%d written + %d dropped = %d sent)' % (nport, dropped, sent), str(loss))
t.ok(0 < len(port) <= 8,
     'probe flood: held records are written one chunk per drain (%d chunks for %d records)'
     % (len(port), nport))
clk = [c for c in ch if c[0] == K_CLOCK]
bell = [s for c in clk for s in samples(c[3]) if s[3] == CLOCK_DOORBELL]
t.ok(len(bell) == sent and len(clk) <= len(port) + 2 and
     all(s[0] == 1000 + i for i, s in enumerate(sorted(bell))),
     'probe flood: one doorbell clock sample per record that arrived, those the probe '
     'dropped too (%d), batched (%d chunks)' % (len(bell), len(clk)))
host = [json.loads(c[3]).get('event') for c in ch if c[0] == 3]
t.ok('clock_sync' not in host, 'no clock_sync host event: the samples are data', str(host))

# ---- KVM's TSC offsets, from a recorded debugfs layout ---------------------------
dfs = os.path.join(work, 'debugfs')
rc, err, ch = run('kvm-clock', ['kvm-clock', '--debugfs', dfs], ['--debugfs', dfs])
meta = [json.loads(c[3]) for c in ch if c[0] == 1]
kvm = [(c[2], samples(c[3])) for c in ch if c[0] == K_CLOCK
       if all(s[3] == CLOCK_KVM_OFFSET for s in samples(c[3]))]
t.ok(rc == 0 and len(kvm) >= 2 and all(sorted(s[2] for s in round_) == [0, 1] for _, round_ in kvm),
     'kvm clock: a chunk per round, one sample per vCPU (%d rounds)' % len(kvm), err)
if len(kvm) >= 2 and meta:
    khz = meta[0]['host_tsc_khz']
    (a, b) = (kvm[0][1], kvm[-1][1])
    dns = b[0][1] - a[0][1]
    rate0 = (b[0][0] - a[0][0]) / (dns * khz / 1e6)
    rate1 = (b[1][0] - a[1][0]) / ((b[1][1] - a[1][1]) * khz / 1e6)
    t.ok(abs(rate0 - 2) < 0.1 and abs(rate1 - 1) < 0.05,
         'kvm clock: vcpu0 runs at 2.0 (its scaling ratio), vcpu1 at 1.0 (no scaling files): %.3f, %.3f'
         % (rate0, rate1))
else:
    t.ok(False, 'kvm clock: two rounds to compare')


# ---- forensics of a hang: the vCPUs' registers and the vmcore, over QMP -------------
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests'))
import htf  # noqa: E402
HT = os.path.join(B, 'bin', 'hypertrace')


def host_events(path, name):
    """The host events called name of a trace, parsed (tests/htf.py)."""
    evs = [json.loads(c.payload) for c in htf.read(path) if c.kind == htf.HOST_EVENT]
    return [e for e in evs if e.get('event') == name]


def end_chunk(path):
    """The END chunk of a trace, parsed, or {}."""
    ends = [json.loads(c.payload) for c in htf.read(path) if c.kind == htf.END]
    return ends[-1] if ends else {}


for coll in [COLL] + [c for c in [os.path.join(B, 'bin', 'asan-hypertrace-collector')]
                      if os.path.exists(c)]:
    tag = 'asan ' if 'asan-' in coll else ''
    for regs in ('good', 'hostile', 'huge', 'late-info'):
        name = 'hang-%s%s' % (tag.strip(), regs)
        trace = os.path.join(work, name + '.htf')
        vmcore = os.path.join(work, name + '.vmcore')
        p = subprocess.run([coll, 'run', '-q', '-o', trace, '--accel', 'kvm', '--dir', work,
                            '--hang-timeout', '1', '--vmcore', '--', ] + FAKE +
                           ['hang', '--regs', regs, '-m', '64'],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120)
        st = host_events(trace, 'vcpu_state') if os.path.exists(trace) else []
        cpus = st[-1]['cpus'] if st else []
        vm = host_events(trace, 'vmcore') if os.path.exists(trace) else []
        if regs == 'good':
            t.ok(p.returncode == 4 and len(st) == 1 and
                 cpus == [{'cpu': 0, 'ip': '0xffffffff81000123', 'halted': False, 'cpl': 0},
                          {'cpu': 1, 'ip': '0xffffffff81000456', 'halted': True, 'cpl': 0}],
                 '%shang: vcpu_state has each vCPU\'s RIP and HLT from "info registers"' % tag,
                 str((p.returncode, st, p.stderr)))
            mode = os.stat(vmcore).st_mode & 0o777 if os.path.exists(vmcore) else None
            data = open(vmcore, 'rb').read() if mode else b''
            t.ok(mode == 0o600 and data.startswith(b'\x7fELF') and b'VMCOREINFO' in data and
                 vm and vm[-1].get('vmcoreinfo') is True and vm[-1].get('bytes') == len(data) and
                 end_chunk(trace).get('vmcore') == vmcore and 'vmcore in ' + vmcore in p.stderr,
                 '%shang: --vmcore: the dump went through getfd into a 0600 file beside the '
                 'trace, VMCOREINFO seen, named in END and on stderr' % tag,
                 str((mode, vm, end_chunk(trace), p.stderr)))
            r = subprocess.run([HT, 'report', '--json', trace], capture_output=True, text=True)
            rep = json.loads(r.stdout) if r.returncode == 0 else {}
            t.ok([(v['cpu'], v['ip'], v['halted']) for v in rep.get('vcpus', [])] ==
                 [(0, '0xffffffff81000123', False), (1, '0xffffffff81000456', True)] and
                 rep.get('vmcore', {}).get('path') == vmcore,
                 '%shang: report --json has vcpus[] and the vmcore' % tag, r.stderr + r.stdout[-800:])
        elif regs == 'late-info':
            data = open(vmcore, 'rb').read() if os.path.exists(vmcore) else b''
            nph = struct.unpack_from('<H', data, 56)[0] if data else 0
            ph = [struct.unpack_from('<IIQQQQQQ', data, 192 + 56 * i) for i in range(nph)]
            sh = struct.unpack_from('<IIQQQQIIQQ', data, 128) if data else (0,) * 10
            mem = bytes(range(256)) * 16
            info = b'OSRELEASE=6.1.0-fake\nPAGESIZE=4096\nSYMBOL(prb)=ffffffff82000000\n'
            # (type, vaddr, paddr) of each segment, and the bytes of each PT_LOAD
            segs = [(x[0], x[3], x[4]) for x in ph]
            good = (segs == [(4, 0, 0), (1, 0, 0x100000), (1, 0xffffffff80100000, 0x100000),
                             (1, 0xffff888000100000, 0x100000)] and
                    info in data[ph[0][2]:ph[0][2] + ph[0][5]] and
                    all(data[x[2]:x[2] + x[5]] == mem for x in ph[1:]) and
                    ph[1][2] == ph[0][2] + ph[0][5] and
                    data[sh[4]:sh[4] + sh[5]] == b'\0.shstrtab\0' and
                    len(data) == ph[1][2] + ph[1][5] + sh[5])
            t.ok(p.returncode == 4 and good and vm and vm[-1].get('vmcoreinfo') is True and
                 'added by the collector' in vm[-1].get('vmcoreinfo_from', '') and
                 oct(os.stat(vmcore).st_mode & 0o777) == '0o600' and
                 not os.path.exists(vmcore + '.tmp'),
                 '%sa dump without VMCOREINFO gets the kernel\'s note from guest RAM (decoys '
                 'passed over) in its PT_NOTE, and each PT_LOAD a kernel-image and a direct-map '
                 'copy over the same bytes, .shstrtab moved with them; still 0600' % tag, str((vm, segs)))
        elif regs == 'hostile':
            t.ok(p.returncode == 4 and len(cpus) == 2 and all('ip' not in c and c.get('error')
                                                             for c in cpus),
                 '%shostile registers: a 17-digit RIP and another vCPU\'s answer are errors, '
                 'not addresses' % tag, str((p.returncode, cpus, p.stderr)))
            t.ok(vm and 'SCM_RIGHTS' in vm[-1].get('error', '') and not os.path.exists(vmcore) and
                 'vmcore' not in end_chunk(trace) and 'no vmcore' in p.stderr,
                 '%sgetfd refused: no vmcore file, the reason in the trace and on stderr' % tag,
                 str((vm, p.stderr)))
        else:
            t.ok(p.returncode == 4 and len(cpus) == 2 and all('ip' not in c and c.get('error')
                                                             for c in cpus) and
                 os.path.exists(vmcore),
                 '%san answer longer than a QMP line and one without RIP: errors, and the '
                 'collector goes on (vmcore still taken)' % tag, str((p.returncode, cpus, p.stderr)))


# ---- hypercalls through a uprobe stand-in for kvm:kvm_hypercall ----------------
def uprobe_ready():
    """Why the hypercall cases cannot run here, or None."""
    if os.geteuid() != 0:
        return 'needs root (tracefs instances and uprobe events)'
    if not os.access(os.path.join(TRACEFS, 'uprobe_events'), os.W_OK):
        return 'no writable %s/uprobe_events' % TRACEFS
    return None


def append(path, line):
    """One write(2) with O_APPEND, never truncating (tracefs: no seek)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def hypercall_case():
    """fake_vcpu's threads are the vCPUs; returns (rc, err, chunks, records emitted)."""
    lock = open(LOCK_FILE, 'a')
    fcntl.flock(lock, fcntl.LOCK_EX)
    vcpu = subprocess.Popen([FAKE_VCPU, '2', '0'], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    off = int(vcpu.stdout.readline().split()[1], 16)
    tids = []
    for line in iter(vcpu.stdout.readline, ''):
        if line.strip() == 'ready':
            break
        tids.append(int(line.split()[2]))
    events = os.path.join(TRACEFS, 'uprobe_events')
    probe = ('p:hypertrace/kvm_hypercall %s:0x%x nr=%%ax:u64 a0=%%bx:u64 a1=%%cx:u64 '
             'a2=%%dx:u64 a3=%%si:u64' % (os.path.realpath(FAKE_VCPU), off))
    if 'hypertrace/kvm_hypercall ' in open(events).read():
        append(events, '-:hypertrace/kvm_hypercall')    # left by a crashed run
    append(events, probe)
    go = os.path.join(work, 'go')
    n = 400

    def drive(p):
        """Once the collector's tracefs instance exists, make the vCPUs call."""
        inst = os.path.join(TRACEFS, 'instances', 'hypertrace-%d' % p.pid)
        for _ in range(1000):
            if os.path.exists(inst) or p.poll() is not None:
                break
            time.sleep(0.01)
        time.sleep(0.2)
        vcpu.stdin.write('emit %d 0\n' % n)
        vcpu.stdin.flush()
        vcpu.stdout.readline()
        time.sleep(0.5)
        open(go, 'w').close()

    try:
        rc, err, ch = run('hypercalls', ['hypercalls', '--tids', ','.join(map(str, tids)), '--go', go],
                          ['--hypercall-event', 'hypertrace:kvm_hypercall'], wait=drive)
    finally:
        vcpu.stdin.write('quit\n')
        vcpu.stdin.flush()
        vcpu.wait(timeout=30)
        append(events, '-:hypertrace/kvm_hypercall')
        fcntl.flock(lock, fcntl.LOCK_UN)
    # every 8th hypercall is a batch kick, the rest carry a record
    return rc, err, ch, len(tids) * sum(1 for k in range(n) if k % 8 != 7)


why = uprobe_ready()
if why:
    t.ok(True, 'hypercalls batched per poll # SKIP %s' % why)
else:
    rc, err, ch, emitted = hypercall_case()
    hc = [c for c in ch if c[0] == K_RECORDS and c[1] == SRC_HYPERCALL]
    nhc = sum(len(c[3]) // 32 for c in hc)
    t.ok(rc == 0 and nhc == emitted,
         'hypercalls: every record of the vCPU threads recorded (%d of %d)' % (nhc, emitted), err)
    t.ok(0 < len(hc) <= nhc // 8,
         'hypercalls: one chunk per poll, not per record (%d chunks for %d records)' % (len(hc), nhc))
    clk = [c for c in ch if c[0] == K_CLOCK]
    hcs = [s for c in clk for s in samples(c[3]) if s[3] == CLOCK_HYPERCALL]
    recs = [struct.unpack('<QQ', c[3][i:i + 16]) for c in hc for i in range(0, len(c[3]), 32)]
    t.ok(len(hcs) == nhc and len(clk) <= len(hc) + 2 and
         sorted((s[0], s[2]) for s in hcs) == sorted((r[0], (r[1] >> 16) & 0xffff) for r in recs),
         'hypercalls: one clock sample per record (its TSC and CPU), batched (%d chunks)' % len(clk))

subprocess.run(['rm', '-rf', work])
sys.exit(t.done())

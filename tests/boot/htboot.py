# SPDX-License-Identifier: GPL-2.0 OR MIT
"""Boot a Hypertrace kernel under QEMU (TCG) and read back what it left.

Shared by the end-to-end boot tests.  Each boot gets a private 0700
directory with the guest RAM file (memory-backend-file,share=on), the
doorbell byte stream (isa-debugcon at the Hypertrace port into a file),
and the serial console log.  The trace is read with `hypertrace dump
--json`, the project's own reader, never by parsing the console.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, 'tests'))
import htf  # noqa: E402
BUILD = os.environ.get('HT_BUILD', os.path.join(TOP, 'build'))
KERNEL = os.path.join(BUILD, 'kernel', 'bzImage')
SYSTEM_MAP = os.path.join(BUILD, 'kernel', 'System.map')
INITRAMFS = os.path.join(BUILD, 'initramfs.cpio.gz')
HYPERTRACE = os.path.join(BUILD, 'bin', 'hypertrace')
HT_PORT = 0x4854

# event type numbers by name (lib/hypertrace_abi.h)
EV = htf.EV


class Boot:
    """One finished boot: console text, events, doorbell records."""

    def __init__(self, workdir, console, status, timed_out, wall):
        self.dir = workdir
        self.console = console
        self.status = status
        self.timed_out = timed_out
        self.wall = wall
        self.events = []
        self.summary = {}
        self.dump_rc = None
        self.dump_err = ''

    def read_trace(self, early_only=False):
        """Decode the RAM file with hypertrace dump --json."""
        cmd = [HYPERTRACE, 'dump', '--json', '--quiet']
        if early_only:
            cmd.append('--early-only')
        cmd.append(os.path.join(self.dir, 'ram'))
        p = subprocess.run(cmd, capture_output=True, text=True)
        self.dump_rc = p.returncode
        self.dump_err = p.stderr
        self.events = []
        for line in p.stdout.splitlines():
            obj = json.loads(line)
            if 'summary' in obj:
                self.summary = obj['summary']
            else:
                obj['a0'] = int(obj['a0'], 16)
                obj['a1'] = int(obj['a1'], 16)
                self.events.append(obj)
        return self

    def doorbell(self):
        """Records that came through the I/O port, as (type, tsc, a0, a1, info)."""
        path = os.path.join(self.dir, 'doorbell.bin')
        data = open(path, 'rb').read() if os.path.exists(path) else b''
        return [(r.type, r.tsc, r.a0, r.a1, r.info) for r in htf.parse_records(data)]

    def of(self, type_name):
        """Events of one type, in time order."""
        return [e for e in self.events if e['type'] == type_name]

    def cleanup(self):
        """Remove the boot's directory (RAM file included)."""
        shutil.rmtree(self.dir, ignore_errors=True)


def boot(append='', smp=1, mem=256, timeout=60, initrd=True, extra=None):
    """Boot the test kernel; return a Boot once QEMU exits or times out."""
    work = tempfile.mkdtemp(prefix='ht-boot-')
    os.chmod(work, 0o700)
    ram = os.path.join(work, 'ram')
    cmd = ['qemu-system-x86_64', '-accel', 'tcg', '-m', str(mem),
           '-smp', str(smp), '-display', 'none', '-monitor', 'none',
           '-no-reboot', '-serial', 'file:' + os.path.join(work, 'console.log'),
           '-object', 'memory-backend-file,id=ram,size=%dM,mem-path=%s,share=on'
           % (mem, ram),
           '-machine', 'memory-backend=ram',
           '-chardev', 'file,id=htdb,path=' + os.path.join(work, 'doorbell.bin'),
           '-device', 'isa-debugcon,iobase=%#x,chardev=htdb' % HT_PORT,
           '-kernel', KERNEL,
           '-append', 'console=ttyS0 panic=-1 ' + append]
    if initrd:
        cmd += ['-initrd', INITRAMFS]
    cmd += extra or []
    old = os.umask(0o077)
    start = time.monotonic()
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(work, 'qemu.err'), 'w'))
    finally:
        os.umask(old)
    timed_out = False
    try:
        status = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        p.kill()
        status = p.wait()
    wall = time.monotonic() - start
    log = os.path.join(work, 'console.log')
    console = open(log, errors='replace').read() if os.path.exists(log) else ''
    return Boot(work, console, status, timed_out, wall)


_symbols = None


def dump_json(path, quiet=True, hypertrace=None):
    """hypertrace dump --json of a trace or image: (events, summary, exit status, stderr)."""
    p = subprocess.run([hypertrace or HYPERTRACE, 'dump', '--json'] +
                       (['--quiet'] if quiet else []) + [path], capture_output=True, text=True)
    evs, summ = [], {}
    for line in p.stdout.splitlines():
        o = json.loads(line)
        if 'summary' in o:
            summ = o['summary']
        else:
            evs.append(o)
    return evs, summ, p.returncode, p.stderr


def symbols():
    """System.map as {name: address} and {address: name} for text symbols."""
    global _symbols
    if _symbols is None:
        by_name, by_addr = {}, {}
        for line in open(SYSTEM_MAP):
            addr, kind, name = line.split()[:3]
            if kind in 'tTwW':
                by_name.setdefault(name, int(addr, 16))
                by_addr.setdefault(int(addr, 16), name)
        _symbols = (by_name, by_addr)
    return _symbols


def dmesg_initcalls(console):
    """The kernel's own initcall_debug lines: [(name, ret, usecs)]."""
    out = []
    pat = re.compile(r'initcall (\S+?)(?:\+0x[0-9a-f]+/0x[0-9a-f]+)? returned (-?\d+) after (\d+) usecs')
    for m in pat.finditer(console):
        out.append((m.group(1), int(m.group(2)), int(m.group(3))))
    return out


class Tap:
    """Minimal TAP producer."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, diag=None):
        """One test point; diag lines are printed when it fails."""
        self.n += 1
        print('%sok %d - %s' % ('' if cond else 'not ', self.n, what), flush=True)
        if not cond:
            self.failed += 1
            for line in str(diag or '').splitlines()[-30:]:
                print('#   ' + line)
        return cond

    def require(self, *paths):
        """Stop here, failing, unless every one of paths exists."""
        for f in paths:
            if not os.path.exists(f):
                self.ok(False, '%s exists (make all kernel initramfs)' % f)
                sys.exit(self.done())

    def diag(self, text):
        """A comment line."""
        print('# ' + text, flush=True)

    def done(self):
        """Print the plan; return the exit status."""
        print('1..%d' % self.n)
        return 1 if self.failed else 0

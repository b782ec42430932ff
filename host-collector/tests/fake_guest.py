#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""A well-behaved stand-in for QEMU and its guest, for collector tests that
need exact control of what arrives: it takes the command line the
collector builds (RAM file, doorbell and QMP sockets), speaks QMP
(greeting, capabilities, query-cpus-fast, quit), and sends records through
the doorbell as a SCENARIO says, then powers off (exits 0).

  fake_guest.py SCENARIO [--tids T1,T2...] [--go FILE] [--debugfs DIR] COLLECTOR-ARGS...

With --debugfs, DIR/kvm/<its pid>-12/ plays KVM's debugfs view of the VM:
vcpu0 with tsc-offset -5000000000 and a scaling ratio of 2.0 (48 fraction
bits), vcpu1 with tsc-offset 7 and no scaling files.

Scenarios:
  probe-flood  1500 setup-code records at once (more than the KVM probe
               holds), then the kernel proper and a finished boot
  hypercalls   the kernel proper at once; query-cpus-fast names --tids (a
               fake_vcpu's threads, whose uprobe hypercalls the collector
               reads); the boot finishes once the file --go exists
  kvm-clock    the kernel proper at once, two vCPUs, the boot finishes
               2.5 s later (two rounds of KVM offset samples)
"""
import json
import os
import socket
import struct
import sys
import time

from qemu_args import qemu_paths

EV = {'setup_entry': 0x100, 'decomp_begin': 0x101, 'kernel_entry': 0x103,
      'start_kernel': 0x104, 'boot_done': 0x109, 'machine_call': 0x407}
PROBE_FLOOD = 1500


def record(ev, seq, cpu=0, tsc=None, a0=0, a1=0):
    """One 32-byte record (lib/hypertrace_abi.h)."""
    info = EV[ev] | (cpu << 16) | (seq << 32)
    return struct.pack('<4Q', tsc if tsc is not None else 1000 + seq, info, a0, a1)


class Qmp:
    """The QMP side: greeting, then answers to what the collector asks."""

    def __init__(self, path, tids):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.tids = tids
        self.buf = b''
        self.quit = False
        self.s.sendall(b'{"QMP": {"version": {}, "capabilities": []}}\r\n')
        self.s.setblocking(False)

    def serve(self):
        """Answer every complete command waiting."""
        try:
            self.buf += self.s.recv(65536)
        except BlockingIOError:
            return
        while b'\n' in self.buf:
            line, self.buf = self.buf.split(b'\n', 1)
            cmd = json.loads(line).get('execute')
            if cmd == 'query-cpus-fast':
                ret = [{'cpu-index': i, 'thread-id': t} for i, t in enumerate(self.tids)]
            else:
                ret = {}
            self.s.sendall(json.dumps({'return': ret}).encode() + b'\r\n')
            if cmd == 'quit':
                self.quit = True


def wait(qmp, secs, until=None):
    """Serve QMP for up to secs seconds, or until until() is true."""
    end = time.monotonic() + secs
    while time.monotonic() < end and not qmp.quit and not (until and until()):
        qmp.serve()
        time.sleep(0.01)


def debugfs(root):
    """KVM's debugfs view of this process's VM (see the top)."""
    vm = os.path.join(root, 'kvm', '%d-12' % os.getpid())
    files = {'vcpu0/tsc-offset': '-5000000000\n', 'vcpu0/tsc-scaling-ratio': '%d\n' % (2 << 48),
             'vcpu0/tsc-scaling-ratio-frac-bits': '48\n', 'vcpu1/tsc-offset': '7\n'}
    for rel, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(vm, rel)), exist_ok=True)
        with open(os.path.join(vm, rel), 'w') as f:
            f.write(text)


def main():
    """Parse the collector's command line and play the scenario."""
    args = sys.argv[1:]
    scenario, tids, go = args.pop(0), [], None
    mem_path, size, db, qmp_path = qemu_paths(args)
    for i, a in enumerate(args):
        if a == '--tids':
            tids = [int(t) for t in args[i + 1].split(',')]
        if a == '--go':
            go = args[i + 1]
        if a == '--debugfs':
            debugfs(args[i + 1])
    with open(mem_path, 'wb') as f:
        f.truncate(size)
    if scenario == 'kvm-clock':
        tids = [os.getpid(), os.getpid()]
    qmp = Qmp(qmp_path, tids)
    bell = socket.socket(socket.AF_UNIX)
    bell.connect(db)
    seq = 0
    if scenario == 'probe-flood':
        bell.sendall(b''.join(record('setup_entry', i) for i in range(PROBE_FLOOD)))
        seq = PROBE_FLOOD
        wait(qmp, 1)
    bell.sendall(record('kernel_entry', seq) + record('start_kernel', seq + 1))
    seq += 2
    if scenario == 'hypercalls':
        wait(qmp, 60, lambda: os.path.exists(go))
    elif scenario == 'kvm-clock':
        wait(qmp, 2.5)
    else:
        wait(qmp, 0.5)
    bell.sendall(record('boot_done', seq) + record('machine_call', seq + 1))
    wait(qmp, 0.5)
    return 0


sys.exit(main())

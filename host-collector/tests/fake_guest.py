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
  hang         the kernel proper, then only idle-loop records and
               in-band hint reports (five a second, as a hung kernel's
               idle loop sends) until the collector quits;
               QMP answers what the collector's forensics ask: stop,
               query-cpus-fast (two vCPUs), human-monitor-command "info
               registers" per cpu-index as --regs says, getfd (the
               descriptor passed with it) and dump-guest-memory into it
               (a small ELF core with a VMCOREINFO note)

  --regs good     vCPU 0 runs at RIP 0xffffffff81000123, vCPU 1 halted at
                  0xffffffff81000456 (QEMU's format: CPU#N, \\r\\n)
  --regs hostile  vCPU 0: a 17-digit RIP; vCPU 1: the answer of vCPU 7
                  and a QMP error for getfd (so no vmcore)
  --regs huge     vCPU 0: 70 kB of registers (more than a QMP line may be),
                  vCPU 1: no RIP at all
  --regs late-info  as good, but the dump has no VMCOREINFO (a guest that
                  died before its fw_cfg driver) and guest RAM has the
                  kernel's note at 0x5000 (and two decoys before it)
"""
import json
import os
import socket
import struct
import sys
import time

from qemu_args import qemu_paths

EV = {'setup_entry': 0x100, 'decomp_begin': 0x101, 'kernel_entry': 0x103,
      'start_kernel': 0x104, 'boot_done': 0x109, 'idle_begin': 0x208, 'idle_end': 0x209,
      'machine_call': 0x407, 'vcpu_pcpu': 0x600}
PROBE_FLOOD = 1500


def record(ev, seq, cpu=0, tsc=None, a0=0, a1=0):
    """One 32-byte record (lib/hypertrace_abi.h)."""
    info = EV[ev] | (cpu << 16) | (seq << 32)
    return struct.pack('<4Q', tsc if tsc is not None else 1000 + seq, info, a0, a1)


def regs_text(cpu, rip, hlt):
    """QEMU 7.2's "info registers" of an x86_64 vCPU (abridged)."""
    return ('\r\nCPU#%d\r\nRAX=0000000000000000 RBX=0000000000000001 RCX=0 RDX=0\r\n'
            'RIP=%s RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=%d\r\n'
            'ES =0000 0000000000000000 00000000 00000000\r\n'
            'CR0=80050033 CR2=0000000000000000 CR3=0000000002a0c000 CR4=003506f0\r\n'
            % (cpu, rip, hlt))


VMCOREINFO = (b'OSRELEASE=6.1.0-fake\nPAGESIZE=4096\nSYMBOL(prb)=ffffffff82000000\n'
              b'NUMBER(phys_base)=0\nNUMBER(pgtable_l5_enabled)=0\nKERNELOFFSET=0\n'
              b'NUMBER(KERNEL_IMAGE_SIZE)=536870912\n')
MEMORY = bytes(range(256)) * 16     # the one PT_LOAD's 4 KiB


def note(name, desc):
    """One ELF note (type 0), name and desc padded to 4."""
    name += b'\0'
    return (struct.pack('<III', len(name), len(desc), 0) + name.ljust((len(name) + 3) & ~3, b'\0')
            + desc.ljust((len(desc) + 3) & ~3, b'\0'))


def elf_core(with_info=True):
    """An ELF64 core laid out as QEMU 7.2 writes one: the ELF header, two
    section headers (null, .shstrtab), a PT_NOTE and a PT_LOAD header, the
    notes (a CORE note, and VMCOREINFO if @with_info), the memory, then
    the .shstrtab section."""
    notes = note(b'CORE', b'\1' * 40) + (note(b'VMCOREINFO', VMCOREINFO) if with_info else b'')
    noff = 64 + 2 * 64 + 2 * 56
    strtab = b'\0.shstrtab\0'
    stroff = noff + len(notes) + len(MEMORY)
    eh = b'\x7fELF\x02\x01\x01' + b'\0' * 9 + struct.pack('<HHIQQQIHHHHHH', 4, 62, 1, 0, 192, 64, 0,
                                                            64, 56, 2, 64, 2, 1)
    sh = b'\0' * 64 + struct.pack('<IIQQQQIIQQ', 1, 3, 0, 0, stroff, len(strtab), 0, 0, 0, 0)
    ph = (struct.pack('<IIQQQQQQ', 4, 0, noff, 0, 0, len(notes), len(notes), 0) +
          struct.pack('<IIQQQQQQ', 1, 0, noff + len(notes), 0, 0x100000, len(MEMORY),
                      len(MEMORY), 0))
    return eh + sh + ph + notes + MEMORY + strtab


def ram_note():
    """The kernel's vmcoreinfo_note page: the note, then the empty final note."""
    return note(b'VMCOREINFO', VMCOREINFO) + b'\0' * 12


class Qmp:
    """The QMP side: greeting, then answers to what the collector asks."""

    def __init__(self, path, tids, regs='good'):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.tids = tids
        self.regs = regs
        self.buf = b''
        self.fds = []
        self.vmcore_fd = None
        self.quit = False
        self.s.sendall(b'{"QMP": {"version": {}, "capabilities": []}}\r\n')
        self.s.setblocking(False)

    def registers(self, idx):
        """What human-monitor-command "info registers" answers for vCPU idx."""
        if self.regs in ('good', 'late-info'):
            return regs_text(idx, ['ffffffff81000123', 'ffffffff81000456'][idx % 2], idx % 2)
        if self.regs == 'hostile':
            return regs_text(idx, 'f' * 17, 0) if idx == 0 else regs_text(7, 'ffffffff81000456', 1)
        return 'RAX=0 ' * 12000 if idx == 0 else 'CPU#1\r\nno registers here\r\n'

    def answer(self, msg):
        """The reply to one command: {"return": ...} or {"error": ...}."""
        cmd, args = msg.get('execute'), msg.get('arguments', {})
        if cmd == 'query-cpus-fast':
            return {'return': [{'cpu-index': i, 'thread-id': t} for i, t in enumerate(self.tids)]}
        if cmd == 'human-monitor-command':
            return {'return': self.registers(args.get('cpu-index', 0))}
        if cmd == 'getfd':
            if self.regs == 'hostile' or not self.fds:
                return {'error': {'class': 'GenericError', 'desc': 'No file descriptor supplied via SCM_RIGHTS'}}
            self.vmcore_fd = self.fds.pop()
            return {'return': {}}
        if cmd == 'dump-guest-memory':
            if self.vmcore_fd is None or args.get('protocol') != 'fd:ht-vmcore':
                return {'error': {'class': 'GenericError', 'desc': 'bad protocol'}}
            os.write(self.vmcore_fd, elf_core(self.regs != 'late-info'))
            os.close(self.vmcore_fd)
            self.vmcore_fd = None
            return {'return': {}}
        return {'return': {}}

    def serve(self):
        """Answer every complete command waiting."""
        try:
            data, fds, _, _ = socket.recv_fds(self.s, 65536, 4)
        except BlockingIOError:
            return
        self.fds += fds
        self.buf += data
        while b'\n' in self.buf:
            line, self.buf = self.buf.split(b'\n', 1)
            msg = json.loads(line)
            reply = self.answer(msg)
            if 'id' in msg:
                reply['id'] = msg['id']
            self.s.sendall(json.dumps(reply).encode() + b'\r\n')
            if msg.get('execute') == 'quit':
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
    scenario, tids, go, regs = args.pop(0), [], None, 'good'
    mem_path, size, db, qmp_path = qemu_paths(args)
    for i, a in enumerate(args):
        if a == '--tids':
            tids = [int(t) for t in args[i + 1].split(',')]
        if a == '--go':
            go = args[i + 1]
        if a == '--debugfs':
            debugfs(args[i + 1])
        if a == '--regs':
            regs = args[i + 1]
    with open(mem_path, 'wb') as f:
        f.truncate(size)
        if regs in ('late-info', 'good'):
            # decoys the collector must pass over, then the kernel's note
            f.seek(0x3000 + 12)
            f.write(b'VMCOREINFO\0\0 no header')
            f.seek(0x4000)
            f.write(note(b'VMCOREINFO', b'OSRELEASE=\x01binary\n') + b'\0' * 12)
            f.seek(0x5000)
            f.write(ram_note())
    if scenario in ('kvm-clock', 'hang'):
        tids = [os.getpid(), os.getpid()]
    qmp = Qmp(qmp_path, tids, regs)
    bell = socket.socket(socket.AF_UNIX)
    bell.connect(db)
    seq = 0
    if scenario == 'probe-flood':
        bell.sendall(b''.join(record('setup_entry', i) for i in range(PROBE_FLOOD)))
        seq = PROBE_FLOOD
        wait(qmp, 1)
    bell.sendall(record('kernel_entry', seq) + record('start_kernel', seq + 1))
    seq += 2
    if scenario == 'hang':
        # a hung kernel idles: its idle loop's records keep coming, and are no progress
        end = time.monotonic() + 120
        while time.monotonic() < end and not qmp.quit:
            wait(qmp, 0.2)
            try:
                # the vCPU thread wakes on another host CPU each time: the
                # guest reports the collector's hint, which is no progress
                # either
                hint = (seq % 2 + 1) << 32 | ((seq + 1) % 2 + 1)
                bell.sendall(record('vcpu_pcpu', seq, a0=hint) + record('idle_begin', seq + 1) +
                             record('idle_end', seq + 2))
            except OSError:
                break
            seq += 3
        return 0
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

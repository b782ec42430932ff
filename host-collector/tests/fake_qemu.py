#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""A hostile stand-in for QEMU, for the collector's tests: it takes the
command line the collector builds, fills "guest RAM" with garbage and
control areas that lie (bogus geometry, a ring head far ahead of its tail,
an early buffer whose count is absurd), floods the doorbell socket with
80 MB of random bytes, sends QMP junk, and exits."""
import os
import socket
import struct
import sys

from qemu_args import qemu_paths

args = sys.argv[1:]
mem_path, size, db, qmp = qemu_paths(args)

CTL, EARLY = 0x4c54434152545948, 0x594c524145545948
ram = bytearray(os.urandom(1 << 20)) * (size >> 20)


def ctl(off, nr, recs, stride=None, head=0):
    """A control area header at off, and ring 0's head."""
    stride = stride if stride is not None else 128 + recs * 32
    hdr = struct.pack('<QHHHHIIQQQQQQQQQ', CTL, 1, 128, nr, 32, recs, 0,
                      128 + nr * stride, 128, stride, off, 0, 0, 0, 0, 0)
    ram[off:off + len(hdr)] = hdr
    ram[off + 128:off + 136] = struct.pack('<Q', head)


ctl(0x10000, 65535, 3)                 # impossible geometry
ctl(0x20000, 2, 1 << 24)               # rings past the end of RAM
ctl(0x100000, 2, 256, head=10 ** 15)   # valid geometry, lying head
ram[0x300000:0x300000 + 16] = struct.pack('<QHHI', EARLY, 1, 64, 256)
ram[0x300000 + 16:0x300000 + 20] = struct.pack('<I', 0xffffffff)
with open(mem_path, 'wb') as f:
    f.write(ram)

if qmp:
    try:
        q = socket.socket(socket.AF_UNIX)
        q.connect(qmp)
        q.sendall(b'{"QMP": {"version": {}}}\r\nnot json at all\r\n' + b'x' * 70000 + b'\n')
        q.sendall(b'{"event": "RESET", "data": {"guest": true}}\r\n')
    except OSError:
        pass
if db:
    s = socket.socket(socket.AF_UNIX)
    s.connect(db)
    blob = os.urandom(1 << 20)
    try:
        for _ in range(80):
            s.sendall(blob)
    except OSError:
        pass
sys.exit(0)

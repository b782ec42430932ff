#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""Write a trace file of N records (default 1,000,000): a TSC_KHZ record
and N/2 - 1 initcalls on two CPUs, in ring chunks of 4096 records, for
make bench.  Usage: make_big_trace.py OUT [N]"""
import struct
import sys
import zlib

out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000000


def chunk(kind, src, payload):
    """One CRC-checked chunk."""
    hdr = struct.pack('<IHHIIQ', 0x4b4e4843, kind, src, len(payload), 0, 0)
    crc = zlib.crc32(payload, zlib.crc32(hdr))
    return struct.pack('<IHHIIQ', 0x4b4e4843, kind, src, len(payload), crc, 0) + \
        payload + b'\0' * (-len(payload) % 8)


with open(out, 'wb') as f:
    f.write(b'HTTRACE\0' + struct.pack('<IIQQ', 1, 64, 0, 0) + b'\0' * 32)
    f.write(chunk(1, 0, b'{"tool":"make_big_trace","abi_version":1,"accel":"synthetic"}'))
    recs = [struct.pack('<4Q', 1, 0x004, 2000000, 0)]
    seq = [1, 0]
    for i in range(n // 2 - 1):
        cpu = i % 2
        fn = 0xffffffff81000000 + 16 * (i % 50000)
        t = 1000 + i * 400
        recs.append(struct.pack('<4Q', t, 0x202 | cpu << 16 | seq[cpu] << 32, fn, 6))
        recs.append(struct.pack('<4Q', t + 300, 0x203 | cpu << 16 | (seq[cpu] + 1) << 32, fn, 0))
        seq[cpu] += 2
    for i in range(0, len(recs), 4096):
        f.write(chunk(2, 1, b''.join(recs[i:i + 4096])))

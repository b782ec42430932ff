#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""Write a trace file of N records (default 1,000,000): a TSC_KHZ record
and N/2 - 1 initcalls on two CPUs, in ring chunks of 4096 records, for
make bench.  Usage: make_big_trace.py OUT [N]"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests'))
import htf  # noqa: E402

out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
BEGIN, END = htf.EV['initcall_begin'], htf.EV['initcall_end']

with htf.Writer(out) as w:
    w.header()
    w.metadata({'tool': 'make_big_trace', 'abi_version': 1, 'accel': 'synthetic'})
    recs = [htf.record(htf.EV['tsc_khz'], tsc=1, a0=2000000)]
    seq = [1, 0]
    for i in range(n // 2 - 1):
        cpu = i % 2
        fn = 0xffffffff81000000 + 16 * (i % 50000)
        t = 1000 + i * 400
        recs.append(htf.record(BEGIN, cpu, seq[cpu], tsc=t, a0=fn, a1=6))
        recs.append(htf.record(END, cpu, seq[cpu] + 1, tsc=t + 300, a0=fn, a1=0))
        seq[cpu] += 2
    for i in range(0, len(recs), 4096):
        w.records(htf.SRC_RING, recs[i:i + 4096])

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""tests/htf.py, the tests' Python copy of the trace format, against the C
reader (hypertrace dump) and the recorded fixtures: what it writes libhtrace
reads back, what it reads is what libhtrace reads, torn tails included."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
FX = os.path.join(TOP, 'tools', 'tests', 'fixtures')
HT = os.path.join(os.environ.get('HT_BUILD', os.path.join(TOP, 'build')), 'bin', 'hypertrace')
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, 'boot'))
import htboot  # noqa: E402
import htf  # noqa: E402

T = htboot.Tap()
ok = T.ok
tmp = tempfile.mkdtemp(prefix='ht-htf-')


def dump(path, quiet=True):
    """hypertrace dump --json: (events, summary, exit status, stderr)."""
    return htboot.dump_json(path, quiet, HT)


# ---- the fixtures, recorded by the collector --------------------------------
for name in ('boot', 'panic'):
    path = os.path.join(FX, name + '.htf')
    data = open(path, 'rb').read()
    tr = htf.parse(data)
    ok(tr.torn == 0 and tr.torn_reason is None and tr.end == len(data) and
       tr.chunks[0].kind == htf.METADATA and tr.chunks[-1].kind == htf.END,
       '%s.htf: %d chunks, metadata first, END last, no torn tail' % (name, len(tr.chunks)))
    ok(tr.header.encode() + b''.join(c.encode() for c in tr.chunks) == data,
       '%s.htf: header and chunks encode back to the same bytes' % name)
    recs = [r for c in tr.chunks if c.kind == htf.RECORDS for r in c.records()]
    evs, summ, rc, err = dump(path)
    ok(rc == 0 and len(recs) >= summ.get('events', -1) > 0,
       '%s.htf: %d records read, dump decodes %s events from them'
       % (name, len(recs), summ.get('events')), err)

# ---- written here, read by libhtrace ------------------------------------------
path = os.path.join(tmp, 'made.htf')
text = 'a marker of 50 bytes: ' + 'x' * 28
with htf.Writer(path) as w:
    w.header(created_ns=1, created_mono=2)
    w.metadata({'tool': 'htf.t', 'abi_version': 1})
    w.records(htf.SRC_RING, [htf.record(htf.EV['tsc_khz'], tsc=5, a0=1000000),
                             htf.record(htf.EV['initcall_begin'], 1, 7, tsc=1000, a0=0x1234, a1=6),
                             htf.record(htf.EV['initcall_end'], 1, 8, tsc=3000, a0=0x1234)])
    w.records(htf.SRC_PORT, htf.string_records(htf.EV['user_marker'], text, cpu=0, seq=1,
                                               tsc=4000, a0=42))
    w.clock([htf.clock_sample(4000, 10**9, 0, htf.CLOCK_DOORBELL)], host_ns=10**9)
    w.end({'exit_status': 0})
evs, summ, rc, err = dump(path)
got = [(e['type'], e['cpu'], e['seq'], e['tsc']) for e in evs]
ok(rc == 0 and got == [('tsc_khz', 0, 0, 5), ('initcall_begin', 1, 7, 1000),
                       ('initcall_end', 1, 8, 3000), ('user_marker', 0, 1, 4000)],
   'a written trace: dump reads its four events, type, cpu, seq and tsc', '%s\n%s' % (got, err))
mark = [e for e in evs if e['type'] == 'user_marker']
ok(mark and mark[0].get('str') == text and mark[0]['a0'] == '0x2a',
   'string records: dump joins the 3 continuations into the 50-byte marker', str(mark))
ok(summ.get('seq_gaps') == 0 and summ.get('bad_records') == 0 and summ.get('torn_bytes') == 0,
   'no sequence gap, bad record or torn byte', str(summ))
tr = htf.load(path)
ok([(c.kind, c.source) for c in tr.chunks] ==
   [(htf.METADATA, 0), (htf.RECORDS, htf.SRC_RING), (htf.RECORDS, htf.SRC_PORT),
    (htf.CLOCK, 0), (htf.END, 0)] and tr.header.created_mono == 2,
   'read back: the chunks in order, the header fields')
ok(tr.chunks[3].clock_samples() == [(4000, 10**9, 0, htf.CLOCK_DOORBELL, 0)] and
   tr.chunks[3].host_ns == 10**9 and tr.chunks[4].json() == {'exit_status': 0},
   'read back: the clock sample, the END object')
r = tr.chunks[2].records()
ok(len(r) == 4 and r[0].ncont == 3 and [x.type for x in r[1:]] == [htf.EV['cont']] * 3 and
   [(x.ncont, x.seq) for x in r[1:]] == [(1, 2), (2, 3), (3, 4)] and
   r[3].encode()[8:16] == b'\x01\x30\0\0\x04\0\0\0' and r[3].encode()[:2] == b'xx',
   'string records: head ncont 3, continuations 1..3 after the head, the text zero-padded')
rec = htf.parse_records(htf.record(0xabc, 0xfedc, 0x89abcdef, 1, 2, 3, 0xd))[0]
ok((rec.type, rec.ncont, rec.cpu, rec.seq, rec.tsc, rec.a0, rec.a1) ==
   (0xabc, 0xd, 0xfedc, 0x89abcdef, 1, 2, 3), 'info word: type, ncont, cpu and seq round-trip')
try:
    htf.string_records(htf.EV['user_marker'], 'y' * (htf.STR_MAX + 1))
    ok(False, 'a string longer than 360 bytes is refused')
except ValueError:
    ok(True, 'a string longer than 360 bytes is refused')

# ---- damaged files: the same torn tail as libhtrace ----------------------------
data = open(path, 'rb').read()
bad = bytearray(data)
bad[tr.chunks[2].offset + htf.CHUNK_HEADER_SIZE] ^= 1
cases = {'truncated payload': data[:-5], 'truncated chunk header': data + b'CHNK',
         'CRC mismatch': bytes(bad), 'bad chunk magic': data + b'\0' * 24}
for why, blob in cases.items():
    p = os.path.join(tmp, 'torn')
    open(p, 'wb').write(blob)
    tr = htf.parse(blob)
    evs, summ, rc, err = dump(p, quiet=False)
    ok(tr.torn_reason == why and tr.torn == summ.get('torn_bytes') and why in err,
       '%s: %d bytes dropped, as libhtrace drops them' % (why, tr.torn),
       '%s %s\n%s' % (tr, summ, err))
for blob, what in ((data[:40], 'a short file'), (b'x' * 64, 'a bad magic'),
                   (htf.file_header(version=2) + data[64:], 'a newer version')):
    try:
        htf.parse(blob)
        ok(False, '%s is refused' % what)
    except ValueError:
        ok(True, '%s is refused' % what)

subprocess.run(['rm', '-rf', tmp])
sys.exit(T.done())

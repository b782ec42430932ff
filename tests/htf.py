# SPDX-License-Identifier: GPL-2.0 OR MIT
"""Read and write Hypertrace trace files and guest records, for the tests.

The one Python copy of the formats; the specification is C:

- the trace file (libhtrace/tracefile.h): a 64-byte file header, then
  chunks of a 24-byte header (magic, kind, source, payload length, CRC-32,
  host time), the payload and zero padding to 8 bytes.  A reader stops at
  the first chunk that is cut short or fails its CRC (a torn tail) and
  keeps everything before it, as htf_next() does;
- the 32-byte guest record (lib/hypertrace_abi.h): tsc, info (type 12 bits,
  ncont 4, cpu 16, seq 32), a0, a1; a string rides in continuation records
  of 24 bytes each after its head record.

Event type numbers are read from lib/hypertrace_abi.h itself: EV['tsc_khz'],
EV['initcall_begin'] (the names `hypertrace dump --json` prints).

Writing::

    with htf.Writer(path) as w:
        w.header().metadata({'abi_version': 1})
        w.records(htf.SRC_RING, [htf.record(htf.EV['tsc_khz'], a0=2000000)])
        w.end({'exit_status': 0})

Reading::

    for c in htf.read(path):            # [Chunk(kind, source, payload, ...)]
        if c.kind == htf.METADATA:
            meta = c.json()
        elif c.kind == htf.RECORDS:
            recs = c.records()           # [Record(tsc, info, a0, a1)]

    tr = htf.parse(data)                 # the header, the chunks and the torn tail
"""
import json
import os
import re
import struct
import zlib
from collections import namedtuple

# ---- trace file (libhtrace/tracefile.h) ---------------------------------------

MAGIC = b'HTTRACE\0'
VERSION = 1
HEADER_SIZE = 64
CHUNK_MAGIC = 0x4b4e4843            # "CHNK"
CHUNK_HEADER_SIZE = 24
MAX_PAYLOAD = 16 << 20

# enum htf_kind
METADATA, RECORDS, HOST_EVENT, LOSS, END, CLOCK, LOG, SCHED = 1, 2, 3, 4, 5, 6, 7, 8
# enum htf_source
SRC_NONE, SRC_RING, SRC_PORT, SRC_HYPERCALL, SRC_EARLY = 0, 1, 2, 3, 4
# enum htf_clock_method
CLOCK_DOORBELL, CLOCK_HYPERCALL, CLOCK_KVM_OFFSET = 1, 2, 3

_FILE_HEADER = struct.Struct('<8sIIQQ32s')
_CHUNK_HEADER = struct.Struct('<IHHIIQ')
_CLOCK_SAMPLE = struct.Struct('<QQIIQ')
# struct htf_sched_event: host_ns, tid, vcpu, kind, state, host_cpu, arg, reserved
_SCHED_EVENT = struct.Struct('<QIHBBIIQ')
# enum htf_sched_kind, enum htf_sched_state
SCHED_IN, SCHED_OUT, SCHED_WAKEUP, SCHED_MIGRATE = 1, 2, 3, 4
SCHED_PREEMPTED, SCHED_BLOCKED = 0, 1


def sched_event(host_ns, vcpu, kind, state=0, host_cpu=0, arg=0, tid=None):
    """One struct htf_sched_event (an HTF_SCHED chunk holds an array of them)."""
    return _SCHED_EVENT.pack(host_ns, 1000 + vcpu if tid is None else tid, vcpu, kind, state,
                             host_cpu, arg, 0)

# ---- guest records (lib/hypertrace_abi.h) -------------------------------------

RECORD_SIZE = 32
CONT_PAYLOAD = 24
MAX_CONT = 15
STR_MAX = MAX_CONT * CONT_PAYLOAD    # 360 bytes
TYPE_MASK, NCONT_MASK, CPU_MASK, SEQ_MASK = 0xfff, 0xf, 0xffff, 0xffffffff
NCONT_SHIFT, CPU_SHIFT, SEQ_SHIFT = 12, 16, 32

_RECORD = struct.Struct('<4Q')
_ABI_H = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      'lib', 'hypertrace_abi.h')


def _event_types(path):
    """{name: number} of enum ht_event_type, from the ABI header."""
    text = open(path).read()
    body = re.search(r'enum ht_event_type \{(.*?)\};', text, re.S)
    if not body:
        raise RuntimeError('%s: no enum ht_event_type' % path)
    return {m.group(1).lower(): int(m.group(2), 0)
            for m in re.finditer(r'^\s*HT_EV_(\w+)\s*=\s*(0x[0-9a-fA-F]+|\d+)',
                                 body.group(1), re.M)}


#: event type numbers by lower-case name: EV['initcall_end'] == 0x203
EV = _event_types(_ABI_H)


class Header(namedtuple('Header', 'version header_size created_ns created_mono')):
    """The file header's fields; encode() gives its 64 bytes."""

    def encode(self):
        """The 64-byte file header (magic, these fields, zero reserved)."""
        return _FILE_HEADER.pack(MAGIC, self.version, self.header_size,
                                 self.created_ns, self.created_mono, bytes(32))


class Chunk(namedtuple('Chunk', 'kind source payload host_ns offset')):
    """One chunk as read back; c[0], c[1], c[2] are kind, source, payload."""

    def json(self):
        """The payload as a JSON object (METADATA, HOST_EVENT, LOSS, END)."""
        return json.loads(self.payload)

    def records(self):
        """The payload as guest records (RECORDS)."""
        return parse_records(self.payload)

    def clock_samples(self):
        """The payload as clock samples (CLOCK); a partial one is ignored."""
        n = len(self.payload) // _CLOCK_SAMPLE.size
        return [ClockSample(*_CLOCK_SAMPLE.unpack_from(self.payload, i * _CLOCK_SAMPLE.size))
                for i in range(n)]

    def encode(self):
        """The chunk's bytes again (header with a fresh CRC, payload, padding)."""
        return chunk(self.kind, self.source, self.payload, self.host_ns)


class Trace(namedtuple('Trace', 'header chunks end torn torn_reason')):
    """A parsed trace file: its Header, its good Chunks, the offset where
    they end, and the bytes dropped after them (torn) and why (or None)."""


class Record(namedtuple('Record', 'tsc info a0 a1')):
    """One 32-byte guest record, with its info word unpacked on demand."""

    @property
    def type(self):
        """Event type (enum ht_event_type)."""
        return self.info & TYPE_MASK

    @property
    def ncont(self):
        """Continuations that follow (head) or this one's index (HT_EV_CONT)."""
        return self.info >> NCONT_SHIFT & NCONT_MASK

    @property
    def cpu(self):
        """Guest CPU."""
        return self.info >> CPU_SHIFT & CPU_MASK

    @property
    def seq(self):
        """Per-CPU, per-channel sequence number."""
        return self.info >> SEQ_SHIFT & SEQ_MASK

    def encode(self):
        """The record's 32 bytes."""
        return _RECORD.pack(*self)


#: struct htf_clock_sample
ClockSample = namedtuple('ClockSample', 'guest_tsc host_ns cpu method reserved')


# ---- encoding -----------------------------------------------------------------

def file_header(created_ns=0, created_mono=0, version=VERSION, header_size=HEADER_SIZE):
    """The 64-byte file header."""
    return Header(version, header_size, created_ns, created_mono).encode()


def chunk(kind, source, payload, host_ns=0):
    """One chunk: header with its CRC-32, @payload (bytes), zero padding.

    Nothing is validated, so a test can write any kind or source."""
    payload = bytes(payload)
    hdr = _CHUNK_HEADER.pack(CHUNK_MAGIC, kind, source, len(payload), 0, host_ns)
    crc = zlib.crc32(payload, zlib.crc32(hdr))
    return (_CHUNK_HEADER.pack(CHUNK_MAGIC, kind, source, len(payload), crc, host_ns)
            + payload + b'\0' * (-len(payload) % 8))


def info(type, ncont=0, cpu=0, seq=0):
    """The packed info word (ht_info())."""
    return ((type & TYPE_MASK) | (ncont & NCONT_MASK) << NCONT_SHIFT
            | (cpu & CPU_MASK) << CPU_SHIFT | (seq & SEQ_MASK) << SEQ_SHIFT)


def record(type, cpu=0, seq=0, tsc=0, a0=0, a1=0, ncont=0):
    """One 32-byte guest record."""
    return _RECORD.pack(tsc, info(type, ncont, cpu, seq), a0, a1)


def string_records(type, text, cpu=0, seq=0, tsc=0, a0=0, a1=0):
    """A head record carrying @text (str or bytes) in continuation records:
    the head is number @seq, continuation i (1..ncont) is number seq + i
    and holds bytes 24(i-1).. of the text, zero-padded, in tsc, a0, a1."""
    b = text.encode() if isinstance(text, str) else bytes(text)
    if len(b) > STR_MAX:
        raise ValueError('a string of %d bytes: at most %d fit' % (len(b), STR_MAX))
    ncont = (len(b) + CONT_PAYLOAD - 1) // CONT_PAYLOAD
    out = [record(type, cpu, seq, tsc, a0, a1, ncont)]
    for i in range(1, ncont + 1):
        w0, w1, w2 = struct.unpack('<3Q', b[CONT_PAYLOAD * (i - 1):CONT_PAYLOAD * i]
                                   .ljust(CONT_PAYLOAD, b'\0'))
        out.append(record(EV['cont'], cpu, seq + i, w0, w1, w2, i))
    return b''.join(out)


def clock_sample(guest_tsc, host_ns, cpu=0, method=CLOCK_DOORBELL):
    """One 32-byte struct htf_clock_sample."""
    return _CLOCK_SAMPLE.pack(guest_tsc, host_ns, cpu, method, 0)


def _json_payload(obj):
    """A JSON chunk's payload: bytes or str as they are, else compact JSON."""
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj)
    if isinstance(obj, str):
        return obj.encode()
    return json.dumps(obj, separators=(',', ':')).encode()


class Writer:
    """A trace file written chunk by chunk; every method returns the Writer.

    Writer(path) creates (or truncates) @path; use it in a with block or
    call close().  JSON chunks take a dict (written as compact JSON) or the
    exact bytes; records() takes bytes or a list of 32-byte records."""

    def __init__(self, path):
        self.f = open(path, 'wb')

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Close the file."""
        self.f.close()

    def raw(self, data):
        """Any bytes, as they are (a copied prefix, a torn tail...)."""
        self.f.write(data)
        return self

    def header(self, created_ns=0, created_mono=0, version=VERSION):
        """The file header."""
        return self.raw(file_header(created_ns, created_mono, version))

    def chunk(self, kind, source, payload, host_ns=0):
        """One chunk of any kind."""
        return self.raw(chunk(kind, source, payload, host_ns))

    def metadata(self, obj, host_ns=0):
        """A METADATA chunk."""
        return self.chunk(METADATA, SRC_NONE, _json_payload(obj), host_ns)

    def host_event(self, obj, host_ns=0):
        """A HOST_EVENT chunk."""
        return self.chunk(HOST_EVENT, SRC_NONE, _json_payload(obj), host_ns)

    def loss(self, obj, host_ns=0):
        """A LOSS chunk."""
        return self.chunk(LOSS, SRC_NONE, _json_payload(obj), host_ns)

    def end(self, obj, host_ns=0):
        """An END chunk."""
        return self.chunk(END, SRC_NONE, _json_payload(obj), host_ns)

    def records(self, source, recs, host_ns=0):
        """A RECORDS chunk from @source (SRC_RING...)."""
        payload = recs if isinstance(recs, (bytes, bytearray)) else b''.join(recs)
        return self.chunk(RECORDS, source, payload, host_ns)

    def log(self, payload, host_ns=0):
        """A LOG chunk: bytes as log_payload() makes them."""
        return self.chunk(LOG, SRC_NONE, payload, host_ns)

    def clock(self, samples, host_ns=0):
        """A CLOCK chunk of clock_sample()s (bytes or a list)."""
        payload = samples if isinstance(samples, (bytes, bytearray)) else b''.join(samples)
        return self.chunk(CLOCK, SRC_NONE, payload, host_ns)


# ---- the kernel log's chunk (HTF_LOG, layout in libhtrace/tracefile.h) --------

_LOG_HEADER = struct.Struct('<IIIIQQQII')
_LOG_RECORD = struct.Struct('<QQIHBBII')
LogRecord = namedtuple('LogRecord', 'seq ts_nsec caller_id level facility flags text')


def log_payload(records, phys=0, walked=0, dropped=0, skipped=()):
    """An HTF_LOG payload of LogRecord()s (text as bytes)."""
    out = [_LOG_HEADER.pack(1, _LOG_HEADER.size, len(records), len(skipped), phys,
                            walked, dropped, 0, 0)]
    out += [struct.pack('<Q', n) for n in skipped]
    for r in records:
        out.append(_LOG_RECORD.pack(r.seq, r.ts_nsec, r.caller_id, len(r.text), r.level,
                                    r.facility, r.flags, 0))
        out.append(r.text + b'\0' * (-len(r.text) % 8))
    return b''.join(out)


def parse_log(payload):
    """An HTF_LOG payload as (header dict, [LogRecord]); ValueError if damaged."""
    if len(payload) < _LOG_HEADER.size:
        raise ValueError('log chunk shorter than its header')
    ver, hsize, nr, nskip, phys, walked, dropped, flags, _ = _LOG_HEADER.unpack_from(payload)
    if ver != 1:
        raise ValueError('log chunk version %d' % ver)
    skipped = list(struct.unpack_from('<%dQ' % nskip, payload, hsize))
    pos, recs = hsize + 8 * nskip, []
    for _ in range(nr):
        seq, ts, caller, tlen, level, fac, rflags, _ = _LOG_RECORD.unpack_from(payload, pos)
        pos += _LOG_RECORD.size
        recs.append(LogRecord(seq, ts, caller, level, fac, rflags, payload[pos:pos + tlen]))
        pos += (tlen + 7) & ~7
    return dict(phys=phys, walked=walked, dropped=dropped, flags=flags, skipped=skipped), recs


# ---- decoding -----------------------------------------------------------------

def parse_records(data):
    """Guest records of a byte string; a trailing partial record is ignored
    (a doorbell stream cut mid-record)."""
    n = len(data) // RECORD_SIZE
    return [Record(*_RECORD.unpack_from(data, i * RECORD_SIZE)) for i in range(n)]


def parse(data):
    """A trace file's bytes as a Trace.  Raises ValueError when they are not
    a trace file of a known version (as htf_open_mem() refuses them); stops
    at the first damaged chunk, as htf_next() does."""
    data = bytes(data)
    if len(data) < HEADER_SIZE:
        raise ValueError('shorter than the %d-byte file header' % HEADER_SIZE)
    magic, version, hsize, cns, cmono, _ = _FILE_HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ValueError('not a trace file (magic %r)' % magic)
    if not version or version > VERSION or hsize != HEADER_SIZE:
        raise ValueError('unknown format: version %d, header size %d' % (version, hsize))
    pos, chunks, reason = HEADER_SIZE, [], None
    while pos < len(data):
        if len(data) - pos < CHUNK_HEADER_SIZE:
            reason = 'truncated chunk header'
            break
        magic, kind, src, ln, crc, host_ns = _CHUNK_HEADER.unpack_from(data, pos)
        if magic != CHUNK_MAGIC:
            reason = 'bad chunk magic'
            break
        if ln > MAX_PAYLOAD:
            reason = 'oversized chunk'
            break
        need = CHUNK_HEADER_SIZE + ((ln + 7) & ~7)
        if len(data) - pos < need:
            reason = 'truncated payload'
            break
        payload = data[pos + CHUNK_HEADER_SIZE:pos + CHUNK_HEADER_SIZE + ln]
        hdr = _CHUNK_HEADER.pack(magic, kind, src, ln, 0, host_ns)
        if zlib.crc32(payload, zlib.crc32(hdr)) != crc:
            reason = 'CRC mismatch'
            break
        chunks.append(Chunk(kind, src, payload, host_ns, pos))
        pos += need
    return Trace(Header(version, hsize, cns, cmono), chunks, pos, len(data) - pos, reason)


def load(path):
    """parse() of a file."""
    with open(path, 'rb') as f:
        return parse(f.read())


def read(path):
    """The good chunks of a trace file, in file order: [Chunk]."""
    return load(path).chunks

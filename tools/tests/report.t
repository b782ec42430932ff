#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""hypertrace report on traces recorded from the project's own boots
(tools/tests/fixtures: a boot with 200 ms added to serial8250_init and a
300 ms reboot notifier, and a boot that panics in serial8250_init), with
the System.map lines they need: golden text and JSON, the JSON's shape,
and bad input."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FX = os.path.join(HERE, 'fixtures')
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'boot'))
from htboot import HYPERTRACE as HT, Tap, htf  # noqa: E402

T = Tap()
ok = T.ok


def report(trace, *opts):
    """hypertrace report; (exit status, stdout, stderr)."""
    p = subprocess.run([HT, 'report', '--system-map', os.path.join(FX, 'System.map')]
                       + list(opts) + [trace], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


for name in ('boot', 'panic'):
    trace = os.path.join(FX, name + '.htf')
    rc, out, err = report(trace)
    want = open(os.path.join(FX, name + '.report.txt')).read()
    ok(rc == 0 and out == want, '%s: text report matches the golden file' % name, err or out)
    rc, out, err = report(trace, '--json')
    want = json.load(open(os.path.join(FX, name + '.report.json')))
    got = json.loads(out) if rc == 0 else None
    ok(got == want, '%s: JSON report matches the golden file' % name, err)

o = json.loads(report(os.path.join(FX, 'boot.htf'), '--json')[1])
ok(all(k in o for k in ('boot_ns', 'phases', 'levels', 'initcalls', 'shutdown',
                        'failure', 'lost_records')), 'JSON has every documented key')
ic = o['initcalls']
ok(all(set(('name', 'addr', 'cpu', 'start_ns', 'duration_ns', 'ret', 'level')) <= set(i)
       for i in ic), 'every initcall has name, addr, cpu, start_ns, duration_ns, ret, level')
slow = max(ic, key=lambda i: i['duration_ns'])
ok(slow['name'] == 'serial8250_init' and slow['duration_ns'] >= 180e6,
   'the 200 ms delay makes serial8250_init the slowest initcall (%.0f ms)'
   % (slow['duration_ns'] / 1e6))
sd = max(o['shutdown'], key=lambda s: s['duration_ns'] if s['kind'] != 'phase' else 0)
ok(sd['name'] == 'ht_selftest_reboot_notify' and sd['duration_ns'] >= 270e6,
   'the slow reboot notifier is the slowest shutdown step (%.0f ms)' % (sd['duration_ns'] / 1e6))
ok(o['failure']['kind'] == 'none' and o['boot_ns'] > 0 and o['lost_records'] == 0,
   'completed boot: no failure, boot time, nothing lost')
names = [p['name'] for p in o['phases']]
ok(names[:4] == ['QEMU start-up (host)', 'firmware and loader', 'setup code', 'decompressor'],
   'the time before the kernel is its own phases, from QEMU\'s launch', names[:4])
ok(o['launch_to_vm_ns'] == o['phases'][0]['duration_ns'] > 0,
   'QEMU start-up placed by the doorbell clock sync (%.1f ms)' % (o['launch_to_vm_ns'] / 1e6))
starts = [i['start_ns'] for i in ic]
ok(starts == sorted(starts), 'initcalls in time order')

p = json.loads(report(os.path.join(FX, 'panic.htf'), '--json')[1])
ok(p['failure']['kind'] == 'panic' and p['failure']['initcall'] == 'serial8250_init' and
   'panic in serial8250_init' in p['failure']['message'],
   'panic: kind, initcall and message', p['failure'])

# bad input
tmp = tempfile.mkdtemp()
data = open(os.path.join(FX, 'boot.htf'), 'rb').read()
tr = htf.parse(data)
cases = {'empty': b'', 'short': data[:40], 'garbage': b'\x00' * 4096,
         'newer': tr.header._replace(version=9).encode() + data[htf.HEADER_SIZE:]}
for name, blob in cases.items():
    path = os.path.join(tmp, name)
    open(path, 'wb').write(blob)
    rc, out, err = report(path)
    ok(rc == 1 and err.strip() and not out, '%s trace file: exit 1 with a message' % name, err)
# a trace recorded by a newer ABI: its metadata says so
first = tr.chunks[0]
meta = first.json()
meta['abi_version'] = 99
newer = (tr.header.encode() + first._replace(payload=json.dumps(meta).encode()).encode()
         + data[tr.chunks[1].offset:])
path = os.path.join(tmp, 'newer-abi')
open(path, 'wb').write(newer)
rc, out, err = report(path)
ok(rc == 1 and 'newer than these tools' in err, 'trace from a newer ABI: exit 1, says to update', err)
path = os.path.join(tmp, 'torn')
open(path, 'wb').write(data[:len(data) // 2])
rc, out, err = report(path)
ok(rc == 0 and 'torn tail' in err, 'torn trace: report of what is there, with a warning', err)
rc, out, err = report(os.path.join(FX, 'boot.htf'), '--top', 'x')
ok(rc == 2, 'bad --top: exit 2')
p = subprocess.run([HT, 'report'], capture_output=True, text=True)
ok(p.returncode == 2 and 'usage' in p.stderr, 'no trace: usage, exit 2')
# damaged traces whose chunks still pass their CRC: the reader, the decoder
# and the model see hostile content; under ASan+UBSan nothing may break
ASAN = os.path.join(os.path.dirname(HT), 'asan-hypertrace')
if os.path.exists(ASAN):
    import random
    rnd = random.Random(1)
    crashes = []
    for i in range(150):
        b = [tr.header.encode()]
        for c in tr.chunks:
            payload = bytearray(c.payload)
            if rnd.random() < 0.5 and payload:
                for _ in range(rnd.randint(1, 8)):
                    k = rnd.randrange(len(payload))
                    payload[k] = rnd.randrange(256)
            b.append(c._replace(payload=payload).encode())
        path = os.path.join(tmp, 'mut')
        open(path, 'wb').write(b''.join(b))
        for args in (['report'], ['report', '--json'], ['export', '-f', 'perfetto', '-o', os.devnull]):
            p = subprocess.run([ASAN] + args + ['--system-map', os.path.join(FX, 'System.map'), path],
                               capture_output=True, text=True)
            if p.returncode not in (0, 1) or 'Sanitizer' in p.stderr or 'runtime error' in p.stderr:
                crashes.append((i, args, p.returncode, p.stderr[-400:]))
    ok(not crashes, '150 damaged traces with valid CRCs, report/json/export under ASan+UBSan: '
       'exit 0 or 1, never a crash', crashes[:2])
# a hostile guest repeating one identity on the rings and the doorbell: the
# copies are found in one pass (was quadratic: minutes, a hang for the gate)
same = htf.record(htf.EV['user_marker'], cpu=0, seq=5, tsc=1000)
dup = os.path.join(tmp, 'dup.htf')
w = htf.Writer(dup).header().metadata({'tool': 'report.t', 'abi_version': 1})
w.records(htf.SRC_RING, [htf.record(htf.EV['tsc_khz'], tsc=1, a0=2000000)] + [same] * 50000)
for i in range(5):
    w.records(htf.SRC_PORT, [same] * 100000)
w.end({'exit_status': 0, 'verdict': 'none'})
try:
    p = subprocess.run([HT, 'dump', '--json', '-q', dup], capture_output=True, text=True,
                       timeout=60)
    summ = json.loads(p.stdout.splitlines()[-1])['summary'] if p.returncode == 0 else {}
except subprocess.TimeoutExpired:
    summ = {'timeout': True}
ok(summ.get('doorbell_copies') == 500000 and summ.get('events') == 50001,
   '50,000 ring and 500,000 doorbell records of one identity: all copies dropped, no hang',
   str(summ))

# 200,000 initcalls that never end and 200,000 ends that match none: the
# pairing looks back a bounded window (was quadratic: a hang)
recs = [htf.record(htf.EV['tsc_khz'], tsc=1, a0=2000000)]
recs += [htf.record(htf.EV['initcall_begin'], seq=1 + i, tsc=100 + i, a0=0x1000 + i, a1=6)
         for i in range(200000)]
recs += [htf.record(htf.EV['initcall_end'], seq=200001 + i, tsc=300000 + i, a0=7)
         for i in range(200000)]
opn = os.path.join(tmp, 'open.htf')
w = htf.Writer(opn).header().metadata({'tool': 'report.t', 'abi_version': 1})
for i in range(0, len(recs), 4096):
    w.records(htf.SRC_RING, recs[i:i + 4096])
w.end({'exit_status': 0, 'verdict': 'none'})
try:
    p = subprocess.run([HT, 'report', '--json', opn], capture_output=True, text=True, timeout=60)
    o = json.loads(p.stdout) if p.returncode == 0 else {}
except subprocess.TimeoutExpired:
    o = {}
ok(len(o.get('initcalls', [])) == 200000 and all(i.get('unfinished') for i in o['initcalls']),
   '200,000 unfinished initcalls and 200,000 stray ends: reported, no hang')

# an output that cannot be written is an error, with a message (was: exit 0)
boot = os.path.join(FX, 'boot.htf')
full = []
for args in (['report'], ['report', '--json'], ['html', '-o', '/dev/full'],
             ['export', '-f', 'perfetto', '-o', '/dev/full'],
             ['export', '-f', 'csv', '-o', '/dev/full'], ['dump']):
    with open('/dev/full', 'w') as sink:
        p = subprocess.run([HT] + args + [boot], stdout=sink, stderr=subprocess.PIPE, text=True)
    if p.returncode != 1 or 'No space left on device' not in p.stderr:
        full.append((args, p.returncode, p.stderr[-200:]))
ok(not full, 'report, report --json, html, export and dump into /dev/full: exit 1, '
   '"No space left on device"', str(full))
# virtual time: a trace recorded under --clock icount says so in every
# output, and its times start at the guest TSC's zero (no QEMU launch time,
# which is the host's)
tr = htf.read(os.path.join(FX, 'boot.htf'))
vt = os.path.join(tmp, 'icount.htf')
w = htf.Writer(vt).header()
for c in tr:
    if c.kind == htf.METADATA:
        w.metadata(dict(c.json(), clock='icount', icount='shift=1,sleep=off'), c.host_ns)
    else:
        w.chunk(c.kind, c.source, c.payload, c.host_ns)
w.close()
rc, out, err = report(vt, '--json')
j = json.loads(out) if rc == 0 else {}
real = json.loads(report(os.path.join(FX, 'boot.htf'), '--json')[1])
ok(j.get('clock', {}).get('mode') == 'icount' and
   j['clock'].get('icount') == 'shift=1,sleep=off' and
   j['clock'].get('origin') == 'guest-tsc-zero' and real['clock']['mode'] == 'real' and
   j['clock']['tsc_khz'] == j['clock']['guest_tsc_khz'] and not j['clock']['tsc_from_host'] and
   abs(j['boot_ns'] - (real['boot_ns'] - real['launch_to_vm_ns']) * real['clock']['tsc_khz'] /
       j['clock']['tsc_khz']) < 1000,
   'icount trace: JSON clock mode icount with its setting, times from the guest TSC\'s zero',
   str(j.get('clock')) + err)
rc, out, err = report(vt)
ok(rc == 0 and 'virtual time (QEMU -icount shift=1,sleep=off' in out and
   'after the guest TSC\'s zero' in out,
   'icount trace: the text report says its times are virtual', out[:600] + err)

subprocess.run(['rm', '-rf', tmp])
sys.exit(T.done())

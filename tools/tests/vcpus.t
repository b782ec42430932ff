#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""The collector's forensics of a failed boot in hypertrace report, report
--json and html, on traces written here: each vCPU's instruction pointer
symbolized (KASLR-corrected) and whether it halted, a vCPU QEMU gave no
registers for, the vmcore and its absence; hostile vcpu_state and vmcore
events; and a trace without them (no "vcpus", no "vmcore")."""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'boot'))
from htboot import HYPERTRACE as HT, Tap, htf  # noqa: E402

T = Tap()
ok = T.ok
EV = htf.EV
tmp = tempfile.mkdtemp()
smap = os.path.join(tmp, 'System.map')
with open(smap, 'w') as f:
    for a, n in [(0xffffffff81000000, 'do_one_initcall'), (0xffffffff81000400, 'i8042_flush'),
                 (0xffffffff81000480, 'native_safe_halt'), (0xffffffff81000500, 'etext')]:
        f.write('%016x T %s\n' % (a, n))
KASLR = 0x1e000000
HZ = 2_000_000


def trace(name, events, kaslr=KASLR):
    """A hang in an initcall, then the host events @events; the trace's path."""
    seq = iter(range(100))
    recs = [htf.record(EV['tsc_khz'], tsc=1, seq=next(seq), a0=HZ),
            htf.record(EV['kaslr'], tsc=2, seq=next(seq), a0=kaslr),
            htf.record(EV['start_kernel'], tsc=HZ, seq=next(seq)),
            htf.record(EV['level_begin'], tsc=2 * HZ, seq=next(seq), a0=6),
            htf.record(EV['initcall_begin'], tsc=3 * HZ, seq=next(seq),
                       a0=0xffffffff81000400 + kaslr, a1=6)]
    path = os.path.join(tmp, name + '.htf')
    with htf.Writer(path) as w:
        w.header().metadata({'tool': 'vcpus.t', 'abi_version': 1})
        w.records(htf.SRC_RING, recs)
        w.host_event({'event': 'hang', 'idle_s': 5})
        for e in events:
            w.host_event(e)
        w.end({'exit_status': 4, 'verdict': 'hang', 'reason': 'guest hang'})
    return path


def report(path, *opts):
    """hypertrace report with the test's System.map; (status, stdout, stderr)."""
    p = subprocess.run([HT, 'report', '--system-map', smap] + list(opts) + [path],
                       capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


STATE = {'event': 'vcpu_state', 'source': 'info registers', 'cpus': [
    {'cpu': 0, 'ip': hex(0xffffffff81000423 + KASLR), 'halted': False, 'cpl': 0},
    {'cpu': 1, 'ip': hex(0xffffffff81000493 + KASLR), 'halted': True, 'cpl': 0},
    {'cpu': 2, 'error': 'no RIP in QEMU\'s answer'}]}
VMCORE = {'event': 'vmcore', 'path': '/tmp/x/trace.vmcore', 'bytes': 285345859, 'ms': 3290,
          'format': 'elf', 'vmcoreinfo': True, 'vmcoreinfo_from': 'qemu'}

hang = trace('hang', [STATE, VMCORE])
rc, out, err = report(hang, '--json')
r = json.loads(out) if rc == 0 else {}
ok(r.get('vcpus') == [
    {'cpu': 0, 'ip': hex(0xffffffff81000423 + KASLR), 'ip_symbol': 'i8042_flush+0x23/0x80',
     'halted': False, 'cpl': 0},
    {'cpu': 1, 'ip': hex(0xffffffff81000493 + KASLR), 'ip_symbol': 'native_safe_halt+0x13/0x80',
     'halted': True, 'cpl': 0},
    {'cpu': 2, 'ip': None, 'ip_symbol': None, 'error': 'no RIP in QEMU\'s answer',
     'halted': False, 'cpl': 0}],
   'report --json: vcpus[] with cpu, ip, ip_symbol (KASLR-corrected) and halted',
   json.dumps(r.get('vcpus')) + err)
ok(r.get('vmcore') == {'path': '/tmp/x/trace.vmcore', 'bytes': 285345859, 'ms': 3290,
                       'vmcoreinfo': True, 'vmcoreinfo_from': 'qemu'},
   'report --json: the vmcore', str(r.get('vmcore')))
rc, out, err = report(hang)
ok(rc == 0 and 'vCPU 0 in i8042_flush+0x23/0x80\n' in out and
   'vCPU 1 in native_safe_halt+0x13/0x80 (halted)' in out and
   'vCPU 2 unknown: "no RIP in QEMU\'s answer"' in out and
   'vmcore: "/tmp/x/trace.vmcore" (272.1 MiB, with VMCOREINFO from qemu)' in out and
   out.index('BOOT FAILED') < out.index('vCPU 0') < out.index('phase '),
   'text: "vCPU 0 in i8042_flush+0x23/0x80" under the failure, and the vmcore', out[:1200])
p = subprocess.run([HT, 'html', '--system-map', smap, '-o', os.path.join(tmp, 'h.html'), hang],
                   capture_output=True, text=True)
page = open(os.path.join(tmp, 'h.html')).read() if p.returncode == 0 else ''
m = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S)
d = json.loads(m.group(1)) if m else {}
ok('id="vcpubox"' in page and d.get('vcpus') == r.get('vcpus') and 'vmcore' in d,
   'html: the page has the vCPU section and its data', p.stderr)

# no vmcore: why, in every output
bad = trace('novmcore', [STATE, {'event': 'vmcore', 'path': '/tmp/x/t.vmcore',
                                 'error': 'QEMU: No file descriptor supplied'}])
rc, out, err = report(bad)
rj = json.loads(report(bad, '--json')[1])
ok('no vmcore: "QEMU: No file descriptor supplied"' in out and
   rj.get('vmcore') == {'path': None, 'error': 'QEMU: No file descriptor supplied'},
   'a vmcore that failed: the reason, text and JSON', out[:800])

# a good boot, or an older collector: neither member
plain = trace('plain', [])
rj = json.loads(report(plain, '--json')[1])
ok('vcpus' not in rj and 'vmcore' not in rj and 'vCPU' not in report(plain)[1],
   'a trace without forensics has no vcpus or vmcore member and no vCPU lines')

# hostile events: bad addresses, indexes, types, markup, too many vCPUs
evil = [{'event': 'vcpu_state', 'cpus': [
    {'cpu': 0, 'ip': '0x' + 'f' * 17}, {'cpu': -1, 'ip': '0x10'}, {'cpu': 'x', 'ip': '0x10'},
    {'cpu': 1, 'ip': 12345}, {'cpu': 2, 'ip': '0x12zz'}, {'cpu': 3, 'ip': '0x'},
    {'cpu': 4, 'ip': '0x10', 'halted': 'yes', 'cpl': 99},
    {'cpu': 5, 'error': '<script>alert(1)</script>' * 20}] + [{'cpu': 6 + i, 'ip': '0x1'}
                                                         for i in range(200)]},
    {'event': 'vmcore', 'path': '</script><b>' + 'p' * 9000, 'bytes': -5, 'vmcoreinfo': 1},
    b'{"event": "vcpu_state", "cpus": {"0": 1}}', b'{"event": "vmcore", "path": 7}',
    b'{"event": "vcpu_state"', b'not json "vcpu_state" "vmcore"']
ev = trace('evil', evil[:2])
rc, out, err = report(ev, '--json')
r = json.loads(out) if rc == 0 else {}
v = r.get('vcpus', [])
ok(rc == 0 and len(v) == 64 and [x['cpu'] for x in v[:6]] == [0, 1, 2, 3, 4, 5] and
   all(x['ip'] is None for x in v[:4]) and v[4]['ip'] == '0x10' and v[4]['cpl'] == 0 and
   not v[4]['halted'] and len(v[5]['error']) < 100,
   'hostile vcpu_state: bad ips are errors, bad cpus dropped, 64 vCPUs kept, strings cut',
   json.dumps(v[:7])[:800] + err)
ok(r.get('vmcore', {}).get('bytes') == 0 and r['vmcore']['vmcoreinfo'] is False and
   len(r['vmcore']['path']) < 4096, 'hostile vmcore: no negative size, path cut',
   str(r.get('vmcore'))[:300])
rc2, out2, _ = report(ev)
p = subprocess.run([HT, 'html', '--system-map', smap, '-o', os.path.join(tmp, 'e.html'), ev],
                   capture_output=True, text=True)
page = open(os.path.join(tmp, 'e.html')).read() if p.returncode == 0 else ''
ok(rc2 == 0 and '<script>alert' not in page and '</script><b>' not in page,
   'hostile strings stay data in the HTML page', p.stderr)
ev2 = trace('evil2', evil[2:])
rc, out, err = report(ev2, '--json')
r = json.loads(out) if rc == 0 else {}
ok(rc == 0 and r.get('vcpus') == [] and
   r.get('vmcore') == {'path': None, 'error': 'the trace names no vmcore file'},
   'vcpus that is not a list, a path that is not a string, broken JSON: no crash, nothing made up',
   out[-600:] + err)

# a real one (fixtures/forensics.htf: the CI kernel's panic in print_ICs under
# hypertrace boot --vmcore; also a fuzzing seed)
rc, out, err = report(os.path.join(HERE, 'fixtures', 'forensics.htf'), '--json')
r = json.loads(out) if rc == 0 else {}
ok([(v['cpu'], v['halted']) for v in r.get('vcpus', [])] == [(0, False), (1, True)] and
   all(v['ip'].startswith('0xffffffff8') for v in r['vcpus']) and
   r.get('vmcore', {}).get('vmcoreinfo') is True and r['vmcore'].get('vmcoreinfo_from') == 'qemu',
   'a recorded panic: vCPU 0 running (in pvpanic_panic_notify), vCPU 1 halted, the vmcore with '
   'VMCOREINFO from QEMU', out[-800:] + err)

subprocess.run(['rm', '-rf', tmp])
sys.exit(T.done())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""hypertrace compare, the boot-time gate: its Markdown, JUnit, JSON and
summary outputs against golden files (report JSON made from the fixture
boot with a slowed, a faster, a new and a vanished initcall and a panicking
candidate; the fixture traces, and one with odd bytes in device names);
names longer than any fixed buffer; more than 10 boots a side; reports
that cannot be written; and a gate over 20,000 distinct initcall and
device names per boot under ASan+UBSan."""
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
FX = os.path.join(HERE, 'fixtures')
HT = os.path.abspath(os.path.join(os.environ.get('HT_BUILD', os.path.join(HERE, '..', '..',
                                                                          'build')),
                                  'bin', 'hypertrace'))
ASAN = os.path.join(os.path.dirname(HT), 'asan-hypertrace')
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'boot'))
import htboot  # noqa: E402

T = htboot.Tap()
ok = T.ok
tmp = tempfile.mkdtemp(prefix='ht-compare-')
OUTS = ('md', 'xml', 'json')


def compare(args, cwd, binary=HT):
    """hypertrace compare writing every output into tmp; (exit status, stderr)."""
    for ext in OUTS:
        if os.path.exists(os.path.join(tmp, 'out.' + ext)):
            os.remove(os.path.join(tmp, 'out.' + ext))
    p = subprocess.run([binary, 'compare', '--markdown', os.path.join(tmp, 'out.md'),
                        '--junit', os.path.join(tmp, 'out.xml'),
                        '--json', os.path.join(tmp, 'out.json')] + args,
                       cwd=cwd, capture_output=True, text=True)
    return p.returncode, p.stderr


def golden(name, args, cwd, want_rc):
    """Every output and the summary on stderr equal the golden files."""
    rc, err = compare(args, cwd)
    if os.environ.get('HT_COMPARE_GOLDEN'):
        # regenerate the golden files from the binary under test (review the diff)
        for ext in OUTS:
            shutil.copy(os.path.join(tmp, 'out.' + ext),
                        os.path.join(FX, 'compare-%s.%s' % (name, ext)))
        open(os.path.join(FX, 'compare-%s.err' % name), 'w').write(err)
    bad = []
    for ext in OUTS:
        got = open(os.path.join(tmp, 'out.' + ext), 'rb').read()
        if got != open(os.path.join(FX, 'compare-%s.%s' % (name, ext)), 'rb').read():
            bad.append(ext)
    if err != open(os.path.join(FX, 'compare-%s.err' % name)).read():
        bad.append('stderr')
    ok(rc == want_rc and not bad, '%s: exit %d; Markdown, JUnit, JSON and summary match the '
       'golden files' % (name, want_rc), 'exit %d, differ: %s\n%s' % (rc, bad, err))


def result():
    """What the last compare wrote with --json; {} if nothing (it failed)."""
    try:
        return json.load(open(os.path.join(tmp, 'out.json')))
    except (OSError, ValueError):
        return {}


def write(path, report):
    """A report JSON file."""
    with open(path, 'w') as f:
        json.dump(report, f)


# --- report JSON from the fixture boot, with planted changes ---------------
base = json.load(open(os.path.join(FX, 'boot.report.json')))
panic = json.load(open(os.path.join(FX, 'panic.report.json')))
rnd = random.Random(10)


def jitter(report, side):
    """One boot: every duration within +-2%, and the candidate's changes."""
    r = json.loads(json.dumps(report))
    for key in ('phases', 'levels', 'initcalls', 'shutdown'):
        for s in r[key]:
            s['duration_ns'] = int(s['duration_ns'] * rnd.uniform(0.98, 1.02))
    r['boot_ns'] = int(r['boot_ns'] * rnd.uniform(0.99, 1.01))
    extra = dict(r['initcalls'][0], name='weird|<init>&_\u00e9\u4e2d`*', duration_ns=3000000)
    r['initcalls'].append(extra)
    r['initcalls'].append(dict(extra, name='twice_init', duration_ns=1000000))
    r['initcalls'].append(dict(extra, name='twice_init', duration_ns=1500000))
    if side == 'b':
        r['initcalls'].append(dict(extra, name='gone_init', duration_ns=2000000))
        return r
    r['initcalls'].append(dict(extra, name='new_init', duration_ns=2000000, level='late'))
    for s in r['initcalls']:
        if s['name'] == 'serial8250_init':
            s['duration_ns'] = int(s['duration_ns'] * 1.3)
        if s['name'] == 'con_init':
            s['duration_ns'] //= 2
    return r


jdir = os.path.join(tmp, 'json')
os.mkdir(jdir)
args = ['--alpha', '0.05', '--baseline']
for i in range(10):
    write(os.path.join(jdir, 'b%d.json' % i), jitter(base, 'b'))
    args.append('b%d.json' % i)
args.append('--candidate')
for i in range(9):
    write(os.path.join(jdir, 'c%d.json' % i), jitter(base, 'c'))
    args.append('c%d.json' % i)
write(os.path.join(jdir, 'c9.json'), panic)
args.append('c9.json')
golden('json', args, jdir, 1)
res = result()
ok([r['metric'] for r in res['regressions']] == ['initcall serial8250_init'] and
   [r['metric'] for r in res['improvements']] == ['initcall con_init'] and
   res['new_initcalls'] == ['new_init'] and res['vanished_initcalls'] == ['gone_init'] and
   [f['kind'] for f in res['failed_boots']] == ['panic'],
   'report JSON: the slowed, faster, new and vanished initcalls and the panic are found',
   json.dumps(res)[:1500])

# a failed baseline boot has no metrics: with 4 good baseline boots nothing
# reaches p < 0.01 over the 2 metrics that moved enough to be tested, and
# that is an error, not a pass (it used to pass, 0 metrics tested, whatever
# the candidate did)
write(os.path.join(jdir, 'c9ok.json'), jitter(base, 'c'))
fargs = (['--baseline'] + ['b%d.json' % i for i in range(4)] + ['c9.json', '--candidate'] +
         ['c%d.json' % i for i in range(4)] + ['c9ok.json'])
rc, err = compare(fargs, jdir)
ok(rc == 2 and '1 of the 5 baseline boots failed (panic first: c9.json)' in err and
   '4 good baseline and 5 candidate boots cannot reach p < 0.01' in err and
   'at least 5 boots per side' in err and not result(),
   'a failed baseline boot among 5: exit 2, it says which and that 4 are too few', err)

# --- the fixture traces themselves ------------------------------------------


def rewrite(data, edits):
    """A trace with some bytes replaced in place, each chunk's CRC redone."""
    b = bytearray(data)
    for old, new in edits:
        at = data.find(old)
        b[at:at + len(new)] = new
        pos = 64
        while pos + 24 <= len(b):
            ln = struct.unpack('<I', b[pos + 8:pos + 12])[0]
            if pos + 24 <= at < pos + 24 + ln:
                hdr = bytearray(b[pos:pos + 24])
                hdr[12:16] = b'\0\0\0\0'
                crc = zlib.crc32(bytes(b[pos + 24:pos + 24 + ln]), zlib.crc32(bytes(hdr)))
                b[pos + 12:pos + 16] = struct.pack('<I', crc)
            pos += 24 + ((ln + 7) & ~7)
    return bytes(b)


# the metadata names the vmlinux of the machine that recorded the traces:
# point it nowhere, so that names do not depend on that file being there
NOWHERE = (b'"vmlinux":"/work/main/build/kernel/vmlinux"',
           b'"vmlinux":"/nonexistent/ht-test/no-vmlinux"')
for name in ('boot', 'panic'):
    data = open(os.path.join(FX, name + '.htf'), 'rb').read()
    open(os.path.join(tmp, name + '.htf'), 'wb').write(rewrite(data, [NOWHERE]))
targs = ['--baseline'] + ['boot.htf'] * 10 + ['--candidate'] + ['boot.htf'] * 10 + ['panic.htf']
golden('trace', targs, tmp, 1)
res = result()
ok(res['metrics_compared'] > 500 and res['metrics_tested'] == 0 and not res['regressions'] and
   res['failed_boots'][0]['kind'] == 'panic' and res['failed_boots'][0]['initcall'],
   'traces: %d metrics compared, none tested (ten copies of one boot: no split can pass '
   'the floors), the panic and its initcall reported'
   % res['metrics_compared'], json.dumps(res)[:1500])

# --- guest bytes that are not ASCII or are markup, in a trace --------------
# two shutdown device names rewritten in the fixture trace (chunk CRCs
# redone): compare carries them as the JSON report does, each byte from
# 0x80 up as that code point, and escapes them in every output
data = open(os.path.join(FX, 'boot.htf'), 'rb').read()
odd = rewrite(data, [NOWHERE, (b'serio1', b'se\xe9<\x011'), (b'event1', b'e\xff|nt1')])
open(os.path.join(tmp, 'odd.htf'), 'wb').write(odd)
golden('odd', ['--alpha', '0.5', '--baseline'] + ['odd.htf'] * 10 + ['--candidate'] +
       ['odd.htf'] * 10, tmp, 0)
xml = open(os.path.join(tmp, 'out.xml'), 'rb').read()
ok(b'name="shutdown device se\xc3\xa9&lt;1"' in xml and
   b'name="shutdown device e\xc3\xbf|nt1"' in xml,
   'odd guest bytes: UTF-8 in JUnit, markup escaped, control bytes dropped')

# --- names longer than any fixed buffer stay apart ---------------------------
ldir = os.path.join(tmp, 'long')
os.mkdir(ldir)
stem = 'a_very_long_initcall_name_' * 12
largs = ['--baseline']
for side in 'bc':
    for i in range(10):
        ic = [dict(base['initcalls'][0], name=stem + 'one', duration_ns=5000000 + i),
              dict(base['initcalls'][0], name=stem + 'two',
                   duration_ns=(9000000 if side == 'c' else 5000000) + i)]
        write(os.path.join(ldir, '%s%d.json' % (side, i)),
              {'boot_ns': 1000000000, 'initcalls': ic, 'failure': {'kind': 'none'}})
        largs.append('%s%d.json' % (side, i))
    if side == 'b':
        largs.append('--candidate')
rc, err = compare(largs, ldir)
res = result()
ok(rc == 1 and res.get('metrics_compared') == 3 and
   [r['metric'] for r in res['regressions']] == ['initcall ' + stem + 'two'],
   'two %d-byte initcall names that differ at the end are two metrics; the slowed one is named'
   % len(stem + 'two'), err + json.dumps(res)[:800])

# --- --fdr: Benjamini-Hochberg finds what Holm's stricter steps miss -------
# three initcalls moved, ten boots a side (exact p-values): one by far (p =
# 1/C(20,10)), two by 4 ms over a 10..19 ms spread (p = 0.0059 each); every
# other metric the same in every boot, so three are tested.  Holm: 5.4e-6 <=
# 0.01/3, then 0.0059 > 0.01/2, one regression; BH: 0.0059 <= 3 * 0.01/3, three.
fdir = os.path.join(tmp, 'fdr')
os.makedirs(fdir)
fargs = ['--baseline']
for side in 'bc':
    for i in range(10):
        d = 4000000 if side == 'c' else 0
        ic = [dict(base['initcalls'][0], name='far_init', duration_ns=(10 + i) * 1000000 +
                   (50000000 if side == 'c' else 0)),
              dict(base['initcalls'][0], name='near_init', duration_ns=(10 + i) * 1000000 + d),
              dict(base['initcalls'][0], name='close_init', duration_ns=(10 + i) * 1000000 + d),
              dict(base['initcalls'][0], name='still_init', duration_ns=3000000)]
        write(os.path.join(fdir, '%s%d.json' % (side, i)),
              {'boot_ns': 1000000000, 'initcalls': ic, 'failure': {'kind': 'none'}})
        fargs.append('%s%d.json' % (side, i))
    if side == 'b':
        fargs.append('--candidate')
rc, err = compare(fargs, fdir)
holm_res = result()
rc2, err2 = compare(['--fdr'] + fargs, fdir)
bh_res = result()
ok(rc == 1 and [r['metric'] for r in holm_res['regressions']] == ['initcall far_init'] and
   holm_res['metrics_tested'] == 3 and holm_res['metrics_compared'] == 5 and
   rc2 == 1 and bh_res['decision'] == 'permutation-bh' and
   sorted(r['metric'] for r in bh_res['regressions']) ==
   ['initcall close_init', 'initcall far_init', 'initcall near_init'] and
   all(abs(r['p_holm_limit'] - 0.01) < 1e-12 for r in bh_res['regressions']),
   '--fdr: three moved initcalls, Holm finds one, Benjamini-Hochberg all three',
   err + err2 + json.dumps(bh_res)[:800])

# --- --normalize speed: a busy host slows every initcall of a boot ---------
# 10+10 boots, each run at its own emulation speed (0.7x to 1.6x); 30
# initcalls of 2..5 ms scale with it; on the candidate, one grows by 1.5 ms
# (also scaled).  Unnormalized the speed's spread hides it; divided by each
# boot's speed (the median over the initcalls) it is found, alone.
ndir = os.path.join(tmp, 'speed')
os.makedirs(ndir)
rnd = random.Random(3)
nargs = ['--baseline']
speeds = []
for side in 'bc':
    for i in range(10):
        sp = rnd.uniform(0.7, 1.6)
        speeds.append(sp)
        ic = [dict(base['initcalls'][0], name='work%02d_init' % k,
                   duration_ns=int(sp * (2 + k * 0.1) * 1e6 * rnd.uniform(0.995, 1.005)))
              for k in range(30)]
        ic[7]['duration_ns'] += int(sp * 1.5e6) if side == 'c' else 0
        write(os.path.join(ndir, '%s%d.json' % (side, i)),
              {'boot_ns': int(sp * 1e9), 'initcalls': ic, 'failure': {'kind': 'none'}})
        nargs.append('%s%d.json' % (side, i))
    if side == 'b':
        nargs.append('--candidate')
rc, err = compare(nargs, ndir)
plain = result()
rc2, err2 = compare(['--normalize', 'speed'] + nargs, ndir)
norm = result()
nz = norm.get('normalized', {})
spread = sorted(speeds)
ok(rc == 0 and not plain['regressions'] and rc2 == 1 and
   [r['metric'] for r in norm['regressions']] == ['initcall work07_init'] and
   nz.get('initcalls') == 30 and
   abs(nz.get('factor_max', 0) / nz.get('factor_min', 1) - spread[-1] / spread[0]) < 0.05,
   '--normalize speed: a 1.5 ms growth hidden by 0.7x-1.6x emulation speeds is found '
   '(factors %.2f-%.2f, true ratio %.2f)' % (nz.get('factor_min', 0), nz.get('factor_max', 0),
                                             spread[-1] / spread[0]),
   err + err2 + json.dumps(norm)[:600])
md = open(os.path.join(tmp, 'out.md')).read()
ok('divided by its emulation speed (the median of 30 initcalls' in md,
   'the Markdown says the times were normalized and by what', md[:600])
rc, err = compare(['--normalize', 'speed'] + fargs, fdir)
ok(rc == 2 and 'needs 10 initcalls of 0.1 ms or more in every boot' in err and
   'these boots have 4' in err, '--normalize speed on boots with 4 initcalls: exit 2, says why',
   err)
rc, err = compare(['--normalize', 'fast'] + fargs, fdir)
ok(rc == 2 and "--normalize takes speed or none, not 'fast'" in err,
   '--normalize fast: exit 2, says what it takes', err)

# --- more than 10 boots a side: resampled p-values reach the Holm limit -----
# Past 10 boots a side the splits are sampled, and 9999 samples cannot show
# a p-value under 1/10000 - above alpha / 560 metrics: the gate was blind.
for n in (11, 31):
    mdir = os.path.join(tmp, 'many%d' % n)
    os.mkdir(mdir)
    margs = ['--baseline']
    for side in 'bc':
        for i in range(n):
            write(os.path.join(mdir, '%s%d.json' % (side, i)), jitter(base, side))
            margs.append('%s%d.json' % (side, i))
        if side == 'b':
            margs.append('--candidate')
    rc, err = compare(margs, mdir)
    res = result()
    ok(rc == 1 and [r['metric'] for r in res['regressions']] == ['initcall serial8250_init'] and
       [r['metric'] for r in res['improvements']] == ['initcall con_init'] and
       res['regressions'][0]['p'] < res['regressions'][0]['p_holm_limit'],
       '%d+%d boots: the 30%% slower initcall fails the gate at alpha 0.01 (p = %.2g), the '
       'faster one is listed' % (n, n, res['regressions'][0]['p'] if res.get('regressions') else 1),
       err + json.dumps(res)[:800])

# --- every report that cannot be written is an error, with a message ---------
for opt in ('--markdown', '--junit', '--json'):
    p = subprocess.run([HT, 'compare', opt, '/dev/full'] + targs, cwd=tmp, capture_output=True,
                       text=True)
    ok(p.returncode == 2 and 'cannot write /dev/full' in p.stderr,
       '%s /dev/full: exit 2, "cannot write"' % opt, p.stderr)
with open('/dev/full', 'w') as full:
    p = subprocess.run([HT, 'compare', '--markdown', '-'] + targs, cwd=tmp, stdout=full,
                       stderr=subprocess.PIPE, text=True)
ok(p.returncode == 2 and 'cannot write -' in p.stderr,
   '--markdown - with stdout on /dev/full: exit 2, "cannot write"', p.stderr)
p = subprocess.run([HT, 'compare', '--markdown', os.path.join(tmp, 'no', 'such', 'dir')] + targs,
                   cwd=tmp, capture_output=True, text=True)
ok(p.returncode == 2 and 'cannot write' in p.stderr,
   '--markdown into a missing directory: exit 2, "cannot write"', p.stderr)


# --- 20,000 distinct initcall and device names per boot, under ASan ---------
# A boot brings far more new metric names than any fixed guess; metric
# numbers must never index a buffer sized by one.
if os.path.exists(ASAN):
    bdir = os.path.join(tmp, 'big')
    os.mkdir(bdir)
    big = ['--alpha', '0.5', '--baseline']
    for side in 'bc':
        for i in range(10):
            ic = [{'name': 'ht_init_%05d' % k, 'start_ns': k,
                   'duration_ns': 3000000 + 1000 * i if k != 42 or side == 'b' else 6000000,
                   'level': 'device'} for k in range(10000)]
            ic += [{'name': 'once_%s%d_%d' % (side, i, k), 'start_ns': 0, 'duration_ns': 1000,
                    'level': 'late'} for k in range(300)]
            sd = [{'name': 'dev%05d' % k, 'start_ns': 0, 'duration_ns': 500000, 'kind': 'device'}
                  for k in range(10000)]
            write(os.path.join(bdir, '%s%d.json' % (side, i)),
                  {'boot_ns': 2000000000, 'userspace_ns': 0, 'phases': [], 'levels': [],
                   'initcalls': ic, 'shutdown': sd, 'failure': {'kind': 'none'}})
            big.append('%s%d.json' % (side, i))
        if side == 'b':
            big.append('--candidate')
    rc, err = compare(big, bdir, ASAN)
    res = result()
    ok(rc == 1 and 'Sanitizer' not in err and 'runtime error' not in err and
       res.get('metrics_compared') == 20001 and res.get('metrics_tested') == 1 and
       [(r['metric'], r.get('level')) for r in res.get('regressions', [])] ==
       [('initcall ht_init_00042', 'device')],
       '10+10 boots of 20,000 initcall and device names each (and 300 of their own) under '
       'ASan+UBSan: 20,001 metrics compared, the one that moved tested and found', err[-2500:])
    # the same through traces: a synthetic boot of 6,000 distinct initcalls
    # (the previous code corrupted the heap on these and aborted)

    def chunk(kind, src, payload):
        """One CRC-checked trace chunk."""
        hdr = struct.pack('<IHHIIQ', 0x4b4e4843, kind, src, len(payload), 0, 0)
        crc = zlib.crc32(payload, zlib.crc32(hdr))
        return struct.pack('<IHHIIQ', 0x4b4e4843, kind, src, len(payload), crc, 0) + \
            payload + b'\0' * (-len(payload) % 8)

    recs = [struct.pack('<4Q', 1, 0x004, 2000000, 0)]
    for i in range(6000):
        t, fn = 1000 + i * 400, 0xffffffff81000000 + 16 * i
        recs.append(struct.pack('<4Q', t, 0x202 | (2 * i + 1) << 32, fn, 6))
        recs.append(struct.pack('<4Q', t + 300, 0x203 | (2 * i + 2) << 32, fn, 0))
    recs.append(struct.pack('<4Q', 1000 + 6000 * 400, 0x109 | 12001 << 32, 0, 0))
    with open(os.path.join(bdir, 'many.htf'), 'wb') as f:
        f.write(b'HTTRACE\0' + struct.pack('<IIQQ', 1, 64, 0, 0) + b'\0' * 32)
        f.write(chunk(1, 0, b'{"tool":"compare.t","abi_version":1,"accel":"synthetic"}'))
        for i in range(0, len(recs), 4096):
            f.write(chunk(2, 1, b''.join(recs[i:i + 4096])))
    rc, err = compare(['--alpha', '0.5', '--baseline'] + ['many.htf'] * 10 + ['--candidate'] +
                      ['many.htf'] * 10, bdir, ASAN)
    res = result()
    ok(rc == 0 and 'Sanitizer' not in err and 'runtime error' not in err and
       res.get('metrics_compared', 0) > 6000,
       '10+10 traces of 6,000 distinct initcalls under ASan+UBSan: pass, %d metrics compared'
       % res.get('metrics_compared', 0), err[-2500:])
else:
    T.diag('skipped the ASan tests: no %s (make build/bin/asan-hypertrace)' % ASAN)

# boots on different clocks (real time, QEMU's virtual icount time) cannot
# be compared: an error that says so; boots all on icount are compared and
# the outputs say which clock
vdir = os.path.join(tmp, 'virtual')
os.mkdir(vdir)
virt = json.loads(json.dumps(base))
virt['clock'] = dict(virt['clock'], mode='icount', icount='shift=1,sleep=off')
rs = ['r%d.json' % i for i in range(10)]
vs = ['v%d.json' % i for i in range(10)]
for r, v in zip(rs, vs):
    write(os.path.join(vdir, r), base)
    write(os.path.join(vdir, v), virt)
rc, err = compare(['--baseline'] + rs + ['--candidate'] + vs, vdir)
ok(rc == 2 and 'real and virtual times cannot be compared' in err and 'v0.json' in err,
   'compare: real-time baseline against icount candidate: exit 2, says why', err)
rc, err = compare(['--baseline'] + vs + ['--candidate'] + vs, vdir)
md = open(os.path.join(tmp, 'out.md')).read() if rc == 0 else ''
ok(rc == 0 and result().get('clock') == 'icount' and
   result().get('icount') == 'shift=1,sleep=off' and
   'Times are virtual (QEMU -icount shift=1,sleep=off)' in md,
   'compare: icount boots against icount boots: the JSON and the Markdown name the clock',
   err + md[:400])

# virtual time is decided by separation: 3 boots a side; an initcall 50 us
# slower in every candidate boot is a regression, an initcall whose waits
# fall on different ticks from boot to boot (on both sides) is not, and
# neither is anything that did not move
ticky = 'acpi_init'
def vboot(i, extra_us):
    r = json.loads(json.dumps(virt))
    for s in r['initcalls']:
        if s['name'] == victim_ic:
            s['duration_ns'] += extra_us * 1000
        if s['name'] == ticky:
            s['duration_ns'] += (i % 3) * 10000000
    return r
victim_ic = 'serial8250_init'
bs = ['vb%d.json' % i for i in range(3)]
cs = ['vc%d.json' % i for i in range(3)]
for i in range(3):
    write(os.path.join(vdir, bs[i]), vboot(i, 0))
    write(os.path.join(vdir, cs[i]), vboot(i + 1, 50))
rc, err = compare(['--baseline'] + bs + ['--candidate'] + cs, vdir)
res = result()
regs = [r['metric'] for r in res.get('regressions', [])]
ok(rc == 1 and res.get('decision') == 'separation' and 'initcall serial8250_init' in regs and
   not [r for r in regs if r.startswith('initcall ') and r != 'initcall serial8250_init'] and
   set(regs) <= {'initcall serial8250_init', 'level device', 'boot', 'userspace',
                 'phase rest_init', 'phase do_basic_setup'} and not res.get('improvements'),
   'virtual time, 3+3 boots: a 50 us slower initcall is the one initcall regressed (with '
   'what contains it; a tick-bound initcall that moves by 10 ms on both sides is not)',
   err + str(regs))
rc, err = compare(['--baseline'] + bs[:2] + ['--candidate'] + cs[:2], vdir)
ok(rc == 2 and 'at least 3 a side' in err, 'virtual time, 2+2 boots: exit 2, needs 3', err)

# the diff view: each side's median boot on one axis, what changed marked,
# guest names as text (an initcall named </script>... stays text)
chromium = shutil.which('chromium') or shutil.which('chromium-browser')
evil = '</script><b>bold?</b>'
hdir = os.path.join(tmp, 'html')
os.mkdir(hdir)
hb, hc = [], []
for i in range(10):
    for side, lst in (('b', hb), ('c', hc)):
        r = jitter(base, side)
        r['initcalls'].append(dict(r['initcalls'][0], name=evil, duration_ns=1000))
        write(os.path.join(hdir, '%s%d.json' % (side, i)), r)
        lst.append('%s%d.json' % (side, i))
page = os.path.join(tmp, 'diff.html')
p = subprocess.run([HT, 'compare', '--html', page, '--alpha', '0.05', '--baseline'] + hb +
                   ['--candidate'] + hc, cwd=hdir, capture_output=True, text=True)
src = open(page).read() if os.path.exists(page) else ''
ok(p.returncode == 1 and src.count('<script') == 2 and '</script><b>' not in src and
   'https://' not in src, 'compare --html: written, self-contained, the evil name is no markup',
   p.stderr)
if chromium:
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
             '--disable-background-networking', '--disable-component-update',
             '--user-data-dir=' + os.path.join(tmp, 'profile'), '--window-size=1400,900']
    q = subprocess.run([chromium] + flags + ['--enable-logging=stderr', '--v=0', '--dump-dom',
                                             'file://' + page],
                       capture_output=True, text=True, timeout=120)
    errors = [l for l in q.stderr.splitlines() if 'CONSOLE' in l or 'Uncaught' in l]
    import re
    m = re.search(r'data-rendered="(\d+)" data-marked="(\d+)"', q.stdout)
    ch = re.search(r'<table id="changes">(.*?)</table>', q.stdout, re.S)
    ok(q.returncode == 0 and not errors and m and int(m.group(1)) > 100 and
       int(m.group(2)) >= 2 and ch and 'initcall serial8250_init' in ch.group(1) and
       'initcall con_init' in ch.group(1) and 'class="reg"' in ch.group(1) and
       'class="imp"' in ch.group(1),
       'compare --html in Chromium: no console errors, both timelines drawn (%s bars), '
       'the regressed and the improved initcall marked and in the changes table'
       % (m.group(1) if m else 'no'), '\n'.join(errors) + q.stdout[-300:])
else:
    T.diag('skipped the diff view in Chromium: no chromium')

shutil.rmtree(tmp)
sys.exit(T.done())

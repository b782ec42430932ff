#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""The deterministic clock: `hypertrace boot --clock icount` boots the CI
kernel under QEMU's instruction counting, twice, the second time with the
host's CPUs loaded by busy loops; every initcall and boot level takes the
same virtual time in both (within 10 us: a few move by tens of ns, and a
tick's handler can land on either side of an initcall's end), and the
outputs say the times are virtual.
What icount cannot do is refused with a usage error."""
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htboot  # noqa: E402

t = htboot.Tap()
HT = htboot.HYPERTRACE
t.require(HT, htboot.KERNEL, htboot.INITRAMFS)
work = tempfile.mkdtemp(prefix='ht-clock-')


def boot(name, *extra):
    """hypertrace boot --clock icount; (exit status, report dict, stderr)."""
    out = os.path.join(work, name)
    p = subprocess.run([HT, 'boot', '-q', '--clock', 'icount', '--kernel', htboot.KERNEL,
                        '--initrd', htboot.INITRAMFS, '-o', out] + list(extra),
                       capture_output=True, text=True, timeout=300)
    path = os.path.join(out, 'report.json')
    return p.returncode, json.load(open(path)) if os.path.exists(path) else {}, p.stderr


def durations(r, key):
    """name -> duration_ns of one list of the report."""
    return {s['name']: s['duration_ns'] for s in r.get(key, [])}


def spin():
    """A CPU hog for the loaded boot."""
    while True:
        pass


rc, quiet, err = boot('quiet')
clock = quiet.get('clock', {})
t.ok(rc == 0 and clock.get('mode') == 'icount' and clock.get('icount') == 'shift=1,sleep=off' and
     quiet.get('cpus') == 1 and quiet.get('boot_ns', 0) > 0,
     'boot --clock icount: the boot completes on one CPU, report.json says clock icount '
     'shift=1,sleep=off', str(clock) + err)
text = open(os.path.join(work, 'quiet', 'report.txt')).read() if rc == 0 else ''
t.ok('virtual time (QEMU -icount shift=1,sleep=off' in text,
     'report.txt says the times are virtual', text[:400])

hogs = [multiprocessing.Process(target=spin, daemon=True) for _ in range(2)]
for h in hogs:
    h.start()
try:
    rc2, loaded, err2 = boot('loaded')
finally:
    for h in hogs:
        h.terminate()
# identical boots are not quite identical: a few initcalls move by tens of
# ns (slab_sysfs_init by 54, cmos_init by 98, tun_init by 1, measured over
# 4 boots), as if an interrupt landed a few instructions off, and then a
# timer tick's handler (3.7 us) can fall on either side of an initcall's
# end; allow 10 us, compare's floor on virtual time
for key in ('initcalls', 'levels'):
    a, b = durations(quiet, key), durations(loaded, key)
    diff = sorted((k, a[k], b.get(k)) for k in a if abs(a[k] - b.get(k, 0)) > 10000)
    same = sum(a[k] == b.get(k) for k in a)
    t.ok(rc2 == 0 and len(a) > 10 and not diff,
         '%d %s: the same virtual duration within 10 us (%d to the nanosecond), quiet host '
         'and two CPU hogs' % (len(a), key, same), str(diff[:5]) + err2)
# rest_init (and so the end of the boot) moves by a few microseconds
# between identical boots (measured 3.7 us): bound it at 50 us
t.ok(abs(quiet.get('boot_ns', 0) - loaded.get('boot_ns', 0)) < 50000,
     'boot done within 50 us of virtual time (%d vs %d ns)'
     % (quiet.get('boot_ns', 0), loaded.get('boot_ns', 0)))

rc, _, err = boot('smp', '--smp', '2')
t.ok(rc == 2 and 'boots one CPU only' in err and 'use -smp 1' in err,
     '--clock icount --smp 2: exit 2, says why (SMP bring-up never completes under icount)',
     err)
rc, _, err = boot('kvm', '--accel', 'kvm')
t.ok(rc == 2 and 'needs TCG' in err, '--clock icount --accel kvm: exit 2, needs TCG', err)
rc, _, err = boot('both', '--', '-icount', 'shift=2')
t.ok(rc == 2 and 'give one of them' in err,
     "--clock icount and QEMU's own -icount: exit 2, give one", err)

subprocess.run(['rm', '-rf', work])
sys.exit(t.done())

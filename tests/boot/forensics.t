#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""Failure forensics on real boots (`hypertrace boot --vmcore`, the CI
kernel under QEMU TCG): where each vCPU was when the collector stopped a
hung guest, symbolized from build/kernel/vmlinux's ELF symbols with the
trace's KASLR offset, against the self-test's own functions; and the
vmcore of each kind of failure, read back with Debian's vmcore-dmesg, and
the vmcore of a panic opened in Debian's crash (bt, log) with the CI
kernel's own vmlinux, which has DWARF debug info."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htboot  # noqa: E402

t = htboot.Tap()
HT = htboot.HYPERTRACE
VMLINUX = os.path.join(htboot.BUILD, 'kernel', 'vmlinux')
for f in (HT, htboot.KERNEL, htboot.INITRAMFS, VMLINUX):
    if not os.path.exists(f):
        t.ok(False, '%s exists (make all kernel initramfs)' % f)
        sys.exit(t.done())
work = tempfile.mkdtemp(prefix='ht-forensics-')
# the idle loop a halted vCPU sits in (after its sti; hlt)
IDLE = {'native_safe_halt', 'pv_native_safe_halt', 'default_idle', 'arch_cpu_idle',
        'default_idle_call', 'do_idle', 'cpu_idle_poll'}
# where mdelay() spins: the self-test's delay:FN:MS
SPIN = {'delay_tsc', '__const_udelay', '__udelay', 'delay_loop', '__hypertrace_selftest'}
LATE = 'print_ICs'       # a late initcall: after the fw_cfg driver wrote VMCOREINFO


def boot(name, append, extra=()):
    """hypertrace boot --vmcore; (exit status, report dict, outdir, stderr)."""
    out = os.path.join(work, name)
    p = subprocess.run([HT, 'boot', '-q', '--accel', 'tcg', '--kernel', htboot.KERNEL,
                        '--initrd', htboot.INITRAMFS, '--vmlinux', VMLINUX, '--vmcore',
                        '--append', append, '-o', out] + list(extra),
                       capture_output=True, text=True, timeout=300)
    path = os.path.join(out, 'report.json')
    return p.returncode, json.load(open(path)) if os.path.exists(path) else {}, out, p.stderr


def fn(sym):
    """The function of "fn+0xoff/0xsize"."""
    return (sym or '').split('+')[0]


def kaslr(out):
    """The KASLR offset the guest reported (hypertrace dump), 0 if none."""
    evs = htboot.dump_json(os.path.join(out, 'trace.htf'))[0]
    k = [e for e in evs if e['type'] == 'kaslr']
    return int(k[0]['a0'], 16) if k else 0


def elf_symbols():
    """vmlinux's function symbols as (addr, size, name), by address (nm)."""
    p = subprocess.run(['nm', '-S', '--defined-only', VMLINUX], capture_output=True, text=True)
    out = []
    for line in p.stdout.splitlines():
        w = line.split()
        if len(w) == 4 and w[2] in 'tTwW':
            out.append((int(w[0], 16), int(w[1], 16), w[3]))
    return sorted(out)


SYMS = elf_symbols()


def covers(ip, name):
    """Whether vmlinux's symbol @name covers @ip (link-time address)."""
    return any(a <= ip < a + s for a, s, n in SYMS if n == name)


def vmcore_dmesg(path):
    """vmcore-dmesg's output (status, text)."""
    if not shutil.which('vmcore-dmesg'):
        return None, 'no vmcore-dmesg (package kexec-tools)'
    p = subprocess.run(['vmcore-dmesg', path], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


# ---- a hang that sleeps (msleep in a loop): every vCPU halted in the idle loop --------
rc, r, out, err = boot('hang', 'hypertrace_test=hang:serial8250_init', ['--hang-timeout', '5'])
v = r.get('vcpus', [])
off = kaslr(out) if v else 0
t.ok(rc == 4 and [x['cpu'] for x in v] == [0, 1] and
     all(x['halted'] and fn(x['ip_symbol']) in IDLE for x in v),
     'hang:serial8250_init sleeps: both vCPUs halted in the idle loop (%s)'
     % ', '.join('%s' % x.get('ip_symbol') for x in v), json.dumps(v) + err)
t.ok(v and all(covers(int(x['ip'], 16) - off, fn(x['ip_symbol'])) for x in v),
     'hang: each ip lies inside the function vmlinux\'s ELF symbols give it (KASLR offset %#x)'
     % off, json.dumps(v))
txt = open(os.path.join(out, 'report.txt')).read() if os.path.exists(out) else ''
t.ok('vCPU 0 in ' + (v[0]['ip_symbol'] if v else '?') + ' (halted)' in txt and
     'id="vcpubox"' in open(os.path.join(out, 'report.html')).read(),
     'hang: report.txt says "vCPU 0 in %s (halted)"; report.html has the section'
     % (v[0]['ip_symbol'] if v else '?'), txt[:1500])
vm = r.get('vmcore', {})
t.ok(vm.get('path') == os.path.join(out, 'trace.vmcore') and os.path.exists(vm['path']) and
     os.stat(vm['path']).st_mode & 0o777 == 0o600 and vm.get('bytes', 0) > 256 << 20,
     'hang: the vmcore beside the trace, 0600, %.0f MiB in %d ms' %
     (vm.get('bytes', 0) / 1048576, vm.get('ms', 0)), str(vm))
t.ok(vm.get('vmcoreinfo') is True and 'guest RAM' in vm.get('vmcoreinfo_from', ''),
     'hang in serial8250_init, before the fw_cfg driver: the collector added the kernel\'s '
     'VMCOREINFO from guest RAM', str(vm))
st, text = vmcore_dmesg(vm.get('path') or '/nonexistent')
t.ok(st == 0 and 'hanging in serial8250_init' in text,
     'hang: vmcore-dmesg reads the log through the added note: "hanging in serial8250_init"',
     (text or '')[-1500:])
shutil.rmtree(out, ignore_errors=True)

# ---- a hang that spins (mdelay for 10 minutes): one vCPU runs inside mdelay's loop ---
# The ip is one sample: it can land in an interrupt taken inside the loop
# (read_hpet, once here), so up to three boots.
for attempt in range(3):
    rc, r, out, err = boot('spin', 'hypertrace_test=delay:serial8250_init:600000',
                           ['--hang-timeout', '5'])
    v = r.get('vcpus', [])
    off = kaslr(out) if v else 0
    run = [x for x in v if not x['halted']]
    if rc != 4 or (len(run) == 1 and fn(run[0]['ip_symbol']) in SPIN):
        break
    t.diag('spin, boot %d: the running vCPU was sampled in %s, outside the loop: again'
           % (attempt + 1, run[0]['ip_symbol'] if run else '?'))
    shutil.rmtree(out, ignore_errors=True)
t.ok(rc == 4 and len(run) == 1 and fn(run[0]['ip_symbol']) in SPIN and
     covers(int(run[0]['ip'], 16) - off, fn(run[0]['ip_symbol'])),
     'delay:serial8250_init spins: the running vCPU is in %s (mdelay\'s loop, inside '
     'the self-test), the other halted' % (run[0]['ip_symbol'] if run else '?'),
     json.dumps(v) + err)
shutil.rmtree(out, ignore_errors=True)


# ---- the vmcore of each panic, in vmcore-dmesg ------------------------------
for name, append, want in (
        ('panic-late', 'hypertrace_test=panic:' + LATE, 'hypertrace self-test: panic in ' + LATE),
        ('oops-late', 'hypertrace_test=oops:' + LATE, 'Attempted to kill init'),
        ('panic-early-initcall', 'hypertrace_test=panic:serial8250_init',
         'hypertrace self-test: panic in serial8250_init'),
        ('oops-early-initcall', 'hypertrace_test=oops:serial8250_init', 'Attempted to kill init')):
    rc, r, out, err = boot(name, append)
    vm = r.get('vmcore', {})
    st, text = vmcore_dmesg(vm.get('path') or '/nonexistent')
    t.ok(rc == 3 and vm.get('vmcoreinfo') is True and st == 0 and want in text and
         (not name.startswith('oops') or 'oops in ' + append.split(':')[-1] in text),
         '%s: the vmcore carries VMCOREINFO and vmcore-dmesg prints "%s"' % (name, want),
         str(vm) + '\n' + (text or '')[-1500:])
    if name == 'panic-late':
        keep = out
    else:
        shutil.rmtree(out, ignore_errors=True)

# a good boot with --vmcore: QEMU pauses at the power-off and is quit; no vmcore
rc, r, out, err = boot('good', '')
t.ok(rc == 0 and r.get('failure', {}).get('kind') == 'none' and 'vcpus' not in r and
     'vmcore' not in r and not os.path.exists(os.path.join(out, 'trace.vmcore')),
     'a boot that completes under --vmcore: exit 0, no vCPU state, no vmcore', str((rc, err)))
shutil.rmtree(out, ignore_errors=True)

# a panic before subsys level: the kernel has made no VMCOREINFO note yet
rc, r, out, err = boot('early', 'hypertrace_test=early_panic')
vm = r.get('vmcore', {})
t.ok(rc == 3 and os.path.exists(vm.get('path') or '/nonexistent') and
     vm.get('vmcoreinfo') is False and 'subsys' in vm.get('vmcoreinfo_missing', ''),
     'early panic: a vmcore, but no VMCOREINFO anywhere, and the trace says why '
     '(vmcore-dmesg cannot read it: the documented limit)', str(vm))
shutil.rmtree(out, ignore_errors=True)

# ---- crash in batch mode: bt and log --------------------------------------------
# The CI kernel has DWARF debug info (patches/configs/ci.config), so Debian's
# crash opens its vmlinux with the vmcore of the panic in a late initcall.


def has_debug_info(path):
    """Whether the ELF file @path has a .debug_info section."""
    p = subprocess.run(['readelf', '-S', '-W', path], capture_output=True, text=True)
    return ' .debug_info ' in p.stdout


core = os.path.join(keep, 'trace.vmcore')
if not shutil.which('crash'):
    t.ok(False, 'crash bt and log: no crash (scripts/install-deps.sh installs package crash)')
elif not has_debug_info(VMLINUX):
    t.ok(False, 'crash bt and log: %s has no debug info (CONFIG_DEBUG_INFO_DWARF5 in '
         'patches/configs/ci.config)' % VMLINUX)
else:
    cmd = os.path.join(work, 'crash.cmd')
    open(cmd, 'w').write('bt\nlog\nquit\n')
    p = subprocess.run(['crash', '-s', '--no_scroll', '-i', cmd, VMLINUX, core],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    bt = p.stdout.split('Kernel panic')[0]
    frames = [ln.split()[2] for ln in bt.splitlines()
              if ln.lstrip().startswith('#') and len(ln.split()) > 2]
    t.ok(p.returncode == 0 and 'panic' in frames and '__hypertrace_selftest' in frames and
         'do_one_initcall' in frames,
         'crash VMLINUX trace.vmcore: bt shows the panic task in panic, '
         '__hypertrace_selftest, do_one_initcall (%s)' % ' < '.join(frames[:6]),
         p.stdout[-2500:] + p.stderr[-1000:])
    t.ok('Kernel panic - not syncing: hypertrace self-test: panic in ' + LATE in p.stdout,
         'crash: log ends in "Kernel panic - not syncing: hypertrace self-test: panic in %s"'
         % LATE, p.stdout[-1500:] + p.stderr[-1000:])
shutil.rmtree(keep, ignore_errors=True)

subprocess.run(['rm', '-rf', work])
sys.exit(t.done())

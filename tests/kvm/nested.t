#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""The CI kernel under a real KVM: the L1 test machine (make l1: a KVM host
built from linux-source-6.1, booted under TCG with -cpu max, which has SVM
with nested paging) runs our collector, which boots the CI kernel as L2
under L1's KVM with hypertrace=hypercall, batch, shmem, port and auto,
and once more over shmem with the hypergraph three calls deep.
L1 writes the traces to a 9p share; they are checked here, on the host,
with the CI kernel's vmlinux:

- every L2 boot completes, and the collector's KVM probe chose KVM
  (--accel auto, as a user runs it);
- nothing is lost, on any channel, kvm:kvm_hypercall included (its
  missed and filtered counts in the LOSS chunk, the sequence numbers);
- the hypercall boot and the shmem boot of the same kernel have the same
  initcalls in the same order (one CPU), and every urgent record the
  shmem boot's hypercall doorbell delivered is a byte-identical copy of a
  ring record;
- the guest TSC is placed by KVM's per-vCPU tsc-offset from L1's
  debugfs, and the time before the kernel (QEMU, firmware, setup code,
  decompressor) is reported;
- doorbell exits are counted by reason with a kvm:kvm_exit histogram
  trigger in L1: the hypercall boot makes a VMMCALL exit per record, the
  shmem boot a handful, and as many with the hypergraph's many times more
  records, the port boot IOIO exits instead;
- host-collector/tests/kvm-real-check.sh --boot passes inside L1.

HT_KEEP=1 keeps the results directory."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'boot'))
import htboot  # noqa: E402
sys.path.insert(0, os.path.join(htboot.TOP, 'tests'))
import htf  # noqa: E402

t = htboot.Tap()
L1 = os.path.join(htboot.BUILD, 'l1')
HT = htboot.HYPERTRACE
VMLINUX = os.path.join(htboot.BUILD, 'kernel', 'vmlinux')
t.require(HT, os.path.join(L1, 'bzImage'), os.path.join(L1, 'initramfs.cpio.gz'), VMLINUX)
# each L2 boot: its name and its hypertrace parameters; "graph" adds the
# hypergraph below every initcall, three calls deep, to the shmem rings:
# many more records, no more exits
BOOTS = (('hypercall', 'hypertrace=hypercall'), ('batch', 'hypertrace=batch'),
         ('shmem', 'hypertrace=shmem'), ('port', 'hypertrace=port'), ('auto', 'hypertrace=auto'),
         ('graph', 'hypertrace=shmem hypertrace_graph=initcalls hypertrace_graph_depth=3'))
MODES = tuple(name for name, _ in BOOTS)
SVM_EXIT = {0x81: 'vmmcall', 0x7b: 'ioio', 0x78: 'hlt', 0x400: 'npf', 0x7c: 'msr',
            0x60: 'intr', 0x72: 'cpuid', 0x61: 'nmi', 0x64: 'vintr'}
work = tempfile.mkdtemp(prefix='ht-nested-')
PLAN = r'''
set -u
k=/ht/l2/bzImage
i=/ht/l2/initramfs.cpio.gz
T=/sys/kernel/tracing
HIST='hist:keys=exit_reason:vals=hitcount:sort=exit_reason'
HT_BOOT_SECONDS=120 kvm-real-check.sh --boot $k $i > /out/kvm-real-check.log 2>&1
echo $? > /out/kvm-real-check.status
l2() {
	d=/out/$1
	mkdir -p $d
	echo "$HIST" > $T/events/kvm/kvm_exit/trigger
	start=$(date +%%s)
	hypertrace boot -q --smp 1 --hang-timeout 60 -k $k -i $i -a "$2" -o $d \
		-- -cpu host -nic none > $d/boot.out 2>&1
	echo $? > $d/status
	echo $(( $(date +%%s) - start )) > $d/seconds
	cat $T/events/kvm/kvm_exit/hist > $d/exits.hist
	echo "!$HIST" > $T/events/kvm/kvm_exit/trigger
}
%s
''' % '\n'.join("l2 %s '%s'" % b for b in BOOTS)
plan = os.path.join(work, 'plan-src.sh')
with open(plan, 'w') as f:
    f.write(PLAN)

start = time.monotonic()
p = subprocess.run([os.path.join(htboot.TOP, 'scripts', 'l1-run.sh'), work, plan],
                   capture_output=True, text=True, timeout=1200)
wall = time.monotonic() - start
t.ok(p.returncode == 0, 'L1 booted under TCG, ran the plan and powered off (%.0f s)' % wall,
     p.stderr[-800:] + open(os.path.join(work, 'l1-console.log'), errors='replace').read()[-1500:]
     if os.path.exists(os.path.join(work, 'l1-console.log')) else p.stderr)
console = open(os.path.join(work, 'l1-console.log'), errors='replace').read() \
    if os.path.exists(os.path.join(work, 'l1-console.log')) else ''
t.ok('kvm: Nested Virtualization enabled' in console or 'Nested Paging enabled' in console or
     os.path.exists(os.path.join(work, 'hypercall')),
     "L1's KVM came up with nested paging", console[-600:])


def read(path, default=''):
    """A file's text, or @default."""
    try:
        return open(path, errors='replace').read()
    except OSError:
        return default


def report(mode):
    """The host's report --json of one L2 boot's trace, with its vmlinux; {} if none."""
    trace = os.path.join(work, mode, 'trace.htf')
    if not os.path.exists(trace):
        return {}
    r = subprocess.run([HT, 'report', '--json', '--vmlinux', VMLINUX, trace],
                       capture_output=True, text=True)
    return json.loads(r.stdout) if r.stdout.startswith('{') else {}


def loss_chunk(mode):
    """The collector's LOSS chunk of one trace, {} if none."""
    for c in htf.read(os.path.join(work, mode, 'trace.htf')):
        if c.kind == htf.LOSS:
            return c.json()
    return {}


def dump(mode):
    """hypertrace dump --json of one trace: its events."""
    r = subprocess.run([HT, 'dump', '--json', os.path.join(work, mode, 'trace.htf')],
                       capture_output=True, text=True)
    return [e for e in map(json.loads, r.stdout.splitlines()) if 'type' in e]


def exits(mode):
    """kvm:kvm_exit counts by reason name during one L2 boot (L1's histogram)."""
    out = {}
    for m in re.finditer(r'exit_reason:\s*(\d+)\s*\}\s*hitcount:\s*(\d+)',
                         read(os.path.join(work, mode, 'exits.hist'))):
        name = SVM_EXIT.get(int(m.group(1)), '0x%x' % int(m.group(1)))
        out[name] = out.get(name, 0) + int(m.group(2))
    return out


reps, ex = {}, {}
for mode in MODES:
    rc = read(os.path.join(work, mode, 'status'), '?').strip()
    reps[mode] = rep = report(mode)
    ex[mode] = exits(mode)
    lc = loss_chunk(mode) if rep else {}
    t.ok(rc == '0' and rep.get('failure', {}).get('kind') == 'none' and rep.get('accel') == 'kvm',
         '%s: L2 booted under L1\'s KVM, chosen by the probe (%s s in L1, kernel boot %.0f '
         'ms, %d initcalls)' % (mode, read(os.path.join(work, mode, 'seconds'), '?').strip(),
                                rep.get('boot_ns', 0) / 1e6, len(rep.get('initcalls', []))),
         read(os.path.join(work, mode, 'boot.out'))[-600:])
    loss = rep.get('loss', {})
    t.ok(rep and rep.get('lost_records') == 0 and not any(loss.values()) and
         lc.get('hypercall_missed', 0) == 0 and lc.get('hypercall_filtered', 0) == 0,
         '%s: nothing lost (sequence numbers, rings, kvm:kvm_hypercall: %s missed, %s '
         'filtered)' % (mode, lc.get('hypercall_missed'), lc.get('hypercall_filtered')),
         str(loss) + str(lc))
    clk = rep.get('clock', {})
    pre = [p['name'] for p in rep.get('phases', []) if p['name'] in
           ('QEMU start-up (host)', 'firmware and loader', 'setup code', 'decompressor')]
    t.ok(clk.get('method') == 'kvm-tsc-offset' and clk.get('samples', 0) > 0 and len(pre) == 4,
         '%s: the TSC placed by KVM\'s tsc-offset (%d samples, residual %.3f ms), the '
         'time before the kernel reported (QEMU %.1f ms)' %
         (mode, clk.get('samples', 0), clk.get('residual_ns', 0) / 1e6,
          rep.get('launch_to_vm_ns', 0) / 1e6), str(clk) + str(pre))
    t.diag('%s: exits during the boot: %s' %
           (mode, ', '.join('%s %d' % kv for kv in sorted(ex[mode].items(), key=lambda kv: -kv[1]))))

# the same kernel over two transports: the same initcalls, in the same order
hc = [i['name'] for i in reps['hypercall'].get('initcalls', [])]
sh = [i['name'] for i in reps['shmem'].get('initcalls', [])]
t.ok(hc and hc == sh, 'hypercall and shmem boots: the same %d initcalls in the same order' % len(hc),
     str([(a, b) for a, b in zip(hc, sh) if a != b][:5]))
# the shmem boot's urgent records came twice: the ring and the hypercall
ev = dump('shmem')
t.ok(ev, 'shmem: the trace dumps')
rd = subprocess.run([HT, 'dump', os.path.join(work, 'shmem', 'trace.htf')],
                    capture_output=True, text=True).stderr
m = re.search(r'\((\d+) doorbell copies', rd)
copies = int(m.group(1)) if m else 0
t.ok(copies >= 3, 'shmem: %d urgent records arrived by hypercall too, each a byte-identical copy of '
     'a ring record (dropped as such)' % copies, rd[-300:])

# doorbell exits: a VMMCALL per record over the hypercall, a handful over shmem
def records(mode, src):
    """Records of one trace that arrived from @src (htf.SRC_*)."""
    return sum(len(c.records()) for c in htf.read(os.path.join(work, mode, 'trace.htf'))
               if c.kind == htf.RECORDS and c.source == src)


vm = {mode: ex[mode].get('vmmcall', 0) for mode in MODES}
io = {mode: ex[mode].get('ioio', 0) for mode in MODES}
hrec = {mode: records(mode, htf.SRC_HYPERCALL) for mode in MODES}
rrec = {mode: records(mode, htf.SRC_RING) for mode in MODES}
prec = records('port', htf.SRC_PORT)
for mode in MODES:
    t.diag('%s: %d ring, %d hypercall records; %d VMMCALL, %d IOIO exits' %
           (mode, rrec[mode], hrec[mode], vm[mode], io[mode]))
# every hypercall record is one VMMCALL; the kernel's own (KVM PV) calls add a few
t.ok(hrec['hypercall'] > 1000 and hrec['hypercall'] <= vm['hypercall'] <= hrec['hypercall'] * 1.1,
     'hypercall: %d VMMCALL exits for %d records, one per record' % (vm['hypercall'], hrec['hypercall']))
t.ok(rrec['shmem'] > 1000 and vm['shmem'] <= 64,
     'shmem: %d VMMCALL exits for %d ring records (urgent copies only)' % (vm['shmem'], rrec['shmem']))
t.ok(rrec['batch'] > 1000 and 0 < vm['batch'] < rrec['batch'] / 8,
     'batch: %d VMMCALL exits for %d ring records (a kick per batch)' % (vm['batch'], rrec['batch']))
t.ok(rrec['graph'] > 5 * rrec['shmem'] and vm['graph'] <= vm['shmem'] + 4,
     'graph: %d VMMCALL exits for %d ring records, as shmem\'s %d for %d: the exits do not grow '
     'with the records' % (vm['graph'], rrec['graph'], vm['shmem'], rrec['shmem']))
t.ok(vm['port'] <= 64 and prec > 1000 and io['port'] > io['shmem'],
     "port: %d VMMCALL; %d IOIO exits for %d port records, against shmem's %d (the console's)" %
     (vm['port'], io['port'], prec, io['shmem']))

chk = read(os.path.join(work, 'kvm-real-check.log'))
t.ok(read(os.path.join(work, 'kvm-real-check.status')).strip() == '0' and 'PASS' in chk,
     'kvm-real-check.sh --boot passes inside L1', chk[-800:])
t.diag('L1 run: %.0f s wall' % wall)

status = t.done()
if status == 0 and not os.environ.get('HT_KEEP'):
    subprocess.run(['rm', '-rf', work])
else:
    print('# kept ' + work)
sys.exit(status)

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# kvm-real-check.sh - check the real kvm:kvm_hypercall path on a KVM host.
#
# The unit test (test_chan_kvm) drives the hypercall channel with a uprobe
# stand-in, because the development hosts run the PVM KVM module, which
# cannot run ordinary guests (DESIGN.md, "Measured facts").  On a host where
# KVM does run ordinary guests, this script checks the real thing:
#
#   kvm-real-check.sh              the tracepoint exists, has the fields the
#                                  channel reads (nr, a0..a3), and can be
#                                  enabled, filtered and read in a private
#                                  tracefs instance
#   kvm-real-check.sh --boot [BZIMAGE [INITRD]]
#                                  also boot the patched kernel under QEMU
#                                  -accel kvm with hypertrace=hypercall and
#                                  check that Hypertrace hypercalls arrive
#                                  in kvm:kvm_hypercall from QEMU's vCPU
#                                  threads (defaults: build/kernel/bzImage,
#                                  build/initramfs.cpio.gz; HT_BOOT_SECONDS,
#                                  default 60, bounds the boot)
#
# Exit status: 0 checked and fine, 1 checked and broken, 77 this host
# cannot check (not root, no /dev/kvm, PVM module, no tracefs), with the
# reason on stdout.  HT_KVM_CHECK_FORCE=1 goes on despite a PVM module
# (the tracepoint checks still mean something there; --boot will hang
# until its deadline).
set -u

HC_RECORD=0x48540001
HC_BATCH=0x48540002
top=$(cd "$(dirname "$0")/../.." && pwd)
inst=
qpid=
work=

say() { printf 'kvm-real-check: %s\n' "$*"; }
cannot() { say "CANNOT CHECK on this host: $*"; exit 77; }
fail() { say "FAIL: $*"; exit 1; }

# cleanup: stop QEMU, disable the event and remove our instance
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	if [ -n "$inst" ] && [ -d "$inst" ]; then
		echo 0 > "$inst/events/kvm/kvm_hypercall/enable" 2>/dev/null
		rmdir "$inst" 2>/dev/null
	fi
	[ -n "$work" ] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

boot=0
kernel=$top/build/kernel/bzImage
initrd=$top/build/initramfs.cpio.gz
if [ "${1:-}" = "--boot" ]; then
	boot=1
	[ -n "${2:-}" ] && kernel=$2
	[ -n "${3:-}" ] && initrd=$3
elif [ $# -gt 0 ]; then
	echo "usage: $0 [--boot [BZIMAGE [INITRD]]]" >&2
	exit 2
fi

# ---- can this host run ordinary KVM guests at all? -------------------------

[ "$(id -u)" = 0 ] || cannot "needs root (tracefs instances); run it with sudo"
[ -c /dev/kvm ] || cannot "no /dev/kvm: no VT-x/AMD-V, disabled in firmware, \
or the kvm_intel/kvm_amd module is not loaded (modprobe kvm_intel or kvm_amd)"
if [ -d /sys/module/kvm_pvm ] || lsmod 2>/dev/null | grep -q '^kvm_pvm'; then
	if [ "${HT_KVM_CHECK_FORCE:-0}" != 1 ]; then
		cannot "the KVM module is PVM (kvm_pvm): it runs only PVM-enabled \
guests, QEMU -accel kvm with a stock or Hypertrace kernel hangs in firmware, \
and a vmcall never reaches kvm:kvm_hypercall.  Use TCG and the port \
transport here; the hypercall channel is covered by test_chan_kvm's uprobe \
stand-in (make check).  HT_KVM_CHECK_FORCE=1 checks the tracepoint anyway."
	fi
	say "PVM module present; going on because HT_KVM_CHECK_FORCE=1"
elif [ ! -d /sys/module/kvm_intel ] && [ ! -d /sys/module/kvm_amd ]; then
	cannot "/dev/kvm exists but neither kvm_intel nor kvm_amd is loaded: \
an unknown KVM flavour; check by hand"
fi

# ---- the tracepoint ---------------------------------------------------------

tdir=
tdir=$(awk '$3 == "tracefs" { print $2; exit }' /proc/mounts 2>/dev/null)
if [ -z "$tdir" ]; then
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
		cannot "tracefs is not mounted and cannot be mounted \
(mount -t tracefs nodev /sys/kernel/tracing)"
	tdir=/sys/kernel/tracing
fi
ev=$tdir/events/kvm/kvm_hypercall
[ -r "$ev/format" ] || fail "KVM is loaded but $ev/format is missing or \
unreadable: kernel without CONFIG_TRACEPOINTS/CONFIG_EVENT_TRACING?"
for f in nr a0 a1 a2 a3; do
	grep -Eq "field:[^;]* $f;[[:space:]]*offset:[0-9]+;[[:space:]]*size:8;" \
		"$ev/format" || fail "kvm:kvm_hypercall has no 64-bit field '$f':
$(cat "$ev/format")"
done
say "ok: kvm:kvm_hypercall exists with 64-bit fields nr, a0, a1, a2, a3"

# a private instance, as the collector makes one
inst=$tdir/instances/hypertrace-check-$$
mkdir "$inst" 2>/dev/null || fail "cannot create tracefs instance $inst"
echo mono > "$inst/trace_clock" 2>/dev/null || fail "trace_clock mono refused"
echo "nr == $HC_RECORD || nr == $HC_BATCH" > "$inst/events/kvm/kvm_hypercall/filter" ||
	fail "the kernel refused the filter on nr"
echo 1 > "$inst/events/kvm/kvm_hypercall/enable" || fail "cannot enable the event"
echo 1 > "$inst/tracing_on"
[ "$(cat "$inst/events/kvm/kvm_hypercall/enable")" = 1 ] ||
	fail "the event does not stay enabled in the instance"
dd if="$inst/per_cpu/cpu0/trace_pipe_raw" of=/dev/null bs=4096 count=1 \
	iflag=nonblock 2>/dev/null
rc=$?
# an empty buffer reads as EAGAIN (dd status 1) or end of data (0)
[ $rc -le 1 ] || fail "per_cpu/cpu0/trace_pipe_raw is not readable"
say "ok: enabled, filtered (nr == $HC_RECORD || nr == $HC_BATCH) and readable \
in a private instance"

if [ $boot = 0 ]; then
	say "PASS (tracepoint).  Next steps on this host:"
	say "  make check                       unit tests (uprobe stand-in included)"
	say "  $0 --boot         boot build/kernel/bzImage with hypertrace=hypercall"
	say "                                   under -accel kvm and see its hypercalls"
	say "  HT_ACCEL=kvm HT_APPEND=hypertrace=hypercall make demo"
	exit 0
fi

# ---- a real guest ------------------------------------------------------------

for f in "$kernel" "$initrd"; do
	[ -f "$f" ] || fail "$f missing: run make kernel initramfs (or pass paths)"
done
command -v qemu-system-x86_64 >/dev/null ||
	fail "qemu-system-x86_64 missing: run scripts/install-deps.sh"
work=$(mktemp -d /tmp/hypertrace-kvm-check.XXXXXX) || fail "mktemp"
secs=${HT_BOOT_SECONDS:-60}
say "booting $kernel under -accel kvm with hypertrace=hypercall (at most ${secs} s)"
qemu-system-x86_64 -accel kvm -m 256 -smp 2 -display none -nic none \
	-monitor none -no-reboot -serial "file:$work/console.log" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 hypertrace=hypercall" \
	> "$work/qemu.out" 2>&1 &
qpid=$!
# QEMU's threads, sampled while it runs (vCPU threads live as long as it)
: > "$work/tids"
end=$(( $(date +%s) + secs ))
while kill -0 "$qpid" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
	ls "/proc/$qpid/task" >> "$work/tids" 2>/dev/null
	sleep 0.2
done
if kill -0 "$qpid" 2>/dev/null; then
	kill "$qpid"
	say "QEMU still running after ${secs} s: stopped it (a hang under KVM is \
what the PVM module does; see $work/console.log)"
fi
wait "$qpid" 2>/dev/null
qrc=$?
qpid=
echo 0 > "$inst/events/kvm/kvm_hypercall/enable"
sort -un "$work/tids" > "$work/tids.sorted"

cat "$inst/trace" > "$work/trace"
grep 'kvm_hypercall:' "$work/trace" > "$work/events" || true
n=$(wc -l < "$work/events")
nrec=$(grep -c "nr $HC_RECORD " "$work/events" || true)
nbatch=$(grep -c "nr $HC_BATCH " "$work/events" || true)
lost=$(cat "$inst"/per_cpu/cpu*/stats 2>/dev/null |
	awk '/^(overrun|commit overrun|dropped events):/ { s += $NF } END { print s + 0 }')
sed -E 's/^.*-([0-9]+) +\[[0-9]+\].*$/\1/' "$work/events" | sort -un > "$work/pids"
foreign=$(comm -23 "$work/pids" "$work/tids.sorted" | wc -l)
say "$n Hypertrace hypercalls ($nrec HT_HC_RECORD, $nbatch HT_HC_BATCH) from \
$(wc -l < "$work/pids") thread(s); $lost lost in the ring buffer"
if [ "$n" -eq 0 ]; then
	keep=$work
	work=	# keep the console log for the reader
	fail "no Hypertrace hypercall reached kvm:kvm_hypercall (QEMU status \
$qrc; console: $keep/console.log): is the kernel patched, and \
hypertrace=hypercall accepted?  QEMU said:
$(tail -n 5 "$keep/qemu.out")"
fi
[ "$foreign" = 0 ] || fail "$foreign thread(s) outside QEMU made Hypertrace \
hypercalls?"
head -n 3 "$work/events" | sed 's/^/    /'
say "PASS: real kvm:kvm_hypercall events from QEMU's vCPU threads"
exit 0

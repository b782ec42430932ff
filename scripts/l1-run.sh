#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Boot the L1 test machine (scripts/build-l1.sh) under TCG with an
# SVM-capable CPU, its results directory shared as 9p tag "out".
#
#   scripts/l1-run.sh OUTDIR [PLAN]
#
# PLAN (a shell script, run by L1's /init with /ht/bin on its PATH) is
# copied to OUTDIR/plan.sh; L1 writes OUTDIR/l1.log and
# OUTDIR/plan.status (the plan's exit status) and powers off.  L1's
# console goes to OUTDIR/l1-console.log.  HT_L1_SECONDS (default 900)
# bounds the run; HT_L1_MEM (MiB, default 2048) and HT_L1_SMP (default 2)
# size the machine.  Exit status: the plan's, or 1 when L1 did not say.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: l1-run.sh OUTDIR [PLAN]}
plan=${2:-}
l1=$top/build/l1

die() { echo "l1-run: error: $*" >&2; exit 1; }

for f in "$l1/bzImage" "$l1/initramfs.cpio.gz"; do
	[ -f "$f" ] || die "$f is missing: run make l1"
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/plan.status" "$out/l1.log"
if [ -n "$plan" ]; then
	cp "$plan" "$out/plan.sh"
else
	rm -f "$out/plan.sh"
fi
# -cpu max under TCG has SVM with nested paging; -nic none, or QEMU wants
# efi-e1000.rom; the console to a file, so a hung L1 still leaves a log
set +e
timeout "${HT_L1_SECONDS:-900}" qemu-system-x86_64 -accel tcg -cpu max \
	-m "${HT_L1_MEM:-2048}" -smp "${HT_L1_SMP:-2}" \
	-display none -monitor none -no-reboot -nic none \
	-serial "file:$out/l1-console.log" \
	-kernel "$l1/bzImage" -initrd "$l1/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 quiet" \
	-virtfs "local,path=$out,mount_tag=out,security_model=none,id=out"
rc=$?
set -e
[ $rc = 124 ] && die "L1 still ran after ${HT_L1_SECONDS:-900} s: stopped it (console: $out/l1-console.log)"
[ $rc = 0 ] || die "QEMU exited with status $rc (console: $out/l1-console.log)"
[ -f "$out/plan.status" ] || { [ -z "$plan" ] && exit 0; die "L1 ran no plan (console: $out/l1-console.log)"; }
exit "$(cat "$out/plan.status")"

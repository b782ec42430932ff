#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# make demo: boot build/kernel/bzImage with the test initramfs under QEMU,
# recorded by hypertrace-collector, then decode the trace.  Writes
# build/demo/{trace.htf,report.txt,report.html,console.log,events.txt}.  The
# collector picks KVM when it really runs the guest, TCG otherwise.
# HT_APPEND adds kernel parameters; HT_SMP sets the CPU count.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/build
demo=$B/demo
kernel=$B/kernel/bzImage
initrd=$B/initramfs.cpio.gz

for f in "$kernel" "$initrd" "$B/bin/hypertrace" "$B/bin/hypertrace-collector"; do
	[ -f "$f" ] || { echo "demo: $f missing: run make kernel initramfs all" >&2; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "demo: qemu-system-x86_64 missing: run scripts/install-deps.sh" >&2; exit 1; }

umask 077
rm -rf "$demo"
echo "demo: booting $kernel, recorded by hypertrace-collector"
status=0
"$B/bin/hypertrace" boot --kernel "$kernel" --initrd "$initrd" --vmlinux "$B/kernel/vmlinux" \
	--smp "${HT_SMP:-2}" --append "${HT_APPEND:-}" -o "$demo" || status=$?
[ -f "$demo/trace.htf" ] || exit "${status:-1}"
"$B/bin/hypertrace" dump -q "$demo/trace.htf" > "$demo/events.txt"
cat "$demo/report.txt"
echo
echo "demo: the boot report is $demo/report.html (text: report.txt, JSON: report.json);"
echo "demo: trace: trace.htf; $(wc -l < "$demo/events.txt") raw events in events.txt"
exit $status

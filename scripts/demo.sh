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
rm -rf "$demo" && mkdir -p "$demo"
echo "demo: booting $kernel, recorded by hypertrace-collector"
status=0
"$B/bin/hypertrace-collector" run -o "$demo/trace.htf" --vmlinux "$B/kernel/vmlinux" \
	--dir "$demo" -- \
	qemu-system-x86_64 -m 256 -smp "${HT_SMP:-2}" -display none -monitor none -no-reboot \
	-serial "file:$demo/console.log" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 ${HT_APPEND:-}" || status=$?
"$B/bin/hypertrace" dump -q "$demo/trace.htf" > "$demo/events.txt"
"$B/bin/hypertrace" report "$demo/trace.htf" > "$demo/report.txt"
"$B/bin/hypertrace" html -o "$demo/report.html" "$demo/trace.htf"
cat "$demo/report.txt"
echo
echo "demo: the boot report is $demo/report.html (text: report.txt); trace: trace.htf;"
echo "demo: $(wc -l < "$demo/events.txt") raw events in events.txt"
exit $status

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# make demo: boot build/kernel/bzImage with the test initramfs under QEMU,
# with guest RAM in a file the host can read, then decode the trace the
# guest left there.  Writes build/demo/{ram,doorbell.bin,console.log,
# events.txt,events.jsonl}.  TCG unless HT_ACCEL=kvm (see the README on
# KVM).  HT_APPEND adds kernel parameters; HT_SMP sets the CPU count.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/build
demo=$B/demo
kernel=$B/kernel/bzImage
initrd=$B/initramfs.cpio.gz
mem=256

for f in "$kernel" "$initrd" "$B/bin/hypertrace"; do
	[ -f "$f" ] || { echo "demo: $f missing: run make kernel initramfs all" >&2; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "demo: qemu-system-x86_64 missing: run scripts/install-deps.sh" >&2; exit 1; }

umask 077
rm -rf "$demo" && mkdir -p "$demo"
echo "demo: booting $kernel under QEMU (${HT_ACCEL:-tcg}), guest RAM in $demo/ram"
start=$(date +%s)
timeout 300 qemu-system-x86_64 -accel "${HT_ACCEL:-tcg}" -m $mem -smp "${HT_SMP:-2}" \
	-display none -monitor none -no-reboot \
	-serial "file:$demo/console.log" \
	-object "memory-backend-file,id=ram,size=${mem}M,mem-path=$demo/ram,share=on" \
	-machine memory-backend=ram \
	-chardev "file,id=htdb,path=$demo/doorbell.bin" \
	-device isa-debugcon,iobase=0x4854,chardev=htdb \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 ${HT_APPEND:-}" || {
	echo "demo: QEMU failed or timed out; console in $demo/console.log" >&2
	exit 1
}
echo "demo: guest finished in $(( $(date +%s) - start )) s"
"$B/bin/hypertrace" dump "$demo/ram" > "$demo/events.txt"
"$B/bin/hypertrace" dump --json --quiet "$demo/ram" > "$demo/events.jsonl"
echo "demo: $(wc -l < "$demo/events.txt") events in $demo/events.txt (JSON: events.jsonl)"

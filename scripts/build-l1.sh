#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# make l1: the L1 test machine, a KVM host that boots under TCG, so that
# the CI kernel runs as L2 under a real KVM (Documentation/nested.rst).
#
#   scripts/build-l1.sh
#
# Needs make kernel, make initramfs and make all first (the Makefile's l1
# target sees to it).  Writes, incrementally:
#
#   build/l1/bzImage            L1's kernel: the extracted linux-source-6.1
#                               of make kernel, tinyconfig + ci.config +
#                               l1.config (KVM, KVM_AMD, tracefs, 9p), no
#                               Hypertrace; built out of tree in build/l1/obj
#   build/l1/initramfs.cpio.gz  busybox (Debian's busybox-static), /init
#                               (scripts/l1-init.sh), Debian's
#                               qemu-system-x86_64 with every library ldd
#                               lists and the firmware it loads, our
#                               collector and tools with theirs, and the CI
#                               kernel and its initramfs as L2
#
# Everything comes from Debian's packages and this tree; nothing is
# downloaded.  scripts/l1-run.sh boots it.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/kconfig.sh"
out=$top/build/l1
obj=$out/obj
ksrc=$top/build/kernel/src/linux-source-6.1
jobs=$(nproc 2>/dev/null || echo 2)

say() { echo "l1: $*"; }
die() { echo "l1: error: $*" >&2; exit 1; }

[ -f "$ksrc/Makefile" ] || die "no extracted kernel tree in $ksrc: run make kernel first"
for f in "$top/build/kernel/bzImage" "$top/build/initramfs.cpio.gz" \
	 "$top/build/bin/hypertrace" "$top/build/bin/hypertrace-collector"; do
	[ -f "$f" ] || die "$f is missing: run make all kernel initramfs first"
done
command -v busybox >/dev/null 2>&1 || [ -x /bin/busybox ] ||
	die "busybox not found: run scripts/install-deps.sh (package busybox-static)"
qemu=$(command -v qemu-system-x86_64) ||
	die "qemu-system-x86_64 not found: run scripts/install-deps.sh (package qemu-system-x86)"

# ---- the kernel: configured in a scratch directory, installed if changed;
# l1.config wins where the two disagree (debug info), so only its lines
# are checked
gen=$out/config-gen
rm -rf "$gen" && mkdir -p "$gen"
make -s -C "$ksrc" O="$gen" tinyconfig >/dev/null
kconfig_merge "$ksrc" "$gen" "$obj" l1 "$top/patches/configs/l1.config" \
	"$top/patches/configs/ci.config" "$top/patches/configs/l1.config"
grep -qx CONFIG_KVM_AMD=y "$obj/.config" || die "CONFIG_KVM_AMD is not set in L1's config"
say "building L1's bzImage with $jobs jobs (log: $out/build.log)"
start=$(date +%s)
if ! make -C "$ksrc" O="$obj" -j"$jobs" bzImage > "$out/build.log" 2>&1; then
	grep -E 'error|Error' "$out/build.log" | head -n 20 >&2
	die "L1's kernel did not build; see $out/build.log"
fi
cp "$obj/arch/x86/boot/bzImage" "$out/bzImage"
say "kernel done in $(( $(date +%s) - start )) s"

# ---- the initramfs
root=$out/root
rm -rf "$root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/out" \
	 "$root/usr/bin" "$root/usr/share/qemu" "$root/ht/bin" "$root/ht/l2"
cp "$(command -v busybox 2>/dev/null || echo /bin/busybox)" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$top/scripts/l1-init.sh" "$root/init"
chmod 0755 "$root/init"

# copy_elf FILE DEST - FILE at DEST, and every library ldd names at its own path
copy_elf() {
	cp "$1" "$2"
	ldd "$1" | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }' | while read -r lib; do
		[ -f "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
copy_elf "$qemu" "$root/usr/bin/qemu-system-x86_64"
copy_elf "$top/build/bin/hypertrace" "$root/ht/bin/hypertrace"
copy_elf "$top/build/bin/hypertrace-collector" "$root/ht/bin/hypertrace-collector"
# the firmware an x86 QEMU loads with -nic none: SeaBIOS, the option ROMs,
# where Debian's QEMU looks for them (its firmware path: /usr/share/qemu,
# then /usr/share/seabios)
for f in bios-256k.bin vgabios-stdvga.bin kvmvapic.bin linuxboot_dma.bin linuxboot.bin multiboot.bin \
	 multiboot_dma.bin; do
	found=
	for d in /usr/share/qemu /usr/share/seabios; do
		[ -e "$d/$f" ] || continue
		mkdir -p "$root$d"
		cp -L "$d/$f" "$root$d/$f"
		found=1
		break
	done
	[ -n "$found" ] || die "$f is in neither /usr/share/qemu nor /usr/share/seabios (packages qemu-system-x86, seabios)"
done
cp "$top/build/kernel/bzImage" "$top/build/kernel/System.map" "$top/build/initramfs.cpio.gz" \
   "$root/ht/l2/"
cp "$top/host-collector/tests/kvm-real-check.sh" "$root/ht/bin/"

# newc, owned by root, every mtime 0: the same inputs give the same archive
( cd "$root" && find . -mindepth 1 -exec touch -h -d @0 {} + &&
  find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet ) |
	gzip -n -1 > "$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
rm -rf "$root"
say "initramfs: $(du -k "$out/initramfs.cpio.gz" | cut -f1) KiB"

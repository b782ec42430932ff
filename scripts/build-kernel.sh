#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# make kernel: patch and build a kernel with Hypertrace.
#
#   scripts/build-kernel.sh [KSRC]
#
# Without KSRC, Debian's linux-source-6.1 is extracted into
# build/kernel/src and configured from tinyconfig + patches/configs/ci.config.
# With KSRC (your own tree), the series is applied there unless it already
# is, and the tree's own .config is used when it has one.  Either way
# patches/configs/hypertrace.config is merged in, the kernel is built out
# of tree in build/kernel/obj (obj-N for your tree), and build/kernel/ gets bzImage, vmlinux,
# System.map and config.  A second run rebuilds only what changed.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/kconfig.sh"
out=$top/build/kernel
obj=$out/obj
tarball=/usr/src/linux-source-6.1.tar.xz
jobs=$(nproc 2>/dev/null || echo 2)
tty=0
[ -t 1 ] && tty=1

say() { echo "kernel: $*"; }
die() { echo "kernel: error: $*" >&2; exit 1; }

mkdir -p "$out"
ksrc=${1:-}
config_from=ci
if [ -z "$ksrc" ]; then
	ksrc=$out/src/linux-source-6.1
	# the extracted tree is ours: extract it again when the series changed
	sum=$(cat "$top"/patches/0*.patch | cksum | cut -d' ' -f1)
	if [ -f "$ksrc/Makefile" ] && [ "$(cat "$out/src/series.cksum" 2>/dev/null)" != "$sum" ]; then
		say "the series changed: extracting the tree again"
		rm -rf "$out/src"
	fi
	if [ ! -f "$ksrc/Makefile" ]; then
		[ -f "$tarball" ] || die "$tarball is missing: run scripts/install-deps.sh (package linux-source-6.1)"
		say "extracting $(basename "$tarball")"
		rm -rf "$out/src" && mkdir -p "$out/src"
		tar -C "$out/src" -xJf "$tarball"
	fi
else
	ksrc=$(cd "$ksrc" && pwd) || die "KSRC=$1: no such directory"
	[ -f "$ksrc/init/main.c" ] || die "KSRC=$ksrc is not a kernel source tree"
	[ -f "$ksrc/.config" ] && config_from=own
	# a tree of your own gets its own object directory
	obj=$out/obj-$(echo "$ksrc" | cksum | cut -d' ' -f1)
fi

# Apply the series, patch by patch, unless the tree already has it.
if [ -f "$ksrc/lib/hypertrace/ht_core.c" ]; then
	say "series already applied in $ksrc"
else
	say "applying the series to $ksrc"
	for p in "$top"/patches/0*.patch; do
		case "$p" in */0000-cover-letter.patch) continue ;; esac
		patch -d "$ksrc" -p1 --forward --silent < "$p" >/dev/null ||
			die "$(basename "$p") does not apply to $ksrc"
	done
	if [ -n "${sum:-}" ]; then
		echo "$sum" > "$out/src/series.cksum"
	fi
fi

# Configure in a scratch directory and install the result only when it
# changed, so that a second run rebuilds only what changed.
mkdir -p "$obj"
gen=$out/config-gen
rm -rf "$gen" && mkdir -p "$gen"
frags="$top/patches/configs/hypertrace.config"
if [ "$config_from" = own ]; then
	cp "$ksrc/.config" "$gen/.config"
else
	make -s -C "$ksrc" O="$gen" tinyconfig >/dev/null
	frags="$top/patches/configs/ci.config $frags"
fi
# shellcheck disable=SC2086
kconfig_merge "$ksrc" "$gen" "$obj" kernel "$frags" $frags
grep -qx CONFIG_HYPERTRACE=y "$obj/.config" || die "CONFIG_HYPERTRACE is not set in the final config"

# Build, with one updating progress line on a terminal.
say "building bzImage with $jobs jobs ($config_from config; log: $out/build.log)"
start=$(date +%s)
set +e
make -C "$ksrc" O="$obj" -j"$jobs" bzImage 2>&1 | tee "$out/build.log" |
	awk -v tty=$tty '/^  (CC|AS|LD|AR)/ { n++; if (tty && n % 10 == 0) printf "\rkernel: %d objects built", n }
		END { if (tty) printf "\r\033[K" }'
set -e
if ! grep -q 'bzImage is ready' "$out/build.log"; then
	grep -E 'error|Error' "$out/build.log" | head -n 20 >&2
	die "build failed; see $out/build.log"
fi
cp "$obj/arch/x86/boot/bzImage" "$obj/vmlinux" "$obj/System.map" "$out/"
cp "$obj/.config" "$out/config"
say "done in $(( $(date +%s) - start )) s: $out/bzImage"

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# mkinitramfs.sh - build the Hypertrace CI initramfs without root.
#
# Usage: mkinitramfs.sh OUT.cpio.gz [KSRC]
#
# Compiles init.c (next to this script) statically and writes a gzip'd newc
# cpio archive holding /init (0755), /dev, /proc, /sys and the character
# device /dev/console (5,1).
#
# With KSRC (argument or environment), the archive is written by the kernel's
# own usr/gen_init_cpio, compiled from $KSRC/usr/gen_init_cpio.c. Without it,
# fakeroot + cpio are used instead. The output is reproducible: every mtime
# is 0 and gzip stores no name or time.
#
# Environment: CC (default gcc), KSRC. Quiet unless something fails.

set -eu

die() {
	echo "mkinitramfs.sh: $*" >&2
	exit 1
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	die "usage: mkinitramfs.sh OUT.cpio.gz [KSRC]"
fi
out=$1
ksrc=${2:-${KSRC:-}}
cc=${CC:-gcc}
here=$(cd "$(dirname "$0")" && pwd)

[ -f "$here/init.c" ] || die "$here/init.c not found"
command -v "$cc" >/dev/null 2>&1 || die "compiler '$cc' not found (set CC)"
command -v gzip >/dev/null 2>&1 || die "gzip not found"
outdir=$(dirname "$out")
[ -d "$outdir" ] || die "output directory '$outdir' does not exist"
if [ -n "$ksrc" ]; then
	[ -f "$ksrc/usr/gen_init_cpio.c" ] ||
		die "'$ksrc' is not a kernel tree (no usr/gen_init_cpio.c)"
else
	for tool in fakeroot cpio; do
		command -v $tool >/dev/null 2>&1 ||
			die "$tool not found: give a kernel tree (KSRC) or install fakeroot and cpio"
	done
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkinitramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
log=$tmp/log

# run CMD...: run quietly, show its output and fail if it fails.
run() {
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		die "failed: $*"
	fi
}

run "$cc" -static -Os -Wall -Wextra -Werror -s -o "$tmp/init" "$here/init.c"
touch -d @0 "$tmp/init"
if [ -n "$ksrc" ]; then
	run "$cc" -O2 -o "$tmp/gen_init_cpio" "$ksrc/usr/gen_init_cpio.c"
	cat >"$tmp/list" <<-EOF
	dir /dev 0755 0 0
	nod /dev/console 0600 0 0 c 5 1
	dir /proc 0755 0 0
	dir /sys 0755 0 0
	file /init $tmp/init 0755 0 0
	EOF
	"$tmp/gen_init_cpio" -t 0 "$tmp/list" >"$tmp/cpio" 2>"$log" ||
		{ cat "$log" >&2; die "gen_init_cpio failed"; }
else
	root=$tmp/root
	mkdir -p "$root/dev" "$root/proc" "$root/sys"
	cp "$tmp/init" "$root/init"
	cat >"$tmp/pack.sh" <<-'EOF'
	set -e
	cd "$1"
	chmod 0755 init dev proc sys
	mknod -m 0600 dev/console c 5 1
	touch -h -d @0 init dev/console dev proc sys .
	find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet
	EOF
	fakeroot sh "$tmp/pack.sh" "$root" >"$tmp/cpio" 2>"$log" ||
		{ cat "$log" >&2; die "fakeroot cpio failed"; }
fi
gzip -n -9 <"$tmp/cpio" >"$tmp/out.gz" || die "gzip failed"
mv "$tmp/out.gz" "$out" || die "cannot write '$out'"

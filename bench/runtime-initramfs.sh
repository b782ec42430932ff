#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# runtime-initramfs.sh - the runtime benchmark's initramfs, without root.
#
# Usage: runtime-initramfs.sh OUT.cpio.gz
#
# Holds the host's sysbench with every library ldd lists and the dynamic
# loader, busybox (static) as /bin/sh and its applets, and
# bench/runtime-init.sh as /init.  Writes OUT.list, the archive's paths,
# beside it.  Needs sysbench, busybox-static, fakeroot, cpio (make deps).
set -eu

die() {
	echo "runtime-initramfs.sh: $*" >&2
	exit 1
}

[ $# = 1 ] || die "usage: runtime-initramfs.sh OUT.cpio.gz"
out=$1
here=$(cd "$(dirname "$0")" && pwd)
sysbench=$(command -v sysbench) || die "sysbench not installed (apt-get install sysbench)"
busybox=/bin/busybox
[ -x "$busybox" ] || die "busybox not installed (apt-get install busybox-static)"
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	ldd "$busybox" 2>&1 | grep -q 'not a dynamic' || die "$busybox is not static (busybox-static)"
for tool in fakeroot cpio gzip ldd; do
	command -v $tool >/dev/null 2>&1 || die "$tool not found"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rt-initramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
root=$tmp/root
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp "$sysbench" "$root/bin/sysbench"
# every library ldd lists (the "=> PATH" ones and the loader's absolute path)
ldd "$sysbench" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' > "$tmp/libs"
[ -s "$tmp/libs" ] || die "ldd listed no libraries for $sysbench"
while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done < "$tmp/libs"
cp "$busybox" "$root/bin/busybox"
for app in $("$busybox" --list); do
	[ -e "$root/bin/$app" ] || ln -s busybox "$root/bin/$app"
done
cp "$here/runtime-init.sh" "$root/init"
cat > "$tmp/pack.sh" <<-'PACK'
set -e
cd "$1"
chmod 0755 init bin/sysbench bin/busybox
mknod -m 0600 dev/console c 5 1
find . -exec touch -h -d @0 {} +
find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet
PACK
fakeroot sh "$tmp/pack.sh" "$root" > "$tmp/cpio" 2> "$tmp/log" ||
	{ cat "$tmp/log" >&2; die "fakeroot cpio failed"; }
(cd "$root" && find . | LC_ALL=C sort | sed 's/^\.//; /^$/d') > "$tmp/list"
gzip -n -9 < "$tmp/cpio" > "$tmp/out.gz" || die "gzip failed"
mv "$tmp/out.gz" "$out" && mv "$tmp/list" "$out.list" || die "cannot write '$out'"

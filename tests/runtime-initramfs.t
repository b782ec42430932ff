#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# bench/runtime-initramfs.sh builds the runtime benchmark's initramfs: its
# contents, its /init script, and (as root) sysbench running from the
# unpacked archive with only the libraries it holds.  No timing.
top=$(cd "$(dirname "$0")/.." && pwd)
n=0
fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
if ! command -v sysbench > /dev/null 2>&1 || [ ! -x /bin/busybox ] ||
	! command -v fakeroot > /dev/null 2>&1 || ! command -v cpio > /dev/null 2>&1; then
	echo "1..0 # SKIP sysbench, busybox-static, fakeroot or cpio not installed (make deps)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$top/bench/runtime-initramfs.sh" "$tmp/rt.cpio.gz" 2> "$tmp/err"
t $? "the builder exits 0"
[ -s "$tmp/rt.cpio.gz" ] && [ -s "$tmp/rt.cpio.gz.list" ] && [ ! -s "$tmp/err" ]
t $? "it writes the archive and its list, and nothing on stderr"

gzip -dc "$tmp/rt.cpio.gz" | cpio -t --quiet 2> /dev/null | sed 's|^\./||; s|^|/|; /^\/\.$/d' | LC_ALL=C sort > "$tmp/got"
LC_ALL=C sort "$tmp/rt.cpio.gz.list" | cmp -s - "$tmp/got"
t $? "the list is the archive's contents"

missing=""
for f in /init /bin/sysbench /bin/busybox /bin/sh /bin/mount /bin/poweroff /dev/console /proc /sys /tmp; do
	grep -qx "$f" "$tmp/got" || missing="$missing $f"
done
[ -z "$missing" ]
t $? "it holds /init, sysbench, busybox as /bin/sh and the mount points${missing:+ (missing:$missing)}"

missing=""
for lib in $(ldd "$(command -v sysbench)" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
	grep -qx "$lib" "$tmp/got" || missing="$missing $lib"
done
[ -z "$missing" ] && grep -q '^/lib64/ld-linux' "$tmp/got"
t $? "every library ldd lists, and the loader${missing:+ (missing:$missing)}"

mkdir "$tmp/root"
(cd "$tmp/root" && gzip -dc "$tmp/rt.cpio.gz" | cpio -id --quiet 2> /dev/null)
/bin/busybox sh -n "$tmp/root/init"
t $? "/init is a valid busybox sh script"
# the case arms, continuation lines joined
sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$tmp/root/init" > "$tmp/joined"
for w in cpu memory fileio; do
	grep -q "^	$w) *set -- $w .*--events=[1-9].*--time=0 run ;;" "$tmp/joined" ||
		{ [ $w = memory ] && grep -q "^	$w) *set -- $w .*--memory-total-size=[1-9].*--time=0 run ;;" "$tmp/joined"; }
	t $? "/init runs sysbench $w with --time=0 (events-bounded)"
done
grep -q 'fileio .*prepare' "$tmp/root/init" && grep -q '^poweroff -f' "$tmp/root/init" &&
	grep -q 'mount -t tmpfs' "$tmp/root/init"
t $? "/init prepares fileio's files on a tmpfs and powers off"
grep -q 'total time:' "$tmp/root/init" && grep -q 'set_graph_function' "$tmp/root/init" &&
	grep -q 'current_tracer' "$tmp/root/init"
t $? "/init prints the total time lines and can set function_graph with a filter"

if [ "$(id -u)" = 0 ] && command -v chroot > /dev/null 2>&1; then
	chroot "$tmp/root" /bin/sysbench --version > "$tmp/ver" 2>&1
	t $? "sysbench runs from the archive alone (chroot)"
	chroot "$tmp/root" /bin/sysbench cpu --cpu-max-prime=100 --events=10 --time=0 run > "$tmp/out" 2>&1
	grep -q 'total time:' "$tmp/out"
	t $? "sysbench cpu in the chroot prints the total time line /init greps for"
else
	echo "ok $((n + 1)) # SKIP not root: no chroot"; n=$((n + 1))
	echo "ok $((n + 1)) # SKIP not root: no chroot"; n=$((n + 1))
fi

rm "$tmp/root/bin/sysbench"
PATH=/nonexistent "$top/bench/runtime-initramfs.sh" "$tmp/x.cpio.gz" > /dev/null 2> "$tmp/err"
[ $? != 0 ] && grep -q 'sysbench not installed' "$tmp/err" && [ ! -e "$tmp/x.cpio.gz" ]
t $? "without sysbench on PATH it fails and says so"
echo "1..$n"
exit $fail

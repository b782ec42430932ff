#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# fake-uprobe.sh - register or remove the uprobe that stands in for
# kvm:kvm_hypercall, for trying the hypercall channel by hand.
# test_chan_kvm does the same in C (and removes it again).
#
#   fake-uprobe.sh add [FAKE_VCPU]   (default build/tests/fake_vcpu)
#   fake-uprobe.sh del
#
# The probe sits on the first instruction of ht_fake_hypercall().  A uprobe
# wants a file offset, the symbol table gives a virtual address:
#
#   V       = address of ht_fake_hypercall        (nm FAKE_VCPU)
#   A, O    = Addr and Off of the section that holds it, .text
#                                                 (readelf -SW FAKE_VCPU)
#   OFFSET  = V - A + O
#
# Then: echo 'p:hypertrace/kvm_hypercall FAKE_VCPU:OFFSET nr=%ax:u64
# a0=%bx:u64 a1=%cx:u64 a2=%dx:u64 a3=%si:u64' >> TRACEFS/uprobe_events
# (append, never truncate: that would remove everyone's probes).  Enable
# hypertrace/kvm_hypercall in an instance whose tracing_on is 1, run
# `fake_vcpu 3 1`, type `emit 10 1`, read the instance's trace.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
tdir=$(awk '$3 == "tracefs" { print $2; exit }' /proc/mounts)
[ -n "$tdir" ] || { echo "fake-uprobe: tracefs not mounted (mount -t tracefs nodev /sys/kernel/tracing)" >&2; exit 1; }

case "${1:-}" in
add)
	bin=$(realpath "${2:-$top/build/tests/fake_vcpu}")
	v=$(nm "$bin" | awk '$3 == "ht_fake_hypercall" { print $1 }')
	[ -n "$v" ] || { echo "fake-uprobe: no ht_fake_hypercall in $bin" >&2; exit 1; }
	# section table rows: [Nr] Name Type Address Off Size ...
	# shellcheck disable=SC2046 # two words wanted
	set -- $(readelf -SW "$bin" | sed 's/^ *\[ *[0-9]*\] *//' |
		awk '$1 == ".text" { print $3, $4, $5; exit }')
	if [ $# -ne 3 ] || [ $((0x$v)) -lt $((0x$1)) ] ||
	   [ $((0x$v)) -ge $((0x$1 + 0x$3)) ]; then
		echo "fake-uprobe: ht_fake_hypercall (0x$v) is not in .text" >&2
		exit 1
	fi
	off=$(( 0x$v - 0x$1 + 0x$2 ))
	probe=$(printf 'p:hypertrace/kvm_hypercall %s:0x%x nr=%%ax:u64 a0=%%bx:u64 a1=%%cx:u64 a2=%%dx:u64 a3=%%si:u64' "$bin" "$off")
	echo "$probe" >> "$tdir/uprobe_events"
	echo "fake-uprobe: $probe"
	;;
del)
	echo "-:hypertrace/kvm_hypercall" >> "$tdir/uprobe_events"
	;;
*)
	echo "usage: $0 add [FAKE_VCPU] | del" >&2
	exit 2
	;;
esac

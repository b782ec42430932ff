#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# /init of the L1 test machine (scripts/build-l1.sh): mount what a KVM host
# and our collector need, mount the host's results directory (9p tag
# "out") on /out, run the plan the host left there (/out/plan.sh) with its
# output in /out/l1.log, and power off.  No plan: a shell on the console.
/bin/busybox --install -s /bin
export PATH=/ht/bin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs -o size=90% tmp /tmp
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /out ||
	echo "l1: no 9p share tagged 'out': results stay in L1"
echo "l1: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPU(s), /dev/kvm: $([ -c /dev/kvm ] && echo yes || echo no)"
if [ -f /out/plan.sh ]; then
	sh /out/plan.sh > /out/l1.log 2>&1
	echo "$?" > /out/plan.status
	sync
else
	echo "l1: no /out/plan.sh; here is a shell"
	sh
fi
poweroff -f

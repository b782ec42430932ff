#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# /init of the runtime benchmark's initramfs (bench/runtime-initramfs.sh):
# mounts proc, sys and a tmpfs, optionally turns on in-guest ftrace
# function_graph (rt_ftrace=FN,FN... on the kernel command line), runs the
# three sysbench tests with fixed, events-bounded parameters, prints their
# "total time" lines tagged with the test's name, and powers off.
export PATH=/bin
mount -t devtmpfs dev /dev || mknod /dev/null c 1 3
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs -o size=96m tmpfs /tmp
filter=$(sed -n 's/.*rt_ftrace=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ -n "$filter" ]; then
	mount -t tracefs tracefs /sys/kernel/tracing
	for f in $(echo "$filter" | tr , ' '); do
		echo "$f" >> /sys/kernel/tracing/set_graph_function
	done
	echo function_graph > /sys/kernel/tracing/current_tracer
	echo "rt: ftrace $(cat /sys/kernel/tracing/current_tracer) on $(tr '\n' ' ' < /sys/kernel/tracing/set_graph_function)"
fi
cd /tmp
sysbench fileio --file-num=4 --file-total-size=32M prepare > /dev/null
for t in cpu memory fileio; do
	case $t in
	cpu)    set -- cpu --cpu-max-prime=2000 --events=8000 --time=0 run ;;
	memory) set -- memory --memory-block-size=4K --memory-total-size=3G --time=0 run ;;
	fileio) set -- fileio --file-num=4 --file-total-size=32M --file-test-mode=rndrw \
		--file-fsync-freq=0 --events=30000 --time=0 run ;;
	esac
	sysbench "$@" > /tmp/out.$t 2>&1
	echo "rt: $t exit $? $(grep 'total time:' /tmp/out.$t)"
done
if [ -n "$filter" ]; then
	echo "rt: ftrace $(grep -h -e '^entries' -e '^overrun' /sys/kernel/tracing/per_cpu/cpu*/stats | tr '\n' ' ')"
fi
echo "rt: done"
poweroff -f

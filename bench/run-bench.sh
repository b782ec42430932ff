#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# make bench: per-event cost of the guest library, with the machine and the
# commands that produced every figure.
set -e
B=${1:-build}
bin=$B/bench/bench_emit
echo "== Hypertrace benchmarks =="
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs, $(uname -r)"
echo
echo "-- time per event, native (hosted platform, no hypervisor) --"
echo "\$ $bin 31 300000"
"$bin" 31 300000
echo
echo "-- instructions per event (callgrind, ht_emit inclusive) --"
if command -v valgrind >/dev/null 2>&1; then
	out=$(mktemp)
	n=100000
	echo "\$ valgrind --tool=callgrind --callgrind-out-file=$out $bin --count $n"
	valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --count $n >/dev/null 2>&1
	ir=$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null |
		awk '/ht_emit[^_]/ || /:ht_emit$/ { gsub(",", "", $1); print $1; exit }')
	rm -f "$out"
	if [ -n "$ir" ]; then
		echo "ht_emit: $ir instructions for $n events = $(echo "scale=1; $ir / $n" | bc) per event"
	else
		echo "callgrind_annotate gave no ht_emit line"
	fi
else
	echo "valgrind not installed: run 'make deps'"
fi

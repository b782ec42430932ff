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

echo
echo "-- the kernel hook, tracing on vs off, inside a TCG guest --"
if [ -f "$B/kernel/bzImage" ] && command -v qemu-system-x86_64 >/dev/null 2>&1; then
	echo "\$ boot $B/kernel/bzImage 5 times with hypertrace_test=bench (4096 hooks each way)"
	HT_BUILD=$B python3 - <<'PY'
import os, re, statistics, sys
sys.path.insert(0, os.path.join('tests', 'boot'))
import htboot
on, off = [], []
for _ in range(5):
    b = htboot.boot('hypertrace_test=bench', timeout=90)
    m = re.findall(r'bench: (\d+) hooks: on (\d+) cycles, off (\d+) cycles', b.console)
    b.cleanup()
    if m:
        n, a, o = map(int, m[-1])
        on.append(a / n)
        off.append(o / n)
if on:
    print('hook with tracing on:  %.1f guest TSC cycles (median of %d boots)' % (statistics.median(on), len(on)))
    print('hook with tracing off: %.1f guest TSC cycles, loop included' % statistics.median(off))
    print('(TCG emulates the guest: compare the two, not with native figures)')
else:
    print('no bench line in the console: is CONFIG_HYPERTRACE_SELFTEST set?')
PY
else
	echo "build/kernel/bzImage or qemu missing: run make kernel"
fi

echo
echo "-- the collector: draining, lossless rate, idle CPU --"
echo "\$ $B/bench/bench_collector drain"
"$B/bench/bench_collector" drain
echo "\$ $B/bench/bench_collector rate"
"$B/bench/bench_collector" rate
if [ -f "$B/kernel/bzImage" ] && command -v qemu-system-x86_64 >/dev/null 2>&1; then
	echo "\$ hypertrace-collector run -- <CI kernel, init sleeps 8 s after boot>; its CPU time over 5 s of the sleep"
	d=$(mktemp -d)
	"$B/bin/hypertrace-collector" run -q --accel tcg -o "$d/t.htf" --dir "$d" -- \
		qemu-system-x86_64 -m 256 -display none -monitor none -no-reboot -serial none \
		-kernel "$B/kernel/bzImage" -initrd "$B/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 ht_init=sleep:8" &
	cpid=$!
	sleep 3
	t0=$(awk '{print $14 + $15}' /proc/$cpid/stat)
	sleep 5
	t1=$(awk '{print $14 + $15}' /proc/$cpid/stat)
	hz=$(getconf CLK_TCK)
	echo "collector CPU while the guest idles: $(echo "scale=2; ($t1 - $t0) * 100 / $hz / 5" | bc)% of one core"
	wait $cpid
	rm -rf "$d"
fi

echo
echo "-- the report on a trace of one million records --"
t=$(mktemp -d)
echo "\$ bench/make_big_trace.py $t/big.htf 1000000   # 500k initcalls on 2 CPUs"
python3 bench/make_big_trace.py "$t/big.htf" 1000000
# HT_BENCH_BASELINE=/path/to/an/older/hypertrace measures it beside this
# build, alternating runs, so that both figures come from the same machine
# state (this machine is noisy: compare ratios, not seconds across runs)
bins="$B/bin/hypertrace ${HT_BENCH_BASELINE:-}"
for c in "report --json" "html -o $t/big.html"; do
	for bin in $bins; do
		: > "$t/times.$(echo "$bin" | md5sum | cut -c1-8)"
	done
	for i in 1 2 3 4 5; do
		for bin in $bins; do
			s=$(date +%s.%N)
			"$bin" $c "$t/big.htf" > /dev/null
			e=$(date +%s.%N)
			echo "$e - $s" | bc >> "$t/times.$(echo "$bin" | md5sum | cut -c1-8)"
		done
	done
	for bin in $bins; do
		f="$t/times.$(echo "$bin" | md5sum | cut -c1-8)"
		echo "$bin $c: best $(sort -n "$f" | head -n 1) s, median $(sort -n "$f" | sed -n 3p) s, worst $(sort -n "$f" | tail -n 1) s (5 runs)"
	done
done
if command -v valgrind > /dev/null; then
	python3 bench/make_big_trace.py "$t/small.htf" 100000
	for bin in $bins; do
		ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" report --json \
			"$t/small.htf" 2>&1 > /dev/null | sed -n 's/.*I *refs: *//p')
		echo "$bin report --json, 100,000 records: $ir instructions (callgrind)"
	done
fi
rm -rf "$t"

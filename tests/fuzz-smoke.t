#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Short libFuzzer runs (ASan + UBSan) of the host parsers of guest data:
# the guest-memory reader, the kernel-log reader, the trace-file reader and the model with every
# writer, from seeds the real guest library and trace writer produced and
# traces of real boots.  `make fuzz FUZZ_SECONDS=3600`
# is the long run.
B=${HT_BUILD:-build}
secs=${HT_FUZZ_SMOKE_SECONDS:-15}
n=0
fail=0
run() {
	fuzz=$1 seeds=$2 name=$3
	n=$((n + 1))
	if [ ! -x "$fuzz" ]; then
		echo "not ok $n - $name fuzzer built ($fuzz missing: run make check)"
		fail=1
		return
	fi
	corpus=$(mktemp -d)
	if "$fuzz" -max_total_time="$secs" -max_len=262144 -print_final_stats=1 \
		"$corpus" "$seeds" >"$corpus.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$corpus.log")
		echo "ok $n - $name: ${secs}s of fuzzing, ${runs:-?} inputs, no crash, leak or UB"
	else
		echo "not ok $n - $name: the fuzzer found a problem:"
		sed 's/^/# /' "$corpus.log" | tail -n 40
		fail=1
	fi
	rm -rf "$corpus" "$corpus.log"
}
run "${HT_FUZZ_BIN:-$B/fuzz/fuzz_reader}" "$B/fuzz/seeds" "guest memory reader"
run "${HT_FUZZ_PRINTK_BIN:-$B/fuzz/fuzz_printk}" "$B/fuzz/printk-seeds" "kernel log reader"
run "${HT_FUZZ_TF_BIN:-$B/fuzz/fuzz_tracefile}" "$B/fuzz/tf-seeds" "trace file reader"
run "${HT_FUZZ_MODEL_BIN:-$B/fuzz/fuzz_model}" "$B/fuzz/tf-seeds" "trace -> model -> every writer"
echo "1..$n"
exit $fail

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Short libFuzzer run of the host reader (ASan + UBSan) from the seeds the
# real guest library wrote.  `make fuzz FUZZ_SECONDS=3600` is the long run.
fuzz=${HT_FUZZ_BIN:-build/fuzz/fuzz_reader}
seeds=${HT_BUILD:-build}/fuzz/seeds
secs=${HT_FUZZ_SMOKE_SECONDS:-20}
echo "1..2"
if [ ! -x "$fuzz" ]; then
	echo "not ok 1 - fuzzer built ($fuzz missing: run make check)"
	echo "not ok 2 - # SKIP no fuzzer"
	exit 1
fi
echo "ok 1 - fuzzer built"
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
if "$fuzz" -max_total_time="$secs" -max_len=262144 -print_final_stats=1 \
	"$corpus" "$seeds" >"$corpus.log" 2>&1; then
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$corpus.log")
	echo "ok 2 - ${secs}s of fuzzing, ${runs:-?} inputs, no crash, leak or UB"
	rm -f "$corpus.log"
else
	echo "not ok 2 - fuzzer found a problem:"
	sed 's/^/# /' "$corpus.log" | tail -n 40
	rm -f "$corpus.log"
	exit 1
fi

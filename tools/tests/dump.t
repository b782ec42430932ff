#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# hypertrace dump on images written by the real guest library, and on bad
# input: clear message, non-zero exit, never a crash.
B=${HT_BUILD:-build}
ht=$B/bin/hypertrace
seeds=$B/fuzz/seeds
n=0
fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the seeds carry one leading byte for the fuzzer
tail -c +2 "$seeds/area.bin" > "$tmp/area.img"
tail -c +2 "$seeds/early.bin" > "$tmp/early.img"

"$ht" dump "$tmp/area.img" > "$tmp/out" 2> "$tmp/err"
t $? "dump of a control-area image exits 0"
# make_seeds' emit_some() writes 18 events; the area image holds three
# rounds of it, two more, and the vcpu_pcpu record of ring 1's hint
[ "$(wc -l < "$tmp/out")" = 57 ]; t $? "57 events printed"
grep -q 'vcpu_pcpu' "$tmp/out"; t $? "the host's hint, reported by the guest, is named"
grep -q '"Kernel panic - not syncing: seed"' "$tmp/out"; t $? "panic string printed, quoted"
grep -q '2 rings of 256 records' "$tmp/err"; t $? "summary names the geometry"

"$ht" dump --json "$tmp/early.img" > "$tmp/out" 2>/dev/null
t $? "dump --json of an early-buffer-only image exits 0"
grep -q '"summary":{"events":18,.*"early_buffer":"active"' "$tmp/out"; t $? "summary object: 18 events, early buffer never moved"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$tmp/out"
t $? "every line is valid JSON"

"$ht" dump --early-only "$tmp/area.img" > /dev/null 2>&1; [ $? = 1 ]
t $? "--early-only on an image without an early buffer: exit 1"
[ "$("$ht" dump -q --early-only "$tmp/early.img" | wc -l)" = 18 ]
t $? "--early-only on an early-buffer image: 18 events"

: > "$tmp/empty"
"$ht" dump "$tmp/empty" 2> "$tmp/err"; [ $? = 1 ] && grep -q 'non-empty' "$tmp/err"
t $? "empty file: exit 1 with a reason"
"$ht" dump "$tmp/missing" 2> "$tmp/err"; [ $? = 1 ] && grep -q 'No such file' "$tmp/err"
t $? "missing file: exit 1 with a reason"
head -c 9000 "$tmp/area.img" > "$tmp/trunc"
"$ht" dump "$tmp/trunc" 2> "$tmp/err"; rc=$?
[ $rc = 1 ] && grep -q 'extends past the end' "$tmp/err"
t $? "truncated image: exit 1, says the area runs past the end"
python3 - "$tmp/area.img" "$tmp/newer.img" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[0x2000 + 8] = 2          # ht_ctl.version
b[0x1000 + 8] = 2          # ht_early.version
open(sys.argv[2], 'wb').write(b)
PY
"$ht" dump "$tmp/newer.img" 2> "$tmp/err"; rc=$?
[ $rc = 1 ] && grep -q 'unsupported Hypertrace ABI version' "$tmp/err"
t $? "newer ABI version: exit 1, says to update the host tools"
"$ht" dump --offset 12 "$tmp/area.img" 2> "$tmp/err"; [ $? = 1 ]
t $? "--offset that is not a control area: exit 1"
"$ht" dump --offset=-1 "$tmp/area.img" 2>/dev/null; [ $? = 2 ]; t $? "bad --offset value: exit 2"
"$ht" dump --bogus "$tmp/area.img" 2>/dev/null; [ $? = 2 ]; t $? "unknown option: exit 2"
"$ht" dump --help | grep -q '^usage: hypertrace dump'; t $? "--help prints usage on stdout"
"$ht" nosuchcmd 2>/dev/null; [ $? = 2 ]; t $? "unknown command: exit 2"
echo "1..$n"
exit $fail

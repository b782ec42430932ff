#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# hypertrace log on a RAM image laid out like Linux 6.1's printk ring
# buffer (make_seeds: a wrapped ring with a committed and a half-written
# record), on a trace carrying its LOG chunk, and on bad input: a clear
# message, the documented exit status, never a crash (the ASan build too).
B=${HT_BUILD:-build}
seeds=$B/fuzz/printk-seeds
n=0
fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
img=$seeds/printk-image.bin

for ht in "$B/bin/hypertrace" "$B/bin/asan-hypertrace"; do
	w=$(basename "$ht")
	"$ht" log "$img" > "$tmp/out" 2> "$tmp/err"
	t $? "$w: log of a RAM image exits 0"
	[ "$(wc -l < "$tmp/out")" = 63 ]; t $? "$w: 63 records printed (the half-written one skipped)"
	head -1 "$tmp/out" | grep -qx '\[    0\.088000\] seed message 88\.*'; t $? "$w: console format, oldest first"
	tail -1 "$tmp/out" | grep -qx '\[    0\.151000\] committed'; t $? "$w: the committed record last"
	grep -q '63 log records.*1 reserved' "$tmp/err"; t $? "$w: summary counts the half-written record"
	"$ht" log --level warn -q "$img" > "$tmp/out" 2> "$tmp/err"
	[ $? = 0 ] && [ ! -s "$tmp/err" ] && [ "$(wc -l < "$tmp/out")" = 41 ]
	t $? "$w: --level warn keeps levels 0-4, --quiet prints no summary"
	"$ht" log --json "$img" > "$tmp/json" 2>/dev/null
	python3 - "$tmp/json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d['records']
assert d['source'] == 'ram' and len(r) == 63 and d['skipped']['reserved'] == 1, d
assert [x['seq'] for x in r] == list(range(88, 151)), [x['seq'] for x in r]
assert r[-1]['committed'] and r[-1]['text'] == 'committed' and r[-1]['level_name'] == 'warn'
PY
	t $? "$w: --json: records in seq order with their fields and skip counts"
done
ht=$B/bin/asan-hypertrace

# a trace with the chunk the collector would write (htf.py)
python3 - "$seeds/printk-chunk.bin" "$tmp/t.htf" "$tmp/torn.htf" <<'PY'
import sys, os
sys.path.insert(0, os.path.join(os.getcwd(), 'tests'))
import htf
payload = open(sys.argv[1], 'rb').read()
with htf.Writer(sys.argv[2]) as w:
    w.header().metadata({'abi_version': 1}).log(payload).end({'exit_status': 0})
# the log chunk torn: the trace ends inside it
data = open(sys.argv[2], 'rb').read()
cut = data.index(payload[:48]) + 200
open(sys.argv[3], 'wb').write(data[:cut])
PY
"$ht" log "$tmp/t.htf" > "$tmp/out2" 2>/dev/null
t $? "log of a trace exits 0"
"$ht" log -q "$img" | cmp -s - "$tmp/out2"; t $? "the trace's log equals the RAM image's"
"$ht" log "$tmp/torn.htf" > "$tmp/out" 2> "$tmp/err"; [ $? = 1 ]
t $? "a trace whose log chunk is torn: exit 1"
grep -q 'no kernel log' "$tmp/err"; t $? "... saying the trace has no kernel log"

# hostile and wrong input
head -c 65536 /dev/zero > "$tmp/zero.img"
"$ht" log "$tmp/zero.img" > /dev/null 2> "$tmp/err"; [ $? = 1 ]
t $? "an image without a log: exit 1"
grep -q 'no kernel log: no struct ht_printk in guest RAM' "$tmp/err"; t $? "... with a clear message"
python3 - "$img" "$tmp" <<'PY'
import struct, sys
img = bytearray(open(sys.argv[1], 'rb').read())
def put(name, off, fmt, v):
    b = bytearray(img); struct.pack_into(fmt, b, 0x100 + off, v)
    open(sys.argv[2] + '/' + name, 'wb').write(b)
put('odd.img', 12, '<I', 3)                  # gen odd
put('out.img', 48, '<Q', 1 << 40)            # text ring outside RAM
put('lie.img', 72, '<H', 8)                  # info_size smaller than its fields
PY
for c in "odd:being rewritten (odd gen)" "out:text ring is outside guest RAM" \
	 "lie:info size or field offset out of range"; do
	f=${c%%:*} msg=${c#*:}
	"$ht" log "$tmp/$f.img" > /dev/null 2> "$tmp/err"; s=$?
	[ $s = 1 ] && grep -q "$msg" "$tmp/err"; t $? "$f.img: exit 1, '$msg'"
done
"$ht" log > /dev/null 2>&1; [ $? = 2 ]; t $? "no argument: exit 2"
"$ht" log --level loud "$img" > /dev/null 2>&1; [ $? = 2 ]; t $? "a bad level: exit 2"
"$ht" log --help | grep -q 'usage: .* log \[options\] TRACE|RAMFILE'; t $? "--help"
"$ht" --help | grep -q '^  log '; t $? "listed in hypertrace --help"
echo "1..$n"
exit $fail

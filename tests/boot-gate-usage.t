#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# ci/boot-gate.sh's usage and argument errors (no boot: the gate itself is
# tests/boot/gate.t).
gate=${HT_GATE:-$(dirname "$0")/../ci/boot-gate.sh}
n=0
fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$gate" --help > "$tmp/out" 2> "$tmp/err"
t $? "--help exits 0"
head -n 1 "$tmp/out" | grep -q '^usage: ci/boot-gate.sh --baseline'
t $? "--help starts with the usage line"
! grep -q 'SPDX\|^#' "$tmp/out"
t $? "--help prints no license line and no comment markers"
grep -q -- '--candidate-append' "$tmp/out" && grep -q '^Exit status' "$tmp/out" && [ ! -s "$tmp/err" ]
t $? "--help lists the options and the exit status, on stdout"

"$gate" --bogus > /dev/null 2> "$tmp/err"; [ $? = 2 ] && grep -q 'unknown option --bogus' "$tmp/err"
t $? "unknown option: exit 2 with a message"
"$gate" --candidate x > /dev/null 2> "$tmp/err"; [ $? = 2 ] && grep -q 'required' "$tmp/err"
t $? "no --baseline: exit 2, says what is required"
"$gate" --baseline "$0" --candidate "$0" --initrd "$0" --clock wall > /dev/null 2> "$tmp/err"
[ $? = 2 ] && grep -q 'real or icount' "$tmp/err"
t $? "--clock other than real or icount: exit 2, says which"
"$gate" --baseline "$gate" --candidate "$gate" --initrd "$gate" --baseline-retries two > /dev/null 2> "$tmp/err"
[ $? = 2 ] && grep -q 'baseline-retries needs a number' "$tmp/err"
t $? "--baseline-retries needs a number"

# a fake hypertrace: the first baseline boot of round 1 fails once (exit 3,
# the way a TCG boot whose timer check panicked does), compare shows its files
cat > "$tmp/ht" <<'EOF2'
#!/bin/sh
cmd=$1; shift
case "$cmd" in
boot)
	while [ $# -gt 1 ]; do [ "$1" = -o ] && d=$2; shift; done
	mkdir -p "$d" && echo '{"end_ns": 1}' > "$d/report.json"
	case "$d" in */baseline-1) [ -e "$d.seen" ] || { : > "$d.seen"; exit 3; } ;; esac
	exit 0 ;;
compare) echo "$*" > "$FAKE_OUT/compare.args"; exit 0 ;;
esac
exit 2
EOF2
chmod +x "$tmp/ht"
: > "$tmp/k"
HT=$tmp/ht FAKE_OUT=$tmp "$gate" --baseline "$tmp/k" --candidate "$tmp/k" --initrd "$tmp/k" \
	--boots 2 -o "$tmp/g" > "$tmp/out" 2> "$tmp/err"
[ $? = 0 ] && [ -f "$tmp/g/baseline-1.failed-1/report.json" ] && [ -f "$tmp/g/baseline-1/report.json" ] &&
	grep -q 'baseline boot 1 failed (exit 3, kept in .*baseline-1.failed-1): booting it again' "$tmp/out" &&
	[ "$(grep -o 'baseline-[^ ]*report.json' "$tmp/compare.args" | tr '\n' ' ')" = \
	  "baseline-1/report.json baseline-2/report.json " ]
t $? "a failed baseline boot is kept as BOOTDIR.failed-1 and booted again; compare gets the good one"
HT=$tmp/ht FAKE_OUT=$tmp "$gate" --baseline "$tmp/k" --candidate "$tmp/k" --initrd "$tmp/k" \
	--boots 2 --baseline-retries 0 -o "$tmp/g0" > "$tmp/out" 2> "$tmp/err"
rm -f "$tmp"/g0/*.seen
[ ! -e "$tmp/g0/baseline-1.failed-1" ] && ! grep -q 'booting it again' "$tmp/out"
t $? "--baseline-retries 0: no second boot"

echo "1..$n"
exit $fail

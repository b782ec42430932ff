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
echo "1..$n"
exit $fail

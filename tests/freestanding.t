#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# lib/ builds as the kernel builds it (freestanding, -mcmodel=kernel, no
# SSE, no red zone) with only the compiler's and the kernel UAPI headers on
# the include path: a libc header anywhere in lib/ fails the build.  Then
# the objects may only reference each other and memcpy/memset.
B=${HT_BUILD:-build}
CC=${CC:-cc}
n=0
fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

flags="-std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -nostdlib -fno-builtin \
 -mno-red-zone -mcmodel=kernel -fno-pic -mno-sse -mno-mmx -mno-sse2 -mno-avx \
 -nostdinc -isystem $($CC -print-file-name=include) -isystem $B/fsinc"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok=0
for f in lib/*.c; do
	case "$f" in *_linux.c) continue ;; esac
	$CC $flags -c "$f" -o "$tmp/$(basename "$f" .c).o" 2>"$tmp/err" || { ok=1; sed 's/^/# /' "$tmp/err"; }
done
t $ok "every lib/*.c compiles freestanding with kernel code-model flags"

printf '#include <stdio.h>\n' > "$tmp/libc.c"
$CC $flags -c "$tmp/libc.c" -o "$tmp/libc.o" 2>/dev/null
t $((! $?)) "the check has teeth: a file including <stdio.h> does not build"

undef=$(nm -u "$tmp"/*.o | awk 'NF == 2 { print $2 }' | sort -u)
defined=$(nm --defined-only "$tmp"/*.o | awk 'NF == 3 { print $3 }' | sort -u)
bad=""
for s in $undef; do
	case "$s" in memcpy|memset) continue ;; esac
	echo "$defined" | grep -qx "$s" || bad="$bad $s"
done
[ -z "$bad" ]
t $? "no external references but memcpy/memset${bad:+ (found:$bad)}"

objdump -d "$tmp/ht_core.o" "$tmp/ht_shmem.o" "$tmp/ht_port.o" "$tmp/ht_hypercall.o" > "$tmp/dis"
grep -q 'vmcall' "$tmp/dis"; t $? "vmcall instruction present"
grep -q 'vmmcall' "$tmp/dis"; t $? "vmmcall instruction present"
grep -q 'rep outsb' "$tmp/dis"; t $? "rep outsb present"
! grep -q '%xmm' "$tmp/dis"; t $? "no SSE register used"
echo "1..$n"
exit $fail

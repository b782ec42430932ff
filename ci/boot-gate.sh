#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Boot-time regression gate for a CI job: boot the baseline and the
# candidate kernel N times each, alternating the order (ABAB... then
# BABA...) to spread drift over both, compare with `hypertrace compare`,
# and leave the artifacts in OUTDIR: report.md (for a merge-request
# comment), junit.xml, compare.json, the HTML report of the slowest
# candidate boot, and every boot's trace and report.  The first boot of
# each kernel that fails (panic, oops, hang) also leaves its vmcore,
# BOOTDIR/trace.vmcore, for crash and vmcore-dmesg: one per kernel, as each
# is about the size of guest RAM.  A baseline boot that fails (under TCG on
# a loaded host the kernel's timer check can panic: "IO-APIC + timer doesn't
# work!") is kept as BOOTDIR.failed-K and booted again, up to
# --baseline-retries times: it has no metrics, and with one boot short on
# the baseline side no metric can reach p < 0.01 over ~550 metrics.
#
# usage: ci/boot-gate.sh --baseline BZIMAGE --candidate BZIMAGE [options]
#   --initrd FILE            initramfs for both (default build/initramfs.cpio.gz)
#   --boots N                boots per kernel (default 10; at least 5 for p < 0.01)
#   --append ARGS            kernel parameters for both
#   --candidate-append ARGS  more kernel parameters for the candidate only
#   --baseline-vmlinux F     vmlinux of each kernel, for names (default: next
#   --candidate-vmlinux F    to its bzImage)
#   --accel auto|kvm|tcg     how QEMU runs (default auto: KVM if it works)
#   -o, --output DIR         artifacts (default boot-gate)
#   --no-vmcore              no vmcore of a failed boot
#   --baseline-retries N     boot a failed baseline boot again, N times at
#                            most (default 2; a failed candidate boot fails)
#   any other option after -- goes to hypertrace compare (e.g. --alpha 0.05)
# Exit status: hypertrace compare's (0 pass, 1 regression or failed boot,
# 2 error).
set -eu

# usage() - the usage block of the comment above, from "usage:" to the end
usage() {
	sed -n '/^# usage:/,/^[^#]/s/^# \{0,1\}//p' "$0"
}

here=$(cd "$(dirname "$0")/.." && pwd)
HT=${HT:-$here/build/bin/hypertrace}
base= cand= initrd=$here/build/initramfs.cpio.gz boots=10 append= cappend=
bvml= cvml= out=boot-gate accel=auto vmcore=1 retries=2
while [ $# -gt 0 ]; do
	case "$1" in
	--baseline) base=$2; shift 2 ;;
	--candidate) cand=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	--boots) boots=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--candidate-append) cappend=$2; shift 2 ;;
	--baseline-vmlinux) bvml=$2; shift 2 ;;
	--candidate-vmlinux) cvml=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	-o|--output) out=$2; shift 2 ;;
	--no-vmcore) vmcore=0; shift ;;
	--baseline-retries) retries=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	*) echo "boot-gate: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ -n "$base" ] && [ -n "$cand" ] || { echo "boot-gate: --baseline and --candidate are required" >&2; exit 2; }
for f in "$base" "$cand" "$initrd" "$HT"; do
	[ -e "$f" ] || { echo "boot-gate: $f is missing" >&2; exit 2; }
done
case "$boots" in *[!0-9]*|'') echo "boot-gate: --boots needs a number" >&2; exit 2 ;; esac
case "$retries" in *[!0-9]*|'') echo "boot-gate: --baseline-retries needs a number" >&2; exit 2 ;; esac
[ -n "$bvml" ] || bvml=$(dirname "$base")/vmlinux
[ -n "$cvml" ] || cvml=$(dirname "$cand")/vmlinux

mkdir -p "$out"
i=1
while [ "$i" -le "$boots" ]; do
	# odd rounds baseline first, even rounds candidate first
	if [ $((i % 2)) = 1 ]; then order="A B"; else order="B A"; fi
	for w in $order; do
		if [ "$w" = A ]; then k=$base v=$bvml a=$append d=$out/baseline-$i
		else k=$cand v=$cvml a="$append $cappend" d=$out/candidate-$i; fi
		echo "boot-gate: round $i/$boots: $([ "$w" = A ] && echo baseline || echo candidate)"
		try=0
		while :; do
			rm -rf "$d"
			# a vmcore of the first failed boot of this kernel only
			vc=
			if [ "$vmcore" = 1 ] && ! ls "${d%-*}"-*/trace.vmcore >/dev/null 2>&1; then
				vc=--vmcore
			fi
			st=0
			# shellcheck disable=SC2086
			"$HT" boot -q $vc --accel "$accel" --kernel "$k" --initrd "$initrd" --vmlinux "$v" --append "$a" -o "$d" || st=$?
			[ "$w" = A ] && [ "$st" != 0 ] && [ "$try" -lt "$retries" ] || break
			try=$((try + 1))
			rm -rf "$d.failed-$try"
			mv "$d" "$d.failed-$try"
			echo "boot-gate: baseline boot $i failed (exit $st, kept in $d.failed-$try): booting it again"
		done
	done
	i=$((i + 1))
done

set +e
# shellcheck disable=SC2046
"$HT" compare --markdown "$out/report.md" --junit "$out/junit.xml" --json "$out/compare.json" "$@" \
	--baseline $(for i in $(seq "$boots"); do [ -f "$out/baseline-$i/report.json" ] && echo "$out/baseline-$i/report.json"; done) \
	--candidate $(for i in $(seq "$boots"); do [ -f "$out/candidate-$i/report.json" ] && echo "$out/candidate-$i/report.json"; done)
status=$?
set -e
slowest=$(for i in $(seq "$boots"); do
	f=$out/candidate-$i/report.json
	[ -f "$f" ] && python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end_ns"], sys.argv[2])' "$f" "$i"
done | sort -n | tail -n 1 | cut -d' ' -f2)
if [ -n "$slowest" ] && [ -f "$out/candidate-$slowest/report.html" ]; then
	cp "$out/candidate-$slowest/report.html" "$out/slowest-candidate.html"
fi
echo "boot-gate: artifacts in $out: report.md, junit.xml, compare.json, slowest-candidate.html"
for f in "$out"/baseline-*/trace.vmcore "$out"/candidate-*/trace.vmcore; do
	[ -f "$f" ] && echo "boot-gate: a failed boot's vmcore: $f (crash VMLINUX $f; vmcore-dmesg $f)"
done
exit $status

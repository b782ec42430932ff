#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Boot-time regression gate for a CI job: boot the baseline and the
# candidate kernel N times each, alternating the order (ABAB... then
# BABA...) to spread drift over both, compare with `hypertrace compare`,
# and leave the artifacts in OUTDIR: report.md (for a merge-request
# comment), junit.xml, compare.json, the HTML report of the slowest
# candidate boot, and every boot's trace and report.
#
# usage: ci/boot-gate.sh --baseline BZIMAGE --candidate BZIMAGE [options]
#   --initrd FILE            initramfs for both (default build/initramfs.cpio.gz)
#   --boots N                boots per kernel (default 10; at least 5 for p < 0.01)
#   --append ARGS            kernel parameters for both
#   --candidate-append ARGS  more kernel parameters for the candidate only
#   --baseline-append ARGS   more kernel parameters for the baseline only
#   --baseline-vmlinux F     vmlinux of each kernel, for names (default: next
#   --candidate-vmlinux F    to its bzImage)
#   --accel auto|kvm|tcg     how QEMU runs (default auto: KVM if it works)
#   --clock real|icount      icount: virtual time (QEMU counts instructions;
#                            TCG, one CPU), which host load does not move;
#                            3 boots a side are enough, each round's command
#                            line padded differently (the same for both
#                            kernels) so that the boots sample where waits
#                            fall against the timer tick
#   -o, --output DIR         artifacts (default boot-gate)
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
base= cand= initrd=$here/build/initramfs.cpio.gz boots=10 append= cappend= bappend=
bvml= cvml= out=boot-gate accel=auto clock=real
while [ $# -gt 0 ]; do
	case "$1" in
	--baseline) base=$2; shift 2 ;;
	--candidate) cand=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	--boots) boots=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--candidate-append) cappend=$2; shift 2 ;;
	--baseline-append) bappend=$2; shift 2 ;;
	--baseline-vmlinux) bvml=$2; shift 2 ;;
	--candidate-vmlinux) cvml=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	--clock) clock=$2; shift 2 ;;
	-o|--output) out=$2; shift 2 ;;
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
case "$clock" in real|icount) ;; *) echo "boot-gate: --clock is real or icount, not '$clock'" >&2; exit 2 ;; esac
[ -n "$bvml" ] || bvml=$(dirname "$base")/vmlinux
[ -n "$cvml" ] || cvml=$(dirname "$cand")/vmlinux

mkdir -p "$out"
i=1
while [ "$i" -le "$boots" ]; do
	# odd rounds baseline first, even rounds candidate first
	if [ $((i % 2)) = 1 ]; then order="A B"; else order="B A"; fi
	for w in $order; do
		if [ "$w" = A ]; then k=$base v=$bvml a="$append $bappend" d=$out/baseline-$i
		else k=$cand v=$cvml a="$append $cappend" d=$out/candidate-$i; fi
		# virtual time: the round's padding moves the boot's instructions
		# against the tick; an unknown parameter, it reaches init's environment
		[ "$clock" = icount ] && a="$a ht_pad=$(printf "%$((i * 7))s" | tr ' ' x)"
		echo "boot-gate: round $i/$boots: $([ "$w" = A ] && echo baseline || echo candidate)"
		rm -rf "$d"
		"$HT" boot -q --accel "$accel" --clock "$clock" --kernel "$k" --initrd "$initrd" --vmlinux "$v" --append "$a" -o "$d" || true
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
exit $status

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
# A fleet shards the rounds: each runner boots --shard K/N of them (rounds
# K, K+N, ...) and uploads its OUTDIR; one job then runs --merge DIR for
# every runner's directory, which compares all their boots as one runner
# would (ci/github-actions.yml and ci/gitlab-ci.yml show both jobs).
#
# usage: ci/boot-gate.sh --baseline BZIMAGE --candidate BZIMAGE [options]
#        ci/boot-gate.sh --merge DIR [--merge DIR...] [-o OUTDIR] [-- COMPARE-OPTIONS]
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
#                            3 boots a side are enough, each round started
#                            at another phase of the timer tick (the same
#                            for both kernels: an early initcall delayed by
#                            1571 * round % 4000 us, and a padded command
#                            line) so that the boots sample where waits fall
#   -o, --output DIR         artifacts (default boot-gate)
#   --shard K/N              boot rounds K, K+N, K+2N... only, and leave the
#                            comparison to --merge
#   --merge DIR              compare the boots of DIR (a shard's OUTDIR;
#                            repeat it for each), booting nothing
#   --no-vmcore              no vmcore of a failed boot
#   --baseline-retries N     boot a failed baseline boot again, N times at
#                            most (default 2; a failed candidate boot fails)
#   --baseline-from DIR      the baseline boots of an earlier run's OUTDIR
#                            (the same kernel, --clock and --boots): boot
#                            the candidate only (ci/boot-bisect.sh does)
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
bvml= cvml= out=boot-gate accel=auto clock=real shard=1/1 merge= vmcore=1 retries=2 bfrom=
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
	--shard) shard=$2; shift 2 ;;
	--merge) merge="$merge $2"; shift 2 ;;
	--no-vmcore) vmcore=0; shift ;;
	--baseline-retries) retries=$2; shift 2 ;;
	--baseline-from) bfrom=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	*) echo "boot-gate: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
sk=${shard%%/*} sn=${shard#*/}
case "$shard" in */*) ;; *) sk=0 ;; esac
case "$sk" in ''|*[!0-9]*) sk=0 ;; esac
case "$sn" in ''|*[!0-9]*) sn=0 ;; esac
if [ "$sk" -lt 1 ] || [ "$sk" -gt "$sn" ]; then
	echo "boot-gate: --shard is K/N with 1 <= K <= N, not '$shard'" >&2; exit 2
fi
if [ -n "$merge" ]; then
	for d in $merge; do [ -d "$d" ] || { echo "boot-gate: --merge $d: no such directory" >&2; exit 2; }; done
	[ -z "$base$cand" ] && [ "$shard" = 1/1 ] ||
		{ echo "boot-gate: --merge boots nothing: no --baseline, --candidate or --shard with it" >&2; exit 2; }
fi
if [ -n "$bfrom" ]; then
	[ -z "$merge" ] && [ "$shard" = 1/1 ] ||
		{ echo "boot-gate: --baseline-from goes with neither --merge nor --shard" >&2; exit 2; }
	ls "$bfrom"/baseline-*/report.json >/dev/null 2>&1 ||
		{ echo "boot-gate: --baseline-from $bfrom: no baseline-N/report.json there (an earlier run's OUTDIR)" >&2; exit 2; }
	# the kernel is only for the names; the boots are there
	[ -n "$base" ] || base=$cand
fi
if [ -z "$merge" ]; then
	[ -n "$base" ] && [ -n "$cand" ] || { echo "boot-gate: --baseline and --candidate are required" >&2; exit 2; }
	for f in "$base" "$cand" "$initrd"; do
		[ -e "$f" ] || { echo "boot-gate: $f is missing" >&2; exit 2; }
	done
fi
[ -e "$HT" ] || { echo "boot-gate: $HT is missing (make all)" >&2; exit 2; }
case "$boots" in *[!0-9]*|'') echo "boot-gate: --boots needs a number" >&2; exit 2 ;; esac
case "$clock" in real|icount) ;; *) echo "boot-gate: --clock is real or icount, not '$clock'" >&2; exit 2 ;; esac
case "$retries" in *[!0-9]*|'') echo "boot-gate: --baseline-retries needs a number" >&2; exit 2 ;; esac
[ -n "$bvml" ] || bvml=$(dirname "$base")/vmlinux
[ -n "$cvml" ] || cvml=$(dirname "$cand")/vmlinux

mkdir -p "$out"
i=$sk
while [ -z "$merge" ] && [ "$i" -le "$boots" ]; do
	# odd rounds baseline first, even rounds candidate first
	if [ $((i % 2)) = 1 ]; then order="A B"; else order="B A"; fi
	for w in $order; do
		[ -n "$bfrom" ] && [ "$w" = A ] && continue
		if [ "$w" = A ]; then k=$base v=$bvml a="$append $bappend" d=$out/baseline-$i
		else k=$cand v=$cvml a="$append $cappend" d=$out/candidate-$i; fi
		# virtual time: each round samples another phase of the timer tick
		# (4 ms at the CI kernel's HZ=250), the same for both kernels: the
		# self-test hook delays an early initcall by a different part of
		# it (a kernel without CONFIG_HYPERTRACE_SELFTEST ignores that),
		# and a padding moves the instructions (an unknown parameter, it
		# reaches init's environment)
		[ "$clock" = icount ] &&
			a="$a hypertrace_test=delay_us:hypertrace_late_init:$(( (i * 1571) % 4000 )) ht_pad=$(printf "%$((i * 7))s" | tr ' ' x)"
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
			"$HT" boot -q $vc --accel "$accel" --clock "$clock" --kernel "$k" --initrd "$initrd" --vmlinux "$v" --append "$a" -o "$d" || st=$?
			[ "$w" = A ] && [ "$st" != 0 ] && [ "$try" -lt "$retries" ] || break
			try=$((try + 1))
			rm -rf "$d.failed-$try"
			mv "$d" "$d.failed-$try"
			echo "boot-gate: baseline boot $i failed (exit $st, kept in $d.failed-$try): booting it again"
		done
	done
	i=$((i + sn))
done
if [ "$shard" != 1/1 ]; then
	echo "boot-gate: shard $shard booted into $out; compare every shard's directory with --merge"
	exit 0
fi

# reports() - the report.json of every SIDE-N boot in DIRS, a failed try kept aside excluded
reports() {
	for d in $2; do
		for f in "$d"/"$1"-*/report.json; do
			case "$f" in *.failed-*) continue ;; esac
			[ -f "$f" ] && echo "$f"
		done
	done
}
dirs=${merge:-$out}
set +e
# shellcheck disable=SC2046
"$HT" compare --markdown "$out/report.md" --junit "$out/junit.xml" --json "$out/compare.json" \
	--html "$out/diff.html" "$@" --baseline $(reports baseline "${bfrom:-$dirs}") --candidate $(reports candidate "$dirs")
status=$?
set -e
slowest=$(for f in $(reports candidate "$dirs"); do
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end_ns"], sys.argv[1])' "$f"
done | sort -n | tail -n 1 | cut -d' ' -f2)
if [ -n "$slowest" ] && [ -f "$(dirname "$slowest")/report.html" ]; then
	cp "$(dirname "$slowest")/report.html" "$out/slowest-candidate.html"
fi
echo "boot-gate: artifacts in $out: report.md, junit.xml, compare.json, diff.html, slowest-candidate.html"
for d in $dirs; do
	for f in "$d"/baseline-*/trace.vmcore "$d"/candidate-*/trace.vmcore; do
		[ -f "$f" ] && echo "boot-gate: a failed boot's vmcore: $f (crash VMLINUX $f; vmcore-dmesg $f)"
	done
done
exit $status

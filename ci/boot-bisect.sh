#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Find the commit that made the boot slower: `git bisect run` over a kernel
# tree (with the Hypertrace series in it), each step an incremental build
# and the boot-time gate on virtual time (ci/boot-gate.sh --clock icount,
# 3 boots by default: the same kernel boots in the same virtual time, the
# rounds sample the timer tick's phase).  The good commit is built and
# booted once, and every step is compared with those boots.  First the bad
# commit is checked against the good one: if it does not regress (the
# metric asked for, or any), there is nothing to bisect.
#
# usage: ci/boot-bisect.sh --ktree DIR --good REV --bad REV [options]
#   --ktree DIR        the kernel's git tree; its checkout is moved by the
#                      bisection and put back at the end (git bisect reset)
#   --good REV         a commit that boots fast enough
#   --bad REV          a later commit that boots slower
#   --metric NAME      the metric that regressed, as compare names it
#                      ("initcall serial8250_init", "level device", "boot");
#                      default: any regression or failed boot is bad
#   --obj DIR          the build directory (O=; default build/kernel/obj-bisect);
#                      reused, so that each step builds only what changed
#                      (give the one the tree was built in: a copy elsewhere
#                      rebuilds everything, objtool records its own path)
#   --config FILE      the .config to build with (default: the one in --obj,
#                      else the tree's)
#   --initrd FILE      initramfs (default build/initramfs.cpio.gz)
#   --boots N          boots per commit (default 3)
#   --append ARGS      kernel parameters for every boot
#   -o, --output DIR   results (default boot-bisect): kernels/SHA/, the
#                      gate's run of each step in step-SHA/, bisect.log and
#                      result.txt (the first bad commit and what regressed)
# Exit status: 0 a first bad commit was found; 1 the bad commit does not
# regress, or the bisection found none; 2 usage or set-up error.
set -eu

# usage() - the usage block of the comment above, from "usage:" to the end
usage() {
	sed -n '/^# usage:/,/^[^#]/s/^# \{0,1\}//p' "$0"
}

say() { echo "boot-bisect: $*" >&2; }
die() { say "error: $*"; exit 2; }

here=$(cd "$(dirname "$0")/.." && pwd)
HT=${HT:-$here/build/bin/hypertrace}
ktree= good= bad= metric= obj=$here/build/kernel/obj-bisect config= initrd=$here/build/initramfs.cpio.gz
boots=3 append= out=boot-bisect step=0
while [ $# -gt 0 ]; do
	case "$1" in
	--ktree) ktree=$2; shift 2 ;;
	--good) good=$2; shift 2 ;;
	--bad) bad=$2; shift 2 ;;
	--metric) metric=$2; shift 2 ;;
	--obj) obj=$2; shift 2 ;;
	--config) config=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	--boots) boots=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	-o|--output) out=$2; shift 2 ;;
	--step) step=1; shift ;;	# internal: one step of git bisect run
	-h|--help) usage; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done

# build() - build the tree's checkout into $obj, keep bzImage and vmlinux in
# $out/kernels/SHA; prints that directory; fails when the build does
build() {
	sha=$(git -C "$ktree" rev-parse --short=12 HEAD)
	k=$out/kernels/$sha
	if [ ! -f "$k/bzImage" ]; then
		say "building $sha ($(git -C "$ktree" log -1 --format=%s HEAD)); log: $k/build.log"
		mkdir -p "$k"
		# LOCALVERSION set (if empty): no "+" for a tree that is a git tree
		# now, which would rebuild what includes the release
		make -C "$ktree" O="$obj" LOCALVERSION= olddefconfig >"$k/build.log" 2>&1 &&
			make -C "$ktree" O="$obj" LOCALVERSION= -j"$(nproc)" bzImage >>"$k/build.log" 2>&1 || {
			say "$sha does not build (the end of $k/build.log):"
			tail -n 15 "$k/build.log" >&2
			rm -f "$k/bzImage"
			return 1
		}
		cp "$obj/arch/x86/boot/bzImage" "$obj/vmlinux" "$k/"
	fi
	echo "$k"
}

# gate() - boot-gate.sh of kernel dir $1 against the good boots into $2
# (booting the good kernel too when $3 is set); the gate's exit status
gate() {
	st=0
	if [ -n "${3:-}" ]; then
		HT=$HT "$here/ci/boot-gate.sh" --clock icount --accel tcg --boots "$boots" \
			--baseline "$3/bzImage" --candidate "$1/bzImage" --initrd "$initrd" \
			--append "$append" --no-vmcore -o "$2" >"$2.log" 2>&1 || st=$?
	else
		HT=$HT "$here/ci/boot-gate.sh" --clock icount --accel tcg --boots "$boots" \
			--baseline-from "$out/good" --candidate "$1/bzImage" --initrd "$initrd" \
			--append "$append" --no-vmcore -o "$2" >"$2.log" 2>&1 || st=$?
	fi
	return $st
}

# verdict() - from the gate's exit status $1 and $2/compare.json: 0 good,
# 1 bad, 125 cannot tell (git bisect run's codes)
verdict() {
	if [ "$1" = 2 ]; then
		say "the gate could not decide; the end of $2.log:"
		tail -n 5 "$2.log" >&2
		return 125
	fi
	[ -z "$metric" ] && return "$1"
	python3 - "$2/compare.json" "$metric" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
if r.get('failed_boots') and any(f['side'] == 'candidate' for f in r['failed_boots']):
    sys.stderr.write('boot-bisect: a candidate boot failed: cannot tell about %s\n' % sys.argv[2])
    sys.exit(125)
sys.exit(1 if any(x['metric'] == sys.argv[2] for x in r.get('regressions', [])) else 0)
EOF
}

# changes() - what regressed in $1/compare.json, one line
changes() {
	python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
print(", ".join("%s %.3f -> %.3f ms" % (x["metric"], x["baseline_ms"], x["candidate_ms"])
                for x in r.get("regressions", [])) or "no regression")' "$1/compare.json"
}

# abs() - $1 made absolute: the steps run in the kernel tree
abs() {
	case "$1" in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac
}

[ -n "$ktree" ] && [ -d "$ktree" ] || die "--ktree DIR is required: the kernel's git tree"
HT=$(abs "$HT")
initrd=$(abs "$initrd")
[ -z "$config" ] || config=$(abs "$config")
ktree=$(cd "$ktree" && pwd)
out=$(mkdir -p "$out" && cd "$out" && pwd)
obj=$(mkdir -p "$obj" && cd "$obj" && pwd)
case "$boots" in *[!0-9]*|'') die "--boots needs a number" ;; esac

if [ "$step" = 1 ]; then
	# one step of git bisect run: 125 skips a commit that does not build
	k=$(build) || exit 125
	d=$out/step-$(basename "$k")
	rm -rf "$d"
	st=0
	gate "$k" "$d" || st=$?
	v=0
	verdict "$st" "$d" || v=$?
	case $v in 0) w=good ;; 1) w=bad ;; *) w=skipped ;; esac
	say "$(basename "$k"): $w: $(changes "$d" 2>/dev/null || echo 'no comparison')"
	exit $v
fi

[ -n "$good" ] && [ -n "$bad" ] || die "--good and --bad are required"
git -C "$ktree" rev-parse --git-dir >/dev/null 2>&1 || die "$ktree is not a git tree"
[ -f "$ktree/lib/hypertrace/ht_core.c" ] || die "$ktree has no Hypertrace series (lib/hypertrace): apply patches/ first"
[ -e "$HT" ] || die "$HT is missing (make all)"
[ -e "$initrd" ] || die "$initrd is missing (make initramfs)"
git -C "$ktree" diff --quiet HEAD -- || die "$ktree has uncommitted changes: commit or stash them"
goodsha=$(git -C "$ktree" rev-parse --verify -q "$good^{commit}") || die "--good $good: no such commit"
badsha=$(git -C "$ktree" rev-parse --verify -q "$bad^{commit}") || die "--bad $bad: no such commit"
git -C "$ktree" merge-base --is-ancestor "$goodsha" "$badsha" || die "--good $good is not an ancestor of --bad $bad"
if [ ! -f "$obj/.config" ]; then
	[ -n "$config" ] || config=$ktree/.config
	[ -f "$config" ] || die "no .config: give --config FILE (or an --obj with one)"
	cp "$config" "$obj/.config"
elif [ -n "$config" ]; then
	cmp -s "$config" "$obj/.config" || cp "$config" "$obj/.config"
fi
orig=$(git -C "$ktree" symbolic-ref -q --short HEAD || git -C "$ktree" rev-parse HEAD)

# the good commit's boots, and the bad commit against them
git -C "$ktree" checkout -q "$goodsha"
gk=$(build) || { git -C "$ktree" checkout -q "$orig"; die "the good commit does not build"; }
git -C "$ktree" checkout -q "$badsha"
bk=$(build) || { git -C "$ktree" checkout -q "$orig"; die "the bad commit does not build"; }
rm -rf "$out/good"
say "booting the good and the bad commit, $boots times each (virtual time)"
st=0
gate "$bk" "$out/good" "$gk" || st=$?
v=0
verdict "$st" "$out/good" || v=$?
if [ "$v" != 1 ]; then
	git -C "$ktree" checkout -q "$orig"
	say "the bad commit $(basename "$bk") does not regress ${metric:-anything} against $(basename "$gk") ($(changes "$out/good")): nothing to bisect"
	echo "no regression: $(changes "$out/good")" >"$out/result.txt"
	exit 1
fi
say "bad against good: $(changes "$out/good")"

git -C "$ktree" checkout -q "$orig"
if ! git -C "$ktree" bisect start "$badsha" "$goodsha" >"$out/bisect-run.log" 2>&1; then
	git -C "$ktree" bisect reset >/dev/null 2>&1 || true
	die "git bisect start failed: $(tail -n 3 "$out/bisect-run.log")"
fi
set +e
(cd "$ktree" && git bisect run "$0" --step --ktree "$ktree" --obj "$obj" --initrd "$initrd" \
	--boots "$boots" --append "$append" --metric "$metric" -o "$out") >>"$out/bisect-run.log" 2>&1
set -e
git -C "$ktree" bisect log >"$out/bisect.log" 2>/dev/null || true
first=$(sed -n 's/^\([0-9a-f]\{40\}\) is the first bad commit$/\1/p' "$out/bisect-run.log" | head -n 1)
git -C "$ktree" bisect reset >/dev/null 2>&1 || true
git -C "$ktree" checkout -q "$orig"
if [ -z "$first" ]; then
	say "the bisection found no first bad commit; the end of $out/bisect-run.log:"
	tail -n 15 "$out/bisect-run.log" >&2
	exit 1
fi
short=$(git -C "$ktree" rev-parse --short=12 "$first")
# the bad commit itself was only compared before the bisection
what=$(changes "$out/step-$short" 2>/dev/null || changes "$out/good")
echo "$first $(git -C "$ktree" log -1 --format=%s "$first")" >"$out/result.txt"
echo "regressed: $what" >>"$out/result.txt"
say "first bad commit: $short $(git -C "$ktree" log -1 --format=%s "$first")"
say "it regressed: $what"
exit 0

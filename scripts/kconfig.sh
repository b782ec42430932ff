# SPDX-License-Identifier: GPL-2.0 OR MIT
# Sourced by build-kernel.sh and build-l1.sh: configure a kernel out of
# tree in a scratch directory and install the result only when it
# changed, so that a second build rebuilds only what changed.
#
# kconfig_merge KSRC GEN OBJ TAG CHECKED FRAG... - merge the FRAGs into
# GEN/.config (the base config, already there), olddefconfig, warn (as
# TAG) about every CONFIG_ line of the fragments in CHECKED that did not
# survive, copy the result to OBJ/.config if it differs, remove GEN
kconfig_merge() {
	_ksrc=$1 _gen=$2 _obj=$3 _tag=$4 _checked=$5
	shift 5
	"$_ksrc/scripts/kconfig/merge_config.sh" -m -O "$_gen" "$_gen/.config" "$@" >/dev/null
	make -s -C "$_ksrc" O="$_gen" olddefconfig >/dev/null
	for _f in $_checked; do
		grep '^CONFIG_' "$_f" | while read -r _line; do
			grep -qx "$_line" "$_gen/.config" ||
				echo "$_tag: warning: $_line did not survive olddefconfig" >&2
		done
	done
	mkdir -p "$_obj"
	cmp -s "$_gen/.config" "$_obj/.config" || cp "$_gen/.config" "$_obj/.config"
	rm -rf "$_gen"
}

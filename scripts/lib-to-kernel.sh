#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Copy the guest library (lib/, the only copy) into a kernel tree, where
# patch 1 of the series carries it: lib/hypertrace_abi.h becomes
# include/uapi/linux/hypertrace.h, lib/hypertrace.h becomes
# include/linux/hypertrace.h, the rest lands in lib/hypertrace/.
# tests/lib-patch-drift.t fails when patches/ and lib/ disagree.
# Usage: scripts/lib-to-kernel.sh KERNEL_TREE
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
k=${1:?usage: lib-to-kernel.sh KERNEL_TREE}
[ -f "$k/init/main.c" ] || { echo "lib-to-kernel: $k is not a kernel tree" >&2; exit 1; }
mkdir -p "$k/lib/hypertrace" "$k/include/uapi/linux"
cp "$top/lib/hypertrace_abi.h" "$k/include/uapi/linux/hypertrace.h"
cp "$top/lib/hypertrace.h" "$k/include/linux/hypertrace.h"
for f in "$top"/lib/*.c "$top"/lib/*.h; do
	# ht_compat.h stands in for kernel headers outside the kernel
	case "$f" in */hypertrace_abi.h|*/hypertrace.h|*/ht_compat.h) continue ;; esac
	cp "$f" "$k/lib/hypertrace/"
done

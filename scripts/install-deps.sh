#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Install the Debian 12 packages Hypertrace needs.  Idempotent: installs
# only what is missing, and says what it does.  Needs root (or sudo).
set -e

# build and test the host tools and the guest library
PKGS="build-essential clang libclang-rt-14-dev linux-libc-dev valgrind bc python3 perl"
# build the patched kernel and the initramfs, boot it
PKGS="$PKGS linux-source-6.1 flex bison libelf-dev libssl-dev cpio gzip xz-utils libc6-dev"
PKGS="$PKGS qemu-system-x86 python3-ply python3-git python3-yaml strace"
# the host collector and tools
PKGS="$PKGS libjansson-dev libelf-dev zlib1g-dev libtracefs-dev libtraceevent-dev pkg-config"
# the HTML report's test renders it in a real browser
PKGS="$PKGS chromium fonts-dejavu-core"
# the CTF export's test reads it with babeltrace2
PKGS="$PKGS babeltrace2"
# the collector's --vmcore is checked with the crash tools that read it
PKGS="$PKGS kexec-tools crash"
# the runtime benchmark's guest runs sysbench under busybox (make bench-runtime)
PKGS="$PKGS sysbench busybox-static"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "install-deps: need root to install:$missing" >&2
		exit 1
	fi
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# a stale or missing package list is the usual reason an install fails
$SUDO apt-get update -qq || echo "install-deps: apt-get update failed; trying the cached lists" >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing

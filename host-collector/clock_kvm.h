/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * hypertrace-collector: the guest TSC from KVM's per-vCPU TSC offset, the
 * method of trace-cmd's trace-timesync-kvm.c.
 *
 * KVM shows every VM in debugfs as kvm/<pid>-<fd>/ (the pid of the process
 * that created it, the VM's file descriptor there), and every vCPU as
 * vcpu<N>/ in it with
 *
 *   tsc-offset                   signed, "%lld"
 *   tsc-scaling-ratio            "%llu", only where the CPU scales the TSC
 *   tsc-scaling-ratio-frac-bits  "%llu", the ratio's fixed-point fraction
 *
 * and a vCPU reads guest_tsc = ((host_tsc * ratio) >> frac_bits) + offset
 * (ratio 1, frac_bits 0 without the scaling files).  Reading the host TSC
 * beside CLOCK_MONOTONIC then gives a point of the guest-TSC to host-time
 * map for each vCPU, without the guest's help.
 *
 * The debugfs root is a parameter, so the tests run this against a
 * recorded layout in a temporary directory.  What debugfs holds is the
 * host kernel's, but it is parsed as strictly as guest data: a malformed
 * file is an error, never a crash.
 */
#ifndef _HT_CLOCK_KVM_H
#define _HT_CLOCK_KVM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tracefile.h"

#define CLOCK_KVM_DEBUGFS	"/sys/kernel/debug"	/* debugfs, normally */
#define CLOCK_KVM_MAX_VCPUS	1024	/* vCPUs sampled, at most */

struct clock_kvm;

/**
 * clock_kvm_guest_tsc() - what a vCPU's TSC reads when the host's reads
 * @host_tsc
 * @host_tsc:  the host TSC
 * @offset:    the vCPU's tsc-offset
 * @ratio:     its tsc-scaling-ratio (1 without scaling)
 * @frac_bits: its tsc-scaling-ratio-frac-bits (0 without scaling), < 64
 *
 * Return: ((@host_tsc * @ratio) >> @frac_bits) + @offset, modulo 2^64 as
 * the hardware computes it (a 128-bit product).
 */
uint64_t clock_kvm_guest_tsc(uint64_t host_tsc, int64_t offset, uint64_t ratio,
			     unsigned int frac_bits);

/**
 * clock_kvm_open() - find the VM of process @pid in KVM's debugfs
 * @out:     the new handle
 * @debugfs: the debugfs mount (CLOCK_KVM_DEBUGFS)
 * @pid:     the process that created the VM (QEMU)
 * @err:     on failure, a one-line reason
 * @errlen:  its size
 *
 * Takes the directory <pid>-<fd> with vCPUs (the highest fd if there are
 * several) and counts its vcpu<N> directories, N = 0, 1, ... without a
 * hole.
 *
 * Return: 0; -ENOENT when there is no such VM (yet) or no vCPU in it,
 * -ENOMEM, or another -errno from opening the directories.
 */
int clock_kvm_open(struct clock_kvm **out, const char *debugfs, pid_t pid,
		   char *err, size_t errlen);

/**
 * clock_kvm_nvcpus() - how many vCPUs the VM has
 * @k: the handle
 *
 * Return: the count, at least 1.
 */
unsigned int clock_kvm_nvcpus(const struct clock_kvm *k);

/**
 * clock_kvm_sample() - one HTF_CLOCK_KVM_OFFSET sample per vCPU, now
 * @k:      the handle
 * @out:    the samples go here, vCPU 0 first
 * @max:    room in @out
 * @err:    on failure, a one-line reason naming the file
 * @errlen: its size
 *
 * Reads each vCPU's files afresh (the offset changes when the guest
 * writes its TSC), then the host TSC between two CLOCK_MONOTONIC reads;
 * host_ns is their midpoint.
 *
 * Return: samples written (min(vCPUs, @max)), or a negative errno: -EINVAL
 * for a file that does not hold a number in range, -ENOENT when the VM is
 * gone, or what reading failed with.
 */
long clock_kvm_sample(struct clock_kvm *k, struct htf_clock_sample *out,
		      unsigned int max, char *err, size_t errlen);

/**
 * clock_kvm_close() - free the handle
 * @k: the handle, or NULL
 */
void clock_kvm_close(struct clock_kvm *k);

#endif /* _HT_CLOCK_KVM_H */

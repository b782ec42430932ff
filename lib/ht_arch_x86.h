/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The x86 instructions the Hypertrace guest library needs.  Kept apart so
 * that a hosted test platform can replace the privileged ones (out, vmcall)
 * with recorders while the lock-free ring code stays the same.
 */
#ifndef _HT_ARCH_X86_H
#define _HT_ARCH_X86_H

#include <linux/types.h>

/* ht_arch_rdtsc() - read the time-stamp counter */
static inline __u64 ht_arch_rdtsc(void)
{
	__u32 lo, hi;

	asm volatile("rdtsc" : "=a" (lo), "=d" (hi));
	return ((__u64)hi << 32) | lo;
}

/* ht_arch_cpuid() - execute cpuid for @leaf, subleaf 0 */
static inline void ht_arch_cpuid(__u32 leaf, __u32 regs[4])
{
	asm volatile("cpuid"
		     : "=a" (regs[0]), "=b" (regs[1]), "=c" (regs[2]),
		       "=d" (regs[3])
		     : "0" (leaf), "2" (0));
}

/* ht_arch_outsb() - write @len bytes at @buf to I/O @port with rep outsb */
static inline void ht_arch_outsb(__u16 port, const void *buf,
				 unsigned long len)
{
	asm volatile("rep outsb"
		     : "+S" (buf), "+c" (len)
		     : "d" (port)
		     : "memory");
}

/*
 * ht_arch_hypercall() - vmcall (Intel) or vmmcall (AMD) with rax = @nr and
 * rbx, rcx, rdx, rsi = @a0..@a3; the hypervisor's return value is ignored
 * (KVM answers -KVM_ENOSYS after tracing the call).
 */
static inline void ht_arch_hypercall(int amd, unsigned long nr, __u64 a0,
				     __u64 a1, __u64 a2, __u64 a3)
{
	if (amd)
		asm volatile(".byte 0x0f, 0x01, 0xd9" /* vmmcall */
			     : "+a" (nr)
			     : "b" (a0), "c" (a1), "d" (a2), "S" (a3)
			     : "memory");
	else
		asm volatile(".byte 0x0f, 0x01, 0xc1" /* vmcall */
			     : "+a" (nr)
			     : "b" (a0), "c" (a1), "d" (a2), "S" (a3)
			     : "memory");
}

#endif /* _HT_ARCH_X86_H */

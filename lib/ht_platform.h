/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Platform hooks of the Hypertrace guest library.
 *
 * The library core and transports are freestanding.  Everything that
 * depends on where they run (which CPU am I on, how do I keep an interrupt
 * from nesting into a ring write, how do I read the clock, how does a
 * virtual address become a physical one) comes from a platform header.
 *
 * A build names its platform with -DHT_PLATFORM_HEADER='"file.h"': the
 * kernel patch uses its own, the hosted tests use tests/ht_test_platform.h.
 * Without one, the bare-metal default below applies: one CPU, interrupts
 * masked with pushf/cli, identity-mapped memory, the real x86 instructions.
 *
 * A platform header defines:
 *   ht_plat_cpu()              current CPU number (< HT_MAX_CPUS)
 *   ht_plat_irq_save()         mask local interrupts, return the old state
 *   ht_plat_irq_restore(f)     restore what ht_plat_irq_save() returned
 *   ht_plat_clock()            the record timestamp (guest TSC)
 *   ht_plat_virt_to_phys(p)    guest-physical address of a pointer
 *   ht_plat_doorbell_lock()    serialize multi-frame port writes across CPUs;
 *                              returns whether it got the lock
 *   ht_plat_doorbell_unlock(l) release it if l says it was taken
 *   ht_arch_outsb(port, p, n)  rep outsb
 *   ht_arch_hypercall(amd, nr, a0, a1, a2, a3)  vmcall / vmmcall
 *   ht_arch_cpuid(leaf, regs)  cpuid into regs[4] = eax, ebx, ecx, edx
 * and may override the memory-ordering helpers in ht_compat.h.
 */
#ifndef _HT_PLATFORM_H
#define _HT_PLATFORM_H

#ifdef HT_PLATFORM_HEADER
#include HT_PLATFORM_HEADER
#else

#include "ht_arch_x86.h"

#ifndef HT_MAX_CPUS
#define HT_MAX_CPUS	1
#endif

/* ht_plat_cpu() - bare metal runs on one CPU */
static inline unsigned int ht_plat_cpu(void)
{
	return 0;
}

/* ht_plat_irq_save() - save RFLAGS and mask interrupts */
static inline unsigned long ht_plat_irq_save(void)
{
	unsigned long flags;

	asm volatile("pushf ; pop %0 ; cli" : "=rm" (flags) : : "memory");
	return flags;
}

/* ht_plat_irq_restore() - restore RFLAGS saved by ht_plat_irq_save() */
static inline void ht_plat_irq_restore(unsigned long flags)
{
	asm volatile("push %0 ; popf" : : "g" (flags) : "memory", "cc");
}

/* ht_plat_clock() - the guest TSC */
static inline __u64 ht_plat_clock(void)
{
	return ht_arch_rdtsc();
}

/* ht_plat_virt_to_phys() - bare metal is identity mapped */
static inline __u64 ht_plat_virt_to_phys(const void *p)
{
	return (__u64)(unsigned long)p;
}

/* ht_plat_doorbell_lock() - one CPU: nothing to serialize against */
static inline int ht_plat_doorbell_lock(void)
{
	return 1;
}

/* ht_plat_doorbell_unlock() - counterpart of ht_plat_doorbell_lock() */
static inline void ht_plat_doorbell_unlock(int locked)
{
	(void)locked;
}

#endif /* HT_PLATFORM_HEADER */

#endif /* _HT_PLATFORM_H */

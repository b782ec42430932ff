/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Linux kernel platform of the Hypertrace guest library (x86_64): the
 * hooks ht_platform.h asks for, mapped onto the kernel's own primitives.
 * Selected by lib/hypertrace/Makefile with -DHT_PLATFORM_HEADER.
 */
#ifndef _HT_PLATFORM_LINUX_H
#define _HT_PLATFORM_LINUX_H

#include <linux/compiler.h>
#include <linux/irqflags.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/io.h>
#include <asm/barrier.h>
#include <asm/msr.h>

#include "ht_arch_x86.h"

#define HT_MAX_CPUS		NR_CPUS

/*
 * The library's ordering primitives, onto the kernel's.  Each use in the
 * library says what it orders and what it pairs with (ht_shmem.c).
 */
#define ht_load_acquire(p)	smp_load_acquire(p)	/* pairs with a release */
#define ht_store_release(p, v)	smp_store_release(p, v)	/* pairs with an acquire */
#define ht_write_once(p, v)	WRITE_ONCE(*(p), v)
#define ht_read_once(p)		READ_ONCE(*(p))
#define ht_barrier()		barrier()		/* against a nested NMI */

extern arch_spinlock_t ht_doorbell_lock;

/* ht_plat_cpu() - this CPU; callers have interrupts masked */
static __always_inline unsigned int ht_plat_cpu(void)
{
	return raw_smp_processor_id();
}

/* ht_plat_irq_save() - mask interrupts without lockdep or tracing */
static __always_inline unsigned long ht_plat_irq_save(void)
{
	unsigned long flags;

	raw_local_irq_save(flags);
	return flags;
}

/* ht_plat_irq_restore() - undo ht_plat_irq_save() */
static __always_inline void ht_plat_irq_restore(unsigned long flags)
{
	raw_local_irq_restore(flags);
}

/* ht_plat_clock() - the guest TSC, as the record's timestamp */
static __always_inline __u64 ht_plat_clock(void)
{
	return rdtsc();
}

/* ht_plat_virt_to_phys() - direct-map or kernel-image address to physical */
static __always_inline __u64 ht_plat_virt_to_phys(const void *p)
{
	return virt_to_phys((void *)p);
}

/*
 * ht_plat_doorbell_lock() - keep one event's port frames together.  A CPU
 * that panics while another holds the lock must still get its message out,
 * so after a bounded spin it goes ahead unlocked (a torn frame at worst).
 */
static __always_inline int ht_plat_doorbell_lock(void)
{
	unsigned int spins = 1U << 20;

	while (!arch_spin_trylock(&ht_doorbell_lock)) {
		if (!--spins)
			return 0;
		cpu_relax();
	}
	return 1;
}

/* ht_plat_doorbell_unlock() - release the lock if ht_plat_doorbell_lock() got it */
static __always_inline void ht_plat_doorbell_unlock(int locked)
{
	if (locked)
		arch_spin_unlock(&ht_doorbell_lock);
}

#endif /* _HT_PLATFORM_LINUX_H */

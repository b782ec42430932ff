/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Hosted platform for the Hypertrace library tests: the real ring code
 * runs in user-space threads, each thread playing one guest CPU.  The
 * privileged instructions (out, vmcall) are replaced by recorders the tests
 * inspect, and cpuid can be replaced by a table to fake a hypervisor.
 */
#ifndef _HT_TEST_PLATFORM_H
#define _HT_TEST_PLATFORM_H

#include <linux/types.h>

#define HT_MAX_CPUS	64

/* A recorded hypercall. */
struct ht_test_hc {
	unsigned long nr;
	__u64 a[4];
	int amd;
};

#define HT_TEST_PORT_MAX	(1 << 20)
#define HT_TEST_HC_MAX		(1 << 16)

extern __thread unsigned int ht_test_cpu;
extern unsigned long ht_test_phys_delta;
extern unsigned char ht_test_port_buf[HT_TEST_PORT_MAX];
extern unsigned long ht_test_port_len;
extern unsigned int ht_test_port_calls;
extern struct ht_test_hc ht_test_hc[HT_TEST_HC_MAX];
extern unsigned int ht_test_hc_count;
extern const __u32 (*ht_test_cpuid_table)[5];
extern int ht_test_lock;

/* ht_plat_cpu() - the CPU this test thread plays */
static inline unsigned int ht_plat_cpu(void)
{
	return ht_test_cpu;
}

/* ht_plat_irq_save() - user space has no interrupts to mask */
static inline unsigned long ht_plat_irq_save(void)
{
	return 0;
}

/* ht_plat_irq_restore() - counterpart of ht_plat_irq_save() */
static inline void ht_plat_irq_restore(unsigned long flags)
{
	(void)flags;
}

/* ht_arch_rdtsc() - the real TSC; rdtsc is not privileged */
static inline __u64 ht_arch_rdtsc(void)
{
	return __builtin_ia32_rdtsc();
}

/* ht_plat_clock() - the record timestamp */
static inline __u64 ht_plat_clock(void)
{
	return ht_arch_rdtsc();
}

/* ht_plat_virt_to_phys() - "physical" = virtual minus a test-chosen delta */
static inline __u64 ht_plat_virt_to_phys(const void *p)
{
	return (__u64)(unsigned long)p - ht_test_phys_delta;
}

/* ht_plat_doorbell_lock() - spin lock, as the kernel platform would */
static inline int ht_plat_doorbell_lock(void)
{
	while (__atomic_exchange_n(&ht_test_lock, 1, __ATOMIC_ACQUIRE))
		;
	return 1;
}

/* ht_plat_doorbell_unlock() - release ht_plat_doorbell_lock() */
static inline void ht_plat_doorbell_unlock(int locked)
{
	if (locked)
		__atomic_store_n(&ht_test_lock, 0, __ATOMIC_RELEASE);
}

void ht_test_reset(void);
void ht_arch_outsb(__u16 port, const void *buf, unsigned long len);
void ht_arch_hypercall(int amd, unsigned long nr, __u64 a0, __u64 a1,
		       __u64 a2, __u64 a3);
void ht_arch_cpuid(__u32 leaf, __u32 regs[4]);

#endif /* _HT_TEST_PLATFORM_H */

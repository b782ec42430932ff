/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What fake_vcpu emits, shared with the test that checks it.
 */
#ifndef _HT_FAKE_VCPU_H
#define _HT_FAKE_VCPU_H

#include <stdint.h>

#include "hypertrace_abi.h"

/* info's cpu field for non-vCPU thread I is OTHER_CPU_BASE + I */
#define FAKE_VCPU_OTHER_CPU_BASE	0x100
#define FAKE_VCPU_TSC_SALT		0x5453430000000000ULL	/* "TSC" */
#define FAKE_VCPU_A1_MAGIC		0x4131000000000000ULL	/* "A1" */

/*
 * Numbers that are not Hypertrace's: KVM's own (KVM_HC_VAPIC_POLL_IRQ,
 * KVM_HC_KICK_CPU), neighbours of ours, and ours with high bits set (a
 * filter that compares 32 bits would take it).
 */
#define FAKE_VCPU_FOREIGN_NRS { 1, 5, 0x48540000, 0x48540003, \
				0xffffffff48540001ULL }

/* fake_vcpu_nr() - number of a thread's k-th Hypertrace hypercall */
static inline uint64_t fake_vcpu_nr(uint64_t k)
{
	return (k & 7) == 7 ? HT_HC_BATCH : HT_HC_RECORD;
}

#endif /* _HT_FAKE_VCPU_H */

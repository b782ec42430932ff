// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Recorders behind the hosted test platform (ht_test_platform.h).
 */
#include <string.h>

#include "ht_internal.h"
#include "ht_test_platform.h"

__thread unsigned int ht_test_cpu;
unsigned long ht_test_phys_delta;
unsigned char ht_test_port_buf[HT_TEST_PORT_MAX];
unsigned long ht_test_port_len;
unsigned int ht_test_port_calls;
struct ht_test_hc ht_test_hc[HT_TEST_HC_MAX];
unsigned int ht_test_hc_count;
const __u32 (*ht_test_cpuid_table)[5];
int ht_test_lock;

/* ht_arch_outsb() - append the bytes to ht_test_port_buf instead of a port */
void ht_arch_outsb(__u16 port, const void *buf, unsigned long len)
{
	if (port != 0x4854 || len > HT_TEST_PORT_MAX - ht_test_port_len)
		return;
	memcpy(ht_test_port_buf + ht_test_port_len, buf, len);
	ht_test_port_len += len;
	ht_test_port_calls++;
}

/* ht_arch_hypercall() - append the call to ht_test_hc instead of exiting */
void ht_arch_hypercall(int amd, unsigned long nr, __u64 a0, __u64 a1,
		       __u64 a2, __u64 a3)
{
	struct ht_test_hc *h;
	unsigned int i = __atomic_fetch_add(&ht_test_hc_count, 1,
					    __ATOMIC_RELAXED);

	if (i >= HT_TEST_HC_MAX)
		return;
	h = &ht_test_hc[i];
	h->nr = nr;
	h->a[0] = a0;
	h->a[1] = a1;
	h->a[2] = a2;
	h->a[3] = a3;
	h->amd = amd;
}

/* ht_arch_cpuid() - look @leaf up in ht_test_cpuid_table, else real cpuid */
void ht_arch_cpuid(__u32 leaf, __u32 regs[4])
{
	const __u32 (*t)[5] = ht_test_cpuid_table;

	if (t) {
		for (; (*t)[0] != 0xffffffff; t++) {
			if ((*t)[0] == leaf) {
				memcpy(regs, &(*t)[1], 4 * sizeof(__u32));
				return;
			}
		}
		memset(regs, 0, 4 * sizeof(__u32));
		return;
	}
	__asm__ volatile("cpuid"
			 : "=a"(regs[0]), "=b"(regs[1]), "=c"(regs[2]),
			   "=d"(regs[3])
			 : "0"(leaf), "2"(0));
}

/* ht_test_reset() - the library and the recorders back to boot-time state */
void ht_test_reset(void)
{
	memset(&ht, 0, sizeof(ht));
	ht.bulk = &ht_shmem_transport;
	ht.fast = 1;
	ht.batch = HT_DEFAULT_BATCH;
	ht.mode = HT_MODE_AUTO;
	memset(&ht_early_buf, 0, sizeof(ht_early_buf));
	ht_early_buf.magic = HT_EARLY_MAGIC;
	ht_early_buf.version = HT_ABI_VERSION;
	ht_early_buf.hdr_size = __builtin_offsetof(struct ht_early, rec);
	ht_early_buf.capacity = HT_EARLY_RECORDS;
	ht_early_buf.state = HT_EARLY_ACTIVE;
	ht_test_port_len = 0;
	ht_test_port_calls = 0;
	ht_test_hc_count = 0;
	ht_test_cpuid_table = NULL;
	ht_test_cpu = 0;
}

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Hypertrace guest library: the interface the kernel (and the decompressor,
 * and bare-metal tests) call.  Record layout and event types are in
 * hypertrace_abi.h; Documentation/abi.rst describes them.
 */
#ifndef _HYPERTRACE_H
#define _HYPERTRACE_H

#include "hypertrace_abi.h"
#include "ht_platform.h"
#include "ht_compat.h"

/* Transport modes, as chosen by the hypertrace= boot parameter. */
enum ht_mode {
	HT_MODE_OFF = 0,
	HT_MODE_SHMEM,
	HT_MODE_HYPERCALL,
	HT_MODE_PORT,
	HT_MODE_BATCH,
	HT_MODE_AUTO,
};

/* Hypervisor found by ht_detect_hypervisor(). */
enum ht_hv {
	HT_HV_NONE = 0,		/* bare metal, or no signature */
	HT_HV_KVM,		/* "KVMKVMKVM": vmcall is traced */
	HT_HV_OTHER,		/* TCG, Xen, Hyper-V...: port only */
};

#define HT_DEFAULT_BATCH	32

int ht_parse_mode(const char *s, enum ht_mode *mode);
const char *ht_mode_name(enum ht_mode mode);
enum ht_hv ht_detect_hypervisor(void);
int ht_detect_amd(void);
int ht_setup(enum ht_mode mode, enum ht_hv hv, int amd);
void ht_set_batch(unsigned int records);
const char *ht_bulk_name(void);
const char *ht_doorbell_name(void);

__u64 ht_area_size(unsigned int nr_cpus, unsigned int ring_records);
int ht_rings_init(void *area, __u64 area_phys, __u64 size,
		  unsigned int nr_cpus, unsigned int ring_records);
void ht_rings_stop(void);
void ht_set_tsc_khz(__u64 khz);
void ht_set_kaslr(__u64 virt_offset, __u64 phys_offset);

void ht_emit(unsigned int type, __u64 a0, __u64 a1);
void ht_emit_str(unsigned int type, __u64 a0, __u64 a1, const char *s);
void ht_emit_urgent(unsigned int type, __u64 a0, __u64 a1, const char *s);
void ht_flush(void);

void ht_early_record(struct ht_early *e, unsigned int type, __u64 a0,
		     __u64 a1);
extern struct ht_early ht_early_buf;

#endif /* _HYPERTRACE_H */

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Hypertrace guest library: the interface the kernel (and bare-metal
 * tests) call.  Record layout and event types are in hypertrace_abi.h;
 * Documentation/abi.rst describes them.
 *
 * Inside the kernel this header also carries the hooks that instrumented
 * kernel code calls (see the end of the file).
 */
#ifndef _HYPERTRACE_H
#define _HYPERTRACE_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <uapi/linux/hypertrace.h>	/* lib/hypertrace_abi.h, installed */
#else
#include "hypertrace_abi.h"
#endif

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
void ht_set_printk(__u64 phys);

void ht_emit(unsigned int type, __u64 a0, __u64 a1);
void ht_emit_str(unsigned int type, __u64 a0, __u64 a1, const char *s);
void ht_emit_urgent(unsigned int type, __u64 a0, __u64 a1, const char *s);
void ht_emit_backtrace(unsigned int type, const unsigned long *frames,
		       unsigned int n);
void ht_emit_backtrace_urgent(unsigned int type, const unsigned long *frames,
			      unsigned int n);
void ht_flush(void);

void ht_early_record(struct ht_early *e, unsigned int type, __u64 a0,
		     __u64 a1);
void ht_early_record_tsc(struct ht_early *e, __u64 tsc, unsigned int type,
			 __u64 a0, __u64 a1);
extern struct ht_early ht_early_buf;

#ifdef __KERNEL__
/*
 * Kernel hooks.  Instrumented code calls the inline wrappers below; each
 * costs one patched-out branch when tracing is off (hypertrace=off) and
 * nothing at all without CONFIG_HYPERTRACE.
 */
#include <linux/jump_label.h>

#ifdef CONFIG_HYPERTRACE
DECLARE_STATIC_KEY_TRUE(hypertrace_key);

/* hypertrace_on() - tracing is on; a patched-out branch when it is off */
static __always_inline bool hypertrace_on(void)
{
	return static_branch_likely(&hypertrace_key);
}

void hypertrace_init_rings(void);
#else
/* hypertrace_on() - never, without CONFIG_HYPERTRACE */
static __always_inline bool hypertrace_on(void)
{
	return false;
}

/* hypertrace_init_rings() - nothing to set up without CONFIG_HYPERTRACE */
static inline void hypertrace_init_rings(void)
{
}
#endif /* CONFIG_HYPERTRACE */

/*
 * The hypergraph (CONFIG_HYPERTRACE_GRAPH): function entries and exits
 * below chosen roots.  While it runs, each ring holds this many records
 * unless hypertrace_ring= says otherwise (8 MiB a CPU).
 */
#define HT_GRAPH_RING_RECORDS	(1U << 18)
struct kobject;
#ifdef CONFIG_HYPERTRACE_GRAPH
void hypertrace_graph_init(void);
bool hypertrace_graph_wanted(void);
int hypertrace_graph_sysfs(struct kobject *kobj);
#else
/* hypertrace_graph_init() - nothing to start without the hypergraph */
static inline void hypertrace_graph_init(void)
{
}

/* hypertrace_graph_wanted() - never, without the hypergraph */
static inline bool hypertrace_graph_wanted(void)
{
	return false;
}

/* hypertrace_graph_sysfs() - no switch to add without the hypergraph */
static inline int hypertrace_graph_sysfs(struct kobject *kobj)
{
	return 0;
}
#endif /* CONFIG_HYPERTRACE_GRAPH */

void __hypertrace_level(bool begin, unsigned int level);
void __hypertrace_initcall_begin(void *fn);
void __hypertrace_initcall_end(void *fn, int ret);
void __hypertrace_panic(const char *msg, unsigned long caller);
struct pt_regs;
void __hypertrace_backtrace(unsigned int type, struct pt_regs *regs);
void __hypertrace_selftest(void *fn);
void __hypertrace_selftest_phase(unsigned int phase);

/* hypertrace() - record one event if tracing is on */
static __always_inline void hypertrace(unsigned int type, u64 a0, u64 a1)
{
	if (hypertrace_on())
		ht_emit(type, a0, a1);
}

/* hypertrace_str() - record one event with a string if tracing is on */
static __always_inline void hypertrace_str(unsigned int type, u64 a0, u64 a1,
					   const char *s)
{
	if (hypertrace_on())
		ht_emit_str(type, a0, a1, s);
}

/* hypertrace_urgent() - record an event the host must learn at once */
static __always_inline void hypertrace_urgent(unsigned int type, u64 a0,
					      u64 a1, const char *s)
{
	if (hypertrace_on())
		ht_emit_urgent(type, a0, a1, s);
}

/*
 * hypertrace_backtrace() - record the call trace of the problem event of
 * @type (oops, BUG, warning) just recorded: from @regs if not NULL
 */
static __always_inline void hypertrace_backtrace(unsigned int type,
						 struct pt_regs *regs)
{
	if (hypertrace_on())
		__hypertrace_backtrace(type, regs);
}

/* hypertrace_phase() - record the beginning or end of a boot phase */
static __always_inline void hypertrace_phase(bool begin, enum ht_phase phase)
{
	hypertrace(begin ? HT_EV_PHASE_BEGIN : HT_EV_PHASE_END, phase, 0);
	/* the spin:PHASE self-test (CONFIG_HYPERTRACE_SELFTEST) */
	if (IS_ENABLED(CONFIG_HYPERTRACE_SELFTEST) && begin)
		__hypertrace_selftest_phase(phase);
}

/* hypertrace_level() - record the beginning or end of a boot level */
static __always_inline void hypertrace_level(bool begin, unsigned int level)
{
	if (hypertrace_on())
		__hypertrace_level(begin, level);
}

/* hypertrace_initcall_begin() - an initcall (or module init) starts */
static __always_inline void hypertrace_initcall_begin(void *fn)
{
	if (hypertrace_on())
		__hypertrace_initcall_begin(fn);
}

/* hypertrace_initcall_end() - an initcall returned @ret */
static __always_inline void hypertrace_initcall_end(void *fn, int ret)
{
	if (hypertrace_on())
		__hypertrace_initcall_end(fn, ret);
}

/**
 * hypertrace_set_printk() - tell the host where the kernel log is described
 * @phys: guest-physical address of a struct ht_printk, 0 for none
 *
 * Call again after the struct changed (the log moved to its dynamic
 * buffer).  Nothing when tracing is off.
 */
static __always_inline void hypertrace_set_printk(u64 phys)
{
	if (hypertrace_on())
		ht_set_printk(phys);
}

/*
 * hypertrace_panic() - the kernel panics with message @msg, called from
 * @caller (panic()'s return address)
 */
static __always_inline void hypertrace_panic(const char *msg,
					     unsigned long caller)
{
	if (hypertrace_on())
		__hypertrace_panic(msg, caller);
}

#endif /* __KERNEL__ */

#endif /* _HYPERTRACE_H */

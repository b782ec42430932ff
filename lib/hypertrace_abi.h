/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Hypertrace guest <-> host ABI.
 *
 * This is the one definition of everything that crosses the guest/host
 * boundary: the 32-byte record, the event types and their argument words,
 * the shared-memory control area and its per-CPU rings, the early buffer,
 * the hypercall numbers and the I/O port.  It is included by the guest
 * library (lib/, linked into the kernel and the decompressor) and by every
 * host program.  Documentation/abi.rst is the prose reference; keep both in
 * step and bump HT_ABI_VERSION on any incompatible change.
 *
 * All multi-byte fields are little-endian (x86_64 guests only).  Shared
 * memory holds offsets, never pointers.  The host treats every field as
 * hostile input and bounds-checks it before use.
 */
#ifndef _HYPERTRACE_ABI_H
#define _HYPERTRACE_ABI_H

#include <linux/types.h>

#define HT_ABI_VERSION		1

/* "HYTRACTL", "HYTEARLY" and "HYTPRINK" read as little-endian u64 */
#define HT_CTL_MAGIC		0x4c54434152545948ULL
#define HT_EARLY_MAGIC		0x594c524145545948ULL
#define HT_PRINTK_MAGIC		0x4b4e495250545948ULL

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

/**
 * struct ht_record - one trace record, identical on every transport
 * @tsc:  guest TSC when the event happened (continuation: payload bytes 0-7)
 * @info: packed type, continuation count/index, guest CPU and sequence
 * @a0:   first argument word (continuation: payload bytes 8-15)
 * @a1:   second argument word (continuation: payload bytes 16-23)
 *
 * @info packs, from bit 0 up: type (12 bits), ncont (4 bits), cpu (16 bits)
 * and seq (32 bits).  In a head record, ncont is the number of continuation
 * records that follow it; in a continuation record (type HT_EV_CONT) it is
 * the continuation's index, 1..ncont.  seq counts every record a CPU
 * emitted on its channel (ring, port or hypercall), stored or lost, so a
 * gap in seq is exactly the number of records lost between two that
 * arrived.  Records of the early buffer are numbered by that buffer
 * (stored + lost), and the boot CPU goes on from there.
 */
struct ht_record {
	__u64 tsc;
	__u64 info;
	__u64 a0;
	__u64 a1;
};

#define HT_RECORD_SIZE		32
#define HT_TYPE_BITS		12
#define HT_NCONT_BITS		4
#define HT_CPU_BITS		16
#define HT_SEQ_BITS		32
#define HT_TYPE_SHIFT		0
#define HT_NCONT_SHIFT		12
#define HT_CPU_SHIFT		16
#define HT_SEQ_SHIFT		32
#define HT_TYPE_MASK		0xfffULL
#define HT_NCONT_MASK		0xfULL
#define HT_CPU_MASK		0xffffULL
#define HT_SEQ_MASK		0xffffffffULL

/* Strings ride in up to HT_MAX_CONT continuation records of 24 bytes each. */
#define HT_MAX_CONT		15
#define HT_CONT_PAYLOAD		24
#define HT_STR_MAX		(HT_MAX_CONT * HT_CONT_PAYLOAD)	/* 360 bytes */

/* ht_info() - pack the @info word of a record */
static inline __u64 ht_info(unsigned int type, unsigned int ncont,
			    unsigned int cpu, __u32 seq)
{
	return ((__u64)(type & HT_TYPE_MASK) << HT_TYPE_SHIFT) |
	       ((__u64)(ncont & HT_NCONT_MASK) << HT_NCONT_SHIFT) |
	       ((__u64)(cpu & HT_CPU_MASK) << HT_CPU_SHIFT) |
	       ((__u64)seq << HT_SEQ_SHIFT);
}

/* ht_info_type() - event type of a packed @info word */
static inline unsigned int ht_info_type(__u64 info)
{
	return (info >> HT_TYPE_SHIFT) & HT_TYPE_MASK;
}

/* ht_info_ncont() - continuation count (head) or index (continuation) */
static inline unsigned int ht_info_ncont(__u64 info)
{
	return (info >> HT_NCONT_SHIFT) & HT_NCONT_MASK;
}

/* ht_info_cpu() - guest CPU of a packed @info word */
static inline unsigned int ht_info_cpu(__u64 info)
{
	return (info >> HT_CPU_SHIFT) & HT_CPU_MASK;
}

/* ht_info_seq() - per-CPU sequence number of a packed @info word */
static inline __u32 ht_info_seq(__u64 info)
{
	return (__u32)(info >> HT_SEQ_SHIFT);
}

/* ------------------------------------------------------------------ */
/* Event types (12 bits).  Documentation/abi.rst gives the argument      */
/* words of each and which transports carry it.                          */
/* ------------------------------------------------------------------ */

enum ht_event_type {
	HT_EV_INVALID		= 0x000, /* never emitted: zeroed memory */
	HT_EV_CONT		= 0x001, /* string continuation */
	/* 0x002 reserved */
	HT_EV_ANNOUNCE		= 0x003, /* a0 ctl phys, a1 area size */
	HT_EV_TSC_KHZ		= 0x004, /* a0 TSC kHz */
	HT_EV_KASLR		= 0x005, /* a0 virt offset, a1 phys offset */
	HT_EV_EARLY_MOVED	= 0x006, /* a0 records moved, a1 lost early */
	HT_EV_PRINTK		= 0x007, /* a0 phys of struct ht_printk */

	/* boot milestones */
	HT_EV_SETUP_ENTRY	= 0x100, /* real-mode setup: first code */
	HT_EV_DECOMP_BEGIN	= 0x101, /* a0 input size, a1 output size */
	HT_EV_DECOMP_END	= 0x102, /* kernel extracted */
	HT_EV_KERNEL_ENTRY	= 0x103, /* startup_64; a0 phys addr of _text */
	HT_EV_START_KERNEL	= 0x104,
	HT_EV_PHASE_BEGIN	= 0x105, /* a0 enum ht_phase */
	HT_EV_PHASE_END		= 0x106, /* a0 enum ht_phase */
	HT_EV_RUN_INIT		= 0x107, /* a0 ret; string: init path */
	HT_EV_USER_MARKER	= 0x108, /* a0 writer's pid; string: label */
	HT_EV_BOOT_DONE		= 0x109, /* end of kernel boot */

	/* boot levels, initcalls, async work */
	HT_EV_LEVEL_BEGIN	= 0x200, /* a0 enum ht_level */
	HT_EV_LEVEL_END		= 0x201, /* a0 enum ht_level */
	HT_EV_INITCALL_BEGIN	= 0x202, /* a0 fn addr, a1 enum ht_level */
	HT_EV_INITCALL_END	= 0x203, /* a0 fn addr, a1 ret (s64) */
	HT_EV_ASYNC_BEGIN	= 0x204, /* a0 fn addr, a1 cookie */
	HT_EV_ASYNC_END		= 0x205, /* a0 fn addr, a1 cookie */
	HT_EV_ASYNC_WAIT_BEGIN	= 0x206, /* a0 cookie waited for, a1 pid */
	HT_EV_ASYNC_WAIT_END	= 0x207, /* a0 cookie waited for, a1 pid */
	HT_EV_IDLE_BEGIN	= 0x208, /* this CPU idles (not while running) */
	HT_EV_IDLE_END		= 0x209, /* this CPU stops idling */

	/* failures */
	HT_EV_PANIC		= 0x300, /* a0 running initcall, a1 pid; string */
	HT_EV_OOPS		= 0x301, /* a0 error code, a1 ip; string */
	HT_EV_BUG		= 0x302, /* a0 ip, a1 line; string: file */
	HT_EV_WARN		= 0x303, /* a0 ip, a1 line; string: file */
	HT_EV_BACKTRACE		= 0x304, /* a0 frames, a1 type it follows */
	HT_EV_FRAMES		= 0x305, /* a0, a1: the next two frames */

	/* shutdown */
	HT_EV_SHUTDOWN_BEGIN	= 0x400, /* a0 enum ht_shutdown_kind */
	HT_EV_SHUTDOWN_PHASE_BEGIN = 0x401, /* a0 enum ht_phase */
	HT_EV_SHUTDOWN_PHASE_END = 0x402, /* a0 enum ht_phase */
	HT_EV_NOTIFIER_BEGIN	= 0x403, /* a0 callback addr, a1 action */
	HT_EV_NOTIFIER_END	= 0x404, /* a0 callback addr, a1 ret */
	HT_EV_DEVICE_BEGIN	= 0x405, /* a0 device cookie; string: name */
	HT_EV_DEVICE_END	= 0x406, /* a0 device cookie */
	HT_EV_MACHINE_CALL	= 0x407, /* a0 enum ht_shutdown_kind */

	/* hypergraph function tracing (CONFIG_HYPERTRACE_GRAPH) */
	HT_EV_FUNC_ENTRY	= 0x500, /* a0 ht_func_word(), a1 return address */
	HT_EV_FUNC_EXIT		= 0x501, /* a0 ht_func_word(), a1 ht_func_exit() */
	HT_EV_FUNC_AGG		= 0x502, /* a0 ht_func_agg(), a1 total ns */
	HT_EV_GRAPH_START	= 0x503, /* a0 HT_GRAPH_F_*, a1 ht_graph_limits() */
	HT_EV_GRAPH_STOP	= 0x504, /* the graph was switched off */
	HT_EV_TASK_SWITCH	= 0x505, /* a0 prev pid, a1 next pid; string: next comm */

	/* what the host told this CPU through its ring header (hints) */
	HT_EV_VCPU_PCPU		= 0x600, /* a0 ht_vcpu_pcpu(), a1 host run delay ns */

	/* 0xf00-0xfff: written by the host into its trace, never by a guest */
	HT_EV_HOST_FIRST	= 0xf00,
	HT_EV_HOST_LAST		= 0xfff,
};

/*
 * Hypergraph argument words.  FUNC_ENTRY's and FUNC_EXIT's a0: the low
 * half of the function's address in bits 0-31 (x86_64 kernel text lies in
 * the top 2 GiB, so the high half is all ones) and the pid of the task
 * that called it in bits 32-63.  FUNC_EXIT's a1: the call's duration in ns
 * (saturated at HT_FUNC_NS_MAX) in bits 0-47, its depth below the traced
 * root (0: the root itself) in bits 48-63.  FUNC_AGG's a0: how many calls
 * shorter than the minimum duration ended at that depth since the last
 * record of this CPU, in bits 0-31, the depth in bits 48-63.
 */
#define HT_FUNC_NS_BITS		48
#define HT_FUNC_NS_MAX		0xffffffffffffULL	/* HT_FUNC_NS_BITS ones */
#define HT_FUNC_DEPTH_SHIFT	48

/* ht_func_word() - pack FUNC_ENTRY's and FUNC_EXIT's a0 */
static inline __u64 ht_func_word(__u64 fn, __u32 pid)
{
	return (fn & 0xffffffffULL) | ((__u64)pid << 32);
}

/* ht_func_addr() - the function address of a packed a0 */
static inline __u64 ht_func_addr(__u64 a0)
{
	return 0xffffffff00000000ULL | (a0 & 0xffffffffULL);
}

/* ht_func_pid() - the pid of a packed a0 */
static inline __u32 ht_func_pid(__u64 a0)
{
	return (__u32)(a0 >> 32);
}

/* ht_func_exit() - pack FUNC_EXIT's a1 */
static inline __u64 ht_func_exit(__u64 ns, unsigned int depth)
{
	if (ns > HT_FUNC_NS_MAX)
		ns = HT_FUNC_NS_MAX;
	return ns | ((__u64)(depth & 0xffff) << HT_FUNC_DEPTH_SHIFT);
}

/* ht_func_agg() - pack FUNC_AGG's a0 */
static inline __u64 ht_func_agg(__u32 count, unsigned int depth)
{
	return count | ((__u64)(depth & 0xffff) << HT_FUNC_DEPTH_SHIFT);
}

/* ht_func_ns() - duration of a packed FUNC_EXIT a1 */
static inline __u64 ht_func_ns(__u64 a1)
{
	return a1 & HT_FUNC_NS_MAX;
}

/* ht_func_depth() - depth of a packed FUNC_EXIT a1 or FUNC_AGG a0 */
static inline unsigned int ht_func_depth(__u64 w)
{
	return (unsigned int)(w >> HT_FUNC_DEPTH_SHIFT);
}

/* GRAPH_START's a0: how the guest traces */
#define HT_GRAPH_F_EXITS_ONLY	0x1	/* no FUNC_ENTRY: exits carry durations */
#define HT_GRAPH_F_IRQS		0x2	/* interrupt handlers are traced */
#define HT_GRAPH_F_ALL		0x4	/* every function, not below roots */

/* ht_graph_limits() - pack GRAPH_START's a1: max depth, min duration */
static inline __u64 ht_graph_limits(unsigned int max_depth, __u32 min_ns)
{
	return (max_depth & 0xffff) | ((__u64)min_ns << 32);
}

/*
 * VCPU_PCPU's a0: the host_pcpu word the guest had seen before in bits
 * 32-63 and the one it sees now in bits 0-31.  Each is a host CPU number
 * plus one, 0 when the host has not said (see struct ht_ring_hdr).
 */

/* ht_vcpu_pcpu() - pack VCPU_PCPU's a0 */
static inline __u64 ht_vcpu_pcpu(__u32 before, __u32 now)
{
	return ((__u64)before << 32) | now;
}

/*
 * Phases: start_kernel() and kernel_init() in HT_EV_PHASE_*, shutdown in
 * HT_EV_SHUTDOWN_PHASE_*.
 */
enum ht_phase {
	HT_PHASE_SETUP_ARCH	= 1,
	HT_PHASE_MM_INIT	= 2,
	HT_PHASE_SCHED_INIT	= 3,
	HT_PHASE_IRQ_INIT	= 4,
	HT_PHASE_TIME_INIT	= 5,
	HT_PHASE_CONSOLE_INIT	= 6,
	HT_PHASE_REST_INIT	= 7,
	HT_PHASE_SMP_INIT	= 8,
	HT_PHASE_DO_BASIC_SETUP	= 9,
	HT_PHASE_ASYNC_SYNC	= 10,
	HT_PHASE_FREE_INITMEM	= 11,
	HT_PHASE_MARK_RODATA_RO	= 12,
	HT_PHASE_RUN_INIT	= 13,
	HT_PHASE_REBOOT_NOTIFIERS = 32,
	HT_PHASE_DEVICE_SHUTDOWN = 33,
	HT_PHASE_SYSCORE_SHUTDOWN = 34,
};

/* Boot levels (HT_EV_LEVEL_*, HT_EV_INITCALL_BEGIN a1): 0-7 as the kernel. */
enum ht_level {
	HT_LEVEL_PURE		= 0,
	HT_LEVEL_CORE		= 1,
	HT_LEVEL_POSTCORE	= 2,
	HT_LEVEL_ARCH		= 3,
	HT_LEVEL_SUBSYS		= 4,
	HT_LEVEL_FS		= 5,
	HT_LEVEL_DEVICE		= 6,
	HT_LEVEL_LATE		= 7,
	HT_LEVEL_SYNC		= 0x08,	/* or-ed into 0-7: the _sync level */
	HT_LEVEL_EARLY		= 0x10,
	HT_LEVEL_CONSOLE	= 0x11,
	HT_LEVEL_SECURITY	= 0x12,
	HT_LEVEL_MODULE		= 0x13,	/* loadable module init */
};

/* What kind of shutdown (HT_EV_SHUTDOWN_BEGIN, HT_EV_MACHINE_CALL). */
enum ht_shutdown_kind {
	HT_SHUTDOWN_RESTART	= 1,
	HT_SHUTDOWN_HALT	= 2,
	HT_SHUTDOWN_POWER_OFF	= 3,
};

/* ------------------------------------------------------------------ */
/* Shared-memory control area                                          */
/* ------------------------------------------------------------------ */

/**
 * struct ht_ctl - control area at the start of the shared-memory region
 * @magic:        HT_CTL_MAGIC, written last by the guest
 * @version:      HT_ABI_VERSION
 * @hdr_size:     sizeof(struct ht_ctl)
 * @nr_rings:     number of per-CPU rings (guest CPUs)
 * @rec_size:     HT_RECORD_SIZE
 * @ring_records: records per ring, a power of two
 * @flags:        HT_CTL_F_*
 * @area_size:    bytes from the start of this struct to the end of the last ring
 * @rings_offset: offset of ring 0's header from the start of this struct
 * @ring_stride:  bytes from one ring header to the next
 * @self_phys:    guest-physical address of this struct
 * @kaslr_virt:   KASLR virtual offset (0 when not randomized)
 * @kaslr_phys:   physical load offset of the kernel
 * @tsc_khz:      guest TSC frequency in kHz, 0 until calibrated
 * @early_phys:   guest-physical address of the early buffer, 0 if none
 * @orphan_lost:  records dropped outside the rings: a CPU without a ring
 *                (or beyond the guest's limit), or a write nested into
 *                another on the same CPU (NMI)
 * @printk_phys:  guest-physical address of the struct ht_printk that says
 *                where the kernel's log is, 0 if none
 * @reserved:     zero
 *
 * Ring i starts at @rings_offset + i * @ring_stride: a struct ht_ring_hdr
 * followed by @ring_records records.  Geometry fields are written once,
 * before @magic; @tsc_khz and the KASLR fields may be filled in later.
 */
struct ht_ctl {
	__u64 magic;
	__u16 version;
	__u16 hdr_size;
	__u16 nr_rings;
	__u16 rec_size;
	__u32 ring_records;
	__u32 flags;
	__u64 area_size;
	__u64 rings_offset;
	__u64 ring_stride;
	__u64 self_phys;
	__u64 kaslr_virt;
	__u64 kaslr_phys;
	__u64 tsc_khz;
	__u64 early_phys;
	__u64 orphan_lost;
	__u64 printk_phys;
	__u64 reserved[3];
};

#define HT_CTL_F_BATCH		0x1	/* producer kicks the host per batch */

/**
 * struct ht_ring_hdr - per-CPU ring header, one cache line per side
 * @head:  records committed by the guest, free-running (guest writes)
 * @lost:  records the guest dropped because the ring was full (guest writes)
 * @cpu:   guest CPU owning this ring (guest writes once)
 * @pad0:  zero; keeps the host's line apart
 * @tail:  records consumed by the host, free-running (host writes)
 * @host_pcpu: the host CPU this ring's vCPU thread last ran on, plus one;
 *         0 when the host does not say (host writes, a hint)
 * @host_pad: zero
 * @host_run_delay: nanoseconds this ring's vCPU thread has spent runnable
 *         but not running on the host since it started (host writes, a hint)
 * @pad1:  zero
 *
 * Record n lives in slot n & (ring_records - 1).  The guest publishes
 * records with a store-release of @head; the host frees slots with a
 * store-release of @tail.  The guest never waits: a record that does not
 * fit is counted in @lost.  The guest treats @host_pcpu and
 * @host_run_delay as hints: it copies them into HT_EV_VCPU_PCPU records
 * when @host_pcpu changes and uses them for nothing else.
 */
struct ht_ring_hdr {
	__u64 head;
	__u64 lost;
	__u32 cpu;
	__u32 pad0[11];
	__u64 tail;
	__u32 host_pcpu;
	__u32 host_pad;
	__u64 host_run_delay;
	__u64 pad1[5];
};

/* ------------------------------------------------------------------ */
/* Backtraces (HT_EV_BACKTRACE, HT_EV_FRAMES)                           */
/* ------------------------------------------------------------------ */

/*
 * A panic, oops, BUG or warning is followed on the same CPU by one
 * HT_EV_BACKTRACE record (a0: the number of frames, at most
 * HT_BT_MAX_FRAMES; a1: the type of the event it belongs to) and then
 * (a0 + 1) / 2 HT_EV_FRAMES records, each with the next two return
 * addresses, innermost first (a1 is 0 past the last frame).  All carry
 * the TSC of the HT_EV_BACKTRACE record and consecutive sequence numbers,
 * so a host that lost one of them sees the gap.
 */
#define HT_BT_MAX_FRAMES	32

/* ------------------------------------------------------------------ */
/* The kernel log (HT_EV_PRINTK, ht_ctl.printk_phys)                    */
/* ------------------------------------------------------------------ */

/**
 * struct ht_printk - where the kernel's printk ring buffer is, and how
 *                    the kernel that wrote it lays it out
 * @magic:           HT_PRINTK_MAGIC
 * @version:         HT_ABI_VERSION
 * @size:            sizeof(struct ht_printk)
 * @gen:             even when the fields below are consistent; the guest
 *                   makes it odd while it rewrites them (the log moves
 *                   once, from the static to the dynamic buffer)
 * @desc_count_bits: log2 of the number of descriptors (and infos)
 * @text_size_bits:  log2 of the text ring's size in bytes
 * @prb_phys:        guest-physical address of struct printk_ringbuffer
 * @descs_phys:      ... of its descriptor array (struct prb_desc[])
 * @infos_phys:      ... of its info array (struct printk_info[])
 * @text_phys:       ... of its text data ring
 * @off_desc_head:   offsetof(struct printk_ringbuffer, desc_ring.head_id)
 * @off_desc_tail:   offsetof(struct printk_ringbuffer, desc_ring.tail_id)
 * @off_text_head:   offsetof(struct printk_ringbuffer, text_data_ring.head_lpos)
 * @off_text_tail:   offsetof(struct printk_ringbuffer, text_data_ring.tail_lpos)
 * @desc_size:       sizeof(struct prb_desc)
 * @off_state_var:   offsetof(struct prb_desc, state_var)
 * @off_text_begin:  offsetof(struct prb_desc, text_blk_lpos.begin)
 * @off_text_next:   offsetof(struct prb_desc, text_blk_lpos.next)
 * @info_size:       sizeof(struct printk_info)
 * @off_seq:         offsetof(struct printk_info, seq)
 * @off_ts_nsec:     offsetof(struct printk_info, ts_nsec)
 * @off_text_len:    offsetof(struct printk_info, text_len)
 * @off_level:       offset of the byte of struct printk_info whose top
 *                   three bits are the level (flags:5, level:3)
 * @off_caller_id:   offsetof(struct printk_info, caller_id)
 * @off_facility:    offsetof(struct printk_info, facility); 0 (the offset
 *                   of seq, never the facility's) when the guest does not
 *                   say (added in the reserved words: the ABI fixes no
 *                   other way to find it)
 * @reserved16:      zero
 * @reserved:        zero
 *
 * The guest keeps this in its own memory and points at it with
 * HT_EV_PRINTK and ht_ctl.printk_phys.  Every field is a claim of a
 * guest that may be lying: the host checks each address against the RAM
 * it holds and each offset against the size it belongs to.
 */
struct ht_printk {
	__u64 magic;
	__u16 version;
	__u16 size;
	__u32 gen;
	__u32 desc_count_bits;
	__u32 text_size_bits;
	__u64 prb_phys;
	__u64 descs_phys;
	__u64 infos_phys;
	__u64 text_phys;
	__u16 off_desc_head;
	__u16 off_desc_tail;
	__u16 off_text_head;
	__u16 off_text_tail;
	__u16 desc_size;
	__u16 off_state_var;
	__u16 off_text_begin;
	__u16 off_text_next;
	__u16 info_size;
	__u16 off_seq;
	__u16 off_ts_nsec;
	__u16 off_text_len;
	__u16 off_level;
	__u16 off_caller_id;
	__u16 off_facility;
	__u16 reserved16;
	__u32 reserved[4];
};

/* Largest geometry a host accepts; a guest asking for more is rejected. */
#define HT_MAX_RINGS		1024
#define HT_MAX_RING_RECORDS	(1U << 24)

/* ------------------------------------------------------------------ */
/* Early buffer (in .data, usable before .bss is cleared)             */
/* ------------------------------------------------------------------ */

#define HT_EARLY_RECORDS	256

/**
 * struct ht_early - records emitted before the rings exist
 * @magic:    HT_EARLY_MAGIC
 * @version:  HT_ABI_VERSION
 * @hdr_size: offsetof(struct ht_early, rec)
 * @capacity: number of slots in @rec (HT_EARLY_RECORDS)
 * @count:    records stored, at most @capacity (stored with release)
 * @state:    HT_EARLY_ACTIVE, or HT_EARLY_MOVED once copied into the rings
 *            or sent through the port or hypercall bulk transport
 * @lost:     records dropped while this buffer was the only store: @rec
 *            full, or dropped outside it (see ht_ctl.orphan_lost)
 * @reserved: zero
 * @rec:      the records
 */
struct ht_early {
	__u64 magic;
	__u16 version;
	__u16 hdr_size;
	__u32 capacity;
	__u32 count;
	__u32 state;
	__u64 lost;
	__u64 reserved[4];
	struct ht_record rec[HT_EARLY_RECORDS];
};

#define HT_EARLY_ACTIVE		1
#define HT_EARLY_MOVED		2

/* ------------------------------------------------------------------ */
/* Hypercalls and the I/O port                                         */
/* ------------------------------------------------------------------ */

/*
 * vmcall (Intel) / vmmcall (AMD) with rax = number.  KVM defines hypercall
 * numbers 1-12 (Documentation/virt/kvm/x86/hypercalls.rst); ours are far
 * outside them.  KVM traces the call in kvm:kvm_hypercall and returns
 * -KVM_ENOSYS to the guest, so stock KVM works.
 */
#define HT_HC_RECORD		0x48540001	/* rbx,rcx,rdx,rsi = record */
#define HT_HC_BATCH		0x48540002	/* rbx cpu, rcx head, rdx lost */

/* isa-debugcon port: each record written as 32 bytes with rep outsb. */
#define HT_PORT			0x4854

#ifndef __cplusplus
_Static_assert(sizeof(struct ht_record) == HT_RECORD_SIZE, "record size");
_Static_assert(__builtin_offsetof(struct ht_record, info) == 8, "info");
_Static_assert(__builtin_offsetof(struct ht_record, a0) == 16, "a0");
_Static_assert(__builtin_offsetof(struct ht_record, a1) == 24, "a1");
_Static_assert(sizeof(struct ht_ctl) == 128, "ctl size");
_Static_assert(__builtin_offsetof(struct ht_ctl, printk_phys) == 96, "printk");
_Static_assert(sizeof(struct ht_printk) == 104, "printk size");
_Static_assert(__builtin_offsetof(struct ht_printk, off_desc_head) == 56, "printk offs");
_Static_assert(__builtin_offsetof(struct ht_ctl, ring_records) == 16, "geom");
_Static_assert(__builtin_offsetof(struct ht_ctl, area_size) == 24, "size");
_Static_assert(__builtin_offsetof(struct ht_ctl, self_phys) == 48, "self");
_Static_assert(__builtin_offsetof(struct ht_ctl, early_phys) == 80, "early");
_Static_assert(sizeof(struct ht_ring_hdr) == 128, "ring hdr size");
_Static_assert(__builtin_offsetof(struct ht_ring_hdr, lost) == 8, "lost");
_Static_assert(__builtin_offsetof(struct ht_ring_hdr, tail) == 64, "tail");
_Static_assert(__builtin_offsetof(struct ht_early, rec) == 64, "early hdr");
_Static_assert(sizeof(struct ht_early) ==
	       64 + HT_EARLY_RECORDS * HT_RECORD_SIZE, "early size");
_Static_assert(HT_TYPE_BITS + HT_NCONT_BITS + HT_CPU_BITS + HT_SEQ_BITS == 64,
	       "info packing");
_Static_assert(HT_MAX_CONT == HT_NCONT_MASK, "ncont field");
#endif

#endif /* _HYPERTRACE_ABI_H */

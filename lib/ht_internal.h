/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Internals shared by the Hypertrace library core and its transports.
 */
#ifndef _HT_INTERNAL_H
#define _HT_INTERNAL_H

#ifdef __KERNEL__
#include <linux/hypertrace.h>	/* lib/hypertrace.h, installed */
#include "ht_platform.h"
#else
#include "hypertrace.h"
#include "ht_platform.h"
#include "ht_compat.h"
#endif

#ifndef HT_MAX_CPUS
#define HT_MAX_CPUS	64
#endif

#define HT_CACHELINE	64	/* x86 */

/**
 * struct ht_cpu - guest-private state of one CPU
 * @hdr:        this CPU's ring header in the shared area, NULL before rings
 * @slots:      this CPU's ring slots
 * @head:       private copy of hdr->head: the host cannot rewind us
 * @limit:      head may grow up to this (a validated tail + ring size) before
 *              hdr->tail is read again; 0 while there is no ring
 * @lost:       private copy of hdr->lost
 * @kicked:     low half of head at the last batch hypercall
 * @pcpu:       the hdr->host_pcpu this CPU last reported (HT_EV_VCPU_PCPU)
 * @stamp:      the cpu and seq bits of the next record's info word, ready
 *              to be or-ed in (x86 is little-endian, so the next two
 *              fields are its halves)
 * @stamp_cpu:  the low half of @stamp: the cpu bits
 * @seq:        the high half of @stamp: the next sequence number
 * @mask:       ring_records - 1
 * @busy:       a write is in progress (an NMI nesting into it is dropped
 *              and counted)
 *
 * Only the owning CPU touches its entry, with local interrupts masked, so
 * nothing here needs atomics; what the host reads is published through
 * @hdr with the ordering documented in ht_shmem.c.
 */
struct ht_cpu {
	struct ht_ring_hdr *hdr;
	struct ht_record *slots;
	__u64 head;
	__u64 limit;
	__u64 lost;
	__u32 kicked;
	__u32 pcpu;
	union {
		__u64 stamp;
		struct {
			__u32 stamp_cpu;
			__u32 seq;
		};
	};
	__u32 mask;
	__u32 busy;
} __aligned(HT_CACHELINE);

/**
 * struct ht_transport - how records leave the guest
 * @name:  the boot-parameter spelling
 * @write: stamp @n records with this CPU's number and sequence numbers and
 *         deliver them as one unit (called with local interrupts masked)
 * @send:  deliver @n already stamped records (doorbells only; NULL for rings)
 */
struct ht_transport {
	const char *name;
	void (*write)(struct ht_cpu *c, unsigned int cpu, struct ht_record *rec,
		      unsigned int n);
	void (*send)(const struct ht_record *rec, unsigned int n);
};

/**
 * struct ht_state - the library's global state
 * @bulk:     where ordinary records go; NULL when tracing is off
 * @fast:     @bulk is the shmem transport: ht_emit() may take its fast path
 * @doorbell: where urgent records go as well (port or hypercall); may be NULL
 * @ctl:      the control area once ht_rings_init() ran
 * @nr_cpus:  rings in @ctl
 * @batch:    records per batch hypercall (batch mode)
 * @amd:      use vmmcall rather than vmcall
 * @mode:     the mode ht_setup() was given
 * @printk_phys: guest-physical address of the struct ht_printk that
 *            ht_set_printk() was given, 0 before; copied into the control
 *            area when ht_rings_init() lays it out
 * @cpu:      per-CPU state
 */
struct ht_state {
	const struct ht_transport *bulk;
	int fast;
	const struct ht_transport *doorbell;
	struct ht_ctl *ctl;
	unsigned int nr_cpus;
	unsigned int batch;
	int amd;
	enum ht_mode mode;
	__u64 printk_phys;
	struct ht_cpu cpu[HT_MAX_CPUS];
};

_Static_assert(sizeof(struct ht_cpu) == HT_CACHELINE, "one line per CPU");

extern struct ht_state ht;
extern const struct ht_transport ht_shmem_transport;
extern const struct ht_transport ht_batch_transport;
extern const struct ht_transport ht_port_transport;
extern const struct ht_transport ht_hypercall_transport;

#define HT_SEQ_ONE	(1ULL << HT_SEQ_SHIFT)

/* ht_stamp() - give @n records this CPU's number and its next sequence numbers */
static inline void ht_stamp(struct ht_cpu *c, struct ht_record *rec,
			    unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		rec[i].info |= c->stamp + i * HT_SEQ_ONE;
	c->stamp += n * HT_SEQ_ONE;
}

/* ht_set_seq() - make @seq the next sequence number of CPU @cpu */
static inline void ht_set_seq(struct ht_cpu *c, unsigned int cpu, __u32 seq)
{
	c->stamp = ht_info(0, 0, cpu, seq);
}

/*
 * ht_ring_store() - store @n records in this CPU's ring as one unit
 *
 * The producer side of the ring protocol; see the comment at the top of
 * ht_shmem.c for the whole protocol.  Runs with local interrupts masked on
 * the ring's own CPU, so it is the only writer of c->* and hdr->head/lost.
 */
static inline void ht_ring_store(struct ht_cpu *c, struct ht_record *rec,
				 unsigned int n)
{
	__u64 head = c->head, tail;
	unsigned int i;

	/* stamped even when lost: a doorbell copy must carry cpu and seq */
	ht_stamp(c, rec, n);
	if (unlikely(head + n > c->limit)) {
		/*
		 * Acquire: pairs with the host's store-release of tail.  The
		 * host's loads from the slots it freed happen before our
		 * stores below overwrite them.
		 */
		tail = ht_load_acquire(&c->hdr->tail);
		/* a tail ahead of head, or a ring behind, is never trusted */
		if (tail > head || head + n - tail > c->mask + 1) {
			c->lost += n;
			/* a counter the host samples; no ordering needed */
			ht_write_once(&c->hdr->lost, c->lost);
			return;
		}
		c->limit = tail + c->mask + 1;
	}
	for (i = 0; i < n; i++)
		c->slots[(head + i) & c->mask] = rec[i];
	/*
	 * Release: the slot stores above are visible to the host no later
	 * than the head that covers them.  Pairs with the host's
	 * load-acquire of head.
	 */
	ht_store_release(&c->hdr->head, head + n);
	c->head = head + n;
}

void ht_ring_hint(struct ht_cpu *c, __u32 pcpu, __u64 tsc);

/*
 * ht_ring_write() - store @n stamped-to-be records in this CPU's ring,
 * after an HT_EV_VCPU_PCPU record if the host's hint changed since the
 * last one (ht_ring_hint())
 */
static inline void ht_ring_write(struct ht_cpu *c, struct ht_record *rec,
				 unsigned int n)
{
	/* a hint the host may rewrite at any time: one untorn load */
	__u32 pcpu = ht_read_once(&c->hdr->host_pcpu);

	if (unlikely(pcpu != c->pcpu))
		ht_ring_hint(c, pcpu, rec[0].tsc);
	ht_ring_store(c, rec, n);
}

void ht_count_orphans(unsigned int n);
void ht_shmem_write(struct ht_cpu *c, unsigned int cpu, struct ht_record *rec,
		    unsigned int n);
void ht_early_write(struct ht_early *e, unsigned int cpu, struct ht_record *rec,
		    unsigned int n);

#endif /* _HT_INTERNAL_H */

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Hypertrace shared-memory transport: per-CPU single-producer rings in a
 * control area the host reads through QEMU's memory-backend-file.
 *
 * Ring protocol
 * -------------
 * Each CPU owns one ring (struct ht_ring_hdr followed by ring_records
 * slots of 32 bytes).  head and tail are free-running 64-bit counts;
 * record number k lives in slot k & (ring_records - 1).
 *
 *   guest (producer, one per ring)       host (consumer, one per ring)
 *   ------------------------------       ------------------------------
 *   if head + n > limit:                 h = load_acquire(&hdr->head)   (B)
 *       t = load_acquire(&hdr->tail) (A) check h - tail <= size, else
 *       t > head or head + n - t > size:     the guest is broken: resync
 *           lost += n, return            copy slots tail .. h-1
 *       limit = t + size                 store_release(&hdr->tail, h)   (D)
 *   store slots head .. head+n-1
 *   store_release(&hdr->head, head+n) (C)
 *
 * (C) pairs with (B): a host that sees the new head sees the slot contents.
 * (D) pairs with (A): the host is done reading slots before the guest,
 * having seen the new tail, overwrites them.  On x86 both are plain moves
 * plus compiler barriers; the annotations matter for the reasoning and for
 * the hosted stress test, which runs on the same code.
 *
 * The guest keeps private copies of head and lost (struct ht_cpu), so a
 * host (or a stray write) cannot make it reuse a slot twice; a tail value
 * that is ahead of head or more than a ring behind reads as "full", and the
 * records are counted as lost rather than written anywhere unexpected.
 *
 * Every record carries seq = (records stored + records lost) on its CPU at
 * the time, so the host can check lost against gaps in seq.
 *
 * The host's line also holds two hints, host_pcpu and host_run_delay:
 * where the vCPU's thread last ran and how long it waited to run.  The
 * guest reads host_pcpu once per write and, when it differs from the value
 * it reported last, copies both into an HT_EV_VCPU_PCPU record stored just
 * before the write's own (ht_ring_hint()); it uses them for nothing else.
 *
 * Interrupts are masked around a write by the caller; an NMI that nests
 * into a write on the same CPU is the one thing that can interleave: the
 * per-CPU busy flag catches it and the record is counted (orphan_lost, or
 * the early buffer's lost before the rings exist) rather than tear the
 * outer one.
 */
#include "ht_internal.h"

/**
 * ht_area_size() - bytes of shared memory needed for a control area
 * @nr_cpus:      number of rings
 * @ring_records: records per ring (power of two)
 *
 * Return: the size to allocate and pass to ht_rings_init().
 */
__u64 ht_area_size(unsigned int nr_cpus, unsigned int ring_records)
{
	__u64 stride = sizeof(struct ht_ring_hdr) +
		       (__u64)ring_records * HT_RECORD_SIZE;

	return sizeof(struct ht_ctl) + (__u64)nr_cpus * stride;
}

/* ht_move_early() - copy the early buffer into @cpu's ring; caller masked interrupts */
static void ht_move_early(struct ht_cpu *c, unsigned int cpu)
{
	struct ht_early *e = &ht_early_buf;
	__u32 i, count = e->count;

	if (e->state != HT_EARLY_ACTIVE)
		return;
	if (count > e->capacity)
		count = e->capacity;
	for (i = 0; i < count && i <= c->mask; i++) {
		struct ht_record r = e->rec[i];

		r.info &= ~(HT_CPU_MASK << HT_CPU_SHIFT);
		r.info |= (__u64)cpu << HT_CPU_SHIFT;
		c->slots[i] = r;
	}
	c->head = i;
	c->lost = e->lost + (count - i);
	ht_set_seq(c, cpu, (__u32)(count + e->lost));
	ht_write_once(&c->hdr->lost, c->lost);
	/* release: records in the slots before head, as for any write */
	ht_store_release(&c->hdr->head, c->head);
	/* release: a post-mortem scan must not count both copies */
	ht_store_release(&e->state, HT_EARLY_MOVED);
}

/**
 * ht_rings_init() - lay out the control area and switch to the rings
 * @area:         zeroed, 64-byte aligned memory the host can read (guest RAM)
 * @area_phys:    its guest-physical address
 * @size:         its size, at least ht_area_size(@nr_cpus, @ring_records)
 * @nr_cpus:      rings to create, one per possible CPU
 * @ring_records: records per ring: a power of two, at least HT_EARLY_RECORDS
 *
 * Moves what the early buffer holds into the calling CPU's ring, publishes
 * the area (magic last) and announces it through the doorbell.  Call on the
 * boot CPU before secondary CPUs start.
 *
 * Return: 0 on success, -1 on a bad argument or when the bulk transport is
 * not a ring (off, port, hypercall); the early buffer then stays.
 */
int ht_rings_init(void *area, __u64 area_phys, __u64 size,
		  unsigned int nr_cpus, unsigned int ring_records)
{
	struct ht_ctl *ctl = area;
	__u64 stride = sizeof(struct ht_ring_hdr) +
		       (__u64)ring_records * HT_RECORD_SIZE;
	__u64 early_count, early_lost;
	unsigned long flags;
	unsigned int i, cpu;
	bool moved;

	if (ht.bulk != &ht_shmem_transport && ht.bulk != &ht_batch_transport)
		return -1;
	if (!area || ((unsigned long)area & (HT_CACHELINE - 1)) ||
	    !nr_cpus || nr_cpus > HT_MAX_CPUS || nr_cpus > HT_MAX_RINGS ||
	    ring_records < HT_EARLY_RECORDS ||
	    ring_records > HT_MAX_RING_RECORDS ||
	    (ring_records & (ring_records - 1)) ||
	    size < ht_area_size(nr_cpus, ring_records))
		return -1;

	ctl->version = HT_ABI_VERSION;
	ctl->hdr_size = sizeof(*ctl);
	ctl->nr_rings = nr_cpus;
	ctl->rec_size = HT_RECORD_SIZE;
	ctl->ring_records = ring_records;
	ctl->flags = ht.bulk == &ht_batch_transport ? HT_CTL_F_BATCH : 0;
	ctl->area_size = ht_area_size(nr_cpus, ring_records);
	ctl->rings_offset = sizeof(*ctl);
	ctl->ring_stride = stride;
	ctl->self_phys = area_phys;
	if (ht.batch > ring_records / 2)
		ht.batch = ring_records / 2;
	ctl->early_phys = ht_plat_virt_to_phys(&ht_early_buf);
	/* geometry too: published by the release of magic below */
	ctl->printk_phys = ht.printk_phys;

	flags = ht_plat_irq_save();
	for (i = 0; i < nr_cpus; i++) {
		struct ht_ring_hdr *hdr = (struct ht_ring_hdr *)
			((char *)area + sizeof(*ctl) + i * stride);
		struct ht_cpu *c = &ht.cpu[i];

		hdr->cpu = i;
		c->hdr = hdr;
		c->mask = ring_records - 1;
		c->head = 0;
		c->lost = 0;
		c->kicked = 0;
		c->pcpu = 0;
		ht_set_seq(c, i, 0);
		c->slots = (struct ht_record *)(hdr + 1);
		/* last: ht_emit()'s fast path is taken once limit is set */
		ht_barrier();
		c->limit = ring_records;
	}
	early_count = ht_early_buf.count;
	early_lost = ht_early_buf.lost;
	moved = false;
	cpu = ht_plat_cpu();
	if (cpu < nr_cpus && ht_early_buf.state == HT_EARLY_ACTIVE) {
		ht_move_early(&ht.cpu[cpu], cpu);
		moved = true;
	}
	/*
	 * Release: a host that finds the magic (by scanning guest RAM or from
	 * the announcement) sees the complete header and ring headers.
	 */
	ht_store_release(&ctl->magic, HT_CTL_MAGIC);
	ht.ctl = ctl;
	ht.nr_cpus = nr_cpus;
	ht_plat_irq_restore(flags);

	ht_emit_urgent(HT_EV_ANNOUNCE, area_phys, ctl->area_size, NULL);
	if (moved && (early_count || early_lost))
		ht_emit(HT_EV_EARLY_MOVED, early_count, early_lost);
	return 0;
}

/**
 * ht_rings_stop() - stop writing to the rings (before their memory goes away)
 *
 * Tracing stops: records are no longer taken, nor counted (it was stopped
 * on purpose).  Call with secondary CPUs stopped.
 */
void ht_rings_stop(void)
{
	unsigned int i;

	if (ht.bulk == &ht_shmem_transport || ht.bulk == &ht_batch_transport) {
		ht.bulk = NULL;
		ht.fast = 0;
	}
	for (i = 0; i < ht.nr_cpus; i++) {
		ht.cpu[i].limit = 0;
		ht.cpu[i].slots = NULL;
	}
	ht.ctl = NULL;
	ht.nr_cpus = 0;
}

/**
 * ht_set_tsc_khz() - record the calibrated TSC frequency
 * @khz: TSC frequency in kHz
 *
 * Stored in the control area (if any) and emitted as HT_EV_TSC_KHZ.
 */
void ht_set_tsc_khz(__u64 khz)
{
	if (ht.ctl)
		ht_write_once(&ht.ctl->tsc_khz, khz);
	ht_emit(HT_EV_TSC_KHZ, khz, 0);
}

/**
 * ht_set_kaslr() - record where KASLR put the kernel
 * @virt_offset: virtual offset from the link address
 * @phys_offset: physical load offset
 *
 * The host subtracts @virt_offset from every code address before it looks
 * it up in vmlinux.
 */
void ht_set_kaslr(__u64 virt_offset, __u64 phys_offset)
{
	if (ht.ctl) {
		ht_write_once(&ht.ctl->kaslr_virt, virt_offset);
		ht_write_once(&ht.ctl->kaslr_phys, phys_offset);
	}
	ht_emit(HT_EV_KASLR, virt_offset, phys_offset);
}

/**
 * ht_set_printk() - tell the host where the kernel's log is described
 * @phys: guest-physical address of a struct ht_printk, 0 for none
 *
 * Stored in the control area's printk_phys (remembered until
 * ht_rings_init() lays the area out, if it is not up yet) and emitted as
 * an urgent HT_EV_PRINTK on every transport.  Call again, with the same
 * or a new address, after the struct changed (the log moved): the host
 * reads the struct itself, under its gen seqcount.  Call on the boot CPU,
 * not concurrently with ht_rings_init().
 */
void ht_set_printk(__u64 phys)
{
	ht.printk_phys = phys;	/* for ht_rings_init(), on this CPU */
	/*
	 * Untorn store of a word the host samples at any time (it reads the
	 * struct behind it under its own seqcount, so no ordering is needed
	 * here); before the area exists ht_rings_init() publishes it with
	 * the release of magic.
	 */
	if (ht.ctl)
		ht_write_once(&ht.ctl->printk_phys, phys);
	ht_emit_urgent(HT_EV_PRINTK, phys, 0, NULL);
}

/**
 * ht_shmem_write() - the shmem transport's write operation
 * @c:   this CPU's state
 * @cpu: this CPU's number
 * @rec: records to stamp and store as one unit
 * @n:   how many
 *
 * Before the rings exist the records go to the early buffer; a CPU without
 * a ring afterwards counts them in the control area's orphan_lost.
 */
void ht_shmem_write(struct ht_cpu *c, unsigned int cpu, struct ht_record *rec,
		    unsigned int n)
{
	(void)cpu;	/* the stamp already carries it */
	if (likely(c->slots)) {
		ht_ring_write(c, rec, n);
		return;
	}
	if (!ht.ctl) {
		ht_early_write(&ht_early_buf, cpu, rec, n);
		return;
	}
	ht_count_orphans(n);
}

/**
 * ht_ring_hint() - report that the host's hint in this CPU's ring header
 * changed: one HT_EV_VCPU_PCPU record, before the record that noticed it
 * @c:    this CPU's state (interrupts masked, its ring in place)
 * @pcpu: the host_pcpu word just read
 * @tsc:  when: the time stamp of the record that noticed it
 *
 * The host may rewrite both words at any time and to anything; they are
 * copied, never used.  A host that changes host_pcpu before every record
 * doubles the records, nothing more: this never loops or waits.
 */
void ht_ring_hint(struct ht_cpu *c, __u32 pcpu, __u64 tsc)
{
	struct ht_record r;

	r.tsc = tsc;
	r.info = ht_info(HT_EV_VCPU_PCPU, 0, 0, 0);
	r.a0 = ht_vcpu_pcpu(c->pcpu, pcpu);
	/* a hint as well: one untorn load, whatever it holds */
	r.a1 = ht_read_once(&c->hdr->host_run_delay);
	c->pcpu = pcpu;
	ht_ring_store(c, &r, 1);
}

/**
 * ht_count_orphans() - count records dropped outside any ring
 * @n: how many
 *
 * A CPU without a ring, or an NMI nested into a write on its CPU.  Several
 * CPUs may count at once, so the one shared counter takes an atomic add.
 */
void ht_count_orphans(unsigned int n)
{
	struct ht_ctl *ctl = ht.ctl;

	if (ctl)
		__atomic_fetch_add(&ctl->orphan_lost, n, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&ht_early_buf.lost, n, __ATOMIC_RELAXED);
}

/* ht_batch_write() - ring write plus one hypercall per ht.batch records */
static void ht_batch_write(struct ht_cpu *c, unsigned int cpu,
			   struct ht_record *rec, unsigned int n)
{
	ht_shmem_write(c, cpu, rec, n);
	if (c->slots && (__u32)c->head - c->kicked >= ht.batch) {
		c->kicked = (__u32)c->head;
		ht_arch_hypercall(ht.amd, HT_HC_BATCH, cpu, c->head, c->lost, 0);
	}
}

/**
 * ht_flush() - tell the host about this CPU's records not yet kicked
 *
 * Only batch mode defers notification; elsewhere this does nothing.
 */
void ht_flush(void)
{
	unsigned long flags;
	struct ht_cpu *c;
	unsigned int cpu;

	if (ht.bulk != &ht_batch_transport)
		return;
	flags = ht_plat_irq_save();
	cpu = ht_plat_cpu();
	if (cpu < HT_MAX_CPUS) {
		c = &ht.cpu[cpu];
		if (c->slots && (__u32)c->head != c->kicked) {
			c->kicked = (__u32)c->head;
			ht_arch_hypercall(ht.amd, HT_HC_BATCH, cpu, c->head,
					  c->lost, 0);
		}
	}
	ht_plat_irq_restore(flags);
}

const struct ht_transport ht_shmem_transport = {
	.name = "shmem",
	.write = ht_shmem_write,
};

const struct ht_transport ht_batch_transport = {
	.name = "batch",
	.write = ht_batch_write,
};

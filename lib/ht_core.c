// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Hypertrace guest library core: encoding, sequence numbers, strings,
 * transport selection and the early buffer.  Transports live in
 * ht_shmem.c, ht_port.c and ht_hypercall.c behind struct ht_transport.
 *
 * Freestanding: no libc, no allocation, no locks on the record path.
 */
#include "ht_internal.h"

/*
 * Until ht_setup() runs (boot parameters are parsed after the first
 * events), records go to the shmem transport, which keeps them in the
 * early buffer until ht_rings_init().  Both objects are initialized so that
 * they live in .data: usable before the kernel clears .bss.
 */
struct ht_state ht = {
	.bulk = &ht_shmem_transport,
	.fast = 1,
	.batch = HT_DEFAULT_BATCH,
	.mode = HT_MODE_AUTO,
};

struct ht_early ht_early_buf = {
	.magic = HT_EARLY_MAGIC,
	.version = HT_ABI_VERSION,
	.hdr_size = __builtin_offsetof(struct ht_early, rec),
	.capacity = HT_EARLY_RECORDS,
	.state = HT_EARLY_ACTIVE,
};

static const char * const ht_mode_names[] = {
	[HT_MODE_OFF] = "off",
	[HT_MODE_SHMEM] = "shmem",
	[HT_MODE_HYPERCALL] = "hypercall",
	[HT_MODE_PORT] = "port",
	[HT_MODE_BATCH] = "batch",
	[HT_MODE_AUTO] = "auto",
};

/* ht_streq() - string equality without libc */
static bool ht_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/**
 * ht_parse_mode() - parse the value of the hypertrace= boot parameter
 * @s:    "off", "shmem", "hypercall", "port", "batch" or "auto"
 * @mode: where the mode is stored on success
 *
 * Return: 0 on success, -1 if @s names no mode (then @mode is unchanged).
 */
int ht_parse_mode(const char *s, enum ht_mode *mode)
{
	unsigned int i;

	if (!s)
		return -1;
	for (i = 0; i < ARRAY_SIZE(ht_mode_names); i++) {
		if (ht_streq(s, ht_mode_names[i])) {
			*mode = (enum ht_mode)i;
			return 0;
		}
	}
	return -1;
}

/**
 * ht_mode_name() - the boot-parameter spelling of a mode
 * @mode: a transport mode
 *
 * Return: a static string, "?" for a value outside enum ht_mode.
 */
const char *ht_mode_name(enum ht_mode mode)
{
	if ((unsigned int)mode >= ARRAY_SIZE(ht_mode_names))
		return "?";
	return ht_mode_names[mode];
}

/**
 * ht_detect_hypervisor() - find out whether hypercalls reach a tracer
 *
 * Reads CPUID leaf 1 (hypervisor bit) and leaf 0x40000000 (signature).
 * Only KVM traces unknown hypercall numbers (kvm:kvm_hypercall) and
 * returns to the guest; under TCG vmcall raises #UD, so anything but KVM
 * gets the port doorbell.
 *
 * Return: HT_HV_KVM, HT_HV_OTHER, or HT_HV_NONE on bare metal.
 */
enum ht_hv ht_detect_hypervisor(void)
{
	__u32 r[4];

	ht_arch_cpuid(1, r);
	if (!(r[2] & (1U << 31)))
		return HT_HV_NONE;
	ht_arch_cpuid(0x40000000, r);
	/* "KVMKVMKVM\0\0\0" in ebx, ecx, edx */
	if (r[1] == 0x4b4d564b && r[2] == 0x564b4d56 && r[3] == 0x0000004d)
		return HT_HV_KVM;
	return HT_HV_OTHER;
}

/**
 * ht_detect_amd() - whether the CPU wants vmmcall rather than vmcall
 *
 * Return: 1 for AMD and Hygon CPUs (CPUID vendor string), else 0.
 */
int ht_detect_amd(void)
{
	__u32 r[4];

	ht_arch_cpuid(0, r);
	/* "AuthenticAMD" and "HygonGenuine" in ebx, edx, ecx */
	if (r[1] == 0x68747541 && r[3] == 0x69746e65 && r[2] == 0x444d4163)
		return 1;
	if (r[1] == 0x6f677948 && r[3] == 0x6e65476e && r[2] == 0x656e6975)
		return 1;
	return 0;
}

/* ht_early_drain_to() - send early records through a record-at-a-time transport */
static void ht_early_drain_to(const struct ht_transport *t)
{
	struct ht_early *e = &ht_early_buf;
	__u32 i, count = e->count;
	unsigned int cpu = ht_plat_cpu();

	if (e->state != HT_EARLY_ACTIVE)
		return;
	if (count > e->capacity)
		count = e->capacity;
	for (i = 0; i < count; i++)
		t->send(&e->rec[i], 1);
	/* the boot CPU's numbering goes on where the early buffer's stopped */
	if (cpu < HT_MAX_CPUS)
		ht_set_seq(&ht.cpu[cpu], cpu, (__u32)(e->count + e->lost));
	ht_store_release(&e->state, HT_EARLY_MOVED);
}

/**
 * ht_setup() - choose the transports for this boot
 * @mode: from ht_parse_mode(); HT_MODE_AUTO picks shmem plus a doorbell
 * @hv:   from ht_detect_hypervisor()
 * @amd:  from ht_detect_amd(): use vmmcall
 *
 * The doorbell is the hypercall under KVM and the port under any other
 * hypervisor; on bare metal auto mode has no doorbell (we never write to
 * an I/O port nobody claimed).  Modes that need KVM fail elsewhere so that
 * the caller can say why and fall back.  Call before secondary CPUs start.
 *
 * Return: 0 on success, -1 if @mode cannot work under @hv.
 */
int ht_setup(enum ht_mode mode, enum ht_hv hv, int amd)
{
	const struct ht_transport *doorbell = NULL;
	unsigned int i;

	/* every CPU's records carry its number from the first one on */
	for (i = 0; i < HT_MAX_CPUS; i++)
		ht_set_seq(&ht.cpu[i], i, ht_info_seq(ht.cpu[i].stamp));

	if (hv == HT_HV_KVM)
		doorbell = &ht_hypercall_transport;
	else if (hv == HT_HV_OTHER)
		doorbell = &ht_port_transport;

	switch (mode) {
	case HT_MODE_OFF:
		ht.bulk = NULL;
		doorbell = NULL;
		break;
	case HT_MODE_AUTO:
	case HT_MODE_SHMEM:
		ht.bulk = &ht_shmem_transport;
		break;
	case HT_MODE_HYPERCALL:
		if (hv != HT_HV_KVM)
			return -1;
		ht.bulk = &ht_hypercall_transport;
		break;
	case HT_MODE_PORT:
		doorbell = &ht_port_transport;
		ht.bulk = doorbell;
		break;
	case HT_MODE_BATCH:
		if (hv != HT_HV_KVM)
			return -1;
		ht.bulk = &ht_batch_transport;
		break;
	default:
		return -1;
	}
	ht.fast = ht.bulk == &ht_shmem_transport;
	ht.doorbell = doorbell;
	ht.amd = amd;
	ht.mode = mode;
	if (ht.bulk && ht.bulk->send)
		ht_early_drain_to(ht.bulk);
	return 0;
}

/**
 * ht_set_batch() - records per batch hypercall in batch mode
 * @records: 1 or more; ht_rings_init() clamps it to half a ring, so that
 *           the host hears of a ring before it can fill
 */
void ht_set_batch(unsigned int records)
{
	ht.batch = records ? records : 1;
}

/**
 * ht_bulk_name() - name of the transport ordinary records take
 *
 * Return: "shmem", "batch", "port", "hypercall", or "off".
 */
const char *ht_bulk_name(void)
{
	return ht.bulk ? ht.bulk->name : "off";
}

/**
 * ht_doorbell_name() - name of the transport urgent records also take
 *
 * Return: "port", "hypercall", or "none".
 */
const char *ht_doorbell_name(void)
{
	return ht.doorbell ? ht.doorbell->name : "none";
}

/* ht_fill_str() - pack @s into continuation records after rec[0]; return their count */
static unsigned int ht_fill_str(struct ht_record *rec, const char *s)
{
	unsigned int len = 0, n, i;

	if (!s)
		return 0;
	while (len < HT_STR_MAX && s[len])
		len++;
	n = (len + HT_CONT_PAYLOAD - 1) / HT_CONT_PAYLOAD;
	for (i = 1; i <= n; i++) {
		rec[i].tsc = 0;
		rec[i].info = ht_info(HT_EV_CONT, i, 0, 0);
		rec[i].a0 = 0;
		rec[i].a1 = 0;
	}
	for (i = 0; i < len; i++) {
		struct ht_record *r = &rec[1 + i / HT_CONT_PAYLOAD];
		unsigned int off = i % HT_CONT_PAYLOAD;
		__u64 *w = off < 8 ? &r->tsc : off < 16 ? &r->a0 : &r->a1;

		*w |= (__u64)(unsigned char)s[i] << (8 * (off % 8));
	}
	return n;
}

/*
 * ht_write_slow() - write through the bulk transport, copying to the doorbell
 * when the record is urgent or when there are no rings yet (the host then
 * has early events even if it cannot find the early buffer in guest RAM).
 * The copy is byte-identical, so the host can drop the duplicate.
 */
static void ht_write_slow(const struct ht_transport *t, struct ht_cpu *c,
			  unsigned int cpu, struct ht_record *rec,
			  unsigned int n, bool urgent)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		rec[i].info |= ht_info(0, 0, cpu, 0);
	t->write(c, cpu, rec, n);
	if (ht.doorbell && ht.doorbell != t && (urgent || !ht.ctl))
		ht.doorbell->send(rec, n);
}

/*
 * ht_emit_slow() - every case ht_emit() does not handle inline: another
 * transport, no ring yet, a full ring, a nested write, a CPU out of range
 */
static noinline void ht_emit_slow(unsigned int type, __u64 a0, __u64 a1)
{
	const struct ht_transport *t = ht.bulk;
	struct ht_record rec;
	unsigned long flags;
	struct ht_cpu *c;
	unsigned int cpu;

	if (!t)
		return;
	flags = ht_plat_irq_save();
	cpu = ht_plat_cpu();
	if (unlikely(cpu >= HT_MAX_CPUS)) {
		ht_count_orphans(1);
		goto out_restore;
	}
	c = &ht.cpu[cpu];
	if (unlikely(c->busy)) {
		ht_count_orphans(1);
		goto out_restore;
	}
	c->busy = 1;
	ht_barrier();
	rec.tsc = ht_plat_clock();
	rec.info = ht_info(type, 0, 0, 0);
	rec.a0 = a0;
	rec.a1 = a1;
	if (t == &ht_shmem_transport && c->slots)
		ht_ring_write(c, &rec, 1);
	else
		ht_write_slow(t, c, cpu, &rec, 1, false);
	ht_barrier();
	c->busy = 0;
out_restore:
	ht_plat_irq_restore(flags);
}

/**
 * ht_emit() - record one event
 * @type: enum ht_event_type
 * @a0:   first argument word
 * @a1:   second argument word
 *
 * Safe from any context.  Never blocks, never fails: a record that cannot
 * be stored is counted as lost, including one from an NMI that interrupts
 * another write on the same CPU.
 *
 * The common case (shmem ring with room) is written out here so that it
 * compiles to a leaf function of a few dozen instructions; the same ring
 * protocol as ht_ring_write(), see ht_shmem.c.
 */
void ht_emit(unsigned int type, __u64 a0, __u64 a1)
{
	struct ht_record *r;
	unsigned long flags;
	struct ht_cpu *c;
	__u64 head;
	unsigned int cpu;

	if (unlikely(!ht.fast))
		goto slow;
	flags = ht_plat_irq_save();
	cpu = ht_plat_cpu();
	if (unlikely(cpu >= HT_MAX_CPUS))
		goto slow_restore;
	c = &ht.cpu[cpu];
	head = c->head;
	/*
	 * No ring yet, or it looks full (limit is 0 or reached), or the
	 * host's hint changed (ht_ring_write() reports it).  Limit is 0
	 * until the ring exists, so c->hdr is valid when it is read.
	 */
	if (unlikely(head >= c->limit || c->busy ||
		     ht_read_once(&c->hdr->host_pcpu) != c->pcpu))
		goto slow_restore;
	c->busy = 1;
	ht_barrier();
	r = &c->slots[head & c->mask];
	r->a0 = a0;
	r->a1 = a1;
	r->info = (type & HT_TYPE_MASK) | c->stamp;
	c->seq++;
	r->tsc = ht_plat_clock();
	/* release: the slot is visible to the host no later than the head */
	ht_store_release(&c->hdr->head, head + 1);
	c->head = head + 1;
	ht_barrier();
	c->busy = 0;
	ht_plat_irq_restore(flags);
	return;

slow_restore:
	ht_plat_irq_restore(flags);
slow:
	ht_emit_slow(type, a0, a1);
}

/*
 * ht_emit_unit() - stamp @n prepared records with this CPU and the clock
 * (the first @ntsc of them: a string's continuations carry payload in
 * their tsc word) and write them as one unit, to the doorbell too if
 * @urgent
 */
static void ht_emit_unit(struct ht_record *rec, unsigned int n,
			 unsigned int ntsc, bool urgent)
{
	const struct ht_transport *t = ht.bulk;
	unsigned long flags;
	struct ht_cpu *c;
	unsigned int cpu, i;
	__u64 now;

	if (unlikely(!t))
		return;
	flags = ht_plat_irq_save();
	cpu = ht_plat_cpu();
	if (unlikely(cpu >= HT_MAX_CPUS)) {
		ht_count_orphans(n);
		goto out_restore;
	}
	c = &ht.cpu[cpu];
	if (unlikely(c->busy)) {
		ht_count_orphans(n);
		goto out_restore;
	}
	c->busy = 1;
	ht_barrier();
	now = ht_plat_clock();
	for (i = 0; i < ntsc; i++)
		rec[i].tsc = now;
	ht_write_slow(t, c, cpu, rec, n, urgent);
	ht_barrier();
	c->busy = 0;
out_restore:
	ht_plat_irq_restore(flags);
}

/* ht_emit_records() - write a head record and its string, maybe to the doorbell too */
static void ht_emit_records(unsigned int type, __u64 a0, __u64 a1,
			    const char *s, bool urgent)
{
	struct ht_record rec[1 + HT_MAX_CONT];
	unsigned int n;

	if (unlikely(!ht.bulk))
		return;
	n = ht_fill_str(rec, s);
	rec[0].info = ht_info(type, n, 0, 0);
	rec[0].a0 = a0;
	rec[0].a1 = a1;
	ht_emit_unit(rec, n + 1, 1, urgent);
}

/**
 * ht_emit_str() - record one event that carries a string
 * @type: enum ht_event_type
 * @a0:   first argument word
 * @a1:   second argument word
 * @s:    NUL-terminated string, truncated to HT_STR_MAX bytes; may be NULL
 *
 * The string follows the head record in continuation records; all of them
 * are stored or lost together.
 */
void ht_emit_str(unsigned int type, __u64 a0, __u64 a1, const char *s)
{
	ht_emit_records(type, a0, a1, s, false);
}

/**
 * ht_emit_urgent() - record an event the host must learn at once
 * @type: enum ht_event_type (panic, announce, end of boot...)
 * @a0:   first argument word
 * @a1:   second argument word
 * @s:    string or NULL
 *
 * Goes through the bulk transport like any record, and when the bulk
 * transport is a ring (or the early buffer before it), also through the
 * doorbell (port or hypercall) with the same timestamp, CPU and sequence
 * number, even when the ring had no room for it.  (A CPU that has no ring
 * sends its copy with sequence number 0; the ring copy counts as orphan.)
 */
void ht_emit_urgent(unsigned int type, __u64 a0, __u64 a1, const char *s)
{
	ht_emit_records(type, a0, a1, s, true);
}

/* ht_emit_bt() - a backtrace as one unit: its head, then two frames a record */
static void ht_emit_bt(unsigned int type, const unsigned long *frames,
		       unsigned int n, bool urgent)
{
	struct ht_record rec[1 + HT_BT_MAX_FRAMES / 2];
	unsigned int i, nrec;

	if (unlikely(!ht.bulk))
		return;
	if (!frames)
		n = 0;
	if (n > HT_BT_MAX_FRAMES)
		n = HT_BT_MAX_FRAMES;
	nrec = 1 + (n + 1) / 2;
	rec[0].info = ht_info(HT_EV_BACKTRACE, 0, 0, 0);
	rec[0].a0 = n;
	rec[0].a1 = type;
	for (i = 1; i < nrec; i++) {
		unsigned int f = 2 * (i - 1);

		rec[i].info = ht_info(HT_EV_FRAMES, 0, 0, 0);
		rec[i].a0 = frames[f];
		rec[i].a1 = f + 1 < n ? frames[f + 1] : 0;
	}
	ht_emit_unit(rec, nrec, nrec, urgent);
}

/**
 * ht_emit_backtrace() - record the call trace of the event just recorded
 * @type:   the type of that event (HT_EV_PANIC, HT_EV_OOPS, HT_EV_BUG,
 *          HT_EV_WARN), emitted just before on this CPU
 * @frames: code addresses, innermost first: the faulting ip (if there are
 *          registers), then return addresses; may be NULL when @n is 0
 * @n:      number of addresses; more than HT_BT_MAX_FRAMES are cut off
 *
 * Writes one HT_EV_BACKTRACE record and (@n + 1) / 2 HT_EV_FRAMES
 * records, all with the same timestamp, as one unit: they are stored or
 * lost together, in consecutive slots with consecutive sequence numbers.
 * Safe from any context; takes no lock and allocates nothing (the records
 * are built on the stack, 544 bytes at most).  The caller unwinds the
 * stack: the library knows nothing of the kernel's unwinder.
 */
void ht_emit_backtrace(unsigned int type, const unsigned long *frames,
		       unsigned int n)
{
	ht_emit_bt(type, frames, n, false);
}

/**
 * ht_emit_backtrace_urgent() - ht_emit_backtrace(), and through the doorbell
 * @type:   the type of the event it follows, which was urgent too
 * @frames: code addresses, innermost first; may be NULL when @n is 0
 * @n:      number of addresses; more than HT_BT_MAX_FRAMES are cut off
 *
 * As ht_emit_urgent() does for its record, the unit also goes through
 * the doorbell, byte-identical, so that the host has the call trace of a
 * panic even if it never reads the rings again.
 */
void ht_emit_backtrace_urgent(unsigned int type, const unsigned long *frames,
			      unsigned int n)
{
	ht_emit_bt(type, frames, n, true);
}

/**
 * ht_early_write() - append stamped-as-one-unit records to an early buffer
 * @e:   the early buffer
 * @cpu: CPU number to stamp
 * @rec: records; their seq and cpu fields are filled in here
 * @n:   number of records
 *
 * The sequence number is derived from the buffer (stored + lost), so the
 * buffer needs no other state.  Caller masks interrupts.
 */
void ht_early_write(struct ht_early *e, unsigned int cpu, struct ht_record *rec,
		    unsigned int n)
{
	__u32 count = e->count;
	__u32 seq = count + (__u32)e->lost;
	unsigned int i;

	for (i = 0; i < n; i++)
		rec[i].info |= ht_info(0, 0, cpu, seq + i);
	if (e->state != HT_EARLY_ACTIVE || count > e->capacity ||
	    n > e->capacity - count) {
		e->lost += n;
		return;
	}
	for (i = 0; i < n; i++)
		e->rec[count + i] = rec[i];
	/*
	 * Release: a host recovering the buffer from guest RAM after a crash
	 * reads count, then the records; it must not see a count that covers
	 * records not yet written.
	 */
	ht_store_release(&e->count, count + n);
}

/**
 * ht_early_record_tsc() - record an event that happened at @tsc into an
 * early buffer, nothing else
 * @e:    the early buffer
 * @tsc:  when it happened (the kernel's entry code reads the TSC before it
 *        can call anything and records the event later)
 * @type: enum ht_event_type
 * @a0:   first argument word
 * @a1:   second argument word
 *
 * Touches no global state: usable with interrupts off, before .bss is
 * cleared, on the boot CPU.
 */
void ht_early_record_tsc(struct ht_early *e, __u64 tsc, unsigned int type,
			 __u64 a0, __u64 a1)
{
	struct ht_record rec;

	rec.tsc = tsc;
	rec.info = ht_info(type, 0, 0, 0);
	rec.a0 = a0;
	rec.a1 = a1;
	ht_early_write(e, 0, &rec, 1);
}

/**
 * ht_early_record() - record an event into an early buffer, nothing else
 * @e:    the early buffer
 * @type: enum ht_event_type
 * @a0:   first argument word
 * @a1:   second argument word
 *
 * As ht_early_record_tsc(), stamped with the clock now.
 */
void ht_early_record(struct ht_early *e, unsigned int type, __u64 a0, __u64 a1)
{
	ht_early_record_tsc(e, ht_plat_clock(), type, a0, a1);
}

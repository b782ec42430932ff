// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests of the guest library on the hosted test platform, read back
 * with the real host reader (libhtrace): encoding, rings, wrap-around, loss,
 * strings, the early buffer hand-over, transports and their selection.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "ht_internal.h"
#include "htrace.h"
#include "tap.h"

#define MAX_EVENTS	8192

static struct htr_event events[MAX_EVENTS];
static unsigned int nr_events;
static struct htr_decoder dec;

/* reset() - the library back in its boot-time state, no events collected */
static void reset(void)
{
	ht_test_reset();
	nr_events = 0;
	htr_decoder_free(&dec);
	htr_decoder_init(&dec, 64);
}

/* new_area() - zeroed, aligned memory for a control area */
static void *new_area(unsigned int cpus, unsigned int recs, __u64 *size)
{
	void *p;

	*size = ht_area_size(cpus, recs);
	p = aligned_alloc(64, (*size + 63) & ~63ULL);
	memset(p, 0, *size);
	return p;
}

/* collect_rec() - decode one record into events[] */
static int collect_rec(void *ctx, const struct ht_record *rec, unsigned int ring)
{
	struct htr_event out[2];
	int i, n = htr_decode(&dec, rec, out);

	(void)ctx;
	(void)ring;
	for (i = 0; i < n && nr_events < MAX_EVENTS; i++)
		events[nr_events++] = out[i];
	return 0;
}

/* collect_bytes() - decode a byte stream of records (port transport) */
static void collect_bytes(const unsigned char *p, unsigned long len)
{
	struct ht_record r;
	unsigned long off;

	for (off = 0; off + sizeof(r) <= len; off += sizeof(r)) {
		memcpy(&r, p + off, sizeof(r));
		collect_rec(NULL, &r, 0);
	}
}

/* ring_of() - ring header of CPU @i in an area */
static struct ht_ring_hdr *ring_of(void *area, unsigned int i)
{
	struct ht_ctl *c = area;

	return (struct ht_ring_hdr *)((char *)area + c->rings_offset +
				      i * c->ring_stride);
}

/* find() - first collected event of @type, or NULL */
static const struct htr_event *find(unsigned int type)
{
	unsigned int i;

	for (i = 0; i < nr_events; i++)
		if (events[i].type == type)
			return &events[i];
	return NULL;
}

static const __u32 cpuid_kvm_intel[][5] = {
	{ 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69 },	/* GenuineIntel */
	{ 1, 0, 0, 0x80000000, 0 },
	{ 0x40000000, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d },
	{ 0xffffffff },
};

static const __u32 cpuid_tcg_amd[][5] = {
	{ 0, 0xd, 0x68747541, 0x444d4163, 0x69746e65 },	/* AuthenticAMD */
	{ 1, 0, 0, 0x80000000, 0 },
	{ 0x40000000, 0x40000001, 0x54474354, 0x43544743, 0x47435447 },
	{ 0xffffffff },
};

static const __u32 cpuid_bare[][5] = {
	{ 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69 },
	{ 1, 0, 0, 0, 0 },
	{ 0xffffffff },
};

/* test_encoding() - the info word packs and unpacks at the field limits */
static void test_encoding(void)
{
	__u64 i = ht_info(0xfff, 15, 0xffff, 0xffffffff);

	is(i, ~0ULL, "all-ones fields fill the info word");
	i = ht_info(HT_EV_INITCALL_END, 3, 513, 0x89abcdef);
	is(ht_info_type(i), HT_EV_INITCALL_END, "type round-trips");
	is(ht_info_ncont(i), 3, "ncont round-trips");
	is(ht_info_cpu(i), 513, "cpu round-trips");
	is(ht_info_seq(i), 0x89abcdef, "seq round-trips");
	is(ht_info_type(ht_info(0x1234, 0, 0, 0)), 0x234, "type is masked to 12 bits");
}

/* test_basic_ring() - events on two CPUs arrive in their rings, decoded */
static void test_basic_ring(void)
{
	__u64 size;
	void *area;
	struct htr_area a;
	const struct htr_event *e;

	reset();
	ht_test_cpuid_table = cpuid_tcg_amd;
	ok(ht_setup(HT_MODE_AUTO, ht_detect_hypervisor(), ht_detect_amd()) == 0,
	   "auto mode sets up under TCG");
	area = new_area(4, 256, &size);
	ok(ht_rings_init(area, 0x100000, size, 4, 256) == 0, "rings init");
	ht_emit(HT_EV_INITCALL_BEGIN, 0xffffffff81000000ULL, HT_LEVEL_DEVICE);
	ht_emit(HT_EV_INITCALL_END, 0xffffffff81000000ULL, (__u64)-19);
	ht_test_cpu = 2;
	ht_emit(HT_EV_ASYNC_BEGIN, 0x1234, 7);
	ok(htr_area_open(&a, area, size, 0, true) == 0, "reader validates the area");
	is(a.ctl.nr_rings, 4, "reader sees 4 rings");
	is(htr_area_drain(&a, collect_rec, NULL), 4, "4 records drained");
	is(nr_events, 4, "4 events decoded");
	is(events[0].type, HT_EV_ANNOUNCE, "announce comes first");
	is(events[0].a0, 0x100000, "announce carries the area's physical address");
	e = find(HT_EV_INITCALL_END);
	ok(e && e->a1 == (__u64)-19 && e->cpu == 0 && e->seq == 2,
	   "initcall end: ret -19, cpu 0, seq 2");
	e = find(HT_EV_ASYNC_BEGIN);
	ok(e && e->cpu == 2 && e->seq == 0 && e->a1 == 7, "cpu 2's first record has seq 0");
	ok(events[1].tsc <= events[2].tsc, "timestamps are monotonic on one CPU");
	is(ring_of(area, 0)->tail, 3, "reader wrote its tail back");
	is(ht_test_port_len, 32, "announce also rang the port doorbell");
	ok(!memcmp(ht_test_port_buf, &((struct ht_record *)(ring_of(area, 0) + 1))[0], 32),
	   "doorbell copy is byte-identical to the ring record");
	is(dec.seq_lost + dec.bad, 0, "no loss, no bad records");
	htr_area_close(&a);
	free(area);
}

/* test_wrap() - a ring drained while it wraps around many times */
static void test_wrap(void)
{
	unsigned int i, j, bad = 0;
	__u64 size;
	void *area;
	struct htr_area a;

	reset();
	ht_setup(HT_MODE_SHMEM, HT_HV_NONE, 0);
	area = new_area(1, 256, &size);
	ht_rings_init(area, 0, size, 1, 256);
	htr_area_open(&a, area, size, 0, true);
	for (i = 0; i < 40; i++) {
		for (j = 0; j < 100; j++)
			ht_emit(HT_EV_FUNC_ENTRY, i * 100 + j, 0);
		htr_area_drain(&a, collect_rec, NULL);
	}
	is(nr_events, 4001, "4000 events plus announce across 15 wraps");
	for (i = 1; i < nr_events; i++)
		bad += events[i].a0 != i - 1 || events[i].seq != i;
	is(bad, 0, "every record in order with contiguous seq");
	is(ring_of(area, 0)->lost, 0, "no loss when the reader keeps up");
	is(a.rings[0].errors, 0, "no protocol errors");
	htr_area_close(&a);
	free(area);
}

/* test_full() - a full ring counts what it drops, and seq gaps agree */
static void test_full(void)
{
	unsigned int i;
	__u64 size;
	void *area;
	struct htr_area a;
	struct ht_ring_hdr *h;

	reset();
	ht_setup(HT_MODE_SHMEM, HT_HV_NONE, 0);
	area = new_area(1, 256, &size);
	ht_rings_init(area, 0, size, 1, 256);
	h = ring_of(area, 0);
	for (i = 0; i < 300; i++)
		ht_emit(HT_EV_FUNC_ENTRY, i, 0);
	is(h->head, 256, "ring holds 256 records");
	is(h->lost, 45, "the 45 that did not fit are counted");
	htr_area_open(&a, area, size, 0, true);
	htr_area_drain(&a, collect_rec, NULL);
	is(htr_stream_pending_loss(&dec, 0, h->head + h->lost), 45,
	   "trailing loss shows against the counters");
	for (i = 0; i < 10; i++)
		ht_emit(HT_EV_FUNC_EXIT, i, 0);
	htr_area_drain(&a, collect_rec, NULL);
	is(nr_events, 266, "266 events arrived");
	is(dec.seq_lost, 45, "seq gap equals the lost counter exactly");
	is(events[256].seq, 301, "first record after the loss has seq 301");
	is(htr_stream_pending_loss(&dec, 0, h->head + h->lost), 0,
	   "nothing pending once a later record arrived");
	htr_area_close(&a);
	free(area);
}

/* test_strings() - strings of every awkward length survive the trip */
static void test_strings(void)
{
	static const unsigned int lens[] = { 0, 1, 7, 8, 23, 24, 25, 48, 359, 360, 361, 500 };
	char s[600];
	unsigned int i, bad = 0, bad_ncont = 0;
	__u64 size;
	void *area;
	struct htr_area a;

	reset();
	ht_setup(HT_MODE_SHMEM, HT_HV_NONE, 0);
	area = new_area(1, 1024, &size);
	ht_rings_init(area, 0, size, 1, 1024);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		unsigned int k;

		for (k = 0; k < lens[i]; k++)
			s[k] = 'A' + (k * 7 + i) % 26;
		s[lens[i]] = '\0';
		ht_emit_str(HT_EV_USER_MARKER, i, lens[i], s);
	}
	ht_emit_str(HT_EV_DEVICE_BEGIN, 1, 2, NULL);
	ht_emit_str(HT_EV_USER_MARKER, 99, 0, "<script>alert(1)</script>");
	htr_area_open(&a, area, size, 0, true);
	htr_area_drain(&a, collect_rec, NULL);
	is(nr_events, 1 + 12 + 2, "one event per string, plus announce");
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		const struct htr_event *e = &events[1 + i];
		unsigned int want = lens[i] > HT_STR_MAX ? HT_STR_MAX : lens[i];
		unsigned int k;

		for (k = 0; k < lens[i]; k++)
			s[k] = 'A' + (k * 7 + i) % 26;
		bad += e->type != HT_EV_USER_MARKER || e->a0 != i ||
		       e->str_len != want || memcmp(e->str, s, want) ||
		       e->str[want] || (e->flags & HTR_EV_F_STR_BROKEN);
		if (i + 1 < sizeof(lens) / sizeof(lens[0]))
			bad_ncont += events[2 + i].seq - e->seq !=
				     1 + (want + 23) / 24;
	}
	is(bad, 0, "lengths 0..500: content, length, truncation at 360");
	is(bad_ncont, 0, "each string used ceil(len/24) continuation records");
	ok(events[13].type == HT_EV_DEVICE_BEGIN && events[13].str_len == 0 &&
	   (events[13].flags & HTR_EV_F_STR), "NULL string is an empty string");
	ok(!strcmp(events[14].str, "<script>alert(1)</script>"),
	   "markup arrives verbatim (escaping is the output's job)");
	is(dec.broken_str + dec.bad + dec.seq_lost, 0, "no broken strings");
	htr_area_close(&a);
	free(area);
}

/* test_string_all_or_nothing() - a string that does not fit is lost whole */
static void test_string_all_or_nothing(void)
{
	unsigned int i;
	__u64 size;
	void *area;
	struct htr_area a;
	struct ht_ring_hdr *h;
	char s[100];

	reset();
	ht_setup(HT_MODE_SHMEM, HT_HV_NONE, 0);
	area = new_area(1, 256, &size);
	ht_rings_init(area, 0, size, 1, 256);
	h = ring_of(area, 0);
	for (i = 0; i < 252; i++)
		ht_emit(HT_EV_FUNC_ENTRY, i, 0);
	memset(s, 'x', 96);
	s[96] = '\0';
	ht_emit_str(HT_EV_PANIC, 0, 0, s);	/* 1 + 4 records, 3 free */
	is(h->head, 253, "no part of the string was stored");
	is(h->lost, 5, "all 5 records of the string counted as lost");
	htr_area_open(&a, area, size, 0, true);
	htr_area_drain(&a, collect_rec, NULL);
	ht_emit_str(HT_EV_PANIC, 0, 0, s);
	htr_area_drain(&a, collect_rec, NULL);
	ok(find(HT_EV_PANIC) && find(HT_EV_PANIC)->str_len == 96,
	   "the next string arrives whole");
	is(dec.seq_lost, 5, "the gap is exactly 5");
	is(dec.broken_str, 0, "no broken string was seen");
	htr_area_close(&a);
	free(area);
}

/* test_early() - records from before the rings move into the boot CPU's ring */
static void test_early(void)
{
	__u64 size;
	void *area;
	struct htr_area a;
	struct htr_early e;
	const struct htr_event *mv;
	unsigned int i, bad = 0;

	reset();
	ht_early_record(&ht_early_buf, HT_EV_KERNEL_ENTRY, 0x1000000, 0);
	ht_emit(HT_EV_START_KERNEL, 0, 0);
	ht_emit(HT_EV_PHASE_BEGIN, HT_PHASE_SETUP_ARCH, 0);
	ht_emit_str(HT_EV_USER_MARKER, 0, 0, "early string");
	is(ht_early_buf.count, 5, "3 records and a 1-continuation string stored early");
	ok(htr_early_find(&e, &ht_early_buf, sizeof(ht_early_buf)) == 0 &&
	   e.count == 5 && e.state == HT_EARLY_ACTIVE,
	   "post-mortem scan finds the active early buffer");
	ht_test_cpuid_table = cpuid_tcg_amd;
	ht_setup(HT_MODE_AUTO, ht_detect_hypervisor(), 0);
	ht_emit(HT_EV_PHASE_END, HT_PHASE_SETUP_ARCH, 0);
	ok(ht_test_port_len == 32 && !memcmp(ht_test_port_buf, &ht_early_buf.rec[5], 32),
	   "once the doorbell is known, early records are copied to it");
	area = new_area(2, 256, &size);
	ht_rings_init(area, 0, size, 2, 256);
	is(ht_early_buf.state, HT_EARLY_MOVED, "early buffer marked moved");
	htr_area_open(&a, area, size, 0, true);
	htr_area_drain(&a, collect_rec, NULL);
	is(nr_events, 7, "4 early events + string + announce + early_moved");
	is(events[0].type, HT_EV_KERNEL_ENTRY, "kernel entry first");
	ok(!strcmp(events[3].str, "early string"), "early string intact");
	for (i = 0; i < nr_events; i++)
		bad += events[i].cpu != 0;
	is(bad, 0, "all on the boot CPU");
	is(events[5].type, HT_EV_ANNOUNCE, "announce follows the early records");
	is(events[5].seq, 6, "seq continues across the hand-over");
	mv = find(HT_EV_EARLY_MOVED);
	ok(mv && mv->a0 == 6 && mv->a1 == 0, "early_moved says 6 records, 0 lost");
	ht_test_port_len = 0;
	ht_emit(HT_EV_PHASE_BEGIN, HT_PHASE_MM_INIT, 0);
	is(ht_test_port_len, 0, "with rings up, ordinary records skip the doorbell");
	is(dec.seq_lost, 0, "no gaps");
	htr_area_close(&a);
	free(area);
}

/* test_early_overflow() - an overflowing early buffer counts, and seq shows it */
static void test_early_overflow(void)
{
	__u64 size;
	void *area;
	struct htr_area a;
	unsigned int i;

	reset();
	for (i = 0; i < 300; i++)
		ht_emit(HT_EV_FUNC_ENTRY, i, 0);
	is(ht_early_buf.count, HT_EARLY_RECORDS, "early buffer full");
	is(ht_early_buf.lost, 300 - HT_EARLY_RECORDS, "overflow counted");
	ht_setup(HT_MODE_SHMEM, HT_HV_NONE, 0);
	area = new_area(1, 512, &size);
	ht_rings_init(area, 0, size, 1, 512);
	is(ring_of(area, 0)->lost, 300 - HT_EARLY_RECORDS,
	   "early loss carried into the ring's counter");
	htr_area_open(&a, area, size, 0, true);
	htr_area_drain(&a, collect_rec, NULL);
	is(events[HT_EARLY_RECORDS].type, HT_EV_ANNOUNCE, "announce after the early records");
	is(events[HT_EARLY_RECORDS].seq, 300, "announce's seq counts the lost ones");
	is(dec.seq_lost, 300 - HT_EARLY_RECORDS, "seq gap equals the early loss");
	htr_area_close(&a);
	free(area);
}

/* test_selection() - the right transports for each mode and hypervisor */
static void test_selection(void)
{
	static const char *const names[] = { "off", "shmem", "hypercall", "port", "batch", "auto" };
	enum ht_mode m;
	unsigned int i, good = 0;

	for (i = 0; i < 6; i++)
		good += ht_parse_mode(names[i], &m) == 0 && m == (enum ht_mode)i &&
			!strcmp(ht_mode_name(m), names[i]);
	is(good, 6, "every mode name parses and prints back");
	m = HT_MODE_PORT;
	ok(ht_parse_mode("shmemx", &m) == -1 && m == HT_MODE_PORT, "bad name rejected, mode kept");
	ok(ht_parse_mode("", &m) == -1 && ht_parse_mode(NULL, &m) == -1, "empty and NULL rejected");

	reset();
	ht_test_cpuid_table = cpuid_kvm_intel;
	is(ht_detect_hypervisor(), HT_HV_KVM, "KVM signature detected");
	is(ht_detect_amd(), 0, "Intel: vmcall");
	ht_setup(HT_MODE_AUTO, HT_HV_KVM, 0);
	ok(!strcmp(ht_bulk_name(), "shmem") && !strcmp(ht_doorbell_name(), "hypercall"),
	   "auto under KVM: shmem + hypercall doorbell");

	ht_test_cpuid_table = cpuid_tcg_amd;
	is(ht_detect_hypervisor(), HT_HV_OTHER, "TCG is another hypervisor");
	is(ht_detect_amd(), 1, "AMD: vmmcall");
	ht_setup(HT_MODE_AUTO, HT_HV_OTHER, 1);
	ok(!strcmp(ht_bulk_name(), "shmem") && !strcmp(ht_doorbell_name(), "port"),
	   "auto under TCG: shmem + port doorbell");
	ok(ht_setup(HT_MODE_HYPERCALL, HT_HV_OTHER, 1) == -1, "hypercall mode refused without KVM");
	ok(ht_setup(HT_MODE_BATCH, HT_HV_OTHER, 1) == -1, "batch mode refused without KVM");

	ht_test_cpuid_table = cpuid_bare;
	is(ht_detect_hypervisor(), HT_HV_NONE, "bare metal detected");
	ht_setup(HT_MODE_AUTO, HT_HV_NONE, 0);
	ok(!strcmp(ht_doorbell_name(), "none"), "bare metal: no doorbell in auto mode");
	ht_setup(HT_MODE_PORT, HT_HV_NONE, 0);
	ok(!strcmp(ht_bulk_name(), "port"), "explicit port mode honoured anywhere");
	ht_setup(HT_MODE_OFF, HT_HV_KVM, 0);
	ok(!strcmp(ht_bulk_name(), "off") && !strcmp(ht_doorbell_name(), "none"), "off is off");
	ht_test_port_len = 0;
	ht_test_hc_count = 0;
	ht_emit(HT_EV_FUNC_ENTRY, 1, 2);
	ht_emit_urgent(HT_EV_PANIC, 0, 0, "x");
	ok(!ht_test_port_len && !ht_test_hc_count, "off emits nothing anywhere");
}

/* test_port() - the port transport writes whole records, early ones first */
static void test_port(void)
{
	reset();
	ht_emit(HT_EV_START_KERNEL, 0, 0);
	ht_setup(HT_MODE_PORT, HT_HV_OTHER, 0);
	is(ht_test_port_len, 32, "early record flushed to the port at setup");
	is(ht_early_buf.state, HT_EARLY_MOVED, "and the early buffer marked moved");
	ht_emit(HT_EV_LEVEL_BEGIN, HT_LEVEL_CORE, 0);
	ht_emit_str(HT_EV_PANIC, 0xabc, 1, "Kernel panic - not syncing: test");
	is(ht_test_port_len, 32 * (1 + 1 + 1 + 2), "5 records of 32 bytes");
	is(ht_test_port_calls, 3, "one rep outsb per event, string included");
	collect_bytes(ht_test_port_buf, ht_test_port_len);
	is(nr_events, 3, "3 events decode from the byte stream");
	ok(events[2].type == HT_EV_PANIC && !strcmp(events[2].str, "Kernel panic - not syncing: test"),
	   "panic message intact");
	is(events[0].seq + 1, events[1].seq, "port records continue the early seq");
	is(dec.seq_lost + dec.bad, 0, "clean stream");
}

/* test_hypercall() - one vmcall/vmmcall per record, words in rbx..rsi */
static void test_hypercall(void)
{
	unsigned int i;

	reset();
	ht_setup(HT_MODE_HYPERCALL, HT_HV_KVM, 1);
	ht_emit(HT_EV_INITCALL_BEGIN, 0xffffffff81234567ULL, 6);
	ht_emit_str(HT_EV_USER_MARKER, 5, 0, "hello from the guest, 30 bytes");
	is(ht_test_hc_count, 1 + 1 + 2, "4 hypercalls");
	for (i = 0; i < ht_test_hc_count; i++) {
		struct ht_record r = { ht_test_hc[i].a[0], ht_test_hc[i].a[1],
				       ht_test_hc[i].a[2], ht_test_hc[i].a[3] };

		if (ht_test_hc[i].nr != HT_HC_RECORD || !ht_test_hc[i].amd)
			break;
		collect_rec(NULL, &r, 0);
	}
	is(i, 4, "all with nr HT_HC_RECORD through vmmcall on AMD");
	ok(nr_events == 2 && events[0].a0 == 0xffffffff81234567ULL &&
	   !strcmp(events[1].str, "hello from the guest, 30 bytes"), "records decode");
}

/* test_batch() - batch mode kicks the host once per N records */
static void test_batch(void)
{
	__u64 size;
	void *area;
	unsigned int i;

	reset();
	ht_setup(HT_MODE_BATCH, HT_HV_KVM, 0);
	ht_set_batch(4);
	area = new_area(1, 256, &size);
	ht_rings_init(area, 0, size, 1, 256);
	ok(((struct ht_ctl *)area)->flags & HT_CTL_F_BATCH, "control area says batch");
	is(ht_test_hc_count, 1, "announce went through the hypercall doorbell");
	for (i = 0; i < 10; i++)
		ht_emit(HT_EV_FUNC_ENTRY, i, 0);
	is(ht_test_hc_count, 1 + 2, "two batch kicks for 11 records");
	ok(ht_test_hc[1].nr == HT_HC_BATCH && ht_test_hc[1].a[0] == 0 &&
	   ht_test_hc[1].a[1] == 4, "first kick: cpu 0, head 4");
	ht_flush();
	ok(ht_test_hc_count == 4 && ht_test_hc[3].a[1] == 11, "flush kicks the remainder: head 11");
	ht_flush();
	is(ht_test_hc_count, 4, "flush with nothing new does nothing");
	free(area);
}

/* test_urgent() - urgent records go to the ring and, identical, the doorbell */
static void test_urgent(void)
{
	__u64 size;
	void *area;
	struct htr_area a;
	struct ht_record *slot;
	unsigned int i, same = 1;

	reset();
	ht_setup(HT_MODE_AUTO, HT_HV_KVM, 0);
	area = new_area(1, 256, &size);
	ht_rings_init(area, 0, size, 1, 256);
	ht_test_hc_count = 0;
	ht_emit_urgent(HT_EV_PANIC, 0xffffffff81999999ULL, 1, "Kernel panic - not syncing: VFS");
	is(ht_test_hc_count, 3, "head + 2 continuations through the doorbell");
	slot = (struct ht_record *)(ring_of(area, 0) + 1) + 1;
	for (i = 0; i < 3; i++)
		same &= slot[i].tsc == ht_test_hc[i].a[0] && slot[i].info == ht_test_hc[i].a[1] &&
			slot[i].a0 == ht_test_hc[i].a[2] && slot[i].a1 == ht_test_hc[i].a[3];
	ok(same, "doorbell records are identical to the ring's");
	htr_area_open(&a, area, size, 0, true);
	htr_area_drain(&a, collect_rec, NULL);
	ok(find(HT_EV_PANIC) && !strcmp(find(HT_EV_PANIC)->str, "Kernel panic - not syncing: VFS"),
	   "panic in the ring too");
	for (i = 0; i < 300; i++)
		ht_emit(HT_EV_FUNC_ENTRY, i, 0);
	ht_test_cpu = 0;
	ht_test_hc_count = 0;
	ht_emit_urgent(HT_EV_BOOT_DONE, 0, 0, NULL);
	ok(ht_test_hc_count == 1 && ht_info_seq(ht_test_hc[0].a[1]) == 4 + 300,
	   "full ring: the doorbell copy still carries the right seq");
	htr_area_close(&a);
	free(area);
}

/* test_backtrace() - a backtrace is one unit: head, frames, one tsc, consecutive seq */
static void test_backtrace(void)
{
	unsigned long frames[HT_BT_MAX_FRAMES + 8];
	const struct htr_event *e;
	unsigned int i, good;
	struct htr_area a;
	__u64 size;
	void *area;

	for (i = 0; i < HT_BT_MAX_FRAMES + 8; i++)
		frames[i] = 0xffffffff81000000UL + 0x100 * i;
	reset();
	ht_setup(HT_MODE_AUTO, HT_HV_KVM, 0);
	area = new_area(1, 256, &size);
	ht_rings_init(area, 0, size, 1, 256);
	ht_test_hc_count = 0;
	ht_emit_urgent(HT_EV_PANIC, 0, 1, NULL);
	ht_emit_backtrace_urgent(HT_EV_PANIC, frames, 5);
	is(ht_test_hc_count, 1 + 1 + 3, "urgent: panic, backtrace head and 3 frame records rang the doorbell");
	ht_emit_backtrace(HT_EV_WARN, frames, HT_BT_MAX_FRAMES + 8);
	ht_emit_backtrace(HT_EV_BUG, NULL, 3);
	is(ht_test_hc_count, 5, "not urgent: the ring only");
	htr_area_open(&a, area, size, 0, true);
	htr_area_drain(&a, collect_rec, NULL);
	e = find(HT_EV_BACKTRACE);
	ok(e && e->a0 == 5 && e->a1 == HT_EV_PANIC && e[-1].type == HT_EV_PANIC,
	   "backtrace head: 5 frames, follows the panic");
	good = e && e + 3 < events + nr_events;
	for (i = 1; good && i <= 3; i++)
		good = e[i].type == HT_EV_FRAMES && e[i].tsc == e->tsc && e[i].seq == e->seq + i &&
		       e[i].a0 == frames[2 * i - 2] && e[i].a1 == (i < 3 ? frames[2 * i - 1] : 0);
	ok(good, "3 frame records: the frames innermost first, the same tsc, consecutive seq, a1 0 past the last");
	e = e ? e + 4 : NULL;
	ok(e && e->type == HT_EV_BACKTRACE && e->a0 == HT_BT_MAX_FRAMES && e->a1 == HT_EV_WARN &&
	   e[HT_BT_MAX_FRAMES / 2].type == HT_EV_FRAMES &&
	   e[HT_BT_MAX_FRAMES / 2].a1 == frames[HT_BT_MAX_FRAMES - 1],
	   "40 frames are cut to HT_BT_MAX_FRAMES (16 frame records)");
	e = e ? e + 1 + HT_BT_MAX_FRAMES / 2 : NULL;
	ok(e && e->type == HT_EV_BACKTRACE && e->a0 == 0 && e + 1 == events + nr_events,
	   "no frames: the head alone, saying 0");
	is(dec.seq_lost + dec.bad, 0, "no loss, no bad records");
	htr_area_close(&a);
	free(area);
}

/* test_hostile_tail() - a host tail that makes no sense never causes overwrites */
static void test_hostile_tail(void)
{
	__u64 size;
	void *area;
	struct ht_ring_hdr *h;
	struct ht_record first;
	unsigned int i;

	reset();
	ht_setup(HT_MODE_SHMEM, HT_HV_NONE, 0);
	area = new_area(1, 256, &size);
	ht_rings_init(area, 0, size, 1, 256);
	h = ring_of(area, 0);
	for (i = 0; i < 255; i++)
		ht_emit(HT_EV_FUNC_ENTRY, i, 0);
	first = *(struct ht_record *)(h + 1);
	h->tail = 1000;		/* ahead of head */
	ht_emit(HT_EV_FUNC_ENTRY, 1, 0);
	ok(h->head == 256 && h->lost == 1, "tail ahead of head: record counted lost");
	h->tail = (__u64)-5;	/* more than a ring behind */
	ht_emit(HT_EV_FUNC_ENTRY, 2, 0);
	is(h->lost, 2, "tail far behind: counted lost");
	ok(!memcmp(&first, h + 1, sizeof(first)), "slot 0 never overwritten");
	h->tail = 1;		/* a sane tail frees one slot */
	ht_emit(HT_EV_FUNC_ENTRY, 3, 0);
	ok(h->head == 257 && h->lost == 2, "a sane tail lets the guest go on");
	free(area);
}

/* count_type() - collected events of @type */
static unsigned int count_type(unsigned int type)
{
	unsigned int i, n = 0;

	for (i = 0; i < nr_events; i++)
		n += events[i].type == type;
	return n;
}

/*
 * shmem_up() - the library on shmem rings of @recs records for @cpus
 * CPUs, and a live reader on them that has taken the announcement; the
 * area (free it) is returned, its size in @size
 */
static void *shmem_up(unsigned int cpus, unsigned int recs, __u64 *size, struct htr_area *a)
{
	void *area;

	reset();
	ht_setup(HT_MODE_SHMEM, HT_HV_NONE, 0);
	area = new_area(cpus, recs, size);
	ht_rings_init(area, 0, *size, cpus, recs);
	htr_area_open(a, area, *size, 0, true);
	htr_area_drain(a, NULL, NULL);
	return area;
}

/* test_hints() - the host's hints in a ring header become VCPU_PCPU records */
static void test_hints(void)
{
	struct htr_area a;
	struct ht_ring_hdr *h;
	__u64 size;
	void *area;

	area = shmem_up(2, 256, &size, &a);
	h = ring_of(area, 0);
	ht_emit(HT_EV_LEVEL_BEGIN, 1, 0);
	nr_events = 0;
	htr_area_drain(&a, collect_rec, NULL);
	ok(nr_events == 1 && count_type(HT_EV_VCPU_PCPU) == 0, "no hint: no VCPU_PCPU record");

	is(htr_ring_hint(&a, 0, 3, 1000), 0, "the host writes a hint into ring 0");
	ok(h->host_pcpu == 4 && h->host_run_delay == 1000, "host_pcpu is CPU + 1, run delay beside");
	ht_emit(HT_EV_LEVEL_END, 1, 0);
	ht_emit(HT_EV_LEVEL_BEGIN, 2, 0);
	nr_events = 0;
	htr_area_drain(&a, collect_rec, NULL);
	ok(nr_events == 3 && events[0].type == HT_EV_VCPU_PCPU &&
	   events[0].a0 == ht_vcpu_pcpu(0, 4) && events[0].a1 == 1000,
	   "one VCPU_PCPU record, before the record that noticed: unknown -> CPU 3, delay 1000");
	ok(events[0].tsc == events[1].tsc && events[1].seq == events[0].seq + 1,
	   "it carries that record's time and the sequence number before it");
	is(dec.seq_lost + dec.bad, 0, "no gap, nothing bad");

	htr_ring_hint(&a, 0, 1, 2500);
	ht_emit_str(HT_EV_USER_MARKER, 1, 0, "a string unit");
	nr_events = 0;
	htr_area_drain(&a, collect_rec, NULL);
	ok(nr_events == 2 && events[0].type == HT_EV_VCPU_PCPU &&
	   events[0].a0 == ht_vcpu_pcpu(4, 2) && events[1].type == HT_EV_USER_MARKER &&
	   !strcmp(events[1].str, "a string unit"),
	   "a migration to CPU 1 before a string unit, which stays whole");

	ht_test_cpu = 1;
	ht_emit(HT_EV_LEVEL_END, 2, 0);
	ht_test_cpu = 0;
	nr_events = 0;
	htr_area_drain(&a, collect_rec, NULL);
	ok(nr_events == 1 && events[0].cpu == 1, "each ring has its own hint: CPU 1 saw none");

	/* hostile words: the largest, then flipping on every record */
	h->host_pcpu = 0xffffffff;
	h->host_run_delay = ~0ULL;
	ht_emit(HT_EV_LEVEL_BEGIN, 3, 0);
	nr_events = 0;
	htr_area_drain(&a, collect_rec, NULL);
	ok(nr_events == 2 && events[0].a0 == ht_vcpu_pcpu(2, 0xffffffff) && events[0].a1 == ~0ULL,
	   "the largest words are copied, not used");
	for (unsigned int i = 0; i < 100; i++) {
		h->host_pcpu = i & 1 ? 7 : 8;
		ht_emit(HT_EV_FUNC_ENTRY, i, 0);
	}
	nr_events = 0;
	htr_area_drain(&a, collect_rec, NULL);
	ok(nr_events == 200 && count_type(HT_EV_VCPU_PCPU) == 100 && dec.seq_lost + dec.bad == 0,
	   "a host that changes the hint before every record doubles them, no more");

	/* a full ring: the hint record and the one that noticed are lost alike */
	for (unsigned int i = 0; i < 300; i++)
		ht_emit(HT_EV_FUNC_ENTRY, i, 0);
	h->host_pcpu = 1;
	ht_emit(HT_EV_FUNC_ENTRY, 300, 0);
	is(h->lost, 46, "full ring: 44 records and the hint with its record counted lost");
	nr_events = 0;
	htr_area_drain(&a, collect_rec, NULL);
	ht_emit(HT_EV_LEVEL_END, 3, 0);
	htr_area_drain(&a, collect_rec, NULL);
	is(dec.seq_lost, 46, "the reader counts the same loss from the sequence gap");
	ok(events[nr_events - 1].type == HT_EV_LEVEL_END &&
	   count_type(HT_EV_VCPU_PCPU) == 0, "no hint record twice for one change");
	htr_area_close(&a);
	ok(htr_area_open(&a, area, size, 0, false) == 0 && htr_ring_hint(&a, 0, 1, 0) &&
	   htr_ring_hint(&a, 5, 1, 0), "no hints through a read-only area or to a ring out of range");
	htr_area_close(&a);
	free(area);
}

static volatile int flipping, flipped;

/*
 * flipper() - a hostile host: rewrites ring 0's hints as fast as it can,
 * never to 0, so the guest's first record after it started sees a change
 */
static void *flipper(void *arg)
{
	struct ht_ring_hdr *h = arg;
	__u64 x = 88172645463325252ULL;

	while (__atomic_load_n(&flipping, __ATOMIC_RELAXED)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		__atomic_store_n(&h->host_pcpu, (__u32)(x % 5) + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&h->host_run_delay, x, __ATOMIC_RELAXED);
		__atomic_store_n(&flipped, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * test_hints_concurrent() - a host thread rewriting the hints while the
 * guest emits: nothing stalls, nothing else changes, and the records the
 * guest made of them form one chain (each one's "before" is the last
 * one's "now": the guest's copy is its own)
 */
static void test_hints_concurrent(void)
{
	unsigned int i, hints = 0, funcs = 0, bad_chain = 0;
	__u32 prev = 0;
	struct htr_area a;
	pthread_t t;
	__u64 size;
	void *area;

	area = shmem_up(1, 8192, &size, &a);
	flipping = 1;
	flipped = 0;
	pthread_create(&t, NULL, flipper, ring_of(area, 0));
	/* the host has written at least once before the guest starts */
	while (!__atomic_load_n(&flipped, __ATOMIC_ACQUIRE))
		sched_yield();
	for (i = 0; i < 4000; i++)
		ht_emit(HT_EV_FUNC_ENTRY, i, 0);
	flipping = 0;
	pthread_join(t, NULL);
	nr_events = 0;
	htr_area_drain(&a, collect_rec, NULL);
	for (i = 0; i < nr_events; i++) {
		if (events[i].type == HT_EV_FUNC_ENTRY) {
			bad_chain += events[i].a0 != funcs++;
			continue;
		}
		hints++;
		bad_chain += (__u32)(events[i].a0 >> 32) != prev;
		prev = (__u32)events[i].a0;
	}
	ok(funcs == 4000 && hints >= 1 && bad_chain == 0 && ring_of(area, 0)->lost == 0 &&
	   dec.seq_lost + dec.bad == 0,
	   "4000 records under a flipping host: all there in order, and the hint records chain");
	htr_area_close(&a);
	free(area);
}

/* test_orphans_and_nesting() - CPUs without rings, and NMI-style nesting */
static void test_orphans_and_nesting(void)
{
	__u64 size;
	void *area;
	struct ht_ctl *c;

	reset();
	ht_setup(HT_MODE_SHMEM, HT_HV_NONE, 0);
	area = new_area(2, 256, &size);
	ht_rings_init(area, 0, size, 2, 256);
	c = area;
	ht_test_cpu = 5;
	ht_emit(HT_EV_FUNC_ENTRY, 1, 0);
	ht_emit_str(HT_EV_USER_MARKER, 1, 0, "0123456789012345678901234");
	is(c->orphan_lost, 4, "CPU 5 has no ring: 1 + 3 records counted as orphans");
	ht_test_cpu = 200;
	ht_emit(HT_EV_FUNC_ENTRY, 1, 0);
	is(c->orphan_lost, 5, "CPU beyond HT_MAX_CPUS: counted, per-CPU state untouched");
	ht_test_cpu = 1;
	ht.cpu[1].busy = 1;
	ht_emit(HT_EV_FUNC_ENTRY, 1, 0);
	ok(c->orphan_lost == 6 && ring_of(area, 1)->head == 0,
	   "a write nested into another on its CPU is dropped and counted");
	ht.cpu[1].busy = 0;
	ht_emit(HT_EV_FUNC_ENTRY, 1, 0);
	is(ring_of(area, 1)->head, 1, "and the CPU records again afterwards");
	free(area);
}

/* test_rings_init_args() - bad geometry is refused and the early buffer stays */
static void test_rings_init_args(void)
{
	__u64 size;
	void *area;

	reset();
	area = new_area(2, 512, &size);
	ok(ht_rings_init(area, 0, size, 2, 300) == -1, "non power of two refused");
	ok(ht_rings_init(area, 0, size, 2, 128) == -1, "smaller than the early buffer refused");
	ok(ht_rings_init(area, 0, size - 1, 2, 512) == -1, "area too small refused");
	ok(ht_rings_init((char *)area + 8, 0, size - 8, 1, 256) == -1, "misaligned refused");
	ok(ht_rings_init(area, 0, size, 0, 512) == -1, "zero CPUs refused");
	ok(ht_rings_init(area, 0, size, HT_MAX_CPUS + 1, 512) == -1, "too many CPUs refused");
	ok(((struct ht_ctl *)area)->magic == 0 && ht_early_buf.state == HT_EARLY_ACTIVE,
	   "nothing published, early buffer still active");
	ht_setup(HT_MODE_PORT, HT_HV_OTHER, 0);
	ok(ht_rings_init(area, 0, size, 2, 512) == -1, "no rings when the bulk transport is the port");
	ht_setup(HT_MODE_SHMEM, HT_HV_OTHER, 0);
	ht_set_tsc_khz(2400000);
	ok(ht_rings_init(area, 0x2000, size, 2, 512) == 0, "good geometry accepted");
	ht_set_tsc_khz(2900000);
	ht_set_kaslr(0x1e000000, 0x3000000);
	ok(((struct ht_ctl *)area)->tsc_khz == 2900000 &&
	   ((struct ht_ctl *)area)->kaslr_virt == 0x1e000000 &&
	   ((struct ht_ctl *)area)->kaslr_phys == 0x3000000, "tsc_khz and KASLR in the control area");
	ok(((struct ht_ctl *)area)->early_phys ==
	   (__u64)(unsigned long)&ht_early_buf - ht_test_phys_delta, "early buffer's address published");
	free(area);
}

/*
 * test_printk() - ht_set_printk() before the area is remembered and
 * published with it, after it goes straight in; HT_EV_PRINTK each time
 */
static void test_printk(void)
{
	const struct htr_event *e;
	struct htr_area a;
	unsigned int n = 0, i;
	__u64 size;
	void *area;

	reset();
	area = new_area(1, 512, &size);
	ht_setup(HT_MODE_SHMEM, HT_HV_OTHER, 0);
	ht_set_printk(0x1234000);
	ok(ht_rings_init(area, 0, size, 1, 512) == 0, "rings up after ht_set_printk()");
	ok(((struct ht_ctl *)area)->printk_phys == 0x1234000,
	   "remembered address published with the area");
	ht_set_printk(0x5678000);
	ok(((struct ht_ctl *)area)->printk_phys == 0x5678000, "a new address goes straight in");
	ok(htr_area_open(&a, area, size, 0, true) == 0, "area opens");
	htr_area_drain(&a, collect_rec, NULL);
	htr_area_close(&a);
	e = find(HT_EV_PRINTK);
	ok(e && e->a0 == 0x1234000, "HT_EV_PRINTK of the early call moved into the ring");
	for (i = 0; i < nr_events; i++)
		n += events[i].type == HT_EV_PRINTK;
	ok(n == 2 && events[nr_events - 1].type == HT_EV_PRINTK &&
	   events[nr_events - 1].a0 == 0x5678000, "and the second one after it");
	free(area);
}

/* main() - run every test */
int main(void)
{
	test_encoding();
	test_basic_ring();
	test_wrap();
	test_full();
	test_strings();
	test_string_all_or_nothing();
	test_early();
	test_early_overflow();
	test_selection();
	test_port();
	test_hypercall();
	test_batch();
	test_urgent();
	test_backtrace();
	test_hostile_tail();
	test_hints();
	test_hints_concurrent();
	test_orphans_and_nesting();
	test_rings_init_args();
	test_printk();
	htr_decoder_free(&dec);
	return done_testing();
}

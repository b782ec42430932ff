// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Host reader against hostile and damaged memory images: every bad header
 * is refused with the right error, a lying ring head never makes the reader
 * step outside the ring, the decoder rejects what the ABI forbids, and the
 * scanners find the real structures among false candidates.
 */
#include <stdlib.h>
#include <string.h>

#include "ht_internal.h"
#include "htrace.h"
#include "tap.h"

#define IMG_SIZE	(1 << 20)

static unsigned char *img;
static unsigned long long seen;

/* count_rec() - drain callback that only counts */
static int count_rec(void *ctx, const struct ht_record *rec, unsigned int ring)
{
	(void)ctx;
	(void)rec;
	(void)ring;
	seen++;
	return 0;
}

/* put_ctl() - write a valid control area for @nr rings of @recs at @off */
static struct ht_ctl *put_ctl(size_t off, unsigned int nr, unsigned int recs)
{
	struct ht_ctl *c = (struct ht_ctl *)(img + off);

	memset(c, 0, sizeof(*c));
	c->magic = HT_CTL_MAGIC;
	c->version = HT_ABI_VERSION;
	c->hdr_size = sizeof(*c);
	c->nr_rings = nr;
	c->rec_size = HT_RECORD_SIZE;
	c->ring_records = recs;
	c->rings_offset = sizeof(*c);
	c->ring_stride = sizeof(struct ht_ring_hdr) + (__u64)recs * HT_RECORD_SIZE;
	c->area_size = c->rings_offset + nr * c->ring_stride;
	return c;
}

/* ring() - ring @i of the control area at @off */
static struct ht_ring_hdr *ring(size_t off, unsigned int i)
{
	struct ht_ctl *c = (struct ht_ctl *)(img + off);

	return (struct ht_ring_hdr *)(img + off + c->rings_offset + i * c->ring_stride);
}

/* expect_open() - htr_area_open() on the image gives @want */
static void expect_open(size_t off, int want, const char *what)
{
	struct htr_area a;
	int err = htr_area_open(&a, img, IMG_SIZE, off, true);

	is(err, want, what);
	if (!err)
		htr_area_close(&a);
}

/* test_bad_headers() - each kind of bad control area is refused */
static void test_bad_headers(void)
{
	struct ht_ctl *c;

	memset(img, 0, IMG_SIZE);
	put_ctl(0, 2, 256);
	expect_open(0, HTR_OK, "valid area opens");
	expect_open(64, HTR_E_NOTFOUND, "no magic");
	expect_open(8, HTR_E_INVAL, "misaligned offset");
	expect_open(IMG_SIZE - 64, HTR_E_RANGE, "header cut off by the end of the image");
	expect_open(IMG_SIZE + 64, HTR_E_RANGE, "offset past the image");

	c = put_ctl(0, 2, 256);
	c->version = HT_ABI_VERSION + 1;
	expect_open(0, HTR_E_VERSION, "newer ABI version refused");
	c = put_ctl(0, 2, 256);
	c->hdr_size = 64;
	expect_open(0, HTR_E_GEOMETRY, "wrong header size");
	c = put_ctl(0, 2, 256);
	c->rec_size = 16;
	expect_open(0, HTR_E_GEOMETRY, "wrong record size");
	c = put_ctl(0, 2, 256);
	c->ring_records = 300;
	expect_open(0, HTR_E_GEOMETRY, "ring size not a power of two");
	c = put_ctl(0, 2, 256);
	c->ring_records = 0;
	expect_open(0, HTR_E_GEOMETRY, "zero ring size");
	c = put_ctl(0, 2, 256);
	c->ring_records = 1U << 31;
	expect_open(0, HTR_E_GEOMETRY, "huge ring size");
	c = put_ctl(0, 2, 256);
	c->nr_rings = 0;
	expect_open(0, HTR_E_GEOMETRY, "zero rings");
	c = put_ctl(0, 2, 256);
	c->nr_rings = HT_MAX_RINGS + 1;
	expect_open(0, HTR_E_GEOMETRY, "too many rings");
	c = put_ctl(0, 2, 256);
	c->ring_stride -= 64;
	expect_open(0, HTR_E_GEOMETRY, "stride smaller than a ring: rings would overlap");
	c = put_ctl(0, 2, 256);
	c->rings_offset = 8;
	expect_open(0, HTR_E_GEOMETRY, "rings inside the header");
	c = put_ctl(0, 2, 256);
	c->rings_offset = 128 + 32;
	expect_open(0, HTR_E_GEOMETRY, "misaligned rings");
	c = put_ctl(0, 2, 256);
	c->area_size = 100;
	expect_open(0, HTR_E_GEOMETRY, "area size smaller than its rings");
	c = put_ctl(0, 2, 256);
	c->rings_offset = 1ULL << 62;
	c->area_size = ~0ULL;
	expect_open(0, HTR_E_GEOMETRY, "offsets that would overflow");
	c = put_ctl(0, 1024, 1U << 16);
	expect_open(0, HTR_E_RANGE, "rings past the end of the image");
	c = put_ctl(IMG_SIZE - 4096, 1, 256);
	expect_open(IMG_SIZE - 4096, HTR_E_RANGE, "area starting near the end runs past it");
}

/* test_lying_head() - head values that break the protocol are contained */
static void test_lying_head(void)
{
	struct htr_area a;
	struct ht_ring_hdr *h;

	memset(img, 0, IMG_SIZE);
	put_ctl(0, 1, 256);
	h = ring(0, 0);
	htr_area_open(&a, img, IMG_SIZE, 0, true);

	h->head = 100;
	seen = 0;
	is(htr_ring_drain(&a, 0, count_rec, NULL), 100, "100 records drained");
	is(h->tail, 100, "tail written back");

	h->head = 100 + 1000000;	/* a million ahead: more than a ring */
	seen = 0;
	is(htr_ring_drain(&a, 0, count_rec, NULL), 256, "at most one ring's worth is read");
	ok(a.rings[0].errors == 1 && a.rings[0].skipped == 1000000 - 256,
	   "the violation and the skipped records are counted");

	h->head = 50;			/* backwards */
	seen = 0;
	is(htr_ring_drain(&a, 0, count_rec, NULL), 0, "head moving backwards yields nothing");
	is(a.rings[0].errors, 2, "and counts as a violation");
	h->head = 60;
	is(htr_ring_drain(&a, 0, count_rec, NULL), 10, "draining resumes from the new window");

	h->head = ~0ULL;		/* wraps the 64-bit counters */
	is(htr_ring_drain(&a, 0, count_rec, NULL), 256, "all-ones head still bounded by the ring");
	is(htr_ring_drain(&a, 5, count_rec, NULL), HTR_E_INVAL, "ring index out of range refused");
	htr_area_close(&a);

	htr_area_open(&a, img, IMG_SIZE, 0, false);
	h->head = ~0ULL;
	h->tail = 7;
	htr_ring_drain(&a, 0, NULL, NULL);
	is(h->tail, 7, "a read-only reader never writes to the image");
	htr_area_close(&a);
}

/* test_scan() - the scanner skips false candidates and finds the real area */
static void test_scan(void)
{
	struct htr_area a;
	struct htr_early e;
	__u64 magic = HT_CTL_MAGIC;

	memset(img, 0, IMG_SIZE);
	memcpy(img + 4096, &magic, 8);			/* the magic alone, as in code */
	put_ctl(8192, 1, 256)->version = 99;		/* a stale, wrong-version copy */
	put_ctl(65536, 3, 512);
	ok(htr_area_find(&a, img, IMG_SIZE, false) == 0 && a.off == 65536 &&
	   a.ctl.nr_rings == 3, "real area found behind two false candidates");
	htr_area_close(&a);
	memset(img + 65536, 0, 64);
	is(htr_area_find(&a, img, IMG_SIZE, false), HTR_E_VERSION,
	   "without it, the last candidate's error is reported");
	memset(img, 0, IMG_SIZE);
	is(htr_area_find(&a, img, IMG_SIZE, false), HTR_E_NOTFOUND, "empty image: not found");
	is(htr_area_find(&a, img, 7, false), HTR_E_NOTFOUND, "image smaller than a magic");

	/* early buffers */
	magic = HT_EARLY_MAGIC;
	memcpy(img + 1000, &magic, 8);
	{
		struct ht_early *eb = (struct ht_early *)(img + 20008);

		eb->magic = HT_EARLY_MAGIC;
		eb->version = HT_ABI_VERSION;
		eb->hdr_size = offsetof(struct ht_early, rec);
		eb->capacity = HT_EARLY_RECORDS;
		eb->state = HT_EARLY_ACTIVE;
		eb->count = 100000;		/* lies: more than capacity */
		eb->rec[3].a0 = 42;
		ok(htr_early_find(&e, img, IMG_SIZE) == 0 && e.off == 20008,
		   "early buffer found behind a false candidate");
		is(e.count, HT_EARLY_RECORDS, "a count beyond capacity is clamped");
		is(e.rec[3].a0, 42, "records copied");
		eb->capacity = 100000;
		is(htr_early_find(&e, img, IMG_SIZE), HTR_E_GEOMETRY, "wrong capacity refused");
		eb->capacity = HT_EARLY_RECORDS;
		eb->state = 7;
		is(htr_early_find(&e, img, IMG_SIZE), HTR_E_GEOMETRY, "unknown state refused");
		is(htr_early_read(&e, img, IMG_SIZE, IMG_SIZE - 16), HTR_E_RANGE,
		   "early buffer running past the image refused");
	}
}

/* rec() - build a record */
static struct ht_record rec(unsigned int type, unsigned int ncont, unsigned int cpu,
			    __u32 seq, __u64 w0, __u64 a0, __u64 a1)
{
	struct ht_record r = { w0, ht_info(type, ncont, cpu, seq), a0, a1 };

	return r;
}

/* test_decoder() - the decoder refuses what the ABI forbids */
static void test_decoder(void)
{
	struct htr_decoder d;
	struct htr_event out[2];
	struct ht_record r;
	int n;

	is(htr_decoder_init(&d, 0), HTR_E_INVAL, "zero CPUs refused");
	is(htr_decoder_init(&d, HT_MAX_RINGS + 1), HTR_E_INVAL, "too many CPUs refused");
	htr_decoder_init(&d, 2);

	r = rec(HT_EV_FUNC_ENTRY, 0, 2, 0, 1, 2, 3);
	is(htr_decode(&d, &r, out), HTR_E_PROTOCOL, "CPU beyond the streams refused");
	r = rec(HT_EV_INVALID, 0, 0, 0, 0, 0, 0);
	is(htr_decode(&d, &r, out), HTR_E_PROTOCOL, "type 0 refused");
	r = rec(0xf05, 0, 0, 1, 0, 0, 0);
	is(htr_decode(&d, &r, out), HTR_E_PROTOCOL, "host-only type from the guest refused");
	r = rec(HT_EV_CONT, 1, 0, 2, 0x41414141, 0, 0);
	is(htr_decode(&d, &r, out), HTR_E_PROTOCOL, "stray continuation refused");
	is(d.bad, 4, "four bad records counted");

	/* a string cut short by an unrelated record */
	r = rec(HT_EV_PANIC, 3, 0, 3, 100, 0, 0);
	is(htr_decode(&d, &r, out), 0, "string head waits for its parts");
	r = rec(HT_EV_CONT, 1, 0, 4, 0x6c6c6568, 0, 0);	/* "hell" */
	is(htr_decode(&d, &r, out), 0, "first part taken");
	r = rec(HT_EV_FUNC_ENTRY, 0, 0, 5, 200, 9, 9);
	n = htr_decode(&d, &r, out);
	ok(n == 2 && out[0].type == HT_EV_PANIC && (out[0].flags & HTR_EV_F_STR_BROKEN) &&
	   !strcmp(out[0].str, "hell") && out[1].type == HT_EV_FUNC_ENTRY,
	   "cut-short string delivered broken, then the new event");

	/* continuation out of order */
	r = rec(HT_EV_OOPS, 2, 1, 0, 100, 0, 0);
	htr_decode(&d, &r, out);
	r = rec(HT_EV_CONT, 2, 1, 2, 0, 0, 0);
	n = htr_decode(&d, &r, out);
	ok(n == 1 && (out[0].flags & HTR_EV_F_STR_BROKEN), "continuation index 2 before 1: broken");

	/* a string without its NUL in 15 continuations stops at HT_STR_MAX */
	{
		unsigned int i;

		r = rec(HT_EV_WARN, 15, 1, 10, 0, 0, 0);
		htr_decode(&d, &r, out);
		for (i = 1; i <= 15; i++) {
			r = rec(HT_EV_CONT, i, 1, 10 + i, 0x5858585858585858ULL,
				0x5858585858585858ULL, 0x5858585858585858ULL);
			n = htr_decode(&d, &r, out);
		}
		ok(n == 1 && out[0].str_len == HT_STR_MAX && !out[0].str[HT_STR_MAX],
		   "unterminated string bounded at 360 bytes and terminated");
	}

	/* sequence accounting */
	{
		uint64_t before = d.seq_lost;

		r = rec(HT_EV_FUNC_ENTRY, 0, 1, 100, 0, 0, 0);	/* 26 expected */
		htr_decode(&d, &r, out);
		is(d.seq_lost - before, 100 - 26, "a forward jump counts as lost records");
	}
	r = rec(HT_EV_FUNC_ENTRY, 0, 1, 50, 0, 0, 0);
	htr_decode(&d, &r, out);
	is(d.seq_back, 1, "a backward jump is counted apart, not as a huge loss");
	{
		struct htr_decoder w;

		htr_decoder_init(&w, 1);
		r = rec(HT_EV_FUNC_ENTRY, 0, 0, 0xfffffffe, 0, 0, 0);
		htr_decode(&w, &r, out);
		r = rec(HT_EV_FUNC_ENTRY, 0, 0, 0xffffffff, 0, 0, 0);
		htr_decode(&w, &r, out);
		r = rec(HT_EV_FUNC_ENTRY, 0, 0, 0, 0, 0, 0);
		htr_decode(&w, &r, out);
		ok(w.seq_back == 0 && w.seq_lost == 0, "seq wrapping from 2^32-1 to 0 is no gap");
		htr_decoder_free(&w);
	}
	r = rec(HT_EV_DEVICE_BEGIN, 1, 1, 1, 0, 0, 0);
	htr_decode(&d, &r, out);
	ok(htr_decoder_flush(&d, 1, out) == 1 && (out[0].flags & HTR_EV_F_STR_BROKEN),
	   "flush delivers a string still waiting, marked broken");
	is(htr_decoder_flush(&d, 1, out), 0, "nothing left to flush");
	ok(htr_event_name(HT_EV_INITCALL_END) && !strcmp(htr_event_name(HT_EV_INITCALL_END), "initcall_end") &&
	   htr_event_name(0x7ff) == NULL && htr_event_name(HT_EV_INVALID) == NULL,
	   "event names: known, unknown, invalid");
	htr_decoder_free(&d);
}

/* main() - run every test */
int main(void)
{
	img = aligned_alloc(4096, IMG_SIZE);
	test_bad_headers();
	test_lying_head();
	test_scan();
	test_decoder();
	free(img);
	ok(strcmp(htr_strerror(HTR_E_VERSION), "unknown error") &&
	   !strcmp(htr_strerror(12345), "unknown error"), "every error has a message");
	return done_testing();
}

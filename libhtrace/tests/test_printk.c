// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests of the kernel-log reader (libhtrace/printk.c) on images laid
 * out like Linux 6.1's printk ring buffer (fake_printk.h): records in
 * order across many wraps, half-written and committed records, and
 * hostile images: garbage descriptors, lying lengths and ids, a
 * description pointing outside RAM, an odd gen; and the HTF_LOG chunk's
 * round trip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htrace.h"
#include "printk.h"
#include "tracefile.h"
#include "tap.h"
#include "fake_printk.h"

#define IMG_SIZE	(FP_TEXT + 4096)

static unsigned char img[IMG_SIZE];

/* where() - the struct ht_printk in the image */
static struct ht_printk *where(void)
{
	return (struct ht_printk *)(img + FP_WHERE);
}

/* fill() - a fresh ring of 64 descriptors and 4 KiB of text with @n records */
static void fill(struct fake_prb *f, unsigned int n)
{
	char s[64];
	unsigned int i;

	memset(img, 0, sizeof(img));
	fp_init(f, img, 6, 12);
	for (i = 0; i < n; i++) {
		snprintf(s, sizeof(s), "message %u%.*s", i, (int)(i % 37), "abcdefghijklmnopqrstuvwxyz0123456789");
		fp_add(f, s, 1000ULL * i, i % 8, 2);
	}
}

/* in_order() - seq strictly increasing and each text names its seq */
static int in_order(const struct htr_log *log)
{
	char s[32];
	size_t i;

	for (i = 0; i < log->nr; i++) {
		if (i && log->rec[i].seq <= log->rec[i - 1].seq)
			return 0;
		snprintf(s, sizeof(s), "message %llu", (unsigned long long)log->rec[i].seq);
		if (strncmp(log->rec[i].text, s, strlen(s)) ||
		    log->rec[i].ts_nsec != 1000 * log->rec[i].seq ||
		    log->rec[i].level != log->rec[i].seq % 8 ||
		    strlen(log->rec[i].text) != log->rec[i].text_len)
			return 0;
	}
	return 1;
}

/* test_basic() - a few records, then many wraps of both rings */
static void test_basic(void)
{
	struct htr_log log;
	struct fake_prb f;

	htr_log_init(&log);
	fill(&f, 10);
	ok(htr_log_read(&log, img, sizeof(img), FP_WHERE) == 0, "ten records read");
	ok(log.nr == 10 && in_order(&log) && log.rec[0].seq == 0 &&
	   !strcmp(log.rec[3].text, "message 3abc"), "all ten, in order, with their fields");
	ok(log.skipped[HTR_LOG_SKIP_REUSABLE] == 1 && htr_log_skipped(&log) == 1,
	   "only the bootstrap descriptor skipped (reusable)");
	fill(&f, 5000);
	ok(htr_log_read(&log, img, sizeof(img), FP_WHERE) == 0, "5000 records through a small ring");
	ok(f.wrapped > 10, "the writer wrapped data blocks");
	diag("wrapping blocks written: %u", f.wrapped);
	ok(log.nr > 40 && in_order(&log) && log.rec[log.nr - 1].seq == 4999,
	   "the newest records, in order, the last one last");
	diag("records kept: %zu", log.nr);
	ok(log.rec[log.nr - 1].seq - log.rec[0].seq + 1 == log.nr, "no gap between them");
	htr_log_free(&log);
}

/* test_half_written() - reserved and committed records at the head */
static void test_half_written(void)
{
	struct htr_log log;
	struct fake_prb f;

	htr_log_init(&log);
	fill(&f, 300);
	fp_add(&f, "message 300 committed", 300000, 4, 1);
	fp_add(&f, "message 301 reserved", 301000, 5, 0);
	ok(htr_log_read(&log, img, sizeof(img), FP_WHERE) == 0, "read with a half-written head");
	ok(log.nr && log.rec[log.nr - 1].seq == 300 &&
	   (log.rec[log.nr - 1].flags & HTR_LOG_F_COMMITTED), "committed record kept and flagged");
	ok(log.skipped[HTR_LOG_SKIP_RESERVED] == 1, "reserved record skipped and counted");
	htr_log_free(&log);
}

/* test_lies() - records whose parts disagree are skipped, by reason */
static void test_lies(void)
{
	struct htr_log log;
	struct fake_prb f;
	uint64_t head, d, in;
	size_t before;

	htr_log_init(&log);
	fill(&f, 300);
	htr_log_read(&log, img, sizeof(img), FP_WHERE);
	before = log.nr;
	head = fp_ld64(&f, FP_PRB + 24);
	/* the newest: a text_len longer than its block */
	in = fp_info(&f, head);
	memcpy(img + in + 16, &(uint16_t){ 60000 }, 2);
	/* the one before: its block names another descriptor */
	d = fp_desc(&f, head - 1);
	if ((fp_ld64(&f, d + 8) >> 12) == (fp_ld64(&f, d + 16) >> 12))
		fp_st64(&f, FP_TEXT + (fp_ld64(&f, d + 8) & 4095), 12345);
	else
		fp_st64(&f, FP_TEXT, 12345);	/* a wrapping block's data */
	/* and before it: a seq for another slot */
	fp_st64(&f, fp_info(&f, head - 2), 7);
	/* and before: a state_var for another id */
	fp_st64(&f, fp_desc(&f, head - 3), (2ULL << 62) | (head + 99));
	/* and before: a block that is not 8-aligned */
	fp_st64(&f, fp_desc(&f, head - 4) + 8, fp_ld64(&f, fp_desc(&f, head - 4) + 8) + 3);
	/* and before: a block outside the ring's lpos window */
	fp_st64(&f, fp_desc(&f, head - 5) + 8, fp_ld64(&f, fp_desc(&f, head - 5) + 8) + (1ULL << 40));
	fp_st64(&f, fp_desc(&f, head - 5) + 16, fp_ld64(&f, fp_desc(&f, head - 5) + 16) + (1ULL << 40));
	/* and before: text lost (FAILED_LPOS) */
	fp_st64(&f, fp_desc(&f, head - 6) + 8, 1);
	fp_st64(&f, fp_desc(&f, head - 6) + 16, 1);
	ok(htr_log_read(&log, img, sizeof(img), FP_WHERE) == 0, "read with lying records");
	ok(log.skipped[HTR_LOG_SKIP_LENGTH] == 1 && log.skipped[HTR_LOG_SKIP_BLOCK_ID] == 1 &&
	   log.skipped[HTR_LOG_SKIP_SEQ] == 1 && log.skipped[HTR_LOG_SKIP_MISS] == 1 &&
	   log.skipped[HTR_LOG_SKIP_LPOS] == 2 && log.skipped[HTR_LOG_SKIP_NODATA] == 1,
	   "each lie skipped for its reason");
	ok(log.nr == before - 7 && in_order(&log), "the honest records remain, in order");
	/* a tail more than a ring behind the head */
	fp_st64(&f, FP_PRB + 32, (head - 5000) & FP_ID_MASK);
	ok(htr_log_read(&log, img, sizeof(img), FP_WHERE) == 0 && log.clamped &&
	   log.walked == 64, "a tail a ring behind is clamped to one ring");
	htr_log_free(&log);
}

/* test_garbage() - random descriptors, infos and text: no crash, only consistent records */
static void test_garbage(void)
{
	struct htr_log log;
	struct fake_prb f;
	unsigned int round, i, bad = 0;

	htr_log_init(&log);
	srand(7);
	for (round = 0; round < 200; round++) {
		fill(&f, 100 + round);
		for (i = 0; i < 300; i++) {
			size_t off = FP_DESCS + (size_t)rand() % (IMG_SIZE - FP_DESCS);

			img[off] = (unsigned char)rand();
		}
		if (round % 3 == 0)
			fp_st64(&f, FP_PRB + 24, ((uint64_t)rand() << 32) | (unsigned int)rand());
		if (round % 5 == 0)
			fp_st64(&f, FP_PRB + 64, ((uint64_t)rand() << 32) | (unsigned int)rand());
		if (htr_log_read(&log, img, sizeof(img), FP_WHERE))
			bad++;
		for (i = 0; i < log.nr; i++)
			if (strlen(log.rec[i].text) > log.rec[i].text_len)
				bad++;
	}
	ok(!bad, "200 images with garbage descriptors, infos and text: read, no crash");
	htr_log_free(&log);
}

/* test_where() - a description that lies is refused with a message */
static void test_where(void)
{
	struct htr_log log;
	struct fake_prb f;
	struct ht_printk save;

	htr_log_init(&log);
	fill(&f, 20);
	save = *where();
	ok(htr_log_read(&log, img, sizeof(img), sizeof(img) - 50) == HTR_E_RANGE && log.why &&
	   strstr(log.why, "outside"), "ht_printk past the end of RAM");
	diag("%s", log.why);
	ok(htr_log_read(&log, img, sizeof(img), UINT64_MAX - 8) == HTR_E_RANGE,
	   "an address that overflows: refused");
	where()->text_phys = IMG_SIZE - 100;
	ok(htr_log_read(&log, img, sizeof(img), FP_WHERE) == HTR_E_RANGE,
	   "text ring past the end of RAM");
	diag("%s", log.why);
	*where() = save;
	where()->descs_phys = UINT64_MAX - 64;
	ok(htr_log_read(&log, img, sizeof(img), FP_WHERE) == HTR_E_RANGE,
	   "descriptors at an overflowing address");
	*where() = save;
	where()->gen = 3;
	ok(htr_log_read(&log, img, sizeof(img), FP_WHERE) == HTR_E_PROTOCOL,
	   "odd gen refused");
	diag("%s", log.why);
	*where() = save;
	where()->magic ^= 1;
	ok(htr_log_read(&log, img, sizeof(img), FP_WHERE) == HTR_E_NOTFOUND, "bad magic refused");
	*where() = save;
	where()->version = 99;
	ok(htr_log_read(&log, img, sizeof(img), FP_WHERE) == HTR_E_VERSION, "bad version");
	*where() = save;
	where()->off_caller_id = FP_INFO_SIZE - 2;
	ok(htr_log_read(&log, img, sizeof(img), FP_WHERE) == HTR_E_GEOMETRY,
	   "a field past its struct refused");
	diag("%s", log.why);
	*where() = save;
	where()->desc_count_bits = 40;
	ok(htr_log_read(&log, img, sizeof(img), FP_WHERE) == HTR_E_GEOMETRY,
	   "2^40 descriptors refused");
	*where() = save;
	where()->text_size_bits = 63;
	ok(htr_log_read(&log, img, sizeof(img), FP_WHERE) == HTR_E_GEOMETRY, "2^63 bytes of text");
	*where() = save;
	where()->desc_size = 0xffff;
	ok(htr_log_read(&log, img, sizeof(img), FP_WHERE) == HTR_E_GEOMETRY, "huge descriptors");
	*where() = save;
	ok(htr_log_find(&log, img, sizeof(img), 0) == 0 && log.nr == 20 && log.phys == FP_WHERE,
	   "found by scanning for the magic");
	ok(htr_log_find(&log, img, sizeof(img), 8) == 0 && log.nr == 20,
	   "a wrong hint falls back to the scan");
	where()->magic = 0;
	ok(htr_log_find(&log, img, sizeof(img), 0) == HTR_E_NOTFOUND && log.why,
	   "no struct anywhere: not found");
	htr_log_free(&log);
}

/* test_chunk() - the HTF_LOG payload round trip, its size limit, a cut payload */
static void test_chunk(void)
{
	struct htr_log log, back;
	struct fake_prb f;
	unsigned char *buf;
	size_t len, i;
	int same = 1;

	htr_log_init(&log);
	htr_log_init(&back);
	fill(&f, 500);
	fp_add(&f, "message 500", 500000, 4, 0);
	htr_log_read(&log, img, sizeof(img), FP_WHERE);
	ok(htr_log_encode(&log, HTF_MAX_PAYLOAD, &buf, &len) == 0, "encoded");
	ok(htr_log_decode(&back, buf, len) == 0 && back.nr == log.nr, "decoded, same count");
	for (i = 0; i < log.nr && i < back.nr; i++)
		same &= back.rec[i].seq == log.rec[i].seq && back.rec[i].ts_nsec == log.rec[i].ts_nsec &&
			back.rec[i].level == log.rec[i].level &&
			!strcmp(back.rec[i].text, log.rec[i].text);
	ok(same && back.skipped[HTR_LOG_SKIP_RESERVED] == 1 && back.phys == FP_WHERE &&
	   back.walked == log.walked, "records, skip counts and address survive");
	ok(htr_log_decode(&back, buf, len - 5) == HTR_E_RANGE && back.nr == log.nr - 1,
	   "a cut payload keeps the records before the cut");
	free(buf);
	ok(htr_log_encode(&log, 48 + HTR_LOG_SKIP_NR * 8 + 3 * 64, &buf, &len) == 0 &&
	   htr_log_decode(&back, buf, len) == 0 && back.nr >= 3 && back.nr < log.nr &&
	   back.dropped == log.nr - back.nr && back.rec[back.nr - 1].seq == log.rec[log.nr - 1].seq,
	   "a small limit keeps the newest records and counts the rest dropped");
	free(buf);
	ok(htr_log_decode(&back, "\x02\0\0\0", 4) == HTR_E_RANGE, "a 4-byte payload refused");
	htr_log_free(&log);
	htr_log_free(&back);
}

/* main() - run every test */
int main(void)
{
	test_basic();
	test_half_written();
	test_lies();
	test_garbage();
	test_where();
	test_chunk();
	return done_testing();
}

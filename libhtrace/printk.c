// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: recover the kernel's log from guest RAM (Linux 6.1's
 * lockless printk ring buffer), and the HTF_LOG chunk that carries it.
 *
 * The ring buffer, as kernel/printk/printk_ringbuffer.c lays it out:
 *
 *   desc ring   2^count_bits descriptors { state_var, text_blk_lpos
 *               { begin, next } } and as many struct printk_info; ids run
 *               from tail_id to head_id, the slot is id & (count - 1), the
 *               top two bits of state_var are the state (reserved,
 *               committed, finalized, reusable), the rest its id
 *   text ring   2^size_bits bytes of data blocks { unsigned long id;
 *               char data[]; } at logical positions (lpos) between
 *               tail_lpos and head_lpos; a block that would cross the end
 *               of the ring is stored at offset 0 of the next wrap
 *               instead (a "wrapping" block: begin in one wrap, next in
 *               the next one); lpos with bit 0 set are data-less
 *               (FAILED_LPOS 0x1: the text was lost, NO_LPOS 0x3: none)
 *
 * Everything here is read from a memory image the guest wrote: the
 * description is copied once and validated, each descriptor, info and
 * block id is copied out before it is looked at, and every position is
 * reduced into the ring and checked against the image.
 */
#include <stdlib.h>
#include <string.h>

#include "htrace.h"
#include "printk.h"

#define SV_STATE_SHIFT	62
#define SV_ID_MASK	((1ULL << SV_STATE_SHIFT) - 1)
#define ST_RESERVED	0
#define ST_COMMITTED	1
#define ST_FINALIZED	2
#define ST_REUSABLE	3
#define LPOS_FAILED	0x1ULL
#define LPOS_NONE	0x3ULL
#define BLK_ID_SIZE	8

/**
 * htr_log_init() - make @log an empty log
 * @log: the log
 */
void htr_log_init(struct htr_log *log)
{
	memset(log, 0, sizeof(*log));
}

/**
 * htr_log_free() - release a log's records and texts; it is empty again
 * @log: the log (initialized)
 */
void htr_log_free(struct htr_log *log)
{
	free(log->rec);
	free(log->pool);
	htr_log_init(log);
}

/* ld64() - little-endian u64 at @p */
static uint64_t ld64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* ld32() - little-endian u32 at @p */
static uint32_t ld32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* ld16() - little-endian u16 at @p */
static uint16_t ld16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* in_image() - [@addr, @addr + @len) lies inside an image of @size bytes */
static bool in_image(uint64_t addr, uint64_t len, size_t size)
{
	return addr <= size && len <= size - addr;
}

/* fits() - a field of @width bytes at @off lies inside a struct of @size */
static bool fits(unsigned int off, unsigned int width, unsigned int size)
{
	return off <= size && width <= size - off;
}

/* fail() - record why the log could not be read; returns @err */
static int fail(struct htr_log *log, int err, const char *why)
{
	log->why = why;
	return err;
}

/* check_where() - validate a copy of struct ht_printk against the image */
static int check_where(struct htr_log *log, const struct ht_printk *p,
		       size_t size)
{
	uint64_t count, descs_len, infos_len, text_len;

	if (p->magic != HT_PRINTK_MAGIC)
		return fail(log, HTR_E_NOTFOUND, "no HT_PRINTK_MAGIC at the address the guest gave");
	if (p->version != HT_ABI_VERSION)
		return fail(log, HTR_E_VERSION, "struct ht_printk has an ABI version this build does not read");
	if (p->size != sizeof(struct ht_printk))
		return fail(log, HTR_E_GEOMETRY, "struct ht_printk has the wrong size");
	if (p->gen & 1)
		return fail(log, HTR_E_PROTOCOL, "struct ht_printk is being rewritten (odd gen)");
	if (p->desc_count_bits < HTR_LOG_MIN_DESC_BITS ||
	    p->desc_count_bits > HTR_LOG_MAX_DESC_BITS)
		return fail(log, HTR_E_GEOMETRY, "descriptor count out of range");
	if (p->text_size_bits < HTR_LOG_MIN_TEXT_BITS ||
	    p->text_size_bits > HTR_LOG_MAX_TEXT_BITS)
		return fail(log, HTR_E_GEOMETRY, "text ring size out of range");
	if (!fits(p->off_desc_head, 8, HTR_LOG_PRB_SPAN) ||
	    !fits(p->off_desc_tail, 8, HTR_LOG_PRB_SPAN) ||
	    !fits(p->off_text_head, 8, HTR_LOG_PRB_SPAN) ||
	    !fits(p->off_text_tail, 8, HTR_LOG_PRB_SPAN))
		return fail(log, HTR_E_GEOMETRY, "ring buffer field offset out of range");
	if (p->desc_size < 24 || p->desc_size > HTR_LOG_MAX_DESC_SIZE ||
	    !fits(p->off_state_var, 8, p->desc_size) ||
	    !fits(p->off_text_begin, 8, p->desc_size) ||
	    !fits(p->off_text_next, 8, p->desc_size))
		return fail(log, HTR_E_GEOMETRY, "descriptor size or field offset out of range");
	if (p->info_size < 24 || p->info_size > HTR_LOG_MAX_INFO_SIZE ||
	    !fits(p->off_seq, 8, p->info_size) ||
	    !fits(p->off_ts_nsec, 8, p->info_size) ||
	    !fits(p->off_text_len, 2, p->info_size) ||
	    !fits(p->off_level, 1, p->info_size) ||
	    !fits(p->off_caller_id, 4, p->info_size) ||
	    !fits(p->off_facility, 1, p->info_size))
		return fail(log, HTR_E_GEOMETRY, "info size or field offset out of range");
	/* bounded by the limits above: no overflow */
	count = 1ULL << p->desc_count_bits;
	descs_len = count * p->desc_size;
	infos_len = count * p->info_size;
	text_len = 1ULL << p->text_size_bits;
	if (!in_image(p->prb_phys, HTR_LOG_PRB_SPAN, size))
		return fail(log, HTR_E_RANGE, "the ring buffer struct is outside guest RAM");
	if (!in_image(p->descs_phys, descs_len, size))
		return fail(log, HTR_E_RANGE, "the descriptor array is outside guest RAM");
	if (!in_image(p->infos_phys, infos_len, size))
		return fail(log, HTR_E_RANGE, "the info array is outside guest RAM");
	if (!in_image(p->text_phys, text_len, size))
		return fail(log, HTR_E_RANGE, "the text ring is outside guest RAM");
	return HTR_OK;
}

/* add_text() - copy @len bytes of text into the pool; NULL when out of memory */
static char *add_text(struct htr_log *log, const unsigned char *src,
		      size_t len)
{
	char *p;

	if (len + 1 > log->pool_size - log->pool_used) {
		size_t n = log->pool_size ? log->pool_size : 4096;
		char *q;

		while (n - log->pool_used < len + 1)
			n *= 2;
		q = realloc(log->pool, n);
		if (!q)
			return NULL;
		/* records point into the pool: move them with it */
		for (size_t i = 0; i < log->nr; i++)
			log->rec[i].text = q + (log->rec[i].text - log->pool);
		log->pool = q;
		log->pool_size = n;
	}
	p = log->pool + log->pool_used;
	if (len)
		memcpy(p, src, len);
	p[len] = '\0';
	log->pool_used += len + 1;
	return p;
}

/* add_rec() - append a record with text @src; 0 or HTR_E_NOMEM */
static int add_rec(struct htr_log *log, const struct htr_log_rec *r,
		   const unsigned char *src)
{
	struct htr_log_rec *n;
	char *text;

	if (log->nr == log->alloc) {
		size_t a = log->alloc ? log->alloc * 2 : 256;

		n = realloc(log->rec, a * sizeof(*n));
		if (!n)
			return HTR_E_NOMEM;
		log->rec = n;
		log->alloc = a;
	}
	text = add_text(log, src, r->text_len);
	if (!text)
		return HTR_E_NOMEM;
	log->rec[log->nr] = *r;
	log->rec[log->nr].text = text;
	log->nr++;
	return HTR_OK;
}

/*
 * block_of() - where the data of block [@begin, @next) is in a text ring
 * of @tsize bytes: its offset and size (id included); false for a block
 * the kernel could never have written (see get_data() in
 * printk_ringbuffer.c)
 */
static bool block_of(uint64_t begin, uint64_t next, unsigned int bits,
		     uint64_t *off, uint64_t *len)
{
	uint64_t tsize = 1ULL << bits;

	if ((begin & 7) || (next & 7))
		return false;
	if ((begin >> bits) == (next >> bits) && begin < next) {
		*off = begin & (tsize - 1);
		*len = next - begin;
	} else if (((begin + tsize) >> bits) == (next >> bits)) {
		/* a wrapping block: its data is at the start of the ring */
		*off = 0;
		*len = next & (tsize - 1);
	} else {
		return false;
	}
	return *len >= BLK_ID_SIZE && *len <= tsize && *off + *len <= tsize;
}

/* by_seq() - qsort order of records: by sequence number */
static int by_seq(const void *a, const void *b)
{
	const struct htr_log_rec *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * walk() - take every record between the tail descriptor and the head;
 * 0 or HTR_E_NOMEM
 */
static int walk(struct htr_log *log, const unsigned char *img)
{
	const struct ht_printk *p = &log->where;
	const unsigned char *prb = img + p->prb_phys;
	const unsigned char *text = img + p->text_phys;
	uint64_t count = 1ULL << p->desc_count_bits;
	uint64_t tsize = 1ULL << p->text_size_bits;
	uint64_t head_id, tail_id, n, k, head_lpos, tail_lpos, used, budget;
	bool lpos_ok;
	int err;

	head_id = ld64(prb + p->off_desc_head) & SV_ID_MASK;
	tail_id = ld64(prb + p->off_desc_tail) & SV_ID_MASK;
	head_lpos = ld64(prb + p->off_text_head);
	tail_lpos = ld64(prb + p->off_text_tail);
	/* the ring's own bounds, if they make sense, bound every block */
	used = head_lpos - tail_lpos;
	lpos_ok = used <= tsize;
	n = (head_id - tail_id) & SV_ID_MASK;
	if (n >= count) {
		/* a ring holds at most count ids: start a ring behind the head */
		log->clamped = true;
		n = count - 1;
		tail_id = (head_id - n) & SV_ID_MASK;
	}
	budget = tsize;
	for (k = 0; k <= n; k++) {
		uint64_t id = (tail_id + k) & SV_ID_MASK, idx = id & (count - 1);
		unsigned char d[HTR_LOG_MAX_DESC_SIZE], in[HTR_LOG_MAX_INFO_SIZE];
		uint64_t sv, begin, next, off, len;
		struct htr_log_rec r = { 0 };
		unsigned int state;

		log->walked++;
		memcpy(d, img + p->descs_phys + idx * p->desc_size, p->desc_size);
		sv = ld64(d + p->off_state_var);
		state = (unsigned int)(sv >> SV_STATE_SHIFT);
		if ((sv & SV_ID_MASK) != id) {
			log->skipped[HTR_LOG_SKIP_MISS]++;
			continue;
		}
		if (state == ST_RESERVED || state == ST_REUSABLE) {
			log->skipped[state == ST_RESERVED ? HTR_LOG_SKIP_RESERVED :
				     HTR_LOG_SKIP_REUSABLE]++;
			continue;
		}
		memcpy(in, img + p->infos_phys + idx * p->info_size, p->info_size);
		r.seq = ld64(in + p->off_seq);
		if ((r.seq & (count - 1)) != idx) {
			log->skipped[HTR_LOG_SKIP_SEQ]++;
			continue;
		}
		r.ts_nsec = ld64(in + p->off_ts_nsec);
		r.text_len = ld16(in + p->off_text_len);
		r.level = in[p->off_level] >> 5;
		r.facility = p->off_facility ? in[p->off_facility] : 0;
		r.caller_id = ld32(in + p->off_caller_id);
		r.flags = state == ST_COMMITTED ? HTR_LOG_F_COMMITTED : 0;
		begin = ld64(d + p->off_text_begin);
		next = ld64(d + p->off_text_next);
		if ((begin & 1) && (next & 1)) {
			/* data-less: an empty record, or one whose text was lost */
			if (begin == LPOS_NONE && next == LPOS_NONE && !r.text_len) {
				err = add_rec(log, &r, text);
				if (err)
					return err;
			} else {
				log->skipped[begin == LPOS_FAILED && next == LPOS_FAILED ?
					     HTR_LOG_SKIP_NODATA : HTR_LOG_SKIP_LPOS]++;
			}
			continue;
		}
		if (!block_of(begin, next, p->text_size_bits, &off, &len) ||
		    (lpos_ok && (begin - tail_lpos > used || next - tail_lpos > used))) {
			log->skipped[HTR_LOG_SKIP_LPOS]++;
			continue;
		}
		if ((ld64(text + off) & SV_ID_MASK) != id) {
			log->skipped[HTR_LOG_SKIP_BLOCK_ID]++;
			continue;
		}
		if (r.text_len > len - BLK_ID_SIZE) {
			log->skipped[HTR_LOG_SKIP_LENGTH]++;
			continue;
		}
		if (r.text_len > budget) {
			log->skipped[HTR_LOG_SKIP_BUDGET]++;
			continue;
		}
		budget -= r.text_len;
		err = add_rec(log, &r, text + off + BLK_ID_SIZE);
		if (err)
			return err;
	}
	if (log->nr > 1)
		qsort(log->rec, log->nr, sizeof(*log->rec), by_seq);
	return HTR_OK;
}

/**
 * htr_log_read() - recover the kernel log described at @phys
 * @log:  an initialized log; filled in (free it with htr_log_free())
 * @img:  guest RAM (RAM file offset == guest-physical address)
 * @size: its size
 * @phys: guest-physical address of the guest's struct ht_printk
 *
 * On failure @log->why says what was wrong.
 *
 * Return: 0; HTR_E_RANGE (an address outside the image), HTR_E_NOTFOUND
 * (no magic), HTR_E_VERSION, HTR_E_GEOMETRY (impossible sizes or
 * offsets), HTR_E_PROTOCOL (the guest was rewriting it: odd or changing
 * gen), HTR_E_NOMEM, HTR_E_INVAL.
 */
int htr_log_read(struct htr_log *log, const void *img, size_t size,
		 uint64_t phys)
{
	const unsigned char *m = img;
	struct ht_printk p;
	int err;

	htr_log_free(log);
	if (!img)
		return fail(log, HTR_E_INVAL, "no image");
	if (!in_image(phys, sizeof(p), size))
		return fail(log, HTR_E_RANGE, "struct ht_printk is outside guest RAM");
	/* one copy, validated and then used; gen read again after it */
	memcpy(&p, m + phys, sizeof(p));
	err = check_where(log, &p, size);
	if (err)
		return err;
	if (ld32(m + phys + offsetof(struct ht_printk, gen)) != p.gen)
		return fail(log, HTR_E_PROTOCOL, "struct ht_printk changed while it was read");
	log->phys = phys;
	log->where = p;
	err = walk(log, m);
	if (err) {
		htr_log_free(log);
		return fail(log, err, "out of memory");
	}
	return HTR_OK;
}

/**
 * htr_log_find() - recover the kernel log from the address the guest gave,
 * or else from the first struct ht_printk a scan of the image finds
 * @log:  an initialized log; filled in
 * @img:  guest RAM
 * @size: its size
 * @hint: guest-physical address the guest gave (HT_EV_PRINTK or
 *        ht_ctl.printk_phys), 0 if none
 *
 * The scan tries at most HTR_LOG_MAX_CANDIDATES magic numbers.
 *
 * Return: as htr_log_read(); when nothing validates, the error (and
 * @log->why) of @hint, or of the first candidate the scan found, or
 * HTR_E_NOTFOUND.
 */
int htr_log_find(struct htr_log *log, const void *img, size_t size,
		 uint64_t hint)
{
	const char *why = "no struct ht_printk in guest RAM";
	int err, first = HTR_E_NOTFOUND, tries;
	size_t off = 0, found;

	if (hint) {
		first = htr_log_read(log, img, size, hint);
		if (first == HTR_OK)
			return HTR_OK;
		why = log->why;
	}
	/* a bounded number: each may walk a ring of 2^20 descriptors */
	for (tries = 0; tries < HTR_LOG_MAX_CANDIDATES &&
	     htr_scan(img, size, off, HT_PRINTK_MAGIC, 8, &found) == HTR_OK; tries++) {
		err = htr_log_read(log, img, size, found);
		if (err == HTR_OK)
			return HTR_OK;
		if (first == HTR_E_NOTFOUND) {
			first = err;
			why = log->why;
		}
		off = found + 8;
	}
	htr_log_free(log);
	return fail(log, first, why);
}

/**
 * htr_log_skipped() - descriptors skipped, all reasons together
 * @log: the log
 *
 * Return: the sum of @log->skipped (saturating).
 */
uint64_t htr_log_skipped(const struct htr_log *log)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < HTR_LOG_SKIP_NR; i++)
		n = htr_add_sat(n, log->skipped[i]);
	return n;
}

/**
 * htr_log_skip_name() - a short name for an enum htr_log_skip
 * @reason: the reason
 *
 * Return: a static string (JSON key style), "?" when out of range.
 */
const char *htr_log_skip_name(unsigned int reason)
{
	static const char *const names[HTR_LOG_SKIP_NR] = {
		[HTR_LOG_SKIP_RESERVED] = "reserved",
		[HTR_LOG_SKIP_REUSABLE] = "reusable",
		[HTR_LOG_SKIP_MISS] = "id_mismatch",
		[HTR_LOG_SKIP_SEQ] = "seq_mismatch",
		[HTR_LOG_SKIP_NODATA] = "text_lost",
		[HTR_LOG_SKIP_LPOS] = "bad_block",
		[HTR_LOG_SKIP_BLOCK_ID] = "block_id_mismatch",
		[HTR_LOG_SKIP_LENGTH] = "bad_length",
		[HTR_LOG_SKIP_BUDGET] = "over_budget",
	};

	return reason < HTR_LOG_SKIP_NR ? names[reason] : "?";
}

/**
 * htr_log_level_name() - the kernel's name of a log level (KERN_*)
 * @level: 0-7
 *
 * Return: a static string, "?" when out of range.
 */
const char *htr_log_level_name(unsigned int level)
{
	static const char *const names[8] = {
		"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
	};

	return level < 8 ? names[level] : "?";
}

/* ------------------------------------------------------------------ */
/* The HTF_LOG chunk (layout in tracefile.h)                           */
/* ------------------------------------------------------------------ */

#define LOG_VERSION	1
#define LOG_HDR_SIZE	48
#define LOG_REC_SIZE	32
#define LOG_F_CLAMPED	0x1

/* st64() - store @v little-endian at @p */
static void st64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* st32() - store @v little-endian at @p */
static void st32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* st16() - store @v little-endian at @p */
static void st16(unsigned char *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* rec_bytes() - bytes a record takes in the chunk */
static size_t rec_bytes(const struct htr_log_rec *r)
{
	return LOG_REC_SIZE + (((size_t)r->text_len + 7) & ~(size_t)7);
}

/**
 * htr_log_encode() - the payload of an HTF_LOG chunk
 * @log: the log
 * @max: the payload's size limit (HTF_MAX_PAYLOAD): the newest records
 *       that fit are kept, the others counted as dropped
 * @out: the payload (malloc'ed; the caller frees it)
 * @len: its length
 *
 * Return: 0, HTR_E_NOMEM, or HTR_E_INVAL when @max cannot hold the header.
 */
int htr_log_encode(const struct htr_log *log, size_t max, unsigned char **out,
		   size_t *len)
{
	size_t hdr = LOG_HDR_SIZE + HTR_LOG_SKIP_NR * 8, total = hdr, first;
	unsigned char *buf, *p;
	unsigned int i;

	if (max < hdr)
		return HTR_E_INVAL;
	first = log->nr;
	while (first > 0 && rec_bytes(&log->rec[first - 1]) <= max - total) {
		total += rec_bytes(&log->rec[first - 1]);
		first--;
	}
	buf = calloc(1, total);
	if (!buf)
		return HTR_E_NOMEM;
	st32(buf + 0, LOG_VERSION);
	st32(buf + 4, LOG_HDR_SIZE);
	st32(buf + 8, (uint32_t)(log->nr - first));
	st32(buf + 12, HTR_LOG_SKIP_NR);
	st64(buf + 16, log->phys);
	st64(buf + 24, log->walked);
	st64(buf + 32, htr_add_sat(log->dropped, first));
	st32(buf + 40, log->clamped ? LOG_F_CLAMPED : 0);
	for (i = 0; i < HTR_LOG_SKIP_NR; i++)
		st64(buf + LOG_HDR_SIZE + i * 8, log->skipped[i]);
	p = buf + hdr;
	for (size_t k = first; k < log->nr; k++) {
		const struct htr_log_rec *r = &log->rec[k];

		st64(p + 0, r->seq);
		st64(p + 8, r->ts_nsec);
		st32(p + 16, r->caller_id);
		st16(p + 20, r->text_len);
		p[22] = r->level;
		p[23] = r->facility;
		st32(p + 24, r->flags);
		memcpy(p + LOG_REC_SIZE, r->text, r->text_len);
		p += rec_bytes(r);
	}
	*out = buf;
	*len = total;
	return HTR_OK;
}

/**
 * htr_log_decode() - read the payload of an HTF_LOG chunk
 * @log:     an initialized log; filled in (free it with htr_log_free())
 * @payload: the chunk's payload (from a trace file: checked like any input)
 * @len:     its length
 *
 * Return: 0; HTR_E_VERSION for a payload version this build does not
 * read; HTR_E_RANGE when it is cut short or its counts do not add up
 * (the records before the fault are kept); HTR_E_NOMEM.
 */
int htr_log_decode(struct htr_log *log, const void *payload, size_t len)
{
	const unsigned char *b = payload;
	uint32_t nr, nskip, hsize;
	size_t pos;
	int err;

	htr_log_free(log);
	if (!payload || len < LOG_HDR_SIZE)
		return fail(log, HTR_E_RANGE, "log chunk shorter than its header");
	if (ld32(b) != LOG_VERSION)
		return fail(log, HTR_E_VERSION, "log chunk of an unknown version");
	hsize = ld32(b + 4);
	nr = ld32(b + 8);
	nskip = ld32(b + 12);
	if (hsize < LOG_HDR_SIZE || hsize > len || nskip > 64 ||
	    (size_t)nskip * 8 > len - hsize)
		return fail(log, HTR_E_RANGE, "log chunk header does not fit");
	log->phys = ld64(b + 16);
	log->walked = ld64(b + 24);
	log->dropped = ld64(b + 32);
	log->clamped = ld32(b + 40) & LOG_F_CLAMPED;
	for (uint32_t i = 0; i < nskip && i < HTR_LOG_SKIP_NR; i++)
		log->skipped[i] = ld64(b + hsize + i * 8);
	pos = hsize + (size_t)nskip * 8;
	for (uint32_t k = 0; k < nr; k++) {
		struct htr_log_rec r = { 0 };

		if (len - pos < LOG_REC_SIZE)
			return fail(log, HTR_E_RANGE, "log chunk cut short");
		r.seq = ld64(b + pos);
		r.ts_nsec = ld64(b + pos + 8);
		r.caller_id = ld32(b + pos + 16);
		r.text_len = ld16(b + pos + 20);
		r.level = b[pos + 22] & 7;
		r.facility = b[pos + 23];
		r.flags = ld32(b + pos + 24);
		if (rec_bytes(&r) > len - pos)
			return fail(log, HTR_E_RANGE, "log chunk cut short");
		err = add_rec(log, &r, b + pos + LOG_REC_SIZE);
		if (err)
			return fail(log, err, "out of memory");
		pos += rec_bytes(&r);
	}
	return HTR_OK;
}

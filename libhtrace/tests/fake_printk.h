/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A stand-in for Linux 6.1's printk ring buffer writer, for tests and
 * fuzz seeds: it lays out a struct ht_printk, a struct printk_ringbuffer,
 * descriptors, infos and a text ring in a memory image the way
 * kernel/printk/printk_ringbuffer.c does (initial ids and lpos included,
 * wrapping data blocks, the tail pushed when the ring is full), with the
 * struct layouts of a 6.1 x86_64 kernel.
 */
#ifndef _FAKE_PRINTK_H
#define _FAKE_PRINTK_H

#include <stdint.h>
#include <string.h>

#include "hypertrace_abi.h"

#define FP_WHERE	0x100	/* struct ht_printk */
#define FP_PRB		0x200	/* struct printk_ringbuffer */
#define FP_DESCS	0x400	/* up to 2^6 descriptors */
#define FP_INFOS	0x1000	/* up to 2^6 infos */
#define FP_TEXT		0x4000	/* then the text ring */
#define FP_DESC_SIZE	24	/* struct prb_desc */
#define FP_INFO_SIZE	88	/* struct printk_info */
#define FP_ID_MASK	((1ULL << 62) - 1)

/* struct fake_prb - the writer's view of one ring buffer in an image */
struct fake_prb {
	unsigned char *img;
	unsigned int desc_bits;
	unsigned int text_bits;
	uint64_t next_seq;
	unsigned int wrapped;	/* wrapping blocks written */
};

/* fp_st64() - store a u64 into the image */
static inline void fp_st64(struct fake_prb *f, uint64_t off, uint64_t v)
{
	memcpy(f->img + off, &v, 8);
}

/* fp_ld64() - load a u64 from the image */
static inline uint64_t fp_ld64(const struct fake_prb *f, uint64_t off)
{
	uint64_t v;

	memcpy(&v, f->img + off, 8);
	return v;
}

/* fp_desc() - image offset of descriptor slot @idx */
static inline uint64_t fp_desc(const struct fake_prb *f, uint64_t id)
{
	return FP_DESCS + (id & ((1ULL << f->desc_bits) - 1)) * FP_DESC_SIZE;
}

/* fp_info() - image offset of info slot @idx */
static inline uint64_t fp_info(const struct fake_prb *f, uint64_t id)
{
	return FP_INFOS + (id & ((1ULL << f->desc_bits) - 1)) * FP_INFO_SIZE;
}

/*
 * fp_init() - an empty ring buffer as prb_init() leaves it, and its
 * description; @img must hold FP_TEXT + 2^@text_bits bytes and
 * 2^@desc_bits descriptors must fit below FP_INFOS and infos below FP_TEXT
 */
static inline void fp_init(struct fake_prb *f, unsigned char *img,
			   unsigned int desc_bits, unsigned int text_bits)
{
	uint64_t count = 1ULL << desc_bits, id0 = (0 - (count + 1)) & FP_ID_MASK;
	struct ht_printk p = {
		.magic = HT_PRINTK_MAGIC, .version = HT_ABI_VERSION,
		.size = sizeof(struct ht_printk), .gen = 2,
		.desc_count_bits = desc_bits, .text_size_bits = text_bits,
		.prb_phys = FP_PRB, .descs_phys = FP_DESCS,
		.infos_phys = FP_INFOS, .text_phys = FP_TEXT,
		/* struct printk_ringbuffer of 6.1 on x86_64 */
		.off_desc_head = 24, .off_desc_tail = 32,
		.off_text_head = 64, .off_text_tail = 72,
		.desc_size = FP_DESC_SIZE, .off_state_var = 0,
		.off_text_begin = 8, .off_text_next = 16,
		.info_size = FP_INFO_SIZE, .off_seq = 0, .off_ts_nsec = 8,
		.off_text_len = 16, .off_level = 19, .off_caller_id = 20,
		.off_facility = 18,
	};

	f->img = img;
	f->desc_bits = desc_bits;
	f->text_bits = text_bits;
	f->next_seq = 0;
	f->wrapped = 0;
	memcpy(img + FP_WHERE, &p, sizeof(p));
	fp_st64(f, FP_PRB + 24, id0);
	fp_st64(f, FP_PRB + 32, id0);
	fp_st64(f, FP_PRB + 64, 0 - (1ULL << text_bits));
	fp_st64(f, FP_PRB + 72, 0 - (1ULL << text_bits));
	/* the initial head and tail: reusable, no data */
	fp_st64(f, fp_desc(f, id0), (3ULL << 62) | id0);
	fp_st64(f, fp_desc(f, id0) + 8, 1);
	fp_st64(f, fp_desc(f, id0) + 16, 1);
}

/* fp_pop() - make the oldest record reusable and push both tails past it */
static inline void fp_pop(struct fake_prb *f)
{
	uint64_t tail = fp_ld64(f, FP_PRB + 32), d = fp_desc(f, tail);
	uint64_t next = fp_ld64(f, d + 16);

	fp_st64(f, d, (3ULL << 62) | tail);
	if (!(next & 1))
		fp_st64(f, FP_PRB + 72, next);
	fp_st64(f, FP_PRB + 32, (tail + 1) & FP_ID_MASK);
}

/*
 * fp_add() - write one record in state @state (2 finalized, 1 committed,
 * 0 reserved: half-written) with text @s at time @ts
 */
static inline void fp_add(struct fake_prb *f, const char *s, uint64_t ts,
			  unsigned int level, unsigned int state)
{
	uint64_t count = 1ULL << f->desc_bits, tsize = 1ULL << f->text_bits;
	uint64_t len = strlen(s), size = (8 + len + 7) & ~7ULL;
	uint64_t head = fp_ld64(f, FP_PRB + 24), id = (head + 1) & FP_ID_MASK;
	uint64_t begin = fp_ld64(f, FP_PRB + 64), next = begin + size;
	uint64_t data, seq, d, in;
	unsigned char lv = (unsigned char)(level << 5);

	if ((begin >> f->text_bits) != (next >> f->text_bits)) {
		/* would cross the end: the data goes to the start of the ring */
		next = (next & ~(tsize - 1)) + size;
		data = 0;
		f->wrapped++;
	} else {
		data = begin & (tsize - 1);
	}
	while (((id - fp_ld64(f, FP_PRB + 32)) & FP_ID_MASK) >= count ||
	       next - fp_ld64(f, FP_PRB + 72) > tsize)
		fp_pop(f);
	d = fp_desc(f, id);
	in = fp_info(f, id);
	/* the first use of a slot gets its index as seq, later ones + count */
	seq = f->next_seq++;
	fp_st64(f, FP_TEXT + (begin & (tsize - 1)), id);
	fp_st64(f, FP_TEXT + data, id);
	memcpy(f->img + FP_TEXT + data + 8, s, len);
	memset(f->img + in, 0, FP_INFO_SIZE);
	fp_st64(f, in, seq);
	fp_st64(f, in + 8, ts);
	memcpy(f->img + in + 16, &(uint16_t){ (uint16_t)len }, 2);
	f->img[in + 18] = 0;	/* facility: kernel */
	f->img[in + 19] = lv;
	memcpy(f->img + in + 20, &(uint32_t){ 1 }, 4);
	fp_st64(f, d + 8, begin);
	fp_st64(f, d + 16, next);
	fp_st64(f, d, ((uint64_t)state << 62) | id);
	fp_st64(f, FP_PRB + 24, id);
	fp_st64(f, FP_PRB + 64, next);
}

#endif /* _FAKE_PRINTK_H */

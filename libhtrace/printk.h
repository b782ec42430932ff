/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libhtrace: the kernel's log, read from guest RAM.
 *
 * The guest describes its printk ring buffer in a struct ht_printk
 * (lib/hypertrace_abi.h) and points at it with HT_EV_PRINTK and
 * ht_ctl.printk_phys.  htr_log_read() validates that description and
 * walks Linux 6.1's lockless ring buffer (kernel/printk/printk_ringbuffer.c)
 * from its tail descriptor to its head: committed and finalized records
 * whose descriptor, info and data block agree are kept, in sequence
 * order; everything else is skipped and counted by reason.  Guest memory
 * is hostile: every address, offset, length and count is checked, with
 * overflow-checked arithmetic, before it is used.
 *
 * The collector stores the result in an HTF_LOG chunk (tracefile.h);
 * htr_log_encode() and htr_log_decode() write and read that payload.
 */
#ifndef _HTRACE_PRINTK_H
#define _HTRACE_PRINTK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hypertrace_abi.h"

/* Geometry this reader accepts (the kernel's own limits are 2^26, 2^31). */
#define HTR_LOG_MIN_DESC_BITS	1
#define HTR_LOG_MAX_DESC_BITS	20
#define HTR_LOG_MIN_TEXT_BITS	6
#define HTR_LOG_MAX_TEXT_BITS	28
#define HTR_LOG_MAX_DESC_SIZE	64
#define HTR_LOG_MAX_INFO_SIZE	256
#define HTR_LOG_PRB_SPAN	256	/* bytes of the ring buffer struct read */
#define HTR_LOG_MAX_CANDIDATES	16	/* magic numbers a scan tries */

/* A record's level is 0-7; HTR_LOG_LEVEL_ALL shows every record. */
#define HTR_LOG_LEVEL_ALL	7

/* Flags of a record. */
#define HTR_LOG_F_COMMITTED	0x1	/* committed, not yet finalized (its
					 * writer could still have extended it) */

/* Why a descriptor between the tail and the head was not taken. */
enum htr_log_skip {
	HTR_LOG_SKIP_RESERVED = 0,	/* being written (half-written record) */
	HTR_LOG_SKIP_REUSABLE,		/* freed: its data may be gone */
	HTR_LOG_SKIP_MISS,		/* state_var holds another id */
	HTR_LOG_SKIP_SEQ,		/* info's seq is not for this slot */
	HTR_LOG_SKIP_NODATA,		/* the kernel lost its text (FAILED_LPOS) */
	HTR_LOG_SKIP_LPOS,		/* data block impossible or outside the ring */
	HTR_LOG_SKIP_BLOCK_ID,		/* data block belongs to another id */
	HTR_LOG_SKIP_LENGTH,		/* text_len longer than the data block */
	HTR_LOG_SKIP_BUDGET,		/* more text than the ring holds */
	HTR_LOG_SKIP_NR,
};

/**
 * struct htr_log_rec - one record of the log
 * @seq:       the kernel's sequence number
 * @ts_nsec:   the kernel's timestamp (local_clock()), nanoseconds
 * @caller_id: thread id, or 0x80000000 + CPU in interrupt context
 * @text_len:  bytes in @text, not counting its terminating NUL
 * @level:     syslog level, 0-7
 * @facility:  syslog facility
 * @flags:     HTR_LOG_F_*
 * @text:      the text, NUL-terminated; raw guest bytes (escape on output)
 */
struct htr_log_rec {
	uint64_t seq;
	uint64_t ts_nsec;
	uint32_t caller_id;
	uint16_t text_len;
	uint8_t level;
	uint8_t facility;
	uint32_t flags;
	char *text;
};

/**
 * struct htr_log - the kernel log as recovered
 * @phys:      guest-physical address of the struct ht_printk it came from
 * @where:     that struct, as validated (a copy)
 * @rec:       the records, in sequence order
 * @nr:        how many
 * @alloc:     room in @rec
 * @walked:    descriptors walked from the tail to the head
 * @skipped:   descriptors not taken, by enum htr_log_skip
 * @dropped:   records left out of a trace chunk that was full (oldest first)
 * @clamped:   the descriptor tail was more than a ring behind the head
 * @why:       after a failure, what was wrong (a static string)
 * @pool:      the texts, one allocation
 * @pool_used: bytes of @pool taken
 * @pool_size: bytes in @pool
 */
struct htr_log {
	uint64_t phys;
	struct ht_printk where;
	struct htr_log_rec *rec;
	size_t nr;
	size_t alloc;
	uint64_t walked;
	uint64_t skipped[HTR_LOG_SKIP_NR];
	uint64_t dropped;
	bool clamped;
	const char *why;
	char *pool;
	size_t pool_used;
	size_t pool_size;
};

void htr_log_init(struct htr_log *log);
void htr_log_free(struct htr_log *log);
int htr_log_read(struct htr_log *log, const void *img, size_t size,
		 uint64_t phys);
int htr_log_find(struct htr_log *log, const void *img, size_t size,
		 uint64_t hint);
uint64_t htr_log_skipped(const struct htr_log *log);
const char *htr_log_skip_name(unsigned int reason);
const char *htr_log_level_name(unsigned int level);

int htr_log_encode(const struct htr_log *log, size_t max, unsigned char **out,
		   size_t *len);
int htr_log_decode(struct htr_log *log, const void *payload, size_t len);

#endif /* _HTRACE_PRINTK_H */

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libhtrace: the host side of the Hypertrace ABI.
 *
 * Finds and validates a control area or an early buffer in a memory image
 * (a mapping of guest RAM, or a file saved from it), drains the per-CPU
 * rings, decodes records into events (strings reassembled) and accounts
 * for lost records.  Used by the collector and the analysis tools.
 *
 * Guest memory is hostile: the geometry is validated once and copied,
 * every index is reduced modulo the copied ring size, records are copied
 * out of shared memory before they are looked at, and nothing a guest
 * writes sizes an allocation beyond the HT_MAX_* limits of the ABI.
 */
#ifndef _HTRACE_H
#define _HTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hypertrace_abi.h"

/* Error codes: functions return 0 or a negative HTR_E_* value. */
enum htr_err {
	HTR_OK = 0,
	HTR_E_NOTFOUND = -1,	/* no magic in the image */
	HTR_E_RANGE = -2,	/* structure does not fit in the image */
	HTR_E_VERSION = -3,	/* ABI version this build does not read */
	HTR_E_GEOMETRY = -4,	/* impossible sizes, alignment or counts */
	HTR_E_NOMEM = -5,
	HTR_E_PROTOCOL = -6,	/* the guest broke the ring protocol */
	HTR_E_INVAL = -7,	/* bad argument from the caller */
};

const char *htr_strerror(int err);

/*
 * htr_add_sat() - @a + @b, or UINT64_MAX when that overflows: loss counters
 * come from the guest, and a hostile one must not wrap a sum to near zero
 */
static inline uint64_t htr_add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/**
 * struct htr_ring - host-private state of one ring
 * @tail:      records consumed (our copy; the guest's is never trusted)
 * @head:      head as last read from the guest
 * @lost:      lost counter as last read from the guest
 * @drained:   records handed to the callback
 * @errors:    protocol violations seen (head moved back, or ran ahead)
 * @skipped:   records skipped to resynchronize after a violation
 */
struct htr_ring {
	uint64_t tail;
	uint64_t head;
	uint64_t lost;
	uint64_t drained;
	uint64_t errors;
	uint64_t skipped;
};

/**
 * struct htr_area - a validated control area inside a memory image
 * @img:          start of the image
 * @img_size:     bytes in the image
 * @off:          offset of struct ht_ctl in the image
 * @writable:     tail is written back to the guest (live draining)
 * @ctl:          the header as validated (a copy: the guest may change it)
 * @rings:        per-ring host state, @ctl.nr_rings of them
 */
struct htr_area {
	unsigned char *img;
	size_t img_size;
	size_t off;
	bool writable;
	struct ht_ctl ctl;
	struct htr_ring *rings;
};

int htr_scan(const void *img, size_t size, size_t from, uint64_t magic,
	     size_t align, size_t *found);
int htr_area_open(struct htr_area *a, void *img, size_t size, size_t off,
		  bool writable);
int htr_area_find(struct htr_area *a, void *img, size_t size, bool writable);
void htr_area_close(struct htr_area *a);
uint64_t htr_area_orphans(const struct htr_area *a);
int htr_ring_hint(struct htr_area *a, unsigned int ring, int64_t host_cpu,
		  uint64_t run_delay_ns);

/* Called for each record drained; a non-zero return stops the drain. */
typedef int (*htr_record_fn)(void *ctx, const struct ht_record *rec,
			     unsigned int ring);

long htr_ring_drain(struct htr_area *a, unsigned int ring, htr_record_fn fn,
		    void *ctx);
long htr_area_drain(struct htr_area *a, htr_record_fn fn, void *ctx);

/**
 * struct htr_early - a validated early buffer
 * @off:   offset in the image
 * @count: records it holds (clamped to its capacity)
 * @lost:  records it dropped
 * @state: HT_EARLY_ACTIVE or HT_EARLY_MOVED
 * @rec:   the records, copied out of the image
 */
struct htr_early {
	size_t off;
	uint32_t count;
	uint32_t state;
	uint64_t lost;
	struct ht_record rec[HT_EARLY_RECORDS];
};

int htr_early_read(struct htr_early *e, const void *img, size_t size,
		   size_t off);
int htr_early_find(struct htr_early *e, const void *img, size_t size);

/* Flags of a decoded event. */
#define HTR_EV_F_STR		0x1	/* carries a string */
#define HTR_EV_F_STR_BROKEN	0x2	/* continuations missing or out of order */

/**
 * struct htr_event - one decoded event
 * @tsc:     guest TSC
 * @type:    enum ht_event_type
 * @cpu:     guest CPU
 * @seq:     sequence number of the head record
 * @flags:   HTR_EV_F_*
 * @a0:      first argument word
 * @a1:      second argument word
 * @str_len: bytes in @str, not counting the terminating NUL
 * @str:     the string, NUL-terminated; raw guest bytes (escape on output)
 */
struct htr_event {
	uint64_t tsc;
	uint32_t type;
	uint32_t cpu;
	uint32_t seq;
	uint32_t flags;
	uint64_t a0;
	uint64_t a1;
	uint32_t str_len;
	char str[HT_STR_MAX + 1];
};

/**
 * struct htr_stream - decoding state of one CPU's record stream
 * @started:  a record has been seen
 * @next_seq: sequence number expected next
 * @want:     continuations still expected by @ev
 * @got:      continuations received for @ev
 * @ended:    @ev's string has reached its NUL (or HT_STR_MAX)
 * @ev:       event being assembled
 */
struct htr_stream {
	bool started;
	bool ended;
	uint32_t next_seq;
	unsigned int want;
	unsigned int got;
	struct htr_event ev;
};

/**
 * struct htr_decoder - turns records into events, one stream per CPU
 * @nr_cpus:     streams; records of higher CPUs are rejected
 * @streams:     the per-CPU state, each allocated when its CPU's first
 *               record arrives (most of HT_MAX_RINGS are never used)
 * @nr_used:     one past the highest CPU that has a stream
 * @records:     records fed in
 * @events:      events produced
 * @bad:         records rejected (bad type, CPU, stray continuation)
 * @seq_lost:    records missing according to sequence gaps
 * @seq_back:    records whose sequence number went backwards
 * @broken_str:  strings that arrived incomplete
 */
struct htr_decoder {
	unsigned int nr_cpus;
	struct htr_stream **streams;
	unsigned int nr_used;
	uint64_t records;
	uint64_t events;
	uint64_t bad;
	uint64_t seq_lost;
	uint64_t seq_back;
	uint64_t broken_str;
};

int htr_decoder_init(struct htr_decoder *d, unsigned int nr_cpus);
void htr_decoder_free(struct htr_decoder *d);
int htr_decode(struct htr_decoder *d, const struct ht_record *rec,
	       struct htr_event out[2]);
struct htr_stream *htr_decoder_stream(struct htr_decoder *d, unsigned int cpu);
int htr_decoder_flush(struct htr_decoder *d, unsigned int cpu,
		      struct htr_event *out);
uint64_t htr_stream_pending_loss(const struct htr_decoder *d, unsigned int cpu,
				 uint64_t guest_seq_next);

const char *htr_event_name(unsigned int type);
bool htr_event_has_string(unsigned int type);

#endif /* _HTRACE_H */

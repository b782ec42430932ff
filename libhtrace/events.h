/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libhtrace: events read back from a collector trace or a guest memory
 * image, kept compact (a boot can have millions).
 */
#ifndef _HTRACE_EVENTS_H
#define _HTRACE_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "htrace.h"

/**
 * struct ev - one event, kept compact (a boot can have millions)
 * @tsc:     guest TSC
 * @a0:      first argument word
 * @a1:      second argument word
 * @type:    enum ht_event_type
 * @cpu:     guest CPU
 * @seq:     sequence number
 * @flags:   HTR_EV_F_*
 * @str_len: bytes in @str
 * @str:     its string ("" when none); owned by the list
 */
struct ev {
	uint64_t tsc;
	uint64_t a0;
	uint64_t a1;
	uint32_t type;
	uint32_t cpu;
	uint32_t seq;
	uint32_t flags;
	uint32_t str_len;
	char *str;
};

/**
 * struct ev_list - events collected from a trace or an image
 * @ev:      events, from the early buffer and the rings
 * @nr:      events in @ev
 * @alloc:   room in @ev
 * @nr_str:  events in @ev with a string of their own
 * @dec:     decoder for the current source
 * @failed:  an allocation failed
 */
struct ev_list {
	struct ev *ev;
	size_t nr;
	size_t alloc;
	size_t nr_str;
	struct htr_decoder dec;
	int failed;
};

void ev_add(struct ev_list *d, const struct htr_event *ev);
void ev_list_free(struct ev_list *d);
int ev_decode_rec(void *ctx, const struct ht_record *rec, unsigned int ring);
void ev_flush_streams(struct ev_list *d);
int ev_by_time(const void *a, const void *b);
void *htr_grow(void *p, size_t *alloc, size_t size, size_t first);

#endif /* _HTRACE_EVENTS_H */

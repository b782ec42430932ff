/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Events read back from a collector trace or a guest memory image, shared
 * by the hypertrace subcommands.
 */
#ifndef _HT_TOOLS_EVENTS_H
#define _HT_TOOLS_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "htrace.h"
#include "util.h"

/**
 * struct ev_list - events collected from a trace or an image
 * @ev:      events, from the early buffer and the rings
 * @nr:      events in @ev
 * @alloc:   room in @ev
 * @dec:     decoder for the current source
 * @failed:  an allocation failed
 */
struct ev_list {
	struct htr_event *ev;
	size_t nr;
	size_t alloc;
	struct htr_decoder dec;
	int failed;
};

void ev_add(struct ev_list *d, const struct htr_event *ev);
int ev_decode_rec(void *ctx, const struct ht_record *rec, unsigned int ring);
void ev_flush_streams(struct ev_list *d);
int ev_by_time(const void *a, const void *b);
int ev_read_trace(struct ev_list *d, const struct mapped_file *m, uint64_t *gaps,
		  uint64_t *bad, uint64_t *torn, const char **torn_reason);

#endif /* _HT_TOOLS_EVENTS_H */

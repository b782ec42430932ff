// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: events read back from a collector trace or a guest memory
 * image, kept compact; decoded per source and sorted by time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "events.h"

#define HUGE_SIZE	(2UL << 20)

/**
 * htr_grow() - double a growable array (at least @first elements)
 * @p:     the array, or NULL
 * @alloc: its room in elements; updated
 * @size:  an element's size
 * @first: the room of a new array
 *
 * Arrays past a few huge pages are advised to use them: a million-event
 * trace otherwise spends a fifth of its load in page faults.
 *
 * Return: the array, moved perhaps, or NULL (then @p is untouched).
 */
void *htr_grow(void *p, size_t *alloc, size_t size, size_t first)
{
	size_t n = *alloc ? *alloc * 2 : first;
	uintptr_t a, b;
	char *q;

	if (n < *alloc || n > SIZE_MAX / size)
		return NULL;
	q = realloc(p, n * size);
	if (!q)
		return NULL;
	*alloc = n;
	/*
	 * Whole pages around the array, so that the advice covers all of
	 * malloc's mapping and does not split it: a split mapping cannot
	 * mremap(), and the next realloc() would copy.
	 */
	if (n * size >= 4 * HUGE_SIZE) {
		a = (uintptr_t)q & ~(uintptr_t)4095;
		b = ((uintptr_t)q + n * size + 4095) & ~(uintptr_t)4095;
		madvise((void *)a, b - a, MADV_HUGEPAGE);	/* a hint */
	}
	return q;
}

/**
 * ev_add() - append a decoded event to a list, copying its string
 * @d:  the list; d->failed is set when memory runs out
 * @ev: the event
 */
void ev_add(struct ev_list *d, const struct htr_event *ev)
{
	static char none[1];
	struct ev *e;

	if (d->nr == d->alloc) {
		struct ev *p = htr_grow(d->ev, &d->alloc, sizeof(*p), 1024);

		if (!p) {
			d->failed = 1;
			return;
		}
		d->ev = p;
	}
	e = &d->ev[d->nr];
	e->tsc = ev->tsc;
	e->a0 = ev->a0;
	e->a1 = ev->a1;
	e->type = ev->type;
	e->cpu = ev->cpu;
	e->seq = ev->seq;
	e->flags = ev->flags;
	e->str_len = ev->str_len;
	e->str = ev->str_len ? strdup(ev->str) : none;
	if (!e->str) {
		d->failed = 1;
		return;
	}
	d->nr_str += ev->str_len != 0;
	d->nr++;
}

/**
 * ev_list_free() - release a list's events, their strings and its decoder
 * @d: the list
 */
void ev_list_free(struct ev_list *d)
{
	size_t i;

	/* most events carry no string: do not walk a million for none */
	for (i = 0; d->nr_str && i < d->nr; i++)
		if (d->ev[i].str_len)
			free(d->ev[i].str);
	free(d->ev);
	htr_decoder_free(&d->dec);
	d->ev = NULL;
	d->nr = d->alloc = d->nr_str = 0;
}

/**
 * ev_decode_rec() - decode one record into the list (an htr_record_fn)
 * @ctx:  the struct ev_list, whose decoder is used
 * @rec:  the record
 * @ring: unused
 *
 * Return: non-zero once memory ran out (stops a drain).
 */
int ev_decode_rec(void *ctx, const struct ht_record *rec, unsigned int ring)
{
	struct ev_list *d = ctx;
	struct htr_event out[2];
	int i, n;

	(void)ring;
	n = htr_decode(&d->dec, rec, out);
	if (n == HTR_E_NOMEM)
		d->failed = 1;
	for (i = 0; i < n; i++)
		ev_add(d, &out[i]);
	return d->failed;
}

/**
 * ev_flush_streams() - add the string events still waiting for parts
 * @d: the list
 */
void ev_flush_streams(struct ev_list *d)
{
	struct htr_event ev;
	unsigned int i;

	for (i = 0; i < d->dec.nr_used; i++)
		if (htr_decoder_flush(&d->dec, i, &ev))
			ev_add(d, &ev);
}

/**
 * ev_by_time() - qsort order of struct ev: TSC, then CPU, then seq
 * @a: an event
 * @b: another
 *
 * Return: <0, 0 or >0.
 */
int ev_by_time(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->tsc != y->tsc)
		return x->tsc < y->tsc ? -1 : 1;
	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

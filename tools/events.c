// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Events read back from a collector trace or a guest memory image: decode
 * records per source, drop doorbell copies of ring records, sort by time.
 */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "tracefile.h"

/* ev_add() - append to the collected events, growing the array */
void ev_add(struct ev_list *d, const struct htr_event *ev)
{
	static char none[1];
	struct ev *e;

	if (d->nr == d->alloc) {
		size_t n = d->alloc ? d->alloc * 2 : 1024;
		struct ev *p = realloc(d->ev, n * sizeof(*p));

		if (!p) {
			d->failed = 1;
			return;
		}
		d->ev = p;
		d->alloc = n;
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
	d->nr++;
}

/* ev_list_free() - release the events and their strings */
void ev_list_free(struct ev_list *d)
{
	size_t i;

	for (i = 0; i < d->nr; i++)
		if (d->ev[i].str_len)
			free(d->ev[i].str);
	free(d->ev);
	htr_decoder_free(&d->dec);
	d->ev = NULL;
	d->nr = d->alloc = 0;
}

/* ev_decode_rec() - decode one record into the collection */
int ev_decode_rec(void *ctx, const struct ht_record *rec, unsigned int ring)
{
	struct ev_list *d = ctx;
	struct htr_event out[2];
	int i, n;

	(void)ring;
	n = htr_decode(&d->dec, rec, out);
	for (i = 0; i < n; i++)
		ev_add(d, &out[i]);
	return d->failed;
}

/* ev_flush_streams() - collect string events still waiting for parts */
void ev_flush_streams(struct ev_list *d)
{
	struct htr_event ev;
	unsigned int i;

	for (i = 0; i < d->dec.nr_cpus; i++)
		if (htr_decoder_flush(&d->dec, i, &ev))
			ev_add(d, &ev);
}

/* ev_by_time() - qsort order: TSC, then CPU, then seq */
int ev_by_time(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->tsc != y->tsc)
		return x->tsc < y->tsc ? -1 : 1;
	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* dup_key() - a hash of a record, to drop the doorbell copy of a ring record */
static uint64_t dup_key(const struct ht_record *r)
{
	return (r->tsc * 0x9e3779b97f4a7c15ULL) ^ r->info ^ (r->a0 << 1) ^ (r->a1 << 2);
}

/* cmp_u64() - qsort order for u64 */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * ev_read_trace() - decode a collector trace file: ring and early-buffer
 * records through one decoder, doorbell records through another after
 * dropping those the rings also carried
 */
int ev_read_trace(struct ev_list *d, const struct mapped_file *m, uint64_t *gaps,
		      uint64_t *bad, uint64_t *torn, const char **torn_reason)
{
	struct htr_decoder port;
	struct htf_reader r;
	struct htf_chunk c;
	uint64_t *keys = NULL;
	size_t nkeys = 0, cap = 0, i;
	int err, pass;

	err = htf_open_mem(&r, m->data, m->size);
	if (err)
		return err;
	if (htr_decoder_init(&d->dec, HT_MAX_RINGS) || htr_decoder_init(&port, HT_MAX_RINGS)) {
		d->failed = 1;
		return HTR_E_NOMEM;
	}
	/* pass 0: ring records (and their keys); pass 1: doorbell records */
	for (pass = 0; pass < 2; pass++) {
		htf_open_mem(&r, m->data, m->size);
		while (htf_next(&r, &c) == 1) {
			bool ring = c.source == HTF_SRC_RING || c.source == HTF_SRC_EARLY;

			if (c.kind != HTF_RECORDS || (pass == 0) != ring)
				continue;
			for (i = 0; i + HT_RECORD_SIZE <= c.len; i += HT_RECORD_SIZE) {
				struct ht_record rec;
				struct htr_event out[2];
				int k, n;

				memcpy(&rec, c.payload + i, sizeof(rec));
				if (pass == 0) {
					if (nkeys == cap) {
						uint64_t *p = realloc(keys, (cap ? cap * 2 : 4096) * sizeof(*p));

						if (!p) {
							d->failed = 1;
							goto out_free;
						}
						keys = p;
						cap = cap ? cap * 2 : 4096;
					}
					keys[nkeys++] = dup_key(&rec);
					ev_decode_rec(d, &rec, 0);
					continue;
				}
				if (bsearch(&(uint64_t){ dup_key(&rec) }, keys, nkeys,
					    sizeof(*keys), cmp_u64))
					continue;
				n = htr_decode(&port, &rec, out);
				for (k = 0; k < n; k++)
					ev_add(d, &out[k]);
			}
		}
		if (pass == 0)
			qsort(keys, nkeys, sizeof(*keys), cmp_u64);
	}
	ev_flush_streams(d);
	*gaps += d->dec.seq_lost;
	*bad += d->dec.bad + port.bad;
	*torn = r.torn;
	*torn_reason = r.torn_reason;
out_free:
	free(keys);
	htr_decoder_free(&port);
	return d->failed ? HTR_E_NOMEM : HTR_OK;
}


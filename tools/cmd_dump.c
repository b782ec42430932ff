// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace dump: print the events a guest left in a memory image (the
 * file behind QEMU's memory-backend-file, or a copy of it), in time order.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "htrace.h"
#include "tracefile.h"
#include "util.h"

/**
 * struct dump - what one dump run collects
 * @ev:      events, from the early buffer and the rings
 * @nr:      events in @ev
 * @alloc:   room in @ev
 * @dec:     decoder for the current source
 * @failed:  an allocation failed
 */
struct dump {
	struct htr_event *ev;
	size_t nr;
	size_t alloc;
	struct htr_decoder dec;
	int failed;
};

/* dump_usage() - help text; @f is stdout for --help, stderr on error */
static void dump_usage(FILE *f)
{
	fprintf(f,
		"usage: %s dump [options] IMAGE|TRACE\n\n"
		"Print the events a guest left in a memory image (the file behind QEMU's\n"
		"memory-backend-file, or a copy of it), or that hypertrace-collector\n"
		"recorded in a trace file.  In an image, the control area and the early\n"
		"buffer are found by their magic numbers and validated; in a trace file,\n"
		"doorbell copies of ring records are dropped and a torn tail is reported.\n"
		"Events print in guest-TSC order.\n\n"
		"  -j, --json          one JSON object per event, then a summary object\n"
		"  -e, --early-only    only the early buffer (guest died before its rings)\n"
		"  -o, --offset OFF    control area at byte OFF of IMAGE, no scan\n"
		"  -q, --quiet         no summary on stderr\n"
		"  -h, --help          this text\n\n"
		"Exit status: 0 events printed; 1 no valid trace in IMAGE; 2 usage error.\n",
		prog);
}

/* add_event() - append to the collected events, growing the array */
static void add_event(struct dump *d, const struct htr_event *ev)
{
	if (d->nr == d->alloc) {
		size_t n = d->alloc ? d->alloc * 2 : 1024;
		struct htr_event *p = realloc(d->ev, n * sizeof(*p));

		if (!p) {
			d->failed = 1;
			return;
		}
		d->ev = p;
		d->alloc = n;
	}
	d->ev[d->nr++] = *ev;
}

/* dump_rec() - decode one record into the collection */
static int dump_rec(void *ctx, const struct ht_record *rec, unsigned int ring)
{
	struct dump *d = ctx;
	struct htr_event out[2];
	int i, n;

	(void)ring;
	n = htr_decode(&d->dec, rec, out);
	for (i = 0; i < n; i++)
		add_event(d, &out[i]);
	return d->failed;
}

/* flush_streams() - collect string events still waiting for parts */
static void flush_streams(struct dump *d)
{
	struct htr_event ev;
	unsigned int i;

	for (i = 0; i < d->dec.nr_cpus; i++)
		if (htr_decoder_flush(&d->dec, i, &ev))
			add_event(d, &ev);
}

/* by_time() - qsort order: TSC, then CPU, then seq */
static int by_time(const void *a, const void *b)
{
	const struct htr_event *x = a, *y = b;

	if (x->tsc != y->tsc)
		return x->tsc < y->tsc ? -1 : 1;
	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* print_event() - one event as a text line or a JSON object */
static void print_event(const struct htr_event *e, bool json)
{
	const char *name = htr_event_name(e->type);
	char unknown[16];

	if (!name) {
		snprintf(unknown, sizeof(unknown), "type_%#x", e->type);
		name = unknown;
	}
	if (json) {
		printf("{\"cpu\":%u,\"seq\":%u,\"tsc\":%" PRIu64 ",\"type\":\"%s\","
		       "\"type_id\":%u,\"a0\":\"0x%" PRIx64 "\",\"a1\":\"0x%" PRIx64 "\"",
		       e->cpu, e->seq, e->tsc, name, e->type, e->a0, e->a1);
		if (e->flags & HTR_EV_F_STR) {
			printf(",\"str\":");
			print_json_string(stdout, e->str, e->str_len);
		}
		if (e->flags & HTR_EV_F_STR_BROKEN)
			printf(",\"str_broken\":true");
		printf("}\n");
		return;
	}
	printf("%3u %8u %16" PRIu64 " %-22s a0=%#-18" PRIx64 " a1=%#" PRIx64,
	       e->cpu, e->seq, e->tsc, name, e->a0, e->a1);
	if (e->flags & HTR_EV_F_STR) {
		putchar(' ');
		print_escaped(stdout, e->str, e->str_len);
	}
	if (e->flags & HTR_EV_F_STR_BROKEN)
		printf(" (string incomplete)");
	putchar('\n');
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
 * dump_trace() - decode a collector trace file: ring and early-buffer
 * records through one decoder, doorbell records through another after
 * dropping those the rings also carried
 */
static int dump_trace(struct dump *d, const struct mapped_file *m, uint64_t *gaps,
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
					dump_rec(d, &rec, 0);
					continue;
				}
				if (bsearch(&(uint64_t){ dup_key(&rec) }, keys, nkeys,
					    sizeof(*keys), cmp_u64))
					continue;
				n = htr_decode(&port, &rec, out);
				for (k = 0; k < n; k++)
					add_event(d, &out[k]);
			}
		}
		if (pass == 0)
			qsort(keys, nkeys, sizeof(*keys), cmp_u64);
	}
	flush_streams(d);
	*gaps += d->dec.seq_lost;
	*bad += d->dec.bad + port.bad;
	*torn = r.torn;
	*torn_reason = r.torn_reason;
out_free:
	free(keys);
	htr_decoder_free(&port);
	return d->failed ? HTR_E_NOMEM : HTR_OK;
}

/* parse_offset() - a byte offset option; returns 0 or -1 */
static int parse_offset(const char *s, size_t *off)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*off = (size_t)v;
	return 0;
}

/* cmd_dump() - hypertrace dump */
int cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "early-only", no_argument, NULL, 'e' },
		{ "offset", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, early_only = false, quiet = false, have_off = false;
	struct dump d = { 0 };
	struct mapped_file m;
	struct htr_early early;
	struct htr_area a;
	int c, err, have_area = 0, have_early = 0, ret = EXIT_FAIL;
	uint64_t lost = 0, orphans = 0, errors = 0, gaps = 0, bad = 0;
	size_t off = 0, i;

	while ((c = getopt_long(argc, argv, "jeo:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'e':
			early_only = true;
			break;
		case 'o':
			if (parse_offset(optarg, &off)) {
				err_msg("dump: invalid offset '%s'\n", optarg);
				return EXIT_USAGE;
			}
			have_off = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			dump_usage(stdout);
			return EXIT_OK;
		default:
			dump_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		err_msg("dump: expected one IMAGE argument\n");
		dump_usage(stderr);
		return EXIT_USAGE;
	}
	if (map_file(argv[optind], &m))
		return EXIT_FAIL;
	if (m.size >= 8 && !memcmp(m.data, HTF_MAGIC, 8)) {
		uint64_t torn = 0;
		const char *reason = NULL;

		err = dump_trace(&d, &m, &gaps, &bad, &torn, &reason);
		if (err) {
			err_msg("dump: %s: %s\n", argv[optind], htr_strerror(err));
			goto out_free;
		}
		qsort(d.ev, d.nr, sizeof(d.ev[0]), by_time);
		for (i = 0; i < d.nr; i++)
			print_event(&d.ev[i], json);
		if (json)
			printf("{\"summary\":{\"events\":%zu,\"seq_gaps\":%" PRIu64
			       ",\"bad_records\":%" PRIu64 ",\"torn_bytes\":%" PRIu64 "}}\n",
			       d.nr, gaps, bad, torn);
		if (!quiet)
			fprintf(stderr, "%s: trace file: %zu events; %" PRIu64 " sequence gaps; %"
				PRIu64 " bad records%s%s%s\n", prog, d.nr, gaps, bad,
				torn ? "; torn tail dropped (" : "", torn ? reason : "",
				torn ? ")" : "");
		ret = EXIT_OK;
		goto out_free;
	}

	if (!early_only) {
		err = have_off ? htr_area_open(&a, m.data, m.size, off, false) :
				 htr_area_find(&a, m.data, m.size, false);
		if (err == HTR_OK) {
			have_area = 1;
		} else if (err != HTR_E_NOTFOUND || have_off) {
			err_msg("dump: %s: control area: %s\n", argv[optind],
				htr_strerror(err));
		}
	}
	if (htr_early_find(&early, m.data, m.size) == HTR_OK &&
	    (early.state == HT_EARLY_ACTIVE || !have_area))
		have_early = 1;
	if (!have_area && !have_early) {
		err_msg("dump: %s: no Hypertrace data (is this the guest RAM file of a "
			"kernel built with the Hypertrace patches?)\n", argv[optind]);
		goto out_unmap;
	}

	if (have_early) {
		/* early records may come from any boot CPU number */
		if (htr_decoder_init(&d.dec, HT_MAX_RINGS) != HTR_OK)
			goto out_nomem;
		for (i = 0; i < early.count; i++)
			dump_rec(&d, &early.rec[i], 0);
		flush_streams(&d);
		lost += early.lost;
		gaps += d.dec.seq_lost;
		bad += d.dec.bad;
		htr_decoder_free(&d.dec);
	}
	if (have_area) {
		if (htr_decoder_init(&d.dec, a.ctl.nr_rings) != HTR_OK)
			goto out_nomem;
		htr_area_drain(&a, dump_rec, &d);
		flush_streams(&d);
		for (i = 0; i < a.ctl.nr_rings; i++) {
			lost += a.rings[i].lost;
			errors += a.rings[i].errors;
		}
		orphans = htr_area_orphans(&a);
		gaps += d.dec.seq_lost;
		bad += d.dec.bad;
	}
	if (d.failed)
		goto out_nomem;

	qsort(d.ev, d.nr, sizeof(d.ev[0]), by_time);
	for (i = 0; i < d.nr; i++)
		print_event(&d.ev[i], json);
	if (json)
		printf("{\"summary\":{\"events\":%zu,\"lost_records\":%" PRIu64
		       ",\"orphan_records\":%" PRIu64 ",\"seq_gaps\":%" PRIu64
		       ",\"bad_records\":%" PRIu64 ",\"protocol_errors\":%" PRIu64
		       ",\"rings\":%u,\"early_buffer\":\"%s\"}}\n",
		       d.nr, lost, orphans, gaps, bad, errors,
		       have_area ? a.ctl.nr_rings : 0,
		       !have_early ? "moved" : early.state == HT_EARLY_ACTIVE ?
		       "active" : "moved");
	if (!quiet) {
		if (have_area)
			fprintf(stderr, "%s: control area at %#zx: %u rings of %u records\n",
				prog, a.off, a.ctl.nr_rings, a.ctl.ring_records);
		if (have_early)
			fprintf(stderr, "%s: early buffer at %#zx (%s): %u records\n", prog,
				early.off, early.state == HT_EARLY_ACTIVE ? "never moved" : "moved",
				early.count);
		fprintf(stderr, "%s: %zu events; lost %" PRIu64 " records (+%" PRIu64
			" orphans); %" PRIu64 " bad records; %" PRIu64 " protocol errors\n",
			prog, d.nr, lost, orphans, bad, errors);
	}
	ret = EXIT_OK;
	goto out_free;

out_nomem:
	err_msg("dump: out of memory\n");
out_free:
	htr_decoder_free(&d.dec);
	free(d.ev);
	if (have_area)
		htr_area_close(&a);
out_unmap:
	unmap_file(&m);
	return ret;
}

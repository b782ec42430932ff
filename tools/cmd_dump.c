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
#include "events.h"
#include "htrace.h"
#include "model.h"
#include "tracefile.h"
#include "util.h"

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

/* print_event() - one event as a text line or a JSON object */
static void print_event(const struct ev *e, bool json)
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

/* stdout_ok() - EXIT_OK when everything printed reached standard output */
static int stdout_ok(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		err_msg("dump: writing standard output failed: %s\n", strerror(errno ? errno : EIO));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* dump_trace() - the events of a collector trace, through the model's loader */
static int dump_trace(const char *path, const struct mapped_file *f, bool json, bool quiet)
{
	struct model_opts o = { .events_only = true };
	const struct model_loss *l;
	struct boot_model m;
	char err[512];
	size_t i;
	int ret;

	if (model_load_mem(&m, f->data, f->size, &o, err, sizeof(err))) {
		err_msg("dump: %s: %s\n", path, err);
		model_free(&m);
		return EXIT_FAIL;
	}
	l = &m.loss;
	for (i = 0; i < m.ev.nr; i++)
		print_event(&m.ev.ev[i], json);
	if (json)
		printf("{\"summary\":{\"events\":%zu,\"lost_records\":%" PRIu64
		       ",\"seq_gaps\":%" PRIu64 ",\"bad_records\":%" PRIu64
		       ",\"doorbell_copies\":%" PRIu64 ",\"torn_bytes\":%" PRIu64 "}}\n",
		       m.ev.nr, m.lost, l->seq_gaps, l->bad, m.doorbell_copies, l->torn_bytes);
	if (!quiet)
		fprintf(stderr, "%s: trace file: %zu events (%" PRIu64 " doorbell copies of ring "
			"events dropped); %" PRIu64 " records lost (%" PRIu64 " ring full, %" PRIu64
			" orphans, %" PRIu64 " skipped, %" PRIu64 " while probing, %" PRIu64
			" sequence gaps); %" PRIu64 " bad records%s%s%s\n", prog, m.ev.nr,
			m.doorbell_copies, m.lost, l->ring_lost, l->orphans, l->skipped, l->probe,
			l->seq_gaps, l->bad, l->torn_bytes ? "; torn tail dropped (" : "",
			l->torn_bytes ? l->torn_reason : "", l->torn_bytes ? ")" : "");
	ret = stdout_ok();
	model_free(&m);
	return ret;
}

/**
 * struct dump_opts - what dump was asked for
 * @json:       one JSON object per event
 * @early_only: the early buffer only
 * @quiet:      no summary on stderr
 * @have_off:   @off was given
 * @off:        offset of the control area in the image
 */
struct dump_opts {
	bool json;
	bool early_only;
	bool quiet;
	bool have_off;
	size_t off;
};

/**
 * struct image_loss - what a RAM image says was lost, by cause
 * @lost:    the rings' (and the early buffer's) lost counters
 * @orphans: records of CPUs without a ring
 * @errors:  protocol violations seen
 * @skipped: records skipped after them
 * @gaps:    sequence gaps
 * @bad:     records the decoder rejected
 */
struct image_loss {
	uint64_t lost;
	uint64_t orphans;
	uint64_t errors;
	uint64_t skipped;
	uint64_t gaps;
	uint64_t bad;
};

/* image_summary() - the summary of a RAM image: a JSON line and/or stderr */
static void image_summary(const struct dump_opts *o, size_t nev, const struct image_loss *l,
			  const struct htr_area *a, const struct htr_early *early)
{
	if (o->json)
		printf("{\"summary\":{\"events\":%zu,\"lost_records\":%" PRIu64
		       ",\"orphan_records\":%" PRIu64 ",\"seq_gaps\":%" PRIu64
		       ",\"bad_records\":%" PRIu64 ",\"protocol_errors\":%" PRIu64
		       ",\"skipped_after_protocol_error\":%" PRIu64
		       ",\"rings\":%u,\"early_buffer\":\"%s\"}}\n",
		       nev, l->lost, l->orphans, l->gaps, l->bad, l->errors, l->skipped,
		       a ? a->ctl.nr_rings : 0,
		       early && early->state == HT_EARLY_ACTIVE ? "active" : "moved");
	if (o->quiet)
		return;
	if (a)
		fprintf(stderr, "%s: control area at %#zx: %u rings of %u records\n",
			prog, a->off, a->ctl.nr_rings, a->ctl.ring_records);
	if (early)
		fprintf(stderr, "%s: early buffer at %#zx (%s): %u records\n", prog,
			early->off, early->state == HT_EARLY_ACTIVE ? "never moved" : "moved",
			early->count);
	fprintf(stderr, "%s: %zu events; lost %" PRIu64 " records (+%" PRIu64
		" orphans, +%" PRIu64 " skipped after protocol errors); %" PRIu64
		" bad records; %" PRIu64 " protocol errors\n",
		prog, nev, l->lost, l->orphans, l->skipped, l->bad, l->errors);
}

/* dump_image() - the events of a guest RAM image: control area and early buffer */
static int dump_image(const char *path, const struct mapped_file *m,
		      const struct dump_opts *o)
{
	struct image_loss l = { 0 };
	struct ev_list d = { 0 };
	struct htr_early early;
	struct htr_area a;
	bool have_area = false, have_early = false;
	int err, ret = EXIT_FAIL;
	size_t i;

	if (!o->early_only) {
		err = o->have_off ? htr_area_open(&a, m->data, m->size, o->off, false) :
				    htr_area_find(&a, m->data, m->size, false);
		if (err == HTR_OK)
			have_area = true;
		else if (err != HTR_E_NOTFOUND || o->have_off)
			err_msg("dump: %s: control area: %s\n", path, htr_strerror(err));
	}
	if (htr_early_find(&early, m->data, m->size) == HTR_OK &&
	    (early.state == HT_EARLY_ACTIVE || !have_area))
		have_early = true;
	if (!have_area && !have_early) {
		err_msg("dump: %s: no Hypertrace data (is this the guest RAM file of a "
			"kernel built with the Hypertrace patches?)\n", path);
		return EXIT_FAIL;
	}
	if (have_early) {
		/* early records may come from any boot CPU number */
		if (htr_decoder_init(&d.dec, HT_MAX_RINGS) != HTR_OK)
			goto out_nomem;
		for (i = 0; i < early.count; i++)
			ev_decode_rec(&d, &early.rec[i], 0);
		ev_flush_streams(&d);
		l.lost = htr_add_sat(l.lost, early.lost);
		l.gaps += d.dec.seq_lost;
		l.bad += d.dec.bad;
		htr_decoder_free(&d.dec);
	}
	if (have_area) {
		if (htr_decoder_init(&d.dec, a.ctl.nr_rings) != HTR_OK)
			goto out_nomem;
		htr_area_drain(&a, ev_decode_rec, &d);
		ev_flush_streams(&d);
		for (i = 0; i < a.ctl.nr_rings; i++) {
			l.lost = htr_add_sat(l.lost, a.rings[i].lost);
			l.errors += a.rings[i].errors;
			l.skipped += a.rings[i].skipped;
		}
		l.orphans = htr_area_orphans(&a);
		l.gaps += d.dec.seq_lost;
		l.bad += d.dec.bad;
	}
	if (d.failed)
		goto out_nomem;
	if (d.nr)
		qsort(d.ev, d.nr, sizeof(d.ev[0]), ev_by_time);
	for (i = 0; i < d.nr; i++)
		print_event(&d.ev[i], o->json);
	image_summary(o, d.nr, &l, have_area ? &a : NULL, have_early ? &early : NULL);
	ret = stdout_ok();
	goto out_free;

out_nomem:
	err_msg("dump: out of memory\n");
out_free:
	ev_list_free(&d);
	if (have_area)
		htr_area_close(&a);
	return ret;
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
	struct dump_opts o = { 0 };
	struct mapped_file m;
	int c, ret;

	while ((c = getopt_long(argc, argv, "jeo:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = true;
			break;
		case 'e':
			o.early_only = true;
			break;
		case 'o':
			if (parse_offset(optarg, &o.off)) {
				err_msg("dump: invalid offset '%s'\n", optarg);
				return EXIT_USAGE;
			}
			o.have_off = true;
			break;
		case 'q':
			o.quiet = true;
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
	if (m.size >= 8 && !memcmp(m.data, HTF_MAGIC, 8))
		ret = dump_trace(argv[optind], &m, o.json, o.quiet);
	else
		ret = dump_image(argv[optind], &m, &o);
	unmap_file(&m);
	return ret;
}

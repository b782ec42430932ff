// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace log: the kernel's log (its printk ring buffer), from the LOG
 * chunk a trace carries or straight from a guest RAM file, printed like
 * the kernel's console prints it: "[    0.123456] text".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "htrace.h"
#include "model.h"
#include "printk.h"
#include "tracefile.h"
#include "util.h"

/**
 * struct log_opts - what log was asked for
 * @json:  one JSON object instead of text
 * @level: print records of this level or a more urgent one (0-7)
 * @quiet: no summary on stderr
 */
struct log_opts {
	bool json;
	unsigned int level;
	bool quiet;
};

/* log_usage() - help text; @f is stdout for --help, stderr on error */
static void log_usage(FILE *f)
{
	fprintf(f,
		"usage: %s log [options] TRACE|RAMFILE\n\n"
		"Print the kernel's log (its printk ring buffer) as the console would,\n"
		"one \"[seconds.micros] text\" line per line of text: from the LOG chunk\n"
		"hypertrace-collector wrote into TRACE at the end of the run, or read\n"
		"straight from a guest RAM file (QEMU's memory-backend-file, or a copy).\n"
		"In a RAM file the control area is found by its magic and its\n"
		"printk_phys followed; failing that, the file is scanned for the log's\n"
		"description (struct ht_printk).  The guest needs no console.\n\n"
		"  -j, --json          one JSON object: the records and the skip counts\n"
		"  -l, --level LEVEL   only records of LEVEL or more urgent: 0-7 or\n"
		"                      emerg, alert, crit, err, warn, notice, info, debug\n"
		"  -q, --quiet         no summary on stderr\n"
		"  -h, --help          this text\n\n"
		"Exit status: 0 the log was printed; 1 no log in the input; 2 usage error.\n",
		prog);
}

/* parse_level() - a level number or name; 0 or -1 */
static int parse_level(const char *s, unsigned int *level)
{
	unsigned int i;

	if (s[0] >= '0' && s[0] <= '7' && !s[1]) {
		*level = (unsigned int)(s[0] - '0');
		return 0;
	}
	for (i = 0; i < 8; i++) {
		if (!strcmp(s, htr_log_level_name(i))) {
			*level = i;
			return 0;
		}
	}
	return -1;
}

/* put_text() - guest bytes for a terminal: controls and non-ASCII as \xNN */
static void put_text(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\')
			fputs("\\\\", stdout);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

/* print_text() - one record, each of its lines behind the console's prefix */
static void print_text(const struct htr_log_rec *r)
{
	const char *s = r->text, *end = r->text + r->text_len, *nl;

	do {
		nl = memchr(s, '\n', (size_t)(end - s));
		printf("[%5" PRIu64 ".%06" PRIu64 "] ", r->ts_nsec / 1000000000,
		       r->ts_nsec % 1000000000 / 1000);
		put_text(s, (size_t)((nl ? nl : end) - s));
		putchar('\n');
		s = nl ? nl + 1 : end;
	} while (nl);
}

/* print_json() - the whole log as one JSON object */
static void print_json(const struct htr_log *log, const char *source,
		       unsigned int level)
{
	unsigned int i;
	size_t k;
	bool first = true;

	printf("{\"source\":\"%s\",\"printk_phys\":\"%#" PRIx64 "\",\"walked\":%" PRIu64
	       ",\"dropped\":%" PRIu64 ",\"clamped\":%s,\"skipped\":{", source, log->phys,
	       log->walked, log->dropped, log->clamped ? "true" : "false");
	for (i = 0; i < HTR_LOG_SKIP_NR; i++)
		printf("%s\"%s\":%" PRIu64, i ? "," : "", htr_log_skip_name(i),
		       log->skipped[i]);
	printf("},\"records\":[");
	for (k = 0; k < log->nr; k++) {
		const struct htr_log_rec *r = &log->rec[k];

		if (r->level > level)
			continue;
		printf("%s{\"seq\":%" PRIu64 ",\"ts_nsec\":%" PRIu64 ",\"level\":%u,"
		       "\"level_name\":\"%s\",\"facility\":%u,\"caller_id\":%u,"
		       "\"committed\":%s,\"text\":", first ? "" : ",", r->seq, r->ts_nsec,
		       r->level, htr_log_level_name(r->level), r->facility, r->caller_id,
		       r->flags & HTR_LOG_F_COMMITTED ? "true" : "false");
		print_json_string(stdout, r->text, r->text_len);
		putchar('}');
		first = false;
	}
	printf("]}\n");
}

/* summary() - one line on stderr: records and what was skipped */
static void summary(const struct htr_log *log, const char *path)
{
	unsigned int i;

	fprintf(stderr, "%s: %s: %zu log records (struct ht_printk at %#" PRIx64 "); %"
		PRIu64 " descriptors skipped", prog, path, log->nr, log->phys,
		htr_log_skipped(log));
	for (i = 0; i < HTR_LOG_SKIP_NR; i++)
		if (log->skipped[i])
			fprintf(stderr, ", %" PRIu64 " %s", log->skipped[i],
				htr_log_skip_name(i));
	if (log->dropped)
		fprintf(stderr, "; %" PRIu64 " oldest records dropped from the trace",
			log->dropped);
	fputc('\n', stderr);
}

/* print_log() - the log as asked; EXIT_OK when it all reached stdout */
static int print_log(const struct htr_log *log, const char *path, const char *source,
		     const struct log_opts *o)
{
	size_t k;

	if (o->json)
		print_json(log, source, o->level);
	else
		for (k = 0; k < log->nr; k++)
			if (log->rec[k].level <= o->level)
				print_text(&log->rec[k]);
	if (!o->quiet)
		summary(log, path);
	if (fflush(stdout) || ferror(stdout)) {
		err_msg("log: writing standard output failed: %s\n", strerror(errno ? errno : EIO));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* log_trace() - the log of a collector trace, through the model's loader */
static int log_trace(const char *path, const struct mapped_file *f, const struct log_opts *o)
{
	struct model_opts mo = { .events_only = true, .no_trace_symbols = true };
	struct boot_model m;
	char err[512];
	int ret = EXIT_FAIL;

	if (model_load_mem(&m, f->data, f->size, &mo, err, sizeof(err))) {
		err_msg("log: %s: %s\n", path, err);
		goto out_free_model;
	}
	if (!m.klog_found) {
		err_msg("log: %s: the trace has no kernel log (recorded by an older collector, "
			"or the guest's RAM held none; see its log_unavailable host event)\n", path);
		goto out_free_model;
	}
	if (m.klog_error)
		err_msg("log: %s: the trace's log chunk is damaged (%s); printing the "
			"records before the damage\n", path, m.klog_error);
	ret = print_log(&m.klog, path, "trace", o);
out_free_model:
	model_free(&m);
	return ret;
}

/*
 * ram_hint() - the printk_phys of the first control area in a RAM image
 * (found by its magic, as the collector's post-mortem scan does), else 0
 */
static uint64_t ram_hint(const struct mapped_file *f)
{
	struct htr_area a;
	uint64_t v = 0;

	if (htr_area_find(&a, f->data, f->size, false) != HTR_OK)
		return 0;
	/* validated to lie inside the image */
	memcpy(&v, f->data + a.off + offsetof(struct ht_ctl, printk_phys), sizeof(v));
	htr_area_close(&a);
	return v;
}

/* log_ram() - the log read straight from a guest RAM image */
static int log_ram(const char *path, const struct mapped_file *f, const struct log_opts *o)
{
	struct htr_log log;
	int err, ret;

	htr_log_init(&log);
	err = htr_log_find(&log, f->data, f->size, ram_hint(f));
	if (err) {
		err_msg("log: %s: no kernel log: %s (%s)\n", path, log.why ? log.why : "?",
			htr_strerror(err));
		htr_log_free(&log);
		return EXIT_FAIL;
	}
	ret = print_log(&log, path, "ram", o);
	htr_log_free(&log);
	return ret;
}

/* cmd_log() - hypertrace log */
int cmd_log(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "level", required_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct log_opts o = { .level = HTR_LOG_LEVEL_ALL };
	struct mapped_file m;
	int c, ret;

	while ((c = getopt_long(argc, argv, "jl:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = true;
			break;
		case 'l':
			if (parse_level(optarg, &o.level)) {
				err_msg("log: invalid level '%s' (0-7 or emerg ... debug)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			log_usage(stdout);
			return EXIT_OK;
		default:
			log_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		err_msg("log: expected one TRACE or RAMFILE argument\n");
		log_usage(stderr);
		return EXIT_USAGE;
	}
	if (map_file(argv[optind], &m))
		return EXIT_FAIL;
	if (m.size >= 8 && !memcmp(m.data, HTF_MAGIC, 8))
		ret = log_trace(argv[optind], &m, &o);
	else
		ret = log_ram(argv[optind], &m, &o);
	unmap_file(&m);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace report: where the boot went, for a terminal (text) or for
 * machines (--json), from a collector trace.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "model.h"
#include "util.h"

/* report_usage() - help text */
static void report_usage(FILE *f)
{
	fprintf(f,
		"usage: %s report [options] TRACE\n\n"
		"Where a recorded boot's time went: the time from VM start, the firmware\n"
		"and loader, the decompressor, each kernel phase and boot level, the\n"
		"slowest initcalls with their share of the boot, the time to the first\n"
		"user marker, the shutdown (slowest first), records lost, and what failed.\n"
		"Times are from QEMU's launch when the trace ties the guest's clock to the\n"
		"host's (TCG: the first doorbell record), else from the guest TSC's zero.\n\n"
		"  -j, --json            one JSON object instead of text\n"
		"  -n, --top N           initcalls and shutdown steps listed (default 15)\n"
		"      --vmlinux FILE    symbols from this vmlinux (default: the trace's)\n"
		"      --system-map FILE symbols from this System.map\n"
		"  -h, --help            this text\n\n"
		"Exit status: 0 report written; 1 unreadable trace; 2 usage error.\n",
		prog);
}

/* by_duration() - qsort order: longest first */
static int by_duration(const void *a, const void *b)
{
	const struct span *x = *(const struct span * const *)a;
	const struct span *y = *(const struct span * const *)b;

	return x->dur_ns < y->dur_ns ? 1 : x->dur_ns > y->dur_ns ? -1 : 0;
}

/* slowest() - pointers to a list's spans, longest first; NULL if none/out of memory */
static const struct span **slowest(const struct span_list *l)
{
	const struct span **p = calloc(l->nr + 1, sizeof(*p));
	size_t i;

	if (!p)
		return NULL;
	for (i = 0; i < l->nr; i++)
		p[i] = &l->s[i];
	qsort(p, l->nr, sizeof(*p), by_duration);
	return p;
}

/* ms() - nanoseconds as milliseconds */
static double ms(uint64_t ns)
{
	return ns / 1e6;
}

/* report_json() - the report as one JSON object on stdout */
static int report_json(const struct boot_model *m)
{
	return model_write_json(m, stdout) ? EXIT_FAIL : EXIT_OK;
}

/* report_text() - the report for a person at a terminal */
static int report_text(const struct boot_model *m, size_t top)
{
	const struct span **slow;
	uint64_t total = m->boot_ns ? m->boot_ns : m->end_ns;
	size_t i;

	if (strcmp(m->fail_kind, "none")) {
		printf("*** BOOT FAILED: %s at %.3f ms", m->fail_kind, ms(m->fail_ns));
		if (m->fail_initcall[0])
			printf(" in initcall %s", m->fail_initcall);
		printf(" ***\n    ");
		print_escaped(stdout, m->fail_msg, strlen(m->fail_msg));
		printf("\n\n");
	}
	if (m->boot_ns)
		printf("Kernel boot done %.3f ms after QEMU was launched", ms(m->boot_ns));
	else
		printf("Kernel boot never finished (recording ends at %.3f ms)", ms(m->end_ns));
	if (m->user_ns)
		printf("; first user marker at %.3f ms", ms(m->user_ns));
	printf("\n%u CPU%s, %s, %" PRIu64 " records lost\n\n", m->ncpus,
	       m->ncpus == 1 ? "" : "s", m->accel, m->lost);

	printf("%-34s %12s %12s\n", "phase", "start ms", "took ms");
	for (i = 0; i < m->phases.nr; i++)
		printf("  %-32s %12.3f %12.3f%s\n", m->phases.s[i].name,
		       ms(m->phases.s[i].start_ns), ms(m->phases.s[i].dur_ns),
		       m->phases.s[i].open ? "  (unfinished)" : "");
	printf("\n%-34s %12s %12s\n", "boot level", "start ms", "took ms");
	for (i = 0; i < m->levels.nr; i++)
		printf("  %-32s %12.3f %12.3f%s\n", m->levels.s[i].name,
		       ms(m->levels.s[i].start_ns), ms(m->levels.s[i].dur_ns),
		       m->levels.s[i].open ? "  (unfinished)" : "");

	slow = slowest(&m->initcalls);
	printf("\nslowest initcalls (%zu in all)%*s %12s %8s  level\n", m->initcalls.nr,
	       m->initcalls.nr > 99 ? 3 : 4, "", "took ms", "of boot");
	for (i = 0; slow && i < m->initcalls.nr && i < top; i++)
		printf("  %-32.32s %12.3f %7.1f%%  %s%s\n", slow[i]->name, ms(slow[i]->dur_ns),
		       total ? 100.0 * slow[i]->dur_ns / total : 0, level_name(slow[i]->level),
		       slow[i]->open ? "  (never returned)" : "");
	free(slow);

	if (m->shutdown.nr) {
		slow = slowest(&m->shutdown);
		printf("\nshutdown, slowest first%*s %12s  kind\n", 11, "", "took ms");
		for (i = 0; slow && i < m->shutdown.nr && i < top; i++) {
			printf("  ");
			print_escaped(stdout, slow[i]->name, strlen(slow[i]->name));
			printf("%*s %12.3f  %s\n",
			       (int)(32 - (strlen(slow[i]->name) + 2 > 32 ? 32 :
					   strlen(slow[i]->name) + 2)), "",
			       ms(slow[i]->dur_ns), slow[i]->kind ? slow[i]->kind : "");
		}
		free(slow);
	}
	for (i = 0; i < m->markers.nr; i++) {
		printf("%smarker at %.3f ms: ", i ? "" : "\n", ms(m->markers.s[i].start_ns));
		print_escaped(stdout, m->markers.s[i].name, strlen(m->markers.s[i].name));
		printf("\n");
	}
	return EXIT_OK;
}

/* cmd_report() - hypertrace report */
int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "top", required_argument, NULL, 'n' },
		{ "vmlinux", required_argument, NULL, 'V' },
		{ "system-map", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *vmlinux = NULL, *sysmap = NULL;
	struct boot_model m;
	bool json = false;
	long top = 15;
	char *end;
	int c, ret;

	while ((c = getopt_long(argc, argv, "jn:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'n':
			top = strtol(optarg, &end, 10);
			if (*end || top < 0) {
				err_msg("report: invalid --top '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'V':
			vmlinux = optarg;
			break;
		case 'M':
			sysmap = optarg;
			break;
		case 'h':
			report_usage(stdout);
			return EXIT_OK;
		default:
			report_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		err_msg("report: expected one TRACE argument\n");
		report_usage(stderr);
		return EXIT_USAGE;
	}
	if (model_load(&m, argv[optind], vmlinux, sysmap))
		return EXIT_FAIL;
	ret = json ? report_json(&m) : report_text(&m, (size_t)top);
	model_free(&m);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace report: where the boot went, for a terminal (text) or for
 * machines (--json), from a collector trace.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "options.h"
#include "util.h"
#include "writers.h"

/* report_usage() - help text */
static void report_usage(FILE *f)
{
	fprintf(f,
		"usage: %s report [options] TRACE\n\n"
		"Where a recorded boot's time went: the time from VM start, the firmware\n"
		"and loader, the decompressor, each kernel phase and boot level, the\n"
		"slowest initcalls with their share of the boot, the async work (longest\n"
		"first, with its CPU), the critical path (the chain of phases, initcalls\n"
		"and async work the end of the boot waited for, each with @start and\n"
		"+duration), the time to the first user marker, the shutdown (slowest\n"
		"first), records lost, and what failed.\n"
		"Times are from QEMU's launch when the trace ties the guest's clock to the\n"
		"host's (its clock samples), else from the guest TSC's zero.\n\n"
		"  -F, --functions       the hypergraph's functions: the top ones by self and\n"
		"                        by total time for the boot, and inside each of the\n"
		"                        slowest traced initcalls (needs a trace with a\n"
		"                        hypergraph; --json always has them)\n"
		"  -j, --json            one JSON object instead of text\n"
		"  -n, --top N           initcalls, async work and shutdown steps listed\n"
		"                        (default 15)\n"
		"  -T, --tree INITCALL   only the hypergraph's call tree of that initcall:\n"
		"                        each function at each place, total and self ms\n"
		"                        and calls, slowest first\n"
		"      --tree-min PCT    fold children below PCT %% of the initcall's time\n"
		"                        into one line (default 1)\n"
		TOOL_HELP_SYMBOLS
		TOOL_HELP_HELP "\n"
		"Exit status: 0 report written; 1 unreadable trace or unwritable output;\n"
		"2 usage error.\n",
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

/* banner() - what failed, first, in a box a person cannot miss */
static void banner(const struct boot_model *m, FILE *f)
{
	if (m->verdict == HTR_VERDICT_BOOTED)
		return;
	if (m->verdict == HTR_VERDICT_SILENT) {
		fprintf(f, "*** NOTHING RECORDED: the kernel's tracing never came up ***\n    %s\n\n",
			m->fail_msg);
		return;
	}
	fprintf(f, "*** BOOT FAILED: %s, at %.3f ms ***\n    ", m->fail_chain, ms(m->fail_ns));
	print_escaped(f, m->fail_msg, strlen(m->fail_msg));
	fprintf(f, "\n\n");
}

/* log_lines() - a failed boot's last kernel log lines, as the console shows them */
static void log_lines(const struct boot_model *m, FILE *f)
{
	size_t i, end;

	log_tail(m, &i, &end);
	if (i >= end)
		return;
	fprintf(f, "last kernel log lines before the failure (%zu of %zu, read from guest RAM):\n",
		end - i, m->klog.nr);
	for (; i < end; i++) {
		const struct htr_log_rec *r = &m->klog.rec[i];

		fprintf(f, "  [%5" PRIu64 ".%06" PRIu64 "] ", r->ts_nsec / 1000000000,
			r->ts_nsec % 1000000000 / 1000);
		print_escaped(f, r->text, r->text_len);
		fputc('\n', f);
	}
	fputc('\n', f);
}

/* idle_col() - a span's "idle ms" column when the trace records idling, else "" */
static const char *idle_col(bool idle, const struct span *s, char *buf, size_t len)
{
	if (!idle)
		return "";
	snprintf(buf, len, " %8.3f", ms(s->idle_ns));
	return buf;
}

/* idle_write_text() - each CPU's idle time to the end of the boot, when recorded */
static void idle_write_text(const struct boot_model *m, FILE *f)
{
	unsigned int cpu;

	if (!m->idle.events)
		return;
	fputs("idle (CPU waiting for a timer or a device, not executing) to the end of the boot:", f);
	for (cpu = 0; cpu < m->ncpus && cpu < MODEL_IDLE_CPUS; cpu++)
		fprintf(f, "%s CPU %u %.3f ms", cpu ? "," : "", cpu, ms(m->idle.cpu_idle_ns[cpu]));
	if (m->idle.unmatched)
		fprintf(f, " (%" PRIu64 " idle records unpaired)", m->idle.unmatched);
	fputs("\n\n", f);
}

/**
 * report_write_text() - the report for a person at a terminal
 * @m:   the model
 * @f:   where to
 * @top: initcalls and shutdown steps listed
 * @functions: add the hypergraph's top functions
 *
 * Return: 0, or -EIO when writing failed.
 */
int report_write_text(const struct boot_model *m, FILE *f, size_t top, bool functions)
{
	const struct span **slow;
	uint64_t total = m->boot_ns ? m->boot_ns : m->end_ns;
	bool idle = m->idle.events != 0;
	char col[24];
	size_t i;

	banner(m, f);
	log_lines(m, f);
	if (m->boot_ns)
		fprintf(f, "Kernel boot done %.3f ms after %s", ms(m->boot_ns),
		       m->launch_known ? "QEMU was launched" : "the guest TSC's zero");
	else
		fprintf(f, "Kernel boot never finished (recording ends at %.3f ms)", ms(m->end_ns));
	if (m->user_ns)
		fprintf(f, "; first user marker at %.3f ms", ms(m->user_ns));
	fprintf(f, "\n%u CPU%s, %s, ", m->ncpus, m->ncpus == 1 ? "" : "s", m->accel);
	if (m->icount[0])
		fprintf(f, "virtual time (QEMU -icount %s: the guest's instructions, not the "
			"host's clock)%s", m->icount, !strcmp(m->rr, "record") ?
			", recorded for replay" : !strcmp(m->rr, "replay") ? ", replayed" : "");
	else
		fputs("real time", f);
	fprintf(f, ", %" PRIu64 " records lost\n\n", m->lost);
	problems_write_text(m, f);
	vcpus_write_text(m, f);
	sched_write_text(m, f);
	hints_write_text(m, f);

	idle_write_text(m, f);
	fprintf(f, "%-34s %12s %12s%s\n", "phase", "start ms", "took ms", idle ? "  idle ms" : "");
	for (i = 0; i < m->phases.nr; i++)
		fprintf(f, "  %-32s %12.3f %12.3f%s%s\n", m->phases.s[i].name,
		       ms(m->phases.s[i].start_ns), ms(m->phases.s[i].dur_ns),
		       idle_col(idle, &m->phases.s[i], col, sizeof(col)),
		       m->phases.s[i].open ? "  (unfinished)" : "");
	fprintf(f, "\n%-34s %12s %12s\n", "boot level", "start ms", "took ms");
	for (i = 0; i < m->levels.nr; i++)
		fprintf(f, "  %-32s %12.3f %12.3f%s\n", m->levels.s[i].name,
		       ms(m->levels.s[i].start_ns), ms(m->levels.s[i].dur_ns),
		       m->levels.s[i].open ? "  (unfinished)" : "");

	slow = slowest(&m->initcalls);
	fprintf(f, "\nslowest initcalls (%zu in all)%*s %12s %8s%s  level\n", m->initcalls.nr,
	       m->initcalls.nr > 99 ? 3 : 4, "", "took ms", "of boot", idle ? "  idle ms" : "");
	for (i = 0; slow && i < m->initcalls.nr && i < top; i++)
		fprintf(f, "  %-32.32s %12.3f %7.1f%%%s  %s%s\n", slow[i]->name, ms(slow[i]->dur_ns),
		       total ? 100.0 * slow[i]->dur_ns / total : 0,
		       idle_col(idle, slow[i], col, sizeof(col)), htr_level_name(slow[i]->level),
		       slow[i]->open ? "  (never returned)" : "");
	free(slow);
	if (functions)
		functions_write_text(m, f, top);
	async_write_text(m, f, top);
	critical_write_text(m, f);

	if (m->shutdown.nr) {
		slow = slowest(&m->shutdown);
		fprintf(f, "\nshutdown, slowest first%*s %12s  kind\n", 11, "", "took ms");
		for (i = 0; slow && i < m->shutdown.nr && i < top; i++) {
			fprintf(f, "  ");
			print_escaped(f, slow[i]->name, strlen(slow[i]->name));
			fprintf(f, "%*s %12.3f  %s\n",
			       (int)(32 - (strlen(slow[i]->name) + 2 > 32 ? 32 :
					   strlen(slow[i]->name) + 2)), "",
			       ms(slow[i]->dur_ns), slow[i]->kind ? slow[i]->kind : "");
		}
		free(slow);
	}
	for (i = 0; i < m->markers.nr; i++) {
		fprintf(f, "%smarker at %.3f ms: ", i ? "" : "\n", ms(m->markers.s[i].start_ns));
		print_escaped(f, m->markers.s[i].name, strlen(m->markers.s[i].name));
		fprintf(f, "\n");
	}
	return ferror(f) ? -EIO : 0;
}

/**
 * struct report_out - what the report writer needs
 * @m:    the model
 * @json: JSON instead of text
 * @top:  initcalls listed
 * @functions: the hypergraph's functions too
 * @tree: the initcall whose call tree is asked for, or NULL
 * @tree_min: folding threshold of --tree, percent of the initcall's time
 */
struct report_out {
	const struct boot_model *m;
	bool json;
	size_t top;
	bool functions;
	const char *tree;
	double tree_min;
};

/* write_report() - the report in the form asked for (a tool_write() callback) */
static int write_report(FILE *f, const void *ctx)
{
	const struct report_out *r = ctx;

	if (r->tree)
		return calltree_write_text(r->m, f, r->tree, r->tree_min);
	return r->json ? model_write_json(r->m, f) : report_write_text(r->m, f, r->top, r->functions);
}

/* cmd_report() - hypertrace report */
int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "functions", no_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "top", required_argument, NULL, 'n' },
		{ "tree", required_argument, NULL, 'T' },
		{ "tree-min", required_argument, NULL, 'M' },
		TOOL_OPTS_SYMBOLS,
		TOOL_OPTS_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct tool_opts t = { 0 };
	struct report_out r = { .top = 15, .tree_min = 1.0 };
	struct boot_model m;
	long top;
	char *end;
	int c, ret;

	while ((c = getopt_long(argc, argv, "Fjn:T:h", opts, NULL)) != -1) {
		if (tool_opt(&t, c, optarg))
			continue;
		switch (c) {
		case 'F':
			r.functions = true;
			break;
		case 'j':
			r.json = true;
			break;
		case 'T':
			r.tree = optarg;
			break;
		case 'M':
			r.tree_min = strtod(optarg, &end);
			if (*end || end == optarg || !(r.tree_min >= 0 && r.tree_min <= 100)) {
				err_msg("report: invalid --tree-min '%s': a percentage, 0 to 100\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			top = strtol(optarg, &end, 10);
			if (*end || top < 0) {
				err_msg("report: invalid --top '%s'\n", optarg);
				return EXIT_USAGE;
			}
			r.top = (size_t)top;
			break;
		case 'h':
			report_usage(stdout);
			return EXIT_OK;
		default:
			report_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (r.tree && r.json) {
		err_msg("report: --tree writes text; the JSON has the trees in 'functions'\n");
		return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		err_msg("report: expected one TRACE argument\n");
		report_usage(stderr);
		return EXIT_USAGE;
	}
	if (tool_load(&m, argv[optind], &t, false))
		return EXIT_FAIL;
	r.m = &m;
	if (r.tree && calltree_find(&m, r.tree) < 0) {
		model_free(&m);
		return EXIT_FAIL;
	}
	ret = tool_write("report", "-", write_report, &r) ? EXIT_FAIL : EXIT_OK;
	model_free(&m);
	return ret;
}

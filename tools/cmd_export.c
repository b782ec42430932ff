// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace export: a recorded boot for other tools: Chrome/Perfetto JSON
 * (one track per lane: phases, boot levels, initcalls per CPU, shutdown)
 * or CSV of the initcalls.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmds.h"
#include "export_ctf.h"
#include "export_graph.h"
#include "options.h"
#include "util.h"
#include "writers.h"

/* Perfetto thread ids of the lanes; CPUs use their own number. */
#define TID_PHASES	1000
#define TID_LEVELS	1001
#define TID_SHUTDOWN	1002
#define TID_MARKERS	1003

/* export_usage() - help text */
static void export_usage(FILE *f)
{
	fprintf(f,
		"usage: %s export [options] --format perfetto|ctf|csv|folded -o OUT TRACE\n\n"
		"Write a recorded boot for other tools:\n"
		"  perfetto  Chrome trace-event JSON (ui.perfetto.dev, chrome://tracing):\n"
		"            tracks for the phases, the boot levels, each CPU's initcalls,\n"
		"            the shutdown and the markers; properly nested complete events;\n"
		"            with a hypergraph, process 2 \"guest tasks (hypergraph)\" has a\n"
		"            track per guest task (tid: its pid) with a slice per call,\n"
		"            nested exactly (args: depth, addr, call_site, unfinished)\n"
		"  ctf       CTF 1.8 for babeltrace2 and Trace Compass: OUT is a directory\n"
		"            with the metadata and one stream per guest CPU; every event of\n"
		"            the trace, with its words, symbol name and string; with a\n"
		"            hypergraph also hypergraph:func_entry (addr, call_site, name,\n"
		"            tid, depth) and hypergraph:func_exit (addr, call_site,\n"
		"            duration_ns, ...) per call, as lttng-ust's cyg-profile\n"
		"  csv       one line per initcall: name,addr,cpu,level,start_ns,duration_ns,ret\n"
		"  folded    the hypergraph's call trees as collapsed stacks for flamegraph.pl\n"
		"            and speedscope: \"task;fn1;fn2 SELF\", one line per place in a\n"
		"            tree with self time, SELF in nanoseconds; exit 1 without a\n"
		"            hypergraph\n\n"
		"  -f, --format FORMAT   perfetto, ctf, csv or folded\n"
		"  -o, --output OUT      where to write ('-' for standard output; ctf: a directory)\n"
		"      --initcall NAME   the hypergraph only below this initcall's function\n"
		"                        (perfetto, ctf, folded; the boot's lanes stay whole)\n"
		TOOL_HELP_SYMBOLS
		TOOL_HELP_HELP "\n"
		"Exit status: 0 written; 1 unreadable trace, unwritable output, no hypergraph\n"
		"(folded, --initcall) or no such initcall in it; 2 usage error.\n",
		prog);
}

/* usec() - nanoseconds as exact microseconds for Chrome JSON */
static json_t *usec(uint64_t ns)
{
	return json_real(ns / 1000 + (ns % 1000) / 1000.0);
}

/* x_event() - a complete ("X") event on lane @tid */
static json_t *x_event(const struct span *s, int tid, const char *cat)
{
	json_t *e = json_object(), *args = json_object();
	char addr[24];

	json_object_set_new(e, "name", json_string(s->name));
	json_object_set_new(e, "cat", json_string(cat));
	json_object_set_new(e, "ph", json_string("X"));
	json_object_set_new(e, "pid", json_integer(1));
	json_object_set_new(e, "tid", json_integer(tid));
	json_object_set_new(e, "ts", usec(s->start_ns));
	json_object_set_new(e, "dur", usec(s->dur_ns));
	if (s->addr) {
		snprintf(addr, sizeof(addr), "%#" PRIx64, s->addr);
		json_object_set_new(args, "addr", json_string(addr));
	}
	if (s->level >= 0)
		json_object_set_new(args, "level", json_string(htr_level_name(s->level)));
	if (!strcmp(cat, "initcall") || (s->kind && !strcmp(s->kind, "notifier")))
		json_object_set_new(args, "ret", json_integer(s->ret));
	if (s->open)
		json_object_set_new(args, "unfinished", json_true());
	json_object_set_new(e, "args", args);
	return e;
}

/* name_lane() - a thread_name metadata event */
static json_t *name_lane(int tid, const char *name)
{
	json_t *e = json_object(), *args = json_object();

	json_object_set_new(args, "name", json_string(name));
	json_object_set_new(e, "name", json_string("thread_name"));
	json_object_set_new(e, "ph", json_string("M"));
	json_object_set_new(e, "pid", json_integer(1));
	json_object_set_new(e, "tid", json_integer(tid));
	json_object_set_new(e, "args", args);
	return e;
}

/* add_list() - every span of a list on a lane; open spans end with the trace */
static void add_list(json_t *a, const struct boot_model *m, const struct span_list *l,
		     int tid, const char *cat)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		struct span s = l->s[i];

		if (s.open && m->end_ns > s.start_ns)
			s.dur_ns = m->end_ns - s.start_ns;
		json_array_append_new(a, x_event(&s, tid, cat));
	}
}

/*
 * export_perfetto_under() - Chrome trace-event JSON: the boot's lanes, then
 * the hypergraph's calls (those in @under's subtree, or all for GRAPH_NONE)
 * streamed after them
 */
static int export_perfetto_under(const struct boot_model *m, uint32_t under, FILE *out)
{
	json_t *a = json_array(), *pn = json_object(), *pa = json_object();
	char lane[32];
	unsigned int cpu;
	size_t i;
	int err = 0;

	json_object_set_new(pa, "name", json_string("guest boot"));
	json_object_set_new(pn, "name", json_string("process_name"));
	json_object_set_new(pn, "ph", json_string("M"));
	json_object_set_new(pn, "pid", json_integer(1));
	json_object_set_new(pn, "args", pa);
	json_array_append_new(a, pn);
	json_array_append_new(a, name_lane(TID_PHASES, "phases"));
	json_array_append_new(a, name_lane(TID_LEVELS, "boot levels"));
	for (cpu = 0; cpu < m->ncpus; cpu++) {
		snprintf(lane, sizeof(lane), "CPU %u initcalls", cpu);
		json_array_append_new(a, name_lane((int)cpu, lane));
	}
	json_array_append_new(a, name_lane(TID_SHUTDOWN, "shutdown"));
	json_array_append_new(a, name_lane(TID_MARKERS, "markers"));
	add_list(a, m, &m->phases, TID_PHASES, "phase");
	add_list(a, m, &m->levels, TID_LEVELS, "level");
	for (i = 0; i < m->initcalls.nr; i++) {
		struct span s = m->initcalls.s[i];

		if (s.open && m->end_ns > s.start_ns)
			s.dur_ns = m->end_ns - s.start_ns;
		json_array_append_new(a, x_event(&s, (int)s.cpu, "initcall"));
	}
	add_list(a, m, &m->shutdown, TID_SHUTDOWN, "shutdown");
	for (i = 0; i < m->markers.nr; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "name", json_string(m->markers.s[i].name));
		json_object_set_new(e, "ph", json_string("i"));
		json_object_set_new(e, "s", json_string("t"));
		json_object_set_new(e, "pid", json_integer(1));
		json_object_set_new(e, "tid", json_integer(TID_MARKERS));
		json_object_set_new(e, "ts", usec(m->markers.s[i].start_ns));
		json_array_append_new(a, e);
	}
	if (strcmp(m->fail_kind, "none")) {
		json_t *e = json_object(), *args = json_object();

		json_object_set_new(args, "message", json_string(m->fail_msg));
		json_object_set_new(args, "initcall", json_string(m->fail_initcall));
		json_object_set_new(e, "name", json_string(m->fail_kind));
		json_object_set_new(e, "ph", json_string("i"));
		json_object_set_new(e, "s", json_string("g"));
		json_object_set_new(e, "pid", json_integer(1));
		json_object_set_new(e, "tid", json_integer(TID_MARKERS));
		json_object_set_new(e, "ts", usec(m->fail_ns));
		json_object_set_new(e, "args", args);
		json_array_append_new(a, e);
	}
	/* the lanes are few: each event dumped, then the graph's streamed */
	fputs("{\"traceEvents\":[", out);
	for (i = 0; i < json_array_size(a) && !err; i++) {
		if (i)
			fputs(",\n", out);
		err = json_dumpf(json_array_get(a, i), out, JSON_COMPACT | JSON_ENSURE_ASCII);
	}
	json_decref(a);
	if (err)
		return -EIO;
	err = export_graph_perfetto(m, under, out);
	if (err)
		return err;
	fputs("],\n\"displayTimeUnit\":\"ms\"}\n", out);
	return ferror(out) ? -EIO : 0;
}

/* export_perfetto() - Chrome trace-event JSON of the whole boot and hypergraph */
int export_perfetto(const struct boot_model *m, FILE *out)
{
	return export_perfetto_under(m, GRAPH_NONE, out);
}

/* csv_field() - a field quoted when it needs to be (RFC 4180) */
static void csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* export_csv() - one line per initcall */
int export_csv(const struct boot_model *m, FILE *out)
{
	size_t i;

	fprintf(out, "name,addr,cpu,level,start_ns,duration_ns,ret,finished\n");
	for (i = 0; i < m->initcalls.nr; i++) {
		const struct span *s = &m->initcalls.s[i];

		csv_field(out, s->name);
		fprintf(out, ",%#" PRIx64 ",%u,%s,%" PRIu64 ",%" PRIu64 ",%" PRId64 ",%s\n",
			s->addr, s->cpu, htr_level_name(s->level), s->start_ns, s->dur_ns,
			s->ret, s->open ? "no" : "yes");
	}
	return ferror(out) ? -EIO : 0;
}

/* the export formats */
enum export_format {
	FMT_PERFETTO,
	FMT_CTF,
	FMT_CSV,
	FMT_FOLDED,
};

/**
 * struct export_out - what an export writer needs
 * @m:      the model
 * @format: enum export_format (not FMT_CTF)
 * @under:  the hypergraph node to export below, GRAPH_NONE for all
 */
struct export_out {
	const struct boot_model *m;
	enum export_format format;
	uint32_t under;
};

/* write_export() - CSV, folded stacks or Perfetto JSON (a tool_write() callback) */
static int write_export(FILE *f, const void *ctx)
{
	const struct export_out *x = ctx;

	switch (x->format) {
	case FMT_CSV:
		return export_csv(x->m, f);
	case FMT_FOLDED:
		return export_folded(x->m, x->under, f);
	default:
		return export_perfetto_under(x->m, x->under, f);
	}
}

/* parse_format() - the format named @s; -1 if none */
static int parse_format(const char *s)
{
	static const char *const names[] = {
		[FMT_PERFETTO] = "perfetto", [FMT_CTF] = "ctf", [FMT_CSV] = "csv",
		[FMT_FOLDED] = "folded",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -1;
}

/* export_under() - the node --initcall names (GRAPH_NONE without); -1 after a message */
static int export_under(const struct boot_model *m, const char *trace, const char *initcall,
			enum export_format format, uint32_t *under)
{
	*under = GRAPH_NONE;
	if (!m->graph.present && (initcall || format == FMT_FOLDED)) {
		err_msg("export: %s has no hypergraph (boot with hypertrace_graph=)\n", trace);
		return -1;
	}
	if (!initcall)
		return 0;
	switch (graph_find_initcall(m, initcall, under)) {
	case 0:
		return 0;
	case -ENODATA:
		err_msg("export: initcall %s has no calls in the hypergraph\n", initcall);
		return -1;
	default:
		err_msg("export: %s has no initcall %s\n", trace, initcall);
		return -1;
	}
}

/* cmd_export() - hypertrace export */
int cmd_export(int argc, char **argv)
{
	enum { OPT_INITCALL = 0x200 };
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "initcall", required_argument, NULL, OPT_INITCALL },
		TOOL_OPTS_OUTPUT,
		TOOL_OPTS_SYMBOLS,
		TOOL_OPTS_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct tool_opts t = { 0 };
	struct export_out x = { 0 };
	const char *format = NULL, *initcall = NULL;
	struct boot_model m;
	int c, fmt, ret = EXIT_OK;
	long n;

	while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		if (tool_opt(&t, c, optarg))
			continue;
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case OPT_INITCALL:
			initcall = optarg;
			break;
		case 'h':
			export_usage(stdout);
			return EXIT_OK;
		default:
			export_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!format || !t.output || optind != argc - 1) {
		err_msg("export: need --format, -o OUT and one TRACE\n");
		export_usage(stderr);
		return EXIT_USAGE;
	}
	fmt = parse_format(format);
	if (fmt < 0) {
		err_msg("export: unknown format '%s' (perfetto, ctf, csv or folded)\n", format);
		return EXIT_USAGE;
	}
	if (initcall && fmt == FMT_CSV) {
		err_msg("export: --initcall is for the hypergraph: perfetto, ctf or folded\n");
		return EXIT_USAGE;
	}
	if (tool_load(&m, argv[optind], &t, false))
		return EXIT_FAIL;
	x.m = &m;
	x.format = (enum export_format)fmt;
	if (export_under(&m, argv[optind], initcall, x.format, &x.under)) {
		ret = EXIT_FAIL;
	} else if (x.format == FMT_CTF) {
		n = export_ctf(&m, t.output, x.under);
		if (n < 0) {
			err_msg("export: cannot write CTF into %s: %s\n", t.output,
				strerror((int)-n));
			ret = EXIT_FAIL;
		}
	} else if (tool_write("export", t.output, write_export, &x)) {
		ret = EXIT_FAIL;
	}
	model_free(&m);
	return ret;
}

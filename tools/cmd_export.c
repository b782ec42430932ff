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
		"usage: %s export [options] --format perfetto|ctf|csv -o OUT TRACE\n\n"
		"Write a recorded boot for other tools:\n"
		"  perfetto  Chrome trace-event JSON (ui.perfetto.dev, chrome://tracing):\n"
		"            tracks for the phases, the boot levels, each CPU's initcalls,\n"
		"            the shutdown and the markers; properly nested complete events\n"
		"  ctf       CTF 1.8 for babeltrace2 and Trace Compass: OUT is a directory\n"
		"            with the metadata and one stream per guest CPU; every event of\n"
		"            the trace, with its words, symbol name and string\n"
		"  csv       one line per initcall: name,addr,cpu,level,start_ns,duration_ns,ret\n\n"
		"  -f, --format FORMAT   perfetto, ctf or csv\n"
		"  -o, --output OUT      where to write ('-' for standard output; ctf: a directory)\n"
		TOOL_HELP_SYMBOLS
		TOOL_HELP_HELP "\n"
		"Exit status: 0 written; 1 unreadable trace or unwritable output; 2 usage error.\n",
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

/* export_perfetto() - Chrome trace-event JSON */
int export_perfetto(const struct boot_model *m, FILE *out)
{
	json_t *root = json_object(), *a = json_array(), *pn = json_object(), *pa = json_object();
	char lane[32];
	unsigned int cpu;
	size_t i;
	int err;

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
	json_object_set_new(root, "traceEvents", a);
	json_object_set_new(root, "displayTimeUnit", json_string("ms"));
	err = json_dumpf(root, out, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(root);
	return err ? -EIO : 0;
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

/**
 * struct export_out - what an export writer needs
 * @m:   the model
 * @csv: CSV instead of Perfetto JSON
 */
struct export_out {
	const struct boot_model *m;
	bool csv;
};

/* write_export() - CSV or Perfetto JSON (a tool_write() callback) */
static int write_export(FILE *f, const void *ctx)
{
	const struct export_out *x = ctx;

	return x->csv ? export_csv(x->m, f) : export_perfetto(x->m, f);
}

/* cmd_export() - hypertrace export */
int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		TOOL_OPTS_OUTPUT,
		TOOL_OPTS_SYMBOLS,
		TOOL_OPTS_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct tool_opts t = { 0 };
	struct export_out x = { 0 };
	const char *format = NULL;
	struct boot_model m;
	int c, ret = EXIT_OK;
	long n;

	while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		if (tool_opt(&t, c, optarg))
			continue;
		switch (c) {
		case 'f':
			format = optarg;
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
	if (strcmp(format, "perfetto") && strcmp(format, "csv") && strcmp(format, "ctf")) {
		err_msg("export: unknown format '%s' (perfetto, ctf or csv)\n", format);
		return EXIT_USAGE;
	}
	if (tool_load(&m, argv[optind], &t, false))
		return EXIT_FAIL;
	if (!strcmp(format, "ctf")) {
		n = export_ctf(&m, t.output);
		if (n < 0) {
			err_msg("export: cannot write CTF into %s: %s\n", t.output,
				strerror((int)-n));
			ret = EXIT_FAIL;
		}
	} else {
		x.m = &m;
		x.csv = !strcmp(format, "csv");
		if (tool_write("export", t.output, write_export, &x))
			ret = EXIT_FAIL;
	}
	model_free(&m);
	return ret;
}

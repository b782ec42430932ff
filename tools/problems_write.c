// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The failure chain in the reports: every warning, BUG, oops and panic,
 * in order, with where the boot was and its symbolized backtrace, as text
 * (report) and as the "problems" array of the JSON (report --json, the
 * HTML page, report.json).
 */
#include <inttypes.h>
#include <string.h>

#include "util.h"
#include "writers.h"

#define SYM_LEN 160

/* ms() - nanoseconds as milliseconds */
static double ms(uint64_t ns)
{
	return ns / 1e6;
}

/*
 * frame_format() - frame @i of @p's backtrace, symbolized: the faulting ip
 * (frame 0 of a trace taken from registers, equal to the problem's ip) as
 * it is, every other frame as the return address it is
 */
static char *frame_format(const struct boot_model *m, const struct model_problem *p,
			  unsigned int i, char *buf, size_t len)
{
	if (i == 0 && p->ip && p->frames[0] == p->ip)
		return htr_syms_format(&m->syms, p->frames[0], buf, len);
	return htr_syms_format_ret(&m->syms, p->frames[i], buf, len);
}

/* problem_text() - one problem, its message and its backtrace */
static void problem_text(const struct boot_model *m, const struct model_problem *p, FILE *f)
{
	char sym[SYM_LEN];
	unsigned int i;

	fprintf(f, "  %12.3f ms  CPU%-3u %-8s in %s\n", ms(p->at_ns), p->cpu, p->kind, p->where);
	fprintf(f, "%22s", "");
	if (p->type == HT_EV_WARN || p->type == HT_EV_BUG) {
		fprintf(f, "at ");
		print_unquoted(f, p->message, strlen(p->message));
		fprintf(f, ":%" PRIu64, p->line);
	} else {
		print_escaped(f, p->message, strlen(p->message));
		if (p->type == HT_EV_OOPS)
			fprintf(f, " (error code 0x%" PRIx64 ")", p->error);
	}
	if (p->ip)
		fprintf(f, ", ip %s", htr_syms_format(&m->syms, p->ip, sym, sizeof(sym)));
	fputc('\n', f);
	for (i = 0; i < p->nframes; i++)
		fprintf(f, "%24s%s\n", "", frame_format(m, p, i, sym, sizeof(sym)));
	if (p->nframes < p->frames_sent)
		fprintf(f, "%24s(%u more frames lost)\n", "", p->frames_sent - p->nframes);
}

/**
 * problems_write_text() - the failure chain, or the warnings of a good boot
 * @m: the model
 * @f: where to
 */
void problems_write_text(const struct boot_model *m, FILE *f)
{
	size_t i;

	if (!m->problems.nr)
		return;
	if (m->verdict == HTR_VERDICT_BOOTED)
		fprintf(f, "warnings and errors the boot survived (%zu)\n", m->problems.nr);
	else
		fprintf(f, "failure chain (%zu problem%s, in order)\n", m->problems.nr,
			m->problems.nr == 1 ? "" : "s");
	for (i = 0; i < m->problems.nr; i++)
		problem_text(m, &m->problems.p[i], f);
	fputc('\n', f);
}

/* json_sym() - an address and its symbol as two JSON members */
static void json_sym(const struct boot_model *m, FILE *f, const char *key, uint64_t addr)
{
	char sym[SYM_LEN];

	fprintf(f, ",\"%s\":\"0x%" PRIx64 "\",\"%s_symbol\":", key, addr, key);
	htr_syms_format(&m->syms, addr, sym, sizeof(sym));
	print_json_string(f, sym, strlen(sym));
}

/* problem_json() - one problem as a JSON object */
static void problem_json(const struct boot_model *m, const struct model_problem *p, FILE *f)
{
	char sym[SYM_LEN];
	unsigned int i;

	fprintf(f, "{\"kind\":\"%s\",\"at_ns\":%" PRIu64 ",\"cpu\":%u,\"initcall\":", p->kind,
		p->at_ns, p->cpu);
	if (p->initcall)
		print_json_string(f, p->initcall, strlen(p->initcall));
	else
		fputs("null", f);
	fputs(",\"where\":", f);
	print_json_string(f, p->where, strlen(p->where));
	if (p->type == HT_EV_WARN || p->type == HT_EV_BUG) {
		fputs(",\"file\":", f);
		print_json_string(f, p->message, strlen(p->message));
		fprintf(f, ",\"line\":%" PRIu64, p->line);
	} else {
		fputs(",\"message\":", f);
		print_json_string(f, p->message, strlen(p->message));
	}
	if (p->type == HT_EV_OOPS)
		fprintf(f, ",\"error_code\":%" PRIu64, p->error);
	if (p->ip)
		json_sym(m, f, "ip", p->ip);
	fputs(",\"backtrace\":[", f);
	for (i = 0; i < p->nframes; i++) {
		frame_format(m, p, i, sym, sizeof(sym));
		fprintf(f, "%s{\"addr\":\"0x%" PRIx64 "\",\"symbol\":", i ? "," : "", p->frames[i]);
		print_json_string(f, sym, strlen(sym));
		fputc('}', f);
	}
	fprintf(f, "],\"frames_lost\":%u}", p->frames_sent - p->nframes);
}

/**
 * problems_write_json() - the failure chain as the JSON member "problems"
 * @m: the model
 * @f: where to, inside the report's object (a comma goes first)
 */
void problems_write_json(const struct boot_model *m, FILE *f)
{
	size_t i;

	fputs(",\n\"problems\":[", f);
	for (i = 0; i < m->problems.nr; i++) {
		fputs(i ? ",\n " : "\n ", f);
		problem_json(m, &m->problems.p[i], f);
	}
	fputs("]", f);
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The boot's async work and its critical path in report: the "async work"
 * and "critical path" sections of the text, and the JSON's "async",
 * "async_stats", "critical_path" and "critical_path_summary".
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "writers.h"

#define RUN_MIN		3	/* initcall links in a row shown as one line */
#define RUN_SHOW_PCT	1.0	/* of those, the ones listed: this share of the boot */

/* ms() - nanoseconds as milliseconds */
static double ms(uint64_t ns)
{
	return ns / 1e6;
}

/* pct() - @ns as a share of @total, in per cent */
static double pct(uint64_t ns, uint64_t total)
{
	return total ? 100.0 * ns / total : 0;
}

/* by_async_dur() - qsort order of async span pointers: longest first, then by start */
static int by_async_dur(const void *a, const void *b)
{
	const struct model_async_span *x = *(const struct model_async_span * const *)a;
	const struct model_async_span *y = *(const struct model_async_span * const *)b;

	if (x->open != y->open)
		return x->open ? -1 : 1;
	if (x->dur_ns != y->dur_ns)
		return x->dur_ns < y->dur_ns ? 1 : -1;
	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

/* async_cpus() - how many CPUs ran async work */
static unsigned int async_cpus(const struct model_async *a)
{
	bool seen[HT_MAX_RINGS] = { false };
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < a->nr; i++)
		if (a->s[i].cpu < HT_MAX_RINGS && !seen[a->s[i].cpu]) {
			seen[a->s[i].cpu] = true;
			n++;
		}
	return n;
}

/**
 * async_write_text() - the "async work" section: the longest spans, with CPU
 * @m:   the model
 * @f:   where to
 * @top: spans listed
 */
void async_write_text(const struct boot_model *m, FILE *f, size_t top)
{
	const struct model_async *a = &m->async;
	uint64_t total = m->boot_ns ? m->boot_ns : m->end_ns;
	const struct model_async_span **p;
	size_t i, open = 0;

	if (!a->events)
		return;
	for (i = 0; i < a->nr; i++)
		open += a->s[i].open;
	fprintf(f, "\nasync work: %zu span%s on %u CPU%s, %zu unfinished, longest first\n"
		"  %-46s %10s %8s %12s  CPU\n", a->nr, a->nr == 1 ? "" : "s", async_cpus(a),
		async_cpus(a) == 1 ? "" : "s", open, "function", "took ms", "of boot", "start ms");
	if (a->unmatched_ends || a->duplicate_begins || a->fn_mismatches || a->dropped)
		fprintf(f, "  not paired: %" PRIu64 " end%s without a begin, %" PRIu64
			" duplicate begin%s, %" PRIu64 " end%s of another function, %" PRIu64
			" span%s beyond the %u kept\n", a->unmatched_ends,
			a->unmatched_ends == 1 ? "" : "s", a->duplicate_begins,
			a->duplicate_begins == 1 ? "" : "s", a->fn_mismatches,
			a->fn_mismatches == 1 ? "" : "s", a->dropped, a->dropped == 1 ? "" : "s",
			MODEL_ASYNC_MAX);
	p = calloc(a->nr + 1, sizeof(*p));
	if (!p)
		return;
	for (i = 0; i < a->nr; i++)
		p[i] = &a->s[i];
	qsort(p, a->nr, sizeof(*p), by_async_dur);
	for (i = 0; i < a->nr && i < top; i++) {
		uint64_t d = p[i]->open ? (m->end_ns > p[i]->start_ns ? m->end_ns - p[i]->start_ns : 0) :
			     p[i]->dur_ns;

		fprintf(f, "  %-46.46s %10.3f %7.1f%% %12.3f  %u", p[i]->name, ms(d), pct(d, total),
			ms(p[i]->start_ns), p[i]->cpu);
		if (p[i]->end_cpu != p[i]->cpu)
			fprintf(f, "->%u", p[i]->end_cpu);
		fprintf(f, "%s\n", p[i]->open ? "  (never ended)" : "");
	}
	free(p);
}

/* link_note() - what the text says after a link: its kind and why it is on the path */
static void link_note(const struct model_link *l, char *buf, size_t len)
{
	const char *why = "";

	switch (l->why) {
	case MODEL_WHY_WAITED:
		why = ", waited for the async work below";
		break;
	case MODEL_WHY_WAITED_INFERRED:
		why = ", waited for the async work below (inferred)";
		break;
	case MODEL_WHY_ASYNC_BEGAN:
		why = ", the async work above began while it ran";
		break;
	}
	if (l->kind == MODEL_LINK_ASYNC)
		snprintf(buf, len, "async, CPU %u", l->cpu);
	else if (l->kind == MODEL_LINK_INITCALL)
		snprintf(buf, len, "initcall %s%s%s", htr_level_name(l->level), why,
			 l->open ? ", never returned" : "");
	else
		snprintf(buf, len, "%s%s%s", model_link_kind_name(l->kind), why,
			 l->open ? ", unfinished" : "");
}

/*
 * link_line() - one link: "└─name @start +took share note"; @sub: a slow
 * initcall listed under its run, two columns further in
 */
static void link_line(FILE *f, bool sub, const char *name, uint64_t start,
		      uint64_t dur, uint64_t total, const char *note)
{
	int w = sub ? 34 : 36;

	fprintf(f, "  %s%-*.*s @%10.3f +%9.3f %5.1f%%  %s\n", sub ? "  \u00b7 " : "\u2514\u2500",
		w, w, name, ms(start), ms(dur), pct(dur, total), note);
}

/* run_len() - how many sequence initcall links of one level end at @i, walking back */
static size_t run_len(const struct model_critical *c, size_t i)
{
	const struct model_link *l = &c->l[i];
	size_t n = 0;

	while (n <= i) {
		const struct model_link *k = &c->l[i - n];

		if (k->kind != MODEL_LINK_INITCALL || k->why != MODEL_WHY_SEQUENCE ||
		    k->level != l->level)
			break;
		n++;
	}
	return n;
}

/**
 * critical_write_text() - the "critical path" section, from the end back,
 * as systemd-analyze critical-chain: each link with @start and +duration
 * @m: the model
 * @f: where to
 */
void critical_write_text(const struct boot_model *m, FILE *f)
{
	const struct model_critical *c = &m->critical;
	uint64_t total = c->end_ns;
	char note[160], name[64];
	size_t i, j, n;

	if (!c->nr)
		return;
	fprintf(f, "\ncritical path to %s at %.3f ms: %zu links cover %.3f ms (%.1f%%), "
		"async work %.3f ms, %u wait%s for it (%s)\n", c->boot_done ? "the end of the boot" :
		"the end of the recording", ms(c->end_ns), c->nr, ms(c->on_path_ns),
		pct(c->on_path_ns, total), ms(c->async_ns), c->waits, c->waits == 1 ? "" : "s",
		c->recorded ? "recorded by the kernel" : "no wait records: inferred");
	fprintf(f, "  %s @%10.3f\n", c->boot_done ? "end of the boot (init runs)" :
		"end of the recording", ms(c->end_ns));
	for (i = c->nr; i-- > 0;) {
		const struct model_link *l = &c->l[i];

		n = run_len(c, i);
		if (n < RUN_MIN) {
			link_note(l, note, sizeof(note));
			link_line(f, false, l->name, l->start_ns, l->dur_ns, total, note);
			continue;
		}
		/* a run of initcalls one after another: one line, and the slow ones */
		snprintf(name, sizeof(name), "%zu initcalls of level %s", n, htr_level_name(l->level));
		link_line(f, false, name, c->l[i - n + 1].start_ns,
			  l->start_ns + l->dur_ns - c->l[i - n + 1].start_ns, total,
			  "initcalls one after another");
		for (j = 0; j < n; j++) {
			const struct model_link *k = &c->l[i - j];

			if (pct(k->dur_ns, total) >= RUN_SHOW_PCT)
				link_line(f, true, k->name, k->start_ns, k->dur_ns, total,
					  k->open ? "initcall, never returned" : "initcall");
		}
		i -= n - 1;
	}
}

/*
 * cookie_write() - an async cookie as a JSON number, or null above
 * INT64_MAX (which JSON readers such as jansson cannot hold): no real
 * cookie gets there, but async_synchronize_full() waits for
 * ASYNC_COOKIE_MAX, and a hostile guest says what it likes
 */
static void cookie_write(FILE *f, uint64_t cookie)
{
	if (cookie > INT64_MAX)
		fputs("null", f);
	else
		fprintf(f, "%" PRIu64, cookie);
}

/**
 * async_write_json() - "async" (every span), "async_waits" (every wait
 * for async work) and "async_stats" (what was not paired)
 * @m: the model
 * @f: where to
 */
void async_write_json(const struct boot_model *m, FILE *f)
{
	const struct model_async *a = &m->async;
	size_t i, open = 0;

	fputs(",\n\"async\":[", f);
	for (i = 0; i < a->nr; i++) {
		const struct model_async_span *s = &a->s[i];

		open += s->open;
		fprintf(f, "%s{\"name\":", i ? ",\n " : "\n ");
		print_json_string(f, s->name, strlen(s->name));
		fprintf(f, ",\"addr\":\"%#" PRIx64 "\",\"cookie\":", s->addr);
		cookie_write(f, s->cookie);
		fprintf(f, ",\"cpu\":%u,\"end_cpu\":%u,\"start_ns\":%" PRIu64 ",\"duration_ns\":%"
			PRIu64 "%s}", s->cpu, s->end_cpu, s->start_ns, s->dur_ns,
			s->open ? ",\"unfinished\":true" : "");
	}
	fputs("],\n\"async_waits\":[", f);
	for (i = 0; i < a->nw; i++) {
		const struct model_async_wait *w = &a->w[i];

		fprintf(f, "%s{\"cookie\":", i ? ",\n " : "\n ");
		cookie_write(f, w->cookie);
		fprintf(f, ",\"all\":%s,\"pid\":%" PRIu32 ",\"cpu\":%u,\"end_cpu\":%u,"
			"\"start_ns\":%" PRIu64 ",\"duration_ns\":%" PRIu64 "%s}",
			w->cookie > INT64_MAX ? "true" : "false", w->pid, w->cpu, w->end_cpu,
			w->start_ns, w->dur_ns, w->open ? ",\"unfinished\":true" : "");
	}
	fprintf(f, "],\n\"async_stats\":{\"events\":%" PRIu64 ",\"spans\":%zu,\"unfinished\":%zu,"
		"\"unmatched_ends\":%" PRIu64 ",\"duplicate_begins\":%" PRIu64
		",\"fn_mismatches\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"cap\":%u,"
		"\"wait_events\":%" PRIu64 ",\"waits\":%zu,\"wait_unmatched\":%" PRIu64
		",\"wait_dropped\":%" PRIu64 "}", a->events, a->nr,
		open, a->unmatched_ends, a->duplicate_begins, a->fn_mismatches, a->dropped,
		MODEL_ASYNC_MAX, a->wait_events, a->nw, a->wait_unmatched, a->wait_dropped);
}

/* put() - @s at @p; the end */
static char *put(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* put_dec() - @v in decimal at @p, at least @width digits; the end */
static char *put_dec(char *p, uint64_t v, unsigned int width)
{
	char tmp[24];
	unsigned int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || n < width);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/*
 * link_write() - link @i as a JSON object, formatted by hand (printf was
 * most of the time of a path of half a million initcalls); its share with
 * four decimals
 */
static void link_write(FILE *f, const struct model_critical *c, size_t i)
{
	const struct model_link *l = &c->l[i];
	uint64_t share = c->end_ns ? (uint64_t)((unsigned __int128)l->dur_ns * 10000 + c->end_ns / 2) /
				     c->end_ns : 0;
	size_t n = strlen(l->name);
	char buf[1024], *p = buf;	/* 6 * 128 + 2 for the name, the rest < 250 */

	p = put(put(put(p, i ? ",\n {\"kind\":\"" : "\n {\"kind\":\""),
		    model_link_kind_name(l->kind)), "\",\"name\":");
	if (n > 128) {
		fwrite(buf, 1, (size_t)(p - buf), f);
		print_json_string(f, l->name, n);
		p = buf;
	} else {
		p = put_json_string(p, l->name, n);
	}
	p = put_dec(put(p, ",\"start_ns\":"), l->start_ns, 1);
	p = put_dec(put(p, ",\"duration_ns\":"), l->dur_ns, 1);
	p = put_dec(put(p, ",\"cpu\":"), l->cpu, 1);
	p = put(put(put(p, ",\"why\":\""), model_link_why_name(l->why)), "\",\"share\":");
	p = put_dec(put(put_dec(p, share / 10000, 1), "."), share % 10000, 4);
	if (l->kind != MODEL_LINK_GAP)
		p = put_dec(put(p, ",\"index\":"), l->index, 1);
	if (l->kind == MODEL_LINK_INITCALL)
		p = put(put(put(p, ",\"level\":\""), htr_level_name(l->level)), "\"");
	if (l->open)
		p = put(p, ",\"unfinished\":true");
	if (l->partial)
		p = put(p, ",\"partial\":true");
	*p++ = '}';
	fwrite(buf, 1, (size_t)(p - buf), f);
}

/*
 * critical_rows_write() - the page's compact form of the links,
 * "critical_rows": [kind, why, index, start_ns, duration_ns, flags] with
 * kind and why the numbers of "critical_kinds" and "critical_whys", index
 * -1 for a gap, flags 1 unfinished, 2 partial; the page's script takes
 * names, CPUs and levels from the spans the index names
 */
static void critical_rows_write(const struct model_critical *c, FILE *f)
{
	unsigned int k;
	size_t i;

	fputs(",\n\"critical_kinds\":[", f);
	for (k = 0; k <= MODEL_LINK_GAP; k++)
		fprintf(f, "%s\"%s\"", k ? "," : "", model_link_kind_name(k));
	fputs("],\n\"critical_whys\":[", f);
	for (k = 0; k <= MODEL_WHY_ASYNC; k++)
		fprintf(f, "%s\"%s\"", k ? "," : "", model_link_why_name(k));
	fputs("],\n\"critical_rows\":[", f);
	for (i = 0; i < c->nr; i++) {
		const struct model_link *l = &c->l[i];
		char buf[128], *p = put(buf, i ? ",\n[" : "\n[");

		p = put_dec(put(put_dec(p, l->kind, 1), ","), l->why, 1);
		p = l->kind == MODEL_LINK_GAP ? put(p, ",-1") : put_dec(put(p, ","), l->index, 1);
		p = put_dec(put(p, ","), l->start_ns, 1);
		p = put_dec(put(p, ","), l->dur_ns, 1);
		p = put_dec(put(p, ","), (l->open ? 1u : 0u) | (l->partial ? 2u : 0u), 1);
		*p++ = ']';
		fwrite(buf, 1, (size_t)(p - buf), f);
	}
	fputc(']', f);
}

/**
 * critical_write_json() - "critical_path" (the links, earliest first) and
 * "critical_path_summary"
 * @m:    the model
 * @f:    where to
 * @page: the HTML page's compact rows instead of "critical_path"
 */
void critical_write_json(const struct boot_model *m, FILE *f, bool page)
{
	const struct model_critical *c = &m->critical;
	size_t i;

	if (page)
		critical_rows_write(c, f);
	else
		fputs(",\n\"critical_path\":[", f);
	for (i = 0; !page && i < c->nr; i++)
		link_write(f, c, i);
	fprintf(f, "%s,\n\"critical_path_summary\":{\"end_ns\":%" PRIu64 ",\"end\":\"%s\","
		"\"links\":%zu,\"on_path_ns\":%" PRIu64 ",\"share\":%.4f,\"async_ns\":%" PRIu64
		",\"waits\":%u,\"waits_recorded\":%s,\"wait_slack_ns\":%llu,\"wait_min_ns\":%llu}",
		page ? "" : "]", c->end_ns,
		c->boot_done ? "boot_done" : "end_of_trace", c->nr, c->on_path_ns,
		c->end_ns ? (double)c->on_path_ns / c->end_ns : 0, c->async_ns, c->waits,
		c->recorded ? "true" : "false",
		(unsigned long long)MODEL_WAIT_SLACK_NS, (unsigned long long)MODEL_WAIT_MIN_NS);
}

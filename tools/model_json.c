// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The boot model as JSON: what report --json prints, what the HTML report
 * embeds and what hypertrace boot leaves in report.json.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "tracefile.h"
#include "writers.h"
#include "util.h"

/* put_u64() - @v in decimal (or hex with @hex) at @p; the end */
static char *put_u64(char *p, uint64_t v, bool hex)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536"
		"37383940414243444546474849505152535455565758596061626364656667686970717273"
		"7475767778798081828384858687888990919293949596979899";
	static const uint64_t pow10[] = {
		1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
		10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
		100000000000ULL, 1000000000000ULL, 10000000000000ULL,
		100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
		100000000000000000ULL, 1000000000000000000ULL,
		10000000000000000000ULL,
	};
	unsigned int len = 1;
	char *end;

	/* count the digits, then write them backwards where they belong */
	if (hex) {
		len = v ? (67 - (unsigned int)__builtin_clzll(v)) / 4 : 1;
		end = p + len;
		p = end;
		do {
			*--p = "0123456789abcdef"[v & 15];
			v >>= 4;
		} while (v);
		return end;
	}
	while (len < 20 && v >= pow10[len])
		len++;
	end = p + len;
	p = end;
	/* constant divisors: the compiler multiplies; two digits per step */
	while (v >= 100) {
		p -= 2;
		memcpy(p, &pairs[2 * (v % 100)], 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, &pairs[2 * v], 2);
	} else {
		*--p = (char)('0' + v);
	}
	return end;
}

/* the names htr_level_name() gives, numbered for the page; "?" last */
static const char *const page_levels[] = {
	"pure", "core", "postcore", "arch", "subsys", "fs", "device", "late",
	"early", "console", "security", "module", "sync", "?",
};

/* put_str() - a string that needs no escaping (ours, not a guest's) at @p */
static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/*
 * Rows are formatted into one big buffer and written when it is nearly
 * full: a fwrite() per row was a tenth of a big page's time.  A row takes
 * at most BATCH_ROW bytes besides its name; longer names go straight out.
 */
#define BATCH_ROW	256
#define BATCH_NAME	128

/* struct out_batch - rows waiting to be written to @f */
struct out_batch {
	FILE *f;
	size_t used;
	char buf[1 << 16];
};

/* batch_flush() - write what @o holds */
static void batch_flush(struct out_batch *o)
{
	fwrite(o->buf, 1, o->used, o->f);
	o->used = 0;
}

/* batch_room() - where the next row goes: room for a row and a short name */
static char *batch_room(struct out_batch *o)
{
	if (sizeof(o->buf) - o->used < BATCH_ROW + 6 * BATCH_NAME + 2)
		batch_flush(o);
	return o->buf + o->used;
}

/* batch_end() - the row ends at @p */
static void batch_end(struct out_batch *o, char *p)
{
	o->used = (size_t)(p - o->buf);
}

/* put_name() - a guest's name as a JSON string at @p, in @o; the end */
static char *put_name(struct out_batch *o, char *p, const char *name)
{
	size_t n = strlen(name);

	if (n <= BATCH_NAME)
		return put_json_string(p, name, n);
	batch_end(o, p);
	batch_flush(o);
	print_json_string(o->f, name, n);
	return o->buf;
}

#define SPAN_HOST	1u	/* a span's stolen_ns and migrations */
#define SPAN_IDLE	2u	/* a span's idle_ns */

/* idle_write_json() - "idle": each CPU's idle time to the end of the boot */
static void idle_write_json(const struct boot_model *m, FILE *f)
{
	const struct model_idle *d = &m->idle;
	unsigned int cpu;
	bool first = true;

	fprintf(f, ",\n\"idle\":{\"events\":%" PRIu64 ",\"stretches\":%zu,\"unmatched\":%" PRIu64
		",\"cpus\":[", d->events, d->nr, d->unmatched);
	for (cpu = 0; d->events && cpu < MODEL_IDLE_CPUS && cpu < m->ncpus; cpu++) {
		fprintf(f, "%s{\"cpu\":%u,\"idle_ns\":%" PRIu64 "}", first ? "" : ",", cpu,
			d->cpu_idle_ns[cpu]);
		first = false;
	}
	fputs("]}", f);
}

/*
 * span_write() - one span as a JSON object on one line; formatted by hand
 * into one buffer: printf() was most of the time of a big report
 */
static void span_write(struct out_batch *o, const char *sep,
		       const struct span *s, bool initcall, unsigned int extra)
{
	char *p = put_str(put_str(batch_room(o), sep), "{\"name\":");

	p = put_name(o, p, s->name);
	p = put_u64(put_str(p, ",\"start_ns\":"), s->start_ns, false);
	p = put_u64(put_str(p, ",\"duration_ns\":"), s->dur_ns, false);
	if (s->open)
		p = put_str(p, ",\"unfinished\":true");
	if (initcall) {
		p = put_str(p, ",\"addr\":\"");
		if (s->addr)
			p = put_str(p, "0x");
		p = put_u64(p, s->addr, true);
		p = put_u64(put_str(p, "\",\"cpu\":"), s->cpu, false);
		p = put_str(p, ",\"ret\":");
		if (s->ret < 0)
			*p++ = '-';
		p = put_u64(p, s->ret < 0 ? -(uint64_t)s->ret : (uint64_t)s->ret, false);
		p = put_str(put_str(put_str(p, ",\"level\":\""), htr_level_name(s->level)), "\"");
	}
	if (s->kind)
		p = put_str(put_str(put_str(p, ",\"kind\":\""), s->kind), "\"");
	if (extra & SPAN_HOST) {
		p = put_u64(put_str(p, ",\"stolen_ns\":"), s->stolen_ns, false);
		p = put_u64(put_str(p, ",\"migrations\":"), s->migrations, false);
	}
	if (extra & SPAN_IDLE)
		p = put_u64(put_str(p, ",\"idle_ns\":"), s->idle_ns, false);
	*p++ = '}';
	batch_end(o, p);
}

/* list_write() - a span list as a JSON array, one span per line */
static void list_write(FILE *f, const char *key, const struct span_list *l,
		       bool initcall, unsigned int extra)
{
	struct out_batch o = { .f = f };
	size_t i;

	fprintf(f, ",\n\"%s\":[", key);
	for (i = 0; i < l->nr; i++)
		span_write(&o, i ? ",\n " : "\n ", &l->s[i], initcall, extra);
	batch_flush(&o);
	fputs("]", f);
}

/* clock_method() - the name of an enum htf_clock_method */
static const char *clock_method(unsigned int method)
{
	switch (method) {
	case HTF_CLOCK_DOORBELL:
		return "doorbell-arrival";
	case HTF_CLOCK_HYPERCALL:
		return "hypercall";
	case HTF_CLOCK_KVM_OFFSET:
		return "kvm-tsc-offset";
	}
	return "none";
}

/* loss_write() - the records lost, by cause */
static void loss_write(FILE *f, const struct model_loss *l, uint64_t stray)
{
	fprintf(f, ",\n\"loss\":{\"ring_full\":%" PRIu64 ",\"orphans\":%" PRIu64
		",\"skipped_after_protocol_error\":%" PRIu64 ",\"dropped_while_probing\":%"
		PRIu64 ",\"sequence_gaps\":%" PRIu64 ",\"bad_records\":%" PRIu64
		",\"torn_tail_bytes\":%" PRIu64 ",\"stray_backtrace_records\":%" PRIu64 "}",
		l->ring_lost, l->orphans, l->skipped, l->probe, l->seq_gaps, l->bad, l->torn_bytes,
		stray);
}

/* clock_write() - how the guest's clock was tied to the host's */
static void clock_write(FILE *f, const struct boot_model *m)
{
	const struct model_clock *k = &m->clock;
	unsigned int i;
	bool first = true;

	fprintf(f, ",\n\"clock\":{\"mode\":\"%s\",", m->icount[0] ? "icount" : "real");
	if (m->icount[0]) {
		fputs("\"icount\":", f);
		print_json_string(f, m->icount, strlen(m->icount));
		fputc(',', f);
	}
	if (m->rr[0])
		fprintf(f, "\"rr\":\"%s\",", m->rr);
	fprintf(f, "\"domain\":\"guest-tsc\",\"tsc_khz\":%" PRIu64
		",\"tsc_from_host\":%s,\"guest_tsc_khz\":%" PRIu64 ",\"origin\":\"%s\","
		"\"method\":\"%s\",\"samples\":%" PRIu64 ",\"residual_ns\":%" PRIu64
		",\"max_residual_ns\":%" PRIu64 ",\"cpu_skew_ns\":{", m->tsc_khz,
		m->tsc_from_host ? "true" : "false", m->guest_tsc_khz,
		m->launch_known ? "qemu-launch" : "guest-tsc-zero", clock_method(k->method),
		k->samples, k->residual_ns, k->max_residual_ns);
	for (i = 0; i < MODEL_CLOCK_CPUS; i++) {
		if (!k->cpu_seen[i])
			continue;
		fprintf(f, "%s\"%u\":%" PRId64, first ? "" : ",", i, k->cpu_offset_ns[i]);
		first = false;
	}
	fputs("}}", f);
}

/* level_number() - @name's place in the page's level table (htr_level_name's names) */
static unsigned int level_number(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(page_levels) / sizeof(page_levels[0]) - 1; i++)
		if (!strcmp(page_levels[i], name))
			break;
	return i;
}

/*
 * rows_write() - the initcalls as the page's compact rows: [name, start_ns,
 * duration_ns, cpu, ret, level, unfinished, addr] with level a number in
 * "level_names" and addr 0 when the name is the address; under half the
 * objects' size, for a page of half a million
 */
static void rows_write(FILE *f, const struct boot_model *m)
{
	const struct span_list *l = &m->initcalls;
	struct out_batch o = { .f = f };
	char hex[24], *p;
	unsigned int i, last_number = 0;
	int last_level = INT_MIN;
	size_t k;

	fputs(",\n\"level_names\":[", f);
	for (i = 0; i < sizeof(page_levels) / sizeof(page_levels[0]); i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", page_levels[i]);
	fputs("],\n\"initcall_rows\":[", f);
	for (k = 0; k < l->nr; k++) {
		const struct span *s = &l->s[k];

		p = put_name(&o, put_str(batch_room(&o), k ? ",\n[" : "\n["), s->name);
		p = put_u64(put_str(p, ","), s->start_ns, false);
		p = put_u64(put_str(p, ","), s->dur_ns, false);
		p = put_u64(put_str(p, ","), s->cpu, false);
		p = put_str(p, s->ret < 0 ? ",-" : ",");
		p = put_u64(p, s->ret < 0 ? -(uint64_t)s->ret : (uint64_t)s->ret, false);
		if (s->level != last_level) {
			last_level = s->level;
			last_number = level_number(htr_level_name(s->level));
		}
		p = put_u64(put_str(p, ","), last_number, false);
		p = put_str(p, s->open ? ",1," : ",0,");
		*put_u64(put_str(hex, "0x"), s->addr, true) = '\0';
		if (!s->addr || (s->name[0] == '0' && !strcmp(hex, s->name)))
			p = put_str(p, "0");
		else
			p = put_str(put_str(put_str(p, "\""), hex), "\"");
		*p++ = ']';
		batch_end(&o, p);
	}
	batch_flush(&o);
	fputs("]", f);
}

/*
 * log_tail_write() - "log_tail": a failed boot's last kernel log records
 * up to its failure (log_tail(); none for a boot that did not fail or a
 * trace without a log)
 */
static void log_tail_write(FILE *f, const struct boot_model *m)
{
	size_t i, first, end;

	log_tail(m, &first, &end);
	fprintf(f, ",\n\"log_records\":%zu,\n\"log_tail\":[", m->klog.nr);
	for (i = first; i < end; i++) {
		const struct htr_log_rec *r = &m->klog.rec[i];

		fprintf(f, "%s{\"seq\":%" PRIu64 ",\"ts_nsec\":%" PRIu64 ",\"level\":%u,"
			"\"text\":", i == first ? "" : ",", r->seq, r->ts_nsec, r->level);
		print_json_string(f, r->text, r->text_len);
		fputc('}', f);
	}
	fputc(']', f);
}

/* json_write() - the model as JSON; @page: the HTML page's compact form */
static int json_write(const struct boot_model *m, FILE *f, bool page,
		      const struct calltree_limits *lim)
{
	/* stolen time and migrations, idle time per span, when the trace has them */
	unsigned int extra = (m->sched.aligned ? SPAN_HOST : 0) | (m->idle.events ? SPAN_IDLE : 0);

	fprintf(f, "{\"launch_to_vm_ns\":%" PRIu64 ",\n\"boot_ns\":%" PRIu64
		",\n\"userspace_ns\":%" PRIu64 ",\n\"end_ns\":%" PRIu64 ",\n\"accel\":",
		m->launch_ns, m->boot_ns, m->user_ns, m->end_ns);
	print_json_string(f, m->accel, strlen(m->accel));
	fprintf(f, ",\n\"cpus\":%u,\n\"tsc_khz\":%" PRIu64, m->ncpus, m->tsc_khz);
	list_write(f, "phases", &m->phases, false, extra);
	list_write(f, "levels", &m->levels, false, extra);
	if (page)
		rows_write(f, m);
	else
		list_write(f, "initcalls", &m->initcalls, true, extra);
	list_write(f, "shutdown", &m->shutdown, false, extra);
	list_write(f, "markers", &m->markers, false, 0);
	idle_write_json(m, f);
	async_write_json(m, f);
	critical_write_json(m, f, page);
	fprintf(f, ",\n\"failure\":{\"kind\":\"%s\",\"message\":", m->fail_kind);
	print_json_string(f, m->fail_msg, strlen(m->fail_msg));
	fputs(",\"initcall\":", f);
	if (m->fail_initcall[0])
		print_json_string(f, m->fail_initcall, strlen(m->fail_initcall));
	else
		fputs("null", f);
	fputs(",\"where\":", f);
	print_json_string(f, m->fail_where, strlen(m->fail_where));
	fprintf(f, ",\"at_ns\":%" PRIu64 ",\"chain\":", m->fail_ns);
	print_json_string(f, m->fail_chain, strlen(m->fail_chain));
	fputc('}', f);
	problems_write_json(m, f);
	log_tail_write(f, m);
	vcpus_write_json(m, f);
	sched_write_json(m, f, page);
	hints_write_json(m, f);
	if (!page)
		functions_write_json(m, f, 20);
	else if (lim && lim->budget)
		calltree_write_json(m, lim, f);	/* out of memory: it says so */
	fprintf(f, ",\n\"lost_records\":%" PRIu64, m->lost);
	loss_write(f, &m->loss, m->problems.stray);
	clock_write(f, m);
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}

/**
 * model_write_json() - the model as the JSON object report --json prints
 * @m: the model
 * @f: where to
 *
 * Written as it goes, not built in memory first: a boot can have half a
 * million initcalls.  Strings are escaped so that the text is also safe
 * inside an HTML <script> element (no raw <, > or &).
 *
 * Return: 0, or -EIO when writing failed.
 */
int model_write_json(const struct boot_model *m, FILE *f)
{
	return json_write(m, f, false, NULL);
}

/**
 * model_write_page_json() - the same for the HTML page, initcalls as rows
 * @m:   the model
 * @lim: the call trees' pruning (calltree_write_json()), NULL for none
 * @f:   where to
 *
 * The page's script turns "initcall_rows" back into the objects of
 * model_write_json() (see report.html.in).
 *
 * Return: 0, or -EIO when writing failed.
 */
int model_write_page_json(const struct boot_model *m, const struct calltree_limits *lim,
			  FILE *f)
{
	return json_write(m, f, true, lim);
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: derive the boot from the model's events, in time order: pair
 * begin/end events into spans, name code addresses, follow the boot with
 * htr_boot and decide the verdict by its one rule.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

#define MODEL_BLOCK_SIZE	65536

/**
 * model_strdup() - @s copied into @m's string pool; NULL when out of memory
 * @m: the model
 * @s: the string
 *
 * Half a million initcall names one after another in big blocks, not half
 * a million mallocs: a big trace's load was a tenth malloc and free.
 *
 * Return: the copy, which lives as long as the model.
 */
const char *model_strdup(struct boot_model *m, const char *s)
{
	size_t n = strlen(s) + 1;
	struct model_block *b = m->strings;
	char *p;

	if (!b || b->size - b->used < n) {
		size_t size = n > MODEL_BLOCK_SIZE ? n : MODEL_BLOCK_SIZE;

		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->next = m->strings;
		b->used = 0;
		b->size = size;
		m->strings = b;
	}
	p = b->data + b->used;
	memcpy(p, s, n);
	b->used += n;
	return p;
}

/* pool_free() - release @m's string pool */
static void pool_free(struct boot_model *m)
{
	while (m->strings) {
		struct model_block *b = m->strings;

		m->strings = b->next;
		free(b);
	}
}

/* span_add() - append a span, its name copied to the pool; NULL when out of memory */
static struct span *span_add(struct boot_model *m, struct span_list *l,
			     const char *name)
{
	struct span *s;

	if (l->nr == l->alloc) {
		struct span *p = htr_grow(l->s, &l->alloc, sizeof(*p), 64);

		if (!p)
			return NULL;
		l->s = p;
	}
	s = &l->s[l->nr];
	memset(s, 0, sizeof(*s));
	s->name = model_strdup(m, name ? name : "");
	if (!s->name)
		return NULL;
	s->level = -1;
	l->nr++;
	return s;
}

/* span_list_free() - release a list */
static void span_list_free(struct span_list *l)
{
	free(l->s);
	memset(l, 0, sizeof(*l));
}

/*
 * An end event pairs with a begin at most this many spans back: a real
 * boot's are a few apart, and a hostile guest's million unmatched ends
 * must not cost a million scans of a million spans each.
 */
#define MODEL_PAIR_WINDOW	1024

/* find_open() - the last open span of @l named @name, or (@name NULL) at @addr */
static struct span *find_open(struct span_list *l, uint64_t addr, const char *name)
{
	size_t i = l->nr, stop = l->nr > MODEL_PAIR_WINDOW ? l->nr - MODEL_PAIR_WINDOW : 0;

	while (i-- > stop) {
		struct span *s = &l->s[i];

		if (s->open && (name ? !strcmp(s->name, name) : s->addr == addr))
			return s;
	}
	return NULL;
}

/**
 * model_ns() - a guest TSC value as the model's time
 * @m:   the model
 * @tsc: guest TSC
 *
 * Return: nanoseconds since QEMU's launch (or the TSC's zero, see model.h).
 */
uint64_t model_ns(const struct boot_model *m, uint64_t tsc)
{
	uint64_t q = tsc / m->tsc_khz, r = tsc % m->tsc_khz;

	/*
	 * tsc * 10^6 / khz exactly, as q * 10^6 + r * 10^6 / khz: two 64-bit
	 * divisions instead of a 128-bit one (a call, and a tenth of a big
	 * load); r * 10^6 fits as khz < 2^44
	 */
	if (m->tsc_khz < (1ULL << 44) && q < UINT64_MAX / 1000000)
		return m->launch_ns + q * 1000000 + r * 1000000 / m->tsc_khz;
	return m->launch_ns + (uint64_t)((unsigned __int128)tsc * 1000000 / m->tsc_khz);
}

/* ns() - short for model_ns() */
static uint64_t ns(const struct boot_model *m, uint64_t tsc)
{
	return model_ns(m, tsc);
}

/**
 * model_fn_name() - a code address as a name, or the address in hex ("%#lx")
 * @m:    the model, with its symbols
 * @addr: the address as the guest ran it
 * @buf:  room for the hex form
 * @len:  its size, at least 19
 *
 * Return: the symbol's name, @buf, or "?" when @buf is too small.
 */
const char *model_fn_name(const struct boot_model *m, uint64_t addr, char *buf,
			  size_t len)
{
	const char *name = htr_syms_lookup(&m->syms, addr, NULL);
	unsigned int n;
	char *p;

	if (name)
		return name;
	if (len < 19)
		return "?";
	if (!addr)
		return strcpy(buf, "0");
	/* "%#lx": the digits written backwards from where they end */
	n = (67 - (unsigned int)__builtin_clzll(addr)) / 4;
	buf[0] = '0';
	buf[1] = 'x';
	buf[n + 2] = '\0';
	for (p = &buf[n + 2]; addr; addr >>= 4)
		*--p = "0123456789abcdef"[addr & 15];
	return buf;
}

/* open_span() - begin a span of @l at @e */
static struct span *open_span(struct boot_model *m, struct span_list *l,
			      const struct ev *e, const char *name,
			      uint64_t addr)
{
	struct span *s = span_add(m, l, name);

	if (!s)
		return NULL;
	s->addr = addr;
	s->cpu = e->cpu;
	s->start_ns = ns(m, e->tsc);
	s->open = true;
	return s;
}

/* close_span() - end @s at @e */
static void close_span(struct boot_model *m, struct span *s,
		       const struct ev *e, int64_t ret)
{
	uint64_t t = ns(m, e->tsc);

	if (!s)
		return;
	s->dur_ns = t > s->start_ns ? t - s->start_ns : 0;
	s->ret = ret;
	s->open = false;
}

/* pre_kernel() - the phases before start_kernel(), from milestones */
static int pre_kernel(struct boot_model *m)
{
	static const struct { unsigned int from, to; const char *name; } steps[] = {
		{ 0, HT_EV_SETUP_ENTRY, "firmware and loader" },
		{ HT_EV_SETUP_ENTRY, HT_EV_DECOMP_BEGIN, "setup code" },
		{ HT_EV_DECOMP_BEGIN, HT_EV_DECOMP_END, "decompressor" },
		{ HT_EV_DECOMP_END, HT_EV_START_KERNEL, "kernel entry to start_kernel" },
	};
	uint64_t at[0x110] = { 0 };
	bool seen[0x110] = { false };
	size_t i;

	for (i = 0; i < m->ev.nr; i++) {
		const struct ev *e = &m->ev.ev[i];

		if (e->type >= HT_EV_SETUP_ENTRY && e->type <= HT_EV_START_KERNEL &&
		    !seen[e->type]) {
			seen[e->type] = true;
			at[e->type] = ns(m, e->tsc);
		}
	}
	seen[0] = true;
	at[0] = m->launch_ns;
	if (m->launch_ns) {
		struct span *s = span_add(m, &m->phases, "QEMU start-up (host)");

		if (!s)
			return -ENOMEM;
		s->dur_ns = m->launch_ns;
	}
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct span *s;

		if (!seen[steps[i].from] || !seen[steps[i].to] ||
		    at[steps[i].to] < at[steps[i].from])
			continue;
		s = span_add(m, &m->phases, steps[i].name);
		if (!s)
			return -ENOMEM;
		s->start_ns = at[steps[i].from];
		s->dur_ns = at[steps[i].to] - at[steps[i].from];
	}
	return 0;
}

/* spans() - pair begin and end events into the model's lists */
static int spans(struct boot_model *m)
{
	char buf[64];
	size_t i;

	for (i = 0; i < m->ev.nr; i++) {
		const struct ev *e = &m->ev.ev[i];
		struct span *s = NULL;
		uint64_t t = ns(m, e->tsc);

		struct htr_boot_ev be = {
			.type = e->type, .cpu = e->cpu, .tsc = e->tsc, .a0 = e->a0,
			.a1 = e->a1, .str = e->str, .str_len = e->str_len,
		};

		htr_boot_feed(&m->boot, &be);
		if (model_problem_event(m, e))
			return -ENOMEM;
		if (e->cpu + 1 > m->ncpus)
			m->ncpus = e->cpu + 1;
		if (t > m->end_ns)
			m->end_ns = t;
		switch (e->type) {
		case HT_EV_PHASE_BEGIN:
			s = open_span(m, &m->phases, e, htr_phase_name(e->a0), 0);
			break;
		case HT_EV_PHASE_END:
			close_span(m, find_open(&m->phases, 0, htr_phase_name(e->a0)), e, 0);
			continue;
		case HT_EV_LEVEL_BEGIN:
			s = open_span(m, &m->levels, e, htr_level_name((int)e->a0), 0);
			if (s)
				s->level = (int)e->a0;
			break;
		case HT_EV_LEVEL_END:
			close_span(m, find_open(&m->levels, 0, htr_level_name((int)e->a0)), e, 0);
			continue;
		case HT_EV_INITCALL_BEGIN:
			s = open_span(m, &m->initcalls, e, model_fn_name(m, e->a0, buf, sizeof(buf)), e->a0);
			if (s)
				s->level = (int)e->a1;
			break;
		case HT_EV_INITCALL_END:
			close_span(m, find_open(&m->initcalls, e->a0, NULL), e, (int64_t)e->a1);
			continue;
		case HT_EV_SHUTDOWN_PHASE_BEGIN:
			s = open_span(m, &m->shutdown, e, htr_phase_name(e->a0), 0);
			if (s)
				s->kind = "phase";
			break;
		case HT_EV_SHUTDOWN_PHASE_END:
			close_span(m, find_open(&m->shutdown, 0, htr_phase_name(e->a0)), e, 0);
			continue;
		case HT_EV_NOTIFIER_BEGIN:
			s = open_span(m, &m->shutdown, e, model_fn_name(m, e->a0, buf, sizeof(buf)), e->a0);
			if (s)
				s->kind = "notifier";
			break;
		case HT_EV_NOTIFIER_END:
			close_span(m, find_open(&m->shutdown, e->a0, NULL), e, (int64_t)e->a1);
			continue;
		case HT_EV_DEVICE_BEGIN:
			s = open_span(m, &m->shutdown, e, e->str, e->a0);
			if (s)
				s->kind = "device";
			break;
		case HT_EV_DEVICE_END:
			close_span(m, find_open(&m->shutdown, e->a0, NULL), e, 0);
			continue;
		case HT_EV_USER_MARKER:
			s = span_add(m, &m->markers, e->str);
			if (s) {
				s->start_ns = t;
				s->cpu = e->cpu;
			}
			if (!m->user_ns)
				m->user_ns = t;
			continue;
		case HT_EV_BOOT_DONE:
			if (!m->boot_ns)
				m->boot_ns = t;
			continue;
		default:
			continue;
		}
		if (!s)
			return -ENOMEM;
	}
	/* rest_init() never returns: it lasts until the boot is done */
	for (i = 0; i < m->phases.nr; i++) {
		struct span *s = &m->phases.s[i];

		if (s->open && !strcmp(s->name, "rest_init") && m->boot_ns > s->start_ns) {
			s->dur_ns = m->boot_ns - s->start_ns;
			s->open = false;
		}
	}
	return 0;
}

/**
 * model_where() - where the boot was: a level and initcall, or a phase
 * @m:        the model
 * @buf:      where the text goes
 * @len:      its size
 * @initcall: the initcall running, or NULL
 * @level:    the boot level running, -1 if none
 * @phase:    the innermost phase open, 0 if none
 */
void model_where(const struct boot_model *m, char *buf, size_t len,
		 const char *initcall, int level, unsigned int phase)
{
	if (initcall && level >= 0)
		snprintf(buf, len, "level %s, initcall %s", htr_level_name(level), initcall);
	else if (initcall)
		snprintf(buf, len, "initcall %s", initcall);
	else if (phase)
		snprintf(buf, len, "%s%s%s", htr_phase_name(phase),
			 level >= 0 ? ", after level " : "", level >= 0 ? htr_level_name(level) : "");
	else if (m->boot.kernel_started)
		snprintf(buf, len, "early boot, before any phase");
	else
		snprintf(buf, len, "before the kernel");
}

/* where() - model_where() for the failure, into m->fail_where */
static void where(struct boot_model *m, int level, unsigned int phase)
{
	model_where(m, m->fail_where, sizeof(m->fail_where),
		    m->fail_initcall[0] ? m->fail_initcall : NULL, level, phase);
}

/* fail_message() - the failure's message when no guest event carried one */
static void fail_message(struct boot_model *m, const char *reason)
{
	const char *msg;

	switch (m->verdict) {
	case HTR_VERDICT_SILENT:
		msg = htr_verdict_why(m->verdict);
		break;
	case HTR_VERDICT_INCOMPLETE:
		msg = reason ? reason : "the recording ended before the boot finished "
		      "(the trace has no end: its collector was stopped or killed)";
		break;
	default:
		msg = reason ? reason : "the recording ended before the boot finished";
	}
	snprintf(m->fail_msg, sizeof(m->fail_msg), "%s", msg);
}

/* verdict() - the failure by libhtrace's one rule, with where and when */
static void verdict(struct boot_model *m, const struct htr_host_facts *host,
		    const char *reason)
{
	const struct htr_boot *b = &m->boot;
	char buf[64];
	size_t i;

	m->verdict = htr_boot_verdict(b, host);
	snprintf(m->fail_kind, sizeof(m->fail_kind), "%s", htr_verdict_name(m->verdict));
	if (m->verdict == HTR_VERDICT_BOOTED)
		return;
	if (m->verdict == HTR_VERDICT_PANIC || m->verdict == HTR_VERDICT_OOPS) {
		snprintf(m->fail_msg, sizeof(m->fail_msg), "%s", b->fail_msg);
		m->fail_ns = ns(m, b->fail_tsc);
		if (b->fail_initcall)
			snprintf(m->fail_initcall, sizeof(m->fail_initcall), "%s",
				 model_fn_name(m, b->fail_initcall, buf, sizeof(buf)));
		where(m, b->fail_level, b->fail_phase);
		return;
	}
	fail_message(m, reason);
	m->fail_ns = m->end_ns;
	for (i = m->initcalls.nr; i-- > 0;) {
		if (m->initcalls.s[i].open) {
			snprintf(m->fail_initcall, sizeof(m->fail_initcall), "%s",
				 m->initcalls.s[i].name);
			break;
		}
	}
	where(m, b->level, htr_boot_phase(b));
}

/**
 * model_derive() - spans, the boot's account and the verdict, from the events
 * @m:      a model whose events, clock and symbols are loaded
 * @host:   what the collector's END chunk says only the host knew
 * @reason: the collector's one-line reason, or NULL
 *
 * Return: 0 or -ENOMEM.
 */
int model_derive(struct boot_model *m, const struct htr_host_facts *host,
		 const char *reason)
{
	int err = pre_kernel(m);

	if (!err)
		err = spans(m);
	if (!err)
		err = model_idle_build(m);
	if (!err)
		err = model_hints_build(m);
	if (!err)
		err = model_graph_build(m);
	if (!err)
		err = model_async_build(m);
	if (!err)
		err = model_critical_build(m);
	if (err)
		return err;
	verdict(m, host, reason);
	model_chain(m);
	return 0;
}

/**
 * model_free() - release what a model holds
 * @m: the model (loaded or not, even after a failed load)
 */
void model_free(struct boot_model *m)
{
	ev_list_free(&m->ev);
	htr_syms_free(&m->syms);
	span_list_free(&m->phases);
	span_list_free(&m->levels);
	span_list_free(&m->initcalls);
	span_list_free(&m->shutdown);
	span_list_free(&m->markers);
	htr_log_free(&m->klog);
	pool_free(m);
	model_problems_free(m);
	model_sched_free(m);
	model_graph_free(&m->graph);
	model_async_free(m);
	model_critical_free(m);
	model_idle_free(m);
	model_hints_free(m);
	memset(m, 0, sizeof(*m));
}

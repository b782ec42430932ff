// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: the failure chain.  Every warning, BUG, oops and panic the
 * guest reported, in the order they happened, with where the boot was and
 * the backtrace that followed each; and the one-line summary the reports
 * lead with ("oops in initcall loop_init -> panic").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/* problem_kind() - the name of a problem's event type */
static const char *problem_kind(unsigned int type)
{
	switch (type) {
	case HT_EV_WARN:
		return "warning";
	case HT_EV_BUG:
		return "bug";
	case HT_EV_OOPS:
		return "oops";
	}
	return "panic";
}

/* problem_add() - a new problem from @e, with where the boot is now */
static int problem_add(struct boot_model *m, const struct ev *e)
{
	struct model_problems *l = &m->problems;
	const struct htr_boot *b = &m->boot;
	struct model_problem *p;
	uint64_t initcall = b->initcall;
	char name[64], where[256];

	if (l->nr == l->alloc) {
		p = htr_grow(l->p, &l->alloc, sizeof(*p), 16);
		if (!p)
			return -ENOMEM;
		l->p = p;
	}
	p = &l->p[l->nr];
	memset(p, 0, sizeof(*p));
	p->type = e->type;
	p->kind = problem_kind(e->type);
	p->at_ns = model_ns(m, e->tsc);
	p->cpu = e->cpu;
	switch (e->type) {
	case HT_EV_PANIC:
		if (e->a0)
			initcall = e->a0;
		break;
	case HT_EV_OOPS:
		p->error = e->a0;
		p->ip = e->a1;
		break;
	default:		/* warning, BUG: a0 the address, a1 the line */
		p->ip = e->a0;
		p->line = e->a1;
	}
	if (initcall) {
		p->initcall = model_strdup(m, model_fn_name(m, initcall, name, sizeof(name)));
		if (!p->initcall)
			return -ENOMEM;
	}
	model_where(m, where, sizeof(where), p->initcall, b->level, htr_boot_phase(b));
	p->where = model_strdup(m, where);
	p->message = model_strdup(m, e->str);
	if (!p->where || !p->message)
		return -ENOMEM;
	l->nr++;
	l->pending = 0;
	return 0;
}

/*
 * backtrace_begin() - a backtrace's head: its frames belong to the last
 * problem, if that is of the type it names and on the same CPU
 */
static void backtrace_begin(struct boot_model *m, const struct ev *e)
{
	struct model_problems *l = &m->problems;
	struct model_problem *p = l->nr ? &l->p[l->nr - 1] : NULL;

	l->pending = 0;
	if (!p || p->type != e->a1 || p->cpu != e->cpu || p->frames_sent) {
		l->stray++;
		return;
	}
	p->frames_sent = e->a0 < HT_BT_MAX_FRAMES ? (unsigned int)e->a0 : HT_BT_MAX_FRAMES;
	if (p->frames_sent)
		l->pending = l->nr;
}

/* backtrace_frames() - two more frames of the backtrace that is arriving */
static void backtrace_frames(struct boot_model *m, const struct ev *e)
{
	struct model_problems *l = &m->problems;
	struct model_problem *p;
	const uint64_t two[2] = { e->a0, e->a1 };
	unsigned int i;

	if (!l->pending || l->pending > l->nr) {
		l->stray++;
		return;
	}
	p = &l->p[l->pending - 1];
	if (p->cpu != e->cpu) {
		l->stray++;
		return;
	}
	for (i = 0; i < 2 && p->nframes < p->frames_sent; i++)
		p->frames[p->nframes++] = two[i];
	if (p->nframes == p->frames_sent)
		l->pending = 0;
}

/**
 * model_problem_event() - what an event adds to the failure chain
 * @m: the model, its htr_boot already fed with @e
 * @e: the event
 *
 * Return: 0, or -ENOMEM.
 */
int model_problem_event(struct boot_model *m, const struct ev *e)
{
	switch (e->type) {
	case HT_EV_WARN:
	case HT_EV_BUG:
	case HT_EV_OOPS:
	case HT_EV_PANIC:
		return problem_add(m, e);
	case HT_EV_BACKTRACE:
		backtrace_begin(m, e);
		break;
	case HT_EV_FRAMES:
		backtrace_frames(m, e);
		break;
	default:
		/* anything else on that CPU ends its backtrace: the rest was lost */
		if (m->problems.pending && m->problems.pending <= m->problems.nr &&
		    m->problems.p[m->problems.pending - 1].cpu == e->cpu)
			m->problems.pending = 0;
	}
	return 0;
}

/* first_fatal() - the first problem that is not a warning, or NULL */
static const struct model_problem *first_fatal(const struct boot_model *m)
{
	size_t i;

	for (i = 0; i < m->problems.nr; i++)
		if (m->problems.p[i].type != HT_EV_WARN)
			return &m->problems.p[i];
	return NULL;
}

/**
 * model_chain() - the failure and what it led to, into @m->fail_chain
 * @m: a model whose verdict is decided
 *
 * The first problem that is not a warning, where it happened, and the
 * verdict when that is something else: "oops in initcall loop_init ->
 * panic", "bug in initcall foo_init -> hang", "panic in smp_init"; a
 * boot that failed without a problem: the verdict and where the boot was.
 */
void model_chain(struct boot_model *m)
{
	const struct model_problem *p = first_fatal(m);
	const char *kind = htr_verdict_name(m->verdict);
	int n;

	m->fail_chain[0] = '\0';
	if (m->verdict == HTR_VERDICT_BOOTED || m->verdict == HTR_VERDICT_SILENT)
		return;
	if (!p) {
		snprintf(m->fail_chain, sizeof(m->fail_chain), "%s in %s", kind, m->fail_where);
		return;
	}
	n = snprintf(m->fail_chain, sizeof(m->fail_chain), "%s in %s", p->kind,
		     p->initcall ? p->initcall : p->where);
	if (n < 0 || (size_t)n >= sizeof(m->fail_chain))
		return;
	/* a panic after the problem (oops -> panic), or another ending */
	if (p->type != HT_EV_PANIC && strcmp(p->kind, kind))
		snprintf(m->fail_chain + n, sizeof(m->fail_chain) - (size_t)n, " -> %s", kind);
}

/**
 * model_problems_free() - release the failure chain
 * @m: the model
 */
void model_problems_free(struct boot_model *m)
{
	free(m->problems.p);
	memset(&m->problems, 0, sizeof(m->problems));
}

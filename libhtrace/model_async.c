// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: the boot's async work.  ASYNC_BEGIN and ASYNC_END (a0 the
 * function, a1 the cookie) come from async_run_entry_fn() on whatever CPU
 * runs it; they are paired by cookie, offline: the events sorted by
 * cookie and time, each cookie's begins and ends walked in order.  All of
 * it is the guest's word: a cookie repeated, an end without a begin, an
 * end naming another function are counted and never paired by guess, and
 * the spans kept are bounded (MODEL_ASYNC_MAX).  Sorting makes a million
 * hostile spans cost n log n, whatever the cookies.
 *
 * ASYNC_WAIT_BEGIN and ASYNC_WAIT_END (a0 the cookie waited for, a1 the
 * waiting task's pid) bracket async_synchronize_cookie_domain(); they are
 * paired the same way, by pid: a task waits once at a time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/**
 * struct async_ev - one async event, for the pairing sort
 * @cookie: its cookie (a wait event's: its task's pid)
 * @i:      its index in the model's events (their time order)
 */
struct async_ev {
	uint64_t cookie;
	size_t i;
};

/* by_cookie() - qsort order: cookie, then time */
static int by_cookie(const void *a, const void *b)
{
	const struct async_ev *x = a, *y = b;

	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* by_start() - qsort order of spans: start, then cookie */
static int by_start(const void *a, const void *b)
{
	const struct model_async_span *x = a, *y = b;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

/* collect() - the async events, in an array of their own; NULL when out of memory */
static struct async_ev *collect(const struct boot_model *m, size_t *n)
{
	struct async_ev *v;
	size_t i, k = 0;

	for (i = 0; i < m->ev.nr; i++)
		k += m->ev.ev[i].type == HT_EV_ASYNC_BEGIN || m->ev.ev[i].type == HT_EV_ASYNC_END;
	v = calloc(k + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (i = 0, k = 0; i < m->ev.nr; i++) {
		const struct ev *e = &m->ev.ev[i];

		if (e->type == HT_EV_ASYNC_BEGIN || e->type == HT_EV_ASYNC_END)
			v[k++] = (struct async_ev){ .cookie = e->a1, .i = i };
	}
	*n = k;
	return v;
}

/*
 * pair_cookie() - one cookie's events [@v, @v + @n), in time order, into
 * spans at @out; how many
 */
static size_t pair_cookie(struct boot_model *m, const struct async_ev *v, size_t n,
			  struct model_async_span *out)
{
	struct model_async_span *open = NULL;
	size_t k = 0, j;

	for (j = 0; j < n; j++) {
		const struct ev *e = &m->ev.ev[v[j].i];
		uint64_t t = model_ns(m, e->tsc);

		if (e->type == HT_EV_ASYNC_BEGIN) {
			if (open) {
				m->async.duplicate_begins++;
				continue;
			}
			open = &out[k++];
			*open = (struct model_async_span){
				.addr = e->a0, .cookie = e->a1, .cpu = e->cpu,
				.end_cpu = e->cpu, .start_ns = t, .open = true,
			};
			continue;
		}
		if (!open) {
			m->async.unmatched_ends++;
			continue;
		}
		if (open->addr != e->a0) {
			m->async.fn_mismatches++;
			continue;
		}
		open->end_cpu = e->cpu;
		open->dur_ns = t > open->start_ns ? t - open->start_ns : 0;
		open->open = false;
		open = NULL;
	}
	return k;
}

/* name_spans() - each kept span's function name, into the model's pool */
static int name_spans(struct boot_model *m)
{
	char buf[64];
	size_t i;

	for (i = 0; i < m->async.nr; i++) {
		struct model_async_span *s = &m->async.s[i];

		/* a run of one function's spans shares its name */
		if (i && s->addr == m->async.s[i - 1].addr) {
			s->name = m->async.s[i - 1].name;
			continue;
		}
		s->name = model_strdup(m, model_fn_name(m, s->addr, buf, sizeof(buf)));
		if (!s->name)
			return -ENOMEM;
	}
	return 0;
}

/* is_wait() - @e is an ASYNC_WAIT_BEGIN or ASYNC_WAIT_END */
static bool is_wait(const struct ev *e)
{
	return e->type == HT_EV_ASYNC_WAIT_BEGIN || e->type == HT_EV_ASYNC_WAIT_END;
}

/* wait_by_start() - qsort order of waits: start, then pid */
static int wait_by_start(const void *a, const void *b)
{
	const struct model_async_wait *x = a, *y = b;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/*
 * pair_task() - one task's wait events [@v, @v + @n), in time order, into
 * waits at @out; how many
 */
static size_t pair_task(struct boot_model *m, const struct async_ev *v, size_t n,
			struct model_async_wait *out)
{
	struct model_async_wait *open = NULL;
	size_t k = 0, j;

	for (j = 0; j < n; j++) {
		const struct ev *e = &m->ev.ev[v[j].i];
		uint64_t t = model_ns(m, e->tsc);

		if (e->type == HT_EV_ASYNC_WAIT_BEGIN) {
			if (open) {
				m->async.wait_unmatched++;
				continue;
			}
			open = &out[k++];
			*open = (struct model_async_wait){
				.cookie = e->a0, .pid = (uint32_t)e->a1, .cpu = e->cpu,
				.end_cpu = e->cpu, .start_ns = t, .open = true,
			};
			continue;
		}
		if (!open || open->cookie != e->a0) {
			m->async.wait_unmatched++;
			continue;
		}
		open->end_cpu = e->cpu;
		open->dur_ns = t > open->start_ns ? t - open->start_ns : 0;
		open->open = false;
		open = NULL;
	}
	return k;
}

/* build_waits() - pair the trace's wait events into m->async.w */
static int build_waits(struct boot_model *m)
{
	struct model_async_wait *w;
	struct async_ev *v;
	size_t n = 0, i, j, k = 0;

	for (i = 0; i < m->ev.nr; i++)
		n += is_wait(&m->ev.ev[i]);
	m->async.wait_events = n;
	if (!n)
		return 0;
	v = calloc(n, sizeof(*v));
	w = calloc(n, sizeof(*w));
	if (!v || !w)
		goto free_both;
	for (i = 0, j = 0; i < m->ev.nr; i++)
		if (is_wait(&m->ev.ev[i]))	/* the pid, as the guest gave it */
			v[j++] = (struct async_ev){ .cookie = (uint32_t)m->ev.ev[i].a1, .i = i };
	qsort(v, n, sizeof(*v), by_cookie);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j].cookie == v[i].cookie; j++)
			;
		k += pair_task(m, v + i, j - i, w + k);
	}
	free(v);
	qsort(w, k, sizeof(*w), wait_by_start);
	if (k > MODEL_ASYNC_MAX) {
		m->async.wait_dropped = k - MODEL_ASYNC_MAX;
		k = MODEL_ASYNC_MAX;
	}
	if (!k) {
		free(w);
		w = NULL;
	}
	m->async.w = w;
	m->async.nw = k;
	return 0;

free_both:
	free(v);
	free(w);
	return -ENOMEM;
}

/**
 * model_async_build() - pair the trace's async events into m->async
 * @m: a model whose events, clock and symbols are loaded
 *
 * Return: 0 or -ENOMEM.
 */
int model_async_build(struct boot_model *m)
{
	struct model_async_span *s;
	struct async_ev *v;
	size_t n = 0, i, j, k = 0;

	if (build_waits(m))
		return -ENOMEM;
	v = collect(m, &n);
	if (!v)
		return -ENOMEM;
	m->async.events = n;
	if (!n) {
		free(v);
		return 0;
	}
	/* at most one span per begin: n is an upper bound */
	s = calloc(n, sizeof(*s));
	if (!s) {
		free(v);
		return -ENOMEM;
	}
	qsort(v, n, sizeof(*v), by_cookie);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j].cookie == v[i].cookie; j++)
			;
		k += pair_cookie(m, v + i, j - i, s + k);
	}
	free(v);
	qsort(s, k, sizeof(*s), by_start);
	if (k > MODEL_ASYNC_MAX) {
		m->async.dropped = k - MODEL_ASYNC_MAX;
		k = MODEL_ASYNC_MAX;
	}
	/* give back the room of what was not kept */
	if (!k) {
		free(s);
		s = NULL;
	} else {
		struct model_async_span *q = realloc(s, k * sizeof(*s));

		if (q)
			s = q;
	}
	m->async.s = s;
	m->async.nr = k;
	return name_spans(m);
}

/**
 * model_async_free() - release m->async
 * @m: the model
 */
void model_async_free(struct boot_model *m)
{
	free(m->async.s);
	free(m->async.w);
	memset(&m->async, 0, sizeof(m->async));
}

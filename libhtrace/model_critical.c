// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: the boot's critical path, systemd-analyze critical-chain for
 * the kernel: the chain of phases, initcalls and async work that the end
 * of the boot actually waited for, walked back from the end.  The rule is
 * in Documentation/libhtrace.rst ("The critical path"); in short:
 *
 *   - the boot's sequence is one thread of control: the phases that hold
 *     no other phase and no initcall, and the initcalls (a phase that holds
 *     initcalls, like do_basic_setup, is its initcalls);
 *   - from a moment t, the step before is the last of the sequence that
 *     began before t;
 *   - a step waited for async work when the boot's thread (pid 1) waited
 *     inside it in async_synchronize_cookie_domain() (ASYNC_WAIT_*) and
 *     async work below the wait's cookie ended during the wait: the last
 *     such; the same for the untraced gap after it;
 *   - in a trace without wait records (an older kernel), a step waited
 *     when it is the async_synchronize phase and an async span ended
 *     inside it (the last such), or when an async span ran through at
 *     least half of a step of MODEL_WAIT_MIN_NS or more (or of the
 *     untraced gap after it) and ended inside it at most
 *     MODEL_WAIT_SLACK_NS before its end (inferred);
 *   - the walk then goes on from that span's start;
 *   - an async span's own cause is not in the trace: the walk goes on with
 *     the step running when it began.
 *
 * Every step is visited at most once (the walk's time only decreases), and
 * each lookup is a binary search: n log n for any trace.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/**
 * struct step - a step of the boot's sequence, or an async span
 * @start: when it began
 * @end:   when it ended (the path's end for an open one)
 * @kind:  enum model_link_kind
 * @index: its span in the model's list
 */
struct step {
	uint64_t start;
	uint64_t end;
	unsigned int kind;
	size_t index;
};

/**
 * struct walk - the critical path being built, latest link first
 * @seq:   the sequence, by start
 * @nseq:  how many
 * @as:    the finished async spans, by end
 * @nas:   how many
 * @wt:    the boot thread's finished waits for async work, by start (and,
 *         as a task waits once at a time, by end)
 * @nwt:   how many
 * @work:  per wait, the async work it waited for (NULL: none)
 * @tree:  a segment tree over @work: node p holds the wait of its range
 *         whose work ended last, so any range of waits costs log n
 * @recorded: the trace records waits (ASYNC_WAIT_*): nothing is inferred
 * @l:     the links so far
 * @nr:    how many
 * @alloc: room
 */
struct walk {
	struct step *seq;
	size_t nseq;
	struct step *as;
	size_t nas;
	struct model_async_wait *wt;
	size_t nwt;
	const struct step **work;
	size_t *tree;
	bool recorded;
	struct model_link *l;
	size_t nr;
	size_t alloc;
};

/* by_start() - qsort order of steps: start, the longer first, phases first */
static int by_start(const void *a, const void *b)
{
	const struct step *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* by_end() - qsort order of steps: end, then start */
static int by_end(const void *a, const void *b)
{
	const struct step *x = a, *y = b;

	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* span_end() - where a span ends on the path ending at @e */
static uint64_t span_end(const struct span *s, uint64_t e)
{
	if (s->open)
		return e > s->start_ns ? e : s->start_ns;
	return s->start_ns + s->dur_ns;
}

/*
 * sequence() - the boot's sequence before @e: every phase and initcall
 * that began before it, less the phases that hold another step (the next
 * step by start begins before they end)
 */
static int sequence(const struct boot_model *m, struct walk *w, uint64_t e)
{
	size_t i, n = 0, k = 0;
	struct step *all;

	all = calloc(m->phases.nr + m->initcalls.nr + 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (i = 0; i < m->phases.nr; i++)
		if (m->phases.s[i].start_ns < e)
			all[n++] = (struct step){ m->phases.s[i].start_ns,
						  span_end(&m->phases.s[i], e),
						  MODEL_LINK_PHASE, i };
	for (i = 0; i < m->initcalls.nr; i++)
		if (m->initcalls.s[i].start_ns < e)
			all[n++] = (struct step){ m->initcalls.s[i].start_ns,
						  span_end(&m->initcalls.s[i], e),
						  MODEL_LINK_INITCALL, i };
	/* the lists are in order of their begin events already: sort only if not */
	for (i = 1; i < n && by_start(&all[i - 1], &all[i]) <= 0; i++)
		;
	if (i < n)
		qsort(all, n, sizeof(*all), by_start);
	for (i = 0; i < n; i++) {
		if (all[i].kind == MODEL_LINK_PHASE && i + 1 < n && all[i + 1].start < all[i].end)
			continue;
		all[k++] = all[i];
	}
	w->seq = all;
	w->nseq = k;
	return 0;
}

/* finished() - the async spans that ended (and took time), by end */
static int finished(const struct boot_model *m, struct walk *w)
{
	size_t i;

	w->as = calloc(m->async.nr + 1, sizeof(*w->as));
	if (!w->as)
		return -ENOMEM;
	for (i = 0; i < m->async.nr; i++) {
		const struct model_async_span *a = &m->async.s[i];

		if (!a->open && a->dur_ns)
			w->as[w->nas++] = (struct step){ a->start_ns, a->start_ns + a->dur_ns,
							 MODEL_LINK_ASYNC, i };
	}
	qsort(w->as, w->nas, sizeof(*w->as), by_end);
	return 0;
}

/* before() - 1 + the index of the last step of the sequence that began before @t, 0 if none */
static size_t before(const struct walk *w, uint64_t t)
{
	size_t lo = 0, hi = w->nseq;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->seq[mid].start < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ended_in() - the async span that ended last in (@lo, @hi], NULL if none */
static const struct step *ended_in(const struct walk *w, uint64_t lo, uint64_t hi)
{
	size_t a = 0, b = w->nas;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (w->as[mid].end <= hi)
			a = mid + 1;
		else
			b = mid;
	}
	return a && w->as[a - 1].end > lo ? &w->as[a - 1] : NULL;
}

/*
 * work_of() - the async work wait @q waited for: the span below its cookie
 * that ended last during it, NULL if none (it returned at once).  The boot
 * thread's waits do not overlap, so each span is looked at for one wait.
 */
static const struct step *work_of(const struct boot_model *m, const struct walk *w,
				  const struct model_async_wait *q)
{
	uint64_t end = q->start_ns + q->dur_ns;
	size_t a = 0, b = w->nas;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (w->as[mid].end <= end)
			a = mid + 1;
		else
			b = mid;
	}
	for (; a && w->as[a - 1].end > q->start_ns; a--)
		if (m->async.s[w->as[a - 1].index].cookie < q->cookie)
			return &w->as[a - 1];
	return NULL;
}

/* later() - of waits @a and @b, the one whose work ended last (@a on a tie) */
static size_t later(const struct walk *w, size_t a, size_t b)
{
	uint64_t ea = w->work[a] ? w->work[a]->end : 0, eb = w->work[b] ? w->work[b]->end : 0;

	return eb > ea ? b : a;
}

/*
 * boot_waits() - the boot thread's finished waits, by start (as
 * m->async.w is), each one's work, and the tree over them; after finished()
 */
static int boot_waits(const struct boot_model *m, struct walk *w)
{
	size_t i, n;

	w->recorded = m->async.wait_events != 0;
	w->wt = calloc(m->async.nw + 1, sizeof(*w->wt));
	if (!w->wt)
		return -ENOMEM;
	for (i = 0; i < m->async.nw; i++)
		if (m->async.w[i].pid == MODEL_BOOT_PID && !m->async.w[i].open)
			w->wt[w->nwt++] = m->async.w[i];
	n = w->nwt;
	w->work = calloc(n + 1, sizeof(*w->work));
	w->tree = calloc(2 * n + 1, sizeof(*w->tree));
	if (!w->work || !w->tree)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		w->work[i] = work_of(m, w, &w->wt[i]);
		w->tree[n + i] = i;
	}
	for (i = n; i-- > 1;)
		w->tree[i] = later(w, w->tree[2 * i], w->tree[2 * i + 1]);
	return 0;
}

/* first_wait() - the first wait whose start (@by_end: end) is at or after @t */
static size_t first_wait(const struct walk *w, uint64_t t, bool by_end)
{
	size_t lo = 0, hi = w->nwt;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t v = w->wt[mid].start_ns + (by_end ? w->wt[mid].dur_ns : 0);

		if (v < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * waited_for() - the async work the boot thread's recorded waits in
 * [@lo, @hi) waited for, the one that ended last; NULL if none.  The waits
 * that began at or after @lo and ended by @hi are one run of indices (a
 * task's waits do not overlap), searched in the tree: log n for any range,
 * so overlapping steps of a hostile trace cost no more.
 */
static const struct step *waited_for(const struct walk *w, uint64_t lo, uint64_t hi)
{
	size_t a = first_wait(w, lo, false);
	size_t b = hi == UINT64_MAX ? w->nwt : first_wait(w, hi + 1, true);
	size_t c = first_wait(w, hi, false), best = SIZE_MAX, l, r;

	if (c < b)
		b = c;	/* a wait of no time at @hi itself began at @hi: not inside */
	for (l = a + w->nwt, r = b + w->nwt; l < r; l >>= 1, r >>= 1) {
		if (l & 1) {
			best = best == SIZE_MAX ? w->tree[l] : later(w, best, w->tree[l]);
			l++;
		}
		if (r & 1) {
			r--;
			best = best == SIZE_MAX ? w->tree[r] : later(w, best, w->tree[r]);
		}
	}
	return a < b && best != SIZE_MAX ? w->work[best] : NULL;
}

/*
 * near_end() - [@start, @end) is long enough to have waited, @a ran
 * through at least half of it and ended close enough to its end to be
 * what it waited for
 */
static bool near_end(const struct step *a, uint64_t start, uint64_t end)
{
	uint64_t from = a ? (a->start > start ? a->start : start) : 0;

	return a && end - start >= MODEL_WAIT_MIN_NS && end - a->end <= MODEL_WAIT_SLACK_NS &&
	       a->end > from && (a->end - from) * 2 >= end - start;
}

/* push() - one more link, the earliest so far; NULL when out of memory */
static struct model_link *push(struct walk *w, unsigned int kind, unsigned int why,
			       uint64_t start, uint64_t end)
{
	struct model_link *l;

	if (w->nr == w->alloc) {
		l = htr_grow(w->l, &w->alloc, sizeof(*l), 64);
		if (!l)
			return NULL;
		w->l = l;
	}
	l = &w->l[w->nr++];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->why = why;
	l->level = -1;
	l->start_ns = start;
	l->dur_ns = end > start ? end - start : 0;
	return l;
}

/* push_step() - a step of the sequence or an async span as a link, up to @t */
static struct model_link *push_step(const struct boot_model *m, struct walk *w,
				    const struct step *s, unsigned int why, uint64_t t)
{
	struct model_link *l = push(w, s->kind, why, s->start, s->end < t ? s->end : t);
	const struct span *sp;

	if (!l)
		return NULL;
	l->index = s->index;
	l->partial = s->end > t;
	if (s->kind == MODEL_LINK_ASYNC) {
		l->name = m->async.s[s->index].name;
		l->cpu = m->async.s[s->index].cpu;
		return l;
	}
	sp = s->kind == MODEL_LINK_PHASE ? &m->phases.s[s->index] : &m->initcalls.s[s->index];
	l->name = sp->name;
	l->cpu = sp->cpu;
	l->open = sp->open;
	if (s->kind == MODEL_LINK_INITCALL)
		l->level = sp->level;
	return l;
}

/* is_sync() - @s is the async_synchronize phase (async_synchronize_full()) */
static bool is_sync(const struct boot_model *m, const struct step *s)
{
	return s->kind == MODEL_LINK_PHASE &&
	       !strcmp(m->phases.s[s->index].name, htr_phase_name(HT_PHASE_ASYNC_SYNC));
}

/* walk_back() - the links from @e back to the boot's start, latest first */
static int walk_back(const struct boot_model *m, struct walk *w, uint64_t e)
{
	unsigned int why = MODEL_WHY_SEQUENCE;
	uint64_t t = e;
	size_t k;

	while ((k = before(w, t))) {
		const struct step *x = &w->seq[k - 1], *a;
		struct model_link *l;

		/*
		 * untraced code between the step and t that waited for async
		 * work (t on the sequence: not where async work began)
		 */
		a = NULL;
		if (x->end < t && why != MODEL_WHY_ASYNC_BEGAN)
			a = w->recorded ? waited_for(w, x->end, t) : ended_in(w, x->end, t);
		if (a && !w->recorded && !near_end(a, x->end, t))
			a = NULL;
		if (a && a->start < t) {
			l = push(w, MODEL_LINK_GAP, w->recorded ? MODEL_WHY_WAITED :
				 MODEL_WHY_WAITED_INFERRED, x->end, t);
			if (!l || !push_step(m, w, a, MODEL_WHY_ASYNC, t))
				return -ENOMEM;
			l->name = "untraced code";
			l->cpu = x->kind == MODEL_LINK_PHASE ? m->phases.s[x->index].cpu :
							       m->initcalls.s[x->index].cpu;
			t = a->start;
			why = MODEL_WHY_ASYNC_BEGAN;
			continue;
		}
		l = push_step(m, w, x, x->end > t ? why : MODEL_WHY_SEQUENCE, t);
		if (!l)
			return -ENOMEM;
		why = MODEL_WHY_SEQUENCE;
		if (l->partial)
			a = NULL;
		else if (w->recorded)
			a = waited_for(w, x->start, x->end);
		else
			a = ended_in(w, x->start, x->end);
		if (a && !w->recorded && !is_sync(m, x) && !near_end(a, x->start, x->end))
			a = NULL;
		if (!a) {
			t = x->start;
			continue;
		}
		l->why = w->recorded || is_sync(m, x) ? MODEL_WHY_WAITED : MODEL_WHY_WAITED_INFERRED;
		if (!push_step(m, w, a, MODEL_WHY_ASYNC, x->end))
			return -ENOMEM;
		/* async work it scheduled itself, then waited for: it is on the path already */
		if (a->start < x->start) {
			t = a->start;
			why = MODEL_WHY_ASYNC_BEGAN;
		} else {
			t = x->start;
		}
	}
	return 0;
}

/* by_link_start() - qsort order of links: start, the longer first */
static int by_link_start(const void *a, const void *b)
{
	const struct model_link *x = a, *y = b;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->dur_ns > y->dur_ns ? -1 : x->dur_ns < y->dur_ns;
}

/*
 * covered() - the time in [0, @e] the links cover, each moment once; the
 * links are sorted by start in a copy only when they are not already
 * (async work and the step it began in overlap)
 */
static int covered(struct model_critical *c)
{
	const struct model_link *v = c->l;
	struct model_link *copy = NULL;
	uint64_t reach = 0, sum = 0;
	size_t i;

	for (i = 1; i < c->nr && by_link_start(&c->l[i - 1], &c->l[i]) <= 0; i++)
		;
	if (i < c->nr) {
		copy = calloc(c->nr, sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, c->l, c->nr * sizeof(*copy));
		qsort(copy, c->nr, sizeof(*copy), by_link_start);
		v = copy;
	}
	for (i = 0; i < c->nr; i++) {
		uint64_t s = v[i].start_ns, end = s + v[i].dur_ns;

		if (end > c->end_ns)
			end = c->end_ns;
		if (s < reach)
			s = reach;
		if (end > s) {
			sum += end - s;
			reach = end;
		}
	}
	free(copy);
	c->on_path_ns = sum;
	return 0;
}

/**
 * model_critical_build() - the critical path of m, into m->critical
 * @m: a model whose spans and async work are derived
 *
 * Return: 0 or -ENOMEM.
 */
int model_critical_build(struct boot_model *m)
{
	struct model_critical *c = &m->critical;
	struct walk w = { 0 };
	size_t i;
	int err;

	c->boot_done = m->boot_ns != 0;
	c->end_ns = m->boot_ns ? m->boot_ns : m->end_ns;
	c->recorded = m->async.wait_events != 0;
	err = sequence(m, &w, c->end_ns);
	if (!err)
		err = finished(m, &w);
	if (!err)
		err = boot_waits(m, &w);
	if (!err)
		err = walk_back(m, &w, c->end_ns);
	free(w.seq);
	free(w.as);
	free(w.wt);
	free(w.work);
	free(w.tree);
	if (err) {
		free(w.l);
		return err;
	}
	/* latest first as walked: turn it into time order */
	for (i = 0; i < w.nr / 2; i++) {
		struct model_link tmp = w.l[i];

		w.l[i] = w.l[w.nr - 1 - i];
		w.l[w.nr - 1 - i] = tmp;
	}
	c->l = w.l;
	c->nr = w.nr;
	for (i = 0; i < c->nr; i++) {
		if (c->l[i].kind == MODEL_LINK_ASYNC)
			c->async_ns += c->l[i].dur_ns;
		c->waits += c->l[i].why == MODEL_WHY_WAITED ||
			    c->l[i].why == MODEL_WHY_WAITED_INFERRED;
	}
	return covered(c);
}

/**
 * model_critical_free() - release m->critical
 * @m: the model
 */
void model_critical_free(struct boot_model *m)
{
	free(m->critical.l);
	memset(&m->critical, 0, sizeof(m->critical));
}

/**
 * model_link_kind_name() - the name of an enum model_link_kind (JSON, text)
 * @kind: the kind
 *
 * Return: "phase", "initcall", "async", "gap" or "?".
 */
const char *model_link_kind_name(unsigned int kind)
{
	static const char *const names[] = { "phase", "initcall", "async", "gap" };

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

/**
 * model_link_why_name() - the name of an enum model_link_why (JSON, text)
 * @why: the reason
 *
 * Return: "sequence", "waited", "waited-inferred", "async-began", "async"
 * or "?".
 */
const char *model_link_why_name(unsigned int why)
{
	static const char *const names[] = {
		"sequence", "waited", "waited-inferred", "async-began", "async",
	};

	return why < sizeof(names) / sizeof(names[0]) ? names[why] : "?";
}

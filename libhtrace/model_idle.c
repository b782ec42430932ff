// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: the time each CPU idled while the system was not running.
 * IDLE_BEGIN and IDLE_END bracket each pass of the kernel's idle loop
 * until init runs (and during the shutdown); a span's idle time is the
 * part of it its CPU spent there: waiting for a timer or a device, not
 * executing.  Duration less idle time is what an initcall executed, which
 * under icount is a function of its instructions alone, wherever the
 * next tick fell.
 *
 * Everything is the guest's word: a begin while the CPU idles already (a
 * lost end) restarts the stretch, an end without a begin is dropped, both
 * counted; a CPU of 64 or more is counted and ignored.  The stretches are
 * bounded by the events in the trace, never by a guess.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/* is_idle() - @e is an IDLE_BEGIN or IDLE_END */
static bool is_idle(const struct ev *e)
{
	return e->type == HT_EV_IDLE_BEGIN || e->type == HT_EV_IDLE_END;
}

/*
 * stretches() - CPU @cpu's stretches, from its events (in time order), at
 * @out; how many
 */
static size_t stretches(struct boot_model *m, unsigned int cpu, struct model_idle_iv *out)
{
	struct model_idle *d = &m->idle;
	uint64_t open = 0, sum = 0;
	bool idle = false;
	size_t i, k = 0;

	for (i = 0; i < m->ev.nr; i++) {
		const struct ev *e = &m->ev.ev[i];
		uint64_t t;

		if (e->cpu != cpu || !is_idle(e))
			continue;
		t = model_ns(m, e->tsc);
		if (e->type == HT_EV_IDLE_BEGIN) {
			d->unmatched += idle;
			idle = true;
			open = t;
			continue;
		}
		if (!idle) {
			d->unmatched++;
			continue;
		}
		out[k++] = (struct model_idle_iv){ open, t > open ? t : open, sum };
		sum += out[k - 1].end_ns - open;
		idle = false;
	}
	/* idle to the last: the trace ends with this CPU waiting */
	if (idle)
		out[k++] = (struct model_idle_iv){ open, m->end_ns > open ? m->end_ns : open, sum };
	return k;
}

/* idle_before() - CPU @cpu's idle time before @t */
static uint64_t idle_before(const struct model_idle *d, unsigned int cpu, uint64_t t)
{
	size_t lo = d->first[cpu], hi = d->first[cpu + 1];
	const struct model_idle_iv *iv;

	/* the first stretch that ends after @t */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->iv[mid].end_ns <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == d->first[cpu + 1]) {
		if (lo == d->first[cpu])
			return 0;
		iv = &d->iv[lo - 1];
		return iv->before_ns + iv->end_ns - iv->start_ns;
	}
	iv = &d->iv[lo];
	return iv->before_ns + (t > iv->start_ns ? t - iv->start_ns : 0);
}

/* charge() - each span's idle time, on its CPU */
static void charge(struct boot_model *m, struct span_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		struct span *s = &l->s[i];
		uint64_t end = s->open ? m->end_ns : s->start_ns + s->dur_ns;

		if (s->cpu < MODEL_IDLE_CPUS && end > s->start_ns)
			s->idle_ns = idle_before(&m->idle, s->cpu, end) -
				     idle_before(&m->idle, s->cpu, s->start_ns);
	}
}

/**
 * model_idle_build() - each CPU's idle stretches, and every span's idle time
 * @m: a model whose events and spans are derived
 *
 * Return: 0 or -ENOMEM.
 */
int model_idle_build(struct boot_model *m)
{
	struct model_idle *d = &m->idle;
	uint64_t boot_end = m->boot_ns ? m->boot_ns : m->end_ns;
	unsigned int cpu, ncpu = 0;
	size_t i, n = 0;

	for (i = 0; i < m->ev.nr; i++) {
		const struct ev *e = &m->ev.ev[i];

		if (!is_idle(e))
			continue;
		n++;
		if (e->cpu >= MODEL_IDLE_CPUS)
			d->unmatched++;
		else if (e->cpu >= ncpu)
			ncpu = e->cpu + 1;
	}
	d->events = n;
	if (!n)
		return 0;
	/* at most one stretch per begin: n bounds them */
	d->iv = calloc(n, sizeof(*d->iv));
	if (!d->iv)
		return -ENOMEM;
	/* one pass over the events per CPU that idled */
	for (cpu = 0; cpu < MODEL_IDLE_CPUS; cpu++) {
		d->first[cpu] = d->nr;
		if (cpu < ncpu)
			d->nr += stretches(m, cpu, d->iv + d->nr);
	}
	d->first[MODEL_IDLE_CPUS] = d->nr;
	for (cpu = 0; cpu < MODEL_IDLE_CPUS; cpu++)
		d->cpu_idle_ns[cpu] = idle_before(d, cpu, boot_end);
	charge(m, &m->phases);
	charge(m, &m->levels);
	charge(m, &m->initcalls);
	charge(m, &m->shutdown);
	return 0;
}

/**
 * model_idle_free() - release m->idle
 * @m: the model
 */
void model_idle_free(struct boot_model *m)
{
	free(m->idle.iv);
	memset(&m->idle, 0, sizeof(m->idle));
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: the host's view of the vCPU threads (HTF_SCHED chunks), on
 * the model's clock.  The collector's scheduler channel records each vCPU
 * thread's switches in and out, wake-ups and migrations with their
 * CLOCK_MONOTONIC time, the clock of the trace's clock samples, so an
 * event at host time H is at H - launch_mono_ns on the model's clock, the
 * same axis the fit puts the guest's TSC on.  From them: each vCPU's
 * intervals (running, preempted, sleeping), its migrations, and for every
 * span the time its vCPU was preempted while it was open ("stolen") and
 * its migrations then.
 *
 * The events are the host kernel's, passed through the trace file: they
 * are still checked (kind, state, vCPU, time) and what fails is counted
 * in model_sched.bad, never trusted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model.h"
#include "model_internal.h"

#define SCHED_MAX_NS	3600000000000ULL	/* an hour after QEMU's launch */

/**
 * struct sev - one checked event, on the model's clock
 * @t:    its time
 * @idx:  its place in the trace (ties keep the recorded order)
 * @vcpu: its vCPU
 * @kind: enum htf_sched_kind
 * @state: a switch out's enum htf_sched_state
 * @cpu:  its host CPU
 * @arg:  a migration's source CPU
 * @tid:  the thread
 */
struct sev {
	uint64_t t;
	size_t idx;
	unsigned int vcpu, kind, state, cpu, arg;
	uint32_t tid;
};

/**
 * model_run_name() - a vCPU thread's state as outputs name it
 * @run: enum model_vcpu_run
 *
 * Return: "running", "preempted", "sleeping" or "unknown".
 */
const char *model_run_name(unsigned int run)
{
	switch (run) {
	case MODEL_RUN_RUNNING:
		return "running";
	case MODEL_RUN_PREEMPTED:
		return "preempted";
	case MODEL_RUN_SLEEPING:
		return "sleeping";
	}
	/* MODEL_RUN_UNKNOWN */
	return "unknown";
}

/* by_vcpu_time() - qsort order: vCPU, time, then the recorded order */
static int by_vcpu_time(const void *a, const void *b)
{
	const struct sev *x = a, *y = b;

	if (x->vcpu != y->vcpu)
		return x->vcpu < y->vcpu ? -1 : 1;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* check() - one raw event into @out; false (counted bad) if it makes no sense */
static bool check(const struct htf_sched_event *e, size_t idx, uint64_t launch,
		  struct sev *out)
{
	if (e->kind < HTF_SCHED_SWITCH_IN || e->kind > HTF_SCHED_MIGRATE ||
	    e->vcpu >= MODEL_SCHED_VCPUS || e->state > HTF_SCHED_BLOCKED ||
	    e->host_ns < launch || e->host_ns - launch > SCHED_MAX_NS)
		return false;
	out->t = e->host_ns - launch;
	out->idx = idx;
	out->vcpu = e->vcpu;
	out->kind = e->kind;
	out->state = e->state;
	out->cpu = e->host_cpu;
	out->arg = e->arg;
	out->tid = e->tid;
	return true;
}

/* grow() - room for one more element; 0 or -ENOMEM */
static int grow(void **p, size_t *alloc, size_t nr, size_t size)
{
	size_t n;
	void *q;

	if (nr < *alloc)
		return 0;
	n = *alloc ? *alloc * 2 : 64;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*alloc = n;
	return 0;
}

/* enter() - vCPU @v is in state @run on @cpu from @t: close the last interval */
static int enter(struct model_sched_vcpu *v, uint64_t t, unsigned int run,
		 unsigned int cpu)
{
	struct model_sched_iv *last = v->niv ? &v->iv[v->niv - 1] : NULL;

	if (last && last->run == run && last->host_cpu == cpu)
		return 0;
	if (last)
		last->end_ns = t;
	if (last && last->start_ns == t) {	/* a zero-length state: replace it */
		last->run = run;
		last->host_cpu = cpu;
		if (v->niv > 1 && v->iv[v->niv - 2].run == run &&
		    v->iv[v->niv - 2].host_cpu == cpu)
			v->niv--;
		return 0;
	}
	if (grow((void **)&v->iv, &v->alloc, v->niv, sizeof(*v->iv)))
		return -ENOMEM;
	v->iv[v->niv++] = (struct model_sched_iv){ .start_ns = t, .end_ns = t,
						   .run = run, .host_cpu = cpu };
	return 0;
}

/* migrate() - vCPU @vc moved from host CPU @from to @to at @t */
static int migrate(struct model_sched_vcpu *v, unsigned int vc, uint64_t t,
		   unsigned int from, unsigned int to)
{
	if (grow((void **)&v->mig, &v->mig_alloc, v->nmig, sizeof(*v->mig)))
		return -ENOMEM;
	v->mig[v->nmig++] = (struct model_migration){ .at_ns = t, .vcpu = vc,
						      .from = from, .to = to };
	return 0;
}

/* apply() - one event of vCPU @v's thread, in time order */
static int apply(struct model_sched_vcpu *v, const struct sev *e)
{
	unsigned int run = v->niv ? v->iv[v->niv - 1].run : 0;

	v->tid = e->tid;
	switch (e->kind) {
	case HTF_SCHED_SWITCH_IN:
		return enter(v, e->t, MODEL_RUN_RUNNING, e->cpu);
	case HTF_SCHED_SWITCH_OUT:
		/*
		 * a switch away from a thread that was not running: its switch
		 * in never came (seen on Linux 6.18 in 0.2 to 0.6 % of the
		 * switches, with no loss counted), so since the last event
		 * its state is unknown, not preempted or asleep
		 */
		if (v->niv && run != MODEL_RUN_RUNNING) {
			v->iv[v->niv - 1].run = MODEL_RUN_UNKNOWN;
			v->missing_in++;
		}
		return enter(v, e->t, e->state == HTF_SCHED_BLOCKED ? MODEL_RUN_SLEEPING :
				      MODEL_RUN_PREEMPTED, e->cpu);
	case HTF_SCHED_WAKEUP:
		/* a wake-up of a thread that runs (or waits to) changes nothing */
		if (run == MODEL_RUN_RUNNING || run == MODEL_RUN_PREEMPTED)
			return 0;
		return enter(v, e->t, MODEL_RUN_PREEMPTED, e->cpu);
	case HTF_SCHED_MIGRATE:
		if (migrate(v, e->vcpu, e->t, e->arg, e->cpu))
			return -ENOMEM;
		return run ? enter(v, e->t, run, e->cpu) : 0;
	}
	return 0;
}

/* overlap() - time in state @run of vCPU @v within [@a, @b) */
static uint64_t overlap(const struct model_sched_vcpu *v, unsigned int run,
			uint64_t a, uint64_t b)
{
	size_t lo = 0, hi = v->niv;
	uint64_t sum = 0;

	/* the first interval that ends after @a */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->iv[mid].end_ns <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < v->niv && v->iv[lo].start_ns < b; lo++) {
		const struct model_sched_iv *iv = &v->iv[lo];
		uint64_t s = iv->start_ns > a ? iv->start_ns : a;
		uint64_t e = iv->end_ns < b ? iv->end_ns : b;

		if (iv->run == run && e > s)
			sum += e - s;
	}
	return sum;
}

/* migrations_in() - migrations of vCPU @v within [@a, @b) */
static unsigned int migrations_in(const struct model_sched_vcpu *v, uint64_t a, uint64_t b)
{
	size_t lo = 0, hi = v->nmig, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->mig[mid].at_ns < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < v->nmig && v->mig[lo].at_ns < b; lo++)
		n++;
	return (unsigned int)n;
}

/* charge() - each span's stolen time and migrations, from its vCPU's thread */
static void charge(struct boot_model *m, struct span_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		struct span *s = &l->s[i];
		const struct model_sched_vcpu *v;
		uint64_t end = s->open ? m->end_ns : s->start_ns + s->dur_ns;

		if (s->cpu >= m->sched.nvcpus)
			continue;
		v = &m->sched.vcpu[s->cpu];
		s->stolen_ns = overlap(v, MODEL_RUN_PREEMPTED, s->start_ns, end);
		s->migrations = migrations_in(v, s->start_ns, end);
	}
}

/* state_at() - the interval of @v holding @t, or NULL */
static const struct model_sched_iv *state_at(const struct model_sched_vcpu *v, uint64_t t,
					     size_t *at)
{
	size_t lo = 0, hi = v->niv;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->iv[mid].end_ns <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return lo < v->niv && v->iv[lo].start_ns <= t ? &v->iv[lo] : NULL;
}

/*
 * could_run() - @iv is a time the thread ran, or may have: an unknown
 * stretch (its switch in never came) may hide a run
 */
static bool could_run(const struct model_sched_iv *iv)
{
	return iv->run == MODEL_RUN_RUNNING || iv->run == MODEL_RUN_UNKNOWN;
}

/*
 * misplaced() - how far @t lies from the nearest interval of @v in which
 * the thread ran or may have run
 */
static uint64_t misplaced(const struct model_sched_vcpu *v, size_t at, uint64_t t)
{
	uint64_t best = UINT64_MAX;
	size_t i;

	for (i = at; i-- > 0;)
		if (could_run(&v->iv[i])) {
			best = t - v->iv[i].end_ns;
			break;
		}
	for (i = at; i < v->niv; i++)
		if (could_run(&v->iv[i])) {
			if (v->iv[i].start_ns - t < best)
				best = v->iv[i].start_ns - t;
			break;
		}
	return best;
}

/*
 * check_alignment() - a vCPU's thread stamps its guest events while it
 * runs: count the ring events the clock fit puts anywhere else
 */
static void check_alignment(struct boot_model *m)
{
	struct model_sched *k = &m->sched;
	size_t i, at;

	for (i = 0; i < m->ev.nr; i++) {
		const struct ev *e = &m->ev.ev[i];
		const struct model_sched_vcpu *v;
		const struct model_sched_iv *iv;
		uint64_t t, d;

		if (e->cpu >= k->nvcpus)
			continue;
		v = &k->vcpu[e->cpu];
		t = model_ns(m, e->tsc);
		if (!v->niv || t < v->iv[0].start_ns || t >= v->iv[v->niv - 1].end_ns)
			continue;
		k->guest_events++;
		iv = state_at(v, t, &at);
		if (!iv || iv->run == MODEL_RUN_RUNNING || iv->run == MODEL_RUN_UNKNOWN)
			continue;
		k->guest_not_running++;
		d = misplaced(v, at, t);
		if (d != UINT64_MAX && d > k->max_misplaced_ns)
			k->max_misplaced_ns = d;
	}
}

/* totals() - each vCPU's time per state and migrations up to the boot's end */
static void totals(struct boot_model *m)
{
	struct model_sched *k = &m->sched;
	uint64_t end = m->boot_ns ? m->boot_ns : m->end_ns;
	unsigned int i;

	for (i = 0; i < k->nvcpus; i++) {
		struct model_sched_vcpu *v = &k->vcpu[i];

		v->running_ns = overlap(v, MODEL_RUN_RUNNING, 0, end);
		v->preempted_ns = overlap(v, MODEL_RUN_PREEMPTED, 0, end);
		v->sleeping_ns = overlap(v, MODEL_RUN_SLEEPING, 0, end);
		v->migrations = migrations_in(v, 0, end);
		k->stolen_ns += v->preempted_ns;
		k->missing_in += v->missing_in;
		k->migrations += v->migrations;
	}
}

/**
 * model_sched_build() - the vCPU threads' intervals, and every span's
 * stolen time and migrations
 * @m:              a derived model (spans, end, clock)
 * @ev:             the raw events of the trace's HTF_SCHED chunks, in order
 * @n:              how many
 * @launch_mono_ns: QEMU's launch on CLOCK_MONOTONIC (the metadata's)
 *
 * Events that fail their checks are counted in @m->sched.bad.  Without the
 * model's tie to the host clock (@m->launch_known) the events are counted
 * but nothing is placed.
 *
 * Return: 0 or -ENOMEM.
 */
int model_sched_build(struct boot_model *m, const struct htf_sched_event *ev, size_t n,
		      uint64_t launch_mono_ns)
{
	struct model_sched *k = &m->sched;
	struct sev *s;
	size_t i, ns = 0;
	int err = 0;

	k->present = n > 0;
	k->events = n;
	k->aligned = n && m->launch_known && launch_mono_ns;
	k->launch_mono_ns = launch_mono_ns;
	if (!n || !k->aligned)
		return 0;
	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (check(&ev[i], i, launch_mono_ns, &s[ns]))
			ns++;
		else
			k->bad++;
	}
	qsort(s, ns, sizeof(*s), by_vcpu_time);
	for (i = 0; i < ns && !err; i++) {
		if (s[i].vcpu >= k->nvcpus)
			k->nvcpus = s[i].vcpu + 1;
		err = apply(&k->vcpu[s[i].vcpu], &s[i]);
	}
	free(s);
	if (err)
		return err;
	/* the last state lasts to the trace's end */
	for (i = 0; i < k->nvcpus; i++) {
		struct model_sched_vcpu *v = &k->vcpu[i];

		if (v->niv && v->iv[v->niv - 1].end_ns < m->end_ns)
			v->iv[v->niv - 1].end_ns = m->end_ns;
	}
	charge(m, &m->phases);
	charge(m, &m->levels);
	charge(m, &m->initcalls);
	charge(m, &m->shutdown);
	totals(m);
	check_alignment(m);
	return 0;
}

/**
 * model_sched_unavailable() - note why the collector had no scheduler
 * channel, from a host event (others are ignored)
 * @m:    the model
 * @json: a HOST_EVENT chunk's payload
 * @len:  its length
 */
void model_sched_unavailable(struct boot_model *m, const void *json, size_t len)
{
	json_t *o, *why;

	if (!memmem(json, len, "\"sched_channel_unavailable\"", 27))
		return;
	o = json_loadb(json, len, 0, NULL);
	why = json_object_get(o, "error");
	if (!strcmp(json_string_value(json_object_get(o, "event")) ?: "",
		    "sched_channel_unavailable"))
		snprintf(m->sched.unavailable, sizeof(m->sched.unavailable), "%s",
			 json_string_value(why) ?: "unknown");
	json_decref(o);
}

/**
 * model_sched_free() - release the vCPU threads' intervals
 * @m: the model
 */
void model_sched_free(struct boot_model *m)
{
	unsigned int i;

	for (i = 0; i < MODEL_SCHED_VCPUS; i++) {
		free(m->sched.vcpu[i].iv);
		free(m->sched.vcpu[i].mig);
	}
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: the in-band hints.  The collector writes, into each ring's
 * header, the host CPU the vCPU's thread last ran on and its run delay;
 * the guest library copies them into a VCPU_PCPU record whenever the
 * host CPU it sees changes.  Migrations are then in the guest's own
 * timeline, even in a trace without host scheduler events.
 *
 * Both sides distrust the other: the words are the host's, the records
 * are the guest's.  Nothing here indexes by them; a run delay that goes
 * backwards is counted and left out, a CPU of 64 or more is kept in the
 * list but not summed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model_internal.h"

/* host_cpu() - a host_pcpu word as a host CPU, -1 for "the host did not say" */
static int64_t host_cpu(uint32_t w)
{
	return w ? (int64_t)w - 1 : -1;
}

/* count() - VCPU_PCPU records among @m's events */
static size_t count(const struct boot_model *m)
{
	size_t i, n = 0;

	for (i = 0; i < m->ev.nr; i++)
		n += m->ev.ev[i].type == HT_EV_VCPU_PCPU;
	return n;
}

/**
 * model_hints_build() - the hints' records, migrations and run delays
 * @m: a model whose events and clock are loaded
 *
 * Return: 0 or -ENOMEM.
 */
int model_hints_build(struct boot_model *m)
{
	uint64_t first[MODEL_HINT_CPUS], last[MODEL_HINT_CPUS];
	bool seen[MODEL_HINT_CPUS] = { false };
	struct model_hints *d = &m->hints;
	size_t i, n = count(m);

	if (!n)
		return 0;
	d->h = calloc(n, sizeof(*d->h));
	if (!d->h)
		return -ENOMEM;
	for (i = 0; i < m->ev.nr; i++) {
		const struct ev *e = &m->ev.ev[i];
		struct model_hint *h;
		unsigned int c = e->cpu;

		if (e->type != HT_EV_VCPU_PCPU)
			continue;
		h = &d->h[d->nr++];
		h->at_ns = model_ns(m, e->tsc);
		h->cpu = c;
		h->from = host_cpu((uint32_t)(e->a0 >> 32));
		h->to = host_cpu((uint32_t)e->a0);
		h->run_delay_ns = e->a1;
		if (h->from >= 0 && h->to >= 0 && h->from != h->to) {
			d->migrations++;
			if (c < MODEL_HINT_CPUS)
				d->cpu_migrations[c]++;
		}
		if (c >= MODEL_HINT_CPUS)
			continue;
		if (!seen[c]) {
			seen[c] = true;
			first[c] = last[c] = e->a1;
		} else if (e->a1 < last[c]) {
			d->backwards++;
		} else {
			last[c] = e->a1;
		}
	}
	for (i = 0; i < MODEL_HINT_CPUS; i++)
		if (seen[i])
			d->cpu_run_delay_ns[i] = last[i] - first[i];
	return 0;
}

/**
 * model_hints_host_event() - note that the collector wrote hints, and how
 * often, from its vcpu_hints host event
 * @m:    the model
 * @json: a HOST_EVENT chunk's payload
 * @len:  its length
 */
void model_hints_host_event(struct boot_model *m, const void *json, size_t len)
{
	json_int_t ms;
	json_t *o;

	if (!memmem(json, len, "\"vcpu_hints\"", 12))
		return;
	o = json_loadb(json, len, 0, NULL);
	if (!strcmp(json_string_value(json_object_get(o, "event")) ?: "", "vcpu_hints")) {
		m->hints.written = true;
		ms = json_integer_value(json_object_get(o, "interval_ms"));
		/* a bound, not a guess: a day is more than any interval */
		if (ms > 0 && ms < 86400000)
			m->hints.interval_ns = (uint64_t)ms * 1000000;
	}
	json_decref(o);
}

/**
 * model_hints_free() - release the hints' records
 * @m: the model
 */
void model_hints_free(struct boot_model *m)
{
	free(m->hints.h);
	memset(&m->hints, 0, sizeof(m->hints));
}

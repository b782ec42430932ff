// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The host's view of the vCPU threads in the reports: the time the host
 * took from each vCPU (preempted: runnable, not running) and its
 * migrations, as text (report) and as the "host_sched" member of the JSON
 * (report --json; the HTML page also gets each vCPU's intervals for its
 * lanes).  A trace without host scheduler events gets one line saying why
 * when the collector said, else nothing.  Beside it, the in-band hints:
 * the host CPU changes the guest saw in its ring headers ("vcpu_hints").
 */
#include <inttypes.h>
#include <string.h>

#include "util.h"
#include "writers.h"

#define NOTICE_NS	500000ULL	/* stolen time a report line needs... */
#define NOTICE_PCT	5		/* ...and this share of the span */
#define MIG_LINES	20		/* migrations the text lists */

/* ms() - nanoseconds as milliseconds */
static double ms(uint64_t ns)
{
	return ns / 1e6;
}

/* noticeable() - whether @s lost enough to its host to get a line */
static bool noticeable(const struct span *s)
{
	return s->stolen_ns >= NOTICE_NS && s->stolen_ns * 100 >= s->dur_ns * NOTICE_PCT;
}

/* spans_text() - the noticeable spans of @l under @title */
static void spans_text(FILE *f, const char *title, const struct span_list *l)
{
	bool head = false;
	size_t i;

	for (i = 0; i < l->nr; i++) {
		const struct span *s = &l->s[i];

		if (!noticeable(s))
			continue;
		if (!head)
			fprintf(f, "  %-32s %10s %10s %9s %4s\n", title, "took ms", "stolen ms",
				"stolen", "migr");
		head = true;
		fputs("    ", f);
		print_escaped(f, s->name, strlen(s->name));
		fprintf(f, "%*s %10.3f %10.3f %8.1f%% %4u\n",
			(int)(strlen(s->name) + 2 < 30 ? 28 - strlen(s->name) : 0), "", ms(s->dur_ns),
			ms(s->stolen_ns), s->dur_ns ? 100.0 * s->stolen_ns / s->dur_ns : 0.0,
			s->migrations);
	}
}

/**
 * sched_write_text() - the host's share of the boot: totals per vCPU, the
 * phases, levels and initcalls that lost a noticeable share (0.5 ms and
 * 5 %), and the migrations
 * @m: the model
 * @f: where to
 */
void sched_write_text(const struct boot_model *m, FILE *f)
{
	const struct model_sched *k = &m->sched;
	unsigned int i, shown = 0;
	size_t j;

	if (!k->present) {
		if (k->unavailable[0]) {
			fputs("host scheduler: not recorded (", f);
			print_escaped(f, k->unavailable, strlen(k->unavailable));
			fputs(")\n\n", f);
		}
		return;
	}
	if (!k->aligned) {
		fprintf(f, "host scheduler: %" PRIu64 " events, not placed (the trace does not "
			"tie the guest clock to the host's)\n\n", k->events);
		return;
	}
	fprintf(f, "host scheduler, to the end of the boot: %.3f ms stolen (vCPU runnable, "
		"not running), %u migrations\n", ms(k->stolen_ns), k->migrations);
	for (i = 0; i < k->nvcpus; i++) {
		const struct model_sched_vcpu *v = &k->vcpu[i];

		if (!v->niv)
			continue;
		fprintf(f, "  vCPU %u (thread %" PRIu32 "): running %.3f ms, preempted %.3f ms, "
			"sleeping %.3f ms, %u migrations\n", i, v->tid, ms(v->running_ns),
			ms(v->preempted_ns), ms(v->sleeping_ns), v->migrations);
	}
	spans_text(f, "phase", &m->phases);
	spans_text(f, "boot level", &m->levels);
	spans_text(f, "initcall", &m->initcalls);
	for (i = 0; i < k->nvcpus; i++) {
		const struct model_sched_vcpu *v = &k->vcpu[i];

		for (j = 0; j < v->nmig && shown < MIG_LINES; j++, shown++)
			fprintf(f, "  migration at %.3f ms: vCPU %u, host CPU %u -> %u\n",
				ms(v->mig[j].at_ns), i, v->mig[j].from, v->mig[j].to);
	}
	if (shown == MIG_LINES && k->migrations > MIG_LINES)
		fprintf(f, "  (%u more migrations in report --json)\n", k->migrations - MIG_LINES);
	if (k->guest_events)
		fprintf(f, "  clock check: %" PRIu64 " of %" PRIu64 " guest events placed while "
			"their vCPU's thread was not running (at most %.3f ms away)\n",
			k->guest_not_running, k->guest_events, ms(k->max_misplaced_ns));
	if (k->missing_in)
		fprintf(f, "  %" PRIu64 " switches away from a vCPU thread had no switch in before "
			"them: its state there is unknown, not counted\n", k->missing_in);
	if (k->bad || k->missed)
		fprintf(f, "  %" PRIu64 " events rejected, %" PRIu64 " lost by the host's buffer\n",
			k->bad, k->missed);
	fputc('\n', f);
}

/**
 * sched_write_json() - ",\n\"host_sched\":{...}": totals, per vCPU its
 * times and migrations, with @page also its intervals
 * ([start_ns, end_ns, state, host_cpu], state 1 running, 2 preempted,
 * 3 sleeping)
 * @m:    the model
 * @f:    where to
 * @page: for the HTML page
 */
void sched_write_json(const struct boot_model *m, FILE *f, bool page)
{
	const struct model_sched *k = &m->sched;
	unsigned int i;
	size_t j;

	fprintf(f, ",\n\"host_sched\":{\"present\":%s,\"aligned\":%s,\"unavailable\":",
		k->present ? "true" : "false", k->aligned ? "true" : "false");
	if (k->unavailable[0])
		print_json_string(f, k->unavailable, strlen(k->unavailable));
	else
		fputs("null", f);
	fprintf(f, ",\"launch_mono_ns\":%" PRIu64, k->launch_mono_ns);
	fprintf(f, ",\"events\":%" PRIu64 ",\"bad\":%" PRIu64 ",\"missed\":%" PRIu64
		",\"stolen_ns\":%" PRIu64 ",\"migrations\":%u,\"guest_events\":%" PRIu64
		",\"guest_not_running\":%" PRIu64 ",\"max_misplaced_ns\":%" PRIu64
		",\"switch_ins_missing\":%" PRIu64 ",\"vcpus\":[",
		k->events, k->bad, k->missed, k->stolen_ns, k->migrations, k->guest_events,
		k->guest_not_running, k->max_misplaced_ns, k->missing_in);
	for (i = 0; i < k->nvcpus; i++) {
		const struct model_sched_vcpu *v = &k->vcpu[i];

		fprintf(f, "%s\n {\"vcpu\":%u,\"tid\":%" PRIu32 ",\"running_ns\":%" PRIu64
			",\"preempted_ns\":%" PRIu64 ",\"sleeping_ns\":%" PRIu64
			",\"migrations\":%u,\"migration_list\":[", i ? "," : "", i, v->tid,
			v->running_ns, v->preempted_ns, v->sleeping_ns, v->migrations);
		for (j = 0; j < v->nmig; j++)
			fprintf(f, "%s{\"at_ns\":%" PRIu64 ",\"from\":%u,\"to\":%u}", j ? "," : "",
				v->mig[j].at_ns, v->mig[j].from, v->mig[j].to);
		fputc(']', f);
		if (page) {
			fputs(",\"intervals\":[", f);
			for (j = 0; j < v->niv; j++)
				fprintf(f, "%s[%" PRIu64 ",%" PRIu64 ",%u,%u]", j ? "," : "",
					v->iv[j].start_ns, v->iv[j].end_ns, v->iv[j].run,
					v->iv[j].host_cpu);
			fputc(']', f);
		}
		fputc('}', f);
	}
	fputs("]}", f);
}

/* hint_cpu() - print a hint's host CPU, or "?" when the host did not say */
static void hint_cpu(FILE *f, int64_t c)
{
	if (c < 0)
		fputc('?', f);
	else
		fprintf(f, "%" PRId64, c);
}

/**
 * hints_write_text() - the in-band hints: how many the guest reported,
 * its vCPUs' migrations as it saw them, and their run delay growth
 * @m: the model
 * @f: where to
 */
void hints_write_text(const struct boot_model *m, FILE *f)
{
	const struct model_hints *d = &m->hints;
	unsigned int i, shown = 0;
	size_t j;

	if (!d->written && !d->nr)
		return;
	if (!d->nr) {
		fputs("in-band hints: written into the ring headers, none reported back (a "
		      "guest without rings, or a library older than the hints)\n\n", f);
		return;
	}
	fprintf(f, "in-band hints (the guest's records of its ring header, ");
	if (d->interval_ns)
		fprintf(f, "rewritten every %.0f ms): ", ms(d->interval_ns));
	else
		fputs("not said how often): ", f);
	fprintf(f, "%zu records, %u migrations\n", d->nr, d->migrations);
	for (i = 0; i < MODEL_HINT_CPUS; i++)
		if (d->cpu_migrations[i] || d->cpu_run_delay_ns[i])
			fprintf(f, "  vCPU %u: %u migrations, run delay %.3f ms from its first "
				"record to its last\n", i, d->cpu_migrations[i],
				ms(d->cpu_run_delay_ns[i]));
	for (j = 0; j < d->nr && shown < MIG_LINES; j++) {
		const struct model_hint *h = &d->h[j];

		if (h->from < 0 || h->to < 0 || h->from == h->to)
			continue;
		fprintf(f, "  migration seen at %.3f ms: vCPU %u, host CPU ", ms(h->at_ns), h->cpu);
		hint_cpu(f, h->from);
		fputs(" -> ", f);
		hint_cpu(f, h->to);
		fputc('\n', f);
		shown++;
	}
	if (shown == MIG_LINES && d->migrations > MIG_LINES)
		fprintf(f, "  (%u more in report --json)\n", d->migrations - MIG_LINES);
	if (d->backwards)
		fprintf(f, "  %" PRIu64 " run delays went backwards: not counted\n", d->backwards);
	fputc('\n', f);
}

/**
 * hints_write_json() - ",\n\"vcpu_hints\":{...}": whether the collector
 * wrote hints, the totals, and every record the guest made of them
 * ({at_ns, cpu, from, to, run_delay_ns}; from and to null when unknown)
 * @m: the model
 * @f: where to
 */
void hints_write_json(const struct boot_model *m, FILE *f)
{
	const struct model_hints *d = &m->hints;
	size_t j;

	fprintf(f, ",\n\"vcpu_hints\":{\"written\":%s,\"interval_ns\":%" PRIu64
		",\"records\":%zu,\"migrations\":%u,\"backwards\":%" PRIu64 ",\"list\":[",
		d->written ? "true" : "false", d->interval_ns, d->nr, d->migrations,
		d->backwards);
	for (j = 0; j < d->nr; j++) {
		const struct model_hint *h = &d->h[j];

		fprintf(f, "%s{\"at_ns\":%" PRIu64 ",\"cpu\":%u,\"from\":", j ? "," : "",
			h->at_ns, h->cpu);
		if (h->from < 0)
			fputs("null", f);
		else
			fprintf(f, "%" PRId64, h->from);
		fputs(",\"to\":", f);
		if (h->to < 0)
			fputs("null", f);
		else
			fprintf(f, "%" PRId64, h->to);
		fprintf(f, ",\"run_delay_ns\":%" PRIu64 "}", h->run_delay_ns);
	}
	fputs("]}", f);
}

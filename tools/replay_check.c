// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace replay: whether a replayed boot reproduced the recorded one.
 * Two traces are the same boot when they hold the same guest events (type,
 * CPU, sequence number, guest TSC, arguments, strings), in the same order,
 * the same kernel log (sequence numbers, the kernel's timestamps, levels,
 * texts) and come to the same verdict.  Host-side facts (when QEMU was
 * launched, when each record arrived, the host's CPU) differ between any
 * two runs and are not compared.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "boot_run.h"

/* ev_same() - two events are the same event */
static bool ev_same(const struct ev *a, const struct ev *b)
{
	return a->tsc == b->tsc && a->a0 == b->a0 && a->a1 == b->a1 && a->type == b->type &&
	       a->cpu == b->cpu && a->seq == b->seq && a->flags == b->flags &&
	       a->str_len == b->str_len && !memcmp(a->str, b->str, a->str_len);
}

/* ev_text() - one event for a message */
static void ev_text(const struct ev *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s on CPU %u, seq %u, TSC %" PRIu64 ", args %#" PRIx64 " %#" PRIx64,
		 htr_event_name(e->type), e->cpu, e->seq, e->tsc, e->a0, e->a1);
}

/* events_same() - the event lists are equal; else 1 with the first difference in @why */
static int events_same(const struct ev_list *a, const struct ev_list *b, char *why, size_t len)
{
	char ta[160], tb[160];
	size_t i, n = a->nr < b->nr ? a->nr : b->nr;

	for (i = 0; i < n && ev_same(&a->ev[i], &b->ev[i]); i++)
		;
	if (i == n && a->nr == b->nr)
		return 0;
	if (i == n) {
		snprintf(why, len, "the recording has %zu events, the replay %zu (the first %zu agree)",
			 a->nr, b->nr, n);
		return 1;
	}
	ev_text(&a->ev[i], ta, sizeof(ta));
	ev_text(&b->ev[i], tb, sizeof(tb));
	snprintf(why, len, "event %zu of %zu differs: recorded %s; replayed %s", i + 1, a->nr,
		 ta, tb);
	return 1;
}

/* log_rec_same() - two kernel log records are the same record */
static bool log_rec_same(const struct htr_log_rec *a, const struct htr_log_rec *b)
{
	return a->seq == b->seq && a->ts_nsec == b->ts_nsec && a->caller_id == b->caller_id &&
	       a->level == b->level && a->facility == b->facility &&
	       a->text_len == b->text_len && !memcmp(a->text, b->text, a->text_len);
}

/* logs_same() - the kernel logs are equal; else 1 with the first difference in @why */
static int logs_same(const struct htr_log *a, const struct htr_log *b, char *why, size_t len)
{
	size_t i;

	if (a->nr != b->nr) {
		snprintf(why, len, "the recorded kernel log has %zu records, the replayed one %zu",
			 a->nr, b->nr);
		return 1;
	}
	for (i = 0; i < a->nr; i++) {
		if (!log_rec_same(&a->rec[i], &b->rec[i])) {
			snprintf(why, len, "kernel log record %" PRIu64 " differs (recorded at "
				 "%" PRIu64 " ns, replayed at %" PRIu64 " ns)", a->rec[i].seq,
				 a->rec[i].ts_nsec, b->rec[i].ts_nsec);
			return 1;
		}
	}
	return 0;
}

/**
 * replay_same() - whether a replay reproduced its recording
 * @a:   the recorded boot
 * @b:   the replayed boot
 * @why: the first difference, or what was the same
 * @len: room in @why
 *
 * Return: 0 the same boot, 1 they differ.
 */
int replay_same(const struct boot_model *a, const struct boot_model *b, char *why, size_t len)
{
	if (events_same(&a->ev, &b->ev, why, len) || logs_same(&a->klog, &b->klog, why, len))
		return 1;
	if (a->verdict != b->verdict) {
		snprintf(why, len, "the same events, but the recording's verdict is %s, the "
			 "replay's %s", htr_verdict_name(a->verdict), htr_verdict_name(b->verdict));
		return 1;
	}
	snprintf(why, len, "%zu events and %zu kernel log records, the same types, CPUs, "
		 "sequence numbers, arguments and guest times; verdict %s", a->ev.nr, a->klog.nr,
		 htr_verdict_name(a->verdict));
	return 0;
}

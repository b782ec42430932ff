// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: turn records into events.  One stream per guest CPU tracks
 * sequence numbers (gaps are lost records) and reassembles strings from
 * continuation records.
 */
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "htrace.h"

static const char *const event_names[] = {
	[HT_EV_CONT] = "cont",
	[HT_EV_ANNOUNCE] = "announce",
	[HT_EV_TSC_KHZ] = "tsc_khz",
	[HT_EV_KASLR] = "kaslr",
	[HT_EV_EARLY_MOVED] = "early_moved",
	[HT_EV_PRINTK] = "printk",
	[HT_EV_SETUP_ENTRY] = "setup_entry",
	[HT_EV_DECOMP_BEGIN] = "decomp_begin",
	[HT_EV_DECOMP_END] = "decomp_end",
	[HT_EV_KERNEL_ENTRY] = "kernel_entry",
	[HT_EV_START_KERNEL] = "start_kernel",
	[HT_EV_PHASE_BEGIN] = "phase_begin",
	[HT_EV_PHASE_END] = "phase_end",
	[HT_EV_RUN_INIT] = "run_init",
	[HT_EV_USER_MARKER] = "user_marker",
	[HT_EV_BOOT_DONE] = "boot_done",
	[HT_EV_LEVEL_BEGIN] = "level_begin",
	[HT_EV_LEVEL_END] = "level_end",
	[HT_EV_INITCALL_BEGIN] = "initcall_begin",
	[HT_EV_INITCALL_END] = "initcall_end",
	[HT_EV_ASYNC_BEGIN] = "async_begin",
	[HT_EV_ASYNC_END] = "async_end",
	[HT_EV_ASYNC_WAIT_BEGIN] = "async_wait_begin",
	[HT_EV_ASYNC_WAIT_END] = "async_wait_end",
	[HT_EV_IDLE_BEGIN] = "idle_begin",
	[HT_EV_IDLE_END] = "idle_end",
	[HT_EV_PANIC] = "panic",
	[HT_EV_OOPS] = "oops",
	[HT_EV_BUG] = "bug",
	[HT_EV_WARN] = "warn",
	[HT_EV_BACKTRACE] = "backtrace",
	[HT_EV_FRAMES] = "frames",
	[HT_EV_SHUTDOWN_BEGIN] = "shutdown_begin",
	[HT_EV_SHUTDOWN_PHASE_BEGIN] = "shutdown_phase_begin",
	[HT_EV_SHUTDOWN_PHASE_END] = "shutdown_phase_end",
	[HT_EV_NOTIFIER_BEGIN] = "notifier_begin",
	[HT_EV_NOTIFIER_END] = "notifier_end",
	[HT_EV_DEVICE_BEGIN] = "device_begin",
	[HT_EV_DEVICE_END] = "device_end",
	[HT_EV_MACHINE_CALL] = "machine_call",
	[HT_EV_FUNC_ENTRY] = "func_entry",
	[HT_EV_FUNC_EXIT] = "func_exit",
	[HT_EV_FUNC_AGG] = "func_agg",
	[HT_EV_GRAPH_START] = "graph_start",
	[HT_EV_GRAPH_STOP] = "graph_stop",
	[HT_EV_TASK_SWITCH] = "task_switch",
	[HT_EV_VCPU_PCPU] = "vcpu_pcpu",
};

/* htr_event_name() - name of an event type, NULL if this build does not know it */
const char *htr_event_name(unsigned int type)
{
	if (type >= sizeof(event_names) / sizeof(event_names[0]))
		return NULL;
	return event_names[type];
}

/* htr_event_has_string() - whether the ABI gives @type a string */
bool htr_event_has_string(unsigned int type)
{
	switch (type) {
	case HT_EV_RUN_INIT:
	case HT_EV_USER_MARKER:
	case HT_EV_PANIC:
	case HT_EV_OOPS:
	case HT_EV_BUG:
	case HT_EV_WARN:
	case HT_EV_DEVICE_BEGIN:
		return true;
	}
	return false;
}

/**
 * htr_decoder_init() - prepare a decoder for CPUs 0 .. @nr_cpus - 1
 * @d:       the decoder
 * @nr_cpus: 1 .. HT_MAX_RINGS (the guest's count, already validated)
 *
 * Return: 0, HTR_E_INVAL or HTR_E_NOMEM.
 */
int htr_decoder_init(struct htr_decoder *d, unsigned int nr_cpus)
{
	memset(d, 0, sizeof(*d));
	if (!nr_cpus || nr_cpus > HT_MAX_RINGS)
		return HTR_E_INVAL;
	d->streams = calloc(nr_cpus, sizeof(*d->streams));
	if (!d->streams)
		return HTR_E_NOMEM;
	d->nr_cpus = nr_cpus;
	return HTR_OK;
}

/* htr_decoder_free() - release a decoder's memory */
void htr_decoder_free(struct htr_decoder *d)
{
	unsigned int i;

	for (i = 0; d->streams && i < d->nr_used; i++)
		free(d->streams[i]);
	free(d->streams);
	d->streams = NULL;
}

/**
 * htr_decoder_stream() - the state of @cpu's stream, made on first use
 * @d:   the decoder
 * @cpu: below d->nr_cpus
 *
 * Return: the stream, or NULL when memory ran out.
 */
struct htr_stream *htr_decoder_stream(struct htr_decoder *d, unsigned int cpu)
{
	if (!d->streams[cpu]) {
		d->streams[cpu] = calloc(1, sizeof(*d->streams[cpu]));
		if (d->streams[cpu] && cpu >= d->nr_used)
			d->nr_used = cpu + 1;
	}
	return d->streams[cpu];
}

/* take_event() - move a stream's assembled event to @out */
static void take_event(struct htr_decoder *d, struct htr_stream *s,
		       struct htr_event *out, bool broken)
{
	s->ev.str[s->ev.str_len] = '\0';
	if (broken) {
		s->ev.flags |= HTR_EV_F_STR_BROKEN;
		d->broken_str++;
	}
	/* the header and the string's used bytes, not all of str[] each time */
	memcpy(out, &s->ev, offsetof(struct htr_event, str));
	memcpy(out->str, s->ev.str, s->ev.str_len + 1);
	s->want = 0;
	d->events++;
}

/* append_cont() - add a continuation's 24 bytes to the stream's string */
static void append_cont(struct htr_stream *s, const struct ht_record *rec)
{
	const uint64_t w[3] = { rec->tsc, rec->a0, rec->a1 };
	struct htr_event *ev = &s->ev;
	unsigned int i;

	for (i = 0; i < HT_CONT_PAYLOAD && !s->ended; i++) {
		char ch = (char)(w[i / 8] >> (8 * (i % 8)));

		/* the string ends at its first NUL; later bytes are padding */
		if (!ch || ev->str_len >= HT_STR_MAX)
			s->ended = true;
		else
			ev->str[ev->str_len++] = ch;
	}
}

/* seq_check() - account for the gap between what was expected and @seq */
static void seq_check(struct htr_decoder *d, struct htr_stream *s, uint32_t seq)
{
	uint32_t gap;

	if (s->started && seq != s->next_seq) {
		gap = seq - s->next_seq;
		if (gap < 0x80000000u)
			d->seq_lost += gap;
		else
			d->seq_back++;
	}
	s->started = true;
	s->next_seq = seq + 1;
}

/**
 * htr_decode() - feed one record, collect the events it completes
 * @d:   the decoder
 * @rec: the record (a copy; never guest memory itself)
 * @out: room for two events: a string event cut short, then this one
 *
 * Return: the number of events written to @out (0, 1 or 2), HTR_E_PROTOCOL
 * for a record that is rejected and counted in d->bad, or HTR_E_NOMEM when
 * its CPU's stream could not be made.
 */
int htr_decode(struct htr_decoder *d, const struct ht_record *rec,
	       struct htr_event out[2])
{
	unsigned int type = ht_info_type(rec->info);
	unsigned int ncont = ht_info_ncont(rec->info);
	unsigned int cpu = ht_info_cpu(rec->info);
	uint32_t seq = ht_info_seq(rec->info);
	struct htr_stream *s;
	int n = 0;

	d->records++;
	if (cpu >= d->nr_cpus) {
		d->bad++;
		return HTR_E_PROTOCOL;
	}
	s = htr_decoder_stream(d, cpu);
	if (!s)
		return HTR_E_NOMEM;
	seq_check(d, s, seq);

	if (type == HT_EV_CONT) {
		/* must be the next continuation of the event being built */
		if (s->want && ncont == s->got + 1 && seq == s->ev.seq + ncont) {
			append_cont(s, rec);
			s->got++;
			if (--s->want == 0)
				take_event(d, s, &out[n++], false);
			return n;
		}
		d->bad++;
		if (s->want)
			take_event(d, s, &out[n++], true);
		return n ? n : HTR_E_PROTOCOL;
	}
	if (s->want)
		take_event(d, s, &out[n++], true);
	if (type == HT_EV_INVALID || type >= HT_EV_HOST_FIRST) {
		d->bad++;
		return n ? n : HTR_E_PROTOCOL;
	}

	memset(&s->ev, 0, offsetof(struct htr_event, str) + 1);
	s->ev.tsc = rec->tsc;
	s->ev.type = type;
	s->ev.cpu = cpu;
	s->ev.seq = seq;
	s->ev.a0 = rec->a0;
	s->ev.a1 = rec->a1;
	if (ncont) {
		s->ev.flags = HTR_EV_F_STR;
		s->want = ncont;
		s->got = 0;
		s->ended = false;
		return n;
	}
	if (htr_event_has_string(type))
		s->ev.flags = HTR_EV_F_STR;
	take_event(d, s, &out[n++], false);
	return n;
}

/**
 * htr_decoder_flush() - give up on a string event still waiting for parts
 * @d:   the decoder
 * @cpu: the stream
 * @out: where the (broken) event goes
 *
 * Call at the end of a stream.  Return: 1 if an event was written, else 0.
 */
int htr_decoder_flush(struct htr_decoder *d, unsigned int cpu,
		      struct htr_event *out)
{
	struct htr_stream *s;

	if (cpu >= d->nr_cpus || !d->streams[cpu])
		return 0;
	s = d->streams[cpu];
	if (!s->want)
		return 0;
	take_event(d, s, out, true);
	return 1;
}

/**
 * htr_stream_pending_loss() - records lost after the last one that arrived
 * @d:              the decoder
 * @cpu:            the stream
 * @guest_seq_next: the guest's next sequence number (ring head + lost)
 *
 * Sequence gaps only show loss between records; loss at the end of a
 * stream shows against the guest's counters.  Return: that count.
 */
uint64_t htr_stream_pending_loss(const struct htr_decoder *d, unsigned int cpu,
				 uint64_t guest_seq_next)
{
	const struct htr_stream *s;
	uint32_t gap;

	if (cpu >= d->nr_cpus)
		return 0;
	s = d->streams[cpu];
	gap = (uint32_t)guest_seq_next - (s && s->started ? s->next_seq : 0);
	return gap < 0x80000000u ? gap : 0;
}

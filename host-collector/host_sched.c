// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: the host scheduler's view of the vCPU threads in
 * the trace (HTF_SCHED chunks), through the scheduler channel
 * (chan_sched.h): stale instances removed at start-up, the channel opened
 * once QMP named the vCPU threads, drained every SCHED_POLL_NS while the
 * guest runs and at the end, its loss in the LOSS chunk.
 */
#include <errno.h>
#include <string.h>

#include "chan_sched.h"
#include "record.h"

#define SCHED_POLL_NS	20000000ULL	/* drain the channel this often */

/**
 * sched_start() - remove the tracefs instances of collectors that died
 * (a SIGKILLed one cannot), before this one makes any
 * @r: the recording, before any channel is open
 */
void sched_start(struct run *r)
{
	char err[256];

	if (r->o->no_sched)
		return;
	if (sched_reap_stale(&r->sched_reaped, err, sizeof(err)) && r->sched_reaped == 0)
		snprintf(r->sched_reap_err, sizeof(r->sched_reap_err), "%s", err);
	if (r->sched_reaped && !r->o->quiet)
		coll_err("removed %u stale tracefs instance%s of collectors that no longer run\n",
			 r->sched_reaped, r->sched_reaped == 1 ? "" : "s");
}

/* sched_flush() - the buffered events as one HTF_SCHED chunk */
static void sched_flush(struct run *r)
{
	if (!r->nsched)
		return;
	htf_append(&r->w, HTF_SCHED, HTF_SRC_NONE, now_ns(), r->sched_ev,
		   r->nsched * (uint32_t)sizeof(r->sched_ev[0]));
	r->nsched = 0;
}

/* on_sched() - channel callback: buffer one event, flush when full */
static void on_sched(void *ctx, const struct htf_sched_event *ev)
{
	struct run *r = ctx;

	r->sched_ev[r->nsched++] = *ev;
	if (r->nsched == SCHED_BATCH)
		sched_flush(r);
}

/* sched_open() - the channel, once QMP named the vCPU threads; says once why not */
static void sched_open(struct run *r)
{
	const pid_t *tids;
	unsigned int i, ntids = qmp_vcpu_tids(r->qmp, &tids);
	json_t *o, *a;
	char err[256];

	if (r->sched || r->sched_tried || !ntids || r->o->no_sched)
		return;
	r->sched_tried = true;
	o = json_object();
	if (r->sched_reaped)
		json_object_set_new(o, "stale_instances_removed",
				    json_integer(r->sched_reaped));
	if (sched_chan_open(&r->sched, tids, ntids, err, sizeof(err))) {
		r->sched = NULL;
		json_object_set_new(o, "error", json_string(err));
		host_event(r, "sched_channel_unavailable", o);
		if (!r->o->quiet)
			coll_err("no host scheduler events (%s); recording without them "
				 "(--no-sched turns them off)\n", err);
		return;
	}
	a = json_array();
	for (i = 0; i < ntids; i++)
		json_array_append_new(a, json_integer(tids[i]));
	json_object_set_new(o, "instance", json_string(sched_chan_name(r->sched)));
	json_object_set_new(o, "trace_clock", json_string("mono"));
	json_object_set_new(o, "vcpu_tids", a);
	host_event(r, "sched_channel", o);
}

/**
 * sched_poll() - drain the scheduler channel when it is due
 * @r:     the recording
 * @force: drain now, whenever the last drain was
 */
void sched_poll(struct run *r, bool force)
{
	uint64_t t = now_ns();

	sched_open(r);
	if (!r->sched || (!force && t - r->sched_last_ns < SCHED_POLL_NS))
		return;
	r->sched_last_ns = t;
	sched_chan_poll(r->sched, on_sched, r);
	sched_flush(r);
}

/**
 * sched_finish() - the last drain, the loss into @loss, and the channel
 * closed (its instance removed)
 * @r:    the recording
 * @loss: the LOSS chunk's object, or NULL
 */
void sched_finish(struct run *r, json_t *loss)
{
	if (!r->sched)
		return;
	sched_poll(r, true);
	if (loss)
		json_object_set_new(loss, "sched_missed",
				    json_integer((json_int_t)sched_chan_missed(r->sched)));
	sched_close(r);
}

/**
 * sched_close() - close the channel, removing its instance (every exit
 * path of the recording goes through close_channels())
 * @r: the recording
 */
void sched_close(struct run *r)
{
	sched_chan_close(r->sched);
	r->sched = NULL;
	r->sched_tried = false;
	r->nsched = 0;
}

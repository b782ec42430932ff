/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Host collector: the host scheduler's view of the vCPU threads.
 *
 * Once QMP named the vCPU threads, this channel enables sched:sched_switch,
 * sched:sched_wakeup and sched:sched_migrate_task in a private tracefs
 * instance ("hypertrace-<pid>-sched"), each filtered in the kernel to those
 * threads (sched_switch on prev_pid and next_pid, so that both the switch
 * away from a vCPU and the switch to it are kept), on trace_clock "mono":
 * the timestamps are CLOCK_MONOTONIC, the clock of the trace's clock
 * samples.  Every event is checked again in user space against the thread
 * list and delivered as a struct htf_sched_event.  Loss in the kernel ring
 * buffer is counted, never silent.
 *
 * Opening it needs root (tracefs); without it the recording goes on.
 */
#ifndef _HT_CHAN_SCHED_H
#define _HT_CHAN_SCHED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tracefile.h"

struct sched_chan;

/* Most vCPU threads one channel follows (the kernel filter must fit a page). */
#define SCHED_CHAN_MAX_TIDS	64

/**
 * sched_chan_open() - start following the scheduler events of vCPU threads
 * @out:    the new channel
 * @tids:   the vCPU threads, in QEMU's query-cpus-fast order: @tids[i] is
 *          vCPU i
 * @ntids:  1..SCHED_CHAN_MAX_TIDS
 * @err:    on failure, a one-line reason (may be NULL)
 * @errlen: size of @err
 *
 * Return: 0, or a negative errno (-EINVAL, -ENOMEM, -ENODEV: no tracefs,
 * -ENOENT: no sched events, -EEXIST: the instance exists, -EACCES...).
 */
int sched_chan_open(struct sched_chan **out, const pid_t *tids,
		    unsigned int ntids, char *err, size_t errlen);

/* Receives one event (valid during the call only). */
typedef void (*sched_chan_fn)(void *ctx, const struct htf_sched_event *ev);

/**
 * sched_chan_poll() - deliver every event buffered now; never blocks
 * @c:   the channel
 * @fn:  called once per event
 * @ctx: passed to @fn
 *
 * Return: events delivered (>= 0), or a negative errno.
 */
long sched_chan_poll(struct sched_chan *c, sched_chan_fn fn, void *ctx);

/**
 * sched_chan_missed() - events the kernel ring buffer dropped (the
 * instance's per-CPU overrun counters, or the stream's count if larger)
 * @c: the channel
 *
 * Return: the count.
 */
uint64_t sched_chan_missed(const struct sched_chan *c);

/**
 * sched_chan_name() - the tracefs instance's name
 * @c: the channel
 *
 * Return: the name (owned by the channel).
 */
const char *sched_chan_name(const struct sched_chan *c);

/**
 * sched_chan_close() - disable the events, remove the instance, free @c
 * @c: the channel, or NULL
 */
void sched_chan_close(struct sched_chan *c);

/**
 * sched_reap_stale() - remove the tracefs instances that collectors which
 * no longer run left behind ("hypertrace-<pid>" and "hypertrace-<pid>-*"
 * whose <pid> is no process: a SIGKILLed collector cannot remove its own)
 * @removed: set to how many were removed
 * @err:     on failure, a one-line reason
 * @errlen:  size of @err
 *
 * Instances of live processes are left alone.  Call it before this
 * process creates any instance: one named with this process's pid is taken
 * for a dead process's whose pid was reused.
 *
 * Return: 0, or a negative errno (no tracefs, an instance that could not
 * be removed).
 */
int sched_reap_stale(unsigned int *removed, char *err, size_t errlen);

#endif /* _HT_CHAN_SCHED_H */

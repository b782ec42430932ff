/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Host collector: the KVM hypercall channel.
 *
 * A guest on the hypercall transport issues vmcall/vmmcall with
 * rax = HT_HC_RECORD or HT_HC_BATCH and rbx, rcx, rdx, rsi = the record's
 * four words (lib/hypertrace_abi.h).  KVM traces every hypercall in the
 * kvm:kvm_hypercall tracepoint (fields nr, a0..a3 = rax, rbx, rcx, rdx,
 * rsi; common_pid = the vCPU thread) before it rejects the unknown number.
 * This channel reads that tracepoint through libtracefs in a private
 * tracefs instance ("hypertrace-<pid>"), so the global trace buffer and
 * other tracers are left alone, and delivers only events that carry a
 * Hypertrace number AND come from one of the VM's vCPU threads.  The
 * kernel-side filter is an optimisation; the user-space check is the
 * guarantee.  Loss in the kernel ring buffer is counted, never silent.
 *
 * Timestamps are CLOCK_MONOTONIC nanoseconds (the instance's trace_clock
 * is set to "mono"), comparable with clock_gettime(CLOCK_MONOTONIC).
 *
 * A channel is used by one thread at a time.  Opening one needs root (or
 * CAP_SYS_ADMIN with write access to tracefs).
 */
#ifndef _HT_CHAN_KVM_H
#define _HT_CHAN_KVM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hypertrace_abi.h"

struct kvm_chan;

/*
 * Most vCPU threads one channel accepts (KVM's own limit is 4096 vCPUs
 * per VM on x86).
 */
#define KVM_CHAN_MAX_TIDS	4096

/**
 * kvm_chan_open() - start collecting hypercalls of one VM
 * @out:    the new channel
 * @system: trace system, normally "kvm"
 * @event:  trace event, normally "kvm_hypercall"; it must have the numeric
 *          fields nr, a0, a1, a2 and a3
 * @tids:   the VM's vCPU threads (QMP query-cpus-fast "thread-id"), > 0
 * @ntids:  1..KVM_CHAN_MAX_TIDS
 * @err:    on failure, a one-line reason (may be NULL)
 * @errlen: size of @err
 *
 * Creates the tracefs instance "hypertrace-<getpid()>" (the process's
 * later channels: "hypertrace-<pid>-<n>"), sets its clock to
 * "mono", applies the kernel filter on nr (and on common_pid when the
 * filter fits), enables only @system/@event in it and turns its tracing
 * on.  Fails with -EEXIST if that instance already exists (a crashed
 * collector with this pid left it: remove it with rmdir).
 *
 * Return: 0, or a negative errno (-EINVAL, -ENOMEM, -ENODEV: no tracefs,
 * -ENOENT: no such event, -EPROTO: the event lacks a field, -EEXIST, or
 * whatever tracefs refused with, e.g. -EACCES).
 */
int kvm_chan_open(struct kvm_chan **out, const char *system, const char *event,
		  const pid_t *tids, unsigned int ntids, char *err, size_t errlen);

/**
 * typedef kvm_chan_fn - receives one accepted hypercall
 * @ctx:   the caller's context
 * @rec:   the four argument words: for HT_HC_RECORD the record itself;
 *         for HT_HC_BATCH (cpu, head, lost, 0) as the ABI defines them.
 *         Valid during the call only; untrusted guest data.
 * @nr:    HT_HC_RECORD or HT_HC_BATCH
 * @tid:   the vCPU thread that made the hypercall
 * @ts_ns: host CLOCK_MONOTONIC time of the hypercall, in ns
 */
typedef void (*kvm_chan_fn)(void *ctx, const struct ht_record *rec,
			    unsigned long nr, pid_t tid, uint64_t ts_ns);

/**
 * kvm_chan_poll() - deliver every event available now, oldest first
 * @c:   the channel
 * @fn:  called once per accepted event
 * @ctx: passed to @fn
 *
 * Never blocks.  Events are merged across host CPUs by timestamp within
 * one call; an event still being written on another CPU while a poll runs
 * may come in the next call, so order across calls is by arrival, and a
 * consumer that needs strict order sorts by the record's (cpu, seq).
 *
 * Return: events delivered (>= 0), or a negative errno.
 */
long kvm_chan_poll(struct kvm_chan *c, kvm_chan_fn fn, void *ctx);

/**
 * kvm_chan_fd() - a descriptor that polls readable when events are waiting
 * @c: the channel
 *
 * The instance's trace_pipe, opened only for poll(2)/epoll (never read:
 * kvm_chan_poll() reads).  POLLIN means at least one event is buffered on
 * some CPU.  The channel owns it; do not close it.
 *
 * Return: the descriptor, or -1 if it could not be opened (then poll the
 * channel on a timer).
 */
int kvm_chan_fd(struct kvm_chan *c);

/**
 * kvm_chan_missed() - events the kernel ring buffer dropped
 * @c: the channel
 *
 * The instance's per-CPU ring-buffer loss counters (overrun, commit
 * overrun and dropped events), as of the end of the last kvm_chan_poll(),
 * or the loss reported in the data stream if that is larger.  Every event
 * in the instance passed the kernel filter, so each one counted here is a
 * Hypertrace hypercall of a vCPU (or of another thread that passed the
 * filter) that was lost.
 *
 * Return: the count.
 */
uint64_t kvm_chan_missed(const struct kvm_chan *c);

/**
 * kvm_chan_filtered() - events read but not delivered
 * @c: the channel
 *
 * Events that reached user space with a number other than HT_HC_RECORD
 * and HT_HC_BATCH, or from a thread that is not one of the vCPUs (the
 * kernel filter normally stops them before that).
 *
 * Return: the count.
 */
uint64_t kvm_chan_filtered(const struct kvm_chan *c);

/**
 * kvm_chan_close() - disable the event, destroy the instance, free @c
 * @c: the channel, or NULL
 */
void kvm_chan_close(struct kvm_chan *c);

#endif /* _HT_CHAN_KVM_H */

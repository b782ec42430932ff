// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: clock samples, the points from which the tools map
 * the guest TSC onto the host's CLOCK_MONOTONIC (HTF_CLOCK chunks of
 * struct htf_clock_sample).
 *
 *   HTF_CLOCK_DOORBELL    every doorbell record: its TSC, when it arrived
 *   HTF_CLOCK_HYPERCALL   every hypercall record: its TSC, kvm_hypercall's
 *                         timestamp of the exit
 *   HTF_CLOCK_KVM_OFFSET  under KVM, every vCPU at the start and then every
 *                         second: the host TSC through the vCPU's debugfs
 *                         tsc-offset (clock_kvm.c)
 *
 * Samples are buffered and written one chunk per drain of a channel (and
 * per KVM sampling round); while the KVM probe runs they are held back
 * with the records, and dropped with them if the boot starts again.
 */
#include <string.h>

#include "clock_kvm.h"
#include "record.h"

#define KVM_CLOCK_EVERY_NS	1000000000ULL	/* KVM offset samples this often */
#define KVM_CLOCK_TRIES		5	/* opens tried, a second apart, after QMP
					 * named the vCPUs */

/**
 * clock_add() - a sample from a record that arrived at @host_ns
 * @r:       the recording
 * @rec:     the record (untrusted: a continuation record carries string
 *           bytes where the TSC goes, and gives no sample)
 * @host_ns: CLOCK_MONOTONIC of its arrival, or of the hypercall's exit
 * @method:  HTF_CLOCK_DOORBELL or HTF_CLOCK_HYPERCALL
 */
void clock_add(struct run *r, const struct ht_record *rec, uint64_t host_ns,
	       enum htf_clock_method method)
{
	if (ht_info_type(rec->info) == HT_EV_CONT)
		return;
	if (r->nclk == CLK_BATCH)
		clock_flush(r);
	if (r->nclk == CLK_BATCH)
		return;		/* the probe holds a full buffer: enough */
	r->clk[r->nclk++] = (struct htf_clock_sample){
		.guest_tsc = rec->tsc,
		.host_ns = host_ns,
		.cpu = ht_info_cpu(rec->info),
		.method = method,
	};
}

/**
 * clock_flush() - write the buffered samples as one HTF_CLOCK chunk (not
 * while the KVM probe runs)
 * @r: the recording
 */
void clock_flush(struct run *r)
{
	if (!r->nclk || r->probing)
		return;
	htf_append(&r->w, HTF_CLOCK, HTF_SRC_NONE, now_ns(), r->clk,
		   r->nclk * (uint32_t)sizeof(r->clk[0]));
	r->nclk = 0;
}

/* kvm_clock_wanted() - whether this VM runs under KVM, as far as we know */
static bool kvm_clock_wanted(const struct run *r)
{
	const pid_t *tids;

	if (r->qemu <= 0 || !qmp_vcpu_tids(r->qmp, &tids))
		return false;	/* no vCPUs yet: nothing in debugfs either */
	return r->attach || (r->accel && !strcmp(r->accel, "kvm"));
}

/* kvm_clock_give_up() - say once why there are no KVM offset samples */
static void kvm_clock_give_up(struct run *r, const char *why)
{
	json_t *o = json_object();

	json_object_set_new(o, "error", json_string(why));
	host_event(r, "kvm_clock_unavailable", o);
	if (!r->o->quiet && !r->attach)
		coll_err("no KVM TSC-offset clock samples (%s); the doorbell's and "
			 "the hypercalls' still place the guest clock\n", why);
	clock_kvm_close(r->ck);
	r->ck = NULL;
	r->ck_done = true;
}

/**
 * clock_poll_kvm() - under KVM, KVM offset samples for every vCPU once its
 * debugfs directory is found, then every second
 * @r: the recording, QEMU running
 *
 * Under attach the VM may be a TCG one: not finding it is only noted in
 * the trace.
 */
void clock_poll_kvm(struct run *r)
{
	struct htf_clock_sample s[CLOCK_KVM_MAX_VCPUS];
	uint64_t t = now_ns();
	char err[512];
	long n;

	if (r->ck_done || r->probing || t < r->ck_next_ns || !kvm_clock_wanted(r))
		return;
	r->ck_next_ns = t + KVM_CLOCK_EVERY_NS;
	if (!r->ck && clock_kvm_open(&r->ck, r->o->debugfs, r->qemu, err, sizeof(err))) {
		r->ck = NULL;
		if (++r->ck_tries == KVM_CLOCK_TRIES)
			kvm_clock_give_up(r, err);
		return;
	}
	n = clock_kvm_sample(r->ck, s, CLOCK_KVM_MAX_VCPUS, err, sizeof(err));
	if (n < 0) {
		kvm_clock_give_up(r, err);
		return;
	}
	clock_flush(r);
	htf_append(&r->w, HTF_CLOCK, HTF_SRC_NONE, now_ns(), s, (uint32_t)(n * sizeof(s[0])));
}

/**
 * clock_close() - forget the KVM clock (QEMU gone, or the probe restarts)
 * @r: the recording
 */
void clock_close(struct run *r)
{
	clock_kvm_close(r->ck);
	r->ck = NULL;
	r->ck_done = false;
	r->ck_tries = 0;
	r->ck_next_ns = 0;
}

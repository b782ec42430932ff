// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Hypertrace hypercall transport: one vmcall (Intel) or vmmcall (AMD) per
 * record, rax = HT_HC_RECORD and rbx, rcx, rdx, rsi = the record's four
 * words.  KVM traces it in kvm:kvm_hypercall before rejecting the unknown
 * number, so a stock KVM host records it; the host maps the tracepoint's
 * pid to the vCPU.  Only under KVM: elsewhere the instruction faults.
 */
#include "ht_internal.h"

/* ht_hypercall_send() - one hypercall per already stamped record */
static void ht_hypercall_send(const struct ht_record *rec, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		ht_arch_hypercall(ht.amd, HT_HC_RECORD, rec[i].tsc,
				  rec[i].info, rec[i].a0, rec[i].a1);
}

/* ht_hypercall_write() - stamp records with cpu and seq, then send them */
static void ht_hypercall_write(struct ht_cpu *c, unsigned int cpu,
			       struct ht_record *rec, unsigned int n)
{
	(void)cpu;	/* the stamp already carries it */
	ht_stamp(c, rec, n);
	ht_hypercall_send(rec, n);
}

const struct ht_transport ht_hypercall_transport = {
	.name = "hypercall",
	.write = ht_hypercall_write,
	.send = ht_hypercall_send,
};

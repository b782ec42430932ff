// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Hypertrace I/O-port transport: each record is written as 32 bytes with
 * rep outsb to HT_PORT, where QEMU's isa-debugcon hands them to a chardev
 * socket on the host.  Works under TCG and any KVM, but costs a VM exit per
 * byte under TCG (about 30,000 host cycles a record): the doorbell, and the
 * bulk transport only when nothing else works.
 */
#include "ht_internal.h"

/* ht_port_send() - write already stamped records to the port as one unit */
static void ht_port_send(const struct ht_record *rec, unsigned int n)
{
	/*
	 * The byte stream has no framing of its own: two CPUs writing at once
	 * would interleave bytes.  The lock keeps a head record and its
	 * continuations together.
	 */
	int locked = ht_plat_doorbell_lock();

	ht_arch_outsb(HT_PORT, rec, (unsigned long)n * HT_RECORD_SIZE);
	ht_plat_doorbell_unlock(locked);
}

/* ht_port_write() - stamp records with cpu and seq, then send them */
static void ht_port_write(struct ht_cpu *c, unsigned int cpu,
			  struct ht_record *rec, unsigned int n)
{
	(void)cpu;	/* the stamp already carries it */
	ht_stamp(c, rec, n);
	ht_port_send(rec, n);
}

const struct ht_transport ht_port_transport = {
	.name = "port",
	.write = ht_port_write,
	.send = ht_port_send,
};

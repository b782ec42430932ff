// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: follow the boot from the records as they arrive,
 * for the progress line, the hang watchdog and the verdict.  The tracking
 * itself is libhtrace's struct htr_boot (the model's too, so the trace's
 * verdict and the exit status agree); this wraps it with the two decoders
 * the collector needs and the arrival bookkeeping.
 *
 * Urgent records (and those from before the rings) reach the host twice:
 * in a ring and, byte for byte, through the doorbell, in either order.
 * htr_boot_event() is idempotent for that; the record count is not, so a
 * doorbell record whose CPU and sequence number a ring also carried is a
 * copy, counted once.  The rings deliver each CPU's records in sequence
 * order, so a CPU's ring record is known by the range of sequence numbers
 * drained and the gaps in it; doorbell keys are remembered in a bounded
 * set until their ring record comes.  Everything here is guest data: a
 * hostile guest can at worst skew the count.
 */
#include <stdlib.h>
#include <string.h>

#include "collector.h"

#define DB_KEYS_BITS	16	/* doorbell keys remembered: 1 << 16 slots */
#define DB_KEYS_SLOTS	(1U << DB_KEYS_BITS)
#define DB_KEYS_MAX	(DB_KEYS_SLOTS / 4 * 3)	/* fill limit: then count copies */
#define KEY_USED	(1ULL << 63)	/* a slot's mark: cpu is 16 bits */
#define RING_GAPS	8	/* per CPU: gaps in the rings' sequence numbers kept */

/**
 * struct ring_seen - the sequence numbers one CPU's ring carried so far
 * @any:      a record came
 * @lo:       the first one's
 * @hi:       the last one's
 * @gap_lo:   starts of ranges between @lo and @hi the ring did not carry
 *            (the RING_GAPS most recent)
 * @gap_hi:   their ends
 * @ngaps:    ranges held
 * @gap_next: where the next one goes
 */
struct ring_seen {
	bool any;
	uint32_t lo;
	uint32_t hi;
	uint32_t gap_lo[RING_GAPS];
	uint32_t gap_hi[RING_GAPS];
	unsigned int ngaps;
	unsigned int gap_next;
};

/**
 * boot_state_init() - nothing seen yet
 * @s: the state
 *
 * Return: 0 or an HTR_E_* code.
 */
int boot_state_init(struct boot_state *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	htr_boot_init(&s->b);
	s->last_progress = now_ns();
	s->db_keys = calloc(DB_KEYS_SLOTS, sizeof(*s->db_keys));
	s->rings = calloc(HT_MAX_RINGS, sizeof(*s->rings));
	if (!s->db_keys || !s->rings) {
		err = HTR_E_NOMEM;
		goto out_free;
	}
	err = htr_decoder_init(&s->dec_ring, HT_MAX_RINGS);
	if (err)
		goto out_free;
	err = htr_decoder_init(&s->dec_port, HT_MAX_RINGS);
	if (err) {
		htr_decoder_free(&s->dec_ring);
		goto out_free;
	}
	return 0;

out_free:
	free(s->db_keys);
	free(s->rings);
	s->db_keys = NULL;
	s->rings = NULL;
	return err;
}

/**
 * boot_state_free() - release the decoders and the copy bookkeeping
 * @s: the state
 */
void boot_state_free(struct boot_state *s)
{
	htr_decoder_free(&s->dec_ring);
	htr_decoder_free(&s->dec_port);
	free(s->db_keys);
	free(s->rings);
	s->db_keys = NULL;
	s->rings = NULL;
}

/* db_slot() - the slot of @key in the doorbell key set, or the free one it would take */
static uint64_t *db_slot(struct boot_state *s, uint64_t key)
{
	uint64_t i = (key * 0x9e3779b97f4a7c15ULL) >> (64 - DB_KEYS_BITS);

	while (s->db_keys[i] && s->db_keys[i] != key)
		i = (i + 1) & (DB_KEYS_SLOTS - 1);
	return &s->db_keys[i];
}

/* serial_le() - @a <= @b in sequence-number arithmetic (it wraps at 2^32) */
static bool serial_le(uint32_t a, uint32_t b)
{
	return (int32_t)(b - a) >= 0;
}

/* ring_carried() - whether the ring of @g carried sequence number @seq */
static bool ring_carried(const struct ring_seen *g, uint32_t seq)
{
	unsigned int i;

	if (!g->any || !serial_le(g->lo, seq) || !serial_le(seq, g->hi))
		return false;
	for (i = 0; i < g->ngaps; i++)
		if (serial_le(g->gap_lo[i], seq) && serial_le(seq, g->gap_hi[i]))
			return false;
	return true;
}

/* ring_note() - the ring of @g carried @seq: extend the range, note a gap */
static void ring_note(struct ring_seen *g, uint32_t seq)
{
	if (!g->any) {
		g->any = true;
		g->lo = g->hi = seq;
		return;
	}
	if (serial_le(seq, g->hi))
		return;		/* out of order or repeated: the decoder says so */
	if (seq - g->hi > 1) {
		g->gap_lo[g->gap_next] = g->hi + 1;
		g->gap_hi[g->gap_next] = seq - 1;
		g->gap_next = (g->gap_next + 1) % RING_GAPS;
		if (g->ngaps < RING_GAPS)
			g->ngaps++;
	}
	g->hi = seq;
}

/* is_copy() - whether @rec is a record the other channel already brought */
static bool is_copy(struct boot_state *s, const struct ht_record *rec, bool doorbell)
{
	unsigned int cpu = ht_info_cpu(rec->info);
	uint32_t seq = ht_info_seq(rec->info);
	uint64_t key = KEY_USED | (uint64_t)cpu << 32 | seq, *slot;

	if (cpu >= HT_MAX_RINGS)
		return false;
	slot = db_slot(s, key);
	if (!doorbell) {
		ring_note(&s->rings[cpu], seq);
		return *slot == key;
	}
	if (*slot == key || ring_carried(&s->rings[cpu], seq))
		return true;
	if (s->ndb_keys < DB_KEYS_MAX) {
		*slot = key;
		s->ndb_keys++;
	}
	return false;
}

/**
 * boot_state_feed() - take records from a ring, the early buffer or, with
 * @doorbell, from the port or a hypercall
 * @s:        the state
 * @rec:      the records (untrusted guest data)
 * @n:        how many
 * @doorbell: they came through a doorbell (decoded without sequence checks)
 * @now:      CLOCK_MONOTONIC ns of their arrival
 */
void boot_state_feed(struct boot_state *s, const struct ht_record *rec,
		     unsigned int n, bool doorbell, uint64_t now)
{
	struct htr_decoder *d = doorbell ? &s->dec_port : &s->dec_ring;
	struct htr_event out[2];
	unsigned int i;
	int k, got;

	for (i = 0; i < n; i++) {
		unsigned int type = ht_info_type(rec[i].info);

		/*
		 * A hung guest idles: its idle loop's records are no
		 * progress, nor are the hint reports (VCPU_PCPU) its idle
		 * vCPU makes each time its thread wakes on another host CPU
		 */
		if (type != HT_EV_IDLE_BEGIN && type != HT_EV_IDLE_END &&
		    type != HT_EV_VCPU_PCPU)
			s->last_progress = now;
		if (is_copy(s, &rec[i], doorbell))
			s->copies++;
		else
			s->records++;
		got = htr_decode(d, &rec[i], out);
		for (k = 0; k < got; k++) {
			if (out[k].type == HT_EV_DECOMP_END)
				s->decomp_done = true;
			htr_boot_event(&s->b, &out[k]);
		}
	}
}

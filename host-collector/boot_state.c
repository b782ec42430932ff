// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: follow the boot from the records as they arrive,
 * for the progress line, the hang watchdog and the verdict.  The tracking
 * itself is libhtrace's struct htr_boot (the model's too, so the trace's
 * verdict and the exit status agree); this wraps it with the two decoders
 * the collector needs and the arrival bookkeeping.  Doorbell copies of ring
 * records come through here twice; htr_boot_event() is idempotent for
 * that.
 */
#include <string.h>

#include "collector.h"

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
	err = htr_decoder_init(&s->dec_ring, HT_MAX_RINGS);
	if (err)
		return err;
	err = htr_decoder_init(&s->dec_port, HT_MAX_RINGS);
	if (err)
		htr_decoder_free(&s->dec_ring);
	return err;
}

/**
 * boot_state_free() - release the decoders
 * @s: the state
 */
void boot_state_free(struct boot_state *s)
{
	htr_decoder_free(&s->dec_ring);
	htr_decoder_free(&s->dec_port);
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

	if (n)
		s->last_progress = now;
	s->records += n;
	for (i = 0; i < n; i++) {
		got = htr_decode(d, &rec[i], out);
		for (k = 0; k < got; k++) {
			if (out[k].type == HT_EV_DECOMP_END)
				s->decomp_done = true;
			htr_boot_event(&s->b, &out[k]);
		}
	}
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: follow the boot from the records as they arrive,
 * for the progress line, the hang watchdog and the verdict.  Doorbell
 * copies of ring records come through here twice; everything below is
 * idempotent for that.
 */
#include <string.h>

#include "collector.h"

/* boot_state_init() - nothing seen yet; 0 or an HTR_E_* code */
int boot_state_init(struct boot_state *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->level = -1;
	s->last_progress = now_ns();
	err = htr_decoder_init(&s->dec_ring, HT_MAX_RINGS);
	if (err)
		return err;
	err = htr_decoder_init(&s->dec_port, HT_MAX_RINGS);
	if (err)
		htr_decoder_free(&s->dec_ring);
	return err;
}

/* boot_state_free() - release the decoders */
void boot_state_free(struct boot_state *s)
{
	htr_decoder_free(&s->dec_ring);
	htr_decoder_free(&s->dec_port);
}

/* apply_event() - what one decoded event tells about the boot */
static void apply_event(struct boot_state *s, const struct htr_event *e)
{
	if (e->type != HT_EV_SETUP_ENTRY && e->type != HT_EV_DECOMP_BEGIN)
		s->kernel_started = true;
	switch (e->type) {
	case HT_EV_ANNOUNCE:
		s->area_gpa = e->a0;
		break;
	case HT_EV_PHASE_BEGIN:
		s->phase = (unsigned int)e->a0;
		break;
	case HT_EV_LEVEL_BEGIN:
		s->level = (int)e->a0;
		break;
	case HT_EV_INITCALL_BEGIN:
		s->initcall = e->a0;
		break;
	case HT_EV_INITCALL_END:
		if (s->initcall == e->a0) {
			s->initcall = 0;
			s->initcalls++;
		}
		break;
	case HT_EV_BOOT_DONE:
		s->booted = true;
		break;
	case HT_EV_MACHINE_CALL:
		s->machine_call = true;
		break;
	case HT_EV_OOPS:
		if (!s->oopsed && !s->panicked)
			memcpy(s->panic_msg, e->str, e->str_len + 1);
		s->oopsed = true;
		break;
	case HT_EV_PANIC:
		if (!s->panicked) {
			memcpy(s->panic_msg, e->str, e->str_len + 1);
			s->panic_initcall = e->a0;
		}
		s->panicked = true;
		break;
	}
}

/*
 * boot_state_feed() - take @n records from a ring/early buffer or, with
 * @doorbell, from the port or a hypercall
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
		for (k = 0; k < got; k++)
			apply_event(s, &out[k]);
	}
}

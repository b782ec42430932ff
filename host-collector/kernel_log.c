// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: the kernel's log, read from guest RAM once the
 * run is over (after a power-off, a panic, a hang's final snapshot or
 * QEMU's death: the RAM file outlives QEMU), into one HTF_LOG chunk.  The
 * guest needs no console for this: it said where its printk ring buffer
 * is (HT_EV_PRINTK, ht_ctl.printk_phys), or a scan of its RAM finds the
 * description by its magic.  libhtrace (printk.c) does the validating.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "printk.h"
#include "record.h"

/*
 * printk_hint() - where the guest said its log is: the last HT_EV_PRINTK,
 * else the control area's printk_phys as it is in RAM now, else 0
 */
static uint64_t printk_hint(const struct run *r)
{
	uint64_t v = 0;
	size_t off;

	if (r->st.b.printk_gpa)
		return r->st.b.printk_gpa;
	if (!r->shm.found)
		return 0;
	/* the area was validated to lie inside the mapping at open */
	off = r->shm.area.off + offsetof(struct ht_ctl, printk_phys);
	memcpy(&v, r->shm.map + off, sizeof(v));
	return v;
}

/**
 * record_log() - read the kernel log from guest RAM into the trace
 * @r: the recording, its final drain done (the RAM file mapped if it exists)
 *
 * Writes an HTF_LOG chunk, or a "log_unavailable" host event saying why
 * there is none.
 */
void record_log(struct run *r)
{
	struct htr_log log;
	unsigned char *buf;
	json_t *o;
	size_t len;
	int err;

	if (!r->shm.map) {
		o = json_object();
		json_object_set_new(o, "reason", json_string("guest RAM is not readable"));
		host_event(r, "log_unavailable", o);
		return;
	}
	htr_log_init(&log);
	err = htr_log_find(&log, r->shm.map, r->shm.size, printk_hint(r));
	if (err == HTR_OK)
		err = htr_log_encode(&log, HTF_MAX_PAYLOAD, &buf, &len);
	if (err) {
		o = json_object();
		json_object_set_new(o, "reason", json_string(log.why ? log.why :
							      htr_strerror(err)));
		host_event(r, "log_unavailable", o);
		goto out_free_log;
	}
	err = htf_append(&r->w, HTF_LOG, HTF_SRC_NONE, now_ns(), buf, (uint32_t)len);
	free(buf);
	if (err && !r->w.error)
		coll_err("cannot write the kernel log into the trace: %s\n", strerror(-err));
out_free_log:
	htr_log_free(&log);
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: read a collector trace into the model in one pass: the
 * metadata, the records of every source, the clock samples, the loss
 * counters and the END chunk; drop doorbell copies of ring records by
 * identity; fit the guest TSC to the host's clock.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "model.h"
#include "model_internal.h"
#include "tracefile.h"

/**
 * struct loader - what one pass over a trace gathers besides the events
 * @meta:     the first METADATA chunk, parsed
 * @end:      the last END chunk, parsed
 * @loss:     the last LOSS chunk's payload (parsed once, at the end)
 * @loss_len: its length
 * @log:      the last LOG chunk's payload (decoded once, at the end)
 * @log_len:  its length
 * @door:     doorbell records, in arrival order, decoded after the pass
 * @ndoor:    how many
 * @door_cap: room in @door
 * @clk:      clock samples
 * @nclk:     how many
 * @clk_cap:  room in @clk
 * @sched:    host scheduler events, in trace order
 * @nsched:   how many
 * @sched_cap: room in @sched
 */
struct loader {
	json_t *meta;
	json_t *end;
	const unsigned char *loss;
	uint32_t loss_len;
	const unsigned char *log;
	uint32_t log_len;
	struct ht_record *door;
	size_t ndoor;
	size_t door_cap;
	struct htf_clock_sample *clk;
	size_t nclk;
	size_t clk_cap;
	struct htf_sched_event *sched;
	size_t nsched;
	size_t sched_cap;
};

/* set_err() - a message for the caller to report */
static int set_err(char *err, size_t len, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* grow() - room for one more element in a growable array; 0 or -ENOMEM */
static int grow(void **p, size_t *cap, size_t nr, size_t size)
{
	size_t n;
	void *q;

	if (nr < *cap)
		return 0;
	n = *cap ? *cap * 2 : 256;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* take_records() - decode ring records now; keep doorbell records for later */
static int take_records(struct boot_model *m, struct loader *ld,
			const struct htf_chunk *c)
{
	bool ring = c->source == HTF_SRC_RING || c->source == HTF_SRC_EARLY;
	struct ht_record rec;
	size_t i;

	for (i = 0; i + HT_RECORD_SIZE <= c->len; i += HT_RECORD_SIZE) {
		memcpy(&rec, c->payload + i, sizeof(rec));
		if (ring) {
			if (ev_decode_rec(&m->ev, &rec, 0))
				return -ENOMEM;
			continue;
		}
		if (grow((void **)&ld->door, &ld->door_cap, ld->ndoor, sizeof(rec)))
			return -ENOMEM;
		ld->door[ld->ndoor++] = rec;
	}
	return 0;
}

/* take_clock() - the samples of an HTF_CLOCK chunk */
static int take_clock(struct loader *ld, const struct htf_chunk *c)
{
	size_t i;

	for (i = 0; i + sizeof(struct htf_clock_sample) <= c->len;
	     i += sizeof(struct htf_clock_sample)) {
		if (grow((void **)&ld->clk, &ld->clk_cap, ld->nclk, sizeof(*ld->clk)))
			return -ENOMEM;
		memcpy(&ld->clk[ld->nclk++], c->payload + i, sizeof(*ld->clk));
	}
	return 0;
}

/*
 * take_sched() - the events of an HTF_SCHED chunk; bytes that make no
 * whole event are counted bad (in events)
 */
static int take_sched(struct boot_model *m, struct loader *ld, const struct htf_chunk *c)
{
	size_t i, sz = sizeof(struct htf_sched_event);

	for (i = 0; i + sz <= c->len; i += sz) {
		if (grow((void **)&ld->sched, &ld->sched_cap, ld->nsched, sz))
			return -ENOMEM;
		memcpy(&ld->sched[ld->nsched++], c->payload + i, sz);
	}
	if (c->len % sz)
		m->sched.bad++;
	return 0;
}

/* take_legacy_sync() - a clock_sync host event of older collectors, as a sample */
static int take_legacy_sync(struct loader *ld, const struct htf_chunk *c)
{
	struct htf_clock_sample s = { .method = HTF_CLOCK_DOORBELL };
	json_t *o;

	if (!memmem(c->payload, c->len, "\"clock_sync\"", 12))
		return 0;
	o = json_loadb((const char *)c->payload, c->len, 0, NULL);
	if (o && !strcmp(json_string_value(json_object_get(o, "event")) ?: "", "clock_sync")) {
		s.guest_tsc = (uint64_t)json_integer_value(json_object_get(o, "guest_tsc"));
		s.host_ns = (uint64_t)json_integer_value(json_object_get(o, "host_ns"));
	}
	json_decref(o);
	if (!s.host_ns)
		return 0;
	if (grow((void **)&ld->clk, &ld->clk_cap, ld->nclk, sizeof(*ld->clk)))
		return -ENOMEM;
	ld->clk[ld->nclk++] = s;
	return 0;
}

/* read_chunks() - the one pass over the trace file */
static int read_chunks(struct boot_model *m, struct loader *ld,
		       struct htf_reader *r)
{
	struct htf_chunk c;
	int err = 0;

	while (!err && htf_next(r, &c) == 1) {
		switch (c.kind) {
		case HTF_METADATA:
			if (!ld->meta)
				ld->meta = json_loadb((const char *)c.payload, c.len, 0, NULL);
			break;
		case HTF_END:
			json_decref(ld->end);
			ld->end = json_loadb((const char *)c.payload, c.len, 0, NULL);
			break;
		case HTF_LOSS:
			ld->loss = c.payload;
			ld->loss_len = c.len;
			break;
		case HTF_LOG:
			ld->log = c.payload;
			ld->log_len = c.len;
			break;
		case HTF_RECORDS:
			err = take_records(m, ld, &c);
			break;
		case HTF_CLOCK:
			err = take_clock(ld, &c);
			break;
		case HTF_SCHED:
			err = take_sched(m, ld, &c);
			break;
		case HTF_HOST_EVENT:
			model_forensics_take(&m->forensics, c.payload, c.len);
			model_sched_unavailable(m, c.payload, c.len);
			model_hints_host_event(m, c.payload, c.len);
			err = take_legacy_sync(ld, &c);
			break;
		}
	}
	m->loss.torn_bytes = r->torn;
	m->loss.torn_reason = r->torn_reason;
	return err;
}

/* by_identity() - qsort/bsearch order of events: CPU, sequence number, TSC */
static int by_identity(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->tsc < y->tsc ? -1 : x->tsc > y->tsc;
}

/*
 * add_doorbell() - decode the doorbell records and add the events the
 * rings did not carry: a copy has the ring event's CPU, sequence number
 * and TSC (the guest sends it with the same ones)
 */
static int add_doorbell(struct boot_model *m, struct loader *ld)
{
	struct ev_list door = { 0 };
	size_t nring = m->ev.nr, i;
	bool *copy = NULL;
	int err = -ENOMEM;

	if (!ld->ndoor)
		return 0;
	if (htr_decoder_init(&door.dec, HT_MAX_RINGS))
		return -ENOMEM;
	for (i = 0; i < ld->ndoor; i++)
		if (ev_decode_rec(&door, &ld->door[i], 0))
			goto out_free;
	ev_flush_streams(&door);
	if (door.failed)
		goto out_free;
	m->loss.bad += door.dec.bad;
	if (!door.nr) {
		err = 0;
		goto out_free;
	}
	copy = calloc(door.nr + 1, sizeof(*copy));
	if (!copy)
		goto out_free;
	qsort(door.ev, door.nr, sizeof(*door.ev), by_identity);
	for (i = 0; i < nring; i++) {
		const struct ev *hit = bsearch(&m->ev.ev[i], door.ev, door.nr,
					       sizeof(*door.ev), by_identity);

		/*
		 * several doorbell copies of one event: mark the whole run of
		 * them once (a hostile guest repeating one identity must not
		 * make this quadratic)
		 */
		if (!hit || copy[hit - door.ev])
			continue;
		while (hit > door.ev && !by_identity(hit - 1, &m->ev.ev[i]))
			hit--;
		for (; hit < door.ev + door.nr && !by_identity(hit, &m->ev.ev[i]); hit++)
			copy[hit - door.ev] = true;
	}
	for (i = 0; i < door.nr; i++) {
		struct htr_event e = {
			.tsc = door.ev[i].tsc, .type = door.ev[i].type,
			.cpu = door.ev[i].cpu, .seq = door.ev[i].seq,
			.flags = door.ev[i].flags, .a0 = door.ev[i].a0,
			.a1 = door.ev[i].a1,
		};

		if (copy[i]) {
			m->doorbell_copies++;
			continue;
		}
		e.str_len = door.ev[i].str_len;
		memcpy(e.str, door.ev[i].str, e.str_len + 1);
		ev_add(&m->ev, &e);
		m->doorbell_events++;
	}
	err = m->ev.failed ? -ENOMEM : 0;
out_free:
	free(copy);
	ev_list_free(&door);
	return err;
}

/* differences of host and guest time beyond this (73 years) are garbage */
#define MODEL_CLOCK_MAX_NS	(1ULL << 61)

/* cmp_i64() - qsort order of int64_t */
static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * fit_clock() - host time at the guest TSC's zero, from the samples: each
 * sample is no earlier than the moment the guest stamped, so the fit is
 * the smallest host - guest difference; the others are its residuals.
 * KVM's TSC-offset samples, where present, are exact and preferred.
 * Samples are bounded (MODEL_CLOCK_MAX_NS) so no difference overflows.
 */
static int fit_clock(struct boot_model *m, struct loader *ld)
{
	struct model_clock *k = &m->clock;
	int64_t *d, best = INT64_MAX;
	size_t i, n = 0;
	unsigned int method = 0;

	for (i = 0; i < ld->nclk; i++)
		if (ld->clk[i].method == HTF_CLOCK_KVM_OFFSET)
			method = HTF_CLOCK_KVM_OFFSET;
	d = calloc(ld->nclk + 1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (i = 0; i < ld->nclk; i++) {
		const struct htf_clock_sample *s = &ld->clk[i];
		uint64_t g = (uint64_t)((unsigned __int128)s->guest_tsc * 1000000 / m->tsc_khz);

		/* a sample from before the TSC's zero, or centuries after it, is garbage */
		if ((method && s->method != method) || s->host_ns < g ||
		    s->host_ns - g > MODEL_CLOCK_MAX_NS)
			continue;
		d[n] = (int64_t)(s->host_ns - g);
		if (d[n] < best)
			best = d[n];
		if (!method)
			k->method = s->method;
		if (s->cpu < MODEL_CLOCK_CPUS &&
		    (!k->cpu_seen[s->cpu] || d[n] < k->cpu_offset_ns[s->cpu])) {
			k->ncpus += !k->cpu_seen[s->cpu];
			k->cpu_seen[s->cpu] = true;
			k->cpu_offset_ns[s->cpu] = d[n];
		}
		n++;
	}
	k->samples = ld->nclk;
	if (method)
		k->method = method;
	if (n) {
		k->offset_ns = (uint64_t)best;
		for (i = 0; i < MODEL_CLOCK_CPUS; i++)
			if (k->cpu_seen[i])
				k->cpu_offset_ns[i] -= best;
		qsort(d, n, sizeof(*d), cmp_i64);
		k->residual_ns = (uint64_t)(d[n / 2] - best);
		k->max_residual_ns = (uint64_t)(d[n - 1] - best);
	}
	free(d);
	return 0;
}

/* place_launch() - QEMU's start-up: from its launch to the guest TSC's zero */
static void place_launch(struct boot_model *m, struct loader *ld)
{
	uint64_t launch = (uint64_t)json_integer_value(json_object_get(ld->meta, "launch_mono_ns"));
	uint64_t at = m->clock.offset_ns;

	/* virtual time is not the host's: QEMU's launch is not on its axis */
	if (m->icount[0])
		return;
	if (launch && m->clock.samples && at > launch && at - launch < 60000000000ULL) {
		m->launch_ns = at - launch;
		m->launch_known = true;
	}
}

/* read_loss() - the collector's last loss counters */
static void read_loss(struct boot_model *m, struct loader *ld)
{
	json_t *o, *r;
	size_t i;

	if (!ld->loss)
		return;
	o = json_loadb((const char *)ld->loss, ld->loss_len, 0, NULL);
	json_array_foreach(json_object_get(o, "rings"), i, r) {
		m->loss.ring_lost = htr_add_sat(m->loss.ring_lost,
				(uint64_t)json_integer_value(json_object_get(r, "lost")));
		m->loss.skipped = htr_add_sat(m->loss.skipped,
				(uint64_t)json_integer_value(json_object_get(r, "skipped")));
	}
	m->loss.orphans = (uint64_t)json_integer_value(json_object_get(o, "orphans"));
	m->loss.probe = (uint64_t)json_integer_value(json_object_get(o, "probe_dropped"));
	m->sched.missed = (uint64_t)json_integer_value(json_object_get(o, "sched_missed"));
	json_decref(o);
}

/*
 * read_log() - the kernel log the collector read from guest RAM; a bad
 * chunk keeps the records before the fault and says what was wrong
 */
static void read_log(struct boot_model *m, struct loader *ld)
{
	if (!ld->log)
		return;
	m->klog_found = true;
	if (htr_log_decode(&m->klog, ld->log, ld->log_len))
		m->klog_error = m->klog.why;
}

/*
 * tsc_rate() - the rate of the guest's TSC.  Under TCG on the host's time
 * QEMU's RDTSC reads the host's TSC, so the host's rate (the collector's
 * measurement against CLOCK_MONOTONIC, the clock samples' clock) is the
 * guest's; the guest's own calibration, against an emulated PIT that the
 * host may preempt, can be far off (955 MHz for a 2596 MHz TSC, in a
 * loaded boot here; 0.08 % in a quiet one, 1.6 ms over a boot).  Under
 * KVM (TSC scaling possible) and under icount (a virtual TSC) the
 * guest's word stands; without it, the host's rate is all there is.
 */
static int tsc_rate(struct boot_model *m, struct loader *ld, char *err, size_t len)
{
	uint64_t host = (uint64_t)json_integer_value(json_object_get(ld->meta, "host_tsc_khz"));
	size_t i;

	if (host >= 100000000)
		host = 0;
	for (i = 0; i < m->ev.nr && !m->guest_tsc_khz; i++)
		if (m->ev.ev[i].type == HT_EV_TSC_KHZ && m->ev.ev[i].a0 &&
		    m->ev.ev[i].a0 < 100000000)
			m->guest_tsc_khz = m->ev.ev[i].a0;
	m->tsc_khz = m->guest_tsc_khz;
	if (host && (!m->tsc_khz || (!strcmp(m->accel, "tcg") && !m->icount[0]))) {
		m->tsc_khz = host;
		m->tsc_from_host = true;
	}
	if (m->tsc_khz)
		return 0;
	return set_err(err, len, -EINVAL,
		       "no TSC rate in the trace (neither the guest's nor the host's): "
		       "cannot place events in time");
}

/* load_symbols() - vmlinux, System.map, or what the metadata names */
static void load_symbols(struct boot_model *m, const struct model_opts *o,
			 json_t *meta)
{
	const char *meta_vmlinux = json_string_value(json_object_get(meta, "vmlinux"));
	size_t i;

	if (o->vmlinux && !htr_syms_load_elf(&m->syms, o->vmlinux))
		goto kaslr;
	if (o->system_map && !htr_syms_load_map(&m->syms, o->system_map))
		goto kaslr;
	if (!o->vmlinux && !o->system_map && !o->no_trace_symbols && meta_vmlinux &&
	    !access(meta_vmlinux, R_OK))
		htr_syms_load_elf(&m->syms, meta_vmlinux);
kaslr:
	for (i = 0; i < m->ev.nr; i++)
		if (m->ev.ev[i].type == HT_EV_KASLR)
			m->syms.kaslr = m->ev.ev[i].a0;
}

/*
 * read_clock() - real or virtual time: the collector's "clock" (--clock
 * icount), or an -icount of the user's on QEMU's command line
 */
static void read_clock(struct boot_model *m, struct loader *ld)
{
	const char *icount = json_string_value(json_object_get(ld->meta, "icount")), *rr;
	json_t *av = json_object_get(ld->meta, "qemu_argv");
	size_t i;

	m->icount[0] = '\0';
	for (i = 0; !icount && i + 1 < json_array_size(av); i++)
		if (!strcmp(json_string_value(json_array_get(av, i)) ?: "", "-icount"))
			icount = json_string_value(json_array_get(av, i + 1));
	if (icount)
		snprintf(m->icount, sizeof(m->icount), "%s", icount[0] ? icount : "?");
	/* the collector's --record or --replay: its words only, never the trace's */
	rr = json_string_value(json_object_get(ld->meta, "rr"));
	snprintf(m->rr, sizeof(m->rr), "%s", rr && (!strcmp(rr, "record") || !strcmp(rr, "replay")) ?
		 rr : "");
}

/* read_meta() - accelerator, kernel, clock and the collector's end, from the JSON */
static void read_meta(struct boot_model *m, struct loader *ld)
{
	read_clock(m, ld);
	snprintf(m->accel, sizeof(m->accel), "%s",
		 json_string_value(json_object_get(ld->meta, "accel")) ?: "unknown");
	snprintf(m->kernel, sizeof(m->kernel), "%s",
		 json_string_value(json_object_get(ld->meta, "kernel")) ?: "");
	m->ended = ld->end != NULL;
	m->exit_status = ld->end ?
		(int)json_integer_value(json_object_get(ld->end, "exit_status")) : -1;
}

/* end_facts() - what the collector's END chunk says only the host knew */
static void end_facts(const struct boot_model *m, struct loader *ld,
		      struct htr_host_facts *h, const char **reason)
{
	enum htr_verdict v = htr_verdict_parse(json_string_value(json_object_get(ld->end,
									     "verdict")));

	/*
	 * Traces of older collectors have only the exit status, whose 5 was
	 * also a kernel that never reported in: the events decide that.
	 */
	if (v == HTR_VERDICT_NR && m->exit_status == HTR_EXIT_HANG)
		v = HTR_VERDICT_HANG;
	h->ended = m->ended;
	h->hang = v == HTR_VERDICT_HANG;
	h->reset = v == HTR_VERDICT_CRASH;
	*reason = json_string_value(json_object_get(ld->end, "reason"));
}

/* sorted() - the events are in time order already (a check is cheaper than a sort) */
static bool sorted(const struct ev_list *l)
{
	size_t i;

	for (i = 1; i < l->nr; i++)
		if (ev_by_time(&l->ev[i - 1], &l->ev[i]) > 0)
			return false;
	return true;
}

/* loader_free() - release what the pass gathered */
static void loader_free(struct loader *ld)
{
	json_decref(ld->meta);
	json_decref(ld->end);
	free(ld->door);
	free(ld->clk);
	free(ld->sched);
}

/**
 * model_load_mem() - build the model of a collector trace held in memory
 * @m:      filled in; release with model_free() (also after a failure)
 * @data:   the trace file's bytes
 * @size:   how many
 * @o:      symbols and what to derive
 * @err:    where a message for the user goes on failure
 * @errlen: its size
 *
 * Reads the trace once.  A torn tail is not an error: what came before it
 * is loaded and @m->loss says how much was dropped.
 *
 * Return: 0, or -EINVAL (not a trace, a newer ABI, no TSC rate), -ENOMEM;
 * @err says which.
 */
int model_load_mem(struct boot_model *m, const void *data, size_t size,
		   const struct model_opts *o, char *err, size_t errlen)
{
	struct loader ld = { 0 };
	struct htf_reader r;
	const char *reason = NULL;
	struct htr_host_facts host = { 0 };
	int ret;

	memset(m, 0, sizeof(*m));
	htr_boot_init(&m->boot);
	m->exit_status = -1;
	ret = htf_open_mem(&r, data, size);
	if (ret)
		return set_err(err, errlen, -EINVAL, "not a Hypertrace trace file: %s "
			       "(record one with hypertrace-collector; a guest RAM file is "
			       "read with 'hypertrace dump')", htr_strerror(ret));
	ret = htr_decoder_init(&m->ev.dec, HT_MAX_RINGS);
	if (!ret)
		ret = read_chunks(m, &ld, &r);
	if (!ret) {
		ev_flush_streams(&m->ev);
		ret = m->ev.failed ? -ENOMEM : add_doorbell(m, &ld);
	}
	if (ret) {
		ret = set_err(err, errlen, -ENOMEM, "out of memory reading the trace");
		goto out_loader;
	}
	if (json_integer_value(json_object_get(ld.meta, "abi_version")) > HT_ABI_VERSION) {
		ret = set_err(err, errlen, -EINVAL, "recorded with Hypertrace ABI version %"
			      JSON_INTEGER_FORMAT ", newer than these tools (%d): update them",
			      json_integer_value(json_object_get(ld.meta, "abi_version")),
			      HT_ABI_VERSION);
		goto out_loader;
	}
	m->loss.seq_gaps = m->ev.dec.seq_lost;
	m->loss.bad += m->ev.dec.bad;
	if (!sorted(&m->ev))
		qsort(m->ev.ev, m->ev.nr, sizeof(m->ev.ev[0]), ev_by_time);
	read_loss(m, &ld);
	read_log(m, &ld);
	m->lost = htr_add_sat(htr_add_sat(htr_add_sat(m->loss.ring_lost, m->loss.orphans),
					  htr_add_sat(m->loss.skipped, m->loss.probe)),
			      m->loss.seq_gaps);
	read_meta(m, &ld);
	if (o->events_only)
		goto out_loader;
	ret = tsc_rate(m, &ld, err, errlen);
	if (ret)
		goto out_loader;
	ret = fit_clock(m, &ld);
	if (ret) {
		ret = set_err(err, errlen, -ENOMEM, "out of memory fitting the clock");
		goto out_loader;
	}
	place_launch(m, &ld);
	load_symbols(m, o, ld.meta);
	end_facts(m, &ld, &host, &reason);
	ret = model_derive(m, &host, reason);
	if (!ret)
		ret = model_sched_build(m, ld.sched, ld.nsched,
					(uint64_t)json_integer_value(json_object_get(ld.meta,
										     "launch_mono_ns")));
	if (ret)
		ret = set_err(err, errlen, -ENOMEM, "out of memory building the model");
out_loader:
	loader_free(&ld);
	return ret;
}

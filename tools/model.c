// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Build the boot model from a collector trace: pair begin/end events into
 * spans, name code addresses from vmlinux or System.map, place everything
 * on one clock, and read the collector's verdict.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "model.h"
#include "tracefile.h"

static const char *const phase_names[] = {
	[HT_PHASE_SETUP_ARCH] = "setup_arch",
	[HT_PHASE_MM_INIT] = "mm_init",
	[HT_PHASE_SCHED_INIT] = "sched_init",
	[HT_PHASE_IRQ_INIT] = "irq_init",
	[HT_PHASE_TIME_INIT] = "time_init",
	[HT_PHASE_CONSOLE_INIT] = "console_init",
	[HT_PHASE_REST_INIT] = "rest_init",
	[HT_PHASE_SMP_INIT] = "smp_init",
	[HT_PHASE_DO_BASIC_SETUP] = "do_basic_setup",
	[HT_PHASE_ASYNC_SYNC] = "async_synchronize",
	[HT_PHASE_FREE_INITMEM] = "free_initmem",
	[HT_PHASE_MARK_RODATA_RO] = "mark_rodata_ro",
	[HT_PHASE_RUN_INIT] = "run_init",
	[HT_PHASE_REBOOT_NOTIFIERS] = "reboot notifiers",
	[HT_PHASE_DEVICE_SHUTDOWN] = "device shutdown",
	[HT_PHASE_SYSCORE_SHUTDOWN] = "syscore shutdown",
};

/* level_name() - the kernel's name of a boot level */
const char *level_name(int level)
{
	static const char *const names[] = {
		"pure", "core", "postcore", "arch", "subsys", "fs", "device", "late",
	};

	if (level >= 0 && level < 8)
		return names[level];
	switch (level) {
	case HT_LEVEL_EARLY:
		return "early";
	case HT_LEVEL_CONSOLE:
		return "console";
	case HT_LEVEL_SECURITY:
		return "security";
	case HT_LEVEL_MODULE:
		return "module";
	}
	if (level >= HT_LEVEL_SYNC && level < HT_LEVEL_SYNC + 8)
		return "sync";
	return "?";
}

/* phase_name() - name of an enum ht_phase value */
static const char *phase_name(uint64_t id)
{
	if (id < sizeof(phase_names) / sizeof(phase_names[0]) && phase_names[id])
		return phase_names[id];
	return "phase";
}

/* span_add() - append a span; its name is copied; NULL when out of memory */
static struct span *span_add(struct span_list *l, const char *name)
{
	struct span *s;

	if (l->nr == l->alloc) {
		size_t n = l->alloc ? l->alloc * 2 : 64;
		struct span *p = realloc(l->s, n * sizeof(*p));

		if (!p)
			return NULL;
		l->s = p;
		l->alloc = n;
	}
	s = &l->s[l->nr];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name ? name : "");
	if (!s->name)
		return NULL;
	s->level = -1;
	l->nr++;
	return s;
}

/* span_list_free() - release a list */
static void span_list_free(struct span_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		free(l->s[i].name);
	free(l->s);
	memset(l, 0, sizeof(*l));
}

/* find_open() - the last open span of @l with @addr (0: any name match) */
static struct span *find_open(struct span_list *l, uint64_t addr, const char *name)
{
	size_t i = l->nr;

	while (i--) {
		struct span *s = &l->s[i];

		if (s->open && (addr ? s->addr == addr : !strcmp(s->name, name)))
			return s;
	}
	return NULL;
}

/* ns() - guest TSC to nanoseconds since QEMU was launched */
static uint64_t ns(const struct boot_model *m, uint64_t tsc)
{
	return m->launch_ns + (uint64_t)((unsigned __int128)tsc * 1000000 / m->tsc_khz);
}

/* fn_name() - a code address as a name, or the address in hex */
static const char *fn_name(const struct boot_model *m, uint64_t addr, char *buf,
			   size_t len)
{
	const char *name = htr_syms_lookup(&m->syms, addr, NULL);

	if (name)
		return name;
	snprintf(buf, len, "%#" PRIx64, addr);
	return buf;
}

/* open_span() - begin a span of @l at @e */
static struct span *open_span(struct boot_model *m, struct span_list *l,
			      const struct ev *e, const char *name,
			      uint64_t addr)
{
	struct span *s = span_add(l, name);

	if (!s)
		return NULL;
	s->addr = addr;
	s->cpu = e->cpu;
	s->start_ns = ns(m, e->tsc);
	s->open = true;
	return s;
}

/* close_span() - end @s at @e */
static void close_span(struct boot_model *m, struct span *s,
		       const struct ev *e, int64_t ret)
{
	uint64_t t = ns(m, e->tsc);

	if (!s)
		return;
	s->dur_ns = t > s->start_ns ? t - s->start_ns : 0;
	s->ret = ret;
	s->open = false;
}

/* pre_kernel() - the phases before start_kernel(), from milestones */
static int pre_kernel(struct boot_model *m)
{
	static const struct { unsigned int from, to; const char *name; } steps[] = {
		{ 0, HT_EV_SETUP_ENTRY, "firmware and loader" },
		{ HT_EV_SETUP_ENTRY, HT_EV_DECOMP_BEGIN, "setup code" },
		{ HT_EV_DECOMP_BEGIN, HT_EV_DECOMP_END, "decompressor" },
		{ HT_EV_DECOMP_END, HT_EV_START_KERNEL, "kernel entry to start_kernel" },
	};
	uint64_t at[0x110] = { 0 };
	bool seen[0x110] = { false };
	size_t i;

	for (i = 0; i < m->ev.nr; i++) {
		const struct ev *e = &m->ev.ev[i];

		if (e->type >= HT_EV_SETUP_ENTRY && e->type <= HT_EV_START_KERNEL &&
		    !seen[e->type]) {
			seen[e->type] = true;
			at[e->type] = ns(m, e->tsc);
		}
	}
	seen[0] = true;
	at[0] = m->launch_ns;
	if (m->launch_ns) {
		struct span *s = span_add(&m->phases, "QEMU start-up (host)");

		if (!s)
			return -ENOMEM;
		s->dur_ns = m->launch_ns;
	}
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct span *s;

		if (!seen[steps[i].from] || !seen[steps[i].to] ||
		    at[steps[i].to] < at[steps[i].from])
			continue;
		s = span_add(&m->phases, steps[i].name);
		if (!s)
			return -ENOMEM;
		s->start_ns = at[steps[i].from];
		s->dur_ns = at[steps[i].to] - at[steps[i].from];
	}
	return 0;
}

/* spans() - pair begin and end events into the model's lists */
static int spans(struct boot_model *m)
{
	char buf[64];
	size_t i;

	for (i = 0; i < m->ev.nr; i++) {
		const struct ev *e = &m->ev.ev[i];
		struct span *s = NULL;
		uint64_t t = ns(m, e->tsc);

		if (e->cpu + 1 > m->ncpus)
			m->ncpus = e->cpu + 1;
		if (t > m->end_ns)
			m->end_ns = t;
		switch (e->type) {
		case HT_EV_PHASE_BEGIN:
			s = open_span(m, &m->phases, e, phase_name(e->a0), 0);
			break;
		case HT_EV_PHASE_END:
			close_span(m, find_open(&m->phases, 0, phase_name(e->a0)), e, 0);
			continue;
		case HT_EV_LEVEL_BEGIN:
			s = open_span(m, &m->levels, e, level_name((int)e->a0), 0);
			if (s)
				s->level = (int)e->a0;
			break;
		case HT_EV_LEVEL_END:
			close_span(m, find_open(&m->levels, 0, level_name((int)e->a0)), e, 0);
			continue;
		case HT_EV_INITCALL_BEGIN:
			s = open_span(m, &m->initcalls, e, fn_name(m, e->a0, buf, sizeof(buf)), e->a0);
			if (s)
				s->level = (int)e->a1;
			break;
		case HT_EV_INITCALL_END:
			close_span(m, find_open(&m->initcalls, e->a0, NULL), e, (int64_t)e->a1);
			continue;
		case HT_EV_SHUTDOWN_PHASE_BEGIN:
			s = open_span(m, &m->shutdown, e, phase_name(e->a0), 0);
			if (s)
				s->kind = "phase";
			break;
		case HT_EV_SHUTDOWN_PHASE_END:
			close_span(m, find_open(&m->shutdown, 0, phase_name(e->a0)), e, 0);
			continue;
		case HT_EV_NOTIFIER_BEGIN:
			s = open_span(m, &m->shutdown, e, fn_name(m, e->a0, buf, sizeof(buf)), e->a0);
			if (s)
				s->kind = "notifier";
			break;
		case HT_EV_NOTIFIER_END:
			close_span(m, find_open(&m->shutdown, e->a0, NULL), e, (int64_t)e->a1);
			continue;
		case HT_EV_DEVICE_BEGIN:
			s = open_span(m, &m->shutdown, e, e->str, e->a0);
			if (s)
				s->kind = "device";
			break;
		case HT_EV_DEVICE_END:
			close_span(m, find_open(&m->shutdown, e->a0, NULL), e, 0);
			continue;
		case HT_EV_USER_MARKER:
			s = span_add(&m->markers, e->str);
			if (s) {
				s->start_ns = t;
				s->cpu = e->cpu;
			}
			if (!m->user_ns)
				m->user_ns = t;
			continue;
		case HT_EV_BOOT_DONE:
			if (!m->boot_ns)
				m->boot_ns = t;
			continue;
		default:
			continue;
		}
		if (!s)
			return -ENOMEM;
	}
	/* rest_init() never returns: it lasts until the boot is done */
	for (i = 0; i < m->phases.nr; i++) {
		struct span *s = &m->phases.s[i];

		if (s->open && !strcmp(s->name, "rest_init") && m->boot_ns > s->start_ns) {
			s->dur_ns = m->boot_ns - s->start_ns;
			s->open = false;
		}
	}
	return 0;
}

/* verdict() - the failure, from the collector's END chunk and the events */
static void verdict(struct boot_model *m, json_t *end)
{
	int status = end ? (int)json_integer_value(json_object_get(end, "exit_status")) : -1;
	char buf[64];
	size_t i;

	snprintf(m->fail_kind, sizeof(m->fail_kind), "none");
	for (i = 0; i < m->ev.nr; i++) {
		const struct ev *e = &m->ev.ev[i];

		if ((e->type == HT_EV_PANIC && strcmp(m->fail_kind, "panic")) ||
		    (e->type == HT_EV_OOPS && !strcmp(m->fail_kind, "none"))) {
			snprintf(m->fail_kind, sizeof(m->fail_kind), "%s",
				 e->type == HT_EV_PANIC ? "panic" : "oops");
			snprintf(m->fail_msg, sizeof(m->fail_msg), "%s", e->str);
			m->fail_ns = ns(m, e->tsc);
			if (e->type == HT_EV_PANIC && e->a0)
				snprintf(m->fail_initcall, sizeof(m->fail_initcall), "%s",
					 fn_name(m, e->a0, buf, sizeof(buf)));
		}
	}
	if (strcmp(m->fail_kind, "none"))
		return;
	if (status == 4 || status == 5 || (status < 0 && !m->boot_ns)) {
		snprintf(m->fail_kind, sizeof(m->fail_kind), "%s", status == 4 ? "hang" : "crash");
		if (end && json_is_string(json_object_get(end, "reason")))
			snprintf(m->fail_msg, sizeof(m->fail_msg), "%s",
				 json_string_value(json_object_get(end, "reason")));
		else
			snprintf(m->fail_msg, sizeof(m->fail_msg),
				 "the recording ended before the boot finished");
		m->fail_ns = m->end_ns;
	}
	for (i = m->initcalls.nr; i-- > 0;) {
		if (m->initcalls.s[i].open) {
			snprintf(m->fail_initcall, sizeof(m->fail_initcall), "%s",
				 m->initcalls.s[i].name);
			break;
		}
	}
}

/* loss() - records lost according to the collector's last LOSS chunk */
static uint64_t loss(json_t *o)
{
	json_t *rings = json_object_get(o, "rings"), *r;
	uint64_t n = (uint64_t)json_integer_value(json_object_get(o, "orphans"));
	size_t i;

	json_array_foreach(rings, i, r)
		n += (uint64_t)json_integer_value(json_object_get(r, "lost"));
	return n;
}

/* load_symbols() - vmlinux, System.map, or what the metadata names */
static void load_symbols(struct boot_model *m, const char *vmlinux,
			 const char *system_map, json_t *meta)
{
	const char *meta_vmlinux = json_string_value(json_object_get(meta, "vmlinux"));

	if (vmlinux && !htr_syms_load_elf(&m->syms, vmlinux))
		return;
	if (system_map && !htr_syms_load_map(&m->syms, system_map))
		return;
	if (!vmlinux && !system_map && meta_vmlinux && !access(meta_vmlinux, R_OK))
		htr_syms_load_elf(&m->syms, meta_vmlinux);
}

/**
 * model_load() - read a collector trace into a boot model
 * @m:          filled in; release with model_free()
 * @trace:      the trace file
 * @vmlinux:    vmlinux for names, or NULL (then the metadata's, if present)
 * @system_map: System.map for names, or NULL
 *
 * Return: 0, or a negative HTR_E_* / -errno code; a message was printed.
 */
int model_load(struct boot_model *m, const char *trace, const char *vmlinux,
	       const char *system_map)
{
	json_t *meta = NULL, *end = NULL, *lossj = NULL, *sync = NULL;
	uint64_t gaps = 0, bad = 0, torn = 0;
	const char *reason = NULL;
	struct mapped_file f;
	struct htf_reader r;
	struct htf_chunk c;
	size_t i;
	int err;

	memset(m, 0, sizeof(*m));
	if (map_file(trace, &f))
		return -ENOENT;
	err = htf_open_mem(&r, f.data, f.size);
	if (err) {
		err_msg("%s: not a Hypertrace trace file: %s (record one with "
			"hypertrace-collector; a guest RAM file is read with 'hypertrace dump')\n",
			trace, htr_strerror(err));
		goto out_unmap;
	}
	while (htf_next(&r, &c) == 1) {
		json_t **slot = c.kind == HTF_METADATA ? &meta : c.kind == HTF_END ? &end :
				c.kind == HTF_LOSS ? &lossj : NULL;
		json_t *o;

		if (c.kind == HTF_HOST_EVENT && !sync) {
			o = json_loadb((const char *)c.payload, c.len, 0, NULL);
			if (o && !strcmp(json_string_value(json_object_get(o, "event")) ?: "", "clock_sync"))
				sync = o;
			else
				json_decref(o);
			continue;
		}
		if (!slot || (*slot && c.kind == HTF_METADATA))
			continue;
		json_decref(*slot);
		*slot = json_loadb((const char *)c.payload, c.len, 0, NULL);
	}
	if (json_integer_value(json_object_get(meta, "abi_version")) > HT_ABI_VERSION) {
		err_msg("%s: recorded with Hypertrace ABI version %" JSON_INTEGER_FORMAT
			", newer than these tools (%d): update them\n", trace,
			json_integer_value(json_object_get(meta, "abi_version")), HT_ABI_VERSION);
		err = -EINVAL;
		goto out_json;
	}
	err = ev_read_trace(&m->ev, &f, &gaps, &bad, &torn, &reason);
	if (err) {
		err_msg("%s: %s\n", trace, htr_strerror(err));
		goto out_json;
	}
	qsort(m->ev.ev, m->ev.nr, sizeof(m->ev.ev[0]), ev_by_time);
	if (torn)
		err_msg("warning: %s: torn tail dropped (%" PRIu64 " bytes, %s)\n",
			trace, torn, reason);
	for (i = 0; i < m->ev.nr && !m->tsc_khz; i++)
		if (m->ev.ev[i].type == HT_EV_TSC_KHZ)
			m->tsc_khz = m->ev.ev[i].a0;
	if (!m->tsc_khz) {
		m->tsc_khz = (uint64_t)json_integer_value(json_object_get(meta, "host_tsc_khz"));
		if (m->tsc_khz)
			err_msg("warning: the guest never reported its TSC rate; using the host's\n");
	}
	if (!m->tsc_khz) {
		err_msg("%s: no TSC rate in the trace: cannot place events in time\n", trace);
		err = -EINVAL;
		goto out_json;
	}
	/*
	 * Under TCG the first doorbell record's arrival ties the guest TSC to
	 * the host's clock: the guest's zero was that arrival minus its TSC,
	 * and the launch came before that by QEMU's start-up.
	 */
	if (sync && meta) {
		uint64_t host = (uint64_t)json_integer_value(json_object_get(sync, "host_ns"));
		uint64_t tsc = (uint64_t)json_integer_value(json_object_get(sync, "guest_tsc"));
		uint64_t launch = (uint64_t)json_integer_value(json_object_get(meta, "launch_mono_ns"));
		uint64_t guest = (uint64_t)((unsigned __int128)tsc * 1000000 / m->tsc_khz);

		if (launch && host > launch + guest && host - launch - guest < 60000000000ULL)
			m->launch_ns = host - launch - guest;
	}
	load_symbols(m, vmlinux, system_map, meta);
	for (i = 0; i < m->ev.nr; i++)
		if (m->ev.ev[i].type == HT_EV_KASLR)
			m->syms.kaslr = m->ev.ev[i].a0;
	snprintf(m->accel, sizeof(m->accel), "%s",
		 json_string_value(json_object_get(meta, "accel")) ?: "unknown");
	snprintf(m->kernel, sizeof(m->kernel), "%s",
		 json_string_value(json_object_get(meta, "kernel")) ?: "");
	err = pre_kernel(m);
	if (!err)
		err = spans(m);
	if (err) {
		err_msg("out of memory\n");
		goto out_json;
	}
	verdict(m, end);
	m->verdict = htr_verdict_parse(m->fail_kind);
	m->lost = loss(lossj) + gaps;
out_json:
	json_decref(sync);
	json_decref(meta);
	json_decref(end);
	json_decref(lossj);
out_unmap:
	unmap_file(&f);
	if (err)
		model_free(m);
	return err;
}

/* span_write() - one span as a JSON object on one line */
static void span_write(FILE *f, const struct span *s, bool initcall)
{
	fputs("{\"name\":", f);
	print_json_string(f, s->name, strlen(s->name));
	fprintf(f, ",\"start_ns\":%" PRIu64 ",\"duration_ns\":%" PRIu64, s->start_ns,
		s->dur_ns);
	if (s->open)
		fputs(",\"unfinished\":true", f);
	if (initcall)
		fprintf(f, ",\"addr\":\"%#" PRIx64 "\",\"cpu\":%u,\"ret\":%" PRId64
			",\"level\":\"%s\"", s->addr, s->cpu, s->ret, level_name(s->level));
	if (s->kind)
		fprintf(f, ",\"kind\":\"%s\"", s->kind);
	fputc('}', f);
}

/* list_write() - a span list as a JSON array, one span per line */
static void list_write(FILE *f, const char *key, const struct span_list *l,
		       bool initcall)
{
	size_t i;

	fprintf(f, ",\n\"%s\":[", key);
	for (i = 0; i < l->nr; i++) {
		fputs(i ? ",\n " : "\n ", f);
		span_write(f, &l->s[i], initcall);
	}
	fputs("]", f);
}

/**
 * model_write_json() - the model as the JSON object report --json prints
 * @m: the model
 * @f: where to
 *
 * Written as it goes, not built in memory first: a boot can have half a
 * million initcalls.  Strings are escaped so that the text is also safe
 * inside an HTML <script> element (no raw <, > or &).
 *
 * Return: 0, or -EIO when writing failed.
 */
int model_write_json(const struct boot_model *m, FILE *f)
{
	fprintf(f, "{\"launch_to_vm_ns\":%" PRIu64 ",\n\"boot_ns\":%" PRIu64
		",\n\"userspace_ns\":%" PRIu64 ",\n\"end_ns\":%" PRIu64 ",\n\"accel\":",
		m->launch_ns, m->boot_ns, m->user_ns, m->end_ns);
	print_json_string(f, m->accel, strlen(m->accel));
	fprintf(f, ",\n\"cpus\":%u,\n\"tsc_khz\":%" PRIu64, m->ncpus, m->tsc_khz);
	list_write(f, "phases", &m->phases, false);
	list_write(f, "levels", &m->levels, false);
	list_write(f, "initcalls", &m->initcalls, true);
	list_write(f, "shutdown", &m->shutdown, false);
	list_write(f, "markers", &m->markers, false);
	fprintf(f, ",\n\"failure\":{\"kind\":\"%s\",\"message\":", m->fail_kind);
	print_json_string(f, m->fail_msg, strlen(m->fail_msg));
	fputs(",\"initcall\":", f);
	if (m->fail_initcall[0])
		print_json_string(f, m->fail_initcall, strlen(m->fail_initcall));
	else
		fputs("null", f);
	fprintf(f, "},\n\"lost_records\":%" PRIu64 "}\n", m->lost);
	return ferror(f) ? -EIO : 0;
}

/* model_free() - release a model */
void model_free(struct boot_model *m)
{
	ev_list_free(&m->ev);
	htr_syms_free(&m->syms);
	span_list_free(&m->phases);
	span_list_free(&m->levels);
	span_list_free(&m->initcalls);
	span_list_free(&m->shutdown);
	span_list_free(&m->markers);
	memset(m, 0, sizeof(*m));
}

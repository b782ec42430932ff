// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Async work and the critical path on traces made here, each with a known
 * answer: async spans paired by cookie across CPUs; the async_synchronize
 * phase that waited for the async work that ended last; an initcall that
 * (by the inference rule) waited for async work ending just before it;
 * untraced code between two steps that did; async work that ended early
 * and is not on the path; the kernel's own wait records, which make every
 * wait certain; each span's idle time from the idle loop's records.  Hostile traces: an end without a begin, an end
 * before its begin, a repeated cookie, an end naming another function, a
 * million spans (capped, counted, quick), and overlapping steps.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include "tap.h"
#include "tracefile.h"

#define KHZ	1000000ULL	/* 1 GHz: one TSC tick is one nanosecond */
#define US	1000ULL		/* the tests' times are in microseconds */
#define IC1	0xffffffff81000100ULL
#define IC2	0xffffffff81000200ULL
#define IC3	0xffffffff81000300ULL
#define FA	0xffffffff81000400ULL	/* async work A */
#define FB	0xffffffff81000500ULL	/* async work B */

static char path[] = "/tmp/ht-test-critical-XXXXXX";

/* a trace being built: ring records and each CPU's next sequence number */
struct tb {
	struct ht_record *ring;
	size_t nring;
	size_t alloc;
	uint32_t seq[4];
};

/* ring() - a ring record on CPU @cpu at @tsc microseconds */
static void ring(struct tb *t, unsigned int type, unsigned int cpu, uint64_t tsc,
		 uint64_t a0, uint64_t a1)
{
	struct ht_record *r;

	if (t->nring == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 256;
		t->ring = realloc(t->ring, t->alloc * sizeof(*t->ring));
		if (!t->ring)
			abort();
	}
	r = &t->ring[t->nring++];
	r->tsc = tsc * US;
	r->info = ht_info(type, 0, cpu, t->seq[cpu]++);
	r->a0 = a0;
	r->a1 = a1;
}

/* reset() - an empty trace with the TSC rate */
static void reset(struct tb *t)
{
	free(t->ring);
	memset(t, 0, sizeof(*t));
	ring(t, HT_EV_TSC_KHZ, 0, 100, KHZ, 0);
	ring(t, HT_EV_START_KERNEL, 0, 900, 0, 0);
}

/* phase() - phase @p on CPU 0 from @a to @b */
static void phase(struct tb *t, unsigned int p, uint64_t a, uint64_t b)
{
	ring(t, HT_EV_PHASE_BEGIN, 0, a, p, 0);
	ring(t, HT_EV_PHASE_END, 0, b, p, 0);
}

/* initcall() - initcall @fn of @level on CPU 0 from @a to @b */
static void initcall(struct tb *t, uint64_t fn, unsigned int level, uint64_t a, uint64_t b)
{
	ring(t, HT_EV_INITCALL_BEGIN, 0, a, fn, level);
	ring(t, HT_EV_INITCALL_END, 0, b, fn, 0);
}

/* async() - async work @fn, @cookie, on CPU 1 from @a to @b */
static void async(struct tb *t, uint64_t fn, uint64_t cookie, uint64_t a, uint64_t b)
{
	ring(t, HT_EV_ASYNC_BEGIN, 1, a, fn, cookie);
	ring(t, HT_EV_ASYNC_END, 1, b, fn, cookie);
}

/*
 * base() - setup_arch 1000-2000; do_basic_setup 3000-20000 with IC1
 * 3100-4000 (core), IC2 4100-6000 (core), IC3 6100-19000 (device);
 * async_synchronize 21000-25050; free_initmem 25100-26000; done at 27000.
 * The async work is the caller's.
 */
static void base(struct tb *t)
{
	phase(t, HT_PHASE_SETUP_ARCH, 1000, 2000);
	ring(t, HT_EV_PHASE_BEGIN, 0, 3000, HT_PHASE_DO_BASIC_SETUP, 0);
	initcall(t, IC1, HT_LEVEL_CORE, 3100, 4000);
	initcall(t, IC2, HT_LEVEL_CORE, 4100, 6000);
	initcall(t, IC3, HT_LEVEL_DEVICE, 6100, 19000);
	ring(t, HT_EV_PHASE_END, 0, 20000, HT_PHASE_DO_BASIC_SETUP, 0);
	phase(t, HT_PHASE_ASYNC_SYNC, 21000, 25050);
	phase(t, HT_PHASE_FREE_INITMEM, 25100, 26000);
	ring(t, HT_EV_BOOT_DONE, 0, 27000, 0, 0);
}

/* load() - the model of @t; 0 on success */
static int load(struct boot_model *m, const struct tb *t)
{
	static const char meta[] = "{\"tool\":\"test\",\"abi_version\":1,\"accel\":\"tcg\"}";
	static const char end[] = "{\"exit_status\":0,\"verdict\":\"none\"}";
	struct model_opts o = { 0 };
	struct htf_writer w;
	unsigned char *buf;
	char err[256] = "";
	long n;
	FILE *f;
	int ret;

	unlink(path);
	if (htf_create(&w, path))
		return -1;
	htf_append(&w, HTF_METADATA, 0, 0, meta, sizeof(meta) - 1);
	/* chunks of at most 64 KiB of records, as the collector writes them */
	for (size_t i = 0; i < t->nring; i += 2048) {
		size_t k = t->nring - i < 2048 ? t->nring - i : 2048;

		htf_append(&w, HTF_RECORDS, HTF_SRC_RING, 0, t->ring + i,
			   (uint32_t)(k * HT_RECORD_SIZE));
	}
	htf_append(&w, HTF_END, 0, 0, end, sizeof(end) - 1);
	htf_close(&w);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	ret = buf && fread(buf, 1, (size_t)n, f) == (size_t)n ? 0 : -1;
	fclose(f);
	if (!ret)
		ret = model_load_mem(m, buf, (size_t)n, &o, err, sizeof(err));
	if (ret)
		printf("# load: %s\n", err);
	free(buf);
	return ret;
}

/**
 * struct want - one expected link
 * @kind:  enum model_link_kind
 * @why:   enum model_link_why
 * @start: its start
 * @dur:   its duration on the path
 */
struct want {
	unsigned int kind;
	unsigned int why;
	uint64_t start;
	uint64_t dur;
};

/* path_is() - the critical path is exactly @w[0..@n); says what differs */
static int path_is(const struct boot_model *m, const struct want *w, size_t n, const char *what)
{
	const struct model_critical *c = &m->critical;
	size_t i;
	int good = c->nr == n;

	for (i = 0; good && i < n; i++)
		good = c->l[i].kind == w[i].kind && c->l[i].why == w[i].why &&
		       c->l[i].start_ns == w[i].start * US && c->l[i].dur_ns == w[i].dur * US;
	if (!ok(good, what))
		for (i = 0; i < c->nr; i++)
			printf("#   link %zu: %s %s %s @%llu +%llu\n", i,
			       model_link_kind_name(c->l[i].kind), model_link_why_name(c->l[i].why),
			       c->l[i].name, (unsigned long long)c->l[i].start_ns,
			       (unsigned long long)c->l[i].dur_ns);
	return good;
}

/*
 * test_sync_waits() - async A begins in IC1 (3500) and ends at 23000,
 * inside async_synchronize (2 ms before its end: the phase is a wait by
 * itself, not by the inference): the path is setup_arch, IC1 up to 3500, A,
 * async_synchronize (waited), free_initmem; B (6200-10000) ended early
 */
static void test_sync_waits(void)
{
	static const struct want w[] = {
		{ MODEL_LINK_PHASE, MODEL_WHY_SEQUENCE, 1000, 1000 },
		{ MODEL_LINK_INITCALL, MODEL_WHY_ASYNC_BEGAN, 3100, 400 },
		{ MODEL_LINK_ASYNC, MODEL_WHY_ASYNC, 3500, 19500 },
		{ MODEL_LINK_PHASE, MODEL_WHY_WAITED, 21000, 4050 },
		{ MODEL_LINK_PHASE, MODEL_WHY_SEQUENCE, 25100, 900 },
	};
	struct boot_model m;
	struct tb t = { 0 };

	reset(&t);
	base(&t);
	async(&t, FA, 1, 3500, 23000);
	async(&t, FB, 2, 6200, 10000);
	if (load(&m, &t)) {
		ok(0, "sync: loads");
		free(t.ring);
		return;
	}
	is(m.async.nr, 2, "sync: two async spans");
	ok(m.async.s[0].addr == FA && m.async.s[0].cookie == 1 && m.async.s[0].cpu == 1 &&
	   m.async.s[0].start_ns == 3500 * US && m.async.s[0].dur_ns == 19500 * US &&
	   !m.async.s[0].open, "sync: A paired by its cookie: CPU 1, 3.5 + 19.5 ms");
	ok(!m.async.unmatched_ends && !m.async.duplicate_begins && !m.async.fn_mismatches &&
	   !m.async.dropped, "sync: nothing unpaired");
	path_is(&m, w, 5, "sync: setup_arch, IC1 until A began, A, async_synchronize waited, "
		"free_initmem");
	ok(m.critical.boot_done && m.critical.end_ns == 27000 * US,
	   "sync: the path ends at BOOT_DONE");
	is(m.critical.waits, 1, "sync: one wait");
	is(m.critical.async_ns, 19500 * US, "sync: A's 19.5 ms on the path");
	/* 1000-2000, 3100-25050 (IC1, A, sync overlap once), 25100-26000 */
	is(m.critical.on_path_ns, (1000 + 21950 + 900) * US,
	   "sync: the time the links cover, once");
	model_free(&m);
	free(t.ring);
}

/*
 * test_inferred() - B (6200-18900) ends 0.1 ms before IC3 (6100-19000):
 * IC3 waited for it (inferred); A ended early, async_synchronize did not
 * wait.  The path: setup_arch, IC1, IC2, B, IC3, sync, free_initmem.
 */
static void test_inferred(void)
{
	static const struct want w[] = {
		{ MODEL_LINK_PHASE, MODEL_WHY_SEQUENCE, 1000, 1000 },
		{ MODEL_LINK_INITCALL, MODEL_WHY_SEQUENCE, 3100, 900 },
		{ MODEL_LINK_INITCALL, MODEL_WHY_SEQUENCE, 4100, 1900 },
		{ MODEL_LINK_ASYNC, MODEL_WHY_ASYNC, 6200, 12700 },
		{ MODEL_LINK_INITCALL, MODEL_WHY_WAITED_INFERRED, 6100, 12900 },
		{ MODEL_LINK_PHASE, MODEL_WHY_SEQUENCE, 21000, 4050 },
		{ MODEL_LINK_PHASE, MODEL_WHY_SEQUENCE, 25100, 900 },
	};
	struct boot_model m;
	struct tb t = { 0 };

	reset(&t);
	base(&t);
	async(&t, FA, 1, 3500, 5000);
	async(&t, FB, 2, 6200, 18900);
	if (load(&m, &t)) {
		ok(0, "inferred: loads");
		free(t.ring);
		return;
	}
	path_is(&m, w, 7, "inferred: IC3 waited for B, which ended 0.1 ms before it");
	ok(m.critical.l[4].name && m.critical.l[4].level == HT_LEVEL_DEVICE,
	   "inferred: the waiting link is IC3, level device");
	model_free(&m);
	/* B ends 3 ms before IC3: more than MODEL_WAIT_SLACK_NS, no wait */
	reset(&t);
	base(&t);
	async(&t, FB, 2, 6200, 16000);
	if (!load(&m, &t)) {
		ok(m.critical.nr == 6 && !m.critical.waits && !m.critical.async_ns,
		   "inferred: async work ending 3 ms before an initcall is not its wait");
		model_free(&m);
	}
	/*
	 * B runs through 5 of IC3's 12.9 ms and ends 0.1 ms before it: not
	 * half of it, no wait (another CPU's work ending by chance)
	 */
	reset(&t);
	base(&t);
	async(&t, FB, 2, 13900, 18900);
	if (!load(&m, &t)) {
		ok(m.critical.nr == 6 && !m.critical.waits && !m.critical.async_ns,
		   "inferred: async work through less than half of the step is not its wait");
		model_free(&m);
	}
	/* A ends 50 us before IC1 (0.9 ms): shorter than MODEL_WAIT_MIN_NS, no wait */
	reset(&t);
	base(&t);
	async(&t, FA, 1, 3050, 3950);
	if (!load(&m, &t)) {
		ok(m.critical.nr == 6 && !m.critical.waits && !m.critical.async_ns,
		   "inferred: a step shorter than 1 ms does not wait, however close the end");
		model_free(&m);
	}
	free(t.ring);
}

/*
 * test_gap() - A ends at 20950, in the untraced code between do_basic_setup
 * (its last initcall IC3 ends at 19000... the phase at 20000) and
 * async_synchronize (21000): that code waited for it
 */
static void test_gap(void)
{
	static const struct want w[] = {
		{ MODEL_LINK_PHASE, MODEL_WHY_SEQUENCE, 1000, 1000 },
		{ MODEL_LINK_INITCALL, MODEL_WHY_ASYNC_BEGAN, 3100, 400 },
		{ MODEL_LINK_ASYNC, MODEL_WHY_ASYNC, 3500, 17450 },
		{ MODEL_LINK_GAP, MODEL_WHY_WAITED_INFERRED, 19000, 2000 },
		{ MODEL_LINK_PHASE, MODEL_WHY_SEQUENCE, 21000, 4050 },
		{ MODEL_LINK_PHASE, MODEL_WHY_SEQUENCE, 25100, 900 },
	};
	struct boot_model m;
	struct tb t = { 0 };

	reset(&t);
	base(&t);
	async(&t, FA, 1, 3500, 20950);
	if (load(&m, &t)) {
		ok(0, "gap: loads");
		free(t.ring);
		return;
	}
	path_is(&m, w, 6, "gap: the untraced code after IC3 waited for A");
	model_free(&m);
	free(t.ring);
}

/* wait() - task @pid waits for the async work below @cookie from @a (CPU 0) to @b (CPU @cpu) */
static void wait(struct tb *t, uint64_t cookie, uint64_t pid, unsigned int cpu, uint64_t a,
		 uint64_t b)
{
	ring(t, HT_EV_ASYNC_WAIT_BEGIN, 0, a, cookie, pid);
	ring(t, HT_EV_ASYNC_WAIT_END, cpu, b, cookie, pid);
}

#define ALL	0x7fffffffffffffffULL	/* async_synchronize_full()'s cookie */

/*
 * test_recorded() - with wait records the kernel says what waited: IC3
 * (6100-19000) waits 7000-15500 (begun on CPU 0, woken on CPU 1) and B
 * (cookie 2) ends at 15000, 4 ms before IC3 does (too far for the
 * inference, certain all the same); async_synchronize's wait returns at
 * once (A ended long before): no wait there
 */
static void test_recorded(void)
{
	static const struct want w[] = {
		{ MODEL_LINK_PHASE, MODEL_WHY_SEQUENCE, 1000, 1000 },
		{ MODEL_LINK_INITCALL, MODEL_WHY_SEQUENCE, 3100, 900 },
		{ MODEL_LINK_INITCALL, MODEL_WHY_SEQUENCE, 4100, 1900 },
		{ MODEL_LINK_ASYNC, MODEL_WHY_ASYNC, 6200, 8800 },
		{ MODEL_LINK_INITCALL, MODEL_WHY_WAITED, 6100, 12900 },
		{ MODEL_LINK_PHASE, MODEL_WHY_SEQUENCE, 21000, 4050 },
		{ MODEL_LINK_PHASE, MODEL_WHY_SEQUENCE, 25100, 900 },
	};
	static const struct want g[] = {
		{ MODEL_LINK_PHASE, MODEL_WHY_SEQUENCE, 1000, 1000 },
		{ MODEL_LINK_INITCALL, MODEL_WHY_ASYNC_BEGAN, 3100, 400 },
		{ MODEL_LINK_ASYNC, MODEL_WHY_ASYNC, 3500, 17450 },
		{ MODEL_LINK_GAP, MODEL_WHY_WAITED, 19000, 2000 },
		{ MODEL_LINK_PHASE, MODEL_WHY_SEQUENCE, 21000, 4050 },
		{ MODEL_LINK_PHASE, MODEL_WHY_SEQUENCE, 25100, 900 },
	};
	struct boot_model m;
	struct tb t = { 0 };

	reset(&t);
	base(&t);
	async(&t, FA, 1, 3500, 5000);
	async(&t, FB, 2, 6200, 15000);
	wait(&t, 3, 1, 1, 7000, 15500);
	wait(&t, ALL, 1, 0, 21010, 21020);
	if (load(&m, &t)) {
		ok(0, "recorded: loads");
		free(t.ring);
		return;
	}
	ok(m.async.wait_events == 4 && m.async.nw == 2 && !m.async.wait_unmatched &&
	   m.async.w[0].cookie == 3 && m.async.w[0].pid == 1 && m.async.w[0].cpu == 0 &&
	   m.async.w[0].end_cpu == 1 && m.async.w[0].start_ns == 7000 * US &&
	   m.async.w[0].dur_ns == 8500 * US && !m.async.w[0].open,
	   "recorded: two waits paired by pid across CPUs");
	path_is(&m, w, 7, "recorded: IC3 waited for B, 4 ms before its end");
	ok(m.critical.recorded && m.critical.waits == 1,
	   "recorded: one wait, and the path says the waits are recorded");
	model_free(&m);

	/* a wait for the work below cookie 2 did not wait for B (cookie 2) */
	reset(&t);
	base(&t);
	async(&t, FB, 2, 6200, 15000);
	wait(&t, 2, 1, 0, 7000, 15500);
	if (!load(&m, &t)) {
		ok(m.critical.nr == 6 && !m.critical.waits && !m.critical.async_ns,
		   "recorded: async work at or above the wait's cookie is not what it waited for");
		model_free(&m);
	}
	/* another task's wait; and no inference once waits are recorded */
	reset(&t);
	base(&t);
	async(&t, FB, 2, 6200, 18900);
	wait(&t, ALL, 57, 0, 7000, 18950);
	if (!load(&m, &t)) {
		ok(m.critical.nr == 6 && !m.critical.waits && m.critical.recorded,
		   "recorded: another task's wait is not the boot's, and nothing is inferred");
		model_free(&m);
	}
	/* the untraced code between do_basic_setup and async_synchronize waited */
	reset(&t);
	base(&t);
	async(&t, FA, 1, 3500, 20950);
	wait(&t, ALL, 1, 0, 19500, 20960);
	if (!load(&m, &t)) {
		path_is(&m, g, 6, "recorded: the untraced code after IC3 waited for A");
		model_free(&m);
	}
	/* hostile: an end alone, a begin twice, an end of another cookie, one never ended */
	reset(&t);
	base(&t);
	ring(&t, HT_EV_ASYNC_WAIT_END, 0, 2100, 5, 1);
	ring(&t, HT_EV_ASYNC_WAIT_BEGIN, 0, 3200, 5, 1);
	ring(&t, HT_EV_ASYNC_WAIT_BEGIN, 0, 3300, 5, 1);
	ring(&t, HT_EV_ASYNC_WAIT_END, 0, 3400, 6, 1);
	ring(&t, HT_EV_ASYNC_WAIT_END, 0, 3500, 5, 1);
	ring(&t, HT_EV_ASYNC_WAIT_BEGIN, 0, 22000, ALL, 1);
	if (!load(&m, &t)) {
		ok(m.async.wait_unmatched == 3 && m.async.nw == 2 && !m.async.w[0].open &&
		   m.async.w[1].open && m.critical.nr == 6 && !m.critical.waits,
		   "recorded: unpaired wait records counted, an open wait kept, no link from them");
		model_free(&m);
	}
	free(t.ring);
}

/* idle() - CPU @cpu in the idle loop from @a to @b */
static void idle(struct tb *t, unsigned int cpu, uint64_t a, uint64_t b)
{
	ring(t, HT_EV_IDLE_BEGIN, cpu, a, 0, 0);
	ring(t, HT_EV_IDLE_END, cpu, b, 0, 0);
}

/*
 * test_idle() - the time a span's CPU idled: IC3 (6100-19000, CPU 0)
 * waits 7000-9000 and 10000-10500, and 18500-19500 crosses its end;
 * CPU 1's idling is not CPU 0's; a lost end restarts a stretch, an end
 * alone is dropped (both counted), and CPU 1 idles to the trace's end
 */
static void test_idle(void)
{
	struct boot_model m;
	struct tb t = { 0 };

	reset(&t);
	base(&t);
	idle(&t, 0, 7000, 9000);
	idle(&t, 1, 7000, 8000);
	idle(&t, 0, 10000, 10500);
	idle(&t, 0, 18500, 19500);
	ring(&t, HT_EV_IDLE_END, 0, 1500, 0, 0);		/* no begin */
	ring(&t, HT_EV_IDLE_BEGIN, 0, 2100, 0, 0);	/* its end lost */
	idle(&t, 0, 2200, 2300);
	ring(&t, HT_EV_IDLE_BEGIN, 1, 26000, 0, 0);	/* idle to the end */
	if (load(&m, &t)) {
		ok(0, "idle: loads");
		free(t.ring);
		return;
	}
	ok(m.idle.events == 13 && m.idle.nr == 6 && m.idle.unmatched == 2,
	   "idle: 13 records, 6 stretches, a lost end and a lone end counted");
	ok(m.initcalls.nr == 3 && m.initcalls.s[2].idle_ns == 3000 * US &&
	   m.initcalls.s[0].idle_ns == 0 && m.initcalls.s[1].idle_ns == 0,
	   "idle: IC3 idled 3 ms (2 + 0.5 + the 0.5 of the stretch across its end), "
	   "IC1 and IC2 none");
	ok(m.phases.nr >= 3 && m.phases.s[1].idle_ns == 3500 * US,
	   "idle: do_basic_setup 3.5 ms (the stretch across IC3's end, whole)");
	ok(m.idle.cpu_idle_ns[0] == 3600 * US && m.idle.cpu_idle_ns[1] == 2000 * US,
	   "idle: CPU 0 idled 3.6 ms to the end of the boot, CPU 1 2 ms (1 to the last)");
	model_free(&m);
	free(t.ring);
}

/*
 * test_hints() - VCPU_PCPU records: a migration is a change between two
 * named host CPUs; the first report, a repeat and an unknown are not;
 * a run delay that goes backwards is counted and left out
 */
static void test_hints(void)
{
	struct boot_model m;
	struct tb t = { 0 };

	reset(&t);
	base(&t);
	ring(&t, HT_EV_VCPU_PCPU, 0, 3000, ht_vcpu_pcpu(0, 4), 10);	/* first: CPU 3 */
	ring(&t, HT_EV_VCPU_PCPU, 0, 5000, ht_vcpu_pcpu(4, 2), 100);	/* 3 -> 1 */
	ring(&t, HT_EV_VCPU_PCPU, 0, 6000, ht_vcpu_pcpu(2, 0), 50);	/* gone, backwards */
	ring(&t, HT_EV_VCPU_PCPU, 1, 6500, ht_vcpu_pcpu(0, 0xffffffff), 7);
	ring(&t, HT_EV_VCPU_PCPU, 1, 7000, ht_vcpu_pcpu(0xffffffff, 1), 9);
	if (load(&m, &t)) {
		ok(0, "hints: loads");
		free(t.ring);
		return;
	}
	ok(m.hints.nr == 5 && m.hints.migrations == 2 && m.hints.cpu_migrations[0] == 1 &&
	   m.hints.cpu_migrations[1] == 1,
	   "hints: 5 records, a migration on each CPU (3 -> 1, 4294967294 -> 0)");
	ok(m.hints.h[0].from == -1 && m.hints.h[0].to == 3 && m.hints.h[2].to == -1 &&
	   m.hints.h[4].from == 4294967294LL && m.hints.h[1].at_ns == 5000 * US,
	   "hints: words are host CPU + 1, 0 for unknown, at their records' times");
	ok(m.hints.backwards == 1 && m.hints.cpu_run_delay_ns[0] == 90 &&
	   m.hints.cpu_run_delay_ns[1] == 2,
	   "hints: a run delay going backwards is counted, the growth is 90 and 2 ns");
	ok(!m.hints.written, "hints: no collector event, so not said to be written");
	model_free(&m);
	free(t.ring);
}

/* test_hostile_pairs() - ends without begins, repeated cookies, wrong functions */
static void test_hostile_pairs(void)
{
	struct boot_model m;
	struct tb t = { 0 };

	reset(&t);
	base(&t);
	ring(&t, HT_EV_ASYNC_END, 1, 3000, FA, 9);		/* no begin at all */
	ring(&t, HT_EV_ASYNC_END, 1, 3200, FA, 6);		/* end before its begin */
	ring(&t, HT_EV_ASYNC_BEGIN, 1, 3300, FA, 6);		/* open for ever */
	ring(&t, HT_EV_ASYNC_BEGIN, 1, 4000, FA, 5);		/* cookie 5 twice */
	ring(&t, HT_EV_ASYNC_BEGIN, 1, 4100, FB, 5);
	ring(&t, HT_EV_ASYNC_END, 1, 4500, FA, 5);
	ring(&t, HT_EV_ASYNC_BEGIN, 1, 5000, FA, 7);		/* ends as another function */
	ring(&t, HT_EV_ASYNC_END, 1, 5100, FB, 7);
	ring(&t, HT_EV_ASYNC_END, 1, 5200, FB, 5);		/* cookie 5's second begin's end */
	if (load(&m, &t)) {
		ok(0, "hostile pairs: loads");
		free(t.ring);
		return;
	}
	is(m.async.nr, 3, "hostile pairs: three spans (cookies 5, 6, 7)");
	is(m.async.unmatched_ends, 3, "hostile pairs: ends without an open begin counted (9, 6, 5)");
	is(m.async.duplicate_begins, 1, "hostile pairs: cookie 5's second begin counted, dropped");
	is(m.async.fn_mismatches, 1, "hostile pairs: the end of another function counted");
	ok(m.async.s[0].cookie == 6 && m.async.s[0].open && m.async.s[1].cookie == 5 &&
	   !m.async.s[1].open && m.async.s[1].dur_ns == 500 * US && m.async.s[2].cookie == 7 &&
	   m.async.s[2].open, "hostile pairs: 6 open, 5 paired with its first begin (0.5 ms), "
	   "7 open");
	ok(m.critical.nr == 6 && !m.critical.waits,
	   "hostile pairs: open and short async work is not on the path");
	model_free(&m);
	free(t.ring);
}

/* test_million() - a million async spans: capped, the rest counted, quickly */
static void test_million(void)
{
	struct boot_model m;
	struct tb t = { 0 };
	struct timespec a, b;
	double took;
	size_t i;

	reset(&t);
	base(&t);
	/* random-looking cookies; the spans inside do_basic_setup, overlapping */
	for (i = 0; i < 1000000; i++) {
		uint64_t c = (i * 0x9e3779b97f4a7c15ULL) ^ (i >> 7);
		uint64_t s = 3000 + (i % 16000);

		ring(&t, HT_EV_ASYNC_BEGIN, 1 + (i & 1), s, FA + (i % 64) * 16, c);
		ring(&t, HT_EV_ASYNC_END, 1 + (i & 1), s + 1 + (i % 900), FA + (i % 64) * 16, c);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (load(&m, &t)) {
		ok(0, "million: loads");
		free(t.ring);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	took = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	is(m.async.events, 2000000, "million: every async event read");
	is(m.async.nr, MODEL_ASYNC_MAX, "million: spans capped at MODEL_ASYNC_MAX");
	is(m.async.dropped, 1000000 - MODEL_ASYNC_MAX, "million: the rest counted as dropped");
	ok(!m.async.unmatched_ends && !m.async.duplicate_begins,
	   "million: every kept span paired by its own cookie");
	ok(m.critical.nr >= 5 && m.critical.nr <= 16 && m.critical.end_ns == 27000 * US,
	   "million: the critical path is still a handful of links");
	printf("# a million spans loaded in %.2f s, %zu links\n", took, m.critical.nr);
	ok(took < 60, "million: loaded in under a minute (even under ASan)");
	model_free(&m);
	free(t.ring);
}

/*
 * test_overlap_waits() - 20,000 initcalls that all begin at once, around
 * 20,000 recorded waits of the boot thread, each with async work ending
 * in it: every step's lookup is a tree search, not a scan of the waits
 */
static void test_overlap_waits(void)
{
	struct boot_model m;
	struct tb t = { 0 };
	struct timespec a, b;
	size_t i;

	reset(&t);
	for (i = 0; i < 20000; i++) {
		ring(&t, HT_EV_INITCALL_BEGIN, 0, 5000, IC1 + i * 16, HT_LEVEL_DEVICE);
		ring(&t, HT_EV_INITCALL_END, 0, 50000 + i, IC1 + i * 16, 0);
	}
	for (i = 0; i < 20000; i++) {
		ring(&t, HT_EV_ASYNC_WAIT_BEGIN, 0, 6000 + 2 * i, i + 2, 1);
		async(&t, FA, i + 1, 5500, 6001 + 2 * i);
		ring(&t, HT_EV_ASYNC_WAIT_END, 0, 6001 + 2 * i, i + 2, 1);
	}
	ring(&t, HT_EV_BOOT_DONE, 0, 90000, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (load(&m, &t)) {
		ok(0, "overlapping waits: loads");
		free(t.ring);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	diag("20,000 overlapping steps over 20,000 waits loaded in %.2f s",
	     (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	ok(m.async.nw == 20000 && m.critical.nr > 0 && m.critical.nr <= 2 * 20000 + 1 &&
	   m.critical.waits >= 1, "overlapping waits: the walk ends, each step once, waits found");
	model_free(&m);
	free(t.ring);
}

/*
 * test_overlap() - 20,000 initcalls that all begin at once and async work
 * ending at their ends: every step visited once, the walk ends
 */
static void test_overlap(void)
{
	struct boot_model m;
	struct tb t = { 0 };
	size_t i;

	reset(&t);
	for (i = 0; i < 20000; i++) {
		ring(&t, HT_EV_INITCALL_BEGIN, 0, 5000, IC1 + i * 16, HT_LEVEL_DEVICE);
		ring(&t, HT_EV_INITCALL_END, 0, 5000 + i, IC1 + i * 16, 0);
		async(&t, FA, i + 1, 4000 + i, 5000 + i);
	}
	ring(&t, HT_EV_BOOT_DONE, 0, 40000, 0, 0);
	if (load(&m, &t)) {
		ok(0, "overlap: loads");
		free(t.ring);
		return;
	}
	ok(m.critical.nr > 0 && m.critical.nr <= 2 * (20000 + 20000) + 1,
	   "overlap: the walk ends, each step at most once");
	ok(m.critical.on_path_ns <= m.critical.end_ns, "overlap: covered time within the path");
	model_free(&m);
	free(t.ring);
}

/* test_empty() - no phases, no initcalls, no async: an empty path, no crash */
static void test_empty(void)
{
	struct boot_model m;
	struct tb t = { 0 };

	reset(&t);
	ring(&t, HT_EV_ASYNC_BEGIN, 1, 1000, FA, 1);
	if (!load(&m, &t)) {
		ok(m.critical.nr == 0 && !m.critical.boot_done && m.async.nr == 1 &&
		   m.async.s[0].open, "empty: no path, one open async span, no end of the boot");
		model_free(&m);
	} else {
		ok(0, "empty: loads");
	}
	free(t.ring);
}

int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	test_sync_waits();
	test_inferred();
	test_gap();
	test_recorded();
	test_idle();
	test_hints();
	test_hostile_pairs();
	test_million();
	test_overlap();
	test_overlap_waits();
	test_empty();
	unlink(path);
	return done_testing();
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The host's view of the vCPU threads in the model: HTF_SCHED events are
 * placed on the model's clock (host time - QEMU's launch), give each vCPU
 * its running / preempted / sleeping intervals and migrations, charge each
 * span the preempted time and migrations of its vCPU while it was open,
 * and check the clock fit (a guest event stamped while its thread was not
 * running is counted).  Hostile events -- unknown kinds and states, vCPUs
 * out of range, times before the launch or absurdly late, a chunk cut
 * mid-event -- are counted and change nothing; without a clock tie the
 * events are counted and not placed; a switch away with no switch in
 * before it leaves the time since the last event unknown.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "tap.h"
#include "tracefile.h"

#define KHZ	1000000ULL	/* 1 GHz: one TSC tick is one nanosecond */
#define LAUNCH	1000000ULL	/* QEMU's launch, host CLOCK_MONOTONIC */
#define SHIFT	5000ULL		/* guest TSC 0 is at model time SHIFT */
#define IC	0xffffffff81000100ULL

static char path[] = "/tmp/ht-test-model-sched-XXXXXX";

/* rec() - a ring record */
static struct ht_record rec(unsigned int type, unsigned int cpu, uint32_t seq,
			    uint64_t tsc, uint64_t a0, uint64_t a1)
{
	struct ht_record r = {
		.tsc = tsc, .info = ht_info(type, 0, cpu, seq), .a0 = a0, .a1 = a1,
	};

	return r;
}

/* sev() - a scheduler event of vCPU @vcpu at model time @t */
static struct htf_sched_event sev(unsigned int vcpu, uint64_t t, unsigned int kind,
				  unsigned int state, unsigned int cpu, unsigned int arg)
{
	struct htf_sched_event e = {
		.host_ns = LAUNCH + t, .tid = 100 + vcpu, .vcpu = (uint16_t)vcpu,
		.kind = (uint8_t)kind, .state = (uint8_t)state, .host_cpu = cpu, .arg = arg,
	};

	return e;
}

/*
 * load() - a boot on two CPUs (cpu 1: a level and an initcall from model
 * time 8000/9000 to 14100/14000, and one event at 11000), its clock tie
 * unless @no_clock, @n scheduler events and @tail extra bytes of a chunk
 */
static int load(struct boot_model *m, const struct htf_sched_event *ev, unsigned int n,
		const void *tail, uint32_t tail_len, bool no_clock)
{
	static const char meta[] = "{\"tool\":\"test\",\"abi_version\":1,\"accel\":\"tcg\","
				   "\"launch_mono_ns\":1000000,\"host_tsc_khz\":1000000}";
	struct ht_record r[] = {
		rec(HT_EV_TSC_KHZ, 0, 0, 100, KHZ, 0),
		rec(HT_EV_START_KERNEL, 0, 1, 1000, 0, 0),
		rec(HT_EV_PHASE_BEGIN, 0, 2, 2000, HT_PHASE_DO_BASIC_SETUP, 0),
		rec(HT_EV_LEVEL_BEGIN, 1, 0, 3000, HT_LEVEL_DEVICE, 0),
		rec(HT_EV_INITCALL_BEGIN, 1, 1, 4000, IC, HT_LEVEL_DEVICE),
		rec(HT_EV_TSC_KHZ, 1, 2, 6000, KHZ, 0),
		rec(HT_EV_INITCALL_END, 1, 3, 9000, IC, 0),
		rec(HT_EV_LEVEL_END, 1, 4, 9100, HT_LEVEL_DEVICE, 0),
		rec(HT_EV_PHASE_END, 0, 3, 9200, HT_PHASE_DO_BASIC_SETUP, 0),
		rec(HT_EV_BOOT_DONE, 0, 4, 10000, 0, 0),
	};
	struct htf_clock_sample clk = {
		.guest_tsc = 1000, .host_ns = LAUNCH + SHIFT + 1000, .method = HTF_CLOCK_DOORBELL,
	};
	struct model_opts o = { 0 };
	struct htf_writer w;
	unsigned char *buf;
	char err[256] = "";
	FILE *f;
	long sz;
	int ret;

	unlink(path);
	if (htf_create(&w, path))
		return -1;
	htf_append(&w, HTF_METADATA, 0, 0, meta, sizeof(meta) - 1);
	htf_append(&w, HTF_RECORDS, HTF_SRC_RING, 0, r, sizeof(r));
	if (!no_clock)
		htf_append(&w, HTF_CLOCK, 0, 0, &clk, sizeof(clk));
	if (n)
		htf_append(&w, HTF_SCHED, 0, 0, ev, n * (uint32_t)sizeof(*ev));
	if (tail_len)
		htf_append(&w, HTF_SCHED, 0, 0, tail, tail_len);
	htf_append(&w, HTF_END, 0, 0, "{\"exit_status\":0}", 17);
	htf_close(&w);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	buf = malloc((size_t)sz);
	if (!buf || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	ret = model_load_mem(m, buf, (size_t)sz, &o, err, sizeof(err));
	if (ret)
		printf("# load: %s\n", err);
	free(buf);
	return ret;
}

/*
 * The story: vCPU 0 runs from 1000, sleeps 2500-3000, is runnable (woken)
 * 3000-3500 and runs again.  vCPU 1 runs on host CPU 0 from 8000, is
 * preempted 10000-12000, migrates to host CPU 1 at 11500 and runs there
 * from 12000.
 */
static const struct htf_sched_event story[] = {
	{ LAUNCH + 1000, 100, 0, HTF_SCHED_SWITCH_IN, 0, 0, 0, 0 },
	{ LAUNCH + 2500, 100, 0, HTF_SCHED_SWITCH_OUT, HTF_SCHED_BLOCKED, 0, 1, 0 },
	{ LAUNCH + 3000, 100, 0, HTF_SCHED_WAKEUP, 0, 0, 0, 0 },
	{ LAUNCH + 3500, 100, 0, HTF_SCHED_SWITCH_IN, 0, 0, 0, 0 },
	{ LAUNCH + 8000, 101, 1, HTF_SCHED_SWITCH_IN, 0, 0, 0, 0 },
	{ LAUNCH + 10000, 101, 1, HTF_SCHED_SWITCH_OUT, HTF_SCHED_PREEMPTED, 0, 0, 0 },
	{ LAUNCH + 11500, 101, 1, HTF_SCHED_MIGRATE, 0, 1, 0, 0 },
	{ LAUNCH + 12000, 101, 1, HTF_SCHED_SWITCH_IN, 0, 1, 0, 0 },
};

#define NSTORY	(sizeof(story) / sizeof(story[0]))

/* check_story() - what the story gives, whatever junk came with it */
static void check_story(const struct boot_model *m, const char *what)
{
	const struct model_sched *k = &m->sched;
	const struct model_sched_vcpu *v1 = &k->vcpu[1];
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: two vCPUs, aligned", what);
	ok(k->present && k->aligned && k->nvcpus == 2, msg);
	snprintf(msg, sizeof(msg), "%s: the initcall on vCPU 1 lost 2000 ns, 1 migration", what);
	ok(m->initcalls.nr == 1 && m->initcalls.s[0].stolen_ns == 2000 &&
	   m->initcalls.s[0].migrations == 1, msg);
	if (m->initcalls.nr)
		diag("initcall %llu-%llu stolen %llu", (unsigned long long)m->initcalls.s[0].start_ns,
		     (unsigned long long)(m->initcalls.s[0].start_ns + m->initcalls.s[0].dur_ns),
		     (unsigned long long)m->initcalls.s[0].stolen_ns);
	snprintf(msg, sizeof(msg), "%s: the level too; the phase on vCPU 0 lost nothing", what);
	ok(m->levels.nr == 1 && m->levels.s[0].stolen_ns == 2000 && m->phases.nr >= 1, msg);
	snprintf(msg, sizeof(msg), "%s: vCPU 1's intervals: running, preempted on host CPU 0 "
		 "then (migrated) 1, running", what);
	ok(v1->niv == 4 && v1->iv[0].run == MODEL_RUN_RUNNING && v1->iv[0].start_ns == 8000 &&
	   v1->iv[1].run == MODEL_RUN_PREEMPTED && v1->iv[1].start_ns == 10000 &&
	   v1->iv[1].host_cpu == 0 && v1->iv[2].run == MODEL_RUN_PREEMPTED &&
	   v1->iv[2].start_ns == 11500 && v1->iv[2].host_cpu == 1 &&
	   v1->iv[3].run == MODEL_RUN_RUNNING && v1->iv[3].start_ns == 12000 &&
	   v1->iv[3].host_cpu == 1, msg);
	snprintf(msg, sizeof(msg), "%s: the migration at 11500, host CPU 0 -> 1", what);
	ok(v1->nmig == 1 && v1->mig[0].at_ns == 11500 && v1->mig[0].from == 0 &&
	   v1->mig[0].to == 1, msg);
	snprintf(msg, sizeof(msg), "%s: vCPU 0 slept 500 ns, waited 500 ns (woken, not running)",
		 what);
	ok(k->vcpu[0].sleeping_ns == 500 && k->vcpu[0].preempted_ns == 500, msg);
	snprintf(msg, sizeof(msg), "%s: totals to the boot's end (15000): 2500 ns stolen", what);
	ok(m->boot_ns == 15000 && k->stolen_ns == 2500 && k->migrations == 1, msg);
	snprintf(msg, sizeof(msg), "%s: the guest event at 11000 lies in vCPU 1's preemption, "
		 "1000 ns from running", what);
	ok(k->guest_not_running == 1 && k->max_misplaced_ns == 1000, msg);
}

/* test_story() - intervals, stolen time, migrations, the alignment check */
static void test_story(void)
{
	struct boot_model m;

	ok(!load(&m, story, NSTORY, NULL, 0, false), "a trace with scheduler events loads");
	check_story(&m, "clean");
	is(m.sched.bad, 0, "clean: nothing counted bad");
	model_free(&m);
}

/* test_hostile() - junk among the events is counted, the story unchanged */
static void test_hostile(void)
{
	struct htf_sched_event ev[NSTORY + 6];
	unsigned char cut[40];
	struct boot_model m;
	unsigned int n = 0, i;

	/* out of order: the model sorts */
	for (i = NSTORY; i-- > 0;)
		ev[n++] = story[i];
	ev[n++] = sev(0, 5000, 9, 0, 0, 0);				/* unknown kind */
	ev[n++] = sev(200, 5000, HTF_SCHED_SWITCH_IN, 0, 0, 0);	/* vCPU out of range */
	ev[n++] = sev(0, 5000, HTF_SCHED_SWITCH_OUT, 7, 0, 0);		/* unknown state */
	ev[n] = sev(0, 0, HTF_SCHED_SWITCH_IN, 0, 0, 0);
	ev[n++].host_ns = LAUNCH - 1;					/* before the launch */
	ev[n] = sev(0, 0, HTF_SCHED_SWITCH_IN, 0, 0, 0);
	ev[n++].host_ns = UINT64_MAX;					/* centuries later */
	ev[n++] = sev(65535, 5000, HTF_SCHED_MIGRATE, 0, 0xffffffff, 0xffffffff);
	memset(cut, 0xff, sizeof(cut));
	ok(!load(&m, ev, n, cut, sizeof(cut), false), "hostile events: the trace still loads");
	check_story(&m, "hostile");
	is(m.sched.bad, 8, "hostile: 6 bad events, the cut chunk's whole 0xff event and its "
	   "8 bytes counted");
	model_free(&m);

	ok(!load(&m, NULL, 0, cut, 31, false), "a chunk shorter than one event loads");
	ok(!m.sched.present && m.sched.bad == 1, "it is counted, nothing is placed");
	model_free(&m);
}

/* test_unaligned() - no clock tie: the events are counted, not placed */
static void test_unaligned(void)
{
	struct boot_model m;

	ok(!load(&m, story, NSTORY, NULL, 0, true), "no clock samples: loads");
	ok(m.sched.present && !m.sched.aligned && m.sched.nvcpus == 0 &&
	   m.initcalls.nr == 1 && m.initcalls.s[0].stolen_ns == 0,
	   "present, not aligned, nothing charged");
	model_free(&m);
}

/* test_missing_in() - a switch away with no switch in before it: unknown, not stolen */
static void test_missing_in(void)
{
	struct htf_sched_event ev[] = {
		sev(1, 8000, HTF_SCHED_SWITCH_IN, 0, 0, 0),
		sev(1, 10000, HTF_SCHED_SWITCH_OUT, HTF_SCHED_PREEMPTED, 0, 0),
		sev(1, 11200, HTF_SCHED_SWITCH_OUT, HTF_SCHED_BLOCKED, 0, 1),
		sev(1, 11500, HTF_SCHED_WAKEUP, 0, 0, 0),
		sev(1, 12000, HTF_SCHED_SWITCH_IN, 0, 0, 0),
	};
	const struct model_sched_vcpu *v;
	struct boot_model m;

	ok(!load(&m, ev, 5, NULL, 0, false), "a lost switch in: loads");
	v = &m.sched.vcpu[1];
	ok(m.sched.missing_in == 1 && v->niv == 5 && v->iv[1].run == MODEL_RUN_UNKNOWN &&
	   v->iv[1].start_ns == 10000 && v->iv[1].end_ns == 11200 &&
	   v->iv[2].run == MODEL_RUN_SLEEPING,
	   "10000-11200 is unknown (it ran at some point before switching away again)");
	ok(m.initcalls.nr == 1 && m.initcalls.s[0].stolen_ns == 500,
	   "only the 500 ns woken and waiting are stolen");
	ok(m.sched.guest_not_running == 0, "the guest event at 11000, in the unknown stretch, is not counted misplaced");
	model_free(&m);
}

/*
 * test_unknown_near() - the guest event at 11000 lies in a sleep that
 * began at 10900 after an unknown stretch (its switch in was lost): the
 * thread may have run until 10900, so the event is 100 ns off, not 1000
 * (the distance to the nearest known run, which once made a quiet boot's
 * 15 us look like 55 ms)
 */
static void test_unknown_near(void)
{
	struct htf_sched_event ev[] = {
		sev(1, 8000, HTF_SCHED_SWITCH_IN, 0, 0, 0),
		sev(1, 10000, HTF_SCHED_SWITCH_OUT, HTF_SCHED_PREEMPTED, 0, 0),
		sev(1, 10900, HTF_SCHED_SWITCH_OUT, HTF_SCHED_BLOCKED, 0, 1),
		sev(1, 11500, HTF_SCHED_WAKEUP, 0, 0, 0),
		sev(1, 12000, HTF_SCHED_SWITCH_IN, 0, 0, 0),
	};
	struct boot_model m;

	ok(!load(&m, ev, 5, NULL, 0, false), "a sleep after an unknown stretch: loads");
	ok(m.sched.guest_not_running == 1 && m.sched.max_misplaced_ns == 100,
	   "the event 100 ns into the sleep is 100 ns from a time the thread may have run");
	diag("misplaced %llu of %llu, at most %llu ns",
	     (unsigned long long)m.sched.guest_not_running,
	     (unsigned long long)m.sched.guest_events,
	     (unsigned long long)m.sched.max_misplaced_ns);
	model_free(&m);
}

/* main() - run the tests */
int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	test_story();
	test_hostile();
	test_unaligned();
	test_missing_in();
	test_unknown_near();
	unlink(path);
	return done_testing();
}

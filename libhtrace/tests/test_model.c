// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The model's loader on traces made here: doorbell copies of ring events
 * are dropped exactly (CPU, sequence number and TSC), everything else the
 * doorbell carried is kept; the clock fit takes the earliest sample and
 * reports the residuals and each CPU's skew; the TSC rate is the host's
 * under TCG on real time, the guest's under KVM and icount; every verdict comes from the
 * same rule as the collector's; loss is counted by cause.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "tap.h"
#include "tracefile.h"

#define KHZ	1000000ULL	/* 1 GHz: one TSC tick is one nanosecond */

static char path[] = "/tmp/ht-test-model-XXXXXX";

/**
 * struct tb - a trace being built in memory
 * @ring: ring records
 * @nring: how many
 * @door: doorbell (port) records
 * @ndoor: how many
 * @clk:  clock samples
 * @nclk: how many
 * @meta: the metadata JSON, NULL for a TCG boot on real time
 */
struct tb {
	struct ht_record ring[64];
	unsigned int nring;
	struct ht_record door[64];
	unsigned int ndoor;
	struct htf_clock_sample clk[16];
	unsigned int nclk;
	const char *meta;
};

/* rec() - a head record with no string */
static struct ht_record rec(unsigned int type, unsigned int cpu, uint32_t seq,
			    uint64_t tsc, uint64_t a0, uint64_t a1)
{
	struct ht_record r = {
		.tsc = tsc, .info = ht_info(type, 0, cpu, seq), .a0 = a0, .a1 = a1,
	};

	return r;
}

/* ring() - a ring record on CPU @cpu with the next sequence number */
static void ring(struct tb *t, unsigned int type, unsigned int cpu, uint64_t tsc,
		 uint64_t a0, uint64_t a1)
{
	static uint32_t seq[4];

	if (!t->nring)
		memset(seq, 0, sizeof(seq));
	t->ring[t->nring++] = rec(type, cpu, seq[cpu]++, tsc, a0, a1);
}

/* write_trace() - the trace file: metadata, records, clock, optional END; its bytes */
static unsigned char *write_trace(const struct tb *t, const char *end_json, size_t *size)
{
	/* under TCG the guest's TSC is the host's: the two rates agree */
	static const char tcg[] = "{\"tool\":\"test\",\"abi_version\":1,\"accel\":\"tcg\","
				  "\"launch_mono_ns\":1000000,\"host_tsc_khz\":1000000}";
	const char *meta = t->meta ? t->meta : tcg;
	struct htf_writer w;
	unsigned char *buf;
	FILE *f;
	long n;

	unlink(path);
	if (htf_create(&w, path))
		return NULL;
	htf_append(&w, HTF_METADATA, 0, 0, meta, (uint32_t)strlen(meta));
	if (t->nring)
		htf_append(&w, HTF_RECORDS, HTF_SRC_RING, 0, t->ring, t->nring * HT_RECORD_SIZE);
	if (t->ndoor)
		htf_append(&w, HTF_RECORDS, HTF_SRC_PORT, 0, t->door, t->ndoor * HT_RECORD_SIZE);
	if (t->nclk)
		htf_append(&w, HTF_CLOCK, 0, 0, t->clk, t->nclk * sizeof(t->clk[0]));
	if (end_json)
		htf_append(&w, HTF_END, 0, 0, end_json, (uint32_t)strlen(end_json));
	htf_close(&w);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = (size_t)n;
	return buf;
}

/* load() - build @t into a trace and load its model; 0 on success */
static int load(struct boot_model *m, const struct tb *t, const char *end_json)
{
	struct model_opts o = { 0 };
	char err[256] = "";
	unsigned char *buf;
	size_t size;
	int ret;

	buf = write_trace(t, end_json, &size);
	if (!buf)
		return -1;
	ret = model_load_mem(m, buf, size, &o, err, sizeof(err));
	if (ret)
		printf("# load: %s\n", err);
	free(buf);
	return ret;
}

/* base_boot() - a little boot on two CPUs: TSC rate, a phase, an initcall */
static void base_boot(struct tb *t)
{
	memset(t, 0, sizeof(*t));
	ring(t, HT_EV_TSC_KHZ, 0, 100, KHZ, 0);
	ring(t, HT_EV_START_KERNEL, 0, 1000, 0, 0);
	ring(t, HT_EV_PHASE_BEGIN, 0, 2000, HT_PHASE_DO_BASIC_SETUP, 0);
	ring(t, HT_EV_LEVEL_BEGIN, 1, 3000, HT_LEVEL_DEVICE, 0);
	ring(t, HT_EV_INITCALL_BEGIN, 1, 4000, 0xffffffff81000100ULL, HT_LEVEL_DEVICE);
}

/* finish_boot() - the initcall returns and the boot completes */
static void finish_boot(struct tb *t)
{
	ring(t, HT_EV_INITCALL_END, 1, 9000, 0xffffffff81000100ULL, 0);
	ring(t, HT_EV_LEVEL_END, 1, 9100, HT_LEVEL_DEVICE, 0);
	ring(t, HT_EV_PHASE_END, 0, 9200, HT_PHASE_DO_BASIC_SETUP, 0);
	ring(t, HT_EV_BOOT_DONE, 0, 10000, 0, 0);
}

/* test_dedupe() - doorbell copies go, everything else the doorbell had stays */
static void test_dedupe(void)
{
	struct boot_model m;
	struct tb t;

	base_boot(&t);
	finish_boot(&t);
	/* the setup code: doorbell only, CPU 0, seq 0 like the ring's first record */
	t.door[t.ndoor++] = rec(HT_EV_SETUP_ENTRY, 0, 0, 50, 0, 0);
	/* exact copies of two ring records (BOOT_DONE went out urgently) */
	t.door[t.ndoor++] = t.ring[t.nring - 1];
	t.door[t.ndoor++] = t.ring[1];
	/* same CPU and seq as a ring record, another TSC: a different event */
	t.door[t.ndoor++] = rec(HT_EV_USER_MARKER, 1, 0, 9500, 1, 0);
	ok(!load(&m, &t, "{\"exit_status\":0,\"verdict\":\"none\"}"), "dedupe: trace loads");
	is(m.ev.nr, t.nring + 2, "dedupe: ring events plus the two doorbell-only ones");
	is(m.doorbell_copies, 2, "dedupe: the two exact copies are dropped");
	is(m.doorbell_events, 2, "dedupe: setup entry and the look-alike are kept");
	ok(m.ev.ev[0].type == HT_EV_SETUP_ENTRY, "dedupe: the setup code's event comes first");
	is(m.markers.nr, 1, "dedupe: the look-alike marker is in the model");
	model_free(&m);
}

/* test_clock() - the fit is the earliest sample; residuals and skew reported */
static void test_clock(void)
{
	struct boot_model m;
	struct tb t;

	base_boot(&t);
	finish_boot(&t);
	/* guest TSC zero at host 500,000,000 ns; samples arrive 0, 40, 10 us late */
	t.clk[t.nclk++] = (struct htf_clock_sample){ 1000, 500001000, 0, HTF_CLOCK_DOORBELL, 0 };
	t.clk[t.nclk++] = (struct htf_clock_sample){ 5000, 500045000, 0, HTF_CLOCK_DOORBELL, 0 };
	t.clk[t.nclk++] = (struct htf_clock_sample){ 8000, 500018000, 1, HTF_CLOCK_DOORBELL, 0 };
	ok(!load(&m, &t, "{\"exit_status\":0,\"verdict\":\"none\"}"), "clock: trace loads");
	is(m.clock.samples, 3, "clock: three samples");
	is(m.clock.offset_ns, 500000000, "clock: the fit is the earliest arrival");
	is(m.clock.residual_ns, 10000, "clock: median residual");
	is(m.clock.max_residual_ns, 40000, "clock: largest residual");
	ok(m.clock.cpu_seen[1] && m.clock.cpu_offset_ns[1] == 10000, "clock: CPU 1's skew");
	ok(m.launch_known && m.launch_ns == 499000000, "clock: QEMU start-up from the launch");
	is(m.boot_ns, 499000000 + 10000, "clock: times count from QEMU's launch");
	model_free(&m);

	/* hostile samples: centuries apart (the fuzzer's overflow), before zero */
	base_boot(&t);
	finish_boot(&t);
	t.clk[t.nclk++] = (struct htf_clock_sample){ 1000, 500001000, 0, HTF_CLOCK_DOORBELL, 0 };
	t.clk[t.nclk++] = (struct htf_clock_sample){ 0, 0xfd7a3cbd4f8a6e93ULL, 1, HTF_CLOCK_DOORBELL, 0 };
	t.clk[t.nclk++] = (struct htf_clock_sample){ 1ULL << 62, 5, 0, HTF_CLOCK_DOORBELL, 0 };
	ok(!load(&m, &t, "{\"exit_status\":0,\"verdict\":\"none\"}") &&
	   m.clock.offset_ns == 500000000 && m.clock.max_residual_ns == 0 && !m.clock.cpu_seen[1],
	   "clock: samples centuries off or before the TSC's zero are ignored, without overflow");
	model_free(&m);

	base_boot(&t);
	finish_boot(&t);
	ok(!load(&m, &t, "{\"exit_status\":0,\"verdict\":\"none\"}"), "clock: no samples loads");
	ok(!m.launch_known && m.launch_ns == 0 && m.boot_ns == 10000,
	   "clock: without samples times count from the TSC's zero");
	model_free(&m);
}

/* rate_is() - load @t with @meta and its TSC_KHZ at @guest; the rate used is @want */
static void rate_is(struct tb *t, const char *meta, uint64_t guest, uint64_t want,
		    const char *what)
{
	struct boot_model m;

	t->meta = meta;
	t->ring[0].a0 = guest;
	if (guest == 0)	/* no rate from the guest: the record becomes another type */
		t->ring[0].info = ht_info(HT_EV_START_KERNEL, 0, 0, ht_info_seq(t->ring[0].info));
	if (!ok(!load(&m, t, "{\"exit_status\":0}") && m.tsc_khz == want &&
		m.guest_tsc_khz == guest && m.tsc_from_host == (want != guest), what))
		printf("#   rate %llu, guest %llu\n", (unsigned long long)m.tsc_khz,
		       (unsigned long long)m.guest_tsc_khz);
	model_free(&m);
}

/*
 * test_tsc_rate() - whose TSC rate places the events: under TCG on real
 * time the host's (the guest reads the host's TSC; its calibration can be
 * off, 955 MHz for 2596 in a loaded boot here), under KVM and icount the
 * guest's, and the host's when the guest never said
 */
static void test_tsc_rate(void)
{
	static const char kvm[] = "{\"abi_version\":1,\"accel\":\"kvm\",\"host_tsc_khz\":1000000}";
	static const char icount[] = "{\"abi_version\":1,\"accel\":\"tcg\",\"icount\":"
				     "\"shift=1,sleep=off\",\"host_tsc_khz\":1000000}";
	static const char nohost[] = "{\"abi_version\":1,\"accel\":\"tcg\"}";
	struct tb t;

	base_boot(&t);
	finish_boot(&t);
	rate_is(&t, NULL, 400000, KHZ, "TSC rate: TCG on real time: the host's, not the guest's");
	rate_is(&t, kvm, 400000, 400000, "TSC rate: KVM: the guest's");
	rate_is(&t, icount, 400000, 400000, "TSC rate: icount (a virtual TSC): the guest's");
	rate_is(&t, nohost, 400000, 400000, "TSC rate: TCG, no host rate recorded: the guest's");
	rate_is(&t, kvm, 0, KHZ, "TSC rate: the guest never said: the host's");
}

/* check_verdict() - load @t with @end and expect @want */
static void check_verdict(const struct tb *t, const char *end, enum htr_verdict want,
			  const char *what)
{
	struct boot_model m;

	if (!ok(!load(&m, t, end), what)) {
		model_free(&m);
		return;
	}
	if (!ok(m.verdict == want && !strcmp(m.fail_kind, htr_verdict_name(want)), what))
		printf("#   got %s, want %s\n", m.fail_kind, htr_verdict_name(want));
	model_free(&m);
}

/* test_verdicts() - each kind, from the events and the END chunk */
static void test_verdicts(void)
{
	struct boot_model m;
	struct tb t;

	base_boot(&t);
	finish_boot(&t);
	check_verdict(&t, "{\"exit_status\":0,\"verdict\":\"none\"}", HTR_VERDICT_BOOTED,
		      "verdict: booted");
	base_boot(&t);
	check_verdict(&t, "{\"exit_status\":4,\"verdict\":\"hang\"}", HTR_VERDICT_HANG,
		      "verdict: hang, from the collector's watchdog");
	check_verdict(&t, "{\"exit_status\":4}", HTR_VERDICT_HANG,
		      "verdict: hang, from an older collector's exit status");
	check_verdict(&t, "{\"exit_status\":5,\"verdict\":\"crash\"}", HTR_VERDICT_CRASH,
		      "verdict: crash");
	check_verdict(&t, NULL, HTR_VERDICT_INCOMPLETE,
		      "verdict: no END chunk: the recording is incomplete");
	ok(!load(&m, &t, "{\"exit_status\":4,\"verdict\":\"hang\"}") &&
	   !strcmp(m.fail_initcall, "0xffffffff81000100") &&
	   !strcmp(m.fail_where, "level device, initcall 0xffffffff81000100"),
	   "verdict: a hang names the level and the initcall that never returned");
	model_free(&m);

	base_boot(&t);
	ring(&t, HT_EV_OOPS, 1, 5000, 0, 0xffffffff81000110ULL);
	check_verdict(&t, "{\"exit_status\":3,\"verdict\":\"oops\"}", HTR_VERDICT_OOPS,
		      "verdict: oops");
	ring(&t, HT_EV_PANIC, 1, 6000, 0xffffffff81000100ULL, 1);
	check_verdict(&t, "{\"exit_status\":3,\"verdict\":\"panic\"}", HTR_VERDICT_PANIC,
		      "verdict: a panic after an oops is a panic");

	memset(&t, 0, sizeof(t));
	t.door[t.ndoor++] = rec(HT_EV_SETUP_ENTRY, 0, 0, 50, 0, 0);
	t.door[t.ndoor++] = rec(HT_EV_DECOMP_BEGIN, 0, 0, 60, 0, 0);
	check_verdict(&t, "{\"exit_status\":6,\"verdict\":\"silent\"}", HTR_VERDICT_SILENT,
		      "verdict: nothing after the setup code is silent, not a crash");
	check_verdict(&t, "{\"exit_status\":5}", HTR_VERDICT_SILENT,
		      "verdict: silent also from an older collector's trace");

	memset(&t, 0, sizeof(t));
	ring(&t, HT_EV_TSC_KHZ, 0, 100, KHZ, 0);
	ring(&t, HT_EV_START_KERNEL, 0, 1000, 0, 0);
	ring(&t, HT_EV_PHASE_BEGIN, 0, 2000, HT_PHASE_REST_INIT, 0);
	ring(&t, HT_EV_PHASE_BEGIN, 1, 3000, HT_PHASE_SMP_INIT, 0);
	ok(!load(&m, &t, "{\"exit_status\":4,\"verdict\":\"hang\"}") &&
	   m.verdict == HTR_VERDICT_HANG && !strcmp(m.fail_where, "smp_init"),
	   "verdict: a hang outside any initcall names the phase");
	printf("#   where: %s\n", m.fail_where);
	model_free(&m);
}

/* test_exit_map() - every verdict has its own exit status for a failure */
static void test_exit_map(void)
{
	is(htr_verdict_exit(HTR_VERDICT_BOOTED), 0, "exit: booted 0");
	is(htr_verdict_exit(HTR_VERDICT_PANIC), 3, "exit: panic 3");
	is(htr_verdict_exit(HTR_VERDICT_OOPS), 3, "exit: oops 3");
	is(htr_verdict_exit(HTR_VERDICT_HANG), 4, "exit: hang 4");
	is(htr_verdict_exit(HTR_VERDICT_CRASH), 5, "exit: crash 5");
	is(htr_verdict_exit(HTR_VERDICT_SILENT), 6, "exit: silent 6");
	is(htr_verdict_exit(HTR_VERDICT_NR), HTR_EXIT_ERROR, "exit: invalid verdict is an error");
	ok(htr_verdict_parse("panic") == HTR_VERDICT_PANIC &&
	   htr_verdict_parse("bogus") == HTR_VERDICT_NR && htr_verdict_parse(NULL) == HTR_VERDICT_NR,
	   "verdict names parse, and nothing else does");
}

/* test_bad() - not a trace: a message, no crash */
static void test_bad(void)
{
	struct model_opts o = { 0 };
	struct boot_model m;
	char err[256] = "";

	ok(model_load_mem(&m, "garbage!", 8, &o, err, sizeof(err)) < 0 &&
	   strstr(err, "not a Hypertrace trace"), "garbage: refused with a reason");
	model_free(&m);
}

/* test_syms_format() - backtrace frames as the kernel prints them */
static void test_syms_format(void)
{
	struct htr_sym sym[] = {
		{ 0xffffffff81000000ULL, 0x80, "a" },
		{ 0xffffffff81000100ULL, 0, "b" },	/* System.map: no size */
		{ 0xffffffff81000180ULL, 0, "c" },	/* the last one */
	};
	struct htr_syms s = { sym, 3, 0x1000000 };	/* KASLR moved it 16 MiB */
	char buf[64];

	/* each point prints what it got when it fails */
#define SYMS_IS(addr, len, want, what)						\
	do {									\
		htr_syms_format(&s, (addr), buf, (len));			\
		if (!ok(!strcmp(buf, (want)), (what)))				\
			diag("got \"%s\", want \"%s\"", buf, (want));	\
	} while (0)

	SYMS_IS(0xffffffff82000012ULL, sizeof(buf), "a+0x12/0x80",
		"syms: function+0xoff/0xsize, KASLR-corrected");
	SYMS_IS(0xffffffff82000090ULL, sizeof(buf), "0xffffffff82000090",
		"syms: past a sized symbol's end, the address");
	SYMS_IS(0xffffffff82000104ULL, sizeof(buf), "b+0x4/0x80",
		"syms: no size: up to the next symbol");
	SYMS_IS(0xffffffff82000180ULL, sizeof(buf), "c+0x0",
		"syms: the last symbol without a size: its own address, no size");
	SYMS_IS(0xffffffff820001a0ULL, sizeof(buf), "0xffffffff820001a0",
		"syms: past it, the address (its end is unknown)");
	SYMS_IS(0x1234, sizeof(buf), "0x1234",
		"syms: below the KASLR offset, the address (no wrap-around)");
	SYMS_IS(0xffffffff82000012ULL, 4, "a+0", "syms: a short buffer is cut, terminated");
#undef SYMS_IS
}

/* main() - run the tests */
int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	test_dedupe();
	test_clock();
	test_tsc_rate();
	test_verdicts();
	test_exit_map();
	test_bad();
	test_syms_format();
	unlink(path);
	return done_testing();
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: follow a boot event by event; the verdict, its names and the
 * exit statuses that go with it; names of boot levels and phases.
 */
#include <string.h>

#include "boot.h"

static const char *const verdict_names[HTR_VERDICT_NR] = {
	[HTR_VERDICT_BOOTED] = "none",
	[HTR_VERDICT_PANIC] = "panic",
	[HTR_VERDICT_OOPS] = "oops",
	[HTR_VERDICT_HANG] = "hang",
	[HTR_VERDICT_CRASH] = "crash",
	[HTR_VERDICT_SILENT] = "silent",
	[HTR_VERDICT_INCOMPLETE] = "incomplete",
};

static const int verdict_exit[HTR_VERDICT_NR] = {
	[HTR_VERDICT_BOOTED] = HTR_EXIT_BOOTED,
	[HTR_VERDICT_PANIC] = HTR_EXIT_PANIC,
	[HTR_VERDICT_OOPS] = HTR_EXIT_PANIC,
	[HTR_VERDICT_HANG] = HTR_EXIT_HANG,
	[HTR_VERDICT_CRASH] = HTR_EXIT_CRASH,
	[HTR_VERDICT_SILENT] = HTR_EXIT_SILENT,
	[HTR_VERDICT_INCOMPLETE] = HTR_EXIT_CRASH,
};

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

/**
 * htr_level_name() - the kernel's name of a boot level
 * @level: enum ht_level (0-7, with HT_LEVEL_SYNC or-ed in for _sync)
 *
 * Return: a static string; "?" for a value the ABI does not define.
 */
const char *htr_level_name(int level)
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

/**
 * htr_phase_name() - the name of a start_kernel(), kernel_init() or
 * shutdown phase
 * @id: enum ht_phase, as a guest sent it
 *
 * Return: a static string; "phase" for a value the ABI does not define.
 */
const char *htr_phase_name(uint64_t id)
{
	if (id < sizeof(phase_names) / sizeof(phase_names[0]) && phase_names[id])
		return phase_names[id];
	return "phase";
}

/**
 * htr_boot_init() - start following a boot: nothing seen yet
 * @b: the state to reset
 */
void htr_boot_init(struct htr_boot *b)
{
	memset(b, 0, sizeof(*b));
	b->level = -1;
	b->fail_level = -1;
}

/* phase_end() - close @id and anything opened inside it */
static void phase_end(struct htr_boot *b, unsigned int id)
{
	unsigned int i = b->nphases;

	while (i--) {
		if (b->phases[i] == id) {
			b->nphases = i;
			return;
		}
	}
}

/* note_failure() - remember the failure that decides the verdict */
static void note_failure(struct htr_boot *b, const struct htr_boot_ev *e,
			 uint64_t initcall)
{
	size_t len = e->str_len < HT_STR_MAX ? e->str_len : HT_STR_MAX;

	b->fail_type = e->type;
	b->fail_tsc = e->tsc;
	b->fail_cpu = e->cpu;
	b->fail_initcall = initcall;
	b->fail_level = b->level;
	b->fail_phase = htr_boot_phase(b);
	memcpy(b->fail_msg, e->str ? e->str : "", e->str ? len : 0);
	b->fail_msg[e->str ? len : 0] = '\0';
}

/**
 * htr_boot_event() - what one decoded event tells about the boot
 * @b: the state
 * @e: the event (a guest's: every field is checked before it is used)
 */
void htr_boot_event(struct htr_boot *b, const struct htr_event *e)
{
	struct htr_boot_ev be = {
		.type = e->type, .cpu = e->cpu, .tsc = e->tsc, .a0 = e->a0,
		.a1 = e->a1, .str = e->str, .str_len = e->str_len,
	};

	htr_boot_feed(b, &be);
}

/**
 * htr_boot_feed() - what one event tells about the boot
 * @b: the state
 * @e: the event's fields (a guest's: each is checked before it is used)
 *
 * Idempotent for a repeated milestone; the first panic (or, before any
 * panic, the first oops or BUG) is the failure kept.
 */
void htr_boot_feed(struct htr_boot *b, const struct htr_boot_ev *e)
{
	b->events++;
	if (e->type != HT_EV_SETUP_ENTRY && e->type != HT_EV_DECOMP_BEGIN &&
	    e->type != HT_EV_DECOMP_END)
		b->kernel_started = true;
	if (e->type >= HT_EV_LEVEL_BEGIN || e->type == HT_EV_ANNOUNCE ||
	    e->type == HT_EV_EARLY_MOVED || e->type == HT_EV_RUN_INIT ||
	    e->type == HT_EV_USER_MARKER || e->type == HT_EV_BOOT_DONE)
		b->traced = true;
	switch (e->type) {
	case HT_EV_ANNOUNCE:
		b->area_gpa = e->a0;
		break;
	case HT_EV_PRINTK:
		b->printk_gpa = e->a0;
		break;
	case HT_EV_PHASE_BEGIN:
		if (b->nphases < HTR_BOOT_PHASE_DEPTH)
			b->phases[b->nphases++] = (unsigned int)e->a0;
		break;
	case HT_EV_PHASE_END:
		phase_end(b, (unsigned int)e->a0);
		break;
	case HT_EV_LEVEL_BEGIN:
		b->level = (int)e->a0;
		break;
	case HT_EV_INITCALL_BEGIN:
		b->initcall = e->a0;
		break;
	case HT_EV_INITCALL_END:
		if (b->initcall == e->a0) {
			b->initcall = 0;
			b->initcalls++;
		}
		break;
	case HT_EV_BOOT_DONE:
		b->booted = true;
		break;
	case HT_EV_MACHINE_CALL:
		b->machine_call = true;
		break;
	case HT_EV_OOPS:
	case HT_EV_BUG:
		if (!b->oopsed && !b->panicked)
			note_failure(b, e, b->initcall);
		b->oopsed = true;
		break;
	case HT_EV_PANIC:
		if (!b->panicked)
			note_failure(b, e, e->a0 ? e->a0 : b->initcall);
		b->panicked = true;
		break;
	}
}

/**
 * htr_boot_phase() - the innermost start_kernel()/kernel_init() phase open
 * @b: the state
 *
 * rest_init() never returns, so it stays open under kernel_init()'s phases.
 *
 * Return: an enum ht_phase value, 0 when none is open.
 */
unsigned int htr_boot_phase(const struct htr_boot *b)
{
	return b->nphases ? b->phases[b->nphases - 1] : 0;
}

/**
 * htr_boot_verdict() - what the boot came to: the one rule every tool uses
 * @b:    the events' account of the boot
 * @host: what the host saw (the watchdog, a reset, the end of the recording)
 *
 * A panic decides it, then a hang, then an oops; a boot that finished is
 * booted; otherwise a reset or QEMU's death is a crash, a recording that just stopped is
 * incomplete, a kernel whose tracing never came up is silent, and any
 * other early end is a crash.
 *
 * Return: the verdict.
 */
enum htr_verdict htr_boot_verdict(const struct htr_boot *b,
				  const struct htr_host_facts *host)
{
	if (b->panicked)
		return HTR_VERDICT_PANIC;
	if (host->hang)
		return HTR_VERDICT_HANG;
	if (b->oopsed)
		return HTR_VERDICT_OOPS;
	if (b->booted)
		return HTR_VERDICT_BOOTED;
	if (host->reset || host->died)
		return HTR_VERDICT_CRASH;
	if (!host->ended)
		return HTR_VERDICT_INCOMPLETE;
	if (!b->traced)
		return HTR_VERDICT_SILENT;
	return HTR_VERDICT_CRASH;
}

/**
 * htr_verdict_name() - the name a trace and the JSON report use
 * @v: a verdict
 *
 * Return: "none", "panic", "oops", "hang", "crash", "silent" or
 * "incomplete"; "?" for anything else.
 */
const char *htr_verdict_name(enum htr_verdict v)
{
	return (unsigned int)v < HTR_VERDICT_NR ? verdict_names[v] : "?";
}

/**
 * htr_verdict_parse() - a verdict from its name (a trace's END chunk)
 * @name: the name, may be NULL
 *
 * Return: the verdict, or HTR_VERDICT_NR when @name is not one.
 */
enum htr_verdict htr_verdict_parse(const char *name)
{
	unsigned int v;

	for (v = 0; name && v < HTR_VERDICT_NR; v++)
		if (!strcmp(name, verdict_names[v]))
			return (enum htr_verdict)v;
	return HTR_VERDICT_NR;
}

/**
 * htr_verdict_failed() - whether a verdict fails a boot
 * @v: a verdict
 *
 * Return: true for everything but HTR_VERDICT_BOOTED.
 */
bool htr_verdict_failed(enum htr_verdict v)
{
	return v != HTR_VERDICT_BOOTED;
}

/**
 * htr_verdict_exit() - the exit status that reports a verdict
 * @v: a verdict
 *
 * Return: an enum htr_exit value; HTR_EXIT_ERROR for an invalid @v.
 */
int htr_verdict_exit(enum htr_verdict v)
{
	return (unsigned int)v < HTR_VERDICT_NR ? verdict_exit[v] : HTR_EXIT_ERROR;
}

/**
 * htr_verdict_why() - what a verdict that has no guest message means
 * @v: a verdict
 *
 * Return: a sentence for a silent or incomplete boot, else NULL.
 */
const char *htr_verdict_why(enum htr_verdict v)
{
	switch (v) {
	case HTR_VERDICT_SILENT:
		return "the kernel's tracing never came up (nothing beyond its early boot): "
		       "booted with hypertrace=off, or a kernel without the Hypertrace series";
	case HTR_VERDICT_INCOMPLETE:
		return "the recording stopped before the boot finished";
	default:
		return NULL;
	}
}

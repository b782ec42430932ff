/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libhtrace: follow a boot event by event, and the one verdict contract.
 *
 * The collector feeds events as they arrive (for its progress line, the
 * hang watchdog and its exit status); the model feeds them in time order
 * while it loads a trace.  Both ask htr_boot_verdict() what the boot came
 * to, so a trace's failure kind and the collector's exit status can never
 * disagree.
 */
#ifndef _HTRACE_BOOT_H
#define _HTRACE_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htrace.h"

/*
 * What a boot came to.  The values are stable: the trace's END chunk
 * records the name, and htr_verdict_exit() gives the collector's exit
 * status.
 */
enum htr_verdict {
	HTR_VERDICT_BOOTED = 0,		/* the kernel finished its boot */
	HTR_VERDICT_PANIC,		/* the guest panicked */
	HTR_VERDICT_OOPS,		/* an oops (or BUG) and the boot never finished */
	HTR_VERDICT_HANG,		/* no progress for the hang timeout */
	HTR_VERDICT_CRASH,		/* QEMU died or the guest reset mid-boot */
	HTR_VERDICT_SILENT,		/* the kernel's tracing never came up:
					 * hypertrace=off, or no Hypertrace series */
	HTR_VERDICT_INCOMPLETE,		/* the recording stopped (the collector
					 * was killed) before the boot finished */
	HTR_VERDICT_NR,
};

/* Exit status of hypertrace-collector run/attach and of hypertrace boot. */
enum htr_exit {
	HTR_EXIT_BOOTED = 0,	/* boot completed */
	HTR_EXIT_ERROR = 1,	/* the tool itself failed */
	HTR_EXIT_USAGE = 2,	/* bad option or argument */
	HTR_EXIT_PANIC = 3,	/* the guest panicked, or oopsed fatally */
	HTR_EXIT_HANG = 4,	/* no guest progress for the hang timeout */
	HTR_EXIT_CRASH = 5,	/* QEMU died, the guest reset, or it ended
				 * without finishing its boot */
	HTR_EXIT_SILENT = 6,	/* the kernel reported nothing: booted with
				 * hypertrace=off, or built without the series */
};

#define HTR_BOOT_PHASE_DEPTH	8	/* nested phases tracked; deeper ones ignored */

/**
 * struct htr_boot - what the events so far say about the boot
 * @events:         events fed in
 * @kernel_started: an event from past the setup code and decompressor
 * @traced:         the kernel's tracing came up: its rings were announced,
 *                  or it reported a boot level, an initcall or later events
 *                  (a kernel booted with hypertrace=off writes only a few
 *                  early-buffer events, before it reads its command line)
 * @level:          boot level running now (enum ht_level), -1 before any
 * @initcall:       address of the initcall running now, 0 if none
 * @initcalls:      initcalls that finished
 * @phases:         open start_kernel()/kernel_init() phases, innermost last
 * @nphases:        how many of @phases are open
 * @booted:         BOOT_DONE seen
 * @machine_call:   MACHINE_CALL seen (the guest shuts down on purpose)
 * @panicked:       PANIC seen
 * @oopsed:         OOPS or BUG seen
 * @fail_type:      event type of the failure that decides the verdict, 0 if none
 * @fail_tsc:       its guest TSC
 * @fail_cpu:       its CPU
 * @fail_initcall:  the initcall it names (PANIC) or that was running, 0 if none
 * @fail_level:     the boot level running at the failure, -1 if none
 * @fail_phase:     the innermost phase open at the failure, 0 if none
 * @fail_msg:       its message (raw guest bytes)
 * @area_gpa:       guest-physical address ANNOUNCE gave, 0 before
 * @printk_gpa:     guest-physical address of struct ht_printk the last
 *                  PRINTK gave, 0 before
 */
struct htr_boot {
	uint64_t events;
	bool kernel_started;
	bool traced;
	int level;
	uint64_t initcall;
	uint64_t initcalls;
	unsigned int phases[HTR_BOOT_PHASE_DEPTH];
	unsigned int nphases;
	bool booted;
	bool machine_call;
	bool panicked;
	bool oopsed;
	unsigned int fail_type;
	uint64_t fail_tsc;
	unsigned int fail_cpu;
	uint64_t fail_initcall;
	int fail_level;
	unsigned int fail_phase;
	char fail_msg[HT_STR_MAX + 1];
	uint64_t area_gpa;
	uint64_t printk_gpa;
};

/**
 * struct htr_host_facts - what only the host knows about how a boot ended
 * @hang:   the hang watchdog fired
 * @reset:  the guest reset (a triple fault) before it finished booting
 * @died:   QEMU was killed or exited with an error status
 * @ended:  the recording finished (QEMU exited or was stopped); false when
 *          a trace ends without the collector's END chunk
 */
struct htr_host_facts {
	bool hang;
	bool reset;
	bool died;
	bool ended;
};

/**
 * struct htr_boot_ev - the fields of an event htr_boot_feed() looks at
 * @type:    enum ht_event_type
 * @cpu:     guest CPU
 * @tsc:     guest TSC
 * @a0:      first argument word
 * @a1:      second argument word
 * @str:     its string, or NULL
 * @str_len: bytes in @str (at most HT_STR_MAX are kept)
 */
struct htr_boot_ev {
	unsigned int type;
	unsigned int cpu;
	uint64_t tsc;
	uint64_t a0;
	uint64_t a1;
	const char *str;
	size_t str_len;
};

void htr_boot_init(struct htr_boot *b);
void htr_boot_event(struct htr_boot *b, const struct htr_event *e);
void htr_boot_feed(struct htr_boot *b, const struct htr_boot_ev *e);
unsigned int htr_boot_phase(const struct htr_boot *b);
enum htr_verdict htr_boot_verdict(const struct htr_boot *b,
				  const struct htr_host_facts *host);

const char *htr_verdict_name(enum htr_verdict v);
enum htr_verdict htr_verdict_parse(const char *name);
bool htr_verdict_failed(enum htr_verdict v);
int htr_verdict_exit(enum htr_verdict v);
const char *htr_verdict_why(enum htr_verdict v);

const char *htr_level_name(int level);
const char *htr_phase_name(uint64_t id);

#endif /* _HTRACE_BOOT_H */

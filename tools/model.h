/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The boot as the report sees it: phases, levels, initcalls, shutdown
 * steps and the failure, built once from a collector trace and shared by
 * the report subcommands.  Times are nanoseconds since the VM started
 * (the guest TSC's zero, which QEMU sets at VM reset).
 */
#ifndef _HT_TOOLS_MODEL_H
#define _HT_TOOLS_MODEL_H

#include <stdint.h>
#include <stdio.h>

#include "events.h"
#include "boot.h"
#include "symbols.h"

/**
 * struct span - something that began and ended (or never ended)
 * @name:     what it was (a phase, a function, a device); owned by the model
 * @addr:     code address, 0 if none
 * @cpu:      guest CPU it ran on
 * @level:    boot level (initcalls), else -1
 * @start_ns: when it began
 * @dur_ns:   how long it took; 0 with @open
 * @ret:      what it returned (initcalls, notifiers)
 * @open:     it never ended
 * @kind:     for shutdown steps: "phase", "notifier" or "device"
 */
struct span {
	char *name;
	const char *kind;
	uint64_t addr;
	unsigned int cpu;
	int level;
	uint64_t start_ns;
	uint64_t dur_ns;
	int64_t ret;
	bool open;
};

/**
 * struct span_list - a growable list of spans
 * @s:     the spans
 * @nr:    how many
 * @alloc: room
 */
struct span_list {
	struct span *s;
	size_t nr;
	size_t alloc;
};

/**
 * struct boot_model - everything the report says
 * @ev:          the events, sorted by time
 * @tsc_khz:     guest TSC rate used for every conversion
 * @syms:        kernel symbols (may be empty)
 * @accel:       accelerator from the metadata
 * @kernel:      kernel image from the metadata
 * @launch_ns:   QEMU's start-up: from the host launching it to the guest
 *               TSC's zero (known under TCG from the doorbell clock sync);
 *               every time below counts from the launch
 * @boot_ns:     end of the kernel's boot (BOOT_DONE), 0 if never
 * @user_ns:     first user marker, 0 if none
 * @end_ns:      last event
 * @ncpus:       CPUs seen
 * @lost:        records lost (counters, gaps, torn tail in records)
 * @phases:      pre-kernel phases and start_kernel/kernel_init phases
 * @levels:      boot levels
 * @initcalls:   initcalls, in order
 * @shutdown:    shutdown phases, notifiers and devices
 * @markers:     user markers (zero duration)
 * @verdict:     what the boot came to (libhtrace's one verdict)
 * @fail_kind:   its name: htr_verdict_name(@verdict)
 * @fail_msg:    the message, if any
 * @fail_initcall: name (or address) of the initcall running, if any
 * @fail_ns:     when
 */
struct boot_model {
	struct ev_list ev;
	uint64_t tsc_khz;
	struct htr_syms syms;
	char accel[32];
	char kernel[256];
	uint64_t launch_ns;
	uint64_t boot_ns;
	uint64_t user_ns;
	uint64_t end_ns;
	unsigned int ncpus;
	uint64_t lost;
	struct span_list phases;
	struct span_list levels;
	struct span_list initcalls;
	struct span_list shutdown;
	struct span_list markers;
	enum htr_verdict verdict;
	char fail_kind[16];
	char fail_msg[HT_STR_MAX + 1];
	char fail_initcall[160];
	uint64_t fail_ns;
};

int model_load(struct boot_model *m, const char *trace, const char *vmlinux,
	       const char *system_map);
void model_free(struct boot_model *m);
int model_write_json(const struct boot_model *m, FILE *f);
const char *level_name(int level);

#endif /* _HT_TOOLS_MODEL_H */

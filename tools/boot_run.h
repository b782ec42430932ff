/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * hypertrace boot and hypertrace replay: one QEMU command line for both.
 * boot_run.c builds hypertrace-collector's command line from struct
 * boot_opts, runs it and writes the reports; replay_file.c keeps what a
 * --record boot needs to be run again (OUTDIR/replay.json); replay_gdb.c
 * writes the gdb script of a replay; replay_check.c compares a replayed
 * trace with the recorded one.
 */
#ifndef _HT_TOOLS_BOOT_RUN_H
#define _HT_TOOLS_BOOT_RUN_H

#include <limits.h>
#include <stdbool.h>

#include "model.h"

#define BOOT_MAX_EXTRA	32	/* QEMU words after --, at most */

/**
 * struct boot_opts - what to boot, and how
 * @kernel:  the bzImage
 * @initrd:  an initramfs, or NULL
 * @append:  more kernel parameters
 * @vmlinux: its vmlinux, for names
 * @dir:     where the results go
 * @smp:     CPUs
 * @mem:     guest RAM in MB
 * @accel:   auto, kvm or tcg
 * @clock:   real or icount
 * @clock_given: --clock was on the command line
 * @hang:    the hang timeout in seconds
 * @vmcore:  dump the guest's memory if the boot fails
 * @quiet:   no progress
 * @record:  --record: QEMU's record/replay log to write, else NULL
 * @replay:  the log to replay (hypertrace replay), else NULL
 * @gdb:     the gdbstub's socket (replay --gdb), else NULL
 * @extra:   QEMU words after --
 * @nextra:  how many
 */
struct boot_opts {
	const char *kernel;
	const char *initrd;
	const char *append;
	const char *vmlinux;
	const char *dir;
	const char *smp;
	const char *mem;
	const char *accel;
	const char *clock;
	bool clock_given;
	const char *hang;
	bool vmcore;
	bool quiet;
	const char *record;
	const char *replay;
	const char *gdb;
	char **extra;
	int nextra;
};

/**
 * struct boot_paths - the strings the collector's command line points into
 * @coll:    the collector
 * @trace:   OUTDIR/trace.htf
 * @vmcore:  OUTDIR/trace.vmcore, where the collector's --vmcore writes
 * @console: QEMU's serial chardev into OUTDIR/console.log
 * @cmdline: the kernel command line
 * @gdb:     the -gdb chardev of replay --gdb
 */
struct boot_paths {
	char coll[PATH_MAX];
	char trace[PATH_MAX + 16];
	char vmcore[PATH_MAX + 16];
	char console[PATH_MAX + 32];
	char cmdline[4096];
	char gdb[PATH_MAX + 32];
};

int boot_collect(const struct boot_opts *o, struct boot_paths *p, int *status);
int boot_reports(const char *dir, const char *trace, const char *vmlinux);

/* replay_file.c: OUTDIR/replay.json, what replay needs to run the boot again */
#define REPLAY_JSON	"replay.json"
#define REPLAY_LOG	"replay.bin"

/**
 * struct replay_desc - a recorded boot, as replay.json describes it
 * @o:      the boot's options (strings owned by @json)
 * @extra:  its QEMU words after --
 * @json:   the parsed file
 * @log:    DIR/replay.bin
 * @trace:  DIR/trace.htf, the recorded trace
 */
struct replay_desc {
	struct boot_opts o;
	char *extra[BOOT_MAX_EXTRA];
	void *json;
	char log[PATH_MAX + 16];
	char trace[PATH_MAX + 16];
};

int replay_save(const struct boot_opts *o);
int replay_load(struct replay_desc *d, const char *dir);
void replay_desc_free(struct replay_desc *d);

/* replay_gdb.c */
int replay_gdb_script(const char *path, const char *sock, const struct boot_model *m,
		      const char *vmlinux);

/* replay_check.c */
int replay_same(const struct boot_model *a, const struct boot_model *b, char *why,
		size_t len);

#endif /* _HT_TOOLS_BOOT_RUN_H */

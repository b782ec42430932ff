// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace boot: boot a kernel built with the Hypertrace series under
 * QEMU, recorded by hypertrace-collector, and write its boot report: the
 * main job in one command.  With --record, QEMU also records the boot's
 * execution (record/replay) for hypertrace replay.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot.h"
#include "boot_run.h"
#include "cmds.h"
#include "util.h"

/* boot_usage() - help text */
static void boot_usage(FILE *f)
{
	fprintf(f,
		"usage: %s boot --kernel BZIMAGE [options] [-- EXTRA-QEMU-ARGS...]\n\n"
		"Boot a kernel built with the Hypertrace patches under QEMU (KVM when it\n"
		"really runs the guest, TCG otherwise), record it with\n"
		"hypertrace-collector, and write OUTDIR/trace.htf, report.txt,\n"
		"report.html and console.log.\n\n"
		"  -k, --kernel FILE       the bzImage (required)\n"
		"  -i, --initrd FILE       an initramfs\n"
		"  -a, --append ARGS       more kernel parameters\n"
		"      --vmlinux FILE      its vmlinux, for names (default: next to the bzImage)\n"
		"  -o, --output DIR        where the results go (default hypertrace-boot)\n"
		"      --smp N             CPUs (default 2; 1 with --clock icount)\n"
		"  -m, --memory MB         guest RAM (default 256)\n"
		"      --accel auto|kvm|tcg  (default auto)\n"
		"      --clock real|icount  icount: virtual time, QEMU counting the guest's\n"
		"                          instructions (TCG, one CPU): the same kernel boots\n"
		"                          in the same time whatever the host does\n"
		"      --record            QEMU records the boot's execution into\n"
		"                          OUTDIR/replay.bin (and OUTDIR/replay.json), so that\n"
		"                          'hypertrace replay OUTDIR' runs it again exactly;\n"
		"                          implies --clock icount\n"
		"      --hang-timeout S    no guest progress this long is a hang (default 30)\n"
		"      --vmcore            if the boot fails, QEMU's ELF dump of the guest\n"
		"                          into OUTDIR/trace.vmcore (crash, vmcore-dmesg)\n"
		"  -q, --quiet             no progress\n"
		"  -h, --help              this text\n\n"
		"Exit status: the collector's: 0 boot completed; 1 error; 2 usage; 3 guest\n"
		"panic (or fatal oops); 4 guest hang; 5 guest crash; 6 the kernel's tracing\n"
		"never came up (hypertrace=off, or no series).  The report is written\n"
		"in every case where a trace exists.\n", prog);
}

/* parse_opt() - one option into @o; -1 to go on, else the exit status */
static int parse_opt(int c, struct boot_opts *o)
{
	switch (c) {
	case 'k': o->kernel = optarg; break;
	case 'i': o->initrd = optarg; break;
	case 'a': o->append = optarg; break;
	case 'V': o->vmlinux = optarg; break;
	case 'o': o->dir = optarg; break;
	case 'S': o->smp = optarg; break;
	case 'm': o->mem = optarg; break;
	case 'A': o->accel = optarg; break;
	case 'K': o->clock = optarg; o->clock_given = true; break;
	case 'H': o->hang = optarg; break;
	case 'C': o->vmcore = true; break;
	case 'R': o->record = REPLAY_LOG; break;
	case 'q': o->quiet = true; break;
	case 'h':
		boot_usage(stdout);
		return EXIT_OK;
	default:
		boot_usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

/* check_opts() - what the options need of each other; -1 to go on, else the exit status */
static int check_opts(struct boot_opts *o)
{
	if (!o->kernel) {
		err_msg("boot: --kernel BZIMAGE is required\n");
		boot_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(o->clock, "real") && strcmp(o->clock, "icount")) {
		err_msg("boot: --clock is real or icount, not '%s'\n", o->clock);
		return EXIT_USAGE;
	}
	if (o->record) {
		if (o->clock_given && strcmp(o->clock, "icount")) {
			err_msg("boot: --record needs --clock icount: QEMU records and replays "
				"only under instruction counting\n");
			return EXIT_USAGE;
		}
		o->clock = "icount";
	}
	if (!o->smp)
		o->smp = strcmp(o->clock, "icount") ? "2" : "1";
	if (o->nextra > BOOT_MAX_EXTRA) {
		err_msg("boot: too many extra QEMU arguments\n");
		return EXIT_USAGE;
	}
	return -1;
}

/* parse_boot() - the options into @o; -1 to go on, else the exit status */
static int parse_boot(int argc, char **argv, struct boot_opts *o)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "vmlinux", required_argument, NULL, 'V' },
		{ "output", required_argument, NULL, 'o' },
		{ "smp", required_argument, NULL, 'S' },
		{ "memory", required_argument, NULL, 'm' },
		{ "accel", required_argument, NULL, 'A' },
		{ "clock", required_argument, NULL, 'K' },
		{ "record", no_argument, NULL, 'R' },
		{ "hang-timeout", required_argument, NULL, 'H' },
		{ "vmcore", no_argument, NULL, 'C' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	while ((c = getopt_long(argc, argv, "+k:i:a:o:m:qh", opts, NULL)) != -1) {
		ret = parse_opt(c, o);
		if (ret >= 0)
			return ret;
	}
	o->extra = argv + optind;
	o->nextra = argc - optind;
	return check_opts(o);
}

/* cmd_boot() - hypertrace boot */
int cmd_boot(int argc, char **argv)
{
	struct boot_opts o = {
		.append = "", .dir = "hypertrace-boot", .mem = "256",
		.accel = "auto", .clock = "real", .hang = "30",
	};
	static struct boot_paths p;
	char vml[PATH_MAX + 16], self[PATH_MAX], log[PATH_MAX + 16], desc[PATH_MAX + 16];
	int status, ret;

	status = parse_boot(argc, argv, &o);
	if (status >= 0)
		return status;
	if (access(o.kernel, R_OK) || (o.initrd && access(o.initrd, R_OK))) {
		err_msg("boot: cannot read %s\n", access(o.kernel, R_OK) ? o.kernel : o.initrd);
		return EXIT_FAIL;
	}
	if (!o.vmlinux) {
		/* the kernel build tree keeps vmlinux next to (or above) bzImage */
		snprintf(self, sizeof(self), "%s", o.kernel);
		*(strrchr(self, '/') ? strrchr(self, '/') + 1 : self) = '\0';
		snprintf(vml, sizeof(vml), "%svmlinux", self);
		o.vmlinux = vml;
	}
	if (mkdir(o.dir, 0700) < 0 && errno != EEXIST) {
		err_msg("boot: cannot create %s: %s\n", o.dir, strerror(errno));
		return EXIT_FAIL;
	}
	if (o.record) {
		/* a recording of an earlier boot in OUTDIR is replaced, as its trace is */
		snprintf(log, sizeof(log), "%s/%s", o.dir, REPLAY_LOG);
		unlink(log);
		snprintf(desc, sizeof(desc), "%s/%s", o.dir, REPLAY_JSON);
		unlink(desc);
		o.record = log;
	}
	ret = boot_collect(&o, &p, &status);
	if (ret)
		return ret;
	if (o.record && replay_save(&o))
		err_msg("boot: the recording in %s cannot be replayed without %s/%s\n",
			o.record, o.dir, REPLAY_JSON);
	if (boot_reports(o.dir, p.trace, o.vmlinux))
		err_msg("boot: could not write every report into %s\n", o.dir);
	if (!o.quiet)
		fprintf(stderr, "%s: report in %s/report.html (text: report.txt, JSON: report.json)%s\n",
			prog, o.dir, o.record ? "; replay it with 'hypertrace replay'" : "");
	return status;
}

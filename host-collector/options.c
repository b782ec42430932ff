// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: the command line of run and attach.  One table
 * says which options each command takes, what they mean and (in
 * opts_defaults()) what they default to; one parser reads them, and the
 * help text is printed from the same table.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "clock_kvm.h"
#include "record.h"

#define HELP_COL	26	/* column where an option's help starts */

enum opt_id {
	OPT_OUTPUT = 'o',
	OPT_QUIET = 'q',
	OPT_HELP = 'h',
	OPT_ACCEL = 256,
	OPT_KVM_PROBE,
	OPT_HANG,
	OPT_TIMEOUT,
	OPT_STOP_AFTER_BOOT,
	OPT_VMLINUX,
	OPT_HC_EVENT,
	OPT_DIR,
	OPT_KEEP_RAM,
	OPT_QMP,
	OPT_RAM,
	OPT_DOORBELL,
	OPT_PID,
	OPT_DEBUGFS,
	OPT_VMCORE,
	OPT_NO_SCHED,
	OPT_NO_HINTS,
	OPT_CLOCK,
	OPT_RECORD,
	OPT_REPLAY,
};

/**
 * struct opt_def - one option
 * @name: long name
 * @arg:  the argument's name in the help, NULL for a flag
 * @id:   enum opt_id (a short option's letter)
 * @cmds: the commands that take it (enum coll_cmd bits)
 * @help: what it does; a '\n' continues on the next line
 */
struct opt_def {
	const char *name;
	const char *arg;
	int id;
	unsigned int cmds;
	const char *help;
};

#define BOTH	(CMD_RUN | CMD_ATTACH)

static const struct opt_def opt_defs[] = {
	{ "output", "FILE", OPT_OUTPUT, BOTH,
	  "trace file (default hypertrace.htf; must not exist)" },
	{ "qmp", "SOCKET", OPT_QMP, CMD_ATTACH, "QEMU's QMP socket (server mode)" },
	{ "ram", "FILE", OPT_RAM, CMD_ATTACH,
	  "the guest RAM file (memory-backend-file,share=on)" },
	{ "doorbell", "SOCKET", OPT_DOORBELL, CMD_ATTACH,
	  "isa-debugcon chardev socket in server mode, if any" },
	{ "pid", "PID", OPT_PID, CMD_ATTACH, "QEMU's pid, to notice its exit" },
	{ "accel", "auto|kvm|tcg", OPT_ACCEL, CMD_RUN,
	  "auto: KVM if it really runs this guest, else TCG" },
	{ "clock", "real|icount", OPT_CLOCK, CMD_RUN,
	  "icount: virtual time, QEMU counting instructions\n"
	  "(TCG, one CPU; -icount " ICOUNT_SPEC ")" },
	{ "record", "FILE", OPT_RECORD, CMD_RUN,
	  "QEMU's record/replay log of the boot into FILE\n"
	  "(0600; must not exist; implies --clock icount)" },
	{ "replay", "FILE", OPT_REPLAY, CMD_RUN,
	  "replay the boot --record FILE recorded, with the\n"
	  "same QEMU command line (implies --clock icount)" },
	{ "kvm-probe", "SECONDS", OPT_KVM_PROBE, CMD_RUN,
	  "time KVM gets to start the kernel proper (10)" },
	{ "hang-timeout", "SECONDS", OPT_HANG, BOTH,
	  "no guest progress this long is a hang (30)" },
	{ "timeout", "SECONDS", OPT_TIMEOUT, BOTH,
	  "stop recording after this long (0: never)" },
	{ "stop-after-boot", NULL, OPT_STOP_AFTER_BOOT, CMD_RUN,
	  "quit QEMU once the kernel's boot is done" },
	{ "vmlinux", "FILE", OPT_VMLINUX, BOTH,
	  "the guest kernel's vmlinux: build-id, symbol names" },
	{ "hypercall-event", "SYSTEM:EVENT", OPT_HC_EVENT, CMD_RUN,
	  "tracepoint of KVM hypercalls (kvm:kvm_hypercall)" },
	{ "debugfs", "DIR", OPT_DEBUGFS, BOTH,
	  "debugfs, for KVM's per-vCPU TSC offsets (/sys/kernel/debug)" },
	{ "dir", "DIR", OPT_DIR, CMD_RUN,
	  "parent of the private directory ($TMPDIR or /tmp)" },
	{ "keep-ram", NULL, OPT_KEEP_RAM, CMD_RUN,
	  "keep the guest RAM file (it holds guest secrets)" },
	{ "vmcore", NULL, OPT_VMCORE, BOTH,
	  "at a panic or hang, QEMU's ELF dump of guest RAM\n"
	  "into TRACE.vmcore (0600; for crash, vmcore-dmesg)" },
	{ "no-sched", NULL, OPT_NO_SCHED, BOTH,
	  "no host scheduler events of the vCPU threads" },
	{ "no-hints", NULL, OPT_NO_HINTS, BOTH,
	  "do not write each vCPU's host CPU and run delay\n"
	  "into its ring header (the guest's in-band hints)" },
	{ "quiet", NULL, OPT_QUIET, BOTH, "no progress line" },
	{ "help", NULL, OPT_HELP, BOTH, "this text" },
};

#define NOPTS	(sizeof(opt_defs) / sizeof(opt_defs[0]))

/* opts_defaults() - every option's default, for both commands */
static void opts_defaults(struct run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->output = "hypertrace.htf";
	o->accel = ACCEL_AUTO;
	o->kvm_probe_s = 10;
	o->hang_s = 30;
	o->hc_system = "kvm";
	o->hc_event = "kvm_hypercall";
	o->dir_parent = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	o->debugfs = CLOCK_KVM_DEBUGFS;
}

/* print_opt() - one option's help line(s) */
static void print_opt(FILE *f, const struct opt_def *d)
{
	char left[64], letter[8] = "    ";
	const char *h;
	int n;

	if (d->id < 256)
		snprintf(letter, sizeof(letter), "-%c, ", d->id);
	n = snprintf(left, sizeof(left), "  %s--%s%s%s", letter, d->name,
		     d->arg ? " " : "", d->arg ? d->arg : "");
	fputs(left, f);
	if (n <= HELP_COL - 2)
		fprintf(f, "%*s", HELP_COL - n, "");
	else if (n + 2 + strcspn(d->help, "\n") <= 80)
		fputs("  ", f);
	else
		fprintf(f, "\n%*s", HELP_COL, "");
	for (h = d->help; *h; h++) {
		fputc(*h, f);
		if (*h == '\n')
			fprintf(f, "%*s", HELP_COL, "");
	}
	fputc('\n', f);
}

/**
 * opts_usage() - the help text of a command
 * @cmd: CMD_RUN or CMD_ATTACH
 * @f:   where to print it
 */
void opts_usage(enum coll_cmd cmd, FILE *f)
{
	unsigned int i;

	if (cmd == CMD_RUN)
		fputs("usage: hypertrace-collector run [options] -- QEMU-COMMAND...\n\n"
		      "Launch QEMU with guest RAM in a shared file, the Hypertrace doorbell on\n"
		      "an isa-debugcon socket, QMP and pvpanic, and record the boot into a trace\n"
		      "file until the guest powers off, panics, hangs or QEMU exits.\n\n", f);
	else
		fputs("usage: hypertrace-collector attach [options] --qmp SOCKET --ram FILE\n\n"
		      "Record a VM that is already running (a libvirt-managed guest, say) whose\n"
		      "RAM is a shared memory-backend-file and whose QMP socket listens at\n"
		      "SOCKET.  Recording ends when QEMU exits or closes QMP; a hang pauses the\n"
		      "VM (QMP stop) rather than killing it.\n\n", f);
	for (i = 0; i < NOPTS; i++)
		if (opt_defs[i].cmds & cmd)
			print_opt(f, &opt_defs[i]);
	fputs("\nExit status: 0 boot completed; 1 collector error; 2 usage error; 3 guest\n"
	      "panic; 4 guest hang; 5 guest crash (QEMU died, the guest reset, or it\n"
	      "stopped before its boot finished); 6 the kernel's tracing never came up\n"
	      "(booted with hypertrace=off, or a kernel without the Hypertrace\n"
	      "series).\n", f);
}

/* parse_seconds() - a non-negative number of seconds; 0 or -1 */
static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v < 0 || v > 86400 * 365)
		return -1;
	*out = v;
	return 0;
}

/* parse_hc_event() - SYSTEM:EVENT into @o; 0 or -1 */
static int parse_hc_event(struct run_opts *o, const char *s)
{
	char *colon;

	snprintf(o->hc_buf, sizeof(o->hc_buf), "%s", s);
	colon = strchr(o->hc_buf, ':');
	if (!colon || colon == o->hc_buf || !colon[1])
		return -1;
	*colon = '\0';
	o->hc_system = o->hc_buf;
	o->hc_event = colon + 1;
	return 0;
}

/* parse_one() - the value of option @id into @o; 0 or -1 if it is bad */
static int parse_one(struct run_opts *o, int id, const char *arg)
{
	char *end;
	long pid;

	switch (id) {
	case OPT_OUTPUT:
		o->output = arg;
		return 0;
	case OPT_ACCEL:
		if (!strcmp(arg, "auto"))
			o->accel = ACCEL_AUTO;
		else if (!strcmp(arg, "kvm"))
			o->accel = ACCEL_KVM;
		else if (!strcmp(arg, "tcg"))
			o->accel = ACCEL_TCG;
		else
			return -1;
		return 0;
	case OPT_CLOCK:
		if (strcmp(arg, "real") && strcmp(arg, "icount"))
			return -1;
		o->icount = !strcmp(arg, "icount");
		o->clock_given = true;
		return 0;
	case OPT_RECORD:
	case OPT_REPLAY:
		if (o->rr != RR_NONE)
			return -1;
		o->rr = id == OPT_RECORD ? RR_RECORD : RR_REPLAY;
		o->rrfile = arg;
		return 0;
	case OPT_KVM_PROBE:
		return parse_seconds(arg, &o->kvm_probe_s);
	case OPT_HANG:
		return parse_seconds(arg, &o->hang_s) || o->hang_s == 0 ? -1 : 0;
	case OPT_TIMEOUT:
		return parse_seconds(arg, &o->timeout_s);
	case OPT_STOP_AFTER_BOOT:
		o->stop_after_boot = true;
		return 0;
	case OPT_VMLINUX:
		o->vmlinux = arg;
		return 0;
	case OPT_HC_EVENT:
		return parse_hc_event(o, arg);
	case OPT_DIR:
		o->dir_parent = arg;
		return 0;
	case OPT_KEEP_RAM:
		o->keep_ram = true;
		return 0;
	case OPT_VMCORE:
		o->vmcore = true;
		return 0;
	case OPT_NO_SCHED:
		o->no_sched = true;
		return 0;
	case OPT_NO_HINTS:
		o->no_hints = true;
		return 0;
	case OPT_QUIET:
		o->quiet = true;
		return 0;
	case OPT_QMP:
		o->qmp = arg;
		return 0;
	case OPT_RAM:
		o->ram = arg;
		return 0;
	case OPT_DEBUGFS:
		o->debugfs = arg;
		return 0;
	case OPT_DOORBELL:
		o->doorbell = arg;
		return 0;
	case OPT_PID:
		pid = strtol(arg, &end, 10);
		if (end == arg || *end || pid <= 0 || pid > INT32_MAX)
			return -1;
		o->pid = (pid_t)pid;
		return 0;
	}
	return -1;
}

/*
 * check_rr() - --record and --replay need the icount clock, and a log
 * path QEMU's option syntax can carry; 0 or the usage exit status
 */
static int check_rr(struct run_opts *o)
{
	const char *what = o->rr == RR_RECORD ? "--record" : "--replay";

	if (o->rr == RR_NONE)
		return 0;
	if (o->clock_given && !o->icount) {
		coll_err("run: %s needs --clock icount: QEMU records and replays only under "
			 "instruction counting\n", what);
		return HTR_EXIT_USAGE;
	}
	/* -icount ...,rrfile=PATH: a comma would end the path */
	if (!*o->rrfile || strchr(o->rrfile, ',')) {
		coll_err("run: %s '%s': QEMU's -icount rrfile= cannot take an empty path "
			 "or one with a comma\n", what, o->rrfile);
		return HTR_EXIT_USAGE;
	}
	o->icount = true;
	return 0;
}

/* check_args() - what is left after the options, per command; 0 or exit status */
static int check_args(enum coll_cmd cmd, int argc, char **argv, struct run_opts *o)
{
	if (cmd == CMD_RUN) {
		if (optind >= argc) {
			coll_err("run: no QEMU command line; give it after --\n");
			return HTR_EXIT_USAGE;
		}
		o->qemu_argc = argc - optind;
		o->qemu_argv = argv + optind;
		return check_rr(o);
	}
	if (!o->qmp || !o->ram || optind != argc) {
		coll_err("attach: --qmp and --ram are required, and nothing else\n");
		opts_usage(cmd, stderr);
		return HTR_EXIT_USAGE;
	}
	return 0;
}

/**
 * opts_parse() - fill @o from the command line of @cmd
 * @cmd:  CMD_RUN or CMD_ATTACH
 * @argc: the command's arguments, its name first
 * @argv: their words
 * @o:    the options; every one the command does not take keeps its default
 *
 * Return: 0; OPTS_HELP when --help was printed; HTR_EXIT_USAGE after saying
 * what was wrong.
 */
int opts_parse(enum coll_cmd cmd, int argc, char **argv, struct run_opts *o)
{
	const char *name = cmd == CMD_RUN ? "run" : "attach";
	struct option lo[NOPTS + 1];
	unsigned int i, n = 0;
	int c;

	opts_defaults(o);
	for (i = 0; i < NOPTS; i++) {
		if (!(opt_defs[i].cmds & cmd))
			continue;
		lo[n].name = opt_defs[i].name;
		lo[n].has_arg = opt_defs[i].arg ? required_argument : no_argument;
		lo[n].flag = NULL;
		lo[n++].val = opt_defs[i].id;
	}
	memset(&lo[n], 0, sizeof(lo[n]));
	/* '+': stop at the first word that is not an option (QEMU's command) */
	while ((c = getopt_long(argc, argv, "+o:qh", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			opts_usage(cmd, stdout);
			return OPTS_HELP;
		}
		if (c == '?' || c == ':') {
			opts_usage(cmd, stderr);
			return HTR_EXIT_USAGE;
		}
		if (parse_one(o, c, optarg)) {
			if ((c == OPT_RECORD || c == OPT_REPLAY) && o->rrfile != optarg)
				coll_err("%s: give one --record or --replay\n", name);
			else
				coll_err("%s: invalid value '%s'\n", name, optarg);
			return HTR_EXIT_USAGE;
		}
	}
	return check_args(cmd, argc, argv, o);
}

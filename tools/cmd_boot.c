// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace boot: boot a kernel built with the Hypertrace series under
 * QEMU, recorded by hypertrace-collector, and write its boot report: the
 * main job in one command.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot.h"
#include "cmds.h"
#include "options.h"
#include "util.h"
#include "writers.h"

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

/* sibling() - a program next to this one, or its bare name for $PATH */
static void sibling(const char *name, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	snprintf(out, len, "%s", name);
	if (n <= 0)
		return;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return;
	*slash = '\0';
	if ((size_t)snprintf(out, len, "%s/%s", self, name) >= len || access(out, X_OK))
		snprintf(out, len, "%s", name);
}

/* run_tool() - run argv and wait for it; its exit status, or -1 */
static int run_tool(char **argv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "%s: cannot run %s: %s\n", prog, argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* write_text() - report.txt (a tool_write() callback) */
static int write_text(FILE *f, const void *m)
{
	return report_write_text(m, f, 15);
}

/* write_json() - report.json (a tool_write() callback) */
static int write_json(FILE *f, const void *m)
{
	return model_write_json(m, f);
}

/* write_page() - report.html (a tool_write() callback) */
static int write_page(FILE *f, const void *m)
{
	return html_write(m, f);
}

/* write_reports() - report.txt, report.json and report.html from one load of the trace */
static int write_reports(const char *dir, const char *trace, const char *vmlinux)
{
	static const struct {
		const char *name;
		int (*fn)(FILE *f, const void *m);
	} what[] = {
		{ "report.txt", write_text },
		{ "report.json", write_json },
		{ "report.html", write_page },
	};
	char out[PATH_MAX + 16];
	struct boot_model m;
	size_t i;
	int err = 0;

	if (model_load(&m, trace, access(vmlinux, R_OK) ? NULL : vmlinux, NULL))
		return -EINVAL;
	for (i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		snprintf(out, sizeof(out), "%s/%s", dir, what[i].name);
		if (tool_write("boot", out, what[i].fn, &m))
			err = -EIO;
	}
	model_free(&m);
	return err;
}

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
 * @hang:    the hang timeout in seconds
 * @vmcore:  dump the guest's memory if the boot fails
 * @quiet:   no progress
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
	const char *hang;
	bool vmcore;
	bool quiet;
};

/**
 * struct boot_paths - the strings the collector's command line points into
 * @coll:    the collector
 * @trace:   OUTDIR/trace.htf
 * @vmcore:  OUTDIR/trace.vmcore, where the collector's --vmcore writes
 * @console: QEMU's serial chardev into OUTDIR/console.log
 * @cmdline: the kernel command line
 */
struct boot_paths {
	char coll[PATH_MAX];
	char trace[PATH_MAX + 16];
	char vmcore[PATH_MAX + 16];
	char console[PATH_MAX + 32];
	char cmdline[4096];
};

/* collector_argv() - hypertrace-collector run ... -- qemu-system-x86_64 ... EXTRA */
static void collector_argv(const struct boot_opts *o, struct boot_paths *p, char **av,
			   char **extra, int nextra)
{
	int n = 0, i;

	snprintf(p->trace, sizeof(p->trace), "%s/trace.htf", o->dir);
	snprintf(p->vmcore, sizeof(p->vmcore), "%s/trace.vmcore", o->dir);
	snprintf(p->console, sizeof(p->console), "file:%s/console.log", o->dir);
	snprintf(p->cmdline, sizeof(p->cmdline), "console=ttyS0 panic=-1 %s", o->append);
	sibling("hypertrace-collector", p->coll, sizeof(p->coll));
	av[n++] = p->coll;
	av[n++] = "run";
	av[n++] = "-o";
	av[n++] = p->trace;
	av[n++] = "--accel";
	av[n++] = (char *)o->accel;
	av[n++] = "--clock";
	av[n++] = (char *)o->clock;
	av[n++] = "--hang-timeout";
	av[n++] = (char *)o->hang;
	if (!access(o->vmlinux, R_OK)) {
		av[n++] = "--vmlinux";
		av[n++] = (char *)o->vmlinux;
	}
	if (o->vmcore)
		av[n++] = "--vmcore";
	if (o->quiet)
		av[n++] = "-q";
	av[n++] = "--";
	av[n++] = "qemu-system-x86_64";
	av[n++] = "-m";
	av[n++] = (char *)o->mem;
	av[n++] = "-smp";
	av[n++] = (char *)o->smp;
	av[n++] = "-display";
	av[n++] = "none";
	av[n++] = "-monitor";
	av[n++] = "none";
	av[n++] = "-no-reboot";
	av[n++] = "-serial";
	av[n++] = p->console;
	av[n++] = "-kernel";
	av[n++] = (char *)o->kernel;
	if (o->initrd) {
		av[n++] = "-initrd";
		av[n++] = (char *)o->initrd;
	}
	av[n++] = "-append";
	av[n++] = p->cmdline;
	for (i = 0; i < nextra; i++)
		av[n++] = extra[i];
	av[n] = NULL;
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
		{ "hang-timeout", required_argument, NULL, 'H' },
		{ "vmcore", no_argument, NULL, 'C' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+k:i:a:o:m:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'k': o->kernel = optarg; break;
		case 'i': o->initrd = optarg; break;
		case 'a': o->append = optarg; break;
		case 'V': o->vmlinux = optarg; break;
		case 'o': o->dir = optarg; break;
		case 'S': o->smp = optarg; break;
		case 'm': o->mem = optarg; break;
		case 'A': o->accel = optarg; break;
		case 'K': o->clock = optarg; break;
		case 'H': o->hang = optarg; break;
		case 'C': o->vmcore = true; break;
		case 'q': o->quiet = true; break;
		case 'h':
			boot_usage(stdout);
			return EXIT_OK;
		default:
			boot_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!o->kernel) {
		err_msg("boot: --kernel BZIMAGE is required\n");
		boot_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(o->clock, "real") && strcmp(o->clock, "icount")) {
		err_msg("boot: --clock is real or icount, not '%s'\n", o->clock);
		return EXIT_USAGE;
	}
	if (!o->smp)
		o->smp = strcmp(o->clock, "icount") ? "2" : "1";
	if (argc - optind > 32) {
		err_msg("boot: too many extra QEMU arguments\n");
		return EXIT_USAGE;
	}
	return -1;
}

/* cmd_boot() - hypertrace boot */
int cmd_boot(int argc, char **argv)
{
	struct boot_opts o = {
		.append = "", .dir = "hypertrace-boot", .mem = "256",
		.accel = "auto", .clock = "real", .hang = "30",
	};
	static struct boot_paths p;
	char vml[PATH_MAX + 16], self[PATH_MAX];
	char *av[64 + 32];
	int status;

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
	collector_argv(&o, &p, av, argv + optind, argc - optind);
	unlink(p.trace);
	unlink(p.vmcore);
	status = run_tool(av);
	if (status < 0 || status == HTR_EXIT_ERROR || status == HTR_EXIT_USAGE ||
	    access(p.trace, R_OK)) {
		err_msg("boot: the collector failed (status %d); see its messages\n", status);
		/* the options it refused were ours to pass: a usage error */
		return status == HTR_EXIT_USAGE ? EXIT_USAGE : EXIT_FAIL;
	}
	if (write_reports(o.dir, p.trace, o.vmlinux))
		err_msg("boot: could not write every report into %s\n", o.dir);
	if (!o.quiet)
		fprintf(stderr, "%s: report in %s/report.html (text: report.txt, JSON: report.json)\n",
			prog, o.dir);
	return status;
}

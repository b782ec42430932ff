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
		"      --smp N             CPUs (default 2)\n"
		"  -m, --memory MB         guest RAM (default 256)\n"
		"      --accel auto|kvm|tcg  (default auto)\n"
		"      --hang-timeout S    no guest progress this long is a hang (default 30)\n"
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

/* cmd_boot() - hypertrace boot */
int cmd_boot(int argc, char **argv)
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
		{ "hang-timeout", required_argument, NULL, 'H' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kernel = NULL, *initrd = NULL, *append = "", *vmlinux = NULL;
	const char *dir = "hypertrace-boot", *smp = "2", *mem = "256", *accel = "auto";
	const char *hang = "30";
	char coll[PATH_MAX], trace[PATH_MAX + 16], console[PATH_MAX + 32];
	char cmdline[4096], vml[PATH_MAX + 16], self[PATH_MAX];
	char *av[64 + 32];
	bool quiet = false;
	int c, n = 0, i, status;

	while ((c = getopt_long(argc, argv, "+k:i:a:o:m:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'k': kernel = optarg; break;
		case 'i': initrd = optarg; break;
		case 'a': append = optarg; break;
		case 'V': vmlinux = optarg; break;
		case 'o': dir = optarg; break;
		case 'S': smp = optarg; break;
		case 'm': mem = optarg; break;
		case 'A': accel = optarg; break;
		case 'H': hang = optarg; break;
		case 'q': quiet = true; break;
		case 'h':
			boot_usage(stdout);
			return EXIT_OK;
		default:
			boot_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!kernel) {
		err_msg("boot: --kernel BZIMAGE is required\n");
		boot_usage(stderr);
		return EXIT_USAGE;
	}
	if (access(kernel, R_OK) || (initrd && access(initrd, R_OK))) {
		err_msg("boot: cannot read %s\n", access(kernel, R_OK) ? kernel : initrd);
		return EXIT_FAIL;
	}
	if (argc - optind > 32) {
		err_msg("boot: too many extra QEMU arguments\n");
		return EXIT_USAGE;
	}
	if (!vmlinux) {
		/* the kernel build tree keeps vmlinux next to (or above) bzImage */
		snprintf(self, sizeof(self), "%s", kernel);
		*(strrchr(self, '/') ? strrchr(self, '/') + 1 : self) = '\0';
		snprintf(vml, sizeof(vml), "%svmlinux", self);
		vmlinux = vml;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		err_msg("boot: cannot create %s: %s\n", dir, strerror(errno));
		return EXIT_FAIL;
	}
	snprintf(trace, sizeof(trace), "%s/trace.htf", dir);
	snprintf(console, sizeof(console), "file:%s/console.log", dir);
	unlink(trace);
	snprintf(cmdline, sizeof(cmdline), "console=ttyS0 panic=-1 %s", append);
	sibling("hypertrace-collector", coll, sizeof(coll));
	av[n++] = coll;
	av[n++] = "run";
	av[n++] = "-o";
	av[n++] = trace;
	av[n++] = "--accel";
	av[n++] = (char *)accel;
	av[n++] = "--hang-timeout";
	av[n++] = (char *)hang;
	if (!access(vmlinux, R_OK)) {
		av[n++] = "--vmlinux";
		av[n++] = (char *)vmlinux;
	}
	if (quiet)
		av[n++] = "-q";
	av[n++] = "--";
	av[n++] = "qemu-system-x86_64";
	av[n++] = "-m";
	av[n++] = (char *)mem;
	av[n++] = "-smp";
	av[n++] = (char *)smp;
	av[n++] = "-display";
	av[n++] = "none";
	av[n++] = "-monitor";
	av[n++] = "none";
	av[n++] = "-no-reboot";
	av[n++] = "-serial";
	av[n++] = console;
	av[n++] = "-kernel";
	av[n++] = (char *)kernel;
	if (initrd) {
		av[n++] = "-initrd";
		av[n++] = (char *)initrd;
	}
	av[n++] = "-append";
	av[n++] = cmdline;
	for (i = optind; i < argc; i++)
		av[n++] = argv[i];
	av[n] = NULL;
	status = run_tool(av);
	if (status < 0 || status == HTR_EXIT_ERROR || status == HTR_EXIT_USAGE ||
	    access(trace, R_OK)) {
		err_msg("boot: the collector failed (status %d); see its messages\n", status);
		return EXIT_FAIL;
	}
	if (write_reports(dir, trace, vmlinux))
		err_msg("boot: could not write every report into %s\n", dir);
	if (!quiet)
		fprintf(stderr, "%s: report in %s/report.html (text: report.txt, JSON: report.json)\n",
			prog, dir);
	return status;
}

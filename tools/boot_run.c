// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace boot and replay: hypertrace-collector's command line from the
 * boot's options, the collector run, and the reports written from one load
 * of its trace.  A replay goes through the same code as the boot it
 * replays, so that QEMU gets the same command line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot.h"
#include "boot_run.h"
#include "options.h"
#include "util.h"
#include "writers.h"

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
	return report_write_text(m, f, 15, false);
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

/**
 * boot_reports() - report.txt, report.json and report.html from one load
 * of the trace
 * @dir:     where they go
 * @trace:   the trace
 * @vmlinux: the kernel's vmlinux, for names (ignored if unreadable)
 *
 * Return: 0, -EINVAL if the trace did not load, -EIO if a report could
 * not be written (the message is printed).
 */
int boot_reports(const char *dir, const char *trace, const char *vmlinux)
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

/* collector_opts() - the collector's own options, from @o; words added to @av at @n */
static int collector_opts(const struct boot_opts *o, struct boot_paths *p, char **av, int n)
{
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
	if (o->record) {
		av[n++] = "--record";
		av[n++] = (char *)o->record;
	}
	if (o->replay) {
		av[n++] = "--replay";
		av[n++] = (char *)o->replay;
	}
	if (!access(o->vmlinux, R_OK)) {
		av[n++] = "--vmlinux";
		av[n++] = (char *)o->vmlinux;
	}
	if (o->vmcore)
		av[n++] = "--vmcore";
	if (o->quiet)
		av[n++] = "-q";
	return n;
}

/* collector_argv() - hypertrace-collector run ... -- qemu-system-x86_64 ... EXTRA */
static void collector_argv(const struct boot_opts *o, struct boot_paths *p, char **av)
{
	int n, i;

	snprintf(p->trace, sizeof(p->trace), "%s/trace.htf", o->dir);
	snprintf(p->vmcore, sizeof(p->vmcore), "%s/trace.vmcore", o->dir);
	snprintf(p->console, sizeof(p->console), "file:%s/console.log", o->dir);
	snprintf(p->cmdline, sizeof(p->cmdline), "console=ttyS0 panic=-1 %s", o->append);
	sibling("hypertrace-collector", p->coll, sizeof(p->coll));
	n = collector_opts(o, p, av, 0);
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
	for (i = 0; i < o->nextra; i++)
		av[n++] = o->extra[i];
	if (o->gdb) {
		/* the gdbstub on a unix socket; QEMU waits for gdb's continue */
		snprintf(p->gdb, sizeof(p->gdb), "unix:%s,server=on,wait=off", o->gdb);
		av[n++] = "-S";
		av[n++] = "-gdb";
		av[n++] = p->gdb;
	}
	av[n] = NULL;
}

/**
 * boot_collect() - run hypertrace-collector on the boot @o describes
 * @o:      the boot; o->dir exists
 * @p:      storage for the collector's command line; p->trace is the trace
 * @status: the collector's exit status, the boot's verdict (enum htr_exit)
 *
 * A trace (and vmcore) left in o->dir by an earlier boot is removed first.
 *
 * Return: 0 with a trace; EXIT_USAGE when the collector refused its
 * options (ours to pass), EXIT_FAIL when it failed or wrote no trace (the
 * message is printed).
 */
int boot_collect(const struct boot_opts *o, struct boot_paths *p, int *status)
{
	char *av[64 + BOOT_MAX_EXTRA];

	collector_argv(o, p, av);
	unlink(p->trace);
	unlink(p->vmcore);
	*status = run_tool(av);
	if (*status < 0 || *status == HTR_EXIT_ERROR || *status == HTR_EXIT_USAGE ||
	    access(p->trace, R_OK)) {
		err_msg("%s: the collector failed (status %d); see its messages\n",
			o->replay ? "replay" : "boot", *status);
		return *status == HTR_EXIT_USAGE ? EXIT_USAGE : EXIT_FAIL;
	}
	return 0;
}

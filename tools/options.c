// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The shared options of the hypertrace subcommands, loading the model
 * with its messages, and checked output.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "util.h"

/**
 * tool_opt() - take a shared option getopt_long() returned
 * @t:   the options so far
 * @c:   getopt_long()'s return value
 * @arg: optarg
 *
 * Return: true when @c was a shared option (it is stored in @t).
 */
bool tool_opt(struct tool_opts *t, int c, const char *arg)
{
	switch (c) {
	case OPT_VMLINUX:
		t->vmlinux = arg;
		return true;
	case OPT_SYSTEM_MAP:
		t->system_map = arg;
		return true;
	case 'o':
		t->output = arg;
		return true;
	}
	return false;
}

/* warn_model() - what the user should know about a model that did load */
static void warn_model(const struct boot_model *m, const char *trace)
{
	if (m->loss.torn_bytes)
		err_msg("warning: %s: torn tail dropped (%" PRIu64 " bytes, %s)\n", trace,
			m->loss.torn_bytes, m->loss.torn_reason ?: "damaged");
	if (!m->guest_tsc_khz && m->verdict != HTR_VERDICT_SILENT && m->ev.nr)
		err_msg("warning: %s: the guest never reported its TSC rate; using the host's\n",
			trace);
}

/**
 * tool_load() - load a trace's model, reporting errors and warnings
 * @m:           the model; release with model_free()
 * @trace:       the trace file
 * @t:           the symbol options
 * @events_only: only the events (hypertrace dump)
 *
 * Return: 0, or -1 after a message.
 */
int tool_load(struct boot_model *m, const char *trace, const struct tool_opts *t,
	      bool events_only)
{
	struct model_opts o = {
		.vmlinux = t->vmlinux, .system_map = t->system_map,
		.events_only = events_only,
	};
	struct mapped_file f;
	char err[512];

	memset(m, 0, sizeof(*m));
	if (map_file(trace, &f))
		return -1;
	if (model_load_mem(m, f.data, f.size, &o, err, sizeof(err))) {
		err_msg("%s: %s\n", trace, err);
		model_free(m);
		unmap_file(&f);
		return -1;
	}
	unmap_file(&f);
	if (!events_only)
		warn_model(m, trace);
	return 0;
}

/**
 * model_load() - load a trace's model with symbols, reporting problems
 * @m:          the model; release with model_free()
 * @trace:      the trace file
 * @vmlinux:    vmlinux, or NULL
 * @system_map: System.map, or NULL
 *
 * Return: 0, or -1 after a message.
 */
int model_load(struct boot_model *m, const char *trace, const char *vmlinux,
	       const char *system_map)
{
	struct tool_opts t = { .vmlinux = vmlinux, .system_map = system_map };

	return tool_load(m, trace, &t, false);
}

/**
 * tool_write() - write an output file ('-': standard output), checked
 * @cmd:   the subcommand, for messages
 * @path:  where
 * @write: writes the content; 0 or a negative errno
 * @ctx:   passed to @write
 *
 * Every write, the flush and the close are checked: a full disk or
 * /dev/full is an error.
 *
 * Return: 0, or -1 after a message.
 */
int tool_write(const char *cmd, const char *path,
	       int (*write)(FILE *f, const void *ctx), const void *ctx)
{
	FILE *f = open_output(cmd, path);
	int err;

	if (!f)
		return -1;
	errno = 0;
	err = write(f, ctx);
	if (err && errno)
		err = -errno;
	if (close_output(f) && !err)
		err = errno ? -errno : -EIO;
	if (!err)
		return 0;
	err_msg("%s: writing %s failed: %s\n", cmd,
		strcmp(path, "-") ? path : "standard output", strerror(-err));
	return -1;
}

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Options every hypertrace subcommand that reads a trace shares (symbols,
 * the output file, help), loading the model with messages, and writing an
 * output with every error checked; in the spirit of rtla's common options.
 */
#ifndef _HT_TOOLS_OPTIONS_H
#define _HT_TOOLS_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "model.h"

enum {
	OPT_VMLINUX = 0x100,
	OPT_SYSTEM_MAP,
};

/* struct option entries, and the lines of --help that describe them */
#define TOOL_OPTS_SYMBOLS \
	{ "vmlinux", required_argument, NULL, OPT_VMLINUX }, \
	{ "system-map", required_argument, NULL, OPT_SYSTEM_MAP }
#define TOOL_OPTS_OUTPUT	{ "output", required_argument, NULL, 'o' }
#define TOOL_OPTS_HELP		{ "help", no_argument, NULL, 'h' }

#define TOOL_HELP_SYMBOLS \
	"      --vmlinux FILE    symbols from this vmlinux (default: the trace's)\n" \
	"      --system-map FILE symbols from this System.map\n"
#define TOOL_HELP_HELP		"  -h, --help            this text\n"

/**
 * struct tool_opts - the shared options, as parsed
 * @vmlinux:    --vmlinux, or NULL
 * @system_map: --system-map, or NULL
 * @output:     -o/--output, or NULL
 */
struct tool_opts {
	const char *vmlinux;
	const char *system_map;
	const char *output;
};

bool tool_opt(struct tool_opts *t, int c, const char *arg);
int model_load(struct boot_model *m, const char *trace, const char *vmlinux,
	       const char *system_map);
int tool_load(struct boot_model *m, const char *trace, const struct tool_opts *t,
	      bool events_only);
int tool_write(const char *cmd, const char *path,
	       int (*write)(FILE *f, const void *ctx), const void *ctx);

#endif /* _HT_TOOLS_OPTIONS_H */

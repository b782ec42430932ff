// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace: the analysis command line.  One file per subcommand
 * (cmd_<name>.c); this one only dispatches.
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "hypertrace_abi.h"
#include "util.h"

#define HT_VERSION	"0.1"

static const struct ht_cmd commands[] = {
	{ "boot", cmd_boot, "boot a Hypertrace kernel under QEMU, record it, write the report" },
	{ "replay", cmd_replay, "boot again, exactly, a boot that boot --record recorded" },
	{ "dump", cmd_dump, "print the events of a trace or a guest memory image" },
	{ "log", cmd_log, "the kernel's log, from a trace or a guest RAM file" },
	{ "report", cmd_report, "where a recorded boot's time went (text or JSON)" },
	{ "html", cmd_html, "the hypergraph boot report: a self-contained HTML file" },
	{ "export", cmd_export, "a recorded boot as Perfetto JSON, CTF, CSV or folded stacks" },
	{ "compare", cmd_compare, "the boot-time regression gate: baseline vs candidate boots" },
};

/* usage() - the top-level help */
static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s [--version] [--help] <command> [<args>]\n\n"
		   "Hypertrace: trace a Linux guest's boot from the host.\n\n"
		   "Commands:\n", prog);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun '%s <command> --help' for a command's options.\n", prog);
}

/* main() - find the subcommand and run it */
int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("hypertrace %s (ABI %d)\n", HT_VERSION, HT_ABI_VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	err_msg("'%s' is not a command; see '%s --help'\n", argv[1], prog);
	return EXIT_USAGE;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: record a guest's boot from the host.  One file per
 * subcommand; this one dispatches.
 */
#include <stdio.h>
#include <string.h>

#include "collector.h"

/* usage() - the top-level help */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: hypertrace-collector run [options] -- QEMU-COMMAND...\n"
		"       hypertrace-collector attach [options] --qmp SOCKET --ram FILE\n"
		"       hypertrace-collector --help | --version\n\n"
		"Record a Linux guest's boot from the host: launch QEMU with guest RAM\n"
		"in a shared file and the Hypertrace doorbell, and write what the guest\n"
		"records into an append-only trace file.\n\n"
		"Run 'hypertrace-collector run --help' (or attach --help) for the\n"
		"options and exit codes.\n");
}

/* main() - find the subcommand */
int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return HTR_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("hypertrace-collector 0.1 (ABI %d)\n", HT_ABI_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "attach"))
		return cmd_attach(argc - 1, argv + 1);
	coll_err("'%s' is not a command; see 'hypertrace-collector --help'\n", argv[1]);
	return HTR_EXIT_USAGE;
}

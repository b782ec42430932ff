// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace html: the hypergraph boot report, one self-contained HTML
 * file: an SVG timeline (phases, boot levels, one lane of initcalls per
 * CPU, shutdown, markers) with zoom, pan, hover details and search, the
 * slowest initcalls and shutdown steps, and the failure banner.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "model.h"
#include "util.h"

/* tools/report.html.in, turned into a C string by the Makefile */
static const char template[] =
#include "report_html.h"
;

/* html_usage() - help text */
static void html_usage(FILE *f)
{
	fprintf(f,
		"usage: %s html [options] -o REPORT.html TRACE\n\n"
		"Write the hypergraph boot report: one self-contained HTML file (no\n"
		"network) with a zoomable timeline of the boot's phases, boot levels and\n"
		"each CPU's initcalls, the shutdown, the slowest initcalls and the failure\n"
		"banner.  Every name the guest or the symbol table supplied is shown as\n"
		"text, never interpreted as markup.\n\n"
		"  -o, --output FILE     the HTML file ('-' for standard output)\n"
		"      --vmlinux FILE    symbols from this vmlinux (default: the trace's)\n"
		"      --system-map FILE symbols from this System.map\n"
		"  -h, --help            this text\n\n"
		"Exit status: 0 written; 1 unreadable trace or unwritable output; 2 usage error.\n",
		prog);
}

/* write_html() - the template with the model's JSON where the data goes */
static int write_html(const struct boot_model *m, FILE *out)
{
	const char *at = strstr(template, "@DATA@");

	if (!at)
		return -EINVAL;
	fwrite(template, 1, (size_t)(at - template), out);
	/* model_write_json() escapes < > & inside strings: safe in <script> */
	if (model_write_json(m, out))
		return -EIO;
	fputs(at + strlen("@DATA@"), out);
	return ferror(out) ? -EIO : 0;
}

/* cmd_html() - hypertrace html */
int cmd_html(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "vmlinux", required_argument, NULL, 'V' },
		{ "system-map", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL, *vmlinux = NULL, *sysmap = NULL;
	struct boot_model m;
	FILE *out;
	int c, err;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'V':
			vmlinux = optarg;
			break;
		case 'M':
			sysmap = optarg;
			break;
		case 'h':
			html_usage(stdout);
			return EXIT_OK;
		default:
			html_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!output || optind != argc - 1) {
		err_msg("html: need -o REPORT.html and one TRACE\n");
		html_usage(stderr);
		return EXIT_USAGE;
	}
	if (model_load(&m, argv[optind], vmlinux, sysmap))
		return EXIT_FAIL;
	out = open_output("html", output);
	if (!out) {
		model_free(&m);
		return EXIT_FAIL;
	}
	err = write_html(&m, out);
	if (close_output(out))
		err = -EIO;
	model_free(&m);
	if (err) {
		err_msg("html: writing %s failed\n", output);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

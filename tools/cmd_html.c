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
#include "options.h"
#include "util.h"
#include "writers.h"

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
		TOOL_HELP_SYMBOLS
		TOOL_HELP_HELP "\n"
		"Exit status: 0 written; 1 unreadable trace or unwritable output; 2 usage error.\n",
		prog);
}

/**
 * html_write() - the report page: the template with the model's JSON
 * @m:   the model
 * @out: where to
 *
 * Return: 0, or -EIO when writing failed.
 */
int html_write(const struct boot_model *m, FILE *out)
{
	const char *at = strstr(template, "@DATA@");

	if (!at)
		return -EINVAL;
	fwrite(template, 1, (size_t)(at - template), out);
	/* model_write_page_json() escapes < > & inside strings: safe in <script> */
	if (model_write_page_json(m, out))
		return -EIO;
	fputs(at + strlen("@DATA@"), out);
	return ferror(out) ? -EIO : 0;
}

/* write_page() - html_write() as a tool_write() callback */
static int write_page(FILE *f, const void *ctx)
{
	return html_write(ctx, f);
}

/* cmd_html() - hypertrace html */
int cmd_html(int argc, char **argv)
{
	static const struct option opts[] = {
		TOOL_OPTS_OUTPUT,
		TOOL_OPTS_SYMBOLS,
		TOOL_OPTS_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct tool_opts t = { 0 };
	struct boot_model m;
	int c, ret;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (tool_opt(&t, c, optarg))
			continue;
		if (c == 'h') {
			html_usage(stdout);
			return EXIT_OK;
		}
		html_usage(stderr);
		return EXIT_USAGE;
	}
	if (!t.output || optind != argc - 1) {
		err_msg("html: need -o REPORT.html and one TRACE\n");
		html_usage(stderr);
		return EXIT_USAGE;
	}
	if (tool_load(&m, argv[optind], &t, false))
		return EXIT_FAIL;
	ret = tool_write("html", t.output, write_page, &m) ? EXIT_FAIL : EXIT_OK;
	model_free(&m);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace html: the hypergraph boot report, one self-contained HTML
 * file: an SVG timeline (phases, boot levels, one lane of initcalls per
 * CPU, shutdown, markers) with zoom, pan, hover details and search, the
 * slowest initcalls and shutdown steps, and the failure banner.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
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
		"banner; with a hypergraph, each traced initcall's call tree and flame\n"
		"graph (click the initcall), and each task's for the whole boot.  Every\n"
		"name the guest or the symbol table supplied is shown as text, never\n"
		"interpreted as markup.\n\n"
		"  -o, --output FILE     the HTML file ('-' for standard output)\n"
		"      --tree-min PCT    call trees: fold functions under PCT %% of their\n"
		"                        initcall's (task's) time into \"[other]\" (default 0.1)\n"
		"      --tree-nodes N    call trees: at most N rows per tree (default 2000)\n"
		"      --tree-budget N   call trees: at most N rows in the page, slowest\n"
		"                        initcalls first, then tasks (default 100000;\n"
		"                        0: no call trees)\n"
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
	return html_write_limits(m, &calltree_defaults, out);
}

/**
 * html_write_limits() - html_write() with the call trees pruned by @lim
 * @m:   the model
 * @lim: the call trees' pruning
 * @out: where to
 *
 * Return: 0, or -EIO when writing failed.
 */
int html_write_limits(const struct boot_model *m, const struct calltree_limits *lim, FILE *out)
{
	const char *at = strstr(template, "@DATA@");

	if (!at)
		return -EINVAL;
	fwrite(template, 1, (size_t)(at - template), out);
	/* model_write_page_json() escapes < > & inside strings: safe in <script> */
	if (model_write_page_json(m, lim, out))
		return -EIO;
	fputs(at + strlen("@DATA@"), out);
	return ferror(out) ? -EIO : 0;
}

/* what write_page() writes */
struct page {
	const struct boot_model *m;
	struct calltree_limits lim;
};

/* write_page() - html_write_limits() as a tool_write() callback */
static int write_page(FILE *f, const void *ctx)
{
	const struct page *p = ctx;

	return html_write_limits(p->m, &p->lim, f);
}

/* parse_count() - a --tree-nodes / --tree-budget count; 0 or -1 */
static int parse_count(const char *s, size_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > MODEL_GRAPH_MAX_NODES)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* parse_pct() - a --tree-min percentage in [0, 100] as a fraction; 0 or -1 */
static int parse_pct(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !isfinite(v) || v < 0 || v > 100)
		return -1;
	*out = v / 100;
	return 0;
}

/* cmd_html() - hypertrace html */
int cmd_html(int argc, char **argv)
{
	enum { OPT_TREE_MIN = 0x200, OPT_TREE_NODES, OPT_TREE_BUDGET };
	static const struct option opts[] = {
		TOOL_OPTS_OUTPUT,
		{ "tree-min", required_argument, NULL, OPT_TREE_MIN },
		{ "tree-nodes", required_argument, NULL, OPT_TREE_NODES },
		{ "tree-budget", required_argument, NULL, OPT_TREE_BUDGET },
		TOOL_OPTS_SYMBOLS,
		TOOL_OPTS_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct tool_opts t = { 0 };
	struct page page = { .lim = calltree_defaults };
	struct boot_model m;
	int c, ret;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (tool_opt(&t, c, optarg))
			continue;
		if (c == 'h') {
			html_usage(stdout);
			return EXIT_OK;
		}
		if (c == OPT_TREE_MIN && !parse_pct(optarg, &page.lim.min_frac))
			continue;
		if (c == OPT_TREE_NODES && !parse_count(optarg, &page.lim.max_nodes) &&
		    page.lim.max_nodes >= 2)
			continue;
		if (c == OPT_TREE_BUDGET && !parse_count(optarg, &page.lim.budget))
			continue;
		if (c == OPT_TREE_MIN || c == OPT_TREE_NODES || c == OPT_TREE_BUDGET)
			err_msg("html: bad --%s '%s'\n", c == OPT_TREE_MIN ? "tree-min" :
				c == OPT_TREE_NODES ? "tree-nodes (2 or more)" : "tree-budget",
				optarg);
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
	page.m = &m;
	ret = tool_write("html", t.output, write_page, &page) ? EXIT_FAIL : EXIT_OK;
	model_free(&m);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace compare: the boot-time regression gate.  Two sets of boots
 * (traces, or the JSON that report --json writes); for every metric -
 * total boot, time to userspace, each phase, boot level, initcall and
 * shutdown step - a one-sided permutation test on the difference of means
 * says whether the candidate is slower, and a regression needs p < alpha,
 * a relative change above --min-change and an absolute one above
 * --min-abs.  A candidate boot that panicked, hung or crashed always fails.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmds.h"
#include "options.h"
#include "writers.h"
#include "stats.h"
#include "util.h"

#define MAX_BOOTS	31

/**
 * struct metric - one thing measured in every boot
 * @name:  "boot", "phase setup_arch", "initcall acpi_init"...
 * @level: boot level (initcalls), else ""
 * @v:     values in ms, per side (0 baseline, 1 candidate)
 * @n:     how many boots of each side had it
 * @p:     permutation p-value (candidate slower), 1 when not computed
 * @tested: enough boots on both sides to test
 * @regressed: a regression after the Holm correction
 */
struct metric {
	char name[200];
	char level[16];
	double v[2][MAX_BOOTS];
	unsigned int n[2];
	double p;
	bool tested;
	bool regressed;
};

/**
 * struct gate - a whole comparison
 * @m:        the metrics
 * @nm:       how many
 * @boots:    boots read per side
 * @failures: descriptions of candidate (and baseline) boots that failed
 * @nfail:    how many candidate boots failed
 */
struct gate {
	struct metric *m;
	size_t nm;
	unsigned int boots[2];
	json_t *failures;
	unsigned int nfail;
};

/* compare_usage() - help text */
static void compare_usage(FILE *f)
{
	fprintf(f,
		"usage: %s compare [options] --baseline A... --candidate B...\n\n"
		"Decide whether the candidate kernel boots slower than the baseline.\n"
		"Each of A... and B... is a trace (hypertrace-collector) or the JSON of\n"
		"'hypertrace report --json'; give each option once per boot, or several\n"
		"files after it.  Every metric seen in enough boots on both sides - total\n"
		"boot, time to userspace, each phase, boot level, initcall and shutdown\n"
		"step - gets a one-sided permutation test on the difference of means\n"
		"(exact for small sets).  A regression needs all of: p below ALPHA after\n"
		"Holm's correction for the number of metrics tested (which sets how many\n"
		"boots a side needs: 10 for a few hundred metrics at 0.01), a slowdown of\n"
		"the median above MIN-CHANGE %%, and one above MIN-ABS ms.  A candidate\n"
		"boot that panicked, hung or crashed always fails the gate.\n\n"
		"  -a, --alpha P         significance level (default 0.01)\n"
		"  -c, --min-change PCT  relative slowdown that counts (default 5)\n"
		"  -f, --min-abs MS      absolute slowdown that counts (default 1)\n"
		"  -r, --resamples N     random splits when exact enumeration is too big\n"
		"                        (default 9999)\n"
		"      --markdown FILE   Markdown summary for a merge request ('-': stdout)\n"
		"      --junit FILE      JUnit XML for CI test views\n"
		"      --json FILE       the whole result as JSON\n"
		"  -h, --help            this text\n\n"
		"Exit status: 0 no regression; 1 regression or failed candidate boot;\n"
		"2 error or unusable input (too few boots for ALPHA says how many).\n", prog);
}

/* metric_get() - the metric called @name, created if new; NULL if out of memory */
static struct metric *metric_get(struct gate *g, const char *name, const char *level)
{
	struct metric *m;
	size_t i;

	for (i = 0; i < g->nm; i++)
		if (!strcmp(g->m[i].name, name))
			return &g->m[i];
	m = realloc(g->m, (g->nm + 1) * sizeof(*m));
	if (!m)
		return NULL;
	g->m = m;
	m = &g->m[g->nm++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->level, sizeof(m->level), "%s", level ? level : "");
	return m;
}

/* add_value() - one boot's value of a metric (summed within the boot) */
static int add_value(struct gate *g, int side, const char *name, const char *level,
		     double ms, bool *seen_now)
{
	struct metric *m = metric_get(g, name, level);

	if (!m)
		return -ENOMEM;
	if (m->n[side] && seen_now[m - g->m]) {
		m->v[side][m->n[side] - 1] += ms;	/* same initcall twice */
		return 0;
	}
	m->v[side][m->n[side]++] = ms;
	seen_now[m - g->m] = true;
	return 0;
}

/* load_boot_json() - one boot's report as JSON: from a trace, or a file */
static json_t *load_boot_json(const char *path)
{
	struct boot_model m;
	json_error_t jerr;
	char *buf = NULL;
	size_t len = 0;
	json_t *o;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		err_msg("compare: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fgetc(f) == '{') {
		rewind(f);
		o = json_loadf(f, 0, &jerr);
		fclose(f);
		if (!o)
			err_msg("compare: %s: not report JSON: %s (line %d)\n", path, jerr.text,
				jerr.line);
		return o;
	}
	fclose(f);
	if (model_load(&m, path, NULL, NULL))
		return NULL;
	f = open_memstream(&buf, &len);
	if (!f || model_write_json(&m, f)) {
		if (f)
			fclose(f);
		free(buf);
		model_free(&m);
		return NULL;
	}
	fclose(f);
	model_free(&m);
	o = json_loadb(buf, len, 0, &jerr);
	free(buf);
	return o;
}

/* add_list() - the durations of one report list as metrics "<prefix> <name>" */
static int add_list(struct gate *g, int side, json_t *r, const char *key,
		    const char *prefix, bool *seen_now)
{
	json_t *a = json_object_get(r, key), *it;
	char name[200];
	size_t i;

	json_array_foreach(a, i, it) {
		const char *n = json_string_value(json_object_get(it, "name"));
		const char *kind = json_string_value(json_object_get(it, "kind"));
		json_t *d = json_object_get(it, "duration_ns");

		if (!n || !json_is_integer(d) || json_is_true(json_object_get(it, "unfinished")))
			continue;
		snprintf(name, sizeof(name), "%s %s%s%s", prefix, kind ? kind : "",
			 kind ? " " : "", n);
		if (add_value(g, side, name, json_string_value(json_object_get(it, "level")),
			      json_integer_value(d) / 1e6, seen_now))
			return -ENOMEM;
	}
	return 0;
}

/* add_boot() - every metric of one boot, and its failure if any */
static int add_boot(struct gate *g, int side, const char *path)
{
	json_t *r = load_boot_json(path), *f;
	bool *seen_now;
	const char *kind;
	int err = 0;

	if (!r)
		return -EINVAL;
	if (g->boots[side] == MAX_BOOTS) {
		err_msg("compare: at most %d boots per side\n", MAX_BOOTS);
		json_decref(r);
		return -E2BIG;
	}
	seen_now = calloc(g->nm + 4096, sizeof(*seen_now));
	if (!seen_now) {
		json_decref(r);
		return -ENOMEM;
	}
	f = json_object_get(r, "failure");
	kind = json_string_value(json_object_get(f, "kind"));
	if (kind && strcmp(kind, "none")) {
		json_t *o = json_object();

		json_object_set_new(o, "side", json_string(side ? "candidate" : "baseline"));
		json_object_set_new(o, "boot", json_string(path));
		json_object_set_new(o, "kind", json_string(kind));
		json_object_set(o, "message", json_object_get(f, "message"));
		json_object_set(o, "initcall", json_object_get(f, "initcall"));
		json_array_append_new(g->failures, o);
		g->nfail += side;
	} else {
		if (json_integer_value(json_object_get(r, "boot_ns")) > 0)
			err |= add_value(g, side, "boot", NULL,
					 json_integer_value(json_object_get(r, "boot_ns")) / 1e6, seen_now);
		if (json_integer_value(json_object_get(r, "userspace_ns")) > 0)
			err |= add_value(g, side, "userspace", NULL,
					 json_integer_value(json_object_get(r, "userspace_ns")) / 1e6,
					 seen_now);
		err |= add_list(g, side, r, "phases", "phase", seen_now);
		err |= add_list(g, side, r, "levels", "level", seen_now);
		err |= add_list(g, side, r, "initcalls", "initcall", seen_now);
		err |= add_list(g, side, r, "shutdown", "shutdown", seen_now);
	}
	g->boots[side]++;
	free(seen_now);
	json_decref(r);
	return err ? -ENOMEM : 0;
}

/* change() - candidate median over baseline median, in ms and percent */
static void change(const struct metric *m, double *bmed, double *cmed, double *pct)
{
	*bmed = stats_median(m->v[0], m->n[0]);
	*cmed = stats_median(m->v[1], m->n[1]);
	*pct = *bmed > 0 ? 100 * (*cmed - *bmed) / *bmed : 0;
}

/* xml() - XML-escaped text */
static void xml(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, f);
		}
	}
}

/* md() - Markdown table cell text: pipes and markup neutralized */
static void md(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (strchr("|<>`*_[]\\", *s))
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
}

/* cmd_compare() - hypertrace compare */
int cmd_compare(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "baseline", no_argument, NULL, 'B' },
		{ "candidate", no_argument, NULL, 'C' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "min-change", required_argument, NULL, 'c' },
		{ "min-abs", required_argument, NULL, 'f' },
		{ "resamples", required_argument, NULL, 'r' },
		{ "markdown", required_argument, NULL, 'M' },
		{ "junit", required_argument, NULL, 'J' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mdpath = NULL, *junit = NULL, *jsonpath = NULL;
	double alpha = 0.01, min_change = 5, min_abs = 1;
	unsigned int resamples = 9999, need, nreg = 0, ntest = 0;
	struct gate g = { 0 };
	json_t *out, *regs, *imps, *added, *gone;
	int side = -1, c, ret = EXIT_USAGE;
	char *end;
	size_t k;

	g.failures = json_array();
	/* --baseline and --candidate switch sides; the files follow them */
	while ((c = getopt_long(argc, argv, "-a:c:f:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'B':
			side = 0;
			break;
		case 'C':
			side = 1;
			break;
		case 1:
			if (side < 0) {
				err_msg("compare: '%s' before --baseline or --candidate\n", optarg);
				goto out_usage;
			}
			if (add_boot(&g, side, optarg)) {
				ret = EXIT_USAGE;
				goto out;
			}
			break;
		case 'a':
			alpha = strtod(optarg, &end);
			if (*end || alpha <= 0 || alpha >= 1)
				goto bad_value;
			break;
		case 'c':
			min_change = strtod(optarg, &end);
			if (*end || min_change < 0)
				goto bad_value;
			break;
		case 'f':
			min_abs = strtod(optarg, &end);
			if (*end || min_abs < 0)
				goto bad_value;
			break;
		case 'r':
			resamples = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || resamples < 99)
				goto bad_value;
			break;
		case 'M':
			mdpath = optarg;
			break;
		case 'J':
			junit = optarg;
			break;
		case 'j':
			jsonpath = optarg;
			break;
		case 'h':
			compare_usage(stdout);
			ret = EXIT_OK;
			goto out;
		default:
			goto out_usage;
		}
	}
	/*
	 * Hundreds of metrics are tested at once: a boot that is merely noisy
	 * would fail some metric at p < alpha by chance most of the time.  The
	 * gate controls the family-wise error with Holm's step-down method, so
	 * the smallest p-value must beat alpha / (metrics tested), and that
	 * sets how many boots a side needs.
	 */
	for (k = 0; k < g.nm; k++)
		g.m[k].tested = false;
	for (k = 0; k < g.nm; k++)
		ntest += g.m[k].n[0] && g.m[k].n[1];
	need = stats_min_boots(alpha / (ntest ? (double)ntest : 1));
	ntest = 0;
	if ((g.boots[0] < need || g.boots[1] < need) && !g.nfail) {
		err_msg("compare: %u baseline and %u candidate boots cannot reach p < %g over "
			"this many metrics (Holm correction): a one-sided permutation test needs at "
			"least %u boots per side\n", g.boots[0], g.boots[1], alpha, need);
		ret = EXIT_USAGE;
		goto out;
	}

	ret = EXIT_OK;
	out = json_object();
	regs = json_array();
	imps = json_array();
	added = json_array();
	gone = json_array();
	{
		/* p-values only where the floors could let a change count */
		size_t nt = 0, j, *order;
		double *pr, *pi;

		for (k = 0; k < g.nm; k++) {
			struct metric *m = &g.m[k];

			m->tested = m->n[0] >= need && m->n[1] >= need;
			ntest += m->tested;
		}
		pr = calloc(g.nm + 1, sizeof(*pr));
		pi = calloc(g.nm + 1, sizeof(*pi));
		order = calloc(g.nm + 1, sizeof(*order));
		if (!pr || !pi || !order) {
			free(pr);
			free(pi);
			free(order);
			err_msg("compare: out of memory\n");
			ret = EXIT_USAGE;
			json_decref(out);
			json_decref(regs);
			json_decref(imps);
			json_decref(added);
			json_decref(gone);
			goto out;
		}
		for (k = 0; k < g.nm; k++) {
			struct metric *m = &g.m[k];
			double bmed, cmed, pct;

			pr[k] = pi[k] = 1;
			if (!m->tested)
				continue;
			change(m, &bmed, &cmed, &pct);
			if (pct > min_change && cmed - bmed > min_abs)
				pr[k] = stats_perm_p(m->v[0], m->n[0], m->v[1], m->n[1], resamples);
			if (-pct > min_change && bmed - cmed > min_abs)
				pi[k] = stats_perm_p(m->v[1], m->n[1], m->v[0], m->n[0], resamples);
			m->p = pr[k];
			order[nt++] = k;
		}
		/* Holm: walk p-values upwards; reject while p <= alpha / (m - rank) */
		for (j = 0; j < 2; j++) {
			double *pv = j ? pi : pr;
			size_t r, s2;

			for (r = 1; r < nt; r++)
				for (s2 = r; s2 > 0 && pv[order[s2]] < pv[order[s2 - 1]]; s2--) {
					size_t tmp = order[s2];

					order[s2] = order[s2 - 1];
					order[s2 - 1] = tmp;
				}
			for (r = 0; r < nt; r++) {
				struct metric *m = &g.m[order[r]];
				double bmed, cmed, pct;
				json_t *o;

				if (pv[order[r]] > alpha / (double)(nt - r))
					break;
				change(m, &bmed, &cmed, &pct);
				o = json_object();
				json_object_set_new(o, "metric", json_string(m->name));
				if (m->level[0])
					json_object_set_new(o, "level", json_string(m->level));
				json_object_set_new(o, "baseline_ms", json_real(bmed));
				json_object_set_new(o, "candidate_ms", json_real(cmed));
				json_object_set_new(o, "change_pct", json_real(pct));
				json_object_set_new(o, "p", json_real(pv[order[r]]));
				json_object_set_new(o, "p_holm_limit", json_real(alpha / (double)(nt - r)));
				json_array_append_new(j ? imps : regs, o);
				nreg += !j;
				m->regressed = !j;
			}
		}
		free(pr);
		free(pi);
		free(order);
	}
	for (k = 0; k < g.nm; k++) {
		struct metric *m = &g.m[k];

		if (m->tested)
			continue;
		if (!strncmp(m->name, "initcall ", 9) && m->n[0] == 0 && m->n[1] >= need)
			json_array_append_new(added, json_string(m->name + 9));
		else if (!strncmp(m->name, "initcall ", 9) && m->n[1] == 0 && m->n[0] >= need)
			json_array_append_new(gone, json_string(m->name + 9));
	}
	json_object_set_new(out, "result", json_string(nreg || g.nfail ? "fail" : "pass"));
	json_object_set_new(out, "baseline_boots", json_integer(g.boots[0]));
	json_object_set_new(out, "candidate_boots", json_integer(g.boots[1]));
	json_object_set_new(out, "metrics_tested", json_integer(ntest));
	json_object_set_new(out, "alpha", json_real(alpha));
	json_object_set_new(out, "min_change_pct", json_real(min_change));
	json_object_set_new(out, "min_abs_ms", json_real(min_abs));
	json_object_set_new(out, "regressions", regs);
	json_object_set_new(out, "improvements", imps);
	json_object_set_new(out, "new_initcalls", added);
	json_object_set_new(out, "vanished_initcalls", gone);
	json_object_set(out, "failed_boots", g.failures);

	if (jsonpath) {
		FILE *f = open_output("compare", jsonpath);

		if (!f || json_dumpf(out, f, JSON_INDENT(2) | JSON_ENSURE_ASCII) || close_output(f))
			ret = EXIT_USAGE;
	}
	if (mdpath) {
		FILE *f = open_output("compare", mdpath);
		json_t *it;

		if (f) {
			fprintf(f, "### Boot-time gate: %s\n\n", nreg || g.nfail ? "**FAILED**" : "passed");
			fprintf(f, "%u baseline vs %u candidate boots; %u metrics tested; a "
				"regression needs p < %g (Holm-corrected), > %g%% and > %g ms.\n\n",
				g.boots[0], g.boots[1], ntest, alpha, min_change, min_abs);
			json_array_foreach(g.failures, k, it) {
				if (strcmp(json_string_value(json_object_get(it, "side")), "candidate"))
					continue;
				fprintf(f, "- candidate boot **%s**: ",
					json_string_value(json_object_get(it, "kind")));
				md(f, json_string_value(json_object_get(it, "message")) ?: "");
				if (json_string_value(json_object_get(it, "initcall"))) {
					fputs(" (initcall ", f);
					md(f, json_string_value(json_object_get(it, "initcall")));
					fputs(")", f);
				}
				fputs("\n", f);
			}
			if (json_array_size(regs)) {
				fprintf(f, "\n| regression | level | baseline ms | candidate ms | change | p |\n"
					   "|---|---|---:|---:|---:|---:|\n");
				json_array_foreach(regs, k, it) {
					fputs("| ", f);
					md(f, json_string_value(json_object_get(it, "metric")));
					fputs(" | ", f);
					md(f, json_string_value(json_object_get(it, "level")) ?: "");
					fprintf(f, " | %.3f | %.3f | %+.1f%% | %.2g |\n",
						json_real_value(json_object_get(it, "baseline_ms")),
						json_real_value(json_object_get(it, "candidate_ms")),
						json_real_value(json_object_get(it, "change_pct")),
						json_real_value(json_object_get(it, "p")));
				}
			}
			if (json_array_size(imps)) {
				fprintf(f, "\n| improvement | baseline ms | candidate ms | change |\n"
					   "|---|---:|---:|---:|\n");
				json_array_foreach(imps, k, it) {
					fputs("| ", f);
					md(f, json_string_value(json_object_get(it, "metric")));
					fprintf(f, " | %.3f | %.3f | %+.1f%% |\n",
						json_real_value(json_object_get(it, "baseline_ms")),
						json_real_value(json_object_get(it, "candidate_ms")),
						json_real_value(json_object_get(it, "change_pct")));
				}
			}
			json_array_foreach(added, k, it) {
				fputs(k ? ", " : "\nNew initcalls: ", f);
				md(f, json_string_value(it));
			}
			json_array_foreach(gone, k, it) {
				fputs(k ? ", " : "\nVanished initcalls: ", f);
				md(f, json_string_value(it));
			}
			fputs("\n", f);
			if (close_output(f))
				ret = EXIT_USAGE;
		}
	}
	if (junit) {
		FILE *f = open_output("compare", junit);
		json_t *it;

		if (f) {
			fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				"<testsuite name=\"hypertrace boot-time gate\" tests=\"%u\" failures=\"%u\">\n",
				ntest + 1, nreg + (g.nfail ? 1 : 0));
			fprintf(f, "  <testcase classname=\"boots\" name=\"candidate boots complete\">");
			json_array_foreach(g.failures, k, it) {
				if (strcmp(json_string_value(json_object_get(it, "side")), "candidate"))
					continue;
				fputs("<failure message=\"", f);
				xml(f, json_string_value(json_object_get(it, "kind")));
				fputs(": ", f);
				xml(f, json_string_value(json_object_get(it, "message")) ?: "");
				fputs("\"/>", f);
			}
			fputs("</testcase>\n", f);
			for (k = 0; k < g.nm; k++) {
				struct metric *m = &g.m[k];
				double bmed, cmed, pct;
				bool reg = m->regressed;

				if (!m->tested)
					continue;
				change(m, &bmed, &cmed, &pct);
				fputs("  <testcase classname=\"boot-time\" name=\"", f);
				xml(f, m->name);
				fputs("\">", f);
				if (reg)
					fprintf(f, "<failure message=\"%.3f ms -&gt; %.3f ms (%+.1f%%), p=%.4f\"/>",
						bmed, cmed, pct, m->p);
				fputs("</testcase>\n", f);
			}
			fputs("</testsuite>\n", f);
			if (close_output(f))
				ret = EXIT_USAGE;
		}
	}
	/* an output that could not be written is an error, whatever the verdict */
	if (ret != EXIT_USAGE)
		ret = nreg || g.nfail ? EXIT_FAIL : EXIT_OK;
	fprintf(stderr, "%s: compare: %s: %u regression%s, %u failed candidate boot%s "
		"(%u metrics tested)\n", prog, ret == EXIT_OK ? "pass" : "FAIL", nreg,
		nreg == 1 ? "" : "s", g.nfail, g.nfail == 1 ? "" : "s", ntest);
	{
		json_t *it;

		json_array_foreach(regs, k, it)
			fprintf(stderr, "  regression: %s%s%s: %.3f -> %.3f ms (%+.1f%%)\n",
				json_string_value(json_object_get(it, "metric")),
				json_object_get(it, "level") ? " level " : "",
				json_string_value(json_object_get(it, "level")) ?: "",
				json_real_value(json_object_get(it, "baseline_ms")),
				json_real_value(json_object_get(it, "candidate_ms")),
				json_real_value(json_object_get(it, "change_pct")));
	}
	json_decref(out);
	goto out;

bad_value:
	err_msg("compare: invalid value '%s'\n", optarg);
out_usage:
	compare_usage(stderr);
	ret = EXIT_USAGE;
out:
	json_decref(g.failures);
	free(g.m);
	return ret;
}

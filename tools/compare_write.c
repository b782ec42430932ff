// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace compare: the gate's decision as a Markdown summary for a
 * merge request, JUnit XML for CI test views, JSON, and the summary on
 * stderr.  Metric names, messages and initcalls come from the guest:
 * each format escapes them.
 */
#include <errno.h>
#include <string.h>

#include "compare.h"
#include "util.h"

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

/* md_failures() - one line per failed candidate boot */
static void md_failures(const struct cmp_set *s, FILE *f)
{
	size_t i;

	for (i = 0; i < s->nfail_all; i++) {
		const struct cmp_failure *fl = &s->fail[i];

		if (fl->side != 1)
			continue;
		fputs("- candidate boot **", f);
		md(f, fl->kind);
		fputs("**: ", f);
		md(f, fl->message ? fl->message : "");
		if (fl->initcall) {
			fputs(" (initcall ", f);
			md(f, fl->initcall);
			fputs(")", f);
		}
		fputs("\n", f);
	}
}

/* md_stolen() - whether stolen time was subtracted, and the boots with too much of it */
static void md_stolen(const struct cmp_set *s, FILE *f)
{
	size_t i;

	if (s->subtract_stolen)
		fprintf(f, "Stolen time (a vCPU runnable but not running on the host) taken off "
			"every span before testing (%u + %u boots had the host's view).\n",
			s->with_host[0], s->with_host[1]);
	if (s->subtract_idle)
		fputs("Idle time (a CPU in the idle loop, waiting for a timer or a device) "
		      "taken off every span before testing: the times are what each one "
		      "executed.\n", f);
	for (i = 0; i < s->nnoisy; i++) {
		fprintf(f, "- %s boot ", s->noisy[i].side ? "candidate" : "baseline");
		md(f, s->noisy[i].boot);
		fprintf(f, ": **%.1f%% of its vCPU time stolen** by the host (more than %g%%)\n",
			s->noisy[i].stolen_pct, s->max_stolen_pct);
	}
}

/* md_names() - "\n<title>: a, b, c" for a list of initcall metrics */
static void md_names(const struct cmp_set *s, const size_t *k, size_t n, const char *title,
		     FILE *f)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		else
			fprintf(f, "\n%s: ", title);
		md(f, s->m[k[i]].name + strlen("initcall "));
	}
}

/**
 * cmp_write_markdown() - the decision as Markdown for a merge-request comment
 * @s:   the boots' metrics
 * @res: the decision
 * @f:   where to
 *
 * Return: 0, or -EIO when writing failed.
 */
int cmp_write_markdown(const struct cmp_set *s, const struct cmp_result *res, FILE *f)
{
	size_t i;

	fprintf(f, "### Boot-time gate: %s\n\n", res->failed ? "**FAILED**" : "passed");
	if (res->par.separation)
		fprintf(f, "%u baseline vs %u candidate boots on virtual time; %u metrics "
			"compared; a regression needs every candidate boot slower than every "
			"baseline boot by > %g ms, and the median by > %g%%.\n",
			s->boots[0], s->boots[1], res->ntest, res->par.min_abs,
			res->par.min_change);
	else
		fprintf(f, "%u baseline vs %u candidate boots; %u metrics tested (of %u "
			"compared: the rest moved less than the floors in every boot); a "
			"regression needs p < %g (%s), > %g%% and > %g ms.\n",
			s->boots[0], s->boots[1], res->ntest, res->ncompared, res->par.alpha,
			res->par.bh ? "Benjamini-Hochberg false-discovery rate" : "Holm-corrected",
			res->par.min_change, res->par.min_abs);
	if (res->par.speed)
		fprintf(f, "Each boot's times divided by its emulation speed (the median of "
			"%u initcalls against all boots'): factors %.3f to %.3f.\n",
			res->speed_ref, res->speed_lo, res->speed_hi);
	md_stolen(s, f);
	if (!strncmp(s->clock, "icount ", 7))
		fprintf(f, "Times are virtual (QEMU -icount %s): the guest's instructions, not "
			"the host's clock.\n\n", s->clock + 7);
	else
		fputs("Times are real (the guest's TSC, paced by the host).\n\n", f);
	md_failures(s, f);
	if (res->nreg)
		fputs("\n| regression | level | baseline ms | candidate ms | change | p |\n"
		      "|---|---|---:|---:|---:|---:|\n", f);
	for (i = 0; i < res->nreg; i++) {
		const struct cmp_metric *m = &s->m[res->reg[i].metric];

		fputs("| ", f);
		md(f, m->name);
		fputs(" | ", f);
		md(f, m->level);
		fprintf(f, " | %.3f | %.3f | %+.1f%% | %.2g |\n", m->bmed, m->cmed, m->pct,
			res->reg[i].p);
	}
	if (res->nimp)
		fputs("\n| improvement | baseline ms | candidate ms | change |\n"
		      "|---|---:|---:|---:|\n", f);
	for (i = 0; i < res->nimp; i++) {
		const struct cmp_metric *m = &s->m[res->imp[i].metric];

		fputs("| ", f);
		md(f, m->name);
		fprintf(f, " | %.3f | %.3f | %+.1f%% |\n", m->bmed, m->cmed, m->pct);
	}
	md_names(s, res->added, res->nadded, "New initcalls", f);
	md_names(s, res->gone, res->ngone, "Vanished initcalls", f);
	fputs("\n", f);
	return ferror(f) ? -EIO : 0;
}

/**
 * cmp_write_junit() - the decision as JUnit XML: a test case per metric compared
 * @s:   the boots' metrics
 * @res: the decision
 * @f:   where to
 *
 * One more test case says whether every candidate boot completed.
 *
 * Return: 0, or -EIO when writing failed.
 */
int cmp_write_junit(const struct cmp_set *s, const struct cmp_result *res, FILE *f)
{
	size_t i;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuite name=\"hypertrace boot-time gate\" tests=\"%u\" failures=\"%zu\">\n",
		res->ncompared + 1, res->nreg + (s->nfail ? 1 : 0));
	fputs("  <testcase classname=\"boots\" name=\"candidate boots complete\">", f);
	for (i = 0; i < s->nfail_all; i++) {
		if (s->fail[i].side != 1)
			continue;
		fputs("<failure message=\"", f);
		xml(f, s->fail[i].kind);
		fputs(": ", f);
		xml(f, s->fail[i].message ? s->fail[i].message : "");
		fputs("\"/>", f);
	}
	fputs("</testcase>\n", f);
	for (i = 0; i < s->nm; i++) {
		const struct cmp_metric *m = &s->m[i];

		if (!m->compared)
			continue;
		fputs("  <testcase classname=\"boot-time\" name=\"", f);
		xml(f, m->name);
		fputs("\">", f);
		if (m->regressed)
			fprintf(f, "<failure message=\"%.3f ms -&gt; %.3f ms (%+.1f%%), p=%.4f\"/>",
				m->bmed, m->cmed, m->pct, m->p);
		fputs("</testcase>\n", f);
	}
	fputs("</testsuite>\n", f);
	return ferror(f) ? -EIO : 0;
}

/* put() - o[key] = v (v's reference taken); nonzero when v is NULL (no memory) */
static int put(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v);
}

/* json_changes() - regressions or improvements as a JSON array; NULL if out of memory */
static json_t *json_changes(const struct cmp_set *s, const struct cmp_change *c, size_t n)
{
	json_t *a = json_array(), *o;
	size_t i;
	int err = !a;

	for (i = 0; i < n && !err; i++) {
		const struct cmp_metric *m = &s->m[c[i].metric];

		o = json_object();
		err = json_array_append_new(a, o);
		if (err)
			break;
		err |= put(o, "metric", json_string(m->name));
		if (m->level[0])
			err |= put(o, "level", json_string(m->level));
		err |= put(o, "baseline_ms", json_real(m->bmed));
		err |= put(o, "candidate_ms", json_real(m->cmed));
		err |= put(o, "change_pct", json_real(m->pct));
		err |= put(o, "p", json_real(c[i].p));
		err |= put(o, "p_holm_limit", json_real(c[i].limit));
	}
	if (err)
		json_decref(a);
	return err ? NULL : a;
}

/* json_names() - initcall names (without "initcall ") as a JSON array; NULL if out of memory */
static json_t *json_names(const struct cmp_set *s, const size_t *k, size_t n)
{
	json_t *a = json_array();
	size_t i;
	int err = !a;

	for (i = 0; i < n && !err; i++)
		err = json_array_append_new(a, json_string(s->m[k[i]].name + strlen("initcall ")));
	if (err)
		json_decref(a);
	return err ? NULL : a;
}

/* json_stolen() - the stolen-time settings and the flagged boots; NULL if out of memory */
static json_t *json_stolen(const struct cmp_set *s)
{
	json_t *o = json_object(), *a = json_array();
	size_t i;
	int err = !o || !a;

	for (i = 0; !err && i < s->nnoisy; i++)
		err |= json_array_append_new(a, json_pack("{s:s,s:s,s:f}", "boot", s->noisy[i].boot,
							  "side", s->noisy[i].side ? "candidate" :
							  "baseline", "stolen_pct",
							  s->noisy[i].stolen_pct));
	if (!err) {
		err |= put(o, "subtracted", json_boolean(s->subtract_stolen));
		err |= put(o, "max_stolen_pct", json_real(s->max_stolen_pct));
		err |= put(o, "boots_with_host_view", json_integer(s->with_host[0] + s->with_host[1]));
		err |= put(o, "too_much_stolen", a);
		a = NULL;
	}
	json_decref(a);
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* json_failures() - the failed boots of both sides as a JSON array; NULL if out of memory */
static json_t *json_failures(const struct cmp_set *s)
{
	json_t *a = json_array(), *o;
	size_t i;
	int err = !a;

	for (i = 0; i < s->nfail_all && !err; i++) {
		const struct cmp_failure *fl = &s->fail[i];
		json_t *path = json_string(fl->boot);

		o = json_object();
		err = json_array_append_new(a, o);
		if (err) {
			json_decref(path);
			break;
		}
		err |= put(o, "side", json_string(fl->side ? "candidate" : "baseline"));
		if (path)	/* a file name that is not UTF-8 is left out */
			err |= put(o, "boot", path);
		err |= put(o, "kind", json_string(fl->kind));
		if (fl->message)
			err |= put(o, "message", json_string(fl->message));
		err |= put(o, "initcall", fl->initcall ? json_string(fl->initcall) : json_null());
	}
	if (err)
		json_decref(a);
	return err ? NULL : a;
}

/**
 * cmp_result_json() - the whole decision as one JSON object
 * @s:   the boots' metrics
 * @res: the decision
 *
 * Return: the object (the caller's reference), or NULL when out of memory.
 */
json_t *cmp_result_json(const struct cmp_set *s, const struct cmp_result *res)
{
	json_t *o = json_object();
	int err = !o;

	if (!err) {
		err |= put(o, "result", json_string(res->failed ? "fail" : "pass"));
		err |= put(o, "baseline_boots", json_integer(s->boots[0]));
		err |= put(o, "candidate_boots", json_integer(s->boots[1]));
		err |= put(o, "clock", json_string(strncmp(s->clock, "icount ", 7) ? "real" : "icount"));
		if (!strncmp(s->clock, "icount ", 7))
			err |= put(o, "icount", json_string(s->clock + 7));
		err |= put(o, "metrics_compared", json_integer(res->ncompared));
		err |= put(o, "metrics_tested", json_integer(res->ntest));
		err |= put(o, "decision", json_string(res->par.separation ? "separation" :
						      res->par.bh ? "permutation-bh" :
						      "permutation-holm"));
		if (res->par.speed)
			err |= put(o, "normalized", json_pack("{s:s,s:f,s:f,s:i}", "by",
							      "emulation speed", "factor_min",
							      res->speed_lo, "factor_max",
							      res->speed_hi, "initcalls",
							      (json_int_t)res->speed_ref));
		err |= put(o, "alpha", json_real(res->par.alpha));
		err |= put(o, "min_change_pct", json_real(res->par.min_change));
		err |= put(o, "min_abs_ms", json_real(res->par.min_abs));
		err |= put(o, "regressions", json_changes(s, res->reg, res->nreg));
		err |= put(o, "improvements", json_changes(s, res->imp, res->nimp));
		err |= put(o, "new_initcalls", json_names(s, res->added, res->nadded));
		err |= put(o, "vanished_initcalls", json_names(s, res->gone, res->ngone));
		err |= put(o, "failed_boots", json_failures(s));
		err |= put(o, "stolen", json_stolen(s));
		err |= put(o, "idle_subtracted", json_boolean(s->subtract_idle));
	}
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/**
 * cmp_write_json() - the whole decision as one JSON object
 * @s:   the boots' metrics
 * @res: the decision
 * @f:   where to
 *
 * Return: 0; -ENOMEM; -EIO when writing failed.
 */
int cmp_write_json(const struct cmp_set *s, const struct cmp_result *res, FILE *f)
{
	json_t *o = cmp_result_json(s, res);
	int err;

	if (!o)
		return -ENOMEM;
	err = json_dumpf(o, f, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	json_decref(o);
	return err || ferror(f) ? -EIO : 0;
}

/**
 * cmp_print_summary() - the verdict and every regression, for a CI log
 * @s:    the boots' metrics
 * @res:  the decision
 * @pass: the gate passed (and every report was written)
 * @f:    where to (stderr)
 */
void cmp_print_summary(const struct cmp_set *s, const struct cmp_result *res, bool pass,
		       FILE *f)
{
	size_t i;

	fprintf(f, "%s: compare: %s: %zu regression%s, %u failed candidate boot%s "
		"(%u of %u metrics tested)\n", prog, pass ? "pass" : "FAIL", res->nreg,
		res->nreg == 1 ? "" : "s", s->nfail, s->nfail == 1 ? "" : "s", res->ntest,
		res->ncompared);
	for (i = 0; i < res->nreg; i++) {
		const struct cmp_metric *m = &s->m[res->reg[i].metric];

		fprintf(f, "  regression: %s%s%s: %.3f -> %.3f ms (%+.1f%%)\n", m->name,
			m->level[0] ? " level " : "", m->level, m->bmed, m->cmed, m->pct);
	}
	for (i = 0; i < s->nnoisy; i++)
		fprintf(f, "  too much stolen time: %s boot %s: %.1f%% of its vCPU time (more "
			"than %g%%)\n", s->noisy[i].side ? "candidate" : "baseline",
			s->noisy[i].boot, s->noisy[i].stolen_pct, s->max_stolen_pct);
}

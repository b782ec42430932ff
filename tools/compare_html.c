// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace compare --html: the diff view.  One self-contained page with
 * the timelines of a baseline and a candidate boot (each side's median
 * boot) on one time axis, the spans whose metric regressed or improved
 * highlighted, and the table of changes.  The page's data is one JSON
 * object: the decision (cmp_result_json()) and the two boots' reports.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "util.h"
#include "writers.h"

static const char template[] =
#include "compare_html.h"
	;

/* by_boot_ms() - qsort order of completed boots: shorter boot first */
static int by_boot_ms(const void *a, const void *b)
{
	const struct cmp_boot *x = a, *y = b;

	return (x->boot_ms > y->boot_ms) - (x->boot_ms < y->boot_ms);
}

/* median_boot() - the path of @side's median completed boot, NULL if none */
static const char *median_boot(const struct cmp_set *s, int side)
{
	struct cmp_boot *b;
	const char *path;
	size_t n = s->ngood[side];

	if (!n)
		return NULL;
	b = malloc(n * sizeof(*b));
	if (!b)
		return s->good[side][0].path;
	memcpy(b, s->good[side], n * sizeof(*b));
	qsort(b, n, sizeof(*b), by_boot_ms);
	path = b[(n - 1) / 2].path;
	free(b);
	return path;
}

/*
 * load_report() - a boot's report as JSON: the file itself when it is
 * report JSON, else the model of the trace written as report --json
 * writes it; NULL (with a message) when it cannot be read
 */
static json_t *load_report(const char *path)
{
	struct boot_model m;
	json_error_t jerr;
	char *buf = NULL;
	size_t len = 0;
	json_t *r;
	FILE *f;

	r = json_load_file(path, 0, &jerr);
	if (r)
		return r;
	if (model_load(&m, path, NULL, NULL))
		return NULL;
	f = open_memstream(&buf, &len);
	if (f && !model_write_json(&m, f) && !fclose(f))
		r = json_loadb(buf, len, 0, &jerr);
	else if (f)
		fclose(f);
	model_free(&m);
	free(buf);
	if (!r)
		err_msg("compare: %s: cannot turn it into report JSON\n", path);
	return r;
}

/* side_json() - {"path": ..., "report": ...} of @side's median boot, or null */
static json_t *side_json(const struct cmp_set *s, int side)
{
	const char *path = median_boot(s, side);
	json_t *o, *r;

	if (!path)
		return json_null();
	r = load_report(path);
	if (!r)
		return NULL;
	o = json_object();
	if (!o || json_object_set_new(o, "report", r) ||
	    json_object_set_new(o, "path", json_string(path) ?: json_null())) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * put_escaped() - JSON text into the page's <script> element: '<', '>'
 * and '&' only occur inside JSON strings, where \u003c... mean the same
 */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<' || *s == '>' || *s == '&')
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
}

/**
 * cmp_write_html() - the diff view of a decision
 * @s:   the boots' metrics (and the completed boots' files)
 * @res: the decision
 * @f:   where to
 *
 * Return: 0; -ENOMEM; -EINVAL when a boot's file cannot be read again
 * (or memory ran out building it), with a message; -EIO when writing failed.
 */
int cmp_write_html(const struct cmp_set *s, const struct cmp_result *res, FILE *f)
{
	const char *at = strstr(template, "@DATA@");
	json_t *o = json_object(), *b = side_json(s, 0), *c = side_json(s, 1);
	char *text = NULL;
	int err = -ENOMEM;

	if (!b || !c) {
		err = -EINVAL;	/* load_report() said why */
		goto out_put;
	}
	if (!o)
		goto out_put;
	if (json_object_set_new(o, "result", cmp_result_json(s, res)) ||
	    json_object_set(o, "baseline", b) || json_object_set(o, "candidate", c))
		goto out_put;
	text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!text || !at)
		goto out_put;
	fwrite(template, 1, (size_t)(at - template), f);
	put_escaped(f, text);
	fputs(at + strlen("@DATA@"), f);
	err = ferror(f) ? -EIO : 0;
out_put:
	free(text);
	json_decref(o);
	json_decref(b);
	json_decref(c);
	return err;
}

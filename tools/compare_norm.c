// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace compare --normalize speed: under TCG on real time a boot on
 * a busy host runs every instruction slower, and every initcall with it.
 * Each boot's emulation speed is measured in the boot itself: the median,
 * over the initcalls every boot ran for long enough, of its time over
 * that initcall's median in all the boots.  Dividing its times by that
 * factor takes the host's pace out; a regression in a few initcalls moves
 * a median over many hardly at all.  The factors depend on each boot's
 * own values and on medians over all boots of both sides, so the boots
 * stay exchangeable under "no change" and the permutation test stays
 * exact.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "stats.h"
#include "util.h"

#define SPEED_REF_MIN_MS	0.1	/* initcalls shorter than this are mostly noise */
#define SPEED_REF_MIN		10	/* fewer initcalls than this say too little */
#define SPEED_REF_MAX		4096	/* the first this many are plenty for a median */

/* reference() - whether @m is in every completed boot, an initcall of some length */
static bool reference(const struct cmp_set *s, const struct cmp_metric *m, double *med)
{
	double all[2 * CMP_MAX_BOOTS];
	unsigned int n = m->n[0] + m->n[1];

	if (strncmp(m->name, "initcall ", 9) || n != s->ngood[0] + s->ngood[1] ||
	    n > 2 * CMP_MAX_BOOTS || !n)
		return false;
	memcpy(all, m->v[0], m->n[0] * sizeof(*all));
	memcpy(all + m->n[0], m->v[1], m->n[1] * sizeof(*all));
	*med = stats_median(all, n);
	return *med >= SPEED_REF_MIN_MS;
}

/*
 * factors() - each boot's factor, by serial number, in @f (s->serial + 1
 * of them, 0 for a boot without values), scaled so that their median is
 * 1; how many reference initcalls (the first SPEED_REF_MAX), or -ENOMEM
 */
static long factors(const struct cmp_set *s, double *f)
{
	size_t nb = (size_t)s->serial + 1, nref = 0, k;
	size_t room = s->nm < SPEED_REF_MAX ? s->nm + 1 : SPEED_REF_MAX;
	double *r = calloc(nb * room, sizeof(*r)), *good, med;
	unsigned int *cnt = calloc(nb, sizeof(*cnt)), ngood = 0, b, i;
	long ret = -ENOMEM;
	int side;

	good = calloc(nb, sizeof(*good));
	if (!r || !cnt || !good)
		goto out_free;
	/* r[b * room + j]: boot b's time over the median, j-th reference initcall */
	for (k = 0; k < s->nm && nref < room; k++) {
		const struct cmp_metric *m = &s->m[k];

		if (!reference(s, m, &med))
			continue;
		for (side = 0; side < 2; side++)
			for (i = 0; i < m->n[side]; i++) {
				b = m->at[side][i];
				if (b < nb && cnt[b] <= nref)
					r[b * room + cnt[b]++] = m->v[side][i] / med;
			}
		nref++;
	}
	for (b = 0; b < nb; b++) {
		f[b] = cnt[b] ? stats_median(&r[b * room], cnt[b]) : 0;
		if (cnt[b] && isnan(f[b]))
			goto out_free;
		if (cnt[b])
			good[ngood++] = f[b];
	}
	med = ngood ? stats_median(good, ngood) : 1;
	for (b = 0; b < nb; b++)
		f[b] = med > 0 ? f[b] / med : 0;
	ret = (long)nref;
out_free:
	free(r);
	free(cnt);
	free(good);
	return ret;
}

/**
 * cmp_normalize() - divide every boot's times by its emulation speed
 * @s:   the boots' metrics, changed in place
 * @res: gets the smallest and largest factor and how many initcalls
 *       they were taken from
 *
 * Return: 0; -EDOM (with a message) when the boots have too few initcalls
 * in common to measure their speed, or a boot's are all zero; -ENOMEM.
 */
int cmp_normalize(struct cmp_set *s, struct cmp_result *res)
{
	double *f = calloc((size_t)s->serial + 1, sizeof(*f));
	unsigned int i, lo = 0;
	long nref;
	size_t k;
	int side, err = -ENOMEM;

	if (!f)
		return -ENOMEM;
	nref = factors(s, f);
	if (nref < 0)
		goto out_free;
	err = -EDOM;
	if (nref < SPEED_REF_MIN) {
		err_msg("compare: --normalize speed needs %d initcalls of %g ms or more in "
			"every boot to measure each boot's speed; these boots have %ld\n",
			SPEED_REF_MIN, SPEED_REF_MIN_MS, nref);
		goto out_free;
	}
	res->speed_lo = INFINITY;
	res->speed_hi = 0;
	for (k = 0; k < s->nm; k++)
		for (side = 0; side < 2; side++)
			for (i = 0; i < s->m[k].n[side]; i++) {
				double x = f[s->m[k].at[side][i]];

				if (!(x > 0) || !isfinite(x)) {
					lo = s->m[k].at[side][i];
					goto out_zero;
				}
				s->m[k].v[side][i] /= x;
				res->speed_lo = x < res->speed_lo ? x : res->speed_lo;
				res->speed_hi = x > res->speed_hi ? x : res->speed_hi;
			}
	res->speed_ref = (unsigned int)nref;
	err = 0;
	goto out_free;
out_zero:
	err_msg("compare: --normalize speed: boot %u of those given has no time in the "
		"initcalls the others take theirs in\n", lo);
out_free:
	free(f);
	return err;
}

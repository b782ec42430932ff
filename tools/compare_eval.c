// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace compare: the gate's decision.  For every metric seen in
 * enough boots on both sides, a one-sided permutation test on the
 * difference of means - only where the medians moved past both floors, as
 * nothing else could count - and Holm's step-down correction over all the
 * metrics tested, once for slowdowns and once for speed-ups (or, with
 * --fdr, Benjamini-Hochberg's step-up).  Boots on virtual time are decided
 * by separation instead (see compare.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "stats.h"
#include "util.h"

/**
 * struct ranked - one metric's p-value, for Holm's ordering
 * @p: the p-value
 * @k: the metric's index
 */
struct ranked {
	double p;
	size_t k;
};

/* ranked_order() - qsort order: smaller p first, ties in metric order */
static int ranked_order(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	return (x->k > y->k) - (x->k < y->k);
}

/* first_fail() - the first failed boot of @side (one exists) */
static const struct cmp_failure *first_fail(const struct cmp_set *s, int side)
{
	size_t i;

	for (i = 0; i < s->nfail_all; i++)
		if (s->fail[i].side == side)
			break;
	return &s->fail[i < s->nfail_all ? i : 0];
}

/*
 * can_pass() - whether some split of @m's values, pooled over both sides,
 * could move its median past both floors: not when they all lie within
 * MIN-ABS of each other, or within MIN-CHANGE percent.  The pooled values
 * are the same in every split, so leaving such a metric out of the
 * correction changes no metric's p-value nor the error rate.
 */
static bool can_pass(const struct cmp_metric *m, const struct cmp_params *par)
{
	double lo = INFINITY, hi = -INFINITY;
	unsigned int i;
	int side;

	for (side = 0; side < 2; side++)
		for (i = 0; i < m->n[side]; i++) {
			lo = m->v[side][i] < lo ? m->v[side][i] : lo;
			hi = m->v[side][i] > hi ? m->v[side][i] : hi;
		}
	if (!(hi - lo > par->min_abs))
		return false;
	return lo <= 0 || 100 * (hi - lo) / lo > par->min_change;
}

/*
 * need_boots() - boots a side needs: with n boots each the smallest p is
 * 1 / C(2n, n), and Holm makes the smallest p beat alpha over the number
 * of metrics seen on both sides.  Too few is an error (with a message)
 * unless a candidate boot failed, which decides the gate anyway.  A
 * failed baseline boot has no metrics, so it does not count: without
 * that, one baseline boot that panicked left every metric one boot short
 * of @need, none was tested, and the gate passed whatever the candidate
 * did.  The correction counts only the metrics whose values could pass
 * the floors at all (can_pass()).
 */
static int need_boots(const struct cmp_set *s, const struct cmp_params *par,
		      unsigned int *need)
{
	unsigned int bfail = (unsigned int)(s->nfail_all - s->nfail);
	unsigned int good = s->boots[0] - bfail;
	double alpha = par->alpha;
	size_t both = 0, k;

	for (k = 0; k < s->nm; k++)
		both += s->m[k].n[0] && s->m[k].n[1] && can_pass(&s->m[k], par);
	*need = stats_min_boots(alpha / (both ? (double)both : 1));
	if (par->separation)
		*need = CMP_SEPARATION_BOOTS;
	if ((good >= *need && s->boots[1] >= *need) || s->nfail)
		return 0;
	if (bfail)
		err_msg("compare: %u of the %u baseline boots failed (%s first: %s); "
			"they have no metrics\n", bfail, s->boots[0], first_fail(s, 0)->kind,
			first_fail(s, 0)->boot);
	if (par->separation) {
		err_msg("compare: %u good baseline and %u candidate boots on virtual time: at "
			"least %u a side show whether a metric moves with the timer tick\n",
			good, s->boots[1], *need);
		return -EDOM;
	}
	err_msg("compare: %u good baseline and %u candidate boots cannot reach p < %g over "
		"this many metrics (Holm correction): a one-sided permutation test needs at "
		"least %u boots per side\n", good, s->boots[1], alpha, *need);
	return -EDOM;
}

/* separated() - every value of @a above every value of @b by more than @gap */
static bool separated(const double *a, unsigned int na, const double *b, unsigned int nb,
		      double gap)
{
	double lo = a[0], hi = b[0];
	unsigned int i;

	for (i = 1; i < na; i++)
		lo = a[i] < lo ? a[i] : lo;
	for (i = 1; i < nb; i++)
		hi = b[i] > hi ? b[i] : hi;
	return lo - hi > gap;
}

/*
 * separation_p() - a slowdown (@a over @b) decided by separation: the
 * chance of it between boots of one kernel, or 1 when there is none
 */
static double separation_p(const struct cmp_metric *m, int slow, const struct cmp_params *par)
{
	const double *a = m->v[slow ? 1 : 0], *b = m->v[slow ? 0 : 1];
	unsigned int na = m->n[slow ? 1 : 0], nb = m->n[slow ? 0 : 1];
	double pct = slow ? m->pct : -m->pct;

	if (pct <= par->min_change || !separated(a, na, b, nb, par->min_abs))
		return 1;
	return 1 / stats_binom(na + nb, na);
}

/*
 * test_metrics() - medians and p-values of every metric with @need boots
 * a side; @slow and @fast get (p, index) of the tests for a slowdown and
 * a speed-up, 1 where the change does not pass the floors.  Resampled
 * p-values resolve down to the first Holm limit, alpha / (metrics
 * tested).  *@ncompared gets how many had @need boots a side, of which
 * only those that can pass the floors are tested.  Returns how many
 * metrics were tested, or -ENOMEM.
 */
static long test_metrics(struct cmp_set *s, const struct cmp_params *par, unsigned int need,
			 struct ranked *slow, struct ranked *fast, unsigned int *ncompared)
{
	size_t nt = 0, k;
	double target;

	for (k = 0; k < s->nm; k++) {
		struct cmp_metric *m = &s->m[k];

		m->compared = m->n[0] >= need && m->n[1] >= need;
		*ncompared += m->compared;
		m->tested = m->compared && (par->separation || can_pass(m, par));
		m->regressed = false;
		m->p = 1;
		nt += m->tested;
	}
	target = par->alpha / (nt ? (double)nt : 1);
	nt = 0;
	for (k = 0; k < s->nm; k++) {
		struct cmp_metric *m = &s->m[k];
		double pr = 1, pi = 1;

		if (!m->compared)
			continue;
		m->bmed = stats_median(m->v[0], m->n[0]);
		m->cmed = stats_median(m->v[1], m->n[1]);
		if (isnan(m->bmed) || isnan(m->cmed))
			return -ENOMEM;
		m->pct = m->bmed > 0 ? 100 * (m->cmed - m->bmed) / m->bmed : 0;
		if (!m->tested)
			continue;
		if (par->separation) {
			pr = separation_p(m, 1, par);
			pi = separation_p(m, 0, par);
		} else {
			if (m->pct > par->min_change && m->cmed - m->bmed > par->min_abs)
				pr = stats_perm_p_to(m->v[0], m->n[0], m->v[1], m->n[1],
						     par->resamples, target);
			if (-m->pct > par->min_change && m->bmed - m->cmed > par->min_abs)
				pi = stats_perm_p_to(m->v[1], m->n[1], m->v[0], m->n[0],
						     par->resamples, target);
		}
		if (isnan(pr) || isnan(pi))
			return -ENOMEM;
		m->p = pr;
		slow[nt] = (struct ranked){ pr, k };
		fast[nt] = (struct ranked){ pi, k };
		nt++;
	}
	return (long)nt;
}

/*
 * separations() - under separation every separated metric is a change:
 * those of @r with p < 1 go to @out (allocated; *@nout of them).  0 or
 * -ENOMEM.
 */
static int separations(struct ranked *r, size_t nt, struct cmp_change **out, size_t *nout)
{
	size_t i;

	qsort(r, nt, sizeof(*r), ranked_order);
	*out = calloc(nt + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (*nout = 0, i = 0; i < nt && r[i].p < 1; i++)
		(*out)[(*nout)++] = (struct cmp_change){ r[i].k, r[i].p, 1 };
	return 0;
}

/*
 * holm() - Holm's step-down over @nt p-values: walk them upwards and
 * reject while p <= alpha / (nt - rank).  The rejected go to @out
 * (allocated; *@nout of them).  0 or -ENOMEM.
 */
static int holm(struct ranked *r, size_t nt, double alpha, struct cmp_change **out,
		size_t *nout)
{
	size_t i;

	qsort(r, nt, sizeof(*r), ranked_order);
	for (i = 0; i < nt && r[i].p <= alpha / (double)(nt - i); i++)
		;
	*nout = i;
	*out = calloc(i + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < *nout; i++)
		(*out)[i] = (struct cmp_change){ r[i].k, r[i].p, alpha / (double)(nt - i) };
	return 0;
}

/*
 * bh() - Benjamini-Hochberg's step-up over @nt p-values: the largest rank
 * i (from 1) with p <= i * alpha / nt, and every p up to it, go to @out
 * (allocated; *@nout of them), each with that rank's limit.  It bounds
 * the expected share of false findings among the findings by alpha; when
 * nothing changed, the chance of any finding too.  0 or -ENOMEM.
 */
static int bh(struct ranked *r, size_t nt, double alpha, struct cmp_change **out,
	      size_t *nout)
{
	size_t i, last = 0;

	qsort(r, nt, sizeof(*r), ranked_order);
	for (i = 0; i < nt; i++)
		if (r[i].p <= (double)(i + 1) * alpha / (double)nt)
			last = i + 1;
	*nout = last;
	*out = calloc(last + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < last; i++)
		(*out)[i] = (struct cmp_change){ r[i].k, r[i].p,
						 (double)last * alpha / (double)nt };
	return 0;
}

/*
 * appeared() - initcalls too rare on one side to test but in enough boots
 * of the other: new (@side 1) or vanished (@side 0) ones.  0 or -ENOMEM.
 */
static int appeared(const struct cmp_set *s, int side, unsigned int need, size_t **out,
		    size_t *nout)
{
	size_t k;

	*nout = 0;
	*out = calloc(s->nm + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (k = 0; k < s->nm; k++) {
		const struct cmp_metric *m = &s->m[k];

		if (!m->tested && !strncmp(m->name, "initcall ", 9) && m->n[!side] == 0 &&
		    m->n[side] >= need)
			(*out)[(*nout)++] = k;
	}
	return 0;
}

/**
 * cmp_evaluate() - the gate's decision on a set of boots
 * @s:   the boots' metrics; each metric's medians, p-value and flags are set
 * @par: what counts as a regression; a floor below 0 takes its default,
 *       which depends on the boots' clock.  With @par->speed the set's
 *       values are divided by each boot's speed first (cmp_normalize()).
 * @res: the decision (with the parameters it used); release it with
 *       cmp_result_free()
 *
 * Return: 0; -EDOM (with a message) when there are too few boots to
 * reach @par->alpha; -ENOMEM.
 */
int cmp_evaluate(struct cmp_set *s, const struct cmp_params *par, struct cmp_result *res)
{
	struct ranked *slow, *fast;
	long nt;
	size_t k;
	int err;

	memset(res, 0, sizeof(*res));
	res->par = *par;
	res->par.separation = !strncmp(s->clock, "icount", 6);
	if (res->par.separation && par->min_abs < 0)
		res->par.min_abs = CMP_SEPARATION_MIN_ABS;
	if (res->par.separation && par->min_change < 0)
		res->par.min_change = CMP_SEPARATION_MIN_CHANGE;
	if (res->par.min_abs < 0)
		res->par.min_abs = CMP_MIN_ABS;
	if (res->par.min_change < 0)
		res->par.min_change = CMP_MIN_CHANGE;
	par = &res->par;
	if (par->speed && par->separation) {
		err_msg("compare: --normalize speed: these boots are on virtual time, which "
			"no host slows down; there is no emulation speed to take out\n");
		return -EDOM;
	}
	if (par->speed) {
		err = cmp_normalize(s, res);
		if (err)
			return err;
	}
	err = need_boots(s, par, &res->need);
	if (err)
		return err;
	slow = calloc(s->nm + 1, sizeof(*slow));
	fast = calloc(s->nm + 1, sizeof(*fast));
	err = -ENOMEM;
	if (!slow || !fast)
		goto out_free;
	nt = test_metrics(s, par, res->need, slow, fast, &res->ncompared);
	if (nt < 0)
		goto out_free;
	res->ntest = (unsigned int)nt;
	if (par->separation) {
		if (separations(slow, (size_t)nt, &res->reg, &res->nreg) ||
		    separations(fast, (size_t)nt, &res->imp, &res->nimp))
			goto out_free;
	} else if (par->bh) {
		if (bh(slow, (size_t)nt, par->alpha, &res->reg, &res->nreg) ||
		    bh(fast, (size_t)nt, par->alpha, &res->imp, &res->nimp))
			goto out_free;
	} else if (holm(slow, (size_t)nt, par->alpha, &res->reg, &res->nreg) ||
		   holm(fast, (size_t)nt, par->alpha, &res->imp, &res->nimp)) {
		goto out_free;
	}
	if (appeared(s, 1, res->need, &res->added, &res->nadded) ||
	    appeared(s, 0, res->need, &res->gone, &res->ngone))
		goto out_free;
	for (k = 0; k < res->nreg; k++)
		s->m[res->reg[k].metric].regressed = true;
	res->failed = res->nreg || s->nfail;
	err = 0;
out_free:
	free(slow);
	free(fast);
	if (err)
		cmp_result_free(res);
	return err;
}

/**
 * cmp_result_free() - release what cmp_evaluate() allocated
 * @res: the decision; its lists are left empty
 */
void cmp_result_free(struct cmp_result *res)
{
	free(res->reg);
	free(res->imp);
	free(res->added);
	free(res->gone);
	res->reg = res->imp = NULL;
	res->added = res->gone = NULL;
	res->nreg = res->nimp = res->nadded = res->ngone = 0;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Statistics for the boot-time gate: a one-sided permutation test on the
 * difference of means (exact when the number of splits is small, else
 * with a fixed number of random resamples), Mann-Whitney U, medians.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* cmp_double() - qsort order */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/**
 * stats_median() - median of @n values (@v is not changed)
 * @v: values
 * @n: how many, at least 1
 *
 * Return: the median, NAN when out of memory or @n is 0.
 */
double stats_median(const double *v, size_t n)
{
	double *c, m;

	if (!n)
		return NAN;
	c = malloc(n * sizeof(*c));
	if (!c)
		return NAN;
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_double);
	m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return m;
}

/* binom() - n choose k, as a double (exact for the sizes used here) */
double stats_binom(unsigned int n, unsigned int k)
{
	double r = 1;
	unsigned int i;

	if (k > n)
		return 0;
	if (k > n - k)
		k = n - k;
	for (i = 1; i <= k; i++)
		r = r * (n - k + i) / i;
	return r;
}

/* xorshift() - a small, seeded generator: results repeat run to run */
static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/**
 * stats_perm_p_to() - one-sided permutation p-value that @b's mean exceeds
 * @a's, resolved down to @target
 * @a:         baseline values
 * @na:        how many
 * @b:         candidate values
 * @nb:        how many
 * @resamples: random splits when the exact enumeration has more splits
 * @target:    smallest p-value the caller must be able to tell apart (the
 *             first Holm limit, alpha / tests); 0 for none
 *
 * The statistic is mean(b) - mean(a).  With at most 200,000 ways to split
 * the pooled values, every split is enumerated and the p-value is exact;
 * otherwise @resamples random splits (seeded, so runs repeat) estimate it,
 * counting the observed split, as (hits + 1) / (resamples + 1).  That can
 * never go below 1 / (resamples + 1): when that could hide a p-value under
 * @target - fewer than 10 of the splits as extreme - the same sequence of
 * splits goes on to 20 / @target of them (at most 100 million).  The
 * p-value stays valid: a test that stops reports at least
 * 11 / (resamples + 1), and one that goes on reports the fixed-count
 * estimate of the longer run, so P(p <= t) <= t either way.
 *
 * Return: the p-value, or NAN on bad arguments.
 */
double stats_perm_p_to(const double *a, size_t na, const double *b, size_t nb,
		       unsigned int resamples, double target)
{
	size_t n = na + nb, i;
	double *pool, total = 0, obs, sa = 0, sb = 0, hits = 0, trials = 0, more;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	if (!na || !nb || n > 62)
		return NAN;
	pool = malloc(n * sizeof(*pool));
	if (!pool)
		return NAN;
	for (i = 0; i < na; i++) {
		pool[i] = a[i];
		sa += a[i];
	}
	for (i = 0; i < nb; i++) {
		pool[na + i] = b[i];
		sb += b[i];
	}
	total = sa + sb;
	obs = sb / nb - sa / na;
	if (stats_binom((unsigned int)n, (unsigned int)nb) <= 200000) {
		/* every subset of size nb as the candidate: Gosper's hack */
		uint64_t set = (1ULL << nb) - 1, limit = 1ULL << n;

		while (set < limit) {
			double s = 0, d;
			uint64_t c, r;

			for (i = 0; i < n; i++)
				if (set >> i & 1)
					s += pool[i];
			d = s / nb - (total - s) / na;
			hits += d >= obs - 1e-12 * fabs(obs);
			trials++;
			c = set & -set;
			r = set + c;
			set = (((r ^ set) >> 2) / c) | r;
		}
		free(pool);
		return hits / trials;
	}
	more = resamples;
	for (trials = 0; trials < more; trials++) {
		double s = 0, d;

		/* partial Fisher-Yates: the first nb slots are the candidate */
		for (i = 0; i < nb; i++) {
			size_t j = i + xorshift(&seed) % (n - i);
			double t = pool[i];

			pool[i] = pool[j];
			pool[j] = t;
			s += pool[i];
		}
		d = s / nb - (total - s) / na;
		hits += d >= obs - 1e-12 * fabs(obs);
		/* too few as extreme to tell p from @target: a longer run */
		if (trials + 1 == resamples && hits < 10 && target > 0)
			more = fmax(resamples, fmin(ceil(20 / target), 1e8));
	}
	free(pool);
	return (hits + 1) / (trials + 1);
}

/**
 * stats_perm_p() - one-sided permutation p-value that @b's mean exceeds @a's
 * @a:         baseline values
 * @na:        how many
 * @b:         candidate values
 * @nb:        how many
 * @resamples: random splits when the exact enumeration has more splits
 *
 * stats_perm_p_to() with no target: exact up to 200,000 splits, else
 * (hits + 1) / (@resamples + 1) over @resamples seeded random splits.
 *
 * Return: the p-value, or NAN on bad arguments.
 */
double stats_perm_p(const double *a, size_t na, const double *b, size_t nb,
		    unsigned int resamples)
{
	return stats_perm_p_to(a, na, b, nb, resamples, 0);
}

/**
 * stats_mwu() - Mann-Whitney U of @b against @a, and its one-sided p-value
 * @a:  baseline values
 * @na: how many
 * @b:  candidate values
 * @nb: how many
 * @p:  set to P(U >= observed) under the null hypothesis (normal
 *      approximation with continuity and tie corrections), for "b is
 *      larger"
 *
 * U counts the pairs (a_i, b_j) with b_j > a_i, ties counting one half.
 *
 * Return: U.
 */
double stats_mwu(const double *a, size_t na, const double *b, size_t nb, double *p)
{
	double u = 0, mu, sigma, z;
	size_t i, j;

	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			u += b[j] > a[i] ? 1 : b[j] == a[i] ? 0.5 : 0;
	mu = (double)na * nb / 2;
	sigma = sqrt((double)na * nb * (na + nb + 1) / 12);
	z = sigma > 0 ? (u - mu - 0.5) / sigma : 0;
	if (p)
		*p = 0.5 * erfc(z / sqrt(2));
	return u;
}

/**
 * stats_min_boots() - boots per side needed to reach p < @alpha at all
 * @alpha: the significance level
 *
 * With n boots on each side the smallest permutation p-value is
 * 1 / C(2n, n).
 *
 * Return: the smallest such n (at most 31).
 */
unsigned int stats_min_boots(double alpha)
{
	unsigned int n;

	for (n = 1; n < 31; n++)
		if (1.0 / stats_binom(2 * n, n) < alpha)
			return n;
	return 31;
}

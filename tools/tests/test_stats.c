// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The gate's statistics against values computed by hand and textbook
 * examples.
 */
#include <math.h>

#include "stats.h"
#include "tap.h"

#define NEAR(x, y)	(fabs((x) - (y)) < 1e-9)

/* main() - run the checks */
int main(void)
{
	const double lo[] = { 1, 2, 3, 4, 5 }, hi[] = { 6, 7, 8, 9, 10 };
	const double same[] = { 7, 7, 7, 7, 7 };
	const double a3[] = { 1, 3, 5 }, b2[] = { 2, 4 }, a123[] = { 1, 2, 3 }, b45[] = { 4, 5 };
	const double ta[] = { 19, 22, 16, 29, 24 }, tb[] = { 20, 11, 17, 12 };
	double big_a[20], big_b[20], p;
	int i;

	ok(NEAR(stats_perm_p(lo, 5, hi, 5, 9999), 1.0 / 252),
	   "permutation: fully separated 5 vs 5, exact p = 1/C(10,5) = 1/252");
	ok(NEAR(stats_perm_p(hi, 5, lo, 5, 9999), 1.0),
	   "permutation: the other direction, p = 1");
	ok(NEAR(stats_perm_p(same, 5, same, 5, 9999), 1.0), "permutation: identical values, p = 1");
	ok(NEAR(stats_perm_p(a123, 3, b45, 2, 9999), 0.1),
	   "permutation: {1,2,3} vs {4,5}: 1 split of 10 as extreme, p = 0.1");
	ok(NEAR(stats_perm_p(a3, 3, b2, 2, 9999), 0.6),
	   "permutation: {1,3,5} vs {2,4}: 6 of 10 splits with mean difference >= 0, p = 0.6");
	for (i = 0; i < 20; i++) {
		big_a[i] = 100 + i % 5;
		big_b[i] = 130 + i % 5;
	}
	p = stats_perm_p(big_a, 20, big_b, 20, 9999);
	ok(NEAR(p, 1.0 / 10000), "permutation: 20 vs 20 resampled (seeded), p = 1/(9999+1)");
	ok(NEAR(stats_perm_p(big_a, 20, big_b, 20, 9999), p), "permutation: resampling repeats");
	ok(NEAR(stats_perm_p_to(big_a, 20, big_b, 20, 9999, 0), p),
	   "permutation to no target: the same 9999 resamples");
	p = stats_perm_p_to(big_a, 20, big_b, 20, 9999, 1e-5);
	ok(NEAR(p, 1.0 / 2000001),
	   "permutation to a target of 1e-5: none of 9999 splits as extreme, so 20 / 1e-5 of "
	   "them, p = 1/(2e6+1)");
	for (i = 0; i < 20; i++)
		big_b[i] = 100 + (i + 2) % 5;
	p = stats_perm_p_to(big_a, 20, big_b, 20, 9999, 1e-5);
	ok(p > 0.3 && p < 0.7, "permutation to a target: the same values on both sides, p near 1/2");

	is(stats_mwu(lo, 5, hi, 5, &p), 25, "Mann-Whitney: separated 5 vs 5, U = 25");
	ok(p < 0.01, "Mann-Whitney: and its one-sided p < 0.01");
	is(stats_mwu(ta, 5, tb, 4, NULL), 3, "Mann-Whitney: textbook example (B above A in 3 pairs), U = 3");
	is(stats_mwu(same, 5, same, 5, NULL) * 2, 25, "Mann-Whitney: all ties count one half, U = 12.5");

	ok(NEAR(stats_median((const double[]){ 3, 1, 2 }, 3), 2), "median of 3 values");
	ok(NEAR(stats_median((const double[]){ 4, 1, 2, 3 }, 4), 2.5), "median of 4 values");
	ok(isnan(stats_median(lo, 0)), "median of nothing is NaN");
	ok(NEAR(stats_binom(10, 5), 252) && NEAR(stats_binom(40, 20), 137846528820.0),
	   "binomial coefficients");
	is(stats_min_boots(0.01), 5, "p < 0.01 needs 5 boots per side (1/C(10,5) = 0.004)");
	is(stats_min_boots(0.05), 4, "p < 0.05 needs 4 boots per side (1/C(8,4) = 0.014)");
	is(stats_min_boots(0.001), 7, "p < 0.001 needs 7 boots per side (1/C(14,7) = 0.0003)");
	return done_testing();
}

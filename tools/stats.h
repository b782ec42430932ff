/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Statistics for the boot-time regression gate.
 */
#ifndef _HT_TOOLS_STATS_H
#define _HT_TOOLS_STATS_H

#include <stddef.h>
#include <stdint.h>

double stats_median(const double *v, size_t n);
double stats_binom(unsigned int n, unsigned int k);
double stats_perm_p(const double *a, size_t na, const double *b, size_t nb,
		    unsigned int resamples);
double stats_perm_p_to(const double *a, size_t na, const double *b, size_t nb,
		       unsigned int resamples, double target);
double stats_mwu(const double *a, size_t na, const double *b, size_t nb, double *p);
unsigned int stats_min_boots(double alpha);

#endif /* _HT_TOOLS_STATS_H */

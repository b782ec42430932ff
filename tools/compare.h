/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * hypertrace compare: the metrics of two sets of boots (compare_metrics.c),
 * the gate's evaluation of them (compare_eval.c) and its reports
 * (compare_write.c).
 */
#ifndef _HT_TOOLS_COMPARE_H
#define _HT_TOOLS_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "options.h"

#define CMP_MAX_BOOTS	31	/* per side: what the permutation test handles */

/**
 * struct cmp_metric - one thing measured in the boots
 * @name:      "boot", "phase setup_arch", "initcall acpi_init"... (UTF-8)
 * @level:     boot level (initcalls), else ""
 * @v:         values in ms, per side (0 baseline, 1 candidate), one per boot
 * @at:        per side, the serial number (struct cmp_set) of the boot of each value
 * @n:         how many boots of each side had it
 * @alloc:     room in each of @v
 * @last_boot: serial number of the boot that gave the latest value
 * @bmed:      baseline median (set by cmp_evaluate() when @tested)
 * @cmed:      candidate median (likewise)
 * @pct:       change of the median in percent (likewise)
 * @p:         permutation p-value that the candidate is slower, 1 when not computed
 * @compared:  enough boots on both sides to compare
 * @tested:    compared, and values far enough
 *             apart that some split of them could pass both floors
 * @regressed: a regression after the Holm correction
 */
struct cmp_metric {
	char *name;
	char *level;
	double *v[2];
	unsigned int *at[2];
	unsigned int n[2];
	unsigned int alloc[2];
	unsigned int last_boot;
	double bmed;
	double cmed;
	double pct;
	double p;
	bool compared;
	bool tested;
	bool regressed;
};

/**
 * struct cmp_failure - a boot that did not complete
 * @side:     0 baseline, 1 candidate
 * @boot:     the file it was read from
 * @kind:     "panic", "oops", "hang", "crash"... (htr_verdict_name())
 * @message:  what the kernel or the collector said, NULL if nothing
 * @initcall: the initcall running, NULL if none
 */
struct cmp_failure {
	int side;
	char *boot;
	char *kind;
	char *message;
	char *initcall;
};

/**
 * struct cmp_boot - a boot that completed
 * @path:    the file it was read from
 * @boot_ms: its total boot time, 0 if it has none
 */
struct cmp_boot {
	char *path;
	double boot_ms;
};

/**
 * struct cmp_noisy - a boot with too much stolen time
 * @boot:       its file
 * @side:       0 baseline, 1 candidate
 * @stolen_pct: its vCPUs' preempted time over (boot time x vCPUs)
 */
struct cmp_noisy {
	char *boot;
	int side;
	double stolen_pct;
};

/* the share of a boot's vCPU time the host may take before it is flagged */
#define CMP_MAX_STOLEN_PCT	25

/**
 * struct cmp_set - the metrics of every boot read, in the order first seen
 * @m:        the metrics
 * @nm:       how many
 * @alloc:    room in @m
 * @slot:     hash table of @m: index + 1 per slot, 0 when empty
 * @nslot:    its size, a power of two, more than twice @nm
 * @seed:     hash seed (names come from the guest)
 * @boots:    boots read per side
 * @serial:   boots read in all (each boot's serial number: 1, 2...)
 * @fail:     boots that failed, both sides
 * @nfail_all: how many
 * @fail_alloc: room in @fail
 * @nfail:    how many of them are candidate boots
 * @clock:    the clock every boot's times are on: "real" or "icount SPEC"
 *            ("" before the first boot)
 * @clock_path: the first boot read, for the message when one differs
 * @good:     per side, the boots that completed (for the diff view)
 * @ngood:    how many
 * @good_alloc: room in @good
 * @subtract_stolen: each span's stolen time (its vCPU preempted by the
 *            host) is taken off its duration before the test, and vCPU
 *            0's off the boot's (--subtract-stolen)
 * @subtract_idle: each span's idle time (its CPU in the idle loop:
 *            waiting for a timer or a device) is taken off its duration,
 *            and CPU 0's off the boot's (--subtract-idle)
 * @max_stolen_pct: a boot whose vCPUs were preempted for more than this
 *            share of the boot is flagged (--max-stolen)
 * @noisy:    the boots flagged
 * @nnoisy:   how many
 * @noisy_alloc: room in @noisy
 * @with_host: boots that had the host scheduler's view (on the model clock)
 */
struct cmp_set {
	struct cmp_metric *m;
	size_t nm;
	size_t alloc;
	size_t *slot;
	size_t nslot;
	uint64_t seed;
	unsigned int boots[2];
	unsigned int serial;
	struct cmp_failure *fail;
	size_t nfail_all;
	size_t fail_alloc;
	unsigned int nfail;
	char clock[72];
	char clock_path[256];
	struct cmp_boot *good[2];
	size_t ngood[2];
	size_t good_alloc[2];
	bool subtract_stolen;
	bool subtract_idle;
	double max_stolen_pct;
	struct cmp_noisy *noisy;
	size_t nnoisy;
	size_t noisy_alloc;
	unsigned int with_host[2];
};

/**
 * struct cmp_params - what counts as a regression
 * @alpha:      family-wise significance level (Holm)
 * @min_change: relative slowdown of the median that counts, percent
 * @min_abs:    absolute slowdown that counts, ms
 * @resamples:  random splits when exact enumeration is too big
 * @separation: virtual-time boots (icount): decide by separation, not by
 *              a test (cmp_evaluate() sets it from the boots' clock)
 * @bh:         Benjamini-Hochberg's false-discovery rate instead of Holm's
 *              family-wise error rate
 * @speed:      divide each boot's times by its emulation speed (see
 *              cmp_normalize())
 */
struct cmp_params {
	double alpha;
	double min_change;
	double min_abs;
	unsigned int resamples;
	bool separation;
	bool bh;
	bool speed;
};

/*
 * Virtual-time boots are deterministic: the same kernel with the same
 * input boots in the same time.  What moves between boots of one kernel
 * is where its waits fall against the timer tick, which the gate samples
 * by perturbing each round's input.  Three boots a side show whether a
 * metric moves at all; a change is a regression when every candidate boot
 * is slower than every baseline boot, past both floors.
 */
#define CMP_MIN_ABS		1	/* ms, real time */
#define CMP_MIN_CHANGE		5	/* percent, real time */
#define CMP_SEPARATION_BOOTS	3
#define CMP_SEPARATION_MIN_ABS	0.01	/* ms: above rest_init's 3.7 us jitter */
#define CMP_SEPARATION_MIN_CHANGE 0	/* percent: the tick, not the length, is the noise */

/**
 * struct cmp_change - a significant change of one metric
 * @metric: index in the set's metrics
 * @p:      its p-value (under separation: the chance of a separation this
 *          complete between two sets of boots of one kernel, 1 / C(n + m, n))
 * @limit:  the Holm limit it beat (under separation: 1)
 */
struct cmp_change {
	size_t metric;
	double p;
	double limit;
};

/**
 * struct cmp_result - what the gate decided
 * @par:     the parameters it used
 * @need:    boots per side a metric needs to be tested
 * @ncompared: metrics seen in enough boots on both sides
 * @ntest:   of them, those tested: the rest are spread too little for any
 *           split of their values to pass the floors, so they join no
 *           correction (that depends on the pooled values only, which is
 *           what a permutation test conditions on: the error rate holds)
 * @speed_lo: with @par.speed, the smallest factor a boot was divided by
 * @speed_hi: and the largest
 * @speed_ref: how many initcalls the factors were taken from
 * @reg:     regressions, smallest p first
 * @nreg:    how many
 * @imp:     improvements, smallest p first
 * @nimp:    how many
 * @added:   indices of initcalls only the candidate boots have
 * @nadded:  how many
 * @gone:    indices of initcalls only the baseline boots have
 * @ngone:   how many
 * @failed:  the gate fails: a regression or a failed candidate boot
 */
struct cmp_result {
	struct cmp_params par;
	unsigned int need;
	unsigned int ncompared;
	unsigned int ntest;
	double speed_lo;
	double speed_hi;
	unsigned int speed_ref;
	struct cmp_change *reg;
	size_t nreg;
	struct cmp_change *imp;
	size_t nimp;
	size_t *added;
	size_t nadded;
	size_t *gone;
	size_t ngone;
	bool failed;
};

int cmp_add_file(struct cmp_set *s, int side, const char *path);
int cmp_add_model(struct cmp_set *s, int side, const char *path,
		  const struct boot_model *m);
int cmp_add_report(struct cmp_set *s, int side, const char *path, json_t *r);
void cmp_set_free(struct cmp_set *s);

int cmp_normalize(struct cmp_set *s, struct cmp_result *res);
int cmp_evaluate(struct cmp_set *s, const struct cmp_params *par,
		 struct cmp_result *res);
void cmp_result_free(struct cmp_result *res);

json_t *cmp_result_json(const struct cmp_set *s, const struct cmp_result *res);
int cmp_write_html(const struct cmp_set *s, const struct cmp_result *res, FILE *f);
int cmp_write_markdown(const struct cmp_set *s, const struct cmp_result *res, FILE *f);
int cmp_write_junit(const struct cmp_set *s, const struct cmp_result *res, FILE *f);
int cmp_write_json(const struct cmp_set *s, const struct cmp_result *res, FILE *f);
void cmp_print_summary(const struct cmp_set *s, const struct cmp_result *res,
		       bool pass, FILE *f);

#endif /* _HT_TOOLS_COMPARE_H */

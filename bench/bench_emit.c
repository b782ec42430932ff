// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Cost of one record through the real lib/ code on the hosted platform
 * (native, no hypervisor): the shmem ring fast path, a string event, and
 * the hook with tracing off.  Prints the median over repeated runs.
 *
 *   bench_emit [RUNS [EVENTS]]      time it (default 31 runs of 300,000)
 *   bench_emit --count EVENTS       emit once, for callgrind to count
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ht_internal.h"

static void *area;
static __u64 area_size;
static unsigned int ring_records = 1U << 20;

/* now_ns() - monotonic clock in nanoseconds */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* fresh_rings() - empty rings, as after boot, so a run never hits a full ring */
static void fresh_rings(void)
{
	ht_test_reset();
	ht_early_buf.state = HT_EARLY_MOVED;
	memset(area, 0, area_size);
	if (ht_rings_init(area, 0, area_size, 1, ring_records)) {
		fprintf(stderr, "bench_emit: ht_rings_init failed\n");
		exit(1);
	}
}

/* cmp_double() - qsort order for doubles */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

enum what { EMIT, EMIT_STR, EMIT_OFF };

/* one_run() - ns per event for @n events of kind @w */
static double one_run(enum what w, unsigned int n)
{
	unsigned int i;
	double t0, t1;

	fresh_rings();
	if (w == EMIT_OFF) {
		ht.bulk = NULL;
		ht.fast = 0;
	}
	t0 = now_ns();
	switch (w) {
	case EMIT:
	case EMIT_OFF:
		for (i = 0; i < n; i++)
			ht_emit(HT_EV_FUNC_ENTRY, i, 0);
		break;
	case EMIT_STR:
		for (i = 0; i < n; i++)
			ht_emit_str(HT_EV_USER_MARKER, i, 0, "a 30-byte user marker string!");
		break;
	}
	t1 = now_ns();
	return (t1 - t0) / n;
}

/* median() - median ns/event over @runs runs */
static double median(enum what w, unsigned int runs, unsigned int n)
{
	double *v = calloc(runs, sizeof(*v)), m;
	unsigned int i;

	for (i = 0; i < runs; i++)
		v[i] = one_run(w, n);
	qsort(v, runs, sizeof(*v), cmp_double);
	m = v[runs / 2];
	free(v);
	return m;
}

/* main() - time the three cases, or emit once for callgrind */
int main(int argc, char **argv)
{
	unsigned int runs = 31, n = 300000;

	area_size = ht_area_size(1, ring_records);
	area = aligned_alloc(4096, (area_size + 4095) & ~4095ULL);
	if (!area)
		return 1;
	if (argc == 3 && !strcmp(argv[1], "--count")) {
		n = strtoul(argv[2], NULL, 0);
		fresh_rings();
		for (unsigned int i = 0; i < n; i++)
			ht_emit(HT_EV_FUNC_ENTRY, i, 0);
		return 0;
	}
	if (argc > 1)
		runs = strtoul(argv[1], NULL, 0);
	if (argc > 2)
		n = strtoul(argv[2], NULL, 0);
	if (!runs || !n || n > ring_records / 3) {
		fprintf(stderr, "usage: bench_emit [RUNS [EVENTS <= %u]] | --count EVENTS\n",
			ring_records / 3);
		return 2;
	}
	printf("shmem record (ht_emit)            %6.2f ns/event\n", median(EMIT, runs, n));
	printf("string event, 30 bytes (2 conts)  %6.2f ns/event\n", median(EMIT_STR, runs, n));
	printf("tracing off (ht_emit, bulk NULL)  %6.2f ns/event\n", median(EMIT_OFF, runs, n));
	printf("(median of %u runs of %u events each)\n", runs, n);
	return 0;
}

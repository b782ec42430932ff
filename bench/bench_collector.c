// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The collector's side of a record, measured natively with the real code:
 * the guest library fills rings in a shared file mapping, libhtrace drains
 * them and the trace-file writer appends them (to /dev/shm, so the disk is
 * not what we measure).
 *
 *   bench_collector drain     records drained per second, rings -> trace file
 *   bench_collector rate      highest steady guest rate with zero loss for the
 *                             default ring (16384 records), with the
 *                             collector's polling policy (1 ms when records
 *                             flow, doubling to 50 ms when idle)
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ht_internal.h"
#include "htrace.h"
#include "tracefile.h"

#define RING	16384
#define BATCH	4096

static struct htf_writer w;
static struct ht_record batch[BATCH];
static unsigned int nbatch;

/* now() - CLOCK_MONOTONIC seconds */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* flush() - append buffered records as one chunk, as the collector does */
static void flush(void)
{
	if (nbatch)
		htf_append(&w, HTF_RECORDS, HTF_SRC_RING, 0, batch, nbatch * HT_RECORD_SIZE);
	nbatch = 0;
}

/* take() - drain callback: buffer and flush full batches */
static int take(void *ctx, const struct ht_record *rec, unsigned int ring)
{
	(void)ctx;
	(void)ring;
	batch[nbatch++] = *rec;
	if (nbatch == BATCH)
		flush();
	return 0;
}

/* setup() - rings for @cpus CPUs in a fresh shared mapping, and a trace file */
static void *setup(unsigned int cpus, unsigned int recs, __u64 *size, const char *trace)
{
	void *area;

	*size = ht_area_size(cpus, recs);
	area = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ht_test_reset();
	ht_early_buf.state = HT_EARLY_MOVED;
	unlink(trace);
	if (area == MAP_FAILED || ht_rings_init(area, 0, *size, cpus, recs) ||
	    htf_create(&w, trace)) {
		fprintf(stderr, "bench_collector: setup failed\n");
		exit(1);
	}
	return area;
}

/* bench_drain() - fill 4 rings of 1M records, time draining them to the file */
static void bench_drain(void)
{
	const unsigned int recs = 1 << 20, cpus = 4;
	double best = 0;
	int run;

	for (run = 0; run < 5; run++) {
		struct htr_area a;
		unsigned int c, i;
		__u64 size;
		void *area = setup(cpus, recs, &size, "/dev/shm/ht-bench.htf");
		double t0, t;
		long n;

		for (c = 0; c < cpus; c++) {
			ht_test_cpu = c;
			for (i = 0; i < recs - 1; i++)
				ht_emit(HT_EV_FUNC_ENTRY, i, c);
		}
		htr_area_open(&a, area, size, 0, true);
		t0 = now();
		n = htr_area_drain(&a, take, NULL);
		flush();
		t = now() - t0;
		if (n / t > best)
			best = n / t;
		htr_area_close(&a);
		htf_close(&w);
		munmap(area, size);
	}
	unlink("/dev/shm/ht-bench.htf");
	printf("drain rings -> trace file (tmpfs): %.1f million records/s (best of 5, 4M records)\n",
	       best / 1e6);
}

static volatile int stop;
static double rate;

/* producer() - emit at @rate records/s for as long as asked */
static void *producer(void *arg)
{
	double t0 = now();
	unsigned long sent = 0;

	(void)arg;
	ht_test_cpu = 0;
	while (!stop) {
		double due = (now() - t0) * rate;

		while (sent < due && !stop) {
			ht_emit(HT_EV_FUNC_ENTRY, sent, 0);
			sent++;
		}
	}
	return NULL;
}

/* lossless() - whether a steady @r records/s for 1 s loses nothing */
static int lossless(double r)
{
	struct htr_area a;
	pthread_t th;
	unsigned int idle = 1;
	__u64 size;
	void *area = setup(1, RING, &size, "/dev/shm/ht-bench.htf");
	double t0;
	long n;
	int ok;

	htr_area_open(&a, area, size, 0, true);
	rate = r;
	stop = 0;
	pthread_create(&th, NULL, producer, NULL);
	t0 = now();
	while (now() - t0 < 1.0) {
		poll(NULL, 0, idle);
		n = htr_area_drain(&a, take, NULL);
		flush();
		idle = n ? 1 : (idle * 2 > 50 ? 50 : idle * 2);
	}
	stop = 1;
	pthread_join(th, NULL);
	htr_area_drain(&a, take, NULL);
	flush();
	ok = ((struct ht_ring_hdr *)((char *)area + 128))->lost == 0;
	htr_area_close(&a);
	htf_close(&w);
	munmap(area, size);
	unlink("/dev/shm/ht-bench.htf");
	return ok;
}

/* bench_rate() - double the rate until records are lost, then bisect */
static void bench_rate(void)
{
	double lo = 0, hi = 1e5;
	int i;

	while (lossless(hi) && hi < 1e9) {
		lo = hi;
		hi *= 2;
	}
	for (i = 0; i < 6; i++) {
		double mid = (lo + hi) / 2;

		if (lossless(mid))
			lo = mid;
		else
			hi = mid;
	}
	printf("highest steady guest rate with zero loss, %u-record ring: %.2f million records/s\n",
	       RING, lo / 1e6);
}

/* main() - run the benchmark asked for */
int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "drain"))
		bench_drain();
	else if (argc == 2 && !strcmp(argv[1], "rate"))
		bench_rate();
	else {
		fprintf(stderr, "usage: bench_collector drain|rate\n");
		return 2;
	}
	return 0;
}

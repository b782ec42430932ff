// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Concurrency stress test: producer threads, each playing one guest CPU,
 * run the real lib/ ring code into a shared file mapping while a consumer
 * thread drains a second mapping of the same file with the host reader.
 *
 * Paced run: producers never get more than half a ring ahead of the
 * consumer, so nothing may be lost.  Free run: producers go flat out into
 * small rings, loss happens, and it must be accounted for exactly:
 * delivered + lost == emitted per CPU, and the sequence gaps the decoder
 * sees plus the loss after the last delivered record equal the guest's
 * counter.  In both, no record may be corrupted, duplicated or reordered.
 *
 * HT_STRESS_RECORDS sets records per producer (default 1,000,000).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ht_internal.h"
#include "htrace.h"
#include "tap.h"

#define MAX_PROD	8
#define GOLDEN		0x9e3779b97f4a7c15ULL

struct prod_stats {
	unsigned long long records;	/* records emitted, continuations included */
	unsigned long long events;
};

struct cons_stats {
	unsigned long long records;
	unsigned long long events;
	unsigned long long corrupt;
	unsigned long long reordered;
	unsigned long long gaps;	/* missing event numbers */
	long long last[MAX_PROD];
};

static struct {
	void *guest;
	void *host;
	__u64 size;
	unsigned int nprod;
	unsigned long long per_prod;
	bool paced;
	unsigned int ring_records;
	volatile int done;
	struct prod_stats prod[MAX_PROD];
	struct cons_stats cons;
	struct htr_decoder dec;
	struct htr_area area;
} st;

/* pattern() - the string event number @k carries */
static unsigned int pattern(unsigned long long k, char *buf)
{
	unsigned int len = k % 80, i;

	for (i = 0; i < len; i++)
		buf[i] = 'a' + (k + i) % 26;
	buf[len] = '\0';
	return len;
}

/* producer() - emit numbered events as guest CPU @arg */
static void *producer(void *arg)
{
	unsigned int cpu = (unsigned int)(unsigned long)arg;
	struct prod_stats *ps = &st.prod[cpu];
	struct ht_ring_hdr *h;
	unsigned long long k;
	char buf[128];

	ht_test_cpu = cpu;
	h = ht.cpu[cpu].hdr;
	for (k = 0; k < st.per_prod; k++) {
		if (k % 97 == 0) {
			unsigned int len = pattern(k, buf);

			ht_emit_str(HT_EV_USER_MARKER, k, k * GOLDEN ^ cpu, buf);
			ps->records += 1 + (len + HT_CONT_PAYLOAD - 1) / HT_CONT_PAYLOAD;
		} else {
			ht_emit(HT_EV_FUNC_ENTRY, k, k * GOLDEN ^ cpu);
			ps->records++;
		}
		ps->events++;
		/* paced: stay within half a ring of what the consumer freed */
		while (st.paced && ht.cpu[cpu].head -
		       __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE) > st.ring_records / 2)
			sched_yield();
	}
	return NULL;
}

/* check_event() - verify one decoded event against what its producer sent */
static void check_event(const struct htr_event *e)
{
	struct cons_stats *cs = &st.cons;
	long long k = (long long)e->a0;
	char buf[128];

	cs->events++;
	if (e->cpu >= st.nprod || e->a1 != (e->a0 * GOLDEN ^ e->cpu) ||
	    (e->type != HT_EV_FUNC_ENTRY && e->type != HT_EV_USER_MARKER)) {
		cs->corrupt++;
		return;
	}
	if (e->type == HT_EV_USER_MARKER) {
		unsigned int len = pattern(e->a0, buf);

		if (k % 97 || e->str_len != len || memcmp(e->str, buf, len) ||
		    (e->flags & HTR_EV_F_STR_BROKEN))
			cs->corrupt++;
	} else if (k % 97 == 0) {
		cs->corrupt++;
	}
	if (k <= cs->last[e->cpu])
		cs->reordered++;
	else
		cs->gaps += k - cs->last[e->cpu] - 1;
	cs->last[e->cpu] = k;
}

/* consume_rec() - drain callback: decode and check */
static int consume_rec(void *ctx, const struct ht_record *rec, unsigned int ring)
{
	struct htr_event out[2];
	int i, n;

	(void)ctx;
	st.cons.records++;
	if (ht_info_cpu(rec->info) != ring)
		st.cons.corrupt++;
	n = htr_decode(&st.dec, rec, out);
	for (i = 0; i < n; i++)
		check_event(&out[i]);
	return 0;
}

/* consumer() - drain until the producers are done, then once more */
static void *consumer(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&st.done, __ATOMIC_ACQUIRE))
		if (htr_area_drain(&st.area, consume_rec, NULL) == 0)
			sched_yield();
	htr_area_drain(&st.area, consume_rec, NULL);
	return NULL;
}

/* run() - one stress run; returns 0 if it could be set up */
static int run(const char *name, unsigned int nprod, unsigned int ring_records,
	       bool paced, unsigned long long per_prod)
{
	char path[] = "/tmp/ht-stress-XXXXXX";
	pthread_t tp[MAX_PROD], tc;
	unsigned long long emitted = 0, lost = 0, pending = 0;
	unsigned int i;
	int fd;

	memset(&st, 0, sizeof(st));
	st.nprod = nprod;
	st.ring_records = ring_records;
	st.paced = paced;
	st.per_prod = per_prod;
	for (i = 0; i < MAX_PROD; i++)
		st.cons.last[i] = -1;
	st.size = ht_area_size(nprod, ring_records);
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, st.size) < 0)
		return -1;
	unlink(path);
	st.guest = mmap(NULL, st.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	st.host = mmap(NULL, st.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (st.guest == MAP_FAILED || st.host == MAP_FAILED)
		return -1;

	ht_test_reset();
	ht_setup(HT_MODE_SHMEM, HT_HV_NONE, 0);
	ok(ht_rings_init(st.guest, 0, st.size, nprod, ring_records) == 0, name);
	/* the announce record is not a numbered event: drop it from ring 0 */
	ok(htr_area_open(&st.area, st.host, st.size, 0, true) == 0,
	   "host opens the second mapping");
	htr_ring_drain(&st.area, 0, NULL, NULL);
	htr_decoder_init(&st.dec, nprod);
	/* ring 0 starts at seq 1 after the announce record */
	htr_decoder_stream(&st.dec, 0)->started = true;
	htr_decoder_stream(&st.dec, 0)->next_seq = 1;

	pthread_create(&tc, NULL, consumer, NULL);
	for (i = 0; i < nprod; i++)
		pthread_create(&tp[i], NULL, producer, (void *)(unsigned long)i);
	for (i = 0; i < nprod; i++)
		pthread_join(tp[i], NULL);
	__atomic_store_n(&st.done, 1, __ATOMIC_RELEASE);
	pthread_join(tc, NULL);

	for (i = 0; i < nprod; i++) {
		struct ht_ring_hdr *h = ht.cpu[i].hdr;
		__u64 seq_next = h->head + h->lost;

		emitted += st.prod[i].records;
		lost += h->lost;
		pending += htr_stream_pending_loss(&st.dec, i, seq_next);
	}
	diag("%s: %llu records emitted, %llu delivered, %llu lost, %llu events checked",
	     name, emitted, st.cons.records, lost, st.cons.events);
	is(st.cons.records + lost, emitted, "delivered + lost == emitted");
	is(st.cons.corrupt, 0, "no corrupted record");
	is(st.cons.reordered, 0, "no duplicated or reordered event");
	is(st.dec.seq_lost + pending, lost, "sequence gaps account for every lost record");
	is(st.dec.bad + st.dec.broken_str, 0, "no bad records, no broken strings");
	if (paced) {
		is(lost, 0, "paced producers lose nothing");
		is(st.cons.events, (unsigned long long)nprod * per_prod, "every event arrived");
		is(st.cons.gaps, 0, "no event number missing");
	} else {
		ok(lost > 0, "free-running producers overran the rings (the loss path ran)");
	}
	for (i = 0; i < st.area.ctl.nr_rings; i++)
		if (st.area.rings[i].errors)
			break;
	is(i, st.area.ctl.nr_rings, "no protocol errors");

	htr_decoder_free(&st.dec);
	htr_area_close(&st.area);
	munmap(st.guest, st.size);
	munmap(st.host, st.size);
	return 0;
}

/* main() - a paced run and a free run */
int main(void)
{
	const char *env = getenv("HT_STRESS_RECORDS");
	unsigned long long n = env ? strtoull(env, NULL, 0) : 1000000;

	if (run("paced: 2 producers, 4096-record rings", 2, 4096, true, n) ||
	    run("free run: 4 producers, 1024-record rings", 4, 1024, false, n)) {
		ok(0, "set up the shared file mapping");
	}
	return done_testing();
}

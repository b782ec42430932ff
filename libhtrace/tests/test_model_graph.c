// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The hypergraph's call trees on traces made here: a known tree from
 * entries and exits and the same tree from exits only (with counted short
 * calls) give the same nodes, counts and times; lost exits are counted
 * and the tree still stands; calls a boot stopped in are open; hostile
 * depths, tasks and records before the graph started are bounded.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "tap.h"
#include "tracefile.h"

#define KHZ	1000000ULL	/* 1 GHz: one TSC tick is one nanosecond */
#define DOIC	0xffffffff81000000ULL	/* do_one_initcall */
#define IC	0xffffffff81000100ULL	/* the initcall */
#define FA	0xffffffff81000200ULL	/* its _a */
#define FB	0xffffffff81000300ULL	/* its _b */
#define LEAF	0xffffffff81000400ULL	/* the leaf both call */
#define MAXREC	20000
/* the return address enter() sends with a call of @fn: one per function */
#define SITE(fn)	((fn) + 0x8000)

static char path[] = "/tmp/ht-test-graph-XXXXXX";

/* a trace being built: ring records and each CPU's next sequence number */
struct tb {
	struct ht_record *ring;
	unsigned int nring;
	uint32_t seq[4];
	uint64_t tsc;
};

/* ring() - a ring record on CPU @cpu, @dt ns after the last one */
static void ring(struct tb *t, unsigned int type, unsigned int cpu, uint64_t dt,
		 uint64_t a0, uint64_t a1)
{
	struct ht_record *r;

	if (t->nring >= MAXREC)
		return;
	t->tsc += dt;
	r = &t->ring[t->nring++];
	r->tsc = t->tsc;
	r->info = ht_info(type, 0, cpu, t->seq[cpu]++);
	r->a0 = a0;
	r->a1 = a1;
}

/* start() - a boot whose graph starts, the initcall begins on pid 1 */
static void start(struct tb *t, uint64_t flags, uint64_t limits)
{
	free(t->ring);
	memset(t, 0, sizeof(*t));
	t->ring = calloc(MAXREC, sizeof(*t->ring));
	ring(t, HT_EV_TSC_KHZ, 0, 100, KHZ, 0);
	ring(t, HT_EV_START_KERNEL, 0, 100, 0, 0);
	ring(t, HT_EV_GRAPH_START, 0, 100, flags, limits);
	ring(t, HT_EV_TASK_SWITCH, 0, 100, 0, 1);
	ring(t, HT_EV_INITCALL_BEGIN, 0, 100, IC, HT_LEVEL_DEVICE);
}

/* finish() - the initcall returns, the boot ends */
static void finish(struct tb *t)
{
	ring(t, HT_EV_INITCALL_END, 0, 10, IC, 0);
	ring(t, HT_EV_BOOT_DONE, 0, 100, 0, 0);
}

/* load() - the model of @t; 0 on success */
static int load(struct boot_model *m, const struct tb *t)
{
	static const char meta[] = "{\"tool\":\"test\",\"abi_version\":1,\"accel\":\"tcg\"}";
	static const char end[] = "{\"exit_status\":0,\"verdict\":\"none\"}";
	struct model_opts o = { 0 };
	struct htf_writer w;
	unsigned char *buf;
	char err[256] = "";
	long n;
	FILE *f;
	int ret;

	unlink(path);
	if (htf_create(&w, path))
		return -1;
	htf_append(&w, HTF_METADATA, 0, 0, meta, sizeof(meta) - 1);
	htf_append(&w, HTF_RECORDS, HTF_SRC_RING, 0, t->ring, t->nring * HT_RECORD_SIZE);
	htf_append(&w, HTF_END, 0, 0, end, sizeof(end) - 1);
	htf_close(&w);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	ret = buf && fread(buf, 1, (size_t)n, f) == (size_t)n ? 0 : -1;
	fclose(f);
	if (!ret)
		ret = model_load_mem(m, buf, (size_t)n, &o, err, sizeof(err));
	if (ret)
		printf("# load: %s\n", err);
	free(buf);
	return ret;
}

/* child() - the child of node @n for @addr, GRAPH_NONE if none */
static uint32_t child(const struct model_graph *g, uint32_t n, uint64_t addr)
{
	if (n == GRAPH_NONE)
		return GRAPH_NONE;
	for (uint32_t c = g->node[n].child; c != GRAPH_NONE; c = g->node[c].next)
		if (g->node[c].addr == addr)
			return c;
	return GRAPH_NONE;
}

/* enter() - a call's entry, with SITE(@fn) as its return address */
static void enter(struct tb *t, uint64_t fn)
{
	ring(t, HT_EV_FUNC_ENTRY, 0, 10, ht_func_word(fn, 1), SITE(fn));
}

/* leave() - the exit of @fn, @dt ns after the last record */
static void leave(struct tb *t, uint64_t fn, uint64_t dt)
{
	ring(t, HT_EV_FUNC_EXIT, 0, dt, ht_func_word(fn, 1), 0);
}

/*
 * known_tree() - do_one_initcall -> IC -> { _a -> 2 x leaf (500 us),
 * _b -> 4 x leaf (250 us) }, with entries and exits
 */
static void known_tree(struct tb *t)
{
	enter(t, DOIC);
	enter(t, IC);
	enter(t, FA);
	for (int i = 0; i < 2; i++) {
		enter(t, LEAF);
		leave(t, LEAF, 500000);
	}
	leave(t, FA, 10);
	enter(t, FB);
	for (int i = 0; i < 4; i++) {
		enter(t, LEAF);
		leave(t, LEAF, 250000);
	}
	leave(t, FB, 10);
	leave(t, IC, 10);
	leave(t, DOIC, 10);
}

/* check_tree() - the known tree's shape, counts and times; @what names it */
static void check_tree(const struct boot_model *m, const char *what, bool exact)
{
	const struct model_graph *g = &m->graph;
	uint32_t ic = model_graph_initcall(m, 0), a, b, la, lb;
	struct graph_fn top[4];
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: the initcall's node is under do_one_initcall", what);
	ok(ic != GRAPH_NONE && g->node[g->node[ic].parent].addr == DOIC, msg);
	if (ic == GRAPH_NONE)
		return;
	a = child(g, ic, FA);
	b = child(g, ic, FB);
	la = child(g, a, LEAF);
	lb = child(g, b, LEAF);
	snprintf(msg, sizeof(msg), "%s: _a and _b below it, the leaf below each", what);
	ok(a != GRAPH_NONE && b != GRAPH_NONE && la != GRAPH_NONE && lb != GRAPH_NONE, msg);
	if (la == GRAPH_NONE || lb == GRAPH_NONE)
		return;
	snprintf(msg, sizeof(msg), "%s: the leaf twice under _a, four times under _b", what);
	ok(g->node[la].calls == 2 && g->node[lb].calls == 4, msg);
	snprintf(msg, sizeof(msg), "%s: leaf times 1 ms under _a and under _b", what);
	ok(g->node[la].total_ns >= 1000000 && g->node[la].total_ns < 1000100 &&
	   g->node[lb].total_ns >= 1000000 && g->node[lb].total_ns < 1000100, msg);
	snprintf(msg, sizeof(msg), "%s: the initcall's total is 2 ms, its self time ~0", what);
	ok(g->node[ic].total_ns >= 2000000 && g->node[ic].total_ns < 2000300 &&
	   g->node[ic].self_ns < 300, msg);
	snprintf(msg, sizeof(msg), "%s: the leaf leads by self time, 2 ms in 6 calls", what);
	ok(model_graph_top(g, ic, true, top, 4) == 4 && top[0].addr == LEAF &&
	   top[0].calls == 6 && top[0].self_ns >= 1999000 && top[0].self_ns < 2000200, msg);
	if (exact) {
		snprintf(msg, sizeof(msg), "%s: every call is listed, none open", what);
		ok(g->nr_call == 10 && !g->node[ic].open && !g->unmatched, msg);
	}
}

/* sites() - calls whose call_site is SITE() of their function (@want) or 0 */
static size_t sites(const struct model_graph *g, bool want)
{
	size_t n = 0;

	for (size_t i = 0; i < g->nr_call; i++) {
		const struct graph_call *c = &g->call[i];

		n += c->call_site == (want ? SITE(g->node[c->node].addr) : 0);
	}
	return n;
}

/* test_entries() - the known tree from entries and exits */
static void test_entries(void)
{
	struct boot_model m;
	struct tb t = { 0 };

	start(&t, 0, 0);
	known_tree(&t);
	finish(&t);
	ok(!load(&m, &t), "entries: trace loads");
	ok(m.graph.present && m.graph.entries == 10 && m.graph.exits == 10,
	   "entries: ten entries and ten exits");
	check_tree(&m, "entries", true);
	is(sites(&m.graph, true), 10, "entries: every call's call_site is its entry's a1");
	ok(m.graph.nr_task == 1 && m.graph.task[0].pid == 1, "entries: one task, pid 1");
	model_free(&m);
	free(t.ring);
}

/* exit_at() - an exits-only exit of @fn at @depth that took @ns */
static void exit_at(struct tb *t, uint64_t fn, unsigned int depth, uint64_t ns,
		    uint64_t dt)
{
	ring(t, HT_EV_FUNC_EXIT, 0, dt, ht_func_word(fn, 1), ht_func_exit(ns, depth));
}

/* test_exits_only() - the same tree from post-order exits, short calls counted */
static void test_exits_only(void)
{
	const struct model_graph *g;
	struct boot_model m;
	struct tb t = { 0 };
	uint32_t ic, a, s;

	start(&t, HT_GRAPH_F_EXITS_ONLY, ht_graph_limits(0, 1000));
	/* two short calls below _a's first leaf, counted, not recorded */
	ring(&t, HT_EV_FUNC_AGG, 0, 10, ht_func_agg(2, 4), 800);
	exit_at(&t, LEAF, 3, 500000, 500000);
	exit_at(&t, LEAF, 3, 500000, 500000);
	exit_at(&t, FA, 2, 1000010, 10);
	for (int i = 0; i < 4; i++)
		exit_at(&t, LEAF, 3, 250000, 250000);
	exit_at(&t, FB, 2, 1000010, 10);
	exit_at(&t, IC, 1, 2000030, 10);
	exit_at(&t, DOIC, 0, 2000040, 10);
	finish(&t);
	ok(!load(&m, &t), "exits only: trace loads");
	g = &m.graph;
	ok(g->present && (g->flags & HT_GRAPH_F_EXITS_ONLY) && g->min_ns == 1000,
	   "exits only: the mode and the minimum come from GRAPH_START");
	check_tree(&m, "exits only", false);
	ic = model_graph_initcall(&m, 0);
	a = child(g, ic, FA);
	s = child(g, child(g, a, LEAF), 0);
	ok(s != GRAPH_NONE && g->node[s].kind == GRAPH_SHORT && g->node[s].calls == 2 &&
	   g->node[s].total_ns == 800, "exits only: the two short calls under _a's leaf");
	is(g->short_calls, 2, "exits only: short calls counted");
	ok(g->nr_call == 10 && sites(g, false) == 10, "exits only: no call site, 0 in every call");
	model_free(&m);
	free(t.ring);
}

/* test_lost() - an exit and an entry lost: counted, the tree still stands */
static void test_lost(void)
{
	struct boot_model m;
	struct tb t = { 0 };
	uint32_t ic;

	start(&t, 0, 0);
	enter(&t, DOIC);
	enter(&t, IC);
	enter(&t, FA);
	enter(&t, LEAF);	/* its exit is lost */
	leave(&t, FA, 1000);
	leave(&t, FB, 10);	/* its entry is lost */
	leave(&t, IC, 10);
	leave(&t, DOIC, 10);
	finish(&t);
	ok(!load(&m, &t), "lost: trace loads");
	is(m.graph.unmatched, 2, "lost: the leaf without exit and _b without entry");
	ic = model_graph_initcall(&m, 0);
	ok(child(&m.graph, child(&m.graph, ic, FA), LEAF) != GRAPH_NONE,
	   "lost: the leaf is still placed under _a");
	model_free(&m);
	free(t.ring);
}

/* test_open() - a boot that stopped inside calls: they are open, to the end */
static void test_open(void)
{
	struct boot_model m;
	struct tb t = { 0 };
	uint32_t ic, a;

	start(&t, 0, 0);
	enter(&t, DOIC);
	enter(&t, IC);
	enter(&t, FA);
	ring(&t, HT_EV_PANIC, 0, 5000, IC, 1);
	ok(!load(&m, &t), "open: trace loads");
	ic = model_graph_initcall(&m, 0);
	a = child(&m.graph, ic, FA);
	ok(a != GRAPH_NONE && m.graph.node[a].open == 1 && m.graph.node[ic].open == 1,
	   "open: the initcall and _a never returned");
	ok(a != GRAPH_NONE && m.graph.node[a].total_ns >= 5000,
	   "open: an open call lasts until the trace ends");
	model_free(&m);
	free(t.ring);
}

/*
 * test_two_tasks() - calls of two tasks interleaved on one CPU, with a
 * switch record that comes before the switch: each record's pid decides
 */
static void test_two_tasks(void)
{
	const struct model_graph *g;
	struct boot_model m;
	struct tb t = { 0 };
	uint32_t n1, n2;

	start(&t, 0, 0);
	enter(&t, IC);					/* pid 1 */
	ring(&t, HT_EV_TASK_SWITCH, 0, 10, 1, 7);	/* to pid 7 ... */
	ring(&t, HT_EV_FUNC_ENTRY, 0, 10, ht_func_word(FA, 1), 0); /* ... pid 1 still runs */
	ring(&t, HT_EV_FUNC_ENTRY, 0, 10, ht_func_word(FB, 7), 0);
	ring(&t, HT_EV_FUNC_EXIT, 0, 10, ht_func_word(FB, 7), 0);
	ring(&t, HT_EV_FUNC_EXIT, 0, 10, ht_func_word(FA, 1), 0);
	leave(&t, IC, 10);
	finish(&t);
	ok(!load(&m, &t), "two tasks: trace loads");
	g = &m.graph;
	n1 = child(g, g->task[0].root, IC);
	n2 = GRAPH_NONE;
	for (size_t i = 0; i < g->nr_task; i++)
		if (g->task[i].pid == 7)
			n2 = child(g, g->task[i].root, FB);
	ok(n1 != GRAPH_NONE && child(g, n1, FA) != GRAPH_NONE && n2 != GRAPH_NONE &&
	   !g->unmatched, "two tasks: _a under pid 1's call, _b under pid 7, none unmatched");
	model_free(&m);
	free(t.ring);
}

/* test_hostile() - bounded depths and tasks; records before the graph ignored */
static void test_hostile(void)
{
	struct boot_model m;
	struct tb t = { 0 };

	free(t.ring);
	memset(&t, 0, sizeof(t));
	t.ring = calloc(MAXREC, sizeof(*t.ring));
	ring(&t, HT_EV_TSC_KHZ, 0, 100, KHZ, 0);
	/* the bench self-test's FUNC_ENTRY records: not a graph */
	for (int i = 0; i < 100; i++)
		ring(&t, HT_EV_FUNC_ENTRY, 0, 1, (uint64_t)i, 0);
	ring(&t, HT_EV_GRAPH_START, 0, 100, HT_GRAPH_F_EXITS_ONLY, 0);
	exit_at(&t, FA, 65535, 1ULL << 47, 10);
	ring(&t, HT_EV_FUNC_AGG, 0, 10, ht_func_agg(0xffffffff, 65535), ~0ULL);
	for (int i = 0; i < MODEL_GRAPH_MAX_TASKS + 100; i++) {
		ring(&t, HT_EV_TASK_SWITCH, 1, 1, 0, (uint64_t)(1000 + i));
		exit_at(&t, FB, 0, 5, 10);
	}
	/* entries mode after a restart: a stack deeper than the model keeps */
	ring(&t, HT_EV_GRAPH_START, 2, 100, 0, 0);
	for (int i = 0; i < MODEL_GRAPH_MAX_DEPTH + 10; i++)
		enter(&t, FA + (uint64_t)i);
	ok(!load(&m, &t), "hostile: trace loads");
	ok(m.graph.too_deep >= 2, "hostile: depths past the bound counted, not used");
	is(m.graph.nr_task, MODEL_GRAPH_MAX_TASKS + 1, "hostile: tasks bounded, and one shared");
	ok(m.graph.tasks_merged >= 100, "hostile: the rest share one root");
	ok(m.graph.entries <= MODEL_GRAPH_MAX_DEPTH, "hostile: the entry stack is bounded");
	model_free(&m);
	free(t.ring);
}

int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	test_entries();
	test_exits_only();
	test_lost();
	test_open();
	test_two_tasks();
	test_hostile();
	unlink(path);
	return done_testing();
}

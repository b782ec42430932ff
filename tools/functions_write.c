// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The hypergraph in report: what the guest traced and lost, and the
 * functions that took the most time, for the whole boot and inside each of
 * the slowest initcalls (report --functions, and report --json).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "writers.h"

#define FN_PER_INITCALL	12	/* functions listed inside each initcall */

/* ms() - nanoseconds as milliseconds */
static double ms(uint64_t ns)
{
	return ns / 1e6;
}

/* graph_mode() - how the guest traced, in words */
static void graph_mode(const struct model_graph *g, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", g->flags & HT_GRAPH_F_ALL ? "every function" :
		 "below the roots", g->flags & HT_GRAPH_F_EXITS_ONLY ? ", exits only" :
		 ", entries and exits", g->flags & HT_GRAPH_F_IRQS ? ", with interrupts" : "");
}

/* graph_lost_calls() - calls the graph could not place, all causes */
uint64_t graph_lost_calls(const struct model_graph *g)
{
	return g->unmatched + g->too_deep + g->nodes_dropped;
}

/* an initcall with a graph and its time, for sorting */
struct ic_time {
	uint64_t dur_ns;
	size_t i;
};

/* by_dur() - qsort order: longest first, then in boot order */
static int by_dur(const void *a, const void *b)
{
	const struct ic_time *x = a, *y = b;

	if (x->dur_ns != y->dur_ns)
		return x->dur_ns < y->dur_ns ? 1 : -1;
	return (x->i > y->i) - (x->i < y->i);
}

/* initcalls_by_time() - indices of initcalls with a graph, slowest first */
static size_t initcalls_by_time(const struct boot_model *m, size_t *idx)
{
	struct ic_time *t = calloc(m->initcalls.nr + 1, sizeof(*t));
	size_t n = 0;

	if (!t)
		return 0;
	for (size_t i = 0; i < m->initcalls.nr; i++) {
		if (model_graph_initcall(m, i) == GRAPH_NONE)
			continue;
		t[n].dur_ns = m->initcalls.s[i].dur_ns;
		t[n++].i = i;
	}
	qsort(t, n, sizeof(*t), by_dur);
	for (size_t k = 0; k < n; k++)
		idx[k] = t[k].i;
	free(t);
	return n;
}

/* fn_rows() - a table of functions, self and total */
static void fn_rows(FILE *f, const struct graph_fn *fn, size_t n, const char *indent)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s%-40.40s %10" PRIu64 " %12.3f %12.3f\n", indent, fn[i].name,
			fn[i].calls, ms(fn[i].self_ns), ms(fn[i].total_ns));
	}
}

/**
 * functions_write_text() - report --functions: the hypergraph's top functions
 * @m:   the model
 * @f:   where to
 * @top: functions listed for the boot, and initcalls looked into
 */
void functions_write_text(const struct boot_model *m, FILE *f, size_t top)
{
	const struct model_graph *g = &m->graph;
	struct graph_fn *fn;
	size_t *idx, n, k;
	char mode[96];

	if (!g->present) {
		fprintf(f, "\nfunctions: the trace has no hypergraph (boot the kernel with "
			"hypertrace_graph=initcalls and CONFIG_HYPERTRACE_GRAPH)\n");
		return;
	}
	graph_mode(g, mode, sizeof(mode));
	fprintf(f, "\nhypergraph: %s; %" PRIu64 " calls, %zu places in %zu task trees, "
		"%" PRIu64 " short calls counted", mode, g->exits + g->unmatched, g->nr_node,
		g->nr_task, g->short_calls);
	if (graph_lost_calls(g))
		fprintf(f, "; %" PRIu64 " calls unmatched or unplaced (records lost)",
			graph_lost_calls(g));
	fputc('\n', f);
	fn = calloc(top > FN_PER_INITCALL ? top : FN_PER_INITCALL, sizeof(*fn));
	idx = calloc(m->initcalls.nr + 1, sizeof(*idx));
	if (!fn || !idx) {
		fprintf(f, "functions: out of memory\n");
		goto out_free;
	}
	for (int self = 1; self >= 0; self--) {
		n = model_graph_top(g, GRAPH_NONE, self, fn, top);
		fprintf(f, "\nfunctions by %s time, whole boot%*s %10s %12s %12s\n",
			self ? "self" : "total", self ? 9 : 8, "", "calls", "self ms", "total ms");
		fn_rows(f, fn, n, "  ");
	}
	n = initcalls_by_time(m, idx);
	for (k = 0; k < n && k < top; k++) {
		const struct span *s = &m->initcalls.s[idx[k]];
		size_t nf = model_graph_top(g, model_graph_initcall(m, idx[k]), true, fn,
					    FN_PER_INITCALL);

		fprintf(f, "\ninside %s (%.3f ms), by self time\n", s->name, ms(s->dur_ns));
		fn_rows(f, fn, nf, "  ");
	}
out_free:
	free(idx);
	free(fn);
}

/* fn_json() - a JSON array of functions */
static void fn_json(FILE *f, const char *key, const struct graph_fn *fn, size_t n)
{
	fprintf(f, "\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{\"name\":", i ? "," : "");
		print_json_string(f, fn[i].name, strlen(fn[i].name));
		fprintf(f, ",\"addr\":%" PRIu64 ",\"calls\":%" PRIu64 ",\"self_ns\":%" PRIu64
			",\"total_ns\":%" PRIu64 "}", fn[i].addr, fn[i].calls, fn[i].self_ns,
			fn[i].total_ns);
	}
	fputc(']', f);
}

/**
 * functions_write_json() - the hypergraph's members of report --json
 * @m:   the model
 * @f:   where to
 * @top: functions listed for the boot, and initcalls looked into
 *
 * "hypergraph": how the guest traced and what was lost; "functions": the
 * top functions of the boot by self and by total time, and of every
 * traced initcall (slowest first) by self and by total time.  Nothing
 * without a graph.
 */
void functions_write_json(const struct boot_model *m, FILE *f, size_t top)
{
	const struct model_graph *g = &m->graph;
	struct graph_fn *fn;
	size_t *idx, n, k;

	if (!g->present)
		return;
	fprintf(f, ",\n\"hypergraph\":{\"exits_only\":%s,\"irqs\":%s,\"all\":%s,"
		"\"max_depth\":%u,\"min_ns\":%" PRIu32 ",\"entries\":%" PRIu64 ",\"exits\":%"
		PRIu64 ",\"short_calls\":%" PRIu64 ",\"switches\":%" PRIu64 ",\"tasks\":%zu,"
		"\"nodes\":%zu,\"calls\":%zu,\"unmatched\":%" PRIu64 ",\"too_deep\":%" PRIu64
		",\"nodes_dropped\":%" PRIu64 ",\"calls_dropped\":%" PRIu64 "}",
		g->flags & HT_GRAPH_F_EXITS_ONLY ? "true" : "false",
		g->flags & HT_GRAPH_F_IRQS ? "true" : "false",
		g->flags & HT_GRAPH_F_ALL ? "true" : "false", g->max_depth, g->min_ns,
		g->entries, g->exits, g->short_calls, g->switches, g->nr_task, g->nr_node,
		g->nr_call, g->unmatched, g->too_deep, g->nodes_dropped, g->calls_dropped);
	fn = calloc(top > FN_PER_INITCALL ? top : FN_PER_INITCALL, sizeof(*fn));
	idx = calloc(m->initcalls.nr + 1, sizeof(*idx));
	if (!fn || !idx)
		goto out_free;
	fputs(",\n\"functions\":{", f);
	n = model_graph_top(g, GRAPH_NONE, true, fn, top);
	fn_json(f, "by_self", fn, n);
	fputc(',', f);
	n = model_graph_top(g, GRAPH_NONE, false, fn, top);
	fn_json(f, "by_total", fn, n);
	fputs(",\"initcalls\":[", f);
	n = initcalls_by_time(m, idx);
	for (k = 0; k < n; k++) {
		const struct span *s = &m->initcalls.s[idx[k]];
		uint32_t node = model_graph_initcall(m, idx[k]);
		size_t nf = model_graph_top(g, node, true, fn, FN_PER_INITCALL);

		fprintf(f, "%s\n{\"name\":", k ? "," : "");
		print_json_string(f, s->name, strlen(s->name));
		fprintf(f, ",\"dur_ns\":%" PRIu64 ",\"traced_ns\":%" PRIu64 ",", s->dur_ns,
			g->node[node].total_ns);
		fn_json(f, "by_self", fn, nf);
		nf = model_graph_top(g, node, false, fn, FN_PER_INITCALL);
		fputc(',', f);
		fn_json(f, "by_total", fn, nf);
		fputc('}', f);
	}
	fputs("]}", f);
out_free:
	free(idx);
	free(fn);
}

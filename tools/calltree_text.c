// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * report --tree INITCALL: the hypergraph's call tree of one initcall as
 * text, perf report --children style: each function at each place in the
 * tree with its total and self time and its calls, children slowest first,
 * those below a share of the initcall's time folded into one line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "writers.h"

#define TREE_MAX_LINES	2000	/* lines printed, however big the tree */
#define TREE_MAX_INDENT	64	/* deeper levels are printed at this indent */

/* what one printing walk needs */
struct tree_walk {
	const struct model_graph *g;
	FILE *f;
	uint64_t min_ns;	/* below this, a node is folded */
	size_t lines;		/* lines printed */
	size_t cut;		/* nodes not printed: TREE_MAX_LINES reached */
};

/* by_total() - qsort order of node indices: most total time first */
static int by_total(const void *a, const void *b, void *ctx)
{
	const struct graph_node *n = ctx;
	const struct graph_node *x = &n[*(const uint32_t *)a], *y = &n[*(const uint32_t *)b];

	if (x->total_ns != y->total_ns)
		return x->total_ns < y->total_ns ? 1 : -1;
	return (x->addr > y->addr) - (x->addr < y->addr);
}

/* tree_line() - one line: total, self, calls, the name indented by depth */
static void tree_line(struct tree_walk *w, unsigned int depth, uint64_t total,
		      uint64_t self, uint64_t calls, const char *name, bool open)
{
	unsigned int ind = depth < TREE_MAX_INDENT ? depth : TREE_MAX_INDENT;

	fprintf(w->f, "%12.3f %12.3f %9" PRIu64 "  %*s%s%s\n", total / 1e6, self / 1e6, calls,
		(int)(2 * ind), "", name, open ? " (never returned)" : "");
	w->lines++;
}

/* tree_children() - a node's children in an array, slowest first; NULL if none */
static uint32_t *tree_children(const struct model_graph *g, uint32_t node, size_t *nr)
{
	uint32_t *kid;
	size_t n = 0;

	/* the sibling list is bounded by the node table: count, then fill */
	for (uint32_t c = g->node[node].child; c != GRAPH_NONE && n < g->nr_node; c = g->node[c].next)
		n++;
	*nr = n;
	if (!n)
		return NULL;
	kid = malloc(n * sizeof(*kid));
	if (!kid)
		return NULL;
	n = 0;
	for (uint32_t c = g->node[node].child; c != GRAPH_NONE && n < *nr; c = g->node[c].next)
		kid[n++] = c;
	qsort_r(kid, n, sizeof(*kid), by_total, g->node);
	return kid;
}

/* tree_walk() - print @node's children below it, depth-first; -ENOMEM on failure */
static int tree_walk(struct tree_walk *w, uint32_t node, unsigned int depth)
{
	const struct graph_node *n = w->g->node;
	uint64_t folded_ns = 0, folded_calls = 0;
	size_t nr, folded = 0;
	uint32_t *kid = tree_children(w->g, node, &nr);
	int ret = 0;

	if (nr && !kid)
		return -ENOMEM;
	for (size_t i = 0; i < nr && !ret; i++) {
		const struct graph_node *c = &n[kid[i]];

		if (c->total_ns < w->min_ns) {
			folded++;
			folded_ns += c->total_ns;
			folded_calls += c->calls;
			continue;
		}
		if (w->lines >= TREE_MAX_LINES) {
			w->cut++;
			continue;
		}
		tree_line(w, depth, c->total_ns, c->self_ns, c->calls, c->name, c->open);
		/* depth is bounded by MODEL_GRAPH_MAX_DEPTH: the model's own limit */
		ret = tree_walk(w, kid[i], depth + 1);
	}
	if (!ret && folded && w->lines < TREE_MAX_LINES) {
		char what[64];

		snprintf(what, sizeof(what), "[%zu more, each below the limit]", folded);
		tree_line(w, depth, folded_ns, 0, folded_calls, what, false);
	}
	free(kid);
	return ret;
}

/**
 * calltree_find() - the traced initcall named @name
 * @m:    the model
 * @name: an initcall's function name
 *
 * Return: its index in m->initcalls, or -1 (reported, with what to do)
 * when the trace has no hypergraph of an initcall of that name.
 */
long calltree_find(const struct boot_model *m, const char *name)
{
	for (size_t i = 0; i < m->initcalls.nr; i++) {
		if (m->initcalls.s[i].name && !strcmp(m->initcalls.s[i].name, name) &&
		    model_graph_initcall(m, i) != GRAPH_NONE)
			return (long)i;
	}
	err_msg("report: no call tree of an initcall named '%s' in this trace%s\n", name,
		m->graph.present ? "" : " (it has no hypergraph: boot with hypertrace_graph=initcalls)");
	return -1;
}

/**
 * calltree_write_text() - the call tree of the initcall @name
 * @m:       the model
 * @f:       where to
 * @name:    the initcall's function name
 * @min_pct: children below this share of the initcall's time are folded
 *
 * Return: 0, -ENOENT when the trace has no hypergraph of that initcall
 * (calltree_find() tells first), -ENOMEM or -EIO.
 */
int calltree_write_text(const struct boot_model *m, FILE *f, const char *name, double min_pct)
{
	const struct model_graph *g = &m->graph;
	struct tree_walk w = { .g = g, .f = f };
	const struct graph_node *root;
	long i = calltree_find(m, name);
	int ret;

	if (i < 0)
		return -ENOENT;
	root = &g->node[model_graph_initcall(m, (size_t)i)];
	w.min_ns = (uint64_t)(root->total_ns * (min_pct / 100.0));
	fprintf(f, "call tree of %s: %.3f ms from %.3f ms on CPU %u; children below %.1f %% "
		"of it folded\n\n", name, m->initcalls.s[i].dur_ns / 1e6,
		m->initcalls.s[i].start_ns / 1e6, m->initcalls.s[i].cpu, min_pct);
	fprintf(f, "%12s %12s %9s  %s\n", "total ms", "self ms", "calls", "function");
	tree_line(&w, 0, root->total_ns, root->self_ns, root->calls, root->name, root->open);
	ret = tree_walk(&w, model_graph_initcall(m, (size_t)i), 1);
	if (ret)
		return ret;
	if (w.cut)
		fprintf(f, "\n(%zu more functions not printed: at most %d lines; raise --tree-min)\n",
			w.cut, TREE_MAX_LINES);
	if (graph_lost_calls(g))
		fprintf(f, "\n%" PRIu64 " calls of the boot could not be placed (records lost): "
			"the tree may lack them\n", graph_lost_calls(g));
	return ferror(f) ? -EIO : 0;
}

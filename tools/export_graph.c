// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The hypergraph in the exports (see export_graph.h).
 *
 * Calls are stored in the order the model placed them; the exports want
 * them per task in time order, each child inside its parent.  graph_spans()
 * sorts them (task, start, depth, longest first) and walks each task with
 * a stack of the ends of the calls still open at that point: a call that
 * would end after the call it starts in is cut to its end (the guest's
 * durations are hostile input; consistent ones are never cut), so every
 * track nests exactly.  The writers stream from that array: no output is
 * built in memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export_graph.h"

/* the deepest path folded output writes; deeper ones are cut at the top */
#define FOLD_MAX_FRAMES	(MODEL_GRAPH_MAX_DEPTH + 8)

/* subtree() - per node, whether it lies in @under's subtree (every node for GRAPH_NONE) */
static unsigned char *subtree(const struct model_graph *g, uint32_t under)
{
	unsigned char *in = calloc(g->nr_node + 1, 1);

	if (!in)
		return NULL;
	/* a node is made after its parent: one pass in index order */
	for (size_t i = 0; i < g->nr_node; i++) {
		uint32_t p = g->node[i].parent;

		in[i] = under == GRAPH_NONE || i == under ||
			(p != GRAPH_NONE && p < i && in[p]);
	}
	return in;
}

/* span_order() - qsort order: task, start, depth (parent first), longest first */
static int span_order(const void *a, const void *b)
{
	const struct graph_span *x = a, *y = b;

	if (x->task != y->task)
		return x->task < y->task ? -1 : 1;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	if (x->end_ns != y->end_ns)
		return x->end_ns > y->end_ns ? -1 : 1;
	return (x->call > y->call) - (x->call < y->call);
}

/**
 * graph_spans() - the graph's calls per task in time order, nested exactly
 * @g:     the graph
 * @under: only calls in this node's subtree, or GRAPH_NONE for all
 * @out:   the spans (free() them); NULL when there are none
 * @n:     how many
 *
 * Return: 0, or -ENOMEM.
 */
int graph_spans(const struct model_graph *g, uint32_t under, struct graph_span **out,
		size_t *n)
{
	struct graph_span *s;
	unsigned char *in;
	uint64_t *stk;
	size_t k = 0, sp = 0;
	uint32_t task = UINT32_MAX;

	*out = NULL;
	*n = 0;
	if (!g->nr_call)
		return 0;
	in = subtree(g, under);
	s = malloc(g->nr_call * sizeof(*s));
	stk = malloc(g->nr_call * sizeof(*stk));
	if (!in || !s || !stk)
		goto out_nomem;
	for (size_t i = 0; i < g->nr_call; i++) {
		const struct graph_call *c = &g->call[i];

		if (c->node >= g->nr_node || !in[c->node])
			continue;
		s[k].start_ns = c->start_ns;
		s[k].end_ns = c->dur_ns > UINT64_MAX - c->start_ns ? UINT64_MAX :
			      c->start_ns + c->dur_ns;
		s[k].call = (uint32_t)i;
		s[k].task = g->node[c->node].task;
		s[k].depth = c->depth;
		s[k].clamped = false;
		k++;
	}
	qsort(s, k, sizeof(*s), span_order);
	for (size_t i = 0; i < k; i++) {
		if (s[i].task != task) {
			task = s[i].task;
			sp = 0;
		}
		while (sp && stk[sp - 1] <= s[i].start_ns)
			sp--;
		if (sp && s[i].end_ns > stk[sp - 1]) {
			s[i].end_ns = stk[sp - 1];
			s[i].clamped = true;
		}
		stk[sp++] = s[i].end_ns;	/* at most one per span: sp <= k */
	}
	free(stk);
	free(in);
	*out = s;
	*n = k;
	return 0;

out_nomem:
	free(stk);
	free(s);
	free(in);
	return -ENOMEM;
}

/**
 * graph_find_initcall() - the graph node of the initcall named @name
 * @m:    the model
 * @name: the initcall's function name
 * @node: its node
 *
 * Return: 0; -ENOENT when no initcall has that name; -ENODATA when the
 * graph has no call of it.
 */
int graph_find_initcall(const struct boot_model *m, const char *name, uint32_t *node)
{
	bool named = false;

	for (size_t i = 0; i < m->initcalls.nr; i++) {
		if (strcmp(m->initcalls.s[i].name, name))
			continue;
		named = true;
		*node = model_graph_initcall(m, i);
		if (*node != GRAPH_NONE)
			return 0;
	}
	return named ? -ENODATA : -ENOENT;
}

/* graph_task_tid() - the Perfetto thread id of task @task: its pid if it has one */
int graph_task_tid(const struct model_graph *g, uint32_t task)
{
	int pid = task < g->nr_task ? g->task[task].pid : -1;

	return pid > 0 ? pid : GRAPH_TID_NOPID + (int)(task % (MODEL_GRAPH_MAX_TASKS + 1));
}

/* json_str() - @s as a JSON string; bytes from 0x7f up as \u00XX so any input is valid */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* us() - nanoseconds as exact decimal microseconds for Chrome JSON */
static void us(FILE *out, uint64_t ns)
{
	fprintf(out, "%" PRIu64 ".%03u", ns / 1000, (unsigned int)(ns % 1000));
}

/**
 * export_graph_perfetto() - the hypergraph's calls as Chrome trace events
 * @m:     the model
 * @under: only calls in this node's subtree, or GRAPH_NONE
 * @out:   the stream, inside the traceEvents array after one event at least:
 *         each event written is preceded by a comma
 *
 * One process (GRAPH_PID) with a track per guest task that has calls,
 * named by its comm; one complete event per call.
 *
 * Return: 0, -ENOMEM or -EIO.
 */
int export_graph_perfetto(const struct boot_model *m, uint32_t under, FILE *out)
{
	const struct model_graph *g = &m->graph;
	struct graph_span *s;
	size_t n;
	uint32_t task = UINT32_MAX;

	if (!g->present)
		return 0;
	if (graph_spans(g, under, &s, &n))
		return -ENOMEM;
	fprintf(out, ",\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,"
		"\"args\":{\"name\":\"guest tasks (hypergraph)\"}}", GRAPH_PID);
	for (size_t i = 0; i < n; i++) {
		const struct graph_call *c = &g->call[s[i].call];
		const struct graph_node *nd = &g->node[c->node];
		int tid = graph_task_tid(g, s[i].task);

		if (s[i].task != task) {
			task = s[i].task;
			fprintf(out, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,"
				"\"tid\":%d,\"args\":{\"name\":", GRAPH_PID, tid);
			json_str(out, task < g->nr_task ? g->task[task].comm : "?");
			fputs("}}", out);
		}
		fputs(",\n{\"name\":", out);
		json_str(out, nd->name ? nd->name : "?");
		fprintf(out, ",\"cat\":\"function\",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":",
			GRAPH_PID, tid);
		us(out, s[i].start_ns);
		fputs(",\"dur\":", out);
		us(out, s[i].end_ns - s[i].start_ns);
		fprintf(out, ",\"args\":{\"depth\":%u,\"addr\":\"%#" PRIx64 "\"",
			(unsigned int)s[i].depth, nd->addr);
		if (c->call_site)
			fprintf(out, ",\"call_site\":\"%#" PRIx64 "\"", c->call_site);
		if (c->open)
			fputs(",\"unfinished\":true", out);
		if (s[i].clamped)
			fputs(",\"clamped\":true", out);
		fputs("}}", out);
	}
	free(s);
	return ferror(out) ? -EIO : 0;
}

/* fold_frame() - a frame name for collapsed stacks: ';' and control bytes as '_' */
static void fold_frame(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : "?"); *p; p++)
		fputc(*p == ';' || *p < 0x20 || *p == 0x7f ? '_' : *p, out);
}

/**
 * export_folded() - the call trees as collapsed stacks (flamegraph.pl, speedscope)
 * @m:     the model
 * @under: only nodes in this node's subtree, or GRAPH_NONE for all
 * @out:   the stream
 *
 * One line per node with self time: "task;fn1;fn2 self_ns", the path from
 * its task's root, the value in nanoseconds.  "[short calls]" nodes are
 * frames like the others.
 *
 * Return: 0, -ENOMEM or -EIO.
 */
int export_folded(const struct boot_model *m, uint32_t under, FILE *out)
{
	const struct model_graph *g = &m->graph;
	uint32_t path[FOLD_MAX_FRAMES];
	unsigned char *in = subtree(g, under);

	if (!in)
		return -ENOMEM;
	for (size_t i = 0; i < g->nr_node; i++) {
		const struct graph_node *nd = &g->node[i];
		unsigned int d = 0;
		uint32_t up;

		if (nd->kind == GRAPH_TASK || !nd->self_ns || !in[i])
			continue;
		/* parents have lower indices: the walk ends */
		for (up = (uint32_t)i; up != GRAPH_NONE && up < g->nr_node && d < FOLD_MAX_FRAMES;
		     up = g->node[up].parent)
			path[d++] = up;
		if (up != GRAPH_NONE)
			fputs("[deeper];", out);
		while (d--) {
			fold_frame(out, g->node[path[d]].name);
			fputc(d ? ';' : ' ', out);
		}
		fprintf(out, "%" PRIu64 "\n", nd->self_ns);
	}
	free(in);
	return ferror(out) ? -EIO : 0;
}

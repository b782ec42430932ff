// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The HTML report's call trees: per traced initcall, its aggregated call
 * tree from the hypergraph (ic_node's subtree of graph_node), pruned for
 * the page.  A node is kept when its total time is at least a fraction of
 * its initcall's, the longest first, while the rows (kept and "[other]")
 * stay within a cap per initcall and a budget for the page (a node is never longer
 * than its parent, so what is kept is a tree).  What is not kept is
 * folded into one "[other]" child of its parent, with its calls and time
 * and a count of the nodes folded: nothing is left out silently.
 *
 * "calltrees": {"min_frac", "max_nodes", "budget", "names": [...],
 *   "initcalls": [{"ic": index into the page's initcalls, "name",
 *     "nodes": nodes in the full subtree, "kept", "folded", "capped":
 *     nodes over the fraction were folded for want of room,
 *     "rows": [[name, parent row, calls, total_ns, self_ns, open,
 *               nodes folded (0 but for an "[other]" row)], ...]}],
 *   "tasks": [{"task": index of the task, "name": "comm (pid)", the
 *     same members}]: each task's tree for the whole boot, after the
 *     initcalls', in what the budget left, most traced time first,
 *   "trees": initcalls with a tree, "skipped": traced initcalls left
 *   without one (the budget was spent), "tasks_skipped", "out_of_memory"}
 * Rows come parents first; row 0 is the initcall, parent -1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "writers.h"

#define OTHER_NAME	"[other]"
#define CALLTREE_TASKS	64	/* tasks given a whole-boot tree, most traced time first */

const struct calltree_limits calltree_defaults = {
	.min_frac = 0.001,
	.max_nodes = 2000,
	.budget = 100000,
};

/* a node waiting to be kept: the max-heap of the best-first walk */
struct pending {
	uint64_t total_ns;
	uint32_t node;
	uint32_t parent_row;
};

/* what is kept of one tree: a row per kept node, and one per "[other]" */
struct row {
	uint32_t node;		/* graph node, GRAPH_NONE for "[other]" */
	uint32_t parent;	/* parent row, UINT32_MAX for the root */
	uint64_t calls, total_ns, self_ns, open, folded;
	uint32_t other;		/* its "[other]" row, UINT32_MAX if none yet */
};

/* the name table: each distinct name once, rows refer to it by index */
struct names {
	const char **slot;	/* open addressing, @mask + 1 slots */
	uint32_t *idx;
	size_t mask, nr;
	const char **list;	/* in index order, @nr of them */
};

/* the working state of the writer */
struct ct {
	const struct model_graph *g;
	uint32_t *size;		/* per node, nodes in its subtree */
	struct pending *heap;
	size_t nheap, aheap;
	struct row *row;
	size_t nrow, arow;
	struct names names;
	size_t lacking;		/* kept rows with children, no "[other]" row yet */
	bool capped;		/* a node long enough was folded: no room */
	bool whole;		/* the whole tree fits: an "[other]" row replaces nodes */
};

/* hash() - FNV-1a of a name */
static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* names_init() - a table for up to @n names; 0 or -1 out of memory */
static int names_init(struct names *t, size_t n)
{
	size_t slots = 64;

	while (slots < 2 * n + 2)
		slots *= 2;
	t->slot = calloc(slots, sizeof(*t->slot));
	t->idx = calloc(slots, sizeof(*t->idx));
	t->list = calloc(n + 1, sizeof(*t->list));
	t->mask = slots - 1;
	t->nr = 0;
	return t->slot && t->idx && t->list ? 0 : -1;
}

/* names_free() - the table's memory */
static void names_free(struct names *t)
{
	free(t->slot);
	free(t->idx);
	free(t->list);
}

/* name_index() - @s's index, added if new (the table has room: names_init) */
static uint32_t name_index(struct names *t, const char *s)
{
	size_t i = hash(s) & t->mask;

	while (t->slot[i]) {
		if (!strcmp(t->slot[i], s))
			return t->idx[i];
		i = (i + 1) & t->mask;
	}
	t->slot[i] = s;
	t->idx[i] = (uint32_t)t->nr;
	t->list[t->nr] = s;
	return (uint32_t)t->nr++;
}

/* subtree_sizes() - per node, the nodes of its subtree (parents come first) */
static uint32_t *subtree_sizes(const struct model_graph *g)
{
	uint32_t *size = malloc((g->nr_node + 1) * sizeof(*size));

	if (!size)
		return NULL;
	for (size_t i = 0; i < g->nr_node; i++)
		size[i] = 1;
	for (size_t i = g->nr_node; i-- > 0;) {
		uint32_t p = g->node[i].parent;

		/* the builder appends children after parents; trust no other order */
		if (p != GRAPH_NONE && p < i)
			size[p] += size[i];
	}
	return size;
}

/* heap_push() - a node to consider; 0 or -1 out of memory */
static int heap_push(struct ct *c, uint32_t node, uint32_t parent_row)
{
	struct pending e = { c->g->node[node].total_ns, node, parent_row };
	size_t i;

	if (c->nheap == c->aheap) {
		size_t n = c->aheap ? 2 * c->aheap : 256;
		struct pending *h = realloc(c->heap, n * sizeof(*h));

		if (!h)
			return -1;
		c->heap = h;
		c->aheap = n;
	}
	for (i = c->nheap++; i; i = (i - 1) / 2) {
		if (c->heap[(i - 1) / 2].total_ns >= e.total_ns)
			break;
		c->heap[i] = c->heap[(i - 1) / 2];
	}
	c->heap[i] = e;
	return 0;
}

/* heap_pop() - the longest node waiting */
static struct pending heap_pop(struct ct *c)
{
	struct pending top = c->heap[0], last = c->heap[--c->nheap];
	size_t i = 0, k;

	while ((k = 2 * i + 1) < c->nheap) {
		if (k + 1 < c->nheap && c->heap[k + 1].total_ns > c->heap[k].total_ns)
			k++;
		if (c->heap[k].total_ns <= last.total_ns)
			break;
		c->heap[i] = c->heap[k];
		i = k;
	}
	if (c->nheap)
		c->heap[i] = last;
	return top;
}

/* row_add() - a row (preallocated: the caller bounds the rows); its index */
static uint32_t row_add(struct ct *c, uint32_t node, uint32_t parent)
{
	struct row *r = &c->row[c->nrow];

	memset(r, 0, sizeof(*r));
	r->node = node;
	r->parent = parent;
	r->other = UINT32_MAX;
	if (node != GRAPH_NONE) {
		const struct graph_node *n = &c->g->node[node];

		r->calls = n->calls;
		r->total_ns = n->total_ns;
		r->self_ns = n->self_ns;
		r->open = n->open;
	}
	return (uint32_t)c->nrow++;
}

/* fold() - @node's subtree into its parent row's "[other]" child */
static void fold(struct ct *c, uint32_t node, uint32_t parent_row)
{
	const struct graph_node *n = &c->g->node[node];
	struct row *o;

	if (c->row[parent_row].other == UINT32_MAX) {
		c->row[parent_row].other = row_add(c, GRAPH_NONE, parent_row);
		c->lacking--;
	}
	o = &c->row[c->row[parent_row].other];
	o->calls += n->calls;
	o->total_ns += n->total_ns;
	o->self_ns += n->total_ns;	/* nothing of it is shown below it */
	o->open += n->open;
	o->folded += c->size[node];
}

/*
 * room() - another node can be kept: the whole tree fits in @max rows, or
 * its row and an "[other]" row for it and for every kept row that may
 * still need one do
 */
static bool room(const struct ct *c, size_t max)
{
	return c->whole || c->nrow + c->lacking + 2 <= max;
}

/*
 * prune() - the rows of @root's tree: best-first by total time, a node
 * kept while it is at least @min_ns and room() lasts, every other child
 * of a kept node folded into its "[other]".  At most @max rows (kept and
 * "[other]"; @max >= 2): c->row has room for them.  0 or -1 out of memory.
 */
static int prune(struct ct *c, uint32_t root, uint64_t min_ns, size_t max)
{
	c->nrow = 0;
	c->nheap = 0;
	c->lacking = 0;
	c->capped = false;
	c->whole = c->size[root] <= max;
	if (heap_push(c, root, UINT32_MAX))
		return -1;
	while (c->nheap) {
		struct pending p = heap_pop(c);
		uint32_t r;

		if (p.parent_row != UINT32_MAX && (!room(c, max) || p.total_ns < min_ns)) {
			c->capped |= p.total_ns >= min_ns;
			fold(c, p.node, p.parent_row);
			continue;
		}
		r = row_add(c, p.node, p.parent_row);
		/* a leaf never needs an "[other]" */
		c->lacking += c->g->node[p.node].child != GRAPH_NONE;
		for (uint32_t k = c->g->node[p.node].child; k != GRAPH_NONE;
		     k = c->g->node[k].next) {
			/* children come after their parent (the builder appends):
			 * anything else is no tree, and is not followed */
			if (k >= c->g->nr_node || k <= p.node)
				break;
			/* short of the bar, or no room left: folded now, never queued */
			if (c->g->node[k].total_ns < min_ns || !room(c, max)) {
				c->capped |= c->g->node[k].total_ns >= min_ns;
				fold(c, k, r);
			} else if (heap_push(c, k, r)) {
				return -1;
			}
		}
	}
	return 0;
}

/* row_name() - a row's name */
static const char *row_name(const struct ct *c, const struct row *r)
{
	if (r->node == GRAPH_NONE)
		return OTHER_NAME;
	return c->g->node[r->node].name ? c->g->node[r->node].name : "?";
}

/*
 * tree_write() - one tree's entry, from c->row: @key ("ic" or "task") is
 * @index, @name and @dur_ns the initcall's or the task's
 */
static void tree_write(struct ct *c, FILE *f, const char *key, size_t index,
		       const char *name, uint64_t dur_ns, uint32_t root, bool first)
{
	uint64_t folded = 0;
	size_t kept = 0;

	for (size_t i = 0; i < c->nrow; i++) {
		folded += c->row[i].folded;
		kept += c->row[i].node != GRAPH_NONE;
	}
	fprintf(f, "%s\n{\"%s\":%zu,\"name\":", first ? "" : ",", key, index);
	print_json_string(f, name, strlen(name));
	fprintf(f, ",\"dur_ns\":%" PRIu64 ",\"nodes\":%" PRIu32 ",\"kept\":%zu,\"folded\":%"
		PRIu64 ",\"capped\":%s,\"rows\":[", dur_ns, c->size[root], kept,
		folded, c->capped ? "true" : "false");
	for (size_t i = 0; i < c->nrow; i++) {
		const struct row *r = &c->row[i];

		fprintf(f, "%s[%" PRIu32 ",%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%"
			PRIu64 ",%" PRIu64 "]", i ? "," : "",
			name_index(&c->names, row_name(c, r)),
			r->parent == UINT32_MAX ? (int64_t)-1 : (int64_t)r->parent, r->calls,
			r->total_ns, r->self_ns, r->open, r->folded);
	}
	fputs("]}", f);
}

/* task_longer() - qsort order of task indices: most traced time first */
static const struct model_graph *sort_g;
static int task_longer(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint64_t dx = sort_g->node[sort_g->task[x].root].total_ns;
	uint64_t dy = sort_g->node[sort_g->task[y].root].total_ns;

	if (dx != dy)
		return dx < dy ? 1 : -1;
	return (x > y) - (x < y);
}

/*
 * tasks_write() - the entries of "tasks": the whole boot's tree of each
 * task (most traced time first, at most CALLTREE_TASKS) in what the budget
 * left; the traced tasks left without one
 */
static size_t tasks_write(struct ct *c, FILE *f, const struct calltree_limits *lim,
			  size_t max, size_t budget, size_t *used)
{
	const struct model_graph *g = c->g;
	size_t *t = calloc(g->nr_task + 1, sizeof(*t)), n = 0, skipped = 0;
	bool first = true;

	if (!t)
		return g->nr_task;
	/* a task none of whose calls were traced has no tree */
	for (size_t i = 0; i < g->nr_task; i++)
		if (g->task[i].root < g->nr_node && g->node[g->task[i].root].child != GRAPH_NONE)
			t[n++] = i;
	sort_g = g;
	qsort(t, n, sizeof(*t), task_longer);
	for (size_t k = 0; k < n; k++) {
		uint32_t root = g->task[t[k]].root;
		size_t cap = max < budget - *used ? max : budget - *used;
		const char *name = g->node[root].name ? g->node[root].name : "?";

		if (cap < 2 || k >= CALLTREE_TASKS || prune(c, root,
		    (uint64_t)(g->node[root].total_ns * lim->min_frac), cap)) {
			skipped++;
			continue;
		}
		*used += c->nrow;
		tree_write(c, f, "task", t[k], name, g->node[root].total_ns, root, first);
		first = false;
	}
	free(t);
	return skipped;
}

/* ic_slower() - qsort order of initcall indices: longest first, then boot order */
static const struct boot_model *sort_m;
static int ic_slower(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint64_t dx = sort_m->initcalls.s[x].dur_ns, dy = sort_m->initcalls.s[y].dur_ns;

	if (dx != dy)
		return dx < dy ? 1 : -1;
	return (x > y) - (x < y);
}

/**
 * calltree_write_json() - the page's "calltrees" member (nothing without a graph)
 * @m:   the model
 * @lim: the pruning (calltree_defaults for the defaults)
 * @f:   where to
 *
 * Initcalls are taken slowest first while the page's node budget lasts,
 * then the tasks (tasks_write()).
 *
 * Return: 0, or -ENOMEM (the member is then written empty, and says so).
 */
int calltree_write_json(const struct boot_model *m, const struct calltree_limits *lim,
			FILE *f)
{
	const struct model_graph *g = &m->graph;
	size_t *ics = NULL, nic = 0, used = 0, skipped = 0, max, budget, k = 0;
	size_t tasks_skipped = 0;
	struct ct c = { .g = g };
	bool first = true;
	int ret = -ENOMEM;

	if (!g->present || !g->ic_node)
		return 0;
	max = lim->max_nodes > MODEL_GRAPH_MAX_NODES ? MODEL_GRAPH_MAX_NODES : lim->max_nodes;
	max = max < 2 ? 2 : max;	/* the initcall and its "[other]" */
	budget = lim->budget > MODEL_GRAPH_MAX_NODES ? MODEL_GRAPH_MAX_NODES : lim->budget;
	fprintf(f, ",\n\"calltrees\":{\"min_frac\":%g,\"max_nodes\":%zu,\"budget\":%zu,"
		"\"initcalls\":[", lim->min_frac, max, lim->budget);
	ics = calloc(m->initcalls.nr + 1, sizeof(*ics));
	c.size = subtree_sizes(g);
	c.row = calloc(max + 1, sizeof(*c.row));
	/* names: one per node at most (and per row the budget allows), and "[other]" */
	if (!ics || !c.size || !c.row ||
	    names_init(&c.names, (budget < g->nr_node ? budget : g->nr_node) + 2))
		goto out_free;
	name_index(&c.names, OTHER_NAME);
	for (size_t i = 0; i < m->initcalls.nr; i++)
		if (model_graph_initcall(m, i) != GRAPH_NONE)
			ics[nic++] = i;
	sort_m = m;
	qsort(ics, nic, sizeof(*ics), ic_slower);
	for (k = 0; k < nic; k++) {
		uint32_t root = model_graph_initcall(m, ics[k]);
		size_t cap = max < budget - used ? max : budget - used;

		if (root >= g->nr_node || cap < 2) {
			skipped++;
			continue;
		}
		if (prune(&c, root, (uint64_t)(g->node[root].total_ns * lim->min_frac), cap))
			break;
		used += c.nrow;		/* "[other]" rows count: the budget bounds the page */
		tree_write(&c, f, "ic", ics[k], m->initcalls.s[ics[k]].name,
			   m->initcalls.s[ics[k]].dur_ns, root, first);
		first = false;
	}
	ret = k == nic ? 0 : -ENOMEM;
out_free:
	fputs("],\n\"tasks\":[", f);
	if (!ret)
		tasks_skipped = tasks_write(&c, f, lim, max, budget, &used);
	fputs("],\n\"names\":[", f);
	for (size_t i = 0; i < c.names.nr; i++) {
		if (i)
			fputc(',', f);
		print_json_string(f, c.names.list[i], strlen(c.names.list[i]));
	}
	fprintf(f, "],\"trees\":%zu,\"skipped\":%zu,\"tasks_skipped\":%zu,"
		"\"out_of_memory\":%s}", k - skipped, skipped + (nic - k),
		ret ? g->nr_task : tasks_skipped, ret ? "true" : "false");
	names_free(&c.names);
	free(c.heap);
	free(c.row);
	free(c.size);
	free(ics);
	return ret;
}

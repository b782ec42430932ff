// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: the hypergraph's call trees, from the FUNC_* and TASK_SWITCH
 * events of a boot (see model_graph.h).
 *
 * With entries and exits, each task has a stack of open calls: an entry
 * pushes, an exit pops the call it names (calls above it whose exits were
 * lost are counted as unmatched).  In exits-only mode the exits of a task
 * arrive in post-order with their depths; they wait, per depth, until
 * the exit of their parent (one depth up) takes them as its children, and
 * a root's exit places its whole subtree.  FUNC_AGG counts wait the same
 * way, as a "[short calls]" child.  Whatever is still open or waiting
 * when the trace ends is placed too: the calls a failed boot stopped in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/* a call waiting for its parent (exits-only) or still open (entries) */
struct pend {
	uint64_t addr;
	uint64_t call_site;	/* FUNC_ENTRY's return address, 0 without */
	uint64_t start_ns;
	uint64_t dur_ns;
	uint64_t count;		/* GRAPH_SHORT: calls counted */
	uint32_t kind;
	uint32_t depth;
	uint32_t cpu;
	uint32_t child;		/* first child pend, GRAPH_NONE */
	uint32_t next;		/* next sibling pend, GRAPH_NONE */
	bool open;
};

/* a task's calls not placed in the tree yet */
struct task_state {
	struct pend *p;
	size_t nr, alloc;
	uint32_t stack[MODEL_GRAPH_MAX_DEPTH];	/* entries mode: open calls */
	unsigned int top;
	uint32_t wait[MODEL_GRAPH_MAX_DEPTH + 1];	/* exits mode: per depth */
};

/* the builder: the graph, per-task state, the (parent, addr) index */
struct builder {
	struct boot_model *m;
	struct model_graph *g;
	struct task_state *ts;		/* parallel to g->task */
	uint32_t cur[MODEL_CLOCK_CPUS];	/* each CPU's task, GRAPH_NONE */
	uint32_t *hash;			/* node indices, GRAPH_NONE empty */
	size_t hash_size;
	size_t ts_alloc;
	uint32_t *stk;			/* place()'s work: pend, node pairs */
	size_t stk_alloc;
	uint32_t other;			/* the "other tasks" task */
	bool on;
};

/* node_key() - hash of a (parent, addr, kind) */
static size_t node_key(uint32_t parent, uint64_t addr, uint32_t kind)
{
	uint64_t h = addr * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)parent << 2 | kind);

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (size_t)(h ^ (h >> 32));
}

/* hash_grow() - double the node index and put every node back */
static int hash_grow(struct builder *b)
{
	size_t size = b->hash_size ? b->hash_size * 2 : 1024, i;
	uint32_t *h = malloc(size * sizeof(*h));

	if (!h)
		return -ENOMEM;
	memset(h, 0xff, size * sizeof(*h));
	for (i = 0; i < b->g->nr_node; i++) {
		const struct graph_node *n = &b->g->node[i];
		size_t k;

		if (n->parent == GRAPH_NONE)
			continue;
		for (k = node_key(n->parent, n->addr, n->kind) & (size - 1);
		     h[k] != GRAPH_NONE; k = (k + 1) & (size - 1))
			;
		h[k] = (uint32_t)i;
	}
	free(b->hash);
	b->hash = h;
	b->hash_size = size;
	return 0;
}

/* node_new() - append a node; GRAPH_NONE when the table is full */
static uint32_t node_new(struct builder *b, uint32_t parent, uint64_t addr,
			 uint32_t kind, const char *name, uint32_t task)
{
	struct model_graph *g = b->g;
	struct graph_node *n;
	uint32_t i;

	if (g->nr_node >= MODEL_GRAPH_MAX_NODES)
		return GRAPH_NONE;
	if (g->nr_node == g->alloc_node) {
		n = htr_grow(g->node, &g->alloc_node, sizeof(*n), 1024);
		if (!n)
			return GRAPH_NONE;
		g->node = n;
	}
	i = (uint32_t)g->nr_node++;
	n = &g->node[i];
	memset(n, 0, sizeof(*n));
	n->addr = addr;
	n->name = name;
	n->parent = parent;
	n->child = GRAPH_NONE;
	n->next = GRAPH_NONE;
	n->kind = kind;
	n->task = task;
	if (parent != GRAPH_NONE) {
		n->depth = g->node[parent].depth + 1;
		n->next = g->node[parent].child;
		g->node[parent].child = i;
	}
	return i;
}

/* node_get() - the child of @parent for @addr and @kind, made if new */
static uint32_t node_get(struct builder *b, uint32_t parent, uint64_t addr,
			 uint32_t kind)
{
	struct model_graph *g = b->g;
	char buf[160];
	const char *name;
	uint32_t i;
	size_t k;

	if ((g->nr_node + 1) * 2 > b->hash_size && hash_grow(b))
		return GRAPH_NONE;
	for (k = node_key(parent, addr, kind) & (b->hash_size - 1);
	     b->hash[k] != GRAPH_NONE; k = (k + 1) & (b->hash_size - 1)) {
		const struct graph_node *n = &g->node[b->hash[k]];

		if (n->parent == parent && n->addr == addr && n->kind == kind)
			return b->hash[k];
	}
	name = kind == GRAPH_SHORT ? "[short calls]" :
	       model_strdup(b->m, model_fn_name(b->m, addr, buf, sizeof(buf)));
	if (!name)
		return GRAPH_NONE;
	i = node_new(b, parent, addr, kind, name, g->node[parent].task);
	if (i != GRAPH_NONE)
		b->hash[k] = i;
	return i;
}

/* task_get() - the task of @pid (idle and unknown tasks: per @cpu) */
static uint32_t task_get(struct builder *b, int pid, unsigned int cpu,
			 const char *comm)
{
	struct model_graph *g = b->g;
	struct graph_task *t;
	char name[48];
	size_t i;

	for (i = 0; i < g->nr_task; i++) {
		t = &g->task[i];
		if (t->pid == pid && (pid > 0 || t->cpu == cpu))
			goto found;
	}
	if (g->nr_task >= MODEL_GRAPH_MAX_TASKS) {
		g->tasks_merged++;
		if (b->other != GRAPH_NONE)
			return b->other;
		pid = -2;
	}
	if (g->nr_task == g->alloc_task) {
		t = htr_grow(g->task, &g->alloc_task, sizeof(*t), 16);
		if (!t)
			return GRAPH_NONE;
		g->task = t;
	}
	i = g->nr_task;
	t = &g->task[i];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->cpu = cpu;
	if (pid == -2)
		snprintf(t->comm, sizeof(t->comm), "other tasks");
	else if (pid < 0)
		snprintf(t->comm, sizeof(t->comm), "cpu%u", cpu);
	else if (pid == 0)
		snprintf(t->comm, sizeof(t->comm), "swapper/%u", cpu);
	else
		snprintf(t->comm, sizeof(t->comm), "%s", comm && *comm ? comm : "?");
	if (pid > 0)
		snprintf(name, sizeof(name), "%s (%d)", t->comm, pid);
	else
		snprintf(name, sizeof(name), "%s", t->comm);
	t->root = node_new(b, GRAPH_NONE, 0, GRAPH_TASK, model_strdup(b->m, name),
			   (uint32_t)i);
	if (t->root == GRAPH_NONE)
		return GRAPH_NONE;
	g->nr_task++;
	if (pid == -2)
		b->other = (uint32_t)i;
found:
	if (comm && *comm && pid > 0 && strcmp(t->comm, comm)) {
		/* exec changed the name: keep the latest */
		snprintf(t->comm, sizeof(t->comm), "%s", comm);
	}
	return (uint32_t)i;
}

/* task_states_fit() - room for the state of every task */
static int task_states_fit(struct builder *b)
{
	struct task_state *ts;
	size_t need = b->g->nr_task;

	if (need <= b->ts_alloc)
		return 0;
	ts = realloc(b->ts, (need + 16) * sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	for (size_t i = b->ts_alloc; i < need + 16; i++) {
		memset(&ts[i], 0, sizeof(ts[i]));
		for (size_t d = 0; d <= MODEL_GRAPH_MAX_DEPTH; d++)
			ts[i].wait[d] = GRAPH_NONE;
	}
	b->ts = ts;
	b->ts_alloc = need + 16;
	return 0;
}

/* cur_task() - the task running on @cpu, an unknown one per CPU at first */
static uint32_t cur_task(struct builder *b, unsigned int cpu)
{
	if (cpu >= MODEL_CLOCK_CPUS)
		cpu = MODEL_CLOCK_CPUS - 1;
	if (b->cur[cpu] == GRAPH_NONE)
		b->cur[cpu] = task_get(b, -1, cpu, NULL);
	return b->cur[cpu];
}

/* call_task() - the task of a FUNC_ENTRY or FUNC_EXIT: the pid it carries */
static uint32_t call_task(struct builder *b, const struct ev *e)
{
	uint32_t pid = ht_func_pid(e->a0);
	unsigned int cpu = e->cpu < MODEL_CLOCK_CPUS ? e->cpu : MODEL_CLOCK_CPUS - 1;

	if (pid > INT32_MAX)
		return cur_task(b, cpu);	/* not a pid: the CPU's task */
	return task_get(b, (int)pid, cpu, NULL);
}

/* pend_new() - a call of task @t not yet in the tree; its index or NONE */
static uint32_t pend_new(struct task_state *t, uint32_t kind, uint64_t addr,
			 unsigned int depth, unsigned int cpu)
{
	struct pend *p;

	if (t->nr >= UINT32_MAX - 1)
		return GRAPH_NONE;
	if (t->nr == t->alloc) {
		p = htr_grow(t->p, &t->alloc, sizeof(*p), 64);
		if (!p)
			return GRAPH_NONE;
		t->p = p;
	}
	p = &t->p[t->nr];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->addr = addr;
	p->depth = depth;
	p->cpu = cpu;
	p->child = GRAPH_NONE;
	p->next = GRAPH_NONE;
	return (uint32_t)t->nr++;
}

/* call_add() - one call, for timelines and exports, if there is room */
static void call_add(struct builder *b, const struct pend *p, uint32_t node)
{
	struct model_graph *g = b->g;
	struct graph_call *c;

	if (p->kind != GRAPH_FUNC)
		return;
	if (g->nr_call >= MODEL_GRAPH_MAX_CALLS) {
		g->calls_dropped++;
		return;
	}
	if (g->nr_call == g->alloc_call) {
		c = htr_grow(g->call, &g->alloc_call, sizeof(*c), 4096);
		if (!c) {
			g->calls_dropped++;
			return;
		}
		g->call = c;
	}
	c = &g->call[g->nr_call++];
	c->start_ns = p->start_ns;
	c->dur_ns = p->dur_ns;
	c->call_site = p->call_site;
	c->node = node;
	c->depth = (uint16_t)p->depth;
	c->cpu = (uint16_t)p->cpu;
	c->open = p->open;
}

/*
 * place() - put pend @i of task state @t, and everything below it, into
 * the tree under node @parent
 */
static void place(struct builder *b, struct task_state *t, uint32_t i,
		  uint32_t parent)
{
	size_t sp = 0;
	uint32_t *stk;

	if (!b->stk_alloc) {
		stk = htr_grow(b->stk, &b->stk_alloc, 2 * sizeof(*stk), 256);
		if (!stk)
			return;
		b->stk = stk;
	}
	b->stk[sp++] = i;
	b->stk[sp++] = parent;
	while (sp) {
		uint32_t up = b->stk[--sp], n, c;
		struct pend *p = &t->p[b->stk[--sp]];

		n = node_get(b, up, p->addr, p->kind);
		if (n == GRAPH_NONE) {
			b->g->nodes_dropped++;
			continue;
		}
		b->g->node[n].calls += p->kind == GRAPH_SHORT ? p->count : 1;
		b->g->node[n].open += p->open;
		b->g->node[n].total_ns += p->dur_ns;
		call_add(b, p, n);
		for (c = p->child; c != GRAPH_NONE; c = t->p[c].next) {
			/* each pend is pushed once: the stack holds at most all */
			if (sp + 2 > 2 * b->stk_alloc) {
				stk = htr_grow(b->stk, &b->stk_alloc, 2 * sizeof(*stk), 256);
				if (!stk) {
					b->g->nodes_dropped++;
					return;
				}
				b->stk = stk;
			}
			b->stk[sp++] = c;
			b->stk[sp++] = n;
		}
	}
}

/* task_reset() - the task's pending calls are placed: reuse the room */
static void task_reset(struct task_state *t)
{
	t->nr = 0;
	t->top = 0;
	for (size_t d = 0; d <= MODEL_GRAPH_MAX_DEPTH; d++)
		t->wait[d] = GRAPH_NONE;
}

/* adopt() - pend @i takes the calls waiting one depth below it */
static void adopt(struct task_state *t, uint32_t i)
{
	unsigned int d = t->p[i].depth + 1;

	if (d > MODEL_GRAPH_MAX_DEPTH)
		return;
	t->p[i].child = t->wait[d];
	t->wait[d] = GRAPH_NONE;
}

/* on_exit_only() - an exits-only FUNC_EXIT or a FUNC_AGG */
static void on_exit_only(struct builder *b, const struct ev *e, uint64_t t_ns,
			 bool agg)
{
	unsigned int depth = ht_func_depth(agg ? e->a0 : e->a1);
	uint32_t task = agg ? cur_task(b, e->cpu) : call_task(b, e), i;
	struct task_state *t;

	if (task == GRAPH_NONE || task_states_fit(b))
		return;
	if (depth >= MODEL_GRAPH_MAX_DEPTH) {
		b->g->too_deep++;
		return;
	}
	t = &b->ts[task];
	i = pend_new(t, agg ? GRAPH_SHORT : GRAPH_FUNC, agg ? 0 : ht_func_addr(e->a0),
		     depth + 1, e->cpu);
	if (i == GRAPH_NONE)
		return;
	if (agg) {
		t->p[i].count = (uint32_t)e->a0;
		t->p[i].dur_ns = e->a1;
		t->p[i].start_ns = t_ns;
		b->g->short_calls += (uint32_t)e->a0;
	} else {
		t->p[i].dur_ns = ht_func_ns(e->a1);
		t->p[i].start_ns = t_ns > t->p[i].dur_ns ? t_ns - t->p[i].dur_ns : 0;
		b->g->exits++;
		adopt(t, i);
	}
	t->p[i].next = t->wait[depth + 1];
	t->wait[depth + 1] = i;
	if (depth == 0 && !agg) {
		/* a root ended: its subtree is whole */
		t->wait[1] = GRAPH_NONE;
		place(b, t, i, b->g->task[task].root);
		task_reset(t);
	}
}

/* on_call_entry() - FUNC_ENTRY: push a call on the task's stack */
static void on_call_entry(struct builder *b, const struct ev *e, uint64_t t_ns)
{
	uint32_t task = call_task(b, e), i;
	struct task_state *t;

	if (task == GRAPH_NONE || task_states_fit(b))
		return;
	t = &b->ts[task];
	if (t->top >= MODEL_GRAPH_MAX_DEPTH) {
		b->g->too_deep++;
		return;
	}
	i = pend_new(t, GRAPH_FUNC, ht_func_addr(e->a0), t->top + 1, e->cpu);
	if (i == GRAPH_NONE)
		return;
	t->p[i].start_ns = t_ns;
	t->p[i].call_site = e->a1;
	t->p[i].open = true;
	if (t->top) {
		uint32_t up = t->stack[t->top - 1];

		t->p[i].next = t->p[up].child;
		t->p[up].child = i;
	}
	t->stack[t->top++] = i;
	b->g->entries++;
}

/* on_call_exit() - FUNC_EXIT with entries: pop the call it ends */
static void on_call_exit(struct builder *b, const struct ev *e, uint64_t t_ns)
{
	uint32_t task = call_task(b, e);
	uint64_t addr = ht_func_addr(e->a0);
	struct task_state *t;
	unsigned int k;

	if (task == GRAPH_NONE || task_states_fit(b))
		return;
	t = &b->ts[task];
	for (k = t->top; k > 0; k--)
		if (t->p[t->stack[k - 1]].addr == addr)
			break;
	if (!k) {
		b->g->unmatched++;	/* its entry was lost */
		return;
	}
	b->g->exits++;
	/* the calls above it lost their exits: they end with it */
	b->g->unmatched += t->top - k;
	while (t->top >= k) {
		struct pend *p = &t->p[t->stack[--t->top]];

		p->open = false;
		p->dur_ns = t_ns > p->start_ns ? t_ns - p->start_ns : 0;
	}
	if (!t->top) {
		place(b, t, t->stack[0], b->g->task[task].root);
		task_reset(t);
	}
}

/* finish() - place what is still open or waiting when the trace ends */
static void finish(struct builder *b)
{
	uint64_t end = b->m->end_ns;

	for (size_t i = 0; i < b->g->nr_task && b->ts; i++) {
		struct task_state *t = &b->ts[i];
		uint32_t root = b->g->task[i].root;

		if (t->top) {
			for (unsigned int k = 0; k < t->top; k++) {
				struct pend *p = &t->p[t->stack[k]];

				p->dur_ns = end > p->start_ns ? end - p->start_ns : 0;
			}
			place(b, t, t->stack[0], root);
		}
		for (unsigned int d = 1; d <= MODEL_GRAPH_MAX_DEPTH; d++)
			for (uint32_t w = t->wait[d]; w != GRAPH_NONE; w = t->p[w].next)
				place(b, t, w, root);
		task_reset(t);
	}
}

/* task_names() - name each task's root "comm (pid)", with the last comm seen */
static void task_names(struct builder *b)
{
	char name[48];

	for (size_t i = 0; i < b->g->nr_task; i++) {
		const struct graph_task *t = &b->g->task[i];
		const char *s;

		if (t->pid > 0)
			snprintf(name, sizeof(name), "%s (%d)", t->comm, t->pid);
		else
			snprintf(name, sizeof(name), "%s", t->comm);
		s = model_strdup(b->m, name);
		if (s)
			b->g->node[t->root].name = s;
	}
}

/* self_times() - each node's self time: its total less its children's */
static void self_times(struct model_graph *g)
{
	for (size_t i = 0; i < g->nr_node; i++) {
		struct graph_node *n = &g->node[i];
		uint64_t kids = 0;

		if (n->kind == GRAPH_TASK)
			continue;
		for (uint32_t c = n->child; c != GRAPH_NONE; c = g->node[c].next)
			kids += g->node[c].total_ns;
		n->self_ns = n->total_ns > kids ? n->total_ns - kids : 0;
	}
	/* a task's total: its root calls */
	for (size_t i = 0; i < g->nr_node; i++) {
		struct graph_node *n = &g->node[i];

		if (n->kind != GRAPH_TASK)
			continue;
		for (uint32_t c = n->child; c != GRAPH_NONE; c = g->node[c].next) {
			n->total_ns += g->node[c].total_ns;
			n->calls += g->node[c].calls;
		}
	}
}

/* an initcall's address and index, sorted by address */
struct ic_addr {
	uint64_t addr;
	size_t i;
};

/* ic_by_addr() - qsort/bsearch order of struct ic_addr */
static int ic_by_addr(const void *a, const void *b)
{
	const struct ic_addr *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * initcall_nodes() - each initcall's function in the tree: a node of its
 * address that is a traced root, or is called by one (do_one_initcall
 * under hypertrace_graph=initcalls) or by do_one_initcall by name
 */
static int initcall_nodes(struct boot_model *m)
{
	struct model_graph *g = &m->graph;
	size_t n = m->initcalls.nr;
	struct ic_addr *ia;

	g->ic_node = malloc((n ? n : 1) * sizeof(*g->ic_node));
	ia = malloc((n ? n : 1) * sizeof(*ia));
	if (!g->ic_node || !ia) {
		free(ia);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		g->ic_node[i] = GRAPH_NONE;
		ia[i].addr = m->initcalls.s[i].addr;
		ia[i].i = i;
	}
	qsort(ia, n, sizeof(*ia), ic_by_addr);
	for (size_t k = 0; k < g->nr_node; k++) {
		const struct graph_node *nd = &g->node[k], *up;
		struct ic_addr key = { .addr = nd->addr }, *hit;

		if (nd->kind != GRAPH_FUNC)
			continue;
		up = &g->node[nd->parent];
		/* a root, or called by one (do_one_initcall), or by its name */
		if (up->kind != GRAPH_TASK && up->depth != 1 &&
		    strcmp(up->name, "do_one_initcall"))
			continue;
		hit = bsearch(&key, ia, n, sizeof(*ia), ic_by_addr);
		if (!hit)
			continue;
		/* the same function as several initcalls: the first */
		while (hit > ia && hit[-1].addr == key.addr)
			hit--;
		for (; hit < ia + n && hit->addr == key.addr; hit++)
			if (g->ic_node[hit->i] == GRAPH_NONE) {
				g->ic_node[hit->i] = (uint32_t)k;
				break;
			}
	}
	free(ia);
	return 0;
}

/* graph_event() - feed one event to the builder */
static void graph_event(struct builder *b, const struct ev *e)
{
	uint64_t t = model_ns(b->m, e->tsc);
	bool exits = b->g->flags & HT_GRAPH_F_EXITS_ONLY;

	switch (e->type) {
	case HT_EV_GRAPH_START:
		b->g->present = true;
		b->g->flags = (unsigned int)e->a0;
		b->g->max_depth = (unsigned int)(e->a1 & 0xffff);
		b->g->min_ns = (uint32_t)(e->a1 >> 32);
		b->on = true;
		break;
	case HT_EV_GRAPH_STOP:
		b->on = false;
		break;
	case HT_EV_TASK_SWITCH:
		if (!b->on)
			break;
		b->g->switches++;
		if (e->cpu < MODEL_CLOCK_CPUS)
			b->cur[e->cpu] = task_get(b, (int)(uint32_t)e->a1, e->cpu, e->str);
		break;
	case HT_EV_FUNC_ENTRY:
		if (b->on && !exits)
			on_call_entry(b, e, t);
		break;
	case HT_EV_FUNC_EXIT:
		if (b->on && exits)
			on_exit_only(b, e, t, false);
		else if (b->on)
			on_call_exit(b, e, t);
		break;
	case HT_EV_FUNC_AGG:
		if (b->on && exits)
			on_exit_only(b, e, t, true);
		break;
	}
}

/**
 * model_graph_build() - the call trees of the boot, from its events
 * @m: the model, its events sorted and its initcalls derived
 *
 * Return: 0, or -ENOMEM.  A trace without a hypergraph gives an empty one.
 */
int model_graph_build(struct boot_model *m)
{
	struct builder b = { .m = m, .g = &m->graph, .other = GRAPH_NONE };
	int ret = 0;

	memset(b.cur, 0xff, sizeof(b.cur));
	for (size_t i = 0; i < m->ev.nr; i++) {
		const struct ev *e = &m->ev.ev[i];

		if (e->type >= HT_EV_FUNC_ENTRY && e->type <= HT_EV_TASK_SWITCH)
			graph_event(&b, e);
	}
	finish(&b);
	self_times(&m->graph);
	task_names(&b);
	if (m->graph.present)
		ret = initcall_nodes(m);
	for (size_t i = 0; i < b.ts_alloc; i++)
		free(b.ts[i].p);
	free(b.ts);
	free(b.stk);
	free(b.hash);
	return ret;
}

/* a function's sums while model_graph_top() walks a subtree */
struct fn_sum {
	struct graph_fn f;
	bool used;
};

/* top_sort_self / top_sort_total - qsort orders, largest first */
static int top_sort_self(const void *a, const void *b)
{
	const struct graph_fn *x = a, *y = b;

	return x->self_ns < y->self_ns ? 1 : x->self_ns > y->self_ns ? -1 :
	       (x->addr > y->addr) - (x->addr < y->addr);
}

/* top_sort_total() - qsort order by total time, largest first */
static int top_sort_total(const void *a, const void *b)
{
	const struct graph_fn *x = a, *y = b;

	return x->total_ns < y->total_ns ? 1 : x->total_ns > y->total_ns ? -1 :
	       (x->addr > y->addr) - (x->addr < y->addr);
}

/* recursive() - whether an ancestor of node @i below @under is its function */
static bool recursive(const struct model_graph *g, uint32_t i, uint32_t under)
{
	uint64_t addr = g->node[i].addr;

	for (uint32_t up = g->node[i].parent; up != GRAPH_NONE && up != under;
	     up = g->node[up].parent)
		if (g->node[up].addr == addr)
			return true;
	return false;
}

/**
 * model_graph_top() - the functions that took the most time in a subtree
 * @g:       the graph
 * @under:   the subtree's node (included), or GRAPH_NONE for the whole graph
 * @by_self: order by self time, else by total time
 * @out:     room for @n functions
 * @n:       how many to give
 *
 * A function called at several places of the subtree is summed over them;
 * its total counts a recursive call once.  Short-call counts are left out.
 *
 * Return: how many functions were put in @out, or 0 on no memory.
 */
size_t model_graph_top(const struct model_graph *g, uint32_t under,
		       bool by_self, struct graph_fn *out, size_t n)
{
	size_t size = 64, nr = 0, sp = 0, k;
	struct fn_sum *h = NULL;
	struct graph_fn *all = NULL;
	uint32_t *stk = NULL;

	while (size < 2 * g->nr_node + 2)
		size *= 2;
	h = calloc(size, sizeof(*h));
	stk = malloc((g->nr_node + 1) * sizeof(*stk));
	if (!h || !stk)
		goto out_free;
	if (under == GRAPH_NONE) {
		for (size_t i = 0; i < g->nr_task; i++)
			stk[sp++] = g->task[i].root;
	} else if (under < g->nr_node) {
		stk[sp++] = under;
	}
	while (sp) {
		uint32_t i = stk[--sp];
		const struct graph_node *nd = &g->node[i];

		for (uint32_t c = nd->child; c != GRAPH_NONE; c = g->node[c].next)
			stk[sp++] = c;	/* a tree: each node once, <= nr_node */
		if (nd->kind != GRAPH_FUNC)
			continue;
		for (k = (nd->addr * 0x9e3779b97f4a7c15ULL >> 20) & (size - 1);
		     h[k].used && h[k].f.addr != nd->addr; k = (k + 1) & (size - 1))
			;
		if (!h[k].used) {
			h[k].used = true;
			h[k].f.addr = nd->addr;
			h[k].f.name = nd->name;
			nr++;
		}
		h[k].f.calls += nd->calls;
		h[k].f.self_ns += nd->self_ns;
		if (!recursive(g, i, under))
			h[k].f.total_ns += nd->total_ns;
	}
	all = malloc((nr ? nr : 1) * sizeof(*all));
	if (!all)
		goto out_free;
	for (k = 0, nr = 0; k < size; k++)
		if (h[k].used)
			all[nr++] = h[k].f;
	qsort(all, nr, sizeof(*all), by_self ? top_sort_self : top_sort_total);
	if (nr > n)
		nr = n;
	memcpy(out, all, nr * sizeof(*all));
out_free:
	free(stk);
	free(h);
	if (!all)
		return 0;
	free(all);
	return nr;
}

/**
 * model_graph_initcall() - the node of an initcall's function
 * @m:        the model
 * @initcall: index into @m->initcalls
 *
 * Return: the node, or GRAPH_NONE if the graph has no call of it.
 */
uint32_t model_graph_initcall(const struct boot_model *m, size_t initcall)
{
	if (!m->graph.ic_node || initcall >= m->initcalls.nr)
		return GRAPH_NONE;
	return m->graph.ic_node[initcall];
}

/**
 * model_graph_free() - release the graph
 * @g: the graph
 */
void model_graph_free(struct model_graph *g)
{
	free(g->node);
	free(g->call);
	free(g->task);
	free(g->ic_node);
	memset(g, 0, sizeof(*g));
}

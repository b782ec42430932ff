/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libhtrace: the hypergraph, the boot's function call graph.
 *
 * The guest's function-graph client (CONFIG_HYPERTRACE_GRAPH) sends
 * FUNC_ENTRY and FUNC_EXIT records, or only FUNC_EXIT records that carry
 * the call's duration and depth (exits-only mode) with FUNC_AGG counts of
 * calls too short to record, and TASK_SWITCH records that say which task
 * runs on each CPU.  model_graph_build() turns them into:
 *
 *   - a call tree per task: struct graph_node, one per function at one
 *     place in the tree, calls at that place aggregated (count, total and
 *     self time).  Node 0.. are task roots (kind GRAPH_TASK), whose
 *     children are the traced roots (do_one_initcall, say);
 *   - every call, in time order of its end (struct graph_call), for
 *     timelines and exports, up to MODEL_GRAPH_MAX_CALLS (then only the
 *     tree, and @calls_dropped says how many were left out);
 *   - per initcall of the model, the node of its function in the tree.
 *
 * Everything comes from the guest and is bounded: depths by
 * MODEL_GRAPH_MAX_DEPTH, tasks by MODEL_GRAPH_MAX_TASKS (the rest share
 * one "other tasks" root), nodes by MODEL_GRAPH_MAX_NODES.  What does not
 * fit is counted, never guessed.
 */
#ifndef _HTRACE_MODEL_GRAPH_H
#define _HTRACE_MODEL_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GRAPH_NONE		UINT32_MAX
#define MODEL_GRAPH_MAX_DEPTH	256
#define MODEL_GRAPH_MAX_TASKS	4096
#define MODEL_GRAPH_MAX_NODES	(1u << 22)
#define MODEL_GRAPH_MAX_CALLS	(1u << 23)

/* What a node stands for. */
enum graph_kind {
	GRAPH_TASK = 0,		/* a task's root: no function */
	GRAPH_FUNC = 1,		/* a function */
	GRAPH_SHORT = 2,	/* calls shorter than the minimum, counted */
};

/**
 * struct graph_node - one function at one place of a call tree
 * @addr:     the function's address as run (0 for a task or short calls)
 * @name:     its symbol, the task's name, or "[short calls]" (model pool)
 * @parent:   the node it was called from, GRAPH_NONE for a task root
 * @child:    first child, GRAPH_NONE if none
 * @next:     next sibling, GRAPH_NONE if none
 * @depth:    0 for a task root, 1 for a traced root call, ...
 * @kind:     enum graph_kind
 * @task:     index into model_graph.task
 * @calls:    calls that ended here (or were open at the end)
 * @open:     of those, calls that never ended (the boot stopped in them)
 * @total_ns: time in these calls, children included
 * @self_ns:  @total_ns less the children's total
 */
struct graph_node {
	uint64_t addr;
	const char *name;
	uint32_t parent;
	uint32_t child;
	uint32_t next;
	uint32_t depth;
	uint32_t kind;
	uint32_t task;
	uint64_t calls;
	uint64_t open;
	uint64_t total_ns;
	uint64_t self_ns;
};

/**
 * struct graph_call - one call
 * @start_ns: when it began, on the model's clock
 * @dur_ns:   how long it took (until the end of the trace if @open)
 * @node:     its node (function, place in the tree, task)
 * @call_site: where it was called from: FUNC_ENTRY's return address, as
 *            run (0 in exits-only mode, which has no entries)
 * @node:     its node (function, place in the tree, task)
 * @depth:    its depth (1: a traced root)
 * @cpu:      the guest CPU it began on (entries) or ended on (exits only)
 * @open:     it never ended
 */
struct graph_call {
	uint64_t start_ns;
	uint64_t dur_ns;
	uint64_t call_site;
	uint32_t node;
	uint16_t depth;
	uint16_t cpu;
	bool open;
};

/**
 * struct graph_task - a task whose calls were traced
 * @pid:   its pid (0 for a CPU's idle task, -1 when unknown)
 * @cpu:   for idle and unknown tasks, their CPU
 * @comm:  its name as the guest sent it
 * @root:  its root node
 */
struct graph_task {
	int pid;
	unsigned int cpu;
	char comm[24];
	uint32_t root;
};

/**
 * struct model_graph - the hypergraph of a boot
 * @present:       the guest started the hypergraph (GRAPH_START seen)
 * @flags:         HT_GRAPH_F_* of the (last) GRAPH_START
 * @max_depth:     the guest's depth limit, 0 for none
 * @min_ns:        the guest's minimum duration (exits-only), 0 for none
 * @node:          the nodes; @nr_node of them
 * @call:          the calls; @nr_call of them
 * @task:          the tasks; @nr_task of them
 * @ic_node:       per initcall of the model, its function's node or
 *                 GRAPH_NONE; NULL without a graph
 * @entries:       FUNC_ENTRY records used
 * @exits:         FUNC_EXIT records used
 * @short_calls:   calls counted by FUNC_AGG records
 * @switches:      TASK_SWITCH records
 * @unmatched:     exits with no entry, or entries whose exit never came
 *                 while calls above them ended (lost records)
 * @too_deep:      records deeper than MODEL_GRAPH_MAX_DEPTH
 * @nodes_dropped: calls not placed: the node table was full
 * @calls_dropped: calls in the tree but not in @call
 * @tasks_merged:  tasks beyond MODEL_GRAPH_MAX_TASKS, under one root
 */
struct model_graph {
	bool present;
	unsigned int flags;
	unsigned int max_depth;
	uint32_t min_ns;
	struct graph_node *node;
	size_t nr_node, alloc_node;
	struct graph_call *call;
	size_t nr_call, alloc_call;
	struct graph_task *task;
	size_t nr_task, alloc_task;
	uint32_t *ic_node;
	uint64_t entries;
	uint64_t exits;
	uint64_t short_calls;
	uint64_t switches;
	uint64_t unmatched;
	uint64_t too_deep;
	uint64_t nodes_dropped;
	uint64_t calls_dropped;
	uint64_t tasks_merged;
};

/**
 * struct graph_fn - one function's share of a subtree (model_graph_top())
 * @addr:     its address
 * @name:     its symbol
 * @calls:    its calls in the subtree
 * @total_ns: time in it, children included (recursion counted once)
 * @self_ns:  time in it, children excluded
 */
struct graph_fn {
	uint64_t addr;
	const char *name;
	uint64_t calls;
	uint64_t total_ns;
	uint64_t self_ns;
};

struct boot_model;

int model_graph_build(struct boot_model *m);
void model_graph_free(struct model_graph *g);
size_t model_graph_top(const struct model_graph *g, uint32_t under,
		       bool by_self, struct graph_fn *out, size_t n);
uint32_t model_graph_initcall(const struct boot_model *m, size_t initcall);

#endif /* _HTRACE_MODEL_GRAPH_H */

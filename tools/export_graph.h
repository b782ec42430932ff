/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The hypergraph in the exports: its calls as nested slices per guest task
 * (Perfetto), as entry/exit events (CTF), and its call trees as collapsed
 * stacks (folded).
 */
#ifndef _HT_TOOLS_EXPORT_GRAPH_H
#define _HT_TOOLS_EXPORT_GRAPH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"

/* Perfetto process of the hypergraph's tracks (the boot's lanes are pid 1) */
#define GRAPH_PID		2
/* Perfetto thread id of a task without a pid of its own: this + its index */
#define GRAPH_TID_NOPID		0x40000000

/**
 * struct graph_span - one call on its task's track, nested exactly
 * @start_ns: when it began
 * @end_ns:   when it ended, clamped to the end of the call it lies in
 * @call:     index into model_graph.call
 * @task:     index into model_graph.task
 * @depth:    its depth (1: a traced root)
 * @clamped:  @end_ns was cut to fit in the enclosing call (hostile or
 *            inconsistent durations)
 */
struct graph_span {
	uint64_t start_ns;
	uint64_t end_ns;
	uint32_t call;
	uint32_t task;
	uint16_t depth;
	bool clamped;
};

int graph_spans(const struct model_graph *g, uint32_t under, struct graph_span **out,
		size_t *n);
int graph_find_initcall(const struct boot_model *m, const char *name, uint32_t *node);
int graph_task_tid(const struct model_graph *g, uint32_t task);
int export_graph_perfetto(const struct boot_model *m, uint32_t under, FILE *out);
int export_folded(const struct boot_model *m, uint32_t under, FILE *out);

#endif /* _HT_TOOLS_EXPORT_GRAPH_H */

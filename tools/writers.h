/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The writers of the boot model: text, JSON and HTML.  Each writes to a
 * stream and returns 0 or -EIO; hypertrace boot calls all three on one
 * loaded model.
 */
#ifndef _HT_TOOLS_WRITERS_H
#define _HT_TOOLS_WRITERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "model.h"

/**
 * struct calltree_limits - how the HTML report prunes its call trees
 * @min_frac:  a node is kept when its total is at least this fraction of
 *             its initcall's
 * @max_nodes: rows (kept nodes and "[other]") per initcall
 * @budget:    rows for the whole page; 0: no call trees
 */
struct calltree_limits {
	double min_frac;
	size_t max_nodes;
	size_t budget;
};
extern const struct calltree_limits calltree_defaults;

int model_write_json(const struct boot_model *m, FILE *f);
int model_write_page_json(const struct boot_model *m, const struct calltree_limits *lim,
			  FILE *f);
int calltree_write_json(const struct boot_model *m, const struct calltree_limits *lim,
			FILE *f);
int report_write_text(const struct boot_model *m, FILE *f, size_t top, bool functions);
int html_write(const struct boot_model *m, FILE *f);
int html_write_limits(const struct boot_model *m, const struct calltree_limits *lim, FILE *f);
int export_perfetto(const struct boot_model *m, FILE *out);
int export_csv(const struct boot_model *m, FILE *out);
void problems_write_text(const struct boot_model *m, FILE *f);
void problems_write_json(const struct boot_model *m, FILE *f);
void vcpus_write_text(const struct boot_model *m, FILE *f);
void vcpus_write_json(const struct boot_model *m, FILE *f);
void sched_write_text(const struct boot_model *m, FILE *f);
void functions_write_text(const struct boot_model *m, FILE *f, size_t top);
void functions_write_json(const struct boot_model *m, FILE *f, size_t top);
uint64_t graph_lost_calls(const struct model_graph *g);
long calltree_find(const struct boot_model *m, const char *name);
int calltree_write_text(const struct boot_model *m, FILE *f, const char *name, double min_pct);
void sched_write_json(const struct boot_model *m, FILE *f, bool page);
void hints_write_text(const struct boot_model *m, FILE *f);
void hints_write_json(const struct boot_model *m, FILE *f);
void async_write_text(const struct boot_model *m, FILE *f, size_t top);
void async_write_json(const struct boot_model *m, FILE *f);
void critical_write_text(const struct boot_model *m, FILE *f);
void critical_write_json(const struct boot_model *m, FILE *f, bool page);

/*
 * log_tail() - the kernel log records a failed boot's report shows,
 * [*@first, *@end): the MODEL_LOG_TAIL records up to the one that carries
 * a panic's or an oops's message (the kernel's "Kernel panic - not
 * syncing: ..." line; its backtrace follows), else the last ones; none
 * for a boot that did not fail
 */
static inline void log_tail(const struct boot_model *m, size_t *first, size_t *end)
{
	const struct htr_log *l = &m->klog;
	size_t e = l->nr, i;

	*first = *end = 0;
	if (!htr_verdict_failed(m->verdict) || !l->nr)
		return;
	if ((m->verdict == HTR_VERDICT_PANIC || m->verdict == HTR_VERDICT_OOPS) &&
	    m->boot.fail_msg[0]) {
		for (i = l->nr; i-- > 0;) {
			if (strstr(l->rec[i].text, m->boot.fail_msg)) {
				e = i + 1;
				break;
			}
		}
	}
	*end = e;
	*first = e > MODEL_LOG_TAIL ? e - MODEL_LOG_TAIL : 0;
}

#endif /* _HT_TOOLS_WRITERS_H */

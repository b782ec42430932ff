/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libhtrace: between the model's loader, its derivation and its failure
 * chain (not exported).
 */
#ifndef _HTRACE_MODEL_INTERNAL_H
#define _HTRACE_MODEL_INTERNAL_H

#include "model.h"
#include "tracefile.h"

int model_derive(struct boot_model *m, const struct htr_host_facts *host,
		 const char *reason);
const char *model_strdup(struct boot_model *m, const char *s);
const char *model_fn_name(const struct boot_model *m, uint64_t addr, char *buf,
			  size_t len);
void model_where(const struct boot_model *m, char *buf, size_t len,
		 const char *initcall, int level, unsigned int phase);
int model_problem_event(struct boot_model *m, const struct ev *e);
void model_chain(struct boot_model *m);
void model_problems_free(struct boot_model *m);
int model_sched_build(struct boot_model *m, const struct htf_sched_event *ev, size_t n,
		      uint64_t launch_mono_ns);
void model_sched_unavailable(struct boot_model *m, const void *json, size_t len);
void model_sched_free(struct boot_model *m);
int model_idle_build(struct boot_model *m);
void model_idle_free(struct boot_model *m);
int model_hints_build(struct boot_model *m);
void model_hints_host_event(struct boot_model *m, const void *json, size_t len);
void model_hints_free(struct boot_model *m);
int model_async_build(struct boot_model *m);
void model_async_free(struct boot_model *m);
int model_critical_build(struct boot_model *m);
void model_critical_free(struct boot_model *m);

#endif /* _HTRACE_MODEL_INTERNAL_H */

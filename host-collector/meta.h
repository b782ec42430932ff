/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * hypertrace-collector: facts about the host and the kernel for the trace.
 */
#ifndef _HT_COLLECTOR_META_H
#define _HT_COLLECTOR_META_H

#include <stddef.h>
#include <stdint.h>

int meta_build_id(const char *path, char *out, size_t outlen);
void meta_cpu_model(char *out, size_t outlen);
uint64_t meta_tsc_khz(void);

#endif /* _HT_COLLECTOR_META_H */

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libhtrace: between the model's loader and its derivation (not exported).
 */
#ifndef _HTRACE_MODEL_INTERNAL_H
#define _HTRACE_MODEL_INTERNAL_H

#include "model.h"

int model_derive(struct boot_model *m, const struct htr_host_facts *host,
		 const char *reason);

#endif /* _HTRACE_MODEL_INTERNAL_H */

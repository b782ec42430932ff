/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * CTF 1.8 export of a boot model (babeltrace2, Trace Compass).
 */
#ifndef _HT_TOOLS_EXPORT_CTF_H
#define _HT_TOOLS_EXPORT_CTF_H

#include "model.h"

long export_ctf(const struct boot_model *m, const char *dir, uint32_t under);

#endif /* _HT_TOOLS_EXPORT_CTF_H */

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The writers of the boot model: text, JSON and HTML.  Each writes to a
 * stream and returns 0 or -EIO; hypertrace boot calls all three on one
 * loaded model.
 */
#ifndef _HT_TOOLS_WRITERS_H
#define _HT_TOOLS_WRITERS_H

#include <stddef.h>
#include <stdio.h>

#include "model.h"

int model_write_json(const struct boot_model *m, FILE *f);
int model_write_page_json(const struct boot_model *m, FILE *f);
int report_write_text(const struct boot_model *m, FILE *f, size_t top);
int html_write(const struct boot_model *m, FILE *f);
int export_perfetto(const struct boot_model *m, FILE *out);
int export_csv(const struct boot_model *m, FILE *out);
void problems_write_text(const struct boot_model *m, FILE *f);
void problems_write_json(const struct boot_model *m, FILE *f);
void vcpus_write_text(const struct boot_model *m, FILE *f);
void vcpus_write_json(const struct boot_model *m, FILE *f);

#endif /* _HT_TOOLS_WRITERS_H */

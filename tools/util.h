/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Helpers shared by the hypertrace subcommands.
 */
#ifndef _HT_TOOLS_UTIL_H
#define _HT_TOOLS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes of every subcommand (see hypertrace(1)). */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* the input has no usable trace, or a run failed */
#define EXIT_USAGE	2	/* bad option or argument */

extern const char *prog;

void err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * struct mapped_file - a file mapped read-only
 * @data: its bytes
 * @size: its size
 */
struct mapped_file {
	unsigned char *data;
	size_t size;
};

int map_file(const char *path, struct mapped_file *m);
void unmap_file(struct mapped_file *m);
FILE *open_output(const char *cmd, const char *path);
int close_output(FILE *f);
void print_unquoted(FILE *f, const char *s, size_t len);
void print_escaped(FILE *f, const char *s, size_t len);
void print_json_string(FILE *f, const char *s, size_t len);
char *put_json_string(char *p, const char *s, size_t len);

#endif /* _HT_TOOLS_UTIL_H */

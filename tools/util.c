// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Helpers shared by the hypertrace subcommands: error messages, mapping
 * input files, escaping guest strings for output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

const char *prog = "hypertrace";

/* err_msg() - print "hypertrace: <message>" on stderr */
void err_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/*
 * map_file() - map @path read-only (private: a guest may still be writing
 * the file; we copy what we use).  Returns 0 or -errno, with a message.
 */
int map_file(const char *path, struct mapped_file *m)
{
	struct stat sb;
	int fd, err;

	m->data = NULL;
	m->size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		err_msg("cannot open %s: %s\n", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &sb) < 0) {
		err = -errno;
		err_msg("cannot stat %s: %s\n", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size == 0) {
		err = -EINVAL;
		err_msg("%s: not a regular, non-empty file\n", path);
		goto out_close;
	}
	m->data = mmap(NULL, sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m->data == MAP_FAILED) {
		err = -errno;
		m->data = NULL;
		err_msg("cannot map %s: %s\n", path, strerror(errno));
		goto out_close;
	}
	m->size = sb.st_size;
	err = 0;
out_close:
	close(fd);
	return err;
}

/* unmap_file() - undo map_file() */
void unmap_file(struct mapped_file *m)
{
	if (m->data)
		munmap(m->data, m->size);
	m->data = NULL;
}

/* open_output() - @path for writing ('-': standard output); NULL, with a message */
FILE *open_output(const char *cmd, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "we") : stdout;

	if (!f)
		err_msg("%s: cannot write %s: %s\n", cmd, path, strerror(errno));
	return f;
}

/* close_output() - finish what open_output() opened; 0, or -EIO if writing failed */
int close_output(FILE *f)
{
	int err = ferror(f) ? -EIO : 0;

	if (f == stdout)
		return fflush(f) ? -EIO : err;
	return fclose(f) ? -EIO : err;
}

/*
 * print_unquoted() - guest bytes with C-style escapes, never raw, without
 * the quotes (a file name in "at drivers/x.c:12")
 */
void print_unquoted(FILE *f, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* print_escaped() - guest bytes as a C-style quoted string, never raw */
void print_escaped(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	print_unquoted(f, s, len);
	fputc('"', f);
}

/* json_plain() - a byte that goes into a JSON string as it is */
static bool json_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' &&
	       c != '&';
}

/**
 * put_json_string() - guest bytes as a JSON string at @p, quotes included
 * @p:   room for 6 * @len + 2 bytes
 * @s:   the bytes
 * @len: how many
 *
 * Return: the end of what was written.
 */
char *put_json_string(char *p, const char *s, size_t len)
{
	size_t i;

	*p++ = '"';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (json_plain(c)) {
			*p++ = (char)c;
		} else if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else {
			*p++ = '\\';
			*p++ = 'u';
			*p++ = '0';
			*p++ = '0';
			*p++ = "0123456789abcdef"[c >> 4];
			*p++ = "0123456789abcdef"[c & 15];
		}
	}
	*p++ = '"';
	return p;
}

/* print_json_string() - guest bytes as a JSON string (non-ASCII as \u00XX) */
void print_json_string(FILE *f, const char *s, size_t len)
{
	size_t i = 0, run;

	fputc('"', f);
	while (i < len) {
		for (run = i; run < len && json_plain((unsigned char)s[run]); run++)
			;
		fwrite(s + i, 1, run - i, f);
		if (run == len)
			break;
		if (s[run] == '"' || s[run] == '\\')
			fprintf(f, "\\%c", s[run]);
		else
			fprintf(f, "\\u%04x", (unsigned char)s[run]);
		i = run + 1;
	}
	fputc('"', f);
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace replay --gdb: the gdb script that connects to QEMU's gdbstub
 * of the replay, loads the kernel's symbols where the guest's KASLR put
 * them, and breaks where the recorded boot failed: panic() for a panic,
 * the faulting instruction of an oops, the BUG's ud2.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "boot_run.h"
#include "util.h"

/* first_failure() - the first oops, BUG or panic of the boot, or NULL */
static const struct model_problem *first_failure(const struct boot_model *m)
{
	size_t i;

	for (i = 0; i < m->problems.nr; i++)
		if (m->problems.p[i].type != HT_EV_WARN)
			return &m->problems.p[i];
	return NULL;
}

/* put_comment() - guest text as one gdb comment line: printable ASCII only */
static void put_comment(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s >= 0x20 && *s < 0x7f ? *s : '?', f);
	fputc('\n', f);
}

/* put_break() - the breakpoint at the failure @p (NULL: none known) */
static void put_break(FILE *f, const struct boot_model *m, const struct model_problem *p)
{
	char sym[256];

	if (!p) {
		fprintf(f, "# the recorded boot has no oops, BUG or panic (verdict %s): no\n"
			   "# breakpoint; the replay runs to the end of its log (Ctrl-C stops it)\n",
			htr_verdict_name(m->verdict));
		return;
	}
	fprintf(f, "# the failure: %s in %s: ", p->kind, p->where ? p->where : "?");
	put_comment(f, p->message ? p->message : "");
	if (p->type == HT_EV_PANIC || !p->ip) {
		fputs("break panic\n", f);
		return;
	}
	htr_syms_format(&m->syms, p->ip, sym, sizeof(sym));
	fprintf(f, "# the %s's instruction, %s (before it runs)\n", p->kind, sym);
	fprintf(f, "break *%#" PRIx64 "\n", p->ip);
}

/**
 * replay_gdb_script() - write the gdb script of a replay under QEMU's gdbstub
 * @path:    the script
 * @sock:    the gdbstub's unix socket
 * @m:       the recorded boot, for its failure and its KASLR offset
 * @vmlinux: the kernel's vmlinux
 *
 * Return: 0, or -1 after saying why not.
 */
int replay_gdb_script(const char *path, const char *sock, const struct boot_model *m,
		      const char *vmlinux)
{
	FILE *f;

	if (strchr(sock, '\n') || strchr(vmlinux, '\n')) {
		err_msg("replay: a path with a newline cannot go into a gdb script\n");
		return -1;
	}
	f = open_output("replay", path);
	if (!f)
		return -1;
	fprintf(f, "# hypertrace replay --gdb: QEMU replays the recorded boot and waits for\n"
		   "# gdb before the guest's first instruction.  Use:\n"
		   "#   gdb -x %s %s\n"
		   "set pagination off\n"
		   "set confirm off\n"
		   "target remote %s\n", path, vmlinux, sock);
	if (m->syms.kaslr)
		fprintf(f, "# the guest's KASLR offset, from the recorded trace\n"
			   "symbol-file -o %#" PRIx64 " %s\n", m->syms.kaslr, vmlinux);
	else
		fputs("# no KASLR offset in the trace: vmlinux's addresses are the guest's\n", f);
	put_break(f, m, first_failure(m));
	fputs("continue\n", f);
	if (close_output(f)) {
		err_msg("replay: cannot write %s\n", path);
		return -1;
	}
	return 0;
}

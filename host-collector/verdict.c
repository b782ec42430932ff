// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: what the recording tells the user: where the boot
 * is, in level, phase and initcall names, on the progress line; and the
 * verdict with its one-line reason.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "record.h"

/* sym() - "name (0xaddr)" for a code address, or just the address */
static const char *sym(struct run *r, uint64_t addr, char *buf, size_t len)
{
	const char *name = addr ? htr_syms_lookup(&r->syms, addr, NULL) : NULL;

	if (!addr)
		snprintf(buf, len, "none");
	else if (name)
		snprintf(buf, len, "%s (%#" PRIx64 ")", name, addr);
	else
		snprintf(buf, len, "%#" PRIx64, addr);
	return buf;
}

/*
 * where() - where the boot is, in names: "in level L, initcall F" while
 * an initcall runs, else "in P (no initcall running)" for the innermost
 * phase open, else the level, else "before the first boot phase"
 */
static const char *where(struct run *r, char *buf, size_t len)
{
	const struct htr_boot *b = &r->st.b;
	unsigned int phase = htr_boot_phase(b);
	char s[256];

	if (b->initcall && b->level >= 0)
		snprintf(buf, len, "in level %s, initcall %s", htr_level_name(b->level),
			 sym(r, b->initcall, s, sizeof(s)));
	else if (b->initcall)
		snprintf(buf, len, "in initcall %s", sym(r, b->initcall, s, sizeof(s)));
	else if (phase)
		snprintf(buf, len, "in %s (no initcall running)", htr_phase_name(phase));
	else if (b->level >= 0)
		snprintf(buf, len, "in level %s (no initcall running)",
			 htr_level_name(b->level));
	else
		snprintf(buf, len, "before the first boot phase");
	return buf;
}

/**
 * record_progress() - the one updating line on a terminal, or plain lines
 * (when the boot level changes); nothing with --quiet
 * @r:     the recording
 * @final: the last one: end the terminal's line
 */
void record_progress(struct run *r, bool final)
{
	double t = (now_ns() - r->launch_ns) / 1e9;
	uint64_t lost = 0;
	unsigned int i;
	char w[320];

	if (r->o->quiet)
		return;
	if (r->shm.found)
		for (i = 0; i < r->shm.area.ctl.nr_rings; i++)
			lost = htr_add_sat(lost, r->shm.area.rings[i].lost);
	if (r->tty) {
		fprintf(stderr, "\r\033[K[%6.1fs] %s %-56.56s %" PRIu64 " records, %"
			PRIu64 " lost%s", t, r->st.b.booted ? "booted" : "booting",
			r->st.b.booted ? "" : where(r, w, sizeof(w)), r->st.records, lost,
			final ? "\n" : "");
	} else if (final || r->st.b.level != r->last_level) {
		fprintf(stderr, "[%6.1fs] %s level %s, %" PRIu64 " initcalls, %" PRIu64
			" records, %" PRIu64 " lost\n", t,
			r->st.b.booted ? "booted" : "booting",
			r->st.b.level >= 0 ? htr_level_name(r->st.b.level) : "none yet",
			r->st.b.initcalls, r->st.records, lost);
		r->last_level = r->st.b.level;
	}
}

/**
 * record_verdict() - what the boot came to, and why in one line
 * @r:   the recording, ended
 * @why: the reason goes here
 * @len: its size
 *
 * The verdict is htr_boot_verdict() of the events and of what the host
 * saw (the watchdog, a reset, --timeout), the rule the tools apply to the
 * trace too.
 *
 * Return: the verdict.
 */
enum htr_verdict record_verdict(struct run *r, char *why, size_t len)
{
	const struct htr_boot *b = &r->st.b;
	struct htr_host_facts host = {
		.hang = r->hang, .reset = r->reset, .ended = !r->timed_out,
		.died = !WIFEXITED(r->qemu_status) || WEXITSTATUS(r->qemu_status),
	};
	int status = WIFEXITED(r->qemu_status) ? WEXITSTATUS(r->qemu_status) : -1;
	enum htr_verdict v = htr_boot_verdict(b, &host);
	char s[320];

	switch (v) {
	case HTR_VERDICT_PANIC:
	case HTR_VERDICT_OOPS:
		snprintf(why, len, "guest %s: %s (initcall %s)",
			 v == HTR_VERDICT_PANIC ? "panic" : "oops", b->fail_msg,
			 sym(r, b->fail_initcall, s, sizeof(s)));
		break;
	case HTR_VERDICT_HANG:
		snprintf(why, len, "guest hang: no progress for %.0f s %s%s",
			 r->o->hang_s, where(r, s, sizeof(s)),
			 b->initcall ? " never returned" : "");
		break;
	case HTR_VERDICT_BOOTED:
		snprintf(why, len, "boot completed%s", b->machine_call ?
			 ", guest shut down" : "");
		break;
	case HTR_VERDICT_SILENT:
		snprintf(why, len, "%s", htr_verdict_why(v));
		if (status)
			snprintf(why + strlen(why), len - strlen(why),
				 " (QEMU exit status %d)", status);
		break;
	case HTR_VERDICT_INCOMPLETE:
		snprintf(why, len, "recording stopped after --timeout %.0f s, before "
			 "the boot finished, %s", r->o->timeout_s,
			 where(r, s, sizeof(s)));
		break;
	default:
		if (r->reset)
			snprintf(why, len, "triple fault / reset before the boot finished, %s",
				 where(r, s, sizeof(s)));
		else if (WIFSIGNALED(r->qemu_status))
			snprintf(why, len, "QEMU was killed by signal %d (%s) before the boot "
				 "finished, %s", WTERMSIG(r->qemu_status),
				 strsignal(WTERMSIG(r->qemu_status)), where(r, s, sizeof(s)));
		else
			snprintf(why, len, "QEMU exited (status %d) before the boot finished, "
				 "%s", status, where(r, s, sizeof(s)));
		break;
	}
	return v;
}

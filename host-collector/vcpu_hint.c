// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: the in-band hints (abi.rst, "Ring header").
 * Every HINT_POLL_NS while the rings are open, each vCPU thread's host CPU
 * (field 39 of /proc/TID/stat) and run delay (field 2 of
 * /proc/TID/schedstat) go into its ring's header; the guest library
 * stamps a VCPU_PCPU record when the CPU it sees there changes.  So a
 * migration shows in the guest's own timeline without host tracing.
 *
 * Ring i is guest CPU i, and QEMU lists its vCPU threads in cpu-index
 * order, which is the guest's CPU numbering on x86.  Only the thread ids
 * QMP named are opened; a thread that is gone (QEMU exiting) stops its
 * hints, nothing more.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"

#define HINT_POLL_NS	5000000ULL	/* rewrite the hints this often */
#define HINT_STAT_CPU	39		/* /proc/TID/stat: "processor" */

/* read_proc() - the file behind @fd from its start, NUL-terminated; bytes or -1 */
static ssize_t read_proc(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/*
 * stat_cpu() - field 39 of a /proc/TID/stat line: the host CPU the thread
 * last ran on, or -1.  The command name (field 2) may hold spaces and
 * parentheses, so counting starts after its last ')'.
 */
static int64_t stat_cpu(const char *line)
{
	const char *p = strrchr(line, ')');
	unsigned int field = 2;
	char *end;
	long v;

	if (!p)
		return -1;
	p++;
	while (*p && field < HINT_STAT_CPU) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -1;
		field++;
		if (field == HINT_STAT_CPU)
			break;
		while (*p && *p != ' ')
			p++;
	}
	if (field != HINT_STAT_CPU)
		return -1;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || end == p || v < 0)
		return -1;
	return v;
}

/* hint_open() - the /proc files of the vCPU threads QMP named; says once why not */
static void hint_open(struct run *r)
{
	const pid_t *tids;
	unsigned int i, ntids = qmp_vcpu_tids(r->qmp, &tids);
	char path[64];
	json_t *o, *a;
	int err = 0;

	/*
	 * Not on virtual time: a word the host writes into guest RAM is an
	 * input icount does not count and record/replay does not record,
	 * so the boot would stop being a function of its instructions
	 * (a replay diverged and hung)
	 */
	if (r->hint_tried || !ntids || r->o->no_hints || r->icount || !r->shm.area.writable)
		return;
	r->hint_tried = true;
	if (ntids > HINT_MAX_VCPUS)
		ntids = HINT_MAX_VCPUS;
	for (i = 0; i < ntids; i++) {
		struct vcpu_hint *h = &r->hint[i];

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)tids[i]);
		h->stat = open(path, O_RDONLY | O_CLOEXEC);
		snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)tids[i]);
		h->schedstat = open(path, O_RDONLY | O_CLOEXEC);
		if (h->stat < 0) {
			err = errno;
			if (h->schedstat >= 0)
				close(h->schedstat);
			break;
		}
	}
	r->nhint = i;
	o = json_object();
	a = json_array();
	for (i = 0; i < r->nhint; i++)
		json_array_append_new(a, json_integer(tids[i]));
	json_object_set_new(o, "vcpu_tids", a);
	json_object_set_new(o, "interval_ms", json_integer(HINT_POLL_NS / 1000000));
	if (r->nhint < ntids)
		json_object_set_new(o, "error", json_string(strerror(err)));
	host_event(r, "vcpu_hints", o);
}

/**
 * hint_poll() - write every vCPU's hints into its ring header when due
 * @r: the recording (the rings may not be open yet)
 */
void hint_poll(struct run *r)
{
	uint64_t t = now_ns();
	char buf[1024];
	unsigned int i;

	if (!r->shm.found)
		return;
	hint_open(r);
	if (!r->nhint || t - r->hint_last_ns < HINT_POLL_NS)
		return;
	r->hint_last_ns = t;
	for (i = 0; i < r->nhint && i < r->shm.area.ctl.nr_rings; i++) {
		struct vcpu_hint *h = &r->hint[i];
		unsigned long long run = 0, delay = 0;
		int64_t cpu = -1;

		if (read_proc(h->stat, buf, sizeof(buf)) > 0)
			cpu = stat_cpu(buf);
		if (h->schedstat < 0 || read_proc(h->schedstat, buf, sizeof(buf)) <= 0 ||
		    sscanf(buf, "%llu %llu", &run, &delay) != 2)
			delay = 0;
		htr_ring_hint(&r->shm.area, i, cpu, delay);
	}
}

/**
 * hint_close() - close the vCPU threads' /proc files
 * @r: the recording
 */
void hint_close(struct run *r)
{
	unsigned int i;

	for (i = 0; i < r->nhint; i++) {
		close(r->hint[i].stat);
		if (r->hint[i].schedstat >= 0)
			close(r->hint[i].schedstat);
	}
	r->nhint = 0;
	r->hint_tried = false;
}

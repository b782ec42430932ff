// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Host collector: the scheduler channel (see chan_sched.h).
 *
 * The libtracefs 1.6.4 notes of chan_kvm.c apply here too: one tep handle
 * that parses header_page and our three formats only (not all of
 * kallsyms), every event's own "enable" file written, the loss counted
 * from the per-CPU stats files.
 *
 * sched_switch's prev_state: the kernel reports a preempted task as
 * TASK_RUNNING (0), or with TASK_REPORT_MAX set ("R+"); any bit below it
 * (S, D, T, t, X, Z, P, I) means the task went to sleep.  TASK_REPORT_MAX
 * is 0x100 on Linux 6.1 to 6.18 (the format's print fmt shows the mask).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* cpu_set_t in tracefs.h */
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event-parse.h>
#include <tracefs.h>

#include "chan_sched.h"

#define FILTER_MAX	3072	/* the kernel refuses a filter of a page */
#define STATE_SLEEP_MASK 0xffUL	/* prev_state bits below TASK_REPORT_MAX */

enum { EV_SWITCH, EV_WAKEUP, EV_MIGRATE, NEV };

static const char *const ev_names[NEV] = {
	"sched_switch", "sched_wakeup", "sched_migrate_task",
};

/**
 * struct sched_chan - one channel
 * @inst:     the private instance
 * @name:     its name
 * @tep:      parser of our three events
 * @ev:       the events, by EV_*
 * @f:        fields used: switch prev_pid, prev_state, next_pid; wakeup
 *            pid, target_cpu; migrate pid, orig_cpu, dest_cpu
 * @tids:     the vCPU threads, vCPU order
 * @ntids:    how many
 * @stat_fds: per_cpu/cpuN/stats, -1 where absent
 * @nstat:    how many
 * @missed_stats:  loss from the stats files
 * @missed_stream: loss from the sub-buffer headers
 * @fn:       the poll in progress: callback
 * @ctx:      its context
 * @delivered: events delivered in it
 */
struct sched_chan {
	struct tracefs_instance *inst;
	char name[48];
	struct tep_handle *tep;
	struct tep_event *ev[NEV];
	struct tep_format_field *f[8];
	pid_t tids[SCHED_CHAN_MAX_TIDS];
	unsigned int ntids;
	int *stat_fds;
	unsigned int nstat;
	uint64_t missed_stats;
	uint64_t missed_stream;
	sched_chan_fn fn;
	void *ctx;
	long delivered;
};

enum { F_PREV_PID, F_PREV_STATE, F_NEXT_PID, F_W_PID, F_W_CPU, F_M_PID,
       F_M_ORIG, F_M_DEST, NF };

static const struct { int ev; const char *name; } fields[NF] = {
	{ EV_SWITCH, "prev_pid" }, { EV_SWITCH, "prev_state" },
	{ EV_SWITCH, "next_pid" }, { EV_WAKEUP, "pid" },
	{ EV_WAKEUP, "target_cpu" }, { EV_MIGRATE, "pid" },
	{ EV_MIGRATE, "orig_cpu" }, { EV_MIGRATE, "dest_cpu" },
};

/* set_err() - format a message into the caller's error buffer, return @ret */
static int __attribute__((format(printf, 4, 5)))
set_err(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* neg_errno() - the current errno as a negative return, @dflt if unset */
static int neg_errno(int dflt)
{
	return errno > 0 ? -errno : -dflt;
}

/* vcpu_of() - the vCPU index of thread @tid, -1 if it is none of ours */
static int vcpu_of(const struct sched_chan *c, long long tid)
{
	unsigned int i;

	for (i = 0; i < c->ntids; i++)
		if (c->tids[i] == tid)
			return (int)i;
	return -1;
}

/* parse_format() - parse the format file of sched/@event into the tep */
static int parse_format(struct sched_chan *c, const char *event, char *err,
			size_t errlen)
{
	char *buf;
	int size, ret;

	errno = 0;
	buf = tracefs_event_file_read(NULL, "sched", event, "format", &size);
	if (!buf || size <= 0)
		return set_err(err, errlen, neg_errno(ENOENT),
			       "cannot read the format of sched/%s", event);
	ret = tep_parse_event(c->tep, buf, size, "sched");
	free(buf);
	if (ret)
		return set_err(err, errlen, -EPROTO,
			       "cannot parse the format of sched/%s", event);
	return 0;
}

/* load_tep() - a tep handle for the ring-buffer header and our events */
static int load_tep(struct sched_chan *c, char *err, size_t errlen)
{
	char *buf;
	int size, ret, i;

	c->tep = tep_alloc();
	if (!c->tep)
		return set_err(err, errlen, -ENOMEM, "out of memory");
	tep_set_file_bigendian(c->tep, tep_is_bigendian() ? TEP_BIG_ENDIAN :
							      TEP_LITTLE_ENDIAN);
	errno = 0;
	buf = tracefs_instance_file_read(NULL, "events/header_page", &size);
	if (!buf || size <= 0)
		return set_err(err, errlen, neg_errno(EACCES),
			       "cannot read %s/events/header_page",
			       tracefs_tracing_dir());
	ret = tep_parse_header_page(c->tep, buf, size, sizeof(long));
	free(buf);
	if (ret)
		return set_err(err, errlen, -EPROTO, "cannot parse events/header_page");
	tep_set_long_size(c->tep, tep_get_header_page_size(c->tep));
	for (i = 0; i < NEV; i++) {
		ret = parse_format(c, ev_names[i], err, errlen);
		if (ret)
			return ret;
		c->ev[i] = tep_find_event_by_name(c->tep, "sched", ev_names[i]);
		if (!c->ev[i])
			return set_err(err, errlen, -EPROTO, "no event sched/%s",
				       ev_names[i]);
	}
	for (i = 0; i < NF; i++) {
		struct tep_format_field *f = tep_find_field(c->ev[fields[i].ev],
							    fields[i].name);

		if (!f || (f->flags & (TEP_FIELD_IS_ARRAY | TEP_FIELD_IS_DYNAMIC |
				       TEP_FIELD_IS_STRING)) ||
		    (f->size != 4 && f->size != 8))
			return set_err(err, errlen, -EPROTO,
				       "sched/%s has no numeric field %s",
				       ev_names[fields[i].ev], fields[i].name);
		c->f[i] = f;
	}
	return 0;
}

/* build_filter() - "@a == tid || @b == tid ..." for every vCPU thread */
static int build_filter(const struct sched_chan *c, const char *a,
			const char *b, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int i;
	int n;

	buf[0] = '\0';
	for (i = 0; i < c->ntids; i++) {
		if (b)
			n = snprintf(buf + off, len - off, "%s%s == %d || %s == %d",
				     i ? " || " : "", a, (int)c->tids[i], b,
				     (int)c->tids[i]);
		else
			n = snprintf(buf + off, len - off, "%s%s == %d",
				     i ? " || " : "", a, (int)c->tids[i]);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += n;
	}
	return 0;
}

/* event_write() - write @val to sched/@event's @file in the instance */
static int event_write(struct sched_chan *c, const char *event,
		       const char *file, const char *val)
{
	int ret;

	errno = 0;
	ret = tracefs_event_file_write(c->inst, "sched", event, file, val);
	if (ret < 0)
		return neg_errno(EIO);
	return (size_t)ret == strlen(val) ? 0 : -EIO;
}

/* inst_write() - write @val to the instance's @file */
static int inst_write(struct sched_chan *c, const char *file, const char *val)
{
	int ret;

	errno = 0;
	ret = tracefs_instance_file_write(c->inst, file, val);
	if (ret < 0)
		return neg_errno(EIO);
	return (size_t)ret == strlen(val) ? 0 : -EIO;
}

/* set_filters() - the kernel-side filters of the three events */
static int set_filters(struct sched_chan *c, char *err, size_t errlen)
{
	char buf[FILTER_MAX];
	int i, ret;

	for (i = 0; i < NEV; i++) {
		ret = build_filter(c, i == EV_SWITCH ? "prev_pid" : "pid",
				   i == EV_SWITCH ? "next_pid" : NULL, buf,
				   sizeof(buf));
		if (!ret)
			ret = event_write(c, ev_names[i], "filter", buf);
		if (ret)
			return set_err(err, errlen, ret,
				       "cannot set the filter of sched/%s: %s",
				       ev_names[i], strerror(-ret));
	}
	return 0;
}

/* open_stats() - open every CPU's stats file of the instance */
static int open_stats(struct sched_chan *c, char *err, size_t errlen)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	char name[64];
	unsigned int i;

	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > 65536)
		ncpu = 65536;
	c->stat_fds = malloc(ncpu * sizeof(*c->stat_fds));
	if (!c->stat_fds)
		return set_err(err, errlen, -ENOMEM, "out of memory");
	c->nstat = ncpu;
	for (i = 0; i < c->nstat; i++) {
		snprintf(name, sizeof(name), "per_cpu/cpu%u/stats", i);
		c->stat_fds[i] = tracefs_instance_file_open(c->inst, name,
							    O_RDONLY | O_CLOEXEC);
	}
	return 0;
}

/* close_stats() - close what open_stats() opened */
static void close_stats(struct sched_chan *c)
{
	unsigned int i;

	for (i = 0; i < c->nstat; i++)
		if (c->stat_fds[i] >= 0)
			close(c->stat_fds[i]);
	free(c->stat_fds);
	c->stat_fds = NULL;
	c->nstat = 0;
}

/* stat_value() - the number after "@key: " in a stats file, 0 if absent */
static uint64_t stat_value(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ':')
			return strtoull(p + klen + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

/* read_stats() - sum the loss counters of all CPUs */
static void read_stats(struct sched_chan *c)
{
	uint64_t sum = 0;
	char buf[1024];
	unsigned int i;
	ssize_t n;

	for (i = 0; i < c->nstat; i++) {
		if (c->stat_fds[i] < 0)
			continue;
		n = pread(c->stat_fds[i], buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		sum += stat_value(buf, "overrun") +
		       stat_value(buf, "commit overrun") +
		       stat_value(buf, "dropped events");
	}
	if (sum > c->missed_stats)
		c->missed_stats = sum;
}

/* field() - a numeric field of @rec, bounds-checked; 0 or -1 */
static int field(const struct sched_chan *c, int i, const struct tep_record *rec,
		 long long *val)
{
	struct tep_format_field *f = c->f[i];
	unsigned long long v;

	if (f->offset < 0 || f->offset + f->size > rec->size ||
	    tep_read_number_field(f, rec->data, &v))
		return -1;
	*val = f->size == 4 ? (long long)(int32_t)(uint32_t)v : (long long)v;
	return 0;
}

/* deliver() - one event of thread @tid (known to be ours) to the callback */
static void deliver(struct sched_chan *c, const struct tep_record *rec,
		    long long tid, unsigned int kind, unsigned int state,
		    long long cpu, long long arg)
{
	struct htf_sched_event e = {
		.host_ns = rec->ts,
		.tid = (uint32_t)tid,
		.vcpu = (uint16_t)vcpu_of(c, tid),
		.kind = (uint8_t)kind,
		.state = (uint8_t)state,
		.host_cpu = (uint32_t)cpu,
		.arg = (uint32_t)arg,
	};

	c->fn(c->ctx, &e);
	c->delivered++;
}

/* on_switch() - a sched_switch: the switch away from and/or to a vCPU */
static void on_switch(struct sched_chan *c, const struct tep_record *rec, int cpu)
{
	long long prev, state, next;

	if (field(c, F_PREV_PID, rec, &prev) || field(c, F_PREV_STATE, rec, &state) ||
	    field(c, F_NEXT_PID, rec, &next))
		return;
	if (vcpu_of(c, prev) >= 0)
		deliver(c, rec, prev, HTF_SCHED_SWITCH_OUT,
			(state & STATE_SLEEP_MASK) ? HTF_SCHED_BLOCKED :
						     HTF_SCHED_PREEMPTED, cpu, state);
	if (vcpu_of(c, next) >= 0)
		deliver(c, rec, next, HTF_SCHED_SWITCH_IN, 0, cpu, 0);
}

/* on_event() - tracefs iterate callback: sort one event out */
static int on_event(struct tep_event *ev, struct tep_record *rec, int cpu,
		    void *data)
{
	struct sched_chan *c = data;
	long long pid, a, b;

	if (rec->missed_events > 0)
		c->missed_stream += rec->missed_events;
	else if (rec->missed_events < 0)
		c->missed_stream++;
	if (!ev)
		return 0;
	if (ev->id == c->ev[EV_SWITCH]->id) {
		on_switch(c, rec, cpu);
	} else if (ev->id == c->ev[EV_WAKEUP]->id) {
		if (!field(c, F_W_PID, rec, &pid) && !field(c, F_W_CPU, rec, &a) &&
		    vcpu_of(c, pid) >= 0)
			deliver(c, rec, pid, HTF_SCHED_WAKEUP, 0, a, 0);
	} else if (ev->id == c->ev[EV_MIGRATE]->id) {
		if (!field(c, F_M_PID, rec, &pid) && !field(c, F_M_ORIG, rec, &a) &&
		    !field(c, F_M_DEST, rec, &b) && vcpu_of(c, pid) >= 0 && a != b)
			deliver(c, rec, pid, HTF_SCHED_MIGRATE, 0, b, a);
	}
	return 0;
}

/* enable_all() - turn the three events and the instance's tracing on */
static int enable_all(struct sched_chan *c, char *err, size_t errlen)
{
	int i, ret;

	for (i = 0; i < NEV; i++) {
		ret = event_write(c, ev_names[i], "enable", "1");
		if (ret)
			return set_err(err, errlen, ret, "cannot enable sched/%s in %s: %s",
				       ev_names[i], c->name, strerror(-ret));
	}
	if (tracefs_trace_on(c->inst) || tracefs_trace_is_on(c->inst) != 1)
		return set_err(err, errlen, -EIO, "cannot turn tracing on in %s",
			       c->name);
	return 0;
}

/* disable_all() - turn the events off (before the instance goes) */
static void disable_all(struct sched_chan *c)
{
	int i;

	for (i = 0; i < NEV; i++)
		event_write(c, ev_names[i], "enable", "0");
	tracefs_trace_off(c->inst);
}

/* sched_chan_open() - see chan_sched.h */
int sched_chan_open(struct sched_chan **out, const pid_t *tids,
		    unsigned int ntids, char *err, size_t errlen)
{
	struct sched_chan *c;
	unsigned int i;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!out || !tids || !ntids || ntids > SCHED_CHAN_MAX_TIDS)
		return set_err(err, errlen, -EINVAL, "need 1 to %u vCPU threads, got %u",
			       SCHED_CHAN_MAX_TIDS, tids ? ntids : 0);
	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return set_err(err, errlen, -ENOMEM, "out of memory");
	for (i = 0; i < ntids; i++) {
		if (tids[i] <= 0) {
			ret = set_err(err, errlen, -EINVAL, "invalid vCPU thread id %d",
				      (int)tids[i]);
			goto err_free_chan;
		}
		c->tids[i] = tids[i];
	}
	c->ntids = ntids;
	errno = 0;
	if (!tracefs_tracing_dir()) {
		ret = set_err(err, errlen, -ENODEV, "tracefs is not mounted and cannot be mounted");
		goto err_free_chan;
	}
	ret = load_tep(c, err, errlen);
	if (ret)
		goto err_free_tep;

	snprintf(c->name, sizeof(c->name), "hypertrace-%d-sched", (int)getpid());
	errno = 0;
	c->inst = tracefs_instance_create(c->name);
	if (!c->inst) {
		ret = set_err(err, errlen, neg_errno(EIO), "cannot create tracefs instance %s: %s",
			      c->name, strerror(errno ? errno : EIO));
		goto err_free_tep;
	}
	if (!tracefs_instance_is_new(c->inst)) {
		ret = set_err(err, errlen, -EEXIST, "tracefs instance %s already exists",
			      c->name);
		goto err_free_instance;
	}
	/* before any event is on: changing the clock resets the buffer */
	ret = inst_write(c, "trace_clock", "mono");
	if (ret) {
		set_err(err, errlen, ret, "cannot set trace_clock to mono in %s: %s",
			c->name, strerror(-ret));
		goto err_destroy_instance;
	}
	if (tracefs_file_exists(c->inst, "buffer_percent"))
		inst_write(c, "buffer_percent", "0");
	ret = set_filters(c, err, errlen);
	if (ret)
		goto err_destroy_instance;
	ret = open_stats(c, err, errlen);
	if (ret)
		goto err_destroy_instance;
	ret = enable_all(c, err, errlen);
	if (ret)
		goto err_disable;
	*out = c;
	return 0;

err_disable:
	disable_all(c);
	close_stats(c);
err_destroy_instance:
	tracefs_instance_destroy(c->inst);
err_free_instance:
	tracefs_instance_free(c->inst);
err_free_tep:
	tep_free(c->tep);
err_free_chan:
	free(c);
	return ret;
}

/* sched_chan_poll() - see chan_sched.h */
long sched_chan_poll(struct sched_chan *c, sched_chan_fn fn, void *ctx)
{
	int ret;

	if (!c || !fn)
		return -EINVAL;
	c->fn = fn;
	c->ctx = ctx;
	c->delivered = 0;
	errno = 0;
	ret = tracefs_iterate_raw_events(c->tep, c->inst, NULL, 0, on_event, c);
	c->fn = NULL;
	c->ctx = NULL;
	read_stats(c);
	if (ret < 0 && !c->delivered)
		return neg_errno(EIO);
	return c->delivered;
}

/* sched_chan_missed() - see chan_sched.h */
uint64_t sched_chan_missed(const struct sched_chan *c)
{
	if (!c)
		return 0;
	return c->missed_stats > c->missed_stream ? c->missed_stats : c->missed_stream;
}

/* sched_chan_name() - see chan_sched.h */
const char *sched_chan_name(const struct sched_chan *c)
{
	return c ? c->name : "";
}

/* sched_chan_close() - see chan_sched.h */
void sched_chan_close(struct sched_chan *c)
{
	if (!c)
		return;
	close_stats(c);
	disable_all(c);
	tracefs_instance_destroy(c->inst);
	tracefs_instance_free(c->inst);
	tep_free(c->tep);
	free(c);
}

/* instance_pid() - the pid in "hypertrace-<pid>[-...]", 0 if not ours */
static long instance_pid(const char *name)
{
	const char *p = name + strlen("hypertrace-");
	char *end;
	long pid;

	if (strncmp(name, "hypertrace-", strlen("hypertrace-")) || !isdigit((unsigned char)*p))
		return 0;
	errno = 0;
	pid = strtol(p, &end, 10);
	if (errno || pid <= 0 || pid > INT32_MAX || (*end && *end != '-'))
		return 0;
	return pid;
}

/* sched_reap_stale() - see chan_sched.h */
int sched_reap_stale(unsigned int *removed, char *err, size_t errlen)
{
	const char *top;
	char path[4096];
	struct dirent *d;
	int ret = 0;
	long pid;
	DIR *dir;

	*removed = 0;
	errno = 0;
	top = tracefs_tracing_dir();
	if (!top)
		return set_err(err, errlen, -ENODEV, "tracefs is not mounted");
	snprintf(path, sizeof(path), "%s/instances", top);
	dir = opendir(path);
	if (!dir)
		return set_err(err, errlen, neg_errno(EACCES), "cannot list %s: %s", path,
			       strerror(errno));
	while ((d = readdir(dir))) {
		pid = instance_pid(d->d_name);
		/*
		 * a process that exists (ESRCH only means gone) keeps its
		 * instance; ours are stale too: this process made none yet
		 */
		if (!pid || (pid != getpid() && (!kill((pid_t)pid, 0) || errno != ESRCH)))
			continue;
		snprintf(path, sizeof(path), "%s/instances/%s", top, d->d_name);
		/* EBUSY: its files are open, so someone uses it after all */
		if (rmdir(path) && errno != EBUSY) {
			ret = set_err(err, errlen, neg_errno(EIO), "cannot remove %s: %s",
				      path, strerror(errno));
			continue;
		}
		*removed += !access(path, F_OK) ? 0 : 1;
	}
	closedir(dir);
	return ret;
}

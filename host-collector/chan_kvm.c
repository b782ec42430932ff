// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Host collector: KVM hypercall channel (see chan_kvm.h).
 *
 * libtracefs 1.6.4 notes that shape this file:
 * - tracefs_follow_missed_events() exists, but 1.6.4 never frees the
 *   follower array it allocates in the instance (fixed upstream in 1.8 by
 *   "Free missed_followers of instance"), which LeakSanitizer reports.  The
 *   same count reaches our own iterate callback in tep_record.missed_events,
 *   so we read it there and register no follower.
 * - tracefs_event_enable() matches names as case-insensitive regexes;
 *   writing the event's own "enable" file is exact.
 * - tracefs_local_events_system() always parses all of /proc/kallsyms
 *   into the handle (0.15 s and megabytes here, seconds under ASan); we
 *   need one event format, so load_tep() parses header_page and that
 *   format only.
 * - tracefs_iterate_raw_events() opens the per-CPU trace_pipe_raw files on
 *   every call and reads non-blocking, partial pages included.
 * - The loss count in the sub-buffer header is usually absent (the kernel
 *   stores it only if the page has room; tep_record.missed_events is then
 *   -1), so the exact count comes from the per-CPU stats files.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* cpu_set_t in tracefs.h */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event-parse.h>
#include <tracefs.h>

#include "chan_kvm.h"

/*
 * Channels this process has opened: the first one's instance is
 * "hypertrace-<pid>", later ones (more VMs) "hypertrace-<pid>-<n>".
 */
static atomic_uint instance_seq;

/* The kernel refuses an event filter of PAGE_SIZE bytes or more. */
#define FILTER_MAX	3072

struct kvm_chan {
	struct tracefs_instance *inst;
	struct tep_handle *tep;
	struct tep_event *ev;
	struct tep_format_field *f_nr;
	struct tep_format_field *f_arg[4];
	char *system;
	char *event;
	pid_t *tids;			/* sorted, unique */
	unsigned int ntids;
	int poll_fd;
	int *stat_fds;			/* per_cpu/cpuN/stats, -1 where absent */
	unsigned int nstat;
	uint64_t missed_stats;		/* from the per-CPU stats files */
	uint64_t missed_stream;		/* from the sub-buffer headers */
	uint64_t filtered;
	/* the poll in progress */
	kvm_chan_fn fn;
	void *ctx;
	long delivered;
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

/* cmp_pid() - qsort/bsearch order for pid_t */
static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* is_vcpu() - whether @tid is one of the channel's vCPU threads */
static bool is_vcpu(const struct kvm_chan *c, pid_t tid)
{
	return bsearch(&tid, c->tids, c->ntids, sizeof(*c->tids), cmp_pid);
}

/* is_ht_nr() - whether @nr is a Hypertrace hypercall number */
static bool is_ht_nr(unsigned long long nr)
{
	return nr == HT_HC_RECORD || nr == HT_HC_BATCH;
}

/* copy_tids() - validate @tids into a sorted, duplicate-free copy in @c */
static int copy_tids(struct kvm_chan *c, const pid_t *tids, unsigned int ntids,
		     char *err, size_t errlen)
{
	unsigned int i, n = 0;

	if (!tids || !ntids || ntids > KVM_CHAN_MAX_TIDS)
		return set_err(err, errlen, -EINVAL,
			       "need 1 to %u vCPU thread ids, got %u",
			       KVM_CHAN_MAX_TIDS, tids ? ntids : 0);
	c->tids = malloc(ntids * sizeof(*c->tids));
	if (!c->tids)
		return set_err(err, errlen, -ENOMEM, "out of memory");
	memcpy(c->tids, tids, ntids * sizeof(*c->tids));
	qsort(c->tids, ntids, sizeof(*c->tids), cmp_pid);
	for (i = 0; i < ntids; i++) {
		if (c->tids[i] <= 0)
			return set_err(err, errlen, -EINVAL,
				       "invalid vCPU thread id %d", (int)c->tids[i]);
		if (n && c->tids[n - 1] == c->tids[i])
			continue;
		c->tids[n++] = c->tids[i];
	}
	c->ntids = n;
	return 0;
}

/* load_tep() - a tep handle that knows the ring-buffer header and our event */
static int load_tep(struct kvm_chan *c, char *err, size_t errlen)
{
	char *buf;
	int size, ret;

	c->tep = tep_alloc();
	if (!c->tep)
		return set_err(err, errlen, -ENOMEM, "out of memory");
	tep_set_file_bigendian(c->tep, tep_is_bigendian() ? TEP_BIG_ENDIAN :
							      TEP_LITTLE_ENDIAN);

	errno = 0;
	buf = tracefs_instance_file_read(NULL, "events/header_page", &size);
	if (!buf || size <= 0) {
		ret = set_err(err, errlen, neg_errno(EIO),
			      "cannot read %s/events/header_page",
			      tracefs_tracing_dir());
		goto err_free_tep;
	}
	ret = tep_parse_header_page(c->tep, buf, size, sizeof(long));
	free(buf);
	if (ret) {
		ret = set_err(err, errlen, -EPROTO,
			      "cannot parse events/header_page");
		goto err_free_tep;
	}
	tep_set_long_size(c->tep, tep_get_header_page_size(c->tep));

	if (!tracefs_event_file_exists(NULL, c->system, c->event, "format")) {
		ret = set_err(err, errlen, -ENOENT,
			      "no trace event %s/%s (KVM module not loaded, or "
			      "the test uprobe not registered?)", c->system,
			      c->event);
		goto err_free_tep;
	}
	errno = 0;
	buf = tracefs_event_file_read(NULL, c->system, c->event, "format", &size);
	if (!buf || size <= 0) {
		ret = set_err(err, errlen, neg_errno(EIO),
			      "cannot read the format of %s/%s", c->system,
			      c->event);
		goto err_free_tep;
	}
	ret = tep_parse_event(c->tep, buf, size, c->system);
	free(buf);
	c->ev = ret ? NULL : tep_find_event_by_name(c->tep, c->system, c->event);
	if (!c->ev) {
		ret = set_err(err, errlen, -EPROTO, "cannot parse the format of %s/%s",
			      c->system, c->event);
		goto err_free_tep;
	}
	return 0;

err_free_tep:
	tep_free(c->tep);
	c->tep = NULL;
	return ret;
}

/* find_fields() - look up nr and a0..a3 of the event and check their type */
static int find_fields(struct kvm_chan *c, char *err, size_t errlen)
{
	static const char *const names[5] = { "nr", "a0", "a1", "a2", "a3" };
	struct tep_format_field *f;
	unsigned int i;

	for (i = 0; i < 5; i++) {
		f = tep_find_field(c->ev, names[i]);
		if (!f)
			return set_err(err, errlen, -EPROTO,
				       "event %s/%s has no field '%s'",
				       c->system, c->event, names[i]);
		if ((f->flags & (TEP_FIELD_IS_ARRAY | TEP_FIELD_IS_DYNAMIC |
				 TEP_FIELD_IS_STRING)) ||
		    (f->size != 4 && f->size != 8))
			return set_err(err, errlen, -EPROTO,
				       "field %s/%s:%s is not a 32/64-bit number",
				       c->system, c->event, names[i]);
		if (i == 0)
			c->f_nr = f;
		else
			c->f_arg[i - 1] = f;
	}
	return 0;
}

/* inst_write() - write @val to the instance file @file; 0 or -errno */
static int inst_write(struct kvm_chan *c, const char *file, const char *val)
{
	int ret;

	errno = 0;
	ret = tracefs_instance_file_write(c->inst, file, val);
	if (ret < 0)
		return neg_errno(EIO);
	return (size_t)ret == strlen(val) ? 0 : -EIO;
}

/* event_write() - write @val to the event's @file in the instance */
static int event_write(struct kvm_chan *c, const char *file, const char *val)
{
	int ret;

	errno = 0;
	ret = tracefs_event_file_write(c->inst, c->system, c->event, file, val);
	if (ret < 0)
		return neg_errno(EIO);
	return (size_t)ret == strlen(val) ? 0 : -EIO;
}

/* build_filter() - the kernel filter: the two numbers, and the tids if it fits */
static int build_filter(const struct kvm_chan *c, char *buf, size_t len,
			bool with_tids)
{
	size_t off;
	unsigned int i;
	int n;

	n = snprintf(buf, len, "(nr == 0x%x || nr == 0x%x)",
		     HT_HC_RECORD, HT_HC_BATCH);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	if (!with_tids)
		return 0;
	off = n;
	for (i = 0; i < c->ntids; i++) {
		n = snprintf(buf + off, len - off, "%s common_pid == %d%s",
			     i ? " ||" : " && (", (int)c->tids[i],
			     i + 1 == c->ntids ? ")" : "");
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += n;
	}
	return 0;
}

/* apply_filter() - install the kernel-side filter, pids included if possible */
static int apply_filter(struct kvm_chan *c, char *err, size_t errlen)
{
	char buf[FILTER_MAX];
	int ret = -ENOSPC;

	/* The pid part keeps other VMs' hypercalls out of our buffer. */
	if (!build_filter(c, buf, sizeof(buf), true))
		ret = event_write(c, "filter", buf);
	if (ret) {
		build_filter(c, buf, sizeof(buf), false);
		ret = event_write(c, "filter", buf);
	}
	if (ret)
		return set_err(err, errlen, ret, "cannot set filter on %s/%s: %s",
			       c->system, c->event, strerror(-ret));
	return 0;
}

/* open_stats() - open every CPU's stats file of the instance for pread */
static int open_stats(struct kvm_chan *c, char *err, size_t errlen)
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
static void close_stats(struct kvm_chan *c)
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

/* read_stats() - sum the loss counters of all CPUs into c->missed_stats */
static void read_stats(struct kvm_chan *c)
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
	/* The counters only grow; never let a failed read lower ours. */
	if (sum > c->missed_stats)
		c->missed_stats = sum;
}

/* read_field() - read a numeric field of @rec, bounds-checked */
static int read_field(struct tep_format_field *f,
		      const struct tep_record *rec, unsigned long long *val)
{
	if (f->offset < 0 || f->offset + f->size > rec->size)
		return -1;
	return tep_read_number_field(f, rec->data, val);
}

/* on_event() - tracefs iterate callback: check one event, deliver or count it */
static int on_event(struct tep_event *ev, struct tep_record *rec, int cpu,
		    void *data)
{
	struct kvm_chan *c = data;
	unsigned long long nr, w[4];
	struct ht_record r;
	unsigned int i;
	pid_t tid;

	(void)cpu;
	if (rec->missed_events > 0)
		c->missed_stream += rec->missed_events;
	else if (rec->missed_events < 0)	/* lost, count unknown */
		c->missed_stream++;

	if (!ev || ev->id != c->ev->id || read_field(c->f_nr, rec, &nr)) {
		c->filtered++;
		return 0;
	}
	tid = tep_data_pid(c->tep, rec);
	if (!is_ht_nr(nr) || !is_vcpu(c, tid)) {
		c->filtered++;
		return 0;
	}
	for (i = 0; i < 4; i++) {
		if (read_field(c->f_arg[i], rec, &w[i])) {
			c->filtered++;
			return 0;
		}
	}
	r.tsc = w[0];
	r.info = w[1];
	r.a0 = w[2];
	r.a1 = w[3];
	c->fn(c->ctx, &r, (unsigned long)nr, tid, rec->ts);
	c->delivered++;
	return 0;
}

/* kvm_chan_open() - set up the private instance and start tracing */
int kvm_chan_open(struct kvm_chan **out, const char *system, const char *event,
		  const pid_t *tids, unsigned int ntids, char *err, size_t errlen)
{
	struct kvm_chan *c;
	char name[48];
	unsigned int seq;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!out || !system || !event || !*system || !*event)
		return set_err(err, errlen, -EINVAL, "missing argument");
	*out = NULL;

	c = calloc(1, sizeof(*c));
	if (!c)
		return set_err(err, errlen, -ENOMEM, "out of memory");
	c->poll_fd = -1;
	c->system = strdup(system);
	c->event = strdup(event);
	if (!c->system || !c->event) {
		ret = set_err(err, errlen, -ENOMEM, "out of memory");
		goto err_free_chan;
	}
	ret = copy_tids(c, tids, ntids, err, errlen);
	if (ret)
		goto err_free_chan;

	errno = 0;
	if (!tracefs_tracing_dir()) {
		ret = set_err(err, errlen, -ENODEV,
			      "tracefs is not mounted and cannot be mounted "
			      "(mount -t tracefs nodev /sys/kernel/tracing)");
		goto err_free_chan;
	}
	ret = load_tep(c, err, errlen);
	if (ret)
		goto err_free_chan;
	ret = find_fields(c, err, errlen);
	if (ret)
		goto err_free_tep;

	seq = atomic_load(&instance_seq);
	if (seq)
		snprintf(name, sizeof(name), "hypertrace-%d-%u", (int)getpid(), seq);
	else
		snprintf(name, sizeof(name), "hypertrace-%d", (int)getpid());
	errno = 0;
	c->inst = tracefs_instance_create(name);
	if (!c->inst) {
		ret = set_err(err, errlen, neg_errno(EIO),
			      "cannot create tracefs instance %s: %s", name,
			      strerror(errno ? errno : EIO));
		goto err_free_tep;
	}
	if (!tracefs_instance_is_new(c->inst)) {
		ret = set_err(err, errlen, -EEXIST,
			      "tracefs instance %s already exists (left by a "
			      "crashed collector? rmdir %s/instances/%s)", name,
			      tracefs_tracing_dir(), name);
		goto err_free_instance;
	}

	/*
	 * Before the event is enabled: the clock (changing it resets the
	 * buffer), poll wake-ups on any data instead of a half-full buffer
	 * (absent on old kernels), and the filter.
	 */
	ret = inst_write(c, "trace_clock", "mono");
	if (ret) {
		set_err(err, errlen, ret, "cannot set trace_clock to mono in %s: %s",
			name, strerror(-ret));
		goto err_destroy_instance;
	}
	if (tracefs_file_exists(c->inst, "buffer_percent"))
		inst_write(c, "buffer_percent", "0");
	ret = apply_filter(c, err, errlen);
	if (ret)
		goto err_destroy_instance;
	ret = open_stats(c, err, errlen);
	if (ret)
		goto err_destroy_instance;

	ret = event_write(c, "enable", "1");
	if (ret) {
		set_err(err, errlen, ret, "cannot enable %s/%s in %s: %s",
			system, event, name, strerror(-ret));
		goto err_close_stats;
	}
	if (tracefs_trace_on(c->inst) || tracefs_trace_is_on(c->inst) != 1) {
		ret = set_err(err, errlen, -EIO, "cannot turn tracing on in %s",
			      name);
		goto err_disable_event;
	}

	c->poll_fd = tracefs_instance_file_open(c->inst, "trace_pipe",
						O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	atomic_fetch_add(&instance_seq, 1);
	*out = c;
	return 0;

err_disable_event:
	event_write(c, "enable", "0");
err_close_stats:
	close_stats(c);
err_destroy_instance:
	tracefs_instance_destroy(c->inst);
err_free_instance:
	tracefs_instance_free(c->inst);
err_free_tep:
	tep_free(c->tep);
err_free_chan:
	free(c->tids);
	free(c->event);
	free(c->system);
	free(c);
	return ret;
}

/* kvm_chan_poll() - drain the instance's buffers through @fn */
long kvm_chan_poll(struct kvm_chan *c, kvm_chan_fn fn, void *ctx)
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

/* kvm_chan_fd() - the poll(2)-able descriptor, or -1 */
int kvm_chan_fd(struct kvm_chan *c)
{
	return c ? c->poll_fd : -1;
}

/* kvm_chan_missed() - kernel ring-buffer loss, the larger of both sources */
uint64_t kvm_chan_missed(const struct kvm_chan *c)
{
	if (!c)
		return 0;
	return c->missed_stats > c->missed_stream ? c->missed_stats :
						      c->missed_stream;
}

/* kvm_chan_filtered() - events rejected by the user-space check */
uint64_t kvm_chan_filtered(const struct kvm_chan *c)
{
	return c ? c->filtered : 0;
}

/* kvm_chan_close() - stop tracing, remove the instance and free everything */
void kvm_chan_close(struct kvm_chan *c)
{
	if (!c)
		return;
	if (c->poll_fd >= 0)
		close(c->poll_fd);
	close_stats(c);
	event_write(c, "enable", "0");
	tracefs_trace_off(c->inst);
	tracefs_instance_destroy(c->inst);
	tracefs_instance_free(c->inst);
	tep_free(c->tep);
	free(c->tids);
	free(c->event);
	free(c->system);
	free(c);
}

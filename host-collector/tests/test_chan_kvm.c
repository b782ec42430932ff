// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The KVM hypercall channel against a stand-in for kvm:kvm_hypercall.
 *
 * This host cannot run the real thing (see DESIGN.md, "Measured facts"),
 * so fake_vcpu plays QEMU: its threads load rax, rbx, rcx, rdx, rsi as a
 * guest does before vmcall and call ht_fake_hypercall(), where a uprobe
 *
 *   p:hypertrace/kvm_hypercall FAKE_VCPU:OFFSET nr=%ax:u64 a0=%bx:u64 \
 *     a1=%cx:u64 a2=%dx:u64 a3=%si:u64
 *
 * produces events with kvm_hypercall's fields and the thread as
 * common_pid.  OFFSET is the function's file offset, from the ELF symbol
 * table: symbol value - containing section's sh_addr + its sh_offset (as
 * `nm` and `readelf -S` show them; elf_func_offset() below), cross-checked
 * against the offset fake_vcpu derives from its own /proc/self/maps.
 *
 * Phases: (1) every vCPU record arrives exactly once, in order, with its
 * words, tid and a CLOCK_MONOTONIC timestamp, and the kernel filter keeps
 * foreign numbers and the non-vCPU thread out, while a second channel
 * (another VM, with vCPU 0 only) gets exactly vCPU 0's records from its
 * own instance; (2) the same while the channel drains concurrently with
 * the emitters, woken by poll(2) on its descriptor; (3) with the kernel
 * filter removed, the user-space check still rejects both and counts
 * them; (4) with a tiny buffer, lost events are counted: delivered +
 * filtered + missed = emitted; (5) close leaves nothing behind.
 *
 * Skips (exit 0) when not root or without tracefs/uprobe events; any other
 * problem is a failure.  Needs fake_vcpu next to this binary or in
 * $HT_FAKE_VCPU.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tracefs.h>

#include "chan_kvm.h"
#include "fake_vcpu.h"
#include "tap.h"

#define NVCPU		3
#define NOTHER		1
#define NTHR		(NVCPU + NOTHER)
#define P1_N		1000	/* records per thread, phase 1 */
#define P1_F		5	/* foreign hypercalls per thread */
#define P2_N		2000
#define P3_N		500
#define P3_F		5
#define P4_N		5000
#define MAX_K		(P1_N + P2_N + P3_N + P4_N)
#define LINE_TIMEOUT_MS	30000

#define PROBE_SYSTEM	"hypertrace"
#define PROBE_EVENT	"kvm_hypercall"
#define PROBE_SYM	"ht_fake_hypercall"
#define LOCK_FILE	"/tmp/hypertrace-uprobe-test.lock"

static struct {
	char tdir[PATH_MAX];		/* tracefs mount */
	char fake[PATH_MAX];		/* absolute path of fake_vcpu */
	char inst[PATH_MAX + 64];	/* our channel's instance directory */
	bool probe_added;
	pid_t child;
	int to_child, from_child;
	char rbuf[4096];
	size_t rlen;
	pid_t vcpu_tid[NVCPU], other_tid[NOTHER];
	struct kvm_chan *chan, *chan2;
} g = { .child = -1, .to_child = -1, .from_child = -1 };

/* What one phase saw. */
struct seen {
	uint64_t kbase, n;		/* expected k range of each thread */
	uint64_t t0, t1;		/* CLOCK_MONOTONIC around the phase */
	bool strict_order;
	uint8_t hit[NVCPU][MAX_K];
	uint64_t count[NVCPU];
	uint64_t last[NVCPU];
	bool any[NVCPU];
	uint64_t ts_min, ts_max;	/* of the vCPU records */
	uint64_t total, non_vcpu, foreign, bad_words, bad_nr, dup, range,
		 order, batch;
};

/* now_ns() - CLOCK_MONOTONIC in ns */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* write_file() - write @s into @path (@flags: O_APPEND or O_TRUNC); 0 or -errno */
static int write_file(const char *path, const char *s, int flags)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | flags);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	err = n < 0 ? -errno : (size_t)n == strlen(s) ? 0 : -EIO;
	close(fd);
	return err;
}

/* read_small() - read up to @len - 1 bytes of @path as a string; 0 or -errno */
static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* remove_probe() - delete the uprobe event; 0, or -errno (-ENOENT: none) */
static int remove_probe(void)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/uprobe_events", g.tdir);
	return write_file(path, "-:" PROBE_SYSTEM "/" PROBE_EVENT, O_APPEND);
}

/* stop_child() - let fake_vcpu quit (kill it if it does not) and reap it */
static void stop_child(void)
{
	int i, status;

	if (g.to_child >= 0) {
		(void)!write(g.to_child, "quit\n", 5);
		close(g.to_child);
		g.to_child = -1;
	}
	if (g.from_child >= 0) {
		close(g.from_child);
		g.from_child = -1;
	}
	if (g.child <= 0)
		return;
	for (i = 0; i < 200; i++) {
		if (waitpid(g.child, &status, WNOHANG) == g.child)
			break;
		usleep(10000);
	}
	if (i == 200) {
		kill(g.child, SIGKILL);
		waitpid(g.child, &status, 0);
	}
	g.child = -1;
}

/* cleanup() - undo everything the test set up, in reverse order */
static void cleanup(void)
{
	kvm_chan_close(g.chan2);
	g.chan2 = NULL;
	kvm_chan_close(g.chan);
	g.chan = NULL;
	stop_child();
	if (g.probe_added) {
		remove_probe();
		g.probe_added = false;
	}
}

/* bail() - abort the whole test loudly (TAP "Bail out!") after cleaning up */
static void __attribute__((noreturn, format(printf, 1, 2)))
bail(const char *fmt, ...)
{
	va_list ap;

	cleanup();
	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

/* skip_all() - the host cannot run this test: say why, exit 0 */
static void __attribute__((noreturn)) skip_all(const char *why)
{
	cleanup();
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

/* elf_func_offset() - file offset of function @sym in the ELF file @path */
static int elf_func_offset(const char *path, const char *sym, uint64_t *off)
{
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh, *sec;
	const Elf64_Sym *st;
	unsigned char *img = NULL;
	const char *str;
	struct stat sb;
	size_t i, j, nsym;
	int fd, ret = -ENOENT;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) || sb.st_size < (off_t)sizeof(*eh) ||
	    sb.st_size > 64 << 20)
		goto out_close;
	img = malloc(sb.st_size);
	if (!img || read(fd, img, sb.st_size) != sb.st_size)
		goto out_free;
	eh = (const Elf64_Ehdr *)img;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff > (uint64_t)sb.st_size ||
	    (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) >
	    (uint64_t)sb.st_size - eh->e_shoff)
		goto out_free;
	sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum ||
		    sh[i].sh_offset > (uint64_t)sb.st_size ||
		    sh[i].sh_size > (uint64_t)sb.st_size - sh[i].sh_offset)
			continue;
		sec = &sh[sh[i].sh_link];
		if (sec->sh_offset > (uint64_t)sb.st_size || !sec->sh_size ||
		    sec->sh_size > (uint64_t)sb.st_size - sec->sh_offset)
			continue;
		str = (const char *)img + sec->sh_offset;
		st = (const Elf64_Sym *)(img + sh[i].sh_offset);
		nsym = sh[i].sh_size / sizeof(*st);
		for (j = 0; j < nsym; j++) {
			if (ELF64_ST_TYPE(st[j].st_info) != STT_FUNC ||
			    st[j].st_name >= sec->sh_size ||
			    strnlen(str + st[j].st_name,
				    sec->sh_size - st[j].st_name) !=
			    strlen(sym) || strcmp(str + st[j].st_name, sym) ||
			    st[j].st_shndx == SHN_UNDEF ||
			    st[j].st_shndx >= eh->e_shnum)
				continue;
			/* value -> offset through the section holding it */
			sec = &sh[st[j].st_shndx];
			if (st[j].st_value < sec->sh_addr ||
			    st[j].st_value >= sec->sh_addr + sec->sh_size)
				goto out_free;
			*off = st[j].st_value - sec->sh_addr + sec->sh_offset;
			ret = 0;
			goto out_free;
		}
	}
out_free:
	free(img);
out_close:
	close(fd);
	return ret;
}

/* read_line() - next line from fake_vcpu, waiting up to @ms; 0 or -errno */
static int read_line(char *line, size_t len, int ms)
{
	struct pollfd p = { .fd = g.from_child, .events = POLLIN };
	char *nl;
	ssize_t n;
	size_t l;

	for (;;) {
		nl = memchr(g.rbuf, '\n', g.rlen);
		if (nl) {
			l = nl - g.rbuf;
			if (l >= len)
				l = len - 1;
			memcpy(line, g.rbuf, l);
			line[l] = '\0';
			g.rlen -= nl + 1 - g.rbuf;
			memmove(g.rbuf, nl + 1, g.rlen);
			return 0;
		}
		if (g.rlen == sizeof(g.rbuf))
			return -EOVERFLOW;
		n = poll(&p, 1, ms);
		if (n == 0)
			return -ETIMEDOUT;
		if (n < 0 && errno != EINTR)
			return -errno;
		n = read(g.from_child, g.rbuf + g.rlen, sizeof(g.rbuf) - g.rlen);
		if (n == 0)
			return -EPIPE;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n > 0)
			g.rlen += n;
	}
}

/* start_child() - run fake_vcpu, read its probe offset and thread ids */
static void start_child(uint64_t *maps_off)
{
	char *argv[] = { g.fake, (char *)"3", (char *)"1", NULL };
	int in[2], out[2];
	char line[128], role[16];
	unsigned int v = 0, o = 0, idx;
	unsigned long long off;
	int tid, ret;

	_Static_assert(NVCPU == 3 && NOTHER == 1, "argv above");
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		bail("pipe: %s", strerror(errno));
	g.child = fork();
	if (g.child < 0)
		bail("fork: %s", strerror(errno));
	if (!g.child) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execv(g.fake, argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	g.to_child = in[1];
	g.from_child = out[0];

	ret = read_line(line, sizeof(line), LINE_TIMEOUT_MS);
	if (ret || sscanf(line, "offset %llx", &off) != 1)
		bail("fake_vcpu did not start (%s): '%s'", strerror(-ret),
		     ret ? "" : line);
	*maps_off = off;
	for (;;) {
		ret = read_line(line, sizeof(line), LINE_TIMEOUT_MS);
		if (ret)
			bail("fake_vcpu: no thread list: %s", strerror(-ret));
		if (!strcmp(line, "ready"))
			break;
		if (sscanf(line, "%15s %u %d", role, &idx, &tid) != 3 || tid <= 0)
			bail("fake_vcpu: bad line '%s'", line);
		if (!strcmp(role, "vcpu") && idx == v && v < NVCPU)
			g.vcpu_tid[v++] = tid;
		else if (!strcmp(role, "other") && idx == o && o < NOTHER)
			g.other_tid[o++] = tid;
		else
			bail("fake_vcpu: unexpected line '%s'", line);
	}
	if (v != NVCPU || o != NOTHER)
		bail("fake_vcpu: %u vCPUs and %u others, want %u and %u",
		     v, o, NVCPU, NOTHER);
}

/* command() - send a command line to fake_vcpu */
static void command(const char *fmt, unsigned long n, unsigned long f)
{
	char buf[64];
	int len = snprintf(buf, sizeof(buf), fmt, n, f);

	if (write(g.to_child, buf, len) != len)
		bail("cannot command fake_vcpu: %s", strerror(errno));
}

/* wait_done() - wait for fake_vcpu's "done" */
static void wait_done(void)
{
	char line[128];
	int ret = read_line(line, sizeof(line), LINE_TIMEOUT_MS);

	if (ret || strcmp(line, "done"))
		bail("fake_vcpu did not finish a command: %s",
		     ret ? strerror(-ret) : line);
}

/* on_rec() - channel callback: check one delivered record against the plan */
static void on_rec(void *ctx, const struct ht_record *rec, unsigned long nr,
		   pid_t tid, uint64_t ts_ns)
{
	struct seen *s = ctx;
	uint64_t k = rec->a0;
	int v;

	s->total++;
	for (v = 0; v < NVCPU; v++)
		if (g.vcpu_tid[v] == tid)
			break;
	if (v == NVCPU) {
		s->non_vcpu++;
		return;
	}
	if (nr != HT_HC_RECORD && nr != HT_HC_BATCH) {
		s->foreign++;
		return;
	}
	if (!s->ts_min || ts_ns < s->ts_min)
		s->ts_min = ts_ns;
	if (ts_ns > s->ts_max)
		s->ts_max = ts_ns;
	if (k < s->kbase || k >= s->kbase + s->n || k >= MAX_K) {
		s->range++;
		return;
	}
	if (rec->tsc != (k ^ FAKE_VCPU_TSC_SALT) ||
	    rec->info != ht_info(HT_EV_USER_MARKER, 0, v, (__u32)k) ||
	    rec->a1 != (FAKE_VCPU_A1_MAGIC | v))
		s->bad_words++;
	if (nr != fake_vcpu_nr(k))
		s->bad_nr++;
	if (nr == HT_HC_BATCH)
		s->batch++;
	if (s->hit[v][k]++)
		s->dup++;
	if (s->any[v] && k <= s->last[v])
		s->order++;
	s->any[v] = true;
	s->last[v] = k;
	s->count[v]++;
}

/* What the second channel, on vCPU 0 only, saw. */
struct seen2 {
	uint64_t n, wrong;
};

/* on_rec2() - second channel's callback: only vCPU 0's records may come */
static void on_rec2(void *ctx, const struct ht_record *rec, unsigned long nr,
		    pid_t tid, uint64_t ts_ns)
{
	struct seen2 *s = ctx;

	(void)nr;
	(void)ts_ns;
	s->n++;
	if (tid != g.vcpu_tid[0] || ht_info_cpu(rec->info) != 0)
		s->wrong++;
}

/* drain() - poll the channel until it has nothing left; events delivered */
static uint64_t drain(struct seen *s)
{
	uint64_t sum = 0;
	long n;

	do {
		n = kvm_chan_poll(g.chan, on_rec, s);
		if (n < 0)
			bail("kvm_chan_poll: %s", strerror((int)-n));
		sum += n;
	} while (n > 0);
	return sum;
}

/* begin() - reset @s for a phase of @n records per thread from @kbase */
static void begin(struct seen *s, uint64_t kbase, uint64_t n, bool strict)
{
	memset(s, 0, sizeof(*s));
	s->kbase = kbase;
	s->n = n;
	s->strict_order = strict;
	s->t0 = now_ns();
}

/* check_complete() - every vCPU record of the phase arrived once, correctly */
static void check_complete(struct seen *s, const char *phase)
{
	char what[160];
	unsigned int v;

#define CHECK(cond, fmt) do { \
		snprintf(what, sizeof(what), "%s: " fmt, phase); \
		ok(cond, what); \
	} while (0)
#define CHECK_IS(got, want, fmt) do { \
		snprintf(what, sizeof(what), "%s: " fmt, phase); \
		is(got, want, what); \
	} while (0)

	for (v = 0; v < NVCPU; v++) {
		snprintf(what, sizeof(what), "%s: vCPU %u: all %llu records",
			 phase, v, (unsigned long long)s->n);
		is(s->count[v], s->n, what);
	}
	CHECK_IS(s->dup, 0, "no record twice");
	CHECK_IS(s->bad_words, 0, "every record has its words");
	CHECK_IS(s->bad_nr, 0, "every record has its number (RECORD or BATCH)");
	CHECK(s->batch > 0, "HT_HC_BATCH hypercalls delivered too");
	CHECK_IS(s->range, 0, "no record from outside the phase");
	CHECK_IS(s->non_vcpu, 0, "nothing delivered from the non-vCPU thread");
	CHECK_IS(s->foreign, 0, "no foreign hypercall number delivered");
	CHECK(s->ts_min >= s->t0 && s->ts_max <= s->t1,
	      "timestamps are CLOCK_MONOTONIC, inside the phase");
	if (s->strict_order)
		CHECK_IS(s->order, 0, "each vCPU's records oldest first");
	else if (s->order)
		diag("%s: %llu records came after a newer one of their vCPU "
		     "(allowed while draining concurrently)", phase,
		     (unsigned long long)s->order);
}

/* pollable() - whether the channel's descriptor polls readable right now */
static int pollable(void)
{
	struct pollfd p = { .fd = kvm_chan_fd(g.chan), .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* inst_file() - path of @file in our channel's instance */
static const char *inst_file(const char *file)
{
	static char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", g.inst, file);
	return path;
}

/* test_bad_args() - refusals that need no tracing */
static void test_bad_args(void)
{
	pid_t tids[2] = { g.vcpu_tid[0], 0 };
	struct kvm_chan *c = NULL;
	char err[256];

	is(kvm_chan_open(&c, PROBE_SYSTEM, PROBE_EVENT, tids, 0, err, sizeof(err)),
	   -EINVAL, "open refuses zero vCPU threads");
	is(kvm_chan_open(&c, PROBE_SYSTEM, PROBE_EVENT, tids, 2, err, sizeof(err)),
	   -EINVAL, "open refuses a tid of 0");
	is(kvm_chan_open(&c, PROBE_SYSTEM, PROBE_EVENT, NULL, 1, err, sizeof(err)),
	   -EINVAL, "open refuses a NULL tid list");
	is(kvm_chan_open(NULL, PROBE_SYSTEM, PROBE_EVENT, tids, 1, err, sizeof(err)),
	   -EINVAL, "open refuses a NULL result pointer");
	is(kvm_chan_open(&c, PROBE_SYSTEM, "no_such_event", tids, 1, err,
			 sizeof(err)), -ENOENT, "open: missing event is -ENOENT");
	ok(strstr(err, "no_such_event") != NULL, "the error names the event");
	is(kvm_chan_open(&c, "sched", "sched_switch", tids, 1, err, sizeof(err)),
	   -EPROTO, "open: an event without nr/a0..a3 is -EPROTO");
	ok(c == NULL, "no channel after failed opens");
	kvm_chan_close(NULL);
}

/* test_exists() - a leftover instance of our name is refused, not reused */
static void test_exists(void)
{
	struct kvm_chan *c = NULL;
	char err[512];

	if (mkdir(g.inst, 0750))
		bail("mkdir %s: %s", g.inst, strerror(errno));
	is(kvm_chan_open(&c, PROBE_SYSTEM, PROBE_EVENT, g.vcpu_tid, NVCPU, err,
			 sizeof(err)), -EEXIST, "a leftover instance is -EEXIST");
	ok(strstr(err, "rmdir") != NULL, "the error says how to remove it");
	if (rmdir(g.inst))
		bail("rmdir %s: %s", g.inst, strerror(errno));
}

/* test_many_tids() - too many vCPUs for a pid filter: nr-only, still opens */
static void test_many_tids(void)
{
	static pid_t tids[KVM_CHAN_MAX_TIDS + 1];
	char err[512], buf[4096], path[sizeof(g.inst) + 128];
	struct kvm_chan *c = NULL;
	unsigned int i;
	int ret;

	for (i = 0; i <= KVM_CHAN_MAX_TIDS; i++)
		tids[i] = 1000000 + i;
	is(kvm_chan_open(&c, PROBE_SYSTEM, PROBE_EVENT, tids,
			 KVM_CHAN_MAX_TIDS + 1, err, sizeof(err)), -EINVAL,
	   "open refuses more than KVM_CHAN_MAX_TIDS threads");
	ret = kvm_chan_open(&c, PROBE_SYSTEM, PROBE_EVENT, tids, 512, err,
			    sizeof(err));
	is(ret, 0, "512 vCPU threads open");
	if (ret)
		return;
	/* the third successful open of this process */
	snprintf(path, sizeof(path), "%s-2/events/%s/%s/filter", g.inst,
		 PROBE_SYSTEM, PROBE_EVENT);
	ok(!read_small(path, buf, sizeof(buf)) && strstr(buf, "0x48540002") &&
	   !strstr(buf, "common_pid"),
	   "a pid list too long for the kernel filter leaves the nr filter");
	kvm_chan_close(c);
}

/* setup() - find tracefs, fake_vcpu and the probe offset; register the uprobe */
static void setup(void)
{
	char self[PATH_MAX], path[PATH_MAX * 2], probe[PATH_MAX * 2];
	const char *env = getenv("HT_FAKE_VCPU"), *tdir;
	uint64_t elf_off = 0, maps_off = 0;
	char *slash;
	ssize_t n;
	int lock, ret;

	if (geteuid() != 0)
		skip_all("needs root (tracefs instances and uprobe events)");
	tdir = tracefs_tracing_dir();	/* mounts tracefs if it can */
	if (!tdir)
		skip_all("tracefs is not mounted and cannot be mounted");
	snprintf(g.tdir, sizeof(g.tdir), "%s", tdir);
	snprintf(path, sizeof(path), "%s/uprobe_events", g.tdir);
	if (access(path, W_OK))
		skip_all("kernel has no uprobe events (CONFIG_UPROBE_EVENTS)");
	snprintf(g.inst, sizeof(g.inst), "%s/instances/hypertrace-%d", g.tdir,
		 (int)getpid());

	if (env && *env) {
		snprintf(path, sizeof(path), "%s", env);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			bail("readlink /proc/self/exe: %s", strerror(errno));
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		snprintf(path, sizeof(path), "%s/fake_vcpu", self);
	}
	if (!realpath(path, g.fake) || access(g.fake, X_OK))
		bail("no fake_vcpu at %s (build it, or set HT_FAKE_VCPU)", path);

	/* one user of the hypertrace/kvm_hypercall uprobe at a time */
	lock = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX))
		bail("lock %s: %s", LOCK_FILE, strerror(errno));

	ret = elf_func_offset(g.fake, PROBE_SYM, &elf_off);
	if (ret)
		bail("%s: no function %s in its symbol table", g.fake, PROBE_SYM);
	start_child(&maps_off);
	is(elf_off, maps_off,
	   "probe offset from the ELF symbol table = offset from /proc/self/maps");

	/* a probe left by a crashed run would point at another file */
	ret = remove_probe();
	if (ret && ret != -ENOENT)
		bail("cannot remove a stale %s/%s uprobe: %s", PROBE_SYSTEM,
		     PROBE_EVENT, strerror(-ret));
	snprintf(probe, sizeof(probe),
		 "p:%s/%s %s:0x%llx nr=%%ax:u64 a0=%%bx:u64 a1=%%cx:u64 "
		 "a2=%%dx:u64 a3=%%si:u64", PROBE_SYSTEM, PROBE_EVENT, g.fake,
		 (unsigned long long)elf_off);
	snprintf(path, sizeof(path), "%s/uprobe_events", g.tdir);
	ret = write_file(path, probe, O_APPEND);
	if (ret)
		bail("cannot register uprobe '%s': %s", probe, strerror(-ret));
	g.probe_added = true;
	diag("uprobe: %s", probe);
}

/* main() - run the phases */
int main(void)
{
	static struct seen s;
	struct seen2 s2 = { 0 };
	char err[512], buf[4096], inst2[sizeof(g.inst) + 8];
	long n2;
	uint64_t f0, m0, total, t_start = now_ns();
	struct pollfd p[2];
	bool done;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(600);	/* last resort against a hang; the waits have timeouts */
	setup();
	test_bad_args();
	test_exists();

	ret = kvm_chan_open(&g.chan, PROBE_SYSTEM, PROBE_EVENT, g.vcpu_tid, NVCPU,
			    err, sizeof(err));
	if (!ok(ret == 0 && g.chan && kvm_chan_fd(g.chan) >= 0,
		"channel opened on " PROBE_SYSTEM "/" PROBE_EVENT ", with a pollable descriptor"))
		bail("kvm_chan_open: %s (%s)", ret ? err : "no descriptor", strerror(-ret));
	ok(access(g.inst, F_OK) == 0, "private instance hypertrace-<pid> exists");
	ok(!read_small(inst_file("tracing_on"), buf, sizeof(buf)) &&
	   buf[0] == '1', "tracing_on is 1 in the instance");
	ok(!read_small(inst_file("trace_clock"), buf, sizeof(buf)) &&
	   strstr(buf, "[mono]"), "the instance's trace clock is mono");
	ok(!read_small(inst_file("events/" PROBE_SYSTEM "/" PROBE_EVENT "/filter"),
		       buf, sizeof(buf)) && strstr(buf, "0x48540001") &&
	   strstr(buf, "common_pid"), "kernel filter on nr and the vCPU pids");
	diag("kernel filter: %.*s", (int)strcspn(buf, "\n"), buf);
	ok(!read_small(inst_file("set_event"), buf, sizeof(buf)) &&
	   !strcmp(buf, PROBE_SYSTEM ":" PROBE_EVENT "\n"),
	   "only the one event is enabled in the instance");
	ok(kvm_chan_fd(g.chan) >= 0, "the channel has a pollable descriptor");
	ok(!pollable(), "descriptor not readable before any event");
	is(kvm_chan_poll(g.chan, on_rec, &s), 0, "empty poll delivers nothing");

	/* a second channel (another VM) on vCPU 0 alone, beside the first */
	ret = kvm_chan_open(&g.chan2, PROBE_SYSTEM, PROBE_EVENT, g.vcpu_tid, 1,
			    err, sizeof(err));
	is(ret, 0, "a second channel opens beside the first");
	if (ret)
		bail("second kvm_chan_open: %s", err);
	snprintf(inst2, sizeof(inst2), "%s-1", g.inst);
	ok(access(inst2, F_OK) == 0, "it has its own instance hypertrace-<pid>-1");

	/* 1: kernel filter on, drained after the emitters finished */
	begin(&s, 0, P1_N, true);
	command("emit %lu %lu\n", P1_N, P1_F);
	wait_done();
	s.t1 = now_ns();
	ok(pollable(), "phase 1: descriptor readable once events are buffered");
	total = drain(&s);
	check_complete(&s, "phase 1");
	is(total, (uint64_t)NVCPU * P1_N, "phase 1: poll returned the delivered count");
	is(kvm_chan_filtered(g.chan), 0,
	   "phase 1: kernel filter kept foreign numbers and the other thread out");
	is(kvm_chan_missed(g.chan), 0, "phase 1: nothing missed");
	ok(!pollable(), "phase 1: descriptor not readable after draining");
	while ((n2 = kvm_chan_poll(g.chan2, on_rec2, &s2)) > 0)
		;
	is(n2, 0, "second channel drains without error");
	is(s2.n, P1_N, "second channel: all of vCPU 0's records");
	is(s2.wrong, 0, "second channel: nothing of the other vCPUs");
	is(kvm_chan_missed(g.chan2) + kvm_chan_filtered(g.chan2), 0,
	   "second channel: nothing missed or filtered");
	kvm_chan_close(g.chan2);
	g.chan2 = NULL;
	ok(access(inst2, F_OK) != 0, "second channel's instance removed on close");

	/* 2: drained concurrently with the emitters */
	begin(&s, P1_N, P2_N, false);
	command("emit %lu %lu\n", P2_N, 0);
	p[0] = (struct pollfd){ .fd = kvm_chan_fd(g.chan), .events = POLLIN };
	ret = poll(p, 1, LINE_TIMEOUT_MS);
	ok(ret == 1 && (p[0].revents & POLLIN),
	   "phase 2: a blocking poll(2) on the descriptor wakes up for events");
	diag("phase 2: woke %.3f ms after the command", (now_ns() - s.t0) / 1e6);
	done = false;
	while (!done) {
		p[0] = (struct pollfd){ .fd = g.from_child, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = kvm_chan_fd(g.chan), .events = POLLIN };
		if (poll(p, 2, LINE_TIMEOUT_MS) <= 0)
			bail("phase 2: nothing happened for %d ms", LINE_TIMEOUT_MS);
		if (kvm_chan_poll(g.chan, on_rec, &s) < 0)
			bail("phase 2: kvm_chan_poll failed");
		if (p[0].revents) {
			wait_done();
			done = true;
		}
	}
	s.t1 = now_ns();
	drain(&s);
	check_complete(&s, "phase 2");
	is(kvm_chan_filtered(g.chan), 0, "phase 2: nothing filtered in user space");
	is(kvm_chan_missed(g.chan), 0, "phase 2: nothing missed");

	/* 3: kernel filter removed: the user-space check alone */
	if (write_file(inst_file("events/" PROBE_SYSTEM "/" PROBE_EVENT "/filter"),
		       "0", O_TRUNC))
		bail("cannot clear the instance's filter");
	f0 = kvm_chan_filtered(g.chan);
	begin(&s, P1_N + P2_N, P3_N, true);
	command("emit %lu %lu\n", P3_N, P3_F);
	wait_done();
	s.t1 = now_ns();
	drain(&s);
	check_complete(&s, "phase 3 (no kernel filter)");
	is(kvm_chan_filtered(g.chan) - f0,
	   (uint64_t)NOTHER * P3_N + (uint64_t)NTHR * P3_F,
	   "phase 3: the other thread's records and every foreign number were "
	   "filtered in user space");
	is(kvm_chan_missed(g.chan), 0, "phase 3: nothing missed");

	/* 4: a buffer far too small: loss is counted, never silent */
	if (write_file(inst_file("buffer_size_kb"), "8", O_TRUNC))
		bail("cannot shrink the instance's buffer");
	f0 = kvm_chan_filtered(g.chan);
	m0 = kvm_chan_missed(g.chan);
	begin(&s, P1_N + P2_N + P3_N, P4_N, true);
	command("emit %lu %lu\n", P4_N, 0);
	wait_done();
	s.t1 = now_ns();
	total = drain(&s);
	ok(kvm_chan_missed(g.chan) > m0, "phase 4: overflow shows as missed events");
	is(total + (kvm_chan_filtered(g.chan) - f0) + (kvm_chan_missed(g.chan) - m0),
	   (uint64_t)NTHR * P4_N, "phase 4: delivered + filtered + missed = emitted");
	is(s.dup + s.bad_words + s.bad_nr + s.range + s.non_vcpu + s.foreign +
	   s.order, 0, "phase 4: what did arrive is intact, unique and in order");
	diag("phase 4: delivered %llu, filtered %llu, missed %llu of %u",
	     (unsigned long long)total,
	     (unsigned long long)(kvm_chan_filtered(g.chan) - f0),
	     (unsigned long long)(kvm_chan_missed(g.chan) - m0), NTHR * P4_N);

	/* 5: close leaves nothing behind */
	kvm_chan_close(g.chan);
	g.chan = NULL;
	ok(access(g.inst, F_OK) != 0, "close removed the instance");
	test_many_tids();
	stop_child();
	ret = remove_probe();
	is(ret, 0, "the uprobe is not busy after close (event disabled)");
	if (!ret)
		g.probe_added = false;
	diag("took %.2f s", (now_ns() - t_start) / 1e9);
	cleanup();
	return done_testing();
}

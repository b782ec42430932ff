// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector run: launch QEMU with what the trace needs, record
 * every channel into the trace file until the guest powers off, panics,
 * hangs or QEMU exits, and say which it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "chan_kvm.h"
#include "collector.h"
#include "meta.h"
#include "symbols.h"

#define RING_BATCH	4096	/* records per ring chunk */
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define PORT_BATCH	1024	/* records per doorbell read */

enum accel { ACCEL_AUTO, ACCEL_KVM, ACCEL_TCG };

#define RUN_HELP	(-1)	/* parse_run_opts(): --help was printed */

/**
 * struct run_opts - what the command line asked for
 * @output:       trace file
 * @accel:        how to choose the accelerator
 * @kvm_probe_s:  seconds KVM has to deliver the first doorbell record
 * @hang_s:       seconds without guest progress that make a hang
 * @timeout_s:    overall limit, 0 for none
 * @stop_after_boot: quit QEMU once the boot is done
 * @vmlinux:      the kernel's vmlinux, for the metadata
 * @dir_parent:   where the private directory goes
 * @keep_ram:     leave the guest RAM file behind
 * @quiet:        no progress
 * @qemu_argc:    QEMU's command line, as given after --
 * @qemu_argv:
 */
struct run_opts {
	const char *output;
	enum accel accel;
	double kvm_probe_s;
	double hang_s;
	double timeout_s;
	bool stop_after_boot;
	const char *vmlinux;
	const char *dir_parent;
	bool keep_ram;
	bool quiet;
	const char *hc_system;
	const char *hc_event;
	int qemu_argc;
	char **qemu_argv;
};

/**
 * struct run - one recording
 * @o:        options
 * @dir:      private 0700 directory for the RAM file and sockets
 * @ram:      guest RAM file
 * @db_path:  doorbell socket
 * @qmp_path: QMP socket
 * @mem_mb:   guest RAM size
 * @accel:    "kvm" or "tcg" (or the user's own choice)
 * @qemu:     QEMU's pid, 0 when not running
 * @pidfd:    pollable handle on QEMU
 * @qemu_status: its wait status once it exited
 * @port:     doorbell channel
 * @qmp:      QMP channel
 * @shm:      guest RAM channel
 * @st:       the boot as seen so far
 * @w:        the trace file
 * @launch_ns: CLOCK_MONOTONIC at launch
 * @synced:   the first doorbell record's arrival was noted (TCG clock sync)
 * @reset:    QMP reported a guest reset
 * @hang:     the watchdog fired
 * @timed_out: --timeout ended the recording
 * @tty:      progress goes to a terminal
 * @last_level: level announced on the last plain progress line
 * @rec:      scratch record buffer
 * @nrec:     records in @rec
 * @attach:   recording a QEMU we did not start (attach): never kill it
 * @kvm:      the hypercall channel (KVM only), NULL when not open
 * @kvm_tried: opening it was attempted
 * @syms:     the kernel's symbols, for messages (may be empty)
 * @probing:  the KVM probe runs: records are held back, not written
 * @held:     records held back during the probe, with their source
 * @held_src:
 * @held_ns:  when each arrived
 * @nheld:    how many
 */
struct run {
	struct run_opts *o;
	bool attach;
	bool probing;
	struct ht_record held[1024];
	uint16_t held_src[1024];
	uint64_t held_ns[1024];
	unsigned int nheld;
	struct kvm_chan *kvm;
	bool kvm_tried;
	struct htr_syms syms;
	char dir[PATH_MAX - 64];
	char ram[PATH_MAX];
	char db_path[PATH_MAX];
	char qmp_path[PATH_MAX];
	unsigned long mem_mb;
	const char *accel;
	pid_t qemu;
	int pidfd;
	int qemu_status;
	struct port_chan port;
	struct qmp_chan qmp;
	struct shmem_chan shm;
	struct boot_state st;
	struct htf_writer w;
	uint64_t launch_ns;
	bool synced;
	bool reset;
	bool hang;
	bool timed_out;
	bool tty;
	int last_level;
	struct ht_record rec[RING_BATCH];
	unsigned int nrec;
};

/* run_usage() - the help text */
static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: hypertrace-collector run [options] -- QEMU-COMMAND...\n\n"
		"Launch QEMU with guest RAM in a shared file, the Hypertrace doorbell on\n"
		"an isa-debugcon socket, QMP and pvpanic, and record the boot into a trace\n"
		"file until the guest powers off, panics, hangs or QEMU exits.\n\n"
		"  -o, --output FILE       trace file (default hypertrace.htf; must not exist)\n"
		"      --accel auto|kvm|tcg  auto: KVM if it really runs this guest, else TCG\n"
		"      --kvm-probe SECONDS  time KVM gets to start the kernel proper (10)\n"
		"      --hang-timeout SECONDS  no guest progress this long is a hang (30)\n"
		"      --timeout SECONDS   stop recording after this long (0: never)\n"
		"      --stop-after-boot   quit QEMU once the kernel's boot is done\n"
		"      --vmlinux FILE      the guest kernel's vmlinux: build-id, symbol names\n"
		"      --hypercall-event SYSTEM:EVENT  tracepoint of KVM hypercalls\n"
		"                          (kvm:kvm_hypercall)\n"
		"      --dir DIR           parent of the private directory ($TMPDIR or /tmp)\n"
		"      --keep-ram          keep the guest RAM file (it holds guest secrets)\n"
		"  -q, --quiet             no progress line\n"
		"  -h, --help              this text\n\n"
		"Exit status: 0 boot completed; 1 collector error; 2 usage error; 3 guest\n"
		"panic; 4 guest hang; 5 guest crash (QEMU died, the guest reset, or it\n"
		"stopped before its boot finished); 6 the kernel reported nothing after\n"
		"the setup code (booted with hypertrace=off, or a kernel without the\n"
		"Hypertrace series).\n");
}

/* parse_seconds() - a non-negative number of seconds; 0 or -1 */
static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v < 0 || v > 86400 * 365)
		return -1;
	*out = v;
	return 0;
}

/* parse_run_opts() - fill @o from the command line; 0, or an exit status */
static int parse_run_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "accel", required_argument, NULL, 'A' },
		{ "kvm-probe", required_argument, NULL, 'P' },
		{ "hang-timeout", required_argument, NULL, 'H' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "stop-after-boot", no_argument, NULL, 'S' },
		{ "vmlinux", required_argument, NULL, 'V' },
		{ "dir", required_argument, NULL, 'D' },
		{ "keep-ram", no_argument, NULL, 'K' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "hypercall-event", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char hc[256];
	int c;

	memset(o, 0, sizeof(*o));
	o->hc_system = "kvm";
	o->hc_event = "kvm_hypercall";
	o->output = "hypertrace.htf";
	o->kvm_probe_s = 10;
	o->hang_s = 30;
	o->dir_parent = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	while ((c = getopt_long(argc, argv, "+o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->output = optarg;
			break;
		case 'A':
			if (!strcmp(optarg, "auto"))
				o->accel = ACCEL_AUTO;
			else if (!strcmp(optarg, "kvm"))
				o->accel = ACCEL_KVM;
			else if (!strcmp(optarg, "tcg"))
				o->accel = ACCEL_TCG;
			else
				goto bad_value;
			break;
		case 'P':
			if (parse_seconds(optarg, &o->kvm_probe_s))
				goto bad_value;
			break;
		case 'H':
			if (parse_seconds(optarg, &o->hang_s) || o->hang_s == 0)
				goto bad_value;
			break;
		case 'T':
			if (parse_seconds(optarg, &o->timeout_s))
				goto bad_value;
			break;
		case 'S':
			o->stop_after_boot = true;
			break;
		case 'V':
			o->vmlinux = optarg;
			break;
		case 'D':
			o->dir_parent = optarg;
			break;
		case 'K':
			o->keep_ram = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'E':
			snprintf(hc, sizeof(hc), "%s", optarg);
			if (!strchr(hc, ':') || strchr(hc, ':') == hc || !strchr(hc, ':')[1])
				goto bad_value;
			*strchr(hc, ':') = '\0';
			o->hc_system = hc;
			o->hc_event = hc + strlen(hc) + 1;
			break;
		case 'h':
			run_usage(stdout);
			return RUN_HELP;
		default:
			run_usage(stderr);
			return HTR_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		coll_err("run: no QEMU command line; give it after --\n");
		return HTR_EXIT_USAGE;
	}
	o->qemu_argc = argc - optind;
	o->qemu_argv = argv + optind;
	return 0;

bad_value:
	coll_err("run: invalid value '%s'\n", optarg);
	return HTR_EXIT_USAGE;
}

/* has_arg() - whether QEMU's command line already has option @opt */
static bool has_arg(const struct run_opts *o, const char *opt)
{
	int i;

	for (i = 1; i < o->qemu_argc; i++)
		if (!strcmp(o->qemu_argv[i], opt))
			return true;
	return false;
}

/*
 * guest_mem_mb() - the guest's RAM size from -m (QEMU's default 128 MiB);
 * 0 when it cannot be read (then the user is told to write -m SIZE)
 */
static unsigned long guest_mem_mb(const struct run_opts *o)
{
	unsigned long long v = 128;
	const char *s = NULL;
	char *end;
	int i;

	for (i = 1; i + 1 < o->qemu_argc; i++)
		if (!strcmp(o->qemu_argv[i], "-m"))
			s = o->qemu_argv[i + 1];
	if (!s)
		return v;
	if (!strncmp(s, "size=", 5))
		s += 5;
	v = strtoull(s, &end, 10);
	if (end == s)
		return 0;
	if (*end == 'G' || *end == 'g')
		v *= 1024, end++;
	else if (*end == 'M' || *end == 'm')
		end++;
	if (*end && *end != ',')
		return 0;
	return v;
}

/* trace_json() - append a JSON chunk (and free @obj) */
static void trace_json(struct run *r, enum htf_kind kind, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);

	if (text) {
		htf_append(&r->w, kind, 0, now_ns(), text, strlen(text));
		free(text);
	}
	json_decref(obj);
}

/* host_event() - a host-side event into the timeline */
static void host_event(struct run *r, const char *name, json_t *extra)
{
	json_t *o = extra ? extra : json_object();

	json_object_set_new(o, "event", json_string(name));
	json_object_set_new(o, "host_ns", json_integer((json_int_t)now_ns()));
	trace_json(r, HTF_HOST_EVENT, o);
}

/* build_argv() - QEMU's command line plus what the trace needs */
static char **build_argv(struct run *r, const char *accel)
{
	const struct run_opts *o = r->o;
	char **av = calloc(o->qemu_argc + 24, sizeof(*av));
	char buf[PATH_MAX + 128];
	int n = 0, i;

	if (!av)
		return NULL;
	for (i = 0; i < o->qemu_argc; i++)
		av[n++] = strdup(o->qemu_argv[i]);
	if (accel) {
		av[n++] = strdup("-accel");
		av[n++] = strdup(accel);
	}
	snprintf(buf, sizeof(buf),
		 "memory-backend-file,id=ht-ram,size=%luM,mem-path=%s,share=on",
		 r->mem_mb, r->ram);
	av[n++] = strdup("-object");
	av[n++] = strdup(buf);
	av[n++] = strdup("-machine");
	av[n++] = strdup("memory-backend=ht-ram");
	snprintf(buf, sizeof(buf), "socket,id=ht-db,path=%s", r->db_path);
	av[n++] = strdup("-chardev");
	av[n++] = strdup(buf);
	snprintf(buf, sizeof(buf), "isa-debugcon,iobase=%#x,chardev=ht-db", HT_PORT);
	av[n++] = strdup("-device");
	av[n++] = strdup(buf);
	snprintf(buf, sizeof(buf), "socket,id=ht-qmp,path=%s", r->qmp_path);
	av[n++] = strdup("-chardev");
	av[n++] = strdup(buf);
	av[n++] = strdup("-mon");
	av[n++] = strdup("chardev=ht-qmp,mode=control");
	if (!has_arg(o, "-action")) {
		/* keep the evidence: a panicked guest stays put until we stop it */
		av[n++] = strdup("-action");
		av[n++] = strdup("panic=pause");
	}
	av[n++] = strdup("-device");
	av[n++] = strdup("pvpanic");
	for (i = 0; i < n; i++)
		if (!av[i])
			return NULL;	/* out of memory: the process is ending */
	return av;
}

/* free_argv() - undo build_argv() */
static void free_argv(char **av)
{
	char **p;

	for (p = av; p && *p; p++)
		free(*p);
	free(av);
}

/* launch() - start QEMU with @accel (NULL: the user's own); 0 or -errno */
static int launch(struct run *r, const char *accel)
{
	char **av;
	int err;

	unlink(r->ram);
	unlink(r->db_path);
	unlink(r->qmp_path);
	err = port_listen(&r->port, r->db_path);
	if (err)
		return err;
	err = qmp_listen(&r->qmp, r->qmp_path);
	if (err)
		goto out_close_port;
	av = build_argv(r, accel);
	if (!av) {
		err = -ENOMEM;
		goto out_close_qmp;
	}
	r->launch_ns = now_ns();
	r->qemu = fork();
	if (r->qemu < 0) {
		err = -errno;
		goto out_free_argv;
	}
	if (r->qemu == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, STDIN_FILENO);
		umask(077);
		execvp(av[0], av);
		fprintf(stderr, "hypertrace-collector: cannot run %s: %s\n", av[0],
			strerror(errno));
		_exit(127);
	}
	r->pidfd = (int)syscall(SYS_pidfd_open, r->qemu, 0);
	r->accel = accel ? accel : "as given";
	free_argv(av);
	return 0;

out_free_argv:
	free_argv(av);
out_close_qmp:
	qmp_close(&r->qmp);
out_close_port:
	port_close(&r->port);
	return err;
}

/* reap() - collect QEMU's exit status if it has ended; true if it has */
static bool reap(struct run *r)
{
	int status;

	if (r->attach) {
		/* not our child: gone when its pid is, or when QMP closed */
		if (r->qemu > 0 && kill(r->qemu, 0) < 0 && errno == ESRCH)
			r->qemu = 0;
		return !r->qemu || r->qmp.fd < 0;
	}
	if (!r->qemu)
		return true;
	if (waitpid(r->qemu, &status, WNOHANG) != r->qemu)
		return false;
	r->qemu_status = status;
	r->qemu = 0;
	if (r->pidfd >= 0)
		close(r->pidfd);
	r->pidfd = -1;
	return true;
}

/* stop_qemu() - ask QEMU to quit, then insist */
static void stop_qemu(struct run *r)
{
	int i;

	if (r->attach) {
		/* someone else's VM: pause it to keep the evidence, then leave */
		qmp_command(&r->qmp, "stop");
		r->qemu = 0;
		return;
	}
	if (!r->qemu)
		return;
	qmp_command(&r->qmp, "quit");
	for (i = 0; i < 50 && !reap(r); i++)
		usleep(20000);
	if (r->qemu) {
		kill(r->qemu, SIGKILL);
		waitpid(r->qemu, &r->qemu_status, 0);
		r->qemu = 0;
	}
}

/*
 * put_records() - write @n records of @src that arrived at @t, or hold
 * them back while the KVM probe decides whether this run counts
 */
static void put_records(struct run *r, enum htf_source src, uint64_t t,
			const struct ht_record *rec, unsigned int n)
{
	unsigned int i;

	if (!r->probing) {
		htf_append(&r->w, HTF_RECORDS, src, t, rec, n * HT_RECORD_SIZE);
		return;
	}
	for (i = 0; i < n && r->nheld < ARRAY_SIZE(r->held); i++) {
		r->held[r->nheld] = rec[i];
		r->held_src[r->nheld] = src;
		r->held_ns[r->nheld++] = t;
	}
}

/* put_held() - the probe succeeded: write what it held back */
static void put_held(struct run *r)
{
	unsigned int i;

	r->probing = false;
	for (i = 0; i < r->nheld; i++)
		put_records(r, r->held_src[i], r->held_ns[i], &r->held[i], 1);
	r->nheld = 0;
}

/* flush_records() - write buffered records as one chunk of @src */
static void flush_records(struct run *r, enum htf_source src)
{
	if (!r->nrec)
		return;
	put_records(r, src, now_ns(), r->rec, r->nrec);
	boot_state_feed(&r->st, r->rec, r->nrec, false, now_ns());
	r->nrec = 0;
}

/* ring_rec() - drain callback: buffer, flush when full */
static int ring_rec(void *ctx, const struct ht_record *rec, unsigned int ring)
{
	struct run *r = ctx;

	(void)ring;
	r->rec[r->nrec++] = *rec;
	if (r->nrec == RING_BATCH)
		flush_records(r, HTF_SRC_RING);
	return 0;
}

/* drain_rings() - everything the rings hold now; records drained */
static long drain_rings(struct run *r)
{
	long n;

	if (!r->shm.found)
		return 0;
	n = htr_area_drain(&r->shm.area, ring_rec, r);
	flush_records(r, HTF_SRC_RING);
	return n;
}

/* read_doorbell() - records that came through the port; records read */
static long read_doorbell(struct run *r)
{
	struct ht_record rec[PORT_BATCH];
	long n, total = 0;
	json_t *o;

	while ((n = port_read(&r->port, rec, PORT_BATCH)) > 0) {
		uint64_t t = now_ns();

		put_records(r, HTF_SRC_PORT, t, rec, n);
		boot_state_feed(&r->st, rec, n, true, t);
		if (!r->synced && !r->probing) {
			/* under TCG the guest clock is placed by arrival */
			o = json_object();
			json_object_set_new(o, "guest_tsc", json_integer((json_int_t)rec[0].tsc));
			json_object_set_new(o, "method", json_string("doorbell-arrival"));
			host_event(r, "clock_sync", o);
			r->synced = true;
		}
		total += n;
	}
	if (n == -ECONNRESET && r->port.fd >= 0) {
		close(r->port.fd);
		r->port.fd = -1;
	}
	return total;
}

/* on_hypercall() - a record KVM traced; a batch kick drains the rings */
static void on_hypercall(void *ctx, const struct ht_record *rec,
			 unsigned long nr, pid_t tid, uint64_t ts_ns)
{
	struct run *r = ctx;

	(void)tid;
	if (nr == HT_HC_RECORD) {
		put_records(r, HTF_SRC_HYPERCALL, ts_ns, rec, 1);
		boot_state_feed(&r->st, rec, 1, true, now_ns());
	} else {
		r->st.last_progress = now_ns();
	}
}

/*
 * poll_hypercalls() - under KVM, open the hypercall channel once QMP has
 * named the vCPU threads, then read it; records read
 */
static long poll_hypercalls(struct run *r)
{
	char err[256];
	long n;

	if (!r->accel || strcmp(r->accel, "kvm"))
		return 0;
	if (!r->kvm && !r->kvm_tried && r->qmp.ntids) {
		r->kvm_tried = true;
		if (kvm_chan_open(&r->kvm, r->o->hc_system, r->o->hc_event, r->qmp.tids,
				  r->qmp.ntids, err, sizeof(err)) < 0) {
			json_t *o = json_object();

			json_object_set_new(o, "error", json_string(err));
			host_event(r, "hypercall_channel_unavailable", o);
			if (!r->o->quiet)
				coll_err("no hypercall channel (%s); the rings and the port "
					 "still record\n", err);
			r->kvm = NULL;
		}
	}
	if (!r->kvm)
		return 0;
	n = kvm_chan_poll(r->kvm, on_hypercall, r);
	return n > 0 ? n : 0;
}

/* on_qmp_event() - note a QMP event in the trace and in the verdict */
static void on_qmp_event(void *ctx, const char *event, const char *json)
{
	struct run *r = ctx;
	json_error_t jerr;
	json_t *o = json_loads(json, 0, &jerr);

	if (!strcmp(event, "RESET") || (!strcmp(event, "SHUTDOWN") && strstr(json, "guest-reset")))
		r->reset = true;
	host_event(r, "qmp", o ? o : json_object());
}

/* locate_area() - open the control area once the guest announced it */
static void locate_area(struct run *r)
{
	if (r->shm.found)
		return;
	if (!r->shm.map && shmem_open(&r->shm, r->ram))
		return;
	if (r->st.b.area_gpa)
		shmem_locate(&r->shm, r->st.b.area_gpa);
	else if (now_ns() - r->shm.last_scan > 2000000000ULL)
		shmem_scan(&r->shm);
}

static const char *sym(struct run *r, uint64_t addr, char *buf, size_t len);

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

/* progress() - the one updating line on a terminal, or plain lines */
static void progress(struct run *r, bool final)
{
	double t = (now_ns() - r->launch_ns) / 1e9;
	uint64_t lost = 0;
	unsigned int i;
	char w[320];

	if (r->o->quiet)
		return;
	if (r->shm.found)
		for (i = 0; i < r->shm.area.ctl.nr_rings; i++)
			lost += r->shm.area.rings[i].lost;
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

/*
 * loop() - poll every channel until QEMU exits, or until @deadline_ns
 * (probe) passes without a doorbell record; returns true if the guest was
 * heard from
 */
static bool loop(struct run *r, uint64_t deadline_ns, bool probing)
{
	uint64_t start = now_ns(), last_progress_line = 0;
	unsigned int idle_ms = 1;
	bool stopping = false;

	for (;;) {
		struct pollfd pfd[3];
		uint64_t t;
		long got = 0;
		int n = 0;

		pfd[n].fd = r->port.fd >= 0 ? r->port.fd : r->port.listen_fd;
		pfd[n++].events = POLLIN;
		pfd[n].fd = r->qmp.fd >= 0 ? r->qmp.fd : r->qmp.listen_fd;
		pfd[n++].events = POLLIN;
		pfd[n].fd = r->pidfd;
		pfd[n++].events = POLLIN;
		poll(pfd, n, idle_ms);

		if (r->port.fd < 0 && r->port.listen_fd >= 0)
			port_accept(&r->port);
		if (r->qmp.fd < 0 && r->qmp.listen_fd >= 0)
			qmp_accept(&r->qmp);
		got += read_doorbell(r);
		if (qmp_read(&r->qmp, on_qmp_event, r) == -ECONNRESET) {
			close(r->qmp.fd);
			r->qmp.fd = -1;
		}
		got += poll_hypercalls(r);
		if (!probing) {
			locate_area(r);
			got += drain_rings(r);
		}
		/* adaptive polling: fast while records flow, 50 ms when idle */
		idle_ms = got ? 1 : (idle_ms * 2 > 50 ? 50 : idle_ms * 2);

		t = now_ns();
		if (probing) {
			/*
			 * Not just any record: on some hosts (PVM) the setup code
			 * and the decompressor run under KVM and then the guest
			 * hangs, so KVM counts as working once the kernel proper
			 * has started.
			 */
			if (r->st.b.kernel_started || r->st.decomp_done)
				return true;
			if (t > deadline_ns || reap(r))
				return false;
			continue;
		}
		if (t - last_progress_line > 100000000ULL) {
			progress(r, false);
			last_progress_line = t;
		}
		if (reap(r))
			break;
		if (stopping)
			continue;
		if (!r->st.b.booted && !r->st.b.panicked &&
		    t - r->st.last_progress > (uint64_t)(r->o->hang_s * 1e9)) {
			json_t *o = json_object();

			json_object_set_new(o, "initcall", json_integer((json_int_t)r->st.b.initcall));
			json_object_set_new(o, "level", json_integer(r->st.b.level));
			json_object_set_new(o, "idle_s", json_real(r->o->hang_s));
			host_event(r, "hang", o);
			r->hang = true;
			stopping = true;
			stop_qemu(r);
			break;
		}
		if ((r->st.b.panicked || r->st.b.oopsed) && !r->st.b.machine_call &&
		    t - r->st.last_progress > 2000000000ULL) {
			/* the guest is stuck in panic (paused): we have it all */
			stopping = true;
			stop_qemu(r);
			break;
		}
		if (r->o->stop_after_boot && r->st.b.booted) {
			stopping = true;
			stop_qemu(r);
			break;
		}
		if (r->o->timeout_s && t - start > (uint64_t)(r->o->timeout_s * 1e9)) {
			host_event(r, "timeout", NULL);
			r->timed_out = true;
			stopping = true;
			stop_qemu(r);
			break;
		}
	}
	return r->st.records > 0;
}

/*
 * tracing_off() - whether the kernel ran with tracing off: it ended on its
 * own and cleanly (QEMU exited 0, no reset, no watchdog), yet nothing from
 * the kernel proper came through any channel
 */
static bool tracing_off(const struct run *r)
{
	return !r->st.b.kernel_started && !r->reset && !r->hang && !r->timed_out &&
	       WIFEXITED(r->qemu_status) && WEXITSTATUS(r->qemu_status) == 0;
}

/*
 * recover_early() - a guest that died before its rings: its early buffer.
 * A kernel booted with hypertrace=off writes its first few events there
 * too, before it reads its command line, and never reports them: those
 * are left out (a host event says how many), so that the trace and the
 * verdict say what the kernel reported: nothing.
 */
static void recover_early(struct run *r)
{
	struct htr_early e;
	json_t *o;

	if (r->shm.found || !r->shm.map || htr_early_find(&e, r->shm.map, r->shm.size))
		return;
	if (e.state != HT_EARLY_ACTIVE || !e.count)
		return;
	if (tracing_off(r)) {
		o = json_object();
		json_object_set_new(o, "records", json_integer(e.count));
		host_event(r, "early_buffer_unreported", o);
		return;
	}
	htf_append(&r->w, HTF_RECORDS, HTF_SRC_EARLY, now_ns(), e.rec,
		   e.count * HT_RECORD_SIZE);
	boot_state_feed(&r->st, e.rec, e.count, false, now_ns());
}

/* final_drain() - after QEMU is gone, everything guest RAM still holds */
static void final_drain(struct run *r)
{
	json_t *o = json_object(), *rings = json_array();
	unsigned int i;

	read_doorbell(r);
	if (!r->shm.map)
		shmem_open(&r->shm, r->ram);
	if (r->shm.map && !r->shm.found) {
		if (r->st.b.area_gpa)
			shmem_locate(&r->shm, r->st.b.area_gpa);
		if (!r->shm.found)
			shmem_scan(&r->shm);
	}
	drain_rings(r);
	recover_early(r);
	if (r->shm.found) {
		for (i = 0; i < r->shm.area.ctl.nr_rings; i++) {
			json_t *ring = json_object();

			json_object_set_new(ring, "lost", json_integer((json_int_t)r->shm.area.rings[i].lost));
			json_object_set_new(ring, "drained", json_integer((json_int_t)r->shm.area.rings[i].drained));
			json_object_set_new(ring, "protocol_errors", json_integer((json_int_t)r->shm.area.rings[i].errors));
			json_array_append_new(rings, ring);
		}
		json_object_set_new(o, "orphans", json_integer((json_int_t)htr_area_orphans(&r->shm.area)));
	}
	json_object_set_new(o, "rings", rings);
	if (r->kvm) {
		poll_hypercalls(r);
		json_object_set_new(o, "hypercall_missed", json_integer((json_int_t)kvm_chan_missed(r->kvm)));
		json_object_set_new(o, "hypercall_filtered", json_integer((json_int_t)kvm_chan_filtered(r->kvm)));
		kvm_chan_close(r->kvm);
		r->kvm = NULL;
	}
	json_object_set_new(o, "doorbell_bytes", json_integer((json_int_t)r->port.bytes));
	json_object_set_new(o, "doorbell_flooded", json_boolean(r->port.flooded));
	trace_json(r, HTF_LOSS, o);
}

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

/* verdict() - what the boot came to (htr_boot_verdict()) and a one-line reason */
static enum htr_verdict verdict(struct run *r, char *why, size_t len)
{
	const struct htr_boot *b = &r->st.b;
	struct htr_host_facts host = {
		.hang = r->hang, .reset = r->reset, .ended = !r->timed_out,
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
		snprintf(why, len, "the kernel reported nothing after the setup code: "
			 "booted with hypertrace=off, or a kernel without the "
			 "Hypertrace series");
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
			snprintf(why, len, "guest reset (triple fault?) before its boot finished");
		else
			snprintf(why, len, "QEMU exited (status %d) before the boot finished, "
				 "%s", status, where(r, s, sizeof(s)));
		break;
	}
	return v;
}

/* finish() - last drain, the verdict into the trace and on stderr; exit status */
static int finish(struct run *r)
{
	char why[HT_STR_MAX + 256];
	json_t *e = json_object();
	enum htr_verdict v;
	int ret;

	final_drain(r);
	progress(r, true);
	v = verdict(r, why, sizeof(why));
	ret = htr_verdict_exit(v);
	json_object_set_new(e, "exit_status", json_integer(ret));
	json_object_set_new(e, "verdict", json_string(htr_verdict_name(v)));
	json_object_set_new(e, "reason", json_string(why));
	trace_json(r, HTF_END, e);
	if (!r->o->quiet || ret)
		fprintf(stderr, "hypertrace-collector: %s; trace in %s\n", why,
			r->o->output);
	return ret;
}

/* write_metadata() - the trace's first words on what it recorded */
static void write_metadata(struct run *r)
{
	json_t *o = json_object(), *av = json_array();
	char buf[256], id[128];
	const char *kernel = NULL;
	int i;

	for (i = 0; i < r->o->qemu_argc; i++) {
		json_array_append_new(av, json_string(r->o->qemu_argv[i]));
		if (!strcmp(r->o->qemu_argv[i], "-kernel") && i + 1 < r->o->qemu_argc)
			kernel = r->o->qemu_argv[i + 1];
	}
	json_object_set_new(o, "tool", json_string("hypertrace-collector"));
	json_object_set_new(o, "abi_version", json_integer(HT_ABI_VERSION));
	json_object_set_new(o, "qemu_argv", av);
	json_object_set_new(o, "accel", json_string(r->accel));
	json_object_set_new(o, "guest_ram_mb", json_integer((json_int_t)r->mem_mb));
	if (kernel)
		json_object_set_new(o, "kernel", json_string(kernel));
	if (r->o->vmlinux) {
		json_object_set_new(o, "vmlinux", json_string(r->o->vmlinux));
		if (!meta_build_id(r->o->vmlinux, id, sizeof(id)))
			json_object_set_new(o, "vmlinux_build_id", json_string(id));
	}
	meta_cpu_model(buf, sizeof(buf));
	json_object_set_new(o, "host_cpu", json_string(buf));
	json_object_set_new(o, "host_tsc_khz", json_integer((json_int_t)meta_tsc_khz()));
	json_object_set_new(o, "launch_mono_ns", json_integer((json_int_t)r->launch_ns));
	json_object_set_new(o, "launch_realtime_ns",
			    json_integer((json_int_t)(realtime_ns() - (now_ns() - r->launch_ns))));
	trace_json(r, HTF_METADATA, o);
}

/* kvm_usable() - /dev/kvm exists and opens; the real test is the probe */
static bool kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* start_guest() - launch, under KVM if it really runs the guest; 0 or exit status */
static int start_guest(struct run *r)
{
	bool try_kvm = r->o->accel == ACCEL_KVM ||
		       (r->o->accel == ACCEL_AUTO && kvm_usable());
	int err;

	if (has_arg(r->o, "-accel") || has_arg(r->o, "-enable-kvm")) {
		err = launch(r, NULL);
		goto out_launched;
	}
	if (try_kvm) {
		r->probing = true;
		err = launch(r, "kvm");
		if (err)
			goto out_launched;
		if (loop(r, now_ns() + (uint64_t)(r->o->kvm_probe_s * 1e9), true)) {
			put_held(r);
			goto out_launched;
		}
		/* start again from nothing: new RAM file, new channels */
		r->probing = false;
		r->nheld = 0;
		stop_qemu(r);
		if (r->kvm) {
			kvm_chan_close(r->kvm);
			r->kvm = NULL;
		}
		r->kvm_tried = false;
		shmem_close(&r->shm);
		port_close(&r->port);
		qmp_close(&r->qmp);
		boot_state_free(&r->st);
		if (boot_state_init(&r->st))
			return HTR_EXIT_ERROR;
		if (r->o->accel == ACCEL_KVM) {
			coll_err("the guest did not reach its kernel proper under KVM within %.0f s\n",
				 r->o->kvm_probe_s);
			return HTR_EXIT_ERROR;
		}
		if (!r->o->quiet)
			fprintf(stderr, "hypertrace-collector: under KVM the guest did not "
				"reach its kernel proper within %.0f s (%s; this host's KVM "
				"cannot run it); using TCG\n", r->o->kvm_probe_s,
				r->st.records ? "it stopped after the setup code or the "
				"decompressor" : "not a single record");
	}
	err = launch(r, "tcg");
out_launched:
	if (err) {
		coll_err("cannot launch QEMU: %s\n", strerror(-err));
		return HTR_EXIT_ERROR;
	}
	if (!r->o->quiet)
		fprintf(stderr, "hypertrace-collector: QEMU running (%s), RAM in %s\n",
			r->accel, r->dir);
	return 0;
}

/* cmd_run() - hypertrace-collector run */
int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct run *r;
	int ret, err;

	ret = parse_run_opts(argc, argv, &o);
	if (ret == RUN_HELP)
		return HTR_EXIT_BOOTED;
	if (ret)
		return ret;
	r = calloc(1, sizeof(*r));
	if (!r) {
		coll_err("out of memory\n");
		return HTR_EXIT_ERROR;
	}
	r->o = &o;
	r->pidfd = -1;
	r->shm.fd = -1;
	r->last_level = -2;
	r->tty = isatty(STDERR_FILENO);
	r->mem_mb = guest_mem_mb(&o);
	if (o.vmlinux && htr_syms_load_elf(&r->syms, o.vmlinux) && !o.quiet)
		coll_err("cannot read symbols from %s; addresses stay numbers\n", o.vmlinux);
	ret = HTR_EXIT_ERROR;
	if (!r->mem_mb) {
		coll_err("run: cannot read the guest's RAM size from -m; write -m SIZE[M|G]\n");
		ret = HTR_EXIT_USAGE;
		goto out_free;
	}
	if (boot_state_init(&r->st)) {
		coll_err("out of memory\n");
		goto out_free;
	}
	snprintf(r->dir, sizeof(r->dir), "%s/hypertrace-XXXXXX", o.dir_parent);
	if (!mkdtemp(r->dir)) {
		coll_err("cannot create a private directory in %s: %s\n", o.dir_parent,
			 strerror(errno));
		goto out_state;
	}
	snprintf(r->ram, sizeof(r->ram), "%s/ram", r->dir);
	snprintf(r->db_path, sizeof(r->db_path), "%s/doorbell.sock", r->dir);
	snprintf(r->qmp_path, sizeof(r->qmp_path), "%s/qmp.sock", r->dir);
	err = htf_create(&r->w, o.output);
	if (err) {
		coll_err("cannot create the trace file %s: %s\n", o.output, strerror(-err));
		goto out_rmdir;
	}
	ret = start_guest(r);
	if (ret)
		goto out_close_trace;
	write_metadata(r);
	host_event(r, "launch", NULL);
	loop(r, 0, false);
	if (r->qemu)
		stop_qemu(r);
	{
		json_t *e = json_object();

		json_object_set_new(e, "status", json_integer(r->qemu_status));
		host_event(r, "qemu_exit", e);
	}
	ret = finish(r);

out_close_trace:
	if (r->w.error)
		coll_err("writing %s failed: %s\n", o.output, strerror(r->w.error));
	if (htf_close(&r->w) && !ret)
		ret = HTR_EXIT_ERROR;
	if (r->qemu)
		stop_qemu(r);
	shmem_close(&r->shm);
	port_close(&r->port);
	qmp_close(&r->qmp);
	if (!o.keep_ram)
		unlink(r->ram);
	unlink(r->db_path);
	unlink(r->qmp_path);
out_rmdir:
	if (!o.keep_ram)
		rmdir(r->dir);
out_state:
	boot_state_free(&r->st);
out_free:
	htr_syms_free(&r->syms);
	free(r);
	return ret;
}

/* attach_usage() - the help text of attach */
static void attach_usage(FILE *f)
{
	fprintf(f,
		"usage: hypertrace-collector attach [options] --qmp SOCKET --ram FILE\n\n"
		"Record a VM that is already running (a libvirt-managed guest, say) whose\n"
		"RAM is a shared memory-backend-file and whose QMP socket listens at\n"
		"SOCKET.  Recording ends when QEMU exits or closes QMP; a hang pauses the\n"
		"VM (QMP stop) rather than killing it.\n\n"
		"  -o, --output FILE       trace file (default hypertrace.htf; must not exist)\n"
		"      --qmp SOCKET        QEMU's QMP socket (server mode)\n"
		"      --ram FILE          the guest RAM file (memory-backend-file,share=on)\n"
		"      --doorbell SOCKET   isa-debugcon chardev socket in server mode, if any\n"
		"      --pid PID           QEMU's pid, to notice its exit\n"
		"      --hang-timeout SECONDS  (30)   --timeout SECONDS  (0: never)\n"
		"      --vmlinux FILE      the guest kernel's vmlinux, for the metadata\n"
		"  -q, --quiet             no progress line\n\n"
		"Exit status: as for run.\n");
}

/* cmd_attach() - hypertrace-collector attach */
int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "qmp", required_argument, NULL, 'Q' },
		{ "ram", required_argument, NULL, 'R' },
		{ "doorbell", required_argument, NULL, 'B' },
		{ "pid", required_argument, NULL, 'p' },
		{ "hang-timeout", required_argument, NULL, 'H' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "vmlinux", required_argument, NULL, 'V' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *qmp = NULL, *ram = NULL, *db = NULL;
	struct run_opts o = { .output = "hypertrace.htf", .hang_s = 30 };
	struct run *r;
	long pid = 0;
	int c, err, ret = HTR_EXIT_ERROR;

	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.output = optarg;
			break;
		case 'Q':
			qmp = optarg;
			break;
		case 'R':
			ram = optarg;
			break;
		case 'B':
			db = optarg;
			break;
		case 'p':
			pid = strtol(optarg, NULL, 10);
			if (pid <= 0)
				goto bad_value;
			break;
		case 'H':
			if (parse_seconds(optarg, &o.hang_s) || o.hang_s == 0)
				goto bad_value;
			break;
		case 'T':
			if (parse_seconds(optarg, &o.timeout_s))
				goto bad_value;
			break;
		case 'V':
			o.vmlinux = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			attach_usage(stdout);
			return HTR_EXIT_BOOTED;
		default:
			attach_usage(stderr);
			return HTR_EXIT_USAGE;
		}
	}
	if (!qmp || !ram || optind != argc) {
		coll_err("attach: --qmp and --ram are required, and nothing else\n");
		attach_usage(stderr);
		return HTR_EXIT_USAGE;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return HTR_EXIT_ERROR;
	r->o = &o;
	r->attach = true;
	r->qemu = (pid_t)pid;
	r->pidfd = -1;
	r->accel = "attached";
	r->last_level = -2;
	r->tty = isatty(STDERR_FILENO);
	if (o.vmlinux && htr_syms_load_elf(&r->syms, o.vmlinux) && !o.quiet)
		coll_err("cannot read symbols from %s; addresses stay numbers\n", o.vmlinux);
	r->port.listen_fd = r->port.fd = -1;
	r->qmp.listen_fd = r->qmp.fd = -1;
	r->launch_ns = now_ns();
	snprintf(r->ram, sizeof(r->ram), "%s", ram);
	if (boot_state_init(&r->st))
		goto out_free;
	err = shmem_open(&r->shm, ram);
	if (err) {
		coll_err("attach: cannot map %s: %s\n", ram, strerror(-err));
		goto out_state;
	}
	r->mem_mb = r->shm.size >> 20;
	err = qmp_connect(&r->qmp, qmp);
	if (err) {
		coll_err("attach: cannot connect to QMP at %s: %s\n", qmp, strerror(-err));
		goto out_shmem;
	}
	if (db) {
		r->port.fd = unix_connect(db);
		if (r->port.fd < 0) {
			coll_err("attach: cannot connect to the doorbell at %s: %s\n", db,
				 strerror(-r->port.fd));
			goto out_qmp;
		}
		fcntl(r->port.fd, F_SETFL, O_NONBLOCK);
	}
	err = htf_create(&r->w, o.output);
	if (err) {
		coll_err("cannot create the trace file %s: %s\n", o.output, strerror(-err));
		goto out_qmp;
	}
	if (!r->qemu)
		r->qemu = -1;	/* unknown pid: QMP closing is the end */
	write_metadata(r);
	host_event(r, "attach", NULL);
	loop(r, 0, false);
	ret = finish(r);
	if (htf_close(&r->w) && !ret)
		ret = HTR_EXIT_ERROR;
out_qmp:
	qmp_close(&r->qmp);
	port_close(&r->port);
out_shmem:
	shmem_close(&r->shm);
out_state:
	boot_state_free(&r->st);
out_free:
	htr_syms_free(&r->syms);
	free(r);
	return ret;

bad_value:
	coll_err("attach: invalid value '%s'\n", optarg);
	return HTR_EXIT_USAGE;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: recording.  Poll every channel (the doorbell, QMP,
 * the hypercall channel, the rings in guest RAM) into the trace file until
 * QEMU is gone or a watchdog stops it; then drain what guest RAM still
 * holds, and write the verdict.  Shared by run and attach.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chan_kvm.h"
#include "meta.h"
#include "record.h"

#define PORT_BATCH		1024	/* records per doorbell read */
#define PANIC_SETTLE_NS		2000000000ULL	/* quiet after a panic: it is all in */
#define SCAN_EVERY_NS		2000000000ULL	/* look for the control area this often */
#define PROGRESS_EVERY_NS	100000000ULL	/* progress line refresh */
#define IDLE_MAX_MS		50	/* slowest polling, when nothing comes */

/* a SIGINT, SIGTERM or SIGHUP asked the recording to end (the next one kills) */
static volatile sig_atomic_t stop_signal;

/* on_stop_signal() - note the signal; the record loop ends the recording */
static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

/* catch_stop_signals() - end a recording cleanly on the first stop signal */
static void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = SA_RESETHAND;	/* a second one kills, as before */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/**
 * record_new() - a recording with no channel open yet
 * @o:      the options (kept, not copied)
 * @attach: recording a QEMU someone else started
 *
 * Loads --vmlinux's symbols for the messages (a failure only means
 * addresses stay numbers).
 *
 * Return: the recording, or NULL after saying why.
 */
struct run *record_new(struct run_opts *o, bool attach)
{
	struct run *r = calloc(1, sizeof(*r));

	if (!r || boot_state_init(&r->st)) {
		free(r);
		coll_err("out of memory\n");
		return NULL;
	}
	r->o = o;
	r->attach = attach;
	r->pidfd = -1;
	r->shm.fd = -1;
	r->last_level = -2;
	r->tty = isatty(STDERR_FILENO);
	if (o->vmlinux && htr_syms_load_elf(&r->syms, o->vmlinux) && !o->quiet)
		coll_err("cannot read symbols from %s; addresses stay numbers\n", o->vmlinux);
	sched_start(r);
	catch_stop_signals();
	return r;
}

/* close_channels() - close every channel the recording has open */
static void close_channels(struct run *r)
{
	clock_close(r);
	sched_close(r);
	hint_close(r);
	kvm_chan_close(r->kvm);
	r->kvm = NULL;
	r->kvm_tried = false;
	shmem_close(&r->shm);
	port_close(r->port);
	r->port = NULL;
	qmp_close(r->qmp);
	r->qmp = NULL;
}

/**
 * record_free() - close the channels and free the recording
 * @r: the recording, or NULL (QEMU must be gone or left alone already)
 */
void record_free(struct run *r)
{
	if (!r)
		return;
	close_channels(r);
	boot_state_free(&r->st);
	htr_syms_free(&r->syms);
	free(r);
}

/**
 * record_restart() - forget a failed KVM probe: its channels, its held
 * records and what it saw of the boot
 * @r: the recording (QEMU stopped)
 *
 * Return: 0 or an HTR_E_* code (out of memory).
 */
int record_restart(struct run *r)
{
	r->probing = false;
	r->nheld = 0;
	r->held_dropped = 0;
	r->nclk = 0;
	close_channels(r);
	boot_state_free(&r->st);
	return boot_state_init(&r->st);
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

/**
 * host_event() - a host-side event into the timeline
 * @r:     the recording
 * @name:  the event's name ("launch", "qmp", "hang"...)
 * @extra: more members for it (consumed), or NULL
 */
void host_event(struct run *r, const char *name, json_t *extra)
{
	json_t *o = extra ? extra : json_object();

	json_object_set_new(o, "event", json_string(name));
	json_object_set_new(o, "host_ns", json_integer((json_int_t)now_ns()));
	trace_json(r, HTF_HOST_EVENT, o);
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
	for (i = 0; i < n && r->nheld < HELD_MAX; i++) {
		r->held[r->nheld] = rec[i];
		r->held_src[r->nheld] = src;
		r->held_ns[r->nheld++] = t;
	}
	r->held_dropped += n - i;
}

/**
 * record_release_held() - the probe succeeded: write what it held back,
 * one chunk per drain it came from (the same source and arrival time)
 * @r: the recording
 */
void record_release_held(struct run *r)
{
	unsigned int i, j;

	r->probing = false;
	for (i = 0; i < r->nheld; i = j) {
		for (j = i + 1; j < r->nheld; j++)
			if (r->held_src[j] != r->held_src[i] || r->held_ns[j] != r->held_ns[i])
				break;
		put_records(r, r->held_src[i], r->held_ns[i], &r->held[i], j - i);
	}
	r->nheld = 0;
	clock_flush(r);
}

/* flush_records() - write buffered ring records as one chunk */
static void flush_records(struct run *r)
{
	if (!r->nrec)
		return;
	put_records(r, HTF_SRC_RING, now_ns(), r->rec, r->nrec);
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
		flush_records(r);
	return 0;
}

/* drain_rings() - everything the rings hold now; records drained */
static long drain_rings(struct run *r)
{
	long n;

	if (!r->shm.found)
		return 0;
	n = htr_area_drain(&r->shm.area, ring_rec, r);
	flush_records(r);
	return n;
}

/* read_doorbell() - records that came through the port; records read */
static long read_doorbell(struct run *r)
{
	struct ht_record rec[PORT_BATCH];
	long n, i, total = 0;

	while ((n = port_read(r->port, rec, PORT_BATCH)) > 0) {
		uint64_t t = now_ns();

		put_records(r, HTF_SRC_PORT, t, rec, n);
		boot_state_feed(&r->st, rec, n, true, t);
		for (i = 0; i < n; i++)
			clock_add(r, &rec[i], t, HTF_CLOCK_DOORBELL);
		total += n;
	}
	clock_flush(r);
	return total;
}

/* flush_hypercalls() - write the hypercall records of this poll as one chunk */
static void flush_hypercalls(struct run *r)
{
	unsigned int i;

	if (!r->nhc)
		return;
	put_records(r, HTF_SRC_HYPERCALL, r->hc_ns[0], r->hc, r->nhc);
	boot_state_feed(&r->st, r->hc, r->nhc, true, now_ns());
	for (i = 0; i < r->nhc; i++)
		clock_add(r, &r->hc[i], r->hc_ns[i], HTF_CLOCK_HYPERCALL);
	clock_flush(r);
	r->nhc = 0;
}

/* on_hypercall() - a record KVM traced (buffered); a batch kick is progress */
static void on_hypercall(void *ctx, const struct ht_record *rec,
			 unsigned long nr, pid_t tid, uint64_t ts_ns)
{
	struct run *r = ctx;

	(void)tid;
	if (nr != HT_HC_RECORD) {
		r->st.last_progress = now_ns();
		return;
	}
	r->hc[r->nhc] = *rec;
	r->hc_ns[r->nhc++] = ts_ns;
	if (r->nhc == HC_BATCH)
		flush_hypercalls(r);
}

/* open_hypercalls() - the hypercall channel, once QMP named the vCPU threads */
static void open_hypercalls(struct run *r)
{
	const pid_t *tids;
	unsigned int ntids = qmp_vcpu_tids(r->qmp, &tids);
	char err[256];
	json_t *o;

	if (r->kvm || r->kvm_tried || !ntids)
		return;
	r->kvm_tried = true;
	if (!kvm_chan_open(&r->kvm, r->o->hc_system, r->o->hc_event, tids, ntids,
			   err, sizeof(err)))
		return;
	r->kvm = NULL;
	o = json_object();
	json_object_set_new(o, "error", json_string(err));
	host_event(r, "hypercall_channel_unavailable", o);
	if (!r->o->quiet)
		coll_err("no hypercall channel (%s); the rings and the port still record\n",
			 err);
}

/* poll_hypercalls() - under KVM, what the hypercall channel has; records read */
static long poll_hypercalls(struct run *r)
{
	long n;

	if (!r->accel || strcmp(r->accel, "kvm"))
		return 0;
	open_hypercalls(r);
	if (!r->kvm)
		return 0;
	n = kvm_chan_poll(r->kvm, on_hypercall, r);
	flush_hypercalls(r);
	return n > 0 ? n : 0;
}

/**
 * record_qmp_event() - note a QMP event in the trace and in the verdict
 * @ctx:   the recording
 * @event: the event's name
 * @json:  the whole message
 */
void record_qmp_event(void *ctx, const char *event, const char *json)
{
	struct run *r = ctx;
	json_error_t jerr;
	json_t *o = json_loads(json, 0, &jerr);

	if (!strcmp(event, "RESET") || (!strcmp(event, "SHUTDOWN") && strstr(json, "guest-reset")))
		r->reset = true;
	if (!strcmp(event, "SHUTDOWN"))
		r->shutdown = true;
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
	else if (now_ns() - r->shm.last_scan > SCAN_EVERY_NS)
		shmem_scan(&r->shm);
}

/*
 * poll_channels() - wait up to @wait_ms for any channel, then read them
 * all (the rings too unless @probing); records read
 */
static long poll_channels(struct run *r, unsigned int wait_ms, bool probing)
{
	struct pollfd pfd[3] = {
		{ .fd = port_fd(r->port), .events = POLLIN },
		{ .fd = qmp_fd(r->qmp), .events = POLLIN },
		{ .fd = r->pidfd, .events = POLLIN },
	};
	long got = 0;

	poll(pfd, 3, wait_ms);
	got += read_doorbell(r);
	qmp_read(r->qmp, record_qmp_event, r);
	got += poll_hypercalls(r);
	if (!probing) {
		locate_area(r);
		got += drain_rings(r);
		clock_poll_kvm(r);
		sched_poll(r, false);
		hint_poll(r);
	}
	return got;
}

/* hang_event() - the watchdog fired: say where, in the trace */
static void hang_event(struct run *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "initcall", json_integer((json_int_t)r->st.b.initcall));
	json_object_set_new(o, "level", json_integer(r->st.b.level));
	json_object_set_new(o, "phase", json_integer(htr_boot_phase(&r->st.b)));
	json_object_set_new(o, "idle_s", json_real(r->o->hang_s));
	host_event(r, "hang", o);
	r->hang = true;
}

/*
 * should_stop() - whether the recording is over though QEMU still runs:
 * a hang, a guest stuck in panic, --stop-after-boot, --timeout
 */
static bool should_stop(struct run *r, uint64_t start, uint64_t t)
{
	const struct htr_boot *b = &r->st.b;

	/* --vmcore's -action shutdown=pause: QEMU waits for us to quit it */
	if (r->o->vmcore && r->shutdown)
		return true;
	/*
	 * a replay has no watchdog: QEMU's log decides where it goes (it
	 * cannot hang where the recording did not), at a pace of its own
	 * (parts of a boot replay many times slower than they ran)
	 */
	if (!b->booted && !b->panicked && r->o->rr != RR_REPLAY &&
	    t - r->st.last_progress > (uint64_t)(r->o->hang_s * 1e9)) {
		hang_event(r);
		return true;
	}
	/* a guest stuck in panic (paused): we have it all */
	if ((b->panicked || b->oopsed) && !b->machine_call &&
	    t - r->st.last_progress > PANIC_SETTLE_NS)
		return true;
	if (r->o->stop_after_boot && b->booted)
		return true;
	if (stop_signal) {
		json_t *o = json_object();

		json_object_set_new(o, "signal", json_string(strsignal(stop_signal)));
		host_event(r, "stopped_by_signal", o);
		r->timed_out = true;
		return true;
	}
	if (r->o->timeout_s && t - start > (uint64_t)(r->o->timeout_s * 1e9)) {
		host_event(r, "timeout", NULL);
		r->timed_out = true;
		return true;
	}
	return false;
}

/* next_wait() - adaptive polling: fast while records flow, slower when idle */
static unsigned int next_wait(unsigned int ms, long got)
{
	if (got)
		return 1;
	return ms * 2 > IDLE_MAX_MS ? IDLE_MAX_MS : ms * 2;
}

/**
 * record_loop() - record until QEMU is gone, or stop it when the recording
 * is over (a hang, a panic that settled, --stop-after-boot, --timeout)
 * @r: the recording, QEMU running
 */
void record_loop(struct run *r)
{
	uint64_t start = now_ns(), last_line = 0, t;
	unsigned int wait_ms = 1;
	long got;

	for (;;) {
		got = poll_channels(r, wait_ms, false);
		wait_ms = next_wait(wait_ms, got);
		t = now_ns();
		if (t - last_line > PROGRESS_EVERY_NS) {
			record_progress(r, false);
			last_line = t;
		}
		if (qemu_reap(r))
			return;
		if (should_stop(r, start, t)) {
			forensics_take(r);
			qemu_stop(r);
			return;
		}
	}
}

/**
 * record_probe() - whether the guest reaches its kernel proper before
 * @deadline_ns; records are held back meanwhile, the rings not read
 * @r:           the recording, QEMU running under KVM
 * @deadline_ns: CLOCK_MONOTONIC limit
 *
 * Not just any record: on some hosts (PVM) the setup code and the
 * decompressor run under KVM and then the guest hangs.
 *
 * Return: true if the kernel proper started (or the decompressor finished:
 * the kernel's own records may travel by hypercall), false at the
 * deadline or when QEMU exited.
 */
bool record_probe(struct run *r, uint64_t deadline_ns)
{
	unsigned int wait_ms = 1;

	for (;;) {
		wait_ms = next_wait(wait_ms, poll_channels(r, wait_ms, true));
		if (r->st.b.kernel_started || r->st.decomp_done)
			return true;
		if (now_ns() > deadline_ns || qemu_reap(r))
			return false;
	}
}

/*
 * recover_early() - a guest that died before its rings: its early buffer
 * (a kernel booted with hypertrace=off leaves its first few events there
 * too, written before it read its command line; htr_boot_verdict() calls
 * such a boot silent, as the rings never came up)
 */
static void recover_early(struct run *r)
{
	struct htr_early e;

	if (r->shm.found || !r->shm.map || htr_early_find(&e, r->shm.map, r->shm.size))
		return;
	if (e.state != HT_EARLY_ACTIVE || !e.count)
		return;
	htf_append(&r->w, HTF_RECORDS, HTF_SRC_EARLY, now_ns(), e.rec,
		   e.count * HT_RECORD_SIZE);
	boot_state_feed(&r->st, e.rec, e.count, false, now_ns());
}

/* loss_rings() - the per-ring counters and the orphans into @o */
static void loss_rings(struct run *r, json_t *o)
{
	json_t *rings = json_array();
	unsigned int i;

	if (r->shm.found) {
		for (i = 0; i < r->shm.area.ctl.nr_rings; i++) {
			const struct htr_ring *g = &r->shm.area.rings[i];
			json_t *ring = json_object();

			json_object_set_new(ring, "lost", json_integer((json_int_t)g->lost));
			json_object_set_new(ring, "drained", json_integer((json_int_t)g->drained));
			json_object_set_new(ring, "protocol_errors", json_integer((json_int_t)g->errors));
			json_object_set_new(ring, "skipped", json_integer((json_int_t)g->skipped));
			json_array_append_new(rings, ring);
		}
		json_object_set_new(o, "orphans",
				    json_integer((json_int_t)htr_area_orphans(&r->shm.area)));
	}
	json_object_set_new(o, "rings", rings);
}

/* final_drain() - after QEMU is gone, everything guest RAM still holds */
static void final_drain(struct run *r)
{
	json_t *o = json_object();

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
	loss_rings(r, o);
	if (r->kvm) {
		poll_hypercalls(r);
		json_object_set_new(o, "hypercall_missed", json_integer((json_int_t)kvm_chan_missed(r->kvm)));
		json_object_set_new(o, "hypercall_filtered", json_integer((json_int_t)kvm_chan_filtered(r->kvm)));
		kvm_chan_close(r->kvm);
		r->kvm = NULL;
	}
	sched_finish(r, o);
	json_object_set_new(o, "probe_dropped", json_integer((json_int_t)r->held_dropped));
	json_object_set_new(o, "doorbell_bytes", json_integer((json_int_t)port_bytes(r->port)));
	json_object_set_new(o, "doorbell_flooded", json_boolean(port_flooded(r->port)));
	trace_json(r, HTF_LOSS, o);
}

/**
 * record_finish() - the final drain, then the verdict into the trace and
 * on stderr
 * @r: the recording, QEMU gone (or left alone, under attach)
 *
 * Return: the exit status (htr_verdict_exit()).
 */
int record_finish(struct run *r)
{
	char why[HT_STR_MAX + 512];
	json_t *e = json_object();
	enum htr_verdict v;
	int ret;

	final_drain(r);
	record_log(r);
	record_progress(r, true);
	v = record_verdict(r, why, sizeof(why));
	ret = htr_verdict_exit(v);
	json_object_set_new(e, "exit_status", json_integer(ret));
	json_object_set_new(e, "verdict", json_string(htr_verdict_name(v)));
	json_object_set_new(e, "reason", json_string(why));
	if (r->vmcore_taken)
		json_object_set_new(e, "vmcore", json_string(r->vmcore));
	trace_json(r, HTF_END, e);
	if (!r->o->quiet || ret)
		fprintf(stderr, "hypertrace-collector: %s; trace in %s\n", why,
			r->o->output);
	if (r->vmcore_taken)
		fprintf(stderr, "hypertrace-collector: vmcore in %s\n", r->vmcore);
	else if (r->vmcore_err[0])
		fprintf(stderr, "hypertrace-collector: no vmcore (%s): %s\n", r->vmcore,
			r->vmcore_err);
	return ret;
}

/**
 * record_metadata() - the trace's first words on what it recorded
 * @r: the recording, QEMU launched (or attached to)
 */
void record_metadata(struct run *r)
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
	/* what the times are: real (host-paced) or QEMU's virtual icount time */
	json_object_set_new(o, "clock", json_string(r->icount ? "icount" : "real"));
	if (r->icount)
		json_object_set_new(o, "icount", json_string(r->icount));
	/* QEMU's record/replay: this boot was recorded into, or replayed from, a log */
	if (r->o->rr != RR_NONE) {
		json_object_set_new(o, "rr", json_string(r->o->rr == RR_RECORD ? "record" : "replay"));
		json_object_set_new(o, "rrfile", json_string(r->o->rrfile));
	}
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

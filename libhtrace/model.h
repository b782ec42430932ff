/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libhtrace: the one model of a recorded boot.
 *
 * model_load_mem() reads a collector trace once, front to back: the
 * metadata, every record from every source (the rings and the early
 * buffer, the port and hypercall doorbells), the clock samples, the loss
 * counters and the collector's verdict.  Doorbell copies of ring records
 * are dropped there, exactly, by identity (CPU, sequence number and TSC).
 * From the events in time order it derives the phases, boot levels,
 * initcalls, shutdown steps, markers and the failure, with the same
 * htr_boot rules the collector used live (libhtrace/boot.h).  Every
 * hypertrace subcommand and the collector's verdict use this model.
 *
 * Times in the model are nanoseconds since QEMU was launched when the
 * trace ties the guest TSC to the host's clock (@launch_ns is then QEMU's
 * start-up, from the launch to the guest TSC's zero at VM reset), else
 * since the guest TSC's zero (@launch_ns is 0).  Under QEMU's instruction
 * counting (@icount) they are virtual: since the guest TSC's zero, paced
 * by the instructions the guest ran, not by the host.
 */
#ifndef _HTRACE_MODEL_H
#define _HTRACE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "events.h"
#include "model_graph.h"
#include "printk.h"
#include "symbols.h"

/**
 * struct span - something that began and ended (or never ended)
 * @name:     what it was (a phase, a function, a device); in the model's
 *            string pool
 * @kind:     for shutdown steps: "phase", "notifier" or "device"
 * @addr:     code address, 0 if none
 * @cpu:      guest CPU it ran on
 * @level:    boot level (initcalls), else -1
 * @start_ns: when it began
 * @dur_ns:   how long it took; 0 with @open
 * @ret:      what it returned (initcalls, notifiers)
 * @open:     it never ended
 * @stolen_ns: while it was open, the time its vCPU's host thread was
 *            runnable but not running (preempted, or woken and waiting):
 *            from the host scheduler's events, 0 without them
 * @migrations: the host CPU changes of its vCPU's thread while it was open
 * @idle_ns:  while it was open, the time its CPU idled (IDLE_BEGIN/END:
 *            waited for a timer or a device, executed nothing); 0 without
 *            idle records
 */
struct span {
	const char *name;
	const char *kind;
	uint64_t addr;
	unsigned int cpu;
	int level;
	uint64_t start_ns;
	uint64_t dur_ns;
	int64_t ret;
	bool open;
	uint64_t stolen_ns;
	unsigned int migrations;
	uint64_t idle_ns;
};

/**
 * struct model_block - a block of the model's string pool
 * @next: the block before
 * @used: bytes of @data taken
 * @size: bytes in @data
 * @data: NUL-terminated strings, one after another
 */
struct model_block {
	struct model_block *next;
	size_t used;
	size_t size;
	char data[];
};

/**
 * struct model_problem - a warning, BUG, oops or panic the guest reported
 * @type:        HT_EV_WARN, HT_EV_BUG, HT_EV_OOPS or HT_EV_PANIC
 * @kind:        "warning", "bug", "oops" or "panic"
 * @at_ns:       when, on the model's clock
 * @cpu:         the guest CPU that reported it
 * @initcall:    the initcall running then (a panic names it), NULL if none
 * @where:       where the boot was: initcall and level, or phase and level
 * @message:     what it said: the panic or oops message, or for a warning
 *               and a BUG the source file (@line says where in it)
 * @line:        source line of a warning or BUG, 0 if none
 * @ip:          the code address it names (a warning's caller, a BUG's
 *               address, an oops's instruction pointer), 0 if none
 * @error:       an oops's error code
 * @frames:      its backtrace's return addresses, innermost first
 * @nframes:     how many of @frames arrived
 * @frames_sent: how many the guest said it sent (more than @nframes: lost)
 *
 * The strings are in the model's string pool.
 */
struct model_problem {
	unsigned int type;
	const char *kind;
	uint64_t at_ns;
	unsigned int cpu;
	const char *initcall;
	const char *where;
	const char *message;
	uint64_t line;
	uint64_t ip;
	uint64_t error;
	uint64_t frames[HT_BT_MAX_FRAMES];
	unsigned int nframes;
	unsigned int frames_sent;
};

/**
 * struct model_problems - the failure chain: every problem, in order
 * @p:       the problems
 * @nr:      how many
 * @alloc:   room
 * @pending: 1 + the index of the problem whose frames are arriving, 0 if none
 * @stray:   backtrace records that matched no problem (a lost head)
 */
struct model_problems {
	struct model_problem *p;
	size_t nr;
	size_t alloc;
	size_t pending;
	uint64_t stray;
};

#define MODEL_MAX_VCPUS		64	/* vCPUs of a vcpu_state kept */

/**
 * struct model_vcpu - where one vCPU was when the collector stopped the
 * failed guest (QEMU's "info registers")
 * @cpu:    QEMU's cpu-index
 * @ip:     its instruction pointer; 0 when @error says why there is none
 * @halted: it waited in hlt for an interrupt
 * @cpl:    its privilege level (0: the kernel)
 * @error:  why QEMU's answer had no instruction pointer, "" if it had
 */
struct model_vcpu {
	unsigned int cpu;
	uint64_t ip;
	bool halted;
	unsigned int cpl;
	char error[96];
};

/**
 * struct model_forensics - what the collector took of a failed guest
 * before it stopped QEMU (libhtrace/model_vcpus.c)
 * @has_vcpus:    the trace has a vcpu_state host event
 * @vcpu:         each vCPU's state, in QEMU's order
 * @nvcpus:       how many
 * @vcpus_error:  why QEMU named no vCPUs, "" if none
 * @has_vmcore:   the trace has a vmcore host event (--vmcore)
 * @vmcore:       the vmcore's path as the collector wrote it, "" if none
 * @vmcore_bytes: its size
 * @vmcore_ms:    how long QEMU took to write it
 * @vmcoreinfo:   it carries the guest's VMCOREINFO note
 * @vmcoreinfo_how: where that came from ("qemu": the guest handed it to
 *                QEMU; or from guest RAM, added by the collector), or
 *                why it is missing
 * @vmcore_error: why there is no vmcore, "" if there is
 */
struct model_forensics {
	bool has_vcpus;
	struct model_vcpu vcpu[MODEL_MAX_VCPUS];
	unsigned int nvcpus;
	char vcpus_error[96];
	bool has_vmcore;
	char vmcore[4096];
	uint64_t vmcore_bytes;
	uint64_t vmcore_ms;
	bool vmcoreinfo;
	char vmcoreinfo_how[128];
	char vmcore_error[256];
};

/**
 * struct span_list - a growable list of spans
 * @s:     the spans
 * @nr:    how many
 * @alloc: room
 */
struct span_list {
	struct span *s;
	size_t nr;
	size_t alloc;
};

/**
 * struct model_loss - records that did not reach the trace, by cause
 * @ring_lost:  the guest found its ring full (the rings' lost counters)
 * @orphans:    records of CPUs without a ring (the orphan counter)
 * @skipped:    ring records the collector skipped after a protocol error
 * @probe:      records the collector dropped while it probed KVM
 * @seq_gaps:   records missing according to the sequence numbers
 * @bad:        records rejected by the decoder (bad type, CPU, stray part)
 * @torn_bytes: bytes of a torn tail dropped from the trace file
 * @torn_reason: why they were dropped (static string), or NULL
 */
struct model_loss {
	uint64_t ring_lost;
	uint64_t orphans;
	uint64_t skipped;
	uint64_t probe;
	uint64_t seq_gaps;
	uint64_t bad;
	uint64_t torn_bytes;
	const char *torn_reason;
};

#define MODEL_SCHED_VCPUS	64	/* vCPUs whose host threads are followed */

/* What a vCPU's host thread was doing (struct model_sched_iv). */
enum model_vcpu_run {
	MODEL_RUN_UNKNOWN = 0,	 /* between a switch away and the next one
				  * with no switch in seen between them */
	MODEL_RUN_RUNNING = 1,	 /* on a host CPU */
	MODEL_RUN_PREEMPTED = 2, /* runnable, not running: switched out in
				  * state R, or woken and not yet running */
	MODEL_RUN_SLEEPING = 3,	 /* blocked: the guest idles in hlt, or QEMU
				  * waits (a lock, I/O) */
};

/**
 * struct model_sched_iv - one interval of a vCPU thread in one state
 * @start_ns: its start, on the model's clock
 * @end_ns:   its end
 * @run:      enum model_vcpu_run
 * @host_cpu: the host CPU it ran on, was queued on or last ran on
 */
struct model_sched_iv {
	uint64_t start_ns;
	uint64_t end_ns;
	unsigned int run;
	unsigned int host_cpu;
};

/**
 * struct model_migration - a vCPU thread moved between host CPUs
 * @at_ns: when, on the model's clock
 * @vcpu:  which vCPU
 * @from:  the host CPU it left
 * @to:    the host CPU it went to
 */
struct model_migration {
	uint64_t at_ns;
	unsigned int vcpu;
	unsigned int from;
	unsigned int to;
};

/**
 * struct model_sched_vcpu - one vCPU's host thread, from the host
 * scheduler's events (libhtrace/model_sched.c)
 * @tid:          the thread
 * @iv:           its intervals, in time order, from its first event to
 *                the trace's end
 * @niv:          how many
 * @alloc:        room
 * @mig:          its migrations, in time order
 * @nmig:         how many
 * @mig_alloc:    room
 * @running_ns:   time in each state, up to the end of the boot (or the
 *                trace's last event when the boot never finished)
 * @preempted_ns: (the same)
 * @sleeping_ns:  (the same)
 * @migrations:   its migrations up to then
 * @missing_in:   switches away from it that had no switch in before them
 *                (the interval before each is MODEL_RUN_UNKNOWN)
 */
struct model_sched_vcpu {
	uint32_t tid;
	struct model_sched_iv *iv;
	size_t niv;
	size_t alloc;
	struct model_migration *mig;
	size_t nmig;
	size_t mig_alloc;
	uint64_t running_ns;
	uint64_t preempted_ns;
	uint64_t sleeping_ns;
	unsigned int migrations;
	uint64_t missing_in;
};

/**
 * struct model_sched - the host's view of the vCPU threads
 * @present:     the trace has host scheduler events (HTF_SCHED)
 * @aligned:     they are on the model's clock: the trace ties the guest
 *               TSC to the host's (real time, clock samples, a launch
 *               time); without it they are loaded but not placed
 * @unavailable: why the collector had no scheduler channel, "" if none
 * @launch_mono_ns: QEMU's launch on the host's CLOCK_MONOTONIC: host time
 *               H is at H - @launch_mono_ns on the model's clock
 * @events:      events read
 * @bad:         events rejected: an unknown kind or state, a vCPU out of
 *               range, a time before QEMU's launch or more than an hour
 *               after it, bytes of a chunk that make no whole event
 * @missed:      events the host's ring buffer lost (LOSS sched_missed)
 * @nvcpus:      1 + the highest vCPU with events
 * @vcpu:        each vCPU's thread
 * @stolen_ns:   all vCPUs' preempted time up to the end of the boot
 * @migrations:  all vCPUs' migrations up to then
 * @guest_events: guest ring events on a CPU whose thread the host followed
 * @guest_not_running: of those, events the clock fit places where the
 *               host says the vCPU's thread was not running (it cannot
 *               have stamped them then): the alignment's error
 * @max_misplaced_ns: the farthest such event from a running interval
 * @missing_in:  all vCPUs' switches away with no switch in before them
 */
struct model_sched {
	bool present;
	bool aligned;
	char unavailable[160];
	uint64_t launch_mono_ns;
	uint64_t events;
	uint64_t bad;
	uint64_t missed;
	unsigned int nvcpus;
	struct model_sched_vcpu vcpu[MODEL_SCHED_VCPUS];
	uint64_t stolen_ns;
	unsigned int migrations;
	uint64_t guest_events;
	uint64_t guest_not_running;
	uint64_t max_misplaced_ns;
	uint64_t missing_in;
};

#define MODEL_CLOCK_CPUS	64	/* CPUs whose clock fit is reported */

/**
 * struct model_clock - how the guest TSC was placed on the host's clock
 * @samples:    clock samples in the trace (HTF_CLOCK, or a legacy clock_sync)
 * @method:     enum htf_clock_method of the samples used, 0 with none
 * @offset_ns:  host CLOCK_MONOTONIC at the guest TSC's zero (the fit)
 * @residual_ns: median distance of the samples above the fit (a doorbell
 *              sample arrives after the guest stamped it)
 * @max_residual_ns: the largest such distance
 * @ncpus:      CPUs in @cpu_offset_ns that had samples
 * @cpu_seen:   which CPUs had samples
 * @cpu_offset_ns: each CPU's own fit, relative to @offset_ns (the skew of
 *              unsynchronized TSCs, as under multi-vCPU TCG)
 */
struct model_clock {
	uint64_t samples;
	unsigned int method;
	uint64_t offset_ns;
	uint64_t residual_ns;
	uint64_t max_residual_ns;
	unsigned int ncpus;
	bool cpu_seen[MODEL_CLOCK_CPUS];
	int64_t cpu_offset_ns[MODEL_CLOCK_CPUS];
};

#define MODEL_ASYNC_MAX		65536	/* async spans kept (the first by start) */

/**
 * struct model_async_span - one async work item: async_run_entry_fn()
 * running the function an async_schedule() call queued
 * @name:     the function's symbol, or its address in hex (model pool)
 * @addr:     the function's address as run
 * @cookie:   the async cookie the kernel gave it
 * @cpu:      the CPU its ASYNC_BEGIN came from
 * @end_cpu:  the CPU its ASYNC_END came from (the worker may move); @cpu
 *            when @open
 * @start_ns: when it began
 * @dur_ns:   how long it took; 0 with @open
 * @open:     it never ended while the trace was recorded
 *
 * Which initcall scheduled it is not in the record, and the model does
 * not say.
 */
struct model_async_span {
	const char *name;
	uint64_t addr;
	uint64_t cookie;
	unsigned int cpu;
	unsigned int end_cpu;
	uint64_t start_ns;
	uint64_t dur_ns;
	bool open;
};

#define MODEL_IDLE_CPUS	64	/* CPUs whose idle time is kept */

/**
 * struct model_idle_iv - a stretch of one CPU's idle loop
 * @start_ns: IDLE_BEGIN
 * @end_ns:   IDLE_END, or the trace's end for a CPU idle to the last
 * @before_ns: the CPU's idle time before @start_ns (a prefix sum, so a
 *            span's idle time costs two binary searches)
 */
struct model_idle_iv {
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t before_ns;
};

/**
 * struct model_idle - the time each CPU idled while the system was not
 * running (libhtrace/model_idle.c)
 * @iv:       every CPU's stretches, CPU by CPU, each CPU's in time order
 * @first:    CPU c's stretches are @iv[@first[c]] to @iv[@first[c + 1]]
 * @nr:       how many
 * @events:   IDLE_BEGIN and IDLE_END events read: with none, the kernel
 *            did not record idling, and no span has idle time
 * @unmatched: ends with no begin before them on their CPU, begins while
 *            their CPU idled already (a lost end), CPUs of 64 or more
 * @cpu_idle_ns: each CPU's idle time up to the end of the boot
 */
struct model_idle {
	struct model_idle_iv *iv;
	size_t first[MODEL_IDLE_CPUS + 1];
	size_t nr;
	uint64_t events;
	uint64_t unmatched;
	uint64_t cpu_idle_ns[MODEL_IDLE_CPUS];
};

#define MODEL_HINT_CPUS		64	/* CPUs whose hints are summed */

/**
 * struct model_hint - one VCPU_PCPU record: the guest saw the host's
 * hint in its ring header change
 * @at_ns:        when: the record that noticed it
 * @cpu:          the guest CPU whose ring header held it
 * @from:         the host CPU the hint named before, -1 when none
 * @to:           the host CPU it names now, -1 when none
 * @run_delay_ns: the vCPU thread's run delay as the host wrote it beside
 */
struct model_hint {
	uint64_t at_ns;
	unsigned int cpu;
	int64_t from;
	int64_t to;
	uint64_t run_delay_ns;
};

/**
 * struct model_hints - what the collector told each vCPU through its ring
 * header (the host CPU its thread ran on, its run delay) as the guest
 * reported it back in VCPU_PCPU records (libhtrace/model_hints.c).  The
 * guest's word about the host's word: shown beside the host's own
 * scheduler events, never used in their place.
 * @written:     the collector said it wrote hints (its vcpu_hints event)
 * @interval_ns: how often it rewrote them, 0 when it did not say
 * @h:           the records, in time order
 * @nr:          how many
 * @migrations:  changes from one named host CPU to another
 * @backwards:   run delays lower than the same CPU's previous one (a
 *               hint is not trusted: those are left out of the sums)
 * @cpu_migrations: each guest CPU's migrations
 * @cpu_run_delay_ns: each guest CPU's growth of the run delay from its
 *               first record to its last
 */
struct model_hints {
	bool written;
	uint64_t interval_ns;
	struct model_hint *h;
	size_t nr;
	unsigned int migrations;
	uint64_t backwards;
	unsigned int cpu_migrations[MODEL_HINT_CPUS];
	uint64_t cpu_run_delay_ns[MODEL_HINT_CPUS];
};

/**
 * struct model_async_wait - one async_synchronize_cookie_domain() call:
 * a task waiting until the async entries below a cookie have run
 * @cookie:   the cookie waited for (ASYNC_COOKIE_MAX-like for "all")
 * @pid:      the waiting task (the boot's thread of control is pid 1)
 * @cpu:      the CPU its ASYNC_WAIT_BEGIN came from
 * @end_cpu:  the CPU its ASYNC_WAIT_END came from; @cpu when @open
 * @start_ns: when it began waiting
 * @dur_ns:   how long it waited; 0 with @open
 * @open:     the wait never ended while the trace was recorded
 */
struct model_async_wait {
	uint64_t cookie;
	uint32_t pid;
	unsigned int cpu;
	unsigned int end_cpu;
	uint64_t start_ns;
	uint64_t dur_ns;
	bool open;
};

/**
 * struct model_async - the boot's async work (libhtrace/model_async.c)
 * @s:          the spans, in time order of their start
 * @nr:         how many (at most MODEL_ASYNC_MAX)
 * @w:          the waits for async work, in time order of their start
 * @nw:         how many (at most MODEL_ASYNC_MAX)
 * @wait_events: ASYNC_WAIT_BEGIN and ASYNC_WAIT_END events read: when
 *              there are any, the kernel records its waits, and the
 *              critical path uses them instead of inferring waits
 * @wait_unmatched: wait ends with no open wait of their task and cookie,
 *              and begins while their task was waiting already
 * @wait_dropped: waits beyond MODEL_ASYNC_MAX (the latest-starting)
 * @events:     ASYNC_BEGIN and ASYNC_END events read
 * @unmatched_ends: ends with no open begin of their cookie (an end
 *              before its begin, a lost begin, a dropped span's end)
 * @duplicate_begins: begins of a cookie whose span was still open: the
 *              second is dropped, the first keeps waiting for its end
 * @fn_mismatches: ends whose function is not their open begin's: not
 *              paired, the begin stays open
 * @dropped:    spans beyond MODEL_ASYNC_MAX (the latest-starting)
 */
struct model_async {
	struct model_async_span *s;
	size_t nr;
	struct model_async_wait *w;
	size_t nw;
	uint64_t wait_events;
	uint64_t wait_unmatched;
	uint64_t wait_dropped;
	uint64_t events;
	uint64_t unmatched_ends;
	uint64_t duplicate_begins;
	uint64_t fn_mismatches;
	uint64_t dropped;
};

/* What a link of the critical path is (struct model_link). */
enum model_link_kind {
	MODEL_LINK_PHASE = 0,	 /* a boot phase (m->phases) */
	MODEL_LINK_INITCALL = 1, /* an initcall (m->initcalls) */
	MODEL_LINK_ASYNC = 2,	 /* async work (m->async) */
	MODEL_LINK_GAP = 3,	 /* untraced code between two steps that
				  * waited for async work */
};

/* Why a link is on the critical path (struct model_link). */
enum model_link_why {
	MODEL_WHY_SEQUENCE = 0,	 /* the next link began when it ended */
	MODEL_WHY_WAITED = 1,	 /* it waited for the async link before it:
				  * a recorded wait (ASYNC_WAIT_*) or, in a
				  * trace without them, the async_synchronize
				  * phase */
	MODEL_WHY_WAITED_INFERRED = 2, /* it took MODEL_WAIT_MIN_NS or more,
				  * an async link ran through half of it
				  * and ended at most MODEL_WAIT_SLACK_NS
				  * before its end */
	MODEL_WHY_ASYNC_BEGAN = 3, /* the async link after it began while it
				  * ran (not: it scheduled it) */
	MODEL_WHY_ASYNC = 4,	 /* async work the next link waited for */
};

#define MODEL_WAIT_SLACK_NS	2000000ULL	/* 2 ms: see libhtrace.rst */
#define MODEL_WAIT_MIN_NS	1000000ULL	/* 1 ms: see libhtrace.rst */
#define MODEL_BOOT_PID		1	/* kernel_init(): the boot's thread of control */

/**
 * struct model_link - one step of the critical path
 * @kind:     enum model_link_kind
 * @why:      enum model_link_why
 * @index:    its span in m->phases, m->initcalls or m->async.s (not for
 *            a gap)
 * @name:     what it was (model pool or static)
 * @cpu:      the CPU it ran on
 * @level:    an initcall's boot level, else -1
 * @start_ns: when it began
 * @dur_ns:   how long it took, up to the end of the path for an open one
 * @open:     it never ended
 * @partial:  only its part up to the next link's start is on the path
 *            (async work began while it ran)
 */
struct model_link {
	unsigned int kind;
	unsigned int why;
	size_t index;
	const char *name;
	unsigned int cpu;
	int level;
	uint64_t start_ns;
	uint64_t dur_ns;
	bool open;
	bool partial;
};

/**
 * struct model_critical - what the end of the boot waited for
 * (libhtrace/model_critical.c; the rule is in Documentation/libhtrace.rst)
 * @l:          the links, in time order (the earliest first)
 * @nr:         how many
 * @end_ns:     where the path ends: the boot's end (BOOT_DONE), else the
 *              trace's last event
 * @boot_done:  @end_ns is BOOT_DONE
 * @on_path_ns: the time in [0, @end_ns] the links cover (overlaps once)
 * @async_ns:   of it, the async links' time
 * @waits:      links that waited for async work (certain or inferred)
 * @recorded:   the kernel recorded its waits (ASYNC_WAIT_*): none inferred
 */
struct model_critical {
	struct model_link *l;
	size_t nr;
	uint64_t end_ns;
	bool boot_done;
	bool recorded;
	uint64_t on_path_ns;
	uint64_t async_ns;
	unsigned int waits;
};

/**
 * struct boot_model - everything the report says
 * @ev:          the events, sorted by time
 * @doorbell_events: events that came only through a doorbell
 * @doorbell_copies: doorbell events dropped as copies of ring events
 * @tsc_khz:     guest TSC rate used for every conversion
 * @tsc_from_host: @tsc_khz is the host's: under TCG on real time (the guest
 *               reads the host's TSC), or the guest never reported its rate
 * @guest_tsc_khz: the rate the guest calibrated and reported, 0 if none
 * @syms:        kernel symbols (may be empty)
 * @accel:       accelerator from the metadata
 * @kernel:      kernel image from the metadata
 * @icount:      QEMU's -icount setting when the times are virtual (instructions
 *               counted, not the host's clock), "" for real time
 * @rr:          QEMU's record/replay: "record" (the boot's execution was
 *               recorded for a replay), "replay" (this is a replay), "" neither
 * @launch_ns:   QEMU's start-up (see the top of this file), 0 if unknown
 * @launch_known: @launch_ns was measured (the trace has clock samples and
 *               a launch time)
 * @clock:       the clock fit
 * @boot_ns:     end of the kernel's boot (BOOT_DONE), 0 if never
 * @user_ns:     first user marker, 0 if none
 * @end_ns:      last event
 * @ncpus:       CPUs seen
 * @loss:        records lost, by cause
 * @lost:        all of @loss's records (not the torn bytes)
 * @phases:      pre-kernel phases and start_kernel/kernel_init phases
 * @levels:      boot levels
 * @initcalls:   initcalls, in order
 * @shutdown:    shutdown phases, notifiers and devices
 * @markers:     user markers (zero duration)
 * @problems:    every warning, BUG, oops and panic, in order
 * @forensics:   the vCPUs' state and the vmcore the collector took
 * @sched:       the host scheduler's view of the vCPU threads
 * @idle:        each CPU's idle loop while the system was not running
 * @graph:       the hypergraph: call trees from function tracing
 * @async:       async work, paired by cookie
 * @critical:    the critical path to the end of the boot
 * @strings:     the spans' names, in 64 KiB blocks freed together
 * @boot:        the boot as htr_boot followed it through the events
 * @ended:       the trace has the collector's END chunk
 * @exit_status: the collector's exit status from END, -1 without one
 * @verdict:     what the boot came to (libhtrace's one verdict)
 * @fail_kind:   its name: htr_verdict_name(@verdict)
 * @fail_msg:    the failure's message, or the collector's reason
 * @fail_initcall: name (or address) of the initcall running, if any
 * @fail_where:  where the boot was: "level device, initcall x", "smp_init"...
 * @fail_chain:  the failure and what it led to, as the report's banner
 *               says it ("oops in initcall loop_init -> panic"), "" if none
 * @fail_ns:     when
 * @klog:        the kernel's log, from the trace's LOG chunk (empty without)
 * @klog_found:  the trace has a LOG chunk
 * @klog_error:  what was wrong with that chunk (static string), or NULL
 */
struct boot_model {
	struct ev_list ev;
	uint64_t doorbell_events;
	uint64_t doorbell_copies;
	uint64_t tsc_khz;
	bool tsc_from_host;
	uint64_t guest_tsc_khz;
	struct htr_syms syms;
	char accel[32];
	char kernel[256];
	char icount[64];
	char rr[8];
	uint64_t launch_ns;
	bool launch_known;
	struct model_clock clock;
	uint64_t boot_ns;
	uint64_t user_ns;
	uint64_t end_ns;
	unsigned int ncpus;
	struct model_loss loss;
	uint64_t lost;
	struct span_list phases;
	struct span_list levels;
	struct span_list initcalls;
	struct span_list shutdown;
	struct span_list markers;
	struct model_problems problems;
	struct model_forensics forensics;
	struct model_sched sched;
	struct model_idle idle;
	struct model_hints hints;
	struct model_graph graph;
	struct model_async async;
	struct model_critical critical;
	struct model_block *strings;
	struct htr_boot boot;
	bool ended;
	int exit_status;
	enum htr_verdict verdict;
	char fail_kind[16];
	char fail_msg[HT_STR_MAX + 256];
	char fail_initcall[160];
	char fail_where[200];
	char fail_chain[400];
	uint64_t fail_ns;
	struct htr_log klog;
	bool klog_found;
	const char *klog_error;
};

/* Log records a failed boot's report shows: the last ones before the end. */
#define MODEL_LOG_TAIL	10

/**
 * struct model_opts - how to load a model
 * @vmlinux:    vmlinux for names, or NULL (then the metadata's, if readable)
 * @system_map: System.map for names, or NULL
 * @events_only: read and sort the events only (hypertrace dump)
 * @no_trace_symbols: never open the vmlinux the trace's metadata names
 */
struct model_opts {
	const char *vmlinux;
	const char *system_map;
	bool events_only;
	bool no_trace_symbols;
};

int model_load_mem(struct boot_model *m, const void *data, size_t size,
		   const struct model_opts *o, char *err, size_t errlen);
void model_free(struct boot_model *m);
void model_forensics_take(struct model_forensics *f, const void *json, size_t len);
uint64_t model_ns(const struct boot_model *m, uint64_t tsc);
const char *model_run_name(unsigned int run);
const char *model_link_kind_name(unsigned int kind);
const char *model_link_why_name(unsigned int why);

#endif /* _HTRACE_MODEL_H */

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * hypertrace-collector: one recording, shared by run and attach.
 *
 *   options.c  the option table and its parser, for both commands
 *   qemu.c     QEMU's command line, its launch, reap and stop; the KVM probe
 *   record.c   the poll loop, the drains, the final drain, the END chunk
 *   clock.c    clock samples (HTF_CLOCK): doorbell, hypercalls, KVM offsets
 *   host_sched.c the host scheduler's view of the vCPU threads (HTF_SCHED)
 *   verdict.c  the progress line, the verdict and its reason
 *   kernel_log.c  the kernel's log from guest RAM, at the end (HTF_LOG)
 *   forensics.c a failed boot's vCPU registers and its vmcore, before the stop
 *   vmcore_note.c a vmcore as crash tools read it: VMCOREINFO (from guest RAM
 *              if QEMU had none) and the kernel's virtual addresses
 *   run.c      hypertrace-collector run
 *   attach.c   hypertrace-collector attach
 */
#ifndef _HT_COLLECTOR_RECORD_H
#define _HT_COLLECTOR_RECORD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "collector.h"
#include "symbols.h"

#define RING_BATCH	4096	/* records per ring chunk */
#define HELD_MAX	1024	/* records the KVM probe holds back */
#define HC_BATCH	1024	/* hypercall records per chunk, at most */
#define CLK_BATCH	2048	/* clock samples per chunk, at most */
#define SCHED_BATCH	2048	/* host scheduler events per chunk, at most */
#define HINT_MAX_VCPUS	64	/* vCPUs whose ring headers get hints */

/**
 * struct vcpu_hint - where one vCPU's in-band hints come from
 * @stat:      its thread's /proc/TID/stat (field 39: the CPU it last ran on)
 * @schedstat: its thread's /proc/TID/schedstat (field 2: run delay, ns)
 */
struct vcpu_hint {
	int stat;
	int schedstat;
};

/* Which command an option belongs to (a bit mask). */
enum coll_cmd {
	CMD_RUN = 1,
	CMD_ATTACH = 2,
};

enum accel { ACCEL_AUTO, ACCEL_KVM, ACCEL_TCG };

/* QEMU's record/replay: off, recording the boot's log, replaying one */
enum rr_mode { RR_NONE, RR_RECORD, RR_REPLAY };

#define OPTS_HELP	(-1)	/* opts_parse(): --help was printed */

/*
 * --clock icount: one instruction is 2^1 ns of virtual time, and an idle
 * guest's virtual clock jumps to its next timer instead of waiting for the
 * host's (sleep=off), so guest time depends on nothing the host does
 */
#define ICOUNT_SPEC	"shift=1,sleep=off"

/*
 * --record and --replay: the same instruction rate, but an idle guest
 * sleeps (virtual time goes on at the host's pace until its next timer):
 * QEMU 7.2 never starts recording a boot under sleep=off (no output from
 * the firmware in 15 s), and the log carries every such wait, so the
 * replay still has the recording's times
 */
#define RR_ICOUNT_SPEC	"shift=1"

/**
 * struct run_opts - what the command line asked for
 * @output:          trace file
 * @accel:           how to choose the accelerator (run)
 * @icount:          --clock icount: QEMU counts instructions (run)
 * @clock_given:     --clock was on the command line
 * @rr:              --record or --replay (run)
 * @rrfile:          their log file
 * @kvm_probe_s:     seconds KVM has to start the kernel proper (run)
 * @hang_s:          seconds without guest progress that make a hang
 * @timeout_s:       overall limit, 0 for none
 * @stop_after_boot: quit QEMU once the boot is done (run)
 * @vmlinux:         the kernel's vmlinux, for the metadata and the names
 * @dir_parent:      where the private directory goes (run)
 * @keep_ram:        leave the guest RAM file behind (run)
 * @vmcore:          dump the guest's memory (ELF) when its boot fails
 * @no_sched:        no host scheduler events (--no-sched)
 * @no_hints:        no in-band hints in the ring headers (--no-hints)
 * @quiet:           no progress
 * @hc_system:       trace system of KVM hypercalls (run)
 * @hc_event:        trace event of KVM hypercalls (run)
 * @hc_buf:          storage for @hc_system and @hc_event
 * @qmp:             QEMU's QMP socket (attach)
 * @ram:             the guest RAM file (attach)
 * @debugfs:         where debugfs is mounted, for KVM's TSC offsets
 * @doorbell:        the isa-debugcon socket, or NULL (attach)
 * @pid:             QEMU's pid, 0 when not given (attach)
 * @qemu_argc:       QEMU's command line, as given after -- (run)
 * @qemu_argv:       its words
 */
struct run_opts {
	const char *output;
	enum accel accel;
	bool icount;
	bool clock_given;
	enum rr_mode rr;
	const char *rrfile;
	double kvm_probe_s;
	double hang_s;
	double timeout_s;
	bool stop_after_boot;
	const char *vmlinux;
	const char *dir_parent;
	bool keep_ram;
	bool vmcore;
	bool no_sched;
	bool no_hints;
	bool quiet;
	const char *hc_system;
	const char *hc_event;
	char hc_buf[256];
	const char *qmp;
	const char *ram;
	const char *debugfs;
	const char *doorbell;
	pid_t pid;
	int qemu_argc;
	char **qemu_argv;
};

/**
 * struct run - one recording
 * @o:           options
 * @attach:      recording a QEMU we did not start (attach): never kill it
 * @probing:     the KVM probe runs: records are held back, not written
 * @held:        records held back during the probe
 * @held_src:    the source of each
 * @held_ns:     when each arrived
 * @nheld:       how many
 * @held_dropped: records the probe could not hold (beyond HELD_MAX): lost,
 *               and counted in the LOSS chunk
 * @kvm:         the hypercall channel (KVM only), NULL when not open
 * @kvm_tried:   opening it was attempted
 * @syms:        the kernel's symbols, for messages (may be empty)
 * @dir:         private 0700 directory for the RAM file and sockets (run)
 * @ram:         guest RAM file
 * @db_path:     doorbell socket (run)
 * @qmp_path:    QMP socket (run)
 * @mem_mb:      guest RAM size
 * @accel:       "kvm" or "tcg", "as given" or "attached"
 * @icount:      QEMU's -icount setting (virtual time), NULL for real time
 * @qemu:        QEMU's pid, 0 when not running (attach: -1 when unknown)
 * @pidfd:       pollable handle on QEMU, -1 if none
 * @qemu_status: its wait status once it exited
 * @port:        doorbell channel, NULL if none
 * @qmp:         QMP channel, NULL if none
 * @shm:         guest RAM channel
 * @st:          the boot as seen so far
 * @w:           the trace file
 * @launch_ns:   CLOCK_MONOTONIC at launch
 * @reset:       QMP reported a guest reset
 * @shutdown:    QMP reported SHUTDOWN (QEMU paused after it under --vmcore)
 * @hang:        the watchdog fired
 * @timed_out:   --timeout ended the recording
 * @vmcore:      the vmcore's path (--vmcore), once one was attempted
 * @vmcore_taken: it was written
 * @vmcore_err:  why not, "" if it was or none was attempted
 * @tty:         progress goes to a terminal
 * @last_level:  level announced on the last plain progress line
 * @rec:         ring records of this drain, not yet written
 * @nrec:        how many
 * @hc:          hypercall records of this poll, not yet written
 * @hc_ns:       when KVM traced each
 * @nhc:         how many
 * @clk:         clock samples not yet written
 * @nclk:        how many
 * @ck:          KVM's debugfs view of the VM's vCPUs, NULL until found
 * @ck_done:     no more KVM offset samples (not found, or broken)
 * @ck_tries:    opens tried
 * @ck_next_ns:  when the next KVM offset round is due
 * @sched:       the host scheduler channel, NULL when not open
 * @sched_tried: opening it was attempted
 * @sched_reaped: stale tracefs instances removed at start-up
 * @sched_reap_err: why removing them failed, "" if it did not
 * @sched_last_ns: when the channel was last drained
 * @sched_ev:    its events not yet written
 * @nsched:      how many
 * @hint:        the vCPU threads' /proc files the hints come from
 * @nhint:       how many vCPUs have them (0 until QMP named the threads)
 * @hint_tried:  opening them was attempted
 * @hint_last_ns: when the hints were last written
 */
struct run {
	struct run_opts *o;
	bool attach;
	bool probing;
	struct ht_record held[HELD_MAX];
	uint16_t held_src[HELD_MAX];
	uint64_t held_ns[HELD_MAX];
	unsigned int nheld;
	uint64_t held_dropped;
	struct kvm_chan *kvm;
	bool kvm_tried;
	struct htr_syms syms;
	char dir[PATH_MAX - 64];
	char ram[PATH_MAX];
	char db_path[PATH_MAX];
	char qmp_path[PATH_MAX];
	unsigned long mem_mb;
	const char *accel;
	const char *icount;
	pid_t qemu;
	int pidfd;
	int qemu_status;
	struct port_chan *port;
	struct qmp_chan *qmp;
	struct shmem_chan shm;
	struct boot_state st;
	struct htf_writer w;
	uint64_t launch_ns;
	bool reset;
	bool shutdown;
	bool hang;
	bool timed_out;
	char vmcore[PATH_MAX];
	bool vmcore_taken;
	char vmcore_err[256];
	bool tty;
	int last_level;
	struct ht_record rec[RING_BATCH];
	unsigned int nrec;
	struct ht_record hc[HC_BATCH];
	uint64_t hc_ns[HC_BATCH];
	unsigned int nhc;
	struct htf_clock_sample clk[CLK_BATCH];
	unsigned int nclk;
	struct clock_kvm *ck;
	bool ck_done;
	unsigned int ck_tries;
	uint64_t ck_next_ns;
	struct sched_chan *sched;
	bool sched_tried;
	unsigned int sched_reaped;
	char sched_reap_err[256];
	uint64_t sched_last_ns;
	struct htf_sched_event sched_ev[SCHED_BATCH];
	unsigned int nsched;
	struct vcpu_hint hint[HINT_MAX_VCPUS];
	unsigned int nhint;
	bool hint_tried;
	uint64_t hint_last_ns;
};

/* vcpu_hint.c */
void hint_poll(struct run *r);
void hint_close(struct run *r);

/* options.c */
int opts_parse(enum coll_cmd cmd, int argc, char **argv, struct run_opts *o);
void opts_usage(enum coll_cmd cmd, FILE *f);

/* qemu.c */
bool qemu_has_arg(const struct run_opts *o, const char *opt);
const char *qemu_arg_value(const struct run_opts *o, const char *opt);
unsigned long qemu_mem_mb(const struct run_opts *o);
int qemu_start(struct run *r);
bool qemu_reap(struct run *r);
void qemu_stop(struct run *r);

/* record.c */
struct run *record_new(struct run_opts *o, bool attach);
void record_free(struct run *r);
int record_restart(struct run *r);
void record_release_held(struct run *r);
void record_loop(struct run *r);
bool record_probe(struct run *r, uint64_t deadline_ns);
void host_event(struct run *r, const char *name, json_t *extra);
void record_qmp_event(void *ctx, const char *event, const char *json);
void record_metadata(struct run *r);
int record_finish(struct run *r);

/* kernel_log.c */
void record_log(struct run *r);
/* forensics.c, vmcore_note.c */
#define VMCOREINFO_TEXT_MAX	4096	/* the kernel's VMCOREINFO_BYTES, a page */
void forensics_take(struct run *r);
int vmcore_find_note(const unsigned char *ram, size_t size, unsigned char *buf, size_t *len);
int vmcore_info(int fd, unsigned char *buf, size_t *len);
int vmcore_rewrite(const char *path, int fd, const unsigned char *note, const unsigned char *info,
		   size_t len);

/* clock.c */
void clock_add(struct run *r, const struct ht_record *rec, uint64_t host_ns,
	       enum htf_clock_method method);
void clock_flush(struct run *r);
void clock_poll_kvm(struct run *r);
void clock_close(struct run *r);

/* host_sched.c */
void sched_start(struct run *r);
void sched_poll(struct run *r, bool force);
void sched_finish(struct run *r, json_t *loss);
void sched_close(struct run *r);

/* verdict.c */
void record_progress(struct run *r, bool final);
enum htr_verdict record_verdict(struct run *r, char *why, size_t len);

#endif /* _HT_COLLECTOR_RECORD_H */

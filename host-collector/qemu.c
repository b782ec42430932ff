// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: QEMU itself.  Its command line gets what the trace
 * needs (guest RAM in a shared file, the doorbell, QMP, pvpanic); it is
 * launched, reaped and stopped here; and under --accel auto|kvm the KVM
 * probe decides whether KVM really runs the guest or the boot starts
 * again under TCG.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chan_kvm.h"
#include "record.h"

#define EXTRA_ARGS	28	/* words build_argv() adds, at most */
#define RR_HEADER	12	/* a QEMU replay log's header: version, snapshot offset */

/**
 * qemu_has_arg() - whether QEMU's command line already has an option
 * @o:   the options, with QEMU's command line
 * @opt: the option, e.g. "-accel"
 *
 * Return: true if one of QEMU's words (after its name) is @opt.
 */
bool qemu_has_arg(const struct run_opts *o, const char *opt)
{
	int i;

	for (i = 1; i < o->qemu_argc; i++)
		if (!strcmp(o->qemu_argv[i], opt))
			return true;
	return false;
}

/**
 * qemu_arg_value() - the word after an option of QEMU's command line
 * @o:   the options, with QEMU's command line
 * @opt: the option, e.g. "-icount"
 *
 * Return: the first such word, or NULL.
 */
const char *qemu_arg_value(const struct run_opts *o, const char *opt)
{
	int i;

	for (i = 1; i + 1 < o->qemu_argc; i++)
		if (!strcmp(o->qemu_argv[i], opt))
			return o->qemu_argv[i + 1];
	return NULL;
}

/* qemu_smp() - the number of CPUs -smp asks for ("2", "cpus=2,..."), 1 without */
static unsigned long qemu_smp(const struct run_opts *o)
{
	const char *s = qemu_arg_value(o, "-smp"), *c;

	if (!s)
		return 1;
	c = strstr(s, "cpus=");
	if (c && (c == s || c[-1] == ','))
		s = c + 5;
	return strtoul(s, NULL, 10);
}

/**
 * qemu_mem_mb() - the guest's RAM size from -m (QEMU's default 128 MiB)
 * @o: the options, with QEMU's command line
 *
 * Return: MiB, or 0 when -m cannot be read (then the user is told to
 * write -m SIZE).
 */
unsigned long qemu_mem_mb(const struct run_opts *o)
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

/* free_argv() - undo build_argv() */
static void free_argv(char **av)
{
	char **p;

	for (p = av; p && *p; p++)
		free(*p);
	free(av);
}

/* build_argv() - QEMU's command line plus what the trace needs; NULL if no memory */
static char **build_argv(struct run *r, const char *accel)
{
	const struct run_opts *o = r->o;
	char **av = calloc(o->qemu_argc + EXTRA_ARGS + 1, sizeof(*av));
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
	if (o->icount) {
		av[n++] = strdup("-icount");
		if (o->rr == RR_NONE) {
			av[n++] = strdup(ICOUNT_SPEC);
		} else {
			snprintf(buf, sizeof(buf), "%s,rr=%s,rrfile=%s", RR_ICOUNT_SPEC,
				 o->rr == RR_RECORD ? "record" : "replay", o->rrfile);
			av[n++] = strdup(buf);
		}
		if (!qemu_has_arg(o, "-rtc")) {
			/* the CMOS clock on virtual time too, not the host's date */
			av[n++] = strdup("-rtc");
			av[n++] = strdup("clock=vm");
		}
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
	if (!qemu_has_arg(o, "-action")) {
		/*
		 * keep the evidence: a panicked guest stays put until we stop
		 * it; with --vmcore a guest that resets under -no-reboot too
		 * (a panic before pvpanic's driver probed, a triple fault)
		 */
		av[n++] = strdup("-action");
		av[n++] = strdup(o->vmcore ? "panic=pause,shutdown=pause" : "panic=pause");
	}
	av[n++] = strdup("-device");
	av[n++] = strdup("pvpanic");
	if (o->vmcore) {
		/* where the guest's fw_cfg driver leaves VMCOREINFO for the dump */
		av[n++] = strdup("-device");
		av[n++] = strdup("vmcoreinfo");
	}
	for (i = 0; i < n; i++) {
		if (!av[i]) {
			while (++i < n)
				free(av[i]);
			free_argv(av);
			return NULL;
		}
	}
	return av;
}

/* exec_qemu() - in the child: stdin from /dev/null, private files, exec */
static void __attribute__((noreturn)) exec_qemu(char **av)
{
	int null = open("/dev/null", O_RDONLY);

	if (null >= 0)
		dup2(null, STDIN_FILENO);
	umask(077);
	execvp(av[0], av);
	fprintf(stderr, "hypertrace-collector: cannot run %s: %s\n", av[0],
		strerror(errno));
	_exit(127);
}

/* launch() - open the doorbell and QMP, start QEMU with @accel (NULL: the user's own); 0 or -errno */
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
		r->qemu = 0;
		goto out_free_argv;
	}
	if (r->qemu == 0)
		exec_qemu(av);
	r->pidfd = (int)syscall(SYS_pidfd_open, r->qemu, 0);
	r->accel = accel ? accel : "as given";
	free_argv(av);
	return 0;

out_free_argv:
	free_argv(av);
out_close_qmp:
	qmp_close(r->qmp);
	r->qmp = NULL;
out_close_port:
	port_close(r->port);
	r->port = NULL;
	return err;
}

/* gone() - QEMU has been reaped (or killed and waited for): forget it */
static void gone(struct run *r, int status)
{
	r->qemu_status = status;
	r->qemu = 0;
	if (r->pidfd >= 0)
		close(r->pidfd);
	r->pidfd = -1;
}

/**
 * qemu_reap() - collect QEMU's exit status if it has ended
 * @r: the recording
 *
 * Under attach QEMU is not our child: it is gone when its pid is, or when
 * QMP closed.
 *
 * Return: true if QEMU is gone.
 */
bool qemu_reap(struct run *r)
{
	int status;

	if (r->attach) {
		if (r->qemu > 0 && kill(r->qemu, 0) < 0 && errno == ESRCH)
			r->qemu = 0;
		return !r->qemu || !qmp_connected(r->qmp);
	}
	if (!r->qemu)
		return true;
	if (waitpid(r->qemu, &status, WNOHANG) != r->qemu)
		return false;
	gone(r, status);
	return true;
}

/**
 * qemu_stop() - ask QEMU to quit, then insist; under attach, pause it
 * (QMP stop) to keep the evidence, and leave it be
 * @r: the recording
 */
void qemu_stop(struct run *r)
{
	int i, status;

	if (r->attach) {
		qmp_command(r->qmp, "stop");
		r->qemu = 0;
		return;
	}
	if (!r->qemu)
		return;
	qmp_command(r->qmp, "quit");
	for (i = 0; i < 50 && !qemu_reap(r); i++)
		usleep(20000);
	if (r->qemu) {
		kill(r->qemu, SIGKILL);
		waitpid(r->qemu, &status, 0);
		gone(r, status);
	}
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

/*
 * kvm_probe() - launch under KVM and wait --kvm-probe seconds for the
 * kernel proper; 1 if it came (the held records are written), 0 if the
 * boot must start again (@heard: whether any record came at all), or
 * -errno if QEMU could not be launched
 */
static int kvm_probe(struct run *r, bool *heard)
{
	int err;

	r->probing = true;
	err = launch(r, "kvm");
	if (err) {
		r->probing = false;
		return err;
	}
	if (record_probe(r, now_ns() + (uint64_t)(r->o->kvm_probe_s * 1e9))) {
		record_release_held(r);
		return 1;
	}
	/* start again from nothing: new RAM file, new channels */
	*heard = r->st.records > 0;
	qemu_stop(r);
	return record_restart(r) ? -ENOMEM : 0;
}

/* say_launch_error() - why QEMU could not be launched */
static void say_launch_error(const struct run *r, int err)
{
	if (err == -ENAMETOOLONG)
		coll_err("cannot launch QEMU: the socket path %s is too long; "
			 "give a shorter --dir\n", r->qmp_path);
	else
		coll_err("cannot launch QEMU: %s\n", strerror(-err));
}

/*
 * check_icount() - the clock: --clock icount and what it needs (TCG, one
 * CPU), or an -icount of the user's; 0, or the usage exit status after
 * saying why not
 */
static int check_icount(struct run *r)
{
	const char *own = qemu_arg_value(r->o, "-icount");
	const char *what = r->o->rr == RR_RECORD ? "--record (--clock icount)" :
			   r->o->rr == RR_REPLAY ? "--replay (--clock icount)" : "--clock icount";

	r->icount = !r->o->icount ? own : r->o->rr != RR_NONE ? RR_ICOUNT_SPEC : ICOUNT_SPEC;
	/* an -icount of the user's own is taken as given */
	if (!r->o->icount)
		return 0;
	if (own) {
		coll_err("%s sets QEMU's -icount itself (%s); the QEMU command line "
			 "has -icount %s too: give one of them\n", what, ICOUNT_SPEC, own);
		return HTR_EXIT_USAGE;
	}
	if (r->o->accel == ACCEL_KVM || qemu_has_arg(r->o, "-enable-kvm") ||
	    (qemu_arg_value(r->o, "-accel") && strncmp(qemu_arg_value(r->o, "-accel"), "tcg", 3))) {
		coll_err("%s needs TCG: instruction counting is QEMU's emulator's; "
			 "use --accel tcg (or auto)\n", what);
		return HTR_EXIT_USAGE;
	}
	if (qemu_smp(r->o) > 1) {
		coll_err("%s boots one CPU only: with -smp %lu, QEMU's instruction "
			 "counting (it runs the vCPUs in turn) never completes the kernel's SMP "
			 "bring-up (every shift and sleep setting tried: the boot CPU waits in "
			 "native_cpu_up(), the next in cpu_init()); use -smp 1\n", what, qemu_smp(r->o));
		return HTR_EXIT_USAGE;
	}
	return 0;
}

/*
 * rr_prepare() - --record: create the log 0600 (QEMU truncates it and
 * keeps the mode); --replay: the log is a regular file that a recording
 * QEMU finished.  0, or an exit status after saying why not
 */
static int rr_prepare(struct run *r)
{
	unsigned char head[RR_HEADER];
	struct stat st;
	int fd;

	if (r->o->rr == RR_RECORD) {
		fd = open(r->o->rrfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			coll_err("cannot create the replay log %s: %s\n", r->o->rrfile,
				 strerror(errno));
			return errno == EEXIST ? HTR_EXIT_USAGE : HTR_EXIT_ERROR;
		}
		close(fd);
		return 0;
	}
	if (r->o->rr != RR_REPLAY)
		return 0;
	fd = open(r->o->rrfile, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		coll_err("cannot read the replay log %s: %s\n", r->o->rrfile,
			 fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return HTR_EXIT_ERROR;
	}
	if (read(fd, head, sizeof(head)) != (ssize_t)sizeof(head)) {
		coll_err("%s is not a finished QEMU replay log: %lld bytes, shorter than "
			 "its %d-byte header (a recording QEMU that was killed leaves its "
			 "log empty)\n", r->o->rrfile, (long long)st.st_size, RR_HEADER);
		close(fd);
		return HTR_EXIT_ERROR;
	}
	close(fd);
	/* QEMU writes its log's version last, when the recording ends cleanly */
	if (!head[0] && !head[1] && !head[2] && !head[3]) {
		coll_err("%s is an unfinished QEMU replay log: the recording QEMU never "
			 "ended it (it was killed); it cannot be replayed\n", r->o->rrfile);
		return HTR_EXIT_ERROR;
	}
	return 0;
}

/**
 * qemu_start() - launch QEMU, under KVM if it really runs the guest
 * @r: the recording (private directory and paths set up)
 *
 * With --accel auto and an openable /dev/kvm, or --accel kvm, the KVM
 * probe runs first; auto falls back to TCG and says why, kvm fails.  A
 * QEMU command line that chooses its accelerator is left alone.
 *
 * Return: 0, or an exit status after saying what went wrong.
 */
int qemu_start(struct run *r)
{
	bool try_kvm;
	int err;

	err = check_icount(r);
	if (!err)
		err = rr_prepare(r);
	if (err)
		return err;
	/* instruction counting (ours or the user's own -icount) is TCG's */
	try_kvm = !r->icount && (r->o->accel == ACCEL_KVM ||
				 (r->o->accel == ACCEL_AUTO && kvm_usable()));
	if (qemu_has_arg(r->o, "-accel") || qemu_has_arg(r->o, "-enable-kvm")) {
		err = launch(r, NULL);
		goto out_launched;
	}
	if (try_kvm) {
		bool heard = false;

		err = kvm_probe(r, &heard);
		if (err)
			goto out_launched;
		if (r->o->accel == ACCEL_KVM) {
			coll_err("the guest did not reach its kernel proper under KVM within %.0f s\n",
				 r->o->kvm_probe_s);
			return HTR_EXIT_ERROR;
		}
		if (!r->o->quiet)
			fprintf(stderr, "hypertrace-collector: under KVM the guest did not "
				"reach its kernel proper within %.0f s (%s; this host's KVM "
				"cannot run it); using TCG\n", r->o->kvm_probe_s,
				heard ? "it stopped after the setup code or the "
				"decompressor" : "not a single record");
	}
	err = launch(r, "tcg");
out_launched:
	if (err < 0) {
		say_launch_error(r, err);
		return HTR_EXIT_ERROR;
	}
	if (!r->o->quiet)
		fprintf(stderr, "hypertrace-collector: QEMU running (%s), RAM in %s\n",
			r->accel, r->dir);
	return 0;
}

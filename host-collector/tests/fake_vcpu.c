// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fake_vcpu - stands in for a QEMU process whose vCPU threads issue
 * Hypertrace hypercalls, for hosts without a usable KVM.
 *
 * Each thread loads rax (the hypercall number) and rbx, rcx, rdx, rsi (the
 * four record words) exactly as the guest does before vmcall, then calls
 * ht_fake_hypercall().  A uprobe on that function's first instruction,
 *
 *   p:hypertrace/kvm_hypercall FILE:OFFSET nr=%ax:u64 a0=%bx:u64 \
 *     a1=%cx:u64 a2=%dx:u64 a3=%si:u64
 *
 * produces events with the fields of kvm:kvm_hypercall and the calling
 * thread as common_pid.  ht_fake_hypercall() is written in assembly (a nop
 * and a ret), so it cannot be inlined, touches no register and the probe
 * sees the values the caller loaded.
 *
 * Usage: fake_vcpu NVCPU NOTHER
 * Prints, then waits for commands on stdin:
 *   offset 0xOFF          file offset of ht_fake_hypercall (/proc/self/maps)
 *   vcpu I TID            NVCPU lines
 *   other I TID           NOTHER lines
 *   ready
 * Commands, one per line; each is answered by "done" once all threads
 * have finished it:
 *   emit N F   every thread emits N Hypertrace hypercalls (every 8th one
 *              HT_HC_BATCH, the rest HT_HC_RECORD), then F with numbers
 *              that are not Hypertrace's
 *   quit       exit (so does end of input)
 * Words of the k-th Hypertrace hypercall of a thread (k counts on across
 * commands, from 0): tsc = k ^ TSC_SALT, info = ht_info(HT_EV_USER_MARKER,
 * 0, cpu, k) with cpu = I for a vCPU and OTHER_CPU_BASE + I for another
 * thread, a0 = k, a1 = A1_MAGIC | cpu.  Foreign ones carry a0 = ~0.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* syscall() */
#endif
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hypertrace_abi.h"
#include "fake_vcpu.h"

/* ht_fake_hypercall() - the probe point, defined in assembly below */
void ht_fake_hypercall(void);

/*
 * The probe point.  Global, typed and sized so that it is an STT_FUNC in
 * the symbol table; the leading nop gives the uprobe an instruction that
 * needs no emulation.
 */
__asm__(".text\n"
	".globl ht_fake_hypercall\n"
	".type ht_fake_hypercall, @function\n"
	".p2align 4\n"
	"ht_fake_hypercall:\n"
	"\tnop\n"
	"\tret\n"
	".size ht_fake_hypercall, .-ht_fake_hypercall\n");

struct worker {
	pthread_t thread;
	unsigned int cpu;	/* value stamped into info */
	uint64_t k;		/* Hypertrace hypercalls made so far */
	pid_t tid;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cmd_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static unsigned long generation;	/* bumped per command */
static unsigned int busy;		/* workers still running it */
static unsigned long cmd_n, cmd_f;
static int cmd_quit;

/* hypercall() - load the registers as a guest would and hit the probe */
static void hypercall(uint64_t nr, uint64_t w0, uint64_t w1, uint64_t w2,
		      uint64_t w3)
{
	/*
	 * Step over the red zone: the call pushes a return address below
	 * %rsp, where the compiler may keep locals.
	 */
	__asm__ volatile("lea -128(%%rsp), %%rsp\n\t"
			 "call ht_fake_hypercall\n\t"
			 "lea 128(%%rsp), %%rsp"
			 : "+a"(nr)
			 : "b"(w0), "c"(w1), "d"(w2), "S"(w3)
			 : "memory", "cc");
}

/* run() - one "emit" command on one thread */
static void run(struct worker *w, unsigned long n, unsigned long f)
{
	static const uint64_t foreign[] = FAKE_VCPU_FOREIGN_NRS;
	unsigned long i;
	uint64_t k;

	for (i = 0; i < n; i++) {
		k = w->k++;
		hypercall(fake_vcpu_nr(k), k ^ FAKE_VCPU_TSC_SALT,
			  ht_info(HT_EV_USER_MARKER, 0, w->cpu, (__u32)k), k,
			  FAKE_VCPU_A1_MAGIC | w->cpu);
	}
	for (i = 0; i < f; i++)
		hypercall(foreign[i % (sizeof(foreign) / sizeof(foreign[0]))],
			  0, ht_info(HT_EV_USER_MARKER, 0, w->cpu, 0), ~0ULL,
			  FAKE_VCPU_A1_MAGIC | w->cpu);
}

/* worker_main() - wait for commands and run them until told to quit */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned long seen = 0, n, f;

	w->tid = (pid_t)syscall(SYS_gettid);
	pthread_mutex_lock(&lock);
	busy--;
	pthread_cond_broadcast(&done_cond);
	for (;;) {
		while (generation == seen && !cmd_quit)
			pthread_cond_wait(&cmd_cond, &lock);
		if (cmd_quit)
			break;
		seen = generation;
		n = cmd_n;
		f = cmd_f;
		pthread_mutex_unlock(&lock);
		run(w, n, f);
		pthread_mutex_lock(&lock);
		if (!--busy)
			pthread_cond_broadcast(&done_cond);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* probe_offset() - file offset of ht_fake_hypercall, from /proc/self/maps */
static int probe_offset(unsigned long long *off)
{
	uintptr_t addr = (uintptr_t)&ht_fake_hypercall;
	unsigned long long lo, hi, pgoff;
	char line[512], perm[8];
	FILE *f = fopen("/proc/self/maps", "r");
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %7s %llx", &lo, &hi, perm, &pgoff) != 4)
			continue;
		if (addr >= lo && addr < hi) {
			*off = addr - lo + pgoff;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* wait_idle() - block until every worker has finished the current command */
static void wait_idle(void)
{
	pthread_mutex_lock(&lock);
	while (busy)
		pthread_cond_wait(&done_cond, &lock);
	pthread_mutex_unlock(&lock);
}

/* main() - start the threads, print their ids, serve commands */
int main(int argc, char **argv)
{
	unsigned long nvcpu, nother, n, f, i;
	struct worker *w;
	unsigned long long off;
	char line[128];
	int ret = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s NVCPU NOTHER\n", argv[0]);
		return 2;
	}
	nvcpu = strtoul(argv[1], NULL, 0);
	nother = strtoul(argv[2], NULL, 0);
	if (!nvcpu || nvcpu > 256 || nother > 256) {
		fprintf(stderr, "fake_vcpu: 1..256 vCPUs, 0..256 others\n");
		return 2;
	}
	if (probe_offset(&off)) {
		fprintf(stderr, "fake_vcpu: ht_fake_hypercall not in /proc/self/maps\n");
		return 1;
	}
	w = calloc(nvcpu + nother, sizeof(*w));
	if (!w)
		return 1;

	busy = nvcpu + nother;
	for (i = 0; i < nvcpu + nother; i++) {
		w[i].cpu = i < nvcpu ? i : FAKE_VCPU_OTHER_CPU_BASE + (i - nvcpu);
		errno = pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
		if (errno) {
			perror("fake_vcpu: pthread_create");
			return 1;
		}
	}
	wait_idle();

	printf("offset 0x%llx\n", off);
	for (i = 0; i < nvcpu + nother; i++)
		printf("%s %lu %d\n", i < nvcpu ? "vcpu" : "other",
		       i < nvcpu ? i : i - nvcpu, (int)w[i].tid);
	printf("ready\n");
	fflush(stdout);

	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "emit %lu %lu", &n, &f) == 2) {
			pthread_mutex_lock(&lock);
			cmd_n = n;
			cmd_f = f;
			busy = nvcpu + nother;
			generation++;
			pthread_cond_broadcast(&cmd_cond);
			pthread_mutex_unlock(&lock);
			wait_idle();
			printf("done\n");
			fflush(stdout);
		} else if (!strncmp(line, "quit", 4)) {
			break;
		} else {
			fprintf(stderr, "fake_vcpu: bad command: %s", line);
			ret = 1;
			break;
		}
	}

	pthread_mutex_lock(&lock);
	cmd_quit = 1;
	pthread_cond_broadcast(&cmd_cond);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < nvcpu + nother; i++)
		pthread_join(w[i].thread, NULL);
	free(w);
	return ret;
}

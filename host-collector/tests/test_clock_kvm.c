// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The KVM TSC-offset clock (clock_kvm.c) against a recorded debugfs
 * layout in a temporary directory: kvm/<pid>-<fd>/vcpu<N>/tsc-offset,
 * tsc-scaling-ratio, tsc-scaling-ratio-frac-bits, written the way KVM
 * prints them ("%lld\n", "%llu\n").
 *
 * Cases: the formula itself (scaling, a negative offset, a 128-bit
 * product); two VMs' directories and one with the pid asked for, which has
 * two VMs of its own (the one with vCPUs and the highest fd wins); a vCPU
 * with the scaling files and one without; no such VM, no kvm directory;
 * garbage in every file (words, signs, overflow, empty, too long, one of
 * two scaling files, a zero ratio, too many fraction bits): a clear error
 * naming the file, never a crash (run under ASan+UBSan too); the VM gone
 * between open and sample.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock_kvm.h"
#include "tap.h"

#define PID		4242
#define OFF0		(-123456789012LL)	/* vcpu0: a negative offset, scaled */
#define RATIO0		((3ULL << 48) / 2)	/* 1.5 in 48 fraction bits (Intel) */
#define FRAC0		48
#define OFF1		987654321LL		/* vcpu1: no scaling files */

static char root[PATH_MAX];

/* mono_ns() - CLOCK_MONOTONIC in nanoseconds */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* put() - write @text into root/@rel, creating its directories */
static void put(const char *rel, const char *text)
{
	char path[PATH_MAX * 2], *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		printf("Bail out! cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* mkdir_p() - root/@rel as a directory */
static void mkdir_p(const char *rel)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/.keep", rel);
	put(buf, "");
}

/* vm() - the layout: others' VMs, and ours (pid PID, VM fd 12, two vCPUs) */
static void vm(void)
{
	char buf[64];

	/* another process's VM, with vCPUs: never taken */
	put("kvm/1234-11/vcpu0/tsc-offset", "5\n");
	put("kvm/42420-12/vcpu0/tsc-offset", "5\n");
	/* our process's first VM has no vCPU (a capability probe): skipped */
	mkdir_p("kvm/4242-9");
	/* our VM */
	snprintf(buf, sizeof(buf), "%lld\n", OFF0);
	put("kvm/4242-12/vcpu0/tsc-offset", buf);
	snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)RATIO0);
	put("kvm/4242-12/vcpu0/tsc-scaling-ratio", buf);
	snprintf(buf, sizeof(buf), "%d\n", FRAC0);
	put("kvm/4242-12/vcpu0/tsc-scaling-ratio-frac-bits", buf);
	snprintf(buf, sizeof(buf), "%lld\n", OFF1);
	put("kvm/4242-12/vcpu1/tsc-offset", buf);
	/* vcpu3 without vcpu2: a hole ends the count */
	put("kvm/4242-12/vcpu3/tsc-offset", "0\n");
	/* other files KVM has there */
	put("kvm/4242-12/vcpu0/lapic_timer_advance_ns", "1000\n");
	put("kvm/4242-12/pages_4k", "0\n");
}

/* test_formula() - clock_kvm_guest_tsc() on chosen values */
static void test_formula(void)
{
	is(clock_kvm_guest_tsc(1000, 0, 1, 0), 1000, "no scaling, no offset: host TSC");
	is(clock_kvm_guest_tsc(1000, -300, 1, 0), 700, "a negative offset");
	is(clock_kvm_guest_tsc(1000, 5, 3ULL << 31, 32), 1505,
	   "ratio 1.5 (AMD, 32 fraction bits), then the offset");
	is(clock_kvm_guest_tsc(1ULL << 62, 0, 1ULL << 49, 48), 1ULL << 63,
	   "the product is 128 bits wide (2^62 * 2.0)");
	is(clock_kvm_guest_tsc(10, -20, 1, 0), (uint64_t)-10,
	   "wraps modulo 2^64 like the hardware");
}

/* test_sample() - our VM found, both vCPUs sampled, the host TSC in between */
static void test_sample(void)
{
	struct htf_clock_sample s[8];
	struct clock_kvm *k = NULL;
	uint64_t before, after, t0, t1;
	char err[256] = "";
	long n;

	ok(clock_kvm_open(&k, root, PID, err, sizeof(err)) == 0 && k,
	   "the VM of our pid is found among two processes' VMs");
	if (!k) {
		diag("%s", err);
		return;
	}
	is(clock_kvm_nvcpus(k), 2, "vcpu0 and vcpu1 counted; vcpu3 after a hole is not");
	t0 = mono_ns();
	before = __builtin_ia32_rdtsc();
	n = clock_kvm_sample(k, s, 8, err, sizeof(err));
	after = __builtin_ia32_rdtsc();
	t1 = mono_ns();
	is(n, 2, "one sample per vCPU");
	if (n != 2) {
		diag("%s", err);
		clock_kvm_close(k);
		return;
	}
	ok(s[0].cpu == 0 && s[1].cpu == 1 && s[0].method == HTF_CLOCK_KVM_OFFSET &&
	   s[1].method == HTF_CLOCK_KVM_OFFSET && !s[0].reserved && !s[1].reserved,
	   "samples: vCPU index, HTF_CLOCK_KVM_OFFSET, reserved zero");
	ok(s[0].guest_tsc >= clock_kvm_guest_tsc(before, OFF0, RATIO0, FRAC0) &&
	   s[0].guest_tsc <= clock_kvm_guest_tsc(after, OFF0, RATIO0, FRAC0),
	   "vcpu0: ((host_tsc * ratio) >> frac_bits) + offset, host TSC read during the sample");
	ok(s[1].guest_tsc >= before + OFF1 && s[1].guest_tsc <= after + OFF1,
	   "vcpu1 (no scaling files): host_tsc + offset");
	ok(t0 <= s[0].host_ns && s[0].host_ns <= s[1].host_ns && s[1].host_ns <= t1,
	   "host_ns: CLOCK_MONOTONIC during the sample, vCPUs in order");
	is(clock_kvm_sample(k, s, 1, err, sizeof(err)), 1, "no more samples than room");
	clock_kvm_close(k);
}

/* expect_bad() - @file of vcpu0 holds @text: sampling fails, naming @file */
static void expect_bad(const char *file, const char *text, const char *what)
{
	char rel[128], path[PATH_MAX * 2], err[512] = "";
	struct htf_clock_sample s[4];
	struct clock_kvm *k = NULL;
	char msg[256];
	long n = 1;

	snprintf(rel, sizeof(rel), "kvm/4242-12/vcpu0/%s", file);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (text)
		put(rel, text);
	else
		unlink(path);
	if (!clock_kvm_open(&k, root, PID, err, sizeof(err)))
		n = clock_kvm_sample(k, s, 4, err, sizeof(err));
	snprintf(msg, sizeof(msg), "%s: -EINVAL, the error names the file", what);
	ok(n == -EINVAL && (strstr(err, file) || strstr(err, "scaling files")), msg);
	if (n != -EINVAL || !strstr(err, "vcpu0"))
		diag("got %ld: %s", n, err);
	clock_kvm_close(k);
	vm();	/* put the good layout back */
}

/* test_garbage() - every kind of malformed file */
static void test_garbage(void)
{
	static char big[4096];

	expect_bad("tsc-offset", "abc\n", "tsc-offset is a word");
	expect_bad("tsc-offset", "", "tsc-offset is empty");
	expect_bad("tsc-offset", "12abc\n", "tsc-offset has trailing junk");
	expect_bad("tsc-offset", "1 2\n", "tsc-offset has two numbers");
	expect_bad("tsc-offset", "99999999999999999999\n", "tsc-offset overflows");
	expect_bad("tsc-offset", "--5\n", "tsc-offset has two signs");
	memset(big, '1', sizeof(big) - 1);
	expect_bad("tsc-offset", big, "tsc-offset is 4 KiB of digits");
	expect_bad("tsc-scaling-ratio", "-1\n", "tsc-scaling-ratio is negative");
	expect_bad("tsc-scaling-ratio", "0\n", "tsc-scaling-ratio is zero");
	expect_bad("tsc-scaling-ratio", "18446744073709551616\n",
		   "tsc-scaling-ratio overflows");
	expect_bad("tsc-scaling-ratio-frac-bits", "64\n", "64 fraction bits");
	expect_bad("tsc-scaling-ratio-frac-bits", "0x30\n", "fraction bits in hex");
	expect_bad("tsc-scaling-ratio-frac-bits", NULL, "only one of the two scaling files");
}

/* test_missing() - no such VM, no kvm directory, the VM gone after open */
static void test_missing(void)
{
	struct htf_clock_sample s[4];
	struct clock_kvm *k = NULL;
	char err[512] = "", path[PATH_MAX * 2];

	is(clock_kvm_open(&k, root, 999, err, sizeof(err)), -ENOENT,
	   "no VM of that pid: -ENOENT");
	ok(strstr(err, "999") != NULL, "... and the error names the pid");
	snprintf(path, sizeof(path), "%s/nothing", root);
	is(clock_kvm_open(&k, path, PID, err, sizeof(err)), -ENOENT,
	   "no kvm directory (debugfs not mounted): -ENOENT");
	ok(strstr(err, "nothing/kvm") != NULL, "... and the error names it");
	if (clock_kvm_open(&k, root, PID, err, sizeof(err)))
		return;
	snprintf(path, sizeof(path), "%s/kvm/4242-12/vcpu1/tsc-offset", root);
	unlink(path);
	is(clock_kvm_sample(k, s, 4, err, sizeof(err)), -ENOENT,
	   "a vCPU gone between open and sample: -ENOENT");
	ok(strstr(err, "vcpu1/tsc-offset") != NULL, "... naming what is gone");
	clock_kvm_close(k);
	vm();
}

/* main() - build the layout, run the cases, remove the layout */
int main(void)
{
	char cmd[PATH_MAX + 16];
	const char *tmp = getenv("TMPDIR");

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(root, sizeof(root), "%s/ht-clock-kvm-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	vm();
	test_formula();
	test_sample();
	test_garbage();
	test_missing();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		diag("could not remove %s", root);
	return done_testing();
}

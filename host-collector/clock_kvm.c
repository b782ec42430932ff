// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: guest TSC samples from KVM's debugfs (see
 * clock_kvm.h), as trace-cmd's trace-timesync-kvm.c takes them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock_kvm.h"

#define NUM_MAX		32	/* bytes of a debugfs number file we accept */

/**
 * struct clock_kvm - one VM's directory in KVM's debugfs
 * @dir:    .../kvm/<pid>-<fd>
 * @nvcpus: its vcpu<N> directories, N = 0..@nvcpus - 1
 */
struct clock_kvm {
	char dir[PATH_MAX];
	unsigned int nvcpus;
};

/* say() - the one-line reason into @err (may be NULL) */
static void __attribute__((format(printf, 3, 4)))
say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* mono_ns() - CLOCK_MONOTONIC in nanoseconds */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* uint64_t clock_kvm_guest_tsc() - see clock_kvm.h */
uint64_t clock_kvm_guest_tsc(uint64_t host_tsc, int64_t offset, uint64_t ratio,
			     unsigned int frac_bits)
{
	unsigned __int128 scaled = (unsigned __int128)host_tsc * ratio;

	return (uint64_t)(scaled >> (frac_bits & 127)) + (uint64_t)offset;
}

/* vm_fd() - the <fd> of a "<pid>-<fd>" entry of process @pid, or -1 */
static long vm_fd(const char *name, pid_t pid)
{
	char *end;
	long p, fd;

	if (name[0] < '0' || name[0] > '9')
		return -1;
	errno = 0;
	p = strtol(name, &end, 10);
	if (errno || *end != '-' || p != pid || end[1] < '0' || end[1] > '9')
		return -1;
	fd = strtol(end + 1, &end, 10);
	return errno || *end || fd > INT_MAX ? -1 : fd;
}

/* count_vcpus() - vcpu0, vcpu1... in @dir without a hole, at most CLOCK_KVM_MAX_VCPUS */
static unsigned int count_vcpus(const char *dir)
{
	char path[PATH_MAX];
	unsigned int n;

	for (n = 0; n < CLOCK_KVM_MAX_VCPUS; n++) {
		if (snprintf(path, sizeof(path), "%s/vcpu%u", dir, n) >= (int)sizeof(path) ||
		    access(path, F_OK))
			break;
	}
	return n;
}

/* int clock_kvm_open() - see clock_kvm.h */
int clock_kvm_open(struct clock_kvm **out, const char *debugfs, pid_t pid,
		   char *err, size_t errlen)
{
	char kvm[PATH_MAX - 32], dir[PATH_MAX];
	struct clock_kvm *k;
	struct dirent *de;
	long fd, best = -1;
	unsigned int n, nbest = 0;
	DIR *d;

	if (snprintf(kvm, sizeof(kvm), "%s/kvm", debugfs) >= (int)sizeof(kvm)) {
		say(err, errlen, "debugfs path too long: %s", debugfs);
		return -ENAMETOOLONG;
	}
	d = opendir(kvm);
	if (!d) {
		int e = errno;

		say(err, errlen, "cannot open %s: %s", kvm, strerror(e));
		return -e;
	}
	while ((de = readdir(d)) != NULL) {
		fd = vm_fd(de->d_name, pid);
		if (fd < 0)
			continue;
		if (snprintf(dir, sizeof(dir), "%s/%s", kvm, de->d_name) >= (int)sizeof(dir))
			continue;
		n = count_vcpus(dir);
		if (n && fd > best) {
			best = fd;
			nbest = n;
		}
	}
	closedir(d);
	if (best < 0) {
		say(err, errlen, "no VM of process %d with vCPUs in %s", (int)pid, kvm);
		return -ENOENT;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		say(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* fits: the entry's name was <pid>-<best> and fitted in dir[] */
	if (snprintf(k->dir, sizeof(k->dir), "%s/%d-%ld", kvm, (int)pid, best) >=
	    (int)sizeof(k->dir))
		k->dir[0] = '\0';
	k->nvcpus = nbest;
	*out = k;
	return 0;
}

/* unsigned int clock_kvm_nvcpus() - see clock_kvm.h */
unsigned int clock_kvm_nvcpus(const struct clock_kvm *k)
{
	return k->nvcpus;
}

/*
 * read_num() - the number in @path: decimal, a sign only if @is_signed,
 * surrounding white space allowed; 0, -ENOENT if the file is missing,
 * -EINVAL if it does not hold one number in range, or -errno
 */
static int read_num(const char *path, bool is_signed, uint64_t *out,
		    char *err, size_t errlen)
{
	char buf[NUM_MAX + 1], *p, *end;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;
	ssize_t n;

	if (fd < 0) {
		e = errno;
		if (e != ENOENT)
			say(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	n = read(fd, buf, sizeof(buf));
	e = errno;
	close(fd);
	if (n < 0) {
		say(err, errlen, "cannot read %s: %s", path, strerror(e));
		return -e;
	}
	if (n > NUM_MAX)
		goto out_bad;
	buf[n] = '\0';
	for (p = buf; *p == ' ' || *p == '\t' || *p == '\n'; p++)
		;
	if (!(*p >= '0' && *p <= '9') && !(is_signed && *p == '-' && p[1] >= '0' && p[1] <= '9'))
		goto out_bad;
	errno = 0;
	if (is_signed)
		*out = (uint64_t)strtoll(p, &end, 10);
	else
		*out = strtoull(p, &end, 10);
	if (errno)
		goto out_bad;
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	if (*end)
		goto out_bad;
	return 0;

out_bad:
	say(err, errlen, "%s does not hold a %snumber", path,
	    is_signed ? "" : "non-negative ");
	return -EINVAL;
}

/**
 * struct vcpu_tsc - how one vCPU's TSC follows the host's
 * @offset:    tsc-offset
 * @ratio:     tsc-scaling-ratio, 1 without the file
 * @frac_bits: tsc-scaling-ratio-frac-bits, 0 without the file
 */
struct vcpu_tsc {
	int64_t offset;
	uint64_t ratio;
	unsigned int frac_bits;
};

/* read_vcpu() - vCPU @n's files; 0 or -errno after saying why */
static int read_vcpu(const struct clock_kvm *k, unsigned int n, struct vcpu_tsc *v,
		     char *err, size_t errlen)
{
	char path[PATH_MAX + 64];	/* k->dir is shorter than PATH_MAX */
	uint64_t off, ratio = 1, frac = 0;
	int ret, ret2;

	snprintf(path, sizeof(path), "%s/vcpu%u/tsc-offset", k->dir, n);
	ret = read_num(path, true, &off, err, errlen);
	if (ret == -ENOENT)
		say(err, errlen, "%s is gone (the VM exited?)", path);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/vcpu%u/tsc-scaling-ratio", k->dir, n);
	ret = read_num(path, false, &ratio, err, errlen);
	snprintf(path, sizeof(path), "%s/vcpu%u/tsc-scaling-ratio-frac-bits", k->dir, n);
	ret2 = read_num(path, false, &frac, err, errlen);
	if (ret && ret != -ENOENT)
		return ret;
	if (ret2 && ret2 != -ENOENT)
		return ret2;
	if ((ret == -ENOENT) != (ret2 == -ENOENT)) {
		say(err, errlen, "%s/vcpu%u has only one of the TSC scaling files",
		    k->dir, n);
		return -EINVAL;
	}
	if (ret == -ENOENT) {
		ratio = 1;	/* this host does not scale the TSC */
		frac = 0;
	}
	if (!ratio || frac >= 64) {
		say(err, errlen, "%s/vcpu%u: tsc-scaling-ratio %llu with "
		    "tsc-scaling-ratio-frac-bits %llu is not a ratio", k->dir, n,
		    (unsigned long long)ratio, (unsigned long long)frac);
		return -EINVAL;
	}
	v->offset = (int64_t)off;
	v->ratio = ratio;
	v->frac_bits = (unsigned int)frac;
	return 0;
}

/* long clock_kvm_sample() - see clock_kvm.h */
long clock_kvm_sample(struct clock_kvm *k, struct htf_clock_sample *out,
		      unsigned int max, char *err, size_t errlen)
{
	struct vcpu_tsc v;
	uint64_t t0, t1, tsc;
	unsigned int n;
	int ret;

	for (n = 0; n < k->nvcpus && n < max; n++) {
		ret = read_vcpu(k, n, &v, err, errlen);
		if (ret)
			return ret;
		t0 = mono_ns();
		tsc = __builtin_ia32_rdtsc();
		t1 = mono_ns();
		out[n] = (struct htf_clock_sample){
			.guest_tsc = clock_kvm_guest_tsc(tsc, v.offset, v.ratio, v.frac_bits),
			.host_ns = t0 + (t1 - t0) / 2,
			.cpu = n,
			.method = HTF_CLOCK_KVM_OFFSET,
		};
	}
	return n;
}

/* void clock_kvm_close() - see clock_kvm.h */
void clock_kvm_close(struct clock_kvm *k)
{
	free(k);
}

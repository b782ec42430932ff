// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: what the trace's metadata says about the host and
 * the kernel: the vmlinux build-id (libelf), the host CPU and TSC rate.
 */
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "meta.h"

/* meta_build_id() - hex build-id of the ELF file @path into @out; 0 or -1 */
int meta_build_id(const char *path, char *out, size_t outlen)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int fd, ret = -1;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		goto out_close;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		Elf_Data *data;
		GElf_Nhdr nh;
		size_t off = 0, noff, doff, i;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		while (data && (off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((char *)data->d_buf + noff, "GNU", 4))
				continue;
			if (nh.n_descsz * 2 + 1 > outlen)
				break;
			for (i = 0; i < nh.n_descsz; i++)
				sprintf(out + 2 * i, "%02x",
					((unsigned char *)data->d_buf)[doff + i]);
			ret = 0;
			goto out_end;
		}
	}
out_end:
	elf_end(elf);
out_close:
	close(fd);
	return ret;
}

/* meta_cpu_model() - "model name" from /proc/cpuinfo into @out */
void meta_cpu_model(char *out, size_t outlen)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "re");

	snprintf(out, outlen, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !v)
			continue;
		v += 2;
		v[strcspn(v, "\n")] = '\0';
		snprintf(out, outlen, "%s", v);
		break;
	}
	fclose(f);
}

/* rdtsc_host() - the host's TSC */
static uint64_t rdtsc_host(void)
{
	return __builtin_ia32_rdtsc();
}

/* mono_ns() - CLOCK_MONOTONIC in nanoseconds */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * tsc_at() - a TSC reading and the CLOCK_MONOTONIC moment it stands for:
 * the TSC read between two clock reads, the tightest of a few tries (a
 * preemption between the reads widens one, not all)
 */
static void tsc_at(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	int i;

	for (i = 0; i < 16; i++) {
		uint64_t a = mono_ns(), t = rdtsc_host(), b = mono_ns();

		if (b - a < best) {
			best = b - a;
			*tsc = t;
			*ns = a + (b - a) / 2;
		}
	}
}

/*
 * meta_tsc_khz() - the host TSC rate, measured against CLOCK_MONOTONIC
 * (the clock samples' clock) over 50 ms: under TCG it is the guest's TSC
 * rate too, so its error scales every guest time
 */
uint64_t meta_tsc_khz(void)
{
	struct timespec d = { 0, 50 * 1000 * 1000 };
	uint64_t t0, t1, n0, n1;

	tsc_at(&t0, &n0);
	nanosleep(&d, NULL);
	tsc_at(&t1, &n1);
	return n1 > n0 ? (t1 - t0) * 1000000ULL / (n1 - n0) : 0;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: guest RAM through QEMU's memory-backend-file.  The
 * file is mapped shared: we read the rings and write their tails back so
 * the guest can reuse the slots.  Everything in it is the guest's to
 * change at any time; libhtrace does the validating.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"

/* shmem_open() - map guest RAM from @path; 0 or -errno */
int shmem_open(struct shmem_chan *m, const char *path)
{
	struct stat sb;
	int err;

	memset(m, 0, sizeof(*m));
	m->fd = open(path, O_RDWR | O_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	if (fstat(m->fd, &sb) < 0 || sb.st_size <= 0) {
		err = sb.st_size <= 0 ? -EINVAL : -errno;
		goto out_close;
	}
	m->map = mmap(NULL, sb.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      m->fd, 0);
	if (m->map == MAP_FAILED) {
		err = -errno;
		m->map = NULL;
		goto out_close;
	}
	m->size = sb.st_size;
	return 0;

out_close:
	close(m->fd);
	m->fd = -1;
	return err;
}

/*
 * shmem_locate() - open the control area the guest announced at @gpa.
 * With one memory backend below 4 GiB, guest-physical address == file
 * offset.  Returns 0 or an HTR_E_* code.
 */
int shmem_locate(struct shmem_chan *m, uint64_t gpa)
{
	int err;

	if (m->found)
		return 0;
	if (gpa >= m->size)
		return HTR_E_RANGE;
	err = htr_area_open(&m->area, m->map, m->size, gpa, true);
	if (err == HTR_OK)
		m->found = true;
	return err;
}

/* shmem_scan() - look for a control area by its magic; 0 or HTR_E_* */
int shmem_scan(struct shmem_chan *m)
{
	int err;

	if (m->found)
		return 0;
	m->last_scan = now_ns();
	err = htr_area_find(&m->area, m->map, m->size, true);
	if (err == HTR_OK)
		m->found = true;
	return err;
}

/*
 * shmem_close() - unmap guest RAM and close its file; a zeroed or closed
 * channel has nothing to undo (the file is open exactly while it is mapped)
 */
void shmem_close(struct shmem_chan *m)
{
	if (m->found)
		htr_area_close(&m->area);
	if (m->map) {
		munmap(m->map, m->size);
		close(m->fd);
	}
	m->map = NULL;
	m->fd = -1;
	m->found = false;
}

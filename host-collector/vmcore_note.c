// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: the guest's VMCOREINFO note, added by the host to
 * a vmcore that lacks it.  QEMU copies VMCOREINFO into its dump only once
 * the guest's fw_cfg driver has told -device vmcoreinfo where the note
 * is, a device initcall late in the boot; the kernel builds the note
 * itself much earlier (crash_save_vmcoreinfo_init(), a subsys initcall),
 * page-aligned.  So for a guest that died in between, the collector finds
 * the note in guest RAM and writes the vmcore again with it appended to
 * QEMU's PT_NOTE segment.
 *
 * Guest RAM is hostile: a candidate must be a whole note at a page start
 * with the VMCOREINFO name, a bounded size, printable text beginning with
 * "OSRELEASE=" and the kernel's empty final note after it.  It is text for
 * crash tools, the same the guest would have handed QEMU; a lying guest
 * can only mislead them about itself.  QEMU's ELF is parsed with every
 * offset and count bounded.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"

#define GUEST_PAGE	4096u
#define NOTE_NAME	"VMCOREINFO"
#define NOTE_NAME_SZ	12u	/* "VMCOREINFO\0", padded to 4 */
#define DESC_MAX	VMCOREINFO_TEXT_MAX
#define PHDRS_MAX	65535u	/* below PN_XNUM: QEMU then uses sh_info */
#define COPY_CHUNK	(1u << 20)

/* pad4() - @n rounded up to a multiple of 4 */
static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* note_at() - the length of the VMCOREINFO text of a valid note at @p, or 0 */
static size_t note_at(const unsigned char *p, size_t avail)
{
	Elf64_Nhdr nh, fin;
	size_t i, end;

	if (avail < sizeof(nh) + NOTE_NAME_SZ)
		return 0;
	memcpy(&nh, p, sizeof(nh));
	if (nh.n_namesz != sizeof(NOTE_NAME) || nh.n_type != 0 || nh.n_descsz < 16 ||
	    nh.n_descsz > DESC_MAX || memcmp(p + sizeof(nh), NOTE_NAME "\0", NOTE_NAME_SZ))
		return 0;
	end = sizeof(nh) + NOTE_NAME_SZ + pad4(nh.n_descsz);
	if (end + sizeof(fin) > avail)
		return 0;
	memcpy(&fin, p + end, sizeof(fin));
	if (fin.n_namesz || fin.n_descsz || fin.n_type)
		return 0;	/* the kernel's final_note() */
	p += sizeof(nh) + NOTE_NAME_SZ;
	if (memcmp(p, "OSRELEASE=", 10))
		return 0;
	for (i = 0; i < nh.n_descsz; i++)
		if (p[i] != '\n' && (p[i] < 0x20 || p[i] > 0x7e))
			return 0;
	return nh.n_descsz;
}

/**
 * vmcore_find_note() - the guest's VMCOREINFO text in its RAM
 * @ram:  guest RAM (its file's mapping)
 * @size: its size
 * @buf:  where the text is copied (VMCOREINFO_TEXT_MAX bytes)
 * @len:  set to its length
 *
 * Each page start is copied out of guest RAM before it is checked, and
 * only the copy is used.
 *
 * Return: 0, or -ENOENT when no page starts with a valid note.
 */
int vmcore_find_note(const unsigned char *ram, size_t size, unsigned char *buf, size_t *len)
{
	unsigned char copy[2 * sizeof(Elf64_Nhdr) + NOTE_NAME_SZ + DESC_MAX];
	size_t off, n, take;

	for (off = 0; off + GUEST_PAGE <= size; off += GUEST_PAGE) {
		if (memcmp(ram + off + sizeof(Elf64_Nhdr), NOTE_NAME, sizeof(NOTE_NAME)))
			continue;	/* the cheap test first */
		take = size - off < sizeof(copy) ? size - off : sizeof(copy);
		memcpy(copy, ram + off, take);
		n = note_at(copy, take);
		if (n) {
			memcpy(buf, copy + sizeof(Elf64_Nhdr) + NOTE_NAME_SZ, n);
			*len = n;
			return 0;
		}
	}
	return -ENOENT;
}

/* copy_range() - @len bytes of @in at @off to @out's current end; 0 or -errno */
static int copy_range(int in, off_t off, int out, uint64_t len)
{
	char *buf = malloc(COPY_CHUNK);
	ssize_t n;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	while (len) {
		n = pread(in, buf, len < COPY_CHUNK ? len : COPY_CHUNK, off);
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		if (write(out, buf, (size_t)n) != n) {
			err = -EIO;
			break;
		}
		off += n;
		len -= (uint64_t)n;
	}
	free(buf);
	return err;
}

/*
 * read_layout() - QEMU's ELF header and program headers (caller frees
 * *@ph), the index of its one PT_NOTE and where that ends; 0 or -EINVAL
 * when the layout is not one this can extend: the headers first, then
 * the notes, then every other segment after them
 */
static int read_layout(int fd, uint64_t fsize, Elf64_Ehdr *eh, Elf64_Phdr **ph,
		       unsigned int *note, uint64_t *note_end)
{
	uint64_t hdr_end;
	unsigned int i, nnotes = 0;

	*ph = NULL;
	if (pread(fd, eh, sizeof(*eh), 0) != sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_type != ET_CORE ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff != sizeof(*eh) ||
	    !eh->e_phnum || eh->e_phnum >= PHDRS_MAX)
		return -EINVAL;
	hdr_end = sizeof(*eh) + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
	*ph = calloc(eh->e_phnum, sizeof(Elf64_Phdr));
	if (!*ph)
		return -ENOMEM;
	if (pread(fd, *ph, eh->e_phnum * sizeof(Elf64_Phdr), sizeof(*eh)) !=
	    (ssize_t)(eh->e_phnum * sizeof(Elf64_Phdr)))
		goto out_bad;
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = &(*ph)[i];

		if (p->p_offset > fsize || p->p_filesz > fsize - p->p_offset)
			goto out_bad;
		if (p->p_type == PT_NOTE) {
			*note = i;
			nnotes++;
		}
	}
	if (nnotes != 1 || (*ph)[*note].p_offset < hdr_end)
		goto out_bad;
	*note_end = (*ph)[*note].p_offset + (*ph)[*note].p_filesz;
	for (i = 0; i < eh->e_phnum; i++)
		if (i != *note && (*ph)[i].p_filesz && (*ph)[i].p_offset < *note_end)
			goto out_bad;
	return 0;

out_bad:
	free(*ph);
	*ph = NULL;
	return -EINVAL;
}

/* note_bytes() - the ELF note of @text into @buf (room for it checked by the caller) */
static size_t note_bytes(unsigned char *buf, const unsigned char *text, size_t len)
{
	Elf64_Nhdr nh = { .n_namesz = sizeof(NOTE_NAME), .n_descsz = (Elf64_Word)len };
	size_t n = sizeof(nh) + NOTE_NAME_SZ + pad4(len);

	memset(buf, 0, n);
	memcpy(buf, &nh, sizeof(nh));
	memcpy(buf + sizeof(nh), NOTE_NAME, sizeof(NOTE_NAME));
	memcpy(buf + sizeof(nh) + NOTE_NAME_SZ, text, len);
	return n;
}

/**
 * vmcore_add_note() - write the vmcore at @path again with a VMCOREINFO
 * note of @text at the end of its PT_NOTE segment (every later segment
 * moves by the note's size); the new file replaces the old one
 * @path: the vmcore (0600)
 * @fd:   it, open for reading
 * @text: the VMCOREINFO text (at most a page)
 * @len:  its length
 *
 * Return: 0, -EINVAL when the ELF is not laid out as QEMU writes it, or
 * -errno; the old file is left as it was on failure.
 */
int vmcore_add_note(const char *path, int fd, const unsigned char *text, size_t len)
{
	unsigned char note[sizeof(Elf64_Nhdr) + NOTE_NAME_SZ + DESC_MAX];
	char tmp[PATH_MAX + 8];
	uint64_t note_end, hdr_end;
	unsigned int i, ni;
	Elf64_Ehdr eh;
	Elf64_Phdr *ph;
	struct stat st;
	size_t nlen;
	int out, err;

	if (len > DESC_MAX || fstat(fd, &st))
		return -EINVAL;
	err = read_layout(fd, (uint64_t)st.st_size, &eh, &ph, &ni, &note_end);
	if (err)
		return err;
	nlen = note_bytes(note, text, len);
	hdr_end = sizeof(eh) + (uint64_t)eh.e_phnum * sizeof(*ph);
	ph[ni].p_filesz += nlen;
	if (ph[ni].p_memsz)
		ph[ni].p_memsz += nlen;
	for (i = 0; i < eh.e_phnum; i++)
		if (i != ni && ph[i].p_filesz)
			ph[i].p_offset += nlen;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		err = -errno;
		goto out_free_ph;
	}
	if (write(out, &eh, sizeof(eh)) != sizeof(eh) ||
	    write(out, ph, hdr_end - sizeof(eh)) != (ssize_t)(hdr_end - sizeof(eh))) {
		err = -EIO;
		goto out_unlink;
	}
	err = copy_range(fd, (off_t)hdr_end, out, note_end - hdr_end);
	if (!err && write(out, note, nlen) != (ssize_t)nlen)
		err = -EIO;
	if (!err)
		err = copy_range(fd, (off_t)note_end, out, (uint64_t)st.st_size - note_end);
	if (!err && rename(tmp, path))
		err = -errno;
	if (!err)
		goto out_close;
out_unlink:
	unlink(tmp);
out_close:
	close(out);
out_free_ph:
	free(ph);
	return err;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: a vmcore as crash tools read it.  QEMU's
 * dump-guest-memory with paging off gives every segment its physical
 * address as its virtual one; vmcore-dmesg finds the kernel's log only
 * through kernel virtual addresses, as a kdump /proc/vmcore has them.
 * And QEMU copies VMCOREINFO into the dump only once the guest's fw_cfg
 * driver has told -device vmcoreinfo where the note is, a device initcall
 * late in the boot, while the kernel builds the note itself much earlier
 * (crash_save_vmcoreinfo_init(), a subsys initcall), page-aligned.
 *
 * So the collector writes the vmcore again: the VMCOREINFO note found in
 * guest RAM appended to QEMU's PT_NOTE segment when QEMU had none, and
 * for every PT_LOAD a second one over the same bytes at its kernel-image
 * address (__START_KERNEL_map + physical - phys_base, inside
 * KERNEL_IMAGE_SIZE) and, without KASLR, a third at its direct-map
 * address (PAGE_OFFSET + physical), as the kernel's own kdump headers do.
 *
 * Guest RAM is hostile: a candidate note must be whole, at a page start,
 * with the VMCOREINFO name, a bounded size, printable text beginning with
 * "OSRELEASE=" and the kernel's empty final note after it.  It is text for
 * crash tools, the same the guest would have handed QEMU; a lying guest
 * can only mislead them about itself, and the numbers taken from it are
 * bounded.  QEMU's ELF is parsed with every offset and count bounded.
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
#define PHDRS_MAX	16384u	/* QEMU's own, well below PN_XNUM with ours added */
#define HEAD_MAX	4096u	/* the ELF and section headers before the program headers */
#define NOTES_MAX	(16u << 20)	/* PT_NOTE bytes read from a vmcore */
#define START_KERNEL_MAP	0xffffffff80000000ULL
#define PAGE_OFFSET_L4	0xffff888000000000ULL	/* without KASLR (RANDOMIZE_MEMORY) */
#define PAGE_OFFSET_L5	0xff11000000000000ULL
#define IMAGE_SIZE_MAX	(1ULL << 30)	/* KERNEL_IMAGE_SIZE with KASLR */
#define DIRECT_MAX	(1ULL << 46)	/* physical addresses the direct map covers */
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

/**
 * struct layout - QEMU's ELF core as this file extends it
 * @eh:       the ELF header
 * @head:     the file's first @eh.e_phoff bytes: the ELF header, then
 *            the section headers if any (QEMU 7.2 puts them there)
 * @sh:       the section headers, inside @head
 * @ph:       the program headers (@eh.e_phnum), at @eh.e_phoff
 * @note:     the index of the one PT_NOTE
 * @note_end: where its notes end; every other segment comes after them
 */
struct layout {
	Elf64_Ehdr eh;
	unsigned char head[HEAD_MAX];
	Elf64_Shdr *sh;
	Elf64_Phdr *ph;
	unsigned int note;
	uint64_t note_end;
};

/*
 * read_layout() - QEMU's headers into @l (the caller frees @l->ph); 0, or
 * -EINVAL when the layout is not one this can extend: the ELF header,
 * the section headers, the program headers, the notes right after them,
 * then every other segment (and section) after the notes
 */
static int read_layout(int fd, uint64_t fsize, struct layout *l)
{
	Elf64_Ehdr *eh = &l->eh;
	uint64_t ph_end;
	unsigned int i, nnotes = 0;

	l->ph = NULL;
	if (pread(fd, eh, sizeof(*eh), 0) != sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_type != ET_CORE ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff < sizeof(*eh) ||
	    eh->e_phoff > HEAD_MAX || !eh->e_phnum || eh->e_phnum >= PHDRS_MAX)
		return -EINVAL;
	if (pread(fd, l->head, eh->e_phoff, 0) != (ssize_t)eh->e_phoff)
		return -EINVAL;
	l->sh = NULL;
	if (eh->e_shnum) {
		/* section headers only between the ELF and program headers */
		if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff < sizeof(*eh) ||
		    eh->e_shoff > eh->e_phoff ||
		    (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > eh->e_phoff - eh->e_shoff ||
		    eh->e_shoff % 8)
			return -EINVAL;
		l->sh = (Elf64_Shdr *)(l->head + eh->e_shoff);
	}
	ph_end = eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
	l->ph = calloc(eh->e_phnum, sizeof(Elf64_Phdr));
	if (!l->ph)
		return -ENOMEM;
	if (pread(fd, l->ph, eh->e_phnum * sizeof(Elf64_Phdr), (off_t)eh->e_phoff) !=
	    (ssize_t)(eh->e_phnum * sizeof(Elf64_Phdr)))
		goto out_bad;
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = &l->ph[i];

		if (p->p_offset > fsize || p->p_filesz > fsize - p->p_offset)
			goto out_bad;
		if (p->p_type == PT_NOTE) {
			l->note = i;
			nnotes++;
		}
	}
	if (nnotes != 1 || l->ph[l->note].p_offset != ph_end)
		goto out_bad;
	l->note_end = l->ph[l->note].p_offset + l->ph[l->note].p_filesz;
	for (i = 0; i < eh->e_phnum; i++)
		if (i != l->note && l->ph[i].p_filesz && l->ph[i].p_offset < l->note_end)
			goto out_bad;
	for (i = 0; i < eh->e_shnum; i++)
		if (l->sh[i].sh_size && l->sh[i].sh_type != SHT_NOBITS &&
		    l->sh[i].sh_offset < l->note_end)
			goto out_bad;
	return 0;

out_bad:
	free(l->ph);
	l->ph = NULL;
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

/*
 * notes_find() - the desc of the note named VMCOREINFO in the notes @p
 * (@len bytes) into @buf; its length, or 0 (bounded walk: a note that
 * does not fit ends it)
 */
static size_t notes_find(const unsigned char *p, size_t len, unsigned char *buf)
{
	size_t off = 0;
	Elf64_Nhdr nh;

	while (len - off >= sizeof(nh)) {
		uint64_t nsz, dsz;

		memcpy(&nh, p + off, sizeof(nh));
		nsz = pad4(nh.n_namesz);
		dsz = pad4(nh.n_descsz);
		if (nsz > len - off - sizeof(nh) || dsz > len - off - sizeof(nh) - nsz)
			return 0;
		if (nh.n_namesz == sizeof(NOTE_NAME) && nh.n_descsz && nh.n_descsz <= DESC_MAX &&
		    !memcmp(p + off + sizeof(nh), NOTE_NAME, sizeof(NOTE_NAME))) {
			memcpy(buf, p + off + sizeof(nh) + nsz, nh.n_descsz);
			return nh.n_descsz;
		}
		off += sizeof(nh) + nsz + dsz;
	}
	return 0;
}

/**
 * vmcore_info() - the VMCOREINFO text an ELF core file carries
 * @fd:  the file
 * @buf: where it goes (VMCOREINFO_TEXT_MAX bytes)
 * @len: set to its length
 *
 * Return: 1 if it carries one, 0 if not, -1 if it is not a 64-bit ELF core.
 */
int vmcore_info(int fd, unsigned char *buf, size_t *len)
{
	unsigned char *notes;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	unsigned int i;

	*len = 0;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_CORE ||
	    eh.e_phentsize != sizeof(ph) || eh.e_phoff > INT64_MAX / 2)
		return -1;
	for (i = 0; i < eh.e_phnum && !*len; i++) {
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) !=
		    sizeof(ph))
			return -1;
		if (ph.p_type != PT_NOTE || !ph.p_filesz || ph.p_filesz > NOTES_MAX ||
		    ph.p_offset > INT64_MAX / 2)
			continue;
		notes = malloc(ph.p_filesz);
		if (!notes)
			return -1;
		if (pread(fd, notes, ph.p_filesz, (off_t)ph.p_offset) == (ssize_t)ph.p_filesz)
			*len = notes_find(notes, ph.p_filesz, buf);
		free(notes);
	}
	return *len > 0;
}

/*
 * info_number() - the value of "KEY=" at a line start of VMCOREINFO @s
 * (@len bytes), in @base; 0, or -1 when absent or malformed
 */
static int info_number(const unsigned char *s, size_t len, const char *key, int base,
		       long long *out)
{
	char line[64], *end;
	size_t k = strlen(key), i, n;

	for (i = 0; i + k < len; i++) {
		if ((i && s[i - 1] != '\n') || memcmp(s + i, key, k))
			continue;
		for (n = 0; i + k + n < len && s[i + k + n] != '\n' && n < sizeof(line) - 1; n++)
			line[n] = (char)s[i + k + n];
		line[n] = '\0';
		errno = 0;
		*out = strtoll(line, &end, base);
		return n && !*end && !errno ? 0 : -1;
	}
	return -1;
}

/**
 * struct kmap - where the guest kernel maps physical memory (from VMCOREINFO)
 * @phys_base:  NUMBER(phys_base): the kernel image's physical displacement
 * @image_size: NUMBER(KERNEL_IMAGE_SIZE)
 * @direct:     PAGE_OFFSET, 0 when it is not known (KASLR randomizes it)
 */
struct kmap {
	uint64_t phys_base;
	uint64_t image_size;
	uint64_t direct;
};

/* kmap_read() - the mappings VMCOREINFO implies; 0, or -1 without phys_base */
static int kmap_read(const unsigned char *info, size_t len, struct kmap *k)
{
	long long pb, size, off, l5;

	if (info_number(info, len, "NUMBER(phys_base)=", 10, &pb) || pb < 0 ||
	    (uint64_t)pb >= DIRECT_MAX || pb % GUEST_PAGE)
		return -1;
	if (info_number(info, len, "NUMBER(KERNEL_IMAGE_SIZE)=", 10, &size) || size <= 0 ||
	    (uint64_t)size > IMAGE_SIZE_MAX)
		size = 512LL << 20;
	k->phys_base = (uint64_t)pb;
	k->image_size = (uint64_t)size;
	k->direct = 0;
	if (!info_number(info, len, "KERNELOFFSET=", 16, &off) && !off) {
		l5 = 0;
		info_number(info, len, "NUMBER(pgtable_l5_enabled)=", 10, &l5);
		k->direct = l5 ? PAGE_OFFSET_L5 : PAGE_OFFSET_L4;
	}
	return 0;
}

/*
 * add_virtual() - for each PT_LOAD of @ph (@n of them), its kernel-image
 * and direct-map copies into @out (room for 2 * @n); how many
 */
static unsigned int add_virtual(const Elf64_Phdr *ph, unsigned int n, const struct kmap *k,
				Elf64_Phdr *out)
{
	unsigned int i, m = 0;

	for (i = 0; i < n; i++) {
		const Elf64_Phdr *p = &ph[i];
		uint64_t lo = k->phys_base, hi = k->phys_base + k->image_size;
		uint64_t a, b;

		if (p->p_type != PT_LOAD || !p->p_filesz || p->p_filesz != p->p_memsz ||
		    p->p_paddr >= DIRECT_MAX || p->p_filesz > DIRECT_MAX - p->p_paddr)
			continue;
		a = p->p_paddr > lo ? p->p_paddr : lo;
		b = p->p_paddr + p->p_filesz < hi ? p->p_paddr + p->p_filesz : hi;
		if (a < b) {
			out[m] = *p;
			out[m].p_offset += a - p->p_paddr;
			out[m].p_paddr = a;
			out[m].p_vaddr = START_KERNEL_MAP + (a - k->phys_base);
			out[m].p_filesz = out[m].p_memsz = b - a;
			m++;
		}
		if (k->direct) {
			out[m] = *p;
			out[m].p_vaddr = k->direct + p->p_paddr;
			m++;
		}
	}
	return m;
}

/**
 * vmcore_rewrite() - write the vmcore at @path again as crash tools read
 * it; the new file (0600) replaces the old one
 * @path: the vmcore
 * @fd:   it, open for reading
 * @note: VMCOREINFO text to append to its PT_NOTE segment, or NULL when
 *        it has the note already
 * @info: the VMCOREINFO text (@note, or the one the file has), for the
 *        kernel's mappings
 * @len:  its length (at most VMCOREINFO_TEXT_MAX)
 *
 * Every PT_LOAD gets its kernel-virtual copies (see the top of this
 * file); the headers, the notes and the memory keep QEMU's order.
 *
 * Return: 0, -EINVAL when the ELF is not laid out as QEMU writes it, or
 * -errno; the old file is left as it was on failure.
 */
int vmcore_rewrite(const char *path, int fd, const unsigned char *note,
		   const unsigned char *info, size_t len)
{
	unsigned char nbuf[sizeof(Elf64_Nhdr) + NOTE_NAME_SZ + DESC_MAX];
	char tmp[PATH_MAX + 8];
	uint64_t ph_end, shift;
	unsigned int i, nph, nextra = 0;
	Elf64_Phdr *all;
	struct layout *l;
	struct kmap k;
	struct stat st;
	size_t nlen = 0;
	int out, err;

	if (len > DESC_MAX || fstat(fd, &st))
		return -EINVAL;
	l = malloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	err = read_layout(fd, (uint64_t)st.st_size, l);
	if (err)
		goto out_free_l;
	nph = l->eh.e_phnum;
	all = calloc(3u * nph, sizeof(*all));
	if (!all) {
		err = -ENOMEM;
		goto out_free_ph;
	}
	if (note)
		nlen = note_bytes(nbuf, note, len);
	if (!kmap_read(info, len, &k))
		nextra = add_virtual(l->ph, nph, &k, all + nph);
	if (!nlen && !nextra)
		goto out_free_all;	/* nothing to add */
	ph_end = l->eh.e_phoff + (uint64_t)nph * sizeof(*all);
	shift = (uint64_t)nextra * sizeof(*all);
	memcpy(all, l->ph, nph * sizeof(*all));
	for (i = 0; i < nph + nextra; i++) {
		if (i == l->note) {
			all[i].p_offset += shift;
			all[i].p_filesz += nlen;
			if (all[i].p_memsz)
				all[i].p_memsz += nlen;
		} else if (all[i].p_filesz) {
			all[i].p_offset += shift + nlen;
		}
	}
	/* the sections (QEMU's .shstrtab) are all after the notes */
	for (i = 0; i < l->eh.e_shnum; i++)
		if (l->sh[i].sh_size && l->sh[i].sh_type != SHT_NOBITS)
			l->sh[i].sh_offset += shift + nlen;
	l->eh.e_phnum = (Elf64_Half)(nph + nextra);
	memcpy(l->head, &l->eh, sizeof(l->eh));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		err = -errno;
		goto out_free_all;
	}
	if (write(out, l->head, l->eh.e_phoff) != (ssize_t)l->eh.e_phoff ||
	    write(out, all, (nph + nextra) * sizeof(*all)) !=
	    (ssize_t)((nph + nextra) * sizeof(*all))) {
		err = -EIO;
		goto out_unlink;
	}
	err = copy_range(fd, (off_t)ph_end, out, l->note_end - ph_end);
	if (!err && nlen && write(out, nbuf, nlen) != (ssize_t)nlen)
		err = -EIO;
	if (!err)
		err = copy_range(fd, (off_t)l->note_end, out, (uint64_t)st.st_size - l->note_end);
	if (!err && rename(tmp, path))
		err = -errno;
	if (!err)
		goto out_close;
out_unlink:
	unlink(tmp);
out_close:
	close(out);
out_free_all:
	free(all);
out_free_ph:
	free(l->ph);
out_free_l:
	free(l);
	return err;
}

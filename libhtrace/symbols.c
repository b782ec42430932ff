// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: resolve guest code addresses against vmlinux (libelf) or
 * System.map.  An address that no function covers stays unresolved: a
 * wrong name is worse than an address.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols.h"

/* add_sym() - append one symbol; 0 or -ENOMEM */
static int add_sym(struct htr_syms *s, size_t *cap, uint64_t addr,
		   uint64_t size, const char *name)
{
	if (s->nr == *cap) {
		size_t n = *cap ? *cap * 2 : 4096;
		struct htr_sym *p = realloc(s->sym, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->sym = p;
		*cap = n;
	}
	s->sym[s->nr].name = strdup(name);
	if (!s->sym[s->nr].name)
		return -ENOMEM;
	s->sym[s->nr].addr = addr;
	s->sym[s->nr].size = size;
	s->nr++;
	return 0;
}

/* by_addr() - qsort order */
static int by_addr(const void *a, const void *b)
{
	const struct htr_sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/**
 * htr_syms_load_elf() - the function symbols of an ELF file (vmlinux)
 * @s:    filled in; release with htr_syms_free()
 * @path: the file
 *
 * Return: 0, -errno, or -ENOENT when it has no symbol table.
 */
int htr_syms_load_elf(struct htr_syms *s, const char *path)
{
	Elf_Scn *scn = NULL;
	size_t cap = 0;
	int fd, err = -ENOENT;
	Elf *elf;

	memset(s, 0, sizeof(*s));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf) {
		err = -EINVAL;
		goto out_close;
	}
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; data && i < n; i++) {
			GElf_Sym sym;
			const char *name;

			/*
			 * functions, and the assembly entry points that are
			 * symbols without a type but with a size
			 * (ret_from_fork): backtraces end in them
			 */
			if (!gelf_getsym(data, (int)i, &sym) || !sym.st_value ||
			    !(GELF_ST_TYPE(sym.st_info) == STT_FUNC ||
			      (GELF_ST_TYPE(sym.st_info) == STT_NOTYPE && sym.st_size)))
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (name && *name && add_sym(s, &cap, sym.st_value, sym.st_size, name)) {
				err = -ENOMEM;
				goto out_end;
			}
		}
		err = 0;
	}
	qsort(s->sym, s->nr, sizeof(*s->sym), by_addr);
out_end:
	elf_end(elf);
out_close:
	close(fd);
	if (err)
		htr_syms_free(s);
	return err;
}

/**
 * htr_syms_load_map() - the text symbols of a System.map
 * @s:    filled in; release with htr_syms_free()
 * @path: the file
 *
 * System.map has no sizes: a symbol covers up to the next one.
 *
 * Return: 0 or -errno.
 */
int htr_syms_load_map(struct htr_syms *s, const char *path)
{
	char line[512], name[256], type;
	unsigned long long addr;
	size_t cap = 0;
	FILE *f;

	memset(s, 0, sizeof(*s));
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 ||
		    (type != 't' && type != 'T' && type != 'W' && type != 'w'))
			continue;
		if (add_sym(s, &cap, addr, 0, name)) {
			fclose(f);
			htr_syms_free(s);
			return -ENOMEM;
		}
	}
	fclose(f);
	qsort(s->sym, s->nr, sizeof(*s->sym), by_addr);
	return 0;
}

/*
 * covering() - the symbol covering link-time address @a, or NULL; a
 * symbol without a size (System.map) reaches up to the next one, and the
 * last of them covers only its own address (where it ends is unknown)
 */
static const struct htr_sym *covering(const struct htr_syms *s, uint64_t a)
{
	size_t lo = 0, hi = s->nr;
	const struct htr_sym *sym;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->sym[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	sym = &s->sym[lo - 1];
	if (sym->size && a >= sym->addr + sym->size)
		return NULL;
	if (!sym->size && lo == s->nr && a != sym->addr)
		return NULL;
	return sym;
}

/**
 * htr_syms_lookup() - the function covering a guest address
 * @s:      the table
 * @addr:   an address as the guest ran it (KASLR offset included)
 * @offset: set to @addr's offset into the function, if not NULL
 *
 * Return: the name, or NULL when no function covers @addr.
 */
const char *htr_syms_lookup(const struct htr_syms *s, uint64_t addr,
			    uint64_t *offset)
{
	const struct htr_sym *sym = addr >= s->kaslr ? covering(s, addr - s->kaslr) : NULL;

	if (!sym)
		return NULL;
	if (offset)
		*offset = addr - s->kaslr - sym->addr;
	return sym->name;
}

/*
 * format_at() - @addr as "function+0xoff/0xsize", the function being the
 * one that covers @look (@addr itself, or the byte before a return address)
 */
static char *format_at(const struct htr_syms *s, uint64_t addr, uint64_t look,
		       char *buf, size_t len)
{
	const struct htr_sym *sym = look >= s->kaslr ? covering(s, look - s->kaslr) : NULL;
	uint64_t a, size;

	if (!len)
		return buf;
	if (!sym) {
		snprintf(buf, len, "0x%" PRIx64, addr);
		return buf;
	}
	size = sym->size;
	if (!size && sym + 1 < s->sym + s->nr)
		size = sym[1].addr - sym->addr;
	/* look is addr or addr - 1, so this cannot wrap */
	a = addr - s->kaslr - sym->addr;
	if (size)
		snprintf(buf, len, "%s+0x%" PRIx64 "/0x%" PRIx64, sym->name, a, size);
	else
		snprintf(buf, len, "%s+0x%" PRIx64, sym->name, a);
	return buf;
}

/**
 * htr_syms_format() - a guest address as the kernel prints it in a backtrace
 * @s:   the table
 * @addr: an address as the guest ran it (KASLR offset included)
 * @buf: where the text goes: "function+0xoff/0xsize", or the address in
 *       hex when no function covers it ("/0xsize" is left out when the
 *       size is unknown: the last symbol of a System.map)
 * @len: its size
 *
 * Return: @buf.
 */
char *htr_syms_format(const struct htr_syms *s, uint64_t addr, char *buf, size_t len)
{
	return format_at(s, addr, addr, buf, len);
}

/**
 * htr_syms_format_ret() - a return address as the kernel's %pB prints it
 * @s:    the table
 * @addr: a return address as the guest ran it (KASLR offset included)
 * @buf:  where the text goes, as for htr_syms_format()
 * @len:  its size
 *
 * The function is the one that covers @addr - 1, the call instruction's
 * last byte: a call to a function that never returns (panic()) may end
 * its function, and its return address be the first byte of the next
 * one.  The offset is @addr's, so it may equal the size.
 *
 * Return: @buf.
 */
char *htr_syms_format_ret(const struct htr_syms *s, uint64_t addr, char *buf, size_t len)
{
	return format_at(s, addr, addr ? addr - 1 : addr, buf, len);
}

/* htr_syms_free() - release a table */
void htr_syms_free(struct htr_syms *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		free(s->sym[i].name);
	free(s->sym);
	s->sym = NULL;
	s->nr = 0;
}

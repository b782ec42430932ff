/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libhtrace: code addresses from the guest to names, from vmlinux's ELF
 * symbol table (libelf) or System.map.  Symbols stay on the host; the
 * guest only sends addresses.
 */
#ifndef _HTRACE_SYMBOLS_H
#define _HTRACE_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

/**
 * struct htr_sym - one function symbol
 * @addr: its link-time address
 * @size: its size, 0 if unknown (System.map)
 * @name: its name
 */
struct htr_sym {
	uint64_t addr;
	uint64_t size;
	char *name;
};

/**
 * struct htr_syms - a sorted symbol table
 * @sym:   the symbols, by address
 * @nr:    how many
 * @kaslr: subtracted from an address before lookup (the guest's KASLR offset)
 */
struct htr_syms {
	struct htr_sym *sym;
	size_t nr;
	uint64_t kaslr;
};

int htr_syms_load_elf(struct htr_syms *s, const char *path);
int htr_syms_load_map(struct htr_syms *s, const char *path);
const char *htr_syms_lookup(const struct htr_syms *s, uint64_t addr,
			    uint64_t *offset);
char *htr_syms_format(const struct htr_syms *s, uint64_t addr, char *buf, size_t len);
char *htr_syms_format_ret(const struct htr_syms *s, uint64_t addr, char *buf, size_t len);
void htr_syms_free(struct htr_syms *s);

#endif /* _HTRACE_SYMBOLS_H */

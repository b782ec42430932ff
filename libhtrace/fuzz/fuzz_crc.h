/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Shared by the fuzz targets that take trace-file bytes: give every chunk
 * the CRC it should have, so that mutations get past the CRC check.
 */
#ifndef _HT_FUZZ_CRC_H
#define _HT_FUZZ_CRC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tracefile.h"

/* le32() - load a little-endian u32 */
static inline uint32_t le32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* chunk_crc() - the CRC a chunk at @h with @len payload bytes should carry */
static inline uint32_t chunk_crc(const unsigned char *h, uint32_t len)
{
	unsigned char hdr[HTF_CHUNK_HEADER_SIZE];

	memcpy(hdr, h, sizeof(hdr));
	memset(hdr + 12, 0, 4);
	return htf_crc32(htf_crc32(0, hdr, sizeof(hdr)),
			 h + HTF_CHUNK_HEADER_SIZE, len);
}

/* fix_crcs() - give every chunk that fits in @img the CRC it should have */
static inline void fix_crcs(unsigned char *img, size_t size)
{
	size_t pos = HTF_HEADER_SIZE, need;
	unsigned char *h;
	uint32_t len, crc;

	while (pos <= size && size - pos >= HTF_CHUNK_HEADER_SIZE) {
		h = img + pos;
		len = le32(h + 8);
		if (len > HTF_MAX_PAYLOAD)
			return;
		need = HTF_CHUNK_HEADER_SIZE + (((size_t)len + 7) & ~(size_t)7);
		if (size - pos < need)
			return;
		crc = chunk_crc(h, len);
		h[12] = (unsigned char)crc;
		h[13] = (unsigned char)(crc >> 8);
		h[14] = (unsigned char)(crc >> 16);
		h[15] = (unsigned char)(crc >> 24);
		pos += need;
	}
}

#endif /* _HT_FUZZ_CRC_H */

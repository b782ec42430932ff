// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for the trace file reader: arbitrary bytes as a trace
 * file, read to the end twice, as they are and then with the CRC of every
 * chunk that fits recomputed, so that mutations also get past the CRC and
 * exercise the walk over the chunks behind it.  Every payload byte is read,
 * and the reader's promises are checked (a broken one traps).
 *
 * Build and run like fuzz_reader; seeds are valid trace files.
 */
#include <stdlib.h>
#include <string.h>

#include "htrace.h"
#include "tracefile.h"
#include "fuzz_crc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned char sink;

/* read_all() - read @img to the end, touching every byte handed out */
static void read_all(const unsigned char *img, size_t size)
{
	uint64_t end = HTF_HEADER_SIZE;
	unsigned char acc = 0;
	struct htf_reader r;
	struct htf_chunk c;
	uint32_t i;

	if (htf_open_mem(&r, img, size) != HTR_OK)
		return;
	while (htf_next(&r, &c) == 1) {
		/* whole, in place, in order, aligned, and really CRC-correct */
		if (c.offset != end || c.offset % 8 || c.len > HTF_MAX_PAYLOAD ||
		    c.offset + HTF_CHUNK_HEADER_SIZE > size ||
		    c.payload != img + c.offset + HTF_CHUNK_HEADER_SIZE ||
		    c.len > size - c.offset - HTF_CHUNK_HEADER_SIZE ||
		    chunk_crc(img + c.offset, c.len) !=
		    le32(img + c.offset + 12))
			__builtin_trap();
		for (i = 0; i < c.len; i++)
			acc ^= c.payload[i];
		end = r.pos;
	}
	/* the good chunks and the torn tail account for every byte */
	if (r.pos != end || r.pos + r.torn != size ||
	    !r.torn != !r.torn_reason)
		__builtin_trap();
	if (htf_next(&r, &c) != 0 || r.pos != end || r.pos + r.torn != size)
		__builtin_trap();
	sink = acc;
}

/* LLVMFuzzerTestOneInput() - the input as it is, then with its CRCs fixed */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *img;

	/* exact-size copy: ASan sees any read past the end of the file */
	img = malloc(size ? size : 1);
	if (!img)
		return 0;
	if (size)
		memcpy(img, data, size);
	read_all(img, size);
	fix_crcs(img, size);
	read_all(img, size);
	free(img);
	return 0;
}

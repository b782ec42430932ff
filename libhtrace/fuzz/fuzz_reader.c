// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for the host reader: arbitrary bytes as a guest memory
 * image (scan, validate, drain every ring twice, decode, recover the early
 * buffer) or as a raw record stream (port or hypercall channel).
 *
 * Build and run: make fuzz FUZZ_SECONDS=3600 (corpus in build/fuzz/corpus).
 */
#include <stdlib.h>
#include <string.h>

#include "htrace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* decode_all() - drain callback feeding the decoder */
static int decode_rec(void *ctx, const struct ht_record *rec, unsigned int ring)
{
	struct htr_event out[2];

	(void)ring;
	htr_decode(ctx, rec, out);
	return 0;
}

/* fuzz_image() - treat the input as guest RAM */
static void fuzz_image(const uint8_t *data, size_t size)
{
	struct htr_decoder dec;
	struct htr_early early;
	struct htr_event ev;
	struct htr_area a;
	unsigned char *img;
	unsigned int i;

	/* exact-size, aligned copy: ASan sees any read past the image */
	if (posix_memalign((void **)&img, 64, size ? size : 1))
		return;
	memcpy(img, data, size);
	if (htr_area_find(&a, img, size, true) == HTR_OK) {
		if (htr_decoder_init(&dec, a.ctl.nr_rings) == HTR_OK) {
			htr_area_drain(&a, decode_rec, &dec);
			htr_area_drain(&a, decode_rec, &dec);
			for (i = 0; i < a.ctl.nr_rings; i++) {
				htr_decoder_flush(&dec, i, &ev);
				htr_stream_pending_loss(&dec, i, a.rings[i].head);
			}
			htr_area_orphans(&a);
			htr_decoder_free(&dec);
		}
		htr_area_close(&a);
	}
	if (htr_early_find(&early, img, size) == HTR_OK &&
	    htr_decoder_init(&dec, 1) == HTR_OK) {
		for (i = 0; i < early.count; i++)
			decode_rec(&dec, &early.rec[i], 0);
		htr_decoder_free(&dec);
	}
	free(img);
}

/* fuzz_stream() - treat the input as records from a port or hypercall channel */
static void fuzz_stream(const uint8_t *data, size_t size)
{
	struct htr_decoder dec;
	struct ht_record r;
	size_t off;

	if (!size || htr_decoder_init(&dec, 1 + data[0] % 8) != HTR_OK)
		return;
	for (off = 1; off + sizeof(r) <= size; off += sizeof(r)) {
		memcpy(&r, data + off, sizeof(r));
		decode_rec(&dec, &r, 0);
		htr_event_name(ht_info_type(r.info));
	}
	htr_decoder_free(&dec);
}

/* LLVMFuzzerTestOneInput() - first byte picks image or stream */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		fuzz_stream(data + 1, size - 1);
	else
		fuzz_image(data + 1, size - 1);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for the kernel-log reader: arbitrary bytes as a guest
 * memory image (the struct ht_printk at the seeds' address, or wherever a
 * scan for its magic finds one; then the whole ring buffer walk) and as
 * the payload of an HTF_LOG chunk (decoded, encoded again and decoded
 * once more).
 *
 * Build and run: make fuzz FUZZ_SECONDS=3600 (corpus in
 * build/fuzz/printk-corpus, seeds from make_seeds).
 */
#include <stdlib.h>
#include <string.h>

#include "htrace.h"
#include "printk.h"
#include "tracefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* roundtrip() - encode @log with a limit and decode the result again */
static void roundtrip(const struct htr_log *log, size_t max)
{
	struct htr_log back;
	unsigned char *buf;
	size_t len;

	htr_log_init(&back);
	if (htr_log_encode(log, max, &buf, &len) == HTR_OK) {
		if (htr_log_decode(&back, buf, len) != HTR_OK || back.nr > log->nr)
			abort();
		free(buf);
	}
	htr_log_free(&back);
}

/* LLVMFuzzerTestOneInput() - one input, as an image and as a payload */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct htr_log log;
	unsigned char *img;
	size_t i;

	/* exact-size copy: ASan sees any read past the image */
	img = malloc(size ? size : 1);
	if (!img)
		return 0;
	memcpy(img, data, size);
	htr_log_init(&log);
	if (htr_log_find(&log, img, size, 0x100) == HTR_OK) {
		for (i = 0; i < log.nr; i++)
			if (strlen(log.rec[i].text) > log.rec[i].text_len)
				abort();
		roundtrip(&log, HTF_MAX_PAYLOAD);
		roundtrip(&log, 512);
	} else if (!log.why) {
		abort();	/* every failure says why */
	}
	htr_log_decode(&log, img, size);
	roundtrip(&log, HTF_MAX_PAYLOAD);
	htr_log_free(&log);
	free(img);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for the whole reading side: arbitrary bytes as a trace
 * file (as they are, then with every chunk's CRC fixed) through the
 * model's loader and derivation, and then through every writer: the text
 * report, the JSON, the HTML page, Perfetto JSON and CSV, into /dev/null.
 * (CTF writes a directory per call and is left to tools/tests/export.t.)
 *
 * Build: make build/fuzz/fuzz_model; seeds are the trace-file seeds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_crc.h"
#include "model.h"
#include "writers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* write_all() - load @img and run every writer on the model */
static void write_all(const unsigned char *img, size_t size, FILE *null)
{
	struct model_opts o = { .no_trace_symbols = true };
	struct boot_model m;
	char err[256];

	if (!model_load_mem(&m, img, size, &o, err, sizeof(err))) {
		report_write_text(&m, null, 15);
		model_write_json(&m, null);
		html_write(&m, null);
		export_perfetto(&m, null);
		export_csv(&m, null);
	}
	model_free(&m);
}

/* LLVMFuzzerTestOneInput() - the input as it is, then with its CRCs fixed */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	unsigned char *img;

	if (!null)
		null = fopen("/dev/null", "we");
	if (!null)
		return 0;
	/* exact-size copy: ASan sees any read past the end of the file */
	img = malloc(size ? size : 1);
	if (!img)
		return 0;
	if (size)
		memcpy(img, data, size);
	write_all(img, size, null);
	fix_crcs(img, size);
	write_all(img, size, null);
	free(img);
	return 0;
}

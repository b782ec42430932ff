// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for the whole reading side: arbitrary bytes as a trace
 * file (as they are, then with every chunk's CRC fixed) through the
 * model's loader and derivation, and then through a writer into
 * /dev/null: the text report, the JSON, the HTML page, Perfetto JSON or
 * CSV, one per input, chosen by its last byte (all five each time made a
 * run four times slower for no more coverage).  CTF writes a directory per
 * call and is left to tools/tests/export.t.
 *
 * Build: make build/fuzz/fuzz_model; seeds are the trace-file seeds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_graph.h"
#include "fuzz_crc.h"
#include "model.h"
#include "writers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* write_one() - load @img and run writer number @which on the model */
static void write_one(const unsigned char *img, size_t size, FILE *null,
		      unsigned int which)
{
	struct model_opts o = { .no_trace_symbols = true };
	struct boot_model m;
	char err[256];

	if (!model_load_mem(&m, img, size, &o, err, sizeof(err))) {
		switch (which % 6) {
		case 0:
			report_write_text(&m, null, 15, true);
			break;
		case 1:
			model_write_json(&m, null);
			break;
		case 2:
			html_write(&m, null);
			break;
		case 3:
			export_perfetto(&m, null);
			break;
		case 4:
			export_folded(&m, GRAPH_NONE, null);
			break;
		default:
			export_csv(&m, null);
		}
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
	write_one(img, size, null, size ? img[size - 1] : 0);
	fix_crcs(img, size);
	write_one(img, size, null, size ? img[size - 1] : 0);
	free(img);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Writes seed inputs for fuzz_reader with the real guest library: a guest
 * memory image with a populated control area, one holding only an early
 * buffer, and a port-style record stream; a trace file for fuzz_tracefile
 * and fuzz_model; and for fuzz_printk a memory image laid out like Linux
 * 6.1's printk ring buffer (libhtrace/tests/fake_printk.h) and an HTF_LOG
 * payload read from it.  Usage: make_seeds DIR [TF_DIR [PRINTK_DIR]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "ht_internal.h"
#include "printk.h"
#include "tracefile.h"
#include "../tests/fake_printk.h"

static unsigned char log_img[FP_TEXT + 4096];
static unsigned char *log_chunk;
static size_t log_chunk_len;

/* make_log() - a printk ring buffer that wrapped, and its HTF_LOG payload */
static int make_log(void)
{
	struct fake_prb f;
	struct htr_log log;
	char s[80];
	int i, err;

	fp_init(&f, log_img, 6, 12);
	for (i = 0; i < 150; i++) {
		snprintf(s, sizeof(s), "seed message %d%.*s", i, i % 40,
			 "................................................");
		fp_add(&f, s, 1000000ULL * i, i % 8, 2);
	}
	fp_add(&f, "committed", 151000000ULL, 4, 1);
	fp_add(&f, "half-written", 152000000ULL, 4, 0);
	htr_log_init(&log);
	err = htr_log_read(&log, log_img, sizeof(log_img), FP_WHERE);
	if (!err)
		err = htr_log_encode(&log, HTF_MAX_PAYLOAD, &log_chunk, &log_chunk_len);
	htr_log_free(&log);
	return err;
}

/* put_raw() - write @len bytes to DIR/NAME */
static int put_raw(const char *dir, const char *name, const void *p, size_t len)
{
	char path[4096];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return -1;
	}
	err = fwrite(p, 1, len, f) != len;
	err |= fclose(f) != 0;
	if (err)
		perror(path);
	return err ? -1 : 0;
}

/* put() - write @len bytes after a mode byte to DIR/NAME */
static int put(const char *dir, const char *name, unsigned char mode,
	       const void *p, size_t len)
{
	char path[4096];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return -1;
	}
	err = fwrite(&mode, 1, 1, f) != 1 || fwrite(p, 1, len, f) != len;
	err |= fclose(f) != 0;
	if (err)
		perror(path);
	return err ? -1 : 0;
}

/* put_trace() - a trace file with a chunk of each kind, into DIR/trace.htf */
static int put_trace(const char *dir, const void *rings, size_t len)
{
	static const char meta[] = "{\"tool\":\"make_seeds\",\"accel\":\"tcg\","
				   "\"launch_mono_ns\":1000000000}";
	/* a clock tie and a vCPU thread's switches, wake-up and migration */
	struct htf_clock_sample clk = {
		.guest_tsc = 0, .host_ns = 1001000000ULL, .method = HTF_CLOCK_DOORBELL,
	};
	struct htf_sched_event sched[] = {
		{ 1001000000ULL, 7, 0, HTF_SCHED_SWITCH_IN, 0, 0, 0, 0 },
		{ 1001500000ULL, 7, 0, HTF_SCHED_SWITCH_OUT, HTF_SCHED_PREEMPTED, 0, 0, 0 },
		{ 1001600000ULL, 7, 0, HTF_SCHED_MIGRATE, 0, 1, 0, 0 },
		{ 1001700000ULL, 7, 0, HTF_SCHED_SWITCH_IN, 0, 1, 0, 0 },
		{ 1001800000ULL, 7, 0, HTF_SCHED_SWITCH_OUT, HTF_SCHED_BLOCKED, 1, 1, 0 },
		{ 1001900000ULL, 7, 0, HTF_SCHED_WAKEUP, 0, 1, 0, 0 },
		{ 1002000000ULL, 8, 1, HTF_SCHED_SWITCH_IN, 0, 0, 0, 0 },
	};
	struct htf_writer w;
	char path[4096];

	snprintf(path, sizeof(path), "%s/trace.htf", dir);
	unlink(path);
	if (htf_create(&w, path)) {
		perror(path);
		return 1;
	}
	htf_append(&w, HTF_METADATA, HTF_SRC_NONE, 1, meta, sizeof(meta) - 1);
	htf_append(&w, HTF_RECORDS, HTF_SRC_PORT, 2, ht_test_port_buf + 1,
		   (ht_test_port_len - 1) / 32 * 32);
	htf_append(&w, HTF_RECORDS, HTF_SRC_RING, 3, rings, len > 4096 ? 4096 : len);
	htf_append(&w, HTF_HOST_EVENT, HTF_SRC_NONE, 4, "{\"event\":\"launch\"}", 18);
	htf_append(&w, HTF_CLOCK, HTF_SRC_NONE, 4, &clk, sizeof(clk));
	htf_append(&w, HTF_SCHED, HTF_SRC_NONE, 4, sched, sizeof(sched));
	htf_append(&w, HTF_LOG, HTF_SRC_NONE, 4, log_chunk, (uint32_t)log_chunk_len);
	htf_append(&w, HTF_END, HTF_SRC_NONE, 5, "{\"exit_status\":0}", 17);
	return htf_close(&w) ? 1 : 0;
}

/* emit_some() - a few events of each shape */
static void emit_some(void)
{
	ht_emit(HT_EV_START_KERNEL, 0, 0);
	ht_emit(HT_EV_INITCALL_BEGIN, 0xffffffff81000000ULL, 6);
	ht_emit(HT_EV_INITCALL_END, 0xffffffff81000000ULL, 0);
	/* async work, and the boot's thread waiting for it */
	ht_emit(HT_EV_ASYNC_WAIT_BEGIN, 2, 1);
	ht_emit(HT_EV_ASYNC_BEGIN, 0xffffffff81000300ULL, 1);
	ht_emit(HT_EV_ASYNC_END, 0xffffffff81000300ULL, 1);
	ht_emit(HT_EV_ASYNC_WAIT_END, 2, 1);
	/* a hypergraph: a task, a call with a child, an exits-only stretch */
	ht_emit(HT_EV_GRAPH_START, 0, ht_graph_limits(4, 0));
	ht_emit_str(HT_EV_TASK_SWITCH, 0, 1, "swapper/0");
	ht_emit(HT_EV_FUNC_ENTRY, 0xffffffff81000100ULL, 0xffffffff81000010ULL);
	ht_emit(HT_EV_FUNC_ENTRY, 0xffffffff81000200ULL, 0xffffffff81000110ULL);
	ht_emit(HT_EV_FUNC_EXIT, 0xffffffff81000200ULL, ht_func_exit(500, 1));
	ht_emit(HT_EV_FUNC_EXIT, 0xffffffff81000100ULL, ht_func_exit(900, 0));
	ht_emit(HT_EV_GRAPH_START, HT_GRAPH_F_EXITS_ONLY, ht_graph_limits(0, 100));
	ht_emit(HT_EV_FUNC_AGG, ht_func_agg(3, 1), 90);
	ht_emit(HT_EV_FUNC_EXIT, 0xffffffff81000100ULL, ht_func_exit(900, 0));
	ht_emit(HT_EV_GRAPH_STOP, 0, 0);
	ht_emit_str(HT_EV_PANIC, 0, 1, "Kernel panic - not syncing: seed");
}

/* main() - write the three seeds */
int main(int argc, char **argv)
{
	unsigned char *img;
	size_t size = 64 * 1024;
	__u64 need;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: %s DIR [TF_DIR [PRINTK_DIR]]\n", argv[0]);
		return 2;
	}
	if (make_log())
		return 1;
	if (argc == 4 && (put_raw(argv[3], "printk-image.bin", log_img, sizeof(log_img)) ||
			  put_raw(argv[3], "printk-chunk.bin", log_chunk, log_chunk_len)))
		return 1;
	img = aligned_alloc(64, size);
	memset(img, 0, size);
	/* early-only image: the early buffer copied into "RAM" at 4 KiB */
	emit_some();
	memcpy(img + 4096, &ht_early_buf, sizeof(ht_early_buf));
	if (put(argv[1], "early.bin", 0, img, 4096 + sizeof(ht_early_buf)))
		return 1;
	/* area image: 2 rings of 256 records at 8 KiB, early buffer moved */
	memset(img, 0, size);
	ht_setup(HT_MODE_SHMEM, HT_HV_NONE, 0);
	need = ht_area_size(2, 256);
	if (ht_rings_init(img + 8192, 8192, need, 2, 256))
		return 1;
	emit_some();
	ht_test_cpu = 1;
	/* the host's hint in ring 1: CPU 1's first record reports it */
	ht.cpu[1].hdr->host_pcpu = 3;
	ht.cpu[1].hdr->host_run_delay = 12345;
	emit_some();
	if (put(argv[1], "area.bin", 0, img, 8192 + need))
		return 1;
	/* port stream, after the byte that picks the decoder's CPU count */
	ht_setup(HT_MODE_PORT, HT_HV_OTHER, 0);
	ht_test_port_len = 1;
	ht_test_port_buf[0] = 1;
	emit_some();
	if (put(argv[1], "stream.bin", 1, ht_test_port_buf, ht_test_port_len))
		return 1;
	return argc >= 3 ? put_trace(argv[2], img + 8192, need) : 0;
}

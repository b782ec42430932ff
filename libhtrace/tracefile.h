/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libhtrace: the collector's trace file.
 *
 * An append-only file that stays readable whatever happens to the writer:
 * a 64-byte file header, then self-checking chunks.  Each chunk is written
 * with one write(2); a reader stops at the first chunk that is cut short
 * or fails its CRC (a torn tail: the writer, QEMU or the machine died
 * mid-write) and keeps everything before it.
 *
 *   file header (64 bytes, little-endian)
 *     u8  magic[8]       "HTTRACE\0"
 *     u32 version        HTF_VERSION
 *     u32 header_size    64
 *     u64 created_ns     CLOCK_REALTIME when the file was created
 *     u64 created_mono   CLOCK_MONOTONIC at the same moment
 *     u8  reserved[32]   zero
 *
 *   chunk header (24 bytes), then payload_len bytes, then zero padding to
 *   a multiple of 8
 *     u32 magic          HTF_CHUNK_MAGIC
 *     u16 kind           enum htf_kind
 *     u16 source         enum htf_source (records), else 0
 *     u32 payload_len    at most HTF_MAX_PAYLOAD
 *     u32 crc            CRC-32 (IEEE) of the chunk header with crc = 0,
 *                        then of the payload
 *     u64 host_ns        CLOCK_MONOTONIC when the chunk was made (for a
 *                        doorbell chunk: when its bytes arrived)
 */
#ifndef _HTRACE_TRACEFILE_H
#define _HTRACE_TRACEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "hypertrace_abi.h"

#define HTF_MAGIC		"HTTRACE"	/* 8 bytes with the NUL */
#define HTF_VERSION		1
#define HTF_HEADER_SIZE		64
#define HTF_CHUNK_MAGIC		0x4b4e4843	/* "CHNK" */
#define HTF_CHUNK_HEADER_SIZE	24
#define HTF_MAX_PAYLOAD		(16U << 20)

/* What a chunk holds. */
enum htf_kind {
	HTF_METADATA = 1,	/* JSON object: command line, accelerator... */
	HTF_RECORDS = 2,	/* guest records, 32 bytes each, as received */
	HTF_HOST_EVENT = 3,	/* JSON object: launch, QMP event, exit... */
	HTF_LOSS = 4,		/* JSON object: loss counters at this point */
	HTF_END = 5,		/* JSON object: the collector finished cleanly */
	HTF_CLOCK = 6,		/* struct htf_clock_sample[]: guest TSC vs host */
	HTF_LOG = 7,		/* the kernel's log, read from guest RAM at the
				 * end of the run (layout below) */
	HTF_SCHED = 8,		/* struct htf_sched_event[]: the host scheduler's
				 * view of the vCPU threads */
};

/* What a host scheduler event says happened to a vCPU thread. */
enum htf_sched_kind {
	HTF_SCHED_SWITCH_IN = 1,  /* sched_switch: the thread starts running
				   * on @host_cpu */
	HTF_SCHED_SWITCH_OUT = 2, /* sched_switch: it stops running; @state
				   * says whether it is still runnable */
	HTF_SCHED_WAKEUP = 3,	  /* sched_wakeup: runnable again, queued on
				   * @host_cpu (target_cpu) */
	HTF_SCHED_MIGRATE = 4,	  /* sched_migrate_task: moved from host CPU
				   * @arg (orig_cpu) to @host_cpu (dest_cpu) */
};

/* @state of an HTF_SCHED_SWITCH_OUT */
enum htf_sched_state {
	HTF_SCHED_PREEMPTED = 0,  /* switched out runnable (prev_state R or R+) */
	HTF_SCHED_BLOCKED = 1,	  /* switched out sleeping (S, D, ...) */
};

/**
 * struct htf_sched_event - one host scheduler event of a vCPU thread (an
 * HTF_SCHED chunk holds an array of them, little-endian)
 * @host_ns:  the tracepoint's timestamp, CLOCK_MONOTONIC (trace_clock mono)
 * @tid:      the vCPU thread (QMP query-cpus-fast thread-id)
 * @vcpu:     that thread's vCPU (its place in QEMU's query-cpus-fast list,
 *            which is cpu-index order)
 * @kind:     enum htf_sched_kind
 * @state:    for SWITCH_OUT, enum htf_sched_state; else 0
 * @host_cpu: the host CPU it happened on (see @kind)
 * @arg:      MIGRATE: the host CPU it left; SWITCH_OUT: the raw prev_state
 *            (low 32 bits); else 0
 * @reserved: zero
 */
struct htf_sched_event {
	uint64_t host_ns;
	uint32_t tid;
	uint16_t vcpu;
	uint8_t kind;
	uint8_t state;
	uint32_t host_cpu;
	uint32_t arg;
	uint64_t reserved;
};

_Static_assert(sizeof(struct htf_sched_event) == 32, "sched event is 32 bytes");

/*
 * HTF_LOG payload (little-endian; libhtrace/printk.c writes and reads it,
 * at most one per trace, the last one wins):
 *
 *   header (48 bytes)
 *     u32 version        1
 *     u32 header_size    48
 *     u32 nr_records     records that follow
 *     u32 nr_skip        u64 skip counters after the header (enum
 *                        htr_log_skip order; a reader ignores extra ones)
 *     u64 printk_phys    guest-physical address of the struct ht_printk
 *     u64 walked         descriptors walked from the tail to the head
 *     u64 dropped        records left out to keep the chunk within
 *                        HTF_MAX_PAYLOAD (the oldest ones)
 *     u32 flags          0x1: the descriptor tail was clamped to one ring
 *     u32 reserved
 *   u64 skipped[nr_skip]
 *   nr_records times, in sequence order:
 *     u64 seq, u64 ts_nsec, u32 caller_id, u16 text_len, u8 level,
 *     u8 facility, u32 flags (0x1: committed, not finalized), u32 reserved,
 *     then text_len bytes of text (raw guest bytes), zero-padded to 8
 */

/* How a clock sample tied a guest TSC value to the host's clock. */
enum htf_clock_method {
	HTF_CLOCK_DOORBELL = 1,	/* a doorbell record's arrival: the host saw
				 * it at host_ns, after the guest stamped it */
	HTF_CLOCK_HYPERCALL = 2, /* kvm:kvm_hypercall's timestamp of the exit */
	HTF_CLOCK_KVM_OFFSET = 3, /* the host TSC read beside host_ns, mapped
				   * through the vCPU's debugfs tsc-offset and
				   * tsc-scaling-ratio */
};

/**
 * struct htf_clock_sample - one point of the guest-TSC to host-time map
 * (an HTF_CLOCK chunk holds an array of them, little-endian)
 * @guest_tsc: the guest's TSC
 * @host_ns:   CLOCK_MONOTONIC of the same moment (or just after it)
 * @cpu:       guest CPU (vCPU index) the TSC belongs to
 * @method:    enum htf_clock_method
 * @reserved:  zero
 */
struct htf_clock_sample {
	uint64_t guest_tsc;
	uint64_t host_ns;
	uint32_t cpu;
	uint32_t method;
	uint64_t reserved;
};

_Static_assert(sizeof(struct htf_clock_sample) == 32, "clock sample is 32 bytes");

/* Where the records of an HTF_RECORDS chunk came from. */
enum htf_source {
	HTF_SRC_NONE = 0,	/* chunks that are not records */
	HTF_SRC_RING = 1,	/* shmem rings (cpu in each record) */
	HTF_SRC_PORT = 2,	/* the I/O port doorbell */
	HTF_SRC_HYPERCALL = 3,	/* kvm:kvm_hypercall */
	HTF_SRC_EARLY = 4,	/* the early buffer, recovered from guest RAM */
};

/**
 * struct htf_writer - an open trace file being appended to
 * @fd:     the file, O_APPEND, mode 0600
 * @bytes:  bytes written so far
 * @error:  errno of the first failed write (the writer then stops)
 */
struct htf_writer {
	int fd;
	uint64_t bytes;
	int error;
};

int htf_create(struct htf_writer *w, const char *path);
int htf_append(struct htf_writer *w, enum htf_kind kind, enum htf_source src,
	       uint64_t host_ns, const void *payload, uint32_t len);
int htf_close(struct htf_writer *w);

/**
 * struct htf_chunk - one chunk as read back
 * @kind:    enum htf_kind
 * @source:  enum htf_source
 * @host_ns: CLOCK_MONOTONIC when it was made
 * @len:     payload bytes
 * @payload: points into the reader's buffer; valid until the next call
 * @offset:  file offset of the chunk header
 */
struct htf_chunk {
	uint16_t kind;
	uint16_t source;
	uint64_t host_ns;
	uint32_t len;
	const unsigned char *payload;
	uint64_t offset;
};

/**
 * struct htf_reader - a trace file being read
 * @data:        the file's bytes (mapped or copied)
 * @size:        how many
 * @pos:         offset of the next chunk
 * @created_ns:  from the file header
 * @created_mono: from the file header
 * @torn:        bytes dropped at the end (a torn tail), set once the end
 *               is reached
 * @torn_reason: why they were dropped, or NULL
 */
struct htf_reader {
	const unsigned char *data;
	size_t size;
	size_t pos;
	uint64_t created_ns;
	uint64_t created_mono;
	uint64_t torn;
	const char *torn_reason;
};

int htf_open_mem(struct htf_reader *r, const void *data, size_t size);
int htf_next(struct htf_reader *r, struct htf_chunk *c);
uint32_t htf_crc32(uint32_t crc, const void *data, size_t len);

#endif /* _HTRACE_TRACEFILE_H */

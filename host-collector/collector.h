/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * hypertrace-collector: shared definitions of the collector's parts.
 */
#ifndef _HT_COLLECTOR_H
#define _HT_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "boot.h"
#include "htrace.h"
#include "tracefile.h"

struct ring_seen;

/**
 * struct boot_state - what the collector knows of the boot so far
 * @b:             libhtrace's account of the boot, event by event
 * @records:       guest records received, all channels, each counted once
 * @copies:        doorbell copies of ring records (not in @records)
 * @last_progress: CLOCK_MONOTONIC ns of the last new record
 * @decomp_done:   DECOMP_END seen (the KVM probe counts it as the kernel
 *                 proper starting: its own records may travel by hypercall)
 * @dec_ring:      decoder of ring (and early buffer) records
 * @dec_port:      decoder of doorbell records (no sequence checks)
 * @db_keys:       (cpu, seq) of doorbell records whose ring copy has not
 *                 come (an open-addressing set, bounded)
 * @ndb_keys:      keys in it
 * @rings:         per CPU (HT_MAX_RINGS): the sequence numbers its ring
 *                 carried
 */
struct boot_state {
	struct htr_boot b;
	uint64_t records;
	uint64_t copies;
	uint64_t last_progress;
	bool decomp_done;
	struct htr_decoder dec_ring;
	struct htr_decoder dec_port;
	uint64_t *db_keys;
	unsigned int ndb_keys;
	struct ring_seen *rings;
};

int boot_state_init(struct boot_state *s);
void boot_state_free(struct boot_state *s);
void boot_state_feed(struct boot_state *s, const struct ht_record *rec,
		     unsigned int n, bool doorbell, uint64_t now);

/*
 * The I/O port doorbell (chan_port.c): QEMU's isa-debugcon streams the
 * bytes the guest writes through a unix socket.  Opaque; the channel owns
 * its descriptors.
 */
struct port_chan;

/* Bytes a guest may send through the doorbell before it is cut off. */
#define PORT_MAX_BYTES	(64ULL << 20)

int port_listen(struct port_chan **out, const char *path);
int port_connect(struct port_chan **out, const char *path);
int port_fd(const struct port_chan *p);
long port_read(struct port_chan *p, struct ht_record *out, unsigned int max);
uint64_t port_bytes(const struct port_chan *p);
bool port_flooded(const struct port_chan *p);
void port_close(struct port_chan *p);

/**
 * struct shmem_chan - guest RAM, shared with QEMU through a file
 * @fd:     the RAM file
 * @map:    its mapping (shared, read-write: we write ring tails back)
 * @size:   its size
 * @found:  @area is open
 * @area:   the control area, once found
 * @last_scan: CLOCK_MONOTONIC ns of the last scan for the control area
 */
struct shmem_chan {
	int fd;
	unsigned char *map;
	size_t size;
	bool found;
	struct htr_area area;
	uint64_t last_scan;
};

int shmem_open(struct shmem_chan *m, const char *path);
int shmem_locate(struct shmem_chan *m, uint64_t gpa);
int shmem_scan(struct shmem_chan *m);
void shmem_close(struct shmem_chan *m);

/*
 * QEMU's monitor (chan_qmp.c), for events, the vCPU threads and control.
 * Opaque; the channel owns its descriptors.
 */
struct qmp_chan;

/* Called for each QMP event: name and the whole message as JSON text. */
typedef void (*qmp_event_fn)(void *ctx, const char *event, const char *json);

int qmp_listen(struct qmp_chan **out, const char *path);
int qmp_connect(struct qmp_chan **out, const char *path);
int qmp_fd(const struct qmp_chan *q);
bool qmp_connected(const struct qmp_chan *q);
int qmp_read(struct qmp_chan *q, qmp_event_fn fn, void *ctx);
int qmp_command(struct qmp_chan *q, const char *cmd);
bool qmp_wait_ready(struct qmp_chan *q, unsigned int timeout_ms, qmp_event_fn fn, void *ctx);
int qmp_call(struct qmp_chan *q, const char *cmd, json_t *args, int pass_fd,
	     unsigned int timeout_ms, qmp_event_fn fn, void *ctx, json_t **reply);
unsigned int qmp_vcpu_tids(const struct qmp_chan *q, const pid_t **tids);
void qmp_close(struct qmp_chan *q);

/* run.c, attach.c */
int cmd_run(int argc, char **argv);
int cmd_attach(int argc, char **argv);

/* misc.c */
uint64_t now_ns(void);
uint64_t realtime_ns(void);

/**
 * struct unix_end - our end of a QEMU chardev on a unix socket: we listen
 * and QEMU connects once (run), or we connect to QEMU's server (attach)
 * @listen_fd: the listening socket, -1 once QEMU connected or when we connect
 * @fd:        the connection (non-blocking), -1 before it and after a hang-up
 */
struct unix_end {
	int listen_fd;
	int fd;
};

void unix_end_init(struct unix_end *e);
int unix_end_listen(struct unix_end *e, const char *path);
int unix_end_connect(struct unix_end *e, const char *path);
int unix_end_poll_fd(const struct unix_end *e);
int unix_end_conn(struct unix_end *e);
void unix_end_hangup(struct unix_end *e);
void unix_end_close(struct unix_end *e);
bool unix_path_fits(const char *path);
void coll_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* _HT_COLLECTOR_H */

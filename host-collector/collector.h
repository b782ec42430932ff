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

#include "htrace.h"
#include "tracefile.h"

/* Exit status of `hypertrace-collector run` (see --help). */
enum coll_exit {
	COLL_EXIT_BOOTED = 0,	/* boot completed (and the guest stopped) */
	COLL_EXIT_ERROR = 1,	/* the collector itself failed */
	COLL_EXIT_USAGE = 2,	/* bad option or argument */
	COLL_EXIT_PANIC = 3,	/* the guest panicked (or oopsed fatally) */
	COLL_EXIT_HANG = 4,	/* no guest progress for --hang-timeout */
	COLL_EXIT_CRASH = 5,	/* QEMU died, the guest reset, or it ended
				 * without finishing its boot */
};

/**
 * struct boot_state - what the collector knows of the boot so far
 * @records:      guest records received, all channels
 * @last_progress: CLOCK_MONOTONIC ns of the last new record
 * @level:        boot level now running (enum ht_level), -1 before any
 * @phase:        last phase begun (enum ht_phase), 0 before any
 * @initcall:     address of the initcall running now, 0 if none
 * @initcalls:    initcalls finished
 * @kernel_started: the decompressor finished, or the kernel proper spoke
 * @booted:       BOOT_DONE seen
 * @machine_call: MACHINE_CALL seen (the guest is shutting down on purpose)
 * @panicked:     PANIC seen
 * @oopsed:       OOPS seen
 * @panic_msg:    the panic (or oops) message
 * @panic_initcall: the initcall the panic named
 * @area_gpa:     guest-physical address ANNOUNCE gave, 0 before
 * @dec_ring:     decoder of ring (and early buffer) records
 * @dec_port:     decoder of doorbell records (no sequence checks)
 */
struct boot_state {
	uint64_t records;
	uint64_t last_progress;
	int level;
	unsigned int phase;
	uint64_t initcall;
	uint64_t initcalls;
	bool kernel_started;
	bool booted;
	bool machine_call;
	bool panicked;
	bool oopsed;
	char panic_msg[HT_STR_MAX + 1];
	uint64_t panic_initcall;
	uint64_t area_gpa;
	struct htr_decoder dec_ring;
	struct htr_decoder dec_port;
};

int boot_state_init(struct boot_state *s);
void boot_state_free(struct boot_state *s);
void boot_state_feed(struct boot_state *s, const struct ht_record *rec,
		     unsigned int n, bool doorbell, uint64_t now);

/**
 * struct port_chan - the I/O port doorbell: QEMU's isa-debugcon connects
 * to our unix socket and streams the bytes the guest writes
 * @listen_fd: listening socket, -1 once QEMU connected
 * @fd:        the connection, -1 before
 * @buf:       bytes not yet forming a whole record
 * @have:      how many
 * @bytes:     bytes received in all
 * @flooded:   the guest sent more than the limit; further bytes dropped
 */
struct port_chan {
	int listen_fd;
	int fd;
	unsigned char buf[HT_RECORD_SIZE];
	unsigned int have;
	uint64_t bytes;
	bool flooded;
};

/* Bytes a guest may send through the doorbell before it is cut off. */
#define PORT_MAX_BYTES	(64ULL << 20)

int port_listen(struct port_chan *p, const char *path);
int port_accept(struct port_chan *p);
long port_read(struct port_chan *p, struct ht_record *out, unsigned int max);
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

/**
 * struct qmp_chan - QEMU's monitor (QMP), for events and control
 * @listen_fd: listening socket (run), -1 once connected or when attaching
 * @fd:        the connection, -1 before
 * @ready:     capabilities negotiated
 * @buf:       bytes of a line not yet complete
 * @have:      how many
 * @cpus_asked: query-cpus-fast sent, reply not yet seen
 * @ntids:     vCPU threads found (0 until QEMU answered)
 * @tids:      their thread ids, for the hypercall channel
 */
struct qmp_chan {
	int listen_fd;
	int fd;
	bool ready;
	bool cpus_asked;
	unsigned int ntids;
	pid_t tids[256];
	char buf[65536];
	size_t have;
};

/* Called for each QMP event: name and the whole message as JSON text. */
typedef void (*qmp_event_fn)(void *ctx, const char *event, const char *json);

int qmp_listen(struct qmp_chan *q, const char *path);
int qmp_accept(struct qmp_chan *q);
int qmp_connect(struct qmp_chan *q, const char *path);
int qmp_read(struct qmp_chan *q, qmp_event_fn fn, void *ctx);
int qmp_command(struct qmp_chan *q, const char *cmd);
void qmp_close(struct qmp_chan *q);

/* run.c */
int cmd_run(int argc, char **argv);
int cmd_attach(int argc, char **argv);

/* misc.c */
uint64_t now_ns(void);
uint64_t realtime_ns(void);
int unix_listen(const char *path);
int unix_connect(const char *path);
int unix_accept_once(int *listen_fd, int *fd);
void coll_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* _HT_COLLECTOR_H */

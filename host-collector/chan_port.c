// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: the I/O port doorbell.  QEMU's isa-debugcon at
 * HT_PORT connects to our unix socket (run) or listens on one (attach)
 * and forwards every byte the guest writes; 32 bytes make a record.  The
 * guest is untrusted: the stream is cut into records without looking at
 * them, and a guest that floods the port is cut off after PORT_MAX_BYTES.
 * The channel owns its descriptors: only port_read() and port_close()
 * close them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"

/**
 * struct port_chan - the doorbell's socket and the bytes not yet a record
 * @sock:      the socket QEMU's isa-debugcon chardev writes to
 * @buf:       bytes not yet forming a whole record
 * @have:      how many
 * @bytes:     bytes received in all
 * @flooded:   the guest sent more than PORT_MAX_BYTES; the rest is dropped
 */
struct port_chan {
	struct unix_end sock;
	unsigned char buf[HT_RECORD_SIZE];
	unsigned int have;
	uint64_t bytes;
	bool flooded;
};

/* port_new() - a channel with no descriptor; NULL when out of memory */
static struct port_chan *port_new(void)
{
	struct port_chan *p = calloc(1, sizeof(*p));

	if (p)
		unix_end_init(&p->sock);
	return p;
}

/**
 * port_listen() - listen on @path for QEMU's chardev (run)
 * @out:  the new channel
 * @path: the socket's path
 *
 * Return: 0 or -errno.
 */
int port_listen(struct port_chan **out, const char *path)
{
	struct port_chan *p = port_new();
	int err;

	if (!p)
		return -ENOMEM;
	err = unix_end_listen(&p->sock, path);
	if (err) {
		free(p);
		return err;
	}
	*out = p;
	return 0;
}

/**
 * port_connect() - connect to an isa-debugcon chardev in server mode (attach)
 * @out:  the new channel
 * @path: the socket's path
 *
 * Return: 0 or -errno.
 */
int port_connect(struct port_chan **out, const char *path)
{
	struct port_chan *p = port_new();
	int err;

	if (!p)
		return -ENOMEM;
	err = unix_end_connect(&p->sock, path);
	if (err) {
		free(p);
		return err;
	}
	*out = p;
	return 0;
}

/**
 * port_fd() - the descriptor to poll(2) for POLLIN
 * @p: the channel, or NULL
 *
 * Return: the connection, the listening socket before QEMU connected, or
 * -1 (poll ignores it).  The channel keeps it: do not close it.
 */
int port_fd(const struct port_chan *p)
{
	return p ? unix_end_poll_fd(&p->sock) : -1;
}

/* port_cut() - cut @got bytes of @buf into records at @out[*n...] */
static void port_cut(struct port_chan *p, const unsigned char *buf, ssize_t got,
		     struct ht_record *out, unsigned int *n)
{
	ssize_t i;

	for (i = 0; i < got; i++) {
		p->buf[p->have++] = buf[i];
		if (p->have == HT_RECORD_SIZE) {
			memcpy(&out[(*n)++], p->buf, HT_RECORD_SIZE);
			p->have = 0;
		}
	}
}

/**
 * port_read() - take QEMU's connection if it came, read what is there
 * @p:   the channel, or NULL
 * @out: whole records go here
 * @max: at most this many
 *
 * When QEMU closed the socket, the channel closes its end.
 *
 * Return: records in @out (0 when nothing new), -ECONNRESET once when
 * QEMU closed the socket and nothing came before, or -errno.
 */
long port_read(struct port_chan *p, struct ht_record *out, unsigned int max)
{
	unsigned char buf[4096];
	unsigned int n = 0;
	ssize_t got;
	int fd;

	if (!p)
		return 0;
	fd = unix_end_conn(&p->sock);
	if (fd < 0)
		return 0;
	while (n < max) {
		size_t want = (size_t)(max - n) * HT_RECORD_SIZE;

		got = read(fd, buf, want < sizeof(buf) ? want : sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return errno == EAGAIN ? (long)n : -errno;
		if (got == 0) {
			unix_end_hangup(&p->sock);
			return n ? (long)n : -ECONNRESET;
		}
		p->bytes += got;
		if (p->bytes > PORT_MAX_BYTES) {
			p->flooded = true;
			continue;	/* drain and drop */
		}
		port_cut(p, buf, got, out, &n);
	}
	return n;
}

/**
 * port_bytes() - bytes the guest sent through the doorbell so far
 * @p: the channel, or NULL
 *
 * Return: the count, those dropped after a flood included.
 */
uint64_t port_bytes(const struct port_chan *p)
{
	return p ? p->bytes : 0;
}

/**
 * port_flooded() - whether the guest sent more than PORT_MAX_BYTES
 * @p: the channel, or NULL
 *
 * Return: true once the channel cut the guest off.
 */
bool port_flooded(const struct port_chan *p)
{
	return p && p->flooded;
}

/**
 * port_close() - close the sockets and free the channel
 * @p: the channel, or NULL
 */
void port_close(struct port_chan *p)
{
	if (!p)
		return;
	unix_end_close(&p->sock);
	free(p);
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: the I/O port doorbell.  QEMU's isa-debugcon at
 * HT_PORT connects to our unix socket and forwards every byte the guest
 * writes; 32 bytes make a record.  The guest is untrusted: the stream is
 * cut into records without looking at them, and a guest that floods the
 * port is cut off after PORT_MAX_BYTES.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector.h"

/* port_listen() - listen on @path for QEMU's chardev; 0 or -errno */
int port_listen(struct port_chan *p, const char *path)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->listen_fd = unix_listen(path);
	return p->listen_fd < 0 ? p->listen_fd : 0;
}

/* port_accept() - take QEMU's connection; 0, or -EAGAIN if none yet */
int port_accept(struct port_chan *p)
{
	return unix_accept_once(&p->listen_fd, &p->fd);
}

/*
 * port_read() - read what is there, return whole records in @out (at most
 * @max); 0 when nothing new, -ECONNRESET when QEMU closed the socket
 */
long port_read(struct port_chan *p, struct ht_record *out, unsigned int max)
{
	unsigned char buf[4096];
	unsigned int n = 0;
	ssize_t got;
	ssize_t i;

	if (p->fd < 0)
		return 0;
	while (n < max) {
		size_t want = (size_t)(max - n) * HT_RECORD_SIZE;

		got = read(p->fd, buf, want < sizeof(buf) ? want : sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return errno == EAGAIN ? (long)n : -errno;
		if (got == 0)
			return n ? (long)n : -ECONNRESET;
		p->bytes += got;
		if (p->bytes > PORT_MAX_BYTES) {
			p->flooded = true;
			continue;	/* drain and drop */
		}
		for (i = 0; i < got; i++) {
			p->buf[p->have++] = buf[i];
			if (p->have == HT_RECORD_SIZE) {
				memcpy(&out[n++], p->buf, HT_RECORD_SIZE);
				p->have = 0;
			}
		}
	}
	return n;
}

/* port_close() - close both sockets */
void port_close(struct port_chan *p)
{
	if (p->listen_fd >= 0)
		close(p->listen_fd);
	if (p->fd >= 0)
		close(p->fd);
	p->listen_fd = p->fd = -1;
}

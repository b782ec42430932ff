// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: QEMU's machine protocol (QMP), for the events that
 * say how the VM ended (SHUTDOWN, RESET, STOP, GUEST_PANICKED) and to stop
 * it.  Messages are one JSON object per line; jansson parses them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "collector.h"

/* qmp_listen() - listen on @path for QEMU's -mon chardev; 0 or -errno */
int qmp_listen(struct qmp_chan *q, const char *path)
{
	memset(q, 0, sizeof(*q));
	q->fd = -1;
	q->listen_fd = unix_listen(path);
	return q->listen_fd < 0 ? q->listen_fd : 0;
}

/* qmp_accept() - take QEMU's connection; 0, or -EAGAIN if none yet */
int qmp_accept(struct qmp_chan *q)
{
	return unix_accept_once(&q->listen_fd, &q->fd);
}

/* qmp_connect() - connect to a running QEMU's QMP socket (attach) */
int qmp_connect(struct qmp_chan *q, const char *path)
{
	memset(q, 0, sizeof(*q));
	q->listen_fd = -1;
	q->fd = unix_connect(path);
	if (q->fd < 0)
		return q->fd;
	if (fcntl(q->fd, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* qmp_send() - write a whole line; 0 or -errno */
static int qmp_send(struct qmp_chan *q, const char *line)
{
	size_t len = strlen(line), done = 0;
	ssize_t n;

	while (done < len) {
		n = write(q->fd, line + done, len - done);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		done += n;
	}
	return 0;
}

/* qmp_command() - send {"execute": @cmd}; 0 or -errno */
int qmp_command(struct qmp_chan *q, const char *cmd)
{
	char line[128];

	if (q->fd < 0 || !q->ready)
		return -ENOTCONN;
	snprintf(line, sizeof(line), "{\"execute\": \"%s\"}\n", cmd);
	return qmp_send(q, line);
}

/* qmp_line() - one complete message: greeting, reply or event */
static int qmp_line(struct qmp_chan *q, const char *line, qmp_event_fn fn,
		    void *ctx)
{
	json_error_t jerr;
	json_t *msg, *ev;
	int err = 0;

	msg = json_loads(line, 0, &jerr);
	if (!msg || !json_is_object(msg)) {
		json_decref(msg);
		return -EPROTO;
	}
	if (json_object_get(msg, "QMP")) {
		err = qmp_send(q, "{\"execute\": \"qmp_capabilities\"}\n");
	} else if (json_object_get(msg, "return") && !q->ready) {
		/* ask at once which threads run the vCPUs */
		q->ready = true;
		q->cpus_asked = true;
		err = qmp_send(q, "{\"execute\": \"query-cpus-fast\"}\n");
	} else if (json_is_array(json_object_get(msg, "return")) && q->cpus_asked) {
		json_t *cpus = json_object_get(msg, "return"), *cpu;
		size_t i;

		q->cpus_asked = false;
		json_array_foreach(cpus, i, cpu) {
			json_t *tid = json_object_get(cpu, "thread-id");

			if (json_is_integer(tid) && q->ntids < sizeof(q->tids) / sizeof(q->tids[0]))
				q->tids[q->ntids++] = (pid_t)json_integer_value(tid);
		}
	} else {
		ev = json_object_get(msg, "event");
		if (json_is_string(ev) && fn)
			fn(ctx, json_string_value(ev), line);
	}
	json_decref(msg);
	return err;
}

/*
 * qmp_read() - read what QEMU sent, handle every complete line; 0,
 * -ECONNRESET when QEMU closed the socket, or -errno
 */
int qmp_read(struct qmp_chan *q, qmp_event_fn fn, void *ctx)
{
	char *nl;
	ssize_t n;
	int err;

	if (q->fd < 0)
		return 0;
	for (;;) {
		if (q->have == sizeof(q->buf) - 1)
			q->have = 0;	/* a line too long for QMP: drop it */
		n = read(q->fd, q->buf + q->have, sizeof(q->buf) - 1 - q->have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0)
			return -ECONNRESET;
		q->have += n;
		q->buf[q->have] = '\0';
		while ((nl = strchr(q->buf, '\n')) != NULL) {
			*nl = '\0';
			err = qmp_line(q, q->buf, fn, ctx);
			memmove(q->buf, nl + 1, q->have - (nl + 1 - q->buf) + 1);
			q->have -= nl + 1 - q->buf;
			if (err && err != -EPROTO)
				return err;
		}
	}
}

/* qmp_close() - close both sockets */
void qmp_close(struct qmp_chan *q)
{
	if (q->listen_fd >= 0)
		close(q->listen_fd);
	if (q->fd >= 0)
		close(q->fd);
	q->listen_fd = q->fd = -1;
}

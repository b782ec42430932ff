// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: QEMU's machine protocol (QMP), for the events that
 * say how the VM ended (SHUTDOWN, RESET, STOP, GUEST_PANICKED), the vCPU
 * threads, and to stop it.  Messages are one JSON object per line; jansson
 * parses them.  The channel owns its descriptors: only qmp_read() and
 * qmp_close() close them.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "collector.h"

#define QMP_MAX_TIDS	256	/* vCPU threads kept from query-cpus-fast */

/**
 * struct qmp_chan - one QMP connection
 * @sock:       the socket of QEMU's QMP monitor
 * @ready:      capabilities negotiated
 * @cpus_asked: query-cpus-fast sent, reply not yet seen
 * @ntids:      vCPU threads found (0 until QEMU answered)
 * @tids:       their thread ids, for the hypercall channel
 * @call_seq:   commands qmp_call() sent (each reply names its id)
 * @call_id:    the id qmp_call() waits for
 * @waiting:    qmp_call() waits for @call_id's reply
 * @reply:      that reply once it came
 * @buf:        bytes of a line not yet complete
 * @have:       how many
 */
struct qmp_chan {
	struct unix_end sock;
	bool ready;
	bool cpus_asked;
	unsigned int ntids;
	pid_t tids[QMP_MAX_TIDS];
	unsigned int call_seq;
	char call_id[24];
	bool waiting;
	json_t *reply;
	char buf[65536];
	size_t have;
};

/* qmp_new() - a channel with no descriptor; NULL when out of memory */
static struct qmp_chan *qmp_new(void)
{
	struct qmp_chan *q = calloc(1, sizeof(*q));

	if (q)
		unix_end_init(&q->sock);
	return q;
}

/**
 * qmp_listen() - listen on @path for QEMU's -mon chardev (run)
 * @out:  the new channel
 * @path: the socket's path
 *
 * Return: 0 or -errno.
 */
int qmp_listen(struct qmp_chan **out, const char *path)
{
	struct qmp_chan *q = qmp_new();
	int err;

	if (!q)
		return -ENOMEM;
	err = unix_end_listen(&q->sock, path);
	if (err) {
		free(q);
		return err;
	}
	*out = q;
	return 0;
}

/**
 * qmp_connect() - connect to a running QEMU's QMP socket (attach)
 * @out:  the new channel
 * @path: the socket's path
 *
 * Return: 0 or -errno.
 */
int qmp_connect(struct qmp_chan **out, const char *path)
{
	struct qmp_chan *q = qmp_new();
	int err;

	if (!q)
		return -ENOMEM;
	err = unix_end_connect(&q->sock, path);
	if (err) {
		free(q);
		return err;
	}
	*out = q;
	return 0;
}

/**
 * qmp_fd() - the descriptor to poll(2) for POLLIN
 * @q: the channel, or NULL
 *
 * Return: the connection, the listening socket before QEMU connected, or
 * -1.  The channel keeps it: do not close it.
 */
int qmp_fd(const struct qmp_chan *q)
{
	return q ? unix_end_poll_fd(&q->sock) : -1;
}

/**
 * qmp_connected() - whether the connection is open
 * @q: the channel, or NULL
 *
 * Return: false before QEMU connected and after it closed QMP.
 */
bool qmp_connected(const struct qmp_chan *q)
{
	return q && q->sock.fd >= 0;
}

/**
 * qmp_vcpu_tids() - the vCPU threads QEMU named
 * @q:    the channel, or NULL
 * @tids: set to the array (valid until qmp_close())
 *
 * Return: how many; 0 until QEMU answered query-cpus-fast.
 */
unsigned int qmp_vcpu_tids(const struct qmp_chan *q, const pid_t **tids)
{
	if (!q)
		return 0;
	*tids = q->tids;
	return q->ntids;
}

/*
 * qmp_send_fd() - write a whole line, the first bytes carrying @fd
 * (SCM_RIGHTS, what QMP's getfd takes) unless it is -1; 0 or -errno
 */
static int qmp_send_fd(struct qmp_chan *q, const char *line, int fd)
{
	size_t len = strlen(line), done = 0;
	ssize_t n;

	while (done < len) {
		if (fd >= 0) {
			char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
			struct iovec iov = { .iov_base = (char *)line + done,
					      .iov_len = len - done };
			struct msghdr mh = {
				.msg_iov = &iov, .msg_iovlen = 1,
				.msg_control = ctl, .msg_controllen = sizeof(ctl),
			};
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &fd, sizeof(int));
			n = sendmsg(q->sock.fd, &mh, MSG_NOSIGNAL);
			if (n > 0)
				fd = -1;
		} else {
			n = send(q->sock.fd, line + done, len - done, MSG_NOSIGNAL);
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		done += n;
	}
	return 0;
}

/* qmp_send() - write a whole line; 0 or -errno */
static int qmp_send(struct qmp_chan *q, const char *line)
{
	return qmp_send_fd(q, line, -1);
}

/**
 * qmp_command() - send {"execute": @cmd}
 * @q:   the channel, or NULL
 * @cmd: a QMP command without arguments ("quit", "stop")
 *
 * Return: 0, -ENOTCONN before the capabilities were negotiated, or -errno.
 */
int qmp_command(struct qmp_chan *q, const char *cmd)
{
	char line[128];

	if (!q || q->sock.fd < 0 || !q->ready)
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
	if (json_object_get(msg, "id")) {
		/* only qmp_call() sends ids: its reply, or a late one to drop */
		const char *id = json_string_value(json_object_get(msg, "id"));

		if (q->waiting && id && !strcmp(id, q->call_id)) {
			q->reply = json_incref(msg);
			q->waiting = false;
		}
	} else if (json_object_get(msg, "QMP")) {
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

			if (json_is_integer(tid) && q->ntids < QMP_MAX_TIDS)
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

/**
 * qmp_read() - take QEMU's connection if it came, read what it sent and
 * handle every complete line
 * @q:   the channel, or NULL
 * @fn:  called for each event
 * @ctx: passed to @fn
 *
 * When QEMU closed the socket, the channel closes its end.
 *
 * Return: 0, -ECONNRESET once when QEMU closed the socket, or -errno.
 */
int qmp_read(struct qmp_chan *q, qmp_event_fn fn, void *ctx)
{
	char *nl;
	ssize_t n;
	int err;

	if (!q)
		return 0;
	if (unix_end_conn(&q->sock) < 0)
		return 0;
	for (;;) {
		if (q->have == sizeof(q->buf) - 1)
			q->have = 0;	/* a line too long for QMP: drop it */
		n = read(q->sock.fd, q->buf + q->have, sizeof(q->buf) - 1 - q->have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0) {
			unix_end_hangup(&q->sock);
			return -ECONNRESET;
		}
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

/* ms_until() - milliseconds from now to @deadline_ns, 0 if past */
static int ms_until(uint64_t deadline_ns)
{
	uint64_t t = now_ns();

	return t >= deadline_ns ? 0 : (int)((deadline_ns - t + 999999) / 1000000);
}

/**
 * qmp_wait_ready() - give a QEMU that has not finished the QMP handshake
 * (a slow start-up on a loaded host) up to @timeout_ms to finish it
 * @q:          the channel, or NULL
 * @timeout_ms: how long
 * @fn:         called for each event that comes meanwhile, or NULL
 * @ctx:        passed to @fn
 *
 * Return: true once the capabilities are negotiated.
 */
bool qmp_wait_ready(struct qmp_chan *q, unsigned int timeout_ms, qmp_event_fn fn, void *ctx)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;
	int left;

	while (q && !q->ready && (left = ms_until(deadline)) > 0) {
		struct pollfd p = { .fd = qmp_fd(q), .events = POLLIN };

		if (p.fd < 0 || (poll(&p, 1, left) < 0 && errno != EINTR))
			break;
		if (qmp_read(q, fn, ctx))
			break;
	}
	return q && q->ready;
}

/**
 * qmp_call() - run one QMP command and wait for its reply
 * @q:          the channel, or NULL
 * @cmd:        the command ("human-monitor-command", "dump-guest-memory"...)
 * @args:       its arguments (consumed), or NULL
 * @pass_fd:    a descriptor to pass with it (for "getfd"), or -1
 * @timeout_ms: how long QEMU gets to answer
 * @fn:         called for each event that comes meanwhile, or NULL
 * @ctx:        passed to @fn
 * @reply:      set to QEMU's whole reply ("return" or "error"); the
 *              caller releases it with json_decref()
 *
 * The command carries an id and only the reply with that id counts; a
 * reply that comes after the timeout is dropped when it arrives.
 *
 * Return: 0 (@reply set), -ENOTCONN before the capabilities were
 * negotiated, -ETIMEDOUT, -ECONNRESET when QEMU closed QMP, or -errno.
 */
int qmp_call(struct qmp_chan *q, const char *cmd, json_t *args, int pass_fd,
	     unsigned int timeout_ms, qmp_event_fn fn, void *ctx, json_t **reply)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;
	char *text, *line;
	json_t *msg;
	int err;

	*reply = NULL;
	if (!q || q->sock.fd < 0 || !q->ready) {
		json_decref(args);
		return -ENOTCONN;
	}
	snprintf(q->call_id, sizeof(q->call_id), "ht-%u", ++q->call_seq);
	msg = json_object();
	json_object_set_new(msg, "execute", json_string(cmd));
	if (args)
		json_object_set_new(msg, "arguments", args);
	json_object_set_new(msg, "id", json_string(q->call_id));
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	line = text ? malloc(strlen(text) + 2) : NULL;
	if (!line) {
		free(text);
		return -ENOMEM;
	}
	/* one write with the descriptor: QEMU's getfd takes the fd of its line */
	strcpy(line, text);
	strcat(line, "\n");
	free(text);
	err = qmp_send_fd(q, line, pass_fd);
	free(line);
	q->waiting = !err;
	while (q->waiting) {
		struct pollfd p = { .fd = q->sock.fd, .events = POLLIN };
		int left = ms_until(deadline);

		if (!left) {
			err = -ETIMEDOUT;
			break;
		}
		if (poll(&p, 1, left) < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		err = qmp_read(q, fn, ctx);
		if (err)
			break;
	}
	q->waiting = false;
	if (!q->reply)
		return err ? err : -ETIMEDOUT;
	*reply = q->reply;
	q->reply = NULL;
	return 0;
}

/**
 * qmp_close() - close the sockets and free the channel
 * @q: the channel, or NULL
 */
void qmp_close(struct qmp_chan *q)
{
	if (!q)
		return;
	unix_end_close(&q->sock);
	json_decref(q->reply);
	free(q);
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: small helpers shared by the channels.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"

/* now_ns() - CLOCK_MONOTONIC in nanoseconds */
uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* realtime_ns() - CLOCK_REALTIME in nanoseconds */
uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* unix_addr() - fill a sockaddr_un; -ENAMETOOLONG if @path does not fit */
static int unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* unix_path_fits() - whether @path fits a unix socket address */
bool unix_path_fits(const char *path)
{
	struct sockaddr_un sa;

	return strlen(path) < sizeof(sa.sun_path);
}

/* unix_listen() - a listening unix stream socket at @path; fd or -errno */
static int unix_listen(const char *path)
{
	struct sockaddr_un sa;
	int fd, err;

	err = unix_addr(&sa, path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * unix_accept_once() - take the one connection a listening socket waits
 * for, then stop listening; 0, or -EAGAIN while nobody has connected
 */
static int unix_accept_once(int *listen_fd, int *fd)
{
	int c = accept4(*listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (c < 0)
		return -errno;
	close(*listen_fd);
	*listen_fd = -1;
	*fd = c;
	return 0;
}

/* unix_connect() - connect to the unix stream socket at @path; fd or -errno */
static int unix_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd, err;

	err = unix_addr(&sa, path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/**
 * unix_end_init() - an end with no socket yet
 * @e: the end
 */
void unix_end_init(struct unix_end *e)
{
	e->listen_fd = e->fd = -1;
}

/**
 * unix_end_listen() - listen on @path for QEMU to connect (run)
 * @e:    the end
 * @path: the socket's path
 *
 * Return: 0 or -errno.
 */
int unix_end_listen(struct unix_end *e, const char *path)
{
	int fd = unix_listen(path);

	if (fd < 0)
		return fd;
	e->listen_fd = fd;
	return 0;
}

/**
 * unix_end_connect() - connect to QEMU's server socket at @path (attach)
 * @e:    the end
 * @path: the socket's path
 *
 * Return: 0 or -errno; the connection is non-blocking.
 */
int unix_end_connect(struct unix_end *e, const char *path)
{
	int fd = unix_connect(path), err;

	if (fd < 0)
		return fd;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	e->fd = fd;
	return 0;
}

/**
 * unix_end_poll_fd() - the descriptor to poll(2) for POLLIN
 * @e: the end
 *
 * Return: the connection, the listening socket before QEMU connected, or
 * -1 (poll ignores it).  The end keeps it: do not close it.
 */
int unix_end_poll_fd(const struct unix_end *e)
{
	return e->fd >= 0 ? e->fd : e->listen_fd;
}

/**
 * unix_end_conn() - the connection, accepting QEMU's if it is waiting
 * @e: the end
 *
 * Return: the connected descriptor, or -1 while there is none.
 */
int unix_end_conn(struct unix_end *e)
{
	if (e->fd < 0 && e->listen_fd >= 0)
		unix_accept_once(&e->listen_fd, &e->fd);
	return e->fd;
}

/**
 * unix_end_hangup() - QEMU closed the connection: close ours
 * @e: the end
 */
void unix_end_hangup(struct unix_end *e)
{
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
}

/**
 * unix_end_close() - close every descriptor of the end
 * @e: the end
 */
void unix_end_close(struct unix_end *e)
{
	if (e->listen_fd >= 0)
		close(e->listen_fd);
	e->listen_fd = -1;
	unix_end_hangup(e);
}

/* coll_err() - "hypertrace-collector: message" on stderr */
void coll_err(const char *fmt, ...)
{
	va_list ap;

	fputs("hypertrace-collector: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

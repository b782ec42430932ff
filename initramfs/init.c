// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The tiny /init of the Hypertrace CI initramfs.
 *
 * Mounts proc, sysfs and devtmpfs, says "init: started" on the console,
 * leaves a user marker in /sys/kernel/hypertrace/marker when the kernel has
 * one, then ends the boot as the kernel command line asks:
 *
 *   ht_init=poweroff   power off (the default)
 *   ht_init=reboot     reboot (QEMU -no-reboot turns this into an exit)
 *   ht_init=sleep:N    sleep N seconds, then power off
 *   ht_init=exit       exit with status 1: the kernel panics ("Attempted to
 *                      kill init"), which tests the panic path
 *
 * and, first, if the command line has ht_graph=off, switches the kernel's
 * hypergraph off through /sys/kernel/hypertrace/graph; with ht_ftrace=stats
 * it mounts tracefs and prints each CPU's ftrace ring buffer statistics
 * (entries, overrun, bytes) on the console, for the benchmarks' ftrace rows.
 *
 * Built by mkinitramfs.sh (gcc -static -Os -Wall -Wextra -Werror).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARKER_PATH	"/sys/kernel/hypertrace/marker"
#define GRAPH_PATH	"/sys/kernel/hypertrace/graph"
#define TRACEFS_PATH	"/sys/kernel/tracing"
#define MARKER_TEXT	"userspace: init started"
#define CMDLINE_MAX	4096
#define SLEEP_MAX	86400UL

enum action {
	ACT_POWEROFF,
	ACT_REBOOT,
	ACT_SLEEP,
	ACT_EXIT,
};

/* Write a whole string to a file descriptor, ignoring errors. */
static void put_fd(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* Print a line prefixed with "init: " on standard output. */
static void say(const char *msg)
{
	put_fd(STDOUT_FILENO, "init: ");
	put_fd(STDOUT_FILENO, msg);
	put_fd(STDOUT_FILENO, "\n");
}

/* Tell whether @path is a mount point (its device differs from its parent's). */
static int is_mountpoint(const char *path)
{
	char parent[64];
	struct stat st, pst;

	if (strlen(path) + 4 > sizeof(parent))
		return 0;
	strcpy(parent, path);
	strcat(parent, "/..");
	if (stat(path, &st) || stat(parent, &pst))
		return 0;
	return st.st_dev != pst.st_dev;
}

/* Mount @type on @dir unless something is mounted there already. */
static void mount_once(const char *type, const char *dir)
{
	mkdir(dir, 0755);
	if (!is_mountpoint(dir))
		mount(type, dir, type, MS_NOSUID | MS_NOEXEC, NULL);
}

/* Make fds 0, 1 and 2 point at /dev/console if the kernel left them closed. */
static void open_console(void)
{
	int fd;

	if (fcntl(STDOUT_FILENO, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/* Leave a user marker for the host, if the kernel has a Hypertrace marker. */
static void write_marker(void)
{
	int fd = open(MARKER_PATH, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, MARKER_TEXT, strlen(MARKER_TEXT)) < 0)
		say("writing " MARKER_PATH " failed");
	close(fd);
}

/* Switch the hypergraph off if the command line (@cmdline) says ht_graph=off. */
static void graph_switch(const char *cmdline)
{
	const char *p = strstr(cmdline, "ht_graph=off");
	int fd;

	if (!p || (p != cmdline && p[-1] != ' '))
		return;
	fd = open(GRAPH_PATH, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1)
		say("switching " GRAPH_PATH " off failed");
	else
		say("hypergraph switched off");
	if (fd >= 0)
		close(fd);
}

/* Print the "entries", "overrun" and "bytes" lines of one CPU's ftrace stats. */
static int ftrace_cpu_stats(unsigned int cpu)
{
	char path[96], buf[1024], line[192];
	char *save = NULL, *tok;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TRACEFS_PATH "/per_cpu/cpu%u/stats", cpu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (tok = strtok_r(buf, "\n", &save); tok;
	     tok = strtok_r(NULL, "\n", &save)) {
		if (strncmp(tok, "entries:", 8) && strncmp(tok, "overrun:", 8) &&
		    strncmp(tok, "bytes:", 6))
			continue;
		snprintf(line, sizeof(line), "ftrace cpu%u %s", cpu, tok);
		say(line);
	}
	return 0;
}

/* With ht_ftrace=stats on @cmdline, print ftrace's per-CPU buffer statistics. */
static void ftrace_stats(const char *cmdline)
{
	const char *p = strstr(cmdline, "ht_ftrace=stats");
	unsigned int cpu;

	if (!p || (p != cmdline && p[-1] != ' '))
		return;
	mount_once("tracefs", TRACEFS_PATH);
	for (cpu = 0; ftrace_cpu_stats(cpu) == 0; cpu++)
		;
	if (!cpu)
		say("ftrace stats: no " TRACEFS_PATH "/per_cpu/cpu0/stats");
}

/* Read /proc/cmdline into @buf (NUL-terminated); empty on failure. */
static void read_cmdline(char *buf, size_t size)
{
	ssize_t n = 0;
	int fd;

	buf[0] = '\0';
	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

/* Parse the last ht_init= option of @cmdline; store a sleep time in @secs. */
static enum action parse_action(char *cmdline, unsigned long *secs)
{
	enum action act = ACT_POWEROFF;
	char *save = NULL;
	char *tok;

	for (tok = strtok_r(cmdline, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		const char *val;
		char *end;

		if (strncmp(tok, "ht_init=", 8))
			continue;
		val = tok + 8;
		if (!strcmp(val, "poweroff")) {
			act = ACT_POWEROFF;
		} else if (!strcmp(val, "reboot")) {
			act = ACT_REBOOT;
		} else if (!strcmp(val, "exit")) {
			act = ACT_EXIT;
		} else if (!strncmp(val, "sleep:", 6)) {
			errno = 0;
			*secs = strtoul(val + 6, &end, 10);
			if (errno || end == val + 6 || *end ||
			    *secs > SLEEP_MAX) {
				say("bad ht_init=sleep:N, powering off");
				act = ACT_POWEROFF;
			} else {
				act = ACT_SLEEP;
			}
		} else {
			say("unknown ht_init= value, powering off");
			act = ACT_POWEROFF;
		}
	}
	return act;
}

/* Sleep @secs seconds, resuming after signals. */
static void sleep_for(unsigned long secs)
{
	unsigned int left = (unsigned int)secs;

	while (left)
		left = sleep(left);
}

/* Entry point: set up, mark, then end the boot as asked. */
int main(void)
{
	static char cmdline[CMDLINE_MAX];
	unsigned long secs = 0;
	enum action act;

	mount_once("proc", "/proc");
	mount_once("sysfs", "/sys");
	mount_once("devtmpfs", "/dev");
	open_console();
	say("started");
	write_marker();

	read_cmdline(cmdline, sizeof(cmdline));
	graph_switch(cmdline);
	ftrace_stats(cmdline);
	act = parse_action(cmdline, &secs);
	if (act == ACT_EXIT) {
		say("exiting (the kernel will panic)");
		return EXIT_FAILURE;
	}
	if (act == ACT_SLEEP) {
		say("sleeping");
		sleep_for(secs);
	}

	sync();
	if (act == ACT_REBOOT) {
		say("rebooting");
		reboot(RB_AUTOBOOT);
	} else {
		say("powering off");
		reboot(RB_POWER_OFF);
	}
	say("reboot() failed");
	return EXIT_FAILURE;
}

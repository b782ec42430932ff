// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector: failure forensics, taken while QEMU still holds
 * the failed guest and before it is stopped.  The VM is paused (QMP stop)
 * so that what follows is one instant; then where each vCPU is: its
 * instruction pointer and whether it halted, from QMP
 * human-monitor-command "info registers" for each vCPU (query-cpus-fast
 * has no registers in QEMU 7.2); and with --vmcore, QEMU's
 * dump-guest-memory (ELF, no paging) into a 0600 file beside the trace,
 * which the collector creates itself and passes to QEMU (getfd).
 *
 * QEMU's answers are not guest data, but they are parsed as if they were:
 * every length is bounded and a field that does not parse is an error
 * for that vCPU, never a guess.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"

#define FORENSICS_MAX_VCPUS	64	/* vCPUs whose registers are asked for */
#define REGS_TEXT_MAX		65536	/* bytes of one "info registers" read */
#define QMP_SHORT_MS		5000	/* stop, query-cpus-fast, one vCPU's registers */
#define DUMP_MS_BASE		60000	/* dump-guest-memory: this, plus... */
#define DUMP_MS_PER_GB		60000	/* ...this per GiB of guest RAM */
#define VMCORE_FD_NAME		"ht-vmcore"

/* call() - one QMP command, events meanwhile into the trace; 0 or -errno */
static int call(struct run *r, const char *cmd, json_t *args, int fd,
		unsigned int ms, json_t **reply)
{
	return qmp_call(r->qmp, cmd, args, fd, ms, record_qmp_event, r, reply);
}

/*
 * qmp_error() - the "desc" of an error reply into @buf; true if @reply is
 * an error (or has no "return" at all)
 */
static bool qmp_error(json_t *reply, char *buf, size_t len)
{
	json_t *e = json_object_get(reply, "error");
	const char *desc;

	if (!e && json_object_get(reply, "return"))
		return false;
	desc = json_string_value(json_object_get(e, "desc"));
	snprintf(buf, len, "QEMU: %.200s", desc ? desc : "no return in the reply");
	return true;
}

/* hexval() - the value of a hex digit */
static unsigned int hexval(char c)
{
	return isdigit((unsigned char)c) ? (unsigned int)(c - '0') :
	       (unsigned int)(tolower((unsigned char)c) - 'a' + 10);
}

/*
 * reg_field() - the hex value of "KEY=" at the start of a word of the
 * line @s (@len bytes): 1 to 16 hex digits, then a space or the line's
 * end; 0, or -1 when absent or malformed
 */
static int reg_field(const char *s, size_t len, const char *key, uint64_t *out)
{
	size_t klen = strlen(key), i, n;
	uint64_t v;

	for (i = 0; i + klen <= len; i++) {
		if ((i && s[i - 1] != ' ') || memcmp(s + i, key, klen))
			continue;
		for (n = 0, v = 0; i + klen + n < len && n <= 16 &&
		     isxdigit((unsigned char)s[i + klen + n]); n++)
			v = v << 4 | hexval(s[i + klen + n]);
		if (!n || n > 16 || (i + klen + n < len && s[i + klen + n] != ' '))
			return -1;
		*out = v;
		return 0;
	}
	return -1;
}

/**
 * struct vcpu_regs - what one vCPU's "info registers" says
 * @ip:     RIP (EIP outside long mode)
 * @halted: HLT=1: the vCPU waits in hlt for an interrupt
 * @cpl:    its privilege level (0: the kernel)
 */
struct vcpu_regs {
	uint64_t ip;
	bool halted;
	uint64_t cpl;
};

/*
 * parse_regs() - the instruction pointer line of x86's "info registers"
 * ("RIP=ffffffff81000000 RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0
 * HLT=1"); 0, or -1 (@why says which field) when it is not there
 */
static int parse_regs(const char *text, size_t len, json_int_t idx,
		      struct vcpu_regs *v, const char **why)
{
	const char *line = text, *end = text + len, *nl;
	uint64_t hlt;
	size_t n;
	char *e;

	for (; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		n = (size_t)(nl - line);
		if (n && line[n - 1] == '\r')
			n--;	/* QEMU's monitor ends its lines with \r\n */
		if (n > 4 && !memcmp(line, "CPU#", 4)) {
			/* the header names the vCPU: it must be the one asked for */
			if (!isdigit((unsigned char)line[4]) ||
			    strtoll(line + 4, &e, 10) != idx || e != line + n) {
				*why = "the answer is about another vCPU";
				return -1;
			}
			continue;
		}
		if (n < 4 || (memcmp(line, "RIP=", 4) && memcmp(line, "EIP=", 4)))
			continue;
		if (reg_field(line, n, line[0] == 'R' ? "RIP=" : "EIP=", &v->ip)) {
			*why = "a malformed RIP";
			return -1;
		}
		if (reg_field(line, n, "HLT=", &hlt) || hlt > 1 ||
		    reg_field(line, n, "CPL=", &v->cpl) || v->cpl > 3) {
			*why = "no HLT= or CPL= beside RIP";
			return -1;
		}
		v->halted = hlt;
		return 0;
	}
	*why = "no RIP in QEMU's answer";
	return -1;
}

/* hex() - an address as a "0x..." JSON string (JSON integers are signed) */
static json_t *hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_string(buf);
}

/*
 * vcpu_one() - "info registers" of vCPU @idx into a JSON object: its ip,
 * halted and cpl, or the error that kept them
 */
static json_t *vcpu_one(struct run *r, json_int_t idx)
{
	json_t *o = json_object(), *reply = NULL, *ret;
	struct vcpu_regs v = { 0 };
	const char *why = NULL;
	char err[256];
	int e;

	json_object_set_new(o, "cpu", json_integer(idx));
	e = call(r, "human-monitor-command",
		 json_pack("{s:s, s:I}", "command-line", "info registers", "cpu-index", idx),
		 -1, QMP_SHORT_MS, &reply);
	if (e) {
		snprintf(err, sizeof(r->vmcore_err), "no answer: %s", strerror(-e));
		why = err;
	} else if (qmp_error(reply, err, sizeof(r->vmcore_err))) {
		why = err;
	} else {
		ret = json_object_get(reply, "return");
		if (!json_is_string(ret))
			why = "QEMU's answer is not text";
		else if (!parse_regs(json_string_value(ret),
				     json_string_length(ret) < REGS_TEXT_MAX ?
				     json_string_length(ret) : REGS_TEXT_MAX, idx, &v, &why)) {
			json_object_set_new(o, "ip", hex(v.ip));
			json_object_set_new(o, "halted", json_boolean(v.halted));
			json_object_set_new(o, "cpl", json_integer((json_int_t)v.cpl));
		}
	}
	if (why)
		json_object_set_new(o, "error", json_string(why));
	json_decref(reply);
	return o;
}

/*
 * vcpu_indexes() - the vCPUs QEMU has (query-cpus-fast's cpu-index), at
 * most FORENSICS_MAX_VCPUS; how many, or -errno
 */
static int vcpu_indexes(struct run *r, json_int_t *idx, char *err, size_t len)
{
	json_t *reply = NULL, *cpu;
	size_t i;
	int n = 0, e;

	e = call(r, "query-cpus-fast", NULL, -1, QMP_SHORT_MS, &reply);
	if (e) {
		snprintf(err, len, "query-cpus-fast: %s", strerror(-e));
		return e;
	}
	if (qmp_error(reply, err, len)) {
		json_decref(reply);
		return -EPROTO;
	}
	json_array_foreach(json_object_get(reply, "return"), i, cpu) {
		json_t *ci = json_object_get(cpu, "cpu-index");

		if (n == FORENSICS_MAX_VCPUS)
			break;
		if (json_is_integer(ci) && json_integer_value(ci) >= 0 &&
		    json_integer_value(ci) < 4096)
			idx[n++] = json_integer_value(ci);
	}
	json_decref(reply);
	return n;
}

/* vcpu_state() - where each vCPU is, as the host event "vcpu_state" */
static void vcpu_state(struct run *r)
{
	json_int_t idx[FORENSICS_MAX_VCPUS];
	json_t *o = json_object(), *cpus = json_array();
	char err[256] = "";
	int n, i;

	n = vcpu_indexes(r, idx, err, sizeof(r->vmcore_err));
	for (i = 0; i < n; i++)
		json_array_append_new(cpus, vcpu_one(r, idx[i]));
	json_object_set_new(o, "source", json_string("info registers"));
	json_object_set_new(o, "cpus", cpus);
	if (n < 0)
		json_object_set_new(o, "error", json_string(err));
	host_event(r, "vcpu_state", o);
}

/*
 * vmcore_path() - beside the trace: its name with .htf replaced by (or
 * else followed by) .vmcore
 */
static void vmcore_path(const char *trace, char *buf, size_t len)
{
	size_t n = strlen(trace);

	if (n > 4 && !strcmp(trace + n - 4, ".htf"))
		n -= 4;
	snprintf(buf, len, "%.*s.vmcore", (int)n, trace);
}

/*
 * dump() - QEMU's dump-guest-memory into @fd (passed with getfd); 0, or
 * -1 with @err saying why
 */
static int dump(struct run *r, int fd, char *err, size_t len)
{
	unsigned int ms = DUMP_MS_BASE + (unsigned int)(r->mem_mb * DUMP_MS_PER_GB / 1024);
	json_t *reply = NULL;
	int e;

	e = call(r, "getfd", json_pack("{s:s}", "fdname", VMCORE_FD_NAME), fd,
		 QMP_SHORT_MS, &reply);
	if (e || qmp_error(reply, err, len)) {
		if (e)
			snprintf(err, len, "getfd: %s", strerror(-e));
		json_decref(reply);
		return -1;
	}
	json_decref(reply);
	e = call(r, "dump-guest-memory",
		 json_pack("{s:b, s:s, s:s}", "paging", 0, "protocol", "fd:" VMCORE_FD_NAME,
			   "format", "elf"), -1, ms, &reply);
	if (e || qmp_error(reply, err, len)) {
		if (e)
			snprintf(err, len, "dump-guest-memory: %s", strerror(-e));
		json_decref(reply);
		return -1;
	}
	json_decref(reply);
	return 0;
}

/*
 * finish_vmcore() - what crash tools need that QEMU's dump lacks: the
 * VMCOREINFO note (from guest RAM when QEMU has none) and the kernel's
 * virtual addresses on its segments; sets @from, or @why it has no
 * VMCOREINFO; 0, or -EINVAL (@why says) when it is no ELF core at all
 */
static int finish_vmcore(struct run *r, int fd, const char **from, const char **why)
{
	unsigned char text[VMCOREINFO_TEXT_MAX];
	size_t len;
	int has;

	*from = NULL;
	has = vmcore_info(fd, text, &len);
	if (has < 0) {
		*why = "QEMU wrote no ELF core it could read";
		return -EINVAL;
	}
	if (has) {
		*from = "qemu";
		if (vmcore_rewrite(r->vmcore, fd, NULL, text, len))
			*from = "qemu (the kernel's virtual addresses could not be added)";
		return 0;
	}
	if (!r->shm.map && shmem_open(&r->shm, r->ram)) {
		*why = "QEMU has none and guest RAM cannot be read";
		return 0;
	}
	if (vmcore_find_note(r->shm.map, r->shm.size, text, &len)) {
		*why = "the guest died before its kernel made the note (a subsys initcall)";
		return 0;
	}
	*from = "guest RAM, added by the collector";
	if (vmcore_rewrite(r->vmcore, fd, text, text, len)) {
		*from = NULL;
		*why = "found in guest RAM, but the vmcore could not be rewritten";
	}
	return 0;
}

/* take_vmcore() - --vmcore: the dump, and the host event "vmcore" saying how it went */
static void take_vmcore(struct run *r)
{
	json_t *o = json_object();
	uint64_t t0 = now_ns();
	char *err = r->vmcore_err;
	const char *from = NULL, *why = NULL;
	struct stat st;
	int fd, has, e;

	vmcore_path(r->o->output, r->vmcore, sizeof(r->vmcore));
	json_object_set_new(o, "path", json_string(r->vmcore));
	fd = open(r->vmcore, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, sizeof(r->vmcore_err), "cannot create it: %s", strerror(errno));
		goto out_event;
	}
	if (dump(r, fd, err, sizeof(r->vmcore_err))) {
		unlink(r->vmcore);
		goto out_close_fd;
	}
	e = finish_vmcore(r, fd, &from, &why);
	if (e) {
		snprintf(err, sizeof(r->vmcore_err), "%s: %s",
			 why ? why : "it could not be completed", strerror(-e));
		unlink(r->vmcore);
		goto out_close_fd;
	}
	has = from != NULL;
	if (stat(r->vmcore, &st)) {
		snprintf(err, sizeof(r->vmcore_err), "it is gone: %s", strerror(errno));
		goto out_close_fd;
	}
	r->vmcore_taken = true;
	json_object_set_new(o, "bytes", json_integer((json_int_t)st.st_size));
	json_object_set_new(o, "ms", json_integer((json_int_t)((now_ns() - t0) / 1000000)));
	json_object_set_new(o, "format", json_string("elf"));
	json_object_set_new(o, "vmcoreinfo", json_boolean(has));
	if (from)
		json_object_set_new(o, "vmcoreinfo_from", json_string(from));
	else
		json_object_set_new(o, "vmcoreinfo_missing", json_string(why));
	err[0] = '\0';
out_close_fd:
	close(fd);
out_event:
	if (err[0])
		json_object_set_new(o, "error", json_string(err));
	host_event(r, "vmcore", o);
}

/**
 * forensics_take() - before QEMU is stopped after a failed boot (a hang,
 * a panic or oops, a reset or a timeout before the boot finished): pause the VM,
 * record where each vCPU is and, with --vmcore, dump its memory
 * @r: the recording, QEMU still running
 *
 * A boot that completed gets nothing; neither does a QEMU that is gone,
 * whose QMP is closed, or that has not finished the QMP handshake within
 * QMP_SHORT_MS.
 */
void forensics_take(struct run *r)
{
	const struct htr_boot *b = &r->st.b;
	json_t *reply = NULL;

	if (!r->hang && !b->panicked && !b->oopsed && !(r->timed_out && !b->booted) &&
	    !(r->reset && !b->booted))
		return;
	if (!qmp_wait_ready(r->qmp, QMP_SHORT_MS, record_qmp_event, r))
		return;
	/* one instant for all that follows (a paused guest stays paused) */
	if (!call(r, "stop", NULL, -1, QMP_SHORT_MS, &reply))
		json_decref(reply);
	vcpu_state(r);
	if (r->o->vmcore)
		take_vmcore(r);
}

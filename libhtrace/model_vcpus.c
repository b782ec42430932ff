// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: the forensics the collector took of a failed guest before it
 * stopped QEMU, from two host events: "vcpu_state" (each vCPU's
 * instruction pointer and whether it halted, from QEMU's registers) and
 * "vmcore" (the ELF dump of guest memory --vmcore wrote, or why there is
 * none).  A trace file is input like any other: every count, index and
 * string is bounded, and what does not parse is left out.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model.h"

/* parse_hex() - a "0x..." string of 1 to 16 hex digits; 0 or -1 */
static int parse_hex(const char *s, uint64_t *out)
{
	size_t n;

	if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	for (n = 0; isxdigit((unsigned char)s[2 + n]); n++)
		if (n == 16)
			return -1;
	if (!n || s[2 + n])
		return -1;
	*out = strtoull(s + 2, NULL, 16);
	return 0;
}

/* copy_str() - a JSON string member into @buf, cut to fit; "" if absent */
static void copy_str(char *buf, size_t len, json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(buf, len, "%s", s ? s : "");
}

/* take_vcpus() - a vcpu_state event's vCPUs (the last event wins) */
static void take_vcpus(struct model_forensics *f, json_t *o)
{
	json_t *c;
	size_t i;

	f->has_vcpus = true;
	f->nvcpus = 0;
	copy_str(f->vcpus_error, sizeof(f->vcpus_error), o, "error");
	json_array_foreach(json_object_get(o, "cpus"), i, c) {
		struct model_vcpu *v = &f->vcpu[f->nvcpus];
		json_int_t cpu = json_integer_value(json_object_get(c, "cpu"));
		json_int_t cpl = json_integer_value(json_object_get(c, "cpl"));

		if (f->nvcpus == MODEL_MAX_VCPUS)
			break;
		if (!json_is_integer(json_object_get(c, "cpu")) || cpu < 0 || cpu > 65535)
			continue;
		memset(v, 0, sizeof(*v));
		v->cpu = (unsigned int)cpu;
		copy_str(v->error, sizeof(v->error), c, "error");
		if (!v->error[0] &&
		    parse_hex(json_string_value(json_object_get(c, "ip")), &v->ip))
			snprintf(v->error, sizeof(v->error), "no instruction pointer recorded");
		v->halted = json_is_true(json_object_get(c, "halted"));
		v->cpl = cpl >= 0 && cpl <= 3 ? (unsigned int)cpl : 0;
		f->nvcpus++;
	}
}

/* take_vmcore() - a vmcore event: the file, or why there is none */
static void take_vmcore(struct model_forensics *f, json_t *o)
{
	json_int_t bytes = json_integer_value(json_object_get(o, "bytes"));
	json_int_t ms = json_integer_value(json_object_get(o, "ms"));

	f->has_vmcore = true;
	copy_str(f->vmcore_error, sizeof(f->vmcore_error), o, "error");
	copy_str(f->vmcore, sizeof(f->vmcore), o, "path");
	if (!f->vmcore_error[0] && !f->vmcore[0])
		snprintf(f->vmcore_error, sizeof(f->vmcore_error), "the trace names no vmcore file");
	if (f->vmcore_error[0]) {
		f->vmcore[0] = '\0';
		return;
	}
	f->vmcore_bytes = bytes > 0 ? (uint64_t)bytes : 0;
	f->vmcore_ms = ms > 0 ? (uint64_t)ms : 0;
	f->vmcoreinfo = json_is_true(json_object_get(o, "vmcoreinfo"));
	copy_str(f->vmcoreinfo_how, sizeof(f->vmcoreinfo_how), o,
		 f->vmcoreinfo ? "vmcoreinfo_from" : "vmcoreinfo_missing");
}

/**
 * model_forensics_take() - a host event, if it is one of the collector's
 * forensics ("vcpu_state", "vmcore"); any other is left alone
 * @f:    the model's forensics
 * @json: the host event's JSON text
 * @len:  its length
 */
void model_forensics_take(struct model_forensics *f, const void *json, size_t len)
{
	const char *ev;
	json_t *o;

	/* most host events are neither: skip the parse */
	if (!memmem(json, len, "\"vcpu_state\"", 12) && !memmem(json, len, "\"vmcore\"", 8))
		return;
	o = json_loadb(json, len, 0, NULL);
	ev = json_string_value(json_object_get(o, "event"));
	if (ev && !strcmp(ev, "vcpu_state"))
		take_vcpus(f, o);
	else if (ev && !strcmp(ev, "vmcore"))
		take_vmcore(f, o);
	json_decref(o);
}

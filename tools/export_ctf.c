// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * CTF 1.8 for babeltrace2 and Trace Compass: a directory with the TSDL
 * metadata and one binary stream per guest CPU, one packet each.  Every
 * event of the trace becomes one CTF event whose class is its Hypertrace
 * type, with its sequence number, both argument words, the symbol its
 * code address names (if any) and its string (if any).  Integers are
 * byte-aligned little-endian so the writer needs no padding.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export_ctf.h"

#define CTF_MAGIC	0xc1fc1fc1

/* ctf_name() - a TSDL-safe event class name for @type (its ABI name) */
static const char *ctf_name(unsigned int type)
{
	const char *n = htr_event_name(type);

	return n ? n : "unknown";
}

/* has_code_addr() - whether @type's a0 is a code address worth naming */
static bool has_code_addr(unsigned int type)
{
	switch (type) {
	case HT_EV_INITCALL_BEGIN:
	case HT_EV_INITCALL_END:
	case HT_EV_ASYNC_BEGIN:
	case HT_EV_ASYNC_END:
	case HT_EV_NOTIFIER_BEGIN:
	case HT_EV_NOTIFIER_END:
	case HT_EV_PANIC:
	case HT_EV_FUNC_ENTRY:
	case HT_EV_FUNC_EXIT:
		return true;
	}
	return false;
}

/* write_metadata() - the TSDL description of the streams */
static int write_metadata(const char *dir, const uint8_t uuid[16])
{
	char path[4096], us[40];
	unsigned int type;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/metadata", dir);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	for (i = 0; i < 16; i++)
		sprintf(us + 2 * i + (i >= 4) + (i >= 6) + (i >= 8) + (i >= 10), "%02x", uuid[i]);
	us[8] = us[13] = us[18] = us[23] = '-';
	fprintf(f,
		"/* CTF 1.8 */\n\n"
		"typealias integer { size = 8; align = 8; signed = false; } := uint8_t;\n"
		"typealias integer { size = 32; align = 8; signed = false; } := uint32_t;\n"
		"typealias integer { size = 64; align = 8; signed = false; } := uint64_t;\n"
		"typealias integer { size = 64; align = 8; signed = false; base = 16; } := hex64_t;\n\n"
		"trace {\n\tmajor = 1;\n\tminor = 8;\n\tuuid = \"%s\";\n\tbyte_order = le;\n"
		"\tpacket.header := struct {\n\t\tuint32_t magic;\n\t\tuint8_t uuid[16];\n"
		"\t\tuint32_t stream_id;\n\t};\n};\n\n"
		"env {\n\tdomain = \"hypertrace\";\n\ttracer_name = \"hypertrace\";\n};\n\n"
		"clock {\n\tname = vm;\n\tdescription = \"ns since the VM started (guest TSC zero)\";\n"
		"\tfreq = 1000000000;\n\tprecision = 1;\n\toffset = 0;\n\tabsolute = FALSE;\n};\n\n"
		"typealias integer { size = 64; align = 8; signed = false; map = clock.vm.value; }"
		" := uint64_clock_t;\n\n"
		"stream {\n\tid = 0;\n\tpacket.context := struct {\n"
		"\t\tuint64_clock_t timestamp_begin;\n\t\tuint64_clock_t timestamp_end;\n"
		"\t\tuint64_t content_size;\n\t\tuint64_t packet_size;\n\t\tuint32_t cpu_id;\n\t};\n"
		"\tevent.header := struct {\n\t\tuint32_t id;\n\t\tuint64_clock_t timestamp;\n\t};\n};\n",
		us);
	for (type = 1; type < HT_EV_HOST_FIRST; type++) {
		if (!htr_event_name(type))
			continue;
		fprintf(f, "\nevent {\n\tname = \"%s\";\n\tid = %u;\n\tstream_id = 0;\n"
			"\tfields := struct {\n\t\tuint32_t seq;\n\t\tuint32_t type;\n"
			"\t\thex64_t a0;\n\t\thex64_t a1;\n\t\tstring name;\n\t\tstring str;\n\t};\n};\n",
			ctf_name(type), type);
	}
	fprintf(f, "\nevent {\n\tname = \"unknown\";\n\tid = 0;\n\tstream_id = 0;\n"
		"\tfields := struct {\n\t\tuint32_t seq;\n\t\tuint32_t type;\n"
		"\t\thex64_t a0;\n\t\thex64_t a1;\n\t\tstring name;\n\t\tstring str;\n\t};\n};\n");
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

/* buf_put() - append @len bytes to a growable buffer; 0 or -ENOMEM */
static int buf_put(unsigned char **b, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (*len + n > *cap) {
		size_t c = (*cap ? *cap * 2 : 65536) + n;
		unsigned char *q = realloc(*b, c);

		if (!q)
			return -ENOMEM;
		*b = q;
		*cap = c;
	}
	memcpy(*b + *len, p, n);
	*len += n;
	return 0;
}

/* write_stream() - CPU @cpu's events as one packet in DIR/stream_N */
static int write_stream(const char *dir, const struct boot_model *m, unsigned int cpu,
			const uint8_t uuid[16], size_t *written)
{
	unsigned char *b = NULL;
	size_t len = 0, cap = 0, i;
	uint64_t first = 0, last = 0, bits;
	uint32_t magic = CTF_MAGIC, sid = 0;
	char path[4096], addr_name[160];
	bool any = false;
	FILE *f;
	int err = 0;

	/* packet header and context; the context is patched at the end */
	err |= buf_put(&b, &len, &cap, &magic, 4);
	err |= buf_put(&b, &len, &cap, uuid, 16);
	err |= buf_put(&b, &len, &cap, &sid, 4);
	err |= buf_put(&b, &len, &cap, (uint64_t[4]){ 0 }, 32);
	err |= buf_put(&b, &len, &cap, &cpu, 4);
	for (i = 0; i < m->ev.nr && !err; i++) {
		const struct ev *e = &m->ev.ev[i];
		uint64_t t = (uint64_t)((unsigned __int128)e->tsc * 1000000 / m->tsc_khz);
		uint32_t id = htr_event_name(e->type) ? e->type : 0;
		const char *name = "";

		if (e->cpu != cpu)
			continue;
		if (!any)
			first = t;
		any = true;
		last = t;
		if (has_code_addr(e->type) && e->a0) {
			name = htr_syms_lookup(&m->syms, e->a0, NULL);
			if (!name)
				name = "";
			snprintf(addr_name, sizeof(addr_name), "%s", name);
			name = addr_name;
		}
		err |= buf_put(&b, &len, &cap, &id, 4);
		err |= buf_put(&b, &len, &cap, &t, 8);
		err |= buf_put(&b, &len, &cap, &e->seq, 4);
		err |= buf_put(&b, &len, &cap, &e->type, 4);
		err |= buf_put(&b, &len, &cap, &e->a0, 8);
		err |= buf_put(&b, &len, &cap, &e->a1, 8);
		err |= buf_put(&b, &len, &cap, name, strlen(name) + 1);
		/* guest strings are data: they cannot contain a NUL, so they stay whole */
		err |= buf_put(&b, &len, &cap, e->str, e->str_len + 1);
		(*written)++;
	}
	if (err) {
		free(b);
		return -ENOMEM;
	}
	bits = (uint64_t)len * 8;
	memcpy(b + 24, &first, 8);
	memcpy(b + 32, &last, 8);
	memcpy(b + 40, &bits, 8);
	memcpy(b + 48, &bits, 8);
	snprintf(path, sizeof(path), "%s/stream_%u", dir, cpu);
	f = fopen(path, "we");
	if (!f) {
		err = -errno;
	} else {
		if (fwrite(b, 1, len, f) != len)
			err = -EIO;
		if (fclose(f))
			err = -EIO;
	}
	free(b);
	return err;
}

/**
 * export_ctf() - write a CTF 1.8 trace of the model's events into @dir
 * @m:   the model
 * @dir: directory to create (must not exist, or be empty)
 *
 * Return: events written, or -errno.
 */
long export_ctf(const struct boot_model *m, const char *dir)
{
	uint8_t uuid[16];
	size_t written = 0;
	unsigned int cpu;
	FILE *r;
	int err;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	r = fopen("/dev/urandom", "re");
	if (!r || fread(uuid, 1, sizeof(uuid), r) != sizeof(uuid)) {
		if (r)
			fclose(r);
		return -EIO;
	}
	fclose(r);
	uuid[6] = (uuid[6] & 0x0f) | 0x40;	/* version 4 */
	uuid[8] = (uuid[8] & 0x3f) | 0x80;
	err = write_metadata(dir, uuid);
	for (cpu = 0; !err && cpu < (m->ncpus ? m->ncpus : 1); cpu++)
		err = write_stream(dir, m, cpu, uuid, &written);
	return err ? err : (long)written;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * CTF 1.8 for babeltrace2 and Trace Compass: a directory with the TSDL
 * metadata and one binary stream per guest CPU, one packet each.  Every
 * event of the trace becomes one CTF event whose class is its Hypertrace
 * type, with its sequence number, both argument words, the symbol its
 * code address names (if any) and its string (if any).  With a
 * hypergraph, each of its calls also gives a hypergraph:func_entry at its
 * start and a hypergraph:func_exit at its end, laid out as lttng-ust's
 * lttng_ust_cyg_profile events (addr, call_site) with the function's
 * name, the task's pid and the depth (and the exit the duration), in the
 * stream of the CPU the call began on (exits only: ended on), merged in
 * time order with the records: entries and exits come from graph_spans(),
 * so they pair and nest on each task.  Integers are byte-aligned
 * little-endian so the writer needs no padding.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export_ctf.h"
#include "export_graph.h"

#define CTF_MAGIC	0xc1fc1fc1
/* event class ids of the hypergraph's calls, above every record type */
#define CTF_ID_FUNC_ENTRY	0x1000
#define CTF_ID_FUNC_EXIT	0x1001

/**
 * struct func_ev - a call's entry or exit, to merge into a CPU's stream
 * @t:    its time on the CTF clock (ns since the guest TSC's zero)
 * @span: index into the spans
 * @ord:  its place in its task's sequence (ties at equal @t)
 * @cpu:  the stream it goes in
 * @exit: an exit, not an entry
 */
struct func_ev {
	uint64_t t;
	uint32_t span;
	uint32_t ord;
	uint32_t cpu;
	bool exit;
};

/**
 * struct func_evs - the calls' entries and exits, sorted by CPU and time
 * @g:    the graph
 * @s:    its spans (graph_spans())
 * @ev:   2 per span
 * @nr:   how many
 */
struct func_evs {
	const struct model_graph *g;
	struct graph_span *s;
	struct func_ev *ev;
	size_t nr;
};

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
		"typealias integer { size = 32; align = 8; signed = true; } := int32_t;\n"
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
	fprintf(f, "\nevent {\n\tname = \"hypergraph:func_entry\";\n\tid = %u;\n\tstream_id = 0;\n"
		"\tfields := struct {\n\t\thex64_t addr;\n\t\thex64_t call_site;\n"
		"\t\tstring name;\n\t\tint32_t tid;\n\t\tuint32_t depth;\n\t};\n};\n",
		CTF_ID_FUNC_ENTRY);
	fprintf(f, "\nevent {\n\tname = \"hypergraph:func_exit\";\n\tid = %u;\n\tstream_id = 0;\n"
		"\tfields := struct {\n\t\thex64_t addr;\n\t\thex64_t call_site;\n"
		"\t\tuint64_t duration_ns;\n\t\tstring name;\n\t\tint32_t tid;\n"
		"\t\tuint32_t depth;\n\t\tuint8_t unfinished;\n\t};\n};\n",
		CTF_ID_FUNC_EXIT);
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

/* ctf_time() - a model time on the CTF clock (ns since the guest TSC's zero) */
static uint64_t ctf_time(const struct boot_model *m, uint64_t ns)
{
	return ns > m->launch_ns ? ns - m->launch_ns : 0;
}

/* fev_order() - qsort order of struct func_ev: CPU, time, place in its task's sequence */
static int fev_order(const void *a, const void *b)
{
	const struct func_ev *x = a, *y = b;

	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return (x->ord > y->ord) - (x->ord < y->ord);
}

/* fev_add() - the entry or exit of span @i, next in its task's sequence */
static void fev_add(struct func_evs *x, const struct boot_model *m, uint32_t i, bool exit)
{
	struct func_ev *e = &x->ev[x->nr];

	e->t = ctf_time(m, exit ? x->s[i].end_ns : x->s[i].start_ns);
	e->span = i;
	e->ord = (uint32_t)x->nr;
	e->cpu = x->g->call[x->s[i].call].cpu;
	e->exit = exit;
	x->nr++;
}

/*
 * func_evs_build() - the entries and exits of the graph's calls below
 * @under, each task's in call order (an exit before an entry that starts
 * where it ends, a child's entry after its parent's), then by CPU and time
 */
static int func_evs_build(struct func_evs *x, const struct boot_model *m, uint32_t under)
{
	uint32_t *stk, task = UINT32_MAX;
	size_t n, sp = 0;

	memset(x, 0, sizeof(*x));
	x->g = &m->graph;
	if (!m->graph.present)
		return 0;
	if (graph_spans(&m->graph, under, &x->s, &n))
		return -ENOMEM;
	if (!n)
		return 0;
	/* n <= MODEL_GRAPH_MAX_CALLS: 2 n fits ord */
	x->ev = malloc(2 * n * sizeof(*x->ev));
	stk = malloc(n * sizeof(*stk));
	if (!x->ev || !stk) {
		free(stk);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (x->s[i].task != task) {
			while (sp)
				fev_add(x, m, stk[--sp], true);
			task = x->s[i].task;
		}
		/* the pops of graph_spans(): the same nesting */
		while (sp && x->s[stk[sp - 1]].end_ns <= x->s[i].start_ns)
			fev_add(x, m, stk[--sp], true);
		fev_add(x, m, i, false);
		stk[sp++] = i;
	}
	while (sp)
		fev_add(x, m, stk[--sp], true);
	free(stk);
	qsort(x->ev, x->nr, sizeof(*x->ev), fev_order);
	return 0;
}

/* func_evs_free() - release func_evs_build()'s arrays */
static void func_evs_free(struct func_evs *x)
{
	free(x->ev);
	free(x->s);
}

/* put_record() - one trace event as a CTF event at @t */
static int put_record(unsigned char **b, size_t *len, size_t *cap, const struct boot_model *m,
		      const struct ev *e, uint64_t t)
{
	uint32_t id = htr_event_name(e->type) ? e->type : 0;
	char addr_name[160];
	const char *name = "";
	int err = 0;

	if (has_code_addr(e->type) && e->a0) {
		name = htr_syms_lookup(&m->syms, e->a0, NULL);
		if (!name)
			name = "";
		snprintf(addr_name, sizeof(addr_name), "%s", name);
		name = addr_name;
	}
	err |= buf_put(b, len, cap, &id, 4);
	err |= buf_put(b, len, cap, &t, 8);
	err |= buf_put(b, len, cap, &e->seq, 4);
	err |= buf_put(b, len, cap, &e->type, 4);
	err |= buf_put(b, len, cap, &e->a0, 8);
	err |= buf_put(b, len, cap, &e->a1, 8);
	err |= buf_put(b, len, cap, name, strlen(name) + 1);
	/* guest strings are data: they cannot contain a NUL, so they stay whole */
	err |= buf_put(b, len, cap, e->str, e->str_len + 1);
	return err;
}

/* put_func() - a call's entry or exit as a CTF event */
static int put_func(unsigned char **b, size_t *len, size_t *cap, const struct func_evs *x,
		    const struct func_ev *fe)
{
	const struct graph_span *sp = &x->s[fe->span];
	const struct graph_call *c = &x->g->call[sp->call];
	const struct graph_node *nd = &x->g->node[c->node];
	uint32_t id = fe->exit ? CTF_ID_FUNC_EXIT : CTF_ID_FUNC_ENTRY, depth = sp->depth;
	int32_t tid = sp->task < x->g->nr_task ? x->g->task[sp->task].pid : -1;
	uint64_t dur = sp->end_ns - sp->start_ns;
	const char *name = nd->name ? nd->name : "";
	uint8_t open = c->open;
	int err = 0;

	err |= buf_put(b, len, cap, &id, 4);
	err |= buf_put(b, len, cap, &fe->t, 8);
	err |= buf_put(b, len, cap, &nd->addr, 8);
	err |= buf_put(b, len, cap, &c->call_site, 8);
	if (fe->exit)
		err |= buf_put(b, len, cap, &dur, 8);
	err |= buf_put(b, len, cap, name, strlen(name) + 1);
	err |= buf_put(b, len, cap, &tid, 4);
	err |= buf_put(b, len, cap, &depth, 4);
	if (fe->exit)
		err |= buf_put(b, len, cap, &open, 1);
	return err;
}

/*
 * write_stream() - CPU @cpu's events as one packet in DIR/stream_N: its
 * records merged in time order with its calls' entries and exits from
 * @x->ev[*@fi..] (left after them)
 */
static int write_stream(const char *dir, const struct boot_model *m, unsigned int cpu,
			const uint8_t uuid[16], size_t *written, const struct func_evs *x,
			size_t *fi)
{
	unsigned char *b = NULL;
	size_t len = 0, cap = 0, i = 0;
	uint64_t first = 0, last = 0, bits;
	uint32_t magic = CTF_MAGIC, sid = 0;
	char path[4096];
	bool any = false;
	FILE *f;
	int err = 0;

	/* packet header and context; the context is patched at the end */
	err |= buf_put(&b, &len, &cap, &magic, 4);
	err |= buf_put(&b, &len, &cap, uuid, 16);
	err |= buf_put(&b, &len, &cap, &sid, 4);
	err |= buf_put(&b, &len, &cap, (uint64_t[4]){ 0 }, 32);
	err |= buf_put(&b, &len, &cap, &cpu, 4);
	while (*fi < x->nr && x->ev[*fi].cpu < cpu)
		(*fi)++;	/* calls on a CPU without a stream */
	while (!err) {
		bool rec, fn = *fi < x->nr && x->ev[*fi].cpu == cpu;
		uint64_t t = 0;

		while (i < m->ev.nr && m->ev.ev[i].cpu != cpu)
			i++;
		rec = i < m->ev.nr;
		if (rec)
			t = (uint64_t)((unsigned __int128)m->ev.ev[i].tsc * 1000000 / m->tsc_khz);
		if (!rec && !fn)
			break;
		if (fn && (!rec || x->ev[*fi].t < t)) {
			t = x->ev[*fi].t;
			err |= put_func(&b, &len, &cap, x, &x->ev[(*fi)++]);
		} else {
			err |= put_record(&b, &len, &cap, m, &m->ev.ev[i++], t);
		}
		if (!any)
			first = t;
		any = true;
		last = t;
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
 * @m:     the model
 * @dir:   directory to create (must not exist, or be empty)
 * @under: the hypergraph's calls below this node only; GRAPH_NONE for all
 *
 * Return: events written, or -errno.
 */
long export_ctf(const struct boot_model *m, const char *dir, uint32_t under)
{
	struct func_evs x;
	uint8_t uuid[16];
	size_t written = 0, fi = 0;
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
	err = func_evs_build(&x, m, under);
	if (!err)
		err = write_metadata(dir, uuid);
	for (cpu = 0; !err && cpu < (m->ncpus ? m->ncpus : 1); cpu++)
		err = write_stream(dir, m, cpu, uuid, &written, &x, &fi);
	func_evs_free(&x);
	return err ? err : (long)written;
}

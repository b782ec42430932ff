// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace compare: every boot's metrics - total boot, time to
 * userspace, each phase, boot level, initcall and shutdown step - straight
 * from its loaded model (or, for a report JSON file, from that), into one
 * table of metrics found by a hash of their names.  A boot can bring
 * hundreds of thousands of names: nothing here is sized by a guess.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "compare.h"
#include "util.h"

/* hash() - FNV-1a of @s from a per-run seed, so names cannot be chosen to collide */
static uint64_t hash(uint64_t seed, const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h ^ h >> 29;
}

/* table_grow() - double the hash table (or make the first); 0 or -ENOMEM */
static int table_grow(struct cmp_set *s)
{
	size_t n = s->nslot ? s->nslot * 2 : 1024, i, j, *slot;

	if (!s->nslot && getrandom(&s->seed, sizeof(s->seed), GRND_NONBLOCK) != sizeof(s->seed))
		s->seed = (uint64_t)time(NULL) ^ (uintptr_t)s;
	if (n / 2 < s->nslot)
		return -ENOMEM;
	slot = calloc(n, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (i = 0; i < s->nm; i++) {
		for (j = hash(s->seed, s->m[i].name) & (n - 1); slot[j]; j = (j + 1) & (n - 1))
			;
		slot[j] = i + 1;
	}
	free(s->slot);
	s->slot = slot;
	s->nslot = n;
	return 0;
}

/* metric_new() - append the metric @name in hash slot @j; NULL if out of memory */
static struct cmp_metric *metric_new(struct cmp_set *s, size_t j, const char *name,
				     const char *level)
{
	struct cmp_metric *m;

	if (s->nm == s->alloc) {
		size_t n = s->alloc ? s->alloc * 2 : 256;

		m = reallocarray(s->m, n, sizeof(*m));
		if (!m)
			return NULL;
		s->m = m;
		s->alloc = n;
	}
	m = &s->m[s->nm];
	memset(m, 0, sizeof(*m));
	m->name = strdup(name);
	m->level = strdup(level ? level : "");
	if (!m->name || !m->level) {
		free(m->name);
		free(m->level);
		return NULL;
	}
	m->p = 1;
	s->slot[j] = ++s->nm;
	return m;
}

/*
 * metric_get() - the metric called @name, created (with @level) if new;
 * NULL if out of memory.  The table stays under half full.
 */
static struct cmp_metric *metric_get(struct cmp_set *s, const char *name, const char *level)
{
	size_t j;

	if ((s->nm + 1) * 2 > s->nslot && table_grow(s))
		return NULL;
	for (j = hash(s->seed, name) & (s->nslot - 1); s->slot[j]; j = (j + 1) & (s->nslot - 1))
		if (!strcmp(s->m[s->slot[j] - 1].name, name))
			return &s->m[s->slot[j] - 1];
	return metric_new(s, j, name, level);
}

/* add_value() - one boot's value of a metric, summed within the boot (same initcall twice) */
static int add_value(struct cmp_set *s, int side, const char *name, const char *level,
		     double ms)
{
	struct cmp_metric *m = metric_get(s, name, level);
	unsigned int n;

	if (!m)
		return -ENOMEM;
	n = m->n[side];
	if (n && m->last_boot == s->serial) {
		m->v[side][n - 1] += ms;
		return 0;
	}
	/* one value per boot, and a side has at most CMP_MAX_BOOTS boots */
	if (n >= CMP_MAX_BOOTS)
		return -E2BIG;
	if (n == m->alloc[side]) {
		unsigned int room = n ? 2 * n : 2;
		unsigned int *at;
		double *v;

		if (room > CMP_MAX_BOOTS)
			room = CMP_MAX_BOOTS;
		v = realloc(m->v[side], room * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->v[side] = v;
		at = realloc(m->at[side], room * sizeof(*at));
		if (!at)
			return -ENOMEM;
		m->at[side] = at;
		m->alloc[side] = room;
	}
	m->at[side][m->n[side]] = s->serial;
	m->v[side][m->n[side]++] = ms;
	m->last_boot = s->serial;
	return 0;
}

/*
 * guest_utf8() - guest bytes as the JSON report carries them: each byte
 * from 0x80 up as the code point of that value (so the text is valid
 * UTF-8), after @prefix; NULL if out of memory.
 */
static char *guest_utf8(const char *prefix, const char *bytes)
{
	size_t lp = strlen(prefix);
	char *out = malloc(lp + 2 * strlen(bytes) + 1), *p;

	if (!out)
		return NULL;
	memcpy(out, prefix, lp);
	for (p = out + lp; *bytes; bytes++) {
		unsigned char c = (unsigned char)*bytes;

		if (c >= 0x80) {
			*p++ = (char)(0xc0 | c >> 6);
			*p++ = (char)(0x80 | (c & 0x3f));
		} else {
			*p++ = (char)c;
		}
	}
	*p = '\0';
	return out;
}

/* add_failure() - a boot that did not complete; 0 or -ENOMEM */
static int add_failure(struct cmp_set *s, int side, const char *path, const char *kind,
		       char *message, char *initcall)
{
	struct cmp_failure *f;

	if (s->nfail_all == s->fail_alloc) {
		size_t n = s->fail_alloc ? 2 * s->fail_alloc : 8;

		f = reallocarray(s->fail, n, sizeof(*f));
		if (!f)
			goto out_free;
		s->fail = f;
		s->fail_alloc = n;
	}
	f = &s->fail[s->nfail_all];
	f->side = side;
	f->message = message;
	f->initcall = initcall;
	f->boot = strdup(path);
	f->kind = strdup(kind);
	if (!f->boot || !f->kind) {
		free(f->boot);
		free(f->kind);
		goto out_free;
	}
	s->nfail_all++;
	s->nfail += side;
	return 0;
out_free:
	free(message);
	free(initcall);
	return -ENOMEM;
}

/*
 * net_ms() - @dur_ns in ms, less @stolen_ns under --subtract-stolen and
 * @idle_ns under --subtract-idle, never below 0
 */
static double net_ms(const struct cmp_set *s, uint64_t dur_ns, uint64_t stolen_ns,
		     uint64_t idle_ns)
{
	uint64_t off = (s->subtract_stolen ? stolen_ns : 0) + (s->subtract_idle ? idle_ns : 0);

	return (double)(off < dur_ns ? dur_ns - off : 0) / 1e6;
}

/* json_u64() - a non-negative integer member of @o, 0 if absent or negative */
static uint64_t json_u64(json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

/*
 * note_stolen() - flag a boot whose vCPUs the host preempted for more than
 * the set's share of (boot time x vCPUs followed); 0 or -ENOMEM
 */
static int note_stolen(struct cmp_set *s, int side, const char *path, uint64_t stolen_ns,
		       uint64_t boot_ns, unsigned int nvcpus)
{
	double pct;
	struct cmp_noisy *n;

	s->with_host[side]++;
	if (!boot_ns || !nvcpus)
		return 0;
	pct = 100.0 * (double)stolen_ns / ((double)boot_ns * nvcpus);
	if (pct <= s->max_stolen_pct)
		return 0;
	if (s->nnoisy == s->noisy_alloc) {
		n = htr_grow(s->noisy, &s->noisy_alloc, sizeof(*n), 8);
		if (!n)
			return -ENOMEM;
		s->noisy = n;
	}
	n = &s->noisy[s->nnoisy];
	n->boot = strdup(path);
	if (!n->boot)
		return -ENOMEM;
	n->side = side;
	n->stolen_pct = pct;
	s->nnoisy++;
	return 0;
}

/* model_host() - a model's stolen time: vCPU 0's, and all vCPUs' with their count */
static uint64_t model_host(const struct boot_model *m, uint64_t *all, unsigned int *nv)
{
	unsigned int i;

	*all = 0;
	*nv = 0;
	for (i = 0; i < m->sched.nvcpus; i++)
		*all += m->sched.vcpu[i].preempted_ns;
	*nv = m->sched.nvcpus;
	return m->sched.nvcpus ? m->sched.vcpu[0].preempted_ns : 0;
}

/* add_spans() - the finished spans of a model list as metrics "<prefix> [<kind> ]<name>" */
static int add_spans(struct cmp_set *s, int side, const struct span_list *l,
		     const char *prefix, bool levels)
{
	char head[64];
	size_t i;
	int err;

	for (i = 0; i < l->nr; i++) {
		const struct span *sp = &l->s[i];
		char *name;

		if (!sp->name || sp->open)
			continue;
		snprintf(head, sizeof(head), "%s %s%s", prefix, sp->kind ? sp->kind : "",
			 sp->kind ? " " : "");
		name = guest_utf8(head, sp->name);
		if (!name)
			return -ENOMEM;
		err = add_value(s, side, name, levels ? htr_level_name(sp->level) : NULL,
				net_ms(s, sp->dur_ns, sp->stolen_ns, sp->idle_ns));
		free(name);
		if (err)
			return err;
	}
	return 0;
}

/* too_many() - a side already has CMP_MAX_BOOTS boots; says so */
static bool too_many(const struct cmp_set *s, int side)
{
	if (s->boots[side] < CMP_MAX_BOOTS)
		return false;
	err_msg("compare: at most %d boots per side\n", CMP_MAX_BOOTS);
	return true;
}

/* remember() - a completed boot of @side, for the diff view; 0 or -ENOMEM */
static int remember(struct cmp_set *s, int side, const char *path, double boot_ms)
{
	struct cmp_boot *b;

	if (s->ngood[side] == s->good_alloc[side]) {
		b = htr_grow(s->good[side], &s->good_alloc[side], sizeof(*b), 16);
		if (!b)
			return -ENOMEM;
		s->good[side] = b;
	}
	b = &s->good[side][s->ngood[side]];
	b->path = strdup(path);
	if (!b->path)
		return -ENOMEM;
	b->boot_ms = boot_ms;
	s->ngood[side]++;
	return 0;
}

/**
 * cmp_add_model() - every metric of one boot, or its failure, from its model
 * @s:    the set
 * @side: 0 baseline, 1 candidate
 * @path: the file it came from (for the report)
 * @m:    the loaded model
 *
 * A boot whose verdict fails it adds no metrics, only its failure.
 *
 * Return: 0; -E2BIG (with a message) when the side is full; -ENOMEM.
 */
int cmp_add_model(struct cmp_set *s, int side, const char *path, const struct boot_model *m)
{
	int err = 0;

	if (too_many(s, side))
		return -E2BIG;
	s->serial++;
	if (htr_verdict_failed(m->verdict)) {
		char *msg = guest_utf8("", m->fail_msg);
		char *ic = m->fail_initcall[0] ? guest_utf8("", m->fail_initcall) : NULL;

		if (!msg || (m->fail_initcall[0] && !ic)) {
			free(msg);
			free(ic);
			return -ENOMEM;
		}
		err = add_failure(s, side, path, htr_verdict_name(m->verdict), msg, ic);
	} else {
		uint64_t all = 0, v0 = 0;
		unsigned int nv = 0;

		if (m->sched.aligned) {
			v0 = model_host(m, &all, &nv);
			err = note_stolen(s, side, path, all, m->boot_ns, nv);
		}
		/* the boot CPU's idle time: its idling is recorded until init runs */
		uint64_t idle0 = m->idle.cpu_idle_ns[0];

		if (!err && m->boot_ns > 0)
			err = add_value(s, side, "boot", NULL, net_ms(s, m->boot_ns, v0, idle0));
		if (!err && m->user_ns > 0)
			err = add_value(s, side, "userspace", NULL, net_ms(s, m->user_ns, v0, idle0));
		if (!err)
			err = add_spans(s, side, &m->phases, "phase", false);
		if (!err)
			err = add_spans(s, side, &m->levels, "level", false);
		if (!err)
			err = add_spans(s, side, &m->initcalls, "initcall", true);
		if (!err)
			err = add_spans(s, side, &m->shutdown, "shutdown", false);
		if (!err)
			err = remember(s, side, path, (double)m->boot_ns / 1e6);
	}
	s->boots[side]++;
	return err;
}

/* report_list() - the durations of one report JSON list, as add_spans() does for a model */
static int report_list(struct cmp_set *s, int side, json_t *r, const char *key,
		       const char *prefix)
{
	json_t *a = json_object_get(r, key), *it;
	size_t i;
	int err;

	json_array_foreach(a, i, it) {
		const char *n = json_string_value(json_object_get(it, "name"));
		const char *kind = json_string_value(json_object_get(it, "kind"));
		json_t *d = json_object_get(it, "duration_ns");
		char *name;

		if (!n || !json_is_integer(d) || json_is_true(json_object_get(it, "unfinished")))
			continue;
		if (asprintf(&name, "%s %s%s%s", prefix, kind ? kind : "", kind ? " " : "", n) < 0)
			return -ENOMEM;
		err = add_value(s, side, name, json_string_value(json_object_get(it, "level")),
				net_ms(s, (uint64_t)json_integer_value(d), json_u64(it, "stolen_ns"),
				       json_u64(it, "idle_ns")));
		free(name);
		if (err)
			return err;
	}
	return 0;
}

/*
 * report_host() - the stolen time in a report JSON's host_sched: vCPU 0's
 * into *@v0, all vCPUs' to flag the boot; 0 or -ENOMEM
 */
static int report_host(struct cmp_set *s, int side, const char *path, json_t *r, uint64_t *v0)
{
	json_t *v, *a = json_object_get(json_object_get(r, "host_sched"), "vcpus");
	json_int_t boot = json_integer_value(json_object_get(r, "boot_ns"));
	uint64_t all = 0;
	unsigned int nv = 0;
	size_t i;

	json_array_foreach(a, i, v) {
		json_int_t p = json_integer_value(json_object_get(v, "preempted_ns"));

		if (p < 0)
			continue;
		if (json_integer_value(json_object_get(v, "vcpu")) == 0)
			*v0 = (uint64_t)p;
		all += (uint64_t)p;
		nv++;
	}
	return note_stolen(s, side, path, all, boot > 0 ? (uint64_t)boot : 0, nv);
}

/* json_strdup() - a copy of a JSON string's text; NULL if it is not one (or no memory) */
static char *json_strdup(json_t *o)
{
	return json_is_string(o) ? strdup(json_string_value(o)) : NULL;
}

/**
 * cmp_add_report() - every metric of one boot, or its failure, from its report JSON
 * @s:    the set
 * @side: 0 baseline, 1 candidate
 * @path: the file it came from
 * @r:    what 'hypertrace report --json' wrote for the boot
 *
 * The same metrics as cmp_add_model() gives for the boot's model.
 *
 * Return: 0; -E2BIG (with a message) when the side is full; -ENOMEM.
 */
int cmp_add_report(struct cmp_set *s, int side, const char *path, json_t *r)
{
	json_t *f = json_object_get(r, "failure");
	const char *kind = json_string_value(json_object_get(f, "kind"));
	json_int_t ns;
	int err = 0;

	if (too_many(s, side))
		return -E2BIG;
	s->serial++;
	if (kind && strcmp(kind, "none")) {
		json_t *msg = json_object_get(f, "message"), *ic = json_object_get(f, "initcall");
		char *m = json_strdup(msg), *i = json_strdup(ic);

		if ((json_is_string(msg) && !m) || (json_is_string(ic) && !i)) {
			free(m);
			free(i);
			return -ENOMEM;
		}
		err = add_failure(s, side, path, kind, m, i);
	} else {
		uint64_t v0 = 0;

		if (json_is_true(json_object_get(json_object_get(r, "host_sched"), "aligned")))
			err = report_host(s, side, path, r, &v0);
		uint64_t idle0 = json_u64(json_array_get(json_object_get(json_object_get(r, "idle"),
									 "cpus"), 0), "idle_ns");

		ns = json_integer_value(json_object_get(r, "boot_ns"));
		if (!err && ns > 0)
			err = add_value(s, side, "boot", NULL, net_ms(s, (uint64_t)ns, v0, idle0));
		ns = json_integer_value(json_object_get(r, "userspace_ns"));
		if (!err && ns > 0)
			err = add_value(s, side, "userspace", NULL, net_ms(s, (uint64_t)ns, v0, idle0));
		if (!err)
			err = report_list(s, side, r, "phases", "phase");
		if (!err)
			err = report_list(s, side, r, "levels", "level");
		if (!err)
			err = report_list(s, side, r, "initcalls", "initcall");
		if (!err)
			err = report_list(s, side, r, "shutdown", "shutdown");
		if (!err)
			err = remember(s, side, path,
				       (double)json_integer_value(json_object_get(r, "boot_ns")) / 1e6);
	}
	s->boots[side]++;
	return err;
}

/*
 * same_clock() - @path's times are on @clock ("real", "icount SPEC"): the
 * first boot sets the set's clock, every other must be on it; 0 or -EINVAL
 * after saying why
 */
static int same_clock(struct cmp_set *s, const char *path, const char *clock)
{
	if (!s->clock[0]) {
		snprintf(s->clock, sizeof(s->clock), "%s", clock);
		snprintf(s->clock_path, sizeof(s->clock_path), "%s", path);
		return 0;
	}
	if (!strcmp(s->clock, clock))
		return 0;
	err_msg("compare: %s has times on the %s clock, %s on the %s clock: real and "
		"virtual times cannot be compared; boot both with the same --clock\n",
		s->clock_path, s->clock, path, clock);
	return -EINVAL;
}

/* report_clock() - "real" or "icount SPEC" from a report JSON's "clock" into @buf */
static const char *report_clock(json_t *r, char *buf, size_t len)
{
	json_t *c = json_object_get(r, "clock");
	const char *mode = json_string_value(json_object_get(c, "mode"));
	const char *spec = json_string_value(json_object_get(c, "icount"));

	if (!mode || strcmp(mode, "icount"))
		return "real";
	snprintf(buf, len, "icount %s", spec ? spec : "?");
	return buf;
}

/**
 * cmp_add_file() - one boot: a collector trace, or the JSON of 'report --json'
 * @s:    the set
 * @side: 0 baseline, 1 candidate
 * @path: the file
 *
 * Return: 0, or a negative errno; every failure has printed a message.
 */
int cmp_add_file(struct cmp_set *s, int side, const char *path)
{
	struct boot_model m;
	json_error_t jerr;
	char clock[72];
	json_t *r;
	FILE *f;
	int err;

	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		err_msg("compare: cannot open %s: %s\n", path, strerror(-err));
		return err;
	}
	if (fgetc(f) == '{') {
		rewind(f);
		r = json_loadf(f, 0, &jerr);
		fclose(f);
		if (!r) {
			err_msg("compare: %s: not report JSON: %s (line %d)\n", path, jerr.text,
				jerr.line);
			return -EINVAL;
		}
		err = same_clock(s, path, report_clock(r, clock, sizeof(clock)));
		if (!err)
			err = cmp_add_report(s, side, path, r);
		json_decref(r);
	} else {
		fclose(f);
		if (model_load(&m, path, NULL, NULL))
			return -EINVAL;
		snprintf(clock, sizeof(clock), "%s%s", m.icount[0] ? "icount " : "real",
			 m.icount);
		err = same_clock(s, path, clock);
		if (!err)
			err = cmp_add_model(s, side, path, &m);
		model_free(&m);
	}
	if (err == -ENOMEM)
		err_msg("compare: %s: out of memory\n", path);
	return err;
}

/**
 * cmp_set_free() - release everything a set holds
 * @s: the set; left empty, ready for reuse
 */
void cmp_set_free(struct cmp_set *s)
{
	size_t i;

	for (i = 0; i < s->nm; i++) {
		free(s->m[i].name);
		free(s->m[i].level);
		free(s->m[i].v[0]);
		free(s->m[i].v[1]);
		free(s->m[i].at[0]);
		free(s->m[i].at[1]);
	}
	for (i = 0; i < s->nfail_all; i++) {
		free(s->fail[i].boot);
		free(s->fail[i].kind);
		free(s->fail[i].message);
		free(s->fail[i].initcall);
	}
	for (i = 0; i < s->ngood[0]; i++)
		free(s->good[0][i].path);
	for (i = 0; i < s->ngood[1]; i++)
		free(s->good[1][i].path);
	for (i = 0; i < s->nnoisy; i++)
		free(s->noisy[i].boot);
	free(s->noisy);
	free(s->m);
	free(s->slot);
	free(s->fail);
	free(s->good[0]);
	free(s->good[1]);
	memset(s, 0, sizeof(*s));
}

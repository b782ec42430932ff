// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: find, validate and drain a control area and its rings, and
 * recover an early buffer, in a memory image of guest RAM.
 *
 * Everything read from the image is guest-controlled and may change while
 * we read it.  Geometry is validated once and used from our copy; head is
 * read once per drain and checked against our own tail; records are copied
 * out before they are decoded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "htrace.h"

/* htr_strerror() - a message for an HTR_E_* code */
const char *htr_strerror(int err)
{
	switch (err) {
	case HTR_OK:
		return "success";
	case HTR_E_NOTFOUND:
		return "no Hypertrace control area or early buffer in the image";
	case HTR_E_RANGE:
		return "structure extends past the end of the image";
	case HTR_E_VERSION:
		return "unsupported Hypertrace ABI version (newer guest? update the host tools)";
	case HTR_E_GEOMETRY:
		return "impossible ring geometry in the control area";
	case HTR_E_NOMEM:
		return "out of memory";
	case HTR_E_PROTOCOL:
		return "guest broke the ring protocol";
	case HTR_E_INVAL:
		return "invalid argument";
	}
	return "unknown error";
}

/* load_u64() - unaligned-safe read of a u64 from the image */
static uint64_t load_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * htr_scan() - find the next @align-aligned offset >= @from holding @magic
 *
 * Returns 0 and sets *found, or HTR_E_NOTFOUND.
 */
int htr_scan(const void *img, size_t size, size_t from, uint64_t magic,
	     size_t align, size_t *found)
{
	const unsigned char *p = img;
	size_t off;

	if (!img || !align || (align & (align - 1)) || align < 8)
		return HTR_E_INVAL;
	off = (from + align - 1) & ~(align - 1);
	if (off < from)
		return HTR_E_NOTFOUND;
	for (; size >= 8 && off <= size - 8; off += align) {
		if (load_u64(p + off) == magic) {
			*found = off;
			return HTR_OK;
		}
	}
	return HTR_E_NOTFOUND;
}

/* ctl_valid() - check a control-area header copy against the image size */
static int ctl_valid(const struct ht_ctl *c, size_t size, size_t off)
{
	uint64_t need;

	if (c->magic != HT_CTL_MAGIC)
		return HTR_E_NOTFOUND;
	if (c->version != HT_ABI_VERSION)
		return HTR_E_VERSION;
	if (c->hdr_size != sizeof(struct ht_ctl) ||
	    c->rec_size != HT_RECORD_SIZE)
		return HTR_E_GEOMETRY;
	if (!c->nr_rings || c->nr_rings > HT_MAX_RINGS ||
	    c->ring_records < 2 || c->ring_records > HT_MAX_RING_RECORDS ||
	    (c->ring_records & (c->ring_records - 1)))
		return HTR_E_GEOMETRY;
	if ((c->rings_offset % 64) || (c->ring_stride % 64) ||
	    c->rings_offset < sizeof(struct ht_ctl) ||
	    c->ring_stride < sizeof(struct ht_ring_hdr) +
			     (uint64_t)c->ring_records * HT_RECORD_SIZE)
		return HTR_E_GEOMETRY;
	/* all factors are bounded above, so none of this overflows */
	if (c->rings_offset > (1ULL << 40) || c->ring_stride > (1ULL << 40))
		return HTR_E_GEOMETRY;
	need = c->rings_offset + (uint64_t)c->nr_rings * c->ring_stride;
	if (c->area_size < need)
		return HTR_E_GEOMETRY;
	if (off > size || need > size - off)
		return HTR_E_RANGE;
	return HTR_OK;
}

/**
 * htr_area_open() - validate the control area at @off and prepare to drain
 * @a:        filled in on success; release with htr_area_close()
 * @img:      the image (a shared mapping of guest RAM, or a copy)
 * @size:     its size
 * @off:      offset of the control area (64-byte aligned)
 * @writable: write our tail back so the guest can reuse slots
 *
 * Draining starts at each ring's current tail as the guest sees it, so a
 * second collector attaching to a live guest does not replay records.
 *
 * Return: 0, or HTR_E_NOTFOUND / HTR_E_VERSION / HTR_E_GEOMETRY /
 * HTR_E_RANGE for a bad header, HTR_E_NOMEM.
 */
int htr_area_open(struct htr_area *a, void *img, size_t size, size_t off,
		  bool writable)
{
	unsigned int i;
	int err;

	memset(a, 0, sizeof(*a));
	if (!img || (off % 64) || off > size || size - off < sizeof(a->ctl))
		return img && !(off % 64) ? HTR_E_RANGE : HTR_E_INVAL;
	/* acquire: pairs with the guest's release of magic; header complete */
	if (__atomic_load_n((uint64_t *)((unsigned char *)img + off),
			    __ATOMIC_ACQUIRE) != HT_CTL_MAGIC)
		return HTR_E_NOTFOUND;
	memcpy(&a->ctl, (unsigned char *)img + off, sizeof(a->ctl));
	err = ctl_valid(&a->ctl, size, off);
	if (err)
		return err;
	a->rings = calloc(a->ctl.nr_rings, sizeof(*a->rings));
	if (!a->rings)
		return HTR_E_NOMEM;
	a->img = img;
	a->img_size = size;
	a->off = off;
	a->writable = writable;
	for (i = 0; i < a->ctl.nr_rings; i++) {
		const struct ht_ring_hdr *h = (const void *)(a->img + off +
			a->ctl.rings_offset + (uint64_t)i * a->ctl.ring_stride);

		a->rings[i].tail = __atomic_load_n(&h->tail, __ATOMIC_RELAXED);
		a->rings[i].head = a->rings[i].tail;
	}
	return HTR_OK;
}

/**
 * htr_area_find() - scan the image for a valid control area and open it
 * @a:        as for htr_area_open()
 * @img:      the image
 * @size:     its size
 * @writable: as for htr_area_open()
 *
 * Candidates whose header does not validate (the magic can appear in
 * guest code or data by chance) are skipped.
 *
 * Return: 0, HTR_E_NOTFOUND, or the error of the last invalid candidate.
 */
int htr_area_find(struct htr_area *a, void *img, size_t size, bool writable)
{
	int err = HTR_E_NOTFOUND, last = HTR_E_NOTFOUND;
	size_t off = 0;

	while (htr_scan(img, size, off, HT_CTL_MAGIC, 64, &off) == HTR_OK) {
		err = htr_area_open(a, img, size, off, writable);
		if (err == HTR_OK)
			return HTR_OK;
		last = err;
		off += 64;
	}
	return last;
}

/* htr_area_close() - release what htr_area_open() allocated */
void htr_area_close(struct htr_area *a)
{
	free(a->rings);
	a->rings = NULL;
}

/* ring_hdr() - ring @i's header inside the image (geometry pre-validated) */
static struct ht_ring_hdr *ring_hdr(const struct htr_area *a, unsigned int i)
{
	return (struct ht_ring_hdr *)(a->img + a->off + a->ctl.rings_offset +
				      (uint64_t)i * a->ctl.ring_stride);
}

/**
 * htr_area_orphans() - the guest's count of records dropped outside rings
 * @a: an open area
 *
 * Return: the control area's orphan_lost as it is now.
 */
uint64_t htr_area_orphans(const struct htr_area *a)
{
	const struct ht_ctl *c = (const void *)(a->img + a->off);

	return __atomic_load_n(&c->orphan_lost, __ATOMIC_RELAXED);
}

/**
 * htr_ring_hint() - write the in-band hints into ring @ring's header: the
 * host CPU its vCPU's thread last ran on and its run delay
 * @a:            an open, writable area
 * @ring:         ring index, < a->ctl.nr_rings
 * @host_cpu:     the host CPU, or -1 for "not known"
 * @run_delay_ns: the thread's time runnable but not running, cumulative
 *
 * The guest copies them into a VCPU_PCPU record when the host CPU changes
 * (abi.rst, "Ring header").  Two untorn stores, run delay first, so that
 * a guest that sees the new CPU mostly sees its delay too; the guest
 * treats both as hints, so no stronger ordering is promised.
 *
 * Return: 0, or HTR_E_INVAL for a ring out of range or a read-only area.
 */
int htr_ring_hint(struct htr_area *a, unsigned int ring, int64_t host_cpu,
		  uint64_t run_delay_ns)
{
	struct ht_ring_hdr *h;
	uint32_t w = host_cpu >= 0 && host_cpu < UINT32_MAX ? (uint32_t)host_cpu + 1 : 0;

	if (!a->rings || !a->writable || ring >= a->ctl.nr_rings)
		return HTR_E_INVAL;
	h = ring_hdr(a, ring);
	__atomic_store_n(&h->host_run_delay, run_delay_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&h->host_pcpu, w, __ATOMIC_RELAXED);
	return 0;
}

#define DRAIN_CHUNK	256

/**
 * htr_ring_drain() - hand every record now in ring @ring to @fn
 * @a:    an open area
 * @ring: ring index, < a->ctl.nr_rings
 * @fn:   called per record, in order; a non-zero return stops the drain
 *        (the record it was given counts as consumed)
 * @ctx:  passed to @fn
 *
 * A head that moved backwards or more than a ring ahead of our tail is a
 * protocol violation: it is counted, the records that cannot be trusted
 * are skipped, and draining resumes from the guest's current window.
 *
 * Return: records drained, or HTR_E_INVAL.
 */
long htr_ring_drain(struct htr_area *a, unsigned int ring, htr_record_fn fn,
		    void *ctx)
{
	struct ht_record buf[DRAIN_CHUNK];
	const uint64_t size = a->ctl.ring_records;
	struct htr_ring *r;
	struct ht_ring_hdr *h;
	const struct ht_record *slots;
	uint64_t head, tail;
	long done = 0;
	int stop = 0;

	if (!a->rings || ring >= a->ctl.nr_rings)
		return HTR_E_INVAL;
	r = &a->rings[ring];
	h = ring_hdr(a, ring);
	slots = (const struct ht_record *)(h + 1);

	/* acquire: pairs with the guest's release of head (slots written) */
	head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
	r->lost = __atomic_load_n(&h->lost, __ATOMIC_RELAXED);
	tail = r->tail;
	if (head - tail > size) {
		/* behind by more than a ring, or head went backwards */
		r->errors++;
		if (head > tail) {
			r->skipped += head - size - tail;
			tail = head - size;
		} else {
			tail = head;
		}
	}
	r->head = head;
	while (tail != head && !stop) {
		uint64_t idx = tail & (size - 1);
		uint64_t n = head - tail;
		uint64_t i;

		if (n > DRAIN_CHUNK)
			n = DRAIN_CHUNK;
		if (n > size - idx)
			n = size - idx;
		memcpy(buf, &slots[idx], n * sizeof(buf[0]));
		for (i = 0; i < n; i++) {
			done++;
			if (fn && fn(ctx, &buf[i], ring)) {
				stop = 1;
				n = i + 1;
				break;
			}
		}
		tail += n;
		r->drained += n;
	}
	r->tail = tail;
	/*
	 * Release: our copies of the slots are complete before the guest,
	 * seeing the new tail, overwrites them.  Pairs with its acquire.
	 */
	if (a->writable)
		__atomic_store_n(&h->tail, tail, __ATOMIC_RELEASE);
	return done;
}

/**
 * htr_area_drain() - drain every ring once, in ring order
 * @a:   an open area
 * @fn:  as for htr_ring_drain()
 * @ctx: passed to @fn
 *
 * Return: records drained in all.
 */
long htr_area_drain(struct htr_area *a, htr_record_fn fn, void *ctx)
{
	long total = 0;
	unsigned int i;

	for (i = 0; i < a->ctl.nr_rings; i++) {
		long n = htr_ring_drain(a, i, fn, ctx);

		if (n > 0)
			total += n;
	}
	return total;
}

/**
 * htr_early_read() - validate and copy the early buffer at @off
 * @e:    filled in on success
 * @img:  the image
 * @size: its size
 * @off:  offset of struct ht_early (8-byte aligned)
 *
 * Return: 0, HTR_E_NOTFOUND, HTR_E_VERSION, HTR_E_GEOMETRY or HTR_E_RANGE.
 */
int htr_early_read(struct htr_early *e, const void *img, size_t size,
		   size_t off)
{
	struct ht_early hdr;
	const unsigned char *p = img;
	uint32_t count;

	memset(e, 0, sizeof(*e));
	if (!img || (off % 8))
		return HTR_E_INVAL;
	if (off > size || size - off < sizeof(struct ht_early))
		return HTR_E_RANGE;
	memcpy(&hdr, p + off, __builtin_offsetof(struct ht_early, rec));
	if (hdr.magic != HT_EARLY_MAGIC)
		return HTR_E_NOTFOUND;
	if (hdr.version != HT_ABI_VERSION)
		return HTR_E_VERSION;
	if (hdr.hdr_size != __builtin_offsetof(struct ht_early, rec) ||
	    hdr.capacity != HT_EARLY_RECORDS ||
	    (hdr.state != HT_EARLY_ACTIVE && hdr.state != HT_EARLY_MOVED))
		return HTR_E_GEOMETRY;
	count = hdr.count > hdr.capacity ? hdr.capacity : hdr.count;
	e->off = off;
	e->count = count;
	e->state = hdr.state;
	e->lost = hdr.lost;
	memcpy(e->rec, p + off + hdr.hdr_size, count * sizeof(e->rec[0]));
	return HTR_OK;
}

/**
 * htr_early_find() - scan the image for a valid early buffer and copy it
 * @e:    filled in on success
 * @img:  the image
 * @size: its size
 *
 * The guest's .data holds exactly one; other hits of the magic (code that
 * writes it, a stale copy) fail validation and are skipped.  A buffer
 * already moved into the rings is still returned, with state
 * HT_EARLY_MOVED, so the caller can tell.
 *
 * Return: 0, HTR_E_NOTFOUND, or the error of the last invalid candidate.
 */
int htr_early_find(struct htr_early *e, const void *img, size_t size)
{
	int err, last = HTR_E_NOTFOUND;
	size_t off = 0;

	while (htr_scan(img, size, off, HT_EARLY_MAGIC, 8, &off) == HTR_OK) {
		err = htr_early_read(e, img, size, off);
		if (err == HTR_OK)
			return HTR_OK;
		last = err;
		off += 8;
	}
	return last;
}

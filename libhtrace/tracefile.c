// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libhtrace: the collector's trace file (the format is in tracefile.h).
 *
 * The writer puts each chunk into the file with a single write(2) on an
 * O_APPEND descriptor and stops at its first failure, so the file is always
 * whole chunks followed by at most one torn one.  The reader treats the file
 * as hostile: each field is loaded once into a local, every length is
 * bounded and checked against what is left before it is used, and nothing
 * outside the caller's buffer is ever read.  All fields are little-endian
 * and are stored and loaded a byte at a time, whatever the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "htrace.h"
#include "tracefile.h"

/* offsets of the fields in the file header and in a chunk header */
#define FH_MAGIC	0
#define FH_VERSION	8
#define FH_HEADER_SIZE	12
#define FH_CREATED_NS	16
#define FH_CREATED_MONO	24
#define CH_MAGIC	0
#define CH_KIND		4
#define CH_SOURCE	6
#define CH_LEN		8
#define CH_CRC		12
#define CH_HOST_NS	16

_Static_assert(sizeof(HTF_MAGIC) == 8, "file magic is 8 bytes with its NUL");
_Static_assert(CH_HOST_NS + 8 == HTF_CHUNK_HEADER_SIZE, "chunk header layout");
_Static_assert(FH_CREATED_MONO + 8 + 32 == HTF_HEADER_SIZE,
	       "file header layout");

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), one entry per byte */

/**
 * htf_crc32() - update a CRC-32 (IEEE 802.3) with @len bytes
 * @crc:  0 to start, or the value returned for the bytes before @data
 * @data: the bytes (may be NULL when @len is 0)
 * @len:  how many
 *
 * Pre- and post-inverted like zlib's crc32(), so calls chain:
 * htf_crc32(htf_crc32(0, a, m), b, n) is the CRC of a followed by b, and
 * htf_crc32(0, "123456789", 9) is 0xCBF43926.
 *
 * Return: the updated CRC.
 */
uint32_t htf_crc32(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	/* zlib's CRC-32 is the same function, and several times faster */
	while (len) {
		uInt n = len > 0x40000000 ? 0x40000000 : (uInt)len;

		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

/* put_le16() - store @v at @p, little-endian */
static void put_le16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

/* put_le32() - store @v at @p, little-endian */
static void put_le32(unsigned char *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

/* put_le64() - store @v at @p, little-endian */
static void put_le64(unsigned char *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* get_le16() - load a little-endian u16 from @p */
static uint16_t get_le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (unsigned int)p[1] << 8);
}

/* get_le32() - load a little-endian u32 from @p */
static uint32_t get_le32(const unsigned char *p)
{
	return get_le16(p) | (uint32_t)get_le16(p + 2) << 16;
}

/* get_le64() - load a little-endian u64 from @p */
static uint64_t get_le64(const unsigned char *p)
{
	return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* chunk_bytes() - header, payload and padding of a chunk of @len bytes */
static size_t chunk_bytes(uint32_t len)
{
	/* len <= HTF_MAX_PAYLOAD, checked by every caller: no overflow */
	return HTF_CHUNK_HEADER_SIZE + (((size_t)len + 7) & ~(size_t)7);
}

/* now_ns() - the current value of @clk in nanoseconds (0 if unreadable) */
static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* write_once() - @len bytes in one write(2), EINTR retried; short is -EIO */
static int write_once(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = write(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

/**
 * htf_create() - create a trace file and write its header
 * @w:    filled in; @w->fd is -1 on failure
 * @path: where; must not exist (a file or a symlink there is refused)
 *
 * The file is opened O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC and
 * set to mode 0600 whatever the umask.  A file we created but could not
 * finish is removed again.
 *
 * Return: 0, or -errno (-EEXIST if @path exists, -EIO for a short write).
 */
int htf_create(struct htf_writer *w, const char *path)
{
	unsigned char hdr[HTF_HEADER_SIZE];
	int fd, err;

	w->fd = -1;
	w->bytes = 0;
	w->error = 0;
	if (!path)
		return -EINVAL;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600)) {
		err = -errno;
		goto out_unlink;
	}
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr + FH_MAGIC, HTF_MAGIC, sizeof(HTF_MAGIC));
	put_le32(hdr + FH_VERSION, HTF_VERSION);
	put_le32(hdr + FH_HEADER_SIZE, HTF_HEADER_SIZE);
	put_le64(hdr + FH_CREATED_NS, now_ns(CLOCK_REALTIME));
	put_le64(hdr + FH_CREATED_MONO, now_ns(CLOCK_MONOTONIC));
	err = write_once(fd, hdr, sizeof(hdr));
	if (err)
		goto out_unlink;
	w->fd = fd;
	w->bytes = HTF_HEADER_SIZE;
	return 0;

out_unlink:
	unlink(path);
	close(fd);
	return err;
}

/* kind_valid() - @kind is known and @src fits it (a source only for records) */
static int kind_valid(enum htf_kind kind, enum htf_source src)
{
	if (kind == HTF_RECORDS)
		return src >= HTF_SRC_RING && src <= HTF_SRC_EARLY;
	return kind >= HTF_METADATA && kind <= HTF_SCHED && src == 0;
}

/**
 * htf_append() - append one chunk with a single write(2)
 * @w:       a writer from htf_create()
 * @kind:    what the payload is
 * @src:     where the records came from (HTF_RECORDS), else 0
 * @host_ns: CLOCK_MONOTONIC when the chunk was made
 * @payload: @len bytes (may be NULL when @len is 0)
 * @len:     at most HTF_MAX_PAYLOAD
 *
 * Header, payload and zero padding go out in one write(2).  A failed or
 * short write is recorded in @w->error and every later append is refused
 * with it, so the file never holds good chunks after a torn one.
 *
 * Return: 0; -EINVAL for a bad kind, source or length (nothing recorded);
 * -ENOMEM; -EIO for a short write or the recorded error of an earlier one;
 * or the -errno of write(2).
 */
int htf_append(struct htf_writer *w, enum htf_kind kind, enum htf_source src,
	       uint64_t host_ns, const void *payload, uint32_t len)
{
	unsigned char *buf;
	size_t total;
	int err;

	if (w->error)
		return -w->error;
	if (w->fd < 0)
		return -EBADF;
	if (!kind_valid(kind, src) || len > HTF_MAX_PAYLOAD ||
	    (len && !payload))
		return -EINVAL;
	total = chunk_bytes(len);
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	put_le32(buf + CH_MAGIC, HTF_CHUNK_MAGIC);
	put_le16(buf + CH_KIND, (uint16_t)kind);
	put_le16(buf + CH_SOURCE, (uint16_t)src);
	put_le32(buf + CH_LEN, len);
	put_le32(buf + CH_CRC, 0);
	put_le64(buf + CH_HOST_NS, host_ns);
	if (len)
		memcpy(buf + HTF_CHUNK_HEADER_SIZE, payload, len);
	memset(buf + HTF_CHUNK_HEADER_SIZE + len, 0,
	       total - HTF_CHUNK_HEADER_SIZE - len);
	/* header with crc = 0, then payload: contiguous in buf */
	put_le32(buf + CH_CRC,
		 htf_crc32(0, buf, HTF_CHUNK_HEADER_SIZE + (size_t)len));
	err = write_once(w->fd, buf, total);
	free(buf);
	if (err) {
		w->error = -err;
		return err;
	}
	w->bytes += total;
	return 0;
}

/**
 * htf_close() - flush a trace file to stable storage and close it
 * @w: a writer from htf_create(); its fd is -1 afterwards
 *
 * Return: 0, or the first error: the one recorded by a failed append, else
 * that of fsync(2) or close(2); -EBADF if @w is not open.
 */
int htf_close(struct htf_writer *w)
{
	int err = w->error ? -w->error : 0;

	if (w->fd < 0)
		return err ? err : -EBADF;
	while (fsync(w->fd)) {
		if (errno == EINTR)
			continue;
		if (!err)
			err = -errno;
		break;
	}
	/* Linux releases the fd even when close() says EINTR: never retry */
	if (close(w->fd) && errno != EINTR && !err)
		err = -errno;
	w->fd = -1;
	if (err && !w->error)
		w->error = -err;
	return err;
}

/**
 * htf_open_mem() - validate a trace file's header and prepare to read it
 * @r:    filled in on success
 * @data: the whole file (mapped or copied); must stay valid while reading
 * @size: its size in bytes
 *
 * Return: 0, HTR_E_RANGE (shorter than the file header), HTR_E_NOTFOUND
 * (not a trace file), HTR_E_VERSION (a newer or unknown format) or
 * HTR_E_INVAL (@data is NULL).
 */
int htf_open_mem(struct htf_reader *r, const void *data, size_t size)
{
	const unsigned char *p = data;
	uint32_t version;

	memset(r, 0, sizeof(*r));
	if (size < HTF_HEADER_SIZE)
		return HTR_E_RANGE;
	if (!p)
		return HTR_E_INVAL;
	if (memcmp(p + FH_MAGIC, HTF_MAGIC, sizeof(HTF_MAGIC)))
		return HTR_E_NOTFOUND;
	version = get_le32(p + FH_VERSION);
	if (!version || version > HTF_VERSION ||
	    get_le32(p + FH_HEADER_SIZE) != HTF_HEADER_SIZE)
		return HTR_E_VERSION;
	r->data = p;
	r->size = size;
	r->pos = HTF_HEADER_SIZE;
	r->created_ns = get_le64(p + FH_CREATED_NS);
	r->created_mono = get_le64(p + FH_CREATED_MONO);
	return HTR_OK;
}

/* torn_tail() - the end: the bytes from @r->pos on are not a valid chunk */
static int torn_tail(struct htf_reader *r, const char *why)
{
	r->torn = r->size - r->pos;
	r->torn_reason = why;
	return 0;
}

/**
 * htf_next() - read the next complete, CRC-correct chunk
 * @r: a reader from htf_open_mem()
 * @c: filled in when 1 is returned; @c->payload points into @r->data
 *
 * Stops at the first chunk that is cut short, has a bad magic or length, or
 * fails its CRC, and never looks past it: @r->pos stays at its offset (the
 * end of the good data), @r->torn says how many bytes were dropped and
 * @r->torn_reason why (NULL and 0 after a clean end).  Calls after the end
 * keep returning 0 with the same result.  Padding is not checked.
 *
 * Return: 1 for a chunk, 0 at the end.
 */
int htf_next(struct htf_reader *r, struct htf_chunk *c)
{
	unsigned char hdr[HTF_CHUNK_HEADER_SIZE];
	const unsigned char *payload;
	uint32_t len, crc;
	size_t left, need;

	if (r->pos >= r->size) {
		r->torn = 0;
		r->torn_reason = NULL;
		return 0;
	}
	left = r->size - r->pos;
	if (left < HTF_CHUNK_HEADER_SIZE)
		return torn_tail(r, "truncated chunk header");
	/* one copy: the fields checked are the fields used */
	memcpy(hdr, r->data + r->pos, sizeof(hdr));
	if (get_le32(hdr + CH_MAGIC) != HTF_CHUNK_MAGIC)
		return torn_tail(r, "bad chunk magic");
	len = get_le32(hdr + CH_LEN);
	if (len > HTF_MAX_PAYLOAD)
		return torn_tail(r, "oversized chunk");
	need = chunk_bytes(len);
	if (left < need)
		return torn_tail(r, "truncated payload");
	crc = get_le32(hdr + CH_CRC);
	put_le32(hdr + CH_CRC, 0);
	payload = r->data + r->pos + HTF_CHUNK_HEADER_SIZE;
	if (htf_crc32(htf_crc32(0, hdr, sizeof(hdr)), payload, len) != crc)
		return torn_tail(r, "CRC mismatch");
	c->kind = get_le16(hdr + CH_KIND);
	c->source = get_le16(hdr + CH_SOURCE);
	c->host_ns = get_le64(hdr + CH_HOST_NS);
	c->len = len;
	c->payload = payload;
	c->offset = r->pos;
	r->pos += need;
	return 1;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The collector's trace file: chunks round-trip with their kind, source,
 * timestamp and bytes; the file is owner-only and never overwrites; a torn
 * or damaged tail (every cut point, every flipped bit of a chunk, garbage)
 * costs only the chunks from the damage on; bad file headers get the right
 * error; a failed or short write stops the writer; and a writer killed in
 * the middle of its appends leaves a file that reads back cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "htrace.h"
#include "tap.h"
#include "tracefile.h"

static char dir[4096];

/* want - one chunk as written, to compare with what is read back */
struct want {
	enum htf_kind kind;
	enum htf_source src;
	uint64_t host_ns;
	uint32_t len;
	unsigned int seed;
};

/* path_of() - @name inside the test's private directory (static buffer) */
static const char *path_of(const char *name)
{
	static char path[8192];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* fill() - @len bytes of a pattern that depends on @seed */
static void fill(unsigned char *p, uint32_t len, unsigned int seed)
{
	uint32_t x = seed * 2654435761u + 1, i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

/* slurp() - the whole file at @path in a buffer of exactly its size */
static unsigned char *slurp(const char *path, size_t *size)
{
	unsigned char *buf;
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !(buf = malloc(st.st_size ? st.st_size : 1))) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	       (n = read(fd, buf + got, st.st_size - got)) > 0)
		got += n;
	close(fd);
	*size = got;
	return buf;
}

/* dup_exact() - a copy of @n bytes in a heap block of exactly @n bytes */
static unsigned char *dup_exact(const unsigned char *data, size_t n)
{
	unsigned char *p = malloc(n ? n : 1);

	if (p && n)
		memcpy(p, data, n);
	return p;
}

/* chunk_total() - bytes a chunk of @len payload bytes takes in the file */
static size_t chunk_total(uint32_t len)
{
	return HTF_CHUNK_HEADER_SIZE + ((len + 7) & ~7u);
}

/* write_file() - create @name holding the @n chunks of @w; 0 or -errno */
static int write_file(const char *name, const struct want *w, unsigned int n)
{
	struct htf_writer wr;
	unsigned char *buf;
	unsigned int i;
	int err, cerr;

	err = htf_create(&wr, path_of(name));
	if (err)
		return err;
	for (i = 0; i < n && !err; i++) {
		buf = malloc(w[i].len ? w[i].len : 1);
		if (!buf)
			return -ENOMEM;
		fill(buf, w[i].len, w[i].seed);
		err = htf_append(&wr, w[i].kind, w[i].src, w[i].host_ns, buf,
				 w[i].len);
		free(buf);
	}
	cerr = htf_close(&wr);
	return err ? err : cerr;
}

/* chunk_matches() - @c is what @w describes, at offset @off */
static int chunk_matches(const struct htf_chunk *c, const struct want *w,
			 uint64_t off)
{
	unsigned char *buf = malloc(w->len ? w->len : 1);
	int same;

	if (!buf)
		return 0;
	fill(buf, w->len, w->seed);
	same = c->kind == w->kind && c->source == (uint16_t)w->src &&
	       c->host_ns == w->host_ns && c->len == w->len &&
	       c->offset == off && !(c->offset % 8) &&
	       !memcmp(c->payload, buf, w->len);
	free(buf);
	return same;
}

/*
 * read_prefix() - read @data and count the chunks that match @w in order
 *
 * Returns how many chunks were read; *@bad is set when one of them did not
 * match or more were read than @n.  The reader is left at its end.
 */
static unsigned int read_prefix(struct htf_reader *r, const unsigned char *data,
				size_t size, const struct want *w,
				unsigned int n, int *bad)
{
	struct htf_chunk c;
	uint64_t off = HTF_HEADER_SIZE;
	unsigned int got = 0;

	*bad = 0;
	if (htf_open_mem(r, data, size) != HTR_OK) {
		*bad = 1;
		return 0;
	}
	while (htf_next(r, &c) == 1) {
		if (got >= n || !chunk_matches(&c, &w[got], off))
			*bad = 1;
		else
			off += chunk_total(w[got].len);
		got++;
	}
	return got;
}

/* A bit of everything: each kind, each source, awkward and large sizes. */
static const struct want mixed[] = {
	{ HTF_METADATA, 0, 1000, 57, 1 },
	{ HTF_RECORDS, HTF_SRC_EARLY, 0x123456789abcdef0ULL, 32 * 64, 2 },
	{ HTF_RECORDS, HTF_SRC_RING, 2000, 96, 3 },
	{ HTF_RECORDS, HTF_SRC_PORT, 2001, 32, 4 },
	{ HTF_RECORDS, HTF_SRC_HYPERCALL, 2002, 0, 5 },
	{ HTF_HOST_EVENT, 0, 3000, 1, 6 },
	{ HTF_LOSS, 0, 4000, 7, 7 },
	{ HTF_RECORDS, HTF_SRC_RING, 5000, 20000, 8 },
	{ HTF_HOST_EVENT, 0, 6000, 8, 9 },
	{ HTF_LOSS, 0, 7000, 9, 10 },
	{ HTF_END, 0, UINT64_MAX, 45, 11 },
};
#define NR_MIXED (sizeof(mixed) / sizeof(mixed[0]))

/* crc32_bitwise() - reference CRC-32, one bit at a time */
static uint32_t crc32_bitwise(const unsigned char *p, size_t len)
{
	uint32_t crc = 0xffffffff;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}

/* test_crc() - the check value, chaining, and every table entry */
static void test_crc(void)
{
	unsigned char buf[65536], b;
	unsigned int i, bad = 0;

	is(htf_crc32(0, "123456789", 9), 0xcbf43926, "CRC-32 check value");
	is(htf_crc32(htf_crc32(0, "1234", 4), "56789", 5), 0xcbf43926,
	   "CRC-32 chains across calls");
	is(htf_crc32(0, NULL, 0), 0, "CRC-32 of nothing is 0");
	for (i = 0; i < 256; i++) {
		b = (unsigned char)i;
		bad += htf_crc32(0, &b, 1) != crc32_bitwise(&b, 1);
	}
	fill(buf, sizeof(buf), 99);
	bad += htf_crc32(0, buf, sizeof(buf)) != crc32_bitwise(buf, sizeof(buf));
	is(bad, 0, "table CRC equals bitwise CRC for every byte and 64 KiB");
}

/* test_roundtrip() - every chunk comes back as written, header included */
static void test_roundtrip(void)
{
	struct timespec now;
	struct htf_reader r;
	struct htf_chunk c;
	unsigned char *data, *shifted;
	size_t size;
	int bad;

	is(write_file("mixed", mixed, NR_MIXED), 0, "wrote 11 chunks of every kind");
	data = slurp(path_of("mixed"), &size);
	if (!ok(data, "read the file back"))
		return;
	{
		size_t want = HTF_HEADER_SIZE;
		unsigned int i;

		for (i = 0; i < NR_MIXED; i++)
			want += chunk_total(mixed[i].len);
		is(size, want, "file size is header + chunks + padding");
	}
	ok(!memcmp(data, "HTTRACE\0\1\0\0\0\100\0\0\0", 16),
	   "file header: magic, version 1, header size 64 (little-endian)");
	{
		static const unsigned char zero[32];

		ok(!memcmp(data + 32, zero, 32), "file header: reserved bytes zero");
	}
	clock_gettime(CLOCK_REALTIME, &now);
	is(read_prefix(&r, data, size, mixed, NR_MIXED, &bad), NR_MIXED,
	   "all chunks read back");
	ok(!bad, "kind, source, host_ns, bytes and 8-byte-aligned offsets preserved");
	ok(r.torn == 0 && r.torn_reason == NULL && r.pos == size,
	   "clean end: nothing torn");
	ok(r.created_ns && r.created_ns <= (uint64_t)now.tv_sec * 1000000000u +
	   (uint64_t)now.tv_nsec && r.created_mono,
	   "created_ns and created_mono set");
	ok(htf_next(&r, &c) == 0 && htf_next(&r, &c) == 0 && r.torn == 0,
	   "end is sticky");

	/* the reader must not care where the buffer starts */
	shifted = malloc(size + 1);
	if (shifted) {
		memcpy(shifted + 1, data, size);
		ok(read_prefix(&r, shifted + 1, size, mixed, NR_MIXED, &bad) ==
		   NR_MIXED && !bad, "misaligned buffer reads the same");
		free(shifted);
	}
	free(data);
	unlink(path_of("mixed"));
}

/* test_mode() - the file is 0600 whatever the umask */
static void test_mode(void)
{
	struct htf_writer w;
	struct stat st;
	mode_t old = umask(0);
	int err = htf_create(&w, path_of("mode"));

	umask(old);
	is(err, 0, "create with umask 0");
	ok(!fstat(w.fd, &st) && (st.st_mode & 07777) == 0600 &&
	   S_ISREG(st.st_mode), "file mode is 0600 with umask 0");
	ok(fcntl(w.fd, F_GETFD) & FD_CLOEXEC, "descriptor is close-on-exec");
	ok((fcntl(w.fd, F_GETFL) & (O_APPEND | O_ACCMODE)) == (O_APPEND | O_WRONLY),
	   "descriptor is write-only, O_APPEND");
	is(w.bytes, HTF_HEADER_SIZE, "header counted in bytes");
	is(htf_close(&w), 0, "close");
	is(w.fd, -1, "fd is -1 after close");
	is(htf_close(&w), -EBADF, "second close says -EBADF");
	is(htf_append(&w, HTF_END, 0, 0, NULL, 0), -EBADF, "append after close refused");
	unlink(path_of("mode"));
}

/* test_excl() - an existing file or a symlink is never opened or replaced */
static void test_excl(void)
{
	char target[sizeof(dir) + 16];
	struct htf_writer w;
	unsigned char *data;
	size_t size = 0;
	int fd;

	fd = open(path_of("exists"), O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd >= 0) {
		if (write(fd, "precious", 8) != 8)
			diag("short write");
		close(fd);
	}
	is(htf_create(&w, path_of("exists")), -EEXIST, "existing file: -EEXIST");
	is(w.fd, -1, "no descriptor on failure");
	data = slurp(path_of("exists"), &size);
	ok(data && size == 8 && !memcmp(data, "precious", 8),
	   "existing file untouched");
	free(data);
	unlink(path_of("exists"));

	snprintf(target, sizeof(target), "%s/target", dir);
	if (symlink(target, path_of("link")))
		diag("symlink: %s", strerror(errno));
	is(htf_create(&w, path_of("link")), -EEXIST, "dangling symlink: -EEXIST");
	ok(access(path_of("target"), F_OK) && errno == ENOENT,
	   "symlink target not created");
	unlink(path_of("link"));
	is(htf_create(&w, "/nonexistent-dir/x"), -ENOENT, "missing directory: -ENOENT");
}

/* expected_reason() - what the reader should say about a tail of @left bytes */
static const char *expected_reason(size_t left)
{
	return left < HTF_CHUNK_HEADER_SIZE ? "truncated chunk header"
					    : "truncated payload";
}

/* test_torn() - every prefix of a file keeps exactly the whole chunks in it */
static void test_torn(void)
{
	unsigned int fail_open = 0, fail_chunks = 0, fail_torn = 0, fail_sticky = 0;
	unsigned int cuts_last = 0, fail_last = 0, seen_hdr = 0, seen_pay = 0;
	struct htf_reader r;
	struct htf_chunk c;
	size_t size, cut, last_off;
	unsigned char *data, *copy;
	unsigned int full, i;
	int bad;

	if (write_file("torn", mixed, NR_MIXED) ||
	    !(data = slurp(path_of("torn"), &size))) {
		ok(0, "write the file for the torn-tail test");
		return;
	}
	last_off = size - chunk_total(mixed[NR_MIXED - 1].len);
	for (cut = 0; cut <= size; cut++) {
		size_t end = HTF_HEADER_SIZE;
		const char *why;

		copy = dup_exact(data, cut);
		if (!copy)
			break;
		if (cut < HTF_HEADER_SIZE) {
			fail_open += htf_open_mem(&r, copy, cut) != HTR_E_RANGE;
			free(copy);
			continue;
		}
		for (full = 0; full < NR_MIXED &&
		     end + chunk_total(mixed[full].len) <= cut; full++)
			end += chunk_total(mixed[full].len);
		i = read_prefix(&r, copy, cut, mixed, NR_MIXED, &bad);
		fail_chunks += i != full || bad;
		why = end == cut ? NULL : expected_reason(cut - end);
		fail_torn += r.torn != cut - end || r.pos != end ||
			     (why ? !r.torn_reason || strcmp(why, r.torn_reason)
				  : r.torn_reason != NULL);
		fail_sticky += htf_next(&r, &c) != 0 || r.torn != cut - end;
		if (cut > last_off && cut < size) {
			cuts_last++;
			fail_last += i != NR_MIXED - 1 || bad ||
				     r.torn != cut - last_off || !r.torn_reason;
			seen_hdr += why && !strcmp(why, "truncated chunk header");
			seen_pay += why && !strcmp(why, "truncated payload");
		}
		free(copy);
	}
	is(fail_open, 0, "every cut inside the file header: HTR_E_RANGE");
	is(fail_chunks, 0, "every cut keeps exactly the whole chunks before it");
	is(fail_torn, 0, "every cut reports the torn bytes, the reason and pos");
	is(fail_sticky, 0, "every cut: the end is sticky");
	is(fail_last, 0, "a cut at every byte inside the last chunk keeps all the others");
	ok(cuts_last == chunk_total(mixed[NR_MIXED - 1].len) - 1 && seen_hdr &&
	   seen_pay, "cuts in the last chunk's header, payload and padding all tried");
	diag("%zu cut points, %u inside the last chunk", size + 1, cuts_last);
	free(data);
	unlink(path_of("torn"));
}

/* expect_stop() - reading @data stops at chunk @at for @why */
static void expect_stop(const unsigned char *data, size_t size, unsigned int at,
			size_t at_off, const char *why, const char *what)
{
	struct htf_reader r;
	unsigned char *copy = dup_exact(data, size);
	unsigned int got;
	int bad;

	got = read_prefix(&r, copy, size, mixed, NR_MIXED, &bad);
	ok(got == at && !bad && r.pos == at_off && r.torn == size - at_off &&
	   r.torn_reason && !strcmp(r.torn_reason, why), what);
	if (got != at || !r.torn_reason || strcmp(r.torn_reason, why))
		diag("got %u chunks, torn %llu (%s)", got,
		     (unsigned long long)r.torn,
		     r.torn_reason ? r.torn_reason : "no reason");
	free(copy);
}

/* put32() - store a little-endian u32 into a test image */
static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* test_damage() - damage inside the file stops the reader at that chunk */
static void test_damage(void)
{
	unsigned int bit, fail = 0, got;
	size_t size, off[NR_MIXED], o = HTF_HEADER_SIZE, bits;
	unsigned char *data, *copy;
	struct htf_reader r;
	const unsigned int mid = 6;	/* HTF_LOSS, 7 bytes + 1 of padding */
	int bad;

	if (write_file("damage", mixed, NR_MIXED) ||
	    !(data = slurp(path_of("damage"), &size))) {
		ok(0, "write the file for the damage test");
		return;
	}
	for (got = 0; got < NR_MIXED; got++) {
		off[got] = o;
		o += chunk_total(mixed[got].len);
	}

	data[off[mid] + HTF_CHUNK_HEADER_SIZE + 3] ^= 0x10;
	expect_stop(data, size, mid, off[mid], "CRC mismatch",
		    "flipped payload byte in a middle chunk: earlier chunks kept, CRC mismatch");
	data[off[mid] + HTF_CHUNK_HEADER_SIZE + 3] ^= 0x10;

	data[off[mid] + 16] ^= 1;
	expect_stop(data, size, mid, off[mid], "CRC mismatch", "flipped host_ns: CRC mismatch");
	data[off[mid] + 16] ^= 1;

	data[off[mid] + 4] ^= 1;
	expect_stop(data, size, mid, off[mid], "CRC mismatch", "flipped kind: CRC mismatch");
	data[off[mid] + 4] ^= 1;

	data[off[mid]] ^= 0xff;
	expect_stop(data, size, mid, off[mid], "bad chunk magic", "bad chunk magic");
	data[off[mid]] ^= 0xff;

	put32(data + off[mid] + 8, 0xffffffff);
	expect_stop(data, size, mid, off[mid], "oversized chunk", "length 2^32-1: oversized chunk");
	put32(data + off[mid] + 8, HTF_MAX_PAYLOAD + 1);
	expect_stop(data, size, mid, off[mid], "oversized chunk",
		    "length HTF_MAX_PAYLOAD + 1: oversized chunk");
	put32(data + off[mid] + 8, HTF_MAX_PAYLOAD);
	expect_stop(data, size, mid, off[mid], "truncated payload",
		    "length HTF_MAX_PAYLOAD past the end: truncated payload");
	put32(data + off[mid] + 8, mixed[mid].len);

	/* CRC-32 catches every single-bit error: none gets chunk @mid through */
	bits = (HTF_CHUNK_HEADER_SIZE + mixed[mid].len) * 8;
	for (bit = 0; bit < bits; bit++) {
		data[off[mid] + bit / 8] ^= 1u << (bit % 8);
		copy = dup_exact(data, size);
		got = read_prefix(&r, copy, size, mixed, NR_MIXED, &bad);
		fail += got != mid || bad || r.pos != off[mid] ||
			r.torn != size - off[mid] || !r.torn_reason;
		free(copy);
		data[off[mid] + bit / 8] ^= 1u << (bit % 8);
	}
	is(fail, 0, "every single flipped bit of a chunk's header and payload stops the reader there");

	/* padding is outside the CRC: documented, not an error */
	data[off[mid] + HTF_CHUNK_HEADER_SIZE + 7] = 0xaa;
	copy = dup_exact(data, size);
	ok(read_prefix(&r, copy, size, mixed, NR_MIXED, &bad) == NR_MIXED && !bad &&
	   !r.torn, "non-zero padding is not checked");
	free(copy);
	free(data);
	unlink(path_of("damage"));
}

/* test_garbage() - bytes after the last chunk are dropped, chunks kept */
static void test_garbage(void)
{
	unsigned char *data, *big;
	size_t size;
	unsigned int i;

	if (write_file("garbage", mixed, NR_MIXED) ||
	    !(data = slurp(path_of("garbage"), &size)) ||
	    !(big = malloc(size + 4096))) {
		ok(0, "write the file for the garbage test");
		return;
	}
	memcpy(big, data, size);

	fill(big + size, 100, 1234);
	big[size] = 0x55;	/* not the chunk magic */
	expect_stop(big, size + 100, NR_MIXED, size, "bad chunk magic",
		    "100 random bytes after the chunks: all chunks kept");
	expect_stop(big, size + 5, NR_MIXED, size, "truncated chunk header",
		    "5 bytes after the chunks: truncated chunk header");
	memset(big + size, 0, 4096);
	expect_stop(big, size + 4096, NR_MIXED, size, "bad chunk magic",
		    "4 KiB of zeros after the chunks (a crash on some filesystems)");
	put32(big + size, HTF_CHUNK_MAGIC);
	expect_stop(big, size + 24, NR_MIXED, size, "CRC mismatch",
		    "a zero chunk header with no CRC: CRC mismatch");
	put32(big + size + 8, 100);
	expect_stop(big, size + 24 + 50, NR_MIXED, size, "truncated payload",
		    "a chunk header promising more than there is: truncated payload");
	for (i = 0; i < 24; i++)
		big[size + i] = 0xff;
	put32(big + size, HTF_CHUNK_MAGIC);
	expect_stop(big, size + 4096, NR_MIXED, size, "oversized chunk",
		    "a chunk header with length 0xffffffff: oversized chunk");
	free(big);
	free(data);
	unlink(path_of("garbage"));
}

/* test_bad_header() - the file header is checked */
static void test_bad_header(void)
{
	unsigned char hdr[HTF_HEADER_SIZE + 8], *copy;
	struct htf_reader r;
	struct htf_chunk c;
	struct htf_writer w;
	size_t size = 0;
	unsigned char *data;

	if (htf_create(&w, path_of("hdr")) || htf_close(&w) ||
	    !(data = slurp(path_of("hdr"), &size)) || size != HTF_HEADER_SIZE) {
		ok(0, "write an empty trace file");
		return;
	}
	memcpy(hdr, data, HTF_HEADER_SIZE);
	free(data);
	unlink(path_of("hdr"));

	copy = dup_exact(hdr, HTF_HEADER_SIZE);
	is(htf_open_mem(&r, copy, HTF_HEADER_SIZE), HTR_OK, "header-only file opens");
	ok(htf_next(&r, &c) == 0 && r.torn == 0 && !r.torn_reason,
	   "header-only file: no chunks, nothing torn");
	free(copy);
	is(htf_open_mem(&r, NULL, 0), HTR_E_RANGE, "empty file: HTR_E_RANGE");
	copy = dup_exact(hdr, 0);
	is(htf_open_mem(&r, copy, 0), HTR_E_RANGE, "empty buffer: HTR_E_RANGE");
	free(copy);
	copy = dup_exact(hdr, HTF_HEADER_SIZE - 1);
	is(htf_open_mem(&r, copy, HTF_HEADER_SIZE - 1), HTR_E_RANGE,
	   "63-byte file: HTR_E_RANGE");
	free(copy);
	is(htf_open_mem(&r, NULL, HTF_HEADER_SIZE), HTR_E_INVAL, "NULL data: HTR_E_INVAL");

	hdr[6] = 'X';
	is(htf_open_mem(&r, hdr, HTF_HEADER_SIZE), HTR_E_NOTFOUND, "wrong magic: HTR_E_NOTFOUND");
	hdr[6] = 'E';
	hdr[7] = '!';
	is(htf_open_mem(&r, hdr, HTF_HEADER_SIZE), HTR_E_NOTFOUND,
	   "magic without its NUL: HTR_E_NOTFOUND");
	hdr[7] = 0;
	put32(hdr + 8, HTF_VERSION + 1);
	is(htf_open_mem(&r, hdr, HTF_HEADER_SIZE), HTR_E_VERSION, "newer version: HTR_E_VERSION");
	put32(hdr + 8, 0xffffffff);
	is(htf_open_mem(&r, hdr, HTF_HEADER_SIZE), HTR_E_VERSION,
	   "version 2^32-1: HTR_E_VERSION");
	put32(hdr + 8, 0);
	is(htf_open_mem(&r, hdr, HTF_HEADER_SIZE), HTR_E_VERSION, "version 0: HTR_E_VERSION");
	put32(hdr + 8, HTF_VERSION);
	put32(hdr + 12, 128);
	is(htf_open_mem(&r, hdr, HTF_HEADER_SIZE), HTR_E_VERSION,
	   "header size 128: HTR_E_VERSION");
	put32(hdr + 12, HTF_HEADER_SIZE);
	memset(hdr + 40, 0x77, 8);
	is(htf_open_mem(&r, hdr, HTF_HEADER_SIZE), HTR_OK, "reserved bytes are not checked");
}

/* test_writer_limits() - bad arguments are refused and leave the file alone */
static void test_writer_limits(void)
{
	unsigned char *big, *data;
	struct htf_writer w;
	struct htf_reader r;
	struct htf_chunk c;
	size_t size;
	uint64_t before;

	big = calloc(1, HTF_MAX_PAYLOAD + 1);
	if (!big || htf_create(&w, path_of("limits"))) {
		ok(0, "create the file for the limits test");
		free(big);
		return;
	}
	before = w.bytes;
	is(htf_append(&w, HTF_RECORDS, HTF_SRC_RING, 1, big, HTF_MAX_PAYLOAD + 1),
	   -EINVAL, "payload of HTF_MAX_PAYLOAD + 1: -EINVAL");
	is(htf_append(&w, HTF_RECORDS, HTF_SRC_RING, 1, big, UINT32_MAX), -EINVAL,
	   "payload of 2^32-1 bytes: -EINVAL");
	is(htf_append(&w, 0, 0, 1, big, 8), -EINVAL, "kind 0: -EINVAL");
	is(htf_append(&w, HTF_SCHED + 1, 0, 1, big, 8), -EINVAL, "unknown kind: -EINVAL");
	is(htf_append(&w, HTF_RECORDS, 0, 1, big, 32), -EINVAL, "records without a source: -EINVAL");
	is(htf_append(&w, HTF_RECORDS, HTF_SRC_EARLY + 1, 1, big, 32), -EINVAL,
	   "records with an unknown source: -EINVAL");
	is(htf_append(&w, HTF_METADATA, HTF_SRC_RING, 1, big, 8), -EINVAL,
	   "metadata with a source: -EINVAL");
	is(htf_append(&w, HTF_METADATA, 0, 1, NULL, 8), -EINVAL, "NULL payload: -EINVAL");
	ok(w.bytes == before && w.error == 0, "refused appends wrote nothing, recorded nothing");
	is(htf_append(&w, HTF_RECORDS, HTF_SRC_RING, 42, big, HTF_MAX_PAYLOAD), 0,
	   "payload of exactly HTF_MAX_PAYLOAD accepted");
	is(htf_append(&w, HTF_END, 0, 43, NULL, 0), 0, "empty payload accepted");
	is(htf_close(&w), 0, "close");
	data = slurp(path_of("limits"), &size);
	ok(data && htf_open_mem(&r, data, size) == HTR_OK &&
	   htf_next(&r, &c) == 1 && c.len == HTF_MAX_PAYLOAD && c.host_ns == 42 &&
	   !memcmp(c.payload, big, HTF_MAX_PAYLOAD) &&
	   htf_next(&r, &c) == 1 && c.kind == HTF_END && c.len == 0 &&
	   htf_next(&r, &c) == 0 && r.torn == 0,
	   "maximum-size chunk and empty chunk read back");
	free(data);
	free(big);
	unlink(path_of("limits"));
}

/* write_error_child() - in a child under RLIMIT_FSIZE: the step that failed */
static int write_error_child(size_t limit)
{
	unsigned char buf[100] = { 0 };
	struct rlimit rl = { limit, limit };
	struct htf_writer w;

	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &rl))
		return 10;
	if (htf_create(&w, path_of("short")))
		return 11;
	if (htf_append(&w, HTF_HOST_EVENT, 0, 1, buf, sizeof(buf)) ||
	    htf_append(&w, HTF_HOST_EVENT, 0, 2, buf, sizeof(buf)))
		return 12;
	if (htf_append(&w, HTF_HOST_EVENT, 0, 3, buf, sizeof(buf)) != -EIO)
		return 13;	/* the short write */
	if (w.error != EIO)
		return 14;
	if (htf_append(&w, HTF_END, 0, 4, NULL, 0) != -EIO)
		return 15;	/* refused: nothing after a torn chunk */
	if (w.bytes != HTF_HEADER_SIZE + 2 * chunk_total(sizeof(buf)))
		return 16;
	if (htf_close(&w) != -EIO)
		return 17;	/* the first error wins */
	return 0;
}

/* test_write_error() - a short write stops the writer; the file still reads */
static void test_write_error(void)
{
	size_t limit = HTF_HEADER_SIZE + 2 * chunk_total(100) + 50, size;
	struct htf_reader r;
	struct htf_chunk c;
	unsigned char *data;
	int status = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(write_error_child(limit));
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		ok(0, "fork the short-write child");
		return;
	}
	is(WIFEXITED(status) ? WEXITSTATUS(status) : 100 + status, 0,
	   "short write: -EIO, recorded, later appends refused, close says -EIO");
	data = slurp(path_of("short"), &size);
	ok(data && size == limit && htf_open_mem(&r, data, size) == HTR_OK &&
	   htf_next(&r, &c) == 1 && htf_next(&r, &c) == 1 && c.host_ns == 2 &&
	   htf_next(&r, &c) == 0 && r.torn == 50 && r.torn_reason &&
	   !strcmp(r.torn_reason, "truncated payload"),
	   "after a short write: 2 chunks, then 50 torn bytes");
	free(data);
	unlink(path_of("short"));
}

/* crash_child() - append numbered chunks as fast as possible until killed */
static void crash_child(int ready)
{
	static unsigned char buf[65536 + 8];
	struct htf_writer w;
	uint64_t seq;
	uint32_t len;

	if (htf_create(&w, path_of("crash")))
		_exit(1);
	if (write(ready, "r", 1) != 1)
		_exit(2);
	for (seq = 0;; seq++) {
		/* mostly small chunks, now and then a big one to tear */
		len = 8 + (seq % 16 == 15 ? 65536 : (uint32_t)(seq * 7 % 300));
		memcpy(buf, &seq, 8);
		fill(buf + 8, len - 8, (unsigned int)seq);
		if (htf_append(&w, seq % 2 ? HTF_RECORDS : HTF_HOST_EVENT,
			       seq % 2 ? HTF_SRC_RING : 0, seq, buf, len))
			_exit(3);
	}
}

/* check_crash_file() - every chunk valid, in order, with its own bytes */
static void check_crash_file(unsigned int round)
{
	static unsigned char expect[65536];
	unsigned long long n = 0, bad = 0;
	struct htf_reader r;
	struct htf_chunk c;
	unsigned char *data;
	size_t size;
	uint64_t seq;

	data = slurp(path_of("crash"), &size);
	if (!ok(data && htf_open_mem(&r, data, size) == HTR_OK,
		"killed writer: the file opens"))
		goto out;
	while (htf_next(&r, &c) == 1) {
		if (c.len < 8) {
			bad++;
			continue;
		}
		memcpy(&seq, c.payload, 8);
		fill(expect, c.len - 8, (unsigned int)seq);
		bad += seq != n || c.host_ns != seq ||
		       memcmp(c.payload + 8, expect, c.len - 8);
		n++;
	}
	ok(n > 0 && !bad, "killed writer: every chunk CRC-valid, numbered 0, 1, 2... in order");
	diag("round %u: %zu bytes, %llu chunks, torn tail %llu bytes (%s)", round,
	     size, n, (unsigned long long)r.torn,
	     r.torn_reason ? r.torn_reason : "none");
out:
	free(data);
	unlink(path_of("crash"));
}

/* test_crash() - SIGKILL a writer in the middle of its appends, 3 times */
static void test_crash(void)
{
	struct timespec ms50 = { 0, 50 * 1000 * 1000 };
	unsigned int round;
	int status, p[2];
	pid_t pid;
	char c;

	for (round = 1; round <= 3; round++) {
		if (pipe(p)) {
			ok(0, "pipe");
			return;
		}
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			crash_child(p[1]);
		}
		close(p[1]);
		if (pid < 0 || read(p[0], &c, 1) != 1) {
			ok(0, "the crash child created its file");
			close(p[0]);
			if (pid > 0) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
			}
			unlink(path_of("crash"));
			return;
		}
		close(p[0]);
		nanosleep(&ms50, NULL);
		kill(pid, SIGKILL);
		ok(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
		   WTERMSIG(status) == SIGKILL, "writer killed by SIGKILL mid-append");
		check_crash_file(round);
	}
}

/* main() - run every test in a private directory */
int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/htf-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		ok(0, "make a private directory");
		return done_testing();
	}
	test_crc();
	test_roundtrip();
	test_mode();
	test_excl();
	test_torn();
	test_damage();
	test_garbage();
	test_bad_header();
	test_writer_limits();
	test_write_error();
	test_crash();
	ok(!rmdir(dir), "every test file removed");
	return done_testing();
}

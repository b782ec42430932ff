// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * OUTDIR/replay.json: what hypertrace replay needs to give QEMU the command
 * line of a --record boot again (kernel, initramfs, kernel parameters,
 * memory, CPUs, QEMU's extra words), with the size and FNV-1a hash of the
 * kernel and the initramfs, so that a replay of a kernel rebuilt since the
 * recording is refused rather than left to diverge.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "boot_run.h"
#include "util.h"

#define REPLAY_FORMAT	"hypertrace-replay"
#define REPLAY_VERSION	1

/* fnv1a64() - the FNV-1a hash of @len bytes */
static uint64_t fnv1a64(const unsigned char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * file_sum() - a file's size and FNV-1a hash into @o as NAME_bytes,
 * NAME_fnv1a64; 0 or -1.  Not a CRC-32: a bzImage ends in the CRC-32 that
 * makes its whole CRC-32 0xffffffff, whatever it holds
 */
static int file_sum(json_t *o, const char *name, const char *path)
{
	struct mapped_file f;
	char key[64], hex[24];

	if (map_file(path, &f))
		return -1;
	snprintf(hex, sizeof(hex), "%016" PRIx64, fnv1a64(f.data, f.size));
	snprintf(key, sizeof(key), "%s_bytes", name);
	json_object_set_new(o, key, json_integer((json_int_t)f.size));
	snprintf(key, sizeof(key), "%s_fnv1a64", name);
	json_object_set_new(o, key, json_string(hex));
	unmap_file(&f);
	return 0;
}

/* set_path() - @path made absolute into @o as @name (a replay may run elsewhere); 0 or -1 */
static int set_path(json_t *o, const char *name, const char *path)
{
	char *abs = realpath(path, NULL);

	if (!abs) {
		err_msg("boot: %s: %s\n", path, strerror(errno));
		return -1;
	}
	json_object_set_new(o, name, json_string(abs));
	free(abs);
	return 0;
}

/* describe() - the JSON object of replay.json for the boot @o; NULL on failure */
static json_t *describe(const struct boot_opts *o)
{
	json_t *d = json_object(), *extra = json_array();
	int i, err = 0;

	json_object_set_new(d, "format", json_string(REPLAY_FORMAT));
	json_object_set_new(d, "version", json_integer(REPLAY_VERSION));
	json_object_set_new(d, "log", json_string(REPLAY_LOG));
	err |= set_path(d, "kernel", o->kernel) | file_sum(d, "kernel", o->kernel);
	if (o->initrd)
		err |= set_path(d, "initrd", o->initrd) | file_sum(d, "initrd", o->initrd);
	if (!access(o->vmlinux, R_OK))
		err |= set_path(d, "vmlinux", o->vmlinux);
	json_object_set_new(d, "append", json_string(o->append));
	json_object_set_new(d, "memory", json_string(o->mem));
	json_object_set_new(d, "smp", json_string(o->smp));
	json_object_set_new(d, "accel", json_string(o->accel));
	json_object_set_new(d, "hang_timeout", json_string(o->hang));
	json_object_set_new(d, "vmcore", json_boolean(o->vmcore));
	for (i = 0; i < o->nextra; i++)
		json_array_append_new(extra, json_string(o->extra[i]));
	json_object_set_new(d, "qemu_extra", extra);
	if (err) {
		json_decref(d);
		return NULL;
	}
	return d;
}

/**
 * replay_save() - write OUTDIR/replay.json (0600) for a --record boot
 * @o: the boot, as it was given to the collector
 *
 * Return: 0, or -1 after saying why not.
 */
int replay_save(const struct boot_opts *o)
{
	char path[PATH_MAX + 16];
	json_t *d = describe(o);
	int fd, err = -1;

	if (!d)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", o->dir, REPLAY_JSON);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_msg("boot: cannot create %s: %s\n", path, strerror(errno));
		goto out_free;
	}
	if (json_dumpfd(d, fd, JSON_INDENT(2) | JSON_SORT_KEYS) || write(fd, "\n", 1) != 1) {
		err_msg("boot: cannot write %s: %s\n", path, strerror(errno));
		goto out_close;
	}
	err = 0;
out_close:
	if (close(fd) && !err) {
		err_msg("boot: cannot write %s: %s\n", path, strerror(errno));
		err = -1;
	}
out_free:
	json_decref(d);
	return err;
}

/* str() - a string member of @d, or NULL (@need: say it is missing) */
static const char *str(json_t *d, const char *key, const char *path, bool need)
{
	const char *s = json_string_value(json_object_get(d, key));

	if (!s && need)
		err_msg("replay: %s has no string \"%s\"\n", path, key);
	return s;
}

/* check_sum() - the file @name names is the one recorded (size, hash); 0 or -1 */
static int check_sum(json_t *d, const char *name, const char *path)
{
	json_t *now = json_object();
	char key[64];
	int err = -1;

	if (file_sum(now, name, path))
		goto out;
	snprintf(key, sizeof(key), "%s_fnv1a64", name);
	if (!json_equal(json_object_get(now, key), json_object_get(d, key)))
		goto out_changed;
	snprintf(key, sizeof(key), "%s_bytes", name);
	if (!json_equal(json_object_get(now, key), json_object_get(d, key)))
		goto out_changed;
	err = 0;
	goto out;
out_changed:
	err_msg("replay: %s (the %s) is not the file that was recorded (its size or hash "
		"changed since): a replay would diverge\n", path, name);
out:
	json_decref(now);
	return err;
}

/* load_extra() - QEMU's extra words into @d; 0 or -1 */
static int load_extra(struct replay_desc *d, json_t *arr, const char *path)
{
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) > BOOT_MAX_EXTRA) {
		err_msg("replay: %s: \"qemu_extra\" is not an array of at most %d strings\n",
			path, BOOT_MAX_EXTRA);
		return -1;
	}
	for (i = 0; i < json_array_size(arr); i++) {
		d->extra[i] = (char *)json_string_value(json_array_get(arr, i));
		if (!d->extra[i]) {
			err_msg("replay: %s: \"qemu_extra\" is not an array of strings\n", path);
			return -1;
		}
	}
	d->o.extra = d->extra;
	d->o.nextra = (int)i;
	return 0;
}

/* load_opts() - the boot's options from replay.json @j; 0 or -1 */
static int load_opts(struct replay_desc *d, json_t *j, const char *path)
{
	struct boot_opts *o = &d->o;

	o->kernel = str(j, "kernel", path, true);
	o->initrd = str(j, "initrd", path, false);
	o->vmlinux = str(j, "vmlinux", path, false);
	o->append = str(j, "append", path, true);
	o->mem = str(j, "memory", path, true);
	o->smp = str(j, "smp", path, true);
	o->accel = str(j, "accel", path, true);
	o->hang = str(j, "hang_timeout", path, true);
	o->vmcore = json_is_true(json_object_get(j, "vmcore"));
	o->clock = "icount";
	if (!o->kernel || !o->append || !o->mem || !o->smp || !o->accel || !o->hang)
		return -1;
	if (!o->vmlinux)
		o->vmlinux = "";
	if (load_extra(d, json_object_get(j, "qemu_extra"), path))
		return -1;
	if (check_sum(j, "kernel", o->kernel) || (o->initrd && check_sum(j, "initrd", o->initrd)))
		return -1;
	return 0;
}

/**
 * replay_load() - read DIR/replay.json and check the recording is there
 * @d:   filled in; replay_desc_free() it, whatever the result
 * @dir: the output directory of a hypertrace boot --record
 *
 * Return: 0, or -1 after saying what is missing or wrong.
 */
int replay_load(struct replay_desc *d, const char *dir)
{
	char path[PATH_MAX + 16];
	json_error_t jerr;
	json_t *j;

	memset(d, 0, sizeof(*d));
	snprintf(path, sizeof(path), "%s/%s", dir, REPLAY_JSON);
	if (access(path, F_OK)) {
		err_msg("replay: %s holds no recording: no %s (record the boot with "
			"'hypertrace boot --record -o %s ...')\n", dir, REPLAY_JSON, dir);
		return -1;
	}
	j = json_load_file(path, 0, &jerr);
	d->json = j;
	if (!j) {
		err_msg("replay: %s: %s (line %d)\n", path, jerr.text, jerr.line);
		return -1;
	}
	if (!json_is_object(j) || !str(j, "format", path, false) ||
	    strcmp(str(j, "format", path, false), REPLAY_FORMAT) ||
	    json_integer_value(json_object_get(j, "version")) != REPLAY_VERSION) {
		err_msg("replay: %s is not a replay description of version %d\n", path,
			REPLAY_VERSION);
		return -1;
	}
	snprintf(d->log, sizeof(d->log), "%s/%s", dir, REPLAY_LOG);
	snprintf(d->trace, sizeof(d->trace), "%s/trace.htf", dir);
	if (access(d->log, R_OK)) {
		err_msg("replay: %s: %s: the recording is gone\n", d->log, strerror(errno));
		return -1;
	}
	if (access(d->trace, R_OK)) {
		err_msg("replay: %s: %s: the recorded trace is gone\n", d->trace, strerror(errno));
		return -1;
	}
	d->o.replay = d->log;
	return load_opts(d, j, path);
}

/* replay_desc_free() - undo replay_load() */
void replay_desc_free(struct replay_desc *d)
{
	json_decref(d->json);
	d->json = NULL;
}

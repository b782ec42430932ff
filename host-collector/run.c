// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector run: launch QEMU with what the trace needs, record
 * every channel into the trace file until the guest powers off, panics,
 * hangs or QEMU exits, and say which it was.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "record.h"

/* make_dir() - the private 0700 directory and the paths in it; 0 or -errno */
static int make_dir(struct run *r)
{
	snprintf(r->dir, sizeof(r->dir), "%s/hypertrace-XXXXXX", r->o->dir_parent);
	if (!mkdtemp(r->dir))
		return -errno;
	snprintf(r->ram, sizeof(r->ram), "%s/ram", r->dir);
	snprintf(r->db_path, sizeof(r->db_path), "%s/doorbell.sock", r->dir);
	snprintf(r->qmp_path, sizeof(r->qmp_path), "%s/qmp.sock", r->dir);
	return 0;
}

/* remove_dir() - the private directory and what is in it (--keep-ram: the RAM stays) */
static void remove_dir(struct run *r)
{
	unlink(r->db_path);
	unlink(r->qmp_path);
	if (r->o->keep_ram)
		return;
	unlink(r->ram);
	rmdir(r->dir);
}

/*
 * check_paths() - the sockets' paths fit a unix socket address; checked
 * before anything is created, so the error comes first and alone
 */
static bool check_paths(struct run *r)
{
	char probe[PATH_MAX];

	snprintf(probe, sizeof(probe), "%s/hypertrace-XXXXXX/doorbell.sock",
		 r->o->dir_parent);
	if (unix_path_fits(probe))
		return true;
	coll_err("run: --dir %s is too long: the sockets in it (%s) would not fit "
		 "a unix socket address; give a shorter --dir\n", r->o->dir_parent,
		 probe);
	return false;
}

/* record_run() - launch QEMU and record its boot into the open trace; exit status */
static int record_run(struct run *r)
{
	json_t *e;
	int ret;

	ret = qemu_start(r);
	if (ret)
		return ret;
	record_metadata(r);
	host_event(r, "launch", NULL);
	record_loop(r);
	qemu_stop(r);
	e = json_object();
	json_object_set_new(e, "status", json_integer(r->qemu_status));
	host_event(r, "qemu_exit", e);
	return record_finish(r);
}

/**
 * cmd_run() - hypertrace-collector run
 * @argc: arguments, "run" first
 * @argv: their words
 *
 * Return: the exit status (enum htr_exit).
 */
int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct run *r;
	int ret, err;

	ret = opts_parse(CMD_RUN, argc, argv, &o);
	if (ret == OPTS_HELP)
		return HTR_EXIT_BOOTED;
	if (ret)
		return ret;
	r = record_new(&o, false);
	if (!r)
		return HTR_EXIT_ERROR;
	r->mem_mb = qemu_mem_mb(&o);
	if (!r->mem_mb) {
		coll_err("run: cannot read the guest's RAM size from -m; write -m SIZE[M|G]\n");
		ret = HTR_EXIT_USAGE;
		goto out_free;
	}
	ret = HTR_EXIT_ERROR;
	if (!check_paths(r))
		goto out_free;
	err = make_dir(r);
	if (err) {
		coll_err("cannot create a private directory in %s: %s\n", o.dir_parent,
			 strerror(-err));
		goto out_free;
	}
	err = htf_create(&r->w, o.output);
	if (err) {
		coll_err("cannot create the trace file %s: %s\n", o.output, strerror(-err));
		goto out_remove_dir;
	}
	ret = record_run(r);
	if (r->w.error)
		coll_err("writing %s failed: %s\n", o.output, strerror(r->w.error));
	if (htf_close(&r->w) && !ret)
		ret = HTR_EXIT_ERROR;
	qemu_stop(r);
out_remove_dir:
	remove_dir(r);
out_free:
	record_free(r);
	return ret;
}

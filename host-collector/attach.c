// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace-collector attach: record a VM someone else started (a
 * libvirt-managed guest, say) through its QMP socket and its shared RAM
 * file, and optionally its doorbell.  Recording ends when QEMU exits or
 * closes QMP; a hang pauses the VM rather than killing it.
 */
#include <string.h>

#include "record.h"

/* open_channels() - guest RAM, QMP and the doorbell if given; 0 or -1 after saying why */
static int open_channels(struct run *r)
{
	const struct run_opts *o = r->o;
	int err;

	err = shmem_open(&r->shm, o->ram);
	if (err) {
		coll_err("attach: cannot map %s: %s\n", o->ram, strerror(-err));
		return -1;
	}
	r->mem_mb = r->shm.size >> 20;
	err = qmp_connect(&r->qmp, o->qmp);
	if (err) {
		coll_err("attach: cannot connect to QMP at %s: %s\n", o->qmp, strerror(-err));
		return -1;
	}
	if (!o->doorbell)
		return 0;
	err = port_connect(&r->port, o->doorbell);
	if (err) {
		coll_err("attach: cannot connect to the doorbell at %s: %s\n", o->doorbell,
			 strerror(-err));
		return -1;
	}
	return 0;
}

/**
 * cmd_attach() - hypertrace-collector attach
 * @argc: arguments, "attach" first
 * @argv: their words
 *
 * Return: the exit status (enum htr_exit).
 */
int cmd_attach(int argc, char **argv)
{
	struct run_opts o;
	struct run *r;
	int ret, err;

	ret = opts_parse(CMD_ATTACH, argc, argv, &o);
	if (ret == OPTS_HELP)
		return HTR_EXIT_BOOTED;
	if (ret)
		return ret;
	r = record_new(&o, true);
	if (!r)
		return HTR_EXIT_ERROR;
	ret = HTR_EXIT_ERROR;
	/* unknown pid: QMP closing is the end */
	r->qemu = o.pid ? o.pid : -1;
	r->accel = "attached";
	r->launch_ns = now_ns();
	snprintf(r->ram, sizeof(r->ram), "%s", o.ram);
	if (open_channels(r))
		goto out_free;
	err = htf_create(&r->w, o.output);
	if (err) {
		coll_err("cannot create the trace file %s: %s\n", o.output, strerror(-err));
		goto out_free;
	}
	record_metadata(r);
	host_event(r, "attach", NULL);
	record_loop(r);
	ret = record_finish(r);
	if (r->w.error)
		coll_err("writing %s failed: %s\n", o.output, strerror(r->w.error));
	if (htf_close(&r->w) && !ret)
		ret = HTR_EXIT_ERROR;
out_free:
	record_free(r);
	return ret;
}

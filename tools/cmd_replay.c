// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace replay: run a boot that 'hypertrace boot --record' recorded
 * again under QEMU's replay of its log, write its trace and reports as
 * boot does, and say whether it reproduced the recorded trace (the same
 * events at the same guest times).  With --gdb, QEMU's gdbstub holds the
 * replay before the guest's first instruction, and a generated gdb script
 * breaks at the failure.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "boot.h"
#include "boot_run.h"
#include "cmds.h"
#include "options.h"
#include "util.h"

/* replay_usage() - help text */
static void replay_usage(FILE *f)
{
	fprintf(f,
		"usage: %s replay [options] DIR\n\n"
		"Boot again, exactly, what 'hypertrace boot --record -o DIR' recorded: QEMU\n"
		"replays DIR/replay.bin with the command line DIR/replay.json describes,\n"
		"recorded by hypertrace-collector; write OUTDIR/trace.htf, report.txt,\n"
		"report.json, report.html and console.log, and say whether the replayed\n"
		"trace is the recorded one (the same events at the same guest times).\n\n"
		"  -o, --output OUTDIR     where the results go (default DIR/replay)\n"
		"      --gdb               QEMU's gdbstub on OUTDIR/gdb.sock: the replay waits\n"
		"                          for gdb before the guest's first instruction;\n"
		"                          'gdb -x OUTDIR/replay.gdb VMLINUX' connects, loads the\n"
		"                          symbols at the guest's KASLR offset and breaks at the\n"
		"                          failure (panic(), an oops's instruction, a BUG)\n"
		"      --vmlinux FILE      the kernel's vmlinux (default: the recorded one)\n"
		"  -q, --quiet             no progress\n"
		"  -h, --help              this text\n\n"
		"Exit status: when the replay reproduced the recording, the collector's for\n"
		"the replayed boot (0 boot completed; 3 panic; 4 hang; 5 crash; 6 silent);\n"
		"1 when it did not (the first difference is printed), or on an error (no\n"
		"recording in DIR, an unfinished or cut log, a kernel changed since the\n"
		"recording); 2 usage.  Under --gdb the status is the collector's.\n", prog);
}

/**
 * struct replay_opts - the command line
 * @dir:     the recorded boot's directory
 * @out:     where the replay's results go, or NULL for DIR/replay
 * @vmlinux: --vmlinux, or NULL
 * @gdb:     --gdb
 * @quiet:   -q
 */
struct replay_opts {
	const char *dir;
	const char *out;
	const char *vmlinux;
	bool gdb;
	bool quiet;
};

/* parse_replay() - the options into @r; -1 to go on, else the exit status */
static int parse_replay(int argc, char **argv, struct replay_opts *r)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "gdb", no_argument, NULL, 'g' },
		{ "vmlinux", required_argument, NULL, 'V' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': r->out = optarg; break;
		case 'g': r->gdb = true; break;
		case 'V': r->vmlinux = optarg; break;
		case 'q': r->quiet = true; break;
		case 'h':
			replay_usage(stdout);
			return EXIT_OK;
		default:
			replay_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		err_msg("replay: give one directory, that of a 'hypertrace boot --record'\n");
		replay_usage(stderr);
		return EXIT_USAGE;
	}
	r->dir = argv[optind];
	return -1;
}

/*
 * make_out() - OUTDIR, 0700, not the recording's own directory, its
 * absolute path into @abs (the gdb script works from anywhere); 0 or -1
 */
static int make_out(const char *dir, const char *out, char *abs)
{
	char *a;
	int same;

	if (mkdir(out, 0700) < 0 && errno != EEXIST) {
		err_msg("replay: cannot create %s: %s\n", out, strerror(errno));
		return -1;
	}
	if (!realpath(out, abs)) {
		err_msg("replay: %s: %s\n", out, strerror(errno));
		return -1;
	}
	a = realpath(dir, NULL);
	same = a && !strcmp(a, abs);
	free(a);
	if (same) {
		err_msg("replay: the output directory %s is the recording's own: its trace "
			"would be replaced; give another -o\n", out);
		return -1;
	}
	return 0;
}

/* setup_gdb() - the gdbstub's socket and OUTDIR/replay.gdb; 0 or -1 */
static int setup_gdb(struct replay_desc *d, const struct boot_model *rec, char *sock,
		     size_t len)
{
	char script[PATH_MAX + 16];
	struct sockaddr_un sa;

	snprintf(sock, len, "%s/gdb.sock", d->o.dir);
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		err_msg("replay: %s is too long for a unix socket; give a shorter -o\n", sock);
		return -1;
	}
	unlink(sock);
	snprintf(script, sizeof(script), "%s/replay.gdb", d->o.dir);
	if (replay_gdb_script(script, sock, rec, d->o.vmlinux))
		return -1;
	d->o.gdb = sock;
	fprintf(stderr, "%s: QEMU replays the boot and waits for gdb before the guest's first "
		"instruction; in another terminal:\n    gdb -x %s %s\n", prog, script,
		d->o.vmlinux);
	return 0;
}

/* check_replay() - compare the replayed trace with the recorded one; 0 the same, 1 not */
static int check_replay(const struct boot_model *rec, const char *trace, const char *vmlinux)
{
	char why[1024];
	struct boot_model m;
	int ret;

	if (model_load(&m, trace, access(vmlinux, R_OK) ? NULL : vmlinux, NULL))
		return 1;
	ret = replay_same(rec, &m, why, sizeof(why));
	if (ret)
		fprintf(stderr, "%s: replay DIFFERS from the recording: %s\n", prog, why);
	else
		fprintf(stderr, "%s: replay identical to the recording: %s\n", prog, why);
	model_free(&m);
	return ret;
}

/* replay_run() - the replay of @d, its reports and the check; the exit status */
static int replay_run(struct replay_desc *d, const struct replay_opts *r)
{
	static struct boot_paths p;
	char sock[PATH_MAX + 16];
	struct boot_model rec;
	int ret, status;

	if (model_load(&rec, d->trace, access(d->o.vmlinux, R_OK) ? NULL : d->o.vmlinux, NULL))
		return EXIT_FAIL;
	ret = EXIT_FAIL;
	if (r->gdb && setup_gdb(d, &rec, sock, sizeof(sock)))
		goto out_free;
	ret = boot_collect(&d->o, &p, &status);
	if (ret)
		goto out_free;
	if (boot_reports(d->o.dir, p.trace, d->o.vmlinux))
		err_msg("replay: could not write every report into %s\n", d->o.dir);
	if (!r->quiet)
		fprintf(stderr, "%s: report in %s/report.html (text: report.txt, JSON: report.json)\n",
			prog, d->o.dir);
	ret = check_replay(&rec, p.trace, d->o.vmlinux) && !r->gdb ? EXIT_FAIL : status;
out_free:
	model_free(&rec);
	return ret;
}

/* cmd_replay() - hypertrace replay */
int cmd_replay(int argc, char **argv)
{
	struct replay_opts r = { 0 };
	char out[PATH_MAX + 16], abs[PATH_MAX];
	struct replay_desc d;
	int ret;

	ret = parse_replay(argc, argv, &r);
	if (ret >= 0)
		return ret;
	ret = EXIT_FAIL;
	if (replay_load(&d, r.dir))
		goto out_free;
	snprintf(out, sizeof(out), "%s/replay", r.dir);
	d.o.quiet = r.quiet;
	if (r.vmlinux)
		d.o.vmlinux = r.vmlinux;
	if (make_out(r.dir, r.out ? r.out : out, abs))
		goto out_free;
	d.o.dir = abs;
	ret = replay_run(&d, &r);
out_free:
	replay_desc_free(&d);
	return ret;
}

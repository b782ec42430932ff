// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hypertrace compare: the boot-time regression gate.  Two sets of boots
 * (traces, or the JSON that report --json writes); for every metric -
 * total boot, time to userspace, each phase, boot level, initcall and
 * shutdown step - a one-sided permutation test on the difference of means
 * says whether the candidate is slower, and a regression needs p < alpha,
 * a relative change above --min-change and an absolute one above
 * --min-abs.  A candidate boot that panicked, hung or crashed always fails.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "compare.h"
#include "util.h"

/* compare_usage() - help text */
static void compare_usage(FILE *f)
{
	fprintf(f,
		"usage: %s compare [options] --baseline A... --candidate B...\n\n"
		"Decide whether the candidate kernel boots slower than the baseline.\n"
		"Each of A... and B... is a trace (hypertrace-collector) or the JSON of\n"
		"'hypertrace report --json'; give each option once per boot, or several\n"
		"files after it.  Every metric seen in enough boots on both sides - total\n"
		"boot, time to userspace, each phase, boot level, initcall and shutdown\n"
		"step - gets a one-sided permutation test on the difference of means\n"
		"(exact for small sets).  A regression needs all of: p below ALPHA after\n"
		"Holm's correction for the number of metrics tested (which sets how many\n"
		"boots a side needs: 10 for a few hundred metrics at 0.01), a slowdown of\n"
		"the median above MIN-CHANGE %%, and one above MIN-ABS ms.  A metric whose\n"
		"values in all boots lie within a floor of each other is not tested:\n"
		"no split of them could pass it.  A candidate\n"
		"boot that panicked, hung or crashed always fails the gate.\n\n"
		"Boots on virtual time (--clock icount) are deterministic and decided by\n"
		"separation: with 3 or more boots a side, a metric regressed when every\n"
		"candidate boot is slower than every baseline boot by more than MIN-ABS\n"
		"(default 0.01 ms there; MIN-CHANGE defaults to 0).\n\n"
		"  -a, --alpha P         significance level (default 0.01)\n"
		"  -c, --min-change PCT  relative slowdown that counts (default 5; 0 on\n"
		"                        virtual time)\n"
		"  -f, --min-abs MS      absolute slowdown that counts (default 1; 0.01\n"
		"                        on virtual time)\n"
		"      --fdr             Benjamini-Hochberg's false-discovery rate in\n"
		"                        place of Holm's correction: more findings when\n"
		"                        several metrics moved; as strict when none did\n"
		"      --normalize speed divide each boot's times by its emulation speed,\n"
		"                        measured in the boot (the median of its initcalls'\n"
		"                        times over their medians in all boots): real time\n"
		"                        under TCG, where a busy host slows every boot\n"
		"      --subtract-stolen take each span's stolen time (its vCPU runnable\n"
		"                        but not running on the host) off its duration,\n"
		"                        and vCPU 0's off the boot's, before testing\n"
		"      --subtract-idle   take each span's idle time (its CPU in the idle\n"
		"                        loop: waiting for a timer or a device, executing\n"
		"                        nothing) off its duration, and CPU 0's off the\n"
		"                        boot's: what is left is what it executed; under\n"
		"                        icount, where a wait ends on whichever tick comes\n"
		"                        next, it does not move with the tick's phase\n"
		"      --max-stolen PCT  flag boots whose vCPUs the host preempted for\n"
		"                        more than PCT of their time (default 25)\n"
		"  -r, --resamples N     random splits when exact enumeration is too big\n"
		"                        (default 9999; more where fewer than 10 are as\n"
		"                        extreme, to resolve ALPHA / metrics tested)\n"
		"      --markdown FILE   Markdown summary for a merge request ('-': stdout)\n"
		"      --junit FILE      JUnit XML for CI test views\n"
		"      --json FILE       the whole result as JSON\n"
		"      --html FILE       the diff view: each side's median boot on one time\n"
		"                        axis, what regressed or improved highlighted\n"
		"  -h, --help            this text\n\n"
		"Exit status: 0 no regression; 1 regression or failed candidate boot;\n"
		"2 error or unusable input (too few boots for ALPHA says how many).\n", prog);
}

/*
 * write_report() - one report into @path ('-': stdout) with @fn, if asked
 * for; a file that cannot be opened, written or closed is an error, with
 * a message.
 */
static int write_report(const char *path,
			int (*fn)(const struct cmp_set *, const struct cmp_result *, FILE *),
			const struct cmp_set *s, const struct cmp_result *res)
{
	FILE *f;
	int err;

	if (!path)
		return 0;
	f = open_output("compare", path);
	if (!f)
		return -EIO;
	errno = 0;
	err = fn(s, res, f);
	if (close_output(f) && !err)
		err = -EIO;
	if (err == -ENOMEM)
		err_msg("compare: %s: out of memory\n", path);
	else if (err)
		err_msg("compare: cannot write %s: %s\n", path, strerror(errno ? errno : EIO));
	return err;
}

/* cmd_compare() - hypertrace compare */
int cmd_compare(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "baseline", no_argument, NULL, 'B' },
		{ "candidate", no_argument, NULL, 'C' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "min-change", required_argument, NULL, 'c' },
		{ "min-abs", required_argument, NULL, 'f' },
		{ "resamples", required_argument, NULL, 'r' },
		{ "fdr", no_argument, NULL, 'F' },
		{ "normalize", required_argument, NULL, 'N' },
		{ "subtract-stolen", no_argument, NULL, 'S' },
		{ "subtract-idle", no_argument, NULL, 'I' },
		{ "max-stolen", required_argument, NULL, 'X' },
		{ "markdown", required_argument, NULL, 'M' },
		{ "junit", required_argument, NULL, 'J' },
		{ "json", required_argument, NULL, 'j' },
		{ "html", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* the floors' defaults depend on the boots' clock: cmp_evaluate() */
	struct cmp_params par = { .alpha = 0.01, .min_change = -1, .min_abs = -1,
				  .resamples = 9999 };
	const char *mdpath = NULL, *junit = NULL, *jsonpath = NULL, *htmlpath = NULL;
	struct cmp_set set = { .max_stolen_pct = CMP_MAX_STOLEN_PCT };
	struct cmp_result res;
	int side = -1, c, err, ret = EXIT_USAGE, nfiles = 0, i;
	char **files = calloc((size_t)argc + 1, sizeof(*files));
	int *sides = calloc((size_t)argc + 1, sizeof(*sides));
	char *end;

	if (!files || !sides) {
		err_msg("compare: out of memory\n");
		ret = EXIT_USAGE;
		goto out_set;
	}

	/* --baseline and --candidate switch sides; the files follow them */
	while ((c = getopt_long(argc, argv, "-a:c:f:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'B':
		case 'C':
			side = c == 'C';
			break;
		case 1:
			if (side < 0) {
				err_msg("compare: '%s' before --baseline or --candidate\n", optarg);
				goto out_usage;
			}
			/* read once every option is known (--subtract-stolen) */
			files[nfiles] = optarg;
			sides[nfiles++] = side;
			break;
		case 'S':
			set.subtract_stolen = true;
			break;
		case 'I':
			set.subtract_idle = true;
			break;
		case 'X':
			set.max_stolen_pct = strtod(optarg, &end);
			if (*end || set.max_stolen_pct < 0 || set.max_stolen_pct > 100)
				goto bad_value;
			break;
		case 'a':
			par.alpha = strtod(optarg, &end);
			if (*end || par.alpha <= 0 || par.alpha >= 1)
				goto bad_value;
			break;
		case 'c':
			par.min_change = strtod(optarg, &end);
			if (*end || par.min_change < 0)
				goto bad_value;
			break;
		case 'f':
			par.min_abs = strtod(optarg, &end);
			if (*end || par.min_abs < 0)
				goto bad_value;
			break;
		case 'r':
			par.resamples = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || par.resamples < 99)
				goto bad_value;
			break;
		case 'F':
			par.bh = true;
			break;
		case 'N':
			if (strcmp(optarg, "speed") && strcmp(optarg, "none")) {
				err_msg("compare: --normalize takes speed or none, not '%s'\n",
					optarg);
				goto out_usage;
			}
			par.speed = !strcmp(optarg, "speed");
			break;
		case 'M':
			mdpath = optarg;
			break;
		case 'J':
			junit = optarg;
			break;
		case 'j':
			jsonpath = optarg;
			break;
		case 'H':
			htmlpath = optarg;
			break;
		case 'h':
			compare_usage(stdout);
			ret = EXIT_OK;
			goto out_set;
		default:
			goto out_usage;
		}
	}
	for (i = 0; i < nfiles; i++)
		if (cmp_add_file(&set, sides[i], files[i]))
			goto out_set;
	err = cmp_evaluate(&set, &par, &res);
	if (err) {
		if (err == -ENOMEM)
			err_msg("compare: out of memory\n");
		goto out_set;
	}
	/* an output that could not be written is an error, whatever the verdict */
	err = write_report(jsonpath, cmp_write_json, &set, &res);
	err |= write_report(mdpath, cmp_write_markdown, &set, &res);
	err |= write_report(junit, cmp_write_junit, &set, &res);
	err |= write_report(htmlpath, cmp_write_html, &set, &res);
	ret = err ? EXIT_USAGE : res.failed ? EXIT_FAIL : EXIT_OK;
	cmp_print_summary(&set, &res, ret == EXIT_OK, stderr);
	cmp_result_free(&res);
	goto out_set;

bad_value:
	err_msg("compare: invalid value '%s'\n", optarg);
out_usage:
	compare_usage(stderr);
	ret = EXIT_USAGE;
out_set:
	cmp_set_free(&set);
	free(files);
	free(sides);
	return ret;
}

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The hypertrace subcommands.
 */
#ifndef _HT_TOOLS_CMDS_H
#define _HT_TOOLS_CMDS_H

/**
 * struct ht_cmd - one subcommand
 * @name: what the user types
 * @fn:   its main(); argv[0] is the subcommand's name
 * @help: one line for 'hypertrace --help'
 */
struct ht_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

int cmd_dump(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_html(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_replay(int argc, char **argv);

#endif /* _HT_TOOLS_CMDS_H */

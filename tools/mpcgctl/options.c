// SPDX-License-Identifier: GPL-2.0
/*
 * mpcgctl options: one table of every option (its long name, short letter,
 * argument, the commands that take it, and its help text).  It drives
 * getopt_long() for the options before the command and for each command,
 * and makes each command's --help option list, so that what a command
 * accepts and what its help says cannot drift apart.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "mpcgctl.h"

struct out_opts out_opts;
struct cmd_opts cmd_opts = { .delay = 1.0 };

static void set_min(const char *arg)
{
	if (parse_size(arg, &cmd_opts.min))
		die(arg, "invalid size");
}

static void set_format(const char *arg)
{
	if (!strcmp(arg, "prometheus"))
		cmd_opts.prometheus = true;
	else if (!strcmp(arg, "table"))
		cmd_opts.prometheus = false;
	else if (!strcmp(arg, "json"))
		out_opts.json = true;
	else
		die(arg, "unknown format (table, json, prometheus)");
}

static void set_delay(const char *arg)
{
	char *end;

	errno = 0;
	cmd_opts.delay = strtod(arg, &end);
	if (errno || *end || end == arg || !(cmd_opts.delay >= 0.01) ||
	    cmd_opts.delay > 86400)
		die(arg, "invalid delay (seconds, at least 0.01)");
}

static void set_iterations(const char *arg)
{
	char *end;

	errno = 0;
	cmd_opts.iterations = strtol(arg, &end, 10);
	if (errno || *end || end == arg || cmd_opts.iterations <= 0)
		die(arg, "invalid number of iterations");
}

static void set_help(const char *arg)
{
	(void)arg;
	help_exit();
}

static void set_version(const char *arg)
{
	(void)arg;
	version_exit();
}

struct opt {
	const char *name;	/* --name */
	char letter;		/* -l, or 0 */
	const char *arg;	/* "<list>" if it takes an argument, else NULL */
	unsigned int cmds;	/* ON(...) of the commands that take it */
	const char *help;	/* lines after the first are indented; NULL: not listed */
	/* What it does: set *flag, set *str to the argument, or call set(). */
	bool *flag;
	const char **str;
	void (*set)(const char *arg);
};

#define ON(c)		(1U << (c))
/* The output options: before the command and after those that print tables. */
#define TABLES		(ON(CMD_MAIN) | ON(CMD_STAT) | ON(CMD_MEMBERS) | \
			 ON(CMD_ATTACHMENTS) | ON(CMD_CHUNKS) | ON(CMD_REASSESS) | \
			 ON(CMD_LIST) | ON(CMD_USAGE))
#define ALL		(TABLES | ON(CMD_POLICY) | ON(CMD_TOP))

/* In the order --help lists them: a command's own options first. */
static const struct opt opts[] = {
	{ "min", 0, "<size>", ON(CMD_LIST),
	  "only regions with at least <size> resident", .set = set_min },
	{ "all", 'a', NULL, ON(CMD_USAGE),
	  "also cgroups that are in regions but pay nothing", .flag = &cmd_opts.all },
	{ "min", 0, "<size>", ON(CMD_USAGE),
	  "only cgroups that pay or should pay at least <size>", .set = set_min },
	{ "format", 0, "<fmt>", ON(CMD_USAGE),
	  "table (default), json, or prometheus (node metrics\n"
	  "in the Prometheus text format, for node_exporter's\n"
	  "textfile collector)", .set = set_format },
	{ "delay", 'd', "<secs>", ON(CMD_TOP),
	  "seconds between refreshes (default 1)", .set = set_delay },
	{ "iterations", 'n', "<n>", ON(CMD_TOP),
	  "stop after <n> refreshes", .set = set_iterations },
	{ "output", 'o', "<list>", TABLES,
	  "output columns (+<list> adds to the default ones)", .str = &out_opts.output },
	{ "output", 'o', "<list>", ON(CMD_TOP),
	  "output columns of the cgroups view (+<list> adds to the\n"
	  "default ones; the regions view shows its own)", .str = &out_opts.output },
	{ "output-all", 0, NULL, TABLES,
	  "output all columns", .flag = &out_opts.output_all },
	{ "output-all", 0, NULL, ON(CMD_TOP),
	  "output all columns in the cgroups view", .flag = &out_opts.output_all },
	{ "json", 'J', NULL, TABLES,
	  "use JSON output format", .flag = &out_opts.json },
	/* top has no JSON output: it takes -J only to refuse it (cmd_top()). */
	{ "json", 'J', NULL, ON(CMD_TOP), NULL, .flag = &out_opts.json },
	{ "bytes", 'b', NULL, TABLES | ON(CMD_TOP),
	  "print sizes in bytes rather than in human readable format", .flag = &out_opts.bytes },
	{ "noheadings", 'n', NULL, TABLES,
	  "don't print headings", .flag = &out_opts.noheadings },
	/* In top, -n is --iterations. */
	{ "noheadings", 0, NULL, ON(CMD_TOP),
	  "don't print headings", .flag = &out_opts.noheadings },
	{ "raw", 'r', NULL, TABLES | ON(CMD_TOP),
	  "use the raw output format", .flag = &out_opts.raw },
	{ "help", 'h', NULL, ALL, "display this help", .set = set_help },
	{ "version", 'V', NULL, ALL, "display version", .set = set_version },
};

#define NOPTS ARRAY_SIZE(opts)

/*
 * getopt_long() returns the letter of a short option and 0x100 + its index
 * in opts[] for a long one, so that an error names the option as given.
 */
#define LONG_VAL 0x100

int parse_opts(int argc, char **argv, enum cmd_id cmd, const char *name)
{
	struct option lo[NOPTS + 1];
	size_t idx[NOPTS], n = 0, i, j;
	char so[3 + 2 * NOPTS], *p = so;
	int c;

	/* Before the command: stop at it (the command's options are its own). */
	if (cmd == CMD_MAIN)
		*p++ = '+';
	*p++ = ':';
	for (i = 0; i < NOPTS; i++) {
		if (!(opts[i].cmds & ON(cmd)))
			continue;
		for (j = 0; j < n; j++)
			if (!strcmp(opts[idx[j]].name, opts[i].name) ||
			    (opts[i].letter && opts[i].letter == opts[idx[j]].letter))
				die(NULL, "internal error: option --%s twice", opts[i].name);
		lo[n] = (struct option){ opts[i].name,
			opts[i].arg ? required_argument : no_argument, NULL,
			LONG_VAL + (int)i };
		idx[n++] = i;
		if (opts[i].letter) {
			*p++ = opts[i].letter;
			if (opts[i].arg)
				*p++ = ':';
		}
	}
	*p = '\0';
	memset(&lo[n], 0, sizeof(lo[n]));

	optind = 0;	/* glibc: start again from argv[1] */
	opterr = 0;
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const struct opt *o = NULL;

		if (c == ':' && optopt >= LONG_VAL)
			usage_error(name, "option '--%s' requires an argument",
				    opts[optopt - LONG_VAL].name);
		if (c == ':')
			usage_error(name, "option '-%c' requires an argument", optopt);
		if (c >= LONG_VAL)
			o = &opts[c - LONG_VAL];
		for (j = 0; j < n && !o; j++)
			if (opts[idx[j]].letter == c)
				o = &opts[idx[j]];
		if (!o) {
			if (optopt >= LONG_VAL)
				usage_error(name, "option '--%s' doesn't allow an argument",
					    opts[optopt - LONG_VAL].name);
			if (optopt)
				usage_error(name, "invalid option -- '%c'", optopt);
			usage_error(name, "unrecognized option '%s'",
				    argv[optind - 1]);
		}
		if (o->flag)
			*o->flag = true;
		else if (o->str)
			*o->str = optarg;
		else
			o->set(optarg);
	}
	return optind;
}

void print_opts_help(FILE *f, enum cmd_id cmd)
{
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		const char *h = o->help;
		char head[64];

		if (!(o->cmds & ON(cmd)) || !h)
			continue;
		if (o->letter)
			snprintf(head, sizeof(head), "-%c, --%s%s%s", o->letter,
				 o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(head, sizeof(head), "    --%s%s%s", o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, " %-20s ", head);
		for (;;) {
			size_t len = strcspn(h, "\n");

			fprintf(f, "%.*s\n", (int)len, h);
			if (!h[len])
				break;
			h += len + 1;
			fprintf(f, "%22s", "");
		}
	}
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mpcgctl: what the subcommands share: options, errors, output tables
 * (libsmartcols), sizes, and the names of cgroups and regions.
 */
#ifndef MPCGCTL_H
#define MPCGCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <libsmartcols.h>

#include "libmpcg.h"

#define PROG "mpcgctl"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses: 1 for errors, 2 for bad usage. */
#define EXIT_ERROR	1
#define EXIT_USAGE	2

/* The commands, and what is before the command (CMD_MAIN). */
enum cmd_id {
	CMD_STAT, CMD_MEMBERS, CMD_ATTACHMENTS, CMD_CHUNKS, CMD_POLICY,
	CMD_REASSESS, CMD_LIST, CMD_USAGE, CMD_TOP, CMD_MAIN
};

/* Output options, common to the commands that print tables. */
struct out_opts {
	bool json, raw, bytes, noheadings, output_all;
	const char *output;	/* -o LIST */
};
extern struct out_opts out_opts;

/* The options of single commands. */
struct cmd_opts {
	uint64_t min;		/* list, usage: --min */
	bool all;		/* usage: --all */
	bool prometheus;	/* usage: --format=prometheus */
	double delay;		/* top: --delay (default 1) */
	long iterations;	/* top: --iterations (0: until 'q') */
};
extern struct cmd_opts cmd_opts;

/*
 * Parse the options that @cmd takes (options.c has the table of them all);
 * @name is the command's, for usage errors (NULL before the command).
 * Returns the index of the first argument.
 */
int parse_opts(int argc, char **argv, enum cmd_id cmd, const char *name);
/* The option lines of @cmd's --help. */
void print_opts_help(FILE *f, enum cmd_id cmd);
/* --help (of the current command, or of mpcgctl) and --version. */
void help_exit(void) __attribute__((noreturn));
void version_exit(void) __attribute__((noreturn));

/* Errors: "mpcgctl: WHAT: REASON" on stderr. */
void warn_msg(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void die(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void die_errno(const char *what, int err) __attribute__((noreturn));
const char *errno_reason(int err);
void usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* Columns of a table. */
enum col_type {
	COL_STR,	/* text */
	COL_NUM,	/* a count: a JSON number */
	COL_SIZE,	/* bytes: human readable unless --bytes */
};

struct col_desc {
	const char *name;
	double whint;		/* width hint, as libsmartcols takes it */
	int flags;		/* SCOLS_FL_* */
	enum col_type type;
	const char *help;
};

#define MAX_COLS 64

/* A table being built: the columns picked by -o (or the defaults). */
struct output {
	const struct col_desc *desc;
	size_t ndesc;
	int col[MAX_COLS];	/* indices into desc, in output order */
	size_t ncols;
	struct libscols_table *tb;
};

void output_init(struct output *o, const char *name,
		 const struct col_desc *desc, size_t ndesc,
		 const char *defaults);
/* A new row; its cells are set with cell_*(o, line, i, ...) for i < ncols. */
struct libscols_line *output_row(struct output *o);
void cell_str(struct output *o, struct libscols_line *ln, size_t i,
	      const char *s);
/* A malloc()ed string, which the table frees. */
void cell_take(struct output *o, struct libscols_line *ln, size_t i,
	       char *s);
void cell_num(struct output *o, struct libscols_line *ln, size_t i,
	      uint64_t v);
void cell_size(struct output *o, struct libscols_line *ln, size_t i,
	       uint64_t bytes);
void output_print(struct output *o);
void output_free(struct output *o);
void print_columns_help(FILE *f, const struct col_desc *desc, size_t ndesc);

/* Sizes: "1.5M" as util-linux prints them; SIZE arguments ("64k", "2MiB"). */
char *size_human(uint64_t bytes);
int parse_size(const char *s, uint64_t *out);

/* Names of cgroups (paths under the cgroup2 mount) and regions. */
const char *cgroup_mount(void);
const char *cgroup_name(uint64_t id);	/* "/a/b", or "#ID (removed)" */
void cgroup_names_refresh(void);
/* cgroup2 directories under @dir (itself first), in path order. */
struct cgroup_dir {
	char *path;	/* relative to the mount: "/", "/a", "/a/b" */
	uint64_t id;
};
size_t cgroup_walk(const char *dir, struct cgroup_dir **out);
void cgroup_dirs_free(struct cgroup_dir *d, size_t n);
/* The cgroup2 directory for a CGROUP_PATH argument, or NULL. */
char *cgroup_resolve(const char *arg);
/* memory.current of the cgroup at a path relative to the mount, or -1. */
int64_t cgroup_memory_current(const char *rel);

char *region_name(uint64_t dev, uint64_t ino);	/* malloc()ed */
void region_names_refresh(void);

/* Subcommands. */
int cmd_top(int argc, char **argv);
/* Shared with top. */
struct usage_row {
	char *path;
	uint64_t id;
	struct mpcg_cgroup_usage u;
	struct mpcg_member_info *e;
	size_t n;
	int64_t current;
};
size_t usage_collect(int ctl, const char *dir, struct usage_row **rows,
		     bool all, uint64_t min);
void usage_rows_free(struct usage_row *r, size_t n);
extern const struct col_desc usage_cols[];
extern const size_t usage_ncols;
void usage_fill(struct output *o, const struct usage_row *r);
extern const struct col_desc list_cols[];
extern const size_t list_ncols;
void list_fill(struct output *o, const struct mpcg_region_stat *ri);
int ctl_open_or_die(void);

#endif /* MPCGCTL_H */

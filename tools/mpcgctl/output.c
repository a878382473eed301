// SPDX-License-Identifier: GPL-2.0
/*
 * mpcgctl output: error messages, tables with libsmartcols (columns picked
 * with -o, --json, --raw, --noheadings) and sizes as util-linux prints and
 * parses them.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mpcgctl.h"

static void vmsg(const char *what, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, PROG ": ");
	if (what)
		fprintf(stderr, "%s: ", what);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void warn_msg(const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(what, fmt, ap);
	va_end(ap);
}

void die(const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(what, fmt, ap);
	va_end(ap);
	exit(EXIT_ERROR);
}

/* strerror(), with the reasons mpcgctl users most need spelled out. */
const char *errno_reason(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case ENOTTY:
		return "not an mpcg file";
	case EOPNOTSUPP:
		return "the loaded mpcg module is too old for this mpcgctl (no such ioctl)";
	case EPERM:
	case EACCES:
		return "permission denied";
	}
	return strerror(err);
}

void die_errno(const char *what, int err)
{
	die(what, "%s", errno_reason(err));
}

void usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(NULL, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '" PROG "%s%s --help' for more information.\n",
		cmd ? " " : "", cmd ? cmd : "");
	exit(EXIT_USAGE);
}

static int col_lookup(const struct col_desc *desc, size_t ndesc,
		      const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ndesc; i++)
		if (strlen(desc[i].name) == len &&
		    !strncasecmp(desc[i].name, name, len))
			return i;
	return -1;
}

/* Add the columns of a comma separated list, dying on an unknown one. */
static void add_cols(struct output *o, const char *list)
{
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");
		int c;

		if (len) {
			c = col_lookup(o->desc, o->ndesc, p, len);
			if (c < 0)
				die(NULL, "unknown column: %.*s", (int)len, p);
			if (o->ncols == MAX_COLS)
				die(NULL, "too many columns");
			o->col[o->ncols++] = c;
		}
		p += len;
		if (*p)
			p++;
	}
}

void output_init(struct output *o, const char *name,
		 const struct col_desc *desc, size_t ndesc,
		 const char *defaults)
{
	const char *list = out_opts.output;
	bool term;
	size_t i;

	memset(o, 0, sizeof(*o));
	o->desc = desc;
	o->ndesc = ndesc;
	if (out_opts.output_all) {
		for (i = 0; i < ndesc && i < MAX_COLS; i++)
			o->col[o->ncols++] = i;
	} else if (!list || *list == '+') {
		add_cols(o, defaults);
		if (list)
			add_cols(o, list + 1);
	} else {
		add_cols(o, list);
	}
	if (!o->ncols)
		die(NULL, "no output columns");

	scols_init_debug(0);
	o->tb = scols_new_table();
	if (!o->tb)
		die(NULL, "cannot allocate a table");
	/*
	 * As util-linux does: the terminal's width limits a table only on a
	 * terminal; into a pipe or a file every cell is printed whole.
	 */
	term = isatty(STDOUT_FILENO);
	if (!term)
		scols_table_set_termforce(o->tb, SCOLS_TERMFORCE_NEVER);
	scols_table_set_name(o->tb, name);
	scols_table_enable_json(o->tb, out_opts.json);
	scols_table_enable_raw(o->tb, out_opts.raw);
	scols_table_enable_noheadings(o->tb, out_opts.noheadings);
	for (i = 0; i < o->ncols; i++) {
		const struct col_desc *d = &desc[o->col[i]];
		struct libscols_column *cl;

		cl = scols_table_new_column(o->tb, d->name, d->whint,
					    term ? d->flags :
					    d->flags & ~(SCOLS_FL_TRUNC | SCOLS_FL_WRAP));
		if (!cl)
			die(NULL, "cannot allocate a column");
		if (d->type == COL_NUM ||
		    (d->type == COL_SIZE && out_opts.bytes))
			scols_column_set_json_type(cl, SCOLS_JSON_NUMBER);
	}
}

struct libscols_line *output_row(struct output *o)
{
	struct libscols_line *ln = scols_table_new_line(o->tb, NULL);

	if (!ln)
		die(NULL, "cannot allocate a table line");
	return ln;
}

void cell_str(struct output *o, struct libscols_line *ln, size_t i,
	      const char *s)
{
	(void)o;
	if (s && scols_line_set_data(ln, i, s))
		die(NULL, "cannot set table data");
}

void cell_take(struct output *o, struct libscols_line *ln, size_t i,
	       char *s)
{
	(void)o;
	if (!s || scols_line_refer_data(ln, i, s))
		die(NULL, "cannot set table data");
}

void cell_num(struct output *o, struct libscols_line *ln, size_t i,
	      uint64_t v)
{
	char *s;

	if (asprintf(&s, "%" PRIu64, v) < 0)
		s = NULL;
	cell_take(o, ln, i, s);
}

void cell_size(struct output *o, struct libscols_line *ln, size_t i,
	       uint64_t bytes)
{
	if (out_opts.bytes)
		cell_num(o, ln, i, bytes);
	else
		cell_take(o, ln, i, size_human(bytes));
}

void output_print(struct output *o)
{
	if (scols_print_table(o->tb))
		die(NULL, "cannot print the table");
}

void output_free(struct output *o)
{
	scols_unref_table(o->tb);
	o->tb = NULL;
}

void print_columns_help(FILE *f, const struct col_desc *desc, size_t ndesc)
{
	size_t i;

	fprintf(f, "\nAvailable output columns:\n");
	for (i = 0; i < ndesc; i++)
		fprintf(f, " %13s  %s\n", desc[i].name, desc[i].help);
}

/*
 * Bytes as util-linux prints them (lsblk, findmnt): a power of 1024 with a
 * one-letter suffix and at most one decimal, "0B", "512B", "1.5M", "32M".
 */
char *size_human(uint64_t bytes)
{
	static const char letters[] = "BKMGTPE";
	unsigned int exp = 0;
	uint64_t dec, frac = 0;
	char *s;
	int r;

	while (exp < 60 && bytes >= (1ULL << (exp + 10)))
		exp += 10;
	dec = exp ? bytes >> exp : bytes;
	if (exp) {
		frac = bytes & ((1ULL << exp) - 1);
		/* Three digits after the point, then rounded to one. */
		frac = (frac / (1ULL << (exp - 10)) * 1000) >> 10;
		frac = (frac + 50) / 100;
		if (frac == 10) {
			dec++;
			frac = 0;
		}
	}
	if (frac)
		r = asprintf(&s, "%" PRIu64 ".%" PRIu64 "%c", dec, frac,
			     letters[exp / 10]);
	else
		r = asprintf(&s, "%" PRIu64 "%c", dec, letters[exp / 10]);
	return r < 0 ? NULL : s;
}

/*
 * A size argument: a number with an optional suffix K, M, G, T, P, E (or
 * KiB, MiB...: powers of 1024) or KB, MB... (powers of 1000), as util-linux
 * takes them; case does not matter.  Returns 0, or -EINVAL / -ERANGE.
 */
int parse_size(const char *s, uint64_t *out)
{
	static const char letters[] = "KMGTPE";
	unsigned long long v;
	const char *p;
	char *end;
	unsigned int base = 1024, exp = 0, i;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end) {
		p = strchr(letters, toupper((unsigned char)*end));
		if (!p || !*end)
			return -EINVAL;
		exp = p - letters + 1;
		end++;
		if (!strcasecmp(end, "iB") || !*end)
			base = 1024;
		else if (!strcasecmp(end, "B"))
			base = 1000;
		else
			return -EINVAL;
	}
	for (i = 0; i < exp; i++) {
		if (v > UINT64_MAX / base)
			return -ERANGE;
		v *= base;
	}
	*out = v;
	return 0;
}

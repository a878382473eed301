// SPDX-License-Identifier: GPL-2.0
/*
 * mpcgctl - show and control mpcg regions, their members and the memory
 * cgroups that pay for them.
 *
 *   mpcgctl [options] COMMAND [options] [ARGS]
 *
 * Region commands (stat, members, attachments, chunks, policy, reassess)
 * open the file read-only, which does not make mpcgctl a member of it; the
 * system-wide commands (list, usage, top) use /dev/mpcg and need root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "mpcgctl.h"

#ifndef MPCG_VERSION
#define MPCG_VERSION "0"
#endif

struct cmd {
	const char *name;
	enum cmd_id id;
	int (*fn)(int argc, char **argv);
	const char *args;		/* usage: "FILE", "[CGROUP_PATH]" */
	const char *brief;		/* for the list of commands */
	const char *summary;
	const struct col_desc *cols;
	size_t ncols;
	const char *defaults;		/* default columns */
};

static const struct cmd *current;

void version_exit(void)
{
	printf(PROG " from mpcg %s (libmpcg %s)\n", MPCG_VERSION,
	       mpcg_version());
	exit(0);
}

static void main_help(void) __attribute__((noreturn));

void help_exit(void)
{
	const struct cmd *c = current;

	if (!c)
		main_help();
	printf("\nUsage:\n " PROG " %s [options]%s%s\n\n%s\n\nOptions:\n",
	       c->name, *c->args ? " " : "", c->args, c->summary);
	print_opts_help(stdout, c->id);
	if (c->cols) {
		print_columns_help(stdout, c->cols, c->ncols);
		printf("\nDefault columns: %s\n", c->defaults);
	}
	printf("\nFor more details see mpcgctl(8).\n");
	exit(0);
}

/* The options of the current command; returns the index of its first argument. */
static int current_opts(int argc, char **argv)
{
	return parse_opts(argc, argv, current->id, current->name);
}

static void want_args(int argc, char **argv, int first, int min, int max)
{
	int n = argc - first;

	if (n < min)
		usage_error(current->name, "%s: missing argument: %s",
			    current->name, current->args);
	if (max >= 0 && n > max)
		usage_error(current->name, "%s: unexpected argument '%s'",
			    current->name, argv[first + max]);
}

static int region_open_or_warn(const char *path)
{
	int fd = mpcg_region_open(path, 0);

	if (fd == -ENOTTY && !mpcg_module_loaded())
		warn_msg(path, "not an mpcg file (the mpcg module is not loaded)");
	else if (fd < 0)
		warn_msg(path, "%s", errno_reason(fd));
	return fd;
}

static int region_open_or_die(const char *path)
{
	int fd = region_open_or_warn(path);

	if (fd < 0)
		exit(EXIT_ERROR);
	return fd;
}

int ctl_open_or_die(void)
{
	int fd = mpcg_ctl_open();

	if (fd >= 0)
		return fd;
	if (fd == -ENOENT && !mpcg_module_loaded())
		die(MPCG_CTL_PATH, "the mpcg module is not loaded");
	if (fd == -EPERM || fd == -EACCES)
		die(MPCG_CTL_PATH, "permission denied (only root can query all regions)");
	die_errno(MPCG_CTL_PATH, fd);
}

/* The flags of a member, as words separated by commas (a static buffer). */
static const char *member_flags(uint32_t flags)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "%s%s%s",
		 flags & MPCG_MEMBER_OWNER ? ",owner" : "",
		 flags & MPCG_MEMBER_DEPARTED ? ",departed" : "",
		 flags & MPCG_MEMBER_HIGH ? ",high" : "");
	return buf[0] ? buf + 1 : buf;
}

static const char *policy_str(uint32_t p)
{
	const char *s = mpcg_policy_name(p);

	return s ? s : "unknown";
}

static const char *state_str(uint32_t s)
{
	const char *n = mpcg_state_name(s);

	return n ? n : "unknown";
}

/* ---- stat ---- */

enum { S_PATH, S_INO, S_SIZE, S_CHUNK, S_RESIDENT, S_POLICY, S_STATE,
       S_MEMBERS, S_DEPARTED, S_ATTACH, S_OWNER, S_OWNER_ID, S_REASSESSMENTS,
       S_MOVED_CHUNKS, S_MOVED, S_SHORTFALL };

static const struct col_desc stat_cols[] = {
	[S_PATH] = { "PATH", 0.3, SCOLS_FL_TRUNC, COL_STR, "the file" },
	[S_INO] = { "INO", 5, SCOLS_FL_RIGHT, COL_NUM, "inode number" },
	[S_SIZE] = { "SIZE", 5, SCOLS_FL_RIGHT, COL_SIZE, "file size" },
	[S_CHUNK] = { "CHUNK", 5, SCOLS_FL_RIGHT, COL_SIZE, "chunk size" },
	[S_RESIDENT] = { "RESIDENT", 5, SCOLS_FL_RIGHT, COL_SIZE, "bytes of the resident chunks" },
	[S_POLICY] = { "POLICY", 6, 0, COL_STR, "charging policy" },
	[S_STATE] = { "STATE", 6, 0, COL_STR, "assessed or pending (a change awaits reassessment)" },
	[S_MEMBERS] = { "MEMBERS", 3, SCOLS_FL_RIGHT, COL_NUM, "memory cgroups with attachments" },
	[S_DEPARTED] = { "DEPARTED", 3, SCOLS_FL_RIGHT, COL_NUM, "memory cgroups with no attachment left that still pay ('members' flags them departed)" },
	[S_ATTACH] = { "ATTACH", 3, SCOLS_FL_RIGHT, COL_NUM, "attachments (open files and mappings)" },
	[S_OWNER] = { "OWNER", 0.2, SCOLS_FL_TRUNC, COL_STR, "memory cgroup of the owner (pays what no member should)" },
	[S_OWNER_ID] = { "OWNER_ID", 5, SCOLS_FL_RIGHT, COL_NUM, "cgroup id of the owner" },
	[S_REASSESSMENTS] = { "REASSESSMENTS", 3, SCOLS_FL_RIGHT, COL_NUM, "completed reassessments" },
	[S_MOVED_CHUNKS] = { "MOVED_CHUNKS", 3, SCOLS_FL_RIGHT, COL_NUM, "chunks moved between memory cgroups" },
	[S_MOVED] = { "MOVED", 5, SCOLS_FL_RIGHT, COL_SIZE, "bytes moved between memory cgroups" },
	[S_SHORTFALL] = { "SHORTFALL", 5, SCOLS_FL_RIGHT, COL_SIZE, "bytes members should pay but do not (limits)" },
};

/*
 * The member table, counted as 'members' shows it: the rows flagged
 * departed (no attachment left: they stay while they pay), and the others,
 * the members with attachments.  Returns 0 or -errno.
 */
static int count_members(int fd, uint64_t *members, uint64_t *departed)
{
	struct mpcg_member_info *m;
	ssize_t n, i;

	*members = *departed = 0;
	n = mpcg_region_members(fd, &m);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (m[i].flags & MPCG_MEMBER_DEPARTED)
			(*departed)++;
		else
			(*members)++;
	}
	free(m);
	return 0;
}

static int cmd_stat(int argc, char **argv)
{
	struct output o;
	int i, first, ret = 0;

	first = current_opts(argc, argv);
	want_args(argc, argv, first, 1, -1);
	output_init(&o, "regions", stat_cols, ARRAY_SIZE(stat_cols),
		    current->defaults);
	for (i = first; i < argc; i++) {
		struct mpcg_region_stat st;
		struct libscols_line *ln;
		uint64_t members, departed;
		size_t c;
		int fd, err;

		fd = region_open_or_warn(argv[i]);
		if (fd < 0) {
			ret = EXIT_ERROR;
			continue;
		}
		/* Members from the table that 'members' shows, to agree with it. */
		err = mpcg_region_get_stat(fd, &st);
		if (!err)
			err = count_members(fd, &members, &departed);
		close(fd);
		if (err) {
			warn_msg(argv[i], "%s", errno_reason(err));
			ret = EXIT_ERROR;
			continue;
		}
		ln = output_row(&o);
		for (c = 0; c < o.ncols; c++) {
			switch (o.col[c]) {
			case S_PATH: cell_str(&o, ln, c, argv[i]); break;
			case S_INO: cell_num(&o, ln, c, st.ino); break;
			case S_SIZE: cell_size(&o, ln, c, st.file_size); break;
			case S_CHUNK: cell_size(&o, ln, c, st.chunk_size); break;
			case S_RESIDENT: cell_size(&o, ln, c, st.resident_bytes); break;
			case S_POLICY: cell_str(&o, ln, c, policy_str(st.policy)); break;
			case S_STATE: cell_str(&o, ln, c, state_str(st.state)); break;
			case S_MEMBERS: cell_num(&o, ln, c, members); break;
			case S_DEPARTED: cell_num(&o, ln, c, departed); break;
			case S_ATTACH: cell_num(&o, ln, c, st.nr_attachments); break;
			case S_OWNER: cell_str(&o, ln, c, cgroup_name(st.owner_cgroup_id)); break;
			case S_OWNER_ID: cell_num(&o, ln, c, st.owner_cgroup_id); break;
			case S_REASSESSMENTS: cell_num(&o, ln, c, st.reassessments); break;
			case S_MOVED_CHUNKS: cell_num(&o, ln, c, st.chunks_moved); break;
			case S_MOVED: cell_size(&o, ln, c, st.bytes_moved); break;
			case S_SHORTFALL: cell_size(&o, ln, c, st.shortfall_bytes); break;
			}
		}
	}
	if (scols_table_get_nlines(o.tb) || !ret)
		output_print(&o);
	output_free(&o);
	return ret;
}

/* ---- members ---- */

enum { M_CGROUP, M_ID, M_FLAGS, M_ATTACH, M_SLOT, M_TOUCHED, M_FAIR, M_PAID,
       M_SHORTFALL, M_PEAK, M_PINNED };

static const struct col_desc member_cols[] = {
	[M_CGROUP] = { "CGROUP", 0.3, 0, COL_STR, "memory cgroup (path under the cgroup2 mount)" },
	[M_ID] = { "ID", 5, SCOLS_FL_RIGHT, COL_NUM, "cgroup id (inode of its cgroup2 directory)" },
	[M_FLAGS] = { "FLAGS", 5, 0, COL_STR, "owner: the region's owner; departed: no attachment left, still pays; high: its memory.high kept chunks from moving to it" },
	[M_ATTACH] = { "ATTACH", 3, SCOLS_FL_RIGHT, COL_NUM, "attachments (open files and mappings)" },
	[M_SLOT] = { "SLOT", 2, SCOLS_FL_RIGHT, COL_NUM, "member number in the region (slot in the tracepoints)" },
	[M_TOUCHED] = { "TOUCHED", 5, SCOLS_FL_RIGHT, COL_SIZE, "bytes of the chunks it touched" },
	[M_FAIR] = { "FAIR", 5, SCOLS_FL_RIGHT, COL_SIZE, "fair share, as of the last reassessment" },
	[M_PAID] = { "PAID", 5, SCOLS_FL_RIGHT, COL_SIZE, "bytes charged to it now" },
	[M_SHORTFALL] = { "SHORTFALL", 5, SCOLS_FL_RIGHT, COL_SIZE, "should pay but its limit refused" },
	[M_PEAK] = { "PEAK", 5, SCOLS_FL_RIGHT, COL_SIZE, "most it ever paid" },
	[M_PINNED] = { "PINNED", 5, SCOLS_FL_RIGHT, COL_SIZE, "should have got, but the chunks' pages were in use (pinned by I/O, busy)" },
};

static int cmd_members(int argc, char **argv)
{
	struct mpcg_member_info *m;
	struct output o;
	ssize_t n, i;
	int fd, first;

	first = current_opts(argc, argv);
	want_args(argc, argv, first, 1, 1);
	output_init(&o, "members", member_cols, ARRAY_SIZE(member_cols),
		    current->defaults);
	fd = region_open_or_die(argv[first]);
	n = mpcg_region_members(fd, &m);
	close(fd);
	if (n < 0)
		die_errno(argv[first], n);
	for (i = 0; i < n; i++) {
		struct libscols_line *ln = output_row(&o);
		size_t c;

		for (c = 0; c < o.ncols; c++) {
			switch (o.col[c]) {
			case M_CGROUP: cell_str(&o, ln, c, cgroup_name(m[i].cgroup_id)); break;
			case M_ID: cell_num(&o, ln, c, m[i].cgroup_id); break;
			case M_FLAGS: cell_str(&o, ln, c, member_flags(m[i].flags)); break;
			case M_ATTACH: cell_num(&o, ln, c, m[i].nr_attachments); break;
			case M_SLOT: cell_num(&o, ln, c, m[i].id); break;
			case M_TOUCHED: cell_size(&o, ln, c, m[i].touched_bytes); break;
			case M_FAIR: cell_size(&o, ln, c, m[i].fair_share_bytes); break;
			case M_PAID: cell_size(&o, ln, c, m[i].paid_bytes); break;
			case M_SHORTFALL: cell_size(&o, ln, c, m[i].shortfall_bytes); break;
			case M_PEAK: cell_size(&o, ln, c, m[i].peak_paid_bytes); break;
			case M_PINNED: cell_size(&o, ln, c, m[i].pinned_bytes); break;
			}
		}
	}
	free(m);
	output_print(&o);
	output_free(&o);
	return 0;
}

/* ---- attachments ---- */

enum { A_PID, A_COMM, A_KIND, A_CGROUP, A_ID, A_OFFSET, A_LENGTH };

static const struct col_desc attach_cols[] = {
	[A_PID] = { "PID", 5, SCOLS_FL_RIGHT, COL_NUM, "process that made it (0: not in this pid namespace)" },
	[A_COMM] = { "COMM", 8, 0, COL_STR, "its command name" },
	[A_KIND] = { "KIND", 4, 0, COL_STR, "file (an open file) or map (a mapping)" },
	[A_CGROUP] = { "CGROUP", 0.3, 0, COL_STR, "memory cgroup of the member it belongs to" },
	[A_ID] = { "ID", 5, SCOLS_FL_RIGHT, COL_NUM, "cgroup id of that member" },
	[A_OFFSET] = { "OFFSET", 5, SCOLS_FL_RIGHT, COL_SIZE, "mappings: file offset of the first byte" },
	[A_LENGTH] = { "LENGTH", 5, SCOLS_FL_RIGHT, COL_SIZE, "mappings: bytes mapped" },
};

static int cmd_attachments(int argc, char **argv)
{
	struct mpcg_attachment_info *a;
	struct output o;
	ssize_t n, i;
	int fd, first;

	first = current_opts(argc, argv);
	want_args(argc, argv, first, 1, 1);
	output_init(&o, "attachments", attach_cols, ARRAY_SIZE(attach_cols),
		    current->defaults);
	fd = region_open_or_die(argv[first]);
	n = mpcg_region_attachments(fd, &a);
	close(fd);
	if (n < 0)
		die_errno(argv[first], n);
	for (i = 0; i < n; i++) {
		struct libscols_line *ln = output_row(&o);
		bool map = a[i].kind == MPCG_ATTACH_MAP;
		char comm[sizeof(a[i].comm) + 1];
		size_t c;

		memcpy(comm, a[i].comm, sizeof(a[i].comm));
		comm[sizeof(a[i].comm)] = '\0';
		for (c = 0; c < o.ncols; c++) {
			switch (o.col[c]) {
			case A_PID: cell_num(&o, ln, c, a[i].pid); break;
			case A_COMM: cell_str(&o, ln, c, comm); break;
			case A_KIND:
				cell_str(&o, ln, c, map ? "map" :
					 a[i].kind == MPCG_ATTACH_FILE ? "file" : "unknown");
				break;
			case A_CGROUP: cell_str(&o, ln, c, cgroup_name(a[i].cgroup_id)); break;
			case A_ID: cell_num(&o, ln, c, a[i].cgroup_id); break;
			case A_OFFSET: if (map) cell_size(&o, ln, c, a[i].offset); break;
			case A_LENGTH: if (map) cell_size(&o, ln, c, a[i].length); break;
			}
		}
	}
	free(a);
	output_print(&o);
	output_free(&o);
	return 0;
}

/* ---- chunks ---- */

enum { C_INDEX, C_OFFSET, C_PAYER, C_PAYER_ID, C_NR_TOUCHERS, C_TOUCHERS, C_FIRST };

static const struct col_desc chunk_cols[] = {
	[C_INDEX] = { "INDEX", 4, SCOLS_FL_RIGHT, COL_NUM, "chunk number (file offset / chunk size)" },
	[C_OFFSET] = { "OFFSET", 5, SCOLS_FL_RIGHT, COL_SIZE, "file offset of the chunk" },
	[C_PAYER] = { "PAYER", 0.2, 0, COL_STR, "memory cgroup its pages are charged to" },
	[C_PAYER_ID] = { "PAYER_ID", 5, SCOLS_FL_RIGHT, COL_NUM, "cgroup id of the payer" },
	[C_NR_TOUCHERS] = { "NTOUCHERS", 3, SCOLS_FL_RIGHT, COL_NUM, "how many members touched it" },
	[C_TOUCHERS] = { "TOUCHERS", 0.3, SCOLS_FL_TRUNC, COL_STR, "members that touched it" },
	[C_FIRST] = { "FIRST", 0.2, 0, COL_STR, "member that touched it first" },
};

/* Is column @col shown? */
static bool shows(const struct output *o, int col)
{
	size_t c;

	for (c = 0; c < o->ncols; c++)
		if (o->col[c] == col)
			return true;
	return false;
}

/* The members that touched each chunk: one chunk query per member. */
struct chunk_touchers {
	char **list;		/* by entry of the chunk table: names, or NULL */
};

static void chunk_touchers(int fd, const char *path,
			   const struct mpcg_member_info *m, ssize_t nm,
			   const struct mpcg_chunk_info *ch, ssize_t n,
			   struct chunk_touchers *t)
{
	ssize_t i, j, k, nt;

	t->list = calloc(n ? n : 1, sizeof(*t->list));
	if (!t->list)
		die(NULL, "out of memory");
	for (i = 0; i < nm; i++) {
		struct mpcg_chunk_info *tc;
		const char *name = cgroup_name(m[i].cgroup_id);

		nt = mpcg_region_chunks(fd, m[i].cgroup_id, &tc);
		if (nt == -ENOENT)
			continue;	/* freed meanwhile */
		if (nt < 0)
			die_errno(path, nt);
		/* Both tables are in chunk index order. */
		for (j = 0, k = 0; j < nt && k < n; k++) {
			char *l;

			if (ch[k].index != tc[j].index)
				continue;
			if (asprintf(&l, "%s%s%s", t->list[k] ? t->list[k] : "",
				     t->list[k] ? "," : "", name) < 0)
				die(NULL, "out of memory");
			free(t->list[k]);
			t->list[k] = l;
			j++;
		}
		free(tc);
	}
}

static int cmd_chunks(int argc, char **argv)
{
	struct chunk_touchers t = { NULL };
	struct mpcg_member_info *m;
	struct mpcg_chunk_info *ch;
	struct mpcg_region_stat st;
	struct output o;
	ssize_t n, nm, i;
	int fd, first, err;

	first = current_opts(argc, argv);
	want_args(argc, argv, first, 1, 1);
	output_init(&o, "chunks", chunk_cols, ARRAY_SIZE(chunk_cols),
		    current->defaults);
	fd = region_open_or_die(argv[first]);
	err = mpcg_region_get_stat(fd, &st);
	if (err)
		die_errno(argv[first], err);
	nm = mpcg_region_members(fd, &m);
	if (nm < 0)
		die_errno(argv[first], nm);
	n = mpcg_region_chunks(fd, 0, &ch);
	if (n < 0)
		die_errno(argv[first], n);
	if (shows(&o, C_TOUCHERS))
		chunk_touchers(fd, argv[first], m, nm, ch, n, &t);
	close(fd);
	for (i = 0; i < n; i++) {
		struct libscols_line *ln = output_row(&o);
		size_t c;

		for (c = 0; c < o.ncols; c++) {
			switch (o.col[c]) {
			case C_INDEX: cell_num(&o, ln, c, ch[i].index); break;
			case C_OFFSET: cell_size(&o, ln, c, ch[i].index * st.chunk_size); break;
			case C_PAYER: cell_str(&o, ln, c, cgroup_name(ch[i].payer_cgroup_id)); break;
			case C_PAYER_ID: cell_num(&o, ln, c, ch[i].payer_cgroup_id); break;
			case C_NR_TOUCHERS: cell_num(&o, ln, c, ch[i].nr_touchers); break;
			case C_TOUCHERS:
				if (t.list[i])
					cell_str(&o, ln, c, t.list[i]);
				break;
			case C_FIRST:
				if (ch[i].first_cgroup_id)
					cell_str(&o, ln, c, cgroup_name(ch[i].first_cgroup_id));
				break;
			}
		}
	}
	if (t.list) {
		for (i = 0; i < n; i++)
			free(t.list[i]);
		free(t.list);
	}
	free(ch);
	free(m);
	output_print(&o);
	output_free(&o);
	return 0;
}

/* ---- policy ---- */

static int cmd_policy(int argc, char **argv)
{
	struct mpcg_region_stat st;
	int fd, first, p, err;

	first = current_opts(argc, argv);
	want_args(argc, argv, first, 1, 2);
	if (argc - first == 2) {
		p = mpcg_policy_parse(argv[first + 1]);
		if (p < 0)
			die(argv[first + 1], "unknown policy (proportional, equal, first-touch, owner)");
		fd = region_open_or_die(argv[first]);
		err = mpcg_region_set_policy(fd, p);
		close(fd);
		if (err == -EPERM || err == -EACCES)
			die(argv[first], "cannot set the policy: permission denied (only the file's owner or CAP_FOWNER)");
		if (err)
			die(argv[first], "cannot set the policy: %s", errno_reason(err));
		return 0;
	}
	fd = region_open_or_die(argv[first]);
	err = mpcg_region_get_stat(fd, &st);
	close(fd);
	if (err)
		die_errno(argv[first], err);
	printf("%s\n", policy_str(st.policy));
	return 0;
}

/* ---- reassess ---- */

enum { R_STATE, R_MOVED_CHUNKS, R_MOVED, R_SHORTFALL };

static const struct col_desc reassess_cols[] = {
	[R_STATE] = { "STATE", 6, 0, COL_STR, "state afterwards: assessed, or pending if a limit refused a chunk" },
	[R_MOVED_CHUNKS] = { "MOVED_CHUNKS", 3, SCOLS_FL_RIGHT, COL_NUM, "chunks this reassessment moved" },
	[R_MOVED] = { "MOVED", 5, SCOLS_FL_RIGHT, COL_SIZE, "bytes this reassessment moved" },
	[R_SHORTFALL] = { "SHORTFALL", 5, SCOLS_FL_RIGHT, COL_SIZE, "bytes members should pay but do not" },
};

static int cmd_reassess(int argc, char **argv)
{
	struct mpcg_reassess r;
	struct libscols_line *ln;
	struct output o;
	int fd, first, err;
	size_t c;

	first = current_opts(argc, argv);
	want_args(argc, argv, first, 1, 1);
	output_init(&o, "reassess", reassess_cols, ARRAY_SIZE(reassess_cols),
		    current->defaults);
	fd = region_open_or_die(argv[first]);
	err = mpcg_region_reassess(fd, &r);
	close(fd);
	if (err)
		die(argv[first], "cannot reassess: %s", errno_reason(err));
	ln = output_row(&o);
	for (c = 0; c < o.ncols; c++) {
		switch (o.col[c]) {
		case R_STATE: cell_str(&o, ln, c, state_str(r.state)); break;
		case R_MOVED_CHUNKS: cell_num(&o, ln, c, r.chunks_moved); break;
		case R_MOVED: cell_size(&o, ln, c, r.bytes_moved); break;
		case R_SHORTFALL: cell_size(&o, ln, c, r.shortfall_bytes); break;
		}
	}
	output_print(&o);
	output_free(&o);
	return 0;
}

/* ---- list ---- */

enum { L_PATH, L_DEV, L_INO, L_SIZE, L_RESIDENT, L_CHUNK, L_POLICY, L_STATE,
       L_MEMBERS, L_ATTACH, L_OWNER, L_OWNER_ID, L_SHORTFALL };

const struct col_desc list_cols[] = {
	[L_PATH] = { "PATH", 0.3, SCOLS_FL_TRUNC, COL_STR, "the file, found in the mpcg mounts (or DEV:INO (deleted))" },
	[L_DEV] = { "DEV", 5, 0, COL_STR, "device of its file system (major:minor)" },
	[L_INO] = { "INO", 5, SCOLS_FL_RIGHT, COL_NUM, "inode number" },
	[L_SIZE] = { "SIZE", 5, SCOLS_FL_RIGHT, COL_SIZE, "file size" },
	[L_RESIDENT] = { "RESIDENT", 5, SCOLS_FL_RIGHT, COL_SIZE, "bytes of the resident chunks" },
	[L_CHUNK] = { "CHUNK", 5, SCOLS_FL_RIGHT, COL_SIZE, "chunk size" },
	[L_POLICY] = { "POLICY", 6, 0, COL_STR, "charging policy" },
	[L_STATE] = { "STATE", 6, 0, COL_STR, "assessed or pending" },
	[L_MEMBERS] = { "MEMBERS", 3, SCOLS_FL_RIGHT, COL_NUM, "memory cgroups with attachments" },
	[L_ATTACH] = { "ATTACH", 3, SCOLS_FL_RIGHT, COL_NUM, "attachments (open files and mappings)" },
	[L_OWNER] = { "OWNER", 0.2, SCOLS_FL_TRUNC, COL_STR, "memory cgroup of the owner" },
	[L_OWNER_ID] = { "OWNER_ID", 5, SCOLS_FL_RIGHT, COL_NUM, "cgroup id of the owner" },
	[L_SHORTFALL] = { "SHORTFALL", 5, SCOLS_FL_RIGHT, COL_SIZE, "bytes members should pay but do not" },
};
const size_t list_ncols = ARRAY_SIZE(list_cols);

void list_fill(struct output *o, const struct mpcg_region_stat *ri)
{
	struct libscols_line *ln = output_row(o);
	char buf[32];
	size_t c;

	for (c = 0; c < o->ncols; c++) {
		switch (o->col[c]) {
		case L_PATH:
			cell_take(o, ln, c, region_name(ri->dev, ri->ino));
			break;
		case L_DEV:
			snprintf(buf, sizeof(buf), "%u:%u", major(ri->dev),
				 minor(ri->dev));
			cell_str(o, ln, c, buf);
			break;
		case L_INO: cell_num(o, ln, c, ri->ino); break;
		case L_SIZE: cell_size(o, ln, c, ri->file_size); break;
		case L_RESIDENT: cell_size(o, ln, c, ri->resident_bytes); break;
		case L_CHUNK: cell_size(o, ln, c, ri->chunk_size); break;
		case L_POLICY: cell_str(o, ln, c, policy_str(ri->policy)); break;
		case L_STATE: cell_str(o, ln, c, state_str(ri->state)); break;
		case L_MEMBERS: cell_num(o, ln, c, ri->nr_members); break;
		case L_ATTACH: cell_num(o, ln, c, ri->nr_attachments); break;
		case L_OWNER: cell_str(o, ln, c, cgroup_name(ri->owner_cgroup_id)); break;
		case L_OWNER_ID: cell_num(o, ln, c, ri->owner_cgroup_id); break;
		case L_SHORTFALL: cell_size(o, ln, c, ri->shortfall_bytes); break;
		}
	}
}

static int cmd_list(int argc, char **argv)
{
	struct mpcg_region_stat *ri;
	struct output o;
	ssize_t n, i;
	int ctl, first;

	first = current_opts(argc, argv);
	want_args(argc, argv, first, 0, 0);
	output_init(&o, "regions", list_cols, list_ncols, current->defaults);
	ctl = ctl_open_or_die();
	n = mpcg_ctl_regions(ctl, &ri);
	close(ctl);
	if (n < 0)
		die_errno(MPCG_CTL_PATH, n);
	for (i = 0; i < n; i++)
		if (ri[i].resident_bytes >= cmd_opts.min)
			list_fill(&o, &ri[i]);
	free(ri);
	output_print(&o);
	output_free(&o);
	return 0;
}

/* ---- usage ---- */

enum { U_CGROUP, U_ID, U_REGIONS, U_ATTACH, U_TOUCHED, U_FAIR, U_PAID,
       U_SHORTFALL, U_CURRENT };

const struct col_desc usage_cols[] = {
	[U_CGROUP] = { "CGROUP", 0.3, 0, COL_STR, "memory cgroup (path under the cgroup2 mount); \"total\": the subtree" },
	[U_ID] = { "ID", 5, SCOLS_FL_RIGHT, COL_NUM, "cgroup id" },
	[U_REGIONS] = { "REGIONS", 3, SCOLS_FL_RIGHT, COL_NUM, "regions it is a member or the owner of" },
	[U_ATTACH] = { "ATTACH", 3, SCOLS_FL_RIGHT, COL_NUM, "its attachments to them" },
	[U_TOUCHED] = { "TOUCHED", 5, SCOLS_FL_RIGHT, COL_SIZE, "bytes of the chunks it touched" },
	[U_FAIR] = { "FAIR", 5, SCOLS_FL_RIGHT, COL_SIZE, "its fair share" },
	[U_PAID] = { "PAID", 5, SCOLS_FL_RIGHT, COL_SIZE, "bytes charged to it" },
	[U_SHORTFALL] = { "SHORTFALL", 5, SCOLS_FL_RIGHT, COL_SIZE, "should pay but its limit refused" },
	[U_CURRENT] = { "CURRENT", 5, SCOLS_FL_RIGHT, COL_SIZE, "its memory.current (all memory of its subtree)" },
};
const size_t usage_ncols = ARRAY_SIZE(usage_cols);

void usage_fill(struct output *o, const struct usage_row *r)
{
	struct libscols_line *ln = output_row(o);
	size_t c;

	for (c = 0; c < o->ncols; c++) {
		switch (o->col[c]) {
		case U_CGROUP: cell_str(o, ln, c, r->path); break;
		case U_ID: if (r->id) cell_num(o, ln, c, r->id); break;
		case U_REGIONS: cell_num(o, ln, c, r->n); break;
		case U_ATTACH: {
			uint64_t a = 0;
			size_t i;

			for (i = 0; i < r->n; i++)
				a += r->e[i].nr_attachments;
			cell_num(o, ln, c, a);
			break;
		}
		case U_TOUCHED: cell_size(o, ln, c, r->u.touched_bytes); break;
		case U_FAIR: cell_size(o, ln, c, r->u.fair_share_bytes); break;
		case U_PAID: cell_size(o, ln, c, r->u.paid_bytes); break;
		case U_SHORTFALL: cell_size(o, ln, c, r->u.shortfall_bytes); break;
		case U_CURRENT:
			if (r->current >= 0)
				cell_size(o, ln, c, r->current);
			break;
		}
	}
}

/*
 * The usage of every cgroup under @dir (itself included) that pays or
 * should pay something (with @all: that is in any region), and pays or
 * should pay at least @min.
 */
size_t usage_collect(int ctl, const char *dir, struct usage_row **rows,
		     bool all, uint64_t min)
{
	struct usage_row *r = NULL;
	struct cgroup_dir *d;
	size_t nd, n = 0, i;

	nd = cgroup_walk(dir, &d);
	for (i = 0; i < nd; i++) {
		struct mpcg_cgroup_usage u;
		struct mpcg_member_info *e;
		char *path;
		ssize_t k;

		if (asprintf(&path, "%s%s", cgroup_mount(),
			     strcmp(d[i].path, "/") ? d[i].path : "") < 0)
			die(NULL, "out of memory");
		k = mpcg_ctl_cgroup_usage(ctl, path, &u, &e);
		free(path);
		if (k == -ENOENT)
			continue;	/* removed meanwhile */
		if (k < 0)
			die(d[i].path, "cannot get its usage: %s", errno_reason(k));
		if (!k || (!all && !u.paid_bytes && !u.fair_share_bytes &&
			   !u.shortfall_bytes) ||
		    (u.paid_bytes < min && u.fair_share_bytes < min)) {
			free(e);
			continue;
		}
		r = realloc(r, (n + 1) * sizeof(*r));
		if (!r)
			die(NULL, "out of memory");
		r[n].path = d[i].path;
		d[i].path = NULL;
		r[n].id = u.cgroup_id;
		r[n].u = u;
		r[n].e = e;
		r[n].n = k;
		r[n].current = -1;
		n++;
	}
	cgroup_dirs_free(d, nd);
	*rows = r;
	return n;
}

void usage_rows_free(struct usage_row *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(r[i].path);
		free(r[i].e);
	}
	free(r);
}

/* A label value of the Prometheus text format: \\, \" and \n escaped. */
static void prom_label(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
	putchar('"');
}

static void prom_header(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void usage_prometheus(const struct usage_row *r, size_t n,
			     const struct mpcg_region_stat *ri, ssize_t nr)
{
	static const struct {
		const char *name, *help;
	} m[] = {
		{ "mpcg_cgroup_regions", "Regions the memory cgroup is a member or the owner of." },
		{ "mpcg_cgroup_attachments", "Open files and mappings of the memory cgroup's tasks on regions." },
		{ "mpcg_cgroup_touched_bytes", "Bytes of the chunks of regions the memory cgroup touched." },
		{ "mpcg_cgroup_fair_share_bytes", "Fair share of the memory cgroup in regions, as of their last reassessment." },
		{ "mpcg_cgroup_paid_bytes", "Bytes of regions charged to the memory cgroup." },
		{ "mpcg_cgroup_shortfall_bytes", "Bytes of regions the memory cgroup should pay but its limit refused." },
	};
	uint64_t resident = 0, shortfall = 0, attach = 0, size = 0;
	ssize_t i;
	size_t k, j;

	for (i = 0; i < nr; i++) {
		resident += ri[i].resident_bytes;
		shortfall += ri[i].shortfall_bytes;
		attach += ri[i].nr_attachments;
		size += ri[i].file_size;
	}
	prom_header("mpcg_regions", "gauge", "Regions (files of mpcg file systems) on the node.");
	printf("mpcg_regions %zd\n", nr);
	prom_header("mpcg_size_bytes", "gauge", "Sum of the sizes of the regions.");
	printf("mpcg_size_bytes %" PRIu64 "\n", size);
	prom_header("mpcg_resident_bytes", "gauge", "Bytes of the resident chunks of all regions.");
	printf("mpcg_resident_bytes %" PRIu64 "\n", resident);
	prom_header("mpcg_attachments", "gauge", "Open files and mappings of all regions.");
	printf("mpcg_attachments %" PRIu64 "\n", attach);
	prom_header("mpcg_shortfall_bytes", "gauge", "Bytes of all regions that members should pay but their limits refused.");
	printf("mpcg_shortfall_bytes %" PRIu64 "\n", shortfall);
	for (k = 0; k < ARRAY_SIZE(m); k++) {
		prom_header(m[k].name, "gauge", m[k].help);
		for (j = 0; j < n; j++) {
			uint64_t v = 0;
			size_t e;

			switch (k) {
			case 0: v = r[j].n; break;
			case 1:
				for (e = 0; e < r[j].n; e++)
					v += r[j].e[e].nr_attachments;
				break;
			case 2: v = r[j].u.touched_bytes; break;
			case 3: v = r[j].u.fair_share_bytes; break;
			case 4: v = r[j].u.paid_bytes; break;
			case 5: v = r[j].u.shortfall_bytes; break;
			}
			printf("%s{cgroup=", m[k].name);
			prom_label(r[j].path);
			printf("} %" PRIu64 "\n", v);
		}
	}
}

static int cmp_entry(const void *a, const void *b)
{
	const struct mpcg_member_info *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

/* The subtree total: sums, and the number of distinct regions. */
static void usage_total(const struct usage_row *r, size_t n,
			struct usage_row *t)
{
	struct mpcg_member_info *all = NULL;
	size_t na = 0, i, j;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i++) {
		t->u.touched_bytes += r[i].u.touched_bytes;
		t->u.fair_share_bytes += r[i].u.fair_share_bytes;
		t->u.paid_bytes += r[i].u.paid_bytes;
		t->u.shortfall_bytes += r[i].u.shortfall_bytes;
		all = realloc(all, (na + r[i].n + 1) * sizeof(*all));
		if (!all)
			die(NULL, "out of memory");
		if (r[i].n)
			memcpy(all + na, r[i].e, r[i].n * sizeof(*all));
		na += r[i].n;
	}
	if (na)
		qsort(all, na, sizeof(*all), cmp_entry);
	/* Distinct regions; attachments summed over every entry. */
	t->e = calloc(na + 1, sizeof(*t->e));
	if (!t->e)
		die(NULL, "out of memory");
	for (i = 0, j = 0; i < na; i++) {
		if (j && !cmp_entry(&t->e[j - 1], &all[i])) {
			t->e[j - 1].nr_attachments += all[i].nr_attachments;
			continue;
		}
		t->e[j++] = all[i];
	}
	t->n = j;
	free(all);
}

static int cmd_usage(int argc, char **argv)
{
	struct mpcg_region_stat *ri = NULL;
	struct usage_row *r, total;
	const char *arg = "/";
	struct output o;
	size_t n, i;
	ssize_t nr = 0;
	char *dir;
	int ctl, first;

	first = current_opts(argc, argv);
	want_args(argc, argv, first, 0, 1);
	if (argc > first)
		arg = argv[first];
	if (!cmd_opts.prometheus)
		output_init(&o, "usage", usage_cols, usage_ncols,
			    current->defaults);
	ctl = ctl_open_or_die();
	dir = cgroup_resolve(arg);
	if (!dir)
		die(arg, "no such cgroup");
	n = usage_collect(ctl, dir, &r, cmd_opts.all, cmd_opts.min);
	if (cmd_opts.prometheus) {
		nr = mpcg_ctl_regions(ctl, &ri);
		if (nr < 0)
			die_errno(MPCG_CTL_PATH, nr);
		usage_prometheus(r, n, ri, nr);
		free(ri);
	} else {
		for (i = 0; i < n; i++) {
			r[i].current = cgroup_memory_current(r[i].path);
			usage_fill(&o, &r[i]);
		}
		usage_total(r, n, &total);
		total.path = "total";
		total.current = cgroup_memory_current(dir + strlen(cgroup_mount()));
		usage_fill(&o, &total);
		free(total.e);
		output_print(&o);
		output_free(&o);
	}
	close(ctl);
	usage_rows_free(r, n);
	free(dir);
	return 0;
}

/* ---- main ---- */

static const struct cmd cmds[] = {
	{ "stat", CMD_STAT, cmd_stat, "FILE...",
	  "statistics of regions",
	  "Show the statistics of regions (files of mpcg file systems).",
	  stat_cols, ARRAY_SIZE(stat_cols),
	  "PATH,SIZE,RESIDENT,CHUNK,POLICY,STATE,MEMBERS,DEPARTED,ATTACH,OWNER,SHORTFALL" },
	{ "members", CMD_MEMBERS, cmd_members, "FILE",
	  "memory cgroups using a region, what each pays",
	  "Show the memory cgroups that use a region and what each pays.",
	  member_cols, ARRAY_SIZE(member_cols),
	  "CGROUP,FLAGS,ATTACH,TOUCHED,FAIR,PAID,SHORTFALL,PEAK" },
	{ "attachments", CMD_ATTACHMENTS, cmd_attachments, "FILE",
	  "open files and mappings of a region",
	  "Show the open files and mappings of a region, and whose they are.",
	  attach_cols, ARRAY_SIZE(attach_cols),
	  "PID,COMM,KIND,CGROUP,OFFSET,LENGTH" },
	{ "chunks", CMD_CHUNKS, cmd_chunks, "FILE",
	  "resident chunks of a region (debugging)",
	  "Show the resident chunks of a region, who touched each and who pays\n"
	  "for it (a debugging view: one line per chunk).",
	  chunk_cols, ARRAY_SIZE(chunk_cols),
	  "INDEX,OFFSET,PAYER,TOUCHERS,FIRST" },
	{ "policy", CMD_POLICY, cmd_policy, "FILE [POLICY]",
	  "show or set the charging policy of a region",
	  "Show the charging policy of a region, or set it to POLICY:\n"
	  "proportional, equal, first-touch or owner (the file's owner or\n"
	  "CAP_FOWNER). The charges move at the next reassessment.",
	  NULL, 0, NULL },
	{ "reassess", CMD_REASSESS, cmd_reassess, "FILE",
	  "reassess a region now",
	  "Reassess a region now and show what moved.",
	  reassess_cols, ARRAY_SIZE(reassess_cols),
	  "STATE,MOVED_CHUNKS,MOVED,SHORTFALL" },
	{ "list", CMD_LIST, cmd_list, "",
	  "all regions of the system",
	  "List all regions of the system (root only).",
	  list_cols, ARRAY_SIZE(list_cols),
	  "PATH,SIZE,RESIDENT,CHUNK,POLICY,STATE,MEMBERS,ATTACH,OWNER,SHORTFALL" },
	{ "usage", CMD_USAGE, cmd_usage, "[CGROUP_PATH]",
	  "what memory cgroups pay, with the subtree total",
	  "Show what the memory cgroups under CGROUP_PATH (a path under the\n"
	  "cgroup2 mount, default /) pay for regions: every cgroup that pays or\n"
	  "should pay anything, then the total of the subtree (root only).",
	  usage_cols, ARRAY_SIZE(usage_cols),
	  "CGROUP,REGIONS,ATTACH,TOUCHED,FAIR,PAID,SHORTFALL" },
	{ "top", CMD_TOP, cmd_top, "",
	  "refreshing view of the paying memory cgroups",
	  "Show the memory cgroups that pay for regions, refreshed every few\n"
	  "seconds, most paying first ('r': regions instead, 'c': cgroups,\n"
	  "'q': quit). Without a terminal, prints one table per refresh (root only).",
	  usage_cols, ARRAY_SIZE(usage_cols),
	  "CGROUP,REGIONS,ATTACH,FAIR,PAID,SHORTFALL,CURRENT" },
};

static void main_help(void)
{
	size_t i;

	printf("\nUsage:\n " PROG " [options] <command> [command options] [args]\n\n"
	       "Show and control mpcg shared memory regions and the memory cgroups\n"
	       "that pay for them.\n\nCommands:\n");
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		char head[64];

		snprintf(head, sizeof(head), "%s %s", cmds[i].name, cmds[i].args);
		printf(" %-26s %s\n", head, cmds[i].brief);
	}
	printf("\nOptions (also accepted after the command):\n");
	print_opts_help(stdout, CMD_MAIN);
	printf("\nRun '" PROG " <command> --help' for the options and columns of a command.\n"
	       "For more details see mpcgctl(8).\n");
	exit(0);
}

int main(int argc, char **argv)
{
	size_t i;
	int first;

	first = parse_opts(argc, argv, CMD_MAIN, NULL);
	if (first >= argc)
		usage_error(NULL, "no command given");
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(argv[first], cmds[i].name))
			continue;
		current = &cmds[i];
		argv[first] = (char *)cmds[i].name;
		return cmds[i].fn(argc - first, argv + first);
	}
	usage_error(NULL, "unknown command '%s'", argv[first]);
}

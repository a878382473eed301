// SPDX-License-Identifier: GPL-2.0
/*
 * libmpcg: the mpcg ABI (uapi/linux/mpcg.h) for C programs.  See mpcg.h.
 *
 * Every struct passed to the kernel is zeroed and gets its size set here,
 * so that callers never deal with the versioning conventions; tables are
 * read into arrays that grow on ERANGE until they hold every entry.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "mpcg.h"

#ifndef MPCG_VERSION
#define MPCG_VERSION "0"
#endif

/* Tries before a table that keeps growing gives up (-EAGAIN). */
#define MPCG_TABLE_TRIES	32

static const char *const policy_names[MPCG_NR_POLICIES] = {
	[MPCG_POLICY_PROPORTIONAL] = "proportional",
	[MPCG_POLICY_EQUAL] = "equal",
	[MPCG_POLICY_FIRST_TOUCH] = "first-touch",
	[MPCG_POLICY_OWNER] = "owner",
};

const char *mpcg_version(void)
{
	return MPCG_VERSION;
}

int mpcg_module_loaded(void)
{
	return access(MPCG_SYSFS_MODULE, F_OK) == 0;
}

static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

int mpcg_region_check(int fd)
{
	struct statfs sfs;
	struct stat st;

	if (fstat(fd, &st) || fstatfs(fd, &sfs))
		return neg_errno();
	if (!S_ISREG(st.st_mode) || (unsigned long)sfs.f_type != MPCG_SUPER_MAGIC)
		return -ENOTTY;
	return 0;
}

int mpcg_region_open(const char *path, int flags)
{
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | flags);
	if (fd < 0)
		return neg_errno();
	err = mpcg_region_check(fd);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int do_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? neg_errno() : 0;
}

int mpcg_region_get_stat(int fd, struct mpcg_region_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return do_ioctl(fd, MPCG_IOC_REGION_STAT, st);
}

/*
 * Read a whole table: ask with a guess of its size, and on ERANGE (the
 * kernel then says how many entries there are) again with room for them.
 */
static ssize_t get_table(int fd, unsigned long cmd, size_t entry_size,
			 void **out)
{
	size_t cap = 16;
	int tries;

	*out = NULL;
	for (tries = 0; tries < MPCG_TABLE_TRIES; tries++) {
		struct mpcg_table t;
		void *buf;
		int err;

		buf = calloc(cap, entry_size);
		if (!buf)
			return -ENOMEM;
		memset(&t, 0, sizeof(t));
		t.size = sizeof(t);
		t.entry_size = entry_size;
		t.count = cap;
		t.entries = (uintptr_t)buf;
		err = do_ioctl(fd, cmd, &t);
		if (!err) {
			if (t.count)
				*out = buf;
			else
				free(buf);
			return t.count;
		}
		free(buf);
		if (err != -ERANGE)
			return err;
		/* Room for what there is now, and for some growth. */
		cap = (size_t)t.count + t.count / 4 + 16;
	}
	return -EAGAIN;
}

ssize_t mpcg_region_members(int fd, struct mpcg_member_info **out)
{
	return get_table(fd, MPCG_IOC_MEMBERS, sizeof(**out), (void **)out);
}

ssize_t mpcg_region_attachments(int fd, struct mpcg_attachment_info **out)
{
	return get_table(fd, MPCG_IOC_ATTACHMENTS, sizeof(**out), (void **)out);
}

ssize_t mpcg_region_chunks(int fd, struct mpcg_chunk_info **out)
{
	return get_table(fd, MPCG_IOC_CHUNKS, sizeof(**out), (void **)out);
}

int mpcg_region_set_policy(int fd, unsigned int policy)
{
	struct mpcg_set_policy sp;

	memset(&sp, 0, sizeof(sp));
	sp.size = sizeof(sp);
	sp.policy = policy;
	return do_ioctl(fd, MPCG_IOC_SET_POLICY, &sp);
}

int mpcg_region_set_policy_name(int fd, const char *policy)
{
	int p = mpcg_policy_parse(policy);

	if (p < 0)
		return p;
	return mpcg_region_set_policy(fd, p);
}

int mpcg_region_reassess(int fd, struct mpcg_reassess *res)
{
	struct mpcg_reassess r;
	int err;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	err = do_ioctl(fd, MPCG_IOC_REASSESS, &r);
	if (!err && res)
		*res = r;
	return err;
}

int mpcg_ctl_open(void)
{
	int fd = open(MPCG_CTL_PATH, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? neg_errno() : fd;
}

ssize_t mpcg_ctl_regions(int ctl, struct mpcg_region_info **out)
{
	return get_table(ctl, MPCG_IOC_LIST_REGIONS, sizeof(**out),
			 (void **)out);
}

ssize_t mpcg_ctl_cgroup_usage_fd(int ctl, int cgroup_fd,
				 struct mpcg_cgroup_usage *totals,
				 struct mpcg_usage_entry **out)
{
	size_t cap = 16;
	int tries;

	if (out)
		*out = NULL;
	for (tries = 0; tries < MPCG_TABLE_TRIES; tries++) {
		struct mpcg_cgroup_usage u;
		struct mpcg_usage_entry *buf;
		int err;

		/* The kernel fills the totals only if the entries fit too. */
		buf = calloc(cap, sizeof(*buf));
		if (!buf)
			return -ENOMEM;
		memset(&u, 0, sizeof(u));
		u.size = sizeof(u);
		u.cgroup_fd = cgroup_fd;
		u.entry_size = sizeof(*buf);
		u.count = cap;
		u.entries = (uintptr_t)buf;
		err = do_ioctl(ctl, MPCG_IOC_CGROUP_USAGE, &u);
		if (!err) {
			if (totals)
				*totals = u;
			if (out && u.count)
				*out = buf;
			else
				free(buf);
			return u.count;
		}
		free(buf);
		if (err != -ERANGE)
			return err;
		cap = (size_t)u.count + u.count / 4 + 16;
	}
	return -EAGAIN;
}

ssize_t mpcg_ctl_cgroup_usage(int ctl, const char *cgroup_path,
			      struct mpcg_cgroup_usage *totals,
			      struct mpcg_usage_entry **out)
{
	ssize_t n;
	int fd;

	fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return neg_errno();
	n = mpcg_ctl_cgroup_usage_fd(ctl, fd, totals, out);
	close(fd);
	return n;
}

const char *mpcg_policy_name(unsigned int policy)
{
	return policy < MPCG_NR_POLICIES ? policy_names[policy] : NULL;
}

int mpcg_policy_parse(const char *s)
{
	unsigned int i;
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	for (i = 0; i < MPCG_NR_POLICIES; i++) {
		const char *n = policy_names[i];
		size_t k;

		if (strlen(s) != strlen(n))
			continue;
		for (k = 0; n[k]; k++) {
			char c = s[k] == '_' ? '-' : tolower((unsigned char)s[k]);

			if (c != n[k])
				break;
		}
		if (!n[k])
			return i;
	}
	v = strtol(s, &end, 10);
	if (*end || end == s || v < 0 || v >= MPCG_NR_POLICIES)
		return -EINVAL;
	return v;
}

const char *mpcg_state_name(unsigned int state)
{
	switch (state) {
	case MPCG_STATE_ASSESSED:
		return "assessed";
	case MPCG_STATE_PENDING:
		return "pending";
	}
	return NULL;
}

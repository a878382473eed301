// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libmpcg: the mpcg ABI (uapi/linux/mpcg.h) for C programs.  See libmpcg.h.
 *
 * Every struct passed to the kernel is built here, zeroed, with the size
 * the caller knows, so that callers never deal with the versioning
 * conventions; tables are read into arrays that grow on ERANGE until they
 * hold every entry.  ENOTTY from an ioctl on a descriptor known to be a
 * region (or /dev/mpcg) means an older module: it becomes -EOPNOTSUPP.
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

#include "libmpcg.h"

#ifndef MPCG_VERSION
#define MPCG_VERSION "0"
#endif

/* Tries before a table that keeps growing gives up (-EAGAIN). */
#define MPCG_TABLE_TRIES	32

/* The biggest struct the kernel takes (it refuses larger ones: E2BIG). */
#define MPCG_STRUCT_MAX		4096

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

/* Is @fd the control device (the character device /dev/mpcg is)? */
static int is_ctl(int fd)
{
	struct stat st, dev;

	return !fstat(fd, &st) && S_ISCHR(st.st_mode) &&
	       !stat(MPCG_CTL_PATH, &dev) && S_ISCHR(dev.st_mode) &&
	       dev.st_rdev == st.st_rdev;
}

/*
 * An ioctl on a region or /dev/mpcg.  ENOTTY: either @fd is not the kind
 * of descriptor @cmd is for (then -ENOTTY), or it is and the module does
 * not know @cmd: an older module (-EOPNOTSUPP).
 */
static int do_ioctl(int fd, unsigned long cmd, void *arg)
{
	int region, ctl;

	if (!ioctl(fd, cmd, arg))
		return 0;
	if (errno != ENOTTY)
		return neg_errno();
	region = cmd != MPCG_IOC_LIST_REGIONS && cmd != MPCG_IOC_CGROUP_USAGE;
	ctl = cmd == MPCG_IOC_FEATURES || !region;
	if ((region && !mpcg_region_check(fd)) || (ctl && is_ctl(fd)))
		return -EOPNOTSUPP;
	return -ENOTTY;
}

/* A zeroed struct of @size bytes that starts with its size. */
static void *new_struct(size_t size)
{
	uint32_t *p;

	if (size < sizeof(uint32_t) || size > MPCG_STRUCT_MAX) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, size);
	if (p)
		*p = size;
	return p;
}

/*
 * Run a command whose struct starts with its size, built here with @size
 * bytes, and copy the answer to @out (the caller's, @size bytes).
 */
static int sized_ioctl(int fd, unsigned long cmd, void *out, size_t size)
{
	void *buf = new_struct(size);
	int err;

	if (!buf)
		return neg_errno();
	err = do_ioctl(fd, cmd, buf);
	if (!err && out)
		memcpy(out, buf, size);
	free(buf);
	return err;
}

int mpcg_features_size(int fd, struct mpcg_features *f, size_t size)
{
	return sized_ioctl(fd, MPCG_IOC_FEATURES, f, size);
}

int mpcg_supports(const struct mpcg_features *f, unsigned long cmd)
{
	return _IOC_TYPE(cmd) == MPCG_IOC_MAGIC && _IOC_NR(cmd) < 64 &&
	       (f->ioctls >> _IOC_NR(cmd)) & 1;
}

int mpcg_region_get_stat_size(int fd, struct mpcg_region_stat *st,
			      size_t size)
{
	return sized_ioctl(fd, MPCG_IOC_REGION_STAT, st, size);
}

/*
 * Read a whole table: ask with a guess of its size, and on ERANGE (the
 * kernel then says how many entries there are) again with room for them.
 * @req (@req_size bytes) is the request, which starts with struct
 * mpcg_table; the table fields are set here, the rest is the caller's.
 * On success *@out is the array (NULL if empty) and @req holds the answer.
 */
static ssize_t get_table(int fd, unsigned long cmd, void *req,
			 size_t req_size, size_t entry_size, void **out)
{
	struct mpcg_table *t = req;
	size_t cap = 16;
	int tries;

	*out = NULL;
	for (tries = 0; tries < MPCG_TABLE_TRIES; tries++) {
		void *buf;
		int err;

		buf = calloc(cap, entry_size);
		if (!buf)
			return -ENOMEM;
		t->size = req_size;
		t->flags = 0;
		t->entry_size = entry_size;
		t->count = cap;
		t->entries = (uintptr_t)buf;
		err = do_ioctl(fd, cmd, req);
		if (!err) {
			if (t->count)
				*out = buf;
			else
				free(buf);
			return t->count;
		}
		free(buf);
		if (err != -ERANGE)
			return err;
		/* Room for what there is now, and for some growth. */
		cap = (size_t)t->count + t->count / 4 + 16;
	}
	return -EAGAIN;
}

/* A table whose request is a bare struct mpcg_table. */
static ssize_t get_plain_table(int fd, unsigned long cmd, size_t entry_size,
			       void **out)
{
	struct mpcg_table t;

	memset(&t, 0, sizeof(t));
	return get_table(fd, cmd, &t, sizeof(t), entry_size, out);
}

ssize_t mpcg_region_members_size(int fd, struct mpcg_member_info **out,
				 size_t entry_size)
{
	return get_plain_table(fd, MPCG_IOC_MEMBERS, entry_size, (void **)out);
}

ssize_t mpcg_region_attachments_size(int fd,
				     struct mpcg_attachment_info **out,
				     size_t entry_size)
{
	return get_plain_table(fd, MPCG_IOC_ATTACHMENTS, entry_size,
			       (void **)out);
}

ssize_t mpcg_region_chunks_size(int fd, unsigned long long cgroup_id,
				struct mpcg_chunk_info **out,
				size_t entry_size)
{
	struct mpcg_chunk_query q;

	memset(&q, 0, sizeof(q));
	q.cgroup_id = cgroup_id;
	return get_table(fd, MPCG_IOC_CHUNKS, &q, sizeof(q), entry_size,
			 (void **)out);
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

int mpcg_region_reassess_size(int fd, struct mpcg_reassess *res, size_t size)
{
	return sized_ioctl(fd, MPCG_IOC_REASSESS, res,
			   res ? size : sizeof(struct mpcg_reassess));
}

int mpcg_ctl_open(void)
{
	int fd = open(MPCG_CTL_PATH, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? neg_errno() : fd;
}

ssize_t mpcg_ctl_regions_size(int ctl, struct mpcg_region_stat **out,
			      size_t entry_size)
{
	return get_plain_table(ctl, MPCG_IOC_LIST_REGIONS, entry_size,
			       (void **)out);
}

ssize_t mpcg_ctl_cgroup_usage_fd_size(int ctl, int cgroup_fd,
				      struct mpcg_cgroup_usage *totals,
				      size_t size,
				      struct mpcg_member_info **out,
				      size_t entry_size)
{
	struct mpcg_cgroup_usage *u;
	void *entries;
	ssize_t n;

	/* The request as the caller knows it, or as this header does. */
	if (!totals)
		size = sizeof(*u);
	if (size < MPCG_CGROUP_USAGE_SIZE_VER0)
		return -EINVAL;
	u = new_struct(size);
	if (!u)
		return neg_errno();
	u->cgroup_fd = cgroup_fd;
	n = get_table(ctl, MPCG_IOC_CGROUP_USAGE, u, size, entry_size,
		      &entries);
	if (n >= 0 && totals)
		memcpy(totals, u, size);
	if (out)
		*out = n >= 0 ? entries : NULL;
	else if (n >= 0)
		free(entries);
	free(u);
	return n;
}

ssize_t mpcg_ctl_cgroup_usage_size(int ctl, const char *cgroup_path,
				   struct mpcg_cgroup_usage *totals,
				   size_t size,
				   struct mpcg_member_info **out,
				   size_t entry_size)
{
	ssize_t n;
	int fd;

	fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return neg_errno();
	n = mpcg_ctl_cgroup_usage_fd_size(ctl, fd, totals, size, out,
					  entry_size);
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

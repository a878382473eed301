/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmpcg: a small C library over the mpcg ABI (<linux/mpcg.h>, API
 * version 1).  LGPL-2.1-or-later (tools/lib/COPYING.LGPL-2.1), so that
 * programs under any licence can link it.
 *
 * Region functions take a file descriptor of a regular file of an mpcg
 * mount, opened with mpcg_region_open() or open(2).  Opening a region does
 * not make the caller a member of it: an open file description becomes an
 * attachment only at its first read, write or fallocate, so tools that only
 * query a region do not change what it charges.  The control functions take
 * a descriptor of /dev/mpcg (mpcg_ctl_open(), root only).
 *
 * Functions return a negative errno on failure.  Two of them mean the same
 * everywhere: -ENOTTY, the descriptor is not an mpcg region (or /dev/mpcg);
 * -EOPNOTSUPP, it is, but the loaded module is older than the call (it
 * does not know the ioctl).  Tables are returned in arrays that the library
 * allocates with malloc() and the caller frees with free().  The library
 * keeps no state and is safe to use from several threads.
 *
 * Structs are passed with the size the caller was compiled with (the
 * inline functions below pass sizeof() for you), so that a program built
 * against an older header keeps working with a newer library and module,
 * and the other way round: each side uses the fields both know.
 *
 * Link with `pkg-config --cflags --libs libmpcg`.
 */
#ifndef LIBMPCG_H
#define LIBMPCG_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/mpcg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Path of the control device. */
#define MPCG_CTL_PATH		"/dev/mpcg"

/* Where the module shows itself when it is loaded. */
#define MPCG_SYSFS_MODULE	"/sys/module/mpcg"

/**
 * mpcg_version() - the version of the library
 *
 * Return: a static string such as "0.2.0".
 */
const char *mpcg_version(void);

/**
 * mpcg_module_loaded() - is the mpcg kernel module loaded?
 *
 * Return: 1 if it is (/sys/module/mpcg exists, as it does when the module
 * is loaded or built in), 0 if not.
 */
int mpcg_module_loaded(void);

/**
 * mpcg_region_open() - open a region file for queries
 * @path: path of a regular file of an mpcg mount
 * @flags: extra open(2) flags (0, or e.g. O_NOFOLLOW); O_CLOEXEC is added
 *
 * Opens @path read-only, which does not make the caller a member of the
 * region, and checks that it is a region (mpcg_region_check()).
 *
 * Return: a file descriptor, or a negative errno: those of open(2), and
 * -ENOTTY if @path is not a regular file of an mpcg mount.
 */
int mpcg_region_open(const char *path, int flags);

/**
 * mpcg_region_check() - is @fd a region?
 * @fd: an open file descriptor
 *
 * Return: 0 if @fd is a regular file of an mpcg mount (statfs(2) f_type is
 * MPCG_SUPER_MAGIC), -ENOTTY if not, or the negative errno of fstat(2) or
 * fstatfs(2).
 */
int mpcg_region_check(int fd);

/**
 * mpcg_features() - what the loaded module supports (MPCG_IOC_FEATURES)
 * @fd: a region file descriptor or a descriptor of /dev/mpcg
 * @f: filled in: the module's API version, the commands that work on @fd
 *     (bit _IOC_NR(cmd) of @f->ioctls), its features, policies and flags,
 *     and the size of each struct it knows (@f->sizes, by enum mpcg_struct)
 *
 * Return: 0, -ENOTTY if @fd is neither a region nor /dev/mpcg,
 * -EOPNOTSUPP if it is but the module predates API version 1, or another
 * negative errno.
 */
static inline int mpcg_features(int fd, struct mpcg_features *f);

/**
 * mpcg_supports() - does the module take command @cmd on that descriptor?
 * @f: what mpcg_features() returned for the descriptor
 * @cmd: an MPCG_IOC_* command
 *
 * Return: 1 or 0.
 */
int mpcg_supports(const struct mpcg_features *f, unsigned long cmd);

/**
 * mpcg_region_get_stat() - statistics of a region (MPCG_IOC_REGION_STAT)
 * @fd: a region file descriptor
 * @st: filled in; the library sets @st->size and @st->flags itself.  Fields
 *      that the module does not know (an older one) read 0.
 *
 * Return: 0 or a negative errno (-ENOTTY: not a region).
 */
static inline int mpcg_region_get_stat(int fd, struct mpcg_region_stat *st);

/**
 * mpcg_region_members() - the member table of a region (MPCG_IOC_MEMBERS)
 * @fd: a region file descriptor
 * @out: set to a malloc()ed array of the members (the caller frees it);
 *       NULL when the table is empty or on failure
 *
 * Members include the owner, which stays in the table without attachments,
 * and departed members that still pay for something (MPCG_MEMBER_DEPARTED).
 *
 * Return: the number of entries, or a negative errno.
 */
static inline ssize_t mpcg_region_members(int fd,
					  struct mpcg_member_info **out);

/**
 * mpcg_region_attachments() - the attachments of a region
 *                             (MPCG_IOC_ATTACHMENTS)
 * @fd: a region file descriptor
 * @out: set to a malloc()ed array (the caller frees it), NULL if empty
 *
 * Return: the number of entries, or a negative errno.
 */
static inline ssize_t mpcg_region_attachments(int fd,
					      struct mpcg_attachment_info **out);

/**
 * mpcg_region_chunks() - the resident chunks of a region (MPCG_IOC_CHUNKS)
 * @fd: a region file descriptor
 * @cgroup_id: 0 for every resident chunk, else only the chunks that the
 *             member with this cgroup id touched
 * @out: set to a malloc()ed array in chunk index order (the caller frees
 *       it), NULL if empty
 *
 * A debugging view: it costs one entry per resident chunk.
 *
 * Return: the number of entries, or a negative errno (-ENOENT: @cgroup_id
 * is not a member).
 */
static inline ssize_t mpcg_region_chunks(int fd, unsigned long long cgroup_id,
					 struct mpcg_chunk_info **out);

/**
 * mpcg_region_set_policy() - change the charging policy of a region
 *                            (MPCG_IOC_SET_POLICY)
 * @fd: a region file descriptor
 * @policy: an enum mpcg_policy value
 *
 * Allowed to the file's owner and to holders of CAP_FOWNER.  The region
 * becomes pending; the automatic reassessment, or mpcg_region_reassess(),
 * moves the charges.
 *
 * Return: 0, or a negative errno (-EPERM: not allowed, -EINVAL: no such
 * policy).
 */
int mpcg_region_set_policy(int fd, unsigned int policy);

/**
 * mpcg_region_set_policy_name() - change the policy, given by name
 * @fd: a region file descriptor
 * @policy: a policy name or number, as mpcg_policy_parse() takes it
 *
 * Return: 0 or a negative errno (-EINVAL for an unknown policy).
 */
int mpcg_region_set_policy_name(int fd, const char *policy);

/**
 * mpcg_region_reassess() - reassess a region now (MPCG_IOC_REASSESS)
 * @fd: a region file descriptor
 * @res: if not NULL, filled with the result: the state afterwards, the
 *       chunks and bytes this reassessment moved, and the shortfall left
 *
 * Synchronous: when it returns, the region is assessed unless a payer's
 * limit refused a chunk (then the state stays MPCG_STATE_PENDING and the
 * shortfall says how much).
 *
 * Return: 0 or a negative errno.
 */
static inline int mpcg_region_reassess(int fd, struct mpcg_reassess *res);

/**
 * mpcg_ctl_open() - open the control device /dev/mpcg
 *
 * Return: a file descriptor (O_CLOEXEC), or a negative errno: -ENOENT if
 * the device does not exist (mpcg_module_loaded() tells whether the module
 * is not loaded), -EPERM or -EACCES unless the caller is root
 * (CAP_SYS_ADMIN).
 */
int mpcg_ctl_open(void);

/**
 * mpcg_ctl_regions() - all the regions of the system
 *                      (MPCG_IOC_LIST_REGIONS)
 * @ctl: a descriptor of /dev/mpcg
 * @out: set to a malloc()ed array of their statistics (the caller frees
 *       it), NULL if empty
 *
 * Return: the number of entries, or a negative errno.
 */
static inline ssize_t mpcg_ctl_regions(int ctl, struct mpcg_region_stat **out);

/**
 * mpcg_ctl_cgroup_usage_fd() - usage of one memory cgroup across all
 *                              regions (MPCG_IOC_CGROUP_USAGE)
 * @ctl: a descriptor of /dev/mpcg
 * @cgroup_fd: an open cgroup2 directory
 * @totals: if not NULL, filled with the cgroup id and its totals over the
 *          regions it is in
 * @out: if not NULL, set to a malloc()ed array with its entry in each
 *       region it is a member of (the region's dev and ino in each; the
 *       caller frees it), NULL if empty
 *
 * Counts only the cgroup itself, not its descendants.
 *
 * Return: the number of regions the cgroup is in, or a negative errno
 * (-EBADF: @cgroup_fd is not a cgroup2 directory).
 */
static inline ssize_t mpcg_ctl_cgroup_usage_fd(int ctl, int cgroup_fd,
					       struct mpcg_cgroup_usage *totals,
					       struct mpcg_member_info **out);

/**
 * mpcg_ctl_cgroup_usage() - usage of the memory cgroup at a path
 * @ctl: a descriptor of /dev/mpcg
 * @cgroup_path: file system path of a cgroup2 directory
 *               (e.g. "/sys/fs/cgroup/pod1")
 * @totals: as for mpcg_ctl_cgroup_usage_fd()
 * @out: as for mpcg_ctl_cgroup_usage_fd()
 *
 * Return: the number of regions the cgroup is in, or a negative errno
 * (those of open(2) for @cgroup_path, -EBADF if it is not a cgroup2
 * directory).
 */
static inline ssize_t mpcg_ctl_cgroup_usage(int ctl, const char *cgroup_path,
					    struct mpcg_cgroup_usage *totals,
					    struct mpcg_member_info **out);

/**
 * mpcg_policy_name() - the name of a policy
 * @policy: an enum mpcg_policy value
 *
 * Return: "proportional", "equal", "first-touch" or "owner" (the names the
 * policy= mount option takes), or NULL for an unknown value.
 */
const char *mpcg_policy_name(unsigned int policy);

/**
 * mpcg_policy_parse() - a policy from its name or number
 * @s: a name as mpcg_policy_name() returns it (case does not matter,
 *     "first_touch" is accepted too) or a decimal policy number
 *
 * Return: the enum mpcg_policy value, or -EINVAL.
 */
int mpcg_policy_parse(const char *s);

/**
 * mpcg_state_name() - the name of a region state
 * @state: an enum mpcg_state value
 *
 * Return: "assessed", "pending", or NULL for an unknown value.
 */
const char *mpcg_state_name(unsigned int state);

/*
 * The library's entry points behind the inline functions above: the same
 * calls with the caller's struct or entry size.  Call these directly only
 * to pass a size other than sizeof() of this header's struct.
 */
int mpcg_features_size(int fd, struct mpcg_features *f, size_t size);
int mpcg_region_get_stat_size(int fd, struct mpcg_region_stat *st,
			      size_t size);
ssize_t mpcg_region_members_size(int fd, struct mpcg_member_info **out,
				 size_t entry_size);
ssize_t mpcg_region_attachments_size(int fd,
				     struct mpcg_attachment_info **out,
				     size_t entry_size);
ssize_t mpcg_region_chunks_size(int fd, unsigned long long cgroup_id,
				struct mpcg_chunk_info **out,
				size_t entry_size);
int mpcg_region_reassess_size(int fd, struct mpcg_reassess *res,
			      size_t size);
ssize_t mpcg_ctl_regions_size(int ctl, struct mpcg_region_stat **out,
			      size_t entry_size);
ssize_t mpcg_ctl_cgroup_usage_fd_size(int ctl, int cgroup_fd,
				      struct mpcg_cgroup_usage *totals,
				      size_t size,
				      struct mpcg_member_info **out,
				      size_t entry_size);
ssize_t mpcg_ctl_cgroup_usage_size(int ctl, const char *cgroup_path,
				   struct mpcg_cgroup_usage *totals,
				   size_t size,
				   struct mpcg_member_info **out,
				   size_t entry_size);

static inline int mpcg_features(int fd, struct mpcg_features *f)
{
	return mpcg_features_size(fd, f, sizeof(*f));
}

static inline int mpcg_region_get_stat(int fd, struct mpcg_region_stat *st)
{
	return mpcg_region_get_stat_size(fd, st, sizeof(*st));
}

static inline ssize_t mpcg_region_members(int fd,
					  struct mpcg_member_info **out)
{
	return mpcg_region_members_size(fd, out, sizeof(**out));
}

static inline ssize_t mpcg_region_attachments(int fd,
					      struct mpcg_attachment_info **out)
{
	return mpcg_region_attachments_size(fd, out, sizeof(**out));
}

static inline ssize_t mpcg_region_chunks(int fd, unsigned long long cgroup_id,
					 struct mpcg_chunk_info **out)
{
	return mpcg_region_chunks_size(fd, cgroup_id, out, sizeof(**out));
}

static inline int mpcg_region_reassess(int fd, struct mpcg_reassess *res)
{
	return mpcg_region_reassess_size(fd, res, sizeof(*res));
}

static inline ssize_t mpcg_ctl_regions(int ctl, struct mpcg_region_stat **out)
{
	return mpcg_ctl_regions_size(ctl, out, sizeof(**out));
}

static inline ssize_t mpcg_ctl_cgroup_usage_fd(int ctl, int cgroup_fd,
					       struct mpcg_cgroup_usage *totals,
					       struct mpcg_member_info **out)
{
	return mpcg_ctl_cgroup_usage_fd_size(ctl, cgroup_fd, totals,
					     sizeof(*totals), out,
					     sizeof(**out));
}

static inline ssize_t mpcg_ctl_cgroup_usage(int ctl, const char *cgroup_path,
					    struct mpcg_cgroup_usage *totals,
					    struct mpcg_member_info **out)
{
	return mpcg_ctl_cgroup_usage_size(ctl, cgroup_path, totals,
					  sizeof(*totals), out, sizeof(**out));
}

#ifdef __cplusplus
}
#endif

#endif /* LIBMPCG_H */

/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mpcg: multi-process control groups for shared memory.
 *
 * The user-space ABI of the mpcg filesystem and its control interface.
 *
 * Conventions, for every struct passed to an ioctl here:
 *  - it starts with __u32 size, which the caller sets to sizeof() of the
 *    struct as it knows it.  A size below the first version's is EINVAL; a
 *    larger one is accepted: the kernel zeroes what it does not know of
 *    output-only structs (mpcg_region_stat), and requires what it does not
 *    know of structs that carry input (all others) to be zero (else E2BIG),
 *    since it cannot honour a request it does not understand.  New fields
 *    are only ever appended.
 *  - flags not defined here and reserved fields that are not zero: EINVAL.
 *  - tables: the caller passes an array (entries, a user pointer), its
 *    capacity (count) and the size of one entry as it knows it
 *    (entry_size).  The kernel sets count to the number of entries there
 *    are; if that is more than the capacity it writes no entry and fails
 *    with ERANGE, so the caller can grow the array and retry.
 *  - ioctl numbers are matched on type and number only: the size encoded
 *    in them is that of the first version and is not checked.
 *
 * Region ioctls work on any open file descriptor of a regular file of an
 * mpcg mount; control ioctls on /dev/mpcg, which only root can open.
 */
#ifndef _UAPI_LINUX_MPCG_H
#define _UAPI_LINUX_MPCG_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* statfs(2) f_type of an mpcg mount ("mpcg"). */
#define MPCG_SUPER_MAGIC	0x6d706367

/* Chunk sizes a mount accepts (chunk= option), in bytes. */
#define MPCG_CHUNK_SIZE_MIN	(64ULL << 10)
#define MPCG_CHUNK_SIZE_MAX	(2ULL << 20)
#define MPCG_CHUNK_SIZE_DEFAULT	MPCG_CHUNK_SIZE_MAX

/* Most memory cgroups one region tracks at a time (members and payers). */
#define MPCG_MAX_MEMBERS	64

/* Charging policies (policy= mount option, MPCG_IOC_SET_POLICY). */
enum mpcg_policy {
	MPCG_POLICY_PROPORTIONAL = 0,	/* a chunk's touchers share it */
	MPCG_POLICY_EQUAL = 1,		/* all members share every chunk */
	MPCG_POLICY_FIRST_TOUCH = 2,	/* the first toucher pays */
	MPCG_POLICY_OWNER = 3,		/* the region's owner pays */
	MPCG_NR_POLICIES
};

/* Region states. */
enum mpcg_state {
	MPCG_STATE_ASSESSED = 0,	/* every chunk is where the policy says */
	MPCG_STATE_PENDING = 1,		/* a change awaits reassessment */
};

/* MPCG_IOC_REGION_STAT: statistics of the region behind the fd. */
struct mpcg_region_stat {
	__u32 size;		/* in: sizeof(struct mpcg_region_stat) */
	__u32 flags;		/* in: 0 */
	__u64 ino;		/* inode number of the file */
	__u64 file_size;	/* bytes */
	__u64 chunk_size;	/* bytes */
	__u64 resident_bytes;	/* resident chunks * chunk_size */
	__u32 policy;		/* enum mpcg_policy */
	__u32 state;		/* enum mpcg_state */
	__u32 nr_members;	/* memory cgroups with attachments */
	__u32 nr_attachments;	/* open files and mappings */
	__u64 owner_cgroup_id;	/* cgroup id of the owner */
	__u64 reassessments;	/* completed reassessments */
	__u64 chunks_moved;	/* chunks moved between memory cgroups */
	__u64 bytes_moved;
	__u64 shortfall_bytes;	/* bytes members should pay but do not */
};

/* Flags of struct mpcg_member_info. */
#define MPCG_MEMBER_OWNER	(1U << 0)	/* the region's owner */
#define MPCG_MEMBER_DEPARTED	(1U << 1)	/* no attachment left, still pays */

/* One entry of MPCG_IOC_MEMBERS. */
struct mpcg_member_info {
	__u64 cgroup_id;	/* of the memory cgroup (its cgroup2 inode) */
	__u32 flags;		/* MPCG_MEMBER_* */
	__u32 nr_attachments;
	__u32 slot;		/* index of its bit in mpcg_chunk_info.touchers */
	__u32 reserved;
	__u64 touched_bytes;	/* chunks this member touched */
	__u64 fair_share_bytes;	/* as of the last reassessment */
	__u64 paid_bytes;	/* chunks charged to this memory cgroup now */
	__u64 shortfall_bytes;	/* should pay but its limit refused */
	__u64 peak_paid_bytes;
};

/* Kinds of struct mpcg_attachment_info. */
#define MPCG_ATTACH_FILE	1	/* an open file description */
#define MPCG_ATTACH_MAP		2	/* a mapping (VMA) */

/* One entry of MPCG_IOC_ATTACHMENTS. */
struct mpcg_attachment_info {
	__u32 pid;		/* thread group that made it, in the caller's pid namespace; 0 if not visible */
	__u32 kind;		/* MPCG_ATTACH_* */
	__u64 cgroup_id;	/* the member it belongs to */
	__u64 offset;		/* mappings: file offset of the first byte */
	__u64 length;		/* mappings: bytes mapped */
	__u8 comm[16];		/* command name, NUL-terminated */
};

/* One entry of MPCG_IOC_CHUNKS: a resident chunk (a debugging view). */
struct mpcg_chunk_info {
	__u64 index;		/* chunk number: file offset / chunk_size */
	__u64 payer_cgroup_id;	/* memory cgroup its pages are charged to */
	__u64 touchers;		/* bit n: the member in slot n touched it */
	__u32 payer_slot;
	__u32 first_slot;	/* slot of its first toucher */
};

/* Argument of the table ioctls. */
struct mpcg_table {
	__u32 size;		/* in: sizeof(struct mpcg_table) */
	__u32 flags;		/* in: 0 */
	__u32 entry_size;	/* in: size of one entry as the caller knows it */
	__u32 count;		/* in: capacity; out: number of entries */
	__u64 entries;		/* in: user pointer to the array */
};

/* MPCG_IOC_SET_POLICY: change the policy (file owner or CAP_FOWNER). */
struct mpcg_set_policy {
	__u32 size;		/* in: sizeof(struct mpcg_set_policy) */
	__u32 flags;		/* in: 0 */
	__u32 policy;		/* in: enum mpcg_policy */
	__u32 reserved;		/* in: 0 */
};

/* MPCG_IOC_REASSESS: reassess now, synchronously. */
struct mpcg_reassess {
	__u32 size;		/* in: sizeof(struct mpcg_reassess) */
	__u32 flags;		/* in: 0 */
	__u32 state;		/* out: enum mpcg_state afterwards */
	__u32 reserved;		/* in: 0 */
	__u64 chunks_moved;	/* out: by this reassessment */
	__u64 bytes_moved;	/* out */
	__u64 shortfall_bytes;	/* out: of the region afterwards */
};

/* One entry of MPCG_IOC_LIST_REGIONS. */
struct mpcg_region_info {
	__u64 dev;		/* st_dev of the file (new_encode_dev) */
	__u64 ino;		/* st_ino */
	__u64 file_size;
	__u64 resident_bytes;
	__u64 owner_cgroup_id;
	__u32 nr_members;
	__u32 policy;
	__u32 state;
	__u32 nr_attachments;
	__u64 chunk_size;
	__u64 shortfall_bytes;
};

/* One entry of MPCG_IOC_CGROUP_USAGE: the cgroup in one region. */
struct mpcg_usage_entry {
	__u64 dev;		/* of the region's file */
	__u64 ino;
	__u32 flags;		/* MPCG_MEMBER_* */
	__u32 nr_attachments;
	__u64 touched_bytes;
	__u64 fair_share_bytes;
	__u64 paid_bytes;
	__u64 shortfall_bytes;
};

/* MPCG_IOC_CGROUP_USAGE: one memory cgroup across all regions. */
struct mpcg_cgroup_usage {
	__u32 size;		/* in: sizeof(struct mpcg_cgroup_usage) */
	__u32 flags;		/* in: 0 */
	__s32 cgroup_fd;	/* in: an open cgroup2 directory */
	__u32 entry_size;	/* in: sizeof(struct mpcg_usage_entry) known */
	__u32 count;		/* in: capacity; out: regions it is in */
	__u32 reserved;		/* in: 0 */
	__u64 entries;		/* in: user pointer, may be 0 with count 0 */
	__u64 cgroup_id;	/* out */
	__u64 touched_bytes;	/* out: totals over its regions */
	__u64 fair_share_bytes;
	__u64 paid_bytes;
	__u64 shortfall_bytes;
};

#define MPCG_IOC_MAGIC		0xB7

/* On region files. */
#define MPCG_IOC_REGION_STAT	_IOWR(MPCG_IOC_MAGIC, 0x01, struct mpcg_region_stat)
#define MPCG_IOC_MEMBERS	_IOWR(MPCG_IOC_MAGIC, 0x02, struct mpcg_table)
#define MPCG_IOC_ATTACHMENTS	_IOWR(MPCG_IOC_MAGIC, 0x03, struct mpcg_table)
#define MPCG_IOC_SET_POLICY	_IOW(MPCG_IOC_MAGIC, 0x04, struct mpcg_set_policy)
#define MPCG_IOC_REASSESS	_IOWR(MPCG_IOC_MAGIC, 0x05, struct mpcg_reassess)
#define MPCG_IOC_CHUNKS		_IOWR(MPCG_IOC_MAGIC, 0x06, struct mpcg_table)

/* On /dev/mpcg. */
#define MPCG_IOC_LIST_REGIONS	_IOWR(MPCG_IOC_MAGIC, 0x10, struct mpcg_table)
#define MPCG_IOC_CGROUP_USAGE	_IOWR(MPCG_IOC_MAGIC, 0x11, struct mpcg_cgroup_usage)

#endif /* _UAPI_LINUX_MPCG_H */

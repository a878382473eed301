/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mpcg: multi-process control groups for shared memory.
 *
 * The user-space ABI of the mpcg filesystem and its control interface,
 * API version 1 (MPCG_API_VERSION).
 *
 * Conventions, for every ioctl here:
 *  - The argument struct starts with __u32 size, which the caller sets to
 *    the size of the struct as it knows it: one of the MPCG_*_SIZE_VER*
 *    numbers below (sizeof() of the struct of the header it was built
 *    with).  A size below VER0 is EINVAL, above 4096 E2BIG.  A larger size
 *    than the kernel's is accepted: bytes the kernel does not know are
 *    zeroed in what it passes back, and must be zero in what the caller
 *    passes in (else E2BIG: it cannot honour a request it does not
 *    understand), except in the output-only structs mpcg_region_stat and
 *    mpcg_features, of which only size and flags are read.  A smaller size
 *    (an older program) gets only the fields it knows.
 *    On return, size is what the kernel filled: the smaller of the two.
 *    New fields are only ever appended, and each new layout gets its own
 *    MPCG_*_SIZE_VER<n>.
 *  - Flags not defined here and reserved fields that are not zero: EINVAL.
 *  - Tables (struct mpcg_table, alone or at the start of a larger request):
 *    the caller passes an array (entries), its capacity in entries (count)
 *    and the size of one entry as it knows it (entry_size, at least the
 *    entry's VER0 size).  The kernel sets count to the number of entries
 *    there are; if that is more than the capacity it writes no entry and
 *    fails with ERANGE, so that the caller can grow the array and retry.
 *    Each entry gets min(entry_size, the kernel's entry size) bytes, and
 *    zeroes after them up to entry_size.
 *  - Commands are matched in full (type, number, direction and size).  The
 *    size encoded in a command is its struct's VER0 size and never changes;
 *    the size field inside the struct says which version is passed.  An
 *    unknown command is ENOTTY.
 *  - MPCG_IOC_FEATURES tells what this module supports (which commands on
 *    this kind of descriptor, the size of each struct, the flags and
 *    policies it knows): a program can tell an older module from a file
 *    that is not an mpcg file (ENOTTY from MPCG_IOC_FEATURES on a file
 *    whose statfs(2) f_type is MPCG_SUPER_MAGIC means a module older than
 *    API version 1).
 *
 * Region ioctls work on any open file descriptor of a regular file of an
 * mpcg mount (also O_RDONLY; not O_PATH); control ioctls on /dev/mpcg,
 * which only root can open.  A member of a region is a memory cgroup: its
 * cgroup id (the inode number of its cgroup2 directory) names it.
 */
#ifndef _UAPI_LINUX_MPCG_H
#define _UAPI_LINUX_MPCG_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/* The version of this ABI; MPCG_IOC_FEATURES reports the module's. */
#define MPCG_API_VERSION	1

/* statfs(2) f_type of an mpcg mount ("mpcg"). */
#define MPCG_SUPER_MAGIC	0x6d706367

/* Chunk sizes a mount accepts (chunk= option), in bytes. */
#define MPCG_CHUNK_SIZE_MIN	(64ULL << 10)
#define MPCG_CHUNK_SIZE_MAX	(2ULL << 20)
#define MPCG_CHUNK_SIZE_DEFAULT	MPCG_CHUNK_SIZE_MAX

/* Charging policies (policy= mount option, MPCG_IOC_SET_POLICY). */
enum mpcg_policy {
	MPCG_POLICY_PROPORTIONAL = 0,	/* a chunk's touchers share it */
	MPCG_POLICY_EQUAL = 1,		/* all members share every chunk */
	MPCG_POLICY_FIRST_TOUCH = 2,	/* the first toucher pays */
	MPCG_POLICY_OWNER = 3,		/* the region's owner pays */
	MPCG_NR_POLICIES		/* of this header, not of the module */
};

/* Region states. */
enum mpcg_state {
	MPCG_STATE_ASSESSED = 0,	/* every chunk is where the policy says */
	MPCG_STATE_PENDING = 1,		/* a change awaits reassessment */
};

/* MPCG_IOC_REGION_STAT, and the entries of MPCG_IOC_LIST_REGIONS. */
struct mpcg_region_stat {
	__u32 size;		/* in: MPCG_REGION_STAT_SIZE_VER*; out: size filled */
	__u32 flags;		/* in: 0 */
	__u64 dev;		/* st_dev of the file (new_encode_dev()) */
	__u64 ino;		/* st_ino of the file */
	__u64 file_size;	/* bytes */
	__u64 chunk_size;	/* bytes, the mount's chunk= */
	__u64 resident_bytes;	/* resident chunks * chunk_size */
	__u32 policy;		/* enum mpcg_policy */
	__u32 state;		/* enum mpcg_state */
	__u32 nr_members;	/* members with at least one attachment */
	__u32 nr_attachments;	/* open files (that did I/O) and mappings */
	__u64 owner_cgroup_id;	/* the owner: pays what no member should */
	__u64 reassessments;	/* reassessments done */
	__u64 chunks_moved;	/* chunks moved between memory cgroups, in all */
	__u64 bytes_moved;	/* chunks_moved * chunk_size */
	__u64 shortfall_bytes;	/* members should pay but their limit refused */
	/* VER1: entries of MPCG_IOC_MEMBERS (members, the owner, departed
	 * members that still pay)
	 */
	__u32 nr_member_entries;
	__u32 reserved;		/* out: 0 */
	/*
	 * VER2: chunks that should have moved in the last reassessment but
	 * whose pages were in use (pinned by I/O, a read or fault in
	 * progress): they stay where they are, and are retried
	 */
	__u64 pinned_bytes;
};

#define MPCG_REGION_STAT_SIZE_VER0	104
#define MPCG_REGION_STAT_SIZE_VER1	112	/* nr_member_entries */
#define MPCG_REGION_STAT_SIZE_VER2	120	/* pinned_bytes */

/* Flags of struct mpcg_member_info. */
#define MPCG_MEMBER_OWNER	_BITUL(0)	/* the region's owner */
#define MPCG_MEMBER_DEPARTED	_BITUL(1)	/* no attachment left, still pays */
/*
 * Its memory.high (or an ancestor's) kept chunks from moving to it in the
 * last reassessment: they are in its shortfall.  Reported by modules whose
 * struct mpcg_features.member_flags has it.
 */
#define MPCG_MEMBER_HIGH	_BITUL(2)

/*
 * An entry of MPCG_IOC_MEMBERS (the members of one region) and of
 * MPCG_IOC_CGROUP_USAGE (one cgroup in each region it is a member of).
 */
struct mpcg_member_info {
	__u64 dev;		/* the region's st_dev (new_encode_dev()) */
	__u64 ino;		/* the region's st_ino */
	__u64 cgroup_id;	/* the member's memory cgroup */
	__u32 flags;		/* MPCG_MEMBER_* */
	__u32 nr_attachments;	/* its open files and mappings of the region */
	__u32 id;		/* its number in the region (tracepoints' member id) */
	__u32 reserved;		/* out: 0 */
	__u64 touched_bytes;	/* resident chunks it touched */
	__u64 fair_share_bytes;	/* what it should pay, as of the last reassessment */
	__u64 paid_bytes;	/* chunks charged to its memory cgroup now */
	__u64 shortfall_bytes;	/* it should pay more, but its limit refused */
	__u64 peak_paid_bytes;	/* the most paid_bytes has been */
	/*
	 * VER1: chunks that should have moved to it in the last
	 * reassessment but whose pages were in use
	 */
	__u64 pinned_bytes;
};

#define MPCG_MEMBER_INFO_SIZE_VER0	80
#define MPCG_MEMBER_INFO_SIZE_VER1	88	/* pinned_bytes */

/* Kinds of struct mpcg_attachment_info. */
#define MPCG_ATTACH_FILE	1	/* an open file description that did I/O */
#define MPCG_ATTACH_MAP		2	/* a mapping (VMA) */

/* An entry of MPCG_IOC_ATTACHMENTS. */
struct mpcg_attachment_info {
	/* thread group that holds it, in the caller's pid namespace; 0 if it
	 * is not visible there
	 */
	__u32 pid;
	__u32 kind;		/* MPCG_ATTACH_* */
	__u64 cgroup_id;	/* the member it belongs to */
	__u64 offset;		/* mappings: file offset of the first byte; files: 0 */
	__u64 length;		/* mappings: bytes mapped; files: 0 */
	__u8 comm[16];		/* command name, NUL-terminated, zero-padded */
};

#define MPCG_ATTACHMENT_INFO_SIZE_VER0	48

/* An entry of MPCG_IOC_CHUNKS: a resident chunk (a debugging view). */
struct mpcg_chunk_info {
	__u64 index;		/* chunk number: file offset / chunk_size */
	__u64 payer_cgroup_id;	/* memory cgroup its pages are charged to */
	__u64 first_cgroup_id;	/* its first toucher; 0 once that member is gone */
	__u32 nr_touchers;	/* members that touched it and are still members */
	__u32 flags;		/* out: 0 (none defined yet) */
};

#define MPCG_CHUNK_INFO_SIZE_VER0	32

/*
 * The argument of the table ioctls (MPCG_IOC_MEMBERS, MPCG_IOC_ATTACHMENTS,
 * MPCG_IOC_LIST_REGIONS), and the start of the larger table requests.
 */
struct mpcg_table {
	__u32 size;		/* in: size of the whole request struct */
	__u32 flags;		/* in: 0 */
	__u32 entry_size;	/* in: size of one entry as the caller knows it */
	__u32 count;		/* in: capacity, in entries; out: number of entries */
	__u64 entries;		/* in: user pointer to the array (0 with count 0) */
};

#define MPCG_TABLE_SIZE_VER0		24

/* MPCG_IOC_CHUNKS: the resident chunks, or those one member touched. */
struct mpcg_chunk_query {
	struct mpcg_table table;	/* entries: struct mpcg_chunk_info */
	/* in: 0 for every chunk, else only the chunks that the member with
	 * this cgroup id touched (ENOENT if it is not a member)
	 */
	__u64 cgroup_id;
};

#define MPCG_CHUNK_QUERY_SIZE_VER0	32

/* MPCG_IOC_SET_POLICY: change the policy (file owner or CAP_FOWNER). */
struct mpcg_set_policy {
	__u32 size;		/* in: MPCG_SET_POLICY_SIZE_VER* */
	__u32 flags;		/* in: 0 */
	__u32 policy;		/* in: enum mpcg_policy */
	__u32 reserved;		/* in: 0 */
};

#define MPCG_SET_POLICY_SIZE_VER0	16

/* MPCG_IOC_REASSESS: reassess now, synchronously. */
struct mpcg_reassess {
	__u32 size;		/* in: MPCG_REASSESS_SIZE_VER*; out: size filled */
	__u32 flags;		/* in: 0 */
	__u32 state;		/* out: enum mpcg_state afterwards */
	__u32 reserved;		/* in: 0 */
	__u64 chunks_moved;	/* out: by this reassessment */
	__u64 bytes_moved;	/* out: chunks_moved * chunk_size */
	__u64 shortfall_bytes;	/* out: of the region afterwards */
};

#define MPCG_REASSESS_SIZE_VER0		40

/* MPCG_IOC_CGROUP_USAGE: one memory cgroup across all regions. */
struct mpcg_cgroup_usage {
	/* entries: struct mpcg_member_info, one per region the cgroup is a
	 * member of
	 */
	struct mpcg_table table;
	__s32 cgroup_fd;	/* in: an open cgroup2 directory */
	__u32 reserved;		/* in: 0 */
	__u64 cgroup_id;	/* out: its cgroup id */
	__u64 touched_bytes;	/* out: totals over its regions */
	__u64 fair_share_bytes;	/* out */
	__u64 paid_bytes;	/* out */
	__u64 shortfall_bytes;	/* out */
};

#define MPCG_CGROUP_USAGE_SIZE_VER0	72

/* The structs, as indexes of struct mpcg_features.sizes. */
enum mpcg_struct {
	MPCG_STRUCT_FEATURES = 0,
	MPCG_STRUCT_REGION_STAT = 1,
	MPCG_STRUCT_MEMBER_INFO = 2,
	MPCG_STRUCT_ATTACHMENT_INFO = 3,
	MPCG_STRUCT_CHUNK_INFO = 4,
	MPCG_STRUCT_TABLE = 5,
	MPCG_STRUCT_CHUNK_QUERY = 6,
	MPCG_STRUCT_SET_POLICY = 7,
	MPCG_STRUCT_REASSESS = 8,
	MPCG_STRUCT_CGROUP_USAGE = 9,
	MPCG_NR_STRUCTS			/* of this header; at most 16 */
};

/* Optional behaviour, in struct mpcg_features.features. */
/* open(O_DIRECT) is accepted, as on tmpfs of the same kernel (6.6 on) */
#define MPCG_FEATURE_ODIRECT	_BITULL(0)

/*
 * MPCG_IOC_FEATURES: what this module supports (on region files and on
 * /dev/mpcg).  Everything is output but size and flags.
 */
struct mpcg_features {
	__u32 size;		/* in: MPCG_FEATURES_SIZE_VER*; out: size filled */
	__u32 flags;		/* in: 0 */
	__u32 api;		/* MPCG_API_VERSION of the module */
	__u32 nr_structs;	/* entries of sizes[] the module filled */
	__u64 ioctls;		/* bit _IOC_NR(cmd): cmd works on this descriptor */
	__u64 features;		/* MPCG_FEATURE_* */
	__u64 policies;		/* bit n: enum mpcg_policy n is known */
	__u32 member_flags;	/* the MPCG_MEMBER_* flags it reports */
	__u32 attach_kinds;	/* bit n: MPCG_ATTACH_* n is reported */
	__u32 chunk_flags;	/* the chunk flags it reports (none yet) */
	__u32 reserved;		/* out: 0 */
	/* by enum mpcg_struct: the size of the latest version of each struct
	 * the module knows
	 */
	__u32 sizes[16];
};

#define MPCG_FEATURES_SIZE_VER0		120

/*
 * "mpcg" ioctl type: 0xBC, unused in the kernel's ioctl-number.rst (0xB7,
 * mpcg's first choice, belongs to nsfs and remoteproc).
 */
#define MPCG_IOC_MAGIC		0xBC
#define MPCG_IOC(nr, size)	_IOC(_IOC_READ | _IOC_WRITE, MPCG_IOC_MAGIC, nr, size)

/* On region files and on /dev/mpcg. */
#define MPCG_IOC_FEATURES	MPCG_IOC(0x00, MPCG_FEATURES_SIZE_VER0)

/* On region files. */
#define MPCG_IOC_REGION_STAT	MPCG_IOC(0x01, MPCG_REGION_STAT_SIZE_VER0)
#define MPCG_IOC_MEMBERS	MPCG_IOC(0x02, MPCG_TABLE_SIZE_VER0)
#define MPCG_IOC_ATTACHMENTS	MPCG_IOC(0x03, MPCG_TABLE_SIZE_VER0)
#define MPCG_IOC_SET_POLICY	_IOC(_IOC_WRITE, MPCG_IOC_MAGIC, 0x04, MPCG_SET_POLICY_SIZE_VER0)
#define MPCG_IOC_REASSESS	MPCG_IOC(0x05, MPCG_REASSESS_SIZE_VER0)
#define MPCG_IOC_CHUNKS		MPCG_IOC(0x06, MPCG_CHUNK_QUERY_SIZE_VER0)

/* On /dev/mpcg. */
#define MPCG_IOC_LIST_REGIONS	MPCG_IOC(0x10, MPCG_TABLE_SIZE_VER0)
#define MPCG_IOC_CGROUP_USAGE	MPCG_IOC(0x11, MPCG_CGROUP_USAGE_SIZE_VER0)

#endif /* _UAPI_LINUX_MPCG_H */

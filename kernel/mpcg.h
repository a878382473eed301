/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mpcg internal definitions shared by the module's files.
 *
 * Objects:
 *   struct mpcg_sb_info    - one per mount: options and the space counter.
 *   struct mpcg_region     - one per regular file (allocated with it, the
 *                            inode points to it): the shared memory object,
 *                            its chunk store and its multi-process control
 *                            group.
 *   struct mpcg_chunk      - one per resident chunk, in region->chunks: its
 *                            pages, payer and touchers.
 *   struct mpcg_tset       - a set of member slots that touched chunks,
 *                            shared by the chunks with the same touchers
 *                            (tset.c).
 *   struct mpcg_pages      - the pages backing one chunk in several
 *                            physically contiguous pieces (a chunk in one
 *                            piece points to its first page instead).
 *   struct mpcg_member     - a memory cgroup that uses (or pays for) a
 *                            region, in one of the region's member slots
 *                            (as many as it needs: region->members is an
 *                            xarray).
 *   struct mpcg_attachment - an open file or a mapping, tied to a member.
 * Each kind is counted, module-wide, in mpcg_objects[] (stats.c).
 *
 * Files and calls (docs/design.md, "Files and calls"): the filesystem
 * (file.c, inode.c, super.c, ctl.c) calls region.c for everything that can
 * change a region (and chunk.c or member.c directly only for lookups that
 * change nothing); region.c calls reassess.c, chunk.c and member.c;
 * reassess.c calls chunk.c and member.c; chunk.c calls member.c and
 * tset.c; member.c and tset.c call none of them.  A lower layer reports what it changed (a bool, an
 * outcome) instead of calling up.
 *
 * Locking order (outermost first); a lock may only be taken while holding
 * locks listed above it:
 *
 *   inode->i_rwsem          write(), truncate, fallocate
 *   mm->mmap_lock           page faults (taken by the core before ->fault)
 *   region->reassess_lock   one reassessment (or policy change) at a time;
 *                           also protects region->backoff
 *   mpcg_index_lock         global: all regions, members by cgroup id;
 *                           creating and freeing members
 *   region->chunk_sem       read: allocating or moving a chunk; write:
 *                           removing chunks (and freeing a region's chunks
 *                           when it is torn down)
 *   page lock               one page by faults, write() and first touches;
 *                           every page of a chunk by whoever removes,
 *                           zeroes or moves that chunk
 *   region->tset_lock       the region's touch sets and every chunk's
 *                           pointer to one (tset.c)
 *   mapping->i_mmap_rwsem   taken inside unmap_mapping_range()
 *   region->lock            spinlock: member slots, attachments, nr_attach
 *
 * region->work (the automatic reassessment) takes region->reassess_lock and
 * mpcg_index_lock, so it is never cancelled or flushed with either held.
 * It is queued by changes made through the region's files and mappings and
 * by mpcg_scan_dying(), which finds regions on mpcg_regions under
 * mpcg_index_lock; mpcg_region_destroy() therefore takes the region off
 * that list (under the lock) before cancelling the work, after which
 * nothing can queue it again.
 *
 * Reading region->members without region->lock: a member is stored in a
 * free slot with mpcg_index_lock held and erased with both mpcg_index_lock
 * and region->lock held, so that mpcg_index_lock gives a stable view of
 * every slot, and region->lock one in which no member goes away (a member
 * that is being created may appear).  Lookups (xa_load()) are safe
 * under RCU; using the member found is what needs one of these locks.
 * Without them, a slot may be read, and the member it points to used, only
 * where that member cannot be freed meanwhile.  A member is
 * freed only by a reassessment (mpcg_free_departed(), under
 * region->reassess_lock, mpcg_index_lock and chunk_sem for read), once it
 * has no attachment, pays for no chunk, is not the owner, and after its
 * touch bits have been cleared; and at teardown, when nobody else can
 * reach the region.  So these may read a slot without region->lock:
 *   - a holder of region->reassess_lock (the reassessment itself), for any
 *     slot it knows is in use (its snapshot of the active mask, a chunk's
 *     payer): nobody else frees members;
 *   - a holder of chunk_sem for write (removing chunks), for the payer and
 *     the touchers of a chunk: the freeing step, which holds chunk_sem for
 *     read, cannot run, and a member a chunk names is not freed;
 *   - the mover of a chunk (chunk_sem for read and region->reassess_lock),
 *     for that chunk's payer, which pays for it and so is not freed.
 * chunk_sem held for read alone is not enough for a chunk's payer: a
 * reassessment can move the chunk and then free the old payer before the
 * slot is read; such a reader takes region->lock.  Only the slot's pointer
 * and the member's fields that the reader's locks or atomics cover may be
 * used (nr_touched and nr_paid are atomics).
 *
 * No region lock is ever held while copying to or from user memory: read()
 * and write() look a page up, take a reference (and for write() the page
 * lock, with page faults disabled as generic_perform_write() does), copy and
 * drop it.
 *
 * Page ownership protocol: each page of a live chunk has page->private set
 * to the chunk it belongs to.  Whoever takes a page out of a chunk does so
 * with the page locked and clears page->private before unlocking it.  A page
 * found without locks (RCU lookup plus get_page_unless_zero()) is only used
 * for mapping or writing after it has been locked and its page->private
 * checked again; a reader that only copies data out needs the check without
 * the lock.  This is how the page cache treats folio->mapping.
 */
#ifndef _MPCG_H
#define _MPCG_H

#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/list.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <uapi/linux/mpcg.h>

#include "compat.h"

#define MPCG_CHUNK_SHIFT_MIN	16	/* 64 KiB */
#define MPCG_CHUNK_SHIFT_MAX	21	/* 2 MiB */
#define MPCG_CHUNK_SHIFT_DEF	21

/**
 * struct mpcg_sb_info - per-mount state
 * @chunk_shift: log2 of the chunk size, fixed for the mount's lifetime
 * @max_chunks: chunk budget from the size= option, 0 for unlimited
 * @used_chunks: chunks resident in all regions of this mount
 * @max_inodes: nr_inodes= limit, 0 for unlimited
 * @used_inodes: inodes allocated on this mount
 * @mode: mode of the root directory
 * @uid: owner of the root directory
 * @gid: group of the root directory
 * @policy: policy of new regions (enum mpcg_policy)
 */
struct mpcg_sb_info {
	unsigned int chunk_shift;
	unsigned long max_chunks;
	atomic_long_t used_chunks;
	unsigned long max_inodes;
	atomic_long_t used_inodes;
	umode_t mode;
	kuid_t uid;
	kgid_t gid;
	unsigned int policy;
};

/**
 * struct mpcg_pages - the memory of one chunk that is not one piece
 * @rcu: freeing after a grace period, for lockless lookups
 * @order: allocation order of each piece
 * @piece: pieces of 2^@order physically contiguous order-0 pages each, in
 *         file order; 1 << (chunk order - @order) of them
 */
struct mpcg_pages {
	struct rcu_head rcu;
	unsigned int order;
	struct page *piece[];
};

struct mpcg_tset;

/**
 * struct mpcg_chunk - one resident chunk of a region
 * @pages: its memory; replaced (with all pages locked) when it moves;
 *         the first page, tagged, if it is one piece (chunk.c)
 * @ts: the member slots that touched it (NULL: none), a shared set
 *      (tset.c); replaced with a page of the chunk locked (a touch) or by
 *      reassessment, always under region->tset_lock
 * @payer: slot of the member its pages are charged to
 * @first: slot of its first toucher, MPCG_NO_SLOT once that member is gone
 * @unused: made resident by a fallocate() still running, and neither
 *          faulted in nor written since; set before the chunk is published,
 *          cleared with a page of the chunk locked (or by that fallocate)
 * @rcu: freeing after a grace period, for lockless lookups
 */
struct mpcg_chunk {
	struct mpcg_pages __rcu *pages;
	struct mpcg_tset __rcu *ts;
	u32 payer;
	u32 first;
	u8 unused;
	struct rcu_head rcu;
};

/**
 * struct mpcg_member - a memory cgroup in a region's control group
 * @region: the region
 * @memcg: the memory cgroup; a css reference is held while this exists
 * @cgroup_id: cgroup_id() of @memcg's cgroup, as user space sees it
 * @slot: index in region->members and bit in the chunks' touch sets
 * @flags: MPCG_MEMBER_OWNER
 * @nr_attach: attachments (region->lock)
 * @nr_touched: resident chunks whose @slot bit is set
 * @nr_paid: chunks charged to @memcg
 * @peak_paid: highest @nr_paid seen
 * @fair: fair share in bytes, as of the last reassessment
 * @shortfall: chunks it should pay but could not take, last reassessment
 * @pinned: chunks it should pay but that could not move because their
 *          pages were in use (pinned by I/O, busy), last reassessment
 * @high: its memory.high (or an ancestor's) kept chunks from moving to it
 *        in the last reassessment (counted in @shortfall)
 * @index_node: in the global index by cgroup id (mpcg_index_lock)
 *
 * A member is freed by reassessment once it has no attachment, pays for
 * no chunk and is not the owner; until then it keeps its slot.
 */
struct mpcg_member {
	struct mpcg_region *region;
	struct mem_cgroup *memcg;
	u64 cgroup_id;
	unsigned int slot;
	unsigned int flags;
	unsigned int nr_attach;
	atomic_long_t nr_touched;
	atomic_long_t nr_paid;
	unsigned long peak_paid;
	u64 fair;
	unsigned long shortfall;
	unsigned long pinned;
	bool high;
	struct hlist_node index_node;
};

/**
 * struct mpcg_attachment - an open file description or a mapping
 * @node: in region->attachments (region->lock)
 * @member: the member it belongs to (holds one of its nr_attach)
 * @pid: thread group that made it
 * @comm: its command name then
 * @kind: MPCG_ATTACH_FILE or MPCG_ATTACH_MAP
 * @vma: the mapping, for MPCG_ATTACH_MAP (valid while attached)
 */
struct mpcg_attachment {
	struct list_head node;
	struct mpcg_member *member;
	struct pid *pid;
	char comm[TASK_COMM_LEN];
	unsigned int kind;
	struct vm_area_struct *vma;
};

/**
 * struct mpcg_region - the shared memory object behind one regular file
 * @inode: the file's inode; the region is created with it and freed when
 *         it is evicted
 * @chunks: chunk index -> struct mpcg_chunk, for resident chunks
 * @chunk_sem: read for allocating or moving a chunk, write for removing
 * @nr_chunks: number of resident chunks
 * @chunk_shift: log2 of the chunk size (copied from the mount)
 * @lock: protects @nr_active, @attachments, @nr_attachments and every
 *        member's nr_attach; held to erase a member
 * @members: member slot -> struct mpcg_member (an allocating xarray: as
 *           many slots as members, the lowest free one first; read without
 *           @lock: see the top of this file)
 * @nr_active: members with at least one attachment
 * @tset_lock: the touch sets (tset.c)
 * @tset_hash: the region's touch sets, by content
 * @tset_hash_bits: log2 of @tset_hash's size
 * @nr_tsets: touch sets in @tset_hash
 * @owner: the owner's member (never freed while the region exists)
 * @attachments: all attachments
 * @nr_attachments: their number
 * @policy: enum mpcg_policy
 * @state: enum mpcg_state
 * @gen: bumped on every change that can alter a fair share
 * @reassess_lock: serialises reassessments and policy changes
 * @work: the automatic (delayed) reassessment
 * @backoff: retry delay exponent after a shortfall (@reassess_lock)
 * @reassessments: completed reassessments
 * @chunks_moved: chunks moved between memory cgroups
 * @shortfall: chunks that could not be moved to their payer, last time
 * @pinned: chunks that could not be moved because their pages were in
 *          use, last time
 * @node: in the global list of regions (mpcg_index_lock)
 */
struct mpcg_region {
	struct inode *inode;

	struct xarray chunks;
	struct rw_semaphore chunk_sem;
	atomic_long_t nr_chunks;
	unsigned int chunk_shift;

	spinlock_t lock;	/* member slots and attachments */
	struct xarray members;
	unsigned int nr_active;
	struct mpcg_member *owner;
	struct list_head attachments;
	unsigned int nr_attachments;

	struct mutex tset_lock;	/* touch sets */
	struct hlist_head *tset_hash;
	unsigned int tset_hash_bits;
	unsigned int nr_tsets;

	unsigned int policy;
	unsigned int state;
	atomic_long_t gen;
	struct mutex reassess_lock;	/* one reassessment at a time */
	struct delayed_work work;
	unsigned int backoff;
	u64 reassessments;
	u64 chunks_moved;
	unsigned long shortfall;
	unsigned long pinned;
	struct list_head node;
};

/*
 * Only a regular file has a region, and ->alloc_inode() cannot tell what
 * an inode will be (new_inode() is called before the mode is known), so
 * one inode cache serves every kind and holds a pointer: directories,
 * symlinks and special files do not carry the region's ~800 bytes.  The
 * region is allocated (region.c) once the inode is known to be a regular
 * file, and freed when it is evicted.
 */
struct mpcg_inode_info {
	struct mpcg_region *region;	/* NULL unless a regular file */
	unsigned int fsflags;		/* FS_*_FL of chattr (inode.c) */
	struct inode vfs_inode;
};

static inline struct mpcg_inode_info *MPCG_I(struct inode *inode)
{
	return container_of(inode, struct mpcg_inode_info, vfs_inode);
}

/* The region of a regular file. */
static inline struct mpcg_region *mpcg_region(struct inode *inode)
{
	return MPCG_I(inode)->region;
}

static inline struct inode *mpcg_region_inode(struct mpcg_region *r)
{
	return r->inode;
}

static inline struct mpcg_sb_info *MPCG_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

/*
 * Set ctime and mtime of @inode (and of @also, if not NULL) to one "now",
 * and return it.
 */
static inline struct timespec64 mpcg_inode_touch(struct inode *inode,
						 struct inode *also)
{
	struct timespec64 now = current_time(inode);

	mpcg_inode_set_ctime(inode, now);
	mpcg_inode_set_mtime(inode, now);
	if (also) {
		mpcg_inode_set_ctime(also, now);
		mpcg_inode_set_mtime(also, now);
	}
	return now;
}

/* How the tracepoints and /dev/mpcg name a region: st_dev and st_ino. */
static inline u32 mpcg_region_dev(struct mpcg_region *r)
{
	return new_encode_dev(mpcg_region_inode(r)->i_sb->s_dev);
}

static inline u64 mpcg_chunk_size(const struct mpcg_region *r)
{
	return 1ULL << r->chunk_shift;
}

/* chunk->first of a chunk whose first toucher was freed. */
#define MPCG_NO_SLOT	U32_MAX

/* The member in @slot, or NULL (RCU-safe; see the rules above for using it). */
static inline struct mpcg_member *mpcg_member_at(struct mpcg_region *r,
						 unsigned int slot)
{
	return slot == MPCG_NO_SLOT ? NULL : xa_load(&r->members, slot);
}

/* Flags for mpcg_get_page(). */
#define MPCG_GP_CREATE	0x1	/* allocate the chunk if it is not resident */
#define MPCG_GP_LOCK	0x2	/* return the page locked */
#define MPCG_GP_FAULT	0x4	/* page fault: normal OOM semantics, EOF check */
#define MPCG_GP_FALLOC	0x8	/* fallocate(): a new chunk is marked unused */

/* region.c: region lifecycle, the region list, "region changed" */
extern struct list_head mpcg_regions;
struct mpcg_region *mpcg_region_create(struct inode *inode);
void mpcg_region_destroy(struct mpcg_region *r);
struct page *mpcg_region_get_page(struct mpcg_region *r, pgoff_t index,
				  unsigned int flags,
				  struct mpcg_member *toucher);
void mpcg_region_truncate(struct mpcg_region *r, loff_t newsize);
void mpcg_region_punch(struct mpcg_region *r, loff_t start, loff_t end);
int mpcg_region_allocate(struct mpcg_region *r, loff_t start, loff_t end,
			 struct mpcg_member *toucher);
struct mpcg_attachment *mpcg_region_attach(struct mpcg_region *r,
					   unsigned int kind,
					   struct mpcg_member *member);
void mpcg_region_detach(struct mpcg_attachment *a);
int mpcg_region_reassess(struct mpcg_region *r, u64 *moved);
int mpcg_set_policy(struct mpcg_region *r, unsigned int policy);
int mpcg_regions_init(void);
void mpcg_regions_exit(void);

/**
 * enum mpcg_outcome - what a reassessment leaves to be done
 * @MPCG_OUTCOME_NONE: it did not run (no memory for its plan): nothing
 *                     changed, nothing to schedule
 * @MPCG_OUTCOME_ASSESSED: the region is assessed
 * @MPCG_OUTCOME_RETRY: the region is pending (something changed meanwhile,
 *                      a chunk had no plan, no memory, interrupted): try
 *                      again after auto_reassess_ms
 * @MPCG_OUTCOME_BACKOFF: the region is pending because a payer's limit
 *                        refused a chunk: try again with backoff
 *
 * mpcg_reassess() returns it; region.c schedules what it says.
 */
enum mpcg_outcome {
	MPCG_OUTCOME_NONE,
	MPCG_OUTCOME_ASSESSED,
	MPCG_OUTCOME_RETRY,
	MPCG_OUTCOME_BACKOFF,
};

/* reassess.c: fair shares and charge movement */
int mpcg_reassess(struct mpcg_region *r, u64 *moved,
		  enum mpcg_outcome *outcome);
extern const char *const mpcg_policy_names[MPCG_NR_POLICIES];

/* chunk.c: the chunk store */
int mpcg_chunk_cache_init(void);
void mpcg_chunk_cache_exit(void);
void mpcg_chunks_init(struct mpcg_region *r, unsigned int chunk_shift);
void mpcg_chunks_destroy(struct mpcg_region *r);
struct page *mpcg_get_page(struct mpcg_region *r, pgoff_t index,
			   unsigned int flags, struct mpcg_member *toucher,
			   bool *changed);
bool mpcg_chunks_truncate(struct mpcg_region *r, loff_t newsize);
bool mpcg_chunks_punch(struct mpcg_region *r, loff_t start, loff_t end);
bool mpcg_chunks_allocate_end(struct mpcg_region *r, unsigned long first,
			      unsigned long last, bool failed);
int mpcg_chunks_reserve_check(struct mpcg_region *r, loff_t start,
			      loff_t end);
loff_t mpcg_chunks_seek(struct mpcg_region *r, loff_t offset, int whence,
			loff_t size);
void mpcg_map_chunk(struct mpcg_region *r, struct vm_area_struct *vma,
		    struct page *page);
int mpcg_chunk_move(struct mpcg_region *r, unsigned long ci,
		    struct mpcg_chunk *chunk, struct mpcg_member *to);
int mpcg_chunks_forget(struct mpcg_region *r, const unsigned long *slots,
		       unsigned int nbits);
bool mpcg_chunk_touched_by(struct mpcg_chunk *c, unsigned int slot);
unsigned int mpcg_chunk_nr_touchers(struct mpcg_chunk *c);

/* tset.c: touch sets */
bool mpcg_tset_has(const struct mpcg_tset *ts, unsigned int slot);
unsigned int mpcg_tset_weight(const struct mpcg_tset *ts);
const unsigned long *mpcg_tset_bits(const struct mpcg_tset *ts,
				    unsigned int *nbits);
void mpcg_tsets_init(struct mpcg_region *r);
void mpcg_tsets_destroy(struct mpcg_region *r);
int mpcg_tset_add(struct mpcg_region *r, struct mpcg_tset __rcu **tsp,
		  unsigned int slot);
int mpcg_tset_remove(struct mpcg_region *r, struct mpcg_tset __rcu **tsp,
		     const unsigned long *doomed, unsigned int nbits);
void mpcg_tset_clear(struct mpcg_region *r, struct mpcg_tset __rcu **tsp);
void mpcg_tset_hold(struct mpcg_region *r, struct mpcg_tset *ts);
void mpcg_tset_release(struct mpcg_region *r, struct mpcg_tset *ts);

/* member.c: members, attachments and the global index */
extern struct mutex mpcg_index_lock;
void mpcg_members_init(struct mpcg_region *r);
void mpcg_members_destroy(struct mpcg_region *r);
struct mpcg_attachment *mpcg_attach(struct mpcg_region *r, unsigned int kind,
				    struct mpcg_member *member, bool *joined);
bool mpcg_detach(struct mpcg_attachment *a);
unsigned long *mpcg_members_unused(struct mpcg_region *r,
				   unsigned int *nbits);
unsigned int mpcg_members_nbits(struct mpcg_region *r);
void mpcg_member_free_unused(struct mpcg_region *r, struct mpcg_member *m);
int mpcg_set_owner(struct mpcg_region *r, struct mem_cgroup *memcg);
void mpcg_paid_add(struct mpcg_member *m, long nr);
struct hlist_head *mpcg_index_bucket(u64 cgroup_id);

/* stats.c: module-wide object counters (debugfs mpcg/objects) */
enum mpcg_object {
	MPCG_OBJ_MOUNTS,
	MPCG_OBJ_REGIONS,
	MPCG_OBJ_MEMBERS,
	MPCG_OBJ_ATTACHMENTS,
	MPCG_OBJ_CHUNKS,
	MPCG_OBJ_PAGES,
	MPCG_NR_OBJECTS
};

extern atomic_long_t mpcg_objects[MPCG_NR_OBJECTS];

static inline void mpcg_objects_add(enum mpcg_object o, long nr)
{
	atomic_long_add(nr, &mpcg_objects[o]);
}

void mpcg_stats_init(void);
void mpcg_stats_exit(void);

/* ctl.c: the control interface */
long mpcg_region_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int mpcg_ctl_init(void);
void mpcg_ctl_exit(void);

/* inode.c: inodes and directories */
extern const struct inode_operations mpcg_dir_inode_operations;
struct inode *mpcg_get_inode(struct super_block *sb, const struct inode *dir,
			     umode_t mode, dev_t dev);
int mpcg_fileattr_get(struct dentry *dentry, struct fileattr *fa);
int mpcg_fileattr_set(struct mpcg_idmap *idmap, struct dentry *dentry,
		      struct fileattr *fa);
void mpcg_fillattr_flags(struct inode *inode, struct kstat *stat);

/* file.c: regular files */
extern const struct file_operations mpcg_file_operations;
extern const struct inode_operations mpcg_file_inode_operations;

/* super.c: the filesystem type */
int mpcg_fs_init(void);
void mpcg_fs_exit(void);

#endif /* _MPCG_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mpcg internal definitions shared by the module's files.
 *
 * Objects:
 *   struct mpcg_sb_info  - one per mount: options and the space counter.
 *   struct mpcg_region   - one per regular file (embedded in its inode): the
 *                          chunk store of the shared memory object.
 *   struct mpcg_chunk    - one per resident chunk, in region->chunks.
 *   struct mpcg_pages    - the pages backing one chunk (one or more
 *                          physically contiguous pieces).
 *
 * Locking order (outermost first); a lock may only be taken while holding
 * locks listed above it:
 *
 *   inode->i_rwsem          write(), truncate, fallocate
 *   mm->mmap_lock           page faults (taken by the core before ->fault)
 *   region->chunk_sem       read: allocating a chunk; write: removing chunks
 *   page lock               one page by faults and write(); every page of a
 *                           chunk by whoever removes or replaces that chunk
 *   mapping->i_mmap_rwsem   taken inside unmap_mapping_range()
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
#include <linux/mm.h>
#include <linux/rwsem.h>
#include <linux/xarray.h>

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
};

/**
 * struct mpcg_pages - the memory of one chunk
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

/**
 * struct mpcg_chunk - one resident chunk of a region
 * @pages: its memory; replaced (with all pages locked) when it moves
 * @rcu: freeing after a grace period, for lockless lookups
 */
struct mpcg_chunk {
	struct mpcg_pages __rcu *pages;
	struct rcu_head rcu;
};

/**
 * struct mpcg_region - the shared memory object behind one regular file
 * @chunks: chunk index -> struct mpcg_chunk, for resident chunks
 * @chunk_sem: read for allocating a chunk, write for removing chunks
 * @nr_chunks: number of resident chunks
 * @chunk_shift: log2 of the chunk size (copied from the mount)
 */
struct mpcg_region {
	struct xarray chunks;
	struct rw_semaphore chunk_sem;
	atomic_long_t nr_chunks;
	unsigned int chunk_shift;
};

struct mpcg_inode_info {
	struct mpcg_region region;
	struct inode vfs_inode;
};

static inline struct mpcg_inode_info *MPCG_I(struct inode *inode)
{
	return container_of(inode, struct mpcg_inode_info, vfs_inode);
}

static inline struct mpcg_region *mpcg_region(struct inode *inode)
{
	return &MPCG_I(inode)->region;
}

static inline struct inode *mpcg_region_inode(struct mpcg_region *r)
{
	return &container_of(r, struct mpcg_inode_info, region)->vfs_inode;
}

static inline struct mpcg_sb_info *MPCG_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

/* Flags for mpcg_get_page(). */
#define MPCG_GP_CREATE	0x1	/* allocate the chunk if it is not resident */
#define MPCG_GP_LOCK	0x2	/* return the page locked */
#define MPCG_GP_FAULT	0x4	/* page fault: normal OOM semantics, EOF check */

/* chunk.c: the chunk store */
void mpcg_region_init(struct mpcg_region *r, unsigned int chunk_shift);
void mpcg_region_destroy(struct mpcg_region *r);
struct page *mpcg_get_page(struct mpcg_region *r, pgoff_t index,
			   unsigned int flags);
void mpcg_region_truncate(struct mpcg_region *r, loff_t newsize);

/* inode.c: inodes and directories */
extern const struct inode_operations mpcg_dir_inode_operations;
struct inode *mpcg_get_inode(struct super_block *sb, const struct inode *dir,
			     umode_t mode, dev_t dev);

/* file.c: regular files */
extern const struct file_operations mpcg_file_operations;
extern const struct inode_operations mpcg_file_inode_operations;

/* super.c: the filesystem type */
int mpcg_fs_init(void);
void mpcg_fs_exit(void);

#endif /* _MPCG_H */

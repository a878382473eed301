/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mpcg kernel compatibility: every difference between the kernel series
 * mpcg builds for (6.1 LTS and 6.12 LTS) is here, and only here; the .c
 * files use the mpcg_* names below and never test a kernel version.
 *
 * Each entry names the upstream version that changed the interface.  Where
 * a stable kernel has an interface backported (Debian's 6.1.192 has the
 * ctime accessors of 6.6), the names here are mpcg's own, so that a
 * backport can never clash with them, and the older path is one that still
 * works on every kernel below the version that removed it.
 *
 * Owns no state and takes no lock.
 */
#ifndef _MPCG_COMPAT_H
#define _MPCG_COMPAT_H

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sched.h>
#include <linux/splice.h>
#include <linux/version.h>

/* The one version test; everything below says which version it is about. */
#define MPCG_SINCE(major, minor) \
	(KERNEL_VERSION(major, minor, 0) <= LINUX_VERSION_CODE)

/*
 * The idmap argument of inode operations: 6.3 replaced the mount's
 * struct user_namespace with struct mnt_idmap.  Declare parameters as
 * "struct mpcg_idmap *".
 */
#if MPCG_SINCE(6, 3)
#include <linux/mnt_idmapping.h>
#define mpcg_idmap		mnt_idmap
#define MPCG_NOP_IDMAP		(&nop_mnt_idmap)
#define mpcg_file_idmap(file)	file_mnt_idmap(file)
#else
#define mpcg_idmap		user_namespace
#define MPCG_NOP_IDMAP		(&init_user_ns)
#define mpcg_file_idmap(file)	file_mnt_user_ns(file)
#endif

/* 6.6: generic_fillattr() takes the request mask. */
static inline void mpcg_fillattr(struct mpcg_idmap *idmap, u32 request_mask,
				 struct inode *inode, struct kstat *stat)
{
#if MPCG_SINCE(6, 6)
	generic_fillattr(idmap, request_mask, inode, stat);
#else
	generic_fillattr(idmap, inode, stat);
#endif
}

/*
 * Inode timestamps: 6.6 made ctime private (inode_set_ctime_to_ts()), 6.7
 * atime and mtime (inode_set_[am]time_to_ts()).  Below those versions the
 * fields are written directly, which is right on every 6.1 whether or not
 * it has the ctime accessors backported.
 */
static inline void mpcg_inode_set_ctime(struct inode *inode,
					struct timespec64 ts)
{
#if MPCG_SINCE(6, 6)
	inode_set_ctime_to_ts(inode, ts);
#else
	inode->i_ctime = ts;
#endif
}

static inline void mpcg_inode_set_mtime(struct inode *inode,
					struct timespec64 ts)
{
#if MPCG_SINCE(6, 7)
	inode_set_mtime_to_ts(inode, ts);
#else
	inode->i_mtime = ts;
#endif
}

static inline void mpcg_inode_set_atime(struct inode *inode,
					struct timespec64 ts)
{
#if MPCG_SINCE(6, 7)
	inode_set_atime_to_ts(inode, ts);
#else
	inode->i_atime = ts;
#endif
}

/* 6.3: VMA flags are changed with vm_flags_set(), not written. */
static inline void mpcg_vm_flags_set(struct vm_area_struct *vma,
				     vm_flags_t flags)
{
#if MPCG_SINCE(6, 3)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * splice_read for a filesystem without a page cache: 6.5 removed
 * generic_file_splice_read() and added copy_splice_read(), which reads
 * through ->read_iter() into pages of its own.
 */
#if MPCG_SINCE(6, 5)
#define mpcg_splice_read	copy_splice_read
#else
#define mpcg_splice_read	generic_file_splice_read
#endif

/*
 * Mapping a whole chunk on one fault needs VM_MIXEDMAP (vm_insert_page()
 * from the fault handler).  From 6.7 mremap() grows a mapping in place
 * with vma_merge_extend(), which never merges a VM_MIXEDMAP (VM_SPECIAL)
 * VMA, so growing one fails with ENOMEM, even with MREMAP_MAYMOVE, where
 * tmpfs's grows.  There, a fault maps only its own page.
 */
#define MPCG_MAP_WHOLE_CHUNK	(!MPCG_SINCE(6, 7))

/*
 * Per-task RSS counters (SPLIT_RSS_COUNTING, until 6.2 made the mm's
 * counters per-CPU): pages mapped on a task's behalf are counted in the
 * task and reach the mm only every 64 faults, so one fault that maps a
 * whole chunk (512 pages of a 2 MiB chunk) left VmRSS and the OOM killer's
 * rss short.  Flush the current task's counts into its mm, as the kernel's
 * sync_mm_rss() (not exported) does.
 */
static inline void mpcg_sync_rss(struct mm_struct *mm)
{
#if !MPCG_SINCE(6, 2) && defined(SPLIT_RSS_COUNTING)
	int i;

	if (current->mm != mm)
		return;
	for (i = 0; i < NR_MM_COUNTERS; i++) {
		if (current->rss_stat.count[i]) {
			atomic_long_add(current->rss_stat.count[i],
					&mm->rss_stat.count[i]);
			current->rss_stat.count[i] = 0;
		}
	}
	current->rss_stat.events = 0;
#endif
}

/* 6.11: kvrealloc() lost its old-size argument. */
static inline void *mpcg_kvrealloc(void *p, size_t oldsize, size_t newsize,
				   gfp_t gfp)
{
#if MPCG_SINCE(6, 11)
	return kvrealloc(p, newsize, gfp);
#else
	return kvrealloc(p, oldsize, newsize, gfp);
#endif
}

/*
 * Write notification, ->page_mkwrite(): the core maps the pages of a
 * shared writable mapping read-only, and the first write to each comes to
 * the handler, which updates mtime and ctime, also for a page that a read
 * mapped.  6.5 made GUP refuse long-term writable pins (io_uring's fixed
 * buffers, RDMA memory registration, VFIO) of mappings that need it, as
 * disk file systems' do, where tmpfs's (which has no handler) are pinned.
 * From there mpcg has none either, and the times are those the core sets
 * when a write fault maps a page (as on tmpfs; a fault maps one page
 * there, see MPCG_MAP_WHOLE_CHUNK).
 */
#define MPCG_WRITE_NOTIFY	(!MPCG_SINCE(6, 5))

/*
 * O_DIRECT: tmpfs accepts it from 6.6 on (it sets FMODE_CAN_ODIRECT in
 * open() and does buffered I/O), and refuses it (EINVAL) before.  mpcg,
 * its drop-in, does what tmpfs does on the same kernel.
 */
#define MPCG_CAN_ODIRECT	MPCG_SINCE(6, 6)

#endif /* _MPCG_COMPAT_H */

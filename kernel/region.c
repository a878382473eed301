// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg regions: a region's lifecycle, the list of all regions, and what
 * happens when a region changes.
 *
 * Owns the allocation of struct mpcg_region (for regular files only: see
 * struct mpcg_inode_info), its setup and teardown, the global list of
 * regions (for /dev/mpcg and the scan below), the periodic scan for owners
 * whose memory cgroup was removed, and "region changed": a change that can
 * alter a fair share bumps the region's generation, leaves it pending and
 * queues the automatic (delayed) reassessment, which runs here; when a
 * reassessment does not end assessed, this file decides when it runs again
 * (soon, or with backoff after a shortfall).
 *
 * It is the layer between the filesystem (file.c, inode.c, super.c, ctl.c)
 * and the engine.  The chunk store (chunk.c) and member accounting
 * (member.c) tell the functions here whether an operation changed
 * something, and these mark the region changed; a reassessment (reassess.c)
 * returns its outcome, and the retry is scheduled here.  Nothing below this
 * file calls it.
 *
 * Locking: see kernel/mpcg.h.  A reassessment runs with
 * region->reassess_lock held, taken here, which also covers
 * region->backoff; the region list is under mpcg_index_lock.
 */
#include <linux/cgroup.h>
#include <linux/memcontrol.h>
#include <linux/moduleparam.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "mpcg.h"
#include "trace.h"

static unsigned int mpcg_auto_reassess_ms = 100;
module_param_named(auto_reassess_ms, mpcg_auto_reassess_ms, uint, 0644);
MODULE_PARM_DESC(auto_reassess_ms,
		 "Delay of the automatic reassessment after a change, in ms (0: off)");

#define MPCG_BACKOFF_MAX	6	/* retry after at most 64 s */

/* All regions; mpcg_index_lock. */
LIST_HEAD(mpcg_regions);

static struct kmem_cache *mpcg_region_cachep;

/*
 * Note a change that can alter a fair share: the region is pending and,
 * unless automatic reassessment is off, one is queued (a queued one is left
 * as it is, so the delay counts from the first change).  Any context: it
 * takes no lock and does not sleep.
 */
static void mpcg_region_changed(struct mpcg_region *r)
{
	unsigned int ms = READ_ONCE(mpcg_auto_reassess_ms);

	atomic_long_inc(&r->gen);
	WRITE_ONCE(r->state, MPCG_STATE_PENDING);
	if (ms)
		queue_delayed_work(system_unbound_wq, &r->work,
				   msecs_to_jiffies(ms));
}

/*
 * Schedule what a reassessment's outcome asks for: nothing once it is
 * assessed (and the backoff starts again from 1 s), a retry after
 * auto_reassess_ms, or, after a shortfall, one HZ << backoff later, the
 * exponent growing up to MPCG_BACKOFF_MAX.  With the automatic
 * reassessment off, no retry either.  Called with region->reassess_lock
 * held.
 */
static void mpcg_region_schedule(struct mpcg_region *r,
				 enum mpcg_outcome outcome)
{
	unsigned int ms = READ_ONCE(mpcg_auto_reassess_ms);

	lockdep_assert_held(&r->reassess_lock);
	switch (outcome) {
	case MPCG_OUTCOME_NONE:
		break;
	case MPCG_OUTCOME_ASSESSED:
		r->backoff = 0;
		break;
	case MPCG_OUTCOME_RETRY:
		if (ms)
			queue_delayed_work(system_unbound_wq, &r->work,
					   msecs_to_jiffies(ms));
		break;
	case MPCG_OUTCOME_BACKOFF:
		if (!ms)
			break;
		queue_delayed_work(system_unbound_wq, &r->work,
				   HZ << r->backoff);
		if (r->backoff < MPCG_BACKOFF_MAX)
			r->backoff++;
		break;
	}
}

/*
 * The owner's memory cgroup was removed: the kernel has moved its charges
 * to the parent, and so does the region's ownership (to the nearest
 * ancestor still alive), so that a removed cgroup is not kept as a zombie.
 * The reassessment that follows moves the old owner's chunks and frees it.
 * Called with region->reassess_lock held, before the reassessment.
 */
static void mpcg_rehome_owner(struct mpcg_region *r)
{
	struct mem_cgroup *memcg = r->owner->memcg;
	int err;

	lockdep_assert_held(&r->reassess_lock);
	if (!css_is_dying(&memcg->css))
		return;
	while (memcg && css_is_dying(&memcg->css))
		memcg = parent_mem_cgroup(memcg);
	if (!memcg)
		return;
	mutex_lock(&mpcg_index_lock);
	err = mpcg_set_owner(r, memcg);
	if (!err)
		mpcg_region_changed(r);
	mutex_unlock(&mpcg_index_lock);
}

/**
 * mpcg_region_reassess - reassess a region now, and schedule what is left
 * @r: the region
 * @moved: if not NULL, set to the number of chunks this call moved
 *
 * Gives a removed owner's ownership to its nearest live ancestor, runs
 * mpcg_reassess(), and schedules the retry its outcome asks for.  Used by
 * MPCG_IOC_REASSESS and by the automatic reassessment.
 *
 * Context: process context; takes region->reassess_lock (then what
 * mpcg_reassess() takes); sleeps, for as long as copying the chunks that
 * move takes.
 *
 * Return: 0, -ENOMEM, or -EINTR if a fatal signal cut it short.
 */
int mpcg_region_reassess(struct mpcg_region *r, u64 *moved)
{
	enum mpcg_outcome outcome;
	int err;

	mutex_lock(&r->reassess_lock);
	mpcg_rehome_owner(r);
	err = mpcg_reassess(r, moved, &outcome);
	mpcg_region_schedule(r, outcome);
	mutex_unlock(&r->reassess_lock);
	return err;
}

/* The automatic reassessment (region->work). */
static void mpcg_region_work(struct work_struct *work)
{
	struct mpcg_region *r = container_of(to_delayed_work(work),
					     struct mpcg_region, work);

	mpcg_region_reassess(r, NULL);
}

/**
 * mpcg_set_policy - change a region's charging policy
 * @r: the region
 * @policy: enum mpcg_policy
 *
 * The next reassessment (queued, unless automatic reassessment is off)
 * charges by the new policy.
 *
 * Context: process context; takes region->reassess_lock, so it waits for a
 * reassessment that is running; sleeps.
 *
 * Return: 0, or -EINVAL for an unknown policy.
 */
int mpcg_set_policy(struct mpcg_region *r, unsigned int policy)
{
	if (policy >= MPCG_NR_POLICIES)
		return -EINVAL;
	mutex_lock(&r->reassess_lock);
	WRITE_ONCE(r->policy, policy);
	mutex_unlock(&r->reassess_lock);
	mpcg_region_changed(r);
	return 0;
}

/**
 * mpcg_region_get_page - find (and optionally allocate) a page of a region
 * @r: the region
 * @index: page index in the file
 * @flags: MPCG_GP_* (see mpcg_get_page())
 * @toucher: the member on whose behalf the page is used, or NULL
 *
 * mpcg_get_page(), and the region is marked changed if that made a chunk
 * resident or was @toucher's first touch of it.
 *
 * Context: as mpcg_get_page(): process context, may sleep; takes
 * region->chunk_sem for read to allocate, and the page lock.
 *
 * Return: as mpcg_get_page().
 */
struct page *mpcg_region_get_page(struct mpcg_region *r, pgoff_t index,
				  unsigned int flags,
				  struct mpcg_member *toucher)
{
	bool changed = false;
	struct page *page;

	page = mpcg_get_page(r, index, flags, toucher, &changed);
	if (changed)
		mpcg_region_changed(r);
	return page;
}

/**
 * mpcg_region_truncate - free what lies beyond a new, smaller size
 * @r: the region
 * @newsize: the new size, already written to i_size
 *
 * mpcg_chunks_truncate(), and the region is marked changed if it freed a
 * chunk.
 *
 * Context: called with the inode lock held; takes region->chunk_sem for
 * write and page locks; sleeps.
 */
void mpcg_region_truncate(struct mpcg_region *r, loff_t newsize)
{
	lockdep_assert_held_write(&mpcg_region_inode(r)->i_rwsem);
	if (mpcg_chunks_truncate(r, newsize))
		mpcg_region_changed(r);
}

/**
 * mpcg_region_punch - free a byte range of a region (a hole punch)
 * @r: the region
 * @start: first byte
 * @end: one past the last byte
 *
 * mpcg_chunks_punch(), and the region is marked changed if it freed a
 * chunk.
 *
 * Context: called with the inode lock held; takes region->chunk_sem for
 * write and page locks; sleeps.
 */
void mpcg_region_punch(struct mpcg_region *r, loff_t start, loff_t end)
{
	lockdep_assert_held_write(&mpcg_region_inode(r)->i_rwsem);
	if (mpcg_chunks_punch(r, start, end))
		mpcg_region_changed(r);
}

/**
 * mpcg_region_allocate - make the chunks of a byte range resident
 * @r: the region
 * @start: first byte
 * @end: one past the last byte
 * @toucher: the member that pays for new chunks and touches them all
 *
 * For fallocate().  All or nothing: on an error, the chunks this call made
 * resident are freed again, except those that were faulted in or written
 * meanwhile.  Chunk by chunk, so that each new chunk marks the region
 * changed as it comes (as faults do), not only once the call ends.
 *
 * Context: called with the inode lock held; takes region->chunk_sem and
 * page locks; sleeps.
 *
 * Return: 0, or -ENOSPC / -ENOMEM / -EINTR.
 */
int mpcg_region_allocate(struct mpcg_region *r, loff_t start, loff_t end,
			 struct mpcg_member *toucher)
{
	unsigned int order = r->chunk_shift - PAGE_SHIFT;
	unsigned long first, ci, last;
	int err = 0;

	lockdep_assert_held_write(&mpcg_region_inode(r)->i_rwsem);
	if (start >= end)
		return 0;
	first = start >> r->chunk_shift;
	last = (end - 1) >> r->chunk_shift;
	for (ci = first; ci <= last; ci++) {
		struct page *page;

		page = mpcg_region_get_page(r, ci << order,
					    MPCG_GP_CREATE | MPCG_GP_FALLOC,
					    toucher);
		if (IS_ERR(page)) {
			err = PTR_ERR(page);
			break;
		}
		put_page(page);
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		cond_resched();
	}
	if (mpcg_chunks_allocate_end(r, first, min(ci, last), err))
		mpcg_region_changed(r);
	return err;
}

/**
 * mpcg_region_attach - record a new attachment of a region
 * @r: the region
 * @kind: MPCG_ATTACH_FILE or MPCG_ATTACH_MAP
 * @member: the member it belongs to (fork and VMA splits pass the member
 *          of the original), or NULL for the current task's memory cgroup
 *
 * mpcg_attach(), and the region is marked changed if the member joined.
 *
 * Context: as mpcg_attach(): process context, may sleep; with @member
 * NULL takes mpcg_index_lock; takes region->lock.
 *
 * Return: as mpcg_attach().
 */
struct mpcg_attachment *mpcg_region_attach(struct mpcg_region *r,
					   unsigned int kind,
					   struct mpcg_member *member)
{
	struct mpcg_attachment *a;
	bool joined;

	a = mpcg_attach(r, kind, member, &joined);
	if (joined)
		mpcg_region_changed(r);
	return a;
}

/**
 * mpcg_region_detach - drop an attachment
 * @a: the attachment, from mpcg_region_attach()
 *
 * mpcg_detach(), and the region is marked changed if that was the
 * member's last attachment.
 *
 * Context: takes region->lock; does not sleep.
 */
void mpcg_region_detach(struct mpcg_attachment *a)
{
	/* The file or mapping being closed keeps the region alive. */
	struct mpcg_region *r = a->member->region;

	if (mpcg_detach(a))
		mpcg_region_changed(r);
}

/*
 * No notifier tells a module that a cgroup was removed.  Every
 * MPCG_SCAN_PERIOD, regions whose owner's memory cgroup is dying are
 * marked changed, so that their next reassessment moves the ownership to a
 * live ancestor and drops the reference (see mpcg_rehome_owner()).
 */
#define MPCG_SCAN_PERIOD	(10 * HZ)

static void mpcg_scan_dying(struct work_struct *work);
static DECLARE_DELAYED_WORK(mpcg_scan_work, mpcg_scan_dying);

static void mpcg_scan_dying(struct work_struct *work)
{
	struct mpcg_region *r;

	mutex_lock(&mpcg_index_lock);
	list_for_each_entry(r, &mpcg_regions, node)
		if (css_is_dying(&r->owner->memcg->css))
			mpcg_region_changed(r);
	mutex_unlock(&mpcg_index_lock);
	queue_delayed_work(system_unbound_wq, &mpcg_scan_work,
			   MPCG_SCAN_PERIOD);
}

static void mpcg_region_free(struct mpcg_region *r)
{
	kmem_cache_free(mpcg_region_cachep, r);
	mpcg_objects_add(MPCG_OBJ_REGIONS, -1);
}

/**
 * mpcg_region_create - the region of a new regular file
 * @inode: the new file's inode (i_sb, i_ino and i_mapping set up)
 *
 * Allocates and sets up a region, owned by the current task's memory
 * cgroup, with the mount's chunk size and policy, and adds it to the list
 * of regions.  The caller stores it in the inode's mpcg_inode_info, and
 * mpcg_region_destroy() frees it when the inode is evicted.
 *
 * Context: process context; takes mpcg_index_lock; sleeps.
 *
 * Return: the region, or ERR_PTR(-ENOMEM).
 */
struct mpcg_region *mpcg_region_create(struct inode *inode)
{
	struct mpcg_sb_info *sbi = MPCG_SB(inode->i_sb);
	struct mem_cgroup *memcg;
	struct mpcg_region *r;
	int err;

	r = kmem_cache_zalloc(mpcg_region_cachep, GFP_KERNEL);
	if (!r)
		return ERR_PTR(-ENOMEM);
	mpcg_objects_add(MPCG_OBJ_REGIONS, 1);
	r->inode = inode;
	mpcg_chunks_init(r, sbi->chunk_shift);
	mpcg_members_init(r);
	mutex_init(&r->reassess_lock);
	INIT_DELAYED_WORK(&r->work, mpcg_region_work);
	atomic_long_set(&r->gen, 0);
	r->policy = READ_ONCE(sbi->policy);
	r->state = MPCG_STATE_ASSESSED;

	memcg = get_mem_cgroup_from_mm(current->mm);
	mutex_lock(&mpcg_index_lock);
	err = mpcg_set_owner(r, memcg);
	if (!err)
		list_add_tail(&r->node, &mpcg_regions);
	mutex_unlock(&mpcg_index_lock);
	mem_cgroup_put(memcg);
	if (err) {
		/* No member was made: nothing else to undo. */
		mpcg_region_free(r);
		return ERR_PTR(err);
	}
	trace_mpcg_region_create(mpcg_region_dev(r), inode->i_ino,
				 r->owner->cgroup_id, mpcg_chunk_size(r),
				 r->policy);
	return r;
}

/**
 * mpcg_region_destroy - tear down and free the region of an evicted inode
 * @r: the region: no attachment is left and nobody else can reach it
 *
 * Context: process context (inode eviction); takes mpcg_index_lock and
 * waits for a running automatic reassessment, so it is called with neither
 * that lock nor region->reassess_lock held; sleeps.
 */
void mpcg_region_destroy(struct mpcg_region *r)
{
	/*
	 * Off the global list before the work is cancelled: mpcg_scan_dying()
	 * finds regions there and queues their work, which would otherwise
	 * run on a freed region.  Once off the list nothing can queue it: the
	 * region has no attachment and no open file left.  The work itself
	 * takes mpcg_index_lock, so it is cancelled without holding it.
	 */
	mutex_lock(&mpcg_index_lock);
	list_del(&r->node);
	mutex_unlock(&mpcg_index_lock);
	cancel_delayed_work_sync(&r->work);
	trace_mpcg_region_destroy(mpcg_region_dev(r),
				  mpcg_region_inode(r)->i_ino,
				  r->owner->cgroup_id, mpcg_chunk_size(r),
				  r->policy);
	mpcg_chunks_destroy(r);
	WARN_ON_ONCE(delayed_work_pending(&r->work));
	mpcg_members_destroy(r);
	mpcg_region_free(r);
}

/**
 * mpcg_regions_init - create the region cache and start the periodic scan
 *                     for removed owners
 *
 * Context: module init.
 *
 * Return: 0 or -ENOMEM.
 */
int mpcg_regions_init(void)
{
	/* Charged to the file creator's memory cgroup, as its inode is. */
	mpcg_region_cachep = KMEM_CACHE(mpcg_region, SLAB_ACCOUNT);
	if (!mpcg_region_cachep)
		return -ENOMEM;
	queue_delayed_work(system_unbound_wq, &mpcg_scan_work,
			   MPCG_SCAN_PERIOD);
	return 0;
}

/**
 * mpcg_regions_exit - stop the scan and free the region cache
 *
 * Context: module exit, once the filesystem is unregistered and every
 * region is freed.
 */
void mpcg_regions_exit(void)
{
	cancel_delayed_work_sync(&mpcg_scan_work);
	kmem_cache_destroy(mpcg_region_cachep);
}

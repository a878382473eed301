// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg member accounting: who uses a region.
 *
 * Owns struct mpcg_member and struct mpcg_attachment, a region's member
 * slots, its owner, and the global index that /dev/mpcg queries: a hash of
 * members by cgroup id, so that the usage of one cgroup costs the number of
 * regions it is in, not their size, and mpcg_index_lock, which also covers
 * the list of all regions (region.c).
 *
 * An attachment (open file that did I/O, or mapping) belongs to the member
 * for the memory cgroup of the task that made it; fork and VMA splits copy
 * the member of the original.  A member holds a css reference on its
 * memory cgroup; it loses its last attachment when the last file or
 * mapping goes, and is freed by reassessment (reassess.c) once it pays for
 * nothing, so a removed cgroup is not pinned longer than its charges are.
 * A member joining or leaving is a change to the region: mpcg_attach() and
 * mpcg_detach() say so, and their caller (region.c) marks it.  This file
 * calls no other part of the module.
 *
 * A region has as many member slots as it needs (region->members is an
 * allocating xarray, which hands out the lowest free slot), so any number
 * of memory cgroups can use it; a member costs its struct and a bit in the
 * touch sets of the chunks it touched (tset.c).
 *
 * Locking: mpcg_index_lock (a mutex) protects the global list and hash and
 * is held to create or free a member; region->lock (a spinlock) protects
 * the count of active members, the attachment list and nr_attach, and is
 * held too to free a member.
 * See kernel/mpcg.h for the order.
 */
#include <linux/bitmap.h>
#include <linux/cgroup.h>
#include <linux/hash.h>
#include <linux/memcontrol.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "mpcg.h"
#include "trace.h"

/* The member index and the list of regions; held to create or free members. */
DEFINE_MUTEX(mpcg_index_lock);

#define MPCG_INDEX_BITS 8
static struct hlist_head mpcg_index[1 << MPCG_INDEX_BITS];

/**
 * mpcg_index_bucket - the index bucket of members of a cgroup
 * @cgroup_id: the cgroup's id
 *
 * Context: called with mpcg_index_lock held, which keeps the chain as it is
 * while the caller walks it; does not sleep.
 *
 * Return: the hash chain of @cgroup_id's members.
 */
struct hlist_head *mpcg_index_bucket(u64 cgroup_id)
{
	lockdep_assert_held(&mpcg_index_lock);
	return &mpcg_index[hash_64(cgroup_id, MPCG_INDEX_BITS)];
}

/**
 * mpcg_paid_add - account chunks charged to a member
 * @m: the member
 * @nr: chunks added (negative: removed)
 *
 * Context: any; takes no lock (an atomic counter; the peak is a statistic,
 * updated without a lock).
 */
void mpcg_paid_add(struct mpcg_member *m, long nr)
{
	long paid = atomic_long_add_return(nr, &m->nr_paid);

	if (paid > READ_ONCE(m->peak_paid))
		WRITE_ONCE(m->peak_paid, paid);
}

/* The memory cgroup of the current task, with a reference. */
static struct mem_cgroup *mpcg_current_memcg(void)
{
	return get_mem_cgroup_from_mm(current->mm);
}

/*
 * Find the member for @memcg: the index chain of its cgroup id, which has
 * one entry per region the cgroup is in, costs less than the region's
 * members.  Called with mpcg_index_lock held.
 */
static struct mpcg_member *mpcg_member_find(struct mpcg_region *r,
					    struct mem_cgroup *memcg)
{
	u64 id = cgroup_id(memcg->css.cgroup);
	struct mpcg_member *m;

	hlist_for_each_entry(m, mpcg_index_bucket(id), index_node)
		if (m->region == r && m->memcg == memcg)
			return m;
	return NULL;
}

/*
 * Find or create the member for @memcg (whose reference the caller keeps).
 * Called with mpcg_index_lock held.
 */
static struct mpcg_member *mpcg_member_get(struct mpcg_region *r,
					   struct mem_cgroup *memcg)
{
	struct mpcg_member *m;
	u32 slot;
	int err;

	lockdep_assert_held(&mpcg_index_lock);
	m = mpcg_member_find(r, memcg);
	if (m)
		return m;

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->region = r;
	css_get(&memcg->css);
	m->memcg = memcg;
	m->cgroup_id = cgroup_id(memcg->css.cgroup);
	atomic_long_set(&m->nr_touched, 0);
	atomic_long_set(&m->nr_paid, 0);
	/* Stored with its fields set: lockless readers may find it now. */
	err = xa_alloc(&r->members, &slot, m, xa_limit_31b, GFP_KERNEL);
	if (err) {
		css_put(&memcg->css);
		kfree(m);
		return ERR_PTR(err == -EBUSY ? -ENOSPC : err);
	}
	m->slot = slot;
	hlist_add_head(&m->index_node, mpcg_index_bucket(m->cgroup_id));
	mpcg_objects_add(MPCG_OBJ_MEMBERS, 1);
	return m;
}

/**
 * mpcg_member_free_unused - free a member that has no use left
 * @r: the region
 * @m: the member: no attachment, pays for nothing, not the owner, no chunk
 *     has its touch bit
 *
 * Context: called with mpcg_index_lock held (nobody can find or revive @m)
 * and region->chunk_sem (so no chunk can name it any more); takes
 * region->lock; does not sleep.
 */
void mpcg_member_free_unused(struct mpcg_region *r, struct mpcg_member *m)
{
	lockdep_assert_held(&mpcg_index_lock);
	lockdep_assert_held(&r->chunk_sem);
	spin_lock(&r->lock);
	xa_erase(&r->members, m->slot);
	spin_unlock(&r->lock);
	hlist_del(&m->index_node);
	css_put(&m->memcg->css);
	kfree(m);
	mpcg_objects_add(MPCG_OBJ_MEMBERS, -1);
}

/**
 * mpcg_set_owner - make a memory cgroup the region's owner
 * @r: the region
 * @memcg: the new owner's memory cgroup (the caller keeps its reference)
 *
 * The owner pays for chunks no member should pay for.  The old owner, if
 * any, stays a member while it has attachments or pays; reassessment frees
 * it otherwise.  A new owner is a change to the region, which the caller
 * marks.
 *
 * Context: called with mpcg_index_lock held; takes region->lock; may sleep
 * (allocates the member).
 *
 * Return: 0 or -ENOMEM.
 */
int mpcg_set_owner(struct mpcg_region *r, struct mem_cgroup *memcg)
{
	struct mpcg_member *m;

	lockdep_assert_held(&mpcg_index_lock);
	m = mpcg_member_get(r, memcg);
	if (IS_ERR(m))
		return PTR_ERR(m);
	spin_lock(&r->lock);
	if (r->owner)
		r->owner->flags &= ~MPCG_MEMBER_OWNER;
	m->flags |= MPCG_MEMBER_OWNER;
	r->owner = m;
	spin_unlock(&r->lock);
	return 0;
}

/**
 * mpcg_members_init - set up the member slots of a new region
 * @r: the region, zeroed
 *
 * Context: takes no lock; nobody else can reach @r yet.
 */
void mpcg_members_init(struct mpcg_region *r)
{
	spin_lock_init(&r->lock);
	xa_init_flags(&r->members, XA_FLAGS_ALLOC);
	INIT_LIST_HEAD(&r->attachments);
}

/**
 * mpcg_members_destroy - free every member of a region being torn down
 * @r: the region: no attachment is left, its chunks are freed, and nobody
 *     else can reach it
 *
 * Context: takes mpcg_index_lock (to take the members out of the index)
 * and region->lock; sleeps.
 */
void mpcg_members_destroy(struct mpcg_region *r)
{
	struct mpcg_member *m;
	unsigned long i;

	mutex_lock(&mpcg_index_lock);
	xa_for_each(&r->members, i, m) {
		WARN_ON_ONCE(m->nr_attach || atomic_long_read(&m->nr_paid) ||
			     atomic_long_read(&m->nr_touched));
		spin_lock(&r->lock);
		xa_erase(&r->members, i);
		spin_unlock(&r->lock);
		hlist_del(&m->index_node);
		css_put(&m->memcg->css);
		kfree(m);
		mpcg_objects_add(MPCG_OBJ_MEMBERS, -1);
	}
	r->owner = NULL;
	mutex_unlock(&mpcg_index_lock);
	xa_destroy(&r->members);
}

/**
 * mpcg_members_nbits - how many slots a bitmap of a region's members needs
 * @r: the region
 *
 * Context: called with mpcg_index_lock or region->lock held, so that no
 * member is created (or, with region->lock, freed) meanwhile; does not
 * sleep.
 *
 * Return: one past the highest slot in use (0 if none).
 */
unsigned int mpcg_members_nbits(struct mpcg_region *r)
{
	struct mpcg_member *m;
	unsigned long i, n = 0;

	xa_for_each(&r->members, i, m)
		n = i + 1;
	return n;
}

/**
 * mpcg_members_unused - the members a reassessment may free
 * @r: the region
 * @nbits: set to the length of the bitmap returned
 *
 * Context: called with mpcg_index_lock held, which keeps a member without
 * attachments from being found (and so revived) by mpcg_attach(); takes
 * region->lock; may sleep (allocates).
 *
 * Return: a bitmap (bitmap_free() it) of the slots of members that have no
 * attachment, are not the owner and pay for no chunk, or NULL if there is
 * none (or no memory for the bitmap: then none is freed this time).
 */
unsigned long *mpcg_members_unused(struct mpcg_region *r, unsigned int *nbits)
{
	unsigned long *unused, i;
	struct mpcg_member *mb;
	bool any = false;

	lockdep_assert_held(&mpcg_index_lock);
	*nbits = mpcg_members_nbits(r);
	if (!*nbits)
		return NULL;
	unused = bitmap_zalloc(*nbits, GFP_KERNEL | __GFP_NOWARN);
	if (!unused)
		return NULL;
	spin_lock(&r->lock);
	xa_for_each(&r->members, i, mb) {
		if (!mb->nr_attach && !(mb->flags & MPCG_MEMBER_OWNER) &&
		    !atomic_long_read(&mb->nr_paid)) {
			__set_bit(i, unused);
			any = true;
		}
	}
	spin_unlock(&r->lock);
	if (!any) {
		bitmap_free(unused);
		return NULL;
	}
	return unused;
}

/**
 * mpcg_attach - record a new attachment of a region
 * @r: the region
 * @kind: MPCG_ATTACH_FILE or MPCG_ATTACH_MAP
 * @member: the member it belongs to (fork and VMA splits pass the member
 *          of the original), or NULL for the current task's memory cgroup
 * @joined: set to whether the member joined (it had no attachment): a
 *          change to the region, which the caller marks
 *
 * Context: process context, may sleep.  With @member NULL, takes
 * mpcg_index_lock; then region->lock.  With @member given, the allocation
 * cannot fail (vm_operations_struct.open cannot).
 *
 * Return: the attachment, or an ERR_PTR(-ENOMEM).
 */
struct mpcg_attachment *mpcg_attach(struct mpcg_region *r, unsigned int kind,
				    struct mpcg_member *member, bool *joined)
{
	struct mpcg_attachment *a;
	unsigned int members;

	*joined = false;
	/* vm_operations_struct.open cannot fail: it passes @member. */
	a = kzalloc(sizeof(*a), member ? GFP_KERNEL | __GFP_NOFAIL : GFP_KERNEL);
	if (!a)
		return ERR_PTR(-ENOMEM);
	a->kind = kind;
	/* A mapping's task is found from its mm when asked (see ctl.c). */
	if (kind == MPCG_ATTACH_FILE) {
		a->pid = get_task_pid(current, PIDTYPE_TGID);
		get_task_comm(a->comm, current);
	}

	if (!member) {
		struct mem_cgroup *memcg = mpcg_current_memcg();

		mutex_lock(&mpcg_index_lock);
		member = mpcg_member_get(r, memcg);
		/* Taken under the index lock: reassessment cannot free it. */
		if (!IS_ERR(member)) {
			spin_lock(&r->lock);
			*joined = !member->nr_attach++;
			if (*joined)
				r->nr_active++;
			spin_unlock(&r->lock);
		}
		mutex_unlock(&mpcg_index_lock);
		mem_cgroup_put(memcg);
		if (IS_ERR(member)) {
			put_pid(a->pid);
			kfree(a);
			return ERR_CAST(member);
		}
		spin_lock(&r->lock);
	} else {
		spin_lock(&r->lock);
		*joined = !member->nr_attach++;
		if (*joined)
			r->nr_active++;
	}
	a->member = member;
	list_add_tail(&a->node, &r->attachments);
	r->nr_attachments++;
	mpcg_objects_add(MPCG_OBJ_ATTACHMENTS, 1);
	members = r->nr_active;
	spin_unlock(&r->lock);
	/* @a holds the member: it cannot be freed. */
	if (*joined)
		trace_mpcg_member_join(mpcg_region_dev(r),
				       mpcg_region_inode(r)->i_ino,
				       member->cgroup_id, member->slot, members);
	return a;
}

/**
 * mpcg_detach - drop an attachment
 * @a: the attachment, from mpcg_attach()
 *
 * When it was its member's last, the member leaves: its touches stop
 * counting, and it should pay nothing.
 *
 * Context: takes region->lock; does not sleep.
 *
 * Return: true if the member left (a change to the region, which the
 * caller marks).
 */
bool mpcg_detach(struct mpcg_attachment *a)
{
	struct mpcg_member *m = a->member;
	struct mpcg_region *r = m->region;
	unsigned int members, slot;
	u64 cgroup_id;
	bool left;

	spin_lock(&r->lock);
	list_del(&a->node);
	r->nr_attachments--;
	mpcg_objects_add(MPCG_OBJ_ATTACHMENTS, -1);
	left = --m->nr_attach == 0;
	if (left)
		r->nr_active--;
	members = r->nr_active;
	/* Once it has left, a reassessment may free @m: read it now. */
	cgroup_id = m->cgroup_id;
	slot = m->slot;
	spin_unlock(&r->lock);
	put_pid(a->pid);
	kfree(a);
	if (left)
		trace_mpcg_member_leave(mpcg_region_dev(r),
					mpcg_region_inode(r)->i_ino,
					cgroup_id, slot, members);
	return left;
}

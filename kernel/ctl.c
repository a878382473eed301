// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg control interface: ioctls on region files and on /dev/mpcg.
 *
 * Owns the ABI of uapi/linux/mpcg.h: copying versioned structs and tables
 * in and out, permission checks, and the misc device.  Every answer is
 * built in a zeroed kernel buffer under the locks that keep the region's
 * members and attachments alive, and copied to user space after they are
 * dropped, so that a fault on the user buffer never runs under a region
 * lock.  Region queries cost O(members) or O(attachments); cgroup usage
 * costs the number of regions the cgroup is in (the index in member.c);
 * only MPCG_IOC_CHUNKS, a debugging view, walks the chunks.
 *
 * Locking: takes region->lock, region->chunk_sem (read) or mpcg_index_lock
 * for the snapshots; see kernel/mpcg.h.
 */
#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "mpcg.h"

#define MPCG_STRUCT_MAX		PAGE_SIZE

/*
 * The layout of each struct is part of the ABI: the latest version of each
 * is what the kernel fills, and the VER0 sizes are literal numbers in the
 * uapi header.  Check both here, so that a field added in the wrong place
 * or a size forgotten in the header fails the build.
 */
static_assert(sizeof(struct mpcg_region_stat) == MPCG_REGION_STAT_SIZE_VER2);
static_assert(offsetof(struct mpcg_region_stat, nr_member_entries) ==
	      MPCG_REGION_STAT_SIZE_VER0);
static_assert(offsetof(struct mpcg_region_stat, pinned_bytes) ==
	      MPCG_REGION_STAT_SIZE_VER1);
static_assert(sizeof(struct mpcg_member_info) == MPCG_MEMBER_INFO_SIZE_VER1);
static_assert(offsetof(struct mpcg_member_info, pinned_bytes) ==
	      MPCG_MEMBER_INFO_SIZE_VER0);
static_assert(sizeof(struct mpcg_attachment_info) ==
	      MPCG_ATTACHMENT_INFO_SIZE_VER0);
static_assert(sizeof(struct mpcg_chunk_info) == MPCG_CHUNK_INFO_SIZE_VER0);
static_assert(sizeof(struct mpcg_table) == MPCG_TABLE_SIZE_VER0);
static_assert(sizeof(struct mpcg_chunk_query) == MPCG_CHUNK_QUERY_SIZE_VER0);
static_assert(sizeof(struct mpcg_set_policy) == MPCG_SET_POLICY_SIZE_VER0);
static_assert(sizeof(struct mpcg_reassess) == MPCG_REASSESS_SIZE_VER0);
static_assert(sizeof(struct mpcg_cgroup_usage) == MPCG_CGROUP_USAGE_SIZE_VER0);
static_assert(sizeof(struct mpcg_features) == MPCG_FEATURES_SIZE_VER0);
static_assert(MPCG_NR_STRUCTS <=
	      ARRAY_SIZE(((struct mpcg_features *)0)->sizes));
static_assert(MPCG_NR_POLICIES <= 64);

/* The size of the latest version of each struct, by enum mpcg_struct. */
static const u32 mpcg_struct_sizes[MPCG_NR_STRUCTS] = {
	[MPCG_STRUCT_FEATURES]		= sizeof(struct mpcg_features),
	[MPCG_STRUCT_REGION_STAT]	= sizeof(struct mpcg_region_stat),
	[MPCG_STRUCT_MEMBER_INFO]	= sizeof(struct mpcg_member_info),
	[MPCG_STRUCT_ATTACHMENT_INFO]	= sizeof(struct mpcg_attachment_info),
	[MPCG_STRUCT_CHUNK_INFO]	= sizeof(struct mpcg_chunk_info),
	[MPCG_STRUCT_TABLE]		= sizeof(struct mpcg_table),
	[MPCG_STRUCT_CHUNK_QUERY]	= sizeof(struct mpcg_chunk_query),
	[MPCG_STRUCT_SET_POLICY]	= sizeof(struct mpcg_set_policy),
	[MPCG_STRUCT_REASSESS]		= sizeof(struct mpcg_reassess),
	[MPCG_STRUCT_CGROUP_USAGE]	= sizeof(struct mpcg_cgroup_usage),
};

/*
 * Read a struct that starts with its own size into @dst (@ksize bytes,
 * zeroed first): below @size0 is EINVAL, above MPCG_STRUCT_MAX E2BIG, and
 * bytes past @ksize must be zero (E2BIG), unless the struct is
 * @output_only (only its size and flags are input): then they are only
 * written.  *@usize is the caller's size.
 */
static int mpcg_get_struct(void *dst, size_t ksize, size_t size0,
			   void __user *src, u32 *usize, bool output_only)
{
	if (get_user(*usize, (u32 __user *)src))
		return -EFAULT;
	if (*usize < size0)
		return -EINVAL;
	if (*usize > MPCG_STRUCT_MAX)
		return -E2BIG;
	if (!output_only)
		return copy_struct_from_user(dst, ksize, src, *usize);
	memset(dst, 0, ksize);
	if (copy_from_user(dst, src, min_t(size_t, *usize, ksize)))
		return -EFAULT;
	return 0;
}

/*
 * Write a struct (or a table entry) back: the first min(@usize, @ksize)
 * bytes of @src, then zeroes up to @usize.
 */
static int mpcg_put_struct(void __user *dst, u32 usize, const void *src,
			   size_t ksize)
{
	if (copy_to_user(dst, src, min_t(size_t, usize, ksize)))
		return -EFAULT;
	if (usize > ksize && clear_user(dst + ksize, usize - ksize))
		return -EFAULT;
	return 0;
}

/* Write back a struct that starts with its size: that size is what we fill. */
static int mpcg_put_sized(void __user *dst, u32 usize, void *src, size_t ksize)
{
	*(u32 *)src = min_t(size_t, usize, ksize);
	return mpcg_put_struct(dst, usize, src, ksize);
}

/* A table request, validated: where to write and what the caller knows. */
struct mpcg_table_req {
	struct mpcg_table hdr;		/* as the caller passed it */
	struct mpcg_table __user *uhdr;	/* where it is */
	size_t ksize;			/* size of our entry */
};

/*
 * Check the table header at the start of a request already read; @size0 is
 * the VER0 size of the entries.
 */
static int mpcg_table_req(struct mpcg_table_req *t, const struct mpcg_table *hdr,
			  void __user *arg, size_t ksize, size_t size0)
{
	if (hdr->flags || hdr->entry_size < size0 ||
	    hdr->entry_size > MPCG_STRUCT_MAX)
		return -EINVAL;
	t->hdr = *hdr;
	t->uhdr = arg;
	t->ksize = ksize;
	return 0;
}

/* Read a request that is a bare table header (MEMBERS, ATTACHMENTS, ...). */
static int mpcg_get_table(struct mpcg_table_req *t, void __user *arg,
			  size_t ksize, size_t size0)
{
	struct mpcg_table hdr;
	u32 usize;
	int err;

	err = mpcg_get_struct(&hdr, sizeof(hdr), MPCG_TABLE_SIZE_VER0, arg,
			      &usize, false);
	return err ? err : mpcg_table_req(t, &hdr, arg, ksize, size0);
}

/*
 * Copy @n entries of t->ksize bytes from @buf to the caller's table, or
 * only the count and ERANGE if they do not fit.
 */
static int mpcg_put_table(struct mpcg_table_req *t, const void *buf, u32 n)
{
	void __user *dst = u64_to_user_ptr(t->hdr.entries);
	u32 i;

	if (put_user(n, &t->uhdr->count))
		return -EFAULT;
	if (n > t->hdr.count)
		return -ERANGE;
	for (i = 0; i < n; i++) {
		void __user *e = dst + (size_t)i * t->hdr.entry_size;

		if (mpcg_put_struct(e, t->hdr.entry_size,
				    buf + (size_t)i * t->ksize, t->ksize))
			return -EFAULT;
	}
	return 0;
}

static long mpcg_ioc_features(bool ctl, void __user *arg)
{
	struct mpcg_features f;
	u32 usize;
	int err;

	err = mpcg_get_struct(&f, sizeof(f), MPCG_FEATURES_SIZE_VER0, arg,
			      &usize, true);
	if (err)
		return err;
	if (f.flags)
		return -EINVAL;
	memset(&f, 0, sizeof(f));
	f.api = MPCG_API_VERSION;
	f.nr_structs = MPCG_NR_STRUCTS;
	f.ioctls = BIT_ULL(_IOC_NR(MPCG_IOC_FEATURES));
	if (ctl)
		f.ioctls |= BIT_ULL(_IOC_NR(MPCG_IOC_LIST_REGIONS)) |
			    BIT_ULL(_IOC_NR(MPCG_IOC_CGROUP_USAGE));
	else
		f.ioctls |= BIT_ULL(_IOC_NR(MPCG_IOC_REGION_STAT)) |
			    BIT_ULL(_IOC_NR(MPCG_IOC_MEMBERS)) |
			    BIT_ULL(_IOC_NR(MPCG_IOC_ATTACHMENTS)) |
			    BIT_ULL(_IOC_NR(MPCG_IOC_SET_POLICY)) |
			    BIT_ULL(_IOC_NR(MPCG_IOC_REASSESS)) |
			    BIT_ULL(_IOC_NR(MPCG_IOC_CHUNKS));
	if (MPCG_CAN_ODIRECT)
		f.features |= MPCG_FEATURE_ODIRECT;
	f.policies = BIT_ULL(MPCG_NR_POLICIES) - 1;
	f.member_flags = MPCG_MEMBER_OWNER | MPCG_MEMBER_DEPARTED |
			 MPCG_MEMBER_HIGH;
	f.attach_kinds = BIT(MPCG_ATTACH_FILE) | BIT(MPCG_ATTACH_MAP);
	memcpy(f.sizes, mpcg_struct_sizes, sizeof(mpcg_struct_sizes));
	return mpcg_put_sized(arg, usize, &f, sizeof(f));
}

static void mpcg_fill_stat(struct mpcg_region *r, struct mpcg_region_stat *st)
{
	struct inode *inode = mpcg_region_inode(r);
	u64 chunk = mpcg_chunk_size(r);
	struct mpcg_member *m;
	unsigned long i;

	st->dev = mpcg_region_dev(r);
	st->ino = inode->i_ino;
	st->file_size = i_size_read(inode);
	st->chunk_size = chunk;
	st->resident_bytes = atomic_long_read(&r->nr_chunks) * chunk;
	st->policy = READ_ONCE(r->policy);
	st->state = READ_ONCE(r->state);
	spin_lock(&r->lock);
	st->nr_members = r->nr_active;
	st->nr_attachments = r->nr_attachments;
	st->owner_cgroup_id = r->owner->cgroup_id;
	xa_for_each(&r->members, i, m)
		st->nr_member_entries++;
	spin_unlock(&r->lock);
	st->reassessments = READ_ONCE(r->reassessments);
	st->chunks_moved = READ_ONCE(r->chunks_moved);
	st->bytes_moved = st->chunks_moved * chunk;
	st->shortfall_bytes = (u64)READ_ONCE(r->shortfall) * chunk;
	st->pinned_bytes = (u64)READ_ONCE(r->pinned) * chunk;
}

static long mpcg_ioc_stat(struct mpcg_region *r, void __user *arg)
{
	struct mpcg_region_stat st;
	u32 usize;
	int err;

	err = mpcg_get_struct(&st, sizeof(st), MPCG_REGION_STAT_SIZE_VER0, arg,
			      &usize, true);
	if (err)
		return err;
	if (st.flags)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	mpcg_fill_stat(r, &st);
	return mpcg_put_sized(arg, usize, &st, sizeof(st));
}

/* A member's entry; region->lock held. */
static void mpcg_fill_member(struct mpcg_region *r, struct mpcg_member *m,
			     struct mpcg_member_info *e)
{
	u64 chunk = mpcg_chunk_size(r);

	lockdep_assert_held(&r->lock);
	e->dev = mpcg_region_dev(r);
	e->ino = mpcg_region_inode(r)->i_ino;
	e->cgroup_id = m->cgroup_id;
	e->flags = m->flags & MPCG_MEMBER_OWNER;
	if (!m->nr_attach)
		e->flags |= MPCG_MEMBER_DEPARTED;
	if (READ_ONCE(m->high))
		e->flags |= MPCG_MEMBER_HIGH;
	e->nr_attachments = m->nr_attach;
	e->id = m->slot;
	e->touched_bytes = atomic_long_read(&m->nr_touched) * chunk;
	e->fair_share_bytes = READ_ONCE(m->fair);
	e->paid_bytes = atomic_long_read(&m->nr_paid) * chunk;
	e->shortfall_bytes = (u64)READ_ONCE(m->shortfall) * chunk;
	e->peak_paid_bytes = (u64)READ_ONCE(m->peak_paid) * chunk;
	e->pinned_bytes = (u64)READ_ONCE(m->pinned) * chunk;
}

static long mpcg_ioc_members(struct mpcg_region *r, void __user *arg)
{
	struct mpcg_member_info *buf;
	struct mpcg_table_req t;
	struct mpcg_member *m;
	unsigned long i;
	u32 n, cap;
	int err;

	err = mpcg_get_table(&t, arg, sizeof(*buf), MPCG_MEMBER_INFO_SIZE_VER0);
	if (err)
		return err;
	for (;;) {
		spin_lock(&r->lock);
		cap = 8;
		xa_for_each(&r->members, i, m)
			cap++;
		spin_unlock(&r->lock);
		buf = kvcalloc(cap, sizeof(*buf), GFP_KERNEL | __GFP_NOWARN);
		if (!buf)
			return -ENOMEM;
		n = 0;
		spin_lock(&r->lock);
		xa_for_each(&r->members, i, m)
			if (n++ < cap)
				mpcg_fill_member(r, m, &buf[n - 1]);
		spin_unlock(&r->lock);
		if (n <= cap)
			break;
		kvfree(buf);	/* it grew meanwhile: again */
	}
	err = mpcg_put_table(&t, buf, n);
	kvfree(buf);
	return err;
}

/* The task a mapping belongs to: its mm's owner, found when asked. */
static void mpcg_fill_map_task(struct mpcg_attachment *a,
			       struct mpcg_attachment_info *e)
{
	struct task_struct *task;

	rcu_read_lock();
	task = rcu_dereference(a->vma->vm_mm->owner);
	if (task) {
		e->pid = task_tgid_vnr(task);
		strscpy(e->comm, task->comm, sizeof(e->comm));
	}
	rcu_read_unlock();
}

static long mpcg_ioc_attachments(struct mpcg_region *r, void __user *arg)
{
	struct mpcg_attachment_info *buf;
	struct mpcg_attachment *a;
	struct mpcg_table_req t;
	u32 n, cap;
	int err;

	err = mpcg_get_table(&t, arg, sizeof(*buf),
			     MPCG_ATTACHMENT_INFO_SIZE_VER0);
	if (err)
		return err;
	for (;;) {
		cap = READ_ONCE(r->nr_attachments) + 8;
		buf = kvcalloc(cap, sizeof(*buf), GFP_KERNEL | __GFP_NOWARN);
		if (!buf)
			return -ENOMEM;
		n = 0;
		spin_lock(&r->lock);
		if (r->nr_attachments <= cap) {
			list_for_each_entry(a, &r->attachments, node) {
				struct mpcg_attachment_info *e = &buf[n++];

				e->kind = a->kind;
				e->cgroup_id = a->member->cgroup_id;
				if (a->kind == MPCG_ATTACH_MAP) {
					e->offset = (u64)a->vma->vm_pgoff <<
						    PAGE_SHIFT;
					e->length = a->vma->vm_end -
						    a->vma->vm_start;
					mpcg_fill_map_task(a, e);
				} else {
					e->pid = pid_vnr(a->pid);
					strscpy(e->comm, a->comm,
						sizeof(e->comm));
				}
			}
		}
		spin_unlock(&r->lock);
		if (n || !READ_ONCE(r->nr_attachments))
			break;
		kvfree(buf);	/* it grew meanwhile: again */
	}
	err = mpcg_put_table(&t, buf, n);
	kvfree(buf);
	return err;
}

/* The cgroup id of the member in @slot, 0 if none; mpcg_index_lock held. */
static u64 mpcg_slot_cgroup(struct mpcg_region *r, unsigned int slot)
{
	struct mpcg_member *m;

	lockdep_assert_held(&mpcg_index_lock);
	m = mpcg_member_at(r, slot);
	return m ? m->cgroup_id : 0;
}

/* The slot of @r's member for @cgroup_id, or -ENOENT; mpcg_index_lock held. */
static int mpcg_member_slot(struct mpcg_region *r, u64 cgroup_id)
{
	struct mpcg_member *m;

	hlist_for_each_entry(m, mpcg_index_bucket(cgroup_id), index_node)
		if (m->region == r && m->cgroup_id == cgroup_id)
			return m->slot;
	return -ENOENT;
}

static long mpcg_ioc_chunks(struct mpcg_region *r, void __user *arg)
{
	struct mpcg_chunk_info *buf;
	struct mpcg_chunk_query q;
	struct mpcg_table_req t;
	struct mpcg_chunk *c;
	unsigned long ci;
	int slot = -1;
	u32 n, cap;
	u32 usize;
	int err;

	err = mpcg_get_struct(&q, sizeof(q), MPCG_CHUNK_QUERY_SIZE_VER0, arg,
			      &usize, false);
	if (err)
		return err;
	err = mpcg_table_req(&t, &q.table, arg, sizeof(*buf),
			     MPCG_CHUNK_INFO_SIZE_VER0);
	if (err)
		return err;
	for (;;) {
		cap = min_t(u64, (u64)atomic_long_read(&r->nr_chunks) + 64,
			    (u64)t.hdr.count + 1);
		buf = kvcalloc(cap, sizeof(*buf), GFP_KERNEL | __GFP_NOWARN);
		if (!buf)
			return -ENOMEM;
		n = 0;
		/* Members are freed under it: they stay while we name them. */
		mutex_lock(&mpcg_index_lock);
		if (q.cgroup_id) {
			slot = mpcg_member_slot(r, q.cgroup_id);
			if (slot < 0) {
				mutex_unlock(&mpcg_index_lock);
				kvfree(buf);
				return slot;
			}
		}
		down_read(&r->chunk_sem);
		xa_for_each(&r->chunks, ci, c) {
			if (slot >= 0 && !mpcg_chunk_touched_by(c, slot))
				continue;
			if (n < cap) {
				struct mpcg_chunk_info *e = &buf[n];

				e->index = ci;
				e->payer_cgroup_id =
					mpcg_slot_cgroup(r, READ_ONCE(c->payer));
				e->first_cgroup_id =
					mpcg_slot_cgroup(r, READ_ONCE(c->first));
				e->nr_touchers = mpcg_chunk_nr_touchers(c);
			}
			n++;
		}
		up_read(&r->chunk_sem);
		mutex_unlock(&mpcg_index_lock);
		if (n <= cap || n > t.hdr.count)
			break;
		kvfree(buf);	/* it grew meanwhile but fits: again */
	}
	err = mpcg_put_table(&t, buf, n);
	kvfree(buf);
	return err;
}

static long mpcg_ioc_set_policy(struct file *file, struct mpcg_region *r,
				void __user *arg)
{
	struct mpcg_set_policy sp;
	u32 usize;
	int err;

	err = mpcg_get_struct(&sp, sizeof(sp), MPCG_SET_POLICY_SIZE_VER0, arg,
			      &usize, false);
	if (err)
		return err;
	if (sp.flags || sp.reserved || sp.policy >= MPCG_NR_POLICIES)
		return -EINVAL;
	if (!inode_owner_or_capable(mpcg_file_idmap(file), file_inode(file)))
		return -EPERM;
	return mpcg_set_policy(r, sp.policy);
}

static long mpcg_ioc_reassess(struct mpcg_region *r, void __user *arg)
{
	struct mpcg_reassess ra;
	u64 moved = 0;
	u32 usize;
	int err;

	err = mpcg_get_struct(&ra, sizeof(ra), MPCG_REASSESS_SIZE_VER0, arg,
			      &usize, false);
	if (err)
		return err;
	if (ra.flags || ra.reserved)
		return -EINVAL;
	err = mpcg_region_reassess(r, &moved);
	if (err)
		return err;
	memset(&ra, 0, sizeof(ra));
	ra.state = READ_ONCE(r->state);
	ra.chunks_moved = moved;
	ra.bytes_moved = moved * mpcg_chunk_size(r);
	ra.shortfall_bytes = (u64)READ_ONCE(r->shortfall) * mpcg_chunk_size(r);
	return mpcg_put_sized(arg, usize, &ra, sizeof(ra));
}

/**
 * mpcg_region_ioctl - ioctls on a region file
 * @file: an open file of the region
 * @cmd: MPCG_IOC_* (matched in full: type, number, direction and size)
 * @arg: user pointer to the command's struct
 *
 * Context: process context; may sleep.  Takes the locks of the command's
 * snapshot (see the header of this file).
 *
 * Return: 0 or a negative errno (ENOTTY for commands it does not know).
 */
long mpcg_region_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct mpcg_region *r = mpcg_region(file_inode(file));
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case MPCG_IOC_FEATURES:
		return mpcg_ioc_features(false, uarg);
	case MPCG_IOC_REGION_STAT:
		return mpcg_ioc_stat(r, uarg);
	case MPCG_IOC_MEMBERS:
		return mpcg_ioc_members(r, uarg);
	case MPCG_IOC_ATTACHMENTS:
		return mpcg_ioc_attachments(r, uarg);
	case MPCG_IOC_SET_POLICY:
		return mpcg_ioc_set_policy(file, r, uarg);
	case MPCG_IOC_REASSESS:
		return mpcg_ioc_reassess(r, uarg);
	case MPCG_IOC_CHUNKS:
		return mpcg_ioc_chunks(r, uarg);
	}
	return -ENOTTY;
}

static long mpcg_ioc_list_regions(void __user *arg)
{
	struct mpcg_region_stat *buf;
	struct mpcg_table_req t;
	struct mpcg_region *r;
	u32 n = 0, cap = 0;
	int err;

	err = mpcg_get_table(&t, arg, sizeof(*buf), MPCG_REGION_STAT_SIZE_VER0);
	if (err)
		return err;
	mutex_lock(&mpcg_index_lock);
	list_for_each_entry(r, &mpcg_regions, node)
		cap++;
	buf = kvcalloc(max(cap, 1U), sizeof(*buf), GFP_KERNEL | __GFP_NOWARN);
	if (!buf) {
		mutex_unlock(&mpcg_index_lock);
		return -ENOMEM;
	}
	list_for_each_entry(r, &mpcg_regions, node) {
		struct mpcg_region_stat *st = &buf[n++];

		st->size = min_t(size_t, t.hdr.entry_size, sizeof(*st));
		mpcg_fill_stat(r, st);
	}
	mutex_unlock(&mpcg_index_lock);
	err = mpcg_put_table(&t, buf, n);
	kvfree(buf);
	return err;
}

static long mpcg_ioc_cgroup_usage(void __user *arg)
{
	struct mpcg_member_info *buf = NULL;
	struct mpcg_cgroup_usage u;
	struct mpcg_table_req t;
	struct mpcg_member *m;
	u32 usize, n = 0, cap = 0;
	struct cgroup *cgrp;
	u64 id;
	int err;

	err = mpcg_get_struct(&u, sizeof(u), MPCG_CGROUP_USAGE_SIZE_VER0, arg,
			      &usize, false);
	if (err)
		return err;
	err = mpcg_table_req(&t, &u.table, arg, sizeof(*buf),
			     MPCG_MEMBER_INFO_SIZE_VER0);
	if (err)
		return err;
	if (u.reserved)
		return -EINVAL;
	cgrp = cgroup_get_from_fd(u.cgroup_fd);
	if (IS_ERR(cgrp))
		return PTR_ERR(cgrp);
	id = cgroup_id(cgrp);
	cgroup_put(cgrp);

	mutex_lock(&mpcg_index_lock);
	hlist_for_each_entry(m, mpcg_index_bucket(id), index_node)
		cap += m->cgroup_id == id;
	buf = kvcalloc(max(cap, 1U), sizeof(*buf), GFP_KERNEL | __GFP_NOWARN);
	if (!buf) {
		mutex_unlock(&mpcg_index_lock);
		return -ENOMEM;
	}
	u.cgroup_id = id;
	u.touched_bytes = 0;
	u.fair_share_bytes = 0;
	u.paid_bytes = 0;
	u.shortfall_bytes = 0;
	hlist_for_each_entry(m, mpcg_index_bucket(id), index_node) {
		struct mpcg_member_info *e;

		if (m->cgroup_id != id)
			continue;
		e = &buf[n++];
		spin_lock(&m->region->lock);
		mpcg_fill_member(m->region, m, e);
		spin_unlock(&m->region->lock);
		u.touched_bytes += e->touched_bytes;
		u.fair_share_bytes += e->fair_share_bytes;
		u.paid_bytes += e->paid_bytes;
		u.shortfall_bytes += e->shortfall_bytes;
	}
	mutex_unlock(&mpcg_index_lock);

	/* The totals too only if the entries fit. */
	err = mpcg_put_table(&t, buf, n);
	if (!err) {
		u.table.count = n;
		err = mpcg_put_sized(arg, usize, &u, sizeof(u));
	}
	kvfree(buf);
	return err;
}

static int mpcg_ctl_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return 0;
}

static long mpcg_ctl_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case MPCG_IOC_FEATURES:
		return mpcg_ioc_features(true, uarg);
	case MPCG_IOC_LIST_REGIONS:
		return mpcg_ioc_list_regions(uarg);
	case MPCG_IOC_CGROUP_USAGE:
		return mpcg_ioc_cgroup_usage(uarg);
	}
	return -ENOTTY;
}

static const struct file_operations mpcg_ctl_fops = {
	.owner		= THIS_MODULE,
	.open		= mpcg_ctl_open,
	.unlocked_ioctl	= mpcg_ctl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice mpcg_ctl_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "mpcg",
	.fops	= &mpcg_ctl_fops,
	.mode	= 0600,
};

/**
 * mpcg_ctl_init - register /dev/mpcg
 *
 * Context: process context (module init).
 *
 * Return: 0 or a negative errno.
 */
int mpcg_ctl_init(void)
{
	return misc_register(&mpcg_ctl_dev);
}

/**
 * mpcg_ctl_exit - unregister /dev/mpcg
 *
 * Context: process context (module exit).
 */
void mpcg_ctl_exit(void)
{
	misc_deregister(&mpcg_ctl_dev);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg regular files: read, write, mmap and truncate of a region.
 *
 * Owns the file and inode operations of regular files and the VMA
 * operations of their mappings, and so where attachments are made: a
 * mapping is one from mmap() on (fork and VMA splits make copies for the
 * same member, munmap and exit drop them); an open file description
 * becomes one at its first read, write or fallocate, so that a descriptor
 * only used for ioctls (as the tools do) does not make its opener a member.
 * Data lives in the chunk store (chunk.c); there is no page cache.  What
 * can change a region (a page looked up for a fault, read or write, a
 * truncate, fallocate, an attachment made or dropped) goes through
 * region.c, which marks the region changed; lookups that change nothing
 * (SEEK_DATA/SEEK_HOLE, the space check of fallocate, mapping the rest of a
 * chunk) call chunk.c.  Page faults map the region's own pages; a fault on
 * a resident chunk that its member already touched takes no lock beyond
 * the page lock that mapping needs.
 *
 * Locking: write() and truncate hold the inode lock; read() holds nothing
 * while it copies (see the locking order in mpcg.h).
 */
#include <linux/fs.h>
#include <linux/falloc.h>	/* after fs.h: it needs its types */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/uio.h>

#include "mpcg.h"

static vm_fault_t mpcg_fault(struct vm_fault *vmf)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	struct mpcg_attachment *a = vmf->vma->vm_private_data;
	struct page *page;

	page = mpcg_region_get_page(mpcg_region(inode), vmf->pgoff,
				    MPCG_GP_CREATE | MPCG_GP_LOCK |
				    MPCG_GP_FAULT, a->member);
	if (IS_ERR(page))
		return PTR_ERR(page) == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	if (MPCG_MAP_WHOLE_CHUNK)
		mpcg_map_chunk(mpcg_region(inode), vmf->vma, page);
	vmf->page = page;
	return VM_FAULT_LOCKED;
}

/*
 * A write to a page of a shared mapping that is mapped read-only, where
 * the kernel has write notification (MPCG_WRITE_NOTIFY): the core maps the
 * pages of a shared writable mapping read-only first, and the first write
 * through the mapping to each page comes here, a read or not before it.
 * It updates mtime and ctime, as write() does (without a handler, as on
 * tmpfs, the core updates them only when a write fault maps the page).
 * The page is returned locked if it is still the file's (as mpcg_fault()
 * checks it); otherwise the fault is retried and finds the chunk's new
 * page or none.
 */
static vm_fault_t mpcg_page_mkwrite(struct vm_fault *vmf)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	struct page *page = vmf->page;
	vm_fault_t ret = VM_FAULT_LOCKED;

	sb_start_pagefault(inode->i_sb);
	file_update_time(vmf->vma->vm_file);
	lock_page(page);
	if (!page_private(page) ||
	    page->index >= DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE)) {
		unlock_page(page);
		ret = VM_FAULT_NOPAGE;
	}
	sb_end_pagefault(inode->i_sb);
	return ret;
}

/* A copy of a mapping (fork, split, mremap): same member. */
static void mpcg_vm_open(struct vm_area_struct *vma)
{
	struct mpcg_attachment *orig = vma->vm_private_data;
	struct mpcg_attachment *a;

	a = mpcg_region_attach(orig->member->region, MPCG_ATTACH_MAP,
			       orig->member);
	a->vma = vma;
	vma->vm_private_data = a;
}

static void mpcg_vm_close(struct vm_area_struct *vma)
{
	mpcg_region_detach(vma->vm_private_data);
}

static const struct vm_operations_struct mpcg_vm_ops = {
	.open = mpcg_vm_open,
	.close = mpcg_vm_close,
	.fault = mpcg_fault,
	.page_mkwrite = MPCG_WRITE_NOTIFY ? mpcg_page_mkwrite : NULL,
};

static int mpcg_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct mpcg_attachment *a;

	a = mpcg_region_attach(mpcg_region(file_inode(file)), MPCG_ATTACH_MAP,
			       NULL);
	if (IS_ERR(a))
		return PTR_ERR(a);
	a->vma = vma;
	vma->vm_private_data = a;
	vma->vm_ops = &mpcg_vm_ops;
	/* Lets the fault handler map a whole chunk (mpcg_map_chunk()). */
	if (MPCG_MAP_WHOLE_CHUNK)
		mpcg_vm_flags_set(vma, VM_MIXEDMAP);
	file_accessed(file);
	return 0;
}

/* The attachment of an open file, made at its first I/O. */
static struct mpcg_attachment *mpcg_file_attachment(struct file *file)
{
	struct mpcg_attachment *a = READ_ONCE(file->private_data);

	if (likely(a))
		return a;
	a = mpcg_region_attach(mpcg_region(file_inode(file)), MPCG_ATTACH_FILE,
			       NULL);
	if (IS_ERR(a))
		return a;
	if (cmpxchg(&file->private_data, NULL, a)) {
		mpcg_region_detach(a);
		a = READ_ONCE(file->private_data);
	}
	return a;
}

static int mpcg_open(struct inode *inode, struct file *file)
{
	/* O_DIRECT where tmpfs takes it: I/O is the same, buffered. */
	if (MPCG_CAN_ODIRECT)
		file->f_mode |= FMODE_CAN_ODIRECT;
	return generic_file_open(inode, file);
}

static int mpcg_release(struct inode *inode, struct file *file)
{
	if (file->private_data)
		mpcg_region_detach(file->private_data);
	return 0;
}

static ssize_t mpcg_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	struct mpcg_region *r = mpcg_region(inode);
	struct mpcg_attachment *a;
	loff_t pos = iocb->ki_pos;
	ssize_t done = 0;
	int err = 0;

	if (!iov_iter_count(to))
		return 0;
	a = mpcg_file_attachment(iocb->ki_filp);
	if (IS_ERR(a))
		return PTR_ERR(a);

	while (iov_iter_count(to)) {
		loff_t size = i_size_read(inode);
		size_t offset = offset_in_page(pos);
		size_t nr, copied;
		struct page *page;

		if (pos >= size)
			break;
		nr = min_t(loff_t, PAGE_SIZE - offset, size - pos);
		nr = min(nr, iov_iter_count(to));
		page = mpcg_region_get_page(r, pos >> PAGE_SHIFT, 0, a->member);
		if (IS_ERR(page)) {
			/* Recording a new reader of the chunk failed (-ENOMEM). */
			err = PTR_ERR(page);
			break;
		}
		if (page) {
			void *kaddr = kmap_local_page(page);

			/* Not copy_page_to_iter(): pipes must get a copy. */
			copied = copy_to_iter(kaddr + offset, nr, to);
			kunmap_local(kaddr);
			put_page(page);
		} else {
			/* A hole reads as zeroes and is not allocated. */
			copied = iov_iter_zero(nr, to);
		}
		pos += copied;
		done += copied;
		if (copied < nr) {
			err = -EFAULT;
			break;
		}
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		cond_resched();
	}
	iocb->ki_pos = pos;
	file_accessed(iocb->ki_filp);
	return done ? done : err;
}

static ssize_t mpcg_perform_write(struct kiocb *iocb, struct iov_iter *from,
				  struct mpcg_member *toucher)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	struct mpcg_region *r = mpcg_region(inode);
	loff_t pos = iocb->ki_pos;
	ssize_t done = 0;
	int err = 0;

	while (iov_iter_count(from)) {
		size_t offset = offset_in_page(pos);
		size_t bytes = min(PAGE_SIZE - offset, iov_iter_count(from));
		struct page *page;
		size_t copied;

		/* Fault the source in first: we copy with page faults off. */
		if (unlikely(fault_in_iov_iter_readable(from, bytes) == bytes)) {
			err = -EFAULT;
			break;
		}
		page = mpcg_region_get_page(r, pos >> PAGE_SHIFT,
					    MPCG_GP_CREATE | MPCG_GP_LOCK,
					    toucher);
		if (IS_ERR(page)) {
			err = PTR_ERR(page);
			break;
		}
		pagefault_disable();
		copied = copy_page_from_iter_atomic(page, offset, bytes, from);
		pagefault_enable();
		unlock_page(page);
		put_page(page);

		pos += copied;
		done += copied;
		if (pos > i_size_read(inode))
			i_size_write(inode, pos);
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		cond_resched();
	}
	iocb->ki_pos = pos;
	return done ? done : err;
}

static ssize_t mpcg_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	struct mpcg_attachment *a;
	ssize_t ret;

	inode_lock(inode);
	ret = generic_write_checks(iocb, from);
	if (ret > 0)
		ret = file_modified(iocb->ki_filp);
	if (!ret && iov_iter_count(from)) {
		a = mpcg_file_attachment(iocb->ki_filp);
		ret = IS_ERR(a) ? PTR_ERR(a) :
		      mpcg_perform_write(iocb, from, a->member);
	}
	inode_unlock(inode);
	return ret;
}

static long mpcg_fallocate(struct file *file, int mode, loff_t offset,
			   loff_t len)
{
	struct inode *inode = file_inode(file);
	struct mpcg_region *r = mpcg_region(inode);
	struct mpcg_attachment *a;
	loff_t end = offset + len;
	long err;

	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;

	inode_lock(inode);
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		/* The VFS requires KEEP_SIZE with PUNCH_HOLE. */
		err = file_modified(file);
		if (!err)
			mpcg_region_punch(r, offset, end);
		goto out;
	}
	err = inode_newsize_ok(inode, end);
	if (err)
		goto out;
	/* All or nothing, as on tmpfs, unless others allocate meanwhile. */
	err = mpcg_chunks_reserve_check(r, offset, end);
	if (err)
		goto out;
	err = file_modified(file);
	if (err)
		goto out;
	a = mpcg_file_attachment(file);
	if (IS_ERR(a)) {
		err = PTR_ERR(a);
		goto out;
	}
	/* On an error, it gives back the chunks it made resident. */
	err = mpcg_region_allocate(r, offset, end, a->member);
	if (err)
		goto out;
	if (!(mode & FALLOC_FL_KEEP_SIZE) && end > i_size_read(inode))
		i_size_write(inode, end);
out:
	inode_unlock(inode);
	return err;
}

/*
 * SEEK_DATA and SEEK_HOLE at chunk granularity: a hole is a chunk that
 * is not resident.
 */
static loff_t mpcg_llseek(struct file *file, loff_t offset, int whence)
{
	struct inode *inode = file_inode(file);
	loff_t pos;

	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return generic_file_llseek(file, offset, whence);
	inode_lock_shared(inode);
	pos = mpcg_chunks_seek(mpcg_region(inode), offset, whence,
			       i_size_read(inode));
	inode_unlock_shared(inode);
	if (pos >= 0)
		pos = vfs_setpos(file, pos, inode->i_sb->s_maxbytes);
	return pos;
}

const struct file_operations mpcg_file_operations = {
	.read_iter	= mpcg_read_iter,
	.write_iter	= mpcg_write_iter,
	.mmap		= mpcg_mmap,
	.open		= mpcg_open,
	.release	= mpcg_release,
	.unlocked_ioctl	= mpcg_region_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.fsync		= noop_fsync,
	.splice_read	= mpcg_splice_read,
	.splice_write	= iter_file_splice_write,
	.llseek		= mpcg_llseek,
	.fallocate	= mpcg_fallocate,
};

static int mpcg_setattr(struct mpcg_idmap *idmap,
			struct dentry *dentry, struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	int err;

	err = setattr_prepare(idmap, dentry, attr);
	if (err)
		return err;

	if ((attr->ia_valid & ATTR_SIZE) && attr->ia_size != inode->i_size) {
		loff_t oldsize = inode->i_size;

		i_size_write(inode, attr->ia_size);
		if (attr->ia_size < oldsize)
			mpcg_region_truncate(mpcg_region(inode), attr->ia_size);
		if (!(attr->ia_valid & (ATTR_CTIME | ATTR_MTIME)))
			mpcg_inode_touch(inode, NULL);
	}
	setattr_copy(idmap, inode, attr);
	return 0;
}

static int mpcg_getattr(struct mpcg_idmap *idmap,
			const struct path *path, struct kstat *stat,
			u32 request_mask, unsigned int query_flags)
{
	struct inode *inode = d_inode(path->dentry);
	struct mpcg_region *r = mpcg_region(inode);

	mpcg_fillattr(idmap, request_mask, inode, stat);
	/* st_blocks counts resident chunks, in 512-byte units. */
	stat->blocks = (u64)atomic_long_read(&r->nr_chunks) <<
		       (r->chunk_shift - 9);
	/*
	 * The unit of allocation, and so of SEEK_HOLE and SEEK_DATA, which
	 * programs that look for holes take st_blksize to be.
	 */
	stat->blksize = mpcg_chunk_size(r);
	mpcg_fillattr_flags(inode, stat);
	return 0;
}

const struct inode_operations mpcg_file_inode_operations = {
	.setattr	= mpcg_setattr,
	.getattr	= mpcg_getattr,
	.fileattr_get	= mpcg_fileattr_get,
	.fileattr_set	= mpcg_fileattr_set,
};

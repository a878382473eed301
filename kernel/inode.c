// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg inodes and directories.
 *
 * Owns inode creation (with the mount's nr_inodes budget, which counts
 * hard links too, as on tmpfs) and the directory operations.  The namespace
 * lives in the dcache, as in ramfs: every dentry of the mount is pinned
 * until it is unlinked or the mount goes away.  Directory sizes count
 * MPCG_DIRENT_SIZE bytes per entry, as tmpfs's do.  Inode flags (chattr:
 * immutable, append-only, nodump, noatime) are kept as tmpfs keeps them;
 * the VFS enforces immutable and append-only.
 *
 * Locking: the VFS holds the parent directory's inode lock around every
 * directory operation; nothing here takes a lock of its own.
 */
#include <linux/fs.h>
#include <linux/fileattr.h>	/* after fs.h: it needs its types */
#include <linux/pagemap.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "mpcg.h"

#define MPCG_DIRENT_SIZE	20	/* what tmpfs counts per entry */

/* The chattr flags kept, as on tmpfs, and those a new inode inherits. */
#define MPCG_FL_USER		(FS_IMMUTABLE_FL | FS_APPEND_FL | \
				 FS_NODUMP_FL | FS_NOATIME_FL)
#define MPCG_FL_INHERITED	(FS_NODUMP_FL | FS_NOATIME_FL)

/* The inode's S_* flags from its chattr flags. */
static void mpcg_set_inode_flags(struct inode *inode, unsigned int fsflags)
{
	unsigned int flags = 0;

	if (fsflags & FS_IMMUTABLE_FL)
		flags |= S_IMMUTABLE;
	if (fsflags & FS_APPEND_FL)
		flags |= S_APPEND;
	if (fsflags & FS_NOATIME_FL)
		flags |= S_NOATIME;
	inode_set_flags(inode, flags, S_IMMUTABLE | S_APPEND | S_NOATIME);
}

/**
 * mpcg_fileattr_get - the inode flags of a file or directory (lsattr)
 * @dentry: its dentry
 * @fa: filled in with the flags
 *
 * Context: process context.
 *
 * Return: 0.
 */
int mpcg_fileattr_get(struct dentry *dentry, struct fileattr *fa)
{
	fileattr_fill_flags(fa, READ_ONCE(MPCG_I(d_inode(dentry))->fsflags));
	return 0;
}

/**
 * mpcg_fileattr_set - set the inode flags of a file or directory (chattr)
 * @idmap: the mount's idmapping (unused: the VFS checked ownership)
 * @dentry: its dentry
 * @fa: the new flags
 *
 * The VFS has checked that the caller owns the inode and may change the
 * immutable and append-only flags (CAP_LINUX_IMMUTABLE).
 *
 * Context: process context, the inode's lock held by the VFS.
 *
 * Return: 0, or -EOPNOTSUPP for a flag or an xflags field mpcg does not
 * keep (nothing is changed then).
 */
int mpcg_fileattr_set(struct mpcg_idmap *idmap, struct dentry *dentry,
		      struct fileattr *fa)
{
	struct inode *inode = d_inode(dentry);

	if (fileattr_has_fsx(fa) || (fa->flags & ~MPCG_FL_USER))
		return -EOPNOTSUPP;
	WRITE_ONCE(MPCG_I(inode)->fsflags, fa->flags);
	mpcg_set_inode_flags(inode, fa->flags);
	mpcg_inode_set_ctime(inode, current_time(inode));
	return 0;
}

/**
 * mpcg_fillattr_flags - report the inode flags in statx's attributes
 * @inode: the file or directory
 * @stat: what getattr returns
 *
 * Context: process context.
 */
void mpcg_fillattr_flags(struct inode *inode, struct kstat *stat)
{
	unsigned int fsflags = READ_ONCE(MPCG_I(inode)->fsflags);

	if (fsflags & FS_IMMUTABLE_FL)
		stat->attributes |= STATX_ATTR_IMMUTABLE;
	if (fsflags & FS_APPEND_FL)
		stat->attributes |= STATX_ATTR_APPEND;
	if (fsflags & FS_NODUMP_FL)
		stat->attributes |= STATX_ATTR_NODUMP;
	stat->attributes_mask |= STATX_ATTR_IMMUTABLE | STATX_ATTR_APPEND |
				 STATX_ATTR_NODUMP;
}

static int mpcg_dir_getattr(struct mpcg_idmap *idmap,
			    const struct path *path, struct kstat *stat,
			    u32 request_mask, unsigned int query_flags)
{
	struct inode *inode = d_inode(path->dentry);

	mpcg_fillattr(idmap, request_mask, inode, stat);
	mpcg_fillattr_flags(inode, stat);
	return 0;
}

/* Take one of the mount's nr_inodes for an inode or an extra link. */
static bool mpcg_inode_reserve(struct super_block *sb)
{
	struct mpcg_sb_info *sbi = MPCG_SB(sb);
	unsigned long max = READ_ONCE(sbi->max_inodes);

	if (atomic_long_inc_return(&sbi->used_inodes) <= max || !max)
		return true;
	atomic_long_dec(&sbi->used_inodes);
	return false;
}

static void mpcg_inode_unreserve(struct super_block *sb)
{
	atomic_long_dec(&MPCG_SB(sb)->used_inodes);
}

/*
 * Chunk pages carry page->mapping (see chunk.c) but are not in the page
 * cache; marking one dirty (a write fault, a zap of a dirty PTE) only sets
 * the flag, as on ramfs.
 */
static const struct address_space_operations mpcg_aops = {
	.dirty_folio	= noop_dirty_folio,
};

static const struct inode_operations mpcg_symlink_inode_operations = {
	.get_link	= simple_get_link,
};

/**
 * mpcg_get_inode - allocate and initialise a new inode
 * @sb: the mount's superblock
 * @dir: the parent directory, or NULL for the root
 * @mode: file type and permissions
 * @dev: device number for special files
 *
 * A regular file also gets its region (mpcg_region_create()).
 *
 * Context: process context; sleeps.
 *
 * Return: the new inode, or NULL when the mount's nr_inodes limit is
 * reached or memory is short.
 */
struct inode *mpcg_get_inode(struct super_block *sb, const struct inode *dir,
			     umode_t mode, dev_t dev)
{
	struct mpcg_region *r;
	struct inode *inode;

	if (!mpcg_inode_reserve(sb))
		return NULL;
	inode = new_inode(sb);
	if (!inode) {
		mpcg_inode_unreserve(sb);
		return NULL;
	}

	inode->i_ino = get_next_ino();
	/* With the number, what tells its file handles from others' (super.c). */
	inode->i_generation = get_random_u32();
	/* From here on, evicting the inode gives its count back. */
	inode_init_owner(MPCG_NOP_IDMAP, inode, dir, mode);
	if (dir && !S_ISLNK(mode)) {
		unsigned int fsflags = container_of(dir,
				const struct mpcg_inode_info, vfs_inode)->fsflags;

		MPCG_I(inode)->fsflags = fsflags & MPCG_FL_INHERITED;
		mpcg_set_inode_flags(inode, MPCG_I(inode)->fsflags);
	}
	mpcg_inode_set_atime(inode, mpcg_inode_touch(inode, NULL));

	switch (mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &mpcg_file_inode_operations;
		inode->i_fop = &mpcg_file_operations;
		inode->i_mapping->a_ops = &mpcg_aops;
		r = mpcg_region_create(inode);
		if (IS_ERR(r)) {
			/* Evicted without a region: see mpcg_evict_inode(). */
			iput(inode);
			return NULL;
		}
		MPCG_I(inode)->region = r;
		break;
	case S_IFDIR:
		inode->i_op = &mpcg_dir_inode_operations;
		inode->i_fop = &simple_dir_operations;
		/* "." and the entry in the parent. */
		inc_nlink(inode);
		inode->i_size = 2 * MPCG_DIRENT_SIZE;
		break;
	case S_IFLNK:
		inode->i_op = &mpcg_symlink_inode_operations;
		break;
	default:
		init_special_inode(inode, mode, dev);
		break;
	}
	return inode;
}

static int mpcg_mknod(struct mpcg_idmap *idmap, struct inode *dir,
		      struct dentry *dentry, umode_t mode, dev_t dev)
{
	struct inode *inode = mpcg_get_inode(dir->i_sb, dir, mode, dev);

	if (!inode)
		return -ENOSPC;
	d_instantiate(dentry, inode);
	dget(dentry);	/* pinned in the dcache, as in ramfs */
	dir->i_size += MPCG_DIRENT_SIZE;
	mpcg_inode_touch(dir, NULL);
	return 0;
}

static int mpcg_create(struct mpcg_idmap *idmap, struct inode *dir,
		       struct dentry *dentry, umode_t mode, bool excl)
{
	return mpcg_mknod(idmap, dir, dentry, mode | S_IFREG, 0);
}

static int mpcg_mkdir(struct mpcg_idmap *idmap, struct inode *dir,
		      struct dentry *dentry, umode_t mode)
{
	int err = mpcg_mknod(idmap, dir, dentry, mode | S_IFDIR, 0);

	if (!err)
		inc_nlink(dir);
	return err;
}

static int mpcg_symlink(struct mpcg_idmap *idmap, struct inode *dir,
			struct dentry *dentry, const char *symname)
{
	size_t len = strlen(symname) + 1;
	struct inode *inode;

	if (len > PAGE_SIZE)
		return -ENAMETOOLONG;
	inode = mpcg_get_inode(dir->i_sb, dir, S_IFLNK | 0777, 0);
	if (!inode)
		return -ENOSPC;
	inode->i_link = kmemdup(symname, len, GFP_KERNEL_ACCOUNT);
	if (!inode->i_link) {
		iput(inode);
		return -ENOMEM;
	}
	inode->i_size = len - 1;
	d_instantiate(dentry, inode);
	dget(dentry);
	dir->i_size += MPCG_DIRENT_SIZE;
	mpcg_inode_touch(dir, NULL);
	return 0;
}

static int mpcg_tmpfile(struct mpcg_idmap *idmap, struct inode *dir,
			struct file *file, umode_t mode)
{
	struct inode *inode;

	inode = mpcg_get_inode(dir->i_sb, dir, mode | S_IFREG, 0);
	if (!inode)
		return -ENOSPC;
	d_tmpfile(file, inode);
	return finish_open_simple(file, 0);
}

static int mpcg_link(struct dentry *old_dentry, struct inode *dir,
		     struct dentry *dentry)
{
	struct inode *inode = d_inode(old_dentry);
	int err;

	/* An O_TMPFILE being linked in already holds its inode's count. */
	if (inode->i_nlink && !mpcg_inode_reserve(inode->i_sb))
		return -ENOSPC;
	err = simple_link(old_dentry, dir, dentry);
	if (err) {
		if (inode->i_nlink)
			mpcg_inode_unreserve(inode->i_sb);
		return err;
	}
	dir->i_size += MPCG_DIRENT_SIZE;
	return 0;
}

static int mpcg_unlink(struct inode *dir, struct dentry *dentry)
{
	struct inode *inode = d_inode(dentry);

	if (inode->i_nlink > 1 && !S_ISDIR(inode->i_mode))
		mpcg_inode_unreserve(inode->i_sb);
	dir->i_size -= MPCG_DIRENT_SIZE;
	return simple_unlink(dir, dentry);
}

static int mpcg_rmdir(struct inode *dir, struct dentry *dentry)
{
	if (!simple_empty(dentry))
		return -ENOTEMPTY;
	drop_nlink(d_inode(dentry));
	drop_nlink(dir);
	return mpcg_unlink(dir, dentry);
}

/* Leave a whiteout (a 0/0 character device) where @old_dentry was. */
static int mpcg_whiteout(struct mpcg_idmap *idmap,
			 struct inode *old_dir, struct dentry *old_dentry)
{
	struct dentry *whiteout;
	int err;

	whiteout = d_alloc(old_dentry->d_parent, &old_dentry->d_name);
	if (!whiteout)
		return -ENOMEM;
	err = mpcg_mknod(idmap, old_dir, whiteout,
			 S_IFCHR | WHITEOUT_MODE, WHITEOUT_DEV);
	dput(whiteout);
	if (err)
		return err;
	/* Hashed while the old dentry is still in place, as tmpfs does. */
	d_rehash(whiteout);
	return 0;
}

static int mpcg_rename(struct mpcg_idmap *idmap,
		       struct inode *old_dir, struct dentry *old_dentry,
		       struct inode *new_dir, struct dentry *new_dentry,
		       unsigned int flags)
{
	struct inode *inode = d_inode(old_dentry);
	bool dirs = S_ISDIR(inode->i_mode);
	int err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	if (flags & RENAME_EXCHANGE)
		return simple_rename_exchange(old_dir, old_dentry, new_dir,
					      new_dentry);
	if (!simple_empty(new_dentry))
		return -ENOTEMPTY;
	if (flags & RENAME_WHITEOUT) {
		err = mpcg_whiteout(idmap, old_dir, old_dentry);
		if (err)
			return err;
	}
	if (d_really_is_positive(new_dentry)) {
		mpcg_unlink(new_dir, new_dentry);
		if (dirs) {
			drop_nlink(d_inode(new_dentry));
			drop_nlink(old_dir);
		}
	} else if (dirs) {
		drop_nlink(old_dir);
		inc_nlink(new_dir);
	}
	old_dir->i_size -= MPCG_DIRENT_SIZE;
	new_dir->i_size += MPCG_DIRENT_SIZE;
	mpcg_inode_set_ctime(inode, mpcg_inode_touch(old_dir, new_dir));
	return 0;
}

const struct inode_operations mpcg_dir_inode_operations = {
	.create		= mpcg_create,
	.lookup		= simple_lookup,
	.link		= mpcg_link,
	.unlink		= mpcg_unlink,
	.symlink	= mpcg_symlink,
	.mkdir		= mpcg_mkdir,
	.rmdir		= mpcg_rmdir,
	.mknod		= mpcg_mknod,
	.rename		= mpcg_rename,
	.tmpfile	= mpcg_tmpfile,
	.getattr	= mpcg_dir_getattr,
	.fileattr_get	= mpcg_fileattr_get,
	.fileattr_set	= mpcg_fileattr_set,
};

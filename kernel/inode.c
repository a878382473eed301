// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg inodes and directories.
 *
 * Owns inode creation (with the mount's nr_inodes budget) and the directory
 * operations.  The namespace lives in the dcache, as in ramfs: every dentry
 * of the mount is pinned until it is unlinked or the mount goes away.
 *
 * Locking: the VFS holds the parent directory's inode lock around every
 * directory operation; nothing here takes a lock of its own.
 */
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "mpcg.h"

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
 * Return: the new inode, or NULL when the mount's nr_inodes limit is
 * reached or memory is short.
 */
struct inode *mpcg_get_inode(struct super_block *sb, const struct inode *dir,
			     umode_t mode, dev_t dev)
{
	struct mpcg_sb_info *sbi = MPCG_SB(sb);
	unsigned long max = READ_ONCE(sbi->max_inodes);
	struct inode *inode;

	if (atomic_long_inc_return(&sbi->used_inodes) > max && max)
		goto fail;
	inode = new_inode(sb);
	if (!inode)
		goto fail;

	inode->i_ino = get_next_ino();
	/* From here on, evicting the inode gives its count back. */
	inode_init_owner(&init_user_ns, inode, dir, mode);
	inode->i_atime = current_time(inode);
	inode->i_mtime = inode->i_atime;
	inode->i_ctime = inode->i_atime;

	switch (mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &mpcg_file_inode_operations;
		inode->i_fop = &mpcg_file_operations;
		if (mpcg_region_init(mpcg_region(inode), sb)) {
			iput(inode);
			return NULL;
		}
		break;
	case S_IFDIR:
		inode->i_op = &mpcg_dir_inode_operations;
		inode->i_fop = &simple_dir_operations;
		/* "." and the entry in the parent. */
		inc_nlink(inode);
		break;
	case S_IFLNK:
		inode->i_op = &mpcg_symlink_inode_operations;
		break;
	default:
		init_special_inode(inode, mode, dev);
		break;
	}
	return inode;

fail:
	atomic_long_dec(&sbi->used_inodes);
	return NULL;
}

static int mpcg_mknod(struct user_namespace *mnt_userns, struct inode *dir,
		      struct dentry *dentry, umode_t mode, dev_t dev)
{
	struct inode *inode = mpcg_get_inode(dir->i_sb, dir, mode, dev);

	if (!inode)
		return -ENOSPC;
	d_instantiate(dentry, inode);
	dget(dentry);	/* pinned in the dcache, as in ramfs */
	dir->i_mtime = current_time(dir);
	dir->i_ctime = dir->i_mtime;
	return 0;
}

static int mpcg_create(struct user_namespace *mnt_userns, struct inode *dir,
		       struct dentry *dentry, umode_t mode, bool excl)
{
	return mpcg_mknod(mnt_userns, dir, dentry, mode | S_IFREG, 0);
}

static int mpcg_mkdir(struct user_namespace *mnt_userns, struct inode *dir,
		      struct dentry *dentry, umode_t mode)
{
	int err = mpcg_mknod(mnt_userns, dir, dentry, mode | S_IFDIR, 0);

	if (!err)
		inc_nlink(dir);
	return err;
}

static int mpcg_symlink(struct user_namespace *mnt_userns, struct inode *dir,
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
	dir->i_mtime = current_time(dir);
	dir->i_ctime = dir->i_mtime;
	return 0;
}

static int mpcg_tmpfile(struct user_namespace *mnt_userns, struct inode *dir,
			struct file *file, umode_t mode)
{
	struct inode *inode;

	inode = mpcg_get_inode(dir->i_sb, dir, mode | S_IFREG, 0);
	if (!inode)
		return -ENOSPC;
	d_tmpfile(file, inode);
	return finish_open_simple(file, 0);
}

const struct inode_operations mpcg_dir_inode_operations = {
	.create		= mpcg_create,
	.lookup		= simple_lookup,
	.link		= simple_link,
	.unlink		= simple_unlink,
	.symlink	= mpcg_symlink,
	.mkdir		= mpcg_mkdir,
	.rmdir		= simple_rmdir,
	.mknod		= mpcg_mknod,
	.rename		= simple_rename,	/* NOREPLACE and EXCHANGE too */
	.tmpfile	= mpcg_tmpfile,
};

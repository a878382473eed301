// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg filesystem type: mount options, superblock and inode lifetime.
 *
 * Owns struct mpcg_sb_info, the inode cache, file handles (the export
 * operations) and the registration of the "mpcg" filesystem type.  Mount
 * options follow tmpfs where they mean the same thing (size, nr_inodes,
 * mode, uid, gid) and add chunk and policy.  Bad options are refused
 * with EINVAL and a line in the kernel log (through the fs_context log,
 * which goes to the kernel log for mount(2)).
 *
 * Locking: the budgets in mpcg_sb_info are atomics; the limits change only
 * on remount, under the superblock's s_umount, and are read with READ_ONCE.
 * Making a file handle may hash its inode, under a spinlock of its own.
 */
#include <linux/exportfs.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/user_namespace.h>
#include <uapi/linux/mpcg.h>

#include "mpcg.h"

static struct kmem_cache *mpcg_inode_cachep;

enum mpcg_param {
	MPCG_OPT_SIZE,
	MPCG_OPT_NR_INODES,
	MPCG_OPT_CHUNK,
	MPCG_OPT_MODE,
	MPCG_OPT_UID,
	MPCG_OPT_GID,
	MPCG_OPT_POLICY,
};

static const struct constant_table mpcg_policy_table[] = {
	{ "proportional",	MPCG_POLICY_PROPORTIONAL },
	{ "equal",		MPCG_POLICY_EQUAL },
	{ "first-touch",	MPCG_POLICY_FIRST_TOUCH },
	{ "owner",		MPCG_POLICY_OWNER },
	{}
};

static const struct fs_parameter_spec mpcg_fs_parameters[] = {
	fsparam_string("size", MPCG_OPT_SIZE),
	fsparam_string("nr_inodes", MPCG_OPT_NR_INODES),
	fsparam_string("chunk", MPCG_OPT_CHUNK),
	fsparam_u32oct("mode", MPCG_OPT_MODE),
	fsparam_u32("uid", MPCG_OPT_UID),
	fsparam_u32("gid", MPCG_OPT_GID),
	fsparam_enum("policy", MPCG_OPT_POLICY, mpcg_policy_table),
	{}
};

/* Options of one mount or remount request; @seen has a bit per option. */
struct mpcg_fs_context {
	unsigned long seen;
	u64 size;
	unsigned long nr_inodes;
	unsigned int chunk_shift;
	umode_t mode;
	kuid_t uid;
	kgid_t gid;
	unsigned int policy;
};

static u64 mpcg_default_size(void)
{
	return (u64)(totalram_pages() / 2) << PAGE_SHIFT;
}

static unsigned long mpcg_default_inodes(void)
{
	return totalram_pages() / 2;
}

static int mpcg_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct mpcg_fs_context *ctx = fc->fs_private;
	struct fs_parse_result result;
	unsigned long long val;
	char *rest;
	int opt;

	opt = fs_parse(fc, mpcg_fs_parameters, param, &result);
	if (opt < 0)
		return opt;

	switch (opt) {
	case MPCG_OPT_SIZE:
		val = memparse(param->string, &rest);
		if (*rest == '%' && rest[1] == '\0') {
			if (val > 100)
				return invalfc(fc, "size=%s: more than 100%%",
					       param->string);
			val = div_u64((u64)totalram_pages() * val, 100)
			      << PAGE_SHIFT;
		} else if (*rest || rest == param->string) {
			return invalfc(fc, "size=%s: not a size",
				       param->string);
		}
		ctx->size = val;
		break;
	case MPCG_OPT_NR_INODES:
		val = memparse(param->string, &rest);
		if (*rest || rest == param->string || val > ULONG_MAX)
			return invalfc(fc, "nr_inodes=%s: not a number",
				       param->string);
		ctx->nr_inodes = val;
		break;
	case MPCG_OPT_CHUNK:
		val = memparse(param->string, &rest);
		if (*rest || rest == param->string || !is_power_of_2(val) ||
		    val < MPCG_CHUNK_SIZE_MIN || val > MPCG_CHUNK_SIZE_MAX ||
		    val < PAGE_SIZE)
			return invalfc(fc, "chunk=%s: must be a power of two from 64k to 2M",
				       param->string);
		ctx->chunk_shift = ilog2(val);
		break;
	case MPCG_OPT_MODE:
		if (result.uint_32 & ~07777)
			return invalfc(fc, "mode=%o: not a permission mode",
				       result.uint_32);
		ctx->mode = result.uint_32;
		break;
	case MPCG_OPT_UID:
		ctx->uid = make_kuid(current_user_ns(), result.uint_32);
		if (!uid_valid(ctx->uid) || !kuid_has_mapping(fc->user_ns, ctx->uid))
			return invalfc(fc, "uid=%u: not mapped", result.uint_32);
		break;
	case MPCG_OPT_GID:
		ctx->gid = make_kgid(current_user_ns(), result.uint_32);
		if (!gid_valid(ctx->gid) || !kgid_has_mapping(fc->user_ns, ctx->gid))
			return invalfc(fc, "gid=%u: not mapped", result.uint_32);
		break;
	case MPCG_OPT_POLICY:
		ctx->policy = result.uint_32;
		break;
	}
	ctx->seen |= BIT(opt);
	return 0;
}

static unsigned long mpcg_size_to_chunks(u64 size, unsigned int chunk_shift)
{
	return DIV_ROUND_UP_ULL(size, 1ULL << chunk_shift);
}

static int mpcg_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct mpcg_sb_info *sbi = MPCG_SB(dentry->d_sb);
	unsigned int shift = sbi->chunk_shift - PAGE_SHIFT;
	unsigned long max_chunks = READ_ONCE(sbi->max_chunks);
	unsigned long max_inodes = READ_ONCE(sbi->max_inodes);

	buf->f_type = MPCG_SUPER_MAGIC;
	buf->f_bsize = PAGE_SIZE;
	buf->f_namelen = NAME_MAX;
	if (max_chunks) {
		long used = atomic_long_read(&sbi->used_chunks);
		unsigned long avail = max_chunks > used ? max_chunks - used : 0;

		buf->f_blocks = (u64)max_chunks << shift;
		buf->f_bfree = (u64)avail << shift;
		buf->f_bavail = buf->f_bfree;
	}
	if (max_inodes) {
		long used = atomic_long_read(&sbi->used_inodes);

		buf->f_files = max_inodes;
		buf->f_ffree = max_inodes > used ? max_inodes - used : 0;
	}
	return 0;
}

static int mpcg_show_options(struct seq_file *m, struct dentry *root)
{
	struct mpcg_sb_info *sbi = MPCG_SB(root->d_sb);

	if (sbi->max_chunks)
		seq_printf(m, ",size=%lluk",
			   (u64)sbi->max_chunks << (sbi->chunk_shift - 10));
	if (sbi->max_inodes)
		seq_printf(m, ",nr_inodes=%lu", sbi->max_inodes);
	seq_printf(m, ",chunk=%uk", 1U << (sbi->chunk_shift - 10));
	seq_printf(m, ",policy=%s", mpcg_policy_names[READ_ONCE(sbi->policy)]);
	if (sbi->mode != 01777)
		seq_printf(m, ",mode=%03o", sbi->mode);
	if (!uid_eq(sbi->uid, GLOBAL_ROOT_UID))
		seq_printf(m, ",uid=%u",
			   from_kuid_munged(&init_user_ns, sbi->uid));
	if (!gid_eq(sbi->gid, GLOBAL_ROOT_GID))
		seq_printf(m, ",gid=%u",
			   from_kgid_munged(&init_user_ns, sbi->gid));
	return 0;
}

static struct inode *mpcg_alloc_inode(struct super_block *sb)
{
	struct mpcg_inode_info *info;

	info = alloc_inode_sb(sb, mpcg_inode_cachep, GFP_KERNEL);
	if (!info)
		return NULL;
	/* Set for regular files by mpcg_get_inode(). */
	info->region = NULL;
	info->fsflags = 0;
	return &info->vfs_inode;
}

static void mpcg_free_inode(struct inode *inode)
{
	if (S_ISLNK(inode->i_mode))
		kfree(inode->i_link);
	kmem_cache_free(mpcg_inode_cachep, MPCG_I(inode));
}

static void mpcg_evict_inode(struct inode *inode)
{
	truncate_inode_pages_final(&inode->i_data);
	/* Only regular files have one, unless it could not be created. */
	if (mpcg_region(inode))
		mpcg_region_destroy(mpcg_region(inode));
	clear_inode(inode);
	atomic_long_dec(&MPCG_SB(inode->i_sb)->used_inodes);
}

static const struct super_operations mpcg_super_operations = {
	.alloc_inode	= mpcg_alloc_inode,
	.free_inode	= mpcg_free_inode,
	.evict_inode	= mpcg_evict_inode,
	.drop_inode	= generic_delete_inode,
	.statfs		= mpcg_statfs,
	.show_options	= mpcg_show_options,
};

/*
 * File handles (name_to_handle_at(), open_by_handle_at(), exportfs), as
 * tmpfs has them: a handle is the inode number and generation
 * (FILEID_INO32_GEN: get_next_ino() numbers fit in 32 bits).  Inodes are
 * not in the inode hash until a handle of theirs is made, which is what
 * mpcg_fh_to_dentry() looks them up in; eviction takes them out.  A handle
 * opens its inode while the inode lives (an unlinked file while it is
 * open), and is stale (ESTALE) once it is evicted.  Every dentry of a
 * mount is in the dcache and connected, so no parent is ever looked for.
 */
static int mpcg_inode_is(struct inode *inode, void *data)
{
	struct fid *fid = data;

	return inode->i_ino == fid->i32.ino &&
	       inode->i_generation == fid->i32.gen;
}

static int mpcg_encode_fh(struct inode *inode, u32 *fh, int *len,
			  struct inode *parent)
{
	static DEFINE_SPINLOCK(hash_lock);
	struct fid *fid = (struct fid *)fh;

	if (*len < 2) {
		*len = 2;
		return FILEID_INVALID;
	}
	/* Hash it once: __insert_inode_hash() must not be called twice. */
	if (inode_unhashed(inode)) {
		spin_lock(&hash_lock);
		if (inode_unhashed(inode))
			__insert_inode_hash(inode, inode->i_ino);
		spin_unlock(&hash_lock);
	}
	fid->i32.ino = inode->i_ino;
	fid->i32.gen = inode->i_generation;
	*len = 2;
	return FILEID_INO32_GEN;
}

static struct dentry *mpcg_fh_to_dentry(struct super_block *sb,
					struct fid *fid, int fh_len,
					int fh_type)
{
	struct inode *inode;

	if (fh_len < 2 || fh_type != FILEID_INO32_GEN)
		return NULL;
	inode = ilookup5(sb, fid->i32.ino, mpcg_inode_is, fid);
	/* NULL: exportfs answers ESTALE. */
	return inode ? d_obtain_alias(inode) : NULL;
}

static struct dentry *mpcg_get_parent(struct dentry *child)
{
	/* Never needed: no dentry of the mount is disconnected. */
	return ERR_PTR(-ESTALE);
}

static const struct export_operations mpcg_export_ops = {
	.encode_fh	= mpcg_encode_fh,
	.fh_to_dentry	= mpcg_fh_to_dentry,
	.get_parent	= mpcg_get_parent,
};

static int mpcg_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct mpcg_fs_context *ctx = fc->fs_private;
	struct mpcg_sb_info *sbi;
	struct inode *inode;

	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi)
		return -ENOMEM;
	sb->s_fs_info = sbi;
	mpcg_objects_add(MPCG_OBJ_MOUNTS, 1);
	sbi->chunk_shift = ctx->chunk_shift;
	sbi->max_chunks = mpcg_size_to_chunks(ctx->size, ctx->chunk_shift);
	sbi->max_inodes = ctx->nr_inodes;
	sbi->mode = ctx->mode;
	sbi->uid = ctx->uid;
	sbi->gid = ctx->gid;
	sbi->policy = ctx->policy;

	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_magic = MPCG_SUPER_MAGIC;
	sb->s_op = &mpcg_super_operations;
	sb->s_export_op = &mpcg_export_ops;
	sb->s_time_gran = 1;

	inode = mpcg_get_inode(sb, NULL, S_IFDIR | sbi->mode, 0);
	if (!inode)
		return -ENOMEM;
	inode->i_uid = sbi->uid;
	inode->i_gid = sbi->gid;
	sb->s_root = d_make_root(inode);
	return sb->s_root ? 0 : -ENOMEM;
}

static int mpcg_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, mpcg_fill_super);
}

static int mpcg_reconfigure(struct fs_context *fc)
{
	struct mpcg_fs_context *ctx = fc->fs_private;
	struct mpcg_sb_info *sbi = MPCG_SB(fc->root->d_sb);
	unsigned long max_chunks = 0;

	/* Check everything before changing anything. */
	if ((ctx->seen & BIT(MPCG_OPT_CHUNK)) && ctx->chunk_shift != sbi->chunk_shift)
		return invalfc(fc, "chunk cannot be changed on remount");
	if (ctx->seen & BIT(MPCG_OPT_SIZE)) {
		max_chunks = mpcg_size_to_chunks(ctx->size, sbi->chunk_shift);
		if (max_chunks &&
		    max_chunks < atomic_long_read(&sbi->used_chunks))
			return invalfc(fc, "size=%llu is below the memory in use",
				       ctx->size);
	}
	if ((ctx->seen & BIT(MPCG_OPT_NR_INODES)) && ctx->nr_inodes &&
	    ctx->nr_inodes < atomic_long_read(&sbi->used_inodes))
		return invalfc(fc, "nr_inodes=%lu is below the inodes in use",
			       ctx->nr_inodes);

	if (ctx->seen & BIT(MPCG_OPT_SIZE))
		WRITE_ONCE(sbi->max_chunks, max_chunks);
	if (ctx->seen & BIT(MPCG_OPT_NR_INODES))
		WRITE_ONCE(sbi->max_inodes, ctx->nr_inodes);
	/* The policy of regions created from now on. */
	if (ctx->seen & BIT(MPCG_OPT_POLICY))
		WRITE_ONCE(sbi->policy, ctx->policy);
	return 0;
}

static void mpcg_free_fc(struct fs_context *fc)
{
	kfree(fc->fs_private);
}

static const struct fs_context_operations mpcg_context_ops = {
	.free		= mpcg_free_fc,
	.parse_param	= mpcg_parse_param,
	.get_tree	= mpcg_get_tree,
	.reconfigure	= mpcg_reconfigure,
};

static int mpcg_init_fs_context(struct fs_context *fc)
{
	struct mpcg_fs_context *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->size = mpcg_default_size();
	ctx->nr_inodes = mpcg_default_inodes();
	ctx->chunk_shift = MPCG_CHUNK_SHIFT_DEF;
	ctx->mode = 01777;
	ctx->uid = current_fsuid();
	ctx->gid = current_fsgid();
	ctx->policy = MPCG_POLICY_PROPORTIONAL;
	fc->fs_private = ctx;
	fc->ops = &mpcg_context_ops;
	return 0;
}

static void mpcg_kill_sb(struct super_block *sb)
{
	kill_litter_super(sb);
	if (sb->s_fs_info)
		mpcg_objects_add(MPCG_OBJ_MOUNTS, -1);
	kfree(sb->s_fs_info);
}

static struct file_system_type mpcg_fs_type = {
	.owner			= THIS_MODULE,
	.name			= "mpcg",
	.init_fs_context	= mpcg_init_fs_context,
	.parameters		= mpcg_fs_parameters,
	.kill_sb		= mpcg_kill_sb,
};

static void mpcg_inode_init_once(void *obj)
{
	struct mpcg_inode_info *info = obj;

	inode_init_once(&info->vfs_inode);
}

/**
 * mpcg_fs_init - create the inode cache and register the filesystem type
 *
 * Context: module init.
 *
 * Return: 0 or a negative errno.
 */
int mpcg_fs_init(void)
{
	int err;

	BUILD_BUG_ON(MPCG_CHUNK_SIZE_MIN != 1ULL << MPCG_CHUNK_SHIFT_MIN);
	BUILD_BUG_ON(MPCG_CHUNK_SIZE_MAX != 1ULL << MPCG_CHUNK_SHIFT_MAX);

	mpcg_inode_cachep = kmem_cache_create("mpcg_inode_cache",
					      sizeof(struct mpcg_inode_info), 0,
					      SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
					      mpcg_inode_init_once);
	if (!mpcg_inode_cachep)
		return -ENOMEM;
	err = register_filesystem(&mpcg_fs_type);
	if (err)
		kmem_cache_destroy(mpcg_inode_cachep);
	return err;
}

/**
 * mpcg_fs_exit - unregister the filesystem type and free the inode cache
 *
 * Context: module exit; waits for an RCU grace period.
 */
void mpcg_fs_exit(void)
{
	unregister_filesystem(&mpcg_fs_type);
	/* Inodes are freed after an RCU grace period. */
	rcu_barrier();
	kmem_cache_destroy(mpcg_inode_cachep);
}

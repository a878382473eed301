// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg: multi-process control groups for shared memory.
 *
 * Module entry points.  Owns nothing but the order in which the parts are
 * brought up and torn down.
 */
#include <linux/module.h>

#include "mpcg.h"

static int __init mpcg_init(void)
{
	int err;

	err = mpcg_ctl_init();
	if (err)
		return err;
	err = mpcg_chunk_cache_init();
	if (err)
		goto out_ctl;
	err = mpcg_regions_init();
	if (err)
		goto out_chunks;
	err = mpcg_fs_init();
	if (err)
		goto out_regions;
	mpcg_stats_init();
	return 0;

out_regions:
	mpcg_regions_exit();
out_chunks:
	mpcg_chunk_cache_exit();
out_ctl:
	mpcg_ctl_exit();
	return err;
}

static void __exit mpcg_exit(void)
{
	mpcg_fs_exit();
	mpcg_stats_exit();
	mpcg_regions_exit();
	mpcg_chunk_cache_exit();
	mpcg_ctl_exit();
}

module_init(mpcg_init);
module_exit(mpcg_exit);

MODULE_DESCRIPTION("mpcg: fair memory cgroup charging of shared memory");
MODULE_AUTHOR("The mpcg developers");
MODULE_LICENSE("GPL");
MODULE_ALIAS_FS("mpcg");

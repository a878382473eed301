// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg object counters: how many mounts, regions, members, attachments,
 * chunks and chunk pages exist right now, over the whole module.
 *
 * They are shown in debugfs as mpcg/objects ("name count" lines), so that
 * tests can check that everything a workload created is gone once its
 * files, mappings and mounts are.  The counters are atomics, changed where
 * each object is created and freed; they take no lock and can be read at
 * any time (a reading taken while objects come and go is not a snapshot).
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "mpcg.h"

atomic_long_t mpcg_objects[MPCG_NR_OBJECTS];

static const char *const mpcg_object_names[MPCG_NR_OBJECTS] = {
	[MPCG_OBJ_MOUNTS]	= "mounts",
	[MPCG_OBJ_REGIONS]	= "regions",
	[MPCG_OBJ_MEMBERS]	= "members",
	[MPCG_OBJ_ATTACHMENTS]	= "attachments",
	[MPCG_OBJ_CHUNKS]	= "chunks",
	[MPCG_OBJ_PAGES]	= "pages",
};

static struct dentry *mpcg_debugfs_dir;

static int mpcg_objects_show(struct seq_file *m, void *v)
{
	unsigned int i;

	for (i = 0; i < MPCG_NR_OBJECTS; i++)
		seq_printf(m, "%s %ld\n", mpcg_object_names[i],
			   atomic_long_read(&mpcg_objects[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mpcg_objects);

/**
 * mpcg_stats_init - create the debugfs files
 *
 * Context: module init.  Without debugfs (or if it cannot be set up) the
 * counters still count; they are only not shown.
 */
void mpcg_stats_init(void)
{
	mpcg_debugfs_dir = debugfs_create_dir("mpcg", NULL);
	debugfs_create_file("objects", 0400, mpcg_debugfs_dir, NULL,
			    &mpcg_objects_fops);
}

/**
 * mpcg_stats_exit - remove the debugfs files
 *
 * Context: module exit.
 */
void mpcg_stats_exit(void)
{
	debugfs_remove(mpcg_debugfs_dir);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The cgroups of one engine test (engine.h): mpcg_cgs, their names, and
 * the setup and teardown the engine tests share.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cgroup.h"
#include "engine.h"
#include "kernel.h"

struct mpcg_cg mpcg_cgs[MPCG_MAX_CGS];
int mpcg_ncgs;

struct mpcg_cg *mpcg_cg_add(const char *name)
{
	struct mpcg_cg *cg;

	if (mpcg_ncgs == MPCG_MAX_CGS) {
		errno = ENOSPC;
		return NULL;
	}
	cg = &mpcg_cgs[mpcg_ncgs];
	memset(cg, 0, sizeof(*cg));
	snprintf(cg->name, sizeof(cg->name), "%s", name);
	if (cg_create(cg->path, sizeof(cg->path), name))
		return NULL;
	cg->id = cg_id(cg->path);
	cg_drain_stocks();
	cg->base = cg_charge(cg->path);
	if (!cg->id || cg->base < 0)
		return NULL;
	mpcg_ncgs++;
	return cg;
}

long mpcg_engine_setup(struct mpcg_cg **a, struct mpcg_cg **b,
		       struct mpcg_cg **c)
{
	long old = mpcg_param_read("auto_reassess_ms");
	int e;

	if (old < 0)
		return -1;
	*a = mpcg_cg_add("a");
	*b = *a ? mpcg_cg_add("b") : NULL;
	*c = *b ? mpcg_cg_add("c") : NULL;
	if (*c && !mpcg_param_write("auto_reassess_ms", 0))
		return old;
	e = errno;
	cg_parent_remove();
	cg_drain_remove();
	errno = e;
	return -1;
}

void mpcg_engine_teardown(char *dir, long *old_auto)
{
	if (dir[0]) {
		if (umount2(dir, 0))
			umount2(dir, MNT_DETACH);
		rmdir(dir);
		dir[0] = '\0';
	}
	cg_parent_remove();
	cg_drain_remove();
	if (*old_auto >= 0)
		mpcg_param_write("auto_reassess_ms", *old_auto);
	*old_auto = -1;
}

const char *mpcg_cg_name(unsigned long long id)
{
	static char bufs[4][32];
	static int next;
	char *b;
	int i;

	for (i = 0; i < mpcg_ncgs; i++)
		if (mpcg_cgs[i].id == id)
			return mpcg_cgs[i].name;
	if (id == cg_id(CGROUP_ROOT))
		return "root";
	if (cg_parent[0] && id == cg_id(cg_parent))
		return "parent";
	b = bufs[next++ % 4];
	snprintf(b, sizeof(bufs[0]), "cg#%llu", id);
	return b;
}

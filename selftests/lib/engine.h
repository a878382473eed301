/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cgroups of one engine test and their common setup: the cgroups
 * under cg_parent that the checker knows (struct mpcg_cg: their id and
 * their charge when they were created, against which it compares what
 * they pay), printable names for cgroup ids, and the setup and teardown
 * shared by engine_test and engine_abi_test.
 */
#ifndef MPCG_TEST_ENGINE_H
#define MPCG_TEST_ENGINE_H

#include <limits.h>

#include "common.h"

struct mpcg_cg {
	char name[16];
	char path[PATH_MAX];
	unsigned long long id;
	long base;		/* cg_charge() when created */
	int removed;		/* rmdir()ed by the test: not checked */
};

#define MPCG_MAX_CGS	8
extern struct mpcg_cg mpcg_cgs[MPCG_MAX_CGS];
extern int mpcg_ncgs;

/* Create cgroup @name under cg_parent and add it to mpcg_cgs. */
struct mpcg_cg *mpcg_cg_add(const char *name);

/* A printable name for a cgroup id: a test cgroup's, "root", "parent". */
const char *mpcg_cg_name(unsigned long long id);

/*
 * The common setup of the engine tests: cgroups a, b and c under the test
 * parent, and the automatic reassessment off, so that only the test's own
 * reassessments move chunks.  Returns the old auto_reassess_ms (to put back
 * at the end), or -1 with errno after removing what it made.
 */
long mpcg_engine_setup(struct mpcg_cg **a, struct mpcg_cg **b,
		       struct mpcg_cg **c);

/*
 * The common end of the engine tests, after their workers are gone and
 * their files closed: unmount @dir (lazily if still busy) and remove it,
 * remove the test cgroups, and put back auto_reassess_ms (*@old_auto, if
 * not -1; it becomes -1).
 */
void mpcg_engine_teardown(char *dir, long *old_auto);

#endif /* MPCG_TEST_ENGINE_H */

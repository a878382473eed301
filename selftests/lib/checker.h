/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The checker of the engine's invariants.  It works out, independently of
 * the kernel, who shares each chunk (from the policy, the member table and
 * the chunks' touchers), each cgroup's fair share and the range of chunks
 * it may pay, and the fewest chunk moves that reach such a state, and
 * compares all of it with what the kernel reports (snapshots, snapshot.h)
 * and charges (the cgroups of engine.h).  Problems are printed as
 * "# check: " lines; the functions return how many there were.
 */
#ifndef MPCG_TEST_CHECKER_H
#define MPCG_TEST_CHECKER_H

#include <linux/mpcg.h>

#include "common.h"
#include "snapshot.h"

#define MPCG_CHECK_PENDING	0x1	/* limits may have refused chunks */
#define MPCG_CHECK_CHARGES	0x2	/* compare paid bytes with cg_charge() */

/* kernel objects and per-cpu charge caches, with chunk=1M */
#define MPCG_CHARGE_TOL		(512 * KiB)

/*
 * Everything that must hold of one snapshot taken while nothing changes
 * the region, right after a reassessment (the members' fair shares are "as
 * of the last reassessment").  Unless MPCG_CHECK_PENDING: the state is
 * ASSESSED, each chunk is paid by one of its sharers, each cgroup pays
 * floor or ceil of its fair share in chunks, and nobody has a shortfall.
 * Returns the number of problems.
 */
int mpcg_check_snap(const struct mpcg_snap *s, unsigned int flags);

/*
 * Check a reassessment @r that took the region from @b to @a (snapshots
 * taken while nothing else changed it): @a passes mpcg_check_snap(), the
 * counters add up, the chunks that changed payer are the ones it reports
 * moving, and (unless MPCG_CHECK_PENDING) that is the fewest that could
 * reach an assessed state from @b.
 */
int mpcg_check_reassess(const struct mpcg_snap *b, const struct mpcg_snap *a,
			const struct mpcg_reassess *r, unsigned int flags);

/*
 * Reassess the region of @fd now (mpcg_region_reassess()) and check it
 * (mpcg_check_reassess()); dump both snapshots if anything is wrong.  The
 * snapshot after it goes to @after and the result to @r if not NULL.
 * Returns the number of problems, or -1 with errno if a call failed.
 */
int mpcg_reassess_check(int fd, unsigned int flags, struct mpcg_snap *after,
			struct mpcg_reassess *r);

#endif /* MPCG_TEST_CHECKER_H */

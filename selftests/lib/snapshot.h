/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A snapshot of a region as libmpcg reads it (its statistics and its
 * member, chunk and attachment tables), questions about it, and its dump
 * for the log of a failing test.  Taken while nothing changes the region,
 * it is consistent.
 */
#ifndef MPCG_TEST_SNAPSHOT_H
#define MPCG_TEST_SNAPSHOT_H

#include <stdint.h>
#include <linux/mpcg.h>

#include "common.h"

struct mpcg_snap {
	struct mpcg_region_stat st;
	struct mpcg_member_info *m;	/* NULL if nm is 0; at most 64 */
	long nm;
	struct mpcg_chunk_info *c;	/* in index order; NULL if nc is 0 */
	long nc;
	/* by chunk: bit i, member m[i] touched it (each member's chunk query) */
	uint64_t *touched;
	struct mpcg_attachment_info *a;	/* NULL if na is 0 */
	long na;
};

/*
 * Take a snapshot of the region of @fd: 0, or -1 with errno (EOVERFLOW:
 * more than 64 members, more than the snapshot's toucher masks hold).
 */
int mpcg_snap_take(int fd, struct mpcg_snap *s);
void mpcg_snap_free(struct mpcg_snap *s);

/* The member entry of cgroup @id, NULL if it is no member. */
const struct mpcg_member_info *mpcg_snap_member(const struct mpcg_snap *s,
						unsigned long long id);
/* Bytes that cgroup @id pays for the region, per the member table. */
long mpcg_snap_paid(const struct mpcg_snap *s, unsigned long long id);
/* Chunks of cgroup @id, per the chunk table. */
long mpcg_snap_chunks_of(const struct mpcg_snap *s, unsigned long long id);
/* Did cgroup @id touch chunk @ci (an index of s->c)? */
int mpcg_snap_touched(const struct mpcg_snap *s, long ci, unsigned long long id);

/* Print a snapshot as "# " lines, for the log of a failing test. */
void mpcg_snap_dump(const char *what, const struct mpcg_snap *s);

#endif /* MPCG_TEST_SNAPSHOT_H */

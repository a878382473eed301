// SPDX-License-Identifier: GPL-2.0
/*
 * Region snapshots (snapshot.h), read with libmpcg, and their dump.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmpcg.h"
#include "cgroup.h"
#include "engine.h"
#include "snapshot.h"

void mpcg_snap_free(struct mpcg_snap *s)
{
	free(s->m);
	free(s->c);
	free(s->a);
	free(s->touched);
	memset(s, 0, sizeof(*s));
}

/* Who touched each chunk: the chunk table of each member, in index order. */
static int snap_touchers(int fd, struct mpcg_snap *s)
{
	long i, j, k;

	s->touched = calloc(s->nc ? s->nc : 1, sizeof(*s->touched));
	if (!s->touched)
		return -ENOMEM;
	for (i = 0; i < s->nm; i++) {
		struct mpcg_chunk_info *c;
		long n = mpcg_region_chunks(fd, s->m[i].cgroup_id, &c);

		if (n < 0)
			return n;
		for (j = 0, k = 0; j < n && k < s->nc; k++) {
			if (s->c[k].index != c[j].index)
				continue;
			s->touched[k] |= 1ULL << i;
			j++;
		}
		free(c);
		if (j != n)	/* a chunk of its own not in the full table */
			return -EAGAIN;
	}
	return 0;
}

int mpcg_snap_touched(const struct mpcg_snap *s, long ci, unsigned long long id)
{
	long i;

	for (i = 0; i < s->nm; i++)
		if (s->m[i].cgroup_id == id)
			return s->touched[ci] >> i & 1;
	return 0;
}

int mpcg_snap_take(int fd, struct mpcg_snap *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	err = mpcg_region_get_stat(fd, &s->st);
	if (!err) {
		s->nm = mpcg_region_members(fd, &s->m);
		s->nc = mpcg_region_chunks(fd, 0, &s->c);
		s->na = mpcg_region_attachments(fd, &s->a);
		err = s->nm < 0 ? s->nm : s->nc < 0 ? s->nc :
		      s->na < 0 ? s->na : s->nm > 64 ? -EOVERFLOW : 0;
	}
	if (!err)
		err = snap_touchers(fd, s);
	if (err) {
		mpcg_snap_free(s);
		errno = -err;
		return -1;
	}
	return 0;
}

const struct mpcg_member_info *mpcg_snap_member(const struct mpcg_snap *s,
						unsigned long long id)
{
	long i;

	for (i = 0; i < s->nm; i++)
		if (s->m[i].cgroup_id == id)
			return &s->m[i];
	return NULL;
}

long mpcg_snap_paid(const struct mpcg_snap *s, unsigned long long id)
{
	const struct mpcg_member_info *m = mpcg_snap_member(s, id);

	return m ? (long)m->paid_bytes : 0;
}

long mpcg_snap_chunks_of(const struct mpcg_snap *s, unsigned long long id)
{
	long i, n = 0;

	for (i = 0; i < s->nc; i++)
		n += s->c[i].payer_cgroup_id == id;
	return n;
}

void mpcg_snap_dump(const char *what, const struct mpcg_snap *s)
{
	const struct mpcg_region_stat *st = &s->st;
	const char *policy = mpcg_policy_name(st->policy);
	const char *state = mpcg_state_name(st->state);
	long i, j, k;

	fprintf(stderr, "# %s: %s %s, %.2fM resident, owner %s, %u members, %u attachments, %llu reassessments, %llu chunks moved, shortfall %.2fM\n",
		what, policy ? policy : "policy?", state ? state : "state?",
		MB(st->resident_bytes), mpcg_cg_name(st->owner_cgroup_id),
		st->nr_members, st->nr_attachments,
		(unsigned long long)st->reassessments,
		(unsigned long long)st->chunks_moved, MB(st->shortfall_bytes));
	for (i = 0; i < s->nm; i++) {
		const struct mpcg_member_info *m = &s->m[i];
		long charge = -1;

		for (j = 0; j < mpcg_ncgs; j++)
			if (mpcg_cgs[j].id == m->cgroup_id &&
			    !mpcg_cgs[j].removed)
				charge = cg_charge(mpcg_cgs[j].path) -
					 mpcg_cgs[j].base;
		fprintf(stderr, "#   member %-6s id %2u flags %#x attachments %u touched %.2fM fair %.2fM paid %.2fM shortfall %.2fM peak %.2fM charge %.2fM\n",
			mpcg_cg_name(m->cgroup_id), m->id, m->flags,
			m->nr_attachments, MB(m->touched_bytes),
			MB(m->fair_share_bytes), MB(m->paid_bytes),
			MB(m->shortfall_bytes), MB(m->peak_paid_bytes),
			MB(charge));
	}
	for (i = 0; i < s->na; i++)
		fprintf(stderr, "#   attachment pid %u %.16s %s of %s [%llu, +%llu)\n",
			s->a[i].pid, (const char *)s->a[i].comm,
			s->a[i].kind == MPCG_ATTACH_FILE ? "file" :
			s->a[i].kind == MPCG_ATTACH_MAP ? "map" : "kind?",
			mpcg_cg_name(s->a[i].cgroup_id),
			(unsigned long long)s->a[i].offset,
			(unsigned long long)s->a[i].length);
	/* Chunks, in runs that have the same payer, touchers and first. */
	for (i = 0; i < s->nc; i = j) {
		const struct mpcg_chunk_info *c = &s->c[i];
		char t[256] = "";

		for (j = i + 1; j < s->nc; j++)
			if (s->c[j].payer_cgroup_id != c->payer_cgroup_id ||
			    s->touched[j] != s->touched[i] ||
			    s->c[j].first_cgroup_id != c->first_cgroup_id ||
			    s->c[j].index != c->index + (j - i))
				break;
		for (k = 0; k < s->nm; k++)
			if (s->touched[i] >> k & 1)
				snprintf(t + strlen(t), sizeof(t) - strlen(t),
					 "%s%s", t[0] ? "," : "",
					 mpcg_cg_name(s->m[k].cgroup_id));
		fprintf(stderr, "#   chunks %llu-%llu: payer %s, touched by {%s} (%u), first %s\n",
			(unsigned long long)c->index,
			(unsigned long long)s->c[j - 1].index,
			mpcg_cg_name(c->payer_cgroup_id), t, c->nr_touchers,
			c->first_cgroup_id ? mpcg_cg_name(c->first_cgroup_id) : "-");
	}
}

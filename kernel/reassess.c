// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg reassessment: fair shares, and moving the fewest chunks to reach them.
 *
 * Owns the policies, the assessed/pending state a reassessment leaves, and
 * the algorithm.  region.c runs it (mpcg_reassess(), with
 * region->reassess_lock held) after giving a removed owner's ownership to
 * its nearest live ancestor, and schedules the retry its outcome asks for;
 * nothing here calls region.c.  The steps, one function each:
 *
 *  1. Types (mpcg_plan_types()).  Every resident chunk gets its set of
 *     sharers from the policy (a bitmask of member slots).  Chunks with the
 *     same sharers form a type.
 *  2. Targets (mpcg_plan_targets()).  A member's fair share is the sum over
 *     types it is in of n(type) / |sharers(type)| chunks.  Its target is
 *     that number rounded down or up (lo, hi): then |paid - fair| < one
 *     chunk.
 *  3. Plan (mpcg_plan_flow()).  A min-cost flow finds how many chunks of
 *     each type each member pays: source -> type (capacity n), type ->
 *     member in its sharers (a "keep" edge of cost 0 with capacity = chunks
 *     of the type it pays now, and a "move" edge of cost 1), member -> sink
 *     (lo chunks at a large negative cost, hi - lo more at cost 0).  An
 *     integral solution that meets every lower bound exists (rounding a
 *     fractional assignment in a bipartite graph), and the cheapest one
 *     moves the fewest chunks: a chunk moves exactly when it is routed over
 *     a move edge.  Should a lower bound not be met all the same, that is a
 *     bug: it warns, moves nothing and leaves the region pending.
 *  4. Moves (mpcg_plan_moves(), mpcg_plan_record()).  A second walk over
 *     the chunks moves those the plan routes over a move edge: new pages
 *     charged to the new payer (never OOM-killing it), copy, free the old
 *     ones.  A payer whose limit refuses a chunk leaves it where it is; the
 *     chunk counts as that member's shortfall and the region stays
 *     pending, retried later with exponential backoff.  Every member's fair
 *     share and shortfall are recorded.
 *  5. Clean-up (mpcg_free_departed()).  Members that have left and pay for
 *     nothing are freed (their marks in the chunks cleared first), dropping
 *     their memory cgroup reference.
 *
 * The region ends assessed (mpcg_plan_end()) only if nothing changed
 * meanwhile, every planned move succeeded and every chunk had a plan.
 *
 * Locking: region->reassess_lock is held throughout (by region.c);
 * chunk_sem is held for read while the chunks are walked (steps 1 and 5)
 * and around each move (step 4); region->lock for snapshots of the member
 * slots; mpcg_index_lock in step 5.  Touches that happen meanwhile bump
 * region->gen and leave the region pending.
 */
#include <linux/bitops.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/memcontrol.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "mpcg.h"
#include "trace.h"

const char *const mpcg_policy_names[MPCG_NR_POLICIES] = {
	[MPCG_POLICY_PROPORTIONAL] = "proportional",
	[MPCG_POLICY_EQUAL] = "equal",
	[MPCG_POLICY_FIRST_TOUCH] = "first-touch",
	[MPCG_POLICY_OWNER] = "owner",
};

#define MPCG_MAX_TYPES		256
#define MPCG_TYPE_HASH		512	/* 2 * MPCG_MAX_TYPES, a power of 2 */

/* Who shares the cost of @c under @policy: a mask of member slots. */
static u64 mpcg_sharers(unsigned int policy, const struct mpcg_chunk *c,
			u64 active, unsigned int owner)
{
	u64 t;

	switch (policy) {
	case MPCG_POLICY_PROPORTIONAL:
		t = READ_ONCE(c->touched) & active;
		if (t)
			return t;
		fallthrough;
	case MPCG_POLICY_EQUAL:
		if (active)
			return active;
		break;
	case MPCG_POLICY_FIRST_TOUCH:
		if (c->first != MPCG_NO_SLOT && (active & BIT_ULL(c->first)))
			return BIT_ULL(c->first);
		break;
	}
	return BIT_ULL(owner);
}

/* Chunks with the same sharers, and what the plan does with them. */
struct mpcg_type {
	u64 mask;
	u32 n;
	u32 have[MPCG_MAX_MEMBERS];	/* paid now by each sharer */
	u32 stay[MPCG_MAX_MEMBERS];	/* plan: stay with each sharer */
	u32 in[MPCG_MAX_MEMBERS];	/* plan: move to each sharer */
	int keep_edge[MPCG_MAX_MEMBERS];
	int move_edge[MPCG_MAX_MEMBERS];
};

/* One reassessment: its snapshot of the region, its plan and its results. */
struct mpcg_plan {
	unsigned long gen;		/* region->gen when it started */
	u64 t0;				/* start, for the end tracepoint */
	u64 active;
	unsigned int owner;
	unsigned int policy;
	unsigned int nr_types;
	bool overflow;			/* more sharer sets than MPCG_MAX_TYPES */
	bool unplanned;			/* a chunk, or the flow, had no plan */
	bool interrupted;		/* a fatal signal cut step 4 short */
	bool failed;			/* a member has a shortfall */
	u64 moved;			/* chunks moved */
	u64 nr_chunks;
	u16 hash[MPCG_TYPE_HASH];	/* type index + 1, 0: empty */
	struct mpcg_type types[MPCG_MAX_TYPES];
	u64 fair[MPCG_MAX_MEMBERS];	/* 32.32 fixed point, in chunks */
	u32 lo[MPCG_MAX_MEMBERS];
	u32 hi[MPCG_MAX_MEMBERS];
	u32 shortfall[MPCG_MAX_MEMBERS];
	u64 refused;			/* payers whose limit refused a chunk */
};

static struct mpcg_type *mpcg_type_get(struct mpcg_plan *p, u64 mask,
				       bool add)
{
	unsigned int h = hash_64(mask, ilog2(MPCG_TYPE_HASH));
	struct mpcg_type *t;

	for (;; h = (h + 1) & (MPCG_TYPE_HASH - 1)) {
		if (!p->hash[h])
			break;
		t = &p->types[p->hash[h] - 1];
		if (t->mask == mask)
			return t;
	}
	if (!add)
		return NULL;
	if (p->nr_types == MPCG_MAX_TYPES) {
		p->overflow = true;
		return NULL;
	}
	t = &p->types[p->nr_types++];
	t->mask = mask;
	p->hash[h] = p->nr_types;
	return t;
}

/* A min-cost flow network, solved by successive shortest paths. */
struct mpcg_flow_edge {
	int to;
	int next;
	s64 cap;
	s64 cost;
};

struct mpcg_flow {
	int nr_nodes;
	int nr_edges;
	int *head;
	int *prev;
	int *queue;
	bool *queued;
	s64 *dist;
	struct mpcg_flow_edge *e;
};

static int mpcg_flow_init(struct mpcg_flow *f, int nodes, int edges)
{
	/* Sized by the region; a failure only fails this reassessment. */
	const gfp_t gfp = GFP_KERNEL | __GFP_NOWARN;

	f->nr_nodes = nodes;
	f->nr_edges = 0;
	f->head = kvmalloc_array(nodes, sizeof(int), gfp);
	f->prev = kvmalloc_array(nodes, sizeof(int), gfp);
	f->queue = kvmalloc_array(nodes, sizeof(int), gfp);
	f->queued = kvmalloc_array(nodes, sizeof(bool), gfp);
	f->dist = kvmalloc_array(nodes, sizeof(s64), gfp);
	f->e = kvmalloc_array(2 * edges, sizeof(*f->e), gfp);
	if (!f->head || !f->prev || !f->queue || !f->queued || !f->dist ||
	    !f->e)
		return -ENOMEM;
	memset(f->head, 0xff, nodes * sizeof(int));
	return 0;
}

static void mpcg_flow_free(struct mpcg_flow *f)
{
	kvfree(f->head);
	kvfree(f->prev);
	kvfree(f->queue);
	kvfree(f->queued);
	kvfree(f->dist);
	kvfree(f->e);
}

/* Add an edge and its residual twin; returns the edge's index. */
static int mpcg_flow_edge(struct mpcg_flow *f, int u, int v, s64 cap, s64 cost)
{
	int k = f->nr_edges;

	f->e[k] = (struct mpcg_flow_edge){ v, f->head[u], cap, cost };
	f->head[u] = k;
	f->e[k + 1] = (struct mpcg_flow_edge){ u, f->head[v], 0, -cost };
	f->head[v] = k + 1;
	f->nr_edges += 2;
	return k;
}

static s64 mpcg_flow_used(const struct mpcg_flow *f, int k)
{
	return f->e[k ^ 1].cap;
}

/* Cheapest path from @s to @t in the residual graph (Bellman-Ford, SPFA). */
static bool mpcg_flow_path(struct mpcg_flow *f, int s, int t)
{
	int qh = 0, qt = 0, n = f->nr_nodes, u, k;

	for (u = 0; u < n; u++) {
		f->dist[u] = S64_MAX;
		f->queued[u] = false;
	}
	f->dist[s] = 0;
	f->queue[qt++] = s;
	f->queued[s] = true;
	while (qh != qt) {
		u = f->queue[qh];
		qh = (qh + 1) % n;
		f->queued[u] = false;
		for (k = f->head[u]; k >= 0; k = f->e[k].next) {
			int v = f->e[k].to;
			s64 d = f->dist[u] + f->e[k].cost;

			if (f->e[k].cap <= 0 || d >= f->dist[v])
				continue;
			f->dist[v] = d;
			f->prev[v] = k;
			if (!f->queued[v]) {
				f->queue[qt] = v;
				qt = (qt + 1) % n;
				f->queued[v] = true;
			}
		}
	}
	return f->dist[t] != S64_MAX;
}

static void mpcg_flow_solve(struct mpcg_flow *f, int s, int t)
{
	while (mpcg_flow_path(f, s, t)) {
		s64 push = S64_MAX;
		int v;

		for (v = t; v != s; v = f->e[f->prev[v] ^ 1].to)
			push = min(push, f->e[f->prev[v]].cap);
		for (v = t; v != s; v = f->e[f->prev[v] ^ 1].to) {
			f->e[f->prev[v]].cap -= push;
			f->e[f->prev[v] ^ 1].cap += push;
		}
		cond_resched();
	}
}

/*
 * Step 2: fair shares and targets.  Each type adds floor(2^32 n / k) per
 * sharer, so a sum falls short of the exact value by less than one unit per
 * type; a sum within that distance of a whole number is that number.
 */
static void mpcg_plan_targets(struct mpcg_plan *p)
{
	unsigned int i, m;

	memset(p->fair, 0, sizeof(p->fair));
	for (i = 0; i < p->nr_types; i++) {
		struct mpcg_type *t = &p->types[i];
		u64 share = div_u64((u64)t->n << 32, hweight64(t->mask));

		for_each_set_bit(m, (unsigned long *)&t->mask, MPCG_MAX_MEMBERS)
			p->fair[m] += share;
	}
	for (m = 0; m < MPCG_MAX_MEMBERS; m++) {
		u64 f = p->fair[m];
		u64 up = f + p->nr_types;

		if ((up >> 32) != (f >> 32) || !(f & 0xffffffffULL)) {
			/* A whole number, up to rounding. */
			p->lo[m] = up >> 32;
			p->hi[m] = up >> 32;
			p->fair[m] = (u64)p->lo[m] << 32;
		} else {
			p->lo[m] = f >> 32;
			p->hi[m] = p->lo[m] + 1;
		}
	}
}

/*
 * Step 3: how many chunks of each type stay with or move to each sharer.
 * Returns 0 or -ENOMEM.  A flow that misses a lower bound (which cannot
 * happen: see the header) leaves no plan: p->unplanned.
 */
static int mpcg_plan_flow(struct mpcg_plan *p)
{
	int src = 0, sink = 1, type0 = 2, member0 = 2 + p->nr_types;
	int nodes = member0 + MPCG_MAX_MEMBERS, edges = 2 * MPCG_MAX_MEMBERS;
	int lower[MPCG_MAX_MEMBERS];
	s64 big = nodes + 1;
	struct mpcg_flow f;
	unsigned int i, m;
	int err;

	for (i = 0; i < p->nr_types; i++)
		edges += 1 + 2 * hweight64(p->types[i].mask);
	err = mpcg_flow_init(&f, nodes, edges);
	if (err)
		goto out;

	for (i = 0; i < p->nr_types; i++) {
		struct mpcg_type *t = &p->types[i];

		mpcg_flow_edge(&f, src, type0 + i, t->n, 0);
		for_each_set_bit(m, (unsigned long *)&t->mask, MPCG_MAX_MEMBERS) {
			t->keep_edge[m] = mpcg_flow_edge(&f, type0 + i,
							 member0 + m,
							 t->have[m], 0);
			t->move_edge[m] = mpcg_flow_edge(&f, type0 + i,
							 member0 + m,
							 t->n, 1);
		}
	}
	for (m = 0; m < MPCG_MAX_MEMBERS; m++) {
		lower[m] = mpcg_flow_edge(&f, member0 + m, sink, p->lo[m], -big);
		mpcg_flow_edge(&f, member0 + m, sink, p->hi[m] - p->lo[m], 0);
	}
	mpcg_flow_solve(&f, src, sink);

	for (m = 0; m < MPCG_MAX_MEMBERS; m++) {
		if (WARN_ON_ONCE(mpcg_flow_used(&f, lower[m]) != p->lo[m])) {
			p->unplanned = true;
			goto out;
		}
	}
	for (i = 0; i < p->nr_types; i++) {
		struct mpcg_type *t = &p->types[i];

		for_each_set_bit(m, (unsigned long *)&t->mask, MPCG_MAX_MEMBERS) {
			t->stay[m] = mpcg_flow_used(&f, t->keep_edge[m]);
			t->in[m] = mpcg_flow_used(&f, t->move_edge[m]);
		}
	}
out:
	mpcg_flow_free(&f);
	return err;
}

/* Step 1: types of all resident chunks. */
static void mpcg_plan_types(struct mpcg_region *r, struct mpcg_plan *p)
{
	struct mpcg_chunk *c;
	unsigned long ci;

	down_read(&r->chunk_sem);
	xa_for_each(&r->chunks, ci, c) {
		u64 mask = mpcg_sharers(p->policy, c, p->active, p->owner);
		struct mpcg_type *t = mpcg_type_get(p, mask, true);
		unsigned int payer = READ_ONCE(c->payer);

		p->nr_chunks++;
		if (!t)
			continue;
		t->n++;
		if (mask & BIT_ULL(payer))
			t->have[payer]++;
	}
	up_read(&r->chunk_sem);
}

/*
 * Step 4: carry the plan out, counting the moves in p->moved.  Sets
 * p->unplanned when a chunk had no plan (it appeared, or its sharers
 * changed, after step 1, or its type did not fit), p->interrupted when a
 * fatal signal stopped it.
 */
static void mpcg_plan_moves(struct mpcg_region *r, struct mpcg_plan *p)
{
	unsigned long ci = 0;

	for (;; ci++) {
		struct mpcg_member *to = NULL;
		struct mpcg_type *t;
		struct mpcg_chunk *c;
		unsigned int payer, m;
		u64 mask;

		down_read(&r->chunk_sem);
		c = xa_find(&r->chunks, &ci, ULONG_MAX, XA_PRESENT);
		if (!c) {
			up_read(&r->chunk_sem);
			break;
		}
		mask = mpcg_sharers(p->policy, c, p->active, p->owner);
		t = mpcg_type_get(p, mask, false);
		payer = c->payer;
		if (t && (mask & BIT_ULL(payer)) && t->stay[payer]) {
			t->stay[payer]--;
		} else if (t) {
			for_each_set_bit(m, (unsigned long *)&mask,
					 MPCG_MAX_MEMBERS) {
				if (t->in[m]) {
					t->in[m]--;
					to = r->members[m];
					break;
				}
			}
			if (!to)
				p->unplanned = true;
		} else {
			p->unplanned = true;
		}
		if (to) {
			/*
			 * One refusal per payer and pass is enough: each try
			 * costs that cgroup a round of reclaim.
			 */
			if ((p->refused & BIT_ULL(to->slot)) ||
			    mpcg_chunk_move(r, ci, c, to)) {
				p->refused |= BIT_ULL(to->slot);
				p->shortfall[to->slot]++;
				trace_mpcg_shortfall(mpcg_region_dev(r),
						     mpcg_region_inode(r)->i_ino,
						     ci, to->cgroup_id,
						     mpcg_chunk_size(r));
			} else {
				p->moved++;
			}
		}
		up_read(&r->chunk_sem);
		if (fatal_signal_pending(current)) {
			p->interrupted = true;
			break;
		}
		cond_resched();
	}
}

/*
 * The end of step 4: the reassessment's count, and every member's fair
 * share (in bytes) and shortfall, as of this reassessment.
 */
static void mpcg_plan_record(struct mpcg_region *r, struct mpcg_plan *p)
{
	unsigned int m;

	r->reassessments++;
	r->chunks_moved += p->moved;
	r->shortfall = 0;
	spin_lock(&r->lock);
	for (m = 0; m < MPCG_MAX_MEMBERS; m++) {
		struct mpcg_member *mb = r->members[m];

		if (!mb)
			continue;
		/*
		 * 32.32 fixed point chunks to bytes: fair * 2^shift / 2^32,
		 * exact for any region size (shifting left first wrapped
		 * at 4 GiB).
		 */
		BUILD_BUG_ON(MPCG_CHUNK_SHIFT_MAX >= 32);
		WRITE_ONCE(mb->fair, p->fair[m] >> (32 - r->chunk_shift));
		WRITE_ONCE(mb->shortfall, p->shortfall[m]);
		r->shortfall += p->shortfall[m];
		if (p->shortfall[m])
			p->failed = true;
	}
	spin_unlock(&r->lock);
}

/*
 * Step 5: free members that left and pay for nothing.  Their touch bits
 * (and first-toucher marks) are cleared first, so that their slots can be
 * reused.  The index lock keeps them from being revived meanwhile.
 */
static void mpcg_free_departed(struct mpcg_region *r)
{
	unsigned int m;
	u64 doomed;

	mutex_lock(&mpcg_index_lock);
	down_read(&r->chunk_sem);
	doomed = mpcg_members_unused(r);
	if (doomed) {
		mpcg_chunks_forget(r, doomed);
		for_each_set_bit(m, (unsigned long *)&doomed, MPCG_MAX_MEMBERS)
			mpcg_member_free_unused(r, r->members[m]);
	}
	up_read(&r->chunk_sem);
	mutex_unlock(&mpcg_index_lock);
}

/* Before step 1: what the reassessment starts from. */
static void mpcg_plan_start(struct mpcg_region *r, struct mpcg_plan *p)
{
	p->gen = atomic_long_read(&r->gen);
	spin_lock(&r->lock);
	p->active = r->active;
	p->owner = r->owner->slot;
	spin_unlock(&r->lock);
	p->policy = READ_ONCE(r->policy);
	/* Only the end tracepoint's duration needs the clock. */
	if (trace_mpcg_reassess_end_enabled())
		p->t0 = ktime_get_ns();
	trace_mpcg_reassess_start(mpcg_region_dev(r),
				  mpcg_region_inode(r)->i_ino, p->policy,
				  hweight64(p->active),
				  atomic_long_read(&r->nr_chunks) *
				  mpcg_chunk_size(r));
}

/*
 * After step 5: the region is assessed only if nothing changed since the
 * start, every chunk had a plan and every planned move succeeded.  Returns
 * what is left to be done; @err is what mpcg_reassess() returns.
 */
static enum mpcg_outcome mpcg_plan_end(struct mpcg_region *r,
				       struct mpcg_plan *p, int err)
{
	enum mpcg_outcome outcome;

	if (!err && !p->failed && !p->unplanned && !p->overflow &&
	    atomic_long_read(&r->gen) == p->gen) {
		WRITE_ONCE(r->state, MPCG_STATE_ASSESSED);
		outcome = MPCG_OUTCOME_ASSESSED;
	} else {
		WRITE_ONCE(r->state, MPCG_STATE_PENDING);
		outcome = p->failed ? MPCG_OUTCOME_BACKOFF : MPCG_OUTCOME_RETRY;
	}
	/* Duration 0 if tracing was turned on during this reassessment. */
	if (trace_mpcg_reassess_end_enabled())
		trace_mpcg_reassess_end(mpcg_region_dev(r),
					mpcg_region_inode(r)->i_ino, p->moved,
					p->moved * mpcg_chunk_size(r),
					p->t0 ? ktime_get_ns() - p->t0 : 0,
					(u64)r->shortfall * mpcg_chunk_size(r),
					r->state, err);
	return outcome;
}

/**
 * mpcg_reassess - bring a region's charges in line with its policy
 * @r: the region
 * @moved: if not NULL, set to the number of chunks this call moved (unless
 *         it returns -ENOMEM before it starts)
 * @outcome: set to what is left to be done, for the caller to schedule
 *
 * Runs steps 1 to 5 (see the top of this file); synchronous, and may take
 * as long as copying the chunks that move.  The region ends assessed
 * unless something changed meanwhile, a chunk had no plan, a payer's limit
 * refused a chunk (@outcome is then MPCG_OUTCOME_BACKOFF), or the caller
 * was killed.
 *
 * Context: called with region->reassess_lock held; takes chunk_sem,
 * region->lock and mpcg_index_lock; sleeps.
 *
 * Return: 0, -ENOMEM (with @outcome MPCG_OUTCOME_NONE if it could not
 * start), or -EINTR if a fatal signal cut it short.
 */
int mpcg_reassess(struct mpcg_region *r, u64 *moved,
		  enum mpcg_outcome *outcome)
{
	struct mpcg_plan *p;
	int err;

	lockdep_assert_held(&r->reassess_lock);
	*outcome = MPCG_OUTCOME_NONE;
	p = kvzalloc(sizeof(*p), GFP_KERNEL | __GFP_NOWARN);
	if (!p)
		return -ENOMEM;

	mpcg_plan_start(r, p);
	mpcg_plan_types(r, p);
	mpcg_plan_targets(p);
	err = mpcg_plan_flow(p);
	if (!err && !p->unplanned)
		mpcg_plan_moves(r, p);
	mpcg_plan_record(r, p);
	mpcg_free_departed(r);
	if (p->interrupted)
		err = -EINTR;
	*outcome = mpcg_plan_end(r, p, err);
	if (moved)
		*moved = p->moved;
	kvfree(p);
	return err;
}

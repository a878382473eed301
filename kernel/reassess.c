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
 *     sharers from the policy (a bitmap of member slots; under the
 *     proportional policy its touch set, tset.c, less the members that
 *     left).  Chunks with the same sharers form a type; a region has as
 *     many types as it has different sets of sharers, at most one per
 *     chunk.
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
 *     ones.  A chunk stays where it is, and the region stays pending
 *     (retried later with exponential backoff), when the new payer's limit
 *     refuses it, when taking it would put the new payer (or an ancestor)
 *     above its memory.high (both count as that member's shortfall; the
 *     second also flags it), or when its pages are in use: pinned by I/O,
 *     a read or fault in progress (counted as pinned, for the member that
 *     should have got it).  Every member's fair share, shortfall and
 *     pinned chunks are recorded.
 *  5. Clean-up (mpcg_free_departed()).  Members that have left and pay for
 *     nothing are freed (their marks in the chunks cleared first), dropping
 *     their memory cgroup reference.
 *
 * The region ends assessed (mpcg_plan_end()) only if nothing changed
 * meanwhile, every planned move succeeded and every chunk had a plan.
 *
 * The plan is sized by the region: as many member slots as the region has
 * when it starts (members that come later are not in it), as many types
 * as it finds.  Without the memory for it, a reassessment fails with
 * ENOMEM and is retried.
 *
 * Locking: region->reassess_lock is held throughout (by region.c);
 * chunk_sem is held for read while the chunks are walked (steps 1 and 5)
 * and around each move (step 4), region->tset_lock in step 1 (the chunks'
 * touch sets); region->lock for snapshots of the member slots;
 * mpcg_index_lock in step 5.  Touches that happen meanwhile bump
 * region->gen and leave the region pending.
 */
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/jhash.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/memcontrol.h>
#include <linux/page_counter.h>
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

/**
 * struct mpcg_type - the chunks with one set of sharers, and their plan
 * @node: in the plan's hash of types
 * @hash: of @mask
 * @n: chunks
 * @nr: sharers
 * @slot: their slots, in ascending order
 * @have: chunks paid now by each sharer (by position in @slot)
 * @stay: plan: chunks that stay with each sharer
 * @in: plan: chunks that move to each sharer
 * @keep_edge: the flow's keep edge of each sharer
 * @move_edge: the flow's move edge of each sharer
 * @mask: the sharers, p->words words
 */
struct mpcg_type {
	struct hlist_node node;
	u32 hash;
	u32 n;
	unsigned int nr;
	unsigned int *slot;
	u32 *have;
	u32 *stay;
	u32 *in;
	int *keep_edge;
	int *move_edge;
	unsigned long mask[];
};

/* One reassessment: its snapshot of the region, its plan and its results. */
struct mpcg_plan {
	unsigned long gen;		/* region->gen when it started */
	u64 t0;				/* start, for the end tracepoint */
	unsigned int nbits;		/* member slots it knows: 0 .. nbits - 1 */
	unsigned int words;		/* BITS_TO_LONGS(nbits) */
	unsigned long *active;		/* members with attachments */
	unsigned int nr_active;
	unsigned int owner;
	unsigned int policy;
	unsigned int nr_types;
	unsigned int max_types;
	struct mpcg_type **types;
	struct hlist_head *hash;	/* of types, by sharers */
	unsigned int hash_bits;
	unsigned long *scratch;		/* a chunk's sharers */
	const struct mpcg_tset *last_ts; /* step 1: the last chunk's touchers */
	struct mpcg_type *last_type;	/* and its type */
	bool nomem;			/* no memory for the plan */
	bool unplanned;			/* a chunk, or the flow, had no plan */
	bool interrupted;		/* a fatal signal cut step 4 short */
	bool failed;			/* a member has a shortfall, or a chunk is pinned */
	u64 moved;			/* chunks moved */
	u64 nr_chunks;
	u64 *fair;			/* 32.32 fixed point, in chunks, by slot */
	u32 *lo;
	u32 *hi;
	u32 *shortfall;
	u32 *pinned;
	unsigned long *refused;		/* payers whose limit refused a chunk */
	unsigned long *high;		/* payers at their memory.high */
};

static void mpcg_plan_free(struct mpcg_plan *p)
{
	unsigned int i;

	for (i = 0; p->types && i < p->nr_types; i++) {
		kfree(p->types[i]->slot);
		kfree(p->types[i]);
	}
	kvfree(p->types);
	kvfree(p->hash);
	bitmap_free(p->active);
	bitmap_free(p->scratch);
	bitmap_free(p->refused);
	bitmap_free(p->high);
	kvfree(p->fair);
	kvfree(p->lo);
	kvfree(p->hi);
	kvfree(p->shortfall);
	kvfree(p->pinned);
	kfree(p);
}

/*
 * A plan for @nbits member slots and about @nr_chunks chunks: the arrays
 * indexed by slot, and a hash for as many types as there are chunks (up
 * to a limit; chains get longer beyond it).  NULL without memory.
 */
static struct mpcg_plan *mpcg_plan_alloc(unsigned int nbits, u64 nr_chunks)
{
	const gfp_t gfp = GFP_KERNEL | __GFP_NOWARN;
	unsigned int n = max(nbits, 1U);
	struct mpcg_plan *p;

	p = kzalloc(sizeof(*p), gfp);
	if (!p)
		return NULL;
	p->nbits = n;
	p->words = BITS_TO_LONGS(n);
	p->hash_bits = clamp_t(unsigned int, order_base_2(nr_chunks + 1), 4, 16);
	p->hash = kvcalloc(1U << p->hash_bits, sizeof(*p->hash), gfp);
	p->active = bitmap_zalloc(n, gfp);
	p->scratch = bitmap_zalloc(n, gfp);
	p->refused = bitmap_zalloc(n, gfp);
	p->high = bitmap_zalloc(n, gfp);
	p->fair = kvcalloc(n, sizeof(*p->fair), gfp);
	p->lo = kvcalloc(n, sizeof(*p->lo), gfp);
	p->hi = kvcalloc(n, sizeof(*p->hi), gfp);
	p->shortfall = kvcalloc(n, sizeof(*p->shortfall), gfp);
	p->pinned = kvcalloc(n, sizeof(*p->pinned), gfp);
	if (!p->hash || !p->active || !p->scratch || !p->refused ||
	    !p->high || !p->fair || !p->lo || !p->hi || !p->shortfall ||
	    !p->pinned) {
		mpcg_plan_free(p);
		return NULL;
	}
	return p;
}

/*
 * Who shares the cost of @c under the plan's policy: into p->scratch.
 * The caller keeps @c's touch set alive (region->tset_lock, or RCU).
 */
static void mpcg_sharers(struct mpcg_plan *p, const struct mpcg_chunk *c,
			 const struct mpcg_tset *ts)
{
	unsigned int first, nbits;
	const unsigned long *bits;

	bitmap_zero(p->scratch, p->nbits);
	switch (p->policy) {
	case MPCG_POLICY_PROPORTIONAL:
		if (ts) {
			bits = mpcg_tset_bits(ts, &nbits);
			if (bitmap_and(p->scratch, bits, p->active,
				       min(nbits, p->nbits)))
				return;
		}
		fallthrough;
	case MPCG_POLICY_EQUAL:
		if (p->nr_active) {
			bitmap_copy(p->scratch, p->active, p->nbits);
			return;
		}
		break;
	case MPCG_POLICY_FIRST_TOUCH:
		first = READ_ONCE(c->first);
		if (first < p->nbits && test_bit(first, p->active)) {
			__set_bit(first, p->scratch);
			return;
		}
		break;
	}
	__set_bit(p->owner, p->scratch);
}

/* The type whose sharers are p->scratch; made if @add (NULL: no memory). */
static struct mpcg_type *mpcg_type_get(struct mpcg_plan *p, bool add)
{
	size_t bytes = p->words * sizeof(long);
	u32 hash = jhash(p->scratch, bytes, 0);
	struct hlist_head *head = &p->hash[hash >> (32 - p->hash_bits)];
	struct mpcg_type *t;
	unsigned int nr, i, slot;

	hlist_for_each_entry(t, head, node)
		if (t->hash == hash && !memcmp(t->mask, p->scratch, bytes))
			return t;
	if (!add)
		return NULL;
	if (p->nr_types == p->max_types) {
		unsigned int max = max(16U, 2 * p->max_types);
		struct mpcg_type **types;

		types = mpcg_kvrealloc(p->types, p->max_types * sizeof(*types),
				       max * sizeof(*types),
				       GFP_KERNEL | __GFP_NOWARN);
		if (!types)
			goto nomem;
		p->types = types;
		p->max_types = max;
	}
	nr = bitmap_weight(p->scratch, p->nbits);
	t = kzalloc(struct_size(t, mask, p->words), GFP_KERNEL | __GFP_NOWARN);
	if (!t)
		goto nomem;
	/* One allocation for the six per-sharer arrays. */
	t->slot = kcalloc(nr, sizeof(unsigned int) + 3 * sizeof(u32) +
			  2 * sizeof(int), GFP_KERNEL | __GFP_NOWARN);
	if (!t->slot) {
		kfree(t);
		goto nomem;
	}
	t->have = (u32 *)(t->slot + nr);
	t->stay = t->have + nr;
	t->in = t->stay + nr;
	t->keep_edge = (int *)(t->in + nr);
	t->move_edge = t->keep_edge + nr;
	t->nr = nr;
	t->hash = hash;
	memcpy(t->mask, p->scratch, bytes);
	i = 0;
	for_each_set_bit(slot, t->mask, p->nbits)
		t->slot[i++] = slot;
	hlist_add_head(&t->node, head);
	p->types[p->nr_types++] = t;
	return t;
nomem:
	p->nomem = true;
	return NULL;
}

/* The position of @slot among @t's sharers, or -1. */
static int mpcg_type_pos(const struct mpcg_type *t, unsigned int slot)
{
	unsigned int lo = 0, hi = t->nr;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (t->slot[mid] == slot)
			return mid;
		if (t->slot[mid] < slot)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
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
	unsigned int i, k, m;

	for (i = 0; i < p->nr_types; i++) {
		struct mpcg_type *t = p->types[i];
		u64 share = div_u64((u64)t->n << 32, t->nr);

		for (k = 0; k < t->nr; k++)
			p->fair[t->slot[k]] += share;
	}
	for (m = 0; m < p->nbits; m++) {
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
	int nodes = member0 + p->nbits, edges = 2 * p->nbits;
	s64 big = nodes + 1;
	struct mpcg_flow f;
	unsigned int i, k, m;
	int *lower;
	int err;

	lower = kvmalloc_array(p->nbits, sizeof(*lower), GFP_KERNEL | __GFP_NOWARN);
	if (!lower)
		return -ENOMEM;
	for (i = 0; i < p->nr_types; i++)
		edges += 1 + 2 * p->types[i]->nr;
	err = mpcg_flow_init(&f, nodes, edges);
	if (err)
		goto out;

	for (i = 0; i < p->nr_types; i++) {
		struct mpcg_type *t = p->types[i];

		mpcg_flow_edge(&f, src, type0 + i, t->n, 0);
		for (k = 0; k < t->nr; k++) {
			t->keep_edge[k] = mpcg_flow_edge(&f, type0 + i,
							 member0 + t->slot[k],
							 t->have[k], 0);
			t->move_edge[k] = mpcg_flow_edge(&f, type0 + i,
							 member0 + t->slot[k],
							 t->n, 1);
		}
	}
	for (m = 0; m < p->nbits; m++) {
		lower[m] = mpcg_flow_edge(&f, member0 + m, sink, p->lo[m], -big);
		mpcg_flow_edge(&f, member0 + m, sink, p->hi[m] - p->lo[m], 0);
	}
	mpcg_flow_solve(&f, src, sink);

	for (m = 0; m < p->nbits; m++) {
		if (WARN_ON_ONCE(mpcg_flow_used(&f, lower[m]) != p->lo[m])) {
			p->unplanned = true;
			goto out;
		}
	}
	for (i = 0; i < p->nr_types; i++) {
		struct mpcg_type *t = p->types[i];

		for (k = 0; k < t->nr; k++) {
			t->stay[k] = mpcg_flow_used(&f, t->keep_edge[k]);
			t->in[k] = mpcg_flow_used(&f, t->move_edge[k]);
		}
	}
out:
	mpcg_flow_free(&f);
	kvfree(lower);
	return err;
}

/*
 * Step 1: types of all resident chunks.  Chunks in a row with the same
 * touch set (the common case: a file touched in ranges) share the lookup.
 */
static void mpcg_plan_types(struct mpcg_region *r, struct mpcg_plan *p)
{
	struct mpcg_chunk *c;
	unsigned long ci;

	down_read(&r->chunk_sem);
	mutex_lock(&r->tset_lock);
	xa_for_each(&r->chunks, ci, c) {
		const struct mpcg_tset *ts;
		struct mpcg_type *t;
		unsigned int payer = READ_ONCE(c->payer);
		int k;

		ts = rcu_dereference_protected(c->ts,
					       lockdep_is_held(&r->tset_lock));
		p->nr_chunks++;
		if (p->policy == MPCG_POLICY_PROPORTIONAL && p->last_type &&
		    ts == p->last_ts) {
			t = p->last_type;
		} else {
			mpcg_sharers(p, c, ts);
			t = mpcg_type_get(p, true);
			if (!t)
				break;
			p->last_ts = ts;
			p->last_type = t;
		}
		t->n++;
		k = payer < p->nbits ? mpcg_type_pos(t, payer) : -1;
		if (k >= 0)
			t->have[k]++;
	}
	mutex_unlock(&r->tset_lock);
	up_read(&r->chunk_sem);
}

/* Would @nr_pages more put @memcg, or an ancestor, above its memory.high? */
static bool mpcg_over_high(struct mem_cgroup *memcg, unsigned long nr_pages)
{
	/* Not the root: it has no memory.high. */
	for (; memcg && parent_mem_cgroup(memcg); memcg = parent_mem_cgroup(memcg))
		if (page_counter_read(&memcg->memory) + nr_pages >
		    READ_ONCE(memcg->memory.high))
			return true;
	return false;
}

/* Move chunk @ci to @to, or count why it stays. */
static void mpcg_plan_move(struct mpcg_region *r, struct mpcg_plan *p,
			   unsigned long ci, struct mpcg_chunk *c,
			   struct mpcg_member *to)
{
	unsigned long nr_pages = mpcg_chunk_size(r) >> PAGE_SHIFT;
	int err = -ENOMEM;

	/*
	 * One refusal per payer and pass is enough: each try costs that
	 * cgroup a round of reclaim.
	 */
	if (!test_bit(to->slot, p->refused)) {
		if (mpcg_over_high(to->memcg, nr_pages))
			__set_bit(to->slot, p->high);
		else
			err = mpcg_chunk_move(r, ci, c, to);
	}
	switch (err) {
	case 0:
		p->moved++;
		break;
	case -EBUSY:
		p->pinned[to->slot]++;
		p->failed = true;
		break;
	default:
		__set_bit(to->slot, p->refused);
		p->shortfall[to->slot]++;
		trace_mpcg_shortfall(mpcg_region_dev(r),
				     mpcg_region_inode(r)->i_ino, ci,
				     to->cgroup_id, mpcg_chunk_size(r));
		break;
	}
}

/*
 * Step 4: carry the plan out, counting the moves in p->moved.  Sets
 * p->unplanned when a chunk had no plan (it appeared, or its sharers
 * changed, after step 1), p->interrupted when a fatal signal stopped it.
 */
static void mpcg_plan_moves(struct mpcg_region *r, struct mpcg_plan *p)
{
	unsigned long ci = 0;

	for (;; ci++) {
		struct mpcg_member *to = NULL;
		struct mpcg_type *t;
		struct mpcg_chunk *c;
		unsigned int payer, k;
		int pos;

		down_read(&r->chunk_sem);
		c = xa_find(&r->chunks, &ci, ULONG_MAX, XA_PRESENT);
		if (!c) {
			up_read(&r->chunk_sem);
			break;
		}
		rcu_read_lock();
		mpcg_sharers(p, c, rcu_dereference(c->ts));
		rcu_read_unlock();
		t = mpcg_type_get(p, false);
		payer = READ_ONCE(c->payer);
		pos = t && payer < p->nbits ? mpcg_type_pos(t, payer) : -1;
		if (pos >= 0 && t->stay[pos]) {
			t->stay[pos]--;
		} else if (t) {
			for (k = 0; k < t->nr; k++) {
				if (t->in[k]) {
					t->in[k]--;
					/* In the snapshot: not freed meanwhile. */
					to = mpcg_member_at(r, t->slot[k]);
					break;
				}
			}
			if (!to)
				p->unplanned = true;
		} else {
			p->unplanned = true;
		}
		if (to)
			mpcg_plan_move(r, p, ci, c, to);
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
 * share (in bytes), shortfall and pinned chunks, as of this reassessment.
 */
static void mpcg_plan_record(struct mpcg_region *r, struct mpcg_plan *p)
{
	struct mpcg_member *mb;
	unsigned long m;

	r->reassessments++;
	r->chunks_moved += p->moved;
	r->shortfall = 0;
	r->pinned = 0;
	spin_lock(&r->lock);
	xa_for_each(&r->members, m, mb) {
		bool known = m < p->nbits;

		/*
		 * 32.32 fixed point chunks to bytes: fair * 2^shift / 2^32,
		 * exact for any region size (shifting left first wrapped
		 * at 4 GiB).
		 */
		BUILD_BUG_ON(MPCG_CHUNK_SHIFT_MAX >= 32);
		WRITE_ONCE(mb->fair, known ? p->fair[m] >> (32 - r->chunk_shift) : 0);
		WRITE_ONCE(mb->shortfall, known ? p->shortfall[m] : 0);
		WRITE_ONCE(mb->pinned, known ? p->pinned[m] : 0);
		WRITE_ONCE(mb->high, known && test_bit(m, p->high));
		if (!known)
			continue;
		r->shortfall += p->shortfall[m];
		r->pinned += p->pinned[m];
		if (p->shortfall[m])
			p->failed = true;
	}
	spin_unlock(&r->lock);
}

/*
 * Step 5: free members that left and pay for nothing.  Their touches (and
 * first-toucher marks) are forgotten first, so that their slots can be
 * reused.  The index lock keeps them from being revived meanwhile.
 */
static void mpcg_free_departed(struct mpcg_region *r)
{
	unsigned long *doomed;
	unsigned int m, nbits;

	mutex_lock(&mpcg_index_lock);
	down_read(&r->chunk_sem);
	doomed = mpcg_members_unused(r, &nbits);
	if (doomed && !mpcg_chunks_forget(r, doomed, nbits)) {
		for_each_set_bit(m, doomed, nbits)
			mpcg_member_free_unused(r, mpcg_member_at(r, m));
	}
	up_read(&r->chunk_sem);
	mutex_unlock(&mpcg_index_lock);
	bitmap_free(doomed);
}

/*
 * Before step 1: what the reassessment starts from, and its plan, sized by
 * the region (NULL without memory).
 */
static struct mpcg_plan *mpcg_plan_start(struct mpcg_region *r)
{
	struct mpcg_member *mb;
	struct mpcg_plan *p;
	unsigned int nbits;
	unsigned long m;

	for (;;) {
		spin_lock(&r->lock);
		nbits = mpcg_members_nbits(r);
		spin_unlock(&r->lock);
		p = mpcg_plan_alloc(nbits, atomic_long_read(&r->nr_chunks));
		if (!p)
			return NULL;
		spin_lock(&r->lock);
		/* A member may have come meanwhile: size the plan again. */
		if (mpcg_members_nbits(r) <= p->nbits)
			break;
		spin_unlock(&r->lock);
		mpcg_plan_free(p);
	}
	p->gen = atomic_long_read(&r->gen);
	xa_for_each(&r->members, m, mb) {
		if (mb->nr_attach) {
			__set_bit(m, p->active);
			p->nr_active++;
		}
	}
	p->owner = r->owner->slot;
	spin_unlock(&r->lock);
	p->policy = READ_ONCE(r->policy);
	/* Only the end tracepoint's duration needs the clock. */
	if (trace_mpcg_reassess_end_enabled())
		p->t0 = ktime_get_ns();
	trace_mpcg_reassess_start(mpcg_region_dev(r),
				  mpcg_region_inode(r)->i_ino, p->policy,
				  p->nr_active,
				  atomic_long_read(&r->nr_chunks) *
				  mpcg_chunk_size(r));
	return p;
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

	if (!err && !p->failed && !p->unplanned &&
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
	p = mpcg_plan_start(r);
	if (!p)
		return -ENOMEM;

	mpcg_plan_types(r, p);
	err = p->nomem ? -ENOMEM : 0;
	if (!err) {
		mpcg_plan_targets(p);
		err = mpcg_plan_flow(p);
	}
	if (!err && !p->unplanned)
		mpcg_plan_moves(r, p);
	mpcg_plan_record(r, p);
	mpcg_free_departed(r);
	if (p->interrupted)
		err = -EINTR;
	*outcome = mpcg_plan_end(r, p, err);
	if (moved)
		*moved = p->moved;
	mpcg_plan_free(p);
	return err;
}

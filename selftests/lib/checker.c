// SPDX-License-Identifier: GPL-2.0
/*
 * The checker (checker.h): a model of the engine's policies and fair
 * shares, a min-cost flow for the fewest moves, and the invariants of a
 * snapshot and of a reassessment.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmpcg.h"
#include "cgroup.h"
#include "checker.h"
#include "engine.h"

static int mpcg_check_errors;

static void __attribute__((format(printf, 1, 2)))
mpcg_check_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "# check: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	mpcg_check_errors++;
}

/* The cgroups a check talks about, numbered 0..63: sharer sets are masks. */
struct mpcg_univ {
	int n;
	unsigned long long id[64];
};

static int mpcg_uidx(struct mpcg_univ *u, unsigned long long id)
{
	int i;

	for (i = 0; i < u->n; i++)
		if (u->id[i] == id)
			return i;
	if (u->n == 64) {
		mpcg_check_fail("more than 64 cgroups");
		return 0;
	}
	u->id[u->n] = id;
	return u->n++;
}

/* What the policy needs of a snapshot. */
struct mpcg_view {
	const struct mpcg_snap *s;
	uint64_t live;		/* members with attachments */
	int member[64];		/* member table entry -> cgroup number */
	int owner;
	struct mpcg_univ *u;
};

static void mpcg_view_init(struct mpcg_view *v, struct mpcg_univ *u,
			   const struct mpcg_snap *s)
{
	long i;

	memset(v, 0, sizeof(*v));
	v->s = s;
	v->u = u;
	v->owner = mpcg_uidx(u, s->st.owner_cgroup_id);
	for (i = 0; i < s->nm && i < 64; i++) {
		int x = mpcg_uidx(u, s->m[i].cgroup_id);

		v->member[i] = x;
		if (s->m[i].nr_attachments)
			v->live |= 1ULL << x;
	}
	for (i = 0; i < s->nc; i++) {
		mpcg_uidx(u, s->c[i].payer_cgroup_id);
		if (s->c[i].first_cgroup_id)
			mpcg_uidx(u, s->c[i].first_cgroup_id);
	}
}

/* The cgroups that share chunk @ci of the snapshot under @policy (design.md section 4). */
static uint64_t mpcg_sharers(const struct mpcg_view *v, unsigned int policy,
			     long ci)
{
	const struct mpcg_chunk_info *c = &v->s->c[ci];
	uint64_t owner = 1ULL << v->owner, t = 0;
	int f;
	long i;

	switch (policy) {
	case MPCG_POLICY_PROPORTIONAL:
		for (i = 0; i < v->s->nm; i++)
			if (v->s->touched[ci] >> i & 1)
				t |= 1ULL << v->member[i];
		t &= v->live;
		if (t)
			return t;
		return v->live ? v->live : owner;
	case MPCG_POLICY_EQUAL:
		return v->live ? v->live : owner;
	case MPCG_POLICY_FIRST_TOUCH:
		f = c->first_cgroup_id ? mpcg_uidx(v->u, c->first_cgroup_id) : -1;
		if (f >= 0 && (v->live >> f & 1))
			return 1ULL << f;
		return owner;
	default:
		return owner;
	}
}

static unsigned long long mpcg_gcd(unsigned long long a, unsigned long long b)
{
	while (b) {
		unsigned long long t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * Fair shares of a snapshot, in chunks: fair[g] = num[g] / den, and the
 * range [lo[g], hi[g]] of chunks that cgroup g may pay.
 */
static void mpcg_fair(const struct mpcg_snap *s, const uint64_t *sharers, int n,
		      unsigned long long *num, unsigned long long *den,
		      long *lo, long *hi)
{
	unsigned long long d = 1;
	long i;
	int g;

	for (i = 0; i < s->nc; i++) {
		unsigned long long k = __builtin_popcountll(sharers[i]);

		d = d / mpcg_gcd(d, k) * k;
	}
	for (g = 0; g < n; g++)
		num[g] = 0;
	for (i = 0; i < s->nc; i++) {
		unsigned long long k = __builtin_popcountll(sharers[i]);

		for (g = 0; g < n; g++)
			if (sharers[i] >> g & 1)
				num[g] += d / k;
	}
	for (g = 0; g < n; g++) {
		lo[g] = num[g] / d;
		hi[g] = (num[g] + d - 1) / d;
	}
	*den = d;
}

/*
 * The fewest chunks that must change payer so that each chunk is paid by
 * one of its sharers and each cgroup g pays between lo[g] and hi[g] chunks:
 * a min-cost flow, source -> (sharer set, payer) -> cgroup -> sink, moving
 * a chunk to another payer costs 1, and the first lo[g] units into the sink
 * from g are worth -BIG so that a cheapest flow meets every lower bound.
 * Returns -1 if no such assignment exists.
 */
static long mpcg_min_moves(const struct mpcg_snap *s, struct mpcg_univ *u,
			   const uint64_t *sharers, const long *lo,
			   const long *hi)
{
	const long long BIG = 1LL << 32, INF = 1LL << 62;
	int nt = 0, nv, ne = 0, maxe, i, g, e, v, S = 0, T = 1;
	long long *cost, *dist, total = 0, flow = 0, sum_lo = 0, sum = 0;
	int *from, *to, *pe, *tpayer;
	uint64_t *tmask;
	long *cap, *tcnt, ret = -1;

	tmask = calloc(s->nc + 1, sizeof(*tmask));
	tpayer = calloc(s->nc + 1, sizeof(*tpayer));
	tcnt = calloc(s->nc + 1, sizeof(*tcnt));
	for (i = 0; i < s->nc; i++) {
		int p = mpcg_uidx(u, s->c[i].payer_cgroup_id), t;

		for (t = 0; t < nt; t++)
			if (tmask[t] == sharers[i] && tpayer[t] == p)
				break;
		if (t == nt) {
			tmask[t] = sharers[i];
			tpayer[t] = p;
			nt++;
		}
		tcnt[t]++;
	}
	nv = 2 + nt + u->n;
	maxe = 2 * (nt + nt * u->n + 2 * u->n);
	from = calloc(maxe, sizeof(int));
	to = calloc(maxe, sizeof(int));
	pe = calloc(nv, sizeof(int));
	cap = calloc(maxe, sizeof(long));
	cost = calloc(maxe, sizeof(long long));
	dist = calloc(nv, sizeof(long long));
	if (!tmask || !tpayer || !tcnt || !from || !to || !pe || !cap ||
	    !cost || !dist)
		goto out;
#define MCF_EDGE(a, b, c, w) do {					\
		from[ne] = (a); to[ne] = (b); cap[ne] = (c); cost[ne] = (w); \
		ne++;							\
		from[ne] = (b); to[ne] = (a); cap[ne] = 0; cost[ne] = -(w); \
		ne++;							\
	} while (0)
	for (i = 0; i < nt; i++) {
		MCF_EDGE(S, 2 + i, tcnt[i], 0);
		total += tcnt[i];
		for (g = 0; g < u->n; g++)
			if (tmask[i] >> g & 1)
				MCF_EDGE(2 + i, 2 + nt + g, tcnt[i],
					 g == tpayer[i] ? 0 : 1);
	}
	for (g = 0; g < u->n; g++) {
		if (lo[g])
			MCF_EDGE(2 + nt + g, T, lo[g], -BIG);
		if (hi[g] > lo[g])
			MCF_EDGE(2 + nt + g, T, hi[g] - lo[g], 0);
		sum_lo += lo[g];
	}
#undef MCF_EDGE
	/* Successive shortest paths, Bellman-Ford (costs are negative). */
	while (flow < total) {
		long long f = total - flow;
		int changed = 1, it;

		for (v = 0; v < nv; v++) {
			dist[v] = INF;
			pe[v] = -1;
		}
		dist[S] = 0;
		for (it = 0; it < nv && changed; it++) {
			changed = 0;
			for (e = 0; e < ne; e++)
				if (cap[e] > 0 && dist[from[e]] < INF &&
				    dist[from[e]] + cost[e] < dist[to[e]]) {
					dist[to[e]] = dist[from[e]] + cost[e];
					pe[to[e]] = e;
					changed = 1;
				}
		}
		if (dist[T] == INF)
			break;
		for (v = T; v != S; v = from[pe[v]])
			if (cap[pe[v]] < f)
				f = cap[pe[v]];
		for (v = T; v != S; v = from[pe[v]]) {
			cap[pe[v]] -= f;
			cap[pe[v] ^ 1] += f;
		}
		flow += f;
		sum += f * dist[T];
	}
	if (flow < total)
		goto out;
	/* Every lower bound met? Then the cost is moves - BIG * sum_lo. */
	for (e = 0; e < ne; e += 2)
		if (cost[e] == -BIG && cap[e])
			goto out;
	ret = sum + BIG * sum_lo;
out:
	free(tmask);
	free(tpayer);
	free(tcnt);
	free(from);
	free(to);
	free(pe);
	free(cap);
	free(cost);
	free(dist);
	return ret;
}

int mpcg_check_snap(const struct mpcg_snap *s, unsigned int flags)
{
	const struct mpcg_region_stat *st = &s->st;
	unsigned long long chunk = st->chunk_size, den;
	unsigned long long num[64];
	long lo[64], hi[64], paid[64], i, j;
	unsigned long long att_sum = 0, shortfall = 0, pinned = 0;
	unsigned int live = 0;
	struct mpcg_univ u = { 0 };
	struct mpcg_view v;
	uint64_t *sh;
	int g;

	/* Chunks whose pages were in use stay where they are: pending. */
	if (st->pinned_bytes)
		flags |= MPCG_CHECK_PENDING;

	mpcg_check_errors = 0;
	mpcg_view_init(&v, &u, s);
	sh = calloc(s->nc + 1, sizeof(*sh));
	if (!sh) {
		mpcg_check_fail("out of memory");
		return mpcg_check_errors;
	}
	if (chunk != 1ULL << __builtin_ctzll(chunk ? chunk : 1) ||
	    chunk < MPCG_CHUNK_SIZE_MIN || chunk > MPCG_CHUNK_SIZE_MAX)
		mpcg_check_fail("chunk_size %llu", chunk);
	if (st->resident_bytes != s->nc * chunk)
		mpcg_check_fail("resident_bytes %llu, but %ld chunks in MPCG_IOC_CHUNKS",
				(unsigned long long)st->resident_bytes, s->nc);
	for (i = 0; i < s->nc; i++) {
		if (i && s->c[i].index <= s->c[i - 1].index)
			mpcg_check_fail("chunks not in index order at %llu",
					(unsigned long long)s->c[i].index);
		if (s->c[i].index * chunk >= st->file_size)
			mpcg_check_fail("chunk %llu resident past EOF %llu",
					(unsigned long long)s->c[i].index,
					(unsigned long long)st->file_size);
		sh[i] = mpcg_sharers(&v, st->policy, i);
	}

	/* The member table. */
	for (i = 0; i < s->nm; i++) {
		const struct mpcg_member_info *m = &s->m[i];
		const char *n = mpcg_cg_name(m->cgroup_id);
		long touched = 0;

		if (m->reserved || m->flags & ~(MPCG_MEMBER_OWNER |
						MPCG_MEMBER_DEPARTED |
						MPCG_MEMBER_HIGH))
			mpcg_check_fail("%s: reserved %u flags %#x", n,
					m->reserved, m->flags);
		if (m->flags & MPCG_MEMBER_HIGH && !m->shortfall_bytes)
			mpcg_check_fail("%s: held back by memory.high, no shortfall",
					n);
		if (!(m->flags & MPCG_MEMBER_OWNER) !=
		    (m->cgroup_id != st->owner_cgroup_id))
			mpcg_check_fail("%s: flags %#x, owner is %s", n,
					m->flags,
					mpcg_cg_name(st->owner_cgroup_id));
		if (m->nr_attachments && m->flags & MPCG_MEMBER_DEPARTED)
			mpcg_check_fail("%s: departed with %u attachments", n,
					m->nr_attachments);
		if (!m->nr_attachments && !(m->flags & MPCG_MEMBER_OWNER) &&
		    !(m->flags & MPCG_MEMBER_DEPARTED))
			mpcg_check_fail("%s: no attachments, not departed", n);
		if (m->peak_paid_bytes < m->paid_bytes)
			mpcg_check_fail("%s: peak %llu < paid %llu", n,
					(unsigned long long)m->peak_paid_bytes,
					(unsigned long long)m->paid_bytes);
		if (m->dev != st->dev || m->ino != st->ino || m->reserved)
			mpcg_check_fail("%s: region %llu:%llu (not %llu:%llu) or reserved %u",
					n, (unsigned long long)m->dev,
					(unsigned long long)m->ino,
					(unsigned long long)st->dev,
					(unsigned long long)st->ino, m->reserved);
		for (j = 0; j < i; j++)
			if (s->m[j].cgroup_id == m->cgroup_id ||
			    s->m[j].id == m->id)
				mpcg_check_fail("%s: listed twice or id %u reused",
						n, m->id);
		if (m->nr_attachments)
			live++;
		att_sum += m->nr_attachments;
		shortfall += m->shortfall_bytes;
		pinned += m->pinned_bytes;
		for (j = 0; j < s->nc; j++)
			touched += s->touched[j] >> i & 1;
		if (m->nr_attachments && m->touched_bytes != touched * chunk)
			mpcg_check_fail("%s: touched_bytes %llu, but touches %ld chunks",
					n, (unsigned long long)m->touched_bytes,
					touched);
		if (m->paid_bytes != mpcg_snap_chunks_of(s, m->cgroup_id) * chunk)
			mpcg_check_fail("%s: paid_bytes %llu, but pays %ld chunks",
					n, (unsigned long long)m->paid_bytes,
					mpcg_snap_chunks_of(s, m->cgroup_id));
	}
	if (st->nr_members != live)
		mpcg_check_fail("nr_members %u, %u members with attachments",
				st->nr_members, live);
	if (st->nr_attachments != att_sum || (long)att_sum != s->na)
		mpcg_check_fail("nr_attachments %u, members' sum %llu, table %ld",
				st->nr_attachments, att_sum, s->na);
	if (st->shortfall_bytes != shortfall)
		mpcg_check_fail("shortfall_bytes %llu, members' sum %llu",
				(unsigned long long)st->shortfall_bytes, shortfall);
	if (st->pinned_bytes != pinned)
		mpcg_check_fail("pinned_bytes %llu, members' sum %llu",
				(unsigned long long)st->pinned_bytes, pinned);
	for (i = 0; i < s->na; i++) {
		const struct mpcg_attachment_info *a = &s->a[i];
		const struct mpcg_member_info *m = mpcg_snap_member(s, a->cgroup_id);
		long k = 0;

		if (a->kind != MPCG_ATTACH_FILE && a->kind != MPCG_ATTACH_MAP)
			mpcg_check_fail("attachment %ld: kind %u", i, a->kind);
		if (!memchr(a->comm, 0, sizeof(a->comm)))
			mpcg_check_fail("attachment %ld: comm not terminated", i);
		for (j = 0; j < s->na; j++)
			k += s->a[j].cgroup_id == a->cgroup_id;
		if (!m || m->nr_attachments != k)
			mpcg_check_fail("%s has %ld attachments in the table, member entry says %u",
					mpcg_cg_name(a->cgroup_id), k,
					m ? m->nr_attachments : 0);
	}

	/* Payers and fair shares. */
	for (i = 0; i < s->nc; i++) {
		const struct mpcg_member_info *m =
			mpcg_snap_member(s, s->c[i].payer_cgroup_id);

		if (!m)
			mpcg_check_fail("chunk %llu: payer %s not in the member table",
					(unsigned long long)s->c[i].index,
					mpcg_cg_name(s->c[i].payer_cgroup_id));
		if (s->c[i].nr_touchers !=
		    (unsigned int)__builtin_popcountll(s->touched[i]) ||
		    s->c[i].flags)
			mpcg_check_fail("chunk %llu: %u touchers, but the members' chunk tables have %d; flags %#x",
					(unsigned long long)s->c[i].index,
					s->c[i].nr_touchers,
					__builtin_popcountll(s->touched[i]),
					s->c[i].flags);
		if (s->c[i].first_cgroup_id &&
		    !mpcg_snap_member(s, s->c[i].first_cgroup_id))
			mpcg_check_fail("chunk %llu: first toucher %s is no member",
					(unsigned long long)s->c[i].index,
					mpcg_cg_name(s->c[i].first_cgroup_id));
	}
	mpcg_fair(s, sh, u.n, num, &den, lo, hi);
	for (g = 0; g < u.n; g++)
		paid[g] = mpcg_snap_chunks_of(s, u.id[g]);
	for (i = 0; i < s->nm; i++) {
		const struct mpcg_member_info *m = &s->m[i];
		long double fair;
		long double d;

		g = mpcg_uidx(&u, m->cgroup_id);
		fair = (long double)num[g] * chunk / den;
		d = fair - m->fair_share_bytes;
		if (d > s->nc + 1 || d < -(long double)(s->nc + 1))
			mpcg_check_fail("%s: fair_share_bytes %llu, expected %.0Lf",
					mpcg_cg_name(m->cgroup_id),
					(unsigned long long)m->fair_share_bytes,
					fair);
	}
	if (!(flags & MPCG_CHECK_PENDING)) {
		if (st->state != MPCG_STATE_ASSESSED)
			mpcg_check_fail("state %u, not assessed", st->state);
		for (i = 0; i < s->nc; i++) {
			int p = mpcg_uidx(&u, s->c[i].payer_cgroup_id);

			if (!(sh[i] >> p & 1))
				mpcg_check_fail("chunk %llu: paid by %s, not a sharer",
						(unsigned long long)s->c[i].index,
						mpcg_cg_name(u.id[p]));
		}
		for (g = 0; g < u.n; g++)
			if (paid[g] < lo[g] || paid[g] > hi[g])
				mpcg_check_fail("%s pays %ld chunks, fair share %.2f: must be %ld..%ld",
						mpcg_cg_name(u.id[g]), paid[g],
						(double)num[g] / den, lo[g], hi[g]);
		for (i = 0; i < s->nm; i++)
			if (s->m[i].shortfall_bytes)
				mpcg_check_fail("%s: shortfall %llu while assessed",
						mpcg_cg_name(s->m[i].cgroup_id),
						(unsigned long long)s->m[i].shortfall_bytes);
	} else {
		/*
		 * A shortfall, and chunks that stayed because they were in
		 * use, are what a member should pay and does not.
		 */
		for (i = 0; i < s->nm; i++) {
			const struct mpcg_member_info *m = &s->m[i];
			long long sf = m->shortfall_bytes + m->pinned_bytes;

			g = mpcg_uidx(&u, m->cgroup_id);
			if (sf && (sf < (lo[g] - paid[g]) * (long long)chunk ||
				   sf > (hi[g] - paid[g]) * (long long)chunk))
				mpcg_check_fail("%s: shortfall %lld, pays %ld of %ld..%ld chunks",
						mpcg_cg_name(m->cgroup_id), sf,
						paid[g], lo[g], hi[g]);
		}
	}

	/* Paid bytes are charged to the cgroups' memory.current. */
	if (flags & MPCG_CHECK_CHARGES) {
		if (cg_drain_stocks())
			mpcg_check_fail("cannot drain the per-cpu charge caches");
		for (i = 0; i < mpcg_ncgs; i++) {
			struct mpcg_cg *cg = &mpcg_cgs[i];
			long p, d;

			if (cg->removed)
				continue;
			p = mpcg_snap_paid(s, cg->id);
			d = cg_charge(cg->path) - cg->base;
			if (getenv("MPCG_VERBOSE"))
				fprintf(stderr, "# %s pays %.3fM, charge grew by %.3fM (%+ld KiB)\n",
					cg->name, MB(p), MB(d), (d - p) / KiB);
			if (!near(d, p, MPCG_CHARGE_TOL))
				mpcg_check_fail("%s pays %.3fM, its charge grew by %.3fM",
						cg->name, MB(p), MB(d));
		}
	}
	free(sh);
	return mpcg_check_errors;
}

int mpcg_check_reassess(const struct mpcg_snap *b, const struct mpcg_snap *a,
			const struct mpcg_reassess *r, unsigned int flags)
{
	unsigned long long chunk = a->st.chunk_size, moved = 0;
	long lo[64], hi[64], min, i;
	unsigned long long num[64], den;
	struct mpcg_univ u = { 0 };
	struct mpcg_view vb, va;
	uint64_t *sb;
	int errs;

	errs = mpcg_check_snap(a, flags);
	mpcg_check_errors = 0;
	if (a->st.pinned_bytes)
		flags |= MPCG_CHECK_PENDING;	/* as mpcg_check_snap() says */
	if (r->state != a->st.state)
		mpcg_check_fail("reassess says state %u, stat says %u",
				r->state, a->st.state);
	if (r->reserved)
		mpcg_check_fail("reassess: reserved %u", r->reserved);
	if (r->shortfall_bytes != a->st.shortfall_bytes)
		mpcg_check_fail("reassess: shortfall %llu, stat %llu",
				(unsigned long long)r->shortfall_bytes,
				(unsigned long long)a->st.shortfall_bytes);
	if (a->st.reassessments != b->st.reassessments + 1)
		mpcg_check_fail("reassessments %llu -> %llu",
				(unsigned long long)b->st.reassessments,
				(unsigned long long)a->st.reassessments);
	if (a->st.chunks_moved - b->st.chunks_moved != r->chunks_moved ||
	    a->st.bytes_moved - b->st.bytes_moved != r->bytes_moved ||
	    r->bytes_moved != r->chunks_moved * chunk)
		mpcg_check_fail("reassess moved %llu chunks, %llu bytes; stat counters grew by %llu chunks, %llu bytes",
				(unsigned long long)r->chunks_moved,
				(unsigned long long)r->bytes_moved,
				(unsigned long long)(a->st.chunks_moved - b->st.chunks_moved),
				(unsigned long long)(a->st.bytes_moved - b->st.bytes_moved));
	if (a->st.policy != b->st.policy || a->nc != b->nc ||
	    a->st.chunk_size != b->st.chunk_size) {
		mpcg_check_fail("the region changed during the reassessment");
		return errs + mpcg_check_errors;
	}
	sb = calloc(b->nc + 1, sizeof(*sb));
	if (!sb)
		return errs + 1;
	mpcg_view_init(&vb, &u, b);
	mpcg_view_init(&va, &u, a);
	for (i = 0; i < b->nc; i++) {
		if (a->c[i].index != b->c[i].index) {
			mpcg_check_fail("chunk %llu appeared or went during the reassessment",
					(unsigned long long)b->c[i].index);
			break;
		}
		sb[i] = mpcg_sharers(&vb, b->st.policy, i);
		if (sb[i] != mpcg_sharers(&va, a->st.policy, i))
			mpcg_check_fail("chunk %llu: sharers changed during the reassessment",
					(unsigned long long)b->c[i].index);
		moved += a->c[i].payer_cgroup_id != b->c[i].payer_cgroup_id;
	}
	if (moved != r->chunks_moved)
		mpcg_check_fail("reassess says %llu chunks moved, %llu changed payer",
				(unsigned long long)r->chunks_moved, moved);
	if (!(flags & MPCG_CHECK_PENDING) && !mpcg_check_errors) {
		mpcg_fair(b, sb, u.n, num, &den, lo, hi);
		min = mpcg_min_moves(b, &u, sb, lo, hi);
		if (min < 0)
			mpcg_check_fail("checker: no assessed state reachable?");
		else if ((unsigned long long)min != r->chunks_moved)
			mpcg_check_fail("reassess moved %llu chunks, the fewest that reach an assessed state is %ld",
					(unsigned long long)r->chunks_moved, min);
	}
	free(sb);
	return errs + mpcg_check_errors;
}

int mpcg_reassess_check(int fd, unsigned int flags, struct mpcg_snap *after,
			struct mpcg_reassess *r)
{
	struct mpcg_snap b, a;
	struct mpcg_reassess rr;
	int errs, err;

	if (mpcg_snap_take(fd, &b))
		return -1;
	err = mpcg_region_reassess(fd, &rr);
	if (err) {
		fprintf(stderr, "# MPCG_IOC_REASSESS: %s\n", strerror(-err));
		mpcg_snap_free(&b);
		errno = -err;
		return -1;
	}
	if (mpcg_snap_take(fd, &a)) {
		mpcg_snap_free(&b);
		return -1;
	}
	errs = mpcg_check_reassess(&b, &a, &rr, flags);
	if (errs) {
		fprintf(stderr, "# reassess: state %u, %llu chunks moved, shortfall %llu\n",
			rr.state, (unsigned long long)rr.chunks_moved,
			(unsigned long long)rr.shortfall_bytes);
		mpcg_snap_dump("before", &b);
		mpcg_snap_dump("after", &a);
	}
	mpcg_snap_free(&b);
	if (r)
		*r = rr;
	if (after)
		*after = a;
	else
		mpcg_snap_free(&a);
	return errs;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg touch sets: which members touched a chunk.
 *
 * Owns struct mpcg_tset.  A touch set is an immutable bitmap of member
 * slots, interned per region: chunks with the same touchers point to the
 * same set, so that a chunk costs one pointer however many members its
 * region has, and a region holds one set per distinct group of touchers
 * (usually a handful; at most one per chunk).  A chunk's set is replaced,
 * never changed: a first touch finds (or makes) the set with one more
 * member, and freeing members replaces every set that names them.  The
 * touch fast path tests a bit of the chunk's set under RCU; sets are freed
 * after a grace period.  The empty set is NULL.
 *
 * A set's bitmap is as long as its highest slot needs, rounded up to whole
 * words, so that equal sets have equal bitmaps (and hashes).
 *
 * Locking: region->tset_lock (a mutex) covers the region's hash of sets,
 * their reference counts and every chunk's @ts pointer (written only with
 * it held; read with it, or under RCU).  It is taken inside chunk_sem and
 * the page lock (see kernel/mpcg.h) and takes nothing inside itself but the
 * allocator.
 */
#include <linux/bitmap.h>
#include <linux/jhash.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "mpcg.h"

/**
 * struct mpcg_tset - a set of member slots, shared by chunks
 * @node: in the region's hash (region->tset_lock)
 * @rcu: freeing after a grace period, for lockless readers
 * @ref: chunks that point to it (region->tset_lock)
 * @hash: of @bits
 * @nbits: length of @bits, a multiple of BITS_PER_LONG, the last word not 0
 * @weight: members in it
 * @bits: bit n: the member in slot n
 */
struct mpcg_tset {
	struct hlist_node node;
	struct rcu_head rcu;
	unsigned int ref;
	u32 hash;
	unsigned int nbits;
	unsigned int weight;
	unsigned long bits[];
};

#define MPCG_TSET_HASH_MIN	4	/* log2 of the first hash size */

static u32 mpcg_tset_hashfn(const unsigned long *bits, unsigned int nbits)
{
	return jhash(bits, BITS_TO_LONGS(nbits) * sizeof(long), 0);
}

/* The words a set needs for @bits: trailing zero words dropped. */
static unsigned int mpcg_tset_len(const unsigned long *bits,
				  unsigned int nbits)
{
	unsigned int w = BITS_TO_LONGS(nbits);

	while (w && !bits[w - 1])
		w--;
	return w * BITS_PER_LONG;
}

/**
 * mpcg_tset_has - is a slot in a touch set?
 * @ts: the set (NULL: empty)
 * @slot: a member slot
 *
 * Context: any; the caller keeps @ts alive (RCU, region->tset_lock, or the
 * page lock of a chunk that points to it).
 *
 * Return: true if the member in @slot is in @ts.
 */
bool mpcg_tset_has(const struct mpcg_tset *ts, unsigned int slot)
{
	return ts && slot < ts->nbits && test_bit(slot, ts->bits);
}

/**
 * mpcg_tset_weight - how many members a touch set has
 * @ts: the set (NULL: empty)
 *
 * Context: as for mpcg_tset_has().
 *
 * Return: the number of slots in @ts.
 */
unsigned int mpcg_tset_weight(const struct mpcg_tset *ts)
{
	return ts ? ts->weight : 0;
}

/**
 * mpcg_tset_bits - the bitmap of a touch set
 * @ts: the set (not NULL)
 * @nbits: set to the bitmap's length in bits
 *
 * Context: as for mpcg_tset_has().
 *
 * Return: the bitmap, for for_each_set_bit() and bitmap operations.
 */
const unsigned long *mpcg_tset_bits(const struct mpcg_tset *ts,
				    unsigned int *nbits)
{
	*nbits = ts->nbits;
	return ts->bits;
}

/**
 * mpcg_tsets_init - set up the touch sets of a new region
 * @r: the region, zeroed
 *
 * Context: takes no lock; nobody else can reach @r yet.
 */
void mpcg_tsets_init(struct mpcg_region *r)
{
	mutex_init(&r->tset_lock);
	r->tset_hash = NULL;
	r->tset_hash_bits = 0;
	r->nr_tsets = 0;
}

/**
 * mpcg_tsets_destroy - free the hash of a region being torn down
 * @r: the region, whose chunks (and so sets) are all gone
 *
 * Context: takes no lock; nobody else can reach @r.
 */
void mpcg_tsets_destroy(struct mpcg_region *r)
{
	WARN_ON_ONCE(r->nr_tsets);
	kvfree(r->tset_hash);
	r->tset_hash = NULL;
}

/* Rehash into twice as many buckets (or the first ones); tset_lock held. */
static void mpcg_tset_grow(struct mpcg_region *r)
{
	unsigned int bits = r->tset_hash_bits ? r->tset_hash_bits + 1 :
			    MPCG_TSET_HASH_MIN;
	struct hlist_head *h;
	struct mpcg_tset *ts;
	struct hlist_node *tmp;
	unsigned int i;

	h = kvcalloc(1U << bits, sizeof(*h), GFP_KERNEL | __GFP_NOWARN);
	if (!h)
		return;	/* the old hash still works, only with longer chains */
	for (i = 0; r->tset_hash && i < (1U << r->tset_hash_bits); i++)
		hlist_for_each_entry_safe(ts, tmp, &r->tset_hash[i], node)
			hlist_add_head(&ts->node, &h[ts->hash >> (32 - bits)]);
	kvfree(r->tset_hash);
	r->tset_hash = h;
	r->tset_hash_bits = bits;
}

/*
 * The interned set with @bits (@nbits long, normalized), with a reference
 * taken; NULL for the empty set, or an ERR_PTR(-ENOMEM).  tset_lock held.
 */
static struct mpcg_tset *mpcg_tset_intern(struct mpcg_region *r,
					  const unsigned long *bits,
					  unsigned int nbits)
{
	unsigned int words = nbits / BITS_PER_LONG;
	struct mpcg_tset *ts;
	u32 hash;

	lockdep_assert_held(&r->tset_lock);
	if (!nbits)
		return NULL;
	hash = mpcg_tset_hashfn(bits, nbits);
	if (r->tset_hash) {
		hlist_for_each_entry(ts, &r->tset_hash[hash >> (32 - r->tset_hash_bits)],
				     node) {
			if (ts->hash == hash && ts->nbits == nbits &&
			    !memcmp(ts->bits, bits, words * sizeof(long))) {
				ts->ref++;
				return ts;
			}
		}
	}
	if (!r->tset_hash || r->nr_tsets >= (1U << r->tset_hash_bits))
		mpcg_tset_grow(r);
	if (!r->tset_hash)
		return ERR_PTR(-ENOMEM);
	ts = kmalloc(struct_size(ts, bits, words), GFP_KERNEL | __GFP_NOWARN);
	if (!ts)
		return ERR_PTR(-ENOMEM);
	ts->ref = 1;
	ts->hash = hash;
	ts->nbits = nbits;
	memcpy(ts->bits, bits, words * sizeof(long));
	ts->weight = bitmap_weight(ts->bits, nbits);
	hlist_add_head(&ts->node, &r->tset_hash[hash >> (32 - r->tset_hash_bits)]);
	r->nr_tsets++;
	return ts;
}

/* Drop a chunk's reference to @ts; tset_lock held. */
static void mpcg_tset_put_locked(struct mpcg_region *r, struct mpcg_tset *ts)
{
	lockdep_assert_held(&r->tset_lock);
	if (!ts || --ts->ref)
		return;
	hlist_del(&ts->node);
	r->nr_tsets--;
	kfree_rcu(ts, rcu);
}

/**
 * mpcg_tset_hold - take a reference to a touch set
 * @r: the region
 * @ts: a set of @r (not NULL)
 *
 * For a caller that must use @ts after replacing the pointer it came from.
 *
 * Context: called with region->tset_lock held; does not sleep.
 */
void mpcg_tset_hold(struct mpcg_region *r, struct mpcg_tset *ts)
{
	lockdep_assert_held(&r->tset_lock);
	ts->ref++;
}

/**
 * mpcg_tset_release - drop a reference taken by mpcg_tset_hold()
 * @r: the region
 * @ts: the set
 *
 * Context: called with region->tset_lock held; does not sleep.
 */
void mpcg_tset_release(struct mpcg_region *r, struct mpcg_tset *ts)
{
	mpcg_tset_put_locked(r, ts);
}

/**
 * mpcg_tset_add - add a member to a chunk's touch set
 * @r: the region
 * @tsp: the chunk's set pointer
 * @slot: the member's slot
 *
 * Replaces *@tsp with the set that has @slot too (found in the region's
 * hash, or made).
 *
 * Context: called with the chunk held in place (a page of it locked, or
 * chunk_sem for a chunk not yet published); takes region->tset_lock; may
 * sleep (allocates).
 *
 * Return: 1 if @slot was added, 0 if it was there already, or -ENOMEM.
 */
int mpcg_tset_add(struct mpcg_region *r, struct mpcg_tset __rcu **tsp,
		  unsigned int slot)
{
	unsigned int nbits = round_up(slot + 1, BITS_PER_LONG);
	struct mpcg_tset *old, *ts;
	unsigned long *bits;
	int ret = 1;

	mutex_lock(&r->tset_lock);
	old = rcu_dereference_protected(*tsp, lockdep_is_held(&r->tset_lock));
	if (mpcg_tset_has(old, slot)) {
		ret = 0;
		goto out;
	}
	if (old)
		nbits = max(nbits, old->nbits);
	bits = bitmap_zalloc(nbits, GFP_KERNEL | __GFP_NOWARN);
	if (!bits) {
		ret = -ENOMEM;
		goto out;
	}
	if (old)
		bitmap_copy(bits, old->bits, old->nbits);
	__set_bit(slot, bits);
	ts = mpcg_tset_intern(r, bits, nbits);
	bitmap_free(bits);
	if (IS_ERR(ts)) {
		ret = PTR_ERR(ts);
		goto out;
	}
	rcu_assign_pointer(*tsp, ts);
	mpcg_tset_put_locked(r, old);
out:
	mutex_unlock(&r->tset_lock);
	return ret;
}

/**
 * mpcg_tset_remove - take members out of a chunk's touch set
 * @r: the region
 * @tsp: the chunk's set pointer
 * @doomed: bitmap of the slots to take out
 * @nbits: its length
 *
 * Replaces *@tsp with the set without @doomed's members.  Without memory
 * for a new set the chunk keeps the old one: the caller must not free the
 * members then (it returns an error).
 *
 * Context: called with region->tset_lock held; may sleep (allocates).
 *
 * Return: 0 or -ENOMEM.
 */
int mpcg_tset_remove(struct mpcg_region *r, struct mpcg_tset __rcu **tsp,
		     const unsigned long *doomed, unsigned int nbits)
{
	struct mpcg_tset *old, *ts;
	unsigned long *bits;
	unsigned int len;

	lockdep_assert_held(&r->tset_lock);
	old = rcu_dereference_protected(*tsp, lockdep_is_held(&r->tset_lock));
	if (!old || !bitmap_intersects(old->bits, doomed,
				       min(old->nbits, nbits)))
		return 0;
	bits = bitmap_zalloc(old->nbits, GFP_KERNEL | __GFP_NOWARN);
	if (!bits)
		return -ENOMEM;
	bitmap_copy(bits, old->bits, old->nbits);
	bitmap_andnot(bits, bits, doomed, min(old->nbits, nbits));
	len = mpcg_tset_len(bits, old->nbits);
	ts = mpcg_tset_intern(r, bits, len);
	bitmap_free(bits);
	if (IS_ERR(ts))
		return PTR_ERR(ts);
	rcu_assign_pointer(*tsp, ts);
	mpcg_tset_put_locked(r, old);
	return 0;
}

/**
 * mpcg_tset_clear - drop a chunk's touch set
 * @r: the region
 * @tsp: the set pointer of a chunk being removed
 *
 * Context: called with region->tset_lock held; does not sleep.
 */
void mpcg_tset_clear(struct mpcg_region *r, struct mpcg_tset __rcu **tsp)
{
	struct mpcg_tset *old;

	old = rcu_dereference_protected(*tsp, lockdep_is_held(&r->tset_lock));
	RCU_INIT_POINTER(*tsp, NULL);
	mpcg_tset_put_locked(r, old);
}

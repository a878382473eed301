// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg chunk store: the memory of a region, one chunk at a time.
 *
 * Owns struct mpcg_chunk and struct mpcg_pages, the region's chunk xarray,
 * the mount's chunk budget, touch tracking and the movement of one chunk's
 * pages to another memory cgroup.  A chunk is allocated whole on first
 * touch, zero-filled, as one high-order allocation when the allocator can
 * give one (falling back to smaller pieces), split into order-0 pages so
 * that each page can be mapped and reference counted on its own.  The
 * pages are charged with __GFP_ACCOUNT to the memory cgroup of the member
 * that touched the chunk first (set as the active memcg), and the charge is
 * dropped when the last reference to a page goes.  A move allocates new
 * pages under the new payer and copies: the kernel cannot re-charge a page.
 *
 * Functions that make, touch or free chunks report whether they did (a
 * bool) to their caller in region.c, which marks the region changed; this
 * file calls nothing above it, only member.c's counters.
 *
 * Locking: see kernel/mpcg.h.  Lookups are lockless (RCU); allocation and
 * moves hold region->chunk_sem for read; removal holds it for write (also
 * when the region is torn down, though nobody else can reach it then, so
 * that one rule covers every remover).  Removal, zeroing and moves lock
 * every page of the chunk; a first touch locks the touched page, so a touch
 * is either counted before the chunk is removed or retried on what
 * replaced it.  chunk->pages is read without RCU only where it cannot be
 * replaced: with chunk_sem held for write, by the mover (which holds
 * region->reassess_lock, so there is no other mover), or with a page of the
 * chunk locked (a move locks every page before it replaces them).
 */
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/pagemap.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "mpcg.h"
#include "trace.h"

/* Chunks have a cache of their own: kmalloc would round 48 bytes to 64. */
static struct kmem_cache *mpcg_chunk_cachep;

static inline unsigned int chunk_order(const struct mpcg_region *r)
{
	return r->chunk_shift - PAGE_SHIFT;
}

static inline unsigned int pages_per_chunk(const struct mpcg_region *r)
{
	return 1U << chunk_order(r);
}

/*
 * chunk->pages is either a struct mpcg_pages (a chunk in several pieces) or,
 * with MPCG_PAGES_WHOLE set, the first page of a chunk that is one piece of
 * the chunk's order: most chunks, which then need no object of their own
 * (docs/benchmarks.md, kernel memory per chunk).  struct page is word
 * aligned, so bit 0 of its address is free.
 */
#define MPCG_PAGES_WHOLE	1UL

static bool mpcg_pages_whole(const struct mpcg_pages *pages)
{
	return (unsigned long)pages & MPCG_PAGES_WHOLE;
}

/* The order of each piece of @pages, of a chunk of order @chunk_order. */
static unsigned int mpcg_pages_order(const struct mpcg_pages *pages,
				     unsigned int chunk_order)
{
	return mpcg_pages_whole(pages) ? chunk_order : pages->order;
}

static struct page *mpcg_pages_nth(const struct mpcg_pages *pages,
				   unsigned int n)
{
	if (mpcg_pages_whole(pages))
		return nth_page((struct page *)((unsigned long)pages &
						~MPCG_PAGES_WHOLE), n);
	return nth_page(pages->piece[n >> pages->order],
			n & ((1U << pages->order) - 1));
}

/* Drop the references to the first @nr of @piece, of 2^@order pages each. */
static void mpcg_pieces_put(struct page **piece, unsigned int order,
			    unsigned int nr)
{
	unsigned int i, j;

	for (i = 0; i < nr; i++)
		for (j = 0; j < (1U << order); j++)
			put_page(nth_page(piece[i], j));
}

/* @gfp for a piece of 2^@piece_order pages: only order 0 retries or warns. */
static gfp_t mpcg_piece_gfp(gfp_t gfp, unsigned int piece_order)
{
	if (!piece_order)
		return gfp;
	return (gfp & ~__GFP_RETRY_MAYFAIL) | __GFP_NORETRY | __GFP_NOWARN;
}

/*
 * Allocate the memory of one chunk of 2^@order pages (zeroed if @gfp has
 * __GFP_ZERO, and always on a kernel booted with init_on_alloc=1): as a single
 * piece if possible (returned as MPCG_PAGES_WHOLE, without a struct
 * mpcg_pages), else in pieces of PAGE_ALLOC_COSTLY_ORDER, else page by page.
 * Only the last attempt uses @gfp as given (and so the caller's OOM
 * semantics); larger pieces are tried without retrying or warning.
 */
static struct mpcg_pages *mpcg_pages_alloc(unsigned int order, gfp_t gfp)
{
	unsigned int piece_order = order;
	struct mpcg_pages *pages;
	struct page *page;

	page = alloc_pages(mpcg_piece_gfp(gfp, order), order);
	if (page) {
		if (order)
			split_page(page, order);
		mpcg_objects_add(MPCG_OBJ_PAGES, 1L << order);
		return (struct mpcg_pages *)((unsigned long)page |
					     MPCG_PAGES_WHOLE);
	}
	if (!order || fatal_signal_pending(current))
		return NULL;

	for (;;) {
		unsigned int n, i;
		gfp_t g;

		piece_order = piece_order > PAGE_ALLOC_COSTLY_ORDER ?
			      PAGE_ALLOC_COSTLY_ORDER : 0;
		n = 1U << (order - piece_order);
		g = mpcg_piece_gfp(gfp, piece_order);
		pages = kmalloc(struct_size(pages, piece, n), GFP_KERNEL);
		if (!pages)
			return NULL;
		pages->order = piece_order;
		for (i = 0; i < n; i++) {
			page = alloc_pages(g, piece_order);
			if (!page)
				break;
			if (piece_order)
				split_page(page, piece_order);
			pages->piece[i] = page;
		}
		if (i == n) {
			mpcg_objects_add(MPCG_OBJ_PAGES, 1L << order);
			return pages;
		}
		mpcg_pieces_put(pages->piece, piece_order, i);
		kfree(pages);
		if (!piece_order || fatal_signal_pending(current))
			return NULL;
	}
}

/*
 * Copy the 2^@order pages of a chunk from @src to @dst, one physically
 * contiguous run (the smaller of their pieces) at a time, with the
 * architecture's non-temporal copy where it has one: a reassessment copies
 * far more than the caches hold, and nothing reads the copy at once.  Under
 * QEMU's TCG this is also about twice as fast as copy_page()'s emulated rep
 * movsq (docs/benchmarks.md).  A kernel with highmem, whose pages need not be
 * in the direct map, copies page by page.
 */
static void mpcg_pages_copy(struct mpcg_pages *dst,
			    const struct mpcg_pages *src, unsigned int order)
{
	unsigned int run = 1U << min(mpcg_pages_order(dst, order),
				     mpcg_pages_order(src, order));
	unsigned int nr = 1U << order;
	unsigned int i;

	if (IS_ENABLED(CONFIG_HIGHMEM)) {
		for (i = 0; i < nr; i++)
			copy_highpage(mpcg_pages_nth(dst, i),
				      mpcg_pages_nth(src, i));
		return;
	}
	for (i = 0; i < nr; i += run)
		memcpy_flushcache(page_address(mpcg_pages_nth(dst, i)),
				  page_address(mpcg_pages_nth(src, i)),
				  (size_t)run << PAGE_SHIFT);
	/* Non-temporal stores are weakly ordered: before the pages are seen. */
	wmb();
}

/*
 * Give the pages of a chunk to @chunk of @mapping's region, or (NULL, NULL)
 * take them back.  page->mapping makes them look like the file's pages to
 * the rest of the kernel, which futexes in shared mappings need (their key
 * is the inode and page->index); it must be NULL again before a page is
 * freed, and is, since every page is taken back under its lock before the
 * region drops its reference.
 */
static void mpcg_pages_set_owner(struct mpcg_pages *pages, unsigned int nr,
				 struct mpcg_chunk *chunk,
				 struct address_space *mapping)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		struct page *page = mpcg_pages_nth(pages, i);

		set_page_private(page, (unsigned long)chunk);
		WRITE_ONCE(page->mapping, mapping);
		/*
		 * Swap-backed, as tmpfs's pages are: mappings count them in
		 * RssShmem (MM_SHMEMPAGES), where users and the OOM killer
		 * look for shared memory.  Set before the first mapping, cleared
		 * after the last (a page is taken back only once unmapped).
		 */
		if (chunk)
			folio_set_swapbacked(page_folio(page));
		else
			folio_clear_swapbacked(page_folio(page));
	}
}

/* page->index of each page: its page index in the file. */
static void mpcg_pages_set_index(struct mpcg_pages *pages, unsigned int nr,
				 pgoff_t first)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		mpcg_pages_nth(pages, i)->index = first + i;
}

static void mpcg_lock_range(struct mpcg_pages *pages, unsigned int from,
			    unsigned int to)
{
	unsigned int i;

	for (i = from; i < to; i++)
		lock_page(mpcg_pages_nth(pages, i));
}

static void mpcg_unlock_range(struct mpcg_pages *pages, unsigned int from,
			      unsigned int to)
{
	unsigned int i;

	for (i = from; i < to; i++)
		unlock_page(mpcg_pages_nth(pages, i));
}

/*
 * The end of a chunk's pages, whoever takes them away (removal, a move's
 * old pages, a creation that lost its race): take every page back from the
 * chunk (page->private and page->mapping cleared), unlock them if @locked
 * (then the caller locked all of them, and the clearing happens before any
 * waiter gets a lock), drop the region's references, and free @pages after
 * an RCU grace period, since lockless lookups may still read it.  A page is
 * freed, and its memory cgroup uncharged, when its last reference goes.
 */
static void mpcg_pages_release(struct mpcg_region *r, struct mpcg_pages *pages,
			       bool locked)
{
	unsigned int n = pages_per_chunk(r);

	mpcg_pages_set_owner(pages, n, NULL, NULL);
	if (locked)
		mpcg_unlock_range(pages, 0, n);
	if (mpcg_pages_whole(pages)) {
		struct page *first = mpcg_pages_nth(pages, 0);

		mpcg_pieces_put(&first, chunk_order(r), 1);
	} else {
		mpcg_pieces_put(pages->piece, pages->order,
				1U << (chunk_order(r) - pages->order));
		kfree_rcu(pages, rcu);
	}
	mpcg_objects_add(MPCG_OBJ_PAGES, -(long)n);
}

static bool mpcg_space_charge(struct mpcg_sb_info *sbi)
{
	unsigned long max = READ_ONCE(sbi->max_chunks);

	if (atomic_long_inc_return(&sbi->used_chunks) <= max || !max)
		return true;
	atomic_long_dec(&sbi->used_chunks);
	return false;
}

static void mpcg_space_uncharge(struct mpcg_sb_info *sbi)
{
	atomic_long_dec(&sbi->used_chunks);
}

static void mpcg_chunk_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(mpcg_chunk_cachep,
			container_of(head, struct mpcg_chunk, rcu));
}

/**
 * mpcg_chunk_cache_init - create the cache of struct mpcg_chunk
 *
 * Context: module init.
 *
 * Return: 0 or -ENOMEM.
 */
int mpcg_chunk_cache_init(void)
{
	mpcg_chunk_cachep = KMEM_CACHE(mpcg_chunk, 0);
	return mpcg_chunk_cachep ? 0 : -ENOMEM;
}

/**
 * mpcg_chunk_cache_exit - free the cache of struct mpcg_chunk
 *
 * Context: module exit, once every region is freed; waits for the chunks
 * still waiting for their RCU grace period.
 */
void mpcg_chunk_cache_exit(void)
{
	rcu_barrier();
	kmem_cache_destroy(mpcg_chunk_cachep);
}

/**
 * mpcg_chunks_init - set up the chunk store of a new region
 * @r: the region of a new regular file
 * @chunk_shift: log2 of the mount's chunk size
 *
 * Context: takes no lock; nobody else can reach @r yet.
 */
void mpcg_chunks_init(struct mpcg_region *r, unsigned int chunk_shift)
{
	mpcg_tsets_init(r);
	xa_init(&r->chunks);
	init_rwsem(&r->chunk_sem);
	atomic_long_set(&r->nr_chunks, 0);
	r->chunk_shift = chunk_shift;
}

/*
 * Find the page at @in within chunk @ci and take a reference to it, without
 * locks.  Returns NULL if the chunk is not resident.  *@touched tells
 * whether the member in @slot (MPCG_NO_SLOT: none) touched the chunk: the
 * touch fast path, a bit test in the chunk's touch set, made here under
 * RCU, since once the RCU read section ends the chunk may be removed and
 * freed (the page reference does not keep it).
 */
static struct page *mpcg_lookup_page(struct mpcg_region *r, unsigned long ci,
				     unsigned int in, unsigned int slot,
				     struct mpcg_chunk **chunkp, bool *touched)
{
	struct mpcg_chunk *chunk;
	struct mpcg_pages *pages;
	struct page *page;

	*touched = false;
	rcu_read_lock();
	for (;;) {
		chunk = xa_load(&r->chunks, ci);
		if (!chunk) {
			page = NULL;
			break;
		}
		pages = rcu_dereference(chunk->pages);
		page = mpcg_pages_nth(pages, in);
		if (!get_page_unless_zero(page))
			continue;
		if (page_private(page) == (unsigned long)chunk) {
			if (slot != MPCG_NO_SLOT)
				*touched = mpcg_tset_has(rcu_dereference(chunk->ts),
							 slot);
			break;
		}
		/* Being removed or moved: look again. */
		put_page(page);
		cpu_relax();
	}
	rcu_read_unlock();
	*chunkp = chunk;
	return page;
}

static bool mpcg_beyond_eof(struct mpcg_region *r, pgoff_t index)
{
	loff_t size = i_size_read(mpcg_region_inode(r));

	return index >= DIV_ROUND_UP(size, PAGE_SIZE);
}

/*
 * Make chunk @ci resident, charged to @toucher (the owner if NULL), which
 * is also its first toucher.  -EEXIST if somebody else did it first.  A
 * new chunk is a change to the region (reported by mpcg_get_page()).
 */
static int mpcg_chunk_create(struct mpcg_region *r, unsigned long ci,
			     pgoff_t index, unsigned int flags,
			     struct mpcg_member *toucher)
{
	struct mpcg_sb_info *sbi = MPCG_SB(mpcg_region_inode(r)->i_sb);
	gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_ZERO;
	struct mem_cgroup *old_memcg;
	struct mpcg_chunk *chunk;
	struct mpcg_pages *pages;
	void *old;
	int err;

	if (!(flags & MPCG_GP_FAULT))
		gfp |= __GFP_RETRY_MAYFAIL | __GFP_NOWARN;
	if (!toucher)
		toucher = r->owner;

	down_read(&r->chunk_sem);
	err = -EFAULT;
	if ((flags & MPCG_GP_FAULT) && mpcg_beyond_eof(r, index))
		goto out;
	err = -EEXIST;
	if (xa_load(&r->chunks, ci))
		goto out;
	err = -ENOSPC;
	if (!mpcg_space_charge(sbi))
		goto out;
	err = -ENOMEM;
	chunk = kmem_cache_zalloc(mpcg_chunk_cachep, GFP_KERNEL);
	if (!chunk)
		goto out_space;
	old_memcg = set_active_memcg(toucher->memcg);
	pages = mpcg_pages_alloc(chunk_order(r), gfp);
	set_active_memcg(old_memcg);
	if (!pages)
		goto out_chunk;
	mpcg_pages_set_owner(pages, pages_per_chunk(r), chunk,
			     mpcg_region_inode(r)->i_mapping);
	mpcg_pages_set_index(pages, pages_per_chunk(r), ci << chunk_order(r));
	RCU_INIT_POINTER(chunk->pages, pages);
	chunk->payer = toucher->slot;
	chunk->first = toucher->slot;
	chunk->unused = !!(flags & MPCG_GP_FALLOC);
	/* Not published yet: nobody else can see its touch set. */
	if (mpcg_tset_add(r, &chunk->ts, toucher->slot) < 0)
		goto out_pages;

	old = xa_cmpxchg(&r->chunks, ci, NULL, chunk, GFP_KERNEL);
	if (!old) {
		atomic_long_inc(&r->nr_chunks);
		mpcg_objects_add(MPCG_OBJ_CHUNKS, 1);
		atomic_long_inc(&toucher->nr_touched);
		mpcg_paid_add(toucher, 1);
		up_read(&r->chunk_sem);
		trace_mpcg_chunk_alloc(mpcg_region_dev(r),
				       mpcg_region_inode(r)->i_ino, ci,
				       toucher->cgroup_id, mpcg_chunk_size(r),
				       !!(flags & MPCG_GP_FAULT));
		return 0;
	}
	err = xa_is_err(old) ? xa_err(old) : -EEXIST;
	mutex_lock(&r->tset_lock);
	mpcg_tset_clear(r, &chunk->ts);
	mutex_unlock(&r->tset_lock);
out_pages:
	/* Never published: nobody else has seen these pages. */
	mpcg_pages_release(r, pages, false);
out_chunk:
	kmem_cache_free(mpcg_chunk_cachep, chunk);
out_space:
	mpcg_space_uncharge(sbi);
out:
	up_read(&r->chunk_sem);
	return err;
}

/*
 * Has the member in @slot touched @chunk?  The touch fast path: a bit test
 * in the chunk's touch set, under RCU.
 */
static bool mpcg_touched(struct mpcg_chunk *chunk, unsigned int slot)
{
	bool ret;

	rcu_read_lock();
	ret = mpcg_tset_has(rcu_dereference(chunk->ts), slot);
	rcu_read_unlock();
	return ret;
}

/**
 * mpcg_chunk_touched_by - has a member touched a chunk?
 * @c: a resident chunk
 * @slot: the member's slot
 *
 * Context: any; the caller keeps @c resident (chunk_sem, RCU).
 *
 * Return: true if the member in @slot touched @c.
 */
bool mpcg_chunk_touched_by(struct mpcg_chunk *c, unsigned int slot)
{
	return mpcg_touched(c, slot);
}

/**
 * mpcg_chunk_nr_touchers - how many members touched a chunk
 * @c: a resident chunk
 *
 * Context: any; the caller keeps @c resident (chunk_sem, RCU).
 *
 * Return: the number of members in @c's touch set.
 */
unsigned int mpcg_chunk_nr_touchers(struct mpcg_chunk *c)
{
	unsigned int n;

	rcu_read_lock();
	n = mpcg_tset_weight(rcu_dereference(c->ts));
	rcu_read_unlock();
	return n;
}

/*
 * First touch of @chunk by @m, through @page (referenced, locked if
 * @locked).  With the page locked, the chunk cannot be removed or moved
 * under us; if it already was, the caller looks the page up again (1).
 * Sets *@changed if this was @m's first touch of the chunk.  Returns 0
 * when the touch is recorded, 1 to look again, or -ENOMEM.
 */
static int mpcg_touch_slow(struct mpcg_region *r, struct mpcg_chunk *chunk,
			   struct page *page, bool locked,
			   struct mpcg_member *m, bool *changed)
{
	int ret = 1;

	if (!locked)
		lock_page(page);
	if (page_private(page) == (unsigned long)chunk) {
		ret = mpcg_tset_add(r, &chunk->ts, m->slot);
		if (ret > 0) {
			atomic_long_inc(&m->nr_touched);
			*changed = true;
		}
		if (ret > 0)
			ret = 0;
	}
	if (!locked)
		unlock_page(page);
	return ret;
}

/**
 * mpcg_get_page - find (and optionally allocate) a page of a region
 * @r: the region
 * @index: page index in the file
 * @flags: MPCG_GP_CREATE to make the chunk resident if it is not,
 *         MPCG_GP_LOCK to return the page locked, MPCG_GP_FAULT for the
 *         page fault path (beyond-EOF checks under the lock, normal OOM
 *         semantics for the allocation)
 * @toucher: the member on whose behalf the page is used: it becomes a
 *           toucher of the chunk, and pays for it if it is new; NULL for
 *           no touch
 * @changed: set to true (never to false) if the chunk was made resident or
 *           first touched by @toucher: a change to the region, which the
 *           caller (region.c) marks
 *
 * Context: process context, may sleep (allocation, page lock).  Takes
 * region->chunk_sem for read to allocate, and the page lock.  No lock may
 * be held but the inode lock or the mmap lock.
 *
 * Return: the page with a reference held (locked with MPCG_GP_LOCK), NULL
 * if the chunk is not resident and MPCG_GP_CREATE was not given, or an
 * ERR_PTR: -ENOSPC past the mount's size, -ENOMEM (also when a first
 * touch cannot be recorded), -EFAULT for a fault beyond the end of the
 * file.
 */
struct page *mpcg_get_page(struct mpcg_region *r, pgoff_t index,
			   unsigned int flags, struct mpcg_member *toucher,
			   bool *changed)
{
	unsigned long ci = index >> chunk_order(r);
	unsigned int in = index & (pages_per_chunk(r) - 1);
	unsigned int slot = toucher ? toucher->slot : MPCG_NO_SLOT;
	struct mpcg_chunk *chunk;
	struct page *page;
	bool touched;
	int err;

	for (;;) {
		page = mpcg_lookup_page(r, ci, in, slot, &chunk, &touched);
		if (!page) {
			if (!(flags & MPCG_GP_CREATE))
				return NULL;
			err = mpcg_chunk_create(r, ci, index, flags, toucher);
			if (!err)
				*changed = true;
			else if (err != -EEXIST)
				return ERR_PTR(err);
			continue;
		}
		if (!(flags & MPCG_GP_LOCK)) {
			/* The fast path of a touch: the lookup's bit test. */
			if (!toucher || touched)
				return page;
			err = mpcg_touch_slow(r, chunk, page, false, toucher,
					      changed);
			if (!err)
				return page;
			put_page(page);
			if (err < 0)
				return ERR_PTR(err);
			continue;
		}
		lock_page(page);
		if (page_private(page) == (unsigned long)chunk) {
			if ((flags & MPCG_GP_FAULT) && mpcg_beyond_eof(r, index)) {
				unlock_page(page);
				put_page(page);
				return ERR_PTR(-EFAULT);
			}
			if (toucher && !mpcg_touched(chunk, toucher->slot)) {
				err = mpcg_touch_slow(r, chunk, page, true,
						      toucher, changed);
				if (err < 0) {
					unlock_page(page);
					put_page(page);
					return ERR_PTR(err);
				}
			}
			/* Faulted in or written: a failed fallocate keeps it. */
			if (unlikely(READ_ONCE(chunk->unused)))
				WRITE_ONCE(chunk->unused, 0);
			return page;
		}
		unlock_page(page);
		put_page(page);
	}
}

/**
 * mpcg_map_chunk - map the rest of a chunk on a fault
 * @r: the region
 * @vma: the faulting mapping (VM_MIXEDMAP, so that pages can be inserted
 *       from the fault handler with the mmap lock held for read)
 * @page: the faulting page, locked and verified by mpcg_get_page(); the
 *        core maps it when the fault handler returns
 *
 * Maps every other page of the chunk that lies inside @vma and the file,
 * and has no PTE yet, so that touching a resident chunk costs one fault,
 * not one per page.  Holding one page lock of the chunk keeps it from being
 * moved or removed meanwhile (both take every page lock before they unmap).
 *
 * Context: the fault handler, with @page locked; may sleep (page table
 * allocation).
 */
void mpcg_map_chunk(struct mpcg_region *r, struct vm_area_struct *vma,
		    struct page *page)
{
	struct mpcg_chunk *chunk = (struct mpcg_chunk *)page_private(page);
	unsigned long vstart = vma->vm_start, vend = vma->vm_end;
	pgoff_t first, last, eof, i;
	struct mpcg_pages *pages;

	first = page->index & ~((pgoff_t)pages_per_chunk(r) - 1);
	last = first + pages_per_chunk(r);
	eof = DIV_ROUND_UP(i_size_read(mpcg_region_inode(r)), PAGE_SIZE);
	last = min(last, eof);
	/* The chunk's part that this mapping covers. */
	first = max(first, vma->vm_pgoff);
	last = min_t(pgoff_t, last, vma->vm_pgoff + vma_pages(vma));

	pages = rcu_dereference_protected(chunk->pages, PageLocked(page));
	for (i = first; i < last; i++) {
		struct page *p = mpcg_pages_nth(pages, i & (pages_per_chunk(r) - 1));
		unsigned long addr = vstart + ((i - vma->vm_pgoff) << PAGE_SHIFT);

		if (p == page || addr < vstart || addr >= vend)
			continue;
		/* -EBUSY: already mapped (maybe a private copy); leave it. */
		if (vm_insert_page(vma, addr, p) == -ENOMEM)
			break;
	}
	/* So that VmRSS and the OOM killer see the pages just mapped. */
	mpcg_sync_rss(vma->vm_mm);
}

/* How mpcg_chunk_remove() treats mappings of the chunk. */
enum mpcg_unmap {
	MPCG_NO_UNMAP,		/* eviction: there are none */
	MPCG_UNMAP_SHARED,	/* hole punch: private copies stay */
	MPCG_UNMAP_ALL,		/* truncate: private copies go too */
};

/* chunk->pages, with chunk_sem held for write: no move can replace it. */
static struct mpcg_pages *mpcg_chunk_pages_excl(struct mpcg_region *r,
						struct mpcg_chunk *chunk)
{
	return rcu_dereference_protected(chunk->pages,
					 lockdep_is_held_type(&r->chunk_sem, 0));
}

/*
 * Take chunk @ci out of the region and drop the region's references to its
 * pages, which the caller has locked (all of them); they are unlocked on
 * return.  Mappings of it are zapped (as @unmap says) while its pages are
 * locked, so that no fault can map them again; they are taken back from the
 * chunk before they are unlocked, so that a fault or first touch waiting
 * for one finds it orphaned and looks again.  Called with chunk_sem held
 * for write.
 */
static void mpcg_chunk_remove_locked(struct mpcg_region *r, unsigned long ci,
				     struct mpcg_chunk *chunk,
				     struct mpcg_pages *pages,
				     enum mpcg_unmap unmap)
{
	struct inode *inode = mpcg_region_inode(r);
	struct mpcg_member *payer = mpcg_member_at(r, chunk->payer);
	struct mpcg_tset *ts;

	lockdep_assert_held_write(&r->chunk_sem);
	xa_erase(&r->chunks, ci);
	/* No touch can be added now: every page is locked. */
	mutex_lock(&r->tset_lock);
	ts = rcu_dereference_protected(chunk->ts,
				       lockdep_is_held(&r->tset_lock));
	if (ts) {
		const unsigned long *bits;
		unsigned int nbits, slot;

		bits = mpcg_tset_bits(ts, &nbits);
		for_each_set_bit(slot, bits, nbits)
			atomic_long_dec(&mpcg_member_at(r, slot)->nr_touched);
	}
	mpcg_tset_clear(r, &chunk->ts);
	mutex_unlock(&r->tset_lock);
	mpcg_paid_add(payer, -1);
	trace_mpcg_chunk_free(mpcg_region_dev(r), inode->i_ino, ci,
			      payer->cgroup_id, mpcg_chunk_size(r));
	if (unmap != MPCG_NO_UNMAP)
		unmap_mapping_range(inode->i_mapping,
				    (loff_t)ci << r->chunk_shift,
				    1UL << r->chunk_shift,
				    unmap == MPCG_UNMAP_ALL);
	mpcg_pages_release(r, pages, true);
	/* Lockless lookups may still read @chunk: free after RCU. */
	call_rcu(&chunk->rcu, mpcg_chunk_free_rcu);
	atomic_long_dec(&r->nr_chunks);
	mpcg_objects_add(MPCG_OBJ_CHUNKS, -1);
	mpcg_space_uncharge(MPCG_SB(inode->i_sb));
}

static void mpcg_chunk_remove(struct mpcg_region *r, unsigned long ci,
			      struct mpcg_chunk *chunk, enum mpcg_unmap unmap)
{
	struct mpcg_pages *pages = mpcg_chunk_pages_excl(r, chunk);

	mpcg_lock_range(pages, 0, pages_per_chunk(r));
	mpcg_chunk_remove_locked(r, ci, chunk, pages, unmap);
}

/*
 * Zero the part of chunk @ci from byte @from of the file to the chunk's end,
 * after truncate to @from.  Whole pages past @from are also unmapped (they
 * are beyond EOF now); the page that holds @from stays mapped.
 */
static void mpcg_chunk_zero_tail(struct mpcg_region *r, unsigned long ci,
				 loff_t from)
{
	struct inode *inode = mpcg_region_inode(r);
	unsigned int n = pages_per_chunk(r);
	unsigned int first = (from >> PAGE_SHIFT) & (n - 1);
	unsigned int whole = DIV_ROUND_UP(from, PAGE_SIZE) & (n - 1);
	struct mpcg_chunk *chunk = xa_load(&r->chunks, ci);
	struct mpcg_pages *pages;
	unsigned int i;

	if (!chunk)
		return;
	if (!whole)	/* @from is in the chunk's last page */
		whole = n;
	pages = mpcg_chunk_pages_excl(r, chunk);
	mpcg_lock_range(pages, first, n);
	if (whole < n)
		unmap_mapping_range(inode->i_mapping,
				    ((loff_t)ci << r->chunk_shift) +
				    ((loff_t)whole << PAGE_SHIFT),
				    (loff_t)(n - whole) << PAGE_SHIFT, 1);
	zero_user_segment(mpcg_pages_nth(pages, first), offset_in_page(from),
			  PAGE_SIZE);
	for (i = first + 1; i < n; i++)
		clear_highpage(mpcg_pages_nth(pages, i));
	mpcg_unlock_range(pages, first, n);
}

/**
 * mpcg_chunks_truncate - free what lies beyond a new, smaller size
 * @r: the region
 * @newsize: the new size, already written to i_size
 *
 * Chunks entirely beyond @newsize are freed (and uncharged); the rest of the
 * chunk that holds @newsize is zeroed, so that extending the file again
 * shows zeroes.  Mappings beyond the new end, private copies included, are
 * zapped.
 *
 * Context: called with the inode lock held (truncate); takes
 * region->chunk_sem for write and page locks; sleeps.
 *
 * Return: true if a chunk was freed (a change to the region).
 */
bool mpcg_chunks_truncate(struct mpcg_region *r, loff_t newsize)
{
	struct inode *inode = mpcg_region_inode(r);
	unsigned long first = DIV_ROUND_UP(newsize, 1ULL << r->chunk_shift);
	struct mpcg_chunk *chunk;
	bool removed = false;
	unsigned long ci;

	lockdep_assert_held_write(&inode->i_rwsem);
	down_write(&r->chunk_sem);
	xa_for_each_start(&r->chunks, ci, chunk, first) {
		mpcg_chunk_remove(r, ci, chunk, MPCG_UNMAP_ALL);
		removed = true;
	}
	if (newsize & ((1ULL << r->chunk_shift) - 1))
		mpcg_chunk_zero_tail(r, first - 1, newsize);
	up_write(&r->chunk_sem);
	/* Private copies of pages in holes beyond the new end. */
	unmap_mapping_range(inode->i_mapping, PAGE_ALIGN(newsize), 0, 1);
	return removed;
}

/* Zero bytes [@from, @to) of resident chunk @ci, page by page, locked. */
static void mpcg_chunk_zero_range(struct mpcg_region *r, unsigned long ci,
				  loff_t from, loff_t to)
{
	struct mpcg_chunk *chunk = xa_load(&r->chunks, ci);
	loff_t base = (loff_t)ci << r->chunk_shift;
	struct mpcg_pages *pages;
	loff_t pos;

	if (!chunk)
		return;
	pages = mpcg_chunk_pages_excl(r, chunk);
	for (pos = from; pos < to; pos = round_down(pos, PAGE_SIZE) + PAGE_SIZE) {
		struct page *page = mpcg_pages_nth(pages,
						   (pos - base) >> PAGE_SHIFT);
		size_t start = offset_in_page(pos);
		size_t end = min_t(loff_t, PAGE_SIZE, to - pos + start);

		lock_page(page);
		zero_user_segment(page, start, end);
		unlock_page(page);
	}
}

/**
 * mpcg_chunks_punch - free a byte range of a region (a hole punch)
 * @r: the region
 * @start: first byte
 * @end: one past the last byte
 *
 * Whole chunks in the range are freed and uncharged; the parts of chunks
 * it only partly covers are zeroed (a chunk is never split).  Shared
 * mappings of freed chunks are zapped; private copies stay, as on tmpfs.
 *
 * Context: called with the inode lock held (fallocate); takes
 * region->chunk_sem for write and page locks; sleeps.
 *
 * Return: true if a chunk was freed (a change to the region).
 */
bool mpcg_chunks_punch(struct mpcg_region *r, loff_t start, loff_t end)
{
	u64 size = mpcg_chunk_size(r);
	unsigned long first = DIV_ROUND_UP_ULL(start, size);
	unsigned long last = end >> r->chunk_shift;	/* exclusive */
	struct mpcg_chunk *chunk;
	bool removed = false;
	unsigned long ci;

	lockdep_assert_held_write(&mpcg_region_inode(r)->i_rwsem);
	if (start >= end)
		return false;
	down_write(&r->chunk_sem);
	if (first < last)
		xa_for_each_range(&r->chunks, ci, chunk, first, last - 1) {
			mpcg_chunk_remove(r, ci, chunk, MPCG_UNMAP_SHARED);
			removed = true;
		}
	if (first > last) {
		/* Inside one chunk. */
		mpcg_chunk_zero_range(r, last, start, end);
	} else {
		if (start & (size - 1))
			mpcg_chunk_zero_range(r, first - 1, start,
					      (loff_t)first << r->chunk_shift);
		if (end & (size - 1))
			mpcg_chunk_zero_range(r, last,
					      (loff_t)last << r->chunk_shift,
					      end);
	}
	up_write(&r->chunk_sem);
	return removed;
}

/**
 * mpcg_chunks_reserve_check - is there room to make a byte range resident?
 * @r: the region
 * @start: first byte
 * @end: one past the last byte
 *
 * Context: takes no lock but RCU; does not sleep.
 *
 * Return: 0, or -ENOSPC if the chunks of the range that are not resident
 * yet do not fit in what is left of the mount's size.
 */
int mpcg_chunks_reserve_check(struct mpcg_region *r, loff_t start, loff_t end)
{
	struct mpcg_sb_info *sbi = MPCG_SB(mpcg_region_inode(r)->i_sb);
	unsigned long max = READ_ONCE(sbi->max_chunks);
	unsigned long first, last, need;
	struct mpcg_chunk *chunk;
	unsigned long ci;
	long used;

	if (start >= end || !max)
		return 0;
	first = start >> r->chunk_shift;
	last = (end - 1) >> r->chunk_shift;
	need = last - first + 1;
	rcu_read_lock();
	xa_for_each_range(&r->chunks, ci, chunk, first, last)
		need--;
	rcu_read_unlock();
	used = atomic_long_read(&sbi->used_chunks);
	return used + need > max ? -ENOSPC : 0;
}

/**
 * mpcg_chunks_seek - SEEK_DATA / SEEK_HOLE over resident chunks
 * @r: the region
 * @offset: where to start
 * @whence: SEEK_DATA or SEEK_HOLE
 * @size: the file size
 *
 * Context: takes no lock but RCU; does not sleep.
 *
 * Return: the offset of the next resident (SEEK_DATA) or non-resident
 * (SEEK_HOLE, the end of the file counts as a hole) byte at or after
 * @offset, or -ENXIO past the end or when there is no more data.
 */
loff_t mpcg_chunks_seek(struct mpcg_region *r, loff_t offset, int whence,
			loff_t size)
{
	unsigned long ci, last;
	struct mpcg_chunk *chunk;
	loff_t pos;

	if (offset < 0 || offset >= size)
		return -ENXIO;
	ci = offset >> r->chunk_shift;
	last = (size - 1) >> r->chunk_shift;
	rcu_read_lock();
	if (whence == SEEK_DATA) {
		chunk = xa_find(&r->chunks, &ci, last, XA_PRESENT);
		pos = chunk ? max_t(loff_t, offset,
				    (loff_t)ci << r->chunk_shift) : -ENXIO;
	} else {
		while (ci <= last && xa_load(&r->chunks, ci))
			ci++;
		pos = ci > last ? size :
		      max_t(loff_t, offset, (loff_t)ci << r->chunk_shift);
	}
	rcu_read_unlock();
	return pos;
}

/**
 * mpcg_chunks_allocate_end - finish a fallocate() of chunks
 * @r: the region
 * @first: the first chunk it made resident or found resident
 * @last: the last one
 * @failed: whether the fallocate() failed
 *
 * On success the chunks it made resident are ordinary chunks from now on;
 * on failure those that are still unused (nobody faulted them in or wrote
 * them since, which is checked with all their pages locked) are freed
 * again, as tmpfs gives back the pages of a failed fallocate().
 *
 * Context: called with the inode lock held (fallocate); on failure takes
 * region->chunk_sem for write and page locks, and sleeps.
 *
 * Return: true if a chunk was freed (a change to the region).
 */
bool mpcg_chunks_allocate_end(struct mpcg_region *r, unsigned long first,
			      unsigned long last, bool failed)
{
	unsigned int n = pages_per_chunk(r);
	struct mpcg_chunk *chunk;
	bool removed = false;
	unsigned long ci;

	lockdep_assert_held_write(&mpcg_region_inode(r)->i_rwsem);
	if (!failed) {
		rcu_read_lock();
		xa_for_each_range(&r->chunks, ci, chunk, first, last)
			if (READ_ONCE(chunk->unused))
				WRITE_ONCE(chunk->unused, 0);
		rcu_read_unlock();
		return false;
	}
	down_write(&r->chunk_sem);
	xa_for_each_range(&r->chunks, ci, chunk, first, last) {
		struct mpcg_pages *pages;

		if (!READ_ONCE(chunk->unused))
			continue;
		pages = mpcg_chunk_pages_excl(r, chunk);
		mpcg_lock_range(pages, 0, n);
		if (READ_ONCE(chunk->unused)) {
			mpcg_chunk_remove_locked(r, ci, chunk, pages,
						 MPCG_UNMAP_SHARED);
			removed = true;
		} else {
			mpcg_unlock_range(pages, 0, n);
		}
	}
	up_write(&r->chunk_sem);
	return removed;
}

/**
 * mpcg_chunks_destroy - free every chunk of a region being evicted
 * @r: the region; nobody else can reach it any more
 *
 * Context: sleeps.  Takes region->chunk_sem for write, uncontended (nobody
 * else can reach the region), so that removal has one locking rule.
 */
void mpcg_chunks_destroy(struct mpcg_region *r)
{
	struct mpcg_chunk *chunk;
	unsigned long ci;

	down_write(&r->chunk_sem);
	xa_for_each(&r->chunks, ci, chunk) {
		mpcg_chunk_remove(r, ci, chunk, MPCG_NO_UNMAP);
		cond_resched();
	}
	xa_destroy(&r->chunks);
	up_write(&r->chunk_sem);
	mpcg_tsets_destroy(r);
}

/**
 * mpcg_chunk_move - charge a chunk to another member by moving its memory
 * @r: the region
 * @ci: the chunk's index
 * @chunk: the chunk, resident at @ci
 * @to: the new payer
 *
 * Allocates new pages charged to @to's memory cgroup without invoking the
 * OOM killer (at its limit the allocation fails after reclaim), locks the
 * old pages (faults, write() and first touches of the chunk wait), unmaps
 * the chunk from every mapping (private copies stay), copies, publishes the
 * new pages and frees the old ones, which uncharges the old payer.
 *
 * Context: called with region->chunk_sem held for read (the chunk stays
 * resident) and region->reassess_lock (nobody else moves it); takes every
 * page lock of the chunk; sleeps.
 *
 * Return: 0, -ENOMEM if @to could not take the chunk, or -EBUSY if the
 * chunk's pages are in use (pinned by I/O, a read or fault in progress);
 * then nothing changed but that the chunk was unmapped.
 */
int mpcg_chunk_move(struct mpcg_region *r, unsigned long ci,
		    struct mpcg_chunk *chunk, struct mpcg_member *to)
{
	struct inode *inode = mpcg_region_inode(r);
	unsigned int i, n = pages_per_chunk(r);
	struct mpcg_pages *old, *new;
	struct mem_cgroup *old_memcg;
	struct mpcg_member *from;
	u64 t0 = 0;

	lockdep_assert_held(&r->chunk_sem);
	lockdep_assert_held(&r->reassess_lock);
	/* Only the tracepoint uses the duration: with it off, no clock read. */
	if (trace_mpcg_chunk_move_enabled())
		t0 = ktime_get_ns();

	old_memcg = set_active_memcg(to->memcg);
	new = mpcg_pages_alloc(chunk_order(r), GFP_KERNEL_ACCOUNT |
			       __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	set_active_memcg(old_memcg);
	if (!new)
		return -ENOMEM;

	/* Only a mover replaces it, and movers hold reassess_lock. */
	old = rcu_dereference_protected(chunk->pages,
					lockdep_is_held(&r->reassess_lock) &&
					lockdep_is_held(&r->chunk_sem));
	from = mpcg_member_at(r, chunk->payer);
	mpcg_lock_range(old, 0, n);
	unmap_mapping_range(inode->i_mapping, (loff_t)ci << r->chunk_shift,
			    mpcg_chunk_size(r), 0);
	/*
	 * As page migration does: a page that is still mapped, or has a
	 * reference beyond the region's own (a GUP pin or get of I/O that
	 * may still write into it, a read() or fault in progress), may be
	 * written or read through it after the copy.  The chunk stays where
	 * it is, and is tried again later.
	 */
	for (i = 0; i < n; i++) {
		struct page *page = mpcg_pages_nth(old, i);

		if (page_mapped(page) || page_count(page) != 1)
			break;
	}
	if (i < n) {
		int refs = page_count(mpcg_pages_nth(old, i));

		mpcg_unlock_range(old, 0, n);
		mpcg_pages_release(r, new, false);
		trace_mpcg_chunk_pinned(mpcg_region_dev(r), inode->i_ino, ci,
					from->cgroup_id, to->cgroup_id,
					mpcg_chunk_size(r), refs);
		return -EBUSY;
	}
	mpcg_pages_copy(new, old, chunk_order(r));
	mpcg_pages_set_owner(new, n, chunk, inode->i_mapping);
	mpcg_pages_set_index(new, n, ci << chunk_order(r));
	rcu_assign_pointer(chunk->pages, new);
	mpcg_pages_release(r, old, true);

	WRITE_ONCE(chunk->payer, to->slot);
	mpcg_paid_add(from, -1);
	mpcg_paid_add(to, 1);
	trace_mpcg_chunk_move(mpcg_region_dev(r), inode->i_ino, ci,
			      from->cgroup_id, to->cgroup_id,
			      mpcg_chunk_size(r),
			      t0 ? ktime_get_ns() - t0 : 0);
	return 0;
}

/**
 * mpcg_chunks_forget - clear members' marks in every chunk of a region
 * @r: the region
 * @slots: bitmap of the member slots to forget
 * @nbits: its length
 *
 * Takes them out of every chunk's touch set (and their touched counts) and
 * clears their first-toucher marks, so that the members can be freed and
 * their slots reused.  Used for members that left and pay for no chunk.
 *
 * Context: called with mpcg_index_lock held (the members stay as they are)
 * and region->chunk_sem held (the chunks stay resident); takes
 * region->tset_lock; may sleep (allocates touch sets).
 *
 * Return: 0, or -ENOMEM if a chunk's set could not be replaced: then the
 * members must not be freed (some chunk still names them).
 */
int mpcg_chunks_forget(struct mpcg_region *r, const unsigned long *slots,
		       unsigned int nbits)
{
	struct mpcg_chunk *c;
	unsigned long ci;
	int err = 0;

	lockdep_assert_held(&mpcg_index_lock);
	lockdep_assert_held(&r->chunk_sem);
	mutex_lock(&r->tset_lock);
	xa_for_each(&r->chunks, ci, c) {
		struct mpcg_tset *ts;
		unsigned int n, m, first = READ_ONCE(c->first);
		const unsigned long *bits;

		if (first < nbits && test_bit(first, slots))
			WRITE_ONCE(c->first, MPCG_NO_SLOT);
		ts = rcu_dereference_protected(c->ts,
					       lockdep_is_held(&r->tset_lock));
		if (!ts)
			continue;
		bits = mpcg_tset_bits(ts, &n);
		/* The counts only once the set is replaced: keep it meanwhile. */
		mpcg_tset_hold(r, ts);
		if (mpcg_tset_remove(r, &c->ts, slots, nbits)) {
			mpcg_tset_release(r, ts);
			err = -ENOMEM;
			break;
		}
		for_each_set_bit(m, bits, min(n, nbits))
			if (test_bit(m, slots))
				atomic_long_dec(&mpcg_member_at(r, m)->nr_touched);
		mpcg_tset_release(r, ts);
	}
	mutex_unlock(&r->tset_lock);
	return err;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mpcg tracepoints (trace system "mpcg").
 *
 * Every event names its region by dev (as st_dev shows it) and ino, and
 * memory cgroups by cgroup id (the cgroup2 directory's inode number, as
 * the tools print).  Only integer fields, declared with C type names
 * (not u32/u64), so that bpftrace 0.17 can read them from the format files
 * on a kernel without BTF too.  Defined once in trace.c; fired from
 * region.c, member.c, chunk.c and reassess.c.
 *
 * Built with -DMPCG_NO_TRACEPOINTS (make bench does, for a second module),
 * the events compile to nothing, so that their cost when tracing is off
 * can be measured against no tracepoints at all.
 */
#ifdef MPCG_NO_TRACEPOINTS
#ifndef _TRACE_MPCG_NONE_H
#define _TRACE_MPCG_NONE_H
#include <linux/types.h>
static inline void trace_mpcg_region_create(u32 dev, u64 ino, u64 owner,
					    u64 chunk_size, u32 policy) {}
static inline void trace_mpcg_region_destroy(u32 dev, u64 ino, u64 owner,
					     u64 chunk_size, u32 policy) {}
static inline void trace_mpcg_member_join(u32 dev, u64 ino, u64 cgroup,
					  u32 slot, u32 members) {}
static inline void trace_mpcg_member_leave(u32 dev, u64 ino, u64 cgroup,
					   u32 slot, u32 members) {}
static inline void trace_mpcg_chunk_alloc(u32 dev, u64 ino, u64 index,
					  u64 cgroup, u64 bytes, u32 fault) {}
static inline void trace_mpcg_chunk_free(u32 dev, u64 ino, u64 index,
					 u64 cgroup, u64 bytes) {}
static inline void trace_mpcg_shortfall(u32 dev, u64 ino, u64 index,
					u64 cgroup, u64 bytes) {}
static inline void trace_mpcg_chunk_move(u32 dev, u64 ino, u64 index,
					 u64 from, u64 to, u64 bytes,
					 u64 ns) {}
static inline void trace_mpcg_chunk_pinned(u32 dev, u64 ino, u64 index,
					   u64 from, u64 to, u64 bytes,
					   s32 refs) {}
static inline void trace_mpcg_reassess_start(u32 dev, u64 ino, u32 policy,
					     u32 members, u64 resident) {}
static inline void trace_mpcg_reassess_end(u32 dev, u64 ino,
					   u64 chunks_moved, u64 bytes_moved,
					   u64 ns, u64 shortfall, u32 state,
					   s32 result) {}
static inline bool trace_mpcg_chunk_move_enabled(void) { return false; }
static inline bool trace_mpcg_reassess_end_enabled(void) { return false; }
#endif
#else /* !MPCG_NO_TRACEPOINTS */

#undef TRACE_SYSTEM
#define TRACE_SYSTEM mpcg

#if !defined(_TRACE_MPCG_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_MPCG_H

#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(mpcg_region_class,
	TP_PROTO(u32 dev, u64 ino, u64 owner, u64 chunk_size, u32 policy),
	TP_ARGS(dev, ino, owner, chunk_size, policy),
	TP_STRUCT__entry(
		__field(unsigned int, dev)
		__field(unsigned long long, ino)
		__field(unsigned long long, owner)
		__field(unsigned long long, chunk_size)
		__field(unsigned int, policy)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->ino = ino;
		__entry->owner = owner;
		__entry->chunk_size = chunk_size;
		__entry->policy = policy;
	),
	TP_printk("dev=%u ino=%llu owner=%llu chunk_size=%llu policy=%u",
		  __entry->dev, __entry->ino, __entry->owner,
		  __entry->chunk_size, __entry->policy)
);

DEFINE_EVENT(mpcg_region_class, mpcg_region_create,
	TP_PROTO(u32 dev, u64 ino, u64 owner, u64 chunk_size, u32 policy),
	TP_ARGS(dev, ino, owner, chunk_size, policy));

DEFINE_EVENT(mpcg_region_class, mpcg_region_destroy,
	TP_PROTO(u32 dev, u64 ino, u64 owner, u64 chunk_size, u32 policy),
	TP_ARGS(dev, ino, owner, chunk_size, policy));

DECLARE_EVENT_CLASS(mpcg_member_class,
	TP_PROTO(u32 dev, u64 ino, u64 cgroup, u32 slot, u32 members),
	TP_ARGS(dev, ino, cgroup, slot, members),
	TP_STRUCT__entry(
		__field(unsigned int, dev)
		__field(unsigned long long, ino)
		__field(unsigned long long, cgroup)
		__field(unsigned int, slot)
		__field(unsigned int, members)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->ino = ino;
		__entry->cgroup = cgroup;
		__entry->slot = slot;
		__entry->members = members;
	),
	TP_printk("dev=%u ino=%llu cgroup=%llu slot=%u members=%u",
		  __entry->dev, __entry->ino, __entry->cgroup, __entry->slot,
		  __entry->members)
);

/* A memory cgroup got its first attachment (members: count after). */
DEFINE_EVENT(mpcg_member_class, mpcg_member_join,
	TP_PROTO(u32 dev, u64 ino, u64 cgroup, u32 slot, u32 members),
	TP_ARGS(dev, ino, cgroup, slot, members));

/* A memory cgroup lost its last attachment. */
DEFINE_EVENT(mpcg_member_class, mpcg_member_leave,
	TP_PROTO(u32 dev, u64 ino, u64 cgroup, u32 slot, u32 members),
	TP_ARGS(dev, ino, cgroup, slot, members));

DECLARE_EVENT_CLASS(mpcg_chunk_class,
	TP_PROTO(u32 dev, u64 ino, u64 index, u64 cgroup, u64 bytes),
	TP_ARGS(dev, ino, index, cgroup, bytes),
	TP_STRUCT__entry(
		__field(unsigned int, dev)
		__field(unsigned long long, ino)
		__field(unsigned long long, index)
		__field(unsigned long long, cgroup)
		__field(unsigned long long, bytes)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->ino = ino;
		__entry->index = index;
		__entry->cgroup = cgroup;
		__entry->bytes = bytes;
	),
	TP_printk("dev=%u ino=%llu index=%llu cgroup=%llu bytes=%llu",
		  __entry->dev, __entry->ino, __entry->index, __entry->cgroup,
		  __entry->bytes)
);

/*
 * A chunk was made resident, charged to cgroup (its first toucher).  fault:
 * 1 if a page fault allocated it, 0 if write() or fallocate() did.
 */
TRACE_EVENT(mpcg_chunk_alloc,
	TP_PROTO(u32 dev, u64 ino, u64 index, u64 cgroup, u64 bytes,
		 u32 fault),
	TP_ARGS(dev, ino, index, cgroup, bytes, fault),
	TP_STRUCT__entry(
		__field(unsigned int, dev)
		__field(unsigned long long, ino)
		__field(unsigned long long, index)
		__field(unsigned long long, cgroup)
		__field(unsigned long long, bytes)
		__field(unsigned int, fault)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->ino = ino;
		__entry->index = index;
		__entry->cgroup = cgroup;
		__entry->bytes = bytes;
		__entry->fault = fault;
	),
	TP_printk("dev=%u ino=%llu index=%llu cgroup=%llu bytes=%llu fault=%u",
		  __entry->dev, __entry->ino, __entry->index, __entry->cgroup,
		  __entry->bytes, __entry->fault)
);

/* A chunk was freed (truncate, hole punch, last unlink); cgroup paid it. */
DEFINE_EVENT(mpcg_chunk_class, mpcg_chunk_free,
	TP_PROTO(u32 dev, u64 ino, u64 index, u64 cgroup, u64 bytes),
	TP_ARGS(dev, ino, index, cgroup, bytes));

/* cgroup should pay for a chunk, but its limit refused the move. */
DEFINE_EVENT(mpcg_chunk_class, mpcg_shortfall,
	TP_PROTO(u32 dev, u64 ino, u64 index, u64 cgroup, u64 bytes),
	TP_ARGS(dev, ino, index, cgroup, bytes));

/*
 * A chunk should have moved from one memory cgroup to another but stayed:
 * a page of it was in use (pinned by I/O, a read() or fault in progress);
 * refs: the references that page had (1 is the region's own).
 */
TRACE_EVENT(mpcg_chunk_pinned,
	TP_PROTO(u32 dev, u64 ino, u64 index, u64 from, u64 to, u64 bytes,
		 s32 refs),
	TP_ARGS(dev, ino, index, from, to, bytes, refs),
	TP_STRUCT__entry(
		__field(unsigned int, dev)
		__field(unsigned long long, ino)
		__field(unsigned long long, index)
		__field(unsigned long long, from)
		__field(unsigned long long, to)
		__field(unsigned long long, bytes)
		__field(int, refs)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->ino = ino;
		__entry->index = index;
		__entry->from = from;
		__entry->to = to;
		__entry->bytes = bytes;
		__entry->refs = refs;
	),
	TP_printk("dev=%u ino=%llu index=%llu from=%llu to=%llu bytes=%llu refs=%d",
		  __entry->dev, __entry->ino, __entry->index, __entry->from,
		  __entry->to, __entry->bytes, __entry->refs)
);

/*
 * A chunk's charge moved from one memory cgroup to another; ns: how long the
 * move took (0 if the event was enabled while the move was under way).
 */
TRACE_EVENT(mpcg_chunk_move,
	TP_PROTO(u32 dev, u64 ino, u64 index, u64 from, u64 to, u64 bytes,
		 u64 ns),
	TP_ARGS(dev, ino, index, from, to, bytes, ns),
	TP_STRUCT__entry(
		__field(unsigned int, dev)
		__field(unsigned long long, ino)
		__field(unsigned long long, index)
		__field(unsigned long long, from)
		__field(unsigned long long, to)
		__field(unsigned long long, bytes)
		__field(unsigned long long, ns)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->ino = ino;
		__entry->index = index;
		__entry->from = from;
		__entry->to = to;
		__entry->bytes = bytes;
		__entry->ns = ns;
	),
	TP_printk("dev=%u ino=%llu index=%llu from=%llu to=%llu bytes=%llu ns=%llu",
		  __entry->dev, __entry->ino, __entry->index, __entry->from,
		  __entry->to, __entry->bytes, __entry->ns)
);

TRACE_EVENT(mpcg_reassess_start,
	TP_PROTO(u32 dev, u64 ino, u32 policy, u32 members, u64 resident),
	TP_ARGS(dev, ino, policy, members, resident),
	TP_STRUCT__entry(
		__field(unsigned int, dev)
		__field(unsigned long long, ino)
		__field(unsigned int, policy)
		__field(unsigned int, members)
		__field(unsigned long long, resident)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->ino = ino;
		__entry->policy = policy;
		__entry->members = members;
		__entry->resident = resident;
	),
	TP_printk("dev=%u ino=%llu policy=%u members=%u resident=%llu",
		  __entry->dev, __entry->ino, __entry->policy,
		  __entry->members, __entry->resident)
);

/* state: 0 assessed, 1 pending; result: 0 or a negative errno. */
TRACE_EVENT(mpcg_reassess_end,
	TP_PROTO(u32 dev, u64 ino, u64 chunks_moved, u64 bytes_moved, u64 ns,
		 u64 shortfall, u32 state, s32 result),
	TP_ARGS(dev, ino, chunks_moved, bytes_moved, ns, shortfall, state,
		result),
	TP_STRUCT__entry(
		__field(unsigned int, dev)
		__field(unsigned long long, ino)
		__field(unsigned long long, chunks_moved)
		__field(unsigned long long, bytes_moved)
		__field(unsigned long long, ns)
		__field(unsigned long long, shortfall)
		__field(unsigned int, state)
		__field(int, result)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->ino = ino;
		__entry->chunks_moved = chunks_moved;
		__entry->bytes_moved = bytes_moved;
		__entry->ns = ns;
		__entry->shortfall = shortfall;
		__entry->state = state;
		__entry->result = result;
	),
	TP_printk("dev=%u ino=%llu chunks_moved=%llu bytes_moved=%llu ns=%llu shortfall=%llu state=%u result=%d",
		  __entry->dev, __entry->ino, __entry->chunks_moved,
		  __entry->bytes_moved, __entry->ns, __entry->shortfall,
		  __entry->state, __entry->result)
);

#endif /* _TRACE_MPCG_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>

#endif /* MPCG_NO_TRACEPOINTS */

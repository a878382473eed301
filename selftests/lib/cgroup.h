/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory cgroups of a test program: one parent per program under the
 * cgroup2 root (cg_parent, memory controller on, removed with everything
 * under it by cg_parent_remove()), the cgroup files a user reads
 * (memory.current, memory.stat, memory.events, cgroup.stat), limits,
 * freezing, draining the per-cpu charge caches, and child processes run
 * or spawned inside a cgroup, which mpcg_kill_all() kills and reaps
 * whatever happened.
 */
#ifndef MPCG_TEST_CGROUP_H
#define MPCG_TEST_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#include "common.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/* The parent of this program's cgroups, "" until cg_parent_setup(). */
extern char cg_parent[256];

/* Create cg_parent (once) with +memory in its subtree_control. */
int cg_parent_setup(void);
/* Remove cg_parent and every cgroup under it. */
void cg_parent_remove(void);

/* Create cgroup @name under the test parent; its path goes to @out. */
int cg_create(char *out, size_t len, const char *name);

/* The number in @cg/@file; a "key value" line of a flat keyed file. */
long cg_read_long(const char *cg, const char *file);
long cg_read_key(const char *cg, const char *file, const char *key);

/*
 * What @cg is charged for, other than page cache: memory.current minus the
 * "file" line of memory.stat.  The test programs run from the host's root
 * over 9p, and the first task to fault a page of a program or library (and
 * its readahead) pays for that page cache; that is not shared memory and
 * would make the numbers depend on which code a test ran first.
 */
long cg_charge(const char *cg);

/* Move the calling process into @cg. */
int cg_enter(const char *cg);

/* The id of a cgroup2 directory: its inode number (0 on error). */
unsigned long long cg_id(const char *cg);

/* Set memory.max of @cg; a negative @bytes means "max". */
int cg_set_max(const char *cg, long bytes);
/* Set memory.high of @cg (-1: "max"): 0, or -1 with errno. */
int cg_set_high(const char *cg, long bytes);

/*
 * memory.current also counts charges a cgroup's pages were precharged for
 * and that sit in the kernel's per-cpu charge caches (up to 64 pages per
 * CPU, so as much as a chunk on a small machine), not only what it uses.
 * A CPU gives back its cached charge when another cgroup charges there:
 * run a short process on each CPU that charges a scratch cgroup (outside
 * cg_parent, so that no parent of the test's cgroups sees its cache).
 * Call before comparing a charge with what it should be; cg_drain_remove()
 * at the end.
 */
int cg_drain_stocks(void);
void cg_drain_remove(void);

/* Freeze (@on 1) or thaw (0) @cg and its descendants; wait until done. */
int cg_freeze(const char *cg, int on);

/* Removed descendants of @cg that are not freed yet (zombie cgroups). */
long cg_nr_dying(const char *cg);

/*
 * Wait up to @seconds for @cg's nr_dying_descendants to come down to
 * @want; returns the last value read (-1 if unreadable).  A removed memory
 * cgroup is freed once nothing holds a reference to it: mpcg's members
 * (the point of the wait), but also the page cache it was first to fault
 * (the test programs and libraries, over 9p) and the per-cpu charge
 * caches.  Those two are not mpcg's, so after the first second, each
 * second drains the caches and asks @cg's memory.reclaim for its page
 * cache (a chunk's pages are not on an LRU list: reclaim never takes
 * them, nor does it drop a reference that mpcg holds).
 */
long cg_wait_nr_dying(const char *cg, long want, int seconds);

/* fork() with stdout and stderr flushed, so that no child prints them again. */
pid_t mpcg_fork(void);

/*
 * Run @fn(@arg) in a child process inside cgroup @cg (NULL: this one's)
 * and wait for it.  Returns the child's exit status (0 on success), 255
 * if it could not enter the cgroup, 128 + signal if it was killed, or -1
 * if fork failed.
 */
int cg_run(const char *cg, int (*fn)(void *), void *arg);

/*
 * Child processes of a test (workers and spawned functions), killed and
 * reaped by mpcg_kill_all() in the fixture teardown whatever happened.
 */
void mpcg_pid_add(pid_t pid);
void mpcg_pid_del(pid_t pid);
void mpcg_kill_all(void);

/* Run @fn(@arg) in a new child in @cg, without waiting for it. */
pid_t mpcg_spawn(const char *cg, int (*fn)(void *), void *arg);
/* Wait for a child of mpcg_spawn(); its status as cg_run() gives it. */
int mpcg_wait(pid_t pid);

#endif /* MPCG_TEST_CGROUP_H */

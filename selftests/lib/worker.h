/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Workers: a child process in a memory cgroup that does, one at a time,
 * what the test tells it through a pipe (open, map, touch, unmap, fork,
 * exit...) and keeps its files and mappings, so that it stays a member of
 * the regions it uses until it is told to exit.  A worker reports the
 * result of each command (a value, or -1 and errno).  Used by the engine
 * tests and fs_test; workers are registered with mpcg_pid_add(), so
 * mpcg_kill_all() ends them whatever happened.
 */
#ifndef MPCG_TEST_WORKER_H
#define MPCG_TEST_WORKER_H

#include <sys/types.h>

#include "common.h"

enum mpcg_wop {
	W_PING = 1,	/* -> pid */
	W_EXIT,		/* no reply: exits */
	W_OPEN,		/* path, a = flags, b = mode -> fd */
	W_CLOSE,	/* a = fd */
	W_FTRUNCATE,	/* a = fd, b = length */
	W_UNLINK,	/* path */
	W_MMAP,		/* a = fd, b = offset, c = length, d = prot, e = flags -> address */
	W_MUNMAP,	/* a = address, b = length */
	W_MREMAP,	/* a = address, b = old length, c = new length, d = flags, e = new address -> address */
	W_TOUCH,	/* a = address, b = length, c = W_READ.., d = seed, e = file offset of a */
	W_PWRITE,	/* a = fd, b = offset, c = length, d = seed: writes pattern(seed) */
	W_PREAD,	/* a = fd, b = offset, c = length, d = seed: checks pattern(seed), 0: zeroes, -1: nothing */
	W_FORK,		/* path = cgroup or "", name, a = test pid -> pid of the new worker */
	W_FALLOCATE,	/* a = fd, b = mode, c = offset, d = length */
};

/* W_TOUCH modes */
#define W_READ		0	/* read one byte of every page */
#define W_WRITE		1	/* write one byte of every page */
#define W_FILL		2	/* write pattern(file offset, seed) to every byte */
#define W_VERIFY	3	/* check every byte is pattern(file offset, seed) */

#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE	1
#define MREMAP_FIXED	2
#endif

struct mpcg_worker {
	pid_t pid;
	int cmd, rep;		/* test side of the worker's pipes */
	int fcmd, frep;		/* test side of the pipes of its W_FORK child */
	char name[16];
};

/*
 * Start a worker named @name (its comm) in cgroup @cg (NULL: the test's).
 * Returns 0 when it runs in @cg, else -1 with errno.
 */
int mpcg_worker_start(struct mpcg_worker *w, const char *cg, const char *name);

/* Send command @op with its arguments (enum mpcg_wop); the reply. */
long mpcg_worker_cmd(struct mpcg_worker *w, int op, long a, long b, long c,
		     long d, long e, const char *path);

int w_open(struct mpcg_worker *w, const char *path, int flags);
int w_close(struct mpcg_worker *w, int fd);
/* Map [off, off + len) of the worker's @fd; the address, or 0 on error. */
long w_mmap(struct mpcg_worker *w, int fd, long off, long len, int prot,
	    int flags);
int w_munmap(struct mpcg_worker *w, long addr, long len);
int w_touch(struct mpcg_worker *w, long addr, long len, int mode);

/*
 * Open @path (creating it with @size if @size > 0: the worker's cgroup owns
 * it), map [0, @len) shared and touch it (@mode, W_READ etc; -1: not at
 * all).  Returns the address of the mapping, 0 on error.
 */
long w_map_file(struct mpcg_worker *w, const char *path, long size, long len,
		int mode);

/*
 * Fork @w; the child becomes worker @child named @name and moves itself to
 * cgroup @cg (NULL: stays in @w's).  Only one fork per worker.
 */
int w_fork(struct mpcg_worker *w, struct mpcg_worker *child, const char *cg,
	   const char *name);

/*
 * Tell a worker to exit and wait until it has: its attachments are gone
 * (files and mappings are released before the parent is notified).
 * Returns its exit status, 0 if all went well.
 */
int w_exit(struct mpcg_worker *w);

#endif /* MPCG_TEST_WORKER_H */

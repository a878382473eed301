/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the mpcg selftests: mounting a fresh mpcg instance,
 * memory cgroups (created under one parent per test program, removed at
 * exit), reading the cgroup files a user reads, running a function in a
 * child process inside a cgroup, and reading new kernel log lines.
 *
 * Every helper returns -1 (with errno) or a negative value on failure, and
 * the tests assert on it; nothing here skips or hides a failure.
 */
#ifndef MPCG_UTIL_H
#define MPCG_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../uapi/linux/mpcg.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define KiB (1024L)
#define MiB (1024L * 1024L)

/* Mount a new mpcg instance with @opts on a fresh directory in /tmp. */
static inline int mpcg_mount(char *dir, size_t len, const char *opts)
{
	snprintf(dir, len, "/tmp/mpcg-test-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	if (mount("mpcg", dir, "mpcg", 0, opts)) {
		int e = errno;

		rmdir(dir);
		errno = e;
		return -1;
	}
	return 0;
}

static inline void mpcg_umount(const char *dir)
{
	if (umount2(dir, 0) == 0)
		rmdir(dir);
}

/* Build "dir/name" into a static-size buffer owned by the caller. */
static inline char *path_join(char *buf, size_t len, const char *dir,
			      const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

static inline int write_file(const char *path, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	if (write(fd, buf, n) != n) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

static inline ssize_t read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* The parent of this program's cgroups, with the memory controller on. */
static char cg_parent[256];

static inline void cg_parent_remove(void)
{
	char path[PATH_MAX + 64];
	char line[PATH_MAX];
	FILE *f;

	if (!cg_parent[0])
		return;
	snprintf(path, sizeof(path), "find %s -mindepth 1 -depth -type d",
		 cg_parent);
	f = popen(path, "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			rmdir(line);
		}
		pclose(f);
	}
	rmdir(cg_parent);
	cg_parent[0] = '\0';
}

static inline int cg_parent_setup(void)
{
	char path[PATH_MAX + 32];
	char buf[256];

	if (cg_parent[0])
		return 0;
	if (read_file(CGROUP_ROOT "/cgroup.subtree_control", buf,
		      sizeof(buf)) < 0 || !strstr(buf, "memory")) {
		errno = ENOTSUP;
		return -1;
	}
	snprintf(cg_parent, sizeof(cg_parent), CGROUP_ROOT "/mpcg-test-%d",
		 getpid());
	if (mkdir(cg_parent, 0755) && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", cg_parent);
	return write_file(path, "+memory");
}

/* Create cgroup @name under the test parent; its path goes to @out. */
static inline int cg_create(char *out, size_t len, const char *name)
{
	if (cg_parent_setup())
		return -1;
	snprintf(out, len, "%s/%s", cg_parent, name);
	if (mkdir(out, 0755) && errno != EEXIST)
		return -1;
	return 0;
}

static inline long cg_read_long(const char *cg, const char *file)
{
	char path[PATH_MAX + 64];
	char buf[64];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	return strtol(buf, NULL, 10);
}

/* A "key value" line of a flat keyed file like memory.events. */
static inline long cg_read_key(const char *cg, const char *file,
			       const char *key)
{
	char path[PATH_MAX + 64];
	char buf[4096];
	size_t klen = strlen(key);
	char *p;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return strtol(p + klen + 1, NULL, 10);
	return -1;
}

/*
 * What @cg is charged for, other than page cache: memory.current minus the
 * "file" line of memory.stat.  The test programs run from the host's root
 * over 9p, and the first task to fault a page of a program or library (and
 * its readahead) pays for that page cache; that is not shared memory and
 * would make the numbers depend on which code a test ran first.
 */
static inline long cg_charge(const char *cg)
{
	long cur = cg_read_long(cg, "memory.current");
	long file = cg_read_key(cg, "memory.stat", "file");

	if (cur < 0 || file < 0)
		return -1;
	return cur - file;
}

static inline int cg_enter(const char *cg)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	return write_file(path, "0");
}

/*
 * Run @fn(@arg) in a child process inside cgroup @cg and wait for it.
 * Returns the child's exit status (0 on success), 255 if it could not enter
 * the cgroup, 128 + signal if it was killed, or -1 if fork failed.
 */
static inline int cg_run(const char *cg, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (cg && cg_enter(cg))
			_exit(255);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

#define AUTO_REASSESS "/sys/module/mpcg/parameters/auto_reassess_ms"

/*
 * Set the delay of mpcg's automatic reassessment (0: off); returns the old
 * value, or -1.  Tests that check where a chunk is charged when it is
 * allocated, or count the moves of explicit reassessments, turn it off.
 */
static inline long mpcg_set_auto_reassess(long ms)
{
	char buf[32];
	long old;

	if (read_file(AUTO_REASSESS, buf, sizeof(buf)) < 0)
		return -1;
	old = strtol(buf, NULL, 10);
	if (write_file(AUTO_REASSESS, "%ld", ms))
		return -1;
	return old;
}

/* |a - b| <= tol */
static inline int near(long a, long b, long tol)
{
	return a - b <= tol && b - a <= tol;
}

/* Kernel log: a reader positioned at the end, and a search from there. */
static inline int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Does a record logged since kmsg_open() contain both @a and @b? */
static inline int kmsg_contains(int fd, const char *a, const char *b)
{
	char rec[2048];
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			return 0;
		rec[n] = '\0';
		if (strstr(rec, a) && (!b || strstr(rec, b)))
			return 1;
	}
}

/* A byte pattern that depends on the file offset and a seed. */
static inline unsigned char pattern(off_t off, unsigned int seed)
{
	unsigned long x = (unsigned long)off * 2654435761UL + seed;

	return (unsigned char)(x ^ (x >> 13) ^ (x >> 24));
}

/* Fill [off, off + len) of @fd with pattern(seed) through pwrite. */
static inline int pattern_fill(int fd, off_t off, size_t len, unsigned int seed)
{
	unsigned char buf[8192];
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		size_t i;

		for (i = 0; i < n; i++)
			buf[i] = pattern(off + done + i, seed);
		if (pwrite(fd, buf, n, off + done) != (ssize_t)n)
			return -1;
		done += n;
	}
	return 0;
}

/*
 * Check [off, off + len) of @fd through pread: pattern(seed), or zeroes if
 * @seed is 0.  Returns -1 if it all is, else the offset of the first wrong
 * (or unreadable) byte.
 */
static inline off_t pattern_check(int fd, off_t off, size_t len,
				  unsigned int seed)
{
	unsigned char buf[8192];
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		size_t i;

		if (pread(fd, buf, n, off + done) != (ssize_t)n)
			return off + done;
		for (i = 0; i < n; i++)
			if (buf[i] != (seed ? pattern(off + done + i, seed) : 0))
				return off + done + i;
		done += n;
	}
	return -1;
}

/*
 * ---- The engine: ioctls, test cgroups, worker processes, and the checker
 * of the invariants that hold after every reassessment. ----
 */

/* The region ioctls, with the struct sizes of this header. */
static inline int mpcg_region_stat(int fd, struct mpcg_region_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return ioctl(fd, MPCG_IOC_REGION_STAT, st);
}

static inline int mpcg_reassess(int fd, struct mpcg_reassess *r)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	return ioctl(fd, MPCG_IOC_REASSESS, r);
}

static inline int mpcg_set_policy(int fd, unsigned int policy)
{
	struct mpcg_set_policy sp = {
		.size = sizeof(sp),
		.policy = policy,
	};

	return ioctl(fd, MPCG_IOC_SET_POLICY, &sp);
}

/*
 * Read a whole table (MPCG_IOC_MEMBERS, _ATTACHMENTS, _CHUNKS on a region,
 * _LIST_REGIONS on /dev/mpcg) into a malloc()ed array *@out, growing it on
 * ERANGE.  Returns the number of entries, or -1 with errno.
 */
static inline long mpcg_table(int fd, unsigned long cmd, size_t entry_size,
			      void **out)
{
	struct mpcg_table t;
	size_t cap = 16;
	void *buf = NULL;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		free(buf);
		buf = calloc(cap, entry_size);
		if (!buf)
			return -1;
		memset(&t, 0, sizeof(t));
		t.size = sizeof(t);
		t.entry_size = entry_size;
		t.count = cap;
		t.entries = (uintptr_t)buf;
		if (ioctl(fd, cmd, &t) == 0) {
			*out = buf;
			return t.count;
		}
		if (errno != ERANGE)
			break;
		cap = t.count + 16;
	}
	free(buf);
	return -1;
}

/*
 * Fault injection (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, debugfs): which
 * is a mask of MPCG_FAULT_SLAB and MPCG_FAULT_PAGE.
 */
#define MPCG_FAULT_SLAB		0x1
#define MPCG_FAULT_PAGE		0x2

static const char *const mpcg_fault_dirs[2] = {
	"/sys/kernel/debug/failslab", "/sys/kernel/debug/fail_page_alloc"
};

/* "failslab", "page" or "both" as a mask; 0 for anything else. */
static inline int mpcg_fault_parse(const char *s)
{
	if (!s)
		return 0;
	return !strcmp(s, "failslab") ? MPCG_FAULT_SLAB :
	       !strcmp(s, "page") ? MPCG_FAULT_PAGE :
	       !strcmp(s, "both") ? MPCG_FAULT_SLAB | MPCG_FAULT_PAGE : 0;
}

/*
 * Fail @percent % of the kernel allocations (sleeping and order-0 ones
 * too, without a log line each) of the tasks that wrote 1 to their
 * /proc/<pid>/make-it-fail; @percent 0 turns it off.  Returns 0, or -1
 * with errno (ENOENT: this kernel has no such fault injection).
 */
static inline int mpcg_fault_set(int which, int percent)
{
	static const char *const on[][2] = {
		{ "task-filter", "Y" }, { "interval", "1" }, { "times", "-1" },
		{ "space", "0" }, { "verbose", "0" }, { "ignore-gfp-wait", "N" },
	};
	char p[128];
	unsigned int i;
	int d;

	for (d = 0; d < 2; d++) {
		if (!(which & (1 << d)))
			continue;
		for (i = 0; percent && i < sizeof(on) / sizeof(on[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", mpcg_fault_dirs[d],
				 on[i][0]);
			if (write_file(p, "%s", on[i][1]))
				return -1;
		}
		snprintf(p, sizeof(p), "%s/min-order", mpcg_fault_dirs[d]);
		if (percent && d == 1 && write_file(p, "0"))
			return -1;
		snprintf(p, sizeof(p), "%s/probability", mpcg_fault_dirs[d]);
		if (write_file(p, "%d", percent))
			return -1;
	}
	return 0;
}

/*
 * Is test @name selected?  MPCG_TESTS="name1 name2" in the environment
 * runs only the tests whose name contains one of those words (the 6.1
 * harness has no option for it); unset, every test runs.
 */
static inline int mpcg_test_selected(const char *name)
{
	const char *sel = getenv("MPCG_TESTS");
	char buf[512], *w, *save;

	if (!sel || !*sel)
		return 1;
	snprintf(buf, sizeof(buf), "%s", sel);
	for (w = strtok_r(buf, " ,", &save); w; w = strtok_r(NULL, " ,", &save))
		if (strstr(name, w))
			return 1;
	return 0;
}

/* Module parameters, /sys/module/mpcg/parameters/NAME. */
#define MPCG_PARAMS "/sys/module/mpcg/parameters/"

static inline long mpcg_param_read(const char *name)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), MPCG_PARAMS "%s", name);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	return strtol(buf, NULL, 10);
}

static inline int mpcg_param_write(const char *name, long val)
{
	char path[256];

	snprintf(path, sizeof(path), MPCG_PARAMS "%s", name);
	return write_file(path, "%ld", val);
}

/* The id of a cgroup2 directory: its inode number. */
static inline unsigned long long cg_id(const char *cg)
{
	struct stat st;

	if (stat(cg, &st))
		return 0;
	return st.st_ino;
}

/* Set memory.max of @cg; a negative @bytes means "max". */
static inline int cg_set_max(const char *cg, long bytes)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/memory.max", cg);
	if (bytes < 0)
		return write_file(path, "max");
	return write_file(path, "%ld", bytes);
}

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
static char cg_scratch[256];

static inline int cg_drain_stocks(void)
{
	long cpu, ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int status, ret = 0;
	pid_t pid;

	if (!cg_scratch[0]) {
		snprintf(cg_scratch, sizeof(cg_scratch),
			 CGROUP_ROOT "/mpcg-scratch-%d", getpid());
		if (mkdir(cg_scratch, 0755) && errno != EEXIST) {
			cg_scratch[0] = '\0';
			return -1;
		}
	}
	for (cpu = 0; cpu < ncpu && cpu < 64; cpu++) {
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0) {
			unsigned long mask = 1UL << cpu;
			size_t len = 256 * KiB;
			char *p;

			if (syscall(__NR_sched_setaffinity, 0, sizeof(mask),
				    &mask) || cg_enter(cg_scratch))
				_exit(1);
			p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				_exit(2);
			memset(p, 1, len);
			_exit(0);
		}
		if (waitpid(pid, &status, 0) != pid || status)
			ret = -1;
	}
	return ret;
}

static inline void cg_drain_remove(void)
{
	if (cg_scratch[0])
		rmdir(cg_scratch);
	cg_scratch[0] = '\0';
}

/* Freeze (@on 1) or thaw (0) @cg and its descendants; wait until done. */
static inline int cg_freeze(const char *cg, int on)
{
	char p[PATH_MAX + 32], buf[256];
	int i;

	snprintf(p, sizeof(p), "%s/cgroup.freeze", cg);
	if (write_file(p, "%d", on))
		return -1;
	snprintf(p, sizeof(p), "%s/cgroup.events", cg);
	for (i = 0; i < 3000; i++) {
		if (read_file(p, buf, sizeof(buf)) < 0)
			return -1;
		if (strstr(buf, on ? "frozen 1" : "frozen 0"))
			return 0;
		usleep(10000);
	}
	errno = ETIMEDOUT;
	return -1;
}

/* Removed descendants of @cg that are not freed yet (zombie cgroups). */
static inline long cg_nr_dying(const char *cg)
{
	return cg_read_key(cg, "cgroup.stat", "nr_dying_descendants");
}

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
static inline long cg_wait_nr_dying(const char *cg, long want, int seconds)
{
	char p[PATH_MAX + 32];
	long n = -1;
	int i;

	snprintf(p, sizeof(p), "%s/memory.reclaim", cg);
	for (i = 0; i <= seconds * 10; i++) {
		n = cg_nr_dying(cg);
		if (n <= want)
			break;
		if (i && i % 10 == 0) {
			cg_drain_stocks();
			write_file(p, "%ld", 64 * MiB);
		}
		usleep(100000);
	}
	return n;
}

/*
 * The cgroups of one test, under cg_parent: their id, and their charge
 * (cg_charge()) when they were created, against which the checker compares
 * what they pay.
 */
struct mpcg_cg {
	char name[16];
	char path[PATH_MAX];
	unsigned long long id;
	long base;
	int removed;		/* rmdir()ed by the test: not checked */
};

#define MPCG_MAX_CGS	8
static struct mpcg_cg mpcg_cgs[MPCG_MAX_CGS];
static int mpcg_ncgs;

static inline struct mpcg_cg *mpcg_cg_add(const char *name)
{
	struct mpcg_cg *cg;

	if (mpcg_ncgs == MPCG_MAX_CGS) {
		errno = ENOSPC;
		return NULL;
	}
	cg = &mpcg_cgs[mpcg_ncgs];
	memset(cg, 0, sizeof(*cg));
	snprintf(cg->name, sizeof(cg->name), "%s", name);
	if (cg_create(cg->path, sizeof(cg->path), name))
		return NULL;
	cg->id = cg_id(cg->path);
	cg_drain_stocks();
	cg->base = cg_charge(cg->path);
	if (!cg->id || cg->base < 0)
		return NULL;
	mpcg_ncgs++;
	return cg;
}

/*
 * The common setup of the engine tests: cgroups a, b and c under the test
 * parent, and the automatic reassessment off, so that only the test's own
 * reassessments move chunks.  Returns the old auto_reassess_ms (to put back
 * at the end), or -1 with errno after removing what it made.
 */
static inline long mpcg_engine_setup(struct mpcg_cg **a, struct mpcg_cg **b,
				     struct mpcg_cg **c)
{
	long old = mpcg_param_read("auto_reassess_ms");
	int e;

	if (old < 0)
		return -1;
	*a = mpcg_cg_add("a");
	*b = *a ? mpcg_cg_add("b") : NULL;
	*c = *b ? mpcg_cg_add("c") : NULL;
	if (*c && !mpcg_param_write("auto_reassess_ms", 0))
		return old;
	e = errno;
	cg_parent_remove();
	cg_drain_remove();
	errno = e;
	return -1;
}

/*
 * The common end of the engine tests, after their workers are gone and
 * their files closed: unmount @dir (lazily if still busy) and remove it,
 * remove the test cgroups, and put back auto_reassess_ms (*@old_auto, if
 * not -1; it becomes -1).
 */
static inline void mpcg_engine_teardown(char *dir, long *old_auto)
{
	if (dir[0]) {
		if (umount2(dir, 0))
			umount2(dir, MNT_DETACH);
		rmdir(dir);
		dir[0] = '\0';
	}
	cg_parent_remove();
	cg_drain_remove();
	if (*old_auto >= 0)
		mpcg_param_write("auto_reassess_ms", *old_auto);
	*old_auto = -1;
}

/* A printable name for a cgroup id. */
static inline const char *mpcg_cg_name(unsigned long long id)
{
	static char bufs[4][32];
	static int next;
	char *b;
	int i;

	for (i = 0; i < mpcg_ncgs; i++)
		if (mpcg_cgs[i].id == id)
			return mpcg_cgs[i].name;
	if (id == cg_id(CGROUP_ROOT))
		return "root";
	if (cg_parent[0] && id == cg_id(cg_parent))
		return "parent";
	b = bufs[next++ % 4];
	snprintf(b, sizeof(bufs[0]), "cg#%llu", id);
	return b;
}

/*
 * Child processes of a test (workers and spawned functions), killed and
 * reaped by mpcg_kill_all() in the fixture teardown whatever happened.
 */
#define MPCG_MAX_PIDS	64
static pid_t mpcg_pids[MPCG_MAX_PIDS];

static inline void mpcg_pid_add(pid_t pid)
{
	int i;

	for (i = 0; i < MPCG_MAX_PIDS; i++)
		if (!mpcg_pids[i]) {
			mpcg_pids[i] = pid;
			return;
		}
}

static inline void mpcg_pid_del(pid_t pid)
{
	int i;

	for (i = 0; i < MPCG_MAX_PIDS; i++)
		if (mpcg_pids[i] == pid)
			mpcg_pids[i] = 0;
}

static inline void mpcg_kill_all(void)
{
	int i;

	for (i = 0; i < MPCG_MAX_PIDS; i++)
		if (mpcg_pids[i])
			kill(mpcg_pids[i], SIGKILL);
	for (i = 0; i < MPCG_MAX_PIDS; i++)
		if (mpcg_pids[i]) {
			waitpid(mpcg_pids[i], NULL, 0);
			mpcg_pids[i] = 0;
		}
}

/* Run @fn(@arg) in a new child in @cg, without waiting for it. */
static inline pid_t mpcg_spawn(const char *cg, int (*fn)(void *), void *arg)
{
	pid_t parent = getpid(), pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(254);
		if (cg && cg_enter(cg))
			_exit(255);
		_exit(fn(arg));
	}
	mpcg_pid_add(pid);
	return pid;
}

/* Wait for a child of mpcg_spawn(); its status as cg_run() gives it. */
static inline int mpcg_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	mpcg_pid_del(pid);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static inline ssize_t mpcg_xfer(int fd, void *buf, size_t len, int wr)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = wr ? write(fd, (char *)buf + done, len - done) :
			 read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (ssize_t)done : n;
		done += n;
	}
	return done;
}

/*
 * Workers: a child process in a memory cgroup that does, one at a time,
 * what the test tells it through a pipe (open, map, touch, unmap, fork,
 * exit...) and keeps its files and mappings, so that it stays a member of
 * the regions it uses until it is told to exit.  A worker reports the
 * result of each command (a value, or -1 and errno).
 */
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

struct mpcg_wcmd {
	int op;
	int pad;
	long a, b, c, d, e;
	char name[16];
	char path[256];
};

struct mpcg_wrep {
	long ret;
	int err;
	int pad;
};

struct mpcg_worker {
	pid_t pid;
	int cmd, rep;		/* test side of the worker's pipes */
	int fcmd, frep;		/* test side of the pipes of its W_FORK child */
	char name[16];
};

#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE	1
#define MREMAP_FIXED	2
#endif

static inline long mpcg_worker_touch(struct mpcg_wcmd *c)
{
	volatile unsigned char *p = (volatile unsigned char *)c->a;
	long len = c->b, i, step = c->c == W_READ || c->c == W_WRITE ? 4096 : 1;
	unsigned char x = 0;

	for (i = 0; i < len; i += step) {
		switch (c->c) {
		case W_READ:
			x += p[i];
			break;
		case W_WRITE:
			p[i] = 1;
			break;
		case W_FILL:
			p[i] = pattern(c->e + i, c->d);
			break;
		default:
			if (p[i] != pattern(c->e + i, c->d)) {
				fprintf(stderr, "# worker: byte at file offset %ld is %u, expected %u\n",
					c->e + i, p[i], pattern(c->e + i, c->d));
				errno = EBADMSG;
				return -1;
			}
		}
	}
	(void)x;
	return 0;
}

static inline long mpcg_worker_rw(struct mpcg_wcmd *c, int wr)
{
	unsigned char buf[16384];
	long done = 0, n, i;

	while (done < c->c) {
		n = c->c - done < (long)sizeof(buf) ? c->c - done : (long)sizeof(buf);
		if (wr) {
			for (i = 0; i < n; i++)
				buf[i] = pattern(c->b + done + i, c->d);
			if (pwrite(c->a, buf, n, c->b + done) != n)
				return -1;
		} else {
			if (pread(c->a, buf, n, c->b + done) != n)
				return -1;
			for (i = 0; c->d != -1 && i < n; i++)
				if (buf[i] != (c->d ? pattern(c->b + done + i, c->d) : 0)) {
					fprintf(stderr, "# worker: byte at offset %ld is %u\n",
						c->b + done + i, buf[i]);
					errno = EBADMSG;
					return -1;
				}
		}
		done += n;
	}
	return 0;
}

/* W_FORK: a new worker forked from this one, child of the test process. */
static inline long mpcg_worker_fork(struct mpcg_wcmd *c, int *cmd, int *rep,
				    int *fcmd, int *frep, int *child)
{
	int pfd[2], status;
	pid_t mid, pid = -1;

	if (*fcmd < 0) {
		errno = EBUSY;
		return -1;
	}
	if (pipe(pfd))
		return -1;
	mid = fork();
	if (mid < 0)
		return -1;
	if (mid == 0) {
		/*
		 * Fork again and exit, so that the new worker is reparented
		 * to the test process (a child subreaper), which can wait
		 * for it and kill it like the others.
		 */
		pid = fork();
		if (pid) {
			if (write(pfd[1], &pid, sizeof(pid)) < 0)
				_exit(1);
			_exit(0);
		}
		close(pfd[0]);
		close(pfd[1]);
		close(*cmd);
		close(*rep);
		*cmd = *fcmd;
		*rep = *frep;
		*fcmd = *frep = -1;
		while (getppid() != (pid_t)c->a && getppid() != 1)
			usleep(1000);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != (pid_t)c->a)
			_exit(254);
		prctl(PR_SET_NAME, c->name);
		*child = 1;
		return c->path[0] ? cg_enter(c->path) : 0;
	}
	close(pfd[1]);
	if (mpcg_xfer(pfd[0], &pid, sizeof(pid), 0) != sizeof(pid))
		pid = -1;
	close(pfd[0]);
	waitpid(mid, &status, 0);
	close(*fcmd);
	close(*frep);
	*fcmd = *frep = -1;
	if (pid < 0)
		errno = ECHILD;
	return pid;
}

static inline void mpcg_worker_serve(int cmd, int rep, int fcmd, int frep)
{
	struct mpcg_wcmd c;
	struct mpcg_wrep r;
	int child;

	for (;;) {
		if (mpcg_xfer(cmd, &c, sizeof(c), 0) != sizeof(c))
			_exit(0);
		memset(&r, 0, sizeof(r));
		errno = 0;
		child = 0;
		switch (c.op) {
		case W_PING:
			r.ret = getpid();
			break;
		case W_EXIT:
			_exit(0);
		case W_OPEN:
			r.ret = open(c.path, c.a, c.b);
			break;
		case W_CLOSE:
			r.ret = close(c.a);
			break;
		case W_FTRUNCATE:
			r.ret = ftruncate(c.a, c.b);
			break;
		case W_UNLINK:
			r.ret = unlink(c.path);
			break;
		case W_MMAP: {
			void *p = mmap(NULL, c.c, c.d, c.e, c.a, c.b);

			r.ret = p == MAP_FAILED ? -1 : (long)p;
			break;
		}
		case W_MUNMAP:
			r.ret = munmap((void *)c.a, c.b);
			break;
		case W_MREMAP: {
			long p = syscall(__NR_mremap, c.a, c.b, c.c, c.d, c.e);

			r.ret = p == (long)MAP_FAILED ? -1 : p;
			break;
		}
		case W_TOUCH:
			r.ret = mpcg_worker_touch(&c);
			break;
		case W_PWRITE:
			r.ret = mpcg_worker_rw(&c, 1);
			break;
		case W_PREAD:
			r.ret = mpcg_worker_rw(&c, 0);
			break;
		case W_FORK:
			r.ret = mpcg_worker_fork(&c, &cmd, &rep, &fcmd, &frep,
						 &child);
			break;
		case W_FALLOCATE:
			r.ret = syscall(__NR_fallocate, c.a, c.b, c.c, c.d);
			break;
		default:
			r.ret = -1;
			errno = EINVAL;
		}
		r.err = r.ret < 0 ? errno : 0;
		if (mpcg_xfer(rep, &r, sizeof(r), 1) != sizeof(r))
			_exit(1);
		if (child && r.ret)
			_exit(255);
	}
}

/*
 * Start a worker named @name (its comm) in cgroup @cg (NULL: the test's).
 * Returns 0 when it runs in @cg, else -1 with errno.
 */
static inline int mpcg_worker_start(struct mpcg_worker *w, const char *cg,
				    const char *name)
{
	int c[2], r[2], fc[2], fr[2], fd;
	pid_t parent = getpid();
	struct mpcg_wrep rep;

	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	if (pipe(c) || pipe(r) || pipe(fc) || pipe(fr))
		return -1;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	fflush(stdout);
	fflush(stderr);
	w->pid = fork();
	if (w->pid < 0)
		return -1;
	if (w->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(254);
		prctl(PR_SET_NAME, name);
		/* Hold no file of the test: only these pipes. */
		for (fd = 3; fd < 1024; fd++)
			if (fd != c[0] && fd != r[1] && fd != fc[0] &&
			    fd != fr[1])
				close(fd);
		memset(&rep, 0, sizeof(rep));
		rep.ret = cg ? cg_enter(cg) : 0;
		rep.err = errno;
		if (mpcg_xfer(r[1], &rep, sizeof(rep), 1) != sizeof(rep) ||
		    rep.ret)
			_exit(255);
		mpcg_worker_serve(c[0], r[1], fc[0], fr[1]);
	}
	mpcg_pid_add(w->pid);
	close(c[0]);
	close(r[1]);
	close(fc[0]);
	close(fr[1]);
	w->cmd = c[1];
	w->rep = r[0];
	w->fcmd = fc[1];
	w->frep = fr[0];
	if (mpcg_xfer(w->rep, &rep, sizeof(rep), 0) != sizeof(rep) ||
	    rep.ret) {
		errno = rep.ret ? rep.err : ECHILD;
		return -1;
	}
	return 0;
}

/* Reply of a worker; if it died, say how and fail with EPIPE. */
static inline long mpcg_worker_reply(struct mpcg_worker *w, int fd)
{
	struct mpcg_wrep r;
	int status;

	if (mpcg_xfer(fd, &r, sizeof(r), 0) != sizeof(r)) {
		if (waitpid(w->pid, &status, WNOHANG) == w->pid) {
			mpcg_pid_del(w->pid);
			fprintf(stderr, "# worker %s (pid %d) died: %s %d\n",
				w->name, w->pid,
				WIFSIGNALED(status) ? "signal" : "exit status",
				WIFSIGNALED(status) ? WTERMSIG(status) :
						      WEXITSTATUS(status));
		}
		errno = EPIPE;
		return -1;
	}
	errno = r.err;
	return r.ret;
}

static inline long mpcg_worker_cmd(struct mpcg_worker *w, int op, long a,
				   long b, long c, long d, long e,
				   const char *path)
{
	struct mpcg_wcmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.op = op;
	cmd.a = a;
	cmd.b = b;
	cmd.c = c;
	cmd.d = d;
	cmd.e = e;
	if (path)
		snprintf(cmd.path, sizeof(cmd.path), "%s", path);
	if (mpcg_xfer(w->cmd, &cmd, sizeof(cmd), 1) != sizeof(cmd)) {
		errno = EPIPE;
		return -1;
	}
	return mpcg_worker_reply(w, w->rep);
}

static inline int w_open(struct mpcg_worker *w, const char *path, int flags)
{
	return mpcg_worker_cmd(w, W_OPEN, flags, 0644, 0, 0, 0, path);
}

static inline int w_close(struct mpcg_worker *w, int fd)
{
	return mpcg_worker_cmd(w, W_CLOSE, fd, 0, 0, 0, 0, NULL);
}

/* Map [off, off + len) of the worker's @fd; the address, or 0 on error. */
static inline long w_mmap(struct mpcg_worker *w, int fd, long off, long len,
			  int prot, int flags)
{
	long p = mpcg_worker_cmd(w, W_MMAP, fd, off, len, prot, flags, NULL);

	return p == -1 ? 0 : p;
}

static inline int w_munmap(struct mpcg_worker *w, long addr, long len)
{
	return mpcg_worker_cmd(w, W_MUNMAP, addr, len, 0, 0, 0, NULL);
}

static inline int w_touch(struct mpcg_worker *w, long addr, long len, int mode)
{
	return mpcg_worker_cmd(w, W_TOUCH, addr, len, mode, 0, 0, NULL);
}

/*
 * Open @path (creating it with @size if @size > 0: the worker's cgroup owns
 * it), map [0, @len) shared and touch it (@mode, W_READ etc; -1: not at
 * all).  Returns the address of the mapping, 0 on error.
 */
static inline long w_map_file(struct mpcg_worker *w, const char *path,
			      long size, long len, int mode)
{
	long p;
	int fd;

	fd = w_open(w, path, O_RDWR | (size > 0 ? O_CREAT : 0));
	if (fd < 0)
		return 0;
	if (size > 0 &&
	    mpcg_worker_cmd(w, W_FTRUNCATE, fd, size, 0, 0, 0, NULL))
		return 0;
	p = w_mmap(w, fd, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED);
	w_close(w, fd);
	if (p && mode >= 0 && w_touch(w, p, len, mode))
		return 0;
	return p;
}

/*
 * Fork @w; the child becomes worker @child named @name and moves itself to
 * cgroup @cg (NULL: stays in @w's).  Only one fork per worker.
 */
static inline int w_fork(struct mpcg_worker *w, struct mpcg_worker *child,
			 const char *cg, const char *name)
{
	struct mpcg_wcmd cmd;
	long pid;

	memset(child, 0, sizeof(*child));
	memset(&cmd, 0, sizeof(cmd));
	cmd.op = W_FORK;
	cmd.a = getpid();
	snprintf(cmd.name, sizeof(cmd.name), "%s", name);
	snprintf(cmd.path, sizeof(cmd.path), "%s", cg ? cg : "");
	snprintf(child->name, sizeof(child->name), "%s", name);
	if (mpcg_xfer(w->cmd, &cmd, sizeof(cmd), 1) != sizeof(cmd))
		return -1;
	pid = mpcg_worker_reply(w, w->rep);
	if (pid <= 0)
		return -1;
	child->pid = pid;
	mpcg_pid_add(pid);
	child->cmd = w->fcmd;
	child->rep = w->frep;
	child->fcmd = child->frep = -1;
	w->fcmd = w->frep = -1;
	/* The child's first reply: it is in @cg. */
	return mpcg_worker_reply(child, child->rep) == 0 ? 0 : -1;
}

/*
 * Tell a worker to exit and wait until it has: its attachments are gone
 * (files and mappings are released before the parent is notified).
 * Returns its exit status, 0 if all went well.
 */
static inline int w_exit(struct mpcg_worker *w)
{
	struct mpcg_wcmd cmd = { .op = W_EXIT };
	int status = -1;

	if (w->pid <= 0)
		return -1;
	if (mpcg_xfer(w->cmd, &cmd, sizeof(cmd), 1) != sizeof(cmd))
		kill(w->pid, SIGKILL);
	if (waitpid(w->pid, &status, 0) == w->pid)
		mpcg_pid_del(w->pid);
	close(w->cmd);
	close(w->rep);
	if (w->fcmd >= 0)
		close(w->fcmd);
	if (w->frep >= 0)
		close(w->frep);
	w->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * A snapshot of a region as the ioctls show it.  Taken while nothing
 * changes the region, it is consistent.
 */
struct mpcg_snap {
	struct mpcg_region_stat st;
	struct mpcg_member_info *m;
	long nm;
	struct mpcg_chunk_info *c;
	long nc;
	struct mpcg_attachment_info *a;
	long na;
};

static inline void mpcg_snap_free(struct mpcg_snap *s)
{
	free(s->m);
	free(s->c);
	free(s->a);
	memset(s, 0, sizeof(*s));
}

static inline int mpcg_snap_take(int fd, struct mpcg_snap *s)
{
	memset(s, 0, sizeof(*s));
	if (mpcg_region_stat(fd, &s->st))
		return -1;
	s->nm = mpcg_table(fd, MPCG_IOC_MEMBERS, sizeof(*s->m), (void **)&s->m);
	s->nc = mpcg_table(fd, MPCG_IOC_CHUNKS, sizeof(*s->c), (void **)&s->c);
	s->na = mpcg_table(fd, MPCG_IOC_ATTACHMENTS, sizeof(*s->a),
			   (void **)&s->a);
	if (s->nm < 0 || s->nc < 0 || s->na < 0) {
		int e = errno;

		mpcg_snap_free(s);
		errno = e;
		return -1;
	}
	return 0;
}

static inline const struct mpcg_member_info *
mpcg_snap_member(const struct mpcg_snap *s, unsigned long long id)
{
	long i;

	for (i = 0; i < s->nm; i++)
		if (s->m[i].cgroup_id == id)
			return &s->m[i];
	return NULL;
}

/* Bytes that cgroup @id pays for the region, per MPCG_IOC_MEMBERS. */
static inline long mpcg_snap_paid(const struct mpcg_snap *s,
				  unsigned long long id)
{
	const struct mpcg_member_info *m = mpcg_snap_member(s, id);

	return m ? (long)m->paid_bytes : 0;
}

/* Chunks of cgroup @id, per MPCG_IOC_CHUNKS. */
static inline long mpcg_snap_chunks_of(const struct mpcg_snap *s,
				       unsigned long long id)
{
	long i, n = 0;

	for (i = 0; i < s->nc; i++)
		n += s->c[i].payer_cgroup_id == id;
	return n;
}

static inline const char *mpcg_slot_name(const struct mpcg_snap *s,
					 unsigned int slot)
{
	long i;

	for (i = 0; i < s->nm; i++)
		if (s->m[i].slot == slot)
			return mpcg_cg_name(s->m[i].cgroup_id);
	return "?";
}

#define MB(x) ((double)(x) / MiB)

/* Print a snapshot as "# " lines, for the log of a failing test. */
static inline void mpcg_snap_dump(const char *what, const struct mpcg_snap *s)
{
	static const char * const pol[] = { "proportional", "equal",
					     "first-touch", "owner" };
	const struct mpcg_region_stat *st = &s->st;
	long i, j, k;

	fprintf(stderr, "# %s: %s %s, %.2fM resident, owner %s, %u members, %u attachments, %llu reassessments, %llu chunks moved, shortfall %.2fM\n",
		what, st->policy < 4 ? pol[st->policy] : "policy?",
		st->state == MPCG_STATE_ASSESSED ? "assessed" :
		st->state == MPCG_STATE_PENDING ? "pending" : "state?",
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
		fprintf(stderr, "#   member %-6s slot %2u flags %#x attachments %u touched %.2fM fair %.2fM paid %.2fM shortfall %.2fM peak %.2fM charge %.2fM\n",
			mpcg_cg_name(m->cgroup_id), m->slot, m->flags,
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
			    s->c[j].touchers != c->touchers ||
			    s->c[j].first_slot != c->first_slot ||
			    s->c[j].index != c->index + (j - i))
				break;
		for (k = 0; k < 64; k++)
			if (c->touchers >> k & 1)
				snprintf(t + strlen(t), sizeof(t) - strlen(t),
					 "%s%s", t[0] ? "," : "",
					 mpcg_slot_name(s, k));
		fprintf(stderr, "#   chunks %llu-%llu: payer %s (slot %u), touched by {%s}, first %s\n",
			(unsigned long long)c->index,
			(unsigned long long)s->c[j - 1].index,
			mpcg_cg_name(c->payer_cgroup_id), c->payer_slot, t,
			mpcg_slot_name(s, c->first_slot));
	}
}

/*
 * The checker.  It works out, independently of the kernel, who shares each
 * chunk (from the policy, the member table and the chunks' touchers), each
 * cgroup's fair share and the range of chunks it may pay, and the fewest
 * chunk moves that reach such a state, and compares all of it with what
 * the kernel reports and charges.  Problems are printed as "# check: "
 * lines; the functions return how many there were.
 */
#define MPCG_CHECK_PENDING	0x1	/* limits may have refused chunks */
#define MPCG_CHECK_CHARGES	0x2	/* compare paid bytes with cg_charge() */

/* kernel objects and per-cpu charge caches, with chunk=1M */
#define MPCG_CHARGE_TOL		(512 * KiB)

static int mpcg_check_errors;

static inline void __attribute__((format(printf, 1, 2)))
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

static inline int mpcg_uidx(struct mpcg_univ *u, unsigned long long id)
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
	uint64_t live;		/* members with attachments */
	int slot[64];		/* slot -> cgroup number, -1: none */
	int owner;
};

static inline void mpcg_view_init(struct mpcg_view *v, struct mpcg_univ *u,
				  const struct mpcg_snap *s)
{
	long i;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < 64; i++)
		v->slot[i] = -1;
	v->owner = mpcg_uidx(u, s->st.owner_cgroup_id);
	for (i = 0; i < s->nm; i++) {
		int x = mpcg_uidx(u, s->m[i].cgroup_id);

		if (s->m[i].slot < 64)
			v->slot[s->m[i].slot] = x;
		if (s->m[i].nr_attachments)
			v->live |= 1ULL << x;
	}
	for (i = 0; i < s->nc; i++)
		mpcg_uidx(u, s->c[i].payer_cgroup_id);
}

/* The cgroups that share chunk @c under @policy (design.md section 4). */
static inline uint64_t mpcg_sharers(const struct mpcg_view *v,
				    unsigned int policy,
				    const struct mpcg_chunk_info *c)
{
	uint64_t owner = 1ULL << v->owner, t = 0;
	int i, f;

	switch (policy) {
	case MPCG_POLICY_PROPORTIONAL:
		for (i = 0; i < 64; i++)
			if ((c->touchers >> i & 1) && v->slot[i] >= 0)
				t |= 1ULL << v->slot[i];
		t &= v->live;
		if (t)
			return t;
		return v->live ? v->live : owner;
	case MPCG_POLICY_EQUAL:
		return v->live ? v->live : owner;
	case MPCG_POLICY_FIRST_TOUCH:
		f = c->first_slot < 64 ? v->slot[c->first_slot] : -1;
		if (f >= 0 && (v->live >> f & 1))
			return 1ULL << f;
		return owner;
	default:
		return owner;
	}
}

static inline unsigned long long mpcg_gcd(unsigned long long a,
					  unsigned long long b)
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
static inline void mpcg_fair(const struct mpcg_snap *s,
			     const uint64_t *sharers, int n,
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
static inline long mpcg_min_moves(const struct mpcg_snap *s,
				  struct mpcg_univ *u, const uint64_t *sharers,
				  const long *lo, const long *hi)
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

/*
 * Everything that must hold of one snapshot taken while nothing changes
 * the region, right after a reassessment (the members' fair shares are "as
 * of the last reassessment").  Unless MPCG_CHECK_PENDING: the state is
 * ASSESSED, each chunk is paid by one of its sharers, each cgroup pays
 * floor or ceil of its fair share in chunks, and nobody has a shortfall.
 * Returns the number of problems.
 */
static inline int mpcg_check_snap(const struct mpcg_snap *s, unsigned int flags)
{
	const struct mpcg_region_stat *st = &s->st;
	unsigned long long chunk = st->chunk_size, den;
	unsigned long long num[64];
	long lo[64], hi[64], paid[64], i, j;
	unsigned long long att_sum = 0, shortfall = 0;
	unsigned int live = 0;
	struct mpcg_univ u = { 0 };
	struct mpcg_view v;
	uint64_t *sh;
	int g;

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
		sh[i] = mpcg_sharers(&v, st->policy, &s->c[i]);
	}

	/* The member table. */
	for (i = 0; i < s->nm; i++) {
		const struct mpcg_member_info *m = &s->m[i];
		const char *n = mpcg_cg_name(m->cgroup_id);
		long touched = 0;

		if (m->reserved || m->flags & ~(MPCG_MEMBER_OWNER |
						MPCG_MEMBER_DEPARTED))
			mpcg_check_fail("%s: reserved %u flags %#x", n,
					m->reserved, m->flags);
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
		if (m->slot >= 64)
			mpcg_check_fail("%s: slot %u", n, m->slot);
		for (j = 0; j < i; j++)
			if (s->m[j].cgroup_id == m->cgroup_id ||
			    s->m[j].slot == m->slot)
				mpcg_check_fail("%s: listed twice or slot %u reused",
						n, m->slot);
		if (m->nr_attachments)
			live++;
		att_sum += m->nr_attachments;
		shortfall += m->shortfall_bytes;
		for (j = 0; j < s->nc; j++)
			touched += m->slot < 64 && (s->c[j].touchers >> m->slot & 1);
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
		else if (m->slot != s->c[i].payer_slot)
			mpcg_check_fail("chunk %llu: payer_slot %u, but %s has slot %u",
					(unsigned long long)s->c[i].index,
					s->c[i].payer_slot,
					mpcg_cg_name(m->cgroup_id), m->slot);
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
		/* A shortfall is what a member should pay and does not. */
		for (i = 0; i < s->nm; i++) {
			const struct mpcg_member_info *m = &s->m[i];
			long long sf = m->shortfall_bytes;

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

/*
 * Check a reassessment @r that took the region from @b to @a (snapshots
 * taken while nothing else changed it): @a passes mpcg_check_snap(), the
 * counters add up, the chunks that changed payer are the ones it reports
 * moving, and (unless MPCG_CHECK_PENDING) that is the fewest that could
 * reach an assessed state from @b.
 */
static inline int mpcg_check_reassess(const struct mpcg_snap *b,
				      const struct mpcg_snap *a,
				      const struct mpcg_reassess *r,
				      unsigned int flags)
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
		sb[i] = mpcg_sharers(&vb, b->st.policy, &b->c[i]);
		if (sb[i] != mpcg_sharers(&va, a->st.policy, &a->c[i]))
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

/*
 * Reassess the region of @fd now and check it (mpcg_check_reassess());
 * dump both snapshots if anything is wrong.  The snapshot after it goes to
 * @after and the result to @r if not NULL.  Returns the number of
 * problems, or -1 if an ioctl failed.
 */
static inline int mpcg_reassess_check(int fd, unsigned int flags,
				      struct mpcg_snap *after,
				      struct mpcg_reassess *r)
{
	struct mpcg_snap b, a;
	struct mpcg_reassess rr;
	int errs;

	if (mpcg_snap_take(fd, &b))
		return -1;
	if (mpcg_reassess(fd, &rr)) {
		int e = errno;

		fprintf(stderr, "# MPCG_IOC_REASSESS: %s\n", strerror(e));
		mpcg_snap_free(&b);
		errno = e;
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

#endif /* MPCG_UTIL_H */

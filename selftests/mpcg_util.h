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

#endif /* MPCG_UTIL_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * Memory cgroups of a test program and child processes in them
 * (cgroup.h): the test parent, cgroup files, limits, freezing, draining
 * the per-cpu charge caches, running and spawning children.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "files.h"

char cg_parent[256];

void cg_parent_remove(void)
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

int cg_parent_setup(void)
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

int cg_create(char *out, size_t len, const char *name)
{
	if (cg_parent_setup())
		return -1;
	snprintf(out, len, "%s/%s", cg_parent, name);
	if (mkdir(out, 0755) && errno != EEXIST)
		return -1;
	return 0;
}

long cg_read_long(const char *cg, const char *file)
{
	char path[PATH_MAX + 64];
	char buf[64];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	return strtol(buf, NULL, 10);
}

long cg_read_key(const char *cg, const char *file, const char *key)
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

long cg_charge(const char *cg)
{
	long cur = cg_read_long(cg, "memory.current");
	long file = cg_read_key(cg, "memory.stat", "file");

	if (cur < 0 || file < 0)
		return -1;
	return cur - file;
}

int cg_enter(const char *cg)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	return write_file(path, "0");
}

unsigned long long cg_id(const char *cg)
{
	struct stat st;

	if (stat(cg, &st))
		return 0;
	return st.st_ino;
}

/* Write a memory limit file of @cg: @bytes, or "max" if negative. */
static int cg_set_limit(const char *cg, const char *file, long bytes)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	if (bytes < 0)
		return write_file(path, "max");
	return write_file(path, "%ld", bytes);
}

int cg_set_max(const char *cg, long bytes)
{
	return cg_set_limit(cg, "memory.max", bytes);
}

int cg_set_high(const char *cg, long bytes)
{
	return cg_set_limit(cg, "memory.high", bytes);
}

pid_t mpcg_fork(void)
{
	fflush(stdout);
	fflush(stderr);
	return fork();
}

static char cg_scratch[256];

int cg_drain_stocks(void)
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
		pid = mpcg_fork();
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

void cg_drain_remove(void)
{
	if (cg_scratch[0])
		rmdir(cg_scratch);
	cg_scratch[0] = '\0';
}

int cg_freeze(const char *cg, int on)
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

long cg_nr_dying(const char *cg)
{
	return cg_read_key(cg, "cgroup.stat", "nr_dying_descendants");
}

long cg_wait_nr_dying(const char *cg, long want, int seconds)
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

/* A child's wait status as cg_run() and mpcg_wait() return it. */
static int child_status(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int cg_run(const char *cg, int (*fn)(void *), void *arg)
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
	return child_status(status);
}

#define MPCG_MAX_PIDS	64
static pid_t mpcg_pids[MPCG_MAX_PIDS];

void mpcg_pid_add(pid_t pid)
{
	int i;

	for (i = 0; i < MPCG_MAX_PIDS; i++)
		if (!mpcg_pids[i]) {
			mpcg_pids[i] = pid;
			return;
		}
}

void mpcg_pid_del(pid_t pid)
{
	int i;

	for (i = 0; i < MPCG_MAX_PIDS; i++)
		if (mpcg_pids[i] == pid)
			mpcg_pids[i] = 0;
}

void mpcg_kill_all(void)
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

pid_t mpcg_spawn(const char *cg, int (*fn)(void *), void *arg)
{
	pid_t parent = getpid(), pid;

	pid = mpcg_fork();
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

int mpcg_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	mpcg_pid_del(pid);
	return child_status(status);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg-bench: mpcg against tmpfs, side by side, in the test VM.
 *
 *   mpcg-bench [--size MIB] [--reps N] [--procs N] [--no-tmpfs]
 *
 * Mounts a tmpfs and mpcg instances (chunk=2M and chunk=64k) on
 * temporary directories and measures, best of N repetitions:
 *   first-touch  mmap a new file and write one byte per page (faults,
 *                allocation, zeroing, charging)
 *   re-touch     map the resident file again and touch every page
 *   write        write() the file in 1 MiB blocks into a new file
 *   read         read() it back in 1 MiB blocks
 *   fsize        the shape of stress-ng's fsize stressor: fallocate()
 *                256 KiB, then one byte at offsets 2^k - 2 up to 1 GiB,
 *                truncate to 0; cycles per second
 * then, on mpcg only:
 *   reassess     a second cgroup touches all of a region: the time of the
 *                reassessment that moves half of it, as MiB/s, next to
 *                memcpy of the same amount
 *   query        MPCG_IOC_MEMBERS of a region mapped by N processes,
 *                next to reading those processes' /proc/PID/smaps_rollup
 * Prints one line per measurement: NAME FS VALUE UNIT.
 * Must run as root with mpcg.ko loaded and cgroup2 mounted with +memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../uapi/linux/mpcg.h"

#define MIB (1024L * 1024L)

static long size_mib = 256;
static int reps = 3;
static int nprocs = 20;
static int no_tmpfs;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "mpcg-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void put(const char *name, const char *fs, double value,
		const char *unit)
{
	printf("%-12s %-10s %12.1f %s\n", name, fs, value, unit);
	fflush(stdout);
}

struct fs {
	const char *name;
	const char *type;
	const char *opts;
	char dir[64];
};

static void fs_mount(struct fs *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/mpcg-bench-XXXXXX");
	if (!mkdtemp(f->dir))
		die("mkdtemp");
	if (mount(f->type, f->dir, f->type, 0, f->opts))
		die(f->name);
}

static void fs_umount(struct fs *f)
{
	umount(f->dir);
	rmdir(f->dir);
}

static int new_file(struct fs *f, const char *name, off_t size)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(path);
	if (size && ftruncate(fd, size))
		die("ftruncate");
	return fd;
}

static void drop(struct fs *f, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	unlink(path);
}

static void touch_pages(volatile char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += 4096)
		p[i] = 1;
}

/* Cycles per second of the fsize shape (see the top), best of @reps. */
static double fsize_rate(struct fs *f)
{
	const int cycles = 20;
	double best = 0;
	int i, c;

	for (i = 0; i < reps; i++) {
		int fd = new_file(f, "fsize", 0);
		double t0 = now(), t;
		off_t off;

		for (c = 0; c < cycles; c++) {
			if (fallocate(fd, 0, 0, 256 * 1024))
				die("fallocate");
			for (off = 1; off < (1L << 30); off = off << 1 | 1)
				if (fallocate(fd, 0, off - 1, 1))
					die("fallocate");
			if (ftruncate(fd, 0))
				die("ftruncate");
		}
		t = now() - t0;
		best = cycles / t > best ? cycles / t : best;
		close(fd);
		drop(f, "fsize");
	}
	return best;
}

static void bench_fs(struct fs *f)
{
	size_t len = size_mib * MIB;
	double best_first = 1e9, best_re = 1e9, best_w = 1e9, best_r = 1e9;
	char *buf = malloc(MIB);
	int i;

	if (!buf)
		die("malloc");
	memset(buf, 7, MIB);
	fs_mount(f);
	for (i = 0; i < reps; i++) {
		int fd = new_file(f, "t", len);
		double t0, t1;
		char *p;
		long k;

		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			die("mmap");
		t0 = now();
		touch_pages(p, len);
		t1 = now();
		best_first = t1 - t0 < best_first ? t1 - t0 : best_first;
		munmap(p, len);

		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			die("mmap");
		t0 = now();
		touch_pages(p, len);
		t1 = now();
		best_re = t1 - t0 < best_re ? t1 - t0 : best_re;
		munmap(p, len);
		close(fd);
		drop(f, "t");

		fd = new_file(f, "w", 0);
		t0 = now();
		for (k = 0; k < size_mib; k++)
			if (write(fd, buf, MIB) != MIB)
				die("write");
		t1 = now();
		best_w = t1 - t0 < best_w ? t1 - t0 : best_w;
		lseek(fd, 0, SEEK_SET);
		t0 = now();
		for (k = 0; k < size_mib; k++)
			if (read(fd, buf, MIB) != MIB)
				die("read");
		t1 = now();
		best_r = t1 - t0 < best_r ? t1 - t0 : best_r;
		close(fd);
		drop(f, "w");
	}
	put("first-touch", f->name, best_first * 1e3, "ms");
	put("re-touch", f->name, best_re * 1e3, "ms");
	put("write", f->name, size_mib / best_w, "MiB/s");
	put("read", f->name, size_mib / best_r, "MiB/s");
	put("fsize", f->name, fsize_rate(f), "cycles/s");
	fs_umount(f);
	free(buf);
}

static void write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die(path);
	close(fd);
}

/* Fork a process in cgroup @cg that maps @path and touches it, then waits. */
static pid_t toucher(const char *cg, const char *path, size_t len, int pipefd)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char procs[256];
		char *p;
		int fd;

		if (cg) {
			snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
			write_str(procs, "0");
		}
		fd = open(path, O_RDWR);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			perror(path);
			kill(getppid(), SIGTERM);
			_exit(1);
		}
		touch_pages(p, len);
		if (write(pipefd, "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	return pid;
}

static void bench_engine(void)
{
	struct fs f = { .name = "mpcg-2M", .type = "mpcg",
			.opts = "chunk=2M,size=2G" };
	const char *cga = "/sys/fs/cgroup/mpcg-bench-a";
	const char *cgb = "/sys/fs/cgroup/mpcg-bench-b";
	size_t len = size_mib * MIB;
	struct mpcg_reassess ra = { .size = sizeof(ra) };
	double best = 1e9, best_cpy = 1e9, t0, t1;
	struct mpcg_member_info mi[64];	/* more than the benchmark's cgroups */
	struct mpcg_table tab = { .size = sizeof(tab),
				  .entry_size = sizeof(mi[0]) };
	pid_t *pids = calloc(nprocs, sizeof(pid_t));
	char path[128], *src, *dst, c;
	int pipefd[2], i, fd;

	if (!pids || pipe(pipefd))
		die("setup");
	mkdir(cga, 0755);
	mkdir(cgb, 0755);
	write_str("/sys/module/mpcg/parameters/auto_reassess_ms", "0");
	fs_mount(&f);
	snprintf(path, sizeof(path), "%s/r", f.dir);
	for (i = 0; i < reps; i++) {
		pid_t a, b;

		fd = new_file(&f, "r", len);
		a = toucher(cga, path, len, pipefd[1]);
		if (read(pipefd[0], &c, 1) != 1)
			die("toucher");
		b = toucher(cgb, path, len, pipefd[1]);
		if (read(pipefd[0], &c, 1) != 1)
			die("toucher");
		t0 = now();
		if (ioctl(fd, MPCG_IOC_REASSESS, &ra))
			die("MPCG_IOC_REASSESS");
		t1 = now();
		if (ra.chunks_moved && t1 - t0 < best)
			best = (t1 - t0) / (ra.bytes_moved / (double)MIB);
		kill(a, SIGKILL);
		kill(b, SIGKILL);
		waitpid(a, NULL, 0);
		waitpid(b, NULL, 0);
		close(fd);
		drop(&f, "r");
	}
	put("reassess", "mpcg-2M", 1 / best, "MiB/s");

	src = malloc(len / 2);
	dst = malloc(len / 2);
	if (!src || !dst)
		die("malloc");
	memset(src, 1, len / 2);
	memset(dst, 2, len / 2);
	for (i = 0; i < reps; i++) {
		t0 = now();
		memcpy(dst, src, len / 2);
		t1 = now();
		best_cpy = t1 - t0 < best_cpy ? t1 - t0 : best_cpy;
	}
	put("memcpy", "-", (len / 2) / (double)MIB / best_cpy, "MiB/s");
	free(src);
	free(dst);

	/* Queries: nprocs processes map a region. */
	fd = new_file(&f, "q", 16 * MIB);
	snprintf(path, sizeof(path), "%s/q", f.dir);
	for (i = 0; i < nprocs; i++) {
		pids[i] = toucher(NULL, path, 16 * MIB, pipefd[1]);
		if (read(pipefd[0], &c, 1) != 1)
			die("toucher");
	}
	close(fd);
	fd = open(path, O_RDONLY);
	tab.entries = (unsigned long)mi;
	best = 1e9;
	for (i = 0; i < 100; i++) {
		tab.count = 64;
		t0 = now();
		if (ioctl(fd, MPCG_IOC_MEMBERS, &tab))
			die("MPCG_IOC_MEMBERS");
		t1 = now();
		best = t1 - t0 < best ? t1 - t0 : best;
	}
	put("query", "mpcg", best * 1e6, "us");
	best = 1e9;
	for (i = 0; i < 10; i++) {
		char buf[4096];
		int k;

		t0 = now();
		for (k = 0; k < nprocs; k++) {
			char p2[64];
			int sfd;

			snprintf(p2, sizeof(p2), "/proc/%d/smaps_rollup", pids[k]);
			sfd = open(p2, O_RDONLY);
			if (sfd < 0 || read(sfd, buf, sizeof(buf)) <= 0)
				die(p2);
			close(sfd);
		}
		t1 = now();
		best = t1 - t0 < best ? t1 - t0 : best;
	}
	put("query", "smaps", best * 1e6, "us");
	for (i = 0; i < nprocs; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	close(fd);
	drop(&f, "q");
	fs_umount(&f);
	rmdir(cga);
	rmdir(cgb);
	write_str("/sys/module/mpcg/parameters/auto_reassess_ms", "100");
	free(pids);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "procs", required_argument, NULL, 'p' },
		{ "no-tmpfs", no_argument, &no_tmpfs, 1 },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct fs fss[] = {
		{ .name = "tmpfs", .type = "tmpfs", .opts = "size=2G" },
		{ .name = "mpcg-2M", .type = "mpcg", .opts = "chunk=2M,size=2G" },
		{ .name = "mpcg-64k", .type = "mpcg", .opts = "chunk=64k,size=2G" },
	};
	unsigned int i;
	int c;

	while ((c = getopt_long(argc, argv, "s:r:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 0:
			break;
		case 's':
			size_mib = atol(optarg);
			break;
		case 'r':
			reps = atoi(optarg);
			break;
		case 'p':
			nprocs = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [--size MIB] [--reps N] [--procs N] [--no-tmpfs]\n",
				argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (size_mib < 4 || size_mib > 1024 || reps < 1 || nprocs < 1) {
		fprintf(stderr, "mpcg-bench: --size 4..1024, --reps and --procs >= 1\n");
		return 2;
	}
	for (i = no_tmpfs; i < sizeof(fss) / sizeof(fss[0]); i++)
		bench_fs(&fss[i]);
	bench_engine();
	return 0;
}

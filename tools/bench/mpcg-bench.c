// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg-bench: mpcg against tmpfs, side by side, in the test VM.
 *
 *   mpcg-bench [--size MIB] [--reps N] [--procs N] [--cgroups N]
 *              [--large MIB] [--share MIB] [--kmem MIB] [--stress SECONDS]
 *              [--no-tmpfs]
 *
 * Mounts a tmpfs, a tmpfs with huge=always and mpcg instances (chunk=2M and
 * chunk=64k) on temporary directories and measures, best of N repetitions:
 *   first-touch  mmap a new file of --size MiB and write one byte per page
 *                (faults, allocation, zeroing, charging); on huge=always
 *                only this (and huge-mib: how much of it was huge pages)
 *   re-touch     map the resident file again and touch every page
 *   write        write() the file in 1 MiB blocks into a new file
 *   read         read() it back in 1 MiB blocks
 *   fsize        the shape of stress-ng's fsize stressor: fallocate()
 *                256 KiB, then one byte at offsets 2^k - 2 up to 1 GiB,
 *                truncate to 0; cycles per second
 *   stress-*     stress-ng's fsize and mmap (--mmap-file) stressors, one
 *                instance for --stress seconds on the mount: bogo ops/s
 *   share        8 processes in 8 cgroups map a --share MiB file and touch
 *                every page, all at once: the time until all are done and,
 *                on mpcg, the automatic reassessment says the region is
 *                assessed (every member pays its fair share); share-touch:
 *                until all are done; share-moved: MiB the reassessments
 *                moved meanwhile
 *   kmem-chunk   slab growth (/proc/slabinfo) while a mapped --kmem MiB
 *                file is touched, per chunk made resident (the module's
 *                counter; on tmpfs: per 64 KiB)
 *   kmem-member  slab growth while --procs processes in as many cgroups
 *                read one byte of each chunk of a resident file (after one
 *                of another file), per member made (the module's counter;
 *                on tmpfs: per process)
 * then, on mpcg only (chunk=2M):
 *   join         8 cgroups share a --large MiB region (assessed); a 9th
 *                joins and touches it all: the reassessment's MiB/s, next
 *                to memcpy of the same amount, and the bytes it moved next
 *                to the fewest the policy needs (join-expect)
 *   query        MPCG_IOC_MEMBERS of a region of 64 MiB, and of --large
 *                MiB, mapped by --procs processes in --cgroups cgroups,
 *                next to reading those processes' /proc/PID/smaps_rollup
 * Prints one line per measurement: NAME FS VALUE UNIT; a measurement it
 * cannot make is a line "skip NAME REASON".
 * Must run as root with mpcg.ko loaded and cgroup2 mounted with +memory.
 */
#define _GNU_SOURCE
#include <dirent.h>
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
#define MAX_CGROUPS 64
#define SHARERS 8	/* cgroups sharing a region in share and join */

static long size_mib = 256;
static long large_mib = 1024;
static long share_mib = 256;
static long kmem_mib = 32;
static int reps = 3;
static int nprocs = 64;
static int ncgroups = 16;
static int stress_secs = 5;
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

/* A measurement that cannot be made: the table says why. */
static void skip(const char *name, const char *fs, const char *why)
{
	printf("skip %s-%s %s\n", name, fs, why);
	fflush(stdout);
	fprintf(stderr, "mpcg-bench: %s on %s not measured: %s\n", name, fs,
		why);
}

struct fs {
	const char *name;
	const char *type;
	const char *opts;
	int first_touch_only;
	char dir[64];
};

static struct fs fs_tmpfs = { .name = "tmpfs", .type = "tmpfs",
			      .opts = "size=3G" };
static struct fs fs_huge = { .name = "tmpfs-huge", .type = "tmpfs",
			     .opts = "size=3G,huge=always",
			     .first_touch_only = 1 };
static struct fs fs_2m = { .name = "mpcg-2M", .type = "mpcg",
			   .opts = "chunk=2M,size=3G" };
static struct fs fs_64k = { .name = "mpcg-64k", .type = "mpcg",
			    .opts = "chunk=64k,size=3G" };

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
	if (umount(f->dir))
		fprintf(stderr, "mpcg-bench: umount %s: %s\n", f->dir,
			strerror(errno));
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

static void touch_range(volatile char *p, size_t len, size_t step)
{
	size_t i;

	for (i = 0; i < len; i += step)
		p[i] = 1;
}

static void touch_pages(volatile char *p, size_t len)
{
	touch_range(p, len, 4096);
}

static void write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die(path);
	close(fd);
}

static void set_auto_reassess(const char *ms)
{
	write_str("/sys/module/mpcg/parameters/auto_reassess_ms", ms);
}

/* A number from /proc/meminfo ("Name: N kB"), or -1. */
static long meminfo_kb(const char *name)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	size_t n = strlen(name);
	long v = -1;

	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':')
			v = atol(line + n + 1);
	fclose(f);
	return v;
}

/*
 * Bytes in slab objects: active_objs * objsize over /proc/slabinfo.  SLUB
 * counts the objects of per-CPU slabs (and per-CPU partial slabs) as active,
 * free or not, so every cache is shrunk first (/sys/kernel/slab/NAME/shrink
 * flushes them to the node lists, where their free objects are counted).
 * The shrink files are opened once and kept open: kernfs frees what an open
 * allocates by RCU, later, which would count as growth.  A second first.
 */
static double slab_bytes(void)
{
	static int shrink_fd[1024], nr_shrink = -1;
	char line[512], name[64], p[320];
	unsigned long active, total, objsize;
	double sum = 0;
	FILE *f;
	int i;

	if (nr_shrink < 0) {
		DIR *d = opendir("/sys/kernel/slab");
		struct dirent *e;

		nr_shrink = 0;
		while (d && (e = readdir(d)) && nr_shrink < 1024) {
			if (e->d_name[0] == '.' || e->d_name[0] == ':')
				continue;
			snprintf(p, sizeof(p), "/sys/kernel/slab/%s/shrink",
				 e->d_name);
			i = open(p, O_WRONLY);
			if (i >= 0)
				shrink_fd[nr_shrink++] = i;
		}
		if (d)
			closedir(d);
	}
	sleep(1);	/* let RCU callbacks of what came before run */
	for (i = 0; i < nr_shrink; i++)
		if (pwrite(shrink_fd[i], "1", 1, 0) != 1)
			die("/sys/kernel/slab/*/shrink");
	f = fopen("/proc/slabinfo", "r");
	if (!f)
		die("/proc/slabinfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lu %lu %lu", name, &active, &total,
			   &objsize) == 4)
			sum += (double)active * objsize;
	fclose(f);
	return sum;
}

/* A counter of /sys/kernel/debug/mpcg/objects, or -1. */
static long mpcg_objects(const char *name)
{
	FILE *f = fopen("/sys/kernel/debug/mpcg/objects", "r");
	char n[64];
	long v, found = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", n, &v) == 2)
		if (!strcmp(n, name))
			found = v;
	fclose(f);
	return found;
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
	long huge_kb = 0;
	char *buf = malloc(MIB);
	int i;

	if (!buf)
		die("malloc");
	memset(buf, 7, MIB);
	fs_mount(f);
	for (i = 0; i < reps; i++) {
		long huge0 = meminfo_kb("ShmemHugePages");
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
		huge_kb = meminfo_kb("ShmemHugePages") - huge0;
		munmap(p, len);
		if (f->first_touch_only) {
			close(fd);
			drop(f, "t");
			continue;
		}

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
	if (f->first_touch_only) {
		put("huge-mib", f->name, huge_kb / 1024.0, "MiB");
	} else {
		put("re-touch", f->name, best_re * 1e3, "ms");
		put("write", f->name, size_mib / best_w, "MiB/s");
		put("read", f->name, size_mib / best_r, "MiB/s");
		put("fsize", f->name, fsize_rate(f), "cycles/s");
	}
	fs_umount(f);
	free(buf);
}

/*
 * One stress-ng stressor (one instance, --stress seconds) with its files on
 * @f: bogo ops per second of real time, from --metrics-brief.
 */
static void stress(struct fs *f, const char *stressor, const char *extra)
{
	char cmd[512], line[512], name[64], key[32], out[2048] = "";
	double ops, real, usr, sys, rate = -1;
	FILE *p;
	int st;

	snprintf(key, sizeof(key), "stress-%s", stressor);
	if (!stress_secs) {
		skip(key, f->name, "--stress 0");
		return;
	}
	if (system("command -v stress-ng >/dev/null 2>&1")) {
		skip(key, f->name,
		     "stress-ng is not installed (make bench-deps)");
		return;
	}
	fs_mount(f);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && stress-ng --%s 1 %s --timeout %ds --temp-path %s --metrics-brief 2>&1",
		 f->dir, stressor, extra, stress_secs, f->dir);
	p = popen(cmd, "r");
	if (!p)
		die("popen stress-ng");
	while (fgets(line, sizeof(line), p)) {
		char *s = strstr(line, "] ");

		if (s && sscanf(s + 2, "%63s %lf %lf %lf %lf %lf", name, &ops,
				&real, &usr, &sys, &rate) == 6 &&
		    !strcmp(name, stressor))
			break;
		rate = -1;
		if (strlen(out) + strlen(line) < sizeof(out))
			strcat(out, line);
	}
	while (fgets(line, sizeof(line), p))
		;
	st = pclose(p);
	fs_umount(f);
	if (rate < 0 || st) {
		snprintf(line, sizeof(line),
			 "stress-ng printed no %s metrics (status %d)",
			 stressor, st);
		fputs(out, stderr);
		skip(key, f->name, line);
		return;
	}
	put(key, f->name, rate, "ops/s");
}

static char cgroup_dirs[MAX_CGROUPS][64];

/* The cgroup directory of benchmark cgroup @i, made on first use. */
static const char *cg(int i)
{
	if (!cgroup_dirs[i][0]) {
		snprintf(cgroup_dirs[i], sizeof(cgroup_dirs[i]),
			 "/sys/fs/cgroup/mpcg-bench-%d", i);
		if (mkdir(cgroup_dirs[i], 0755) && errno != EEXIST)
			die(cgroup_dirs[i]);
	}
	return cgroup_dirs[i];
}

static void cgroups_remove(void)
{
	int i;

	for (i = 0; i < MAX_CGROUPS; i++)
		if (cgroup_dirs[i][0] && rmdir(cgroup_dirs[i]))
			fprintf(stderr, "mpcg-bench: rmdir %s: %s\n",
				cgroup_dirs[i], strerror(errno));
}

static __u64 cgroup_id(int i)
{
	struct stat st;

	if (stat(cg(i), &st))
		die(cg(i));
	return st.st_ino;
}

enum { WK_MAP, WK_READ };

struct worker {
	int cg;			/* benchmark cgroup, or -1 for the caller's */
	const char *path;
	size_t len;
	size_t step;		/* touch (or read) one byte every step bytes */
	int how;		/* WK_MAP: mmap and write; WK_READ: pread */
	const char *warm;	/* if set: read a byte of it before @ready */
};

/*
 * Fork a process that moves into its cgroup, opens the file (and reads a
 * byte of its warm-up file, if it has one) and writes a byte to @ready; if
 * @go is not -1, waits for a byte from it; then maps and touches (or
 * reads) the file, writes a byte to @done and waits to be
 * killed.
 */
static pid_t worker(const struct worker *w, int ready, int go, int done)
{
	size_t off;
	char *p, c;
	pid_t pid;
	int fd;

	if (w->cg >= 0)
		cg(w->cg);	/* made by the parent, which removes it */
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid)
		return pid;
	if (w->cg >= 0) {
		char procs[128];

		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg(w->cg));
		write_str(procs, "0");
	}
	if (w->warm) {
		fd = open(w->warm, O_RDONLY);
		if (fd < 0 || pread(fd, &c, 1, 0) != 1)
			goto fail;
	}
	fd = open(w->path, O_RDWR);
	if (fd < 0 || write(ready, "r", 1) != 1)
		goto fail;
	if (go >= 0 && read(go, &c, 1) != 1)
		goto fail;
	if (w->how == WK_MAP) {
		p = mmap(NULL, w->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 0);
		if (p == MAP_FAILED)
			goto fail;
		touch_range(p, w->len, w->step);
	} else {
		for (off = 0; off < w->len; off += w->step)
			if (pread(fd, &c, 1, off) != 1)
				goto fail;
	}
	if (write(done, "d", 1) != 1)
		goto fail;
	for (;;)
		pause();
fail:
	fprintf(stderr, "mpcg-bench: worker on %s: %s\n", w->path,
		strerror(errno));
	kill(getppid(), SIGTERM);
	_exit(1);
}

static void wait_bytes(int fd, int n)
{
	char c;

	while (n-- > 0)
		if (read(fd, &c, 1) != 1)
			die("worker");
}

static void reap(pid_t *pids, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
}

static void region_stat(int fd, struct mpcg_region_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	if (ioctl(fd, MPCG_IOC_REGION_STAT, st))
		die("MPCG_IOC_REGION_STAT");
}

/* The members of the region of @fd into @mi (capacity @cap); their count. */
static int members(int fd, struct mpcg_member_info *mi, int cap)
{
	struct mpcg_table tab = { .size = sizeof(tab),
				  .entry_size = sizeof(mi[0]),
				  .count = cap,
				  .entries = (unsigned long)mi };

	if (ioctl(fd, MPCG_IOC_MEMBERS, &tab))
		die("MPCG_IOC_MEMBERS");
	return tab.count;
}

/*
 * share: SHARERS processes in as many cgroups map a --share MiB file and
 * touch every page, released at once; the time until all are done and, on
 * mpcg (auto_reassess_ms as the module has it), the region is assessed.
 */
/* The pipes that line up a benchmark's workers (see worker()). */
struct gates {
	int ready[2], go[2], done[2];
};

static void gates_open(struct gates *g)
{
	if (pipe(g->ready) || pipe(g->go) || pipe(g->done))
		die("pipe");
}

static void gates_close(struct gates *g)
{
	close(g->ready[0]);
	close(g->ready[1]);
	close(g->go[0]);
	close(g->go[1]);
	close(g->done[0]);
	close(g->done[1]);
}

static void bench_share(struct fs *f)
{
	size_t len = share_mib * MIB;
	struct gates g;
	int i, fd;
	struct mpcg_region_stat st;
	double best = 1e9, best_touch = 1e9, moved = -1, t0, t;
	pid_t pids[SHARERS];
	char path[128];

	gates_open(&g);
	fs_mount(f);
	snprintf(path, sizeof(path), "%s/s", f->dir);
	for (i = 0; i < reps; i++) {
		int k;

		fd = new_file(f, "s", len);
		for (k = 0; k < SHARERS; k++) {
			struct worker w = { .cg = k, .path = path, .len = len,
					    .step = 4096, .how = WK_MAP };

			pids[k] = worker(&w, g.ready[1], g.go[0], g.done[1]);
		}
		wait_bytes(g.ready[0], SHARERS);
		t0 = now();
		if (write(g.go[1], "gggggggg", SHARERS) != SHARERS)
			die("pipe");
		wait_bytes(g.done[0], SHARERS);
		t = now() - t0;
		best_touch = t < best_touch ? t : best_touch;
		if (!strcmp(f->type, "mpcg"))
			for (;;) {
				region_stat(fd, &st);
				if (st.state == MPCG_STATE_ASSESSED)
					break;
				if (now() - t0 > 600) {
					errno = ETIMEDOUT;
					die("share: waiting for assessed");
				}
				usleep(1000);
			}
		if (!strcmp(f->type, "mpcg"))
			moved = st.bytes_moved;
		t = now() - t0;
		best = t < best ? t : best;
		reap(pids, SHARERS);
		close(fd);
		drop(f, "s");
	}
	put("share-touch", f->name, best_touch * 1e3, "ms");
	put("share", f->name, best * 1e3, "ms");
	if (moved >= 0)
		put("share-moved", f->name, moved / (double)MIB, "MiB");
	fs_umount(f);
	gates_close(&g);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * kmem: slab growth per chunk, and per member, on @f (tmpfs: per 64 KiB,
 * per process).  Taken with automatic reassessment off, so that nothing
 * but the touches and the joins runs; the median of @reps readings (at
 * least 3).
 * Chunks: a --kmem MiB file (at 256 MiB both tmpfs and mpcg read about 15%
 * below what their objects take: something else is freed meanwhile).
 * Members: each reader has read a byte of
 * another file of the mount first, so that what a process's first read in
 * its cgroup allocates is not counted.
 */
static void bench_kmem(struct fs *f)
{
	size_t len = kmem_mib * MIB, mlen = 16 * 64 * 1024;
	int is_mpcg = !strcmp(f->type, "mpcg");
	int nr = reps < 3 ? 3 : reps, i, k, fd;
	struct gates g;
	double *per_c = calloc(nr, sizeof(double));
	double *per_m = calloc(nr, sizeof(double));
	double s0;
	pid_t *pids = calloc(nprocs, sizeof(pid_t));
	char path[128], warm[128], *p, *buf;
	long n0, n;

	if (!pids || !per_c || !per_m)
		die("setup");
	gates_open(&g);
	/*
	 * What ran before (the previous round's processes) still frees
	 * objects through RCU, which batches kfree_rcu() for seconds: frees
	 * that land between two readings would count as negative growth.
	 */
	sleep(5);
	buf = calloc(1, mlen);
	if (!buf)
		die("calloc");
	fs_mount(f);
	for (i = 0; i < nr; i++) {
		/* Chunks: the mapping (and its member) exist before s0. */
		fd = new_file(f, "c", len);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			die("mmap");
		n0 = mpcg_objects("chunks");
		s0 = slab_bytes();
		touch_pages(p, len);
		n = is_mpcg ? mpcg_objects("chunks") - n0 : (long)(len >> 16);
		if (n <= 0) {
			skip("kmem-chunk", f->name,
			     "no chunk counter (/sys/kernel/debug/mpcg/objects)");
			skip("kmem-member", f->name, "as kmem-chunk");
			goto out;
		}
		per_c[i] = (slab_bytes() - s0) / n;
		munmap(p, len);
		close(fd);
		drop(f, "c");

		/* Members: resident chunks, readers' files open before s0. */
		fd = new_file(f, "w", 0);
		if (write(fd, buf, 4096) != 4096)
			die("write");
		close(fd);
		fd = new_file(f, "m", 0);
		if (write(fd, buf, mlen) != (ssize_t)mlen)
			die("write");
		snprintf(path, sizeof(path), "%s/m", f->dir);
		snprintf(warm, sizeof(warm), "%s/w", f->dir);
		for (k = 0; k < nprocs; k++) {
			struct worker w = { .cg = k % MAX_CGROUPS,
					    .path = path, .len = mlen,
					    .step = 64 * 1024,
					    .how = WK_READ, .warm = warm };

			pids[k] = worker(&w, g.ready[1], g.go[0], g.done[1]);
		}
		wait_bytes(g.ready[0], nprocs);
		n0 = mpcg_objects("members");
		s0 = slab_bytes();
		for (k = 0; k < nprocs; k++)
			if (write(g.go[1], "g", 1) != 1)
				die("pipe");
		wait_bytes(g.done[0], nprocs);
		n = is_mpcg ? mpcg_objects("members") - n0 : nprocs;
		per_m[i] = (slab_bytes() - s0) / n;
		reap(pids, nprocs);
		close(fd);
		drop(f, "m");
		drop(f, "w");
	}
	put("kmem-chunk", f->name, median(per_c, nr), "bytes");
	put("kmem-member", f->name, median(per_m, nr), "bytes");
out:
	fs_umount(f);
	free(buf);
	free(pids);
	free(per_c);
	free(per_m);
	gates_close(&g);
}

static int cmp_desc(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * The fewest chunks a reassessment must move when a member that pays
 * nothing joins SHARERS members that, like it, touched every one of the
 * region's @n chunks (one type, SHARERS + 1 sharers, see docs/design.md,
 * "Reassessment"): each ends with floor(f) or ceil(f) chunks, f = n / (SHARERS
 * + 1), ceil(f) for as many members as n leaves over, and a member keeps
 * what it pays up to its target; the ceilings go to those that pay the most.
 * @paid: chunks each old member pays now.  Moves = n - what they keep.
 */
static __u64 join_moves(__u64 n, __u64 *paid)
{
	__u64 q = n / (SHARERS + 1), r = n % (SHARERS + 1), kept = 0;
	int i;

	qsort(paid, SHARERS, sizeof(paid[0]), cmp_desc);
	for (i = 0; i < SHARERS; i++) {
		__u64 t = q + ((__u64)i < r);

		kept += paid[i] < t ? paid[i] : t;
	}
	return n - kept;
}

/* @paid[m]: chunks paid by the member whose cgroup id is @ids[m]. */
static void paid_chunks(const struct mpcg_member_info *mi, int n,
			const __u64 *ids, size_t chunk, __u64 *paid)
{
	int j, m;

	for (m = 0; m < SHARERS; m++) {
		paid[m] = 0;
		for (j = 0; j < n; j++)
			if (mi[j].cgroup_id == ids[m])
				paid[m] = mi[j].paid_bytes / chunk;
	}
}

/*
 * join: SHARERS cgroups share a --large MiB region at chunk=2M, each
 * touching every chunk, and it is reassessed; then a 9th cgroup maps it and
 * touches every chunk, and MPCG_IOC_REASSESS is timed.  Its bytes_moved
 * against join_moves() of the members' paid_bytes before the join.
 */
static void bench_join(struct fs *f)
{
	size_t len = large_mib * MIB, chunk = 2 * MIB;
	double best = 1e9, best_cpy = 1e9, t0, t;
	struct mpcg_reassess ra = { .size = sizeof(ra) };
	struct mpcg_member_info mi[MAX_CGROUPS];
	__u64 paid[SHARERS], moved = 0, expected = 0, ids[SHARERS];
	int i, k, n, fd, exact = 1;
	struct gates g;
	pid_t pids[SHARERS + 1];
	struct mpcg_region_stat st;
	char path[128], *src, *dst;

	gates_open(&g);
	for (k = 0; k < SHARERS; k++)
		ids[k] = cgroup_id(k);
	fs_mount(f);
	snprintf(path, sizeof(path), "%s/j", f->dir);
	for (i = 0; i < reps; i++) {
		fd = new_file(f, "j", len);
		for (k = 0; k <= SHARERS; k++) {
			struct worker w = { .cg = k, .path = path, .len = len,
					    .step = chunk, .how = WK_MAP };

			pids[k] = worker(&w, g.ready[1], -1, g.done[1]);
			wait_bytes(g.ready[0], 1);
			wait_bytes(g.done[0], 1);
			if (k < SHARERS - 1)
				continue;
			ra.size = sizeof(ra);
			t0 = now();
			if (ioctl(fd, MPCG_IOC_REASSESS, &ra))
				die("MPCG_IOC_REASSESS");
			t = now() - t0;
			if (ra.state != MPCG_STATE_ASSESSED) {
				errno = EAGAIN;
				die("join: region not assessed");
			}
			if (k == SHARERS - 1) {
				/* what the 8 pay now: the 9th's start */
				region_stat(fd, &st);
				n = members(fd, mi, MAX_CGROUPS);
				paid_chunks(mi, n, ids, chunk, paid);
				expected = join_moves(st.resident_bytes /
						      chunk, paid) * chunk;
				continue;
			}
			moved = ra.bytes_moved;
			if (moved != expected)
				exact = 0;
			if (moved && t / moved < best)
				best = t / moved;
		}
		reap(pids, SHARERS + 1);
		close(fd);
		drop(f, "j");
	}
	put("join-moved", f->name, moved / 1024.0, "KiB");
	put("join-expect", f->name, expected / 1024.0, "KiB");
	put("join-exact", f->name, exact, "bool");
	if (!moved) {
		skip("join", f->name, "the reassessment moved nothing");
		goto out;
	}
	put("join", f->name, 1 / best / MIB, "MiB/s");

	src = malloc(moved);
	dst = malloc(moved);
	if (!src || !dst)
		die("malloc");
	memset(src, 1, moved);
	memset(dst, 2, moved);
	for (i = 0; i < reps; i++) {
		t0 = now();
		memcpy(dst, src, moved);
		t = now() - t0;
		best_cpy = t < best_cpy ? t : best_cpy;
	}
	put("memcpy", "-", moved / (double)MIB / best_cpy, "MiB/s");
	free(src);
	free(dst);
out:
	fs_umount(f);
	gates_close(&g);
}

/*
 * query: a region of @mib MiB at chunk=2M mapped by --procs processes in
 * --cgroups cgroups (the first touches every page, the others one page per
 * chunk, so that their page tables span all of it); one MPCG_IOC_MEMBERS
 * (every cgroup's numbers) against reading every process's smaps_rollup.
 */
static void bench_query(struct fs *f, long mib, const char *name)
{
	struct mpcg_member_info mi[MAX_CGROUPS + 2];
	pid_t *pids = calloc(nprocs, sizeof(pid_t));
	size_t len = mib * MIB;
	struct gates g;
	int i, fd;
	double best, t0, t1;
	char path[128];

	if (!pids)
		die("setup");
	gates_open(&g);
	fs_mount(f);
	fd = new_file(f, "q", len);
	snprintf(path, sizeof(path), "%s/q", f->dir);
	for (i = 0; i < nprocs; i++) {
		struct worker w = { .cg = i % ncgroups, .path = path,
				    .len = len, .step = i ? 2 * MIB : 4096,
				    .how = WK_MAP };

		pids[i] = worker(&w, g.ready[1], -1, g.done[1]);
		wait_bytes(g.ready[0], 1);
		wait_bytes(g.done[0], 1);
	}
	best = 1e9;
	for (i = 0; i < 100; i++) {
		t0 = now();
		members(fd, mi, MAX_CGROUPS + 2);
		t1 = now();
		best = t1 - t0 < best ? t1 - t0 : best;
	}
	put(name, "mpcg", best * 1e6, "us");
	best = 1e9;
	for (i = 0; i < 10; i++) {
		char buf[4096];
		int k;

		t0 = now();
		for (k = 0; k < nprocs; k++) {
			char p2[64];
			int sfd;

			snprintf(p2, sizeof(p2), "/proc/%d/smaps_rollup",
				 pids[k]);
			sfd = open(p2, O_RDONLY);
			if (sfd < 0 || read(sfd, buf, sizeof(buf)) <= 0)
				die(p2);
			close(sfd);
		}
		t1 = now();
		best = t1 - t0 < best ? t1 - t0 : best;
	}
	put(name, "smaps", best * 1e6, "us");
	reap(pids, nprocs);
	close(fd);
	drop(f, "q");
	fs_umount(f);
	free(pids);
	gates_close(&g);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "procs", required_argument, NULL, 'p' },
		{ "cgroups", required_argument, NULL, 'c' },
		{ "large", required_argument, NULL, 'l' },
		{ "share", required_argument, NULL, 'S' },
		{ "stress", required_argument, NULL, 't' },
		{ "kmem", required_argument, NULL, 'k' },
		{ "no-tmpfs", no_argument, &no_tmpfs, 1 },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct fs *fss[] = { &fs_tmpfs, &fs_huge, &fs_2m, &fs_64k };
	struct fs *fs_all[] = { &fs_tmpfs, &fs_2m, &fs_64k };
	unsigned int i;
	int c;

	while ((c = getopt_long(argc, argv, "s:r:p:c:l:S:t:k:h", opts,
				NULL)) != -1) {
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
		case 'c':
			ncgroups = atoi(optarg);
			break;
		case 'l':
			large_mib = atol(optarg);
			break;
		case 'S':
			share_mib = atol(optarg);
			break;
		case 't':
			stress_secs = atoi(optarg);
			break;
		case 'k':
			kmem_mib = atol(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: %s [--size MIB] [--reps N] [--procs N] [--cgroups N] [--large MIB] [--share MIB] [--kmem MIB] [--stress SECONDS] [--no-tmpfs]\n",
				argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (size_mib < 4 || size_mib > 1024 || reps < 1 || nprocs < 1 ||
	    ncgroups < 1 || ncgroups > MAX_CGROUPS || ncgroups > nprocs ||
	    large_mib < 64 || large_mib > 2048 || share_mib < 4 ||
	    share_mib > 1024 || kmem_mib < 4 || kmem_mib > 1024 ||
	    stress_secs < 0) {
		fprintf(stderr,
			"mpcg-bench: --size, --share and --kmem 4..1024, --reps >= 1, --cgroups 1..%d and <= --procs, --large 64..2048, --stress >= 0\n",
			MAX_CGROUPS);
		return 2;
	}
	printf("param-large -          %12.1f MiB\n", (double)large_mib);
	printf("param-share -          %12.1f MiB\n", (double)share_mib);
	/* first, while little else is being freed (see bench_kmem()) */
	set_auto_reassess("0");
	if (!no_tmpfs)
		bench_kmem(&fs_tmpfs);
	bench_kmem(&fs_64k);
	for (i = 0; i < sizeof(fss) / sizeof(fss[0]); i++)
		if (!no_tmpfs || strcmp(fss[i]->type, "tmpfs"))
			bench_fs(fss[i]);
	for (i = no_tmpfs; i < sizeof(fs_all) / sizeof(fs_all[0]); i++) {
		stress(fs_all[i], "fsize", "");
		stress(fs_all[i], "mmap", "--mmap-file --mmap-bytes 4M");
	}
	set_auto_reassess("100");	/* the module's default */
	if (!no_tmpfs)
		bench_share(&fs_tmpfs);
	bench_share(&fs_2m);
	set_auto_reassess("0");
	bench_join(&fs_2m);
	bench_query(&fs_2m, 64, "query");
	bench_query(&fs_2m, large_mib, "query-large");
	set_auto_reassess("100");
	cgroups_remove();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg filesystem selftests: mount options, files, read/write, shared
 * mappings, the size limit, and charging of new chunks to the memory cgroup
 * of the task that touches them first, checked in that cgroup's
 * memory.current.  The automatic reassessment, which would move chunks to
 * their fair payers (engine_test.c checks that), is off in these tests.
 *
 * Runs as root in the test VM (tools/testing/vm-run), with mpcg.ko loaded
 * and the memory controller enabled in the root cgroup.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "mpcg_util.h"
#include "../uapi/linux/mpcg.h"

/*
 * Allowed difference between what a cgroup is charged (cg_charge(): its
 * memory.current less page cache) and the bytes of the chunks its tasks
 * touched: kernel objects of the test processes and per-cpu charge caches,
 * less than a chunk.
 */
#define CHARGE_TOL	(256 * KiB)

FIXTURE(mnt) {
	char dir[64];
	long chunk;
	long auto_reassess;
};

FIXTURE_VARIANT(mnt) {
	const char *opts;
	long chunk;
};

FIXTURE_VARIANT_ADD(mnt, chunk_64k) {
	.opts = "size=256M,chunk=64k",
	.chunk = 64 * KiB,
};

FIXTURE_VARIANT_ADD(mnt, chunk_2m) {
	.opts = "size=256M,chunk=2M",
	.chunk = 2 * MiB,
};

FIXTURE_SETUP(mnt)
{
	self->chunk = variant->chunk;
	self->auto_reassess = mpcg_set_auto_reassess(0);
	ASSERT_LE(0, self->auto_reassess);
	ASSERT_EQ(0, mpcg_mount(self->dir, sizeof(self->dir), variant->opts))
		TH_LOG("mount -t mpcg -o %s: %s", variant->opts,
		       strerror(errno));
}

FIXTURE_TEARDOWN(mnt)
{
	mpcg_kill_all();
	cg_parent_remove();
	cg_drain_remove();
	mpcg_umount(self->dir);
	if (self->auto_reassess >= 0)
		mpcg_set_auto_reassess(self->auto_reassess);
}

static int create_file(const char *dir, const char *name, off_t size)
{
	char path[PATH_MAX];
	int fd;

	fd = open(path_join(path, sizeof(path), dir, name),
		  O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd >= 0 && size && ftruncate(fd, size)) {
		close(fd);
		return -1;
	}
	return fd;
}

TEST(mount_defaults)
{
	char dir[64], buf[8192], *line;
	struct statfs sfs;
	struct stat st;

	ASSERT_EQ(0, mpcg_mount(dir, sizeof(dir), NULL));
	ASSERT_EQ(0, statfs(dir, &sfs));
	EXPECT_EQ(MPCG_SUPER_MAGIC, sfs.f_type);
	EXPECT_NE(0, sfs.f_blocks);	/* default size: half of RAM */
	ASSERT_EQ(0, stat(dir, &st));
	EXPECT_EQ(01777, st.st_mode & 07777);
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_LT(0, read_file("/proc/self/mounts", buf, sizeof(buf)));
	line = strstr(buf, dir);
	ASSERT_NE(NULL, line);
	line[strcspn(line, "\n")] = '\0';
	EXPECT_NE(NULL, strstr(line, " mpcg "));
	EXPECT_NE(NULL, strstr(line, "chunk=2048k")) TH_LOG("%s", line);
	mpcg_umount(dir);
}

TEST(mount_options)
{
	char dir[64], buf[8192], *line;
	struct statfs sfs;
	struct stat st;

	ASSERT_EQ(0, mpcg_mount(dir, sizeof(dir),
				"size=8M,chunk=64k,mode=0750,uid=1234,gid=5678,nr_inodes=100"));
	ASSERT_EQ(0, statfs(dir, &sfs));
	EXPECT_EQ(8 * MiB, (long)(sfs.f_blocks * sfs.f_bsize));
	EXPECT_EQ(sfs.f_blocks, sfs.f_bfree);
	EXPECT_EQ(100, sfs.f_files);
	ASSERT_EQ(0, stat(dir, &st));
	EXPECT_EQ(0750, st.st_mode & 07777);
	EXPECT_EQ(1234, st.st_uid);
	EXPECT_EQ(5678, st.st_gid);
	ASSERT_LT(0, read_file("/proc/self/mounts", buf, sizeof(buf)));
	line = strstr(buf, dir);
	ASSERT_NE(NULL, line);
	line[strcspn(line, "\n")] = '\0';
	EXPECT_NE(NULL, strstr(line, "size=8192k")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "chunk=64k")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "mode=750")) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "uid=1234")) TH_LOG("%s", line);
	mpcg_umount(dir);
}

TEST(bad_mount_options)
{
	static const struct {
		const char *opts;
		const char *log;	/* expected in the kernel log line */
	} bad[] = {
		{ "chunk=3M", "chunk=3M" },
		{ "chunk=32k", "chunk=32k" },
		{ "chunk=4M", "chunk=4M" },
		{ "chunk=", "chunk" },
		{ "size=lots", "size=lots" },
		{ "size=101%", "size=101%" },
		{ "nr_inodes=x", "nr_inodes=x" },
		{ "mode=99", "mode" },
		{ "mode=17777", "mode" },
		{ "uid=-1", "uid" },
		{ "nosuchoption=1", "nosuchoption" },
	};
	char dir[64];
	unsigned int i;

	snprintf(dir, sizeof(dir), "/tmp/mpcg-bad-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(dir));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int kmsg = kmsg_open();

		ASSERT_LE(0, kmsg);
		errno = 0;
		EXPECT_EQ(-1, mount("mpcg", dir, "mpcg", 0, bad[i].opts))
			TH_LOG("mount -o %s succeeded", bad[i].opts);
		EXPECT_EQ(EINVAL, errno) TH_LOG("mount -o %s: %s", bad[i].opts,
						 strerror(errno));
		EXPECT_TRUE(kmsg_contains(kmsg, "mpcg", bad[i].log))
			TH_LOG("no kernel log line for -o %s", bad[i].opts);
		close(kmsg);
		if (errno == 0)
			umount(dir);
	}
	rmdir(dir);
}

TEST(remount_size)
{
	char dir[64], path[PATH_MAX];
	struct statfs sfs;
	int fd;

	ASSERT_EQ(0, mpcg_mount(dir, sizeof(dir), "size=4M,chunk=1M"));
	fd = create_file(dir, "f", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, 3 * MiB, 1));
	/* Below what is in use: refused, limit unchanged. */
	EXPECT_EQ(-1, mount(NULL, dir, NULL, MS_REMOUNT, "size=2M"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mount(NULL, dir, NULL, MS_REMOUNT, "chunk=64k"));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, statfs(dir, &sfs));
	EXPECT_EQ(4 * MiB, (long)(sfs.f_blocks * sfs.f_bsize));
	EXPECT_EQ(0, mount(NULL, dir, NULL, MS_REMOUNT, "size=16M"));
	ASSERT_EQ(0, statfs(dir, &sfs));
	EXPECT_EQ(16 * MiB, (long)(sfs.f_blocks * sfs.f_bsize));
	EXPECT_EQ(13 * MiB, (long)(sfs.f_bfree * sfs.f_bsize));
	EXPECT_EQ(-1, pattern_check(fd, 0, 3 * MiB, 1));
	close(fd);
	unlink(path_join(path, sizeof(path), dir, "f"));
	mpcg_umount(dir);
}

TEST_F(mnt, create_open_unlink)
{
	char path[PATH_MAX];
	struct dirent *de;
	int fd, found = 0;
	DIR *d;

	fd = create_file(self->dir, "a", 0);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(-1, create_file(self->dir, "a", 0));
	EXPECT_EQ(EEXIST, errno);
	fd = create_file(self->dir, "b", 0);
	ASSERT_LE(0, fd);
	close(fd);

	d = opendir(self->dir);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d)))
		found += !strcmp(de->d_name, "a") || !strcmp(de->d_name, "b");
	closedir(d);
	EXPECT_EQ(2, found);

	fd = open(path_join(path, sizeof(path), self->dir, "a"), O_RDWR);
	EXPECT_LE(0, fd);
	close(fd);
	EXPECT_EQ(0, unlink(path));
	EXPECT_EQ(-1, open(path, O_RDWR));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, unlink(path_join(path, sizeof(path), self->dir, "b")));
}

TEST_F(mnt, ftruncate_and_holes)
{
	char buf[4096];
	struct stat st;
	int fd;

	fd = create_file(self->dir, "f", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 10 * MiB + 123));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(10 * MiB + 123, st.st_size);
	EXPECT_EQ(0, st.st_blocks);	/* nothing touched yet */
	/* Holes read as zeroes and stay holes. */
	EXPECT_EQ(-1, pattern_check(fd, 0, 10 * MiB + 123, 0));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0, st.st_blocks);
	/* Reading at or past the end returns 0. */
	EXPECT_EQ(0, pread(fd, buf, sizeof(buf), 10 * MiB + 123));
	EXPECT_EQ(0, pread(fd, buf, sizeof(buf), 20 * MiB));
	ASSERT_EQ(0, ftruncate(fd, 5));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(5, st.st_size);
	EXPECT_EQ(-1, ftruncate(fd, -1));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST_F(mnt, write_read_roundtrip)
{
	off_t off = self->chunk - 1000;	/* straddles chunk boundaries */
	size_t len = 3 * self->chunk + 777;
	char buf[16];
	struct stat st;
	int fd;

	fd = create_file(self->dir, "f", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, off, len, 7));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(off + (off_t)len, st.st_size);
	EXPECT_EQ(-1, pattern_check(fd, off, len, 7));
	EXPECT_EQ(-1, pattern_check(fd, 0, off, 0));
	/* write() and read() at the file offset. */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(5, write(fd, "hello", 5));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(5, read(fd, buf, 5));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	close(fd);
}

TEST_F(mnt, new_chunks_read_zero)
{
	unsigned char *p;
	struct stat st;
	long i;
	int fd;

	fd = create_file(self->dir, "f", 4 * self->chunk);
	ASSERT_LE(0, fd);
	/* One byte in the middle of chunk 1 makes the whole chunk resident. */
	ASSERT_EQ(1, pwrite(fd, "x", 1, self->chunk + self->chunk / 2));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(self->chunk / 512, st.st_blocks);
	p = mmap(NULL, 4 * self->chunk, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < 4 * self->chunk; i++)
		if (p[i] != (i == self->chunk + self->chunk / 2 ? 'x' : 0))
			break;
	EXPECT_EQ(4 * self->chunk, i) TH_LOG("byte %ld is %d", i, p[i]);
	/* Mapping faults chunks in too: all four are resident now. */
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(4 * self->chunk / 512, st.st_blocks);
	munmap(p, 4 * self->chunk);
	close(fd);
}

struct xproc {
	const char *path;
	size_t len;
	unsigned int seed;
};

/* Child: map the file and check it holds pattern(seed), then write seed+1. */
static int map_check_and_write(void *arg)
{
	struct xproc *x = arg;
	unsigned char *p;
	size_t i;
	int fd;

	fd = open(x->path, O_RDWR);
	if (fd < 0)
		return 1;
	p = mmap(NULL, x->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	for (i = 0; i < x->len; i++)
		if (p[i] != pattern(i, x->seed))
			return 3;
	for (i = 0; i < x->len; i++)
		p[i] = pattern(i, x->seed + 1);
	munmap(p, x->len);
	close(fd);
	return 0;
}

TEST_F(mnt, shared_mapping_across_processes)
{
	struct xproc x = { .len = 2 * self->chunk + 4096, .seed = 3 };
	char path[PATH_MAX];
	unsigned char *p;
	size_t i;
	int fd;

	x.path = path_join(path, sizeof(path), self->dir, "shared");
	fd = create_file(self->dir, "shared", 0);
	ASSERT_LE(0, fd);
	/* write() here, read through another process's mapping ... */
	ASSERT_EQ(0, pattern_fill(fd, 0, x.len, x.seed));
	/* ... which writes through the mapping; read() sees it here. */
	ASSERT_EQ(0, cg_run(NULL, map_check_and_write, &x));
	EXPECT_EQ(-1, pattern_check(fd, 0, x.len, x.seed + 1));

	/* A mapping made before the other process wrote sees it too. */
	p = mmap(NULL, x.len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(pattern(5, x.seed + 1), p[5]);
	x.seed++;
	ASSERT_EQ(0, cg_run(NULL, map_check_and_write, &x));
	for (i = 0; i < x.len; i++)
		if (p[i] != pattern(i, x.seed + 1))
			break;
	EXPECT_EQ(x.len, i);
	munmap(p, x.len);
	close(fd);
}

/* Run @fn(@arg) in a child; return the signal that killed it, or 0. */
static int died_of(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void read_byte(void *p)
{
	(void)*(volatile char *)p;
}

TEST_F(mnt, sigbus_past_eof)
{
	char *p;
	int fd;

	fd = create_file(self->dir, "f", 4096);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 3 * 4096, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, died_of(read_byte, p + 100));
	EXPECT_EQ(0, died_of(read_byte, p + 4095));
	EXPECT_EQ(SIGBUS, died_of(read_byte, p + 4096));
	EXPECT_EQ(SIGBUS, died_of(read_byte, p + 2 * 4096));
	munmap(p, 3 * 4096);
	close(fd);
}

TEST(enospc_past_size)
{
	char dir[64], path[PATH_MAX], buf[4096];
	struct statfs sfs;
	int fd, status;
	pid_t pid;

	/* Room for four 256k chunks. */
	ASSERT_EQ(0, mpcg_mount(dir, sizeof(dir), "size=1M,chunk=256k"));
	fd = create_file(dir, "f", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, 1 * MiB, 9));
	memset(buf, 1, sizeof(buf));
	EXPECT_EQ(-1, pwrite(fd, buf, sizeof(buf), 1 * MiB));
	EXPECT_EQ(ENOSPC, errno);
	/* A write that crosses into the fifth chunk is short, not lost. */
	EXPECT_EQ(100, pwrite(fd, buf, sizeof(buf), 1 * MiB - 100));
	ASSERT_EQ(0, statfs(dir, &sfs));
	EXPECT_EQ(0, sfs.f_bavail);
	/* A fault that needs a new chunk gets SIGBUS. */
	ASSERT_EQ(0, ftruncate(fd, 2 * MiB));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		volatile char *p = mmap(NULL, 2 * MiB, PROT_READ, MAP_SHARED,
					fd, 0);

		if (p == MAP_FAILED)
			_exit(1);
		(void)p[1 * MiB + 5];
		_exit(2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
	/* Other files get ENOSPC as well; freeing space makes room again. */
	ASSERT_EQ(0, ftruncate(fd, 512 * KiB));
	EXPECT_EQ(0, pattern_fill(fd, 0, 512 * KiB, 9));
	close(fd);
	fd = create_file(dir, "g", 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, pattern_fill(fd, 0, 512 * KiB, 4));
	EXPECT_EQ(-1, pwrite(fd, buf, 1, 512 * KiB));
	EXPECT_EQ(ENOSPC, errno);
	close(fd);
	unlink(path_join(path, sizeof(path), dir, "f"));
	unlink(path_join(path, sizeof(path), dir, "g"));
	mpcg_umount(dir);
}

TEST_F(mnt, efbig)
{
	struct rlimit rl = { .rlim_cur = 1 * MiB, .rlim_max = RLIM_INFINITY };
	char buf[100] = { 0 };
	struct stat st;
	int fd;

	fd = create_file(self->dir, "f", 0);
	ASSERT_LE(0, fd);
	/* The largest size, as on tmpfs: sparse, nothing resident. */
	ASSERT_EQ(0, ftruncate(fd, LLONG_MAX));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(LLONG_MAX, st.st_size);
	EXPECT_EQ(0, st.st_blocks);
	ASSERT_EQ(0, ftruncate(fd, 0));
	/* RLIMIT_FSIZE: EFBIG (SIGXFSZ ignored), writes stop at the limit. */
	ASSERT_NE(SIG_ERR, signal(SIGXFSZ, SIG_IGN));
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
	EXPECT_EQ(-1, ftruncate(fd, 2 * MiB));
	EXPECT_EQ(EFBIG, errno);
	EXPECT_EQ(-1, pwrite(fd, buf, sizeof(buf), 1 * MiB));
	EXPECT_EQ(EFBIG, errno);
	EXPECT_EQ(40, pwrite(fd, buf, sizeof(buf), 1 * MiB - 40));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(1 * MiB, st.st_size);
	close(fd);
}

/*
 * Nothing lost or leaked after errors: a worker in a child cgroup, a
 * member of its file, hits EFBIG, ENOMEM at its memory.max (fallocate:
 * the chunks it made resident are given back) and ENOSPC; after each its
 * cgroup's charge, the file's size and st_blocks and the mount's free
 * space are what they were before the call.  2M chunks, so that a chunk
 * left behind is far above the tolerance of the charge.
 */
struct after_err {
	long charge, size, blocks, bfree;
};

/* Memory cgroups beyond the owner in members_past_64_cgroups. */
#define NR_MEMBERS	100

FIXTURE(errs) {
	char dir[64];
	char cg[PATH_MAX];
	char path[PATH_MAX];
	long auto_reassess;
	struct mpcg_worker w;
	int fd;			/* the worker's */
	pid_t pid[NR_MEMBERS];	/* holders (members_past_64_cgroups) */
};

FIXTURE_SETUP(errs)
{
	self->auto_reassess = mpcg_set_auto_reassess(0);
	ASSERT_LE(0, self->auto_reassess);
	/* Room for eight chunks. */
	ASSERT_EQ(0, mpcg_mount(self->dir, sizeof(self->dir),
				"size=16M,chunk=2M"));
	ASSERT_EQ(0, cg_create(self->cg, sizeof(self->cg), "e"))
		TH_LOG("cgroup: %s", strerror(errno));
	path_join(self->path, sizeof(self->path), self->dir, "f");
}

FIXTURE_TEARDOWN(errs)
{
	char g[PATH_MAX];
	int i;

	mpcg_kill_all();
	for (i = 0; i < (int)(sizeof(self->pid) / sizeof(self->pid[0])); i++)
		if (self->pid[i] > 0) {
			kill(self->pid[i], SIGKILL);
			waitpid(self->pid[i], NULL, 0);
		}
	unlink(self->path);
	unlink(path_join(g, sizeof(g), self->dir, "g"));
	mpcg_umount(self->dir);
	cg_parent_remove();
	cg_drain_remove();
	if (self->auto_reassess >= 0)
		mpcg_set_auto_reassess(self->auto_reassess);
}

static void after_err_take(const char *cg, const char *dir, const char *path,
			   struct after_err *a)
{
	struct statfs sfs;
	struct stat st;

	memset(a, 0xff, sizeof(*a));
	if (cg_drain_stocks())
		return;
	a->charge = cg_charge(cg);
	if (!stat(path, &st)) {
		a->size = st.st_size;
		a->blocks = st.st_blocks;
	}
	if (!statfs(dir, &sfs))
		a->bfree = sfs.f_bfree;
}

/* The worker's call @call fails with @err and changes nothing. */
#define EXPECT_FAILS_CLEANLY(err, call) do {				\
	struct after_err b_, a_;					\
	long r_;							\
									\
	after_err_take(self->cg, self->dir, self->path, &b_);		\
	ASSERT_LE(0, b_.charge);					\
	r_ = (call);							\
	EXPECT_EQ(-1, r_) TH_LOG("%s returned %ld", #call, r_);		\
	EXPECT_EQ(err, errno) TH_LOG("%s: %s", #call, strerror(errno));	\
	after_err_take(self->cg, self->dir, self->path, &a_);		\
	EXPECT_TRUE(near(a_.charge, b_.charge, CHARGE_TOL))		\
		TH_LOG("%s: the charge went from %ld to %ld", #call,	\
		       b_.charge, a_.charge);				\
	EXPECT_EQ(b_.size, a_.size) TH_LOG("%s", #call);		\
	EXPECT_EQ(b_.blocks, a_.blocks) TH_LOG("%s", #call);		\
	EXPECT_EQ(b_.bfree, a_.bfree) TH_LOG("%s", #call);		\
} while (0)

#define W(op, a, b, c, d) mpcg_worker_cmd(&self->w, op, a, b, c, d, 0, NULL)

TEST_F_TIMEOUT(errs, nothing_lost_or_leaked, 300)
{
	struct rlimit rl = { .rlim_cur = 8 * MiB, .rlim_max = RLIM_INFINITY };
	struct rlimit old;
	char g[PATH_MAX];
	long e0, cur;
	int fd;

	cg_drain_stocks();
	e0 = cg_charge(self->cg);
	ASSERT_LE(0, e0);
	/* The worker has RLIMIT_FSIZE at 8M and SIGXFSZ ignored. */
	ASSERT_EQ(0, getrlimit(RLIMIT_FSIZE, &old));
	ASSERT_NE(SIG_ERR, signal(SIGXFSZ, SIG_IGN));
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
	ASSERT_EQ(0, mpcg_worker_start(&self->w, self->cg, "e"))
		TH_LOG("worker: %s", strerror(errno));
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &old));
	self->fd = w_open(&self->w, self->path, O_RDWR | O_CREAT);
	ASSERT_LE(0, self->fd);
	fd = self->fd;
	/* One chunk resident, paid by e: six free. */
	ASSERT_EQ(0, W(W_PWRITE, fd, 0, 2 * MiB, 1));

	/* EFBIG: past RLIMIT_FSIZE, with room in the mount and the cgroup. */
	EXPECT_FAILS_CLEANLY(EFBIG, W(W_PWRITE, fd, 8 * MiB, 4096, 2));
	EXPECT_FAILS_CLEANLY(EFBIG, W(W_FALLOCATE, fd, 0, 8 * MiB, 2 * MiB));
	EXPECT_FAILS_CLEANLY(EFBIG, W(W_FALLOCATE, fd, 0, 0, 10 * MiB));
	EXPECT_FAILS_CLEANLY(EFBIG, W(W_FTRUNCATE, fd, 10 * MiB, 0, 0));

	/*
	 * ENOMEM: e may grow by 3M, a fallocate of three chunks past the
	 * end makes one resident, fails on the second and gives the first
	 * back.
	 */
	cur = cg_read_long(self->cg, "memory.current");
	ASSERT_LE(0, cur);
	ASSERT_EQ(0, cg_set_max(self->cg, cur + 3 * MiB));
	EXPECT_FAILS_CLEANLY(ENOMEM, W(W_FALLOCATE, fd, 0, 2 * MiB, 6 * MiB));
	EXPECT_FAILS_CLEANLY(ENOMEM, W(W_FALLOCATE, fd, FALLOC_FL_KEEP_SIZE,
				       2 * MiB, 6 * MiB));
	/* The same inside the file. */
	ASSERT_EQ(0, W(W_FTRUNCATE, fd, 8 * MiB, 0, 0));
	EXPECT_FAILS_CLEANLY(ENOMEM, W(W_FALLOCATE, fd, 0, 2 * MiB, 6 * MiB));
	/*
	 * With room for two more chunks, one made resident by an earlier
	 * fallocate at 4M: the failing call makes 2M resident, skips 4M,
	 * fails at 6M and gives back 2M only.
	 */
	ASSERT_EQ(0, cg_set_max(self->cg, cur + 5 * MiB));
	ASSERT_EQ(0, W(W_FALLOCATE, fd, 0, 4 * MiB, 2 * MiB));
	EXPECT_FAILS_CLEANLY(ENOMEM, W(W_FALLOCATE, fd, 0, 2 * MiB, 6 * MiB));
	/* The data is intact, and a chunk that fits can still be had. */
	EXPECT_EQ(0, W(W_PREAD, fd, 0, 2 * MiB, 1));
	ASSERT_EQ(0, W(W_FTRUNCATE, fd, 2 * MiB, 0, 0));
	ASSERT_EQ(0, cg_set_max(self->cg, cur + 3 * MiB));
	EXPECT_EQ(0, W(W_FALLOCATE, fd, 0, 2 * MiB, 2 * MiB));
	ASSERT_EQ(0, W(W_FTRUNCATE, fd, 2 * MiB, 0, 0));
	ASSERT_EQ(0, cg_set_max(self->cg, -1));

	/* ENOSPC: the test fills the other six chunks. */
	fd = open(path_join(g, sizeof(g), self->dir, "g"),
		  O_RDWR | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fallocate(fd, 0, 0, 14 * MiB)) TH_LOG("%s", strerror(errno));
	close(fd);
	fd = self->fd;
	EXPECT_FAILS_CLEANLY(ENOSPC, W(W_PWRITE, fd, 2 * MiB, 4096, 3));
	EXPECT_FAILS_CLEANLY(ENOSPC, W(W_PWRITE, fd, 4 * MiB + 5, 10, 3));
	EXPECT_FAILS_CLEANLY(ENOSPC, W(W_FALLOCATE, fd, 0, 2 * MiB, 2 * MiB));
	EXPECT_FAILS_CLEANLY(ENOSPC, W(W_FALLOCATE, fd, 0, 0, 4 * MiB));
	EXPECT_FAILS_CLEANLY(ENOSPC, W(W_FALLOCATE, fd, FALLOC_FL_KEEP_SIZE,
				       4 * MiB, 2 * MiB));
	EXPECT_EQ(0, unlink(g));
	EXPECT_EQ(0, W(W_PREAD, fd, 0, 2 * MiB, 1));

	/* The worker goes, the file with it: e is charged what it was. */
	EXPECT_EQ(0, w_exit(&self->w));
	EXPECT_EQ(0, unlink(self->path));
	cg_drain_stocks();
	EXPECT_TRUE(near(cg_charge(self->cg), e0, CHARGE_TOL))
		TH_LOG("e: charged %ld, %ld before", cg_charge(self->cg), e0);
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom_kill"));
}

/*
 * A region has no limit on its members: 100 memory cgroups beyond the
 * owner hold it mapped (the 64 slots of mpcg 0.2 gave the 65th EUSERS),
 * one more joins by each way there is (mmap, read, write, fallocate), and
 * when they go, reassessments free every member but the owner.
 */
/* Child: hold @path mapped (a member) until killed; a byte when ready. */
static void hold_mapped(const char *path, int ready)
{
	char c = 'r';
	void *p;
	int fd;

	fd = open(path, O_RDWR);
	p = fd < 0 ? MAP_FAILED : mmap(NULL, 64 * KiB, PROT_READ, MAP_SHARED,
				      fd, 0);
	if (p == MAP_FAILED)
		c = errno;
	if (write(ready, &c, 1) != 1 || c != 'r')
		_exit(1);
	for (;;)
		pause();
}

/* In one more cgroup: every way to become a member works. */
static int join_allowed(void *arg)
{
	char buf[1] = { 0 };
	void *p;
	int fd;

	/* Opening is not joining (a descriptor for ioctls only). */
	fd = open(arg, O_RDWR);
	if (fd < 0)
		return 1;
	p = mmap(NULL, 64 * KiB, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	if (pread(fd, buf, 1, 0) != 1)
		return 3;
	if (pwrite(fd, buf, 1, 0) != 1)
		return 4;
	if (fallocate(fd, 0, 0, 4096))
		return 5;
	munmap(p, 64 * KiB);
	close(fd);
	return 0;
}

static long nr_members(int fd)
{
	struct mpcg_member_info *m;
	long n = mpcg_region_members(fd, &m);

	free(m);
	return n;
}

/* A counter of debugfs mpcg/objects, -1 if there is none. */
static long mpcg_object_count(const char *name)
{
	return cg_read_key("/sys/kernel/debug/mpcg", "objects", name);
}

TEST_F_TIMEOUT(errs, members_past_64_cgroups, 600)
{
	struct mpcg_region_stat st;
	char cg[NR_MEMBERS + 1][288], name[16];
	long members0 = mpcg_object_count("members");
	int i, fd, ready[2];
	char c;

	/* The owner (this test's cgroup) is the first member. */
	fd = open(self->path, O_RDWR | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 64 * KiB));
	ASSERT_EQ(1, nr_members(fd));
	/* 100 more, a process each holding the file mapped. */
	ASSERT_EQ(0, pipe(ready));
	for (i = 0; i <= NR_MEMBERS; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		ASSERT_EQ(0, cg_create(cg[i], sizeof(cg[i]), name))
			TH_LOG("cgroup %s: %s", name, strerror(errno));
	}
	for (i = 0; i < NR_MEMBERS; i++) {
		self->pid[i] = mpcg_fork();
		ASSERT_LE(0, self->pid[i]);
		if (!self->pid[i]) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (cg_enter(cg[i]))
				_exit(255);
			hold_mapped(self->path, ready[1]);
		}
		ASSERT_EQ(1, read(ready[0], &c, 1));
		ASSERT_EQ('r', c) TH_LOG("holder %d: %s", i, strerror(c));
	}
	ASSERT_EQ(0, mpcg_region_get_stat(fd, &st));
	EXPECT_EQ(NR_MEMBERS, st.nr_members);
	EXPECT_EQ(NR_MEMBERS + 1, nr_members(fd));
	EXPECT_EQ(NR_MEMBERS + 1, st.nr_member_entries);

	/* One more joins, by every way; nothing of it is left after. */
	EXPECT_EQ(0, cg_run(cg[NR_MEMBERS], join_allowed, self->path));
	EXPECT_EQ(NR_MEMBERS + 2, nr_members(fd));
	ASSERT_EQ(0, mpcg_region_reassess(fd, NULL));
	EXPECT_EQ(NR_MEMBERS + 1, nr_members(fd));

	/* All go: only the owner is left, then nothing. */
	for (i = 0; i < NR_MEMBERS; i++) {
		kill(self->pid[i], SIGKILL);
		ASSERT_EQ(self->pid[i], waitpid(self->pid[i], NULL, 0));
		self->pid[i] = 0;
	}
	ASSERT_EQ(0, mpcg_region_reassess(fd, NULL));
	EXPECT_EQ(1, nr_members(fd));
	close(fd);
	close(ready[0]);
	close(ready[1]);
	EXPECT_EQ(0, unlink(self->path));
	if (members0 >= 0) {
		EXPECT_EQ(members0, mpcg_object_count("members"));
	} else {
		TH_LOG("no debugfs mpcg/objects: the member count is not checked");
	}
}

struct toucher {
	const char *path;
	long chunk;
	int nchunks;
	int use_mmap;
};

/* Child: touch one byte in each of the first @nchunks chunks. */
static int touch_chunks(void *arg)
{
	struct toucher *t = arg;
	int fd, i;

	fd = open(t->path, O_RDWR);
	if (fd < 0)
		return 1;
	if (t->use_mmap) {
		char *p = mmap(NULL, t->nchunks * t->chunk,
			       PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (p == MAP_FAILED)
			return 2;
		for (i = 0; i < t->nchunks; i++)
			p[i * t->chunk + t->chunk / 3] = 1;
		munmap(p, t->nchunks * t->chunk);
	} else {
		for (i = 0; i < t->nchunks; i++)
			if (pwrite(fd, "y", 1, i * t->chunk + 17) != 1)
				return 3;
	}
	close(fd);
	return 0;
}

/* Child: read the whole file with read(). */
static int read_all(void *arg)
{
	struct toucher *t = arg;
	char buf[65536];
	ssize_t n;
	int fd;

	fd = open(t->path, O_RDONLY);
	if (fd < 0)
		return 1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	return n < 0 ? 2 : 0;
}

TEST_F(mnt, writer_cgroup_pays_and_is_refunded)
{
	struct toucher t = { .chunk = self->chunk, .nchunks = 8 };
	char a[PATH_MAX], b[PATH_MAX], path[PATH_MAX];
	long a0, b0, a1, b1;
	int fd;

	ASSERT_EQ(0, cg_create(a, sizeof(a), "a")) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, cg_create(b, sizeof(b), "b"));
	t.path = path_join(path, sizeof(path), self->dir, "f");
	fd = create_file(self->dir, "f", 8 * self->chunk);
	ASSERT_LE(0, fd);
	close(fd);

	a0 = cg_charge(a);
	b0 = cg_charge(b);
	ASSERT_LE(0, a0);
	/* a writes one byte per chunk: a pays for eight whole chunks. */
	ASSERT_EQ(0, cg_run(a, touch_chunks, &t));
	/* b only reads: b pays nothing, a still pays. */
	ASSERT_EQ(0, cg_run(b, read_all, &t));
	a1 = cg_charge(a);
	b1 = cg_charge(b);
	EXPECT_TRUE(near(a1 - a0, 8 * self->chunk, CHARGE_TOL))
		TH_LOG("a paid %ld, expected %ld", a1 - a0, 8 * self->chunk);
	EXPECT_TRUE(near(b1 - b0, 0, CHARGE_TOL))
		TH_LOG("b paid %ld, expected 0", b1 - b0);
	/* The charge is kernel memory in a's memory.stat. */
	EXPECT_LE(8 * self->chunk - CHARGE_TOL, cg_read_key(a, "memory.stat", "kernel"));

	ASSERT_EQ(0, unlink(path));
	a1 = cg_charge(a);
	EXPECT_TRUE(near(a1 - a0, 0, CHARGE_TOL))
		TH_LOG("a still pays %ld after unlink", a1 - a0);
}

TEST_F(mnt, fault_charges_whole_chunks)
{
	struct toucher t = { .chunk = self->chunk, .nchunks = 4,
			     .use_mmap = 1 };
	char a[PATH_MAX], path[PATH_MAX];
	struct stat st;
	long a0, a1;
	int fd;

	ASSERT_EQ(0, cg_create(a, sizeof(a), "a"));
	t.path = path_join(path, sizeof(path), self->dir, "f");
	fd = create_file(self->dir, "f", 6 * self->chunk);
	ASSERT_LE(0, fd);
	a0 = cg_charge(a);
	ASSERT_EQ(0, cg_run(a, touch_chunks, &t));
	a1 = cg_charge(a);
	EXPECT_TRUE(near(a1 - a0, 4 * self->chunk, CHARGE_TOL))
		TH_LOG("a paid %ld, expected %ld", a1 - a0, 4 * self->chunk);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(4 * self->chunk / 512, st.st_blocks);
	close(fd);
	ASSERT_EQ(0, unlink(path));
	EXPECT_TRUE(near(cg_charge(a) - a0, 0, CHARGE_TOL));
}

/*
 * A MAP_PRIVATE copy of a file page is the writer's own anonymous memory:
 * b's writes through a private mapping of a file a wrote are charged to b
 * as anon, not to a (who pays for the file) nor as chunks to b, and the
 * file does not change.
 */
TEST_F(mnt, map_private_copies_are_anon)
{
	const long size = 4 * MiB;
	struct mpcg_worker wa, wb;
	char a[PATH_MAX], b[PATH_MAX], path[PATH_MAX];
	long a0, b0, banon0, a1, b1, banon1, p;
	struct stat st;
	int fda, fdb, fd;

	ASSERT_EQ(0, cg_create(a, sizeof(a), "a")) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, cg_create(b, sizeof(b), "b"));
	path_join(path, sizeof(path), self->dir, "f");
	ASSERT_EQ(0, mpcg_worker_start(&wa, a, "a"));
	ASSERT_EQ(0, mpcg_worker_start(&wb, b, "b"));
	fda = w_open(&wa, path, O_RDWR | O_CREAT);
	ASSERT_LE(0, fda);
	ASSERT_EQ(0, mpcg_worker_cmd(&wa, W_PWRITE, fda, 0, size, 5, 0, NULL));
	fdb = w_open(&wb, path, O_RDONLY);
	ASSERT_LE(0, fdb);
	p = w_mmap(&wb, fdb, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(0, p);

	cg_drain_stocks();
	a0 = cg_charge(a);
	b0 = cg_charge(b);
	banon0 = cg_read_key(b, "memory.stat", "anon");
	ASSERT_LE(0, banon0);
	/* b writes a byte of every page: a private copy of each. */
	ASSERT_EQ(0, w_touch(&wb, p, size, W_WRITE));
	cg_drain_stocks();
	a1 = cg_charge(a);
	b1 = cg_charge(b);
	banon1 = cg_read_key(b, "memory.stat", "anon");
	/* memory.stat may lag by the per-cpu batches of its counters. */
	EXPECT_TRUE(near(banon1 - banon0, size, 512 * KiB))
		TH_LOG("b's anon grew by %ld, expected %ld", banon1 - banon0,
		       size);
	/* b's charge grew by that anon memory, no chunk of the file. */
	EXPECT_TRUE(near(b1 - b0, banon1 - banon0, CHARGE_TOL))
		TH_LOG("b's charge grew by %ld, its anon by %ld", b1 - b0,
		       banon1 - banon0);
	EXPECT_TRUE(near(a1 - a0, 0, CHARGE_TOL))
		TH_LOG("a's charge changed by %ld", a1 - a0);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(size / 512, st.st_blocks);
	/* b's private memory goes with b. */
	EXPECT_EQ(0, w_exit(&wb));
	cg_drain_stocks();
	EXPECT_GT(banon0 + 512 * KiB, cg_read_key(b, "memory.stat", "anon"));
	EXPECT_GT(b0 + CHARGE_TOL, cg_charge(b))
		TH_LOG("b: charged %ld, %ld before its writes", cg_charge(b),
		       b0);
	/* The file is as a wrote it. */
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, pattern_check(fd, 0, size, 5));
	close(fd);
	EXPECT_EQ(0, w_exit(&wa));
	ASSERT_EQ(0, unlink(path));
}

TEST_F(mnt, truncate_frees_and_zeroes)
{
	struct toucher t = { .chunk = self->chunk, .nchunks = 8 };
	char a[PATH_MAX], path[PATH_MAX];
	off_t cut = 3 * self->chunk - 4096 - 10;
	struct stat st;
	long a0, a1;
	int fd;

	ASSERT_EQ(0, cg_create(a, sizeof(a), "a"));
	t.path = path_join(path, sizeof(path), self->dir, "f");
	fd = create_file(self->dir, "f", 8 * self->chunk);
	ASSERT_LE(0, fd);
	a0 = cg_charge(a);
	ASSERT_EQ(0, cg_run(a, touch_chunks, &t));
	ASSERT_EQ(0, pattern_fill(fd, 0, 8 * self->chunk, 5));

	/* Cut inside chunk 2: chunks 3..7 are freed, a is refunded. */
	ASSERT_EQ(0, ftruncate(fd, cut));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(3 * self->chunk / 512, st.st_blocks);
	a1 = cg_charge(a);
	EXPECT_TRUE(near(a1 - a0, 3 * self->chunk, CHARGE_TOL))
		TH_LOG("a pays %ld, expected %ld", a1 - a0, 3 * self->chunk);
	/* Growing again shows zeroes past the old cut, data before it. */
	ASSERT_EQ(0, ftruncate(fd, 8 * self->chunk));
	EXPECT_EQ(-1, pattern_check(fd, 0, cut, 5));
	EXPECT_EQ(-1, pattern_check(fd, cut, 8 * self->chunk - cut, 0));
	close(fd);
	ASSERT_EQ(0, unlink(path));
}

TEST_F(mnt, truncate_unmaps)
{
	char *p;
	int fd;

	fd = create_file(self->dir, "f", 4 * self->chunk);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 4 * self->chunk, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[3 * self->chunk] = 1;
	p[10] = 2;
	ASSERT_EQ(0, ftruncate(fd, self->chunk));
	/* Still inside the file: mapped as before. */
	EXPECT_EQ(2, p[10]);
	EXPECT_EQ(0, died_of(read_byte, p + self->chunk - 1));
	/* Gone with the truncate: SIGBUS, also for the page mapped before. */
	EXPECT_EQ(SIGBUS, died_of(read_byte, p + self->chunk));
	EXPECT_EQ(SIGBUS, died_of(read_byte, p + 3 * self->chunk));
	munmap(p, 4 * self->chunk);
	close(fd);
}

TEST_F(mnt, last_close_and_unmap_free)
{
	struct toucher t = { .chunk = self->chunk, .nchunks = 4 };
	char a[PATH_MAX], path[PATH_MAX];
	long a0;
	char *p;
	int fd;

	ASSERT_EQ(0, cg_create(a, sizeof(a), "a"));
	t.path = path_join(path, sizeof(path), self->dir, "f");
	fd = create_file(self->dir, "f", 4 * self->chunk);
	ASSERT_LE(0, fd);
	a0 = cg_charge(a);
	ASSERT_EQ(0, cg_run(a, touch_chunks, &t));
	p = mmap(NULL, 4 * self->chunk, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, unlink(path));
	/* Unlinked but open and mapped: the memory stays, and stays charged. */
	EXPECT_EQ('y', p[17]);
	EXPECT_TRUE(near(cg_charge(a) - a0,
			 4 * self->chunk, CHARGE_TOL));
	close(fd);
	EXPECT_TRUE(near(cg_charge(a) - a0,
			 4 * self->chunk, CHARGE_TOL));
	/* The last reference goes with the mapping. */
	munmap(p, 4 * self->chunk);
	EXPECT_TRUE(near(cg_charge(a) - a0, 0, CHARGE_TOL))
		TH_LOG("a still pays %ld", cg_charge(a) - a0);
}

TEST(module_busy_while_mounted)
{
	char dir[64];

	ASSERT_EQ(0, mpcg_mount(dir, sizeof(dir), NULL));
	/* What rmmod gets for a module in use. */
	EXPECT_EQ(-1, syscall(__NR_delete_module, "mpcg", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, access("/sys/module/mpcg", F_OK));
	mpcg_umount(dir);
}

TEST_HARNESS_MAIN

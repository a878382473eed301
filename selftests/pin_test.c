// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg selftests: pages pinned by I/O are never moved.
 *
 * A process in cgroup a maps a 1 MiB file (chunk=64k) and reads a slow
 * block device (dm-delay over brd, 600 ms a bio) into the mapping with
 * O_DIRECT, so that the kernel holds references to the mapped pages while
 * the device writes into them.  Meanwhile cgroup b becomes a member and the
 * file is reassessed: with the equal policy half of its chunks should move
 * to b, but a chunk whose pages the I/O holds must stay where it is (it is
 * counted as pinned, and the region stays pending).  When the read is done
 * the file must hold what the device returned, every byte, and a new
 * reassessment moves the chunks.  Moving a pinned chunk would leave the
 * device's data in the old pages, lost.
 *
 * Long-term pins too: an io_uring fixed buffer (IORING_REGISTER_BUFFERS) in
 * an mpcg mapping works where the kernel allows it for a file that is not
 * shmem (6.12: yes; 6.1's io_uring refuses every file mapping but shmem
 * and hugetlbfs, EOPNOTSUPP), and its chunks do not move while registered.
 *
 * Needs the brd and dm-delay modules and dmsetup; skips otherwise.  Runs as
 * root in the test VM (tools/testing/vm-run).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "mpcg_util.h"
#include "libmpcg.h"

#define FSIZE		(1 * MiB)
#define CHUNK		(64 * KiB)
#define DELAY_MS	600
#define DM_NAME		"mpcg-pin-test"
#define DM_DEV		"/dev/mapper/" DM_NAME

FIXTURE(pin) {
	char dir[64];
	char path[PATH_MAX];
	long old_auto;
	int dm;			/* the dm-delay device exists */
	struct mpcg_cg *a, *b, *c;
};

static int sh(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

FIXTURE_SETUP(pin)
{
	self->old_auto = mpcg_engine_setup(&self->a, &self->b, &self->c);
	ASSERT_LE(0, self->old_auto) TH_LOG("cgroups: %s", strerror(errno));
	ASSERT_EQ(0, mpcg_mount(self->dir, sizeof(self->dir),
				"size=64M,chunk=64k,policy=equal"));
	path_join(self->path, sizeof(self->path), self->dir, "f");
}

FIXTURE_TEARDOWN(pin)
{
	mpcg_kill_all();
	if (self->old_auto >= 0)
		mpcg_engine_teardown(self->dir, &self->old_auto);
	if (self->dm)
		sh("dmsetup remove --noudevsync " DM_NAME " && dmsetup mknodes");
	sh("rmmod brd 2>/dev/null");
}

/*
 * The slow device under the O_DIRECT read: dm-delay over a brd ramdisk.
 * Returns why it cannot be made (the test is skipped then), or NULL.
 */
static const char *setup_device(int *dm)
{
	char cmd[256];

	if (sh("command -v dmsetup >/dev/null"))
		return "no dmsetup (apt-get install dmsetup)";
	if (sh("modprobe brd rd_nr=1 rd_size=4096 2>/dev/null") ||
	    sh("modprobe dm-delay 2>/dev/null") || access("/dev/ram0", F_OK))
		return "no brd or dm-delay module for this kernel";
	snprintf(cmd, sizeof(cmd),
		 "echo '0 8192 delay /dev/ram0 0 %d' | "
		 "dmsetup create --noudevsync " DM_NAME " && dmsetup mknodes " DM_NAME,
		 DELAY_MS);
	if (sh(cmd))
		return "dmsetup create of a delay target failed";
	*dm = 1;
	return NULL;
}

/* The device's bytes: pattern 2; the file's, before the read: pattern 1. */
static int fill_device(void)
{
	int fd = open("/dev/ram0", O_WRONLY);
	int err;

	if (fd < 0)
		return -1;
	err = pattern_fill(fd, 0, FSIZE, 2) || fsync(fd);
	close(fd);
	return err ? -1 : 0;
}

struct reader_arg {
	const char *path;
	int go;			/* pipe: written when the read has started */
};

/*
 * In cgroup a: create the file, map it, and read the device into the
 * mapping with O_DIRECT.  Exits 0 if the read returned every byte.
 */
static int reader(void *p)
{
	struct reader_arg *arg = p;
	unsigned char *map;
	int fd, dev;
	ssize_t n;

	fd = open(arg->path, O_RDWR | O_CREAT, 0644);
	if (fd < 0 || ftruncate(fd, FSIZE) || pattern_fill(fd, 0, FSIZE, 1))
		return 10;
	map = mmap(NULL, FSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return 11;
	dev = open(DM_DEV, O_RDONLY | O_DIRECT);
	if (dev < 0)
		return 12;
	if (write(arg->go, "x", 1) != 1)
		return 13;
	n = pread(dev, map, FSIZE, 0);
	if (n != FSIZE)
		return 14;
	return 0;
}

/* In cgroup b: become a member by reading the whole file. */
static int member_b(void *p)
{
	const char *path = p;
	char buf[4096];
	int fd = open(path, O_RDONLY);
	off_t off;

	if (fd < 0)
		return 10;
	for (off = 0; off < FSIZE; off += CHUNK)
		if (pread(fd, buf, 1, off) != 1)
			return 11;
	pause();	/* stays a member until killed */
	return 0;
}

TEST_F_TIMEOUT(pin, odirect_into_mapping_during_reassessment, 120)
{
	struct reader_arg ra = { .path = self->path };
	struct mpcg_member_info *m;
	struct mpcg_region_stat st;
	struct mpcg_reassess r;
	pid_t rd, mb;
	int p[2], fd, i;
	const char *why;
	char c;
	long nm;

	why = setup_device(&self->dm);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, fill_device());
	ASSERT_EQ(0, pipe(p));
	ra.go = p[1];
	rd = mpcg_spawn(self->a->path, reader, &ra);
	ASSERT_LT(0, rd);
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1)) TH_LOG("the reader: %d", mpcg_wait(rd));
	close(p[0]);
	usleep(100 * 1000);	/* the bios are in flight now */
	mb = mpcg_spawn(self->b->path, member_b, self->path);
	ASSERT_LT(0, mb);
	fd = open(self->path, O_RDONLY);
	ASSERT_LE(0, fd);
	for (i = 0; i < 50; i++) {	/* until b is a member */
		ASSERT_EQ(0, mpcg_region_get_stat(fd, &st));
		if (st.nr_members == 2)
			break;
		usleep(10 * 1000);
	}
	ASSERT_EQ(2, st.nr_members);

	/* During the read: nothing pinned moves, and it is counted. */
	ASSERT_EQ(0, mpcg_region_reassess(fd, &r));
	EXPECT_EQ(MPCG_STATE_PENDING, r.state);
	ASSERT_EQ(0, mpcg_region_get_stat(fd, &st));
	EXPECT_LT(0, (long)st.pinned_bytes) TH_LOG("no chunk counted as pinned");
	nm = mpcg_region_members(fd, &m);
	ASSERT_EQ(2, nm);
	for (i = 0; i < nm; i++)
		if (m[i].cgroup_id == self->b->id)
			EXPECT_EQ(st.pinned_bytes, m[i].pinned_bytes)
				TH_LOG("b should have got the pinned chunks");
	free(m);

	/* The read is done: the file has the device's bytes, all of them. */
	EXPECT_EQ(0, mpcg_wait(rd)) TH_LOG("the O_DIRECT read failed");
	EXPECT_EQ(-1, pattern_check(fd, 0, FSIZE, 2))
		TH_LOG("the file lost what the device wrote");

	/* Unpinned now: the chunks move, and the data stays. */
	ASSERT_EQ(0, mpcg_reassess_check(fd, MPCG_CHECK_CHARGES, NULL, &r));
	EXPECT_EQ(MPCG_STATE_ASSESSED, r.state);
	EXPECT_LT(0, (long)r.chunks_moved);
	ASSERT_EQ(0, mpcg_region_get_stat(fd, &st));
	EXPECT_EQ(0, (long)st.pinned_bytes);
	EXPECT_EQ(-1, pattern_check(fd, 0, FSIZE, 2));
	close(fd);
	kill(mb, SIGKILL);
	mpcg_wait(mb);
}

/* Register @len bytes at @p as an io_uring fixed buffer: the ring, or -errno. */
static int uring_register(void *p, size_t len)
{
	struct io_uring_params params;
	struct iovec iov = { p, len };
	int ring;

	memset(&params, 0, sizeof(params));
	ring = syscall(__NR_io_uring_setup, 4, &params);
	if (ring < 0)
		return -errno;
	if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
		    &iov, 1)) {
		int e = errno;

		close(ring);
		return -e;
	}
	return ring;
}

static int in_b(void *p)
{
	const char *path = p;
	char c;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || pread(fd, &c, 1, 0) != 1)
		return 1;
	pause();
	return 0;
}

TEST_F_TIMEOUT(pin, io_uring_fixed_buffer, 120)
{
	char tdir[] = "/tmp/pin-tmpfs-XXXXXX", tpath[64];
	struct mpcg_region_stat st;
	struct mpcg_reassess r;
	struct utsname u;
	void *m, *t;
	int fd, tfd, ring, tring;
	pid_t b;

	/* tmpfs, the reference: its mapping can be registered. */
	ASSERT_NE(NULL, mkdtemp(tdir));
	ASSERT_EQ(0, mount("tmpfs", tdir, "tmpfs", 0, "size=8M"));
	snprintf(tpath, sizeof(tpath), "%s/f", tdir);
	tfd = open(tpath, O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, ftruncate(tfd, FSIZE));
	t = mmap(NULL, FSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, tfd, 0);
	ASSERT_NE(MAP_FAILED, t);
	tring = uring_register(t, FSIZE);
	if (tring == -ENOSYS || tring == -EPERM)
		SKIP(goto out_tmpfs, "no io_uring here (%s)", strerror(-tring));
	ASSERT_LE(0, tring) TH_LOG("tmpfs: %s", strerror(-tring));

	fd = open(self->path, O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, FSIZE, 7));
	m = mmap(NULL, FSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ring = uring_register(m, FSIZE);
	ASSERT_EQ(0, uname(&u));
	if (ring == -EOPNOTSUPP && !strncmp(u.release, "6.1.", 4)) {
		/* 6.1's io_uring: file mappings only of shmem and hugetlbfs. */
		TH_LOG("%s: io_uring refuses a fixed buffer in a file mapping that is not shmem (docs/design.md)",
		       u.release);
	} else {
		ASSERT_LE(0, ring) TH_LOG("mpcg: %s", strerror(-ring));
		/* b joins: with the buffer registered, nothing moves. */
		b = mpcg_spawn(self->b->path, in_b, self->path);
		ASSERT_LT(0, b);
		do {
			usleep(20 * 1000);
			ASSERT_EQ(0, mpcg_region_get_stat(fd, &st));
		} while (st.nr_members < 2);
		ASSERT_EQ(0, mpcg_region_reassess(fd, &r));
		EXPECT_EQ(0, (long)r.chunks_moved);
		ASSERT_EQ(0, mpcg_region_get_stat(fd, &st));
		EXPECT_EQ(FSIZE / 2, (long)st.pinned_bytes);
		/*
		 * Unregistered (synchronously: closing the ring releases the
		 * buffers later, from a worker): they move, the data stays.
		 */
		ASSERT_EQ(0, syscall(__NR_io_uring_register, ring,
				     IORING_UNREGISTER_BUFFERS, NULL, 0));
		close(ring);
		ASSERT_EQ(0, mpcg_region_reassess(fd, &r));
		EXPECT_EQ(FSIZE / 2 / CHUNK, (long)r.chunks_moved);
		EXPECT_EQ(-1, pattern_check(fd, 0, FSIZE, 7));
		kill(b, SIGKILL);
		mpcg_wait(b);
	}
	munmap(m, FSIZE);
	close(fd);
	close(tring);
out_tmpfs:
	munmap(t, FSIZE);
	close(tfd);
	umount2(tdir, MNT_DETACH);
	rmdir(tdir);
}

TEST_HARNESS_MAIN

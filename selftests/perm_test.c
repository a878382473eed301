// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg permission and information-leak selftests.
 *
 *  - an unprivileged user (uid/gid 65534, in a forked child) cannot open
 *    /dev/mpcg, so cannot list regions or read any cgroup's usage; cannot
 *    open (hence query) a mode 0600 region of root's; can open a mode
 *    0644 region of root's but not change its policy (EPERM); can change
 *    the policy of its own file on a mode=1777 mount;
 *  - ioctl results carry no uninitialised kernel bytes: user buffers are
 *    filled with 0xAA before every call, and reserved fields, the bytes of
 *    comm after its NUL, and everything past the kernel's struct or entry
 *    size (size/entry_size larger than the kernel's) must read 0 after;
 *  - new chunks read as zero (read(2) and mmap) after truncate down and
 *    up, punch hole, fallocate, and when their memory was a freed chunk of
 *    another file.
 *
 * Runs as root in the test VM (tools/testing/vm-run).
 */
#define _GNU_SOURCE
#include <grp.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "mpcg_util.h"
#include "../uapi/linux/mpcg.h"

#define NOBODY	65534
#define EXTRA	64	/* bytes past the kernel's struct or entry */

static int drop_to_nobody(void)
{
	return setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	       setresuid(NOBODY, NOBODY, NOBODY);
}

struct ctx {
	char dir[64];
	char path[PATH_MAX];
};

/* Child as nobody: /dev/mpcg; returns 0 if refused with EACCES/EPERM. */
static int nobody_dev(void *arg)
{
	int fd;

	(void)arg;
	if (drop_to_nobody())
		return 100;
	fd = open("/dev/mpcg", O_RDONLY);
	if (fd >= 0)
		return 1;
	if (errno != EACCES && errno != EPERM)
		return 2;
	fd = open("/dev/mpcg", O_RDWR);
	if (fd >= 0)
		return 3;
	return errno == EACCES || errno == EPERM ? 0 : 4;
}

TEST(dev_mpcg_refused)
{
	ASSERT_EQ(0, cg_run(NULL, nobody_dev, NULL));
}

static int nobody_private(void *arg)
{
	struct ctx *c = arg;
	int fd;

	if (drop_to_nobody())
		return 100;
	fd = open(c->path, O_RDONLY);
	if (fd >= 0)
		return 1;
	if (errno != EACCES)
		return 2;
	fd = open(c->path, O_PATH);	/* no ioctl through an O_PATH fd */
	if (fd >= 0) {
		struct mpcg_region_stat st;

		if (mpcg_region_get_stat(fd, &st) == 0)
			return 3;
		close(fd);
	}
	return 0;
}

TEST(private_region_unreadable)
{
	struct ctx c;
	int fd;

	ASSERT_EQ(0, mpcg_mount(c.dir, sizeof(c.dir), "mode=0755"));
	path_join(c.path, sizeof(c.path), c.dir, "private");
	fd = open(c.path, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fchmod(fd, 0600));
	ASSERT_EQ(0, ftruncate(fd, 1 * MiB));
	EXPECT_EQ(0, cg_run(NULL, nobody_private, &c));
	close(fd);
	mpcg_umount(c.dir);
}

/* Child as nobody: a 0644 root file: stat yes, set policy EPERM. */
static int nobody_not_owner(void *arg)
{
	struct ctx *c = arg;
	struct mpcg_region_stat st;
	int fd;

	if (drop_to_nobody())
		return 100;
	fd = open(c->path, O_RDONLY);
	if (fd < 0)
		return 1;
	if (mpcg_region_get_stat(fd, &st))
		return 2;
	if (mpcg_region_set_policy(fd, MPCG_POLICY_EQUAL) == 0)
		return 3;
	if (errno != EPERM)
		return 4;
	return 0;
}

TEST(policy_needs_owner)
{
	struct mpcg_region_stat st;
	struct ctx c;
	int fd;

	ASSERT_EQ(0, mpcg_mount(c.dir, sizeof(c.dir), "mode=0755,policy=proportional"));
	path_join(c.path, sizeof(c.path), c.dir, "shared");
	fd = open(c.path, O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fchmod(fd, 0644));
	EXPECT_EQ(0, cg_run(NULL, nobody_not_owner, &c));
	ASSERT_EQ(0, mpcg_region_get_stat(fd, &st));
	EXPECT_EQ(MPCG_POLICY_PROPORTIONAL, st.policy);
	close(fd);
	mpcg_umount(c.dir);
}

/* Child as nobody on a 1777 mount: its own file, its own policy. */
static int nobody_owner(void *arg)
{
	struct ctx *c = arg;
	struct mpcg_region_stat st;
	int fd;

	if (drop_to_nobody())
		return 100;
	fd = open(c->path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return 1;
	if (mpcg_region_set_policy(fd, MPCG_POLICY_OWNER))
		return 2;
	if (mpcg_region_get_stat(fd, &st) || st.policy != MPCG_POLICY_OWNER)
		return 3;
	return 0;
}

TEST(owner_sets_policy)
{
	struct ctx c;
	struct stat sb;

	ASSERT_EQ(0, mpcg_mount(c.dir, sizeof(c.dir), "mode=1777"));
	path_join(c.path, sizeof(c.path), c.dir, "mine");
	EXPECT_EQ(0, cg_run(NULL, nobody_owner, &c));
	ASSERT_EQ(0, stat(c.path, &sb));
	EXPECT_EQ(NOBODY, sb.st_uid);
	mpcg_umount(c.dir);
}

/* ---- no uninitialised bytes ---- */

static int all_zero(const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Bytes of a NUL-terminated fixed array after the NUL must be 0. */
static int comm_clean(const __u8 *comm, size_t len)
{
	size_t n = strnlen((const char *)comm, len);

	return n < len && all_zero(comm + n, len - n);
}

static char *aa_buf(size_t len)
{
	char *b = malloc(len);

	if (b)
		memset(b, 0xAA, len);
	return b;
}

/* A table ioctl with entry_size = kernel's + EXTRA; entries back in *out. */
static long table_call(int fd, unsigned long cmd, size_t esz, char **out)
{
	struct {
		struct mpcg_table t;
		char tail[EXTRA];
	} a;
	size_t cap = 256;
	char *buf = aa_buf(cap * (esz + EXTRA));

	memset(&a, 0xAA, sizeof(a));
	memset(a.tail, 0, sizeof(a.tail));	/* input tail must be 0 */
	a.t.size = sizeof(a);
	a.t.flags = 0;
	a.t.entry_size = esz + EXTRA;
	a.t.count = cap;
	a.t.entries = (uintptr_t)buf;
	if (ioctl(fd, cmd, &a)) {
		free(buf);
		return -1;
	}
	if (!all_zero(a.tail, sizeof(a.tail)))
		return -2;
	*out = buf;
	return a.t.count;
}

TEST(no_uninitialised_bytes)
{
	char dir[64], path[PATH_MAX], cg[PATH_MAX], *tab;
	struct mpcg_region_stat *st;
	long n, i;
	char *map, *sbuf;
	int fd, dev, cgfd;

	ASSERT_EQ(0, mpcg_mount(dir, sizeof(dir), "chunk=64k"));
	ASSERT_EQ(0, cg_create(cg, sizeof(cg), "leak"));
	ASSERT_EQ(0, cg_enter(cg));
	path_join(path, sizeof(path), dir, "f");
	fd = open(path, O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 1 * MiB));
	ASSERT_EQ(1, pwrite(fd, "x", 1, 0));	/* makes the file an attachment */
	map = mmap(NULL, 1 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	for (i = 0; i < 1 * MiB; i += 4096)
		map[i] = 1;

	/* region stat, with a larger size: the tail is zeroed */
	sbuf = aa_buf(sizeof(*st) + EXTRA);
	st = (void *)sbuf;
	st->size = sizeof(*st) + EXTRA;
	st->flags = 0;
	ASSERT_EQ(0, ioctl(fd, MPCG_IOC_REGION_STAT, st));
	EXPECT_TRUE(all_zero(sbuf + sizeof(*st), EXTRA));
	EXPECT_EQ(sizeof(*st), st->size);	/* what it filled */
	EXPECT_EQ(0, st->reserved);
	EXPECT_EQ(1 * MiB, st->resident_bytes);
	free(sbuf);

	/* reassess: reserved stays 0, nothing past the struct is written */
	{
		struct { struct mpcg_reassess r; char tail[EXTRA]; } ra;

		memset(&ra, 0xAA, sizeof(ra));
		memset(ra.tail, 0, sizeof(ra.tail));
		ra.r.size = sizeof(ra);
		ra.r.flags = 0;
		ra.r.reserved = 0;
		ASSERT_EQ(0, ioctl(fd, MPCG_IOC_REASSESS, &ra));
		EXPECT_EQ(0, ra.r.reserved);
		EXPECT_TRUE(all_zero(ra.tail, sizeof(ra.tail)));
	}

	/* members */
	n = table_call(fd, MPCG_IOC_MEMBERS, sizeof(struct mpcg_member_info), &tab);
	ASSERT_LE(1, n);
	for (i = 0; i < n; i++) {
		struct mpcg_member_info *m = (void *)(tab + i * (sizeof(*m) + EXTRA));

		EXPECT_EQ(0, m->reserved);
		EXPECT_TRUE(all_zero(m + 1, EXTRA));
	}
	free(tab);

	/* attachments: the open file and the mapping */
	n = table_call(fd, MPCG_IOC_ATTACHMENTS, sizeof(struct mpcg_attachment_info), &tab);
	ASSERT_LE(2, n);
	for (i = 0; i < n; i++) {
		struct mpcg_attachment_info *a = (void *)(tab + i * (sizeof(*a) + EXTRA));

		EXPECT_TRUE(comm_clean(a->comm, sizeof(a->comm)));
		if (a->kind == MPCG_ATTACH_FILE)
			EXPECT_TRUE(a->offset == 0 && a->length == 0);
		EXPECT_TRUE(all_zero(a + 1, EXTRA));
	}
	free(tab);

	/* chunks */
	n = table_call(fd, MPCG_IOC_CHUNKS, sizeof(struct mpcg_chunk_info), &tab);
	ASSERT_EQ(16, n);
	for (i = 0; i < n; i++) {
		struct mpcg_chunk_info *c = (void *)(tab + i * (sizeof(*c) + EXTRA));

		EXPECT_EQ(0, c->flags);
		EXPECT_TRUE(all_zero(c + 1, EXTRA));
	}
	free(tab);

	/* list regions */
	dev = open("/dev/mpcg", O_RDONLY);
	ASSERT_LE(0, dev);
	n = table_call(dev, MPCG_IOC_LIST_REGIONS, sizeof(struct mpcg_region_stat), &tab);
	ASSERT_LE(1, n);
	for (i = 0; i < n; i++) {
		struct mpcg_region_stat *r = (void *)(tab + i * (sizeof(*r) + EXTRA));

		EXPECT_EQ(sizeof(*r), r->size);
		EXPECT_EQ(0, r->flags);
		EXPECT_EQ(0, r->reserved);
		EXPECT_TRUE(all_zero(r + 1, EXTRA));
	}
	free(tab);

	/* cgroup usage */
	cgfd = open(cg, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, cgfd);
	{
		struct { struct mpcg_cgroup_usage u; char tail[EXTRA]; } ua;
		size_t esz = sizeof(struct mpcg_member_info) + EXTRA;
		char *ents = aa_buf(16 * esz);

		memset(&ua, 0xAA, sizeof(ua));
		memset(ua.tail, 0, sizeof(ua.tail));
		ua.u.table.size = sizeof(ua);
		ua.u.table.flags = 0;
		ua.u.cgroup_fd = cgfd;
		ua.u.table.entry_size = esz;
		ua.u.table.count = 16;
		ua.u.reserved = 0;
		ua.u.table.entries = (uintptr_t)ents;
		ASSERT_EQ(0, ioctl(dev, MPCG_IOC_CGROUP_USAGE, &ua));
		EXPECT_EQ(0, ua.u.reserved);
		EXPECT_TRUE(all_zero(ua.tail, sizeof(ua.tail)));
		EXPECT_EQ(1, ua.u.table.count);
		for (i = 0; i < ua.u.table.count; i++) {
			struct mpcg_member_info *m = (void *)(ents + i * esz);

			EXPECT_EQ(0, m->reserved);
			EXPECT_TRUE(all_zero(m + 1, EXTRA));
		}
		free(ents);
	}
	close(cgfd);
	close(dev);
	munmap(map, 1 * MiB);
	close(fd);
	mpcg_umount(dir);
	ASSERT_EQ(0, cg_enter(CGROUP_ROOT));
	cg_parent_remove();
}

/* ---- new chunks read as zero ---- */

static int zero_at(int fd, off_t off, size_t len)
{
	char *buf = malloc(len), *m;
	int ok;

	if (!buf || pread(fd, buf, len, off) != (ssize_t)len) {
		free(buf);
		return 0;
	}
	ok = all_zero(buf, len);
	free(buf);
	/* and through a mapping (from the page that holds @off) */
	m = mmap(NULL, len + (off & 4095), PROT_READ, MAP_SHARED, fd,
		 off & ~4095L);
	if (m == MAP_FAILED)
		return 0;
	ok = ok && all_zero(m + (off & 4095), len);
	munmap(m, len + (off & 4095));
	return ok;
}

static void fill(int fd, off_t off, size_t len, int c)
{
	char *buf = malloc(len);

	memset(buf, c, len);
	if (pwrite(fd, buf, len, off) != (ssize_t)len)
		abort();
	free(buf);
}

TEST(new_chunks_zero)
{
	char dir[64], path[PATH_MAX];
	const size_t sz = 4 * MiB;
	int fd, round;

	ASSERT_EQ(0, mpcg_mount(dir, sizeof(dir), "chunk=64k"));
	path_join(path, sizeof(path), dir, "z");
	fd = open(path, O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);

	/* truncate down and up */
	fill(fd, 0, sz, 0x5a);
	ASSERT_EQ(0, ftruncate(fd, 100 * KiB + 123));
	ASSERT_EQ(0, ftruncate(fd, sz));
	EXPECT_TRUE(zero_at(fd, 100 * KiB + 123, 4096 - 123));	/* partial page */
	EXPECT_TRUE(zero_at(fd, 128 * KiB, sz - 128 * KiB));

	/* punch hole */
	fill(fd, 0, sz, 0x5b);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       1 * MiB, 1 * MiB));
	EXPECT_TRUE(zero_at(fd, 1 * MiB, 1 * MiB));

	/* fallocate the hole back */
	ASSERT_EQ(0, fallocate(fd, 0, 1 * MiB, 1 * MiB));
	EXPECT_TRUE(zero_at(fd, 1 * MiB, 1 * MiB));
	ASSERT_EQ(0, fallocate(fd, 0, sz, 1 * MiB));
	EXPECT_TRUE(zero_at(fd, sz, 1 * MiB));
	close(fd);

	/* memory of freed chunks reused by another file */
	for (round = 0; round < 4; round++) {
		char p2[PATH_MAX + 8];

		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		ASSERT_LE(0, fd);
		fill(fd, 0, sz, 0xa5);
		close(fd);
		ASSERT_EQ(0, unlink(path));
		snprintf(p2, sizeof(p2), "%s.%d", path, round);
		fd = open(p2, O_RDWR | O_CREAT, 0644);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ftruncate(fd, sz));
		EXPECT_TRUE(zero_at(fd, 0, sz));
		/* a write of one byte per chunk must not reveal the rest */
		{
			off_t o;

			for (o = 0; o < (off_t)sz; o += 64 * KiB)
				fill(fd, o + 7, 1, 1);
			for (o = 0; o < (off_t)sz; o += 64 * KiB)
				EXPECT_TRUE(zero_at(fd, o + 4096, 60 * KiB));
		}
		close(fd);
		unlink(p2);
	}
	mpcg_umount(dir);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg control interface selftests: what the ioctls of uapi/linux/mpcg.h
 * do with bad input (sizes, flags, reserved fields, short tables, bad
 * pointers, file descriptors of the wrong kind, unprivileged callers), and
 * that a refused call changes nothing: the region's statistics and tables
 * are compared before and after each test.  Also what /dev/mpcg reports.
 *
 * The region: a (a worker in cgroup a) creates and writes a 4 MiB file f,
 * b maps and reads it all, then it is reassessed; a also writes 1 MiB of a
 * second file g.  Cgroup c uses no region.
 *
 * Runs as root in the test VM (tools/testing/vm-run).  To run only some
 * tests: MPCG_TESTS="word ...".
 */
#define _GNU_SOURCE
#include <grp.h>
#include <linux/capability.h>
#include <stddef.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "mpcg_util.h"
#include "../uapi/linux/mpcg.h"

#define NOBODY	65534

FIXTURE(abi) {
	char dir[64];
	char path[PATH_MAX];	/* f */
	char path_g[PATH_MAX];	/* g */
	int fd;			/* f, ioctls only */
	int dev;		/* /dev/mpcg */
	long old_auto;
	int changes;		/* the test changes the region on purpose */
	struct mpcg_cg *a, *b, *c;
	struct mpcg_worker wa, wb;
	struct mpcg_snap before;
};

static void abi_cleanup(FIXTURE_DATA(abi) *self)
{
	mpcg_snap_free(&self->before);
	mpcg_kill_all();
	if (self->fd >= 0)
		close(self->fd);
	if (self->dev >= 0)
		close(self->dev);
	self->fd = self->dev = -1;
	mpcg_engine_teardown(self->dir, &self->old_auto);
}

/* The harness runs no teardown after a failed setup: clean up first. */
#define SETUP_ASSERT(cond, ...) do {					\
		if (!(cond)) {						\
			TH_LOG("setup: " __VA_ARGS__);			\
			abi_cleanup(self);				\
			ASSERT_TRUE(cond);				\
		}							\
	} while (0)

FIXTURE_SETUP(abi)
{
	int fd;

	self->fd = self->dev = -1;
	self->old_auto = -1;
	if (!mpcg_test_selected(_metadata->name))
		SKIP(_exit(255), "not in MPCG_TESTS");
	self->old_auto = mpcg_engine_setup(&self->a, &self->b, &self->c);
	ASSERT_LE(0, self->old_auto)	/* (it cleaned up after itself) */
		TH_LOG("cgroups a, b, c and " MPCG_PARAMS "auto_reassess_ms: %s",
		       strerror(errno));
	SETUP_ASSERT(!mpcg_mount(self->dir, sizeof(self->dir),
				 "size=64M,chunk=1M"), "mount: %s",
		     strerror(errno));
	path_join(self->path, sizeof(self->path), self->dir, "f");
	path_join(self->path_g, sizeof(self->path_g), self->dir, "g");
	SETUP_ASSERT(!mpcg_worker_start(&self->wa, self->a->path, "wa"), "wa");
	SETUP_ASSERT(!mpcg_worker_start(&self->wb, self->b->path, "wb"), "wb");
	SETUP_ASSERT(w_map_file(&self->wa, self->path, 4 * MiB, 4 * MiB, W_WRITE),
		     "a maps f: %s", strerror(errno));
	SETUP_ASSERT(w_map_file(&self->wb, self->path, 0, 4 * MiB, W_READ),
		     "b maps f: %s", strerror(errno));
	fd = w_open(&self->wa, self->path_g, O_RDWR | O_CREAT | O_EXCL);
	SETUP_ASSERT(fd >= 0, "g: %s", strerror(errno));
	SETUP_ASSERT(!mpcg_worker_cmd(&self->wa, W_PWRITE, fd, 0, 1 * MiB, 1, 0, NULL),
		     "write g: %s", strerror(errno));
	self->fd = open(self->path, O_RDONLY);
	SETUP_ASSERT(self->fd >= 0, "open f: %s", strerror(errno));
	SETUP_ASSERT(!mpcg_reassess_check(self->fd, 0, NULL, NULL),
		     "reassess: %s", strerror(errno));
	self->dev = open("/dev/mpcg", O_RDONLY);
	SETUP_ASSERT(self->dev >= 0, "/dev/mpcg: %s", strerror(errno));
	SETUP_ASSERT(!mpcg_snap_take(self->fd, &self->before), "snapshot: %s",
		     strerror(errno));
	SETUP_ASSERT(self->before.nm == 2 && self->before.na == 2 &&
		     self->before.nc == 4, "%ld members, %ld attachments, %ld chunks",
		     self->before.nm, self->before.na, self->before.nc);
}

/* Nothing a refused call did shows in the region's statistics or tables. */
static int snap_same(const struct mpcg_snap *x, const struct mpcg_snap *y)
{
	int same = 1;

	if (memcmp(&x->st, &y->st, sizeof(x->st))) {
		fprintf(stderr, "# region statistics changed\n");
		same = 0;
	}
	if (x->nm != y->nm || memcmp(x->m, y->m, x->nm * sizeof(*x->m))) {
		fprintf(stderr, "# member table changed\n");
		same = 0;
	}
	if (x->nc != y->nc || memcmp(x->c, y->c, x->nc * sizeof(*x->c)) ||
	    memcmp(x->touched, y->touched, x->nc * sizeof(*x->touched))) {
		fprintf(stderr, "# chunk table changed\n");
		same = 0;
	}
	if (x->na != y->na || memcmp(x->a, y->a, x->na * sizeof(*x->a))) {
		fprintf(stderr, "# attachment table changed\n");
		same = 0;
	}
	if (!same) {
		mpcg_snap_dump("before", x);
		mpcg_snap_dump("after", y);
	}
	return same;
}

FIXTURE_TEARDOWN(abi)
{
	struct mpcg_snap after;

	if (self->before.m && !self->changes) {
		EXPECT_EQ(0, mpcg_snap_take(self->fd, &after));
		EXPECT_TRUE(snap_same(&self->before, &after));
		mpcg_snap_free(&after);
	}
	abi_cleanup(self);
}

/* ioctl() that must fail with @err. */
#define EXPECT_ERR(err, call) do {					\
		errno = 0;						\
		EXPECT_EQ(-1, (call)) TH_LOG("%s succeeded", #call);	\
		EXPECT_EQ(err, errno) TH_LOG("%s: %s, expected %s", #call, \
					     strerror(errno), strerror(err)); \
	} while (0)

/* A page that is mapped but not writable, holding @len bytes of @src. */
static void *ro_copy(const void *src, size_t len)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, src, len);
	mprotect(p, 4096, PROT_READ);
	return p;
}

/* An address with nothing mapped. */
static void *unmapped(void)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	munmap(p, 4096);
	return p;
}

static int all(const void *p, int c, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != c)
			return 0;
	return 1;
}

TEST_F_TIMEOUT(abi, region_stat, 300)
{
	static const unsigned int sizes[] = {
		0, 4, 8, MPCG_REGION_STAT_SIZE_VER0 - 8,
		MPCG_REGION_STAT_SIZE_VER0 - 1,
	};
	static const unsigned int flags[] = { 1, 2, 0x80000000 };
	struct {
		struct mpcg_region_stat st;
		__u64 tail[4];
	} big;
	struct mpcg_region_stat st, ref;
	unsigned int i;
	void *ro;

	ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &ref));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(&st, 0, sizeof(st));
		st.size = sizes[i];
		EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_REGION_STAT, &st));
		TH_LOG("size %u", sizes[i]);
	}
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		memset(&st, 0, sizeof(st));
		st.size = sizeof(st);
		st.flags = flags[i];
		EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_REGION_STAT, &st));
	}
	/* A newer caller's bigger struct, zeroed. */
	memset(&big, 0, sizeof(big));
	big.st.size = sizeof(big);
	EXPECT_EQ(0, ioctl(self->fd, MPCG_IOC_REGION_STAT, &big))
		TH_LOG("bigger struct: %s", strerror(errno));
	EXPECT_TRUE(all(big.tail, 0, sizeof(big.tail)));
	EXPECT_EQ(0, memcmp((char *)&big.st + 8, (char *)&ref + 8,
			    sizeof(ref) - 8));
	/*
	 * Not zeroed: struct mpcg_region_stat is an output struct, whose
	 * unknown part the kernel zeroes (uapi/linux/mpcg.h); only input
	 * structs must have it zero.
	 */
	memset(&big, 0xa5, sizeof(big));
	big.st.size = sizeof(big);
	big.st.flags = 0;
	EXPECT_EQ(0, ioctl(self->fd, MPCG_IOC_REGION_STAT, &big))
		TH_LOG("output struct with a nonzero unknown tail: %s",
		       strerror(errno));
	EXPECT_TRUE(all(big.tail, 0, sizeof(big.tail)));
	/* Commands are matched in full: another size, direction: no command. */
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	EXPECT_ERR(ENOTTY, ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE,
						 MPCG_IOC_MAGIC, 0x01, 16), &st));
	EXPECT_ERR(ENOTTY, ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE,
						 MPCG_IOC_MAGIC, 0x01,
						 sizeof(st)), &st));
	EXPECT_ERR(ENOTTY, ioctl(self->fd, _IOC(_IOC_READ, MPCG_IOC_MAGIC, 0x01,
						 MPCG_REGION_STAT_SIZE_VER0), &st));
	EXPECT_EQ(0, ioctl(self->fd, MPCG_IOC_REGION_STAT, &st));
	EXPECT_EQ(ref.ino, st.ino);
	EXPECT_EQ(sizeof(st), st.size);	/* the size it filled */
	/* Bad pointers. */
	EXPECT_ERR(EFAULT, ioctl(self->fd, MPCG_IOC_REGION_STAT, NULL));
	EXPECT_ERR(EFAULT, ioctl(self->fd, MPCG_IOC_REGION_STAT, unmapped()));
	ro = ro_copy(&st, sizeof(st));
	ASSERT_NE(NULL, ro);
	EXPECT_ERR(EFAULT, ioctl(self->fd, MPCG_IOC_REGION_STAT, ro));
	munmap(ro, 4096);
	/* An unknown command. */
	EXPECT_ERR(ENOTTY, ioctl(self->fd, _IOWR(MPCG_IOC_MAGIC, 0x7f, st), &st));
}

/* The table of @cmd read by libmpcg: what the raw calls must return. */
static ssize_t lib_table(int fd, unsigned long cmd, char **ref)
{
	struct mpcg_member_info *m = NULL;
	struct mpcg_attachment_info *a = NULL;
	struct mpcg_chunk_info *c = NULL;
	struct mpcg_region_stat *ri = NULL;
	ssize_t n;

	switch (cmd) {
	case MPCG_IOC_MEMBERS:
		n = mpcg_region_members(fd, &m);
		*ref = (char *)m;
		break;
	case MPCG_IOC_ATTACHMENTS:
		n = mpcg_region_attachments(fd, &a);
		*ref = (char *)a;
		break;
	case MPCG_IOC_CHUNKS:
		n = mpcg_region_chunks(fd, 0, &c);
		*ref = (char *)c;
		break;
	case MPCG_IOC_LIST_REGIONS:
		n = mpcg_ctl_regions(fd, &ri);
		*ref = (char *)ri;
		break;
	default:
		n = -EINVAL;
	}
	return n;
}

/*
 * The conventions every table ioctl follows, on @fd with command @cmd, a
 * request of @rsize bytes (struct mpcg_table, or a bigger request that
 * starts with it: its other fields are left 0) and entries of @esize bytes
 * (@size0 in their first version).  There must be at least one entry.
 */
static void check_table(struct __test_metadata *_metadata, int fd,
			unsigned long cmd, size_t rsize, size_t esize,
			size_t size0, const char *name)
{
	struct {
		struct mpcg_chunk_query q;	/* the biggest request */
		__u64 tail[2];
	} big;
	struct mpcg_chunk_query rq;
	char *ref = NULL, *buf, *ro;
	long n, i;

	TH_LOG("table %s", name);
	n = lib_table(fd, cmd, &ref);
	ASSERT_LE(1, n) TH_LOG("%s: %s", name, strerror(n < 0 ? -n : 0));
	buf = malloc((n + 1) * (esize + 16));
	ASSERT_NE(NULL, buf);

#define TABLE(cap, ptr) do {						\
		memset(&rq, 0, sizeof(rq));				\
		rq.table.size = rsize;					\
		rq.table.entry_size = esize;					\
		rq.table.count = (cap);					\
		rq.table.entries = (uintptr_t)(ptr);				\
	} while (0)

	/* Too small: ERANGE, the count needed, nothing written. */
	memset(buf, 0x5a, (n + 1) * esize);
	TABLE(n - 1, buf);
	EXPECT_ERR(ERANGE, ioctl(fd, cmd, &rq));
	EXPECT_EQ(n, rq.table.count);
	EXPECT_TRUE(all(buf, 0x5a, (n + 1) * esize)) TH_LOG("written into");
	TABLE(0, NULL);
	EXPECT_ERR(ERANGE, ioctl(fd, cmd, &rq));
	EXPECT_EQ(n, rq.table.count);

	/* Exactly big enough. */
	memset(buf, 0x5a, (n + 1) * esize);
	TABLE(n, buf);
	EXPECT_EQ(0, ioctl(fd, cmd, &rq));
	EXPECT_EQ(n, rq.table.count);
	EXPECT_EQ(0, memcmp(buf, ref, n * esize));
	EXPECT_TRUE(all(buf + n * esize, 0x5a, esize)) TH_LOG("written past the end");

	/* Sizes, flags. */
	TABLE(n, buf);
	rq.table.size = 0;
	EXPECT_ERR(EINVAL, ioctl(fd, cmd, &rq));
	rq.table.size = offsetof(struct mpcg_table, entries);
	EXPECT_ERR(EINVAL, ioctl(fd, cmd, &rq));
	rq.table.size = rsize - 1;
	EXPECT_ERR(EINVAL, ioctl(fd, cmd, &rq));
	TABLE(n, buf);
	rq.table.flags = 1;
	EXPECT_ERR(EINVAL, ioctl(fd, cmd, &rq));
	TABLE(n, buf);
	rq.table.flags = 0x80000000;
	EXPECT_ERR(EINVAL, ioctl(fd, cmd, &rq));
	TABLE(n, buf);
	rq.table.entry_size = 0;
	EXPECT_ERR(EINVAL, ioctl(fd, cmd, &rq));
	TABLE(n, buf);
	rq.table.entry_size = 8;
	EXPECT_ERR(EINVAL, ioctl(fd, cmd, &rq));
	TABLE(n, buf);
	rq.table.entry_size = size0 - 4;
	EXPECT_ERR(EINVAL, ioctl(fd, cmd, &rq));

	/* Bigger entries: same content, the rest zeroed. */
	memset(buf, 0xa5, n * (esize + 16));
	TABLE(n, buf);
	rq.table.entry_size = esize + 16;
	EXPECT_EQ(0, ioctl(fd, cmd, &rq)) TH_LOG("entry_size %zu: %s",
					       esize + 16, strerror(errno));
	EXPECT_EQ(n, rq.table.count);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(0, memcmp(buf + i * (esize + 16), ref + i * esize,
				    esize)) TH_LOG("entry %ld", i);
		EXPECT_TRUE(all(buf + i * (esize + 16) + esize, 0, 16))
			TH_LOG("entry %ld: tail not zeroed", i);
	}

	/* A bigger struct mpcg_table: its unknown tail must be zero. */
	memset(&big, 0, sizeof(big));
	big.q.table.size = sizeof(big);
	big.q.table.entry_size = esize;
	big.q.table.count = n;
	big.q.table.entries = (uintptr_t)buf;
	EXPECT_EQ(0, ioctl(fd, cmd, &big)) TH_LOG("%s", strerror(errno));
	big.tail[1] = 1;
	EXPECT_ERR(E2BIG, ioctl(fd, cmd, &big));

	/* Bad pointers. */
	TABLE(n, NULL);
	EXPECT_ERR(EFAULT, ioctl(fd, cmd, &rq));
	TABLE(n, unmapped());
	EXPECT_ERR(EFAULT, ioctl(fd, cmd, &rq));
	ro = mmap(NULL, 4096 + n * esize, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		  -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	TABLE(n, ro);
	EXPECT_ERR(EFAULT, ioctl(fd, cmd, &rq));
	munmap(ro, 4096 + n * esize);
	EXPECT_ERR(EFAULT, ioctl(fd, cmd, NULL));
	TABLE(n, buf);
	ro = ro_copy(&rq, sizeof(rq));
	ASSERT_NE(NULL, ro);
	EXPECT_ERR(EFAULT, ioctl(fd, cmd, ro));	/* count cannot be written */
	munmap(ro, 4096);
#undef TABLE
	free(buf);
	free(ref);
}

TEST_F_TIMEOUT(abi, tables, 300)
{
	check_table(_metadata, self->fd, MPCG_IOC_MEMBERS, MPCG_TABLE_SIZE_VER0,
		    sizeof(struct mpcg_member_info), MPCG_MEMBER_INFO_SIZE_VER0,
		    "members");
	check_table(_metadata, self->fd, MPCG_IOC_ATTACHMENTS,
		    MPCG_TABLE_SIZE_VER0, sizeof(struct mpcg_attachment_info),
		    MPCG_ATTACHMENT_INFO_SIZE_VER0, "attachments");
	check_table(_metadata, self->fd, MPCG_IOC_CHUNKS,
		    MPCG_CHUNK_QUERY_SIZE_VER0, sizeof(struct mpcg_chunk_info),
		    MPCG_CHUNK_INFO_SIZE_VER0, "chunks");
	check_table(_metadata, self->dev, MPCG_IOC_LIST_REGIONS,
		    MPCG_TABLE_SIZE_VER0, sizeof(struct mpcg_region_stat),
		    MPCG_REGION_STAT_SIZE_VER0, "regions");
}

TEST_F_TIMEOUT(abi, set_policy_args, 300)
{
	struct {
		struct mpcg_set_policy sp;
		__u64 tail[2];
	} big;
	struct mpcg_set_policy sp;

#define SP(pol) do {							\
		memset(&sp, 0, sizeof(sp));				\
		sp.size = sizeof(sp);					\
		sp.policy = (pol);					\
	} while (0)
	SP(MPCG_POLICY_EQUAL);
	sp.size = 0;
	EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_SET_POLICY, &sp));
	sp.size = sizeof(sp) - 4;
	EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_SET_POLICY, &sp));
	SP(MPCG_POLICY_EQUAL);
	sp.flags = 1;
	EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_SET_POLICY, &sp));
	SP(MPCG_POLICY_EQUAL);
	sp.reserved = 1;
	EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_SET_POLICY, &sp));
	SP(MPCG_NR_POLICIES);
	EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_SET_POLICY, &sp));
	SP(1000);
	EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_SET_POLICY, &sp));
	SP(~0U);
	EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_SET_POLICY, &sp));
	/* An unknown, nonzero tail. */
	memset(&big, 0, sizeof(big));
	big.sp.size = sizeof(big);
	big.sp.policy = MPCG_POLICY_EQUAL;
	big.tail[0] = 1;
	EXPECT_ERR(E2BIG, ioctl(self->fd, MPCG_IOC_SET_POLICY, &big));
	/* Bad pointers. */
	EXPECT_ERR(EFAULT, ioctl(self->fd, MPCG_IOC_SET_POLICY, NULL));
	EXPECT_ERR(EFAULT, ioctl(self->fd, MPCG_IOC_SET_POLICY, unmapped()));
#undef SP
}

static int drop_to_nobody(void)
{
	return setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	       setresuid(NOBODY, NOBODY, NOBODY);
}

/* Keep uid 0, lose CAP_FOWNER. */
static int drop_fowner(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[0].effective &= ~(1U << CAP_FOWNER);
	d[0].permitted &= ~(1U << CAP_FOWNER);
	return syscall(SYS_capset, &h, d);
}

struct policy_try {
	int fd;
	const char *path;
	int as_nobody;
	int policy;
};

/* Child: set the policy as nobody or as root without CAP_FOWNER; errno. */
static int try_set_policy(void *arg)
{
	struct policy_try *p = arg;
	struct mpcg_region_stat st;
	int fd;

	if (p->as_nobody ? drop_to_nobody() : drop_fowner())
		return 100;
	/* Anyone who can open it reads its statistics. */
	fd = open(p->path, O_RDONLY);
	if (fd < 0 || mpcg_region_get_stat(fd, &st))
		return 101;
	if (mpcg_region_set_policy(p->fd, p->policy) == 0)
		return 0;
	return errno;
}

TEST_F_TIMEOUT(abi, set_policy_permission, 300)
{
	struct policy_try p = { .fd = self->fd, .path = self->path };
	struct mpcg_region_stat st;

	/* Neither the file's owner nor CAP_FOWNER: EPERM. */
	p.as_nobody = 1;
	p.policy = MPCG_POLICY_EQUAL;
	EXPECT_EQ(EPERM, cg_run(NULL, try_set_policy, &p));
	ASSERT_EQ(0, chown(self->path, NOBODY, NOBODY));
	p.as_nobody = 0;
	EXPECT_EQ(EPERM, cg_run(NULL, try_set_policy, &p));
	ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &st));
	EXPECT_EQ(self->before.st.policy, st.policy);
	EXPECT_EQ(MPCG_STATE_ASSESSED, st.state);
	ASSERT_EQ(0, chown(self->path, 0, 0));
	/* That was all refused; what follows changes the region. */
	{
		struct mpcg_snap after;

		ASSERT_EQ(0, mpcg_snap_take(self->fd, &after));
		st = after.st;
		/* chown changes nothing the ioctls show */
		EXPECT_TRUE(snap_same(&self->before, &after));
		mpcg_snap_free(&after);
	}
	self->changes = 1;

	/* The file's owner may. */
	ASSERT_EQ(0, chown(self->path, NOBODY, NOBODY));
	p.as_nobody = 1;
	EXPECT_EQ(0, cg_run(NULL, try_set_policy, &p));
	ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &st));
	EXPECT_EQ(MPCG_POLICY_EQUAL, st.policy);
	EXPECT_EQ(MPCG_STATE_PENDING, st.state);
	/* So does CAP_FOWNER (root, not the owner). */
	EXPECT_EQ(0, mpcg_region_set_policy(self->fd, MPCG_POLICY_OWNER));
	ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &st));
	EXPECT_EQ(MPCG_POLICY_OWNER, st.policy);
	EXPECT_EQ(0, mpcg_reassess_check(self->fd, 0, NULL, NULL));
}

TEST_F_TIMEOUT(abi, reassess_args, 300)
{
	struct mpcg_reassess r;

#define RA() do {							\
		memset(&r, 0, sizeof(r));				\
		r.size = sizeof(r);					\
	} while (0)
	RA();
	r.size = 0;
	EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_REASSESS, &r));
	r.size = sizeof(r) - 8;
	EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_REASSESS, &r));
	RA();
	r.flags = 1;
	EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_REASSESS, &r));
	RA();
	r.reserved = 1;
	EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_REASSESS, &r));
	EXPECT_ERR(EFAULT, ioctl(self->fd, MPCG_IOC_REASSESS, NULL));
	EXPECT_ERR(EFAULT, ioctl(self->fd, MPCG_IOC_REASSESS, unmapped()));
#undef RA
}

/*
 * A bigger struct mpcg_reassess: a zero tail is fine.  A nonzero one is an
 * unknown input (E2BIG) or an output to zero: either, consistently.
 */
TEST_F_TIMEOUT(abi, reassess_bigger_struct, 300)
{
	struct {
		struct mpcg_reassess r;
		__u64 tail[2];
	} big;
	struct mpcg_region_stat st;
	int ret;

	self->changes = 1;
	memset(&big, 0, sizeof(big));
	big.r.size = sizeof(big);
	EXPECT_EQ(0, ioctl(self->fd, MPCG_IOC_REASSESS, &big))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(MPCG_STATE_ASSESSED, big.r.state);
	EXPECT_EQ(0, big.r.chunks_moved);
	EXPECT_TRUE(all(big.tail, 0, sizeof(big.tail)));
	ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &st));
	EXPECT_EQ(self->before.st.reassessments + 1, st.reassessments);

	memset(&big, 0, sizeof(big));
	big.r.size = sizeof(big);
	big.tail[0] = 7;
	ret = ioctl(self->fd, MPCG_IOC_REASSESS, &big);
	if (ret) {
		EXPECT_EQ(E2BIG, errno) TH_LOG("%s", strerror(errno));
		ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &st));
		EXPECT_EQ(self->before.st.reassessments + 1, st.reassessments);
	} else {
		EXPECT_EQ(0, big.tail[0]) TH_LOG("accepted, tail not zeroed");
	}
}

TEST_F_TIMEOUT(abi, not_a_region, 300)
{
	struct mpcg_region_stat st = { .size = sizeof(st) };
	struct mpcg_cgroup_usage u = { .table.size = sizeof(u) };
	struct mpcg_reassess r = { .size = sizeof(r) };
	struct mpcg_table t = { .size = sizeof(t) };
	struct mpcg_chunk_query q = { .table.size = sizeof(q) };
	int fds[3], i;

	fds[0] = self->dev;
	fds[1] = open(self->dir, O_RDONLY | O_DIRECTORY);
	fds[2] = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	ASSERT_LE(0, fds[1]);
	ASSERT_LE(0, fds[2]);
	for (i = 0; i < 3; i++) {
		TH_LOG("fd %d", i);
		EXPECT_ERR(ENOTTY, ioctl(fds[i], MPCG_IOC_REGION_STAT, &st));
		EXPECT_ERR(ENOTTY, ioctl(fds[i], MPCG_IOC_MEMBERS, &t));
		EXPECT_ERR(ENOTTY, ioctl(fds[i], MPCG_IOC_ATTACHMENTS, &t));
		EXPECT_ERR(ENOTTY, ioctl(fds[i], MPCG_IOC_CHUNKS, &q));
		EXPECT_ERR(ENOTTY, ioctl(fds[i], MPCG_IOC_REASSESS, &r));
	}
	/* Control ioctls on a region, or on anything but /dev/mpcg. */
	for (i = 1; i < 3; i++) {
		EXPECT_ERR(ENOTTY, ioctl(fds[i], MPCG_IOC_LIST_REGIONS, &t));
		EXPECT_ERR(ENOTTY, ioctl(fds[i], MPCG_IOC_CGROUP_USAGE, &u));
	}
	EXPECT_ERR(ENOTTY, ioctl(self->fd, MPCG_IOC_LIST_REGIONS, &t));
	EXPECT_ERR(ENOTTY, ioctl(self->fd, MPCG_IOC_CGROUP_USAGE, &u));
	EXPECT_ERR(ENOTTY, ioctl(self->dev, _IOWR(MPCG_IOC_MAGIC, 0x7f, t), &t));
	close(fds[1]);
	close(fds[2]);
}

TEST_F_TIMEOUT(abi, list_regions, 300)
{
	struct mpcg_region_stat *ri = NULL;
	const struct mpcg_region_stat *st = &self->before.st;
	struct stat sb;
	long n, i, found = 0;

	ASSERT_EQ(0, fstat(self->fd, &sb));
	n = mpcg_ctl_regions(self->dev, &ri);
	ASSERT_LE(2, n) TH_LOG("%s", strerror(n < 0 ? -n : 0));
	for (i = 0; i < n; i++) {
		if (ri[i].ino != sb.st_ino || ri[i].dev != sb.st_dev)
			continue;
		found++;
		/* The entry is the region's statistics, as the region fd has them. */
		EXPECT_EQ(sizeof(*ri), ri[i].size);
		EXPECT_EQ(0, ri[i].flags);
		EXPECT_EQ(st->dev, ri[i].dev);
		EXPECT_EQ(st->nr_member_entries, ri[i].nr_member_entries);
		EXPECT_EQ(st->reassessments, ri[i].reassessments);
		EXPECT_EQ(st->chunks_moved, ri[i].chunks_moved);
		EXPECT_EQ(st->file_size, ri[i].file_size);
		EXPECT_EQ(st->resident_bytes, ri[i].resident_bytes);
		EXPECT_EQ(st->owner_cgroup_id, ri[i].owner_cgroup_id);
		EXPECT_EQ(st->nr_members, ri[i].nr_members);
		EXPECT_EQ(st->policy, ri[i].policy);
		EXPECT_EQ(st->state, ri[i].state);
		EXPECT_EQ(st->nr_attachments, ri[i].nr_attachments);
		EXPECT_EQ(st->chunk_size, ri[i].chunk_size);
		EXPECT_EQ(st->shortfall_bytes, ri[i].shortfall_bytes);
	}
	EXPECT_EQ(1, found);
	ASSERT_EQ(0, stat(self->path_g, &sb));
	for (i = 0, found = 0; i < n; i++)
		found += ri[i].ino == sb.st_ino && ri[i].dev == sb.st_dev &&
			 ri[i].resident_bytes == 1 * MiB;
	EXPECT_EQ(1, found);
	free(ri);
}

static int usage(int dev, int cgfd, struct mpcg_cgroup_usage *u,
		 struct mpcg_member_info *e, unsigned int cap)
{
	memset(u, 0, sizeof(*u));
	u->table.size = sizeof(*u);
	u->cgroup_fd = cgfd;
	u->table.entry_size = sizeof(*e);
	u->table.count = cap;
	u->table.entries = (uintptr_t)e;
	return ioctl(dev, MPCG_IOC_CGROUP_USAGE, u);
}

TEST_F_TIMEOUT(abi, cgroup_usage, 300)
{
	struct mpcg_member_info e[8], e2[8];
	struct mpcg_cgroup_usage u;
	const struct mpcg_member_info *m;
	__u64 touched = 0, fair = 0, paid = 0, shortfall = 0;
	int cga, cgb, cgc, fd, i, found = 0;
	struct stat sb;

	cga = open(self->a->path, O_RDONLY | O_DIRECTORY);
	cgb = open(self->b->path, O_RDONLY | O_DIRECTORY);
	cgc = open(self->c->path, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, cga);
	ASSERT_LE(0, cgb);
	ASSERT_LE(0, cgc);
	ASSERT_EQ(0, fstat(self->fd, &sb));

	/* a: in f and g. */
	ASSERT_EQ(0, usage(self->dev, cga, &u, e, 8)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(self->a->id, u.cgroup_id);
	ASSERT_EQ(2, u.table.count);
	for (i = 0; i < 2; i++) {
		touched += e[i].touched_bytes;
		fair += e[i].fair_share_bytes;
		paid += e[i].paid_bytes;
		shortfall += e[i].shortfall_bytes;
		if (e[i].ino != sb.st_ino || e[i].dev != sb.st_dev)
			continue;
		found++;
		m = mpcg_snap_member(&self->before, self->a->id);
		ASSERT_NE(NULL, m);
		/* The same entry as the region's member table has. */
		EXPECT_EQ(0, memcmp(m, &e[i], sizeof(*m)));
		EXPECT_EQ(m->flags, e[i].flags);
		EXPECT_EQ(m->nr_attachments, e[i].nr_attachments);
		EXPECT_EQ(m->touched_bytes, e[i].touched_bytes);
		EXPECT_EQ(m->fair_share_bytes, e[i].fair_share_bytes);
		EXPECT_EQ(m->paid_bytes, e[i].paid_bytes);
		EXPECT_EQ(m->shortfall_bytes, e[i].shortfall_bytes);
	}
	EXPECT_EQ(1, found);
	EXPECT_EQ(touched, u.touched_bytes);
	EXPECT_EQ(fair, u.fair_share_bytes);
	EXPECT_EQ(paid, u.paid_bytes);
	EXPECT_EQ(shortfall, u.shortfall_bytes);
	EXPECT_EQ(3 * MiB, (long)u.paid_bytes);	/* 2 of f, 1 of g */

	/* b: in f only; c: in none. */
	ASSERT_EQ(0, usage(self->dev, cgb, &u, e, 8));
	EXPECT_EQ(1, u.table.count);
	EXPECT_EQ(2 * MiB, (long)u.paid_bytes);
	EXPECT_EQ(sb.st_ino, e[0].ino);
	ASSERT_EQ(0, usage(self->dev, cgc, &u, e, 8));
	EXPECT_EQ(self->c->id, u.cgroup_id);
	EXPECT_EQ(0, u.table.count);
	EXPECT_EQ(0, (long)(u.touched_bytes | u.fair_share_bytes | u.paid_bytes |
			    u.shortfall_bytes));
	ASSERT_EQ(0, usage(self->dev, cgc, &u, NULL, 0));

	/* Too small: ERANGE, the count needed, nothing written. */
	memset(e2, 0x5a, sizeof(e2));
	EXPECT_ERR(ERANGE, usage(self->dev, cga, &u, e2, 1));
	EXPECT_EQ(2, u.table.count);
	EXPECT_TRUE(all(e2, 0x5a, sizeof(e2)));
	EXPECT_ERR(ERANGE, usage(self->dev, cga, &u, NULL, 0));
	EXPECT_EQ(2, u.table.count);

	/* Not a cgroup directory. */
	fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	EXPECT_ERR(EBADF, usage(self->dev, fd, &u, e, 8));
	close(fd);
	EXPECT_ERR(EBADF, usage(self->dev, self->fd, &u, e, 8));
	fd = open(CGROUP_ROOT "/cgroup.procs", O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_ERR(EBADF, usage(self->dev, fd, &u, e, 8));
	close(fd);
	EXPECT_ERR(EBADF, usage(self->dev, -1, &u, e, 8));
	EXPECT_ERR(EBADF, usage(self->dev, 1000, &u, e, 8));

	/* Sizes, flags, reserved, entry_size. */
	usage(self->dev, cga, &u, e, 8);
	u.table.size = 8;
	EXPECT_ERR(EINVAL, ioctl(self->dev, MPCG_IOC_CGROUP_USAGE, &u));
	u.table.size = offsetof(struct mpcg_cgroup_usage, cgroup_id);
	EXPECT_ERR(EINVAL, ioctl(self->dev, MPCG_IOC_CGROUP_USAGE, &u));
	u.table.size = MPCG_CGROUP_USAGE_SIZE_VER0 - 1;
	EXPECT_ERR(EINVAL, ioctl(self->dev, MPCG_IOC_CGROUP_USAGE, &u));
	usage(self->dev, cga, &u, e, 8);
	u.table.size = sizeof(u);
	u.table.flags = 1;
	EXPECT_ERR(EINVAL, ioctl(self->dev, MPCG_IOC_CGROUP_USAGE, &u));
	u.table.flags = 0;
	u.reserved = 1;
	EXPECT_ERR(EINVAL, ioctl(self->dev, MPCG_IOC_CGROUP_USAGE, &u));
	u.reserved = 0;
	u.table.entry_size = 8;
	EXPECT_ERR(EINVAL, ioctl(self->dev, MPCG_IOC_CGROUP_USAGE, &u));
	u.table.entry_size = MPCG_MEMBER_INFO_SIZE_VER0 - 8;
	EXPECT_ERR(EINVAL, ioctl(self->dev, MPCG_IOC_CGROUP_USAGE, &u));

	/* Bad pointers. */
	EXPECT_ERR(EFAULT, usage(self->dev, cga, &u, NULL, 8));
	EXPECT_ERR(EFAULT, usage(self->dev, cga, &u, unmapped(), 8));
	EXPECT_ERR(EFAULT, ioctl(self->dev, MPCG_IOC_CGROUP_USAGE, NULL));
	close(cga);
	close(cgb);
	close(cgc);
}

/*
 * Commands of other ioctl types, and mpcg's own of the unversioned 0.1
 * ABI (type 0xB7, which belongs to nsfs): none is an mpcg command.
 * NS_GET_PARENT on an mpcg file once ran the member query.
 */
TEST_F_TIMEOUT(abi, foreign_commands, 300)
{
	static const unsigned long nsfs[] = {
		_IO(0xb7, 0x1),		/* NS_GET_USERNS */
		_IO(0xb7, 0x2),		/* NS_GET_PARENT */
		_IO(0xb7, 0x3),		/* NS_GET_NSTYPE */
		_IO(0xb7, 0x4),		/* NS_GET_OWNER_UID */
	};
	/* 0.1's commands: type 0xB7, sizeof() of its structs. */
	static const unsigned long old[] = {
		_IOC(_IOC_READ | _IOC_WRITE, 0xb7, 0x01, 96),
		_IOC(_IOC_READ | _IOC_WRITE, 0xb7, 0x02, 24),
		_IOC(_IOC_READ | _IOC_WRITE, 0xb7, 0x03, 24),
		_IOC(_IOC_WRITE, 0xb7, 0x04, 16),
		_IOC(_IOC_READ | _IOC_WRITE, 0xb7, 0x05, 40),
		_IOC(_IOC_READ | _IOC_WRITE, 0xb7, 0x06, 24),
		_IOC(_IOC_READ | _IOC_WRITE, 0xb7, 0x10, 24),
		_IOC(_IOC_READ | _IOC_WRITE, 0xb7, 0x11, 72),
	};
	char buf[4096];
	unsigned int i;

	for (i = 0; i < sizeof(nsfs) / sizeof(nsfs[0]); i++) {
		EXPECT_ERR(ENOTTY, ioctl(self->fd, nsfs[i], 0));
		EXPECT_ERR(ENOTTY, ioctl(self->dev, nsfs[i], 0));
	}
	for (i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		memset(buf, 0, sizeof(buf));
		*(__u32 *)buf = _IOC_SIZE(old[i]);
		EXPECT_ERR(ENOTTY, ioctl(self->fd, old[i], buf));
		EXPECT_ERR(ENOTTY, ioctl(self->dev, old[i], buf));
	}
}

/*
 * A program built against the first version of each struct (size VER0)
 * gets what it knows and nothing written past it, while the module's
 * structs have grown: region stat (VER1 added nr_member_entries), and the
 * entries of MPCG_IOC_LIST_REGIONS at their VER0 size.
 */
TEST_F_TIMEOUT(abi, ver0_callers, 300)
{
	const size_t v0 = MPCG_REGION_STAT_SIZE_VER0;
	struct mpcg_region_stat cur, *e;
	struct mpcg_table t;
	unsigned char buf[256], *ents;
	unsigned int i;
	long n;

	ASSERT_LT(v0, sizeof(cur));	/* the struct did grow */
	ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &cur));
	EXPECT_EQ(sizeof(cur), cur.size);
	EXPECT_EQ(self->before.nm, cur.nr_member_entries);

	/* VER0 size: the old fields, the size filled, nothing after. */
	memset(buf, 0xa5, sizeof(buf));
	memset(buf, 0, v0);
	((struct mpcg_region_stat *)buf)->size = v0;
	ASSERT_EQ(0, ioctl(self->fd, MPCG_IOC_REGION_STAT, buf))
		TH_LOG("VER0 size: %s", strerror(errno));
	EXPECT_EQ(v0, ((struct mpcg_region_stat *)buf)->size);
	EXPECT_EQ(0, memcmp(buf + 8, (char *)&cur + 8, v0 - 8));
	EXPECT_TRUE(all(buf + v0, 0xa5, sizeof(buf) - v0));

	/* A bigger size than the kernel's: it says what it filled. */
	memset(buf, 0, sizeof(buf));
	((struct mpcg_region_stat *)buf)->size = sizeof(cur) + 16;
	ASSERT_EQ(0, ioctl(self->fd, MPCG_IOC_REGION_STAT, buf));
	EXPECT_EQ(sizeof(cur), ((struct mpcg_region_stat *)buf)->size);

	/* Reassess, policy and chunk query at their VER0 sizes. */
	{
		struct mpcg_reassess r = { .size = MPCG_REASSESS_SIZE_VER0 };
		struct mpcg_set_policy sp = {
			.size = MPCG_SET_POLICY_SIZE_VER0,
			.policy = cur.policy,
		};

		self->changes = 1;	/* reassessments are counted */
		EXPECT_EQ(0, ioctl(self->fd, MPCG_IOC_REASSESS, &r));
		EXPECT_EQ(MPCG_REASSESS_SIZE_VER0, r.size);
		EXPECT_EQ(MPCG_STATE_ASSESSED, r.state);
		EXPECT_EQ(0, ioctl(self->fd, MPCG_IOC_SET_POLICY, &sp));
	}

	/* Region list entries of VER0 size, each with its size set to that. */
	ents = malloc(64 * (v0 + 8));
	ASSERT_NE(NULL, ents);
	memset(ents, 0xa5, 64 * (v0 + 8));
	memset(&t, 0, sizeof(t));
	t.size = MPCG_TABLE_SIZE_VER0;
	t.entry_size = v0;
	t.count = 64;
	t.entries = (uintptr_t)ents;
	ASSERT_EQ(0, ioctl(self->dev, MPCG_IOC_LIST_REGIONS, &t))
		TH_LOG("%s", strerror(errno));
	n = t.count;
	ASSERT_LE(2, n);
	for (i = 0; i < n; i++) {
		e = (struct mpcg_region_stat *)(ents + i * v0);
		EXPECT_EQ(v0, e->size);
		if (e->ino == cur.ino && e->dev == cur.dev)
			EXPECT_EQ(cur.resident_bytes, e->resident_bytes);
	}
	EXPECT_TRUE(all(ents + n * v0, 0xa5, v0)) TH_LOG("written past the entries");
	free(ents);
}

/* MPCG_IOC_FEATURES: what this module supports, on each kind of fd. */
TEST_F_TIMEOUT(abi, features, 300)
{
	const __u64 region_ioctls =
		1ULL << _IOC_NR(MPCG_IOC_FEATURES) |
		1ULL << _IOC_NR(MPCG_IOC_REGION_STAT) |
		1ULL << _IOC_NR(MPCG_IOC_MEMBERS) |
		1ULL << _IOC_NR(MPCG_IOC_ATTACHMENTS) |
		1ULL << _IOC_NR(MPCG_IOC_SET_POLICY) |
		1ULL << _IOC_NR(MPCG_IOC_REASSESS) |
		1ULL << _IOC_NR(MPCG_IOC_CHUNKS);
	const __u64 ctl_ioctls =
		1ULL << _IOC_NR(MPCG_IOC_FEATURES) |
		1ULL << _IOC_NR(MPCG_IOC_LIST_REGIONS) |
		1ULL << _IOC_NR(MPCG_IOC_CGROUP_USAGE);
	static const __u32 sizes[MPCG_NR_STRUCTS] = {
		[MPCG_STRUCT_FEATURES] = sizeof(struct mpcg_features),
		[MPCG_STRUCT_REGION_STAT] = sizeof(struct mpcg_region_stat),
		[MPCG_STRUCT_MEMBER_INFO] = sizeof(struct mpcg_member_info),
		[MPCG_STRUCT_ATTACHMENT_INFO] = sizeof(struct mpcg_attachment_info),
		[MPCG_STRUCT_CHUNK_INFO] = sizeof(struct mpcg_chunk_info),
		[MPCG_STRUCT_TABLE] = sizeof(struct mpcg_table),
		[MPCG_STRUCT_CHUNK_QUERY] = sizeof(struct mpcg_chunk_query),
		[MPCG_STRUCT_SET_POLICY] = sizeof(struct mpcg_set_policy),
		[MPCG_STRUCT_REASSESS] = sizeof(struct mpcg_reassess),
		[MPCG_STRUCT_CGROUP_USAGE] = sizeof(struct mpcg_cgroup_usage),
	};
	struct mpcg_features f, fd_f;
	struct {
		struct mpcg_features f;
		__u64 tail[2];
	} big;
	struct mpcg_region_stat st;
	unsigned int i;
	int tfd, odirect;
	char tdir[] = "/tmp/abi-tmpfs-XXXXXX", tpath[64];

	ASSERT_EQ(0, mpcg_features(self->fd, &f)) TH_LOG("region fd");
	EXPECT_EQ(sizeof(f), f.size);
	EXPECT_EQ(MPCG_API_VERSION, f.api);
	EXPECT_EQ(MPCG_NR_STRUCTS, f.nr_structs);
	EXPECT_EQ(region_ioctls, f.ioctls);
	EXPECT_EQ((1ULL << MPCG_NR_POLICIES) - 1, f.policies);
	EXPECT_EQ(MPCG_MEMBER_OWNER | MPCG_MEMBER_DEPARTED | MPCG_MEMBER_HIGH,
		  f.member_flags);
	EXPECT_EQ(1U << MPCG_ATTACH_FILE | 1U << MPCG_ATTACH_MAP, f.attach_kinds);
	EXPECT_EQ(0, f.chunk_flags);
	EXPECT_EQ(0, f.reserved);
	for (i = 0; i < 16; i++)
		EXPECT_EQ(i < MPCG_NR_STRUCTS ? sizes[i] : 0, f.sizes[i])
			TH_LOG("sizes[%u]", i);
	EXPECT_TRUE(mpcg_supports(&f, MPCG_IOC_CHUNKS));
	EXPECT_FALSE(mpcg_supports(&f, MPCG_IOC_LIST_REGIONS));
	/* O_DIRECT: the feature bit says what open() does. */
	tfd = open(self->path, O_RDONLY | O_DIRECT);
	odirect = tfd >= 0;
	if (tfd >= 0)
		close(tfd);
	EXPECT_EQ(odirect, !!(f.features & MPCG_FEATURE_ODIRECT));
	EXPECT_EQ(0, f.features & ~MPCG_FEATURE_ODIRECT);

	ASSERT_EQ(0, mpcg_features(self->dev, &fd_f)) TH_LOG("/dev/mpcg");
	EXPECT_EQ(ctl_ioctls, fd_f.ioctls);
	EXPECT_EQ(f.api, fd_f.api);
	EXPECT_EQ(0, memcmp(f.sizes, fd_f.sizes, sizeof(f.sizes)));

	/* Output only: a bigger struct's unknown tail is zeroed, not refused. */
	memset(&big, 0xa5, sizeof(big));
	big.f.size = sizeof(big);
	big.f.flags = 0;
	ASSERT_EQ(0, ioctl(self->fd, MPCG_IOC_FEATURES, &big));
	EXPECT_EQ(sizeof(f), big.f.size);
	EXPECT_TRUE(all(big.tail, 0, sizeof(big.tail)));
	/* VER0 size, flags, sizes. */
	memset(&big, 0, sizeof(big));
	big.f.size = MPCG_FEATURES_SIZE_VER0;
	big.f.flags = 1;
	EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_FEATURES, &big));
	big.f.flags = 0;
	big.f.size = MPCG_FEATURES_SIZE_VER0 - 1;
	EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_FEATURES, &big));
	EXPECT_ERR(EFAULT, ioctl(self->fd, MPCG_IOC_FEATURES, NULL));

	/* Not an mpcg file: ENOTTY, which libmpcg does not turn into "older". */
	ASSERT_NE(NULL, mkdtemp(tdir));
	ASSERT_EQ(0, mount("tmpfs", tdir, "tmpfs", 0, "size=1M"));
	snprintf(tpath, sizeof(tpath), "%s/f", tdir);
	tfd = open(tpath, O_RDWR | O_CREAT, 0644);
	EXPECT_LE(0, tfd);
	memset(&big, 0, sizeof(big));
	big.f.size = sizeof(big.f);
	EXPECT_ERR(ENOTTY, ioctl(tfd, MPCG_IOC_FEATURES, &big));
	EXPECT_EQ(-ENOTTY, mpcg_features(tfd, &f));
	EXPECT_EQ(-ENOTTY, mpcg_region_get_stat(tfd, &st));
	close(tfd);
	umount(tdir);
	rmdir(tdir);
}

/*
 * MPCG_IOC_CHUNKS for one member: the chunks it touched.  a wrote all four
 * chunks of f and b read them, so either's list is every chunk; a cgroup
 * that is no member is ENOENT.
 */
TEST_F_TIMEOUT(abi, chunks_of_a_member, 300)
{
	struct mpcg_chunk_info *all_c, *mine;
	struct mpcg_chunk_query q;
	long n, k;

	n = mpcg_region_chunks(self->fd, 0, &all_c);
	ASSERT_EQ(4, n);
	for (k = 0; k < n; k++) {
		EXPECT_EQ(2, all_c[k].nr_touchers);
		EXPECT_EQ(self->a->id, all_c[k].first_cgroup_id);
	}
	EXPECT_EQ(4, mpcg_region_chunks(self->fd, self->a->id, &mine));
	EXPECT_EQ(0, memcmp(mine, all_c, 4 * sizeof(*mine)));
	free(mine);
	EXPECT_EQ(4, mpcg_region_chunks(self->fd, self->b->id, &mine));
	free(mine);
	free(all_c);
	EXPECT_EQ(-ENOENT, mpcg_region_chunks(self->fd, self->c->id, &mine));
	EXPECT_EQ(NULL, mine);
	memset(&q, 0, sizeof(q));
	q.table.size = sizeof(q);
	q.table.entry_size = sizeof(struct mpcg_chunk_info);
	q.cgroup_id = 1;	/* the root cgroup, no member of this region */
	EXPECT_ERR(ENOENT, ioctl(self->fd, MPCG_IOC_CHUNKS, &q));
	/* The bare table header is shorter than the query's first version. */
	q.table.size = MPCG_TABLE_SIZE_VER0;
	EXPECT_ERR(EINVAL, ioctl(self->fd, MPCG_IOC_CHUNKS, &q));
}

/* Child: as nobody, /dev/mpcg cannot be opened; 0 if so. */
static int nobody_opens_dev(void *arg)
{
	(void)arg;
	if (drop_to_nobody())
		return 100;
	if (open("/dev/mpcg", O_RDONLY) >= 0 || open("/dev/mpcg", O_RDWR) >= 0)
		return 1;
	if (errno != EACCES && errno != EPERM)
		return 2;
	return 0;
}

TEST_F_TIMEOUT(abi, dev_mpcg_root_only, 300)
{
	struct stat sb;

	ASSERT_EQ(0, stat("/dev/mpcg", &sb));
	EXPECT_TRUE(S_ISCHR(sb.st_mode));
	EXPECT_EQ(0, cg_run(NULL, nobody_opens_dev, NULL));
}

TEST_HARNESS_MAIN

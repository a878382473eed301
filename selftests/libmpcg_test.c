// SPDX-License-Identifier: GPL-2.0
/*
 * libmpcg selftests: every call of the library (tools/lib/libmpcg.h), linked
 * with the built libmpcg.a, against what the raw ioctls (raw_stat(),
 * raw_table() and raw_usage() below) and the cgroups' own memory.current
 * say.
 *
 * The scene is larger than the library's first guess of a table's size
 * (16 entries), so that its grow-and-retry loops run: NCG memory cgroups
 * m00..m17 each have a process holding one shared file open (m00 created
 * and wrote it, the others read a byte of every chunk), and m00 also
 * created and holds NREG more files, so it is in NREG + 1 regions.  The
 * automatic reassessment is off; the setup reassesses the shared file
 * once, so that every member pays its fair share.
 *
 * Also: errors come back as -errno (-ENOTTY for a file that is not an
 * mpcg region, -EOPNOTSUPP for a module that lacks the call, -EINVAL for a
 * bad policy, -EPERM and -EACCES for an unprivileged caller, -EBADF for a
 * directory that is not a cgroup).
 *
 * Runs as root in the test VM (tools/testing/vm-run) with mpcg.ko loaded.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "mpcg_util.h"
#include "libmpcg.h"

/*
 * An older module, as the library sees one: while refuse_nr is not -1, the
 * mpcg commands of that number fail with ENOTTY, as a module without them
 * answers.  This ioctl() is the one the statically linked libmpcg.a calls.
 */
static int refuse_nr = -1;

int ioctl(int fd, unsigned long cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (refuse_nr >= 0 && _IOC_TYPE(cmd) == MPCG_IOC_MAGIC &&
	    (int)_IOC_NR(cmd) == refuse_nr) {
		errno = ENOTTY;
		return -1;
	}
	return syscall(SYS_ioctl, fd, cmd, arg);
}

#define NCG		18		/* members of the shared file (> 16) */
#define NREG		18		/* more regions of m00 (> 16 in all) */
#define CHUNK		(64 * KiB)
#define SHARE		(2 * MiB)	/* each member's fair share */
#define SHARED_SIZE	(NCG * SHARE)
#define CHARGE_TOL	(1 * MiB)	/* memory.current: the processes' own memory */
#define NOBODY		65534

FIXTURE(lib) {
	char dir[64];
	char shared[PATH_MAX];
	char cg[NCG][PATH_MAX];
	unsigned long long id[NCG];
	pid_t pid[NCG];
	long old_auto;
	int fd;			/* the shared file, read-only */
};

struct member_arg {
	const char *dir;
	int idx;
	int ready;		/* write end of a pipe: one byte when done */
};

/* Child in cgroup m<idx>: use the regions, say so, and keep them. */
static int member(void *arg)
{
	struct member_arg *a = arg;
	char path[PATH_MAX], name[16];
	off_t off;
	int fd, i;

	path_join(path, sizeof(path), a->dir, "shared");
	fd = open(path, O_RDWR | (a->idx ? 0 : O_CREAT | O_EXCL), 0644);
	if (fd < 0)
		return 1;
	if (!a->idx) {
		if (pattern_fill(fd, 0, SHARED_SIZE, 1))
			return 2;
		for (i = 0; i < NREG; i++) {
			snprintf(name, sizeof(name), "r%02d", i);
			path_join(path, sizeof(path), a->dir, name);
			fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
			if (fd < 0 || pattern_fill(fd, 0, CHUNK, 2))
				return 3;
		}
	} else {
		for (off = 0; off < SHARED_SIZE; off += CHUNK) {
			char c;

			if (pread(fd, &c, 1, off) != 1)
				return 4;
		}
	}
	if (write(a->ready, "x", 1) != 1)
		return 5;
	for (;;)
		pause();
}

/* Wait for @n bytes on @fd, up to two minutes. */
static int wait_ready(int fd, int n)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[NCG];

	while (n > 0) {
		ssize_t r;

		if (poll(&p, 1, 120000) != 1)
			return -1;
		r = read(fd, buf, n < NCG ? n : NCG);
		if (r <= 0)
			return -1;
		n -= r;
	}
	return 0;
}

static void lib_cleanup(FIXTURE_DATA(lib) *self)
{
	mpcg_kill_all();
	if (self->fd >= 0)
		close(self->fd);
	self->fd = -1;
	mpcg_engine_teardown(self->dir, &self->old_auto);
}

/* The harness runs no teardown after a failed setup: clean up first. */
#define SETUP_ASSERT(cond, ...) do {					\
		if (!(cond)) {						\
			TH_LOG("setup: " __VA_ARGS__);			\
			lib_cleanup(self);				\
			ASSERT_TRUE(cond);				\
		}							\
	} while (0)

FIXTURE_SETUP(lib)
{
	struct member_arg a;
	struct mpcg_reassess r = { 0 };
	int ready[2], i;
	char name[16];

	memset(self, 0, sizeof(*self));
	self->fd = -1;
	self->old_auto = -1;
	if (!mpcg_test_selected(_metadata->name))
		SKIP(_exit(255), "not in MPCG_TESTS");
	if (geteuid())
		SKIP(_exit(255), "not root");
	if (access(MPCG_CTL_PATH, F_OK))
		SKIP(_exit(255), "the mpcg module is not loaded (no " MPCG_CTL_PATH ")");
	if (cg_parent_setup() && errno == ENOTSUP)
		SKIP(_exit(255), "no memory controller in " CGROUP_ROOT);
	self->old_auto = mpcg_param_read("auto_reassess_ms");
	SETUP_ASSERT(self->old_auto >= 0 && !mpcg_param_write("auto_reassess_ms", 0),
		     MPCG_PARAMS "auto_reassess_ms: %s", strerror(errno));
	SETUP_ASSERT(!mpcg_mount(self->dir, sizeof(self->dir),
				 "size=128M,chunk=64K,mode=0755,policy=proportional"),
		     "mount: %s", strerror(errno));
	path_join(self->shared, sizeof(self->shared), self->dir, "shared");
	for (i = 0; i < NCG; i++) {
		snprintf(name, sizeof(name), "m%02d", i);
		SETUP_ASSERT(!cg_create(self->cg[i], sizeof(self->cg[i]), name),
			     "cgroup %s: %s", name, strerror(errno));
		self->id[i] = cg_id(self->cg[i]);
	}
	SETUP_ASSERT(!pipe(ready), "pipe: %s", strerror(errno));
	a.dir = self->dir;
	a.ready = ready[1];
	/* m00 first: it creates the file the others read. */
	for (i = 0; i < NCG; i++) {
		a.idx = i;
		self->pid[i] = mpcg_spawn(self->cg[i], member, &a);
		SETUP_ASSERT(self->pid[i] > 0, "fork: %s", strerror(errno));
		if (!i)
			SETUP_ASSERT(!wait_ready(ready[0], 1), "m00 did not get ready");
	}
	close(ready[1]);
	SETUP_ASSERT(!wait_ready(ready[0], NCG - 1), "the members did not get ready");
	close(ready[0]);
	self->fd = open(self->shared, O_RDONLY);
	SETUP_ASSERT(self->fd >= 0, "open: %s", strerror(errno));
	SETUP_ASSERT(!mpcg_region_reassess(self->fd, &r) &&
		     r.state == MPCG_STATE_ASSESSED,
		     "reassess: %s, state %u", strerror(errno), r.state);
}

FIXTURE_TEARDOWN(lib)
{
	lib_cleanup(self);
}

/* The raw MPCG_IOC_REGION_STAT. */
static int raw_stat(int fd, struct mpcg_region_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return ioctl(fd, MPCG_IOC_REGION_STAT, st);
}

/*
 * The raw table ioctl @cmd with room for @cap entries of @esize bytes (no
 * growing) into *@out, malloc()ed: the number of entries, or -1.
 */
static long raw_table(int fd, unsigned long cmd, size_t esize, size_t cap,
		      void **out)
{
	struct mpcg_chunk_query q;	/* a bare table, or the chunk query */

	*out = calloc(cap, esize);
	if (!*out)
		return -1;
	memset(&q, 0, sizeof(q));
	q.table.size = cmd == MPCG_IOC_CHUNKS ? sizeof(q) : sizeof(q.table);
	q.table.entry_size = esize;
	q.table.count = cap;
	q.table.entries = (uintptr_t)*out;
	return ioctl(fd, cmd, &q) ? -1 : (long)q.table.count;
}

/* The raw MPCG_IOC_CGROUP_USAGE of the cgroup at @path (no growing). */
static long raw_usage(const char *path, struct mpcg_cgroup_usage *u,
		      struct mpcg_member_info *e, unsigned int cap)
{
	int ctl = open(MPCG_CTL_PATH, O_RDONLY);
	int cg = open(path, O_RDONLY | O_DIRECTORY);
	long ret = -1;

	if (ctl >= 0 && cg >= 0) {
		memset(u, 0, sizeof(*u));
		u->table.size = sizeof(*u);
		u->cgroup_fd = cg;
		u->table.entry_size = sizeof(*e);
		u->table.count = cap;
		u->table.entries = (uintptr_t)e;
		if (!ioctl(ctl, MPCG_IOC_CGROUP_USAGE, u))
			ret = u->table.count;
	}
	if (cg >= 0)
		close(cg);
	if (ctl >= 0)
		close(ctl);
	return ret;
}

static int cmp_usage_entry(const void *x, const void *y)
{
	const struct mpcg_member_info *a = x, *b = y;

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	return a->ino < b->ino ? -1 : a->ino > b->ino;
}

TEST_F(lib, open_and_errors)
{
	struct mpcg_region_stat st;
	struct mpcg_member_info *m = (void *)1;
	char path[PATH_MAX];
	int fd;

	EXPECT_EQ(1, mpcg_module_loaded());
	EXPECT_STRNE("", mpcg_version());

	fd = mpcg_region_open(self->shared, 0);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", self->shared, strerror(-fd));
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(0, mpcg_region_check(fd));
	close(fd);

	/* Not a region: -ENOTTY, whatever it is. */
	EXPECT_EQ(-ENOTTY, mpcg_region_open("/proc/self/status", 0));
	EXPECT_EQ(-ENOTTY, mpcg_region_open(self->dir, 0));	/* the mount */
	EXPECT_EQ(-ENOTTY, mpcg_region_open(CGROUP_ROOT "/cgroup.procs", 0));
	path_join(path, sizeof(path), self->dir, "nofile");
	EXPECT_EQ(-ENOENT, mpcg_region_open(path, 0));
	EXPECT_EQ(-EBADF, mpcg_region_check(-1));

	/* The region calls on a file that is not a region. */
	fd = open("/proc/self/status", O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOTTY, mpcg_region_check(fd));
	EXPECT_EQ(-ENOTTY, mpcg_region_get_stat(fd, &st));
	EXPECT_EQ(-ENOTTY, mpcg_region_members(fd, &m));
	EXPECT_EQ(NULL, m);
	EXPECT_EQ(-ENOTTY, mpcg_region_set_policy(fd, MPCG_POLICY_EQUAL));
	EXPECT_EQ(-ENOTTY, mpcg_region_reassess(fd, NULL));
	close(fd);
	EXPECT_EQ(-EBADF, mpcg_region_get_stat(-1, &st));
}

TEST_F(lib, stat)
{
	struct mpcg_region_stat lib, raw;
	int fd = mpcg_region_open(self->shared, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mpcg_region_get_stat(fd, &lib));
	ASSERT_EQ(0, raw_stat(self->fd, &raw));
	EXPECT_EQ(0, memcmp(&lib, &raw, sizeof(lib)));
	EXPECT_EQ(sizeof(lib), lib.size);
	EXPECT_EQ(SHARED_SIZE, lib.file_size);
	EXPECT_EQ(SHARED_SIZE, lib.resident_bytes);
	EXPECT_EQ(CHUNK, lib.chunk_size);
	/* Opening it read-only made nobody a member. */
	EXPECT_EQ(NCG, lib.nr_members);
	EXPECT_EQ(NCG, lib.nr_attachments);
	EXPECT_EQ(self->id[0], lib.owner_cgroup_id);
	EXPECT_EQ(MPCG_STATE_ASSESSED, lib.state);
	close(fd);
}

TEST_F(lib, members_attachments_chunks)
{
	struct mpcg_member_info *m, *rm;
	struct mpcg_attachment_info *a, *ra;
	struct mpcg_chunk_info *c, *rc;
	unsigned long long paid = 0;
	ssize_t n, i, k;
	long rn;

	/* Members: more than the library's first guess of 16. */
	n = mpcg_region_members(self->fd, &m);
	ASSERT_EQ(NCG, n) TH_LOG("members: %zd (%s)", n, n < 0 ? strerror(-n) : "");
	rn = raw_table(self->fd, MPCG_IOC_MEMBERS, sizeof(*rm), n + 16,
		       (void **)&rm);
	ASSERT_EQ(n, rn);
	EXPECT_EQ(0, memcmp(m, rm, n * sizeof(*m)));
	for (k = 0; k < NCG; k++) {
		int seen = 0;

		for (i = 0; i < n; i++) {
			if (m[i].cgroup_id != self->id[k])
				continue;
			seen++;
			EXPECT_EQ(k ? 0 : MPCG_MEMBER_OWNER, m[i].flags);
			EXPECT_EQ(1, m[i].nr_attachments);
			EXPECT_EQ(SHARED_SIZE, m[i].touched_bytes);
			EXPECT_TRUE(near(m[i].fair_share_bytes, SHARE, CHUNK))
				TH_LOG("m%02zd: fair share %llu", k,
				       (unsigned long long)m[i].fair_share_bytes);
			EXPECT_TRUE(near(m[i].paid_bytes, m[i].fair_share_bytes, CHUNK))
				TH_LOG("m%02zd: pays %llu, fair share %llu", k,
				       (unsigned long long)m[i].paid_bytes,
				       (unsigned long long)m[i].fair_share_bytes);
		}
		EXPECT_EQ(1, seen) TH_LOG("m%02zd in the table %d times", k, seen);
	}
	for (i = 0; i < n; i++)
		paid += m[i].paid_bytes;
	EXPECT_EQ(SHARED_SIZE, paid);
	free(m);
	free(rm);

	n = mpcg_region_attachments(self->fd, &a);
	ASSERT_EQ(NCG, n);
	rn = raw_table(self->fd, MPCG_IOC_ATTACHMENTS, sizeof(*ra), n + 16,
		       (void **)&ra);
	ASSERT_EQ(n, rn);
	EXPECT_EQ(0, memcmp(a, ra, n * sizeof(*a)));
	for (k = 0; k < NCG; k++) {
		for (i = 0; i < n && (pid_t)a[i].pid != self->pid[k]; i++)
			;
		ASSERT_GT(n, i) TH_LOG("no attachment of m%02zd's pid %d", k,
				       self->pid[k]);
		EXPECT_EQ(MPCG_ATTACH_FILE, a[i].kind);
		EXPECT_EQ(self->id[k], a[i].cgroup_id);
	}
	free(a);
	free(ra);

	n = mpcg_region_chunks(self->fd, 0, &c);
	ASSERT_EQ(SHARED_SIZE / CHUNK, n);
	rn = raw_table(self->fd, MPCG_IOC_CHUNKS, sizeof(*rc), n + 16,
		       (void **)&rc);
	ASSERT_EQ(n, rn);
	EXPECT_EQ(0, memcmp(c, rc, n * sizeof(*c)));
	for (i = 0; i < n; i++)
		EXPECT_EQ((unsigned long long)i, c[i].index);
	free(rc);
	/* One member's chunks: each member read all of the shared file. */
	for (k = 0; k < NCG; k += NCG - 1) {
		struct mpcg_chunk_info *mc;
		ssize_t mn = mpcg_region_chunks(self->fd, self->id[k], &mc);

		EXPECT_EQ(n, mn) TH_LOG("m%02zd", k);
		if (mn == n)
			EXPECT_EQ(0, memcmp(c, mc, n * sizeof(*c)));
		free(mc);
	}
	for (i = 0; i < n; i++)
		EXPECT_EQ(NCG, c[i].nr_touchers);
	EXPECT_EQ(-ENOENT, mpcg_region_chunks(self->fd, 1, &rc));
	free(c);
}

TEST_F(lib, usage_and_regions)
{
	struct mpcg_member_info *e, raw_e[NREG + 8], *e2;
	struct mpcg_cgroup_usage tot, raw, tot2;
	struct mpcg_region_stat *ri, *rri;
	ssize_t n, i;
	long rn;
	int ctl, cgfd, k;

	ctl = mpcg_ctl_open();
	ASSERT_LE(0, ctl) TH_LOG("%s", strerror(-ctl));
	EXPECT_EQ(FD_CLOEXEC, fcntl(ctl, F_GETFD) & FD_CLOEXEC);

	/* m00 is in NREG + 1 regions: more than the first guess of 16. */
	n = mpcg_ctl_cgroup_usage(ctl, self->cg[0], &tot, &e);
	ASSERT_EQ(NREG + 1, n) TH_LOG("%zd (%s)", n, n < 0 ? strerror(-n) : "");
	rn = raw_usage(self->cg[0], &raw, raw_e, NREG + 8);
	ASSERT_EQ(n, rn);
	EXPECT_EQ(self->id[0], tot.cgroup_id);
	EXPECT_EQ(raw.cgroup_id, tot.cgroup_id);
	EXPECT_EQ(raw.touched_bytes, tot.touched_bytes);
	EXPECT_EQ(raw.fair_share_bytes, tot.fair_share_bytes);
	EXPECT_EQ(raw.paid_bytes, tot.paid_bytes);
	EXPECT_EQ(raw.shortfall_bytes, tot.shortfall_bytes);
	qsort(e, n, sizeof(*e), cmp_usage_entry);
	qsort(raw_e, n, sizeof(*e), cmp_usage_entry);
	EXPECT_EQ(0, memcmp(e, raw_e, n * sizeof(*e)));
	EXPECT_TRUE(near(tot.paid_bytes, SHARE + NREG * CHUNK, CHUNK))
		TH_LOG("m00 pays %llu", (unsigned long long)tot.paid_bytes);
	free(e);

	/* The _fd variant, and NULL for what the caller does not want. */
	cgfd = open(self->cg[0], O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, cgfd);
	EXPECT_EQ(NREG + 1, mpcg_ctl_cgroup_usage_fd(ctl, cgfd, &tot2, NULL));
	EXPECT_EQ(tot.paid_bytes, tot2.paid_bytes);
	EXPECT_EQ(NREG + 1, mpcg_ctl_cgroup_usage_fd(ctl, cgfd, NULL, &e2));
	free(e2);
	close(cgfd);

	/* What each cgroup pays is in its memory.current. */
	ASSERT_EQ(0, cg_drain_stocks());
	for (k = 0; k < NCG; k++) {
		long charge;

		n = mpcg_ctl_cgroup_usage(ctl, self->cg[k], &tot, NULL);
		EXPECT_EQ(k ? 1 : NREG + 1, n);
		charge = cg_charge(self->cg[k]);
		EXPECT_TRUE(charge >= (long)tot.paid_bytes &&
			    charge - (long)tot.paid_bytes <= CHARGE_TOL)
			TH_LOG("m%02d: pays %llu, memory.current less file %ld", k,
			       (unsigned long long)tot.paid_bytes, charge);
	}

	/* Errors. */
	EXPECT_EQ(-ENOENT, mpcg_ctl_cgroup_usage(ctl, "/nonexistent", NULL, NULL));
	EXPECT_EQ(-ENOTDIR, mpcg_ctl_cgroup_usage(ctl, self->shared, NULL, NULL));
	EXPECT_EQ(-EBADF, mpcg_ctl_cgroup_usage(ctl, self->dir, NULL, NULL));
	EXPECT_EQ(-ENOTTY, mpcg_ctl_cgroup_usage(self->fd, self->cg[0], NULL, NULL));

	/* All regions: ours and maybe others'. */
	n = mpcg_ctl_regions(ctl, &ri);
	ASSERT_LE(NREG + 1, n);
	rn = raw_table(ctl, MPCG_IOC_LIST_REGIONS, sizeof(*rri), n + 16,
		       (void **)&rri);
	ASSERT_EQ(n, rn);
	EXPECT_EQ(0, memcmp(ri, rri, n * sizeof(*ri)));
	for (i = 0, k = 0; i < n; i++)
		if (ri[i].owner_cgroup_id == self->id[0])
			k++;
	EXPECT_EQ(NREG + 1, k);
	free(ri);
	free(rri);
	close(ctl);
}

TEST_F(lib, policy_and_reassess)
{
	struct mpcg_region_stat before, st;
	struct mpcg_reassess res;
	unsigned int p;

	for (p = 0; p < MPCG_NR_POLICIES; p++) {
		ASSERT_NE(NULL, mpcg_policy_name(p));
		EXPECT_EQ((int)p, mpcg_policy_parse(mpcg_policy_name(p)));
	}
	EXPECT_EQ(NULL, mpcg_policy_name(MPCG_NR_POLICIES));
	EXPECT_EQ(MPCG_POLICY_FIRST_TOUCH, mpcg_policy_parse("First_Touch"));
	EXPECT_EQ(MPCG_POLICY_OWNER, mpcg_policy_parse("3"));
	EXPECT_EQ(-EINVAL, mpcg_policy_parse("4"));
	EXPECT_EQ(-EINVAL, mpcg_policy_parse("equal "));
	EXPECT_EQ(-EINVAL, mpcg_policy_parse(""));
	EXPECT_EQ(-EINVAL, mpcg_policy_parse(NULL));
	EXPECT_STREQ("assessed", mpcg_state_name(MPCG_STATE_ASSESSED));
	EXPECT_STREQ("pending", mpcg_state_name(MPCG_STATE_PENDING));
	EXPECT_EQ(NULL, mpcg_state_name(99));

	ASSERT_EQ(0, raw_stat(self->fd, &before));
	EXPECT_EQ(-EINVAL, mpcg_region_set_policy(self->fd, MPCG_NR_POLICIES));
	EXPECT_EQ(-EINVAL, mpcg_region_set_policy_name(self->fd, "bogus"));
	ASSERT_EQ(0, raw_stat(self->fd, &st));
	EXPECT_EQ(before.policy, st.policy);
	EXPECT_EQ(MPCG_STATE_ASSESSED, st.state);

	/* owner: m00 pays for all of it once reassessed. */
	ASSERT_EQ(0, mpcg_region_set_policy_name(self->fd, "owner"));
	ASSERT_EQ(0, raw_stat(self->fd, &st));
	EXPECT_EQ(MPCG_POLICY_OWNER, st.policy);
	EXPECT_EQ(MPCG_STATE_PENDING, st.state);
	ASSERT_EQ(0, mpcg_region_reassess(self->fd, &res));
	ASSERT_EQ(0, raw_stat(self->fd, &st));
	EXPECT_EQ(MPCG_STATE_ASSESSED, res.state);
	EXPECT_EQ(st.state, res.state);
	EXPECT_EQ(before.reassessments + 1, st.reassessments);
	EXPECT_EQ(st.chunks_moved - before.chunks_moved, res.chunks_moved);
	EXPECT_EQ(st.bytes_moved - before.bytes_moved, res.bytes_moved);
	EXPECT_EQ(res.chunks_moved * CHUNK, res.bytes_moved);
	/* Every chunk m00 did not pay for moved to it. */
	EXPECT_TRUE(near(res.bytes_moved, SHARED_SIZE - SHARE, CHUNK))
		TH_LOG("moved %llu", (unsigned long long)res.bytes_moved);
	EXPECT_EQ(st.shortfall_bytes, res.shortfall_bytes);

	/* Back by number; reassess without a result. */
	ASSERT_EQ(0, mpcg_region_set_policy(self->fd, MPCG_POLICY_PROPORTIONAL));
	ASSERT_EQ(0, mpcg_region_reassess(self->fd, NULL));
	ASSERT_EQ(0, raw_stat(self->fd, &st));
	EXPECT_EQ(MPCG_POLICY_PROPORTIONAL, st.policy);
	EXPECT_EQ(MPCG_STATE_ASSESSED, st.state);
	EXPECT_EQ(before.reassessments + 2, st.reassessments);
}

struct nobody_arg {
	const char *shared;
};

/* Child as nobody: queries yes, policy and /dev/mpcg no; 0 if so. */
static int nobody(void *arg)
{
	struct nobody_arg *a = arg;
	struct mpcg_region_stat st;
	int fd, ctl;

	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return 100;
	fd = mpcg_region_open(a->shared, 0);
	if (fd < 0)
		return 1;
	if (mpcg_region_get_stat(fd, &st) || st.nr_members != NCG)
		return 2;
	if (mpcg_region_set_policy(fd, MPCG_POLICY_EQUAL) != -EPERM)
		return 3;
	if (mpcg_region_set_policy_name(fd, "equal") != -EPERM)
		return 4;
	ctl = mpcg_ctl_open();
	if (ctl != -EACCES && ctl != -EPERM)
		return 5;
	return 0;
}

/*
 * The features query, and an older module (one without a command) told
 * apart from a file that is not an mpcg file.
 */
TEST_F(lib, features_and_older_module)
{
	struct mpcg_chunk_info *c = (void *)1;
	struct mpcg_features f, g;
	int ctl, other;

	ASSERT_EQ(0, mpcg_features(self->fd, &f));
	EXPECT_EQ(MPCG_API_VERSION, f.api);
	EXPECT_TRUE(mpcg_supports(&f, MPCG_IOC_MEMBERS));
	EXPECT_FALSE(mpcg_supports(&f, MPCG_IOC_CGROUP_USAGE));
	ctl = mpcg_ctl_open();
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, mpcg_features(ctl, &g));
	EXPECT_TRUE(mpcg_supports(&g, MPCG_IOC_CGROUP_USAGE));
	EXPECT_FALSE(mpcg_supports(&g, MPCG_IOC_MEMBERS));
	other = open("/proc/self/status", O_RDONLY);
	ASSERT_LE(0, other);
	EXPECT_EQ(-ENOTTY, mpcg_features(other, &f));

	/* A module from before the features query. */
	refuse_nr = _IOC_NR(MPCG_IOC_FEATURES);
	EXPECT_EQ(-EOPNOTSUPP, mpcg_features(self->fd, &f));
	EXPECT_EQ(-EOPNOTSUPP, mpcg_features(ctl, &f));
	EXPECT_EQ(-ENOTTY, mpcg_features(other, &f));
	/* One without the per-member chunk query's command. */
	refuse_nr = _IOC_NR(MPCG_IOC_CHUNKS);
	EXPECT_EQ(-EOPNOTSUPP, mpcg_region_chunks(self->fd, 0, &c));
	EXPECT_EQ(NULL, c);
	refuse_nr = -1;
	EXPECT_EQ(SHARED_SIZE / CHUNK, mpcg_region_chunks(self->fd, 0, &c));
	free(c);
	close(other);
	close(ctl);
}

TEST_F(lib, unprivileged)
{
	struct nobody_arg a = { .shared = self->shared };
	struct mpcg_region_stat st;

	EXPECT_EQ(0, cg_run(NULL, nobody, &a));
	ASSERT_EQ(0, raw_stat(self->fd, &st));
	EXPECT_EQ(MPCG_POLICY_PROPORTIONAL, st.policy);
}

TEST_HARNESS_MAIN

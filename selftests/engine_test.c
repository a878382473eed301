// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg engine selftests: memory cgroups a, b and c share regions through
 * worker processes; after each change the test reassesses the region
 * (MPCG_IOC_REASSESS, with the automatic reassessment off) and checks
 *  - the invariants (mpcg_check_reassess() in mpcg_util.h): every chunk is
 *    paid by one of its sharers, everyone pays floor or ceil of its fair
 *    share, departed members pay nothing, the sum of what is paid is what
 *    is resident, the state is assessed, and the reassessment moved the
 *    fewest chunks that reach such a state (computed here independently,
 *    as a min-cost flow over the chunks' sharer sets and payers);
 *  - that what each cgroup pays is really charged: its memory.current
 *    (less page cache) grew by that much since the cgroup was created;
 *  - the numbers of design.md's scenarios, to within one chunk.
 * A few tests turn the automatic reassessment on to follow what it does by
 * itself: auto_reassess, shortfall_retry_backoff (retries with backoff)
 * and rmdir_owner (the periodic scan for removed owner cgroups).
 *
 * Runs as root in the test VM (tools/testing/vm-run), with mpcg.ko loaded
 * and the memory controller enabled in the root cgroup.  To run only some
 * tests: MPCG_TESTS="word ..." (tools/testing/vm-run --env MPCG_TESTS=...).
 */
#define _GNU_SOURCE
#include <linux/falloc.h>
#include <sched.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "mpcg_util.h"
#include "../uapi/linux/mpcg.h"

#define CHUNK	(1 * MiB)
#define MOUNT_OPTS "size=512M,chunk=1M"

FIXTURE(eng) {
	char dir[64];
	char path[PATH_MAX];	/* the region: dir/f */
	int fd;			/* the test's own fd: ioctls only */
	long old_auto;		/* auto_reassess_ms before the test */
	struct mpcg_cg *a, *b, *c;
};

FIXTURE_SETUP(eng)
{
	self->fd = -1;
	self->old_auto = -1;
	if (!mpcg_test_selected(_metadata->name))
		SKIP(_exit(255), "not in MPCG_TESTS");
	/* Reassessments only when the test asks, so that moves add up. */
	self->old_auto = mpcg_engine_setup(&self->a, &self->b, &self->c);
	ASSERT_LE(0, self->old_auto)
		TH_LOG("cgroups a, b, c and " MPCG_PARAMS "auto_reassess_ms: %s",
		       strerror(errno));
}

/* The unbound workqueues' CPU mask before a test changed it, or "". */
static char wq_mask_saved[64];
#define WQ_CPUMASK "/sys/devices/virtual/workqueue/cpumask"

FIXTURE_TEARDOWN(eng)
{
	int i;

	mpcg_kill_all();
	if (wq_mask_saved[0])
		write_file(WQ_CPUMASK, "%s", wq_mask_saved);
	if (self->fd >= 0)
		close(self->fd);
	/* Reassessments never OOM-kill (not an EXPECT: runs after ASSERTs). */
	for (i = 0; i < mpcg_ncgs; i++)
		if (!mpcg_cgs[i].removed &&
		    cg_read_key(mpcg_cgs[i].path, "memory.events", "oom_kill")) {
			fprintf(stderr, "# cgroup %s had an OOM kill\n",
				mpcg_cgs[i].name);
			_metadata->passed = 0;
		}
	mpcg_engine_teardown(self->dir, &self->old_auto);
}

static int eng_mount(FIXTURE_DATA(eng) *self, const char *policy)
{
	char opts[128];

	snprintf(opts, sizeof(opts), MOUNT_OPTS ",policy=%s", policy);
	if (mpcg_mount(self->dir, sizeof(self->dir), opts)) {
		self->dir[0] = '\0';
		return -1;
	}
	path_join(self->path, sizeof(self->path), self->dir, "f");
	return 0;
}

/* The test's own descriptor of the region: not an attachment. */
static int open_ctl(FIXTURE_DATA(eng) *self)
{
	self->fd = open(self->path, O_RDONLY);
	return self->fd;
}

/* Child: create the 64 MiB region at @arg, no I/O; for cg_run(). */
static int create_64m(void *arg)
{
	int fd = open(arg, O_RDWR | O_CREAT | O_EXCL, 0644);

	if (fd < 0 || ftruncate(fd, 64 * MiB))
		return 1;
	return close(fd);
}

/* Does cgroup @cg pay @mib MiB, to within a chunk? */
static int pays(const struct mpcg_snap *s, const struct mpcg_cg *cg,
		double mib)
{
	long p = mpcg_snap_paid(s, cg->id);
	double d = MB(p) - mib;

	if (d > -MB(CHUNK) && d < MB(CHUNK))
		return 1;
	fprintf(stderr, "# %s pays %.2fM, expected %.2fM\n", cg->name, MB(p),
		mib);
	return 0;
}

static int is_member(const struct mpcg_snap *s, const struct mpcg_cg *cg)
{
	const struct mpcg_member_info *m = mpcg_snap_member(s, cg->id);

	return m && m->nr_attachments;
}

/*
 * design.md's proportional scenario, steps 1 to 6: a creates a 64 MiB
 * file and touches it all, b touches it all, c touches the first half, b
 * leaves, everybody leaves, the file is unlinked.
 */
TEST_F_TIMEOUT(eng, proportional_scenario, 300)
{
	struct mpcg_worker wa, wb, wc;
	struct mpcg_reassess r;
	struct mpcg_snap s;
	int i;

	ASSERT_EQ(0, eng_mount(self, "proportional"));
	ASSERT_EQ(0, mpcg_worker_start(&wa, self->a->path, "wa"));
	ASSERT_EQ(0, mpcg_worker_start(&wb, self->b->path, "wb"));
	ASSERT_EQ(0, mpcg_worker_start(&wc, self->c->path, "wc"));

	/* 1. a creates a 64 MiB file and touches all of it: a pays 64. */
	ASSERT_NE(0, w_map_file(&wa, self->path, 64 * MiB, 64 * MiB, W_WRITE));
	ASSERT_LE(0, open_ctl(self));
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_EQ(self->a->id, s.st.owner_cgroup_id);
	EXPECT_EQ(MPCG_POLICY_PROPORTIONAL, s.st.policy);
	EXPECT_EQ(64 * MiB, (long)s.st.file_size);
	EXPECT_EQ(CHUNK, (long)s.st.chunk_size);
	EXPECT_EQ(64 * MiB, (long)s.st.resident_bytes);
	EXPECT_EQ(1, s.st.nr_members);
	/* New chunks went to the toucher; touching made it pending. */
	EXPECT_EQ(64, mpcg_snap_chunks_of(&s, self->a->id));
	EXPECT_EQ(MPCG_STATE_PENDING, s.st.state);
	mpcg_snap_free(&s);
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, r.chunks_moved);
	EXPECT_TRUE(pays(&s, self->a, 64));
	mpcg_snap_free(&s);

	/* 2. b maps it and touches all: a 32, b 32. */
	ASSERT_NE(0, w_map_file(&wb, self->path, 0, 64 * MiB, W_READ));
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_EQ(2, s.st.nr_members);
	EXPECT_EQ(MPCG_STATE_PENDING, s.st.state);
	EXPECT_EQ(64, mpcg_snap_chunks_of(&s, self->a->id));
	mpcg_snap_free(&s);
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(32, r.chunks_moved);
	EXPECT_TRUE(pays(&s, self->a, 32));
	EXPECT_TRUE(pays(&s, self->b, 32));
	mpcg_snap_free(&s);

	/* A second reassessment with nothing changed moves nothing. */
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, NULL, &r));
	EXPECT_EQ(0, r.chunks_moved);

	/* 3. c touches the first 32 MiB: a 26.67, b 26.67, c 10.67. */
	ASSERT_NE(0, w_map_file(&wc, self->path, 0, 32 * MiB, W_READ));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(pays(&s, self->a, 32.0 / 3 + 16));
	EXPECT_TRUE(pays(&s, self->b, 32.0 / 3 + 16));
	EXPECT_TRUE(pays(&s, self->c, 32.0 / 3));
	EXPECT_EQ(32 * MiB, (long)mpcg_snap_member(&s, self->c->id)->touched_bytes);
	mpcg_snap_free(&s);

	/* 4. b's processes exit: a 48, c 16. */
	ASSERT_EQ(0, w_exit(&wb));
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_EQ(2, s.st.nr_members);
	EXPECT_EQ(MPCG_STATE_PENDING, s.st.state);
	EXPECT_FALSE(is_member(&s, self->b));
	mpcg_snap_free(&s);
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(pays(&s, self->a, 48));
	EXPECT_TRUE(pays(&s, self->b, 0));
	EXPECT_TRUE(pays(&s, self->c, 16));
	mpcg_snap_free(&s);

	/* 5. Everybody exits, the file stays: the owner, a, pays 64. */
	ASSERT_EQ(0, w_exit(&wa));
	ASSERT_EQ(0, w_exit(&wc));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, s.st.nr_members);
	EXPECT_EQ(0, s.st.nr_attachments);
	EXPECT_TRUE(pays(&s, self->a, 64));
	EXPECT_TRUE(pays(&s, self->c, 0));
	mpcg_snap_free(&s);

	/* 6. Unlinked (and our fd closed): everyone back to the baseline. */
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, unlink(self->path));
	ASSERT_EQ(0, cg_drain_stocks());
	for (i = 0; i < 3; i++)
		EXPECT_TRUE(near(cg_charge(mpcg_cgs[i].path) - mpcg_cgs[i].base,
				 0, MPCG_CHARGE_TOL))
			TH_LOG("%s still pays %.2fM", mpcg_cgs[i].name,
			       MB(cg_charge(mpcg_cgs[i].path) - mpcg_cgs[i].base));
}

/*
 * equal: three members, one touching everything, the others only mapping
 * it: 21.33 MiB each.  Then the policy changes to proportional: the only
 * toucher pays it all.
 */
TEST_F_TIMEOUT(eng, equal_policy, 300)
{
	struct mpcg_worker wa, wb, wc;
	struct mpcg_reassess r;
	struct mpcg_snap s;

	ASSERT_EQ(0, eng_mount(self, "equal"));
	ASSERT_EQ(0, mpcg_worker_start(&wa, self->a->path, "wa"));
	ASSERT_EQ(0, mpcg_worker_start(&wb, self->b->path, "wb"));
	ASSERT_EQ(0, mpcg_worker_start(&wc, self->c->path, "wc"));
	ASSERT_NE(0, w_map_file(&wa, self->path, 64 * MiB, 64 * MiB, W_WRITE));
	ASSERT_NE(0, w_map_file(&wb, self->path, 0, 64 * MiB, -1));
	ASSERT_NE(0, w_map_file(&wc, self->path, 0, 64 * MiB, -1));
	ASSERT_LE(0, open_ctl(self));

	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(MPCG_POLICY_EQUAL, s.st.policy);
	EXPECT_EQ(3, s.st.nr_members);
	EXPECT_EQ(0, (long)mpcg_snap_member(&s, self->b->id)->touched_bytes);
	EXPECT_EQ(0, (long)mpcg_snap_member(&s, self->c->id)->touched_bytes);
	EXPECT_TRUE(pays(&s, self->a, 64.0 / 3));
	EXPECT_TRUE(pays(&s, self->b, 64.0 / 3));
	EXPECT_TRUE(pays(&s, self->c, 64.0 / 3));
	mpcg_snap_free(&s);

	/* Per region policy change: pending, then the toucher pays. */
	ASSERT_EQ(0, mpcg_region_set_policy(self->fd, MPCG_POLICY_PROPORTIONAL))
		TH_LOG("MPCG_IOC_SET_POLICY: %s", strerror(errno));
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_EQ(MPCG_POLICY_PROPORTIONAL, s.st.policy);
	EXPECT_EQ(MPCG_STATE_PENDING, s.st.state);
	mpcg_snap_free(&s);
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(pays(&s, self->a, 64));
	EXPECT_TRUE(pays(&s, self->b, 0));
	EXPECT_TRUE(pays(&s, self->c, 0));
	mpcg_snap_free(&s);

	/* And back: b and c pay again although they never touched it. */
	ASSERT_EQ(0, mpcg_region_set_policy(self->fd, MPCG_POLICY_EQUAL));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(pays(&s, self->b, 64.0 / 3));
	mpcg_snap_free(&s);
	/* A departed equal member pays nothing. */
	ASSERT_EQ(0, w_exit(&wc));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(pays(&s, self->a, 32));
	EXPECT_TRUE(pays(&s, self->b, 32));
	EXPECT_TRUE(pays(&s, self->c, 0));
	mpcg_snap_free(&s);
}

/*
 * first-touch, with a creator (a, the owner) that is not the first
 * toucher: b touches the first half first, c all of it.  Then b leaves:
 * its chunks go to the owner, not to c who touched them too.
 */
TEST_F_TIMEOUT(eng, first_touch_policy, 300)
{
	struct mpcg_worker wa, wb, wc;
	struct mpcg_reassess r;
	struct mpcg_snap s;
	long i;
	int fd;

	ASSERT_EQ(0, eng_mount(self, "first-touch"));
	ASSERT_EQ(0, mpcg_worker_start(&wa, self->a->path, "wa"));
	ASSERT_EQ(0, mpcg_worker_start(&wb, self->b->path, "wb"));
	ASSERT_EQ(0, mpcg_worker_start(&wc, self->c->path, "wc"));
	/* a creates and sizes it, no I/O: owner, not a member. */
	fd = w_open(&wa, self->path, O_RDWR | O_CREAT | O_EXCL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mpcg_worker_cmd(&wa, W_FTRUNCATE, fd, 64 * MiB, 0, 0, 0, NULL));
	ASSERT_LE(0, open_ctl(self));
	ASSERT_NE(0, w_map_file(&wb, self->path, 0, 32 * MiB, W_WRITE));
	ASSERT_NE(0, w_map_file(&wc, self->path, 0, 64 * MiB, W_READ));

	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(MPCG_POLICY_FIRST_TOUCH, s.st.policy);
	EXPECT_EQ(self->a->id, s.st.owner_cgroup_id);
	EXPECT_FALSE(is_member(&s, self->a));
	EXPECT_EQ(0, r.chunks_moved);	/* first charges were right */
	EXPECT_TRUE(pays(&s, self->a, 0));
	EXPECT_TRUE(pays(&s, self->b, 32));
	EXPECT_TRUE(pays(&s, self->c, 32));
	for (i = 0; i < s.nc; i++) {
		const struct mpcg_member_info *m =
			mpcg_snap_member(&s, i < 32 ? self->b->id : self->c->id);

		ASSERT_NE(NULL, m);
		EXPECT_EQ(m->cgroup_id, s.c[i].first_cgroup_id)
			TH_LOG("chunk %ld: first %s", i,
			       mpcg_cg_name(s.c[i].first_cgroup_id));
	}
	mpcg_snap_free(&s);

	/* The first toucher leaves: the owner pays its chunks. */
	ASSERT_EQ(0, w_exit(&wb));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(32, r.chunks_moved);
	EXPECT_TRUE(pays(&s, self->a, 32));
	EXPECT_TRUE(pays(&s, self->b, 0));
	EXPECT_TRUE(pays(&s, self->c, 32));
	mpcg_snap_free(&s);

	/* owner: all of it to a, though a has no attachment at all. */
	ASSERT_EQ(0, mpcg_region_set_policy(self->fd, MPCG_POLICY_OWNER));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(32, r.chunks_moved);
	EXPECT_TRUE(pays(&s, self->a, 64));
	EXPECT_TRUE(pays(&s, self->c, 0));
	mpcg_snap_free(&s);

	/* proportional: c, the only member, touched it all. */
	ASSERT_EQ(0, mpcg_region_set_policy(self->fd,
					    MPCG_POLICY_PROPORTIONAL));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(64, r.chunks_moved);
	EXPECT_TRUE(pays(&s, self->a, 0));
	EXPECT_TRUE(pays(&s, self->c, 64));
	mpcg_snap_free(&s);

	ASSERT_EQ(0, w_exit(&wc));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(pays(&s, self->a, 64));
	EXPECT_TRUE(pays(&s, self->c, 0));
	mpcg_snap_free(&s);
}

/* owner: the creator pays everything, even with no process left. */
TEST_F_TIMEOUT(eng, owner_policy, 300)
{
	struct mpcg_worker wb, wc;
	struct mpcg_reassess r;
	struct mpcg_snap s;

	ASSERT_EQ(0, eng_mount(self, "owner"));
	/* a creates the file and is gone. */
	ASSERT_EQ(0, cg_run(self->a->path, create_64m, self->path));
	ASSERT_LE(0, open_ctl(self));
	ASSERT_EQ(0, mpcg_worker_start(&wb, self->b->path, "wb"));
	ASSERT_EQ(0, mpcg_worker_start(&wc, self->c->path, "wc"));
	ASSERT_NE(0, w_map_file(&wb, self->path, 0, 64 * MiB, W_WRITE));

	/* First charged to the toucher, then moved to the owner. */
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_EQ(64, mpcg_snap_chunks_of(&s, self->b->id));
	mpcg_snap_free(&s);
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(MPCG_POLICY_OWNER, s.st.policy);
	EXPECT_EQ(64, r.chunks_moved);
	EXPECT_TRUE(pays(&s, self->a, 64));
	EXPECT_TRUE(pays(&s, self->b, 0));
	mpcg_snap_free(&s);

	ASSERT_NE(0, w_map_file(&wc, self->path, 0, 64 * MiB, W_READ));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, r.chunks_moved);
	EXPECT_EQ(2, s.st.nr_members);
	EXPECT_TRUE(pays(&s, self->a, 64));
	mpcg_snap_free(&s);
}

/*
 * b's memory.max is below its share: what does not fit stays with a, b's
 * shortfall says how much, nobody is OOM-killed, the region stays pending,
 * and once the limit is raised the next reassessment moves the rest.
 */
TEST_F_TIMEOUT(eng, shortfall_at_limit, 300)
{
	const struct mpcg_member_info *mb;
	struct mpcg_region_stat st;
	struct mpcg_worker wa, wb;
	struct mpcg_reassess r;
	struct mpcg_snap s;
	long paid_b;

	ASSERT_EQ(0, eng_mount(self, "proportional"));
	ASSERT_EQ(0, mpcg_worker_start(&wa, self->a->path, "wa"));
	ASSERT_EQ(0, mpcg_worker_start(&wb, self->b->path, "wb"));
	ASSERT_NE(0, w_map_file(&wa, self->path, 64 * MiB, 64 * MiB, W_WRITE));
	ASSERT_LE(0, open_ctl(self));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, NULL, &r));
	ASSERT_EQ(0, cg_set_max(self->b->path, 16 * MiB));
	ASSERT_NE(0, w_map_file(&wb, self->path, 0, 64 * MiB, W_READ));

	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_PENDING |
					  MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(MPCG_STATE_PENDING, r.state);
	mb = mpcg_snap_member(&s, self->b->id);
	ASSERT_NE(NULL, mb);
	paid_b = mb->paid_bytes;
	EXPECT_GE(16 * MiB, paid_b);
	EXPECT_LE(8 * MiB, paid_b) TH_LOG("b took only %.0fM of 16M", MB(paid_b));
	EXPECT_EQ(32 * MiB - paid_b, (long)mb->shortfall_bytes);
	EXPECT_EQ(mb->shortfall_bytes, r.shortfall_bytes);
	EXPECT_EQ(64 * MiB - paid_b, mpcg_snap_paid(&s, self->a->id));
	EXPECT_EQ(paid_b / CHUNK, (long)r.chunks_moved);
	mpcg_snap_free(&s);
	EXPECT_GE(16 * MiB, cg_read_long(self->b->path, "memory.current"));
	/* Nobody was killed. */
	EXPECT_EQ(0, cg_read_key(self->b->path, "memory.events", "oom_kill"));
	EXPECT_EQ(wb.pid, mpcg_worker_cmd(&wb, W_PING, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ(wa.pid, mpcg_worker_cmd(&wa, W_PING, 0, 0, 0, 0, 0, NULL));

	/* Still at its limit: still pending, still short. */
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_PENDING |
					  MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(MPCG_STATE_PENDING, r.state);
	EXPECT_LT(0, (long)r.shortfall_bytes);
	/*
	 * With auto_reassess_ms=0 nothing reassesses by itself, not even a
	 * retry after a shortfall (else no count here is deterministic).
	 */
	usleep(2500 * 1000);
	ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &st));
	EXPECT_EQ(s.st.reassessments, st.reassessments)
		TH_LOG("%llu reassessments by themselves with auto_reassess_ms=0",
		       (unsigned long long)(st.reassessments - s.st.reassessments));
	mpcg_snap_free(&s);

	/* Limit raised: the next reassessment moves the rest. */
	ASSERT_EQ(0, cg_set_max(self->b->path, -1));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, (long)r.shortfall_bytes);
	EXPECT_TRUE(pays(&s, self->a, 32));
	EXPECT_TRUE(pays(&s, self->b, 32));
	mpcg_snap_free(&s);
	EXPECT_EQ(0, cg_read_key(self->b->path, "memory.events", "oom_kill"));
}

/*
 * memory.high: a reassessment never moves a chunk into a cgroup that it
 * would put above its memory.high (nor above an ancestor's).  b, with
 * memory.high 16M and no memory.max, reads all of a's 64 MiB file: it
 * takes less than 16 MiB of its 32 MiB share, the rest is its shortfall,
 * and it is flagged: no reclaim storm, no OOM kill, only the signal.  With
 * memory.high raised, the next reassessment moves the rest.
 */
TEST_F_TIMEOUT(eng, shortfall_at_high, 300)
{
	const struct mpcg_member_info *mb;
	struct mpcg_worker wa, wb;
	struct mpcg_reassess r;
	struct mpcg_snap s;
	long paid_b;

	ASSERT_EQ(0, eng_mount(self, "proportional"));
	ASSERT_EQ(0, mpcg_worker_start(&wa, self->a->path, "wa"));
	ASSERT_EQ(0, mpcg_worker_start(&wb, self->b->path, "wb"));
	ASSERT_NE(0, w_map_file(&wa, self->path, 64 * MiB, 64 * MiB, W_WRITE));
	ASSERT_LE(0, open_ctl(self));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, NULL, &r));
	ASSERT_EQ(0, cg_set_high(self->b->path, 16 * MiB));
	ASSERT_NE(0, w_map_file(&wb, self->path, 0, 64 * MiB, W_READ));

	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_PENDING |
					  MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(MPCG_STATE_PENDING, r.state);
	mb = mpcg_snap_member(&s, self->b->id);
	ASSERT_NE(NULL, mb);
	paid_b = mb->paid_bytes;
	EXPECT_GT(16 * MiB, paid_b);
	EXPECT_LE(8 * MiB, paid_b) TH_LOG("b took only %.0fM below 16M", MB(paid_b));
	EXPECT_EQ(32 * MiB - paid_b, (long)mb->shortfall_bytes);
	EXPECT_TRUE(mb->flags & MPCG_MEMBER_HIGH) TH_LOG("b not flagged high");
	EXPECT_FALSE(mpcg_snap_member(&s, self->a->id)->flags & MPCG_MEMBER_HIGH);
	mpcg_snap_free(&s);
	EXPECT_GE(16 * MiB, cg_read_long(self->b->path, "memory.current"));
	EXPECT_EQ(0, cg_read_key(self->b->path, "memory.events", "oom_kill"));
	EXPECT_EQ(0, cg_read_key(self->b->path, "memory.events", "oom"));
	EXPECT_EQ(wb.pid, mpcg_worker_cmd(&wb, W_PING, 0, 0, 0, 0, 0, NULL));

	/* memory.high raised: the rest moves, and the flag goes. */
	ASSERT_EQ(0, cg_set_high(self->b->path, -1));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, (long)r.shortfall_bytes);
	EXPECT_TRUE(pays(&s, self->b, 32));
	EXPECT_FALSE(mpcg_snap_member(&s, self->b->id)->flags & MPCG_MEMBER_HIGH);
	mpcg_snap_free(&s);
	EXPECT_EQ(0, cg_read_key(self->b->path, "memory.events", "oom_kill"));
}

/*
 * Data integrity while chunks move.  The region is made of 4 KiB blocks,
 * each holding its number, a sequence number (the writer's pass) and
 * words that depend on both: a block read whole is either valid or being
 * written.  A writer in a rewrites every block in each pass, checking it
 * still holds the previous pass (no write lost); a reader in c read()s
 * them all over and over (valid, sequence never going back); members of b
 * join, map and check everything, and leave; another process reassesses
 * all the time, so that chunks keep moving between a, b and c.
 *
 * Twice a second the test pauses the reassessing process, freezes a, b
 * and c (cgroup.freeze on their parent: no task of theirs is inside a
 * system call or fault then), reassesses and runs the whole checker,
 * fewest moves included, and lets everything go again.
 */
#define BLK		4096
#define INTEG_SIZE	(16 * MiB)
#define INTEG_BLOCKS	(INTEG_SIZE / BLK)
#define INTEG_SECONDS	4	/* MPCG_INTEG_SECONDS overrides it */

struct integ {
	char path[PATH_MAX];
	char cg_b[PATH_MAX];
	volatile int stop;
	volatile long passes;		/* completed by the writer */
	volatile long reads;		/* passes of the reader */
	volatile long joins;		/* b members that came and went */
	volatile long reassessments;
	volatile long moved;		/* chunks */
	volatile long hold;		/* the reassessing process must pause */
	volatile long hold_req;		/* which pause the test asks for */
	volatile long hold_ack;		/* which pause it is in */
	volatile long freezes;		/* bumped around each freeze */
};

/*
 * Word @i of a block: (seq, block) -> word is one to one for each i, so a
 * block mixing two writes, or holding another block's data, is invalid.
 */
static uint64_t blk_word(uint64_t block, uint64_t seq, int i)
{
	return ((seq << 32 | block) * 0x9e3779b97f4a7c15ULL) + i;
}

static void blk_make(uint64_t *b, uint64_t block, uint64_t seq)
{
	int i;

	b[0] = block;
	b[1] = seq;
	for (i = 2; i < BLK / 8; i++)
		b[i] = blk_word(block, seq, i);
}

/* The sequence number of a valid block (0: never written), or -1. */
static long blk_seq(const uint64_t *b, uint64_t block)
{
	int i;

	if (!b[0] && !b[1]) {
		for (i = 2; i < BLK / 8; i++)
			if (b[i])
				break;
		if (i == BLK / 8)
			return 0;
	}
	if (b[0] != block)
		return -1;
	for (i = 2; i < BLK / 8; i++)
		if (b[i] != blk_word(block, b[1], i))
			return -1;
	return b[1];
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Read block @i whole until it is valid (a concurrent write can tear a
 * read; the writer goes on, so that passes): its sequence, or -1 if it
 * stayed invalid for 5 seconds, not counting time the test's checks kept
 * everybody frozen (*@freezes changed).
 */
static long blk_read(int fd, const unsigned char *map, long i, uint64_t *buf,
		     const volatile long *freezes)
{
	long seq, gen = 0;
	double t0 = 0;

	for (;;) {
		if (map)
			memcpy(buf, map + i * BLK, BLK);
		else if (pread(fd, buf, BLK, i * BLK) != BLK)
			return -1;
		seq = blk_seq(buf, i);
		if (seq >= 0)
			return seq;
		if (!t0 || gen != *freezes) {
			t0 = now();
			gen = *freezes;
		} else if (now() - t0 > 5) {
			fprintf(stderr, "# block %ld stays invalid: %#llx %#llx %#llx %#llx...\n",
				i, (unsigned long long)buf[0],
				(unsigned long long)buf[1],
				(unsigned long long)buf[2],
				(unsigned long long)buf[3]);
			return -1;
		}
		sched_yield();
	}
}

static int integ_writer(void *arg)
{
	struct integ *x = arg;
	uint64_t buf[BLK / 8];
	unsigned char *p;
	long pass, i, seq;
	int fd;

	fd = open(x->path, O_RDWR);
	if (fd < 0)
		return 10;
	p = mmap(NULL, INTEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 11;
	for (pass = 1;; pass++) {
		for (i = 0; i < INTEG_BLOCKS; i++) {
			seq = blk_seq((uint64_t *)(p + i * BLK), i);
			if (seq != pass - 1) {
				fprintf(stderr, "# writer: pass %ld: block %ld holds sequence %ld\n",
					pass, i, seq);
				return 1;
			}
			blk_make(buf, i, pass);
			/* Mostly through the mapping, some with pwrite(). */
			if (i % 4 == 3) {
				if (pwrite(fd, buf, BLK, i * BLK) != BLK)
					return 12;
			} else {
				memcpy(p + i * BLK, buf, BLK);
			}
		}
		x->passes = pass;
		if (x->stop)
			return 0;
	}
}

static int integ_reader(void *arg)
{
	struct integ *x = arg;
	uint64_t buf[BLK / 8];
	long *last, i, seq;
	int fd;

	last = calloc(INTEG_BLOCKS, sizeof(*last));
	fd = open(x->path, O_RDONLY);
	if (fd < 0 || !last)
		return 10;
	while (!x->stop) {
		for (i = 0; i < INTEG_BLOCKS; i++) {
			seq = blk_read(fd, NULL, i, buf, &x->freezes);
			if (seq < 0)
				return 1;
			if (seq < last[i]) {
				fprintf(stderr, "# reader: block %ld went back from sequence %ld to %ld\n",
					i, last[i], seq);
				return 2;
			}
			last[i] = seq;
		}
		x->reads++;
	}
	return 0;
}

/* One member of b: map the region, check every block, leave. */
static int integ_member(void *arg)
{
	struct integ *x = arg;
	uint64_t buf[BLK / 8];
	unsigned char *p;
	long i;
	int fd;

	fd = open(x->path, O_RDONLY);
	if (fd < 0)
		return 10;
	p = mmap(NULL, INTEG_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return 11;
	for (i = 0; i < INTEG_BLOCKS; i++)
		if (blk_read(-1, p, i, buf, &x->freezes) < 0)
			return 1;
	return 0;
}

static int integ_churn(void *arg)
{
	struct integ *x = arg;
	int ret;

	while (!x->stop) {
		ret = cg_run(x->cg_b, integ_member, x);
		if (ret) {
			fprintf(stderr, "# member of b: exit %d\n", ret);
			return 1;
		}
		x->joins++;
	}
	return 0;
}

static int integ_reassess(void *arg)
{
	struct integ *x = arg;
	struct mpcg_reassess r;
	int fd;

	fd = open(x->path, O_RDONLY);
	if (fd < 0)
		return 10;
	while (!x->stop) {
		if (x->hold) {
			/* Paused for a check: say so until it is over. */
			while (x->hold && !x->stop) {
				x->hold_ack = x->hold_req;
				usleep(1000);
			}
			continue;
		}
		if (mpcg_region_reassess(fd, &r)) {
			fprintf(stderr, "# MPCG_IOC_REASSESS: %s\n", strerror(errno));
			return 1;
		}
		if (r.state != MPCG_STATE_ASSESSED && r.state != MPCG_STATE_PENDING)
			return 2;
		x->reassessments++;
		x->moved += r.chunks_moved;
		usleep(1000);
	}
	return 0;
}

/* After the run: every block holds the writer's last pass. */
static int integ_verify(void *arg)
{
	struct integ *x = arg;
	uint64_t buf[BLK / 8];
	long i, seq;
	int fd;

	fd = open(x->path, O_RDONLY);
	if (fd < 0)
		return 10;
	for (i = 0; i < INTEG_BLOCKS; i++) {
		if (pread(fd, buf, BLK, i * BLK) != BLK)
			return 11;
		seq = blk_seq(buf, i);
		if (seq != x->passes) {
			fprintf(stderr, "# block %ld: sequence %ld, last pass %ld\n",
				i, seq, x->passes);
			return 1;
		}
	}
	return 0;
}

static int integ_create(void *arg)
{
	struct integ *x = arg;
	int fd = open(x->path, O_RDWR | O_CREAT | O_EXCL, 0644);

	if (fd < 0 || ftruncate(fd, INTEG_SIZE))
		return 1;
	return close(fd);
}

/* Has one of @pids exited? (without reaping it) */
static int any_exited(const pid_t *pids, int n)
{
	siginfo_t si;
	int i;

	for (i = 0; i < n; i++) {
		memset(&si, 0, sizeof(si));
		if (!waitid(P_PID, pids[i], &si, WEXITED | WNOHANG | WNOWAIT) &&
		    si.si_pid == pids[i])
			return 1;
	}
	return 0;
}

/*
 * A check point: pause the reassessing process (pids[3]), freeze a, b
 * and c, reassess and check everything.  Returns the number of problems
 * (-1: the pause or the freeze failed).  Leaves nothing paused or frozen.
 */
static int integ_checkpoint(FIXTURE_DATA(eng) *self, struct integ *x,
			    pid_t reassessor, long *moved)
{
	struct mpcg_reassess r;
	long req = x->hold_req + 1;
	int errs = -1, i;

	x->hold_req = req;
	x->hold = 1;
	for (i = 0; i < 1000 && x->hold_ack != req; i++) {
		if (any_exited(&reassessor, 1))
			goto out;
		usleep(1000);
	}
	if (x->hold_ack != req) {
		fprintf(stderr, "# the reassessing process did not pause\n");
		goto out;
	}
	x->freezes++;
	if (cg_freeze(cg_parent, 1)) {
		fprintf(stderr, "# cannot freeze a, b and c: %s\n", strerror(errno));
		goto thaw;
	}
	errs = mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, NULL, &r);
	if (!errs)
		*moved += r.chunks_moved;
thaw:
	if (cg_freeze(cg_parent, 0)) {
		fprintf(stderr, "# cannot thaw a, b and c: %s\n", strerror(errno));
		errs = -1;
	}
	x->freezes++;
out:
	x->hold = 0;
	return errs;
}

TEST_F_TIMEOUT(eng, integrity_under_moves, 600)
{
	static const char * const what[] = { "writer", "reader", "churn",
					     "reassess" };
	long checks = 0, check_errors = 0, check_moved = 0;
	double t0, last, secs = INTEG_SECONDS;
	struct mpcg_reassess r;
	struct mpcg_snap s;
	struct integ *x;
	pid_t pids[4];
	int i, errs;

	x = mmap(NULL, sizeof(*x), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, x);
	memset(x, 0, sizeof(*x));
	if (getenv("MPCG_INTEG_SECONDS"))
		secs = atof(getenv("MPCG_INTEG_SECONDS"));
	ASSERT_EQ(0, eng_mount(self, "proportional"));
	snprintf(x->path, sizeof(x->path), "%s", self->path);
	snprintf(x->cg_b, sizeof(x->cg_b), "%s", self->b->path);
	ASSERT_EQ(0, cg_run(self->a->path, integ_create, x));
	ASSERT_LE(0, open_ctl(self));

	pids[0] = mpcg_spawn(self->a->path, integ_writer, x);
	ASSERT_LT(0, pids[0]);
	for (t0 = now(); x->passes < 1 && now() - t0 < 60;)
		usleep(10000);
	ASSERT_LE(1, x->passes);
	pids[1] = mpcg_spawn(self->c->path, integ_reader, x);
	pids[2] = mpcg_spawn(NULL, integ_churn, x);
	pids[3] = mpcg_spawn(NULL, integ_reassess, x);
	ASSERT_LT(0, pids[1]);
	ASSERT_LT(0, pids[2]);
	ASSERT_LT(0, pids[3]);
	for (t0 = last = now(); now() - t0 < secs && !any_exited(pids, 4);) {
		usleep(20000);
		if (now() - last < 0.5)
			continue;
		last = now();
		errs = integ_checkpoint(self, x, pids[3], &check_moved);
		checks++;
		if (errs) {
			TH_LOG("check point %ld: %d problems", checks, errs);
			check_errors++;
		}
		/* The time the check took does not count. */
		t0 += now() - last;
		last = now();
	}
	x->stop = 1;
	for (i = 0; i < 4; i++) {
		int status = mpcg_wait(pids[i]);

		if (status)
			TH_LOG("%s: exit status %d", what[i], status);
		EXPECT_EQ(0, status);
	}
	TH_LOG("%ld writer passes, %ld reader passes, %ld joins of b, %ld reassessments moved %ld chunks",
	       x->passes, x->reads, x->joins, x->reassessments, x->moved);
	TH_LOG("%ld check points, frozen, moved %ld chunks", checks,
	       check_moved);
	EXPECT_LE(2, checks);
	EXPECT_EQ(0, check_errors);
	EXPECT_LE(2, x->passes);
	EXPECT_LE(1, x->reads);
	EXPECT_LE(1, x->joins);
	EXPECT_LT(0, x->moved) TH_LOG("no chunk moved: nothing was tested");

	/* Every block holds the last pass. */
	EXPECT_EQ(0, cg_run(self->c->path, integ_verify, x));
	/* Everyone left: the owner pays it all. */
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, s.st.nr_members);
	EXPECT_TRUE(pays(&s, self->a, MB(INTEG_SIZE)));
	mpcg_snap_free(&s);
	munmap(x, sizeof(*x));
}

/*
 * A child forked into another cgroup: its inherited mapping stays with the
 * parent's member (its touches count for a, b pays nothing), keeps a a
 * member after the parent exits, and a mapping it makes itself is b's.
 */
TEST_F_TIMEOUT(eng, fork_into_other_cgroup, 300)
{
	const struct mpcg_member_info *ma;
	struct mpcg_worker wa, wk;
	struct mpcg_reassess r;
	struct mpcg_snap s;
	long p, q, i, found = 0;
	int fd;

	ASSERT_EQ(0, eng_mount(self, "proportional"));
	ASSERT_EQ(0, mpcg_worker_start(&wa, self->a->path, "wa"));
	p = w_map_file(&wa, self->path, 16 * MiB, 16 * MiB, W_WRITE);
	ASSERT_NE(0, p);
	ASSERT_LE(0, open_ctl(self));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, NULL, &r));

	ASSERT_EQ(0, w_fork(&wa, &wk, self->b->path, "wk"));
	ASSERT_EQ(0, w_touch(&wk, p, 16 * MiB, W_READ));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, r.chunks_moved);
	EXPECT_EQ(1, s.st.nr_members);
	EXPECT_FALSE(is_member(&s, self->b));
	ma = mpcg_snap_member(&s, self->a->id);
	ASSERT_NE(NULL, ma);
	EXPECT_EQ(2, ma->nr_attachments);
	for (i = 0; i < s.na; i++)
		if (s.a[i].pid == (__u32)wk.pid) {
			found++;
			EXPECT_EQ(self->a->id, s.a[i].cgroup_id);
			EXPECT_EQ(MPCG_ATTACH_MAP, s.a[i].kind);
			EXPECT_STREQ("wk", (char *)s.a[i].comm);
		}
	EXPECT_EQ(1, found);
	EXPECT_TRUE(pays(&s, self->a, 16));
	EXPECT_TRUE(pays(&s, self->b, 0));
	mpcg_snap_free(&s);

	/* The parent exits: the child keeps a a member. */
	ASSERT_EQ(0, w_exit(&wa));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, r.chunks_moved);
	EXPECT_TRUE(is_member(&s, self->a));
	EXPECT_TRUE(pays(&s, self->a, 16));
	mpcg_snap_free(&s);

	/* A mapping the child makes is b's: b touches the first half. */
	fd = w_open(&wk, self->path, O_RDWR);
	ASSERT_LE(0, fd);
	q = w_mmap(&wk, fd, 0, 8 * MiB, PROT_READ, MAP_SHARED);
	ASSERT_NE(0, q);
	ASSERT_EQ(0, w_touch(&wk, q, 8 * MiB, W_READ));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(is_member(&s, self->b));
	EXPECT_TRUE(pays(&s, self->a, 12));
	EXPECT_TRUE(pays(&s, self->b, 4));
	mpcg_snap_free(&s);

	/* The inherited mapping goes: a leaves, b pays it all. */
	ASSERT_EQ(0, w_munmap(&wk, p, 16 * MiB));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_FALSE(is_member(&s, self->a));
	EXPECT_TRUE(pays(&s, self->a, 0));
	EXPECT_TRUE(pays(&s, self->b, 16));
	mpcg_snap_free(&s);
}

/* The attachments of @cg in @s, in order of offset: [offset, length]. */
static int maps_of(const struct mpcg_snap *s, const struct mpcg_cg *cg,
		   long *out, int max)
{
	int i, j, n = 0;

	for (i = 0; i < s->na; i++)
		if (s->a[i].cgroup_id == cg->id && s->a[i].kind == MPCG_ATTACH_MAP &&
		    n < max) {
			for (j = n; j > 0 && out[2 * (j - 1)] > (long)s->a[i].offset; j--) {
				out[2 * j] = out[2 * (j - 1)];
				out[2 * j + 1] = out[2 * (j - 1) + 1];
			}
			out[2 * j] = s->a[i].offset;
			out[2 * j + 1] = s->a[i].length;
			n++;
		}
	return n;
}

/* mremap grows, moves and shrinks a mapping: same attachment, same member. */
TEST_F_TIMEOUT(eng, mremap_keeps_member, 300)
{
	struct mpcg_worker wa, wb;
	struct mpcg_reassess r;
	struct mpcg_snap s;
	long p, q, res, m[8];
	int fd;

	ASSERT_EQ(0, eng_mount(self, "proportional"));
	ASSERT_EQ(0, mpcg_worker_start(&wa, self->a->path, "wa"));
	ASSERT_EQ(0, mpcg_worker_start(&wb, self->b->path, "wb"));
	fd = w_open(&wa, self->path, O_RDWR | O_CREAT | O_EXCL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mpcg_worker_cmd(&wa, W_FTRUNCATE, fd, 16 * MiB, 0, 0, 0, NULL));
	p = w_mmap(&wa, fd, 0, 8 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(0, p);
	ASSERT_EQ(0, mpcg_worker_cmd(&wa, W_TOUCH, p, 8 * MiB, W_FILL, 5, 0, NULL));
	ASSERT_LE(0, open_ctl(self));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, NULL, &r));

	/* Grow (moving it if need be) and fill the new half. */
	q = mpcg_worker_cmd(&wa, W_MREMAP, p, 8 * MiB, 16 * MiB, MREMAP_MAYMOVE, 0, NULL);
	ASSERT_NE(-1, q) TH_LOG("mremap: %s", strerror(errno));
	ASSERT_EQ(0, mpcg_worker_cmd(&wa, W_TOUCH, q + 8 * MiB, 8 * MiB, W_FILL,
				     5, 8 * MiB, NULL));
	ASSERT_NE(0, w_map_file(&wb, self->path, 0, 16 * MiB, W_READ));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	ASSERT_EQ(1, maps_of(&s, self->a, m, 4));
	EXPECT_EQ(0, m[0]);
	EXPECT_EQ(16 * MiB, m[1]);
	EXPECT_EQ(1, mpcg_snap_member(&s, self->a->id)->nr_attachments);
	EXPECT_TRUE(pays(&s, self->a, 8));
	EXPECT_TRUE(pays(&s, self->b, 8));
	mpcg_snap_free(&s);

	/* Move it to a fixed place. */
	res = w_mmap(&wa, -1, 0, 16 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
	ASSERT_NE(0, res);
	ASSERT_EQ(res, mpcg_worker_cmd(&wa, W_MREMAP, q, 16 * MiB, 16 * MiB,
				       MREMAP_MAYMOVE | MREMAP_FIXED, res, NULL));
	EXPECT_EQ(0, mpcg_worker_cmd(&wa, W_TOUCH, res, 16 * MiB, W_VERIFY, 5, 0, NULL));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, r.chunks_moved);
	ASSERT_EQ(1, maps_of(&s, self->a, m, 4));
	EXPECT_EQ(16 * MiB, m[1]);
	EXPECT_TRUE(pays(&s, self->a, 8));
	mpcg_snap_free(&s);

	/* Shrink it: still one attachment of a. */
	ASSERT_EQ(res, mpcg_worker_cmd(&wa, W_MREMAP, res, 16 * MiB, 4 * MiB, 0, 0, NULL));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, r.chunks_moved);
	ASSERT_EQ(1, maps_of(&s, self->a, m, 4));
	EXPECT_EQ(4 * MiB, m[1]);
	EXPECT_TRUE(is_member(&s, self->a));
	mpcg_snap_free(&s);

	/* Gone (its fd never did I/O): a leaves, b pays. */
	ASSERT_EQ(0, w_munmap(&wa, res, 4 * MiB));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_FALSE(is_member(&s, self->a));
	EXPECT_TRUE(pays(&s, self->a, 0));
	EXPECT_TRUE(pays(&s, self->b, 16));
	mpcg_snap_free(&s);
	/* b still sees a's data. */
	EXPECT_EQ(0, mpcg_worker_cmd(&wb, W_PREAD,
				     w_open(&wb, self->path, O_RDONLY), 0,
				     16 * MiB, 5, 0, NULL));
}

/* Unmapping the middle splits a mapping: b stays until the last piece goes. */
TEST_F_TIMEOUT(eng, partial_munmap, 300)
{
	struct mpcg_worker wa, wb;
	struct mpcg_reassess r;
	struct mpcg_snap s;
	long q, m[8];

	ASSERT_EQ(0, eng_mount(self, "proportional"));
	ASSERT_EQ(0, mpcg_worker_start(&wa, self->a->path, "wa"));
	ASSERT_EQ(0, mpcg_worker_start(&wb, self->b->path, "wb"));
	ASSERT_NE(0, w_map_file(&wa, self->path, 16 * MiB, 16 * MiB, W_WRITE));
	q = w_map_file(&wb, self->path, 0, 16 * MiB, W_READ);
	ASSERT_NE(0, q);
	ASSERT_LE(0, open_ctl(self));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, NULL, &r));

	ASSERT_EQ(0, w_munmap(&wb, q + 6 * MiB, 4 * MiB));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, r.chunks_moved);
	ASSERT_EQ(2, maps_of(&s, self->b, m, 4));
	EXPECT_EQ(0, m[0]);
	EXPECT_EQ(6 * MiB, m[1]);
	EXPECT_EQ(10 * MiB, m[2]);
	EXPECT_EQ(6 * MiB, m[3]);
	EXPECT_TRUE(pays(&s, self->b, 8));
	mpcg_snap_free(&s);

	ASSERT_EQ(0, w_munmap(&wb, q, 6 * MiB));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, r.chunks_moved);
	EXPECT_TRUE(is_member(&s, self->b));
	EXPECT_EQ(1, maps_of(&s, self->b, m, 4));
	mpcg_snap_free(&s);

	ASSERT_EQ(0, w_munmap(&wb, q + 10 * MiB, 6 * MiB));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_FALSE(is_member(&s, self->b));
	EXPECT_TRUE(pays(&s, self->a, 16));
	EXPECT_TRUE(pays(&s, self->b, 0));
	mpcg_snap_free(&s);
}

/*
 * A departed member's cgroup is removed, before (c) or after (b) the
 * reassessment that takes its chunks away: rmdir works, the accounting
 * stays right, no charge is left behind in the parent, and both removed
 * cgroups are freed (mpcg drops its reference once a member pays nothing:
 * no zombie cgroup stays).
 */
TEST_F_TIMEOUT(eng, rmdir_departed_member, 300)
{
	struct mpcg_worker wa, wb, wc;
	struct mpcg_reassess r;
	struct mpcg_snap s;
	long parent_base, rest, dying0, dying;

	ASSERT_EQ(0, cg_drain_stocks());
	parent_base = cg_charge(cg_parent);
	ASSERT_LE(0, parent_base);
	dying0 = cg_nr_dying(cg_parent);
	ASSERT_LE(0, dying0);
	ASSERT_EQ(0, eng_mount(self, "proportional"));
	ASSERT_EQ(0, mpcg_worker_start(&wa, self->a->path, "wa"));
	ASSERT_EQ(0, mpcg_worker_start(&wb, self->b->path, "wb"));
	ASSERT_EQ(0, mpcg_worker_start(&wc, self->c->path, "wc"));
	ASSERT_NE(0, w_map_file(&wa, self->path, 16 * MiB, 16 * MiB, W_WRITE));
	ASSERT_NE(0, w_map_file(&wc, self->path, 0, 16 * MiB, W_READ));
	ASSERT_LE(0, open_ctl(self));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(pays(&s, self->c, 8));
	mpcg_snap_free(&s);

	/* c leaves and its cgroup goes while it still pays. */
	ASSERT_EQ(0, w_exit(&wc));
	EXPECT_EQ(0, rmdir(self->c->path)) TH_LOG("rmdir c: %s", strerror(errno));
	self->c->removed = 1;
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(pays(&s, self->a, 16));
	EXPECT_TRUE(pays(&s, self->c, 0));
	mpcg_snap_free(&s);

	/* b comes and goes; its cgroup is removed after it paid nothing. */
	ASSERT_NE(0, w_map_file(&wb, self->path, 0, 16 * MiB, W_READ));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(pays(&s, self->b, 8));
	mpcg_snap_free(&s);
	ASSERT_EQ(0, w_exit(&wb));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(pays(&s, self->b, 0));
	mpcg_snap_free(&s);
	EXPECT_EQ(0, rmdir(self->b->path)) TH_LOG("rmdir b: %s", strerror(errno));
	self->b->removed = 1;
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, r.chunks_moved);
	EXPECT_TRUE(pays(&s, self->a, 16));
	mpcg_snap_free(&s);

	/* What the parent is charged is a's: nothing stuck in dead c or b. */
	ASSERT_EQ(0, cg_drain_stocks());
	rest = cg_charge(cg_parent) - parent_base -
	       (cg_charge(self->a->path) - self->a->base);
	EXPECT_TRUE(near(rest, 0, MPCG_CHARGE_TOL))
		TH_LOG("%.2fM charged to the parent outside a", MB(rest));

	/* The region still exists: nothing of it pins removed c or b. */
	dying = cg_wait_nr_dying(cg_parent, dying0, 20);
	EXPECT_EQ(dying0, dying)
		TH_LOG("%ld removed cgroups under the parent not freed after 20 s",
		       dying - dying0);
}

/* The sum over a, b and c of what their charge grew by. */
static long children_growth(void)
{
	long sum = 0;
	int i;

	for (i = 0; i < mpcg_ncgs; i++)
		if (!mpcg_cgs[i].removed)
			sum += cg_charge(mpcg_cgs[i].path) - mpcg_cgs[i].base;
	return sum;
}

/*
 * The owner's cgroup is removed while the file stays: a wrote it, b read
 * half, both exited (the owner, a, pays it all), then a is removed with
 * the automatic reassessment on.  mpcg's periodic scan for removed owners
 * (every 10 s) marks the region changed; the reassessment that follows
 * makes the nearest live ancestor, the test parent, the owner and moves
 * a's chunks to it, and drops a's member, so removed a is freed.
 * Unlinking the file gives every charge back.
 */
TEST_F_TIMEOUT(eng, rmdir_owner, 300)
{
	const struct mpcg_member_info *mp;
	unsigned long long parent_id;
	struct mpcg_worker wa, wb;
	struct mpcg_reassess r;
	struct mpcg_snap s;
	long parent_base, rest, dying0, dying;
	double t0;

	parent_id = cg_id(cg_parent);
	ASSERT_NE(0, parent_id);
	ASSERT_EQ(0, cg_drain_stocks());
	parent_base = cg_charge(cg_parent);
	ASSERT_LE(0, parent_base);
	dying0 = cg_nr_dying(cg_parent);
	ASSERT_LE(0, dying0);
	ASSERT_EQ(0, eng_mount(self, "proportional"));
	ASSERT_EQ(0, mpcg_worker_start(&wa, self->a->path, "wa"));
	ASSERT_EQ(0, mpcg_worker_start(&wb, self->b->path, "wb"));
	ASSERT_NE(0, w_map_file(&wa, self->path, 16 * MiB, 16 * MiB, W_WRITE));
	ASSERT_NE(0, w_map_file(&wb, self->path, 0, 8 * MiB, W_READ));
	ASSERT_LE(0, open_ctl(self));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(pays(&s, self->a, 12));
	EXPECT_TRUE(pays(&s, self->b, 4));
	mpcg_snap_free(&s);

	/* Everybody exits, the file stays (our fd): the owner pays 16. */
	ASSERT_EQ(0, w_exit(&wa));
	ASSERT_EQ(0, w_exit(&wb));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(self->a->id, s.st.owner_cgroup_id);
	EXPECT_TRUE(pays(&s, self->a, 16));
	EXPECT_TRUE(pays(&s, self->b, 0));
	mpcg_snap_free(&s);

	/* a is removed; the automatic reassessment is on. */
	ASSERT_EQ(0, mpcg_param_write("auto_reassess_ms", 100));
	ASSERT_EQ(0, rmdir(self->a->path)) TH_LOG("rmdir a: %s", strerror(errno));
	self->a->removed = 1;
	/* Until the scan finds it, the owner's member keeps a (a zombie). */
	EXPECT_EQ(dying0 + 1, cg_nr_dying(cg_parent));
	for (t0 = now(); now() - t0 < 25; usleep(100000)) {
		ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
		if (s.st.owner_cgroup_id == parent_id &&
		    s.st.state == MPCG_STATE_ASSESSED &&
		    mpcg_snap_paid(&s, parent_id) == 16 * MiB)
			break;
		mpcg_snap_free(&s);
	}
	ASSERT_GT(25, now() - t0)
		TH_LOG("the region is still owned by removed a after 25 s");
	TH_LOG("the parent owns and pays for it %.1f s after rmdir", now() - t0);
	EXPECT_EQ(0, mpcg_check_snap(&s, MPCG_CHECK_CHARGES));
	mp = mpcg_snap_member(&s, parent_id);
	ASSERT_NE(NULL, mp);
	EXPECT_TRUE(mp->flags & MPCG_MEMBER_OWNER);
	EXPECT_EQ(0, mp->nr_attachments);
	EXPECT_EQ(16 * MiB, (long)mp->fair_share_bytes);
	/* a's member is gone: it paid nothing and was not the owner. */
	EXPECT_EQ(NULL, mpcg_snap_member(&s, self->a->id));
	EXPECT_EQ(16, mpcg_snap_chunks_of(&s, parent_id));
	mpcg_snap_free(&s);
	/*
	 * The parent itself is charged for it (the kernel reparented a's
	 * charges at rmdir already; mpcg's move kept them there).
	 */
	ASSERT_EQ(0, cg_drain_stocks());
	rest = cg_charge(cg_parent) - parent_base - children_growth();
	EXPECT_TRUE(near(rest, 16 * MiB, MPCG_CHARGE_TOL))
		TH_LOG("the parent's own charge grew by %.2fM, expected 16M",
		       MB(rest));
	/* Nothing pins removed a any more. */
	dying = cg_wait_nr_dying(cg_parent, dying0, 20);
	EXPECT_EQ(dying0, dying)
		TH_LOG("%ld removed cgroups under the parent not freed after 20 s",
		       dying - dying0);

	/* Unlinked and closed: every charge back to where it was. */
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, unlink(self->path));
	ASSERT_EQ(0, cg_drain_stocks());
	rest = cg_charge(cg_parent) - parent_base - children_growth();
	EXPECT_TRUE(near(rest, 0, MPCG_CHARGE_TOL))
		TH_LOG("the parent is still charged %.2fM", MB(rest));
	EXPECT_EQ(dying0, cg_nr_dying(cg_parent));
}

/* For cg_run(): make files f0..f<n-1> of @size each, allocated, and p. */
struct race_files {
	const char *dir;
	int n;
	long size;
};

static int make_race_files(void *arg)
{
	struct race_files *rf = arg;
	char path[PATH_MAX];
	int i, fd;

	for (i = 0; i <= rf->n; i++) {
		if (i < rf->n)
			snprintf(path, sizeof(path), "%s/f%d", rf->dir, i);
		else
			snprintf(path, sizeof(path), "%s/p", rf->dir);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || fallocate(fd, 0, 0, i < rf->n ? rf->size : CHUNK))
			return 1;
		close(fd);
	}
	return 0;
}

/*
 * Regions whose owner's cgroup was removed are torn down right when the
 * periodic scan for removed owners runs.  The scan queues the automatic
 * reassessment of every region it finds; a region being torn down must
 * not be found (it is taken off the list before its work is cancelled),
 * else the work runs on freed memory: KASAN on the debug kernel, maybe a
 * crash elsewhere.  The test finds when the scan runs (every 10 s, a
 * probe region turns pending), and closes the last descriptors of 400 MiB
 * of unlinked regions from just before the next scan until after it (its
 * timer may fire up to 256 ms late), so that most of that time is spent
 * tearing them down.  The scan runs on CPU 0 (the unbound workqueues' CPU
 * mask) and the teardown on CPU 1: a CPU busy tearing down may hold the
 * scan back until it is done (a chunk's teardown has no scheduling
 * point).  With the old order (cancel, then unlink) this crashed the
 * stock kernel's VM in two runs out of two (mpcg_reassess() on a freed
 * region); the debug kernel's VM has one CPU and no preemption, where the
 * two cannot overlap.  The probe itself must then be rehomed.
 */
#define RACE_FILES	16
#define RACE_SIZE	(25 * MiB)

TEST_F_TIMEOUT(eng, destroy_during_owner_scan, 300)
{
	struct race_files rf = { self->dir, RACE_FILES, RACE_SIZE };
	unsigned long long parent_id = cg_id(cg_parent);
	struct mpcg_region_stat st;
	struct mpcg_reassess r;
	double t0, scan, first, last;
	char path[PATH_MAX], mask[64];
	int fds[RACE_FILES], i;
	long dying0, dying, ncpu;
	cpu_set_t cpus;

	dying0 = cg_nr_dying(cg_parent);
	ASSERT_LE(0, dying0);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu >= 2 && read_file(WQ_CPUMASK, mask, sizeof(mask)) > 0) {
		mask[strcspn(mask, "\n")] = '\0';
		snprintf(wq_mask_saved, sizeof(wq_mask_saved), "%s", mask);
		ASSERT_EQ(0, write_file(WQ_CPUMASK, "1"));
	}
	ASSERT_EQ(0, eng_mount(self, "proportional"));
	rf.dir = self->dir;
	ASSERT_EQ(0, cg_run(self->a->path, make_race_files, &rf));
	for (i = 0; i < RACE_FILES; i++) {
		snprintf(path, sizeof(path), "%s/f%d", self->dir, i);
		fds[i] = open(path, O_RDONLY);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, unlink(path));
	}
	path_join(self->path, sizeof(self->path), self->dir, "p");
	ASSERT_LE(0, open_ctl(self));
	ASSERT_EQ(0, mpcg_region_reassess(self->fd, &r));
	ASSERT_EQ(MPCG_STATE_ASSESSED, r.state);
	ASSERT_EQ(0, rmdir(self->a->path)) TH_LOG("rmdir a: %s", strerror(errno));
	self->a->removed = 1;

	/* The automatic reassessment is off: only the scan marks p pending. */
	for (t0 = now();; usleep(10000)) {
		ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &st));
		if (st.state == MPCG_STATE_PENDING)
			break;
		ASSERT_GT(25, now() - t0) TH_LOG("no scan for removed owners in 25 s");
	}
	scan = now();
	EXPECT_EQ(self->a->id, st.owner_cgroup_id);
	/* The next scan queues work, which must run on live regions only. */
	ASSERT_EQ(0, mpcg_param_write("auto_reassess_ms", 300));
	if (wq_mask_saved[0]) {
		CPU_ZERO(&cpus);
		CPU_SET(1, &cpus);
		ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpus), &cpus));
	}
	while (now() < scan + 9.95)
		usleep(5000);
	first = now();
	for (i = 0; i < RACE_FILES; i++)
		close(fds[i]);
	last = now();
	if (wq_mask_saved[0]) {
		for (i = 0; i < ncpu && i < CPU_SETSIZE; i++)
			CPU_SET(i, &cpus);
		sched_setaffinity(0, sizeof(cpus), &cpus);
		write_file(WQ_CPUMASK, "%s", wq_mask_saved);
		wq_mask_saved[0] = '\0';
	}
	TH_LOG("regions torn down from %.3f s to %.3f s after a scan",
	       first - scan, last - scan);

	/* That scan (at 10 s to 10.26 s) had p rehomed to the parent. */
	for (t0 = now(); now() - t0 < 15; usleep(50000)) {
		ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &st));
		if (st.owner_cgroup_id == parent_id &&
		    st.state == MPCG_STATE_ASSESSED)
			break;
	}
	EXPECT_EQ(parent_id, st.owner_cgroup_id);
	EXPECT_EQ(MPCG_STATE_ASSESSED, st.state);
	EXPECT_EQ(MiB, (long)st.resident_bytes);
	dying = cg_wait_nr_dying(cg_parent, dying0, 20);
	EXPECT_EQ(dying0, dying);
}

/*
 * What is an attachment: not an fd that only did ioctls or was only
 * opened; an fd from its first I/O on (reading a hole allocates nothing);
 * shared and private mappings; fork's copies (same member).  New chunks
 * are first charged to the toucher; the owner is the creator.
 */
TEST_F_TIMEOUT(eng, attachments, 300)
{
	struct mpcg_worker wa, wb, wc, wd;
	struct mpcg_reassess r;
	struct mpcg_snap s;
	int fd_a, fd_b, fd_c;
	long p, m[4];

	ASSERT_EQ(0, eng_mount(self, "proportional"));
	ASSERT_EQ(0, mpcg_worker_start(&wa, self->a->path, "wa"));
	ASSERT_EQ(0, mpcg_worker_start(&wb, self->b->path, "wb"));
	ASSERT_EQ(0, mpcg_worker_start(&wc, self->c->path, "wc"));
	fd_a = w_open(&wa, self->path, O_RDWR | O_CREAT | O_EXCL);
	ASSERT_LE(0, fd_a);
	ASSERT_EQ(0, mpcg_worker_cmd(&wa, W_FTRUNCATE, fd_a, 8 * MiB, 0, 0, 0, NULL));
	ASSERT_LE(0, open_ctl(self));
	fd_b = w_open(&wb, self->path, O_RDWR);
	ASSERT_LE(0, fd_b);
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_EQ(self->a->id, s.st.owner_cgroup_id);
	EXPECT_EQ(0, s.st.nr_members);
	EXPECT_EQ(0, s.st.nr_attachments);
	EXPECT_EQ(0, s.na);
	EXPECT_EQ(0, (long)s.st.resident_bytes);
	mpcg_snap_free(&s);

	/* b reads a hole: attached, nothing allocated or touched. */
	ASSERT_EQ(0, mpcg_worker_cmd(&wb, W_PREAD, fd_b, 0, 4096, 0, 0, NULL));
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_EQ(1, s.st.nr_members);
	EXPECT_EQ(1, s.st.nr_attachments);
	EXPECT_EQ(0, (long)s.st.resident_bytes);
	ASSERT_EQ(1, s.na);
	EXPECT_EQ((__u32)wb.pid, s.a[0].pid);
	EXPECT_EQ(MPCG_ATTACH_FILE, s.a[0].kind);
	EXPECT_EQ(self->b->id, s.a[0].cgroup_id);
	EXPECT_STREQ("wb", (char *)s.a[0].comm);
	EXPECT_TRUE(is_member(&s, self->b));
	EXPECT_EQ(0, (long)mpcg_snap_member(&s, self->b->id)->touched_bytes);
	mpcg_snap_free(&s);

	/* b writes a byte of chunk 1: resident, charged to b, pending. */
	ASSERT_EQ(0, mpcg_worker_cmd(&wb, W_PWRITE, fd_b, 1 * MiB + 5, 1, 3, 0, NULL));
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_EQ(1 * MiB, (long)s.st.resident_bytes);
	ASSERT_EQ(1, s.nc);
	EXPECT_EQ(1, (long)s.c[0].index);
	EXPECT_EQ(self->b->id, s.c[0].payer_cgroup_id);
	EXPECT_EQ(MPCG_STATE_PENDING, s.st.state);
	EXPECT_EQ(1 * MiB, (long)mpcg_snap_member(&s, self->b->id)->touched_bytes);
	ASSERT_EQ(0, cg_drain_stocks());
	EXPECT_TRUE(near(cg_charge(self->b->path) - self->b->base, 1 * MiB,
			 MPCG_CHARGE_TOL));
	mpcg_snap_free(&s);

	/* c maps [2M, 6M) privately: attached; reading allocates, c pays. */
	fd_c = w_open(&wc, self->path, O_RDONLY);
	ASSERT_LE(0, fd_c);
	p = w_mmap(&wc, fd_c, 2 * MiB, 4 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(0, p);
	ASSERT_EQ(0, w_close(&wc, fd_c));
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_TRUE(is_member(&s, self->c));
	ASSERT_EQ(1, maps_of(&s, self->c, m, 2));
	EXPECT_EQ(2 * MiB, m[0]);
	EXPECT_EQ(4 * MiB, m[1]);
	mpcg_snap_free(&s);
	ASSERT_EQ(0, w_touch(&wc, p, 4 * MiB, W_READ));
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_EQ(5 * MiB, (long)s.st.resident_bytes);
	EXPECT_EQ(4, mpcg_snap_chunks_of(&s, self->c->id));
	mpcg_snap_free(&s);
	/* A private write copies the page: the region stays zero there. */
	ASSERT_EQ(0, mpcg_worker_cmd(&wc, W_TOUCH, p, 1, W_WRITE, 0, 0, NULL));
	EXPECT_EQ(0, mpcg_worker_cmd(&wb, W_PREAD, fd_b, 2 * MiB, 4096, 0, 0, NULL));
	/* ... and that read() made b a toucher of chunk 2. */
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	ASSERT_EQ(5, s.nc);
	EXPECT_EQ(2, (long)s.c[1].index);
	EXPECT_TRUE(mpcg_snap_touched(&s, 1, self->b->id));
	EXPECT_TRUE(mpcg_snap_touched(&s, 1, self->c->id));
	EXPECT_EQ(2, s.c[1].nr_touchers);
	mpcg_snap_free(&s);
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, NULL, &r));

	/* fork copies c's mapping into c. */
	ASSERT_EQ(0, w_fork(&wc, &wd, NULL, "wd"));
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_EQ(2, s.st.nr_members);
	EXPECT_EQ(2, (long)mpcg_snap_member(&s, self->c->id)->nr_attachments);
	EXPECT_EQ(2, maps_of(&s, self->c, m, 2));
	mpcg_snap_free(&s);
	ASSERT_EQ(0, w_exit(&wd));
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_EQ(1, (long)mpcg_snap_member(&s, self->c->id)->nr_attachments);
	mpcg_snap_free(&s);

	/* b closes its only fd that did I/O: b leaves. */
	ASSERT_EQ(0, w_close(&wb, fd_b));
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_FALSE(is_member(&s, self->b));
	EXPECT_EQ(1, s.st.nr_members);
	mpcg_snap_free(&s);
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(pays(&s, self->b, 0));
	EXPECT_TRUE(pays(&s, self->c, 5));
	mpcg_snap_free(&s);

	/* The last attachment goes: the owner pays. */
	ASSERT_EQ(0, w_exit(&wc));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, s.st.nr_members);
	EXPECT_TRUE(pays(&s, self->a, 5));
	mpcg_snap_free(&s);

	/* fallocate() is I/O too: a's fd attaches, the chunk is a's. */
	ASSERT_EQ(0, mpcg_worker_cmd(&wa, W_FALLOCATE, fd_a, 0, 6 * MiB, 1 * MiB,
				     0, NULL));
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_TRUE(is_member(&s, self->a));
	ASSERT_EQ(1, s.na);
	EXPECT_EQ(MPCG_ATTACH_FILE, s.a[0].kind);
	EXPECT_EQ(6 * MiB, (long)s.st.resident_bytes);
	mpcg_snap_free(&s);
	ASSERT_EQ(0, w_close(&wa, fd_a));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, s.st.nr_members);
	EXPECT_TRUE(pays(&s, self->a, 6));
	mpcg_snap_free(&s);
}

/* An O_TMPFILE region is owned by its creator's cgroup, and freed with it. */
TEST_F_TIMEOUT(eng, tmpfile_owner, 300)
{
	struct mpcg_worker wc;
	struct mpcg_reassess r;
	struct mpcg_snap s;
	char proc[64];
	int fd;

	ASSERT_EQ(0, eng_mount(self, "proportional"));
	ASSERT_EQ(0, mpcg_worker_start(&wc, self->c->path, "wc"));
	fd = w_open(&wc, self->dir, O_TMPFILE | O_RDWR);
	ASSERT_LE(0, fd) TH_LOG("O_TMPFILE: %s", strerror(errno));
	ASSERT_EQ(0, mpcg_worker_cmd(&wc, W_PWRITE, fd, 0, 2 * MiB, 7, 0, NULL));
	snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", wc.pid, fd);
	self->fd = open(proc, O_RDONLY);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(self->c->id, s.st.owner_cgroup_id);
	EXPECT_TRUE(is_member(&s, self->c));
	EXPECT_TRUE(pays(&s, self->c, 2));
	mpcg_snap_free(&s);
	/* Its creator gone, it is still there (our fd) and c still pays. */
	ASSERT_EQ(0, w_exit(&wc));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(0, s.st.nr_members);
	EXPECT_TRUE(pays(&s, self->c, 2));
	mpcg_snap_free(&s);
	/* The last reference: freed, uncharged. */
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, cg_drain_stocks());
	EXPECT_TRUE(near(cg_charge(self->c->path) - self->c->base, 0,
			 MPCG_CHARGE_TOL));
}

/* The automatic reassessment: after auto_reassess_ms, or never with 0. */
TEST_F_TIMEOUT(eng, auto_reassess, 300)
{
	struct mpcg_worker wa, wb;
	struct mpcg_reassess r;
	struct mpcg_snap s;
	__u64 n;
	double t0;

	ASSERT_EQ(0, eng_mount(self, "proportional"));
	ASSERT_EQ(0, mpcg_param_write("auto_reassess_ms", 100));
	ASSERT_EQ(0, mpcg_worker_start(&wa, self->a->path, "wa"));
	ASSERT_EQ(0, mpcg_worker_start(&wb, self->b->path, "wb"));
	ASSERT_NE(0, w_map_file(&wa, self->path, 16 * MiB, 16 * MiB, W_WRITE));
	ASSERT_NE(0, w_map_file(&wb, self->path, 0, 16 * MiB, W_READ));
	ASSERT_LE(0, open_ctl(self));
	for (t0 = now(); now() - t0 < 10; usleep(20000)) {
		ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
		if (s.st.state == MPCG_STATE_ASSESSED &&
		    mpcg_snap_paid(&s, self->b->id) == 8 * MiB)
			break;
		mpcg_snap_free(&s);
	}
	ASSERT_GT(10, now() - t0) TH_LOG("not reassessed after 10s");
	TH_LOG("assessed %.0f ms after the last change", (now() - t0) * 1000);
	EXPECT_EQ(0, mpcg_check_snap(&s, MPCG_CHECK_CHARGES));
	EXPECT_LE(1, (long)s.st.reassessments);
	EXPECT_TRUE(pays(&s, self->a, 8));
	mpcg_snap_free(&s);

	/* Off: a change waits for an explicit reassessment. */
	ASSERT_EQ(0, mpcg_param_write("auto_reassess_ms", 0));
	ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &s.st));
	n = s.st.reassessments;
	ASSERT_EQ(0, w_exit(&wb));
	usleep(500000);
	ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &s.st));
	EXPECT_EQ(MPCG_STATE_PENDING, s.st.state);
	EXPECT_EQ(n, s.st.reassessments);
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(pays(&s, self->a, 16));
	mpcg_snap_free(&s);
}

/*
 * A shortfall with the automatic reassessment on: b's memory.max is below
 * its share.  The reassessment that comes up short retries by itself 1 s
 * later, then after 2 s, 4 s, ... (at most 64 s), never in a tight loop;
 * meanwhile the region stays pending with the shortfall reported, and
 * nobody is OOM-killed.  Once the limit is raised, the next retry, with no
 * explicit reassessment, moves the rest: assessed, with every invariant
 * and the fewest moves, as if it had been asked for.
 */
TEST_F_TIMEOUT(eng, shortfall_retry_backoff, 300)
{
	static const double delay[] = { 1, 2, 4, 8 };	/* HZ << backoff */
	struct mpcg_snap before, s;
	struct mpcg_region_stat st;
	struct mpcg_worker wa, wb;
	struct mpcg_reassess r;
	double t[5];
	__u64 n0;
	int i;

	ASSERT_EQ(0, eng_mount(self, "proportional"));
	ASSERT_EQ(0, mpcg_worker_start(&wa, self->a->path, "wa"));
	ASSERT_EQ(0, mpcg_worker_start(&wb, self->b->path, "wb"));
	ASSERT_NE(0, w_map_file(&wa, self->path, 64 * MiB, 64 * MiB, W_WRITE));
	ASSERT_LE(0, open_ctl(self));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, NULL, &r));
	ASSERT_EQ(0, cg_set_max(self->b->path, 16 * MiB));
	ASSERT_NE(0, w_map_file(&wb, self->path, 0, 64 * MiB, W_READ));

	/*
	 * b touched it all while the automatic reassessment was off, so none
	 * is queued.  With it on, this reassessment comes up short and
	 * schedules the first retry.
	 */
	ASSERT_EQ(0, mpcg_param_write("auto_reassess_ms", 100));
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &before));
	ASSERT_EQ(0, mpcg_region_reassess(self->fd, &r));
	t[0] = now();
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	/* Charges are compared at the end: that takes time, 1 s is short. */
	EXPECT_EQ(0, mpcg_check_reassess(&before, &s, &r, MPCG_CHECK_PENDING));
	EXPECT_EQ(MPCG_STATE_PENDING, r.state);
	EXPECT_LT(0, (long)r.shortfall_bytes);
	n0 = s.st.reassessments;
	mpcg_snap_free(&before);
	mpcg_snap_free(&s);

	/* Three retries by themselves, each one twice as late as the last. */
	for (i = 1; i <= 3; i++) {
		for (;;) {
			ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &st));
			if (st.reassessments >= n0 + i)
				break;
			ASSERT_GT(t[i - 1] + 1.5 * delay[i - 1] + 1.5, now())
				TH_LOG("no retry %d within %.1f s of the last",
				       i, 1.5 * delay[i - 1] + 1.5);
			usleep(20000);
		}
		t[i] = now();
		EXPECT_EQ(n0 + i, st.reassessments)
			TH_LOG("%llu reassessments instead of 1 after %.2f s",
			       (unsigned long long)(st.reassessments - n0 - i + 1),
			       t[i] - t[i - 1]);
		EXPECT_LE(0.9 * delay[i - 1], t[i] - t[i - 1])
			TH_LOG("retry %d came %.2f s after the last, not %.0f s",
			       i, t[i] - t[i - 1], delay[i - 1]);
		EXPECT_EQ(MPCG_STATE_PENDING, st.state);
		EXPECT_LT(0, (long)st.shortfall_bytes);
	}
	TH_LOG("retries %.2f s, %.2f s and %.2f s apart", t[1] - t[0],
	       t[2] - t[1], t[3] - t[2]);
	EXPECT_EQ(0, cg_read_key(self->b->path, "memory.events", "oom"));
	EXPECT_EQ(0, cg_read_key(self->b->path, "memory.events", "oom_kill"));
	EXPECT_LT(0, cg_read_key(self->b->path, "memory.events", "max"));
	EXPECT_EQ(wb.pid, mpcg_worker_cmd(&wb, W_PING, 0, 0, 0, 0, 0, NULL));

	/* The limit is raised: the next retry (8 s on) moves the rest. */
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &before));
	ASSERT_EQ(n0 + 3, before.st.reassessments);
	ASSERT_EQ(0, cg_set_max(self->b->path, -1));
	for (;;) {
		ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &st));
		if (st.state == MPCG_STATE_ASSESSED)
			break;
		ASSERT_GT(t[3] + 1.5 * delay[3] + 1.5, now())
			TH_LOG("not assessed %.1f s after the last retry",
			       now() - t[3]);
		usleep(50000);
	}
	t[4] = now();
	TH_LOG("assessed by itself %.2f s after the last retry", t[4] - t[3]);
	EXPECT_LE(0.9 * delay[3], t[4] - t[3]);
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	/* That retry, checked as if it were an explicit reassessment. */
	memset(&r, 0, sizeof(r));
	r.state = s.st.state;
	r.chunks_moved = s.st.chunks_moved - before.st.chunks_moved;
	r.bytes_moved = s.st.bytes_moved - before.st.bytes_moved;
	r.shortfall_bytes = s.st.shortfall_bytes;
	EXPECT_EQ(0, mpcg_check_reassess(&before, &s, &r, MPCG_CHECK_CHARGES));
	EXPECT_TRUE(pays(&s, self->a, 32));
	EXPECT_TRUE(pays(&s, self->b, 32));
	mpcg_snap_free(&before);
	mpcg_snap_free(&s);

	/* Assessed, nothing changes: no more retries. */
	usleep(1500000);
	ASSERT_EQ(0, mpcg_region_get_stat(self->fd, &st));
	EXPECT_EQ(n0 + 4, st.reassessments);
	EXPECT_EQ(MPCG_STATE_ASSESSED, st.state);
	EXPECT_EQ(0, cg_read_key(self->b->path, "memory.events", "oom_kill"));
}

/* Truncate and hole punch free chunks; the rest is shared again. */
TEST_F_TIMEOUT(eng, truncate_and_punch_hole, 300)
{
	struct mpcg_worker wa, wb;
	struct mpcg_reassess r;
	struct mpcg_snap s;
	int fd;

	ASSERT_EQ(0, eng_mount(self, "proportional"));
	ASSERT_EQ(0, mpcg_worker_start(&wa, self->a->path, "wa"));
	ASSERT_EQ(0, mpcg_worker_start(&wb, self->b->path, "wb"));
	ASSERT_NE(0, w_map_file(&wa, self->path, 16 * MiB, 16 * MiB, W_WRITE));
	ASSERT_NE(0, w_map_file(&wb, self->path, 0, 16 * MiB, W_READ));
	ASSERT_LE(0, open_ctl(self));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, NULL, &r));

	fd = w_open(&wa, self->path, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mpcg_worker_cmd(&wa, W_FTRUNCATE, fd, 8 * MiB, 0, 0, 0, NULL));
	ASSERT_EQ(0, mpcg_snap_take(self->fd, &s));
	EXPECT_EQ(8 * MiB, (long)s.st.resident_bytes);
	EXPECT_EQ(MPCG_STATE_PENDING, s.st.state);
	mpcg_snap_free(&s);
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_TRUE(pays(&s, self->a, 4));
	EXPECT_TRUE(pays(&s, self->b, 4));
	mpcg_snap_free(&s);

	ASSERT_EQ(0, mpcg_worker_cmd(&wa, W_FALLOCATE, fd,
				     FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				     0, 2 * MiB, 0, NULL))
		TH_LOG("punch hole: %s", strerror(errno));
	ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES, &s, &r));
	EXPECT_EQ(6 * MiB, (long)s.st.resident_bytes);
	EXPECT_TRUE(pays(&s, self->a, 3));
	EXPECT_TRUE(pays(&s, self->b, 3));
	mpcg_snap_free(&s);
}

TEST_HARNESS_MAIN

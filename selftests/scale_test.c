// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg selftests: any number of member cgroups.
 *
 * 1000 memory cgroups, a process in each, share one 64 MiB file (chunk=64k,
 * equal policy) with its owner, and each also maps one of 100 more files
 * (10 members each).  Every join works; one reassessment makes every member
 * pay its fair share within a chunk (the sum of what they pay is what is
 * resident, each pays 1 or 2 of the 1024 chunks); the member table lists
 * them all; a cgroup's usage lists its regions; and when the processes go,
 * the members are freed (the module's object counters say so).  The
 * engine's checker (selftests/lib/checker.c) works on up to 64 members: the
 * checks here are written out for this scale.
 *
 * Runs as root in the test VM (tools/testing/vm-run).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "mpcg_util.h"
#include "libmpcg.h"

#define NCG		1000
#define NFILES		100
#define CHUNK		(64 * KiB)
#define FSIZE		(64 * MiB)

FIXTURE(scale) {
	char dir[64];
	char path[PATH_MAX];
	long old_auto;
	pid_t pid[NCG];
	char cg[NCG][64];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

FIXTURE_SETUP(scale)
{
	self->old_auto = mpcg_param_read("auto_reassess_ms");
	ASSERT_LE(0, self->old_auto);
	ASSERT_EQ(0, mpcg_param_write("auto_reassess_ms", 0));
	ASSERT_EQ(0, cg_parent_setup()) TH_LOG("cgroups: %s", strerror(errno));
	ASSERT_EQ(0, mpcg_mount(self->dir, sizeof(self->dir),
				"size=256M,chunk=64k,policy=equal"));
	path_join(self->path, sizeof(self->path), self->dir, "shared");
}

FIXTURE_TEARDOWN(scale)
{
	char p[PATH_MAX], name[16];
	int i;

	for (i = 0; i < NCG; i++)
		if (self->pid[i] > 0)
			kill(self->pid[i], SIGKILL);
	for (i = 0; i < NCG; i++)
		if (self->pid[i] > 0)
			waitpid(self->pid[i], NULL, 0);
	unlink(self->path);
	for (i = 0; i < NFILES; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		unlink(path_join(p, sizeof(p), self->dir, name));
	}
	mpcg_umount(self->dir);
	cg_parent_remove();
	if (self->old_auto >= 0)
		mpcg_param_write("auto_reassess_ms", self->old_auto);
}

/* Child: map @shared and @other, touch a chunk of each, say so, wait. */
static void member(const char *shared, const char *other, long chunk, int ready)
{
	volatile char *a, *b;
	int fa, fb;
	char c = 'r';

	fa = open(shared, O_RDONLY);
	fb = open(other, O_RDONLY);
	a = fa < 0 ? MAP_FAILED : mmap(NULL, FSIZE, PROT_READ, MAP_SHARED, fa, 0);
	b = fb < 0 ? MAP_FAILED : mmap(NULL, CHUNK, PROT_READ, MAP_SHARED, fb, 0);
	if (a == MAP_FAILED || b == MAP_FAILED) {
		c = 'e';
	} else {
		(void)a[chunk * CHUNK];
		(void)b[0];
	}
	if (write(ready, &c, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

TEST_F_TIMEOUT(scale, thousand_members, 1200)
{
	char other[NFILES][PATH_MAX], name[16], c;
	struct mpcg_member_info *m, *u;
	struct mpcg_cgroup_usage tot;
	struct mpcg_region_stat st;
	struct mpcg_reassess r;
	long members0, paid, n, k;
	int fd, ready[2], i, ctl;
	double t0;

	members0 = cg_read_key("/sys/kernel/debug/mpcg", "objects", "members");
	fd = open(self->path, O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, FSIZE, 5));
	for (i = 0; i < NFILES; i++) {
		int f;

		snprintf(name, sizeof(name), "f%03d", i);
		path_join(other[i], sizeof(other[i]), self->dir, name);
		f = open(other[i], O_RDWR | O_CREAT, 0644);
		ASSERT_LE(0, f);
		ASSERT_EQ(0, pattern_fill(f, 0, CHUNK, 6));
		close(f);
	}
	ASSERT_EQ(0, pipe(ready));
	t0 = now();
	for (i = 0; i < NCG; i++) {
		snprintf(name, sizeof(name), "s%04d", i);
		ASSERT_EQ(0, cg_create(self->cg[i], sizeof(self->cg[i]), name))
			TH_LOG("cgroup %s: %s", name, strerror(errno));
		self->pid[i] = mpcg_fork();
		ASSERT_LE(0, self->pid[i]);
		if (!self->pid[i]) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (cg_enter(self->cg[i]))
				_exit(1);
			member(self->path, other[i % NFILES],
			       i % (FSIZE / CHUNK), ready[1]);
		}
		ASSERT_EQ(1, read(ready[0], &c, 1));
		ASSERT_EQ('r', c) TH_LOG("member %d could not map the files", i);
	}
	TH_LOG("%d members joined in %.1f s", NCG, now() - t0);

	ASSERT_EQ(0, mpcg_region_get_stat(fd, &st));
	EXPECT_EQ(NCG + 1, st.nr_members);	/* and the owner, this test */
	EXPECT_EQ(NCG + 1, st.nr_member_entries);

	t0 = now();
	ASSERT_EQ(0, mpcg_region_reassess(fd, &r));
	TH_LOG("reassessment of %d members: %.2f s, %llu chunks moved", NCG + 1,
	       now() - t0, (unsigned long long)r.chunks_moved);
	EXPECT_EQ(MPCG_STATE_ASSESSED, r.state);
	EXPECT_EQ(0, (long)r.shortfall_bytes);

	t0 = now();
	n = mpcg_region_members(fd, &m);
	TH_LOG("member table of %ld: %.1f ms", n, (now() - t0) * 1e3);
	ASSERT_EQ(NCG + 1, n);
	paid = 0;
	for (k = 0; k < n; k++) {
		double fair = (double)FSIZE / (NCG + 1);

		paid += m[k].paid_bytes;
		EXPECT_TRUE(m[k].paid_bytes == CHUNK || m[k].paid_bytes == 2 * CHUNK)
			TH_LOG("member %ld pays %llu", k,
			       (unsigned long long)m[k].paid_bytes);
		EXPECT_TRUE(near(m[k].fair_share_bytes, fair, 1))
			TH_LOG("member %ld: fair %llu, expected %.0f", k,
			       (unsigned long long)m[k].fair_share_bytes, fair);
		/* Every member touched its one chunk; the owner all. */
		EXPECT_LE(CHUNK, (long)m[k].touched_bytes);
	}
	free(m);
	EXPECT_EQ(FSIZE, paid);
	/* The file is intact after the moves. */
	EXPECT_EQ(-1, pattern_check(fd, 0, FSIZE, 5));

	/* Usage: a member cgroup is in 2 regions. */
	ctl = mpcg_ctl_open();
	ASSERT_LE(0, ctl);
	n = mpcg_ctl_cgroup_usage(ctl, self->cg[7], &tot, &u);
	ASSERT_EQ(2, n);
	EXPECT_EQ(u[0].paid_bytes + u[1].paid_bytes, tot.paid_bytes);
	free(u);
	n = mpcg_ctl_cgroup_usage(ctl, cg_parent, &tot, NULL);
	EXPECT_EQ(0, n);	/* the parent itself uses nothing */
	close(ctl);

	/* They all go: one reassessment frees them. */
	for (i = 0; i < NCG; i++) {
		kill(self->pid[i], SIGKILL);
		waitpid(self->pid[i], NULL, 0);
		self->pid[i] = 0;
	}
	ASSERT_EQ(0, mpcg_region_reassess(fd, &r));
	ASSERT_EQ(0, mpcg_region_get_stat(fd, &st));
	EXPECT_EQ(1, st.nr_member_entries);
	EXPECT_EQ(FSIZE, (long)st.resident_bytes);
	close(fd);
	for (i = 0; i < NFILES; i++) {
		int f = open(other[i], O_RDONLY);

		ASSERT_LE(0, f);
		EXPECT_EQ(0, mpcg_region_reassess(f, NULL));
		ASSERT_EQ(0, mpcg_region_get_stat(f, &st));
		EXPECT_EQ(1, st.nr_member_entries);
		close(f);
	}
	if (members0 >= 0) {
		/* The 100 other files still have their owner (this cgroup). */
		EXPECT_EQ(members0 + 1 + NFILES,
			  cg_read_key("/sys/kernel/debug/mpcg", "objects", "members"));
	}
}

TEST_HARNESS_MAIN

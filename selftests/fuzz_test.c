// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg ABI fuzzer: random and mutated ioctls on region fds, /dev/mpcg and
 * fds of other kinds, and random mount option strings.
 *
 * Two regions live on one mount: "fuzz", on which the fuzzer may do
 * anything (including MPCG_IOC_SET_POLICY and MPCG_IOC_REASSESS), and
 * "bystander", on which it only issues commands that cannot change it (it
 * never sends MPCG_IOC_SET_POLICY or MPCG_IOC_REASSESS there, nor any other
 * command of the mpcg type with those numbers).  At the end (and every
 * MPCG_FUZZ_CHECK_EVERY calls) the bystander's statistics, members,
 * chunks and attachments tables must be byte-identical to what they were
 * before, and both files' contents unchanged.  Every call must return 0 or
 * a user-visible errno (never a kernel-internal one >= 512), a known mpcg
 * command whose argument pointer is bad must fail with EFAULT, and the
 * process must not be killed by a signal.
 *
 *   MPCG_FUZZ_SEED   PRNG seed (default: time-based; always printed)
 *   MPCG_FUZZ_CALLS  number of calls (default 100000; 1000000 on a kernel with kmemleak, i.e. the debug kernel)
 *   MPCG_FUZZ_CHECK_EVERY  bystander check interval (default 50000)
 *   MPCG_FUZZ_FAULT  failslab, page or both: fail MPCG_FUZZ_FAULT_PERCENT
 *                    (default 5) % of the kernel allocations of the fuzzed
 *                    ioctls (only those: make-it-fail is set around each
 *                    one); ENOMEM is then also accepted where EFAULT is
 *                    expected.  Needs CONFIG_FAILSLAB/CONFIG_FAIL_PAGE_ALLOC.
 *
 * A failure is replayed by running it again with the printed seed and the
 * same MPCG_FUZZ_CALLS: the sequence of calls depends only on them.
 *
 * Runs as root in the test VM (tools/testing/vm-run).
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/mount.h>

#include "kselftest_harness.h"
#include "mpcg_util.h"
#include "../uapi/linux/mpcg.h"

#define PG 4096UL
#define REGION_SIZE (4 * MiB)
#define KERNEL_PTR ((void *)0xffffffff81000000UL)

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static uint32_t rn(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

/* Memory layouts the fuzzer points the kernel at. */
static char *argres;	/* page 0 RW, 1 none, 2 RO, 3 none */
static char *tabres;	/* 256 KiB RW, 32 MiB - 256 KiB PROT_NONE */
#define TABRES_SIZE (32 * MiB)
#define TAB_RW (256 * KiB)
static char *ro_tab;	/* one read-only page inside tabres */

static long errno_hist[600];
static long calls_ok, efault_checked;

struct fds {
	int fuzz, fuzz_ro, fuzz_path, bys, dev, cg, cgroot, null, dir, closed;
};

static int pick_fd(struct fds *f, int for_cgroup)
{
	int pool[] = { f->fuzz, f->fuzz_ro, f->fuzz_path, f->bys, f->dev,
		       f->cg, f->cgroot, f->null, f->dir, f->closed, -1,
		       1000000, 0, 2 };

	if (for_cgroup && rn(3) == 0)
		return f->cg;
	if (!for_cgroup && rn(4) != 0) {	/* mostly the fds that matter */
		int main_fds[] = { f->fuzz, f->fuzz, f->fuzz_ro, f->bys, f->dev, f->dev };

		return main_fds[rn(6)];
	}
	return pool[rn(sizeof(pool) / sizeof(pool[0]))];
}

static uint32_t mut32(uint32_t good)
{
	switch (rn(12)) {
	case 0: return 0;
	case 1: return good + 1;
	case 2: return good - 1;
	case 3: return 0xffffffff;
	case 4: return 0x80000000;
	case 5: return 1U << rn(32);
	case 6: return good ^ (1U << rn(32));
	case 7: return (uint32_t)rnd();
	default: return good;
	}
}

static uint32_t rnd_size(uint32_t good)
{
	static const uint32_t s[] = { 0, 1, 4, 7, 8, 15, 16, 24, 64, 4096,
				      65536, 0x7fffffff, 0xffffffff };

	switch (rn(6)) {
	case 0: return s[rn(sizeof(s) / sizeof(s[0]))];
	case 1: return good + 8 * (1 + rn(8));
	case 2: return good - 4 * (1 + rn(2));
	case 3: return rn(8192);
	default: return good;
	}
}

/*
 * A table pointer and an (entry_size, count) pair such that whatever the
 * kernel writes stays in tabres or faults: huge products only with NULL
 * or a kernel pointer.
 */
static void rnd_table(uint64_t *entries, uint32_t *esz, uint32_t *count,
		      uint32_t good_esz)
{
	static const uint32_t sizes[] = { 0, 1, 7, 8, 16, 24, 32, 40, 48, 56,
					  64, 72, 128, 4096, 65536 };
	static const uint32_t counts[] = { 0, 1, 2, 3, 4, 16, 63, 64, 65, 256 };
	int wild = 0;

	switch (rn(10)) {
	case 0: *entries = 0; wild = 1; break;
	case 1: *entries = (uintptr_t)KERNEL_PTR; wild = 1; break;
	case 2: *entries = (uintptr_t)ro_tab; break;
	case 3: *entries = (uintptr_t)(tabres + TAB_RW + 8 * MiB); break;
	case 4: *entries = (uintptr_t)(tabres + 1 + rn(7)); break;
	case 5: *entries = (uintptr_t)(tabres + TAB_RW - 8 * (1 + rn(8))); break;
	default: *entries = (uintptr_t)tabres; break;
	}
	*esz = rn(3) ? good_esz : sizes[rn(sizeof(sizes) / sizeof(sizes[0]))];
	if (rn(4) == 0)
		*esz = good_esz + 8 * rn(16);
	*count = rn(2) ? 1024 : counts[rn(sizeof(counts) / sizeof(counts[0]))];
	if (wild && rn(3) == 0) {
		*esz = mut32(*esz);
		*count = mut32(*count);
	}
	if (*esz > 65536 && !wild)
		*esz = 65536;
	if (!wild && (uint64_t)*esz * *count > 16 * MiB)
		*count = 16 * MiB / (*esz ? *esz : 1);
}

/* Where a known command works. */
#define ON_REGION	1
#define ON_DEV		2

/* Known mpcg commands, with the size of their argument. */
static const struct {
	unsigned long cmd;
	uint32_t size;
	int on;
} known[] = {
	{ MPCG_IOC_FEATURES, sizeof(struct mpcg_features), ON_REGION | ON_DEV },
	{ MPCG_IOC_REGION_STAT, sizeof(struct mpcg_region_stat), ON_REGION },
	{ MPCG_IOC_MEMBERS, sizeof(struct mpcg_table), ON_REGION },
	{ MPCG_IOC_ATTACHMENTS, sizeof(struct mpcg_table), ON_REGION },
	{ MPCG_IOC_SET_POLICY, sizeof(struct mpcg_set_policy), ON_REGION },
	{ MPCG_IOC_REASSESS, sizeof(struct mpcg_reassess), ON_REGION },
	{ MPCG_IOC_CHUNKS, sizeof(struct mpcg_chunk_query), ON_REGION },
	{ MPCG_IOC_LIST_REGIONS, sizeof(struct mpcg_table), ON_DEV },
	{ MPCG_IOC_CGROUP_USAGE, sizeof(struct mpcg_cgroup_usage), ON_DEV },
};

static unsigned long rnd_cmd(int *kidx)
{
	unsigned long cmd;
	int t;

	*kidx = -1;
	switch (rn(10)) {
	case 0:	/* any type, except those generic VFS code acts on */
		do {
			cmd = (uint32_t)rnd();
			t = _IOC_TYPE(cmd);
		} while (t == 'X' || t == 'f' || t == 0x94 || t == 0x54 ||
			 t == MPCG_IOC_MAGIC);
		return cmd;
	case 1:	/* the mpcg type, any number, direction and size */
		cmd = (uint32_t)rnd();
		return (cmd & ~(0xffUL << _IOC_TYPESHIFT)) |
		       ((unsigned long)MPCG_IOC_MAGIC << _IOC_TYPESHIFT);
	case 2:	/* the mpcg type, a small number, direction/size mutated */
		return _IOC(rn(4), MPCG_IOC_MAGIC, rn(0x20), rn(1 << 14));
	default:
		*kidx = rn(sizeof(known) / sizeof(known[0]));
		cmd = known[*kidx].cmd;
		if (rn(8) == 0)	/* other size bits: not the command (ENOTTY) */
			cmd = _IOC(_IOC_DIR(cmd), MPCG_IOC_MAGIC, _IOC_NR(cmd),
				   rn(1 << 14));
		return cmd;
	}
}

/* Fill @buf (a struct of the known command @k, or random bytes). */
static uint32_t build_arg(char *buf, int k, struct fds *f)
{
	uint32_t good = k >= 0 ? known[k].size : 64;
	uint32_t size = rnd_size(good);
	uint32_t len = size < PG ? size : PG;
	unsigned long cmd = k >= 0 ? known[k].cmd : 0;
	uint32_t i;

	if (len < good + 64)
		len = good + 64 < PG ? good + 64 : PG;
	memset(buf, 0, PG);
	if (k < 0 || rn(16) == 0) {
		for (i = 0; i < len; i++)
			buf[i] = rn(4) ? 0 : (char)rnd();
		if (rn(2))
			*(uint32_t *)buf = size;
		return size;
	}
	*(uint32_t *)buf = size;
	if (rn(8) == 0)
		((uint32_t *)buf)[1] = mut32(0);	/* flags */
	if (rn(10) == 0)	/* junk past the known struct */
		buf[good + rn(len - good)] = (char)(1 + rn(255));
	if (cmd == MPCG_IOC_SET_POLICY) {
		struct mpcg_set_policy *p = (void *)buf;

		p->policy = rn(3) ? rn(MPCG_NR_POLICIES) : mut32(MPCG_NR_POLICIES);
		if (rn(8) == 0)
			p->reserved = mut32(0);
	} else if (cmd == MPCG_IOC_REASSESS) {
		struct mpcg_reassess *r = (void *)buf;

		if (rn(8) == 0)
			r->reserved = mut32(0);
		if (rn(8) == 0)
			r->chunks_moved = rnd();
	} else if (cmd == MPCG_IOC_CGROUP_USAGE) {
		struct mpcg_cgroup_usage *u = (void *)buf;
		uint64_t e;
		uint32_t esz, cnt;

		u->cgroup_fd = pick_fd(f, 1);
		rnd_table(&e, &esz, &cnt, sizeof(struct mpcg_member_info));
		u->table.entries = e;
		u->table.entry_size = esz;
		u->table.count = cnt;
		if (rn(8) == 0)
			u->reserved = mut32(0);
		if (rn(16) == 0)
			u->cgroup_id = rnd();
	} else if (cmd != MPCG_IOC_REGION_STAT && cmd != MPCG_IOC_FEATURES) {
		struct mpcg_table *t = (void *)buf;
		uint32_t g = cmd == MPCG_IOC_MEMBERS ? sizeof(struct mpcg_member_info) :
			     cmd == MPCG_IOC_ATTACHMENTS ? sizeof(struct mpcg_attachment_info) :
			     cmd == MPCG_IOC_CHUNKS ? sizeof(struct mpcg_chunk_info) :
			     sizeof(struct mpcg_region_stat);
		uint64_t e;
		uint32_t esz, cnt;

		rnd_table(&e, &esz, &cnt, g);
		t->entries = e;
		t->entry_size = esz;
		t->count = cnt;
		/* A member's chunks: a random id is no member (ENOENT). */
		if (cmd == MPCG_IOC_CHUNKS && rn(4) == 0)
			((struct mpcg_chunk_query *)buf)->cgroup_id = rnd();
	}
	return size;
}

/* Where the argument goes; *bad is set if the kernel cannot read it. */
static void *place_arg(const char *buf, uint32_t good, int *bad)
{
	char *p;

	*bad = 0;
	switch (rn(16)) {
	case 0: *bad = 1; return NULL;
	case 1: *bad = 1; return KERNEL_PTR;
	case 2: *bad = 1; return argres + PG + rn(PG);	/* PROT_NONE */
	case 3:	/* read-only: the kernel can read it, not write back */
		mprotect(argres + 2 * PG, PG, PROT_READ | PROT_WRITE);
		memcpy(argres + 2 * PG, buf, PG);
		mprotect(argres + 2 * PG, PG, PROT_READ);
		return argres + 2 * PG;
	case 4:	/* misaligned */
		p = argres + 1 + rn(7);
		memcpy(p, buf, PG - 8);
		return p;
	case 5:	/* the known struct ends where the guard page begins */
		if (good > PG)
			good = PG;
		p = argres + PG - good;
		memcpy(p, buf, good);
		return p;
	case 6: *bad = 1; return (void *)(uintptr_t)rnd();
	default:
		memcpy(argres, buf, PG);
		return argres;
	}
}

static int is_region_fd(struct fds *f, int fd)
{
	return fd == f->fuzz || fd == f->fuzz_ro || fd == f->bys;
}

/* One random mount, maybe a remount, and an unmount. */
static const char *const keys[] = { "size", "nr_inodes", "mode", "uid", "gid",
				    "chunk", "policy", "source", "bogus",
				    "size", "chunk", "mode", "" };
static const char *const vals[] = { "0", "1", "64k", "2M", "2m", "4096",
				    "1g", "50%", "101%", "%", "0777", "07777",
				    "17777", "65534", "4294967295", "-1",
				    "proportional", "equal", "first-touch",
				    "first_touch", "owner", "x", "",
				    "18446744073709551615",
				    "18446744073709551616", "1k", "128k",
				    "100", "0x10000", "1e3" };

static void rnd_opts(char *s, size_t len)
{
	size_t n = 0;
	int i, nopt = rn(5);

	s[0] = '\0';
	if (rn(16) == 0) {	/* random bytes */
		size_t l = rn(len - 1);

		for (i = 0; i < (int)l; i++)
			s[i] = (char)(1 + rn(255));
		s[l] = '\0';
		return;
	}
	for (i = 0; i < nopt && n < len - 80; i++) {
		const char *k = keys[rn(sizeof(keys) / sizeof(keys[0]))];

		if (i)
			s[n++] = rn(16) ? ',' : "=, "[rn(3)];
		if (rn(6) == 0)
			n += snprintf(s + n, len - n, "%s", k);
		else if (rn(4) == 0)
			n += snprintf(s + n, len - n, "%s=%llu", k,
				      (unsigned long long)rnd() >> rn(64));
		else
			n += snprintf(s + n, len - n, "%s=%s", k,
				      vals[rn(sizeof(vals) / sizeof(vals[0]))]);
	}
	if (n && rn(8) == 0)	/* mutate one byte */
		s[rn(n)] = (char)(1 + rn(255));
}

static long mounts_ok, mounts_tried;

static int fuzz_mount(struct __test_metadata *_metadata, const char *tdir)
{
	char opts[256];

	rnd_opts(opts, sizeof(opts));
	mounts_tried++;
	if (mount("mpcg", tdir, "mpcg", 0, opts) == 0) {
		mounts_ok++;
		if (rn(2)) {
			rnd_opts(opts, sizeof(opts));
			mount("mpcg", tdir, "mpcg", MS_REMOUNT, opts);
		}
		if (umount2(tdir, 0)) {
			TH_LOG("umount after mount -o '%s': %s", opts,
			       strerror(errno));
			return -1;
		}
	} else if (errno >= 512 || errno == 0) {
		TH_LOG("mount -o '%s': errno %d", opts, errno);
		return -1;
	}
	return 0;
}

struct wfile { const char *path; unsigned int seed; };

static int write_region(void *arg)
{
	struct wfile *w = arg;
	int fd = open(w->path, O_RDWR | O_CREAT, 0644);
	static char buf[64 * KiB];
	off_t off;
	size_t i;

	if (fd < 0)
		return 1;
	for (off = 0; off < (off_t)REGION_SIZE; off += sizeof(buf)) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = pattern(off + i, w->seed);
		if (pwrite(fd, buf, sizeof(buf), off) != sizeof(buf))
			return 2;
	}
	return close(fd) ? 3 : 0;
}

static int check_contents(int fd, unsigned int seed)
{
	static char buf[64 * KiB];
	off_t off;
	size_t i;

	for (off = 0; off < (off_t)REGION_SIZE; off += sizeof(buf)) {
		if (pread(fd, buf, sizeof(buf), off) != sizeof(buf))
			return -1;
		for (i = 0; i < sizeof(buf); i++)
			if ((unsigned char)buf[i] != pattern(off + i, seed))
				return -1;
	}
	return 0;
}

static int snap_equal(struct __test_metadata *_metadata,
		      const struct mpcg_snap *a, const struct mpcg_snap *b)
{
	if (memcmp(&a->st, &b->st, sizeof(a->st))) {
		TH_LOG("bystander: region stat changed");
		mpcg_snap_dump("before", a);
		mpcg_snap_dump("after", b);
		return 0;
	}
	if (a->nm != b->nm || memcmp(a->m, b->m, a->nm * sizeof(*a->m))) {
		TH_LOG("bystander: members changed");
		mpcg_snap_dump("before", a);
		mpcg_snap_dump("after", b);
		return 0;
	}
	if (a->nc != b->nc || memcmp(a->c, b->c, a->nc * sizeof(*a->c))) {
		TH_LOG("bystander: chunks changed");
		return 0;
	}
	if (a->na != b->na || memcmp(a->a, b->a, a->na * sizeof(*a->a))) {
		TH_LOG("bystander: attachments changed");
		return 0;
	}
	return 1;
}

static long env_long(const char *name, long def)
{
	const char *s = getenv(name);

	return s && *s ? strtol(s, NULL, 0) : def;
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(fuzz)
{
}

/*
 * Fault injection (MPCG_FUZZ_FAULT=failslab|page|both): on for tasks that
 * ask for it; the fuzzer asks only around each ioctl, through the fd
 * returned.  -1 if not asked for, -2 (errno set) on an error.
 */
static int fault_setup(const char *which, long percent)
{
	int mask = mpcg_fault_parse(which);

	if (!which || !*which)
		return -1;
	if (!mask) {
		errno = EINVAL;
		return -2;
	}
	if (mpcg_fault_set(mask, percent))
		return -2;
	return open("/proc/self/make-it-fail", O_WRONLY);
}

/* Debug kernels (kmemleak there): the 1 000 000 calls by default. */
static long default_calls(void)
{
	return access("/sys/kernel/debug/kmemleak", F_OK) == 0 ? 1000000 : 100000;
}

/* run.sh gives each program 900 s (MPCG_TEST_TIMEOUT). */
TEST_F_TIMEOUT(fuzz, ioctls_and_mounts, 900)
{
	char dir[64], tdir[64] = "", path[PATH_MAX], bpath[PATH_MAX];
	char cg[PATH_MAX], buf[PG];
	struct mpcg_snap before, after;
	struct fds f;
	struct wfile wf = { path, 11 }, wb = { bpath, 22 };
	long calls = env_long("MPCG_FUZZ_CALLS", default_calls());
	long every = env_long("MPCG_FUZZ_CHECK_EVERY", 50000);
	uint64_t seed = env_long("MPCG_FUZZ_SEED", 0);
	long i, old_auto, bad_errno = 0, injected = 0;
	const char *fault = getenv("MPCG_FUZZ_FAULT");
	int faultfd;
	struct timespec t0, t1;
	double secs;

	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	rng_state = seed ? seed : 1;
	ksft_print_msg("MPCG_FUZZ_SEED=%llu MPCG_FUZZ_CALLS=%ld\n",
		       (unsigned long long)seed, calls);
	fflush(stdout);

	old_auto = mpcg_set_auto_reassess(0);
	ASSERT_LE(0, old_auto);
	ASSERT_EQ(0, mpcg_mount(dir, sizeof(dir), "chunk=64k"));
	path_join(path, sizeof(path), dir, "fuzz");
	path_join(bpath, sizeof(bpath), dir, "bystander");
	ASSERT_EQ(0, cg_create(cg, sizeof(cg), "fz"));
	ASSERT_EQ(0, cg_run(cg, write_region, &wf));
	ASSERT_EQ(0, cg_run(cg, write_region, &wb));
	snprintf(tdir, sizeof(tdir), "/tmp/mpcg-fuzzmnt-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(tdir));

	argres = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, argres);
	ASSERT_EQ(0, mprotect(argres, PG, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, mprotect(argres + 2 * PG, PG, PROT_READ));
	tabres = mmap(NULL, TABRES_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, tabres);
	ASSERT_EQ(0, mprotect(tabres, TAB_RW, PROT_READ | PROT_WRITE));
	ro_tab = tabres + 4 * MiB;
	ASSERT_EQ(0, mprotect(ro_tab, PG, PROT_READ));

	f.fuzz = open(path, O_RDWR);
	f.fuzz_ro = open(path, O_RDONLY);
	f.fuzz_path = open(path, O_PATH);
	f.bys = open(bpath, O_RDONLY);
	f.dev = open("/dev/mpcg", O_RDWR);
	f.cg = open(cg, O_RDONLY | O_DIRECTORY);
	f.cgroot = open(CGROUP_ROOT, O_RDONLY | O_DIRECTORY);
	f.null = open("/dev/null", O_RDWR);
	f.dir = open(dir, O_RDONLY | O_DIRECTORY);
	f.closed = open("/dev/null", O_RDONLY);
	ASSERT_LE(0, f.fuzz);
	ASSERT_LE(0, f.fuzz_ro);
	ASSERT_LE(0, f.fuzz_path);
	ASSERT_LE(0, f.bys);
	ASSERT_LE(0, f.dev);
	ASSERT_LE(0, f.cg);
	ASSERT_LE(0, f.cgroot);
	ASSERT_LE(0, f.null);
	ASSERT_LE(0, f.dir);
	close(f.closed);

	ASSERT_EQ(0, mpcg_snap_take(f.bys, &before));

	faultfd = fault_setup(fault, env_long("MPCG_FUZZ_FAULT_PERCENT", 5));
	if (faultfd == -2 || (fault && *fault && faultfd < 0))
		TH_LOG("MPCG_FUZZ_FAULT=%s: %s", fault, strerror(errno));
	ASSERT_FALSE(fault && *fault && faultfd < 0);
	if (faultfd >= 0)
		ksft_print_msg("MPCG_FUZZ_FAULT=%s at %ld%%\n", fault,
			       env_long("MPCG_FUZZ_FAULT_PERCENT", 5));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < calls; i++) {
		unsigned long cmd;
		int k, fd, bad, e;
		uint32_t size;
		void *arg;
		long r;

		if (every > 0 && i % every == every - 1) {
			ASSERT_EQ(0, mpcg_snap_take(f.bys, &after));
			ASSERT_TRUE(snap_equal(_metadata, &before, &after));
			mpcg_snap_free(&after);
		}
		if (rn(256) == 0) {
			ASSERT_EQ(0, fuzz_mount(_metadata, tdir));
			continue;
		}
		cmd = rnd_cmd(&k);
		fd = pick_fd(&f, 0);
		if (fd == f.bys && _IOC_TYPE(cmd) == MPCG_IOC_MAGIC &&
		    (_IOC_NR(cmd) == _IOC_NR(MPCG_IOC_SET_POLICY) ||
		     _IOC_NR(cmd) == _IOC_NR(MPCG_IOC_REASSESS)))
			fd = f.fuzz;
		size = build_arg(buf, k, &f);
		(void)size;
		arg = place_arg(buf, k >= 0 ? known[k].size : 64, &bad);
		if (faultfd >= 0 && pwrite(faultfd, "1", 1, 0) != 1)
			faultfd = -1;
		r = ioctl(fd, cmd, arg);
		e = errno;
		if (faultfd >= 0 && pwrite(faultfd, "0", 1, 0) != 1)
			TH_LOG("make-it-fail: %s", strerror(errno));
		if (r == 0) {
			calls_ok++;
			continue;
		}
		if (r != -1 || e <= 0 || e >= 512) {
			if (bad_errno++ < 10)
				TH_LOG("call %ld: ioctl(%d, %#lx, %p) = %ld errno %d",
				       i, fd, cmd, arg, r, e);
			continue;
		}
		errno_hist[e]++;
		/* a known command on its kind of fd, with a bad pointer */
		if (bad && k >= 0 && cmd == known[k].cmd &&
		    (((known[k].on & ON_REGION) && is_region_fd(&f, fd)) ||
		     ((known[k].on & ON_DEV) && fd == f.dev))) {
			efault_checked++;
			if (e == ENOMEM && faultfd >= 0)
				injected++;
			else if (e != EFAULT && bad_errno++ < 10)
				TH_LOG("call %ld: ioctl(%d, %#lx, %p): errno %d, not EFAULT",
				       i, fd, cmd, arg, e);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	ksft_print_msg("%ld calls in %.1f s (%.0f/s); %ld succeeded, %ld bad-pointer calls checked for EFAULT; mounts %ld/%ld succeeded\n",
		       calls, secs, calls / (secs > 0 ? secs : 1), calls_ok,
		       efault_checked, mounts_ok, mounts_tried);
	for (i = 1; i < 512; i++)
		if (errno_hist[i])
			ksft_print_msg("  errno %ld (%s): %ld\n", i,
				       strerror(i), errno_hist[i]);
	if (faultfd >= 0) {
		mpcg_fault_set(MPCG_FAULT_SLAB | MPCG_FAULT_PAGE, 0);
		close(faultfd);
		ksft_print_msg("%ld ENOMEM where EFAULT was expected (injected failures)\n",
			       injected);
	}
	fflush(stdout);
	EXPECT_EQ(0, bad_errno);

	ASSERT_EQ(0, mpcg_snap_take(f.bys, &after));
	EXPECT_TRUE(snap_equal(_metadata, &before, &after));
	EXPECT_EQ(0, check_contents(f.bys, 22));
	EXPECT_EQ(0, check_contents(f.fuzz, 11));
	mpcg_snap_free(&before);
	mpcg_snap_free(&after);

	close(f.fuzz);
	close(f.fuzz_ro);
	close(f.fuzz_path);
	close(f.bys);
	close(f.dev);
	close(f.cg);
	close(f.cgroot);
	close(f.null);
	close(f.dir);
	rmdir(tdir);
	mpcg_umount(dir);
	cg_parent_remove();
	mpcg_set_auto_reassess(old_auto);
}

TEST_HARNESS_MAIN

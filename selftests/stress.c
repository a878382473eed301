// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg stress: many processes in several memory cgroups use shared mpcg
 * files all at once, with cgroups created and removed meanwhile, and
 * optionally with allocation failures injected (failslab, fail_page_alloc).
 *
 * Worker processes, each in one of the cgroups c0..c3 (or a short-lived
 * x0..x3), repeat random operations:
 *   - on read-only files ro0..ro3 (filled once with a known pattern): map
 *     ranges (shared or private), touch and verify them, mremap, partially
 *     unmap, pread and verify, fork a child that does the same and exits;
 *   - on their own scratch file s<N>: pwrite, write through a mapping,
 *     ftruncate up and down, punch holes, fallocate, unlink and create it
 *     again, all checked against an in-memory model of its contents;
 *   - on other workers' scratch files: map and touch them (SIGBUS beyond
 *     an end of file that moved is expected);
 *   - change a file's policy, force a reassessment, move themselves to
 *     another cgroup, and now and then exit (and are replaced).
 * The supervisor creates and removes the x cgroups (moving their tasks
 * out first) and, every few seconds and at the end, freezes every worker
 * (cgroup.freeze), reassesses every file and checks the engine's invariants
 * (mpcg_reassess_check(): every chunk paid once, paid = resident, each
 * member within one chunk of its fair share, the fewest moves, ...) and
 * the read-only files' contents.  At the end, once every file is unlinked
 * and the mount is gone, each cgroup's charge must be back to what it was
 * when it was created, and the module's object counters
 * (debugfs mpcg/objects) must all be zero.
 *
 * With --fault, the workers (and only they: task-filter, make-it-fail)
 * have a share of their kernel allocations failed.  A failed system call
 * must then fail cleanly (ENOMEM, ENOSPC, EINTR or EAGAIN), a fault that
 * cannot be served may raise SIGBUS, and everything else above must still
 * hold: the injection is switched off before each check.
 *
 * usage: stress [--seconds N] [--workers N] [--check-every N] [--seed S]
 *               [--fault failslab|page|both] [--probability PERCENT]
 *
 * The seed (printed) fixes each worker's sequence of operations, not how
 * the processes interleave.  Prints TAP 13 and the kselftest totals line
 * that selftests/run.sh adds up.  Runs as root in the test VM.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <getopt.h>
#include <linux/falloc.h>

#include "mpcg_util.h"

#define NRO		4		/* read-only files */
#define RO_SIZE		(6 * MiB)
#define SCRATCH_MAX	(3 * MiB)
#define MAX_WORKERS	16
#define NMAPS		8		/* live mappings per worker */
#define NCG		4		/* long-lived cgroups c0..c3 */
#define NCHURN		4		/* short-lived cgroups x0..x3 */
#define PAGE		4096L

/* What the workers report, in memory shared with the supervisor. */
struct wstat {
	long ops;
	long clean;		/* system calls that failed cleanly */
	long sigbus;		/* SIGBUS where it was allowed */
	long unexpected;	/* anything else: the test fails */
	long data;		/* of which: contents or sizes that differ */
	char first[240];	/* the first unexpected thing */
};

struct shared {
	int stop;
	struct wstat w[MAX_WORKERS];
};

static struct shared *sh;
static char mnt[PATH_MAX];
static int fault_mode;		/* failures are being injected */
static unsigned long long seed;
static int nworkers = 6;

/* ---- per-process state of a worker ---- */

static int slot;			/* which worker (scratch file s<slot>) */
static unsigned long long rng;
static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;

static unsigned long long rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned long rnd_below(unsigned long n)
{
	return n ? rnd() % n : 0;
}

static void vproblem(const char *fmt, va_list ap)
{
	struct wstat *w = &sh->w[slot];

	if (__atomic_fetch_add(&w->unexpected, 1, __ATOMIC_RELAXED) == 0)
		vsnprintf(w->first, sizeof(w->first), fmt, ap);
}

static void __attribute__((format(printf, 1, 2))) problem(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(fmt, ap);
	va_end(ap);
}

/* Data read back is not what was written (or the size is wrong). */
static void __attribute__((format(printf, 1, 2)))
data_problem(const char *fmt, ...)
{
	va_list ap;

	__atomic_fetch_add(&sh->w[slot].data, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	vproblem(fmt, ap);
	va_end(ap);
}

/*
 * A system call of operation @op failed with errno @e: clean if @allowed
 * (a mask of "expected in this situation" answers) or, with injection on,
 * an out-of-memory kind of answer.
 */
#define E_NOENT		0x1
#define E_NOSPC		0x2
static void failed(const char *op, int e, unsigned int allowed)
{
	if ((e == ENOENT && (allowed & E_NOENT)) ||
	    (e == ENOSPC && (allowed & E_NOSPC)) ||
	    (fault_mode && (e == ENOMEM || e == ENOSPC || e == EINTR ||
			    e == EAGAIN))) {
		__atomic_fetch_add(&sh->w[slot].clean, 1, __ATOMIC_RELAXED);
		return;
	}
	problem("%s: %s", op, strerror(e));
}

static void on_sigbus(int sig)
{
	(void)sig;
	if (!bus_armed) {
		signal(SIGBUS, SIG_DFL);
		raise(SIGBUS);
	}
	siglongjmp(bus_jmp, 1);
}

/*
 * Run @fn(@arg), which touches mapped memory; -1 if that raised SIGBUS
 * (the function was cut short there), else 0.
 */
static int guarded(void (*fn)(void *), void *arg)
{
	if (sigsetjmp(bus_jmp, 1)) {
		bus_armed = 0;
		return -1;
	}
	bus_armed = 1;
	fn(arg);
	bus_armed = 0;
	return 0;
}

static void bus_allowed(void)
{
	__atomic_fetch_add(&sh->w[slot].sigbus, 1, __ATOMIC_RELAXED);
}

static void file_path(char *buf, size_t len, char kind, int i)
{
	snprintf(buf, len, "%s/%c%d", mnt, kind, i);
}

/* ---- read-only files: mappings and checks ---- */

struct map {
	char *addr;
	size_t len;
	off_t off;		/* file offset of addr */
	int file;		/* ro<file> */
	int priv;		/* MAP_PRIVATE: writable copy, not checked */
};

static struct map maps[NMAPS];
static int ro_fd[NRO];

static unsigned int ro_seed(int i)
{
	return 0x5eed0000u + i;
}

struct verify {
	struct map *m;
	const char *op;
	size_t step, start;
};

static void verify_fn(void *arg)
{
	struct verify *v = arg;
	const struct map *m = v->m;
	volatile unsigned char *p = (unsigned char *)m->addr;
	size_t i;

	for (i = v->start; i < m->len; i += v->step) {
		unsigned char want = pattern(m->off + i, ro_seed(m->file));

		if (p[i] != want) {
			data_problem("%s: ro%d byte %ld is %#x, not %#x", v->op,
				m->file, (long)(m->off + i), p[i], want);
			return;
		}
	}
}

/* Check every page (one sampled byte each, all bytes now and then). */
static void map_verify(struct map *m, const char *op)
{
	struct verify v = { m, op, PAGE, rnd_below(PAGE) % m->len };

	if (m->priv)
		return;
	if (!rnd_below(8))
		v.step = 1, v.start = 0;
	if (guarded(verify_fn, &v)) {
		if (fault_mode)
			bus_allowed();
		else
			problem("%s: SIGBUS in ro%d at %ld", op, m->file,
				(long)m->off);
	}
}

static void map_drop(struct map *m)
{
	/* (Splitting a mapping may fail: it stays until the process ends.) */
	if (m->addr && munmap(m->addr, m->len))
		failed("munmap", errno, 0);
	m->addr = NULL;
}

/*
 * After a failed munmap or mremap (injected failures only), the range may
 * have been left split into several VMAs, on which a later mremap of the
 * whole range fails with EFAULT: unmap it all and forget it.
 */
static void map_forget(struct map *m)
{
	if (munmap(m->addr, m->len))
		failed("munmap", errno, 0);
	m->addr = NULL;
}

static struct map *map_pick(void)
{
	int i, start = rnd_below(NMAPS);

	for (i = 0; i < NMAPS; i++)
		if (maps[(start + i) % NMAPS].addr)
			return &maps[(start + i) % NMAPS];
	return NULL;
}

static void scribble_fn(void *arg)
{
	struct map *m = arg;

	memset(m->addr, 0xa5, m->len < 3 * PAGE ? m->len : 3 * PAGE);
}

static void op_ro_map(void)
{
	struct map *m = &maps[rnd_below(NMAPS)];
	int f = rnd_below(NRO);
	off_t off = rnd_below(RO_SIZE / PAGE) * PAGE;
	size_t len = (1 + rnd_below(512)) * PAGE;
	int priv = !rnd_below(5);
	void *a;

	map_drop(m);
	if (off + (off_t)len > RO_SIZE)
		len = RO_SIZE - off;
	a = mmap(NULL, len, priv ? PROT_READ | PROT_WRITE : PROT_READ,
		 priv ? MAP_PRIVATE : MAP_SHARED, ro_fd[f], off);
	if (a == MAP_FAILED) {
		failed("mmap ro", errno, 0);
		return;
	}
	*m = (struct map){ a, len, off, f, priv };
	if (priv) {
		/* Write the private copy: the file must not see it. */
		if (guarded(scribble_fn, m)) {
			if (fault_mode)
				bus_allowed();
			else
				problem("SIGBUS writing a private mapping");
		}
	} else {
		map_verify(m, "map ro");
	}
}

static void op_ro_touch(void)
{
	struct map *m = map_pick();

	if (m)
		map_verify(m, "touch ro");
}

static void op_ro_mremap(void)
{
	struct map *m = map_pick();
	size_t len;
	void *a;

	if (!m)
		return;
	len = (1 + rnd_below(512)) * PAGE;
	if (m->off + (off_t)len > RO_SIZE)
		len = RO_SIZE - m->off;
	a = mremap(m->addr, m->len, len, MREMAP_MAYMOVE);
	if (a == MAP_FAILED) {
		failed("mremap", errno, 0);
		map_forget(m);
		return;
	}
	m->addr = a;
	m->len = len;
	map_verify(m, "mremap ro");
}

static void op_ro_partial_unmap(void)
{
	struct map *m = map_pick();
	size_t cut;

	if (!m || m->len <= PAGE)
		return;
	cut = (1 + rnd_below(m->len / PAGE - 1)) * PAGE;
	if (rnd() & 1) {
		/* the head */
		if (munmap(m->addr, cut)) {
			failed("munmap head", errno, 0);
			map_forget(m);
			return;
		}
		m->addr += cut;
		m->off += cut;
	} else if (munmap(m->addr + m->len - cut, cut)) {
		failed("munmap tail", errno, 0);
		map_forget(m);
		return;
	}
	m->len -= cut;
	map_verify(m, "partial munmap ro");
}

static void op_ro_read(void)
{
	static unsigned char buf[256 * 1024];
	int f = rnd_below(NRO);
	off_t off = rnd_below(RO_SIZE);
	size_t len = 1 + rnd_below(sizeof(buf));
	ssize_t n, i;

	n = pread(ro_fd[f], buf, len, off);
	if (n < 0) {
		failed("pread ro", errno, 0);
		return;
	}
	if ((size_t)n != (len < (size_t)(RO_SIZE - off) ? len :
			  (size_t)(RO_SIZE - off)) && !fault_mode)
		data_problem("pread ro%d at %ld: %zd of %zu bytes", f, (long)off, n,
			len);
	for (i = 0; i < n; i++)
		if (buf[i] != pattern(off + i, ro_seed(f))) {
			data_problem("pread ro%d byte %ld is %#x, not %#x", f,
				(long)(off + i), buf[i],
				pattern(off + i, ro_seed(f)));
			return;
		}
}

/* ---- the worker's own scratch file, against a model ---- */

static int sfd = -1;
static unsigned char *model;		/* SCRATCH_MAX bytes */
static size_t msize;

static void scratch_create(void)
{
	char p[PATH_MAX + 8];

	file_path(p, sizeof(p), 's', slot);
	if (sfd >= 0)
		close(sfd);
	sfd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (sfd < 0) {
		failed("create scratch", errno, 0);
		return;
	}
	msize = 0;
}

static void model_set(size_t off, size_t len, const unsigned char *src)
{
	if (src)
		memcpy(model + off, src, len);
	else
		memset(model + off, 0, len);
}

/*
 * A call that changes [@off, @off + @len) failed (only with injection on):
 * it may have done part of its work, but nothing outside that range may
 * have changed.  Check that, then take the file's contents as the model.
 */
static void model_resync(const char *op, size_t off, size_t len)
{
	static unsigned char buf[SCRATCH_MAX];
	struct stat st;
	size_t i, n;

	/* (fstat() itself allocates: glibc calls fstatat(fd, "", ...).) */
	if (fstat(sfd, &st)) {
		failed("fstat scratch", errno, 0);
		scratch_create();	/* cannot tell: start over */
		return;
	}
	if ((size_t)st.st_size > SCRATCH_MAX) {
		problem("%s failed, and the size is now %ld", op,
			(long)st.st_size);
		scratch_create();
		return;
	}
	if (pread(sfd, buf, st.st_size, 0) != st.st_size) {
		scratch_create();	/* cannot tell: start over */
		return;
	}
	n = (size_t)st.st_size < msize ? (size_t)st.st_size : msize;
	for (i = 0; i < n; i++)
		if ((i < off || i >= off + len) && buf[i] != model[i]) {
			data_problem("%s failed and changed byte %zu (%#x, was %#x)",
				op, i, buf[i], model[i]);
			break;
		}
	memcpy(model, buf, st.st_size);
	msize = st.st_size;
}

static void op_s_write(void)
{
	static unsigned char buf[512 * 1024];
	size_t off = rnd_below(SCRATCH_MAX), len = 1 + rnd_below(sizeof(buf));
	unsigned int s = rnd();
	ssize_t n;
	size_t i;

	if (sfd < 0)
		return;
	if (off + len > SCRATCH_MAX)
		len = SCRATCH_MAX - off;
	for (i = 0; i < len; i++)
		buf[i] = pattern(off + i, s);
	n = pwrite(sfd, buf, len, off);
	if (n < 0) {
		failed("pwrite scratch", errno, 0);
		model_resync("pwrite", off, len);
		return;
	}
	if ((size_t)n != len && !fault_mode)
		problem("pwrite scratch: %zd of %zu bytes", n, len);
	/* A short write wrote a prefix; a hole before it reads as zeroes. */
	if (off > msize)
		model_set(msize, off - msize, NULL);
	model_set(off, n, buf);
	if (off + n > msize)
		msize = off + n;
}

static void op_s_truncate(void)
{
	size_t size = rnd_below(SCRATCH_MAX + 1);

	if (sfd < 0)
		return;
	if (ftruncate(sfd, size)) {
		failed("ftruncate scratch", errno, 0);
		model_resync("ftruncate", size, SCRATCH_MAX);
		return;
	}
	if (size > msize)
		model_set(msize, size - msize, NULL);
	msize = size;
}

static void op_s_punch(void)
{
	size_t off, len;

	if (sfd < 0 || !msize)
		return;
	off = rnd_below(msize);
	len = 1 + rnd_below(msize - off);
	if (fallocate(sfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
		      len)) {
		failed("punch scratch", errno, 0);
		model_resync("punch", off, len);
		return;
	}
	model_set(off, len, NULL);
}

static void op_s_fallocate(void)
{
	size_t off = rnd_below(SCRATCH_MAX), len = 1 + rnd_below(MiB);

	if (sfd < 0)
		return;
	if (off + len > SCRATCH_MAX)
		len = SCRATCH_MAX - off;
	if (fallocate(sfd, 0, off, len)) {
		failed("fallocate scratch", errno, 0);
		model_resync("fallocate", off, len);
		return;
	}
	if (off + len > msize) {
		model_set(msize, off + len - msize, NULL);
		msize = off + len;
	}
}

struct mapwrite {
	unsigned char *a;
	size_t off, len;
	unsigned char v;
};

static void mapwrite_fn(void *arg)
{
	struct mapwrite *w = arg;
	size_t i;

	memset(w->a + w->off, w->v, w->len);
	memset(model + w->off, w->v, w->len);
	for (i = 0; i < msize; i += 1 + rnd_below(2 * PAGE))
		if (((volatile unsigned char *)w->a)[i] != model[i]) {
			data_problem("scratch mapping byte %zu is %#x, not %#x", i,
				w->a[i], model[i]);
			return;
		}
}

/* Write a range through a shared mapping, then check all of it. */
static void op_s_mapwrite(void)
{
	struct mapwrite w;

	if (sfd < 0 || !msize)
		return;
	w.a = mmap(NULL, msize, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
	if (w.a == MAP_FAILED) {
		failed("mmap scratch", errno, 0);
		return;
	}
	w.off = rnd_below(msize);
	w.len = 1 + rnd_below(msize - w.off);
	w.v = rnd();
	if (guarded(mapwrite_fn, &w)) {
		if (!fault_mode)
			problem("SIGBUS in own scratch file (size %zu)", msize);
		else
			bus_allowed();
		/* Which bytes were written is unknown now: start over. */
		munmap(w.a, msize);
		scratch_create();
		return;
	}
	munmap(w.a, msize);
}

/*
 * Pinned I/O: read a block device with O_DIRECT straight into a shared
 * mapping of the scratch file, so that the kernel holds the mapped pages
 * while the device writes them, with reassessments going on (a chunk in
 * use must not move: the device's bytes would be lost).  The device is a
 * ram disk (brd), a range of it per worker, filled first through the same
 * O_DIRECT descriptor.  Then the model is the device's bytes there.
 */
static int dio_fd = -1;

static void op_s_dio(void)
{
	static unsigned char *buf;
	size_t len = (1 + rnd_below(64)) * PAGE, off;
	unsigned int v = rnd();
	off_t dev_off = (off_t)slot * SCRATCH_MAX;
	unsigned char *a;
	ssize_t n;
	size_t i;

	if (dio_fd < 0 || sfd < 0 || msize < len)
		return;
	if (!buf && posix_memalign((void **)&buf, PAGE, 64 * PAGE))
		return;
	off = rnd_below((msize - len) / PAGE + 1) * PAGE;
	for (i = 0; i < len; i++)
		buf[i] = pattern(off + i, v);
	if (pwrite(dio_fd, buf, len, dev_off) != (ssize_t)len) {
		failed("pwrite ram disk", errno, 0);
		return;
	}
	a = mmap(NULL, msize, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
	if (a == MAP_FAILED) {
		failed("mmap scratch", errno, 0);
		return;
	}
	n = pread(dio_fd, a + off, len, dev_off);
	munmap(a, msize);
	if (n != (ssize_t)len) {
		if (n < 0)
			failed("O_DIRECT pread into a mapping", errno, 0);
		else
			problem("O_DIRECT pread into a mapping: %zd of %zu", n, len);
		model_resync("O_DIRECT pread", off, len);
		return;
	}
	model_set(off, len, buf);
}

static void op_s_verify(void)
{
	static unsigned char buf[SCRATCH_MAX];
	struct stat st;
	ssize_t n;
	size_t i;

	if (sfd < 0)
		return;
	if (fstat(sfd, &st)) {
		failed("fstat scratch", errno, 0);
		return;
	}
	if ((size_t)st.st_size != msize) {
		data_problem("scratch size %ld, model %zu", (long)st.st_size, msize);
		return;
	}
	n = pread(sfd, buf, msize, 0);
	if (n < 0) {
		failed("pread scratch", errno, 0);
		return;
	}
	if ((size_t)n != msize) {
		if (fault_mode)	/* a read that stopped at a failure */
			__atomic_fetch_add(&sh->w[slot].clean, 1,
					   __ATOMIC_RELAXED);
		else
			data_problem("pread scratch: %zd of %zu bytes", n, msize);
		return;
	}
	for (i = 0; i < msize; i++)
		if (buf[i] != model[i]) {
			data_problem("scratch byte %zu is %#x, model %#x", i, buf[i],
				model[i]);
			return;
		}
}

static void op_s_unlink(void)
{
	char p[PATH_MAX + 8];

	file_path(p, sizeof(p), 's', slot);
	if (unlink(p) && errno != ENOENT) {
		failed("unlink scratch", errno, 0);
		return;
	}
	scratch_create();
}

struct span {
	volatile unsigned char *a;
	size_t len;
};

static void read_pages_fn(void *arg)
{
	struct span *sp = arg;
	size_t i;

	for (i = 0; i < sp->len; i += PAGE)
		(void)sp->a[i];
}

/* Map another worker's scratch file and read it: it may shrink meanwhile. */
static void op_other_touch(void)
{
	char p[PATH_MAX + 8];
	struct span sp;
	struct stat st;
	int fd;

	file_path(p, sizeof(p), 's', rnd_below(nworkers));
	fd = open(p, O_RDONLY);
	if (fd < 0) {
		failed("open other scratch", errno, E_NOENT);
		return;
	}
	if (fstat(fd, &st) || !st.st_size) {
		close(fd);
		return;
	}
	sp.len = st.st_size;
	sp.a = mmap(NULL, sp.len, PROT_READ, MAP_SHARED, fd, 0);
	if (sp.a == MAP_FAILED) {
		failed("mmap other scratch", errno, 0);
		close(fd);
		return;
	}
	if (guarded(read_pages_fn, &sp))
		bus_allowed();
	munmap((void *)sp.a, sp.len);
	close(fd);
}

/* ---- engine and cgroup operations ---- */

static int open_any(void)
{
	char p[PATH_MAX + 8];
	int fd;

	if (rnd() & 1)
		snprintf(p, sizeof(p), "%s/ro%d", mnt, (int)rnd_below(NRO));
	else
		file_path(p, sizeof(p), 's', rnd_below(nworkers));
	fd = open(p, O_RDONLY);
	if (fd < 0)
		failed("open", errno, E_NOENT);
	return fd;
}

static void op_policy(void)
{
	int fd = open_any();

	if (fd < 0)
		return;
	if (mpcg_region_set_policy(fd, rnd_below(MPCG_NR_POLICIES)))
		failed("MPCG_IOC_SET_POLICY", errno, 0);
	close(fd);
}

static void op_reassess(void)
{
	struct mpcg_reassess r;
	int fd = open_any();

	if (fd < 0)
		return;
	if (mpcg_region_reassess(fd, &r))
		failed("MPCG_IOC_REASSESS", errno, 0);
	close(fd);
}

static void op_migrate(void)
{
	char p[PATH_MAX + 64];
	int i = rnd_below(NCG + NCHURN);

	if (i < NCG)
		snprintf(p, sizeof(p), "%s/c%d/cgroup.procs", cg_parent, i);
	else
		snprintf(p, sizeof(p), "%s/x%d/cgroup.procs", cg_parent,
			 i - NCG);
	/* An x cgroup may be gone (ENOENT) or going (ENODEV). */
	if (write_file(p, "0") && errno != ENOENT && errno != ENODEV)
		failed("move to another cgroup", errno, 0);
}

static void do_op(int op);

static void op_fork(void)
{
	int status, i, n = 1 + rnd_below(4);
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		failed("fork", errno, 0);
		return;
	}
	if (pid == 0) {
		rng ^= 0x9e3779b97f4a7c15ULL;
		for (i = 0; i < n; i++)
			do_op(rnd_below(5));	/* read-only file ops */
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		problem("waitpid: %s", strerror(errno));
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		problem("forked child: status %#x", status);
}

enum {
	OP_RO_MAP, OP_RO_TOUCH, OP_RO_MREMAP, OP_RO_PUNMAP, OP_RO_READ,
	OP_S_WRITE, OP_S_TRUNC, OP_S_PUNCH, OP_S_FALLOC, OP_S_MAPWRITE,
	OP_S_VERIFY, OP_S_UNLINK, OP_OTHER, OP_POLICY, OP_REASSESS,
	OP_MIGRATE, OP_FORK, OP_S_DIO, NR_OPS
};

/* Relative frequencies. */
static const int op_weight[NR_OPS] = {
	[OP_RO_MAP] = 8, [OP_RO_TOUCH] = 8, [OP_RO_MREMAP] = 3,
	[OP_RO_PUNMAP] = 3, [OP_RO_READ] = 4, [OP_S_WRITE] = 6,
	[OP_S_TRUNC] = 3, [OP_S_PUNCH] = 3, [OP_S_FALLOC] = 2,
	[OP_S_MAPWRITE] = 4, [OP_S_VERIFY] = 3, [OP_S_UNLINK] = 1,
	[OP_OTHER] = 4, [OP_POLICY] = 2, [OP_REASSESS] = 3, [OP_MIGRATE] = 2,
	[OP_FORK] = 2, [OP_S_DIO] = 3,
};

static void do_op(int op)
{
	switch (op) {
	case OP_RO_MAP: op_ro_map(); break;
	case OP_RO_TOUCH: op_ro_touch(); break;
	case OP_RO_MREMAP: op_ro_mremap(); break;
	case OP_RO_PUNMAP: op_ro_partial_unmap(); break;
	case OP_RO_READ: op_ro_read(); break;
	case OP_S_WRITE: op_s_write(); break;
	case OP_S_TRUNC: op_s_truncate(); break;
	case OP_S_PUNCH: op_s_punch(); break;
	case OP_S_FALLOC: op_s_fallocate(); break;
	case OP_S_MAPWRITE: op_s_mapwrite(); break;
	case OP_S_VERIFY: op_s_verify(); break;
	case OP_S_UNLINK: op_s_unlink(); break;
	case OP_OTHER: op_other_touch(); break;
	case OP_POLICY: op_policy(); break;
	case OP_REASSESS: op_reassess(); break;
	case OP_MIGRATE: op_migrate(); break;
	case OP_FORK: op_fork(); break;
	case OP_S_DIO: op_s_dio(); break;
	}
	__atomic_fetch_add(&sh->w[slot].ops, 1, __ATOMIC_RELAXED);
}

static int pick_op(void)
{
	int total = 0, i, r;

	for (i = 0; i < NR_OPS; i++)
		total += op_weight[i];
	r = rnd_below(total);
	for (i = 0; r >= op_weight[i]; i++)
		r -= op_weight[i];
	return i;
}

/* Grow the stack now, so that it needs no allocation later. */
static void __attribute__((noinline)) deep_stack(void)
{
	volatile char big[512 * 1024];
	size_t i;

	for (i = 0; i < sizeof(big); i += PAGE)
		big[i] = 0;
}

/* A worker: runs until told to stop, or exits by itself now and then. */
static int worker(int w, unsigned int gen)
{
	char p[PATH_MAX + 8];
	struct sigaction sa = { .sa_handler = on_sigbus };
	int i;

	slot = w;
	rng = seed ^ (0x9e3779b97f4a7c15ULL * (w + 1)) ^
	      ((unsigned long long)gen << 40);
	if (!rng)
		rng = 1;
	sigaction(SIGBUS, &sa, NULL);
	model = malloc(SCRATCH_MAX);
	if (!model)
		return 1;
	memset(model, 0, SCRATCH_MAX);
	for (i = 0; i < NRO; i++) {
		snprintf(p, sizeof(p), "%s/ro%d", mnt, i);
		ro_fd[i] = open(p, O_RDONLY);
		if (ro_fd[i] < 0) {
			problem("open %s: %s", p, strerror(errno));
			return 1;
		}
	}
	scratch_create();
	dio_fd = open("/dev/ram0", O_RDWR | O_DIRECT);
	if (fault_mode) {
		/*
		 * Fault everything in now (code, data, a deep stack), so that
		 * the injected failures hit this program's use of mpcg, not
		 * its own page faults; then ask for failures.
		 */
		deep_stack();
		if (mlockall(MCL_CURRENT))
			problem("mlockall: %s", strerror(errno));
		if (write_file("/proc/self/make-it-fail", "1"))
			problem("make-it-fail: %s", strerror(errno));
	}
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		do_op(pick_op());
		if (!rnd_below(300))
			break;		/* exit: the supervisor replaces us */
	}
	return 0;
}

/* ---- the supervisor ---- */

struct wproc {
	pid_t pid;
	unsigned int gen;
};

static struct wproc wp[MAX_WORKERS];
static int churn_alive[NCHURN];

static int worker_main(void *arg)
{
	int w = (long)arg;

	return worker(w, wp[w].gen);
}

/* Start worker @w in a random long-lived cgroup. */
static pid_t spawn(int w)
{
	char cg[PATH_MAX + 16];
	pid_t pid;

	snprintf(cg, sizeof(cg), "%s/c%d", cg_parent, (int)(rnd() % NCG));
	pid = mpcg_spawn(cg, worker_main, (void *)(long)w);
	if (pid < 0)
		return -1;
	wp[w].pid = pid;
	wp[w].gen++;
	return pid;
}

static int fault_which;		/* MPCG_FAULT_SLAB | MPCG_FAULT_PAGE */
static int fault_percent = 2;

/* Switch the injection on (at fault_percent) or off. */
static int fault_enable(int on)
{
	if (mpcg_fault_set(fault_which, on ? fault_percent : 0)) {
		printf("# fault injection: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int check_errors, checks, data_errors;

/* Freeze the workers, reassess and check every file, thaw. */
static void checkpoint(const char *when, int frozen_already)
{
	char p[PATH_MAX + 300];
	struct dirent *de;
	long old;
	DIR *d;

	if (fault_mode && fault_enable(0))
		check_errors++;
	if (!frozen_already && cg_freeze(cg_parent, 1)) {
		printf("# %s: cannot freeze the workers: %s\n", when,
		       strerror(errno));
		check_errors++;
		return;
	}
	old = mpcg_set_auto_reassess(0);
	/* Let a reassessment that was already queued run first. */
	usleep(old > 0 ? 2000 * old + 200000 : 200000);
	d = opendir(mnt);
	while (d && (de = readdir(d))) {
		int fd, errs;

		if (de->d_name[0] == '.')
			continue;
		path_join(p, sizeof(p), mnt, de->d_name);
		fd = open(p, O_RDONLY);
		if (fd < 0)
			continue;	/* unlinked meanwhile */
		errs = mpcg_reassess_check(fd, 0, NULL, NULL);
		/*
		 * Frozen workers change nothing, but the module's periodic
		 * scan of departed owners may; a real problem stays.
		 */
		if (errs) {
			usleep(200000);
			errs = mpcg_reassess_check(fd, 0, NULL, NULL);
			if (!errs)
				printf("# %s: %s: the problems above were gone 200 ms later (an automatic reassessment or the scan for removed owner cgroups ran meanwhile)\n",
				       when, de->d_name);
		}
		if (errs) {
			printf("# %s: %s: %d invariant problems\n", when,
			       de->d_name, errs);
			check_errors++;
		}
		if (de->d_name[0] == 'r' && de->d_name[1] == 'o') {
			static unsigned char buf[RO_SIZE];
			int f = de->d_name[2] - '0';
			long i;

			if (pread(fd, buf, RO_SIZE, 0) != RO_SIZE) {
				printf("# %s: short read of %s\n", when,
				       de->d_name);
				data_errors++;
			} else {
				for (i = 0; i < RO_SIZE; i++)
					if (buf[i] != pattern(i, ro_seed(f)))
						break;
				if (i < RO_SIZE) {
					printf("# %s: %s byte %ld is wrong\n",
					       when, de->d_name, i);
					data_errors++;
				}
			}
		}
		close(fd);
	}
	if (d)
		closedir(d);
	if (old >= 0)
		mpcg_set_auto_reassess(old);
	checks++;
	if (!frozen_already && cg_freeze(cg_parent, 0)) {
		printf("# %s: cannot thaw the workers: %s\n", when,
		       strerror(errno));
		check_errors++;
	}
	if (fault_mode && fault_enable(1))
		check_errors++;
}

/* Create or remove short-lived cgroup x<i>; its tasks go to c0 first. */
static void churn(int i)
{
	char path[PATH_MAX + 16], procs[PATH_MAX + 32], buf[4096];
	char c0[PATH_MAX + 32];
	char *s;

	snprintf(path, sizeof(path), "%s/x%d", cg_parent, i);
	if (!churn_alive[i]) {
		if (mkdir(path, 0755) == 0 || errno == EEXIST)
			churn_alive[i] = 1;
		return;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	snprintf(c0, sizeof(c0), "%s/c0/cgroup.procs", cg_parent);
	if (read_file(procs, buf, sizeof(buf)) >= 0)
		for (s = strtok(buf, "\n"); s; s = strtok(NULL, "\n"))
			write_file(c0, "%s", s);
	if (rmdir(path) == 0)
		churn_alive[i] = 0;
	/* else EBUSY: a task moved in meanwhile; next time */
}

static void reap(int respawn)
{
	int status, w;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (w = 0; w < nworkers; w++)
			if (wp[w].pid == pid)
				break;
		if (w == nworkers)
			continue;
		mpcg_pid_del(pid);
		wp[w].pid = 0;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			slot = w;
			problem("worker %d (pid %d) ended with status %#x", w,
				pid, status);
		}
		if (respawn && spawn(w) < 0) {
			slot = w;
			problem("fork a worker: %s", strerror(errno));
		}
	}
}

static int tap_n, tap_fail;

static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!ok)
		tap_fail++;
	printf("%s %d ", ok ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: stress [--seconds N] [--workers N] [--check-every N] [--seed S]\n"
		   "              [--fault failslab|page|both] [--probability PERCENT]\n");
}

static long num_arg(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || end == s || v < lo || v > hi) {
		fprintf(stderr, "stress: %s: not a number from %ld to %ld: '%s'\n",
			opt, lo, hi, s);
		usage(stderr);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 't' },
		{ "workers", required_argument, NULL, 'w' },
		{ "check-every", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "fault", required_argument, NULL, 'f' },
		{ "probability", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	long seconds = 60, every = 5, left, objs_left;
	char buf[512], p[PATH_MAX + 32];
	struct timespec t0, now;
	long total_ops = 0, clean = 0, sigbus = 0, unexpected = 0, data = 0;
	long base[NCG], charge;
	int c, i, w, bad;
	time_t last_check;

	seed = time(NULL) ^ getpid();
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': seconds = num_arg("--seconds", optarg, 1, 1000000); break;
		case 'w': nworkers = num_arg("--workers", optarg, 1, MAX_WORKERS); break;
		case 'c': every = num_arg("--check-every", optarg, 1, 3600); break;
		case 's': seed = num_arg("--seed", optarg, 1, LONG_MAX); break;
		case 'p': fault_percent = num_arg("--probability", optarg, 1, 100); break;
		case 'f':
			fault_which = mpcg_fault_parse(optarg);
			if (!fault_which) {
				fprintf(stderr, "stress: --fault: failslab, page or both, not '%s'\n",
					optarg);
				usage(stderr);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "stress: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	printf("TAP version 13\n");
	printf("# stress: %ld s, %d workers, check every %ld s, seed %llu", seconds,
	       nworkers, every, seed);
	if (fault_which)
		printf(", %s at %d%%", fault_which == 1 ? "failslab" :
		       fault_which == 2 ? "fail_page_alloc" :
		       "failslab and fail_page_alloc", fault_percent);
	printf(" (replay: --seed %llu)\n", seed);
	rng = seed;

	if (access(fault_which & 1 ? mpcg_fault_dirs[0] : "/", F_OK) ||
	    access(fault_which & 2 ? mpcg_fault_dirs[1] : "/", F_OK)) {
		printf("# this kernel has no %s (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, debugfs)\n",
		       fault_which & 1 ? mpcg_fault_dirs[0] : mpcg_fault_dirs[1]);
		printf("1..0 # SKIP no fault injection\n");
		return 4;
	}
	printf("1..5\n");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	memset(sh, 0, sizeof(*sh));
	/* A ram disk for the workers' pinned I/O (op_s_dio()), if there is one. */
	snprintf(buf, sizeof(buf), "modprobe brd rd_nr=1 rd_size=%ld 2>/dev/null",
		 (long)MAX_WORKERS * SCRATCH_MAX / 1024);
	if (access("/dev/ram0", F_OK) && system(buf))
		printf("# no brd module: no O_DIRECT reads into mappings\n");
	if (mpcg_mount(mnt, sizeof(mnt), "size=512m,chunk=256k")) {
		printf("# mount: %s\n", strerror(errno));
		return errno == ENODEV ? 4 : 1;
	}
	for (i = 0; i < NCG; i++) {
		char name[8];

		snprintf(name, sizeof(name), "c%d", i);
		if (!mpcg_cg_add(name)) {
			printf("# cgroup %s: %s\n", name, strerror(errno));
			mpcg_umount(mnt);
			cg_parent_remove();
			return errno == ENOTSUP ? 4 : 1;
		}
		base[i] = mpcg_cgs[i].base;
	}
	for (i = 0; i < NRO; i++) {
		int fd;

		snprintf(p, sizeof(p), "%s/ro%d", mnt, i);
		fd = open(p, O_RDWR | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || pattern_fill(fd, 0, RO_SIZE, ro_seed(i))) {
			printf("# creating %s: %s\n", p, strerror(errno));
			return 1;
		}
		close(fd);
	}
	if (fault_which) {
		fault_mode = 1;
		if (fault_enable(1))
			return 1;
	}

	for (w = 0; w < nworkers; w++)
		if (spawn(w) < 0) {
			printf("# fork: %s\n", strerror(errno));
			return 1;
		}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	last_check = t0.tv_sec;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = seconds - (now.tv_sec - t0.tv_sec);
		if (left <= 0)
			break;
		usleep(100000 + rnd_below(400000));
		reap(1);
		churn(rnd_below(NCHURN));
		if (now.tv_sec - last_check >= every) {
			snprintf(buf, sizeof(buf), "check at %ld s",
				 (long)(now.tv_sec - t0.tv_sec));
			checkpoint(buf, 0);
			last_check = now.tv_sec;
		}
	}

	/* Stop: thaw (in case), ask the workers to end, wait, then kill. */
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	if (fault_mode)
		fault_enable(0);
	for (i = 0; i < 200; i++) {
		reap(0);
		for (w = 0; w < nworkers && !wp[w].pid; w++)
			;
		if (w == nworkers)
			break;
		usleep(50000);
	}
	for (w = 0; w < nworkers; w++)
		if (wp[w].pid) {
			slot = w;
			problem("worker %d did not stop within 10 s", w);
			kill(wp[w].pid, SIGKILL);
		}
	while (wait(NULL) > 0)
		;
	checkpoint("final check", 1);

	for (w = 0; w < nworkers; w++) {
		total_ops += sh->w[w].ops;
		clean += sh->w[w].clean;
		sigbus += sh->w[w].sigbus;
		unexpected += sh->w[w].unexpected;
		data += sh->w[w].data;
	}
	printf("# %ld operations, %ld clean errors, %ld SIGBUS where allowed, %d checks\n",
	       total_ops, clean, sigbus, checks);
	for (w = 0; w < nworkers; w++)
		if (sh->w[w].unexpected)
			printf("# worker %d: %ld problems, the first: %s\n", w,
			       sh->w[w].unexpected, sh->w[w].first);
	tap(unexpected == 0, "workers: every operation succeeded or failed cleanly");
	tap(check_errors == 0 && checks >= 2,
	    "engine invariants held at %d checks (each file reassessed)", checks);
	tap(data_errors == 0 && data == 0,
	    "data: read-only files and scratch models never differed");

	/* Everything goes away: files, mount, cgroups' charges, objects. */
	snprintf(p, sizeof(p), "rm -rf '%s'/*", mnt);
	if (system(p))
		printf("# %s failed\n", p);
	mpcg_umount(mnt);
	for (i = 0; i < NCHURN; i++)
		if (churn_alive[i])
			churn(i);
	bad = 0;
	for (i = 0; i < 50; i++) {
		bad = 0;
		cg_drain_stocks();
		for (c = 0; c < NCG; c++) {
			charge = cg_charge(mpcg_cgs[c].path);
			if (charge < 0 || charge - base[c] > MPCG_CHARGE_TOL)
				bad++;
		}
		if (!bad)
			break;
		usleep(100000);
	}
	for (c = 0; c < NCG; c++)
		printf("# %s: charge %ld, baseline %ld\n", mpcg_cgs[c].name,
		       cg_charge(mpcg_cgs[c].path), base[c]);
	tap(!bad, "every cgroup's charge is back to its baseline after umount");

	objs_left = -1;
	if (read_file("/sys/kernel/debug/mpcg/objects", buf, sizeof(buf)) >= 0) {
		for (i = 0; i < 50; i++) {
			char *s;

			objs_left = 0;
			read_file("/sys/kernel/debug/mpcg/objects", buf,
				  sizeof(buf));
			for (s = buf; s && *s; s = strchr(s, '\n'),
			     s = s ? s + 1 : NULL) {
				char *v = strchr(s, ' ');

				if (v && strtol(v + 1, NULL, 10))
					objs_left++;
			}
			if (!objs_left)
				break;
			usleep(100000);
		}
		for (char *s = buf; *s; s++)
			if (*s == '\n')
				*s = ' ';
		printf("# objects: %s\n", buf);
		tap(objs_left == 0, "the module's object counters are all zero");
	} else {
		tap_n++;
		printf("ok %d the module's object counters # SKIP no debugfs mpcg/objects\n",
		       tap_n);
	}
	cg_drain_remove();
	cg_parent_remove();
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
	       tap_n - tap_fail - (objs_left < 0), tap_fail, objs_left < 0);
	return tap_fail ? 1 : 0;
}

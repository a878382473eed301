// SPDX-License-Identifier: GPL-2.0
/*
 * fsx for mpcg: a randomized file exerciser in the spirit of fsx.
 *
 * NPROC worker processes, each in a memory cgroup of its own, run a mix of
 * operations on NFILES files of one mpcg mount: read, write, reads and
 * writes through a shared mapping, truncate up and down, punch hole,
 * fallocate, and copies between files with sendfile, splice,
 * copy_file_range and pwrite from a mapping of the other file.  Every
 * operation is checked against an in-memory model of the files (the bytes
 * it affected and the size), every file in full every so often and at the
 * end; then the engine's invariants are checked through the ABI.
 *
 * Determinism: the sequence of operations, who does each and its arguments
 * all come from the seed.  Workers take turns on a file (a burst of 1 to 16
 * ops by one worker, then another worker's turn), and the operations on
 * one file happen in the order of the sequence: a worker waits for the
 * earlier ones on its files to be done (a ticket per file, a futex in
 * shared memory).  So the model (in shared memory too) is exact, a run
 * with the same seed, op count and variant does the same operations with
 * the same data, and operations on different files run in parallel.  A
 * failure prints the seed and the last operations on the file(s).
 *
 *   fsx_test [--seed N] [--ops N]     or   MPCG_FSX_SEED=N MPCG_FSX_OPS=N
 *   MPCG_FSX_SEED=random               a seed from the clock (printed)
 *   MPCG_FSX_CHECK=N                   full compare every N ops (1000)
 *   MPCG_FSX_VARIANT=chunk_2m          run only the variants named so
 *
 * The op count (default 100000, on every kernel) is for the whole
 * program: the variants get 60% (64k chunks), 20% (2M chunks: each op
 * costs more, chunks being zeroed whole) and 20% (64k chunks, moving) of
 * it.  On a debug kernel (lockdep, KASAN: /proc/lockdep exists) ops are
 * several times slower, the 2M ones most (about 3, 11 and 7 ms an op), so
 * there the shares are 80%, 10% and 10%: about 7 minutes in all.  An
 * explicit count always wins; the shares go by the kernel, so a replay
 * line is exact on the same kind of kernel (the schedule does not depend
 * on the count: a longer run does the same first ops).
 *
 * The automatic reassessment is off (auto_reassess_ms=0) except in the
 * "moving" variant, where it runs every few milliseconds while the workers
 * work, so that chunks move between cgroups under the I/O; it is off for
 * the final checks and restored afterwards.
 *
 * Runs as root in the test VM (tools/testing/vm-run).
 */
#define _GNU_SOURCE
#include <linux/falloc.h>
#include <linux/futex.h>
#include <sys/sendfile.h>
#include <sys/statfs.h>

#include "kselftest_harness.h"
#include "mpcg_util.h"
#include "../uapi/linux/mpcg.h"

#define NPROC		3
#define NFILES		5
#define HIST		24	/* operations remembered per file */
#define MARGIN		32	/* bytes checked around what an op touched */
#define DEFAULT_SEED	0x6d706367ULL
#define DEFAULT_OPS	100000L
#define DEFAULT_CHECK	1000L

static unsigned long long opt_seed = DEFAULT_SEED;
static long opt_ops = DEFAULT_OPS;
static long opt_check = DEFAULT_CHECK;
static const char *opt_variant;
static int debug_kernel;	/* /proc/lockdep exists: the debug shares */

enum fsx_op {
	OP_READ, OP_WRITE, OP_MAPREAD, OP_MAPWRITE, OP_TRUNCATE, OP_PUNCH,
	OP_FALLOC, OP_SENDFILE, OP_MAPPWRITE, OP_COPYRANGE, OP_SPLICE,
	OP_REOPEN, NR_OPS
};

static const char *const op_name[NR_OPS] = {
	"read", "write", "mapread", "mapwrite", "truncate", "punch",
	"fallocate", "sendfile", "pwrite-from-map", "copy_file_range",
	"splice", "reopen",
};

/* Relative frequencies. */
static const int op_weight[NR_OPS] = {
	14, 14, 10, 10, 6, 7, 6, 6, 6, 3, 3, 1,
};

/* Copies: from file g (the second file) to file f. */
static int two_files(int op)
{
	return op == OP_SENDFILE || op == OP_MAPPWRITE || op == OP_COPYRANGE ||
	       op == OP_SPLICE;
}

/* One operation, as the history shows it. */
struct rec {
	long k;			/* its number in the sequence */
	int proc, op, f, g;
	long off, len, off2;	/* off2: source offset of copies */
	long size_f, size_g;	/* model sizes before */
	long ret;
};

/* What the workers share (a MAP_SHARED anonymous mapping). */
struct fsx_shared {
	int done[NFILES];	/* ops done on each file: futex words */
	int stop;		/* a worker failed: everyone stops */
	int finished;		/* workers done with their ops */
	int release;		/* the test lets the workers go */
	long size[NFILES];	/* model file sizes */
	long ops_done[NPROC];
	long wait_ns[NPROC];	/* time spent waiting for turns */
	long op_ns[NR_OPS];	/* time spent in each kind of op */
	long op_n[NR_OPS];
	unsigned int hist_n[NFILES];
	struct rec hist[NFILES][HIST];
};

struct fsx {
	struct fsx_shared *sh;
	unsigned char *model;	/* NFILES * maxlen bytes: model contents */
	long maxlen;		/* largest file size */
	long chunk;
	char path[NFILES][PATH_MAX];
	unsigned long long seed;
	long nops, check_every;
	const char *variant;	/* its name, for the replay line */
	/* The worker's own. */
	int me;
	int fd[NFILES];
	unsigned char *map[NFILES];	/* MAP_SHARED, maxlen bytes */
	unsigned char *buf, *buf2;	/* 2 * maxlen each */
	int pipe[2];
};

/* ---- random numbers ---- */

static inline unsigned long long splitmix(unsigned long long *s)
{
	unsigned long long z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 if n <= 0. */
static inline long rnd(unsigned long long *s, long n)
{
	return n > 0 ? (long)(splitmix(s) % (unsigned long long)n) : 0;
}

/* @len random bytes (a whole number of 8-byte words is written). */
static void rnd_fill(unsigned long long *s, unsigned char *p, long len)
{
	unsigned long long v = *s * 0x2545f4914f6cdd1dULL | 1;
	long i;

	for (i = 0; i < len; i += 8) {
		/* xorshift64: cheap, and the data need not be good */
		v ^= v << 13;
		v ^= v >> 7;
		v ^= v << 17;
		memcpy(p + i, &v, 8);
	}
	splitmix(s);
}

/*
 * The schedule: who does op k, what, on which file(s).  A stream of its
 * own, walked by every worker in the same order.  Workers take turns on a
 * file: a turn is a burst of 1 to 16 ops by one worker on one file (the
 * copies among them also touch a second file), then the next turn goes to
 * a random worker and file.
 */
struct sched {
	unsigned long long s;
	int proc, f, left;
};

static void sched_next(struct sched *sc, struct rec *r, long k)
{
	int total = 0, w, i;

	if (!sc->left) {
		sc->proc = rnd(&sc->s, NPROC);
		sc->f = rnd(&sc->s, NFILES);
		sc->left = 1 + rnd(&sc->s, 16);
	}
	sc->left--;
	for (i = 0; i < NR_OPS; i++)
		total += op_weight[i];
	w = rnd(&sc->s, total);
	for (i = 0; w >= op_weight[i]; i++)
		w -= op_weight[i];
	memset(r, 0, sizeof(*r));
	r->k = k;
	r->op = i;
	r->proc = sc->proc;
	r->f = sc->f;
	r->g = -1;
	if (two_files(r->op))
		r->g = (r->f + 1 + rnd(&sc->s, NFILES - 1)) % NFILES;
}

/*
 * A length: mostly within a page, sometimes up to 16k, rarely up to two
 * chunks (at most 256k).  In the test VM bytes are what an op costs, so
 * most ops are small; the boundaries are what the offsets aim at.
 */
static long rnd_len(unsigned long long *s, const struct fsx *x)
{
	long p = rnd(s, 100), big = 2 * x->chunk;

	if (big > 256 * KiB)
		big = 256 * KiB;
	if (p < 80)
		return 1 + rnd(s, 4096);
	if (p < 97)
		return 1 + rnd(s, 16 * KiB);
	return 1 + rnd(s, big);
}

/* An offset below @lim: often near a chunk or page boundary or @size. */
static long rnd_off(unsigned long long *s, const struct fsx *x, long lim,
		    long size)
{
	long p = rnd(s, 100), o;

	if (lim <= 0)
		return 0;
	if (p < 25)
		o = rnd(s, x->maxlen / x->chunk + 1) * x->chunk - 64 + rnd(s, 128);
	else if (p < 35)
		o = rnd(s, x->maxlen / 4096 + 1) * 4096 - 8 + rnd(s, 16);
	else if (p < 45)
		o = size - 200 + rnd(s, 400);
	else
		o = rnd(s, lim);
	if (o < 0)
		o = 0;
	if (o >= lim)
		o = lim - 1;
	return o;
}

/* ---- waiting for one's turn on a file ---- */

static long futex(int *uaddr, int op, int val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/* Wait until @ticket ops are done on file @f; -1 if someone failed. */
static int wait_turn(struct fsx *x, int f, int ticket)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	int v;

	while ((v = __atomic_load_n(&x->sh->done[f], __ATOMIC_ACQUIRE)) !=
	       ticket) {
		if (__atomic_load_n(&x->sh->stop, __ATOMIC_ACQUIRE))
			return -1;
		futex(&x->sh->done[f], FUTEX_WAIT, v, &ts);
	}
	return 0;
}

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void end_turn(struct fsx *x, int f)
{
	__atomic_fetch_add(&x->sh->done[f], 1, __ATOMIC_RELEASE);
	futex(&x->sh->done[f], FUTEX_WAKE, INT_MAX, NULL);
}

/* ---- failure reports ---- */

static void print_rec(const struct rec *r)
{
	fprintf(stderr, "#   op %ld: worker %d %s f%d", r->k, r->proc,
		op_name[r->op], r->f);
	if (r->g >= 0)
		fprintf(stderr, " <- f%d@%ld", r->g, r->off2);
	fprintf(stderr, " off %ld len %ld (size f %ld", r->off, r->len,
		r->size_f);
	if (r->g >= 0)
		fprintf(stderr, ", g %ld", r->size_g);
	fprintf(stderr, ") = %ld\n", r->ret);
}

static void print_hist(struct fsx *x, int f)
{
	unsigned int n = x->sh->hist_n[f], i;

	fprintf(stderr, "# last operations on f%d:\n", f);
	for (i = n > HIST ? n - HIST : 0; i < n; i++)
		print_rec(&x->sh->hist[f][i % HIST]);
}

static void __attribute__((format(printf, 3, 4)))
fail(struct fsx *x, const struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int i;

	if (__atomic_exchange_n(&x->sh->stop, 1, __ATOMIC_ACQ_REL))
		exit(1);	/* someone else reports */
	fprintf(stderr, "# fsx FAILED (seed %llu, %ld ops, worker %d): ",
		x->seed, x->nops, x->me);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (r) {
		fprintf(stderr, "# in:\n");
		print_rec(r);
		print_hist(x, r->f);
		if (r->g >= 0)
			print_hist(x, r->g);
	}
	fprintf(stderr, "# replay: MPCG_FSX_SEED=%llu MPCG_FSX_OPS=%ld MPCG_FSX_VARIANT=%s\n",
		x->seed, opt_ops, x->variant);
	for (i = 0; i < NFILES; i++)
		futex(&x->sh->done[i], FUTEX_WAKE, INT_MAX, NULL);
	exit(1);
}

/* ---- the model and the checks ---- */

static unsigned char *model_of(struct fsx *x, int f)
{
	return x->model + (long)f * x->maxlen;
}

/* Check [off, off + len) of file @f (clipped to its size) with pread. */
static void check_range(struct fsx *x, const struct rec *r, int f, long off,
			long len)
{
	long size = x->sh->size[f], end = off + len, i;
	unsigned char *m = model_of(x, f);
	ssize_t n;

	off -= MARGIN;
	end += MARGIN;
	if (off < 0)
		off = 0;
	if (end > size)
		end = size;
	/* Reading from at or past EOF returns 0. */
	if (off >= end) {
		n = pread(x->fd[f], x->buf2, 16, size);
		if (n != 0)
			fail(x, r, "f%d: pread at EOF %ld returned %zd", f,
			     size, n);
		return;
	}
	/* One byte more: at EOF, it must not be there. */
	n = pread(x->fd[f], x->buf2, end - off + 1, off);
	if (n != end - off + (end < size))
		fail(x, r, "f%d: pread(%ld, %ld) returned %zd (%s), size %ld",
		     f, off, end - off + 1, n, n < 0 ? strerror(errno) : "",
		     size);
	n = end - off;
	if (memcmp(x->buf2, m + off, n)) {
		for (i = 0; i < n && x->buf2[i] == m[off + i]; i++)
			;
		fail(x, r, "f%d: byte %ld is %#x, expected %#x (checked %ld..%ld)",
		     f, off + i, x->buf2[i], m[off + i], off, end);
	}
}

static void check_size(struct fsx *x, const struct rec *r, int f)
{
	struct stat st;

	if (fstat(x->fd[f], &st))
		fail(x, r, "fstat f%d: %s", f, strerror(errno));
	if (st.st_size != x->sh->size[f])
		fail(x, r, "f%d: size %ld, expected %ld", f, (long)st.st_size,
		     x->sh->size[f]);
}

/* Compare all of file @f, through read() or through the mapping. */
static void check_all(struct fsx *x, const struct rec *r, int f, int mapped)
{
	long size = x->sh->size[f], i;
	unsigned char *m = model_of(x, f);

	check_size(x, r, f);
	if (mapped) {
		if (memcmp(x->map[f], m, size)) {
			for (i = 0; x->map[f][i] == m[i]; i++)
				;
			fail(x, r, "f%d (full, mapped): byte %ld is %#x, expected %#x",
			     f, i, x->map[f][i], m[i]);
		}
		return;
	}
	check_range(x, r, f, 0, size);
}

/* Model: file @f gets @len bytes of @src at @off. */
static void model_write(struct fsx *x, int f, long off, const void *src,
			long len)
{
	memmove(model_of(x, f) + off, src, len);
	if (off + len > x->sh->size[f])
		x->sh->size[f] = off + len;
}

/* Model: zero [off, off + len) of file @f, within its size. */
static void model_zero(struct fsx *x, int f, long off, long len)
{
	long size = x->sh->size[f];

	if (off + len > size)
		len = size - off;
	if (len > 0)
		memset(model_of(x, f) + off, 0, len);
}

/* ---- the worker ---- */

static int open_map(struct fsx *x, int f)
{
	x->fd[f] = open(x->path[f], O_RDWR);
	if (x->fd[f] < 0)
		return -1;
	x->map[f] = mmap(NULL, x->maxlen, PROT_READ | PROT_WRITE, MAP_SHARED,
			 x->fd[f], 0);
	return x->map[f] == MAP_FAILED ? -1 : 0;
}

/* Copy length @len of a copy from @g at @src: what exists of it. */
static long copy_len(struct fsx *x, int g, long src, long len)
{
	long avail = x->sh->size[g] - src;

	return avail <= 0 ? 0 : avail < len ? avail : len;
}

static void do_op(struct fsx *x, struct rec *r)
{
	unsigned long long s = x->seed ^ (0x5851f42d4c957f2dULL * (r->k + 1));
	int f = r->f, g = r->g, fd = x->fd[f];
	long size = x->sh->size[f], lim, n, off, len;
	unsigned char *m = model_of(x, f);
	loff_t o1, o2;
	ssize_t ret;

	r->size_f = size;
	r->size_g = g >= 0 ? x->sh->size[g] : 0;
	len = rnd_len(&s, x);
	switch (r->op) {
	case OP_READ:
		off = rnd_off(&s, x, x->maxlen, size);
		r->off = off;
		r->len = len;
		ret = pread(fd, x->buf, len, off);
		r->ret = ret;
		n = size - off < 0 ? 0 : size - off < len ? size - off : len;
		if (ret != n)
			fail(x, r, "read returned %zd (%s), expected %ld", ret,
			     ret < 0 ? strerror(errno) : "", n);
		if (memcmp(x->buf, m + off, n)) {
			long i;

			for (i = 0; x->buf[i] == m[off + i]; i++)
				;
			fail(x, r, "read: byte %ld is %#x, expected %#x",
			     off + i, x->buf[i], m[off + i]);
		}
		return;
	case OP_MAPREAD:
		if (!size)
			return;
		off = rnd_off(&s, x, size, size);
		if (len > size - off)
			len = size - off;
		r->off = off;
		r->len = len;
		if (memcmp(x->map[f] + off, m + off, len)) {
			long i;

			for (i = 0; x->map[f][off + i] == m[off + i]; i++)
				;
			fail(x, r, "mapped read: byte %ld is %#x, expected %#x",
			     off + i, x->map[f][off + i], m[off + i]);
		}
		return;
	case OP_WRITE:
		lim = x->maxlen - len;
		off = rnd_off(&s, x, lim + 1, size);
		r->off = off;
		r->len = len;
		rnd_fill(&s, x->buf, len);
		ret = pwrite(fd, x->buf, len, off);
		r->ret = ret;
		if (ret != len)
			fail(x, r, "write returned %zd (%s)", ret,
			     ret < 0 ? strerror(errno) : "");
		model_write(x, f, off, x->buf, len);
		check_size(x, r, f);
		check_range(x, r, f, off, len);
		return;
	case OP_MAPWRITE:
		if (!size)
			return;
		off = rnd_off(&s, x, size, size);
		if (len > size - off)
			len = size - off;
		r->off = off;
		r->len = len;
		rnd_fill(&s, x->buf, len);
		memcpy(x->map[f] + off, x->buf, len);
		model_write(x, f, off, x->buf, len);
		check_range(x, r, f, off, len);
		return;
	case OP_TRUNCATE:
		if (rnd(&s, 2))
			off = size + rnd(&s, x->maxlen - size + 1);
		else
			off = rnd(&s, size + 1);
		if (rnd(&s, 4) == 0)	/* on a boundary */
			off = off / x->chunk * x->chunk;
		r->off = off;
		r->ret = ftruncate(fd, off);
		if (r->ret)
			fail(x, r, "ftruncate: %s", strerror(errno));
		if (off < size)
			model_zero(x, f, off, size - off);
		x->sh->size[f] = off;
		check_size(x, r, f);
		check_range(x, r, f, off, 0);
		return;
	case OP_PUNCH:
		off = rnd_off(&s, x, x->maxlen, size);
		if (rnd(&s, 6) == 0)	/* a bigger hole, often whole chunks */
			len = 1 + rnd(&s, 3 * x->chunk);
		if (off + len > x->maxlen)
			len = x->maxlen - off;
		r->off = off;
		r->len = len;
		r->ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				   off, len);
		if (r->ret)
			fail(x, r, "punch hole: %s", strerror(errno));
		model_zero(x, f, off, len);
		check_size(x, r, f);
		check_range(x, r, f, off, len);
		return;
	case OP_FALLOC:
		lim = x->maxlen - len;
		off = rnd_off(&s, x, lim + 1, size);
		r->off = off;
		r->len = len;
		r->ret = fallocate(fd, 0, off, len);
		if (r->ret)
			fail(x, r, "fallocate: %s", strerror(errno));
		if (off + len > size)
			x->sh->size[f] = off + len;	/* zeroes in the model */
		check_size(x, r, f);
		check_range(x, r, f, off, len);
		return;
	case OP_SENDFILE:
	case OP_COPYRANGE:
	case OP_SPLICE:
	case OP_MAPPWRITE:
		if (r->op == OP_SPLICE && len > 64 * KiB)
			len = 1 + len % (64 * KiB);	/* what a pipe holds */
		r->off2 = rnd_off(&s, x, x->sh->size[g] + 100, x->sh->size[g]);
		if (r->op == OP_MAPPWRITE) {
			len = copy_len(x, g, r->off2, len);
			if (!len)
				return;
		}
		lim = x->maxlen - len;
		off = rnd_off(&s, x, lim + 1, size);
		r->off = off;
		r->len = len;
		n = copy_len(x, g, r->off2, len);
		o1 = r->off2;
		o2 = off;
		switch (r->op) {
		case OP_SENDFILE:
			if (lseek(fd, off, SEEK_SET) != off)
				fail(x, r, "lseek: %s", strerror(errno));
			ret = sendfile(fd, x->fd[g], &o1, len);
			break;
		case OP_COPYRANGE:
			ret = copy_file_range(x->fd[g], &o1, fd, &o2, len, 0);
			break;
		case OP_SPLICE:
			ret = splice(x->fd[g], &o1, x->pipe[1], NULL, len, 0);
			if (ret != n)
				fail(x, r, "splice to the pipe returned %zd (%s), expected %ld",
				     ret, ret < 0 ? strerror(errno) : "", n);
			while (ret > 0) {
				ssize_t k = splice(x->pipe[0], NULL, fd, &o2,
						   ret, 0);

				if (k <= 0)
					fail(x, r, "splice from the pipe returned %zd (%s)",
					     k, k < 0 ? strerror(errno) : "");
				ret -= k;
			}
			ret = n;
			break;
		default:
			ret = pwrite(fd, x->map[g] + r->off2, len, off);
			break;
		}
		r->ret = ret;
		if (ret != n)
			fail(x, r, "%s returned %zd (%s), expected %ld",
			     op_name[r->op], ret, ret < 0 ? strerror(errno) : "",
			     n);
		if (n)
			model_write(x, f, off, model_of(x, g) + r->off2, n);
		check_size(x, r, f);
		check_range(x, r, f, off, n);
		check_range(x, r, g, r->off2, n);
		return;
	case OP_REOPEN:
		/* New attachments: a new open file and a new mapping. */
		munmap(x->map[f], x->maxlen);
		close(x->fd[f]);
		if (open_map(x, f))
			fail(x, r, "reopen: %s", strerror(errno));
		check_size(x, r, f);
		return;
	}
}

static int worker(void *arg)
{
	struct fsx *x = arg;
	struct sched sc = { .s = x->seed };
	int ticket[NFILES] = { 0 };
	struct rec r;
	long k, t, t2;
	int i;

	for (i = 0; i < NFILES; i++)
		if (open_map(x, i))
			return 10;
	x->buf = malloc(2 * x->maxlen + 8);
	x->buf2 = malloc(2 * x->maxlen + 8);
	if (!x->buf || !x->buf2 || pipe(x->pipe))
		return 11;
	fcntl(x->pipe[1], F_SETPIPE_SZ, 64 * KiB);

	for (k = 0; k < x->nops; k++) {
		int tf, tg = 0;

		sched_next(&sc, &r, k);
		tf = ticket[r.f]++;
		if (r.g >= 0)
			tg = ticket[r.g]++;
		if (r.proc != x->me)
			continue;
		t = now_ns();
		if (wait_turn(x, r.f, tf) || (r.g >= 0 && wait_turn(x, r.g, tg)))
			return 1;
		t2 = now_ns();
		x->sh->wait_ns[x->me] += t2 - t;
		do_op(x, &r);
		/* Under the turn of r.f: no one else updates these now. */
		x->sh->op_ns[r.op] += now_ns() - t2;
		x->sh->op_n[r.op]++;
		x->sh->hist[r.f][x->sh->hist_n[r.f]++ % HIST] = r;
		if (r.g >= 0)
			x->sh->hist[r.g][x->sh->hist_n[r.g]++ % HIST] = r;
		if (x->check_every && k % x->check_every == 0) {
			check_all(x, &r, r.f, k / x->check_every % 2);
			if (r.g >= 0)
				check_all(x, &r, r.g, 0);
		}
		x->sh->ops_done[x->me]++;
		end_turn(x, r.f);
		if (r.g >= 0)
			end_turn(x, r.g);
	}

	/* Done: keep the files open and mapped until the test has looked. */
	__atomic_fetch_add(&x->sh->finished, 1, __ATOMIC_RELEASE);
	futex(&x->sh->finished, FUTEX_WAKE, INT_MAX, NULL);
	while (!__atomic_load_n(&x->sh->release, __ATOMIC_ACQUIRE)) {
		struct timespec ts = { 1, 0 };

		futex(&x->sh->release, FUTEX_WAIT, 0, &ts);
	}
	for (i = 0; i < NFILES; i++) {
		munmap(x->map[i], x->maxlen);
		close(x->fd[i]);
	}
	return 0;
}

/* ---- the test ---- */

FIXTURE(fsx) {
	char dir[64];
	long auto_reassess;
	struct fsx x;
	pid_t pid[NPROC];
	char cg[NPROC][PATH_MAX];
};

FIXTURE_VARIANT(fsx) {
	const char *name;
	const char *opts;
	long chunk;
	long maxlen;
	long moving_ms;		/* auto_reassess_ms while the workers run */
	long share;		/* percent of the ops */
	long debug_share;	/* the same on a debug kernel */
};

FIXTURE_VARIANT_ADD(fsx, chunk_64k) {
	.name = "chunk_64k",
	.opts = "size=512M,chunk=64k",
	.chunk = 64 * KiB,
	.maxlen = 1 * MiB,
	.share = 60,
	.debug_share = 80,
};

FIXTURE_VARIANT_ADD(fsx, chunk_2m) {
	.name = "chunk_2m",
	.opts = "size=512M,chunk=2M",
	.chunk = 2 * MiB,
	.maxlen = 5 * MiB,
	.share = 20,
	.debug_share = 10,
};

FIXTURE_VARIANT_ADD(fsx, chunk_64k_moving) {
	.name = "chunk_64k_moving",
	.opts = "size=512M,chunk=64k",
	.chunk = 64 * KiB,
	.maxlen = 1 * MiB,
	.moving_ms = 2,
	.share = 20,
	.debug_share = 10,
};

FIXTURE_SETUP(fsx)
{
	self->auto_reassess = mpcg_set_auto_reassess(variant->moving_ms);
	ASSERT_LE(0, self->auto_reassess);
	ASSERT_EQ(0, mpcg_mount(self->dir, sizeof(self->dir), variant->opts))
		TH_LOG("mount -o %s: %s", variant->opts, strerror(errno));
}

FIXTURE_TEARDOWN(fsx)
{
	int i;

	for (i = 0; i < NPROC; i++)
		if (self->pid[i] > 0) {
			kill(self->pid[i], SIGKILL);
			waitpid(self->pid[i], NULL, 0);
		}
	for (i = 0; i < NFILES; i++)
		if (self->x.path[i][0])
			unlink(self->x.path[i]);
	mpcg_umount(self->dir);
	cg_parent_remove();
	if (self->auto_reassess >= 0)
		mpcg_set_auto_reassess(self->auto_reassess);
}

/* What @cg is charged for other than page cache and anonymous memory. */
static __attribute__((noinline)) long region_charge(const char *cg)
{
	long c = cg_charge(cg), anon = cg_read_key(cg, "memory.stat", "anon");

	return c < 0 || anon < 0 ? -1 : c - anon;
}

static unsigned long long cgroup_id(const char *cg)
{
	struct stat st;

	return stat(cg, &st) ? 0 : st.st_ino;
}

TEST_F_TIMEOUT(fsx, run, 1800)
{
	struct fsx *x = &self->x;
	long base[NPROC], paid[NPROC] = { 0 };
	unsigned long long id[NPROC];
	struct timespec t0, t1;
	struct statfs sfs;
	long i, j;
	int status, fd;

	unsigned long long moved = 0, passes = 0;

	if (opt_variant && strcmp(opt_variant, variant->name))
		SKIP(return, "MPCG_FSX_VARIANT=%s", opt_variant);
	x->seed = opt_seed;
	x->nops = opt_ops * (debug_kernel ? variant->debug_share :
					    variant->share) / 100;
	x->variant = variant->name;
	x->check_every = opt_check;
	x->chunk = variant->chunk;
	x->maxlen = variant->maxlen;
	ksft_print_msg("fsx: seed %llu, %ld ops, %d workers, %d files of up to %ld bytes, chunk %ld%s\n",
		       x->seed, x->nops, NPROC, NFILES, x->maxlen, x->chunk,
		       variant->moving_ms ? ", chunks moving" : "");
	ksft_print_msg("fsx: replay with MPCG_FSX_SEED=%llu MPCG_FSX_OPS=%ld MPCG_FSX_VARIANT=%s\n",
		       x->seed, opt_ops, variant->name);
	fflush(stdout);

	/*
	 * Shared state and the model, faulted in here so that the workers'
	 * cgroups are not charged for them.
	 */
	x->sh = mmap(NULL, sizeof(*x->sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, x->sh);
	memset(x->sh, 0, sizeof(*x->sh));
	x->model = mmap(NULL, NFILES * x->maxlen, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, x->model);
	memset(x->model, 0, NFILES * x->maxlen);

	/* The files, created here: opened for nothing else, no attachment. */
	for (i = 0; i < NFILES; i++) {
		snprintf(x->path[i], sizeof(x->path[i]), "%s/f%ld", self->dir, i);
		fd = open(x->path[i], O_RDWR | O_CREAT | O_EXCL, 0644);
		ASSERT_LE(0, fd);
		close(fd);
	}
	for (i = 0; i < NPROC; i++) {
		char name[16];

		snprintf(name, sizeof(name), "fsx%ld", i);
		ASSERT_EQ(0, cg_create(self->cg[i], sizeof(self->cg[i]), name))
			TH_LOG("cgroup: %s", strerror(errno));
		id[i] = cgroup_id(self->cg[i]);
		base[i] = region_charge(self->cg[i]);
		ASSERT_LE(0, base[i]);
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < NPROC; i++) {
		x->me = i;
		fflush(stdout);
		fflush(stderr);
		self->pid[i] = fork();
		ASSERT_LE(0, self->pid[i]);
		if (self->pid[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (cg_enter(self->cg[i]))
				_exit(255);
			_exit(worker(x));
		}
	}
	/* Wait for all to finish their ops (or one to fail). */
	for (;;) {
		int fin = __atomic_load_n(&x->sh->finished, __ATOMIC_ACQUIRE);
		struct timespec ts = { 0, 200 * 1000 * 1000 };

		if (fin == NPROC)
			break;
		for (i = 0; i < NPROC; i++)
			if (self->pid[i] > 0 &&
			    waitpid(self->pid[i], &status, WNOHANG) == self->pid[i]) {
				self->pid[i] = 0;
				ASSERT_EQ(0, status)
					TH_LOG("worker %ld failed: status %#x (seed %llu)",
					       i, status, x->seed);
			}
		futex(&x->sh->finished, FUTEX_WAIT, fin, &ts);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ksft_print_msg("fsx: %ld ops (%ld, %ld, %ld by worker) in %.1f s\n",
		       x->sh->ops_done[0] + x->sh->ops_done[1] + x->sh->ops_done[2],
		       x->sh->ops_done[0], x->sh->ops_done[1], x->sh->ops_done[2],
		       t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	ksft_print_msg("fsx: waiting for turns: %.1f %.1f %.1f s; average op (us):",
		       x->sh->wait_ns[0] / 1e9, x->sh->wait_ns[1] / 1e9,
		       x->sh->wait_ns[2] / 1e9);
	for (i = 0; i < NR_OPS; i++)
		printf(" %s %.0f", op_name[i],
		       x->sh->op_n[i] ? x->sh->op_ns[i] / 1e3 / x->sh->op_n[i] : 0.0);
	printf("\n");
	fflush(stdout);
	ASSERT_EQ(x->nops, x->sh->ops_done[0] + x->sh->ops_done[1] +
			   x->sh->ops_done[2]);

	/*
	 * The engine's invariants, with the workers still attached to every
	 * file: after a reassessment each region is assessed, the members'
	 * payments add up to its resident bytes, which st_blocks shows, and
	 * each pays its fair share to within a chunk.
	 */
	ASSERT_EQ(0, mpcg_set_auto_reassess(0) < 0);
	/*
	 * An automatic reassessment queued before that (in the "moving"
	 * variant, 2 ms after a worker's last change) may not have run yet
	 * on a busy machine; it would run in the middle of a check below.
	 */
	if (variant->moving_ms)
		usleep(500 * 1000);
	for (i = 0; i < NFILES; i++) {
		struct mpcg_member_info *m = NULL;
		struct mpcg_region_stat st;
		struct mpcg_reassess r;
		unsigned long long sum = 0, fair = 0;
		struct stat sb;
		long n;

		fd = open(x->path[i], O_RDONLY);	/* ioctls only */
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, mpcg_region_reassess(fd, &r))
			TH_LOG("REASSESS: %s", strerror(errno));
		EXPECT_EQ(MPCG_STATE_ASSESSED, r.state);
		ASSERT_EQ(0, mpcg_region_get_stat(fd, &st));
		ASSERT_EQ(0, fstat(fd, &sb));
		EXPECT_EQ(MPCG_STATE_ASSESSED, st.state);
		EXPECT_EQ(x->sh->size[i], (long)st.file_size);
		EXPECT_EQ(x->sh->size[i], sb.st_size);
		EXPECT_EQ(x->chunk, (long)st.chunk_size);
		EXPECT_EQ((unsigned long long)sb.st_blocks * 512,
			  st.resident_bytes);
		EXPECT_EQ(0, st.resident_bytes % x->chunk);
		/* Nothing resident past EOF (no KEEP_SIZE here). */
		EXPECT_GE((x->sh->size[i] + x->chunk - 1) / x->chunk * x->chunk,
			  (long)st.resident_bytes);
		EXPECT_EQ(0, st.shortfall_bytes);
		EXPECT_EQ(NPROC, st.nr_members);
		moved += st.chunks_moved;
		passes += st.reassessments;
		n = mpcg_region_members(fd, &m);
		ASSERT_LE(0, n);
		/* The members, and the owner (this test's cgroup) if not one. */
		for (j = 0; j < n; j++)
			if (!m[j].nr_attachments)
				EXPECT_TRUE(m[j].flags & MPCG_MEMBER_OWNER);
		EXPECT_EQ(st.nr_members + 1, n);
		for (j = 0; j < n; j++) {
			long d = (long)m[j].paid_bytes -
				 (long)m[j].fair_share_bytes;
			int w;

			sum += m[j].paid_bytes;
			fair += m[j].fair_share_bytes;
			EXPECT_TRUE(d <= x->chunk && -d <= x->chunk)
				TH_LOG("f%ld: cgroup %llu pays %llu, fair share %llu",
				       i, (unsigned long long)m[j].cgroup_id,
				       (unsigned long long)m[j].paid_bytes,
				       (unsigned long long)m[j].fair_share_bytes);
			EXPECT_EQ(0, m[j].shortfall_bytes);
			for (w = 0; w < NPROC; w++)
				if (m[j].cgroup_id == id[w])
					paid[w] += m[j].paid_bytes;
		}
		EXPECT_EQ(st.resident_bytes, sum)
			TH_LOG("f%ld: members pay %llu of %llu resident", i, sum,
			       (unsigned long long)st.resident_bytes);
		EXPECT_TRUE(near(fair, st.resident_bytes, n + 1));
		free(m);
		/*
		 * And the shared checker's rules (mpcg_util.h), chunk by
		 * chunk: every chunk paid once by one of its sharers, each
		 * member within its fair share, and reassessing again moves
		 * the fewest chunks that can (none).  The workers are idle
		 * now, so nothing changes the region meanwhile.  Not
		 * MPCG_CHECK_CHARGES: a cgroup pays for all five files, which
		 * the charge check below sums.
		 */
		EXPECT_EQ(0, mpcg_reassess_check(fd, 0, NULL, NULL))
			TH_LOG("f%ld: the invariant checker failed (seed %llu)",
			       i, x->seed);
		close(fd);
	}
	ksft_print_msg("fsx: %llu reassessments moved %llu chunks\n", passes,
		       moved);
	fflush(stdout);
	if (variant->moving_ms)
		EXPECT_LT(0, moved);
	/* The cgroups are charged what they pay. */
	for (i = 0; i < NPROC; i++) {
		long c = region_charge(self->cg[i]) - base[i];

		EXPECT_TRUE(near(c, paid[i], 1 * MiB))
			TH_LOG("worker %ld: charged %ld, pays %ld", i, c, paid[i]);
	}

	/* Every file, in full, against the model. */
	for (i = 0; i < NFILES; i++) {
		unsigned char *buf = malloc(x->maxlen);
		long size = x->sh->size[i];

		ASSERT_NE(NULL, buf);
		fd = open(x->path[i], O_RDONLY);
		ASSERT_LE(0, fd);
		EXPECT_EQ(size, pread(fd, buf, x->maxlen, 0));
		for (j = 0; j < size && buf[j] == x->model[i * x->maxlen + j]; j++)
			;
		EXPECT_EQ(size, j) TH_LOG("f%ld: byte %ld differs (seed %llu)",
					  i, j, x->seed);
		close(fd);
		free(buf);
	}

	/* The workers go; unlinked, everything is given back. */
	__atomic_store_n(&x->sh->release, 1, __ATOMIC_RELEASE);
	futex(&x->sh->release, FUTEX_WAKE, INT_MAX, NULL);
	for (i = 0; i < NPROC; i++) {
		ASSERT_EQ(self->pid[i], waitpid(self->pid[i], &status, 0));
		self->pid[i] = 0;
		EXPECT_EQ(0, status) TH_LOG("worker %ld: status %#x", i, status);
	}
	for (i = 0; i < NFILES; i++)
		EXPECT_EQ(0, unlink(x->path[i]));
	ASSERT_EQ(0, statfs(self->dir, &sfs));
	EXPECT_EQ(sfs.f_blocks, sfs.f_bfree);
	for (i = 0; i < NPROC; i++) {
		long c = region_charge(self->cg[i]) - base[i];

		EXPECT_TRUE(near(c, 0, 512 * KiB))
			TH_LOG("worker %ld: still charged %ld", i, c);
	}
}

/* The harness of this kernel takes no options of its own: ours first. */
static void parse_options(int *argc, char **argv)
{
	const char *e;
	int i, o = 1;

	e = getenv("MPCG_FSX_SEED");
	if (e && !strcmp(e, "random")) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		opt_seed = ts.tv_sec * 1000000007ULL + ts.tv_nsec;
	} else if (e && *e) {
		opt_seed = strtoull(e, NULL, 0);
	}
	debug_kernel = !access("/proc/lockdep", F_OK);
	e = getenv("MPCG_FSX_OPS");
	if (e && *e)
		opt_ops = strtol(e, NULL, 0);
	e = getenv("MPCG_FSX_VARIANT");
	if (e && *e)
		opt_variant = e;
	e = getenv("MPCG_FSX_CHECK");
	if (e && *e)
		opt_check = strtol(e, NULL, 0);
	for (i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < *argc)
			opt_seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--ops") && i + 1 < *argc)
			opt_ops = strtol(argv[++i], NULL, 0);
		else
			argv[o++] = argv[i];
	}
	*argc = o;
	argv[o] = NULL;
}

static void __attribute__((constructor)) __constructor_order_last(void)
{
	if (!__constructor_order)
		__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD;
}

int main(int argc, char **argv)
{
	parse_options(&argc, argv);
	return test_harness_run(argc, argv);
}

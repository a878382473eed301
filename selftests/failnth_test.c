// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg selftests: every kernel allocation of a new member's first use of a
 * file may fail, and each failure is clean.
 *
 * A process in a new memory cgroup uses a file another cgroup wrote (so it
 * becomes a member and a new toucher of the chunks it uses).  With the
 * debug kernel's fault injection, /proc/thread-self/fail-nth makes the Nth
 * kernel allocation (slab or page) of the operation fail, for N = 1, 2, ...
 * until the operation makes fewer than N allocations.  Every run must end
 * with the operation done, or failed with ENOMEM (a failed page fault is
 * retried by the kernel, so a fault always ends done); what it read must be
 * the file's data; what the file holds afterwards must be what was written
 * where a write said it wrote, and the old data elsewhere; and reassessing
 * the region must work after each run and charge correctly at the end.
 * vm-run fails the run on any kernel warning, KASAN report or leak.
 *
 * Operations, each from a fresh cgroup on a fresh mount (chunk=64k and 2M):
 * open + read of written chunks and of a hole, write into a written chunk
 * and into a hole (a new chunk), a read and a write fault through a shared
 * mapping, and fallocate of a new chunk.
 *
 * Needs CONFIG_FAULT_INJECTION with CONFIG_FAILSLAB and
 * CONFIG_FAIL_PAGE_ALLOC (the debug kernel of make check-debug); skipped,
 * with the reason, elsewhere.
 *
 * Runs as root in the test VM (tools/testing/vm-run).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "mpcg_util.h"
#include "libmpcg.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define IO_LEN		(8 * KiB)
#define MAX_NTH		400	/* more allocations than this: a test bug */
#define DATA_SEED	7

enum op {
	OP_READ, OP_READ_HOLE, OP_WRITE, OP_WRITE_NEW,
	OP_MAP_READ, OP_MAP_WRITE, OP_FALLOCATE,
};

/* What the child reports back, in memory shared with the parent. */
struct report {
	int injected;		/* the Nth allocation happened (and failed) */
	long ret;		/* the operation's result, -1 with err */
	int err;
	char problem[256];	/* set if the child saw something wrong */
};

FIXTURE(failnth) {
	char dir[64];
	char path[PATH_MAX];
	long chunk;
	long size;		/* of the file: data chunks 0, 1; hole chunk 2 */
	unsigned char *model;	/* what the file must hold */
	struct report *rep;
	int fd;
};

FIXTURE_VARIANT(failnth) {
	const char *opts;
	long chunk;
};

FIXTURE_VARIANT_ADD(failnth, chunk64k) {
	.opts = "size=32M,chunk=64k,policy=equal",
	.chunk = 64 * KiB,
};

FIXTURE_VARIANT_ADD(failnth, chunk2m) {
	.opts = "size=32M,chunk=2M,policy=equal",
	.chunk = 2 * MiB,
};

FIXTURE_SETUP(failnth)
{
	long i;

	self->fd = -1;
	self->chunk = variant->chunk;
	self->size = 4 * self->chunk;
	self->model = calloc(1, self->size);
	ASSERT_NE(NULL, self->model);
	self->rep = mmap(NULL, sizeof(*self->rep), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->rep);
	ASSERT_EQ(0, cg_parent_setup()) TH_LOG("cgroups: %s", strerror(errno));
	ASSERT_EQ(0, mpcg_mount(self->dir, sizeof(self->dir), variant->opts));
	path_join(self->path, sizeof(self->path), self->dir, "shared");
	self->fd = open(self->path, O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ftruncate(self->fd, self->size));
	ASSERT_EQ(0, pattern_fill(self->fd, 0, 2 * self->chunk, DATA_SEED));
	for (i = 0; i < 2 * self->chunk; i++)
		self->model[i] = pattern(i, DATA_SEED);
}

FIXTURE_TEARDOWN(failnth)
{
	if (self->fd >= 0)
		close(self->fd);
	unlink(self->path);
	mpcg_umount(self->dir);
	cg_parent_remove();
}

/* The child's view of one run. */
struct job {
	const char *path;
	enum op op;
	int nth;
	long chunk;
	unsigned int seed;
	const unsigned char *model;
	struct report *rep;
};

static sigjmp_buf bus_env;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_env, 1);
}

/* Where each operation works: a written chunk, or the hole chunk 2. */
static off_t op_offset(enum op op, long chunk)
{
	switch (op) {
	case OP_READ:
		return chunk - IO_LEN / 2;	/* across chunks 0 and 1 */
	case OP_WRITE:
		return chunk / 2;
	case OP_MAP_READ:
		return chunk + 5;
	case OP_MAP_WRITE:
		return 2 * chunk + 100;
	default:
		return 2 * chunk;
	}
}

#define PROBLEM(j, ...) \
	snprintf((j)->rep->problem, sizeof((j)->rep->problem), __VA_ARGS__)

/* Read a byte of a mapping into @buf[0] or write @val there: 1, or -2 on SIGBUS. */
static long map_access(int rd, volatile char *p, char *buf, char val)
{
	if (sigsetjmp(bus_env, 1)) {
		errno = EFAULT;		/* reported as SIGBUS by the caller */
		return -2;
	}
	if (rd)
		buf[0] = *p;
	else
		*p = val;
	return 1;
}

/* The operation itself, between arming and disarming fail-nth. */
static long do_op(struct job *j, char *buf, volatile char **map)
{
	off_t off = op_offset(j->op, j->chunk);
	size_t len = 4 * j->chunk;
	int fd, i;

	fd = open(j->path, j->op == OP_READ || j->op == OP_READ_HOLE ||
			   j->op == OP_MAP_READ ? O_RDONLY : O_RDWR);
	if (fd < 0)
		return -1;
	switch (j->op) {
	case OP_READ:
	case OP_READ_HOLE:
		return pread(fd, buf, IO_LEN, off);
	case OP_WRITE:
	case OP_WRITE_NEW:
		for (i = 0; i < IO_LEN; i++)
			buf[i] = pattern(off + i, j->seed);
		return pwrite(fd, buf, IO_LEN, off);
	case OP_FALLOCATE:
		return fallocate(fd, 0, off, j->chunk);
	case OP_MAP_READ:
	case OP_MAP_WRITE:
		*map = mmap(NULL, len, j->op == OP_MAP_READ ? PROT_READ :
			    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (*map == MAP_FAILED)
			return -1;
		return map_access(j->op == OP_MAP_READ, *map + off, buf,
				  (char)j->seed);
	}
	return -1;
}

/* Child, in a new cgroup: the operation with its Nth allocation failing. */
static int child(void *arg)
{
	struct job *j = arg;
	struct sigaction sa = { .sa_handler = on_sigbus };
	static char buf[IO_LEN];
	volatile char *map = NULL;
	char v[16];
	off_t off = op_offset(j->op, j->chunk);
	ssize_t n;
	long ret;
	int nth, len, i;

	sigaction(SIGBUS, &sa, NULL);
	/* Fault in what the run uses, so that the failure hits mpcg's code. */
	memset(buf, 0, sizeof(buf));
	if (mlockall(MCL_CURRENT)) {
		PROBLEM(j, "mlockall: %s", strerror(errno));
		return 1;
	}
	nth = open(FAIL_NTH, O_RDWR);
	if (nth < 0) {
		PROBLEM(j, "%s: %s", FAIL_NTH, strerror(errno));
		return 1;
	}
	len = snprintf(v, sizeof(v), "%d", j->nth);
	if (write(nth, v, len) != len) {
		PROBLEM(j, "arming %s: %s", FAIL_NTH, strerror(errno));
		return 1;
	}
	ret = do_op(j, buf, &map);
	j->rep->err = ret < 0 ? errno : 0;
	n = pread(nth, v, sizeof(v) - 1, 0);
	if (n <= 0 || write(nth, "0", 1) != 1) {
		PROBLEM(j, "reading %s: %s", FAIL_NTH, strerror(errno));
		return 1;
	}
	v[n] = 0;
	j->rep->injected = atoi(v) == 0;
	j->rep->ret = ret;
	if (ret == -2) {
		PROBLEM(j, "SIGBUS on a %s fault at %ld",
			j->op == OP_MAP_READ ? "read" : "write", (long)off);
		return 1;
	}
	if (ret < 0)
		return 0;
	if (j->op == OP_MAP_READ && (unsigned char)buf[0] != j->model[off])
		PROBLEM(j, "the mapping reads %#x at %ld, the file holds %#x",
			(unsigned char)buf[0], (long)off, j->model[off]);
	if (j->op == OP_READ || j->op == OP_READ_HOLE) {
		for (i = 0; i < ret; i++)
			if ((unsigned char)buf[i] != j->model[off + i])
				break;
		if (i < ret)
			PROBLEM(j, "read %#x at %ld, the file holds %#x",
				(unsigned char)buf[i], (long)(off + i),
				j->model[off + i]);
	}
	return 0;
}

/* Does the file hold the model?  -1 if so, else the first wrong offset. */
static long file_differs(int fd, const unsigned char *model, long size)
{
	static unsigned char buf[256 * KiB];
	long off, i;
	ssize_t n;

	for (off = 0; off < size; off += n) {
		n = pread(fd, buf, size - off < (long)sizeof(buf) ?
			  size - off : (long)sizeof(buf), off);
		if (n <= 0)
			return off;
		for (i = 0; i < n; i++)
			if (buf[i] != model[off + i])
				return off + i;
	}
	return -1;
}

static int fault_nth_available(void)
{
	if (access(FAIL_NTH, W_OK))
		return 0;
	/* Sleeping and order-0 allocations too; no log line for each. */
	return mpcg_fault_nth_setup(MPCG_FAULT_SLAB | MPCG_FAULT_PAGE) == 0;
}

static const char *const op_names[] = {
	[OP_READ] = "read", [OP_READ_HOLE] = "read of a hole",
	[OP_WRITE] = "write", [OP_WRITE_NEW] = "write into a hole",
	[OP_MAP_READ] = "read fault", [OP_MAP_WRITE] = "write fault",
	[OP_FALLOCATE] = "fallocate",
};

static void run_op(struct __test_metadata *_metadata,
		   FIXTURE_DATA(failnth) *self, enum op op)
{
	struct report *rep = self->rep;
	struct mpcg_reassess r;
	char cg[128], name[32];
	long bad, i, failed = 0;
	off_t off = op_offset(op, self->chunk);
	int nth, st;

	if (!fault_nth_available())
		SKIP(return, "no %s with failslab and fail_page_alloc here "
		     "(CONFIG_FAULT_INJECTION: make check-debug)", FAIL_NTH);
	for (nth = 1; nth <= MAX_NTH; nth++) {
		struct job j = {
			.path = self->path, .op = op, .nth = nth,
			.chunk = self->chunk, .seed = 100 + nth,
			.model = self->model, .rep = rep,
		};

		memset(rep, 0, sizeof(*rep));
		snprintf(name, sizeof(name), "op%d_%d", op, nth);
		ASSERT_EQ(0, cg_create(cg, sizeof(cg), name));
		st = cg_run(cg, child, &j);
		ASSERT_EQ(0, st) TH_LOG("%s, allocation %d failing: child %d: %s",
					op_names[op], nth, st, rep->problem);
		ASSERT_EQ(0, rep->problem[0]) TH_LOG("%s, allocation %d failing: %s",
						     op_names[op], nth, rep->problem);
		if (rep->ret < 0) {
			ASSERT_EQ(ENOMEM, rep->err)
				TH_LOG("%s, allocation %d failing: %s", op_names[op],
				       nth, strerror(rep->err));
			ASSERT_TRUE(rep->injected)
				TH_LOG("%s failed (%s) with no failure injected",
				       op_names[op], strerror(rep->err));
			failed++;
		}
		/* What a write said it wrote is there. */
		if ((op == OP_WRITE || op == OP_WRITE_NEW) && rep->ret > 0)
			for (i = 0; i < rep->ret; i++)
				self->model[off + i] = pattern(off + i, j.seed);
		if (op == OP_MAP_WRITE && rep->ret > 0)
			self->model[off] = (unsigned char)j.seed;
		bad = file_differs(self->fd, self->model, self->size);
		ASSERT_EQ(-1, bad) TH_LOG("%s, allocation %d failing: offset %ld is wrong",
					  op_names[op], nth, bad);
		ASSERT_EQ(0, mpcg_region_reassess(self->fd, &r))
			TH_LOG("reassess: %s", strerror(errno));
		/* The next run finds the hole again. */
		if (off >= 2 * self->chunk) {
			ASSERT_EQ(0, fallocate(self->fd, FALLOC_FL_PUNCH_HOLE |
					       FALLOC_FL_KEEP_SIZE,
					       2 * self->chunk, self->chunk));
			memset(self->model + 2 * self->chunk, 0, self->chunk);
		}
		if (!rep->injected)
			break;
	}
	ASSERT_GE(MAX_NTH, nth) TH_LOG("%s made more than %d allocations",
				       op_names[op], MAX_NTH);
	TH_LOG("%s: %d allocations, %ld runs failed with ENOMEM, the others worked",
	       op_names[op], nth - 1, failed);
	if (nth <= 60)	/* the checker handles up to 64 members */
		ASSERT_EQ(0, mpcg_reassess_check(self->fd, MPCG_CHECK_CHARGES,
						 NULL, &r));
}

TEST_F_TIMEOUT(failnth, read, 300) { run_op(_metadata, self, OP_READ); }
TEST_F_TIMEOUT(failnth, read_hole, 300) { run_op(_metadata, self, OP_READ_HOLE); }
TEST_F_TIMEOUT(failnth, write, 300) { run_op(_metadata, self, OP_WRITE); }
TEST_F_TIMEOUT(failnth, write_new_chunk, 300) { run_op(_metadata, self, OP_WRITE_NEW); }
TEST_F_TIMEOUT(failnth, read_fault, 300) { run_op(_metadata, self, OP_MAP_READ); }
TEST_F_TIMEOUT(failnth, write_fault, 300) { run_op(_metadata, self, OP_MAP_WRITE); }
TEST_F_TIMEOUT(failnth, fallocate, 300) { run_op(_metadata, self, OP_FALLOCATE); }

TEST_HARNESS_MAIN

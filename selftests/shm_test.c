// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg as /dev/shm: programs that use POSIX shared memory run unchanged on
 * it, and their memory is shared fairly between their memory cgroups.
 *
 * Each test mounts mpcg on /dev/shm in a mount namespace of its own
 * (unshare(CLONE_NEWNS), / made rprivate), so the VM's /dev/shm is not
 * touched, then uses shm_open()/ftruncate()/mmap()/shm_unlink() and
 * sem_open() from processes in three memory cgroups, and Python's
 * multiprocessing.shared_memory.  The expected fair shares (proportional
 * policy) are checked with MPCG_IOC_MEMBERS after MPCG_IOC_REASSESS, and in
 * each cgroup's memory.current (cg_charge()).  The automatic reassessment
 * is off while they run.
 *
 * Runs as root in the test VM (tools/testing/vm-run).
 */
#define _GNU_SOURCE
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <semaphore.h>
#include <sys/statfs.h>

#include "kselftest_harness.h"
#include "mpcg_util.h"
#include "../uapi/linux/mpcg.h"

#define SHM_DIR		"/dev/shm"
#define CHUNK		(2 * MiB)	/* the mount's chunk (the default) */
#define NCHUNKS		12
/* Kernel objects, page tables and per-cpu charge caches of a process. */
#define TOL		(512 * KiB)
#define PYTHON		"/usr/bin/python3"

FIXTURE(shm) {
	long auto_reassess;
	char name[64];		/* of this test's shm object, "/..." */
};

FIXTURE_SETUP(shm)
{
	struct statfs sfs;

	self->auto_reassess = mpcg_set_auto_reassess(0);
	ASSERT_LE(0, self->auto_reassess);
	snprintf(self->name, sizeof(self->name), "/mpcg-shm-test-%d", getpid());
	/* A /dev/shm of our own: the test process is alone in this namespace. */
	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	ASSERT_EQ(0, mount("mpcg", SHM_DIR, "mpcg", 0,
			   "size=256M,mode=1777,policy=proportional"))
		TH_LOG("mount -t mpcg on /dev/shm: %s", strerror(errno));
	ASSERT_EQ(0, statfs(SHM_DIR, &sfs));
	ASSERT_EQ(MPCG_SUPER_MAGIC, sfs.f_type);
}

FIXTURE_TEARDOWN(shm)
{
	char path[128];

	snprintf(path, sizeof(path), SHM_DIR "%s", self->name);
	unlink(path);
	umount2(SHM_DIR, MNT_DETACH);
	cg_parent_remove();
	if (self->auto_reassess >= 0)
		mpcg_set_auto_reassess(self->auto_reassess);
}

/* ---- processes in cgroups, told what to do through pipes ---- */

struct proc {
	pid_t pid;
	int to;			/* we write commands here */
	int from;		/* and read its replies here */
};

/* Read one line (up to '\n', which is dropped) within @ms milliseconds. */
static int read_line(int fd, char *buf, size_t len, int ms)
{
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, ms) != 1)
			return -1;
		r = read(fd, buf + n, 1);
		if (r != 1)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * Start @fn(@arg, in, out) in a child in cgroup @cg, or run @argv there if
 * @fn is NULL (with the pipes as its stdin and stdout).
 */
static int proc_start(struct proc *p, const char *cg,
		      int (*fn)(void *arg, int in, int out), void *arg,
		      char *const argv[])
{
	int to[2], from[2];

	if (pipe(to) || pipe(from))
		return -1;
	fflush(stdout);
	fflush(stderr);
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(to[1]);
		close(from[0]);
		if (cg && cg_enter(cg))
			_exit(255);
		if (!fn) {
			if (dup2(to[0], 0) < 0 || dup2(from[1], 1) < 0)
				_exit(254);
			execv(argv[0], argv);
			_exit(253);
		}
		_exit(fn(arg, to[0], from[1]));
	}
	close(to[0]);
	close(from[1]);
	p->to = to[1];
	p->from = from[0];
	return 0;
}

static int proc_say(struct proc *p, const char *line)
{
	size_t n = strlen(line);

	return write(p->to, line, n) == (ssize_t)n ? 0 : -1;
}

/* Wait for the child; its exit status, 128 + signal, or -1. */
static int proc_wait(struct proc *p)
{
	int status;

	close(p->to);
	close(p->from);
	if (waitpid(p->pid, &status, 0) != p->pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static void proc_kill(struct proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		proc_wait(p);
		p->pid = 0;
	}
}

static int say(int out, const char *s)
{
	return write(out, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : 1;
}

/* ---- POSIX shared memory shared by three cgroups ---- */

struct toucher {
	const char *name;
	int create;		/* shm_open(O_CREAT | O_EXCL), ftruncate, fill */
	int first, last;	/* chunks it touches */
	int mark;		/* and the chunk it writes a mark into, or -1 */
};

static unsigned int shm_seed = 77;

/*
 * A process of one cgroup: opens the object, maps it, touches its chunks
 * (the creator writes all of them; the others read and check every page
 * of theirs), says "ready", and keeps the mapping until told to go.
 */
static int toucher_fn(void *arg, int in, int out)
{
	struct toucher *t = arg;
	size_t len = NCHUNKS * CHUNK;
	unsigned char *p;
	char line[16];
	long i;
	int fd;

	fd = shm_open(t->name, t->create ? O_RDWR | O_CREAT | O_EXCL : O_RDWR,
		      0600);
	if (fd < 0)
		return 10;
	if (t->create && ftruncate(fd, len))
		return 11;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 12;
	close(fd);	/* the mapping keeps it */
	for (i = (long)t->first * CHUNK; i < (long)(t->last + 1) * CHUNK; i++) {
		if (t->create)
			p[i] = pattern(i, shm_seed);
		else if ((i & 4095) == 0 && p[i] != pattern(i, shm_seed))
			return 13;
	}
	if (t->mark >= 0)
		memcpy(p + (long)t->mark * CHUNK + 100, "mark", 4);
	if (say(out, "ready\n"))
		return 14;
	if (read(in, line, sizeof(line)) < 0)	/* EOF or a command: go */
		return 15;
	munmap(p, len);
	return 0;
}

/* cg_charge(), not inlined (so the compiler cannot guess at path lengths). */
static __attribute__((noinline)) long cg_charge_of(const char *cg)
{
	return cg_charge(cg);
}

static unsigned long long cgid(const char *cg)
{
	struct stat st;

	return stat(cg, &st) ? 0 : st.st_ino;
}

static const struct mpcg_member_info *
member_of(const struct mpcg_member_info *m, long n, unsigned long long id)
{
	long i;

	for (i = 0; i < n; i++)
		if (m[i].cgroup_id == id)
			return &m[i];
	return NULL;
}

/* Is /dev/shm an mpcg mount in /proc/self/mountinfo? */
static int shm_is_mpcg(void)
{
	char line[1024];
	int found = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " " SHM_DIR " ") && strstr(line, " - mpcg "))
			found = 1;	/* the last one is on top */
		else if (strstr(line, " " SHM_DIR " "))
			found = 0;
	fclose(f);
	return found;
}

TEST_F_TIMEOUT(shm, posix_shm_three_cgroups, 120)
{
	/*
	 * a creates the object and writes all 12 chunks; b reads chunks 0-5,
	 * c chunks 4-11 (and writes a mark into chunk 9).  Proportional
	 * shares, in chunks: 0-3 by a and b, 4-5 by all three, 6-11 by a
	 * and c, so a: 4/2 + 2/3 + 6/2 = 17/3, b: 4/2 + 2/3 = 8/3,
	 * c: 2/3 + 6/2 = 11/3; together 12.
	 */
	static const long num[3] = { 17, 8, 11 };	/* thirds of a chunk */
	struct toucher t[3] = {
		{ self->name, 1, 0, 11, -1 },
		{ self->name, 0, 0, 5, -1 },
		{ self->name, 0, 4, 11, 9 },
	};
	static const char *const names[3] = { "a", "b", "c" };
	char cg[3][PATH_MAX], path[128], line[64];
	unsigned long long id[3];
	struct mpcg_member_info *m = NULL;
	struct mpcg_region_stat st;
	struct mpcg_reassess r;
	struct proc pr[3] = { 0 };
	long base[3], n, paid = 0;
	struct stat sb;
	int fd, i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, cg_create(cg[i], sizeof(cg[i]), names[i]))
			TH_LOG("cgroup %s: %s", names[i], strerror(errno));
		id[i] = cgid(cg[i]);
		base[i] = cg_charge_of(cg[i]);
		ASSERT_LE(0, base[i]);
	}
	EXPECT_TRUE(shm_is_mpcg());

	/* a first (it creates), then b and c. */
	ASSERT_EQ(0, proc_start(&pr[0], cg[0], toucher_fn, &t[0], NULL));
	ASSERT_EQ(0, read_line(pr[0].from, line, sizeof(line), 60000))
		TH_LOG("a did not get ready: exit %d", proc_wait(&pr[0]));
	for (i = 1; i < 3; i++)
		ASSERT_EQ(0, proc_start(&pr[i], cg[i], toucher_fn, &t[i], NULL));
	for (i = 1; i < 3; i++)
		ASSERT_EQ(0, read_line(pr[i].from, line, sizeof(line), 60000))
			TH_LOG("%s did not get ready: exit %d", names[i],
			       proc_wait(&pr[i]));

	/* The object is a file of the mpcg mount. */
	snprintf(path, sizeof(path), SHM_DIR "%s", self->name);
	ASSERT_EQ(0, stat(path, &sb));
	EXPECT_EQ(NCHUNKS * CHUNK, sb.st_size);
	EXPECT_EQ(0600, sb.st_mode & 07777);
	EXPECT_EQ(NCHUNKS * CHUNK / 512, sb.st_blocks);

	/* Opened for ioctls only: this process does not become a member. */
	fd = shm_open(self->name, O_RDONLY, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mpcg_region_reassess(fd, &r))
		TH_LOG("REASSESS: %s", strerror(errno));
	EXPECT_EQ(MPCG_STATE_ASSESSED, r.state);
	EXPECT_EQ(0, r.shortfall_bytes);
	/*
	 * The shared checker's rules too (the members wait for a word from
	 * the test: nothing changes): the charges are checked below.
	 */
	EXPECT_EQ(0, mpcg_reassess_check(fd, 0, NULL, NULL));
	ASSERT_EQ(0, mpcg_region_get_stat(fd, &st));
	EXPECT_EQ(NCHUNKS * CHUNK, st.file_size);
	EXPECT_EQ(CHUNK, st.chunk_size);
	EXPECT_EQ(NCHUNKS * CHUNK, st.resident_bytes);
	EXPECT_EQ(MPCG_POLICY_PROPORTIONAL, st.policy);
	EXPECT_EQ(MPCG_STATE_ASSESSED, st.state);
	EXPECT_EQ(3, st.nr_members);
	EXPECT_EQ(3, st.nr_attachments);	/* one mapping each */
	EXPECT_EQ(id[0], st.owner_cgroup_id);
	n = mpcg_region_members(fd, &m);
	ASSERT_EQ(3, n);
	for (i = 0; i < 3; i++) {
		const struct mpcg_member_info *mi = member_of(m, n, id[i]);
		long fair = num[i] * CHUNK / 3;
		long charge;

		ASSERT_NE(NULL, mi) TH_LOG("cgroup %s is not a member", names[i]);
		EXPECT_TRUE(near(mi->fair_share_bytes, fair, 64))
			TH_LOG("%s: fair share %llu, expected %ld", names[i],
			       (unsigned long long)mi->fair_share_bytes, fair);
		EXPECT_TRUE(near(mi->paid_bytes, mi->fair_share_bytes, CHUNK))
			TH_LOG("%s: pays %llu, fair share %llu", names[i],
			       (unsigned long long)mi->paid_bytes,
			       (unsigned long long)mi->fair_share_bytes);
		EXPECT_EQ(0, mi->paid_bytes % CHUNK);
		EXPECT_EQ(0, mi->shortfall_bytes);
		EXPECT_EQ(1, mi->nr_attachments);
		EXPECT_EQ(i == 0 ? MPCG_MEMBER_OWNER : 0, mi->flags);
		paid += mi->paid_bytes;
		/* The cgroup is really charged what it pays. */
		charge = cg_charge_of(cg[i]) - base[i];
		EXPECT_TRUE(near(charge, mi->paid_bytes, TOL))
			TH_LOG("%s: charged %ld, pays %llu", names[i], charge,
			       (unsigned long long)mi->paid_bytes);
		EXPECT_TRUE(near(charge, fair, CHUNK + TOL))
			TH_LOG("%s: charged %ld, fair share %ld", names[i],
			       charge, fair);
	}
	EXPECT_EQ(NCHUNKS * CHUNK, paid);
	free(m);

	/* b and c go: a, the owner and last member, pays for all of it. */
	for (i = 1; i < 3; i++) {
		EXPECT_EQ(0, proc_say(&pr[i], "go\n"));
		EXPECT_EQ(0, proc_wait(&pr[i]));
		pr[i].pid = 0;
	}
	ASSERT_EQ(0, mpcg_region_reassess(fd, &r));
	EXPECT_EQ(MPCG_STATE_ASSESSED, r.state);
	EXPECT_EQ(0, mpcg_reassess_check(fd, 0, NULL, NULL));
	EXPECT_TRUE(near(cg_charge_of(cg[0]) - base[0], NCHUNKS * CHUNK, TOL))
		TH_LOG("a: charged %ld", cg_charge_of(cg[0]) - base[0]);
	EXPECT_TRUE(near(cg_charge_of(cg[1]) - base[1], 0, TOL));
	EXPECT_TRUE(near(cg_charge_of(cg[2]) - base[2], 0, TOL));

	/*
	 * Everyone sees the same bytes (reading makes this process a member:
	 * not before the charges are checked).
	 */
	{
		unsigned char b[8];

		ASSERT_EQ(4, pread(fd, b, 4, 9 * CHUNK + 100));
		EXPECT_EQ(0, memcmp(b, "mark", 4));
		ASSERT_EQ(1, pread(fd, b, 1, 11 * CHUNK + 5));
		EXPECT_EQ(pattern(11 * CHUNK + 5, shm_seed), b[0]);
	}

	/* shm_unlink while mapped: the name goes, the memory with a. */
	EXPECT_EQ(0, shm_unlink(self->name));
	EXPECT_EQ(-1, stat(path, &sb));
	EXPECT_EQ(-1, shm_open(self->name, O_RDWR, 0));
	EXPECT_EQ(ENOENT, errno);
	close(fd);
	EXPECT_EQ(0, proc_say(&pr[0], "go\n"));
	EXPECT_EQ(0, proc_wait(&pr[0]));
	pr[0].pid = 0;
	for (i = 0; i < 3; i++) {
		long c = cg_charge_of(cg[i]) - base[i];

		EXPECT_TRUE(near(c, 0, TOL))
			TH_LOG("%s still charged %ld", names[i], c);
	}
	for (i = 0; i < 3; i++)
		proc_kill(&pr[i]);
}

/* ---- what programs expect of shm_open and sem_open ---- */

struct shm_user {
	uid_t uid;
	const char *name;
	int flags;
	int unlink;
};

static int shm_as_user(void *arg)
{
	struct shm_user *u = arg;
	int fd;

	if (setgroups(0, NULL) || setresgid(u->uid, u->uid, u->uid) ||
	    setresuid(u->uid, u->uid, u->uid))
		return 250;
	if (u->unlink)
		return shm_unlink(u->name) ? errno : 0;
	fd = shm_open(u->name, u->flags, 0600);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int run_as(uid_t uid, const char *name, int flags, int unl)
{
	struct shm_user u = { uid, name, flags, unl };

	return cg_run(NULL, shm_as_user, &u);
}

/* Blocks in sem_wait() (so in FUTEX_WAIT) until the test posts. */
static int sem_waiter(void *arg)
{
	struct timespec ts;
	sem_t *s = sem_open(arg, 0);

	if (s == SEM_FAILED)
		return 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	if (sem_timedwait(s, &ts))
		return errno == ETIMEDOUT ? 2 : 3;
	sem_close(s);
	return 0;
}

static int sem_poster(void *arg)
{
	sem_t *s = sem_open(arg, 0);
	int i;

	if (s == SEM_FAILED)
		return 1;
	for (i = 0; i < 100; i++)
		if (sem_post(s))
			return 2;
	sem_close(s);
	return 0;
}

TEST_F(shm, posix_shm_semantics)
{
	char cg[PATH_MAX], other[80], sem[80], path[128];
	unsigned char *p;
	struct stat sb;
	int fd, fd2, i, status;
	sem_t *s;
	pid_t pid;

	fd = shm_open(self->name, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, shm_open(self->name, O_RDWR | O_CREAT | O_EXCL, 0600));
	EXPECT_EQ(EEXIST, errno);
	ASSERT_EQ(0, fstat(fd, &sb));
	EXPECT_EQ(0, sb.st_size);
	ASSERT_EQ(0, ftruncate(fd, 3 * 4096 + 10));
	p = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	strcpy((char *)p, "shared");
	/* A second open, as another program would: same memory. */
	fd2 = shm_open(self->name, O_RDONLY, 0);
	ASSERT_LE(0, fd2);
	{
		char b[8] = { 0 };

		ASSERT_EQ(6, pread(fd2, b, 6, 0));
		EXPECT_STREQ("shared", b);
	}
	close(fd2);
	/* Past the end of the object: SIGBUS, as on tmpfs. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		(void)*(volatile char *)(p + 4 * 4096);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
	munmap(p, 8 * 4096);

	/*
	 * Permissions: 0600 root's object; the sticky /dev/shm (where unlink
	 * gives EPERM, which glibc's shm_unlink() turns into EACCES).
	 */
	EXPECT_EQ(EACCES, run_as(1000, self->name, O_RDONLY, 0));
	EXPECT_EQ(EACCES, run_as(1000, self->name, 0, 1));
	snprintf(other, sizeof(other), "%s-user", self->name);
	EXPECT_EQ(0, run_as(1000, other, O_RDWR | O_CREAT | O_EXCL, 0));
	snprintf(path, sizeof(path), SHM_DIR "%s", other);
	ASSERT_EQ(0, stat(path, &sb));
	EXPECT_EQ(1000, sb.st_uid);
	EXPECT_EQ(EACCES, run_as(1001, other, 0, 1));
	EXPECT_EQ(0, run_as(1000, other, 0, 1));
	EXPECT_EQ(-1, shm_unlink(other));
	EXPECT_EQ(ENOENT, errno);

	/* POSIX semaphores live in /dev/shm too (sem.NAME). */
	ASSERT_EQ(0, cg_create(cg, sizeof(cg), "sem"));
	snprintf(sem, sizeof(sem), "/mpcg-sem-%d", getpid());
	s = sem_open(sem, O_CREAT | O_EXCL, 0600, 0);
	ASSERT_NE(SEM_FAILED, s) TH_LOG("sem_open: %s", strerror(errno));
	snprintf(path, sizeof(path), SHM_DIR "/sem.%s", sem + 1);
	EXPECT_EQ(0, stat(path, &sb));
	EXPECT_EQ(0, cg_run(cg, sem_poster, sem));
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, sem_trywait(s));
	EXPECT_EQ(-1, sem_trywait(s));
	EXPECT_EQ(EAGAIN, errno);
	/* A waiter that blocks, in another cgroup, is woken by a post. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(cg_enter(cg) ? 255 : sem_waiter(sem));
	usleep(200000);
	EXPECT_EQ(0, sem_post(s));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("sem_timedwait() in a child: status %#x (SIGABRT: "
		       "glibc's \"futex facility returned an unexpected "
		       "error code\")", status);
	EXPECT_EQ(0, sem_close(s));
	EXPECT_EQ(0, sem_unlink(sem));
	EXPECT_EQ(-1, stat(path, &sb));

	close(fd);
	EXPECT_EQ(0, shm_unlink(self->name));
}

/* ---- Python's multiprocessing.shared_memory ---- */

/* What @cg is charged for other than page cache and anonymous memory. */
static long shm_charge(const char *cg)
{
	long c = cg_charge(cg), anon = cg_read_key(cg, "memory.stat", "anon");

	return c < 0 || anon < 0 ? -1 : c - anon;
}

/*
 * Whether shm_charge(@cg) - @base comes near @want within 5 s; the last
 * value in *@got.  memory.stat's anon is flushed lazily (a read flushes
 * only past a threshold, a worker every 2 s), so one sample right after
 * the interpreter allocated can count some of its anon as not anon.
 */
static bool shm_charge_settles(const char *cg, long base, long want,
			       long *got)
{
	int i;

	for (i = 0; i < 50; i++) {
		*got = shm_charge(cg) - base;
		if (near(*got, want, 4 * TOL))
			return true;
		usleep(100000);
	}
	return false;
}

/*
 * Creates the segment (argv[1], argv[2] bytes), writes "hello" and a byte
 * per page, says READY; when told, checks "world" (written by another
 * process of ours) is there, has a child process attach by name and write,
 * checks that; then uses multiprocessing.Value with its lock (a semaphore
 * and an arena in /dev/shm) from four processes; then closes and unlinks.
 */
static const char py_script[] =
"import sys\n"
"import multiprocessing as mp\n"
"from multiprocessing import shared_memory\n"
"name, size = sys.argv[1], int(sys.argv[2])\n"
"shm = shared_memory.SharedMemory(name=name, create=True, size=size)\n"
"buf = shm.buf\n"
"for i in range(0, size, 4096):\n"
"    buf[i] = (i // 4096) % 251\n"
"buf[0:5] = b'hello'\n"
"print('READY', flush=True)\n"
"sys.stdin.readline()\n"
"assert bytes(buf[8:13]) == b'world', bytes(buf[8:13])\n"
"def child(n):\n"
"    s = shared_memory.SharedMemory(name=n)\n"
"    assert bytes(s.buf[0:5]) == b'hello'\n"
"    s.buf[16:21] = b'child'\n"
"    s.close()\n"
"p = mp.Process(target=child, args=(name,))\n"
"p.start()\n"
"p.join()\n"
"assert p.exitcode == 0, p.exitcode\n"
"assert bytes(buf[16:21]) == b'child'\n"
"def add(v):\n"
"    for _ in range(1000):\n"
"        with v.get_lock():\n"
"            v.value += 1\n"
"v = mp.Value('i', 0)\n"
"ps = [mp.Process(target=add, args=(v,)) for _ in range(4)]\n"
"for q in ps: q.start()\n"
"for q in ps: q.join()\n"
"assert v.value == 4000, v.value\n"
"print('CHILD_OK', flush=True)\n"
"sys.stdin.readline()\n"
"del buf\n"
"shm.close()\n"
"shm.unlink()\n"
"print('DONE', flush=True)\n";

struct writer {
	const char *path;
	long size;
};

/* Another process, in another cgroup: maps the segment, checks, writes. */
static int world_writer(void *arg)
{
	struct writer *w = arg;
	unsigned char *p;
	int fd;

	fd = open(w->path, O_RDWR);
	if (fd < 0)
		return 1;
	p = mmap(NULL, w->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	if (memcmp(p, "hello", 5) || p[5 * 4096] != 5)
		return 3;
	memcpy(p + 8, "world", 5);
	munmap(p, w->size);
	close(fd);
	return 0;
}

TEST_F_TIMEOUT(shm, python_shared_memory, 300)
{
	const long size = 3 * CHUNK + 4096 + 1;	/* not a whole chunk */
	char cga[PATH_MAX], cgb[PATH_MAX], name[64], sizes[32], path[128];
	char line[256];
	char *argv[] = { PYTHON, "-c", (char *)py_script, name, sizes, NULL };
	struct mpcg_member_info *m = NULL;
	struct mpcg_region_stat st;
	struct mpcg_reassess r;
	struct writer w;
	struct proc py = { 0 };
	unsigned char b[8];
	long base, n;
	struct stat sb;
	int fd;

	if (access(PYTHON, X_OK))
		SKIP(return, "no " PYTHON);
	ASSERT_EQ(0, cg_create(cga, sizeof(cga), "py"));
	ASSERT_EQ(0, cg_create(cgb, sizeof(cgb), "other"));
	base = shm_charge(cga);
	snprintf(name, sizeof(name), "mpcg_py_%d", getpid());
	snprintf(sizes, sizeof(sizes), "%ld", size);
	snprintf(path, sizeof(path), SHM_DIR "/%s", name);

	ASSERT_EQ(0, proc_start(&py, cga, NULL, NULL, argv));
	ASSERT_EQ(0, read_line(py.from, line, sizeof(line), 120000))
		TH_LOG("python did not start: exit %d", proc_wait(&py));
	ASSERT_STREQ("READY", line);

	/* The segment is a file of the mpcg /dev/shm, and a region. */
	ASSERT_EQ(0, stat(path, &sb)) TH_LOG("%s: %s", path, strerror(errno));
	EXPECT_EQ(size, sb.st_size);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mpcg_region_get_stat(fd, &st));
	EXPECT_EQ(size, st.file_size);
	EXPECT_EQ(4 * CHUNK, st.resident_bytes);	/* python wrote every page */
	EXPECT_EQ(st.resident_bytes, sb.st_blocks * 512);
	EXPECT_EQ(cgid(cga), st.owner_cgroup_id);
	ASSERT_EQ(0, mpcg_region_reassess(fd, &r));
	/* python waits for a word from the test: the members are stable. */
	EXPECT_EQ(0, mpcg_reassess_check(fd, 0, NULL, NULL));
	n = mpcg_region_members(fd, &m);
	ASSERT_EQ(1, n);
	EXPECT_EQ(cgid(cga), m[0].cgroup_id);
	EXPECT_LE(1, m[0].nr_attachments);
	EXPECT_EQ(4 * CHUNK, m[0].paid_bytes);
	free(m);
	/* The interpreter's own memory (anon) left out. */
	EXPECT_TRUE(shm_charge_settles(cga, base, 4 * CHUNK, &n))
		TH_LOG("py: charged %ld (anon %ld, kernel %ld)", n,
		       cg_read_key(cga, "memory.stat", "anon"),
		       cg_read_key(cga, "memory.stat", "kernel"));

	/* Data round-trips: python -> C here, C in another cgroup -> python. */
	ASSERT_EQ(5, pread(fd, b, 5, 0));
	EXPECT_EQ(0, memcmp(b, "hello", 5));
	ASSERT_EQ(1, pread(fd, b, 1, 7 * 4096));
	EXPECT_EQ(7, b[0]);
	w.path = path;
	w.size = size;
	EXPECT_EQ(0, cg_run(cgb, world_writer, &w));
	ASSERT_EQ(0, proc_say(&py, "go\n"));
	ASSERT_EQ(0, read_line(py.from, line, sizeof(line), 120000))
		TH_LOG("python failed: exit %d", proc_wait(&py));
	ASSERT_STREQ("CHILD_OK", line);
	ASSERT_EQ(5, pread(fd, b, 5, 16));
	EXPECT_EQ(0, memcmp(b, "child", 5));
	close(fd);

	ASSERT_EQ(0, proc_say(&py, "go\n"));
	ASSERT_EQ(0, read_line(py.from, line, sizeof(line), 120000));
	EXPECT_STREQ("DONE", line);
	EXPECT_EQ(0, proc_wait(&py));
	py.pid = 0;
	EXPECT_EQ(-1, stat(path, &sb));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_TRUE(shm_charge_settles(cga, base, 0, &n))
		TH_LOG("py: still charged %ld", n);
	proc_kill(&py);
}

TEST_HARNESS_MAIN

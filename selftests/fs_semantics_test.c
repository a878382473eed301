// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg filesystem semantics compared with tmpfs: every test runs against a
 * tmpfs mount and against mpcg mounts (64k and 2M chunks) in the same VM
 * and asserts the same results, so that a difference from tmpfs shows up as
 * a failure of the mpcg variants only.
 *
 * Where mpcg differs from tmpfs by design the test asserts each variant's
 * result, with a comment:
 *  - st_blocks, statfs f_bfree and the size limit count whole chunks on
 *    mpcg (pages on tmpfs): expectations are computed with the variant's
 *    allocation unit, "gran" (PAGE_SIZE on tmpfs, the chunk on mpcg);
 *  - statfs f_type is MPCG_SUPER_MAGIC;
 *  - no extended attributes, no birth time in statx, none of tmpfs's huge=, mpol=, nr_blocks=,
 *    inode32 and inode64 options, no mounts in a user namespace;
 *  - mpcg memory is not swapped (nothing here can see that).
 *
 * Runs as root in the test VM (tools/testing/vm-run); permission tests run
 * in children that setresuid() to unprivileged uids.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <grp.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <sched.h>
#include <setjmp.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/xattr.h>

#include "kselftest_harness.h"
#include "mpcg_util.h"
#include "../uapi/linux/mpcg.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE	(1 << 0)
#define RENAME_EXCHANGE		(1 << 1)
#define RENAME_WHITEOUT		(1 << 2)
#endif

#ifndef FS_IOC_GETFLAGS
#define FS_IOC_GETFLAGS		_IOR('f', 1, long)
#define FS_IOC_SETFLAGS		_IOW('f', 2, long)
#endif
#ifndef FS_NOATIME_FL
#define FS_COMPR_FL		0x00000004
#define FS_IMMUTABLE_FL		0x00000010
#define FS_APPEND_FL		0x00000020
#define FS_NODUMP_FL		0x00000040
#define FS_NOATIME_FL		0x00000080
#endif

#define PG		4096L
#define UID_A		1000
#define UID_B		1001
#define UID_C		1002
/* A time well in the past, to see an update without sleeping. */
#define PAST		1000000000L

FIXTURE(fsm) {
	char dir[64];		/* the test's mount */
	char dir2[64];		/* a second mount, with other options */
};

FIXTURE_VARIANT(fsm) {
	const char *type;	/* file system type */
	const char *opts;	/* options every mount of the variant gets */
	long gran;		/* unit of allocation: page or chunk */
	int mpcg;
};

FIXTURE_VARIANT_ADD(fsm, tmpfs) {
	.type = "tmpfs",
	.opts = "mode=1777",
	.gran = PG,
	.mpcg = 0,
};

FIXTURE_VARIANT_ADD(fsm, mpcg_64k) {
	.type = "mpcg",
	.opts = "mode=1777,chunk=64k",
	.gran = 64 * KiB,
	.mpcg = 1,
};

FIXTURE_VARIANT_ADD(fsm, mpcg_2m) {
	.type = "mpcg",
	.opts = "mode=1777,chunk=2M",
	.gran = 2 * MiB,
	.mpcg = 1,
};

/* Mount a new instance of the variant's file system with @extra options. */
static int fs_mount(const FIXTURE_VARIANT(fsm) *v, char *dir, size_t len,
		    const char *extra)
{
	char opts[256];

	snprintf(dir, len, "/tmp/fssem-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(opts, sizeof(opts), "%s%s%s", v->opts, extra ? "," : "",
		 extra ? extra : "");
	if (mount(v->type, dir, v->type, 0, opts)) {
		int e = errno;

		rmdir(dir);
		dir[0] = '\0';
		errno = e;
		return -1;
	}
	return 0;
}

static void fs_umount(char *dir)
{
	if (!dir[0])
		return;
	if (umount2(dir, 0) && umount2(dir, MNT_DETACH))
		return;
	rmdir(dir);
	dir[0] = '\0';
}

FIXTURE_SETUP(fsm)
{
	umask(022);
	ASSERT_EQ(0, fs_mount(variant, self->dir, sizeof(self->dir),
			      "size=64M"))
		TH_LOG("mount -t %s: %s", variant->type, strerror(errno));
}

FIXTURE_TEARDOWN(fsm)
{
	fs_umount(self->dir2);
	fs_umount(self->dir);
}

/* "dir/name", in one of a few rotating static buffers. */
static char *P(const char *dir, const char *name)
{
	static char bufs[8][PATH_MAX];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, PATH_MAX, "%s/%s", dir, name);
	return b;
}

/* Create @path with @len bytes of pattern(@seed); 0 or -1. */
static int mkfile(const char *path, mode_t mode, size_t len, unsigned int seed)
{
	unsigned char buf[8192];
	size_t done = 0;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		size_t i;

		for (i = 0; i < n; i++)
			buf[i] = pattern(done + i, seed);
		if (pwrite(fd, buf, n, done) != (ssize_t)n) {
			close(fd);
			return -1;
		}
		done += n;
	}
	return close(fd);
}

/* pattern_check() on memory that maps the file from offset 0. */
static off_t check_mem(const unsigned char *p, off_t off, size_t len,
		       unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[off + i] != (seed ? pattern(off + i, seed) : 0))
			return off + i;
	return -1;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

static long fd_blocks(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? -1 : st.st_blocks;
}

/* statfs counts in bytes (f_bsize units) */
static long fs_free(const char *dir)
{
	struct statfs s;

	return statfs(dir, &s) ? -1 : (long)(s.f_bfree * s.f_bsize);
}

static long fs_total(const char *dir)
{
	struct statfs s;

	return statfs(dir, &s) ? -1 : (long)(s.f_blocks * s.f_bsize);
}

static long fs_ffree(const char *dir)
{
	struct statfs s;

	return statfs(dir, &s) ? -1 : (long)s.f_ffree;
}

/* Bytes in whole allocation units that [off, off + len) touches. */
static long units(long gran, long off, long len)
{
	if (len <= 0)
		return 0;
	return ((off + len - 1) / gran - off / gran + 1) * gran;
}

/* Run @fn(@arg) in a child; 0 if it exited 0, its status, or 128 + signal. */
static int in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int touch_byte(void *p)
{
	return *(volatile unsigned char *)p == 0x5a ? 0 : 0;
}

static int poke_byte(void *p)
{
	*(volatile unsigned char *)p = 0x5a;
	return 0;
}

/* The signal a child dies of when it reads (or writes) @p, or 0. */
static int read_sig(void *p)
{
	int r = in_child(touch_byte, p);

	return r >= 128 ? r - 128 : 0;
}

static int write_sig(void *p)
{
	int r = in_child(poke_byte, p);

	return r >= 128 ? r - 128 : 0;
}

/*
 * Operations as an unprivileged user, in a child with all three uids and
 * gids set to @uid (no supplementary groups).  Returns 0 on success or the
 * errno of the failure (250 if the credentials could not be set).
 */
enum uop {
	U_OPEN_R, U_OPEN_W, U_CREATE, U_UNLINK, U_RENAME, U_CHMOD, U_CHOWN,
	U_TRUNCATE, U_UTIME_NOW, U_UTIME_SET, U_MKDIR, U_STAT, U_WRITE,
	U_RMDIR, U_LINK,
};

struct uarg {
	uid_t uid;
	enum uop op;
	const char *path;
	const char *path2;
	long a, b;
};

static int uop_run(void *arg)
{
	struct uarg *u = arg;
	struct timespec ts[2] = { { PAST, 0 }, { PAST, 0 } };
	struct stat st;
	int fd, r = 0;

	if (setgroups(0, NULL) || setresgid(u->uid, u->uid, u->uid) ||
	    setresuid(u->uid, u->uid, u->uid))
		return 250;
	switch (u->op) {
	case U_OPEN_R:
	case U_OPEN_W:
	case U_CREATE:
		fd = open(u->path, u->op == U_OPEN_R ? O_RDONLY :
			  u->op == U_OPEN_W ? O_WRONLY :
			  O_WRONLY | O_CREAT | O_EXCL, u->a ? u->a : 0644);
		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	case U_WRITE:
		fd = open(u->path, O_WRONLY);
		if (fd < 0)
			return errno;
		if (pwrite(fd, "u", 1, u->a) != 1)
			r = errno;
		close(fd);
		return r;
	case U_UNLINK:
		r = unlink(u->path);
		break;
	case U_RMDIR:
		r = rmdir(u->path);
		break;
	case U_RENAME:
		r = rename(u->path, u->path2);
		break;
	case U_LINK:
		r = link(u->path, u->path2);
		break;
	case U_CHMOD:
		r = chmod(u->path, u->a);
		break;
	case U_CHOWN:
		r = chown(u->path, u->a, u->b);
		break;
	case U_TRUNCATE:
		r = truncate(u->path, u->a);
		break;
	case U_UTIME_NOW:
		r = utimensat(AT_FDCWD, u->path, NULL, 0);
		break;
	case U_UTIME_SET:
		r = utimensat(AT_FDCWD, u->path, ts, 0);
		break;
	case U_MKDIR:
		r = mkdir(u->path, 0755);
		break;
	case U_STAT:
		r = stat(u->path, &st);
		break;
	}
	return r ? errno : 0;
}

static int as_user(uid_t uid, enum uop op, const char *path,
		   const char *path2, long a, long b)
{
	struct uarg u = { uid, op, path, path2, a, b };

	return in_child(uop_run, &u);
}

/* Set atime and mtime of @path to PAST. */
static int set_past(const char *path)
{
	struct timespec ts[2] = { { PAST, 0 }, { PAST, 0 } };

	return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

static struct timespec ctime_of(const char *path)
{
	struct stat st = { 0 };

	lstat(path, &st);
	return st.st_ctim;
}

static int ts_after(struct timespec a, struct timespec b)
{
	return a.tv_sec > b.tv_sec ||
	       (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

/*
 * Wait for the coarse clock that file times come from to tick, so that a
 * time set from now on is later than any set before.
 */
static void tick(void)
{
	struct timespec a, b;
	int i;

	clock_gettime(CLOCK_REALTIME_COARSE, &a);
	for (i = 0; i < 1000; i++) {
		usleep(1000);
		clock_gettime(CLOCK_REALTIME_COARSE, &b);
		if (ts_after(b, a))
			break;
	}
}

/* ---- directories ---- */

TEST_F(fsm, directories)
{
	const char *d = self->dir;
	struct dirent *de;
	struct stat st;
	int seen = 0, n = 0, fd;
	DIR *dp;

	ASSERT_EQ(0, stat(d, &st));
	EXPECT_EQ(2, st.st_nlink);
	EXPECT_EQ(01777, st.st_mode & 07777);
	ASSERT_EQ(0, mkdir(P(d, "a"), 0777));
	EXPECT_EQ(-1, mkdir(P(d, "a"), 0777));
	EXPECT_EQ(EEXIST, errno);
	ASSERT_EQ(0, stat(P(d, "a"), &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_EQ(0755, st.st_mode & 07777);	/* umask 022 */
	EXPECT_EQ(2, st.st_nlink);
	ASSERT_EQ(0, mkdir(P(d, "a/sub"), 0700));
	ASSERT_EQ(0, mkfile(P(d, "a/file"), 0644, 10, 1));
	ASSERT_EQ(0, symlink("file", P(d, "a/link")));
	ASSERT_EQ(0, mkfifo(P(d, "a/fifo"), 0600));
	ASSERT_EQ(0, stat(P(d, "a"), &st));
	EXPECT_EQ(3, st.st_nlink);		/* ".", "a" in d, "sub/.." */
	ASSERT_EQ(0, stat(d, &st));
	EXPECT_EQ(3, st.st_nlink);

	dp = opendir(P(d, "a"));
	ASSERT_NE(NULL, dp);
	while ((de = readdir(dp))) {
		n++;
		if (!strcmp(de->d_name, ".") && de->d_type == DT_DIR)
			seen |= 1;
		else if (!strcmp(de->d_name, "..") && de->d_type == DT_DIR)
			seen |= 2;
		else if (!strcmp(de->d_name, "sub") && de->d_type == DT_DIR)
			seen |= 4;
		else if (!strcmp(de->d_name, "file") && de->d_type == DT_REG)
			seen |= 8;
		else if (!strcmp(de->d_name, "link") && de->d_type == DT_LNK)
			seen |= 16;
		else if (!strcmp(de->d_name, "fifo") && de->d_type == DT_FIFO)
			seen |= 32;
		else
			TH_LOG("unexpected entry %s type %d", de->d_name,
			       de->d_type);
	}
	closedir(dp);
	EXPECT_EQ(6, n);
	EXPECT_EQ(63, seen);

	/* Removing: the usual errors. */
	EXPECT_EQ(-1, rmdir(P(d, "a")));
	EXPECT_EQ(ENOTEMPTY, errno);
	EXPECT_EQ(-1, rmdir(P(d, "a/file")));
	EXPECT_EQ(ENOTDIR, errno);
	EXPECT_EQ(-1, unlink(P(d, "a/sub")));
	EXPECT_EQ(EISDIR, errno);
	EXPECT_EQ(-1, rmdir(P(d, "a/sub/.")));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, rmdir(d));	/* the mount's root */
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(-1, open(P(d, "a/nodir/x"), O_CREAT | O_WRONLY, 0644));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, open(P(d, "a/file/x"), O_CREAT | O_WRONLY, 0644));
	EXPECT_EQ(ENOTDIR, errno);
	EXPECT_EQ(-1, open(P(d, "a/file"), O_RDONLY | O_DIRECTORY));
	EXPECT_EQ(ENOTDIR, errno);
	EXPECT_EQ(-1, mkdir(P(d, "a/file/x"), 0755));
	EXPECT_EQ(ENOTDIR, errno);

	/* A removed directory that is still open: empty, nlink 0. */
	fd = open(P(d, "a/sub"), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, rmdir(P(d, "a/sub")));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0, st.st_nlink);
	EXPECT_EQ(-1, openat(fd, "new", O_CREAT | O_WRONLY, 0644));
	EXPECT_EQ(ENOENT, errno);
	close(fd);
	ASSERT_EQ(0, stat(P(d, "a"), &st));
	EXPECT_EQ(2, st.st_nlink);
	EXPECT_EQ(0, unlink(P(d, "a/file")));
	EXPECT_EQ(0, unlink(P(d, "a/link")));
	EXPECT_EQ(0, unlink(P(d, "a/fifo")));
	EXPECT_EQ(0, rmdir(P(d, "a")));
	EXPECT_EQ(-1, stat(P(d, "a"), &st));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, stat(d, &st));
	EXPECT_EQ(2, st.st_nlink);

	/* setgid directories pass their group and the bit on. */
	ASSERT_EQ(0, mkdir(P(d, "g"), 0755));
	ASSERT_EQ(0, chown(P(d, "g"), 0, 4242));
	ASSERT_EQ(0, chmod(P(d, "g"), 02775));
	ASSERT_EQ(0, mkdir(P(d, "g/sub"), 0755));
	ASSERT_EQ(0, mkfile(P(d, "g/f"), 0644, 0, 0));
	ASSERT_EQ(0, stat(P(d, "g/sub"), &st));
	EXPECT_EQ(4242, st.st_gid);
	EXPECT_TRUE(st.st_mode & S_ISGID);
	ASSERT_EQ(0, stat(P(d, "g/f"), &st));
	EXPECT_EQ(4242, st.st_gid);
	EXPECT_FALSE(st.st_mode & S_ISGID);
}

/*
 * A directory's st_size: tmpfs counts 20 bytes ("BOGO_DIRENT_SIZE") for
 * each entry including "." and "..", which du and some tools show.
 */
TEST_F(fsm, directory_size)
{
	const char *d = self->dir;
	struct stat st;

	ASSERT_EQ(0, mkdir(P(d, "a"), 0755));
	ASSERT_EQ(0, stat(P(d, "a"), &st));
	EXPECT_EQ(40, st.st_size);
	ASSERT_EQ(0, mkfile(P(d, "a/f"), 0644, 0, 0));
	ASSERT_EQ(0, mkdir(P(d, "a/s"), 0755));
	ASSERT_EQ(0, stat(P(d, "a"), &st));
	EXPECT_EQ(80, st.st_size);
	ASSERT_EQ(0, unlink(P(d, "a/f")));
	ASSERT_EQ(0, stat(P(d, "a"), &st));
	EXPECT_EQ(60, st.st_size);
}

/* ---- rename ---- */

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static long ino(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? -1 : (long)st.st_ino;
}

static long nlink(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? -1 : (long)st.st_nlink;
}

TEST_F(fsm, rename)
{
	const char *d = self->dir;
	long ia, ib;
	char buf[64];
	int fd;

	ASSERT_EQ(0, write_str(P(d, "a"), "AAAA"));
	ASSERT_EQ(0, write_str(P(d, "b"), "BB"));
	ia = ino(P(d, "a"));
	ib = ino(P(d, "b"));

	/* Plain rename keeps the inode. */
	ASSERT_EQ(0, rename(P(d, "a"), P(d, "c")));
	EXPECT_EQ(-1, ino(P(d, "a")));
	EXPECT_EQ(ia, ino(P(d, "c")));

	/* NOREPLACE: EEXIST, nothing changes. */
	EXPECT_EQ(-1, renameat2(AT_FDCWD, P(d, "c"), AT_FDCWD, P(d, "b"),
				RENAME_NOREPLACE));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(ia, ino(P(d, "c")));
	EXPECT_EQ(ib, ino(P(d, "b")));
	EXPECT_EQ(0, renameat2(AT_FDCWD, P(d, "c"), AT_FDCWD, P(d, "n"),
			       RENAME_NOREPLACE));
	EXPECT_EQ(0, rename(P(d, "n"), P(d, "c")));

	/* EXCHANGE swaps the two names. */
	EXPECT_EQ(0, renameat2(AT_FDCWD, P(d, "c"), AT_FDCWD, P(d, "b"),
			       RENAME_EXCHANGE));
	EXPECT_EQ(ib, ino(P(d, "c")));
	EXPECT_EQ(ia, ino(P(d, "b")));
	ASSERT_LE(0, read_file(P(d, "b"), buf, sizeof(buf)));
	EXPECT_STREQ("AAAA", buf);
	ASSERT_LE(0, read_file(P(d, "c"), buf, sizeof(buf)));
	EXPECT_STREQ("BB", buf);
	EXPECT_EQ(-1, renameat2(AT_FDCWD, P(d, "c"), AT_FDCWD, P(d, "none"),
				RENAME_EXCHANGE));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, renameat2(AT_FDCWD, P(d, "c"), AT_FDCWD, P(d, "b"),
				RENAME_EXCHANGE | RENAME_NOREPLACE));
	EXPECT_EQ(EINVAL, errno);

	/* Replacing: the old target lives on while open. */
	fd = open(P(d, "b"), O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, rename(P(d, "c"), P(d, "b")));
	EXPECT_EQ(ib, ino(P(d, "b")));
	EXPECT_EQ(-1, ino(P(d, "c")));
	EXPECT_EQ(4, pread(fd, buf, sizeof(buf), 0));
	{
		struct stat st;

		ASSERT_EQ(0, fstat(fd, &st));
		EXPECT_EQ(0, st.st_nlink);
	}
	close(fd);
	/* Renaming a name onto a link of the same inode does nothing. */
	ASSERT_EQ(0, link(P(d, "b"), P(d, "b2")));
	EXPECT_EQ(0, rename(P(d, "b"), P(d, "b2")));
	EXPECT_EQ(ib, ino(P(d, "b")));
	EXPECT_EQ(2, nlink(P(d, "b")));
	ASSERT_EQ(0, unlink(P(d, "b2")));

	/* Directories. */
	ASSERT_EQ(0, mkdir(P(d, "d1"), 0755));
	ASSERT_EQ(0, mkdir(P(d, "d2"), 0755));
	ASSERT_EQ(0, mkdir(P(d, "d2/x"), 0755));
	EXPECT_EQ(-1, rename(P(d, "d1"), P(d, "d2")));
	EXPECT_EQ(ENOTEMPTY, errno);
	EXPECT_EQ(-1, rename(P(d, "b"), P(d, "d2")));
	EXPECT_EQ(EISDIR, errno);
	EXPECT_EQ(-1, rename(P(d, "d1"), P(d, "b")));
	EXPECT_EQ(ENOTDIR, errno);
	EXPECT_EQ(-1, rename(P(d, "d2"), P(d, "d2/x/y")));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, rmdir(P(d, "d2/x")));
	EXPECT_EQ(0, rename(P(d, "d1"), P(d, "d2")));	/* over an empty one */
	EXPECT_EQ(-1, ino(P(d, "d1")));
	EXPECT_EQ(3, nlink(d));

	/* Across directories: link counts follow the subdirectories. */
	ASSERT_EQ(0, mkdir(P(d, "p"), 0755));
	ASSERT_EQ(0, mkdir(P(d, "q"), 0755));
	ASSERT_EQ(0, mkdir(P(d, "p/s"), 0755));
	EXPECT_EQ(3, nlink(P(d, "p")));
	EXPECT_EQ(0, rename(P(d, "p/s"), P(d, "q/s")));
	EXPECT_EQ(2, nlink(P(d, "p")));
	EXPECT_EQ(3, nlink(P(d, "q")));
	ASSERT_EQ(0, write_str(P(d, "p/f"), "f"));
	EXPECT_EQ(0, renameat2(AT_FDCWD, P(d, "q/s"), AT_FDCWD, P(d, "p/f"),
			       RENAME_EXCHANGE));
	EXPECT_EQ(3, nlink(P(d, "p")));
	EXPECT_EQ(2, nlink(P(d, "q")));
	EXPECT_EQ(0, access(P(d, "p/f/."), F_OK));	/* p/f is the dir */
	EXPECT_LE(0, read_file(P(d, "q/s"), buf, sizeof(buf)));
	EXPECT_STREQ("f", buf);
	/* .. of a moved directory is its new parent. */
	ASSERT_EQ(0, rename(P(d, "p/f"), P(d, "q/dir")));
	EXPECT_EQ(ino(P(d, "q")), ino(P(d, "q/dir/..")));
}

/*
 * RENAME_WHITEOUT (used by overlayfs when its upper directory is on this
 * file system): tmpfs leaves a 0:0 character device in the old place.
 */
TEST_F(fsm, rename_whiteout)
{
	const char *d = self->dir;
	struct stat st;

	ASSERT_EQ(0, write_str(P(d, "w"), "w"));
	EXPECT_EQ(0, renameat2(AT_FDCWD, P(d, "w"), AT_FDCWD, P(d, "w2"),
			       RENAME_WHITEOUT))
		TH_LOG("RENAME_WHITEOUT: %s", strerror(errno));
	ASSERT_EQ(0, lstat(P(d, "w"), &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0, st.st_rdev);
	EXPECT_EQ(0, lstat(P(d, "w2"), &st));
}

/* ---- links ---- */

TEST_F(fsm, hard_links)
{
	const char *d = self->dir;
	char buf[64];
	int fd;

	ASSERT_EQ(0, write_str(P(d, "f"), "data"));
	EXPECT_EQ(1, nlink(P(d, "f")));
	ASSERT_EQ(0, link(P(d, "f"), P(d, "g")));
	EXPECT_EQ(2, nlink(P(d, "f")));
	EXPECT_EQ(2, nlink(P(d, "g")));
	EXPECT_EQ(ino(P(d, "f")), ino(P(d, "g")));
	ASSERT_EQ(0, mkdir(P(d, "sub"), 0755));
	ASSERT_EQ(0, link(P(d, "g"), P(d, "sub/h")));
	EXPECT_EQ(3, nlink(P(d, "f")));

	/* Written through one name, read through another. */
	fd = open(P(d, "sub/h"), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(4, write(fd, "more", 4));
	close(fd);
	ASSERT_LE(0, read_file(P(d, "f"), buf, sizeof(buf)));
	EXPECT_STREQ("datamore", buf);

	EXPECT_EQ(0, unlink(P(d, "f")));
	EXPECT_EQ(2, nlink(P(d, "g")));
	ASSERT_LE(0, read_file(P(d, "g"), buf, sizeof(buf)));
	EXPECT_STREQ("datamore", buf);

	EXPECT_EQ(-1, link(P(d, "g"), P(d, "sub/h")));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, link(P(d, "sub"), P(d, "sub2")));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, link(P(d, "nothing"), P(d, "x")));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, link(P(d, "g"), "/tmp/fssem-cross-link"));
	EXPECT_EQ(EXDEV, errno);
	/* Hard links to symlinks and fifos. */
	ASSERT_EQ(0, symlink("g", P(d, "sl")));
	EXPECT_EQ(0, link(P(d, "sl"), P(d, "sl2")));
	EXPECT_EQ(2, nlink(P(d, "sl")));
	ASSERT_EQ(0, mkfifo(P(d, "fifo"), 0644));
	EXPECT_EQ(0, link(P(d, "fifo"), P(d, "fifo2")));
	EXPECT_EQ(2, nlink(P(d, "fifo2")));
}

/* ---- symlinks ---- */

TEST_F(fsm, symlinks)
{
	const char *d = self->dir;
	char buf[2 * PG], target[2 * PG];
	struct stat st;
	int fd;

	ASSERT_EQ(0, symlink("no/such/target", P(d, "dangling")));
	ASSERT_EQ(0, lstat(P(d, "dangling"), &st));
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	EXPECT_EQ(14, st.st_size);
	EXPECT_EQ(0777, st.st_mode & 07777);
	memset(buf, 'x', sizeof(buf));
	EXPECT_EQ(14, readlink(P(d, "dangling"), buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "no/such/target", 14));
	EXPECT_EQ('x', buf[14]);		/* not terminated */
	EXPECT_EQ(5, readlink(P(d, "dangling"), buf, 5));
	EXPECT_EQ(-1, stat(P(d, "dangling"), &st));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, symlink("x", P(d, "dangling")));
	EXPECT_EQ(EEXIST, errno);

	ASSERT_EQ(0, write_str(P(d, "f"), "hello"));
	ASSERT_EQ(0, symlink("f", P(d, "lf")));
	ASSERT_LE(0, read_file(P(d, "lf"), buf, sizeof(buf)));
	EXPECT_STREQ("hello", buf);
	EXPECT_EQ(-1, open(P(d, "lf"), O_RDONLY | O_NOFOLLOW));
	EXPECT_EQ(ELOOP, errno);
	EXPECT_EQ(-1, readlink(P(d, "f"), buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	/* Through a symlink to a directory, and an absolute one. */
	ASSERT_EQ(0, mkdir(P(d, "dir"), 0755));
	ASSERT_EQ(0, write_str(P(d, "dir/in"), "in"));
	ASSERT_EQ(0, symlink("dir", P(d, "ld")));
	ASSERT_LE(0, read_file(P(d, "ld/in"), buf, sizeof(buf)));
	EXPECT_STREQ("in", buf);
	ASSERT_EQ(0, symlink(P(d, "dir/in"), P(d, "abs")));
	ASSERT_LE(0, read_file(P(d, "abs"), buf, sizeof(buf)));
	EXPECT_STREQ("in", buf);
	/* Loops. */
	ASSERT_EQ(0, symlink("loop2", P(d, "loop1")));
	ASSERT_EQ(0, symlink("loop1", P(d, "loop2")));
	EXPECT_EQ(-1, open(P(d, "loop1"), O_RDONLY));
	EXPECT_EQ(ELOOP, errno);
	/* Unlinking the link leaves the target. */
	EXPECT_EQ(0, unlink(P(d, "lf")));
	EXPECT_EQ(0, access(P(d, "f"), F_OK));

	/* The longest target is PAGE_SIZE - 1 bytes. */
	memset(target, 'a', sizeof(target));
	target[PG - 1] = '\0';
	ASSERT_EQ(0, symlink(target, P(d, "long")));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(PG - 1, readlink(P(d, "long"), buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, target, PG - 1));
	ASSERT_EQ(0, lstat(P(d, "long"), &st));
	EXPECT_EQ(PG - 1, st.st_size);
	target[PG - 1] = 'a';
	target[PG] = '\0';
	EXPECT_EQ(-1, symlink(target, P(d, "toolong")));
	EXPECT_EQ(ENAMETOOLONG, errno);
	/* Still works after the dentry cache lets go of it. */
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd >= 0) {
		EXPECT_EQ(1, write(fd, "2", 1));
		close(fd);
	}
	EXPECT_EQ(PG - 1, readlink(P(d, "long"), buf, sizeof(buf)));
	EXPECT_EQ(14, readlink(P(d, "dangling"), buf, sizeof(buf)));
}

/* ---- other special files ---- */

TEST_F(fsm, special_files)
{
	const char *d = self->dir;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, s, c;
	char ch;

	ASSERT_EQ(0, mkfifo(P(d, "fifo"), 0644));
	ASSERT_EQ(0, stat(P(d, "fifo"), &st));
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
	fd = open(P(d, "fifo"), O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, write(fd, "z", 1));
	EXPECT_EQ(1, read(fd, &ch, 1));
	EXPECT_EQ('z', ch);
	close(fd);

	ASSERT_EQ(0, mknod(P(d, "null"), S_IFCHR | 0666, makedev(1, 3)));
	ASSERT_EQ(0, stat(P(d, "null"), &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(makedev(1, 3), st.st_rdev);
	fd = open(P(d, "null"), O_WRONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(3, write(fd, "abc", 3));
	close(fd);
	ASSERT_EQ(0, mknod(P(d, "blk"), S_IFBLK | 0600, makedev(7, 0)));
	ASSERT_EQ(0, stat(P(d, "blk"), &st));
	EXPECT_TRUE(S_ISBLK(st.st_mode));
	ASSERT_EQ(0, mknod(P(d, "reg"), S_IFREG | 0600, 0));
	ASSERT_EQ(0, stat(P(d, "reg"), &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(0, st.st_size);
	fd = open(P(d, "reg"), O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(3, pwrite(fd, "abc", 3, 0));
	close(fd);

	/* A unix socket bound in the file system. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", P(d, "sock"));
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(s, 1));
	ASSERT_EQ(0, stat(P(d, "sock"), &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, connect(c, (struct sockaddr *)&sa, sizeof(sa)));
	close(c);
	close(s);
}

/* ---- permissions and ownership ---- */

TEST_F(fsm, permissions)
{
	const char *d = self->dir;
	struct stat st;

	ASSERT_EQ(0, mkfile(P(d, "secret"), 0600, 10, 1));
	ASSERT_EQ(0, mkfile(P(d, "pub"), 0644, 10, 1));
	ASSERT_EQ(0, mkfile(P(d, "rw"), 0666, 10, 1));
	ASSERT_EQ(0, chmod(P(d, "rw"), 0666));
	ASSERT_EQ(0, mkdir(P(d, "rootdir"), 0755));
	ASSERT_EQ(0, mkfile(P(d, "rootdir/f"), 0644, 0, 0));
	ASSERT_EQ(0, mkdir(P(d, "priv"), 0700));
	ASSERT_EQ(0, mkfile(P(d, "priv/f"), 0644, 0, 0));

	EXPECT_EQ(EACCES, as_user(UID_A, U_OPEN_R, P(d, "secret"), NULL, 0, 0));
	EXPECT_EQ(0, as_user(UID_A, U_OPEN_R, P(d, "pub"), NULL, 0, 0));
	EXPECT_EQ(EACCES, as_user(UID_A, U_OPEN_W, P(d, "pub"), NULL, 0, 0));
	EXPECT_EQ(EACCES, as_user(UID_A, U_TRUNCATE, P(d, "pub"), NULL, 0, 0));
	EXPECT_EQ(0, as_user(UID_A, U_WRITE, P(d, "rw"), NULL, 3, 0));
	EXPECT_EQ(EACCES, as_user(UID_A, U_CREATE, P(d, "rootdir/x"), NULL, 0, 0));
	EXPECT_EQ(EACCES, as_user(UID_A, U_MKDIR, P(d, "rootdir/x"), NULL, 0, 0));
	EXPECT_EQ(EACCES, as_user(UID_A, U_UNLINK, P(d, "rootdir/f"), NULL, 0, 0));
	EXPECT_EQ(EACCES, as_user(UID_A, U_RENAME, P(d, "rootdir/f"),
				  P(d, "stolen"), 0, 0));
	EXPECT_EQ(EACCES, as_user(UID_A, U_STAT, P(d, "priv/f"), NULL, 0, 0));
	EXPECT_EQ(EPERM, as_user(UID_A, U_CHMOD, P(d, "pub"), NULL, 0666, 0));
	EXPECT_EQ(EPERM, as_user(UID_A, U_CHOWN, P(d, "pub"), NULL, UID_A, -1));
	EXPECT_EQ(EPERM, as_user(UID_A, U_UTIME_SET, P(d, "pub"), NULL, 0, 0));
	EXPECT_EQ(EACCES, as_user(UID_A, U_UTIME_NOW, P(d, "pub"), NULL, 0, 0));
	EXPECT_EQ(0, as_user(UID_A, U_UTIME_NOW, P(d, "rw"), NULL, 0, 0));

	/* Files of the user: its uid and gid, its rights. */
	EXPECT_EQ(0, as_user(UID_A, U_CREATE, P(d, "mine"), NULL, 0640, 0));
	ASSERT_EQ(0, stat(P(d, "mine"), &st));
	EXPECT_EQ(UID_A, st.st_uid);
	EXPECT_EQ(UID_A, st.st_gid);
	EXPECT_EQ(0640, st.st_mode & 07777);
	EXPECT_EQ(0, as_user(UID_A, U_CHMOD, P(d, "mine"), NULL, 0600, 0));
	EXPECT_EQ(EPERM, as_user(UID_A, U_CHOWN, P(d, "mine"), NULL, UID_B, -1));
	EXPECT_EQ(EPERM, as_user(UID_A, U_CHOWN, P(d, "mine"), NULL, -1, 0));
	EXPECT_EQ(0, as_user(UID_A, U_CHOWN, P(d, "mine"), NULL, -1, UID_A));
	EXPECT_EQ(0, as_user(UID_A, U_UTIME_SET, P(d, "mine"), NULL, 0, 0));
	EXPECT_EQ(EACCES, as_user(UID_B, U_OPEN_R, P(d, "mine"), NULL, 0, 0));
	/* Root can do all of it. */
	ASSERT_EQ(0, chown(P(d, "mine"), UID_B, UID_B));
	ASSERT_EQ(0, stat(P(d, "mine"), &st));
	EXPECT_EQ(UID_B, st.st_uid);
	EXPECT_EQ(0, as_user(UID_B, U_OPEN_R, P(d, "mine"), NULL, 0, 0));
	EXPECT_EQ(EACCES, as_user(UID_A, U_OPEN_R, P(d, "mine"), NULL, 0, 0));
	/* Search permission on a directory alone is enough to open in it. */
	ASSERT_EQ(0, chmod(P(d, "priv"), 0711));
	ASSERT_EQ(0, chmod(P(d, "priv/f"), 0644));
	EXPECT_EQ(0, as_user(UID_A, U_OPEN_R, P(d, "priv/f"), NULL, 0, 0));
}

/* setuid and setgid bits go when someone else writes or truncates. */
TEST_F(fsm, suid_cleared_on_write)
{
	const char *d = self->dir;
	struct stat st;

	ASSERT_EQ(0, mkfile(P(d, "s"), 0644, 100, 1));
	ASSERT_EQ(0, chmod(P(d, "s"), 06777));
	EXPECT_EQ(0, as_user(UID_A, U_WRITE, P(d, "s"), NULL, 5, 0));
	ASSERT_EQ(0, stat(P(d, "s"), &st));
	EXPECT_EQ(0777, st.st_mode & 07777);

	ASSERT_EQ(0, chmod(P(d, "s"), 06777));
	EXPECT_EQ(0, as_user(UID_A, U_TRUNCATE, P(d, "s"), NULL, 10, 0));
	ASSERT_EQ(0, stat(P(d, "s"), &st));
	EXPECT_EQ(0777, st.st_mode & 07777);
	EXPECT_EQ(10, st.st_size);

	/* chown clears setuid too. */
	ASSERT_EQ(0, chmod(P(d, "s"), 04755));
	ASSERT_EQ(0, chown(P(d, "s"), UID_A, -1));
	ASSERT_EQ(0, stat(P(d, "s"), &st));
	EXPECT_EQ(0755, st.st_mode & 07777);
}

/* ---- the sticky bit: /dev/shm is mode=1777 ---- */

TEST_F(fsm, sticky_bit)
{
	const char *d = self->dir;
	struct stat st;

	ASSERT_EQ(0, stat(d, &st));
	EXPECT_EQ(01777, st.st_mode & 07777);
	EXPECT_EQ(0, as_user(UID_A, U_CREATE, P(d, "a"), NULL, 0666, 0));
	ASSERT_EQ(0, chmod(P(d, "a"), 0666));
	EXPECT_EQ(0, as_user(UID_B, U_CREATE, P(d, "b"), NULL, 0666, 0));
	ASSERT_EQ(0, mkfile(P(d, "r"), 0666, 0, 0));
	ASSERT_EQ(0, chmod(P(d, "r"), 0666));

	/* Another user may write the file but not remove or replace it. */
	EXPECT_EQ(0, as_user(UID_B, U_WRITE, P(d, "a"), NULL, 0, 0));
	EXPECT_EQ(EPERM, as_user(UID_B, U_UNLINK, P(d, "a"), NULL, 0, 0));
	EXPECT_EQ(EPERM, as_user(UID_B, U_RENAME, P(d, "a"), P(d, "a2"), 0, 0));
	EXPECT_EQ(EPERM, as_user(UID_B, U_RENAME, P(d, "b"), P(d, "a"), 0, 0));
	EXPECT_EQ(EPERM, as_user(UID_A, U_UNLINK, P(d, "r"), NULL, 0, 0));
	EXPECT_EQ(0, access(P(d, "a"), F_OK));
	EXPECT_EQ(0, access(P(d, "b"), F_OK));
	/* The owner may; so may root. */
	EXPECT_EQ(0, as_user(UID_A, U_RENAME, P(d, "a"), P(d, "a2"), 0, 0));
	EXPECT_EQ(0, as_user(UID_A, U_UNLINK, P(d, "a2"), NULL, 0, 0));
	EXPECT_EQ(0, unlink(P(d, "b")));

	/* Directories too, and the owner of a sticky directory may. */
	ASSERT_EQ(0, mkdir(P(d, "t"), 0755));
	ASSERT_EQ(0, chown(P(d, "t"), UID_C, UID_C));
	ASSERT_EQ(0, chmod(P(d, "t"), 01777));
	EXPECT_EQ(0, as_user(UID_A, U_MKDIR, P(d, "t/da"), NULL, 0, 0));
	EXPECT_EQ(0, as_user(UID_A, U_CREATE, P(d, "t/fa"), NULL, 0644, 0));
	EXPECT_EQ(EPERM, as_user(UID_B, U_RMDIR, P(d, "t/da"), NULL, 0, 0));
	EXPECT_EQ(EPERM, as_user(UID_B, U_UNLINK, P(d, "t/fa"), NULL, 0, 0));
	EXPECT_EQ(0, as_user(UID_C, U_RMDIR, P(d, "t/da"), NULL, 0, 0));
	EXPECT_EQ(0, as_user(UID_C, U_UNLINK, P(d, "t/fa"), NULL, 0, 0));
	/* Without the sticky bit, anyone who can write the directory may. */
	ASSERT_EQ(0, chmod(P(d, "t"), 0777));
	EXPECT_EQ(0, as_user(UID_A, U_CREATE, P(d, "t/fa"), NULL, 0644, 0));
	EXPECT_EQ(0, as_user(UID_B, U_UNLINK, P(d, "t/fa"), NULL, 0, 0));
}

/* ---- timestamps ---- */

TEST_F(fsm, timestamps)
{
	const char *d = self->dir;
	struct timespec c0;
	struct stat st, st0;
	char buf[16];
	int fd, dfd;

	/* Creating a file: the directory's mtime and ctime. */
	ASSERT_EQ(0, set_past(d));
	c0 = ctime_of(d);
	tick();
	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, stat(d, &st));
	EXPECT_LT(PAST, st.st_mtime);
	EXPECT_TRUE(ts_after(st.st_ctim, c0));
	/* New file: all three times now, equal. */
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_LT(PAST, st.st_mtime);
	EXPECT_EQ(st.st_mtim.tv_sec, st.st_ctim.tv_sec);
	EXPECT_EQ(st.st_mtim.tv_nsec, st.st_ctim.tv_nsec);

	/* Explicit times stick, to the nanosecond. */
	{
		struct timespec ts[2] = { { 1234567890, 123456789 },
					  { 1234567891, 987654321 } };

		ASSERT_EQ(0, futimens(fd, ts));
		ASSERT_EQ(0, fstat(fd, &st));
		EXPECT_EQ(1234567890, st.st_atim.tv_sec);
		EXPECT_EQ(123456789, st.st_atim.tv_nsec);
		EXPECT_EQ(1234567891, st.st_mtim.tv_sec);
		EXPECT_EQ(987654321, st.st_mtim.tv_nsec);
	}

	/* write: mtime and ctime. */
	ASSERT_EQ(0, set_past(P(d, "f")));
	c0 = ctime_of(P(d, "f"));
	tick();
	ASSERT_EQ(5, pwrite(fd, "hello", 5, 0));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_LT(PAST, st.st_mtime);
	EXPECT_TRUE(ts_after(st.st_ctim, c0));
	EXPECT_EQ(PAST, st.st_atime);

	/* read: atime (relatime: atime older than a day). */
	ASSERT_EQ(5, pread(fd, buf, 5, 0));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_LT(PAST, st.st_atime);

	/* ftruncate that changes the size: mtime and ctime. */
	ASSERT_EQ(0, set_past(P(d, "f")));
	c0 = ctime_of(P(d, "f"));
	tick();
	ASSERT_EQ(0, ftruncate(fd, 3));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_LT(PAST, st.st_mtime);
	EXPECT_TRUE(ts_after(st.st_ctim, c0));
	ASSERT_EQ(0, set_past(P(d, "f")));
	ASSERT_EQ(0, ftruncate(fd, 1 * MiB));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_LT(PAST, st.st_mtime);

	/* open(O_TRUNC): mtime and ctime, even when already empty. */
	ASSERT_EQ(0, ftruncate(fd, 0));
	ASSERT_EQ(0, set_past(P(d, "f")));
	close(open(P(d, "f"), O_WRONLY | O_TRUNC));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_LT(PAST, st.st_mtime);

	/* mmap reads: atime. */
	ASSERT_EQ(5, pwrite(fd, "hello", 5, 0));
	ASSERT_EQ(0, set_past(P(d, "f")));
	{
		char *p = mmap(NULL, 5, PROT_READ, MAP_SHARED, fd, 0);

		ASSERT_NE(MAP_FAILED, p);
		EXPECT_EQ('h', p[0]);
		munmap(p, 5);
	}
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_LT(PAST, st.st_atime);

	/* chmod, chown: ctime only. */
	ASSERT_EQ(0, set_past(P(d, "f")));
	c0 = ctime_of(P(d, "f"));
	tick();
	ASSERT_EQ(0, fchmod(fd, 0600));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_TRUE(ts_after(st.st_ctim, c0));
	EXPECT_EQ(PAST, st.st_mtime);
	c0 = st.st_ctim;
	tick();
	ASSERT_EQ(0, fchown(fd, UID_A, UID_A));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_TRUE(ts_after(st.st_ctim, c0));
	EXPECT_EQ(PAST, st.st_mtime);

	/* link: the file's ctime, the directory's mtime. */
	ASSERT_EQ(0, mkdir(P(d, "sub"), 0755));
	ASSERT_EQ(0, set_past(P(d, "sub")));
	c0 = ctime_of(P(d, "f"));
	tick();
	ASSERT_EQ(0, link(P(d, "f"), P(d, "sub/g")));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_TRUE(ts_after(st.st_ctim, c0));
	EXPECT_EQ(PAST, st.st_mtime);
	ASSERT_EQ(0, stat(P(d, "sub"), &st));
	EXPECT_LT(PAST, st.st_mtime);

	/* unlink: the same. */
	ASSERT_EQ(0, set_past(P(d, "sub")));
	c0 = ctime_of(P(d, "f"));
	tick();
	ASSERT_EQ(0, unlink(P(d, "sub/g")));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_TRUE(ts_after(st.st_ctim, c0));
	ASSERT_EQ(0, stat(P(d, "sub"), &st));
	EXPECT_LT(PAST, st.st_mtime);

	/* rename across directories: both directories, the file's ctime. */
	ASSERT_EQ(0, set_past(P(d, "sub")));
	ASSERT_EQ(0, set_past(d));
	ASSERT_EQ(0, fstat(fd, &st0));
	tick();
	ASSERT_EQ(0, rename(P(d, "f"), P(d, "sub/f")));
	ASSERT_EQ(0, stat(P(d, "sub"), &st));
	EXPECT_LT(PAST, st.st_mtime);
	ASSERT_EQ(0, stat(d, &st));
	EXPECT_LT(PAST, st.st_mtime);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_TRUE(ts_after(st.st_ctim, st0.st_ctim));
	EXPECT_EQ(st0.st_mtime, st.st_mtime);

	/* mkdir and rmdir: the parent's mtime. */
	ASSERT_EQ(0, set_past(P(d, "sub")));
	ASSERT_EQ(0, mkdir(P(d, "sub/x"), 0755));
	ASSERT_EQ(0, stat(P(d, "sub"), &st));
	EXPECT_LT(PAST, st.st_mtime);
	ASSERT_EQ(0, set_past(P(d, "sub")));
	ASSERT_EQ(0, rmdir(P(d, "sub/x")));
	ASSERT_EQ(0, stat(P(d, "sub"), &st));
	EXPECT_LT(PAST, st.st_mtime);

	/* A symlink's own times. */
	dfd = open(d, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, symlinkat("target", dfd, "sl"));
	ASSERT_EQ(0, set_past(P(d, "sl")));
	ASSERT_EQ(0, lstat(P(d, "sl"), &st));
	EXPECT_EQ(PAST, st.st_mtime);
	close(dfd);
	close(fd);
}

/* fallocate and hole punching change mtime and ctime (as on tmpfs). */
TEST_F(fsm, timestamps_fallocate)
{
	const char *d = self->dir;
	struct timespec c0;
	struct stat st;
	int fd;

	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, 3 * PG, 1));
	ASSERT_EQ(0, set_past(P(d, "f")));
	c0 = ctime_of(P(d, "f"));
	tick();
	ASSERT_EQ(0, fallocate(fd, 0, 0, 8 * PG))
		TH_LOG("fallocate: %s", strerror(errno));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_LT(PAST, st.st_mtime);
	EXPECT_TRUE(ts_after(st.st_ctim, c0));

	ASSERT_EQ(0, set_past(P(d, "f")));
	c0 = ctime_of(P(d, "f"));
	tick();
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       PG, PG));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_LT(PAST, st.st_mtime);
	EXPECT_TRUE(ts_after(st.st_ctim, c0));
	close(fd);
}

/*
 * Whether this kernel refuses long-term writable pins of a shared mapping
 * that needs write notification (6.5 and later): mpcg then has none, and
 * a write to a page that a read mapped leaves the times as tmpfs does.
 */
static int kernel_refuses_notified_pins(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 1;
	return major > 6 || (major == 6 && minor >= 5);
}

/*
 * A write through a shared mapping changes mtime and ctime (generic/080
 * of fstests).  A write fault that maps a page does on tmpfs and mpcg
 * alike (the core updates the times where the file system has no
 * ->page_mkwrite()).  A write to a page that a read mapped before does on
 * mpcg where it has write notification (before 6.5; see
 * MPCG_WRITE_NOTIFY), and never on tmpfs, whose result is logged.
 */
TEST_F(fsm, timestamps_mmap_write)
{
	const char *d = self->dir;
	/* The page read first, and one far from it (its own chunk). */
	const long at[] = { 0, 4 * MiB };
	const int notify = variant->mpcg && !kernel_refuses_notified_pins();
	struct timespec c0;
	struct stat st;
	char *p, buf[2];
	int fd, i, m, c;

	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 8 * MiB));
	p = mmap(NULL, 8 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	buf[0] = *(volatile char *)p;
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, set_past(P(d, "f")));
		c0 = ctime_of(P(d, "f"));
		tick();
		p[at[i]] = 'x';
		ASSERT_EQ(0, fstat(fd, &st));
		m = st.st_mtime > PAST;
		c = ts_after(st.st_ctim, c0);
		if (i == 0 && !notify) {
			TH_LOG("%s, page read first: mtime %s, ctime %s",
			       variant->type, m ? "updated" : "not updated",
			       c ? "updated" : "not updated");
			continue;
		}
		EXPECT_TRUE(m) TH_LOG("page %s: mtime not updated",
				      i ? "written first" : "read first");
		EXPECT_TRUE(c) TH_LOG("page %s: ctime not updated",
				      i ? "written first" : "read first");
	}
	EXPECT_EQ(0, munmap(p, 8 * MiB));
	/* The data went to the file. */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(1, pread(fd, buf, 1, at[i]));
		EXPECT_EQ('x', buf[0]);
	}
	close(fd);
}

/*
 * Long-term writable pins of a shared mapping, as io_uring's fixed buffers
 * make them: taken as on tmpfs.  Before 6.5 io_uring pins no file mapping
 * but tmpfs's and hugetlbfs's (EOPNOTSUPP); from 6.5 GUP refuses them for
 * mappings with write notification, which is why mpcg has none there.
 */
TEST_F(fsm, longterm_pin)
{
	struct io_uring_params params = { 0 };
	struct iovec iov;
	int fd, ring, ret;

	fd = open(P(self->dir, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 64 * KiB));
	iov.iov_len = 64 * KiB;
	iov.iov_base = mmap(NULL, iov.iov_len, PROT_READ | PROT_WRITE,
			    MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, iov.iov_base);
	ring = syscall(__NR_io_uring_setup, 4, &params);
	if (ring < 0) {
		munmap(iov.iov_base, iov.iov_len);
		close(fd);
		SKIP(return, "io_uring_setup: %s", strerror(errno));
	}
	ret = syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
		      &iov, 1);
	if (ret && variant->mpcg && !kernel_refuses_notified_pins()) {
		/* io_uring of this kernel pins only shmem and hugetlbfs. */
		EXPECT_EQ(EOPNOTSUPP, errno);
	} else {
		EXPECT_EQ(0, ret) TH_LOG("IORING_REGISTER_BUFFERS: %s",
					 strerror(errno));
	}
	close(ring);
	munmap(iov.iov_base, iov.iov_len);
	close(fd);
}

/* ---- O_TMPFILE ---- */

TEST_F(fsm, tmpfile)
{
	const char *d = self->dir;
	char proc[64], buf[16];
	long ffree0, ffree1;
	struct stat st;
	int fd, fd2;

	ffree0 = fs_ffree(d);
	fd = open(d, O_TMPFILE | O_RDWR, 0600);
	ASSERT_LE(0, fd) TH_LOG("O_TMPFILE: %s", strerror(errno));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(0, st.st_nlink);
	EXPECT_EQ(0600, st.st_mode & 07777);
	ffree1 = fs_ffree(d);
	EXPECT_EQ(ffree0 - 1, ffree1);
	/* A full region: data, truncate, mmap. */
	ASSERT_EQ(0, pattern_fill(fd, 0, 3 * PG + 17, 4));
	ASSERT_EQ(0, ftruncate(fd, 8 * PG));
	{
		unsigned char *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE,
					MAP_SHARED, fd, 0);

		ASSERT_NE(MAP_FAILED, p);
		EXPECT_EQ(-1, check_mem(p, 0, 3 * PG + 17, 4));
		EXPECT_EQ(-1, check_mem(p, 3 * PG + 17, 5 * PG - 17, 0));
		p[7 * PG] = 'x';
		munmap(p, 8 * PG);
	}
	/* It is nowhere in the directory. */
	{
		DIR *dp = opendir(d);
		struct dirent *de;
		int n = 0;

		ASSERT_NE(NULL, dp);
		while ((de = readdir(dp)))
			n++;
		closedir(dp);
		EXPECT_EQ(2, n);
	}
	/* linkat gives it a name. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ASSERT_EQ(0, linkat(AT_FDCWD, proc, AT_FDCWD, P(d, "named"),
			    AT_SYMLINK_FOLLOW));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(1, st.st_nlink);
	EXPECT_EQ(8 * PG, file_size(P(d, "named")));
	fd2 = open(P(d, "named"), O_RDONLY);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(1, pread(fd2, buf, 1, 7 * PG));
	EXPECT_EQ('x', buf[0]);
	EXPECT_EQ(-1, pattern_check(fd2, 0, 3 * PG + 17, 4));
	close(fd2);
	EXPECT_EQ(ffree1, fs_ffree(d));	/* still one inode */
	/* A second link counts as on any link (see hard_link_inodes). */
	close(fd);

	/* O_EXCL: can never be linked. */
	fd = open(d, O_TMPFILE | O_RDWR | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	EXPECT_EQ(-1, linkat(AT_FDCWD, proc, AT_FDCWD, P(d, "never"),
			     AT_SYMLINK_FOLLOW));
	EXPECT_EQ(ENOENT, errno);
	/* AT_EMPTY_PATH works too for a linkable one (root). */
	fd2 = open(d, O_TMPFILE | O_WRONLY, 0644);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, linkat(fd2, "", AT_FDCWD, P(d, "empty_path"),
			    AT_EMPTY_PATH));
	close(fd2);
	/* Must be opened for writing; in subdirectories too. */
	EXPECT_EQ(-1, open(d, O_TMPFILE | O_RDONLY, 0600));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, mkdir(P(d, "sub"), 0755));
	fd2 = open(P(d, "sub"), O_TMPFILE | O_RDWR, 0600);
	EXPECT_LE(0, fd2);
	close(fd2);
	/* Closing an unlinked one gives its inode (and memory) back. */
	ASSERT_EQ(0, pattern_fill(fd, 0, 2 * MiB, 4));
	close(fd);
	EXPECT_EQ(ffree0 - 3, fs_ffree(d));	/* named, empty_path, sub */
	EXPECT_EQ(fs_total(d) - units(variant->gran, 0, 8 * PG),
		  fs_free(d));
}

/* ---- fallocate ---- */

TEST_F(fsm, fallocate_allocates)
{
	const char *d = self->dir;
	long free0, blocks;
	int fd;

	free0 = fs_free(d);
	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(3, pwrite(fd, "abc", 3, 0));
	ASSERT_EQ(0, fallocate(fd, 0, 100000, 300000))
		TH_LOG("fallocate: %s", strerror(errno));
	EXPECT_EQ(400000, file_size(P(d, "f")));
	{
		char b[3];

		ASSERT_EQ(3, pread(fd, b, 3, 0));
		EXPECT_EQ(0, memcmp(b, "abc", 3));
	}
	EXPECT_EQ(-1, pattern_check(fd, 3, 400000 - 3, 0));
	/*
	 * Resident: pages (tmpfs) or chunks (mpcg) of [0, 3) and of the
	 * allocated range; statfs agrees with st_blocks.
	 */
	if (variant->gran > 100000)
		blocks = units(variant->gran, 0, 400000);
	else
		blocks = units(variant->gran, 0, 3) +
			 units(variant->gran, 100000, 300000);
	EXPECT_EQ(blocks / 512, fd_blocks(fd));
	EXPECT_EQ(free0 - blocks, fs_free(d));

	/* Inside the file: size unchanged, data unchanged. */
	ASSERT_EQ(0, fallocate(fd, 0, 0, 1000));
	EXPECT_EQ(400000, file_size(P(d, "f")));
	{
		char b[3];

		ASSERT_EQ(3, pread(fd, b, 3, 0));
		EXPECT_EQ(0, memcmp(b, "abc", 3));
	}
	/* Growing from the end. */
	ASSERT_EQ(0, fallocate(fd, 0, 400000, 1));
	EXPECT_EQ(400001, file_size(P(d, "f")));
	/* The allocated range is usable memory: write, mmap. */
	ASSERT_EQ(0, pattern_fill(fd, 100000, 300001, 6));
	{
		unsigned char *p = mmap(NULL, 400001, PROT_READ, MAP_SHARED,
					fd, 0);

		ASSERT_NE(MAP_FAILED, p);
		EXPECT_EQ(-1, check_mem(p, 100000, 300001, 6));
		munmap(p, 400001);
	}
	close(fd);
	ASSERT_EQ(0, unlink(P(d, "f")));
	EXPECT_EQ(free0, fs_free(d));
}

/* FALLOC_FL_KEEP_SIZE alone: allocate past EOF without changing the size. */
TEST_F(fsm, fallocate_keep_size)
{
	const char *d = self->dir;
	int fd;

	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, 1000, 2));
	EXPECT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4 * MiB))
		TH_LOG("KEEP_SIZE: %s", strerror(errno));
	EXPECT_EQ(1000, file_size(P(d, "f")));
	EXPECT_EQ(-1, pattern_check(fd, 0, 1000, 2));
	/* What was allocated past EOF reads as zero once the file grows. */
	ASSERT_EQ(0, ftruncate(fd, 3 * MiB));
	EXPECT_EQ(-1, pattern_check(fd, 1000, 3 * MiB - 1000, 0));
	close(fd);
}

TEST_F(fsm, fallocate_errors)
{
	const char *d = self->dir;
	int fd, rfd, dfd;

	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, 10000, 3));
	EXPECT_EQ(-1, fallocate(fd, 0, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, fallocate(fd, 0, -1, 10));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, fallocate(fd, 0, LLONG_MAX - 10, 100));
	EXPECT_EQ(EFBIG, errno);
	/* Modes tmpfs does not have. */
	EXPECT_EQ(-1, fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 10));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, PG));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, PG));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, fallocate(fd, FALLOC_FL_UNSHARE_RANGE, 0, PG));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, fallocate(fd, 0x80, 0, PG));
	EXPECT_EQ(EOPNOTSUPP, errno);
	/* Not open for writing; not a regular file. */
	rfd = open(P(d, "f"), O_RDONLY);
	ASSERT_LE(0, rfd);
	EXPECT_EQ(-1, fallocate(rfd, 0, 0, 10));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, fallocate(rfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				0, 10));
	EXPECT_EQ(EBADF, errno);
	close(rfd);
	dfd = open(d, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, dfd);
	EXPECT_EQ(-1, fallocate(dfd, 0, 0, 10));
	EXPECT_EQ(EBADF, errno);
	close(dfd);
	/* Nothing changed. */
	EXPECT_EQ(10000, file_size(P(d, "f")));
	EXPECT_EQ(-1, pattern_check(fd, 0, 10000, 3));
	close(fd);
}

struct rl_arg {
	int fd;
	int what;
};

/* In a child with RLIMIT_FSIZE = 1M: returns the errno of @what, or 0. */
static int fsize_limited(void *arg)
{
	struct rlimit rl = { .rlim_cur = 1 * MiB, .rlim_max = RLIM_INFINITY };
	struct rl_arg *a = arg;
	char buf[100] = { 0 };
	int r = 0;

	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &rl))
		return 250;
	switch (a->what) {
	case 0:
		r = fallocate(a->fd, 0, 0, 2 * MiB);
		break;
	case 1:
		r = fallocate(a->fd, FALLOC_FL_KEEP_SIZE, 0, 2 * MiB);
		break;
	case 2:
		r = ftruncate(a->fd, 2 * MiB);
		break;
	case 3:
		r = pwrite(a->fd, buf, sizeof(buf), 1 * MiB) < 0 ? -1 : 0;
		break;
	case 4:		/* a write up to the limit is short, not an error */
		return pwrite(a->fd, buf, sizeof(buf), 1 * MiB - 40) == 40 ?
		       0 : 251;
	case 5:
		r = fallocate(a->fd, 0, 0, 1 * MiB);	/* up to it is fine */
		break;
	case 6:		/* sendfile into the file past the limit */
	{
		int p[2];
		off_t off = 1 * MiB;

		if (pipe(p) || write(p[1], buf, sizeof(buf)) != sizeof(buf))
			return 252;
		r = splice(p[0], NULL, a->fd, &off, sizeof(buf), 0) < 0 ?
		    -1 : 0;
		break;
	}
	}
	return r ? errno : 0;
}

TEST_F(fsm, efbig)
{
	const char *d = self->dir;
	struct rl_arg a;
	char buf[100] = { 0 };
	int fd;

	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, 100000, 8));
	a.fd = fd;
	a.what = 0;
	EXPECT_EQ(EFBIG, in_child(fsize_limited, &a));
	a.what = 1;
	EXPECT_EQ(EFBIG, in_child(fsize_limited, &a));
	a.what = 2;
	EXPECT_EQ(EFBIG, in_child(fsize_limited, &a));
	a.what = 3;
	EXPECT_EQ(EFBIG, in_child(fsize_limited, &a));
	a.what = 6;
	EXPECT_EQ(EFBIG, in_child(fsize_limited, &a));
	EXPECT_EQ(100000, file_size(P(d, "f")));
	a.what = 4;
	EXPECT_EQ(0, in_child(fsize_limited, &a));
	EXPECT_EQ(1 * MiB, file_size(P(d, "f")));
	a.what = 5;
	EXPECT_EQ(0, in_child(fsize_limited, &a));
	EXPECT_EQ(-1, pattern_check(fd, 0, 100000, 8));

	/* The largest file: LLONG_MAX bytes, like tmpfs. */
	EXPECT_EQ(-1, pwrite(fd, buf, 1, LLONG_MAX));	/* pos + len wraps */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, ftruncate(fd, LLONG_MAX));
	EXPECT_EQ(LLONG_MAX, file_size(P(d, "f")));
	/* A write that ends there, in a unit of its own. */
	EXPECT_EQ(100, pwrite(fd, buf, sizeof(buf), LLONG_MAX - 100));
	EXPECT_EQ(LLONG_MAX, file_size(P(d, "f")));
	{
		char b2[100];

		EXPECT_EQ(100, pread(fd, b2, sizeof(b2), LLONG_MAX - 100));
	}
	EXPECT_EQ(units(variant->gran, 0, 1 * MiB) / 512 +
		  units(variant->gran, LLONG_MAX - 100, 100) / 512,
		  fd_blocks(fd));
	ASSERT_EQ(0, ftruncate(fd, 100000));
	EXPECT_EQ(units(variant->gran, 0, 100000) / 512, fd_blocks(fd));
	EXPECT_EQ(-1, pattern_check(fd, 0, 100000, 8));
	close(fd);
}

/* ---- hole punching ---- */

/* Whole units of @gran inside [off, off + len), in bytes. */
static long whole_units(long gran, long off, long len)
{
	long n = (off + len) / gran - (off + gran - 1) / gran;

	return n > 0 ? n * gran : 0;
}

/*
 * Punching frees the units (pages, chunks) wholly inside the range and
 * zeroes the rest of it.  Reading a hole through a shared mapping makes it
 * resident again (on both), so residency is checked before that.
 */
TEST_F(fsm, punch_hole)
{
	const char *d = self->dir;
	const long gran = variant->gran;
	const long size = 3 * 2 * MiB + 1000;
	const long off = 12345, len = 2 * MiB + 200000;
	long resident, free0;
	unsigned char *p;
	int fd;

	free0 = fs_free(d);
	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, size, 9));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, check_mem(p, 0, size, 9));
	EXPECT_EQ(units(gran, 0, size) / 512, fd_blocks(fd));

	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       off, len))
		TH_LOG("punch: %s", strerror(errno));
	resident = units(gran, 0, size) - whole_units(gran, off, len);
	EXPECT_EQ(resident / 512, fd_blocks(fd));
	EXPECT_EQ(free0 - resident, fs_free(d));
	EXPECT_EQ(size, file_size(P(d, "f")));
	EXPECT_EQ(-1, pattern_check(fd, 0, off, 9));
	EXPECT_EQ(-1, pattern_check(fd, off, len, 0));
	EXPECT_EQ(-1, pattern_check(fd, off + len, size - off - len, 9));
	EXPECT_EQ(resident / 512, fd_blocks(fd));	/* read() allocates not */
	/* The mapping sees the same: zeroes where the hole is. */
	EXPECT_EQ(-1, check_mem(p, 0, off, 9));
	EXPECT_EQ(-1, check_mem(p, off, len, 0));
	EXPECT_EQ(-1, check_mem(p, off + len, size - off - len, 9));

	/* The hole fills again, through write and through the mapping. */
	ASSERT_EQ(0, pattern_fill(fd, off, 100, 9));
	p[off + len - 1] = pattern(off + len - 1, 9);
	EXPECT_EQ(-1, pattern_check(fd, off, 100, 9));
	EXPECT_EQ(-1, pattern_check(fd, off + 100, len - 101, 0));
	EXPECT_EQ(-1, pattern_check(fd, off + len - 1, 1, 9));

	/* Past EOF: nothing happens, the size stays. */
	EXPECT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       size + 10, 10 * MiB));
	EXPECT_EQ(size, file_size(P(d, "f")));
	/* Straddling EOF: zeroes up to it, the size stays. */
	EXPECT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       size - 100, 1000));
	EXPECT_EQ(size, file_size(P(d, "f")));
	EXPECT_EQ(-1, pattern_check(fd, size - 100, 100, 0));
	EXPECT_EQ(-1, pattern_check(fd, off + len, size - off - len - 100, 9));

	/*
	 * The whole file: only the unit with EOF in it stays (partly in the
	 * range, the rest is past EOF), zeroed; the size stays.
	 */
	EXPECT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       0, size));
	resident = units(gran, 0, size) - whole_units(gran, 0, size);
	EXPECT_EQ(resident / 512, fd_blocks(fd));
	EXPECT_EQ(size, file_size(P(d, "f")));
	EXPECT_EQ(free0 - resident, fs_free(d));
	EXPECT_EQ(-1, pattern_check(fd, 0, size, 0));
	EXPECT_EQ(-1, check_mem(p, 0, size, 0));
	munmap(p, size);
	/* Aligned to the unit: everything goes. */
	ASSERT_EQ(0, ftruncate(fd, 2 * 2 * MiB));
	ASSERT_EQ(0, pattern_fill(fd, 0, 4 * MiB, 3));
	EXPECT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       0, 4 * MiB));
	EXPECT_EQ(0, fd_blocks(fd));
	EXPECT_EQ(free0, fs_free(d));
	close(fd);
}

/* ---- readv, writev ---- */

/* Fill @len bytes at @buf with pattern(@off.., @seed). */
static void pat(unsigned char *buf, long off, long len, unsigned int seed)
{
	long i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(off + i, seed);
}

TEST_F(fsm, readv_writev)
{
	/* Pieces that cross a page and (on mpcg) a chunk boundary. */
	const long off = variant->gran - 50, len[4] = { 100, 0, 2 * PG + 7, 1 };
	const long total = 100 + 2 * PG + 7 + 1;
	unsigned char *w[4], *r[3], *all;
	struct iovec iov[4];
	int fd, i;
	long o;

	all = malloc(total);
	ASSERT_NE(NULL, all);
	fd = open(P(self->dir, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	for (i = 0, o = off; i < 4; o += len[i], i++) {
		w[i] = malloc(len[i] + 1);
		ASSERT_NE(NULL, w[i]);
		pat(w[i], o, len[i], 4);
		iov[i].iov_base = w[i];
		iov[i].iov_len = len[i];
	}
	/* pwritev: one write of all the pieces, in order, at @off. */
	EXPECT_EQ(total, pwritev(fd, iov, 4, off));
	EXPECT_EQ(off + total, file_size(P(self->dir, "f")));
	EXPECT_EQ(-1, pattern_check(fd, off, total, 4));
	EXPECT_EQ(0, lseek(fd, 0, SEEK_CUR));	/* pwritev leaves it */

	/* readv from the file position, split differently; short at EOF. */
	ASSERT_EQ(off, lseek(fd, off, SEEK_SET));
	for (i = 0; i < 3; i++) {
		r[i] = malloc(total);
		ASSERT_NE(NULL, r[i]);
		memset(r[i], 0xee, total);
		iov[i].iov_base = r[i];
	}
	iov[0].iov_len = PG + 3;
	iov[1].iov_len = 17;
	iov[2].iov_len = total;		/* more than is left */
	EXPECT_EQ(total, readv(fd, iov, 3));
	EXPECT_EQ(off + total, lseek(fd, 0, SEEK_CUR));
	memcpy(all, r[0], PG + 3);
	memcpy(all + PG + 3, r[1], 17);
	memcpy(all + PG + 20, r[2], total - PG - 20);
	pat(r[0], off, total, 4);
	EXPECT_EQ(0, memcmp(all, r[0], total));
	EXPECT_EQ(0xee, r[2][total - PG - 20]);	/* nothing past EOF */
	EXPECT_EQ(0, readv(fd, iov, 3));

	/* preadv of a hole before @off: zeroes. */
	iov[0].iov_len = 10;
	iov[1].iov_len = 10;
	EXPECT_EQ(20, preadv(fd, iov, 2, 0));
	EXPECT_EQ(0, r[0][0]);
	EXPECT_EQ(0, r[1][9]);

	/* writev at the file position, and with O_APPEND at the end. */
	pat(all, 0, 300, 9);
	iov[0].iov_base = all;
	iov[0].iov_len = 200;
	iov[1].iov_base = all + 200;
	iov[1].iov_len = 100;
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(300, writev(fd, iov, 2));
	EXPECT_EQ(300, lseek(fd, 0, SEEK_CUR));
	EXPECT_EQ(-1, pattern_check(fd, 0, 300, 9));
	close(fd);
	fd = open(P(self->dir, "f"), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(300, writev(fd, iov, 2));
	EXPECT_EQ(off + total + 300, file_size(P(self->dir, "f")));
	close(fd);
	fd = open(P(self->dir, "f"), O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(100, pread(fd, all + 300, 100, off + total + 200));
	EXPECT_EQ(0, memcmp(all + 200, all + 300, 100));
	/* Data written earlier is intact around what was appended. */
	EXPECT_EQ(-1, pattern_check(fd, off, total, 4));
	close(fd);
	for (i = 0; i < 4; i++)
		free(w[i]);
	for (i = 0; i < 3; i++)
		free(r[i]);
	free(all);
}

/* ---- MAP_PRIVATE ---- */

TEST_F(fsm, map_private)
{
	const char *d = self->dir;
	const long size = 6 * PG;
	unsigned char *p, *q;
	int fd, rfd;

	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, size, 5));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	q = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	/* Reads see the file. */
	EXPECT_EQ(-1, check_mem(p, 0, size, 5));
	/* Writes stay private: the file and shared mappings do not see them. */
	memset(p, 'X', 100);
	p[2 * PG + 5] = 'Y';
	p[5 * PG] = 'Z';
	EXPECT_EQ(-1, pattern_check(fd, 0, size, 5));
	EXPECT_EQ(-1, check_mem(q, 0, size, 5));
	EXPECT_EQ('X', p[99]);
	EXPECT_EQ(pattern(100, 5), p[100]);
	/* Pages not written privately follow the file. */
	ASSERT_EQ(0, pattern_fill(fd, PG, PG, 6));	/* page 1: read before */
	ASSERT_EQ(0, pattern_fill(fd, 3 * PG, PG, 6));	/* page 3: read before */
	EXPECT_EQ(-1, check_mem(p, PG, PG, 6));
	EXPECT_EQ(-1, check_mem(p, 3 * PG, PG, 6));
	/* A private copy does not. */
	ASSERT_EQ(0, pattern_fill(fd, 0, PG, 7));
	EXPECT_EQ('X', p[0]);
	EXPECT_EQ(pattern(200, 5), p[200]);

	/* Forked: the child gets a copy of the private pages. */
	{
		pid_t pid = fork();
		int status;

		ASSERT_LE(0, pid);
		if (pid == 0) {
			if (p[0] != 'X' || p[2 * PG + 5] != 'Y')
				_exit(1);
			p[0] = 'C';
			_exit(0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_EQ(0, status);
		EXPECT_EQ('X', p[0]);
	}

	/* Punching a hole keeps private copies, zeroes the rest. */
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       2 * PG, 2 * PG))
		TH_LOG("punch: %s", strerror(errno));
	EXPECT_EQ('Y', p[2 * PG + 5]);
	EXPECT_EQ(0, p[3 * PG + 5]);
	EXPECT_EQ(0, q[2 * PG + 5]);

	/* Truncation takes even private copies past the new EOF away. */
	ASSERT_EQ(0, ftruncate(fd, 4 * PG));
	EXPECT_EQ('X', p[0]);
	EXPECT_EQ(0, read_sig(p + 4 * PG - 1));
	EXPECT_EQ(SIGBUS, read_sig(p + 4 * PG));
	EXPECT_EQ(SIGBUS, read_sig(p + 5 * PG));	/* was a private copy */
	EXPECT_EQ(SIGBUS, write_sig(p + 5 * PG));
	munmap(p, size);
	munmap(q, size);

	/* Read-only file descriptor: a writable private mapping is fine. */
	rfd = open(P(d, "f"), O_RDONLY);
	ASSERT_LE(0, rfd);
	p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, rfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 'W';
	EXPECT_EQ(-1, pattern_check(fd, 0, PG, 7));
	munmap(p, 4 * PG);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
				   MAP_SHARED, rfd, 0));
	EXPECT_EQ(EACCES, errno);
	close(rfd);
	close(fd);
}

/* A private mapping of a file that grows or has holes. */
TEST_F(fsm, map_private_holes)
{
	const char *d = self->dir;
	unsigned char *p;
	int fd;

	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4 * PG));
	p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, p[PG]);			/* a hole reads as zero */
	p[2 * PG] = 'h';			/* private write into a hole */
	EXPECT_EQ(-1, pattern_check(fd, 0, 4 * PG, 0));
	EXPECT_EQ(SIGBUS, read_sig(p + 4 * PG));
	ASSERT_EQ(0, ftruncate(fd, 8 * PG));	/* grows: now reachable */
	EXPECT_EQ(0, read_sig(p + 6 * PG));
	ASSERT_EQ(0, pattern_fill(fd, 6 * PG, PG, 3));
	EXPECT_EQ(pattern(6 * PG + 7, 3), p[6 * PG + 7]);
	EXPECT_EQ('h', p[2 * PG]);
	munmap(p, 8 * PG);
	close(fd);
}

/* ---- statfs and nr_inodes ---- */

TEST_F(fsm, statfs)
{
	struct statfs s;
	char *d2 = self->dir2;
	long gran = variant->gran;
	int fd;

	ASSERT_EQ(0, fs_mount(variant, d2, sizeof(self->dir2),
			      "size=8M,nr_inodes=64"));
	ASSERT_EQ(0, statfs(d2, &s));
	/* By design: mpcg has its own magic. */
	EXPECT_EQ(variant->mpcg ? MPCG_SUPER_MAGIC : TMPFS_MAGIC,
		  (unsigned long)s.f_type);
	EXPECT_EQ(PG, s.f_bsize);
	EXPECT_EQ(PG, s.f_frsize);
	EXPECT_EQ(8 * MiB / PG, (long)s.f_blocks);
	EXPECT_EQ(s.f_blocks, s.f_bfree);
	EXPECT_EQ(s.f_bfree, s.f_bavail);
	EXPECT_EQ(64, (long)s.f_files);
	EXPECT_EQ(63, (long)s.f_ffree);	/* the root directory */
	EXPECT_EQ(255, s.f_namelen);

	fd = open(P(d2, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	EXPECT_EQ(62, fs_ffree(d2));
	/* By design: mpcg allocates (and counts) whole chunks. */
	ASSERT_EQ(1, pwrite(fd, "x", 1, 3 * PG + 5));
	EXPECT_EQ(8 * MiB - gran, fs_free(d2));
	ASSERT_EQ(1, pwrite(fd, "x", 1, 5 * 64 * KiB));
	EXPECT_EQ(8 * MiB - units(gran, 0, 1) -
		  (gran < 64 * KiB * 5 ? gran : 0), fs_free(d2));
	ASSERT_EQ(0, statfs(d2, &s));
	EXPECT_EQ(s.f_bfree, s.f_bavail);
	close(fd);
	ASSERT_EQ(0, unlink(P(d2, "f")));
	EXPECT_EQ(8 * MiB, fs_free(d2));
	EXPECT_EQ(63, fs_ffree(d2));

	/* Unlimited: size=0, nr_inodes=0 show as 0. */
	fs_umount(d2);
	ASSERT_EQ(0, fs_mount(variant, d2, sizeof(self->dir2),
			      "size=0,nr_inodes=0"));
	ASSERT_EQ(0, statfs(d2, &s));
	EXPECT_EQ(0, (long)s.f_blocks);
	EXPECT_EQ(0, (long)s.f_files);
	fd = open(P(d2, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, pwrite(fd, "x", 1, 0));
	close(fd);
}

/* Make entries until ENOSPC; returns how many were made. */
static int make_until_full(const char *d, const char *prefix)
{
	char name[64];
	int i, fd;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "%s/%s%d", d, prefix, i);
		fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			return errno == ENOSPC ? i : -errno;
		close(fd);
	}
	return i;
}

TEST_F(fsm, nr_inodes)
{
	char *d2 = self->dir2;
	int fd;

	ASSERT_EQ(0, fs_mount(variant, d2, sizeof(self->dir2), "nr_inodes=8"));
	/* The root directory takes one. */
	EXPECT_EQ(7, make_until_full(d2, "f"));
	EXPECT_EQ(0, fs_ffree(d2));
	EXPECT_EQ(-1, open(P(d2, "x"), O_RDWR | O_CREAT, 0644));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, mkdir(P(d2, "x"), 0755));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, symlink("f0", P(d2, "x")));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, mkfifo(P(d2, "x"), 0644));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, open(d2, O_TMPFILE | O_RDWR, 0600));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, access(P(d2, "x"), F_OK));
	/* Existing files still work. */
	fd = open(P(d2, "f0"), O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(5, pwrite(fd, "hello", 5, 0));
	close(fd);
	/* Freeing one makes room for exactly one. */
	ASSERT_EQ(0, unlink(P(d2, "f3")));
	EXPECT_EQ(1, fs_ffree(d2));
	EXPECT_EQ(0, mkdir(P(d2, "dir"), 0755));
	EXPECT_EQ(0, make_until_full(d2, "g"));
	ASSERT_EQ(0, rmdir(P(d2, "dir")));
	EXPECT_EQ(1, make_until_full(d2, "h"));
	/* An open, unlinked file holds its inode until closed. */
	fd = open(P(d2, "h0"), O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, unlink(P(d2, "h0")));
	EXPECT_EQ(0, fs_ffree(d2));
	EXPECT_EQ(0, make_until_full(d2, "i"));
	close(fd);
	EXPECT_EQ(1, fs_ffree(d2));
	EXPECT_EQ(1, make_until_full(d2, "j"));
}

/*
 * Hard links: tmpfs counts each extra link against nr_inodes (each pins a
 * dentry), and gives it back on unlink.
 */
TEST_F(fsm, hard_link_inodes)
{
	char *d2 = self->dir2;

	ASSERT_EQ(0, fs_mount(variant, d2, sizeof(self->dir2), "nr_inodes=4"));
	ASSERT_EQ(0, mkfile(P(d2, "f"), 0644, 0, 0));
	EXPECT_EQ(2, fs_ffree(d2));
	EXPECT_EQ(0, link(P(d2, "f"), P(d2, "l1")));
	EXPECT_EQ(1, fs_ffree(d2));
	EXPECT_EQ(0, link(P(d2, "f"), P(d2, "l2")));
	EXPECT_EQ(0, fs_ffree(d2));
	EXPECT_EQ(-1, link(P(d2, "f"), P(d2, "l3")));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(0, unlink(P(d2, "l1")));
	EXPECT_EQ(1, fs_ffree(d2));
	EXPECT_EQ(0, unlink(P(d2, "l2")));
	EXPECT_EQ(0, unlink(P(d2, "f")));
	EXPECT_EQ(3, fs_ffree(d2));
}

/* ---- remount ---- */

static int remount(const char *dir, const char *opts)
{
	return mount(NULL, dir, NULL, MS_REMOUNT, opts);
}

static long fs_files(const char *dir)
{
	struct statfs s;

	return statfs(dir, &s) ? -1 : (long)s.f_files;
}

TEST_F(fsm, remount)
{
	char *d2 = self->dir2;
	struct stat st;
	int fd;

	ASSERT_EQ(0, fs_mount(variant, d2, sizeof(self->dir2),
			      "size=8M,nr_inodes=16"));
	fd = open(P(d2, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, 4 * MiB, 7));

	/* Below what is in use: EINVAL, nothing changes. */
	EXPECT_EQ(-1, remount(d2, "size=2M"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(8 * MiB, fs_total(d2));
	EXPECT_EQ(-1, remount(d2, "nr_inodes=1"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(16, fs_files(d2));
	/* One bad option refuses all of them. */
	EXPECT_EQ(-1, remount(d2, "size=32M,nr_inodes=1"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(8 * MiB, fs_total(d2));
	EXPECT_EQ(-1, remount(d2, "nr_inodes=32,size=2M"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(16, fs_files(d2));
	EXPECT_EQ(-1, remount(d2, "size=lots"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(8 * MiB, fs_total(d2));

	/* Down to exactly what is in use, then up. */
	EXPECT_EQ(0, remount(d2, "size=4M"));
	EXPECT_EQ(4 * MiB, fs_total(d2));
	EXPECT_EQ(0, fs_free(d2));
	EXPECT_EQ(-1, pwrite(fd, "x", 1, 4 * MiB));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(0, remount(d2, "size=16M,nr_inodes=2"));
	EXPECT_EQ(16 * MiB, fs_total(d2));
	EXPECT_EQ(12 * MiB, fs_free(d2));
	EXPECT_EQ(2, fs_files(d2));
	EXPECT_EQ(-1, open(P(d2, "g"), O_RDWR | O_CREAT, 0644));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(0, remount(d2, "nr_inodes=100"));
	EXPECT_EQ(1, pwrite(fd, "x", 1, 4 * MiB));
	/* Options not changed on remount are kept; mode is not changed. */
	EXPECT_EQ(0, remount(d2, "mode=0700"));
	ASSERT_EQ(0, stat(d2, &st));
	EXPECT_EQ(01777, st.st_mode & 07777);
	EXPECT_EQ(16 * MiB, fs_total(d2));
	EXPECT_EQ(100, fs_files(d2));
	/* The data survived all of it. */
	EXPECT_EQ(-1, pattern_check(fd, 0, 4 * MiB, 7));
	close(fd);
}

/*
 * Unlimited to limited: tmpfs refuses ("Cannot retroactively limit size"),
 * as it keeps no count of blocks or inodes while unlimited.  mpcg always
 * counts, so it can: a documented difference, the limit is still refused
 * below what is in use.
 */
TEST_F(fsm, remount_unlimited)
{
	char *d2 = self->dir2;

	ASSERT_EQ(0, fs_mount(variant, d2, sizeof(self->dir2), "size=8M"));
	ASSERT_EQ(0, mkfile(P(d2, "f"), 0644, 4 * MiB, 1));
	/* Limited to unlimited is allowed. */
	EXPECT_EQ(0, remount(d2, "size=0"));
	EXPECT_EQ(0, fs_total(d2));
	EXPECT_EQ(0, remount(d2, "nr_inodes=0"));
	EXPECT_EQ(0, fs_files(d2));
	ASSERT_EQ(0, mkfile(P(d2, "g"), 0644, 4 * MiB, 2));
	/* And back. */
	if (variant->mpcg) {
		EXPECT_EQ(-1, remount(d2, "size=4M"));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, remount(d2, "nr_inodes=2"));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(0, fs_total(d2));
		EXPECT_EQ(0, remount(d2, "size=16M"));
		EXPECT_EQ(16 * MiB, fs_total(d2));
		EXPECT_EQ(8 * MiB, fs_free(d2));
		EXPECT_EQ(0, remount(d2, "nr_inodes=10"));
		EXPECT_EQ(10, fs_files(d2));
		EXPECT_EQ(7, fs_ffree(d2));
	} else {
		EXPECT_EQ(-1, remount(d2, "size=16M"));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, remount(d2, "nr_inodes=10"));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(0, fs_total(d2));
	}
}

/* ---- sendfile, splice, copy_file_range ---- */

TEST_F(fsm, sendfile_splice)
{
	const char *d = self->dir;
	const long size = 2 * MiB + 5000;
	int src, dst, p[2], sv[2], tfd;
	unsigned char buf[8192];
	char tpath[] = "/tmp/fssem-src-XXXXXX";
	off_t off, off2;
	ssize_t n;
	long i;

	src = open(P(d, "src"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, src);
	ASSERT_EQ(0, pattern_fill(src, 0, size, 11));
	dst = open(P(d, "dst"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, dst);

	/* File to file, from an offset: the rest of the file. */
	off = 1000;
	ASSERT_EQ(1000, lseek(dst, 1000, SEEK_SET));
	n = sendfile(dst, src, &off, size);
	EXPECT_EQ(size - 1000, n);
	EXPECT_EQ(size, off);
	EXPECT_EQ(size, lseek(dst, 0, SEEK_CUR));
	EXPECT_EQ(0, lseek(src, 0, SEEK_CUR));	/* src position unused */
	EXPECT_EQ(size, file_size(P(d, "dst")));
	EXPECT_EQ(-1, pattern_check(dst, 0, 1000, 0));
	EXPECT_EQ(-1, pattern_check(dst, 1000, size - 1000, 11));
	/* At EOF: 0. */
	EXPECT_EQ(0, sendfile(dst, src, &off, 100));
	/* From the file position of src. */
	ASSERT_EQ(size - 10, lseek(src, size - 10, SEEK_SET));
	ASSERT_EQ(0, lseek(dst, 0, SEEK_SET));
	EXPECT_EQ(10, sendfile(dst, src, NULL, 100));
	EXPECT_EQ(size, lseek(src, 0, SEEK_CUR));
	ASSERT_EQ(10, pread(dst, buf, 10, 0));
	for (i = 0; i < 10; i++)
		EXPECT_EQ(pattern(size - 10 + i, 11), buf[i]);

	/* File -> pipe -> file with splice, at offsets. */
	ASSERT_EQ(0, pipe(p));
	off = 3 * 64 * KiB - 100;
	EXPECT_EQ(5000, splice(src, &off, p[1], NULL, 5000, 0));
	EXPECT_EQ(3 * 64 * KiB - 100 + 5000, off);
	off2 = 2 * MiB + 77;
	EXPECT_EQ(5000, splice(p[0], NULL, dst, &off2, 5000, 0));
	{
		off_t at = 2 * MiB + 77;

		ASSERT_EQ(5000, pread(dst, buf, 5000, at));
		for (i = 0; i < 5000; i++)
			if (buf[i] != pattern(3 * 64 * KiB - 100 + i, 11))
				break;
		EXPECT_EQ(5000, i);
	}
	close(p[0]);
	close(p[1]);

	/* To a socket. */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	off = 100;
	EXPECT_EQ(4000, sendfile(sv[0], src, &off, 4000));
	ASSERT_EQ(4000, mpcg_xfer(sv[1], buf, 4000, 0));
	for (i = 0; i < 4000; i++)
		if (buf[i] != pattern(100 + i, 11))
			break;
	EXPECT_EQ(4000, i);
	close(sv[0]);
	close(sv[1]);

	/* From another file system into this one. */
	tfd = mkstemp(tpath);
	ASSERT_LE(0, tfd);
	unlink(tpath);
	ASSERT_EQ(0, pattern_fill(tfd, 0, 70000, 13));
	off = 0;
	ASSERT_EQ(0, ftruncate(dst, 0));
	ASSERT_EQ(0, lseek(dst, 0, SEEK_SET));
	EXPECT_EQ(70000, sendfile(dst, tfd, &off, 70000));
	EXPECT_EQ(-1, pattern_check(dst, 0, 70000, 13));
	close(tfd);

	/* copy_file_range within the file system. */
	off = 50;
	off2 = 64 * KiB - 3;
	EXPECT_EQ(200000, copy_file_range(src, &off, dst, &off2, 200000, 0));
	{
		off_t at;

		for (at = 0; at < 200000; at += sizeof(buf)) {
			size_t k = 200000 - at < (off_t)sizeof(buf) ?
				   (size_t)(200000 - at) : sizeof(buf);

			ASSERT_EQ((ssize_t)k, pread(dst, buf, k,
						    64 * KiB - 3 + at));
			for (i = 0; i < (long)k; i++)
				if (buf[i] != pattern(50 + at + i, 11))
					break;
			ASSERT_EQ((long)k, i) TH_LOG("at %ld", (long)at + i);
		}
	}
	close(src);
	close(dst);
}

/* ---- fsync and friends ---- */

TEST_F(fsm, sync_calls)
{
	const char *d = self->dir;
	int fd, rfd, dfd;
	char *p;

	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, 3 * PG, 1));
	EXPECT_EQ(0, fsync(fd));
	EXPECT_EQ(0, fdatasync(fd));
	EXPECT_EQ(0, syncfs(fd));
	EXPECT_EQ(0, sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE |
				     SYNC_FILE_RANGE_WAIT_AFTER));
	p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[5] = 'm';
	EXPECT_EQ(0, msync(p, 3 * PG, MS_SYNC));
	EXPECT_EQ(0, msync(p, 3 * PG, MS_ASYNC));
	EXPECT_EQ(0, msync(p, 3 * PG, MS_INVALIDATE));
	EXPECT_EQ('m', p[5]);		/* MS_INVALIDATE loses nothing */
	munmap(p, 3 * PG);
	rfd = open(P(d, "f"), O_RDONLY);
	ASSERT_LE(0, rfd);
	EXPECT_EQ(0, fsync(rfd));
	close(rfd);
	dfd = open(d, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, dfd);
	EXPECT_EQ(0, fsync(dfd));
	close(dfd);
	{
		char c;

		EXPECT_EQ(1, pread(fd, &c, 1, 5));
		EXPECT_EQ('m', c);
	}
	close(fd);
}

/* ---- the size limit ---- */

TEST_F(fsm, enospc)
{
	char *d2 = self->dir2;
	unsigned char buf[8192];
	long gran = variant->gran;
	unsigned char *p;
	int fd, g;

	/* 4M: a multiple of every variant's unit. */
	ASSERT_EQ(0, fs_mount(variant, d2, sizeof(self->dir2), "size=4M"));
	fd = open(P(d2, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, 4 * MiB - 200, 3));
	EXPECT_EQ(0, fs_free(d2));
	memset(buf, 0xee, sizeof(buf));
	/* Crossing into space there is not: short. */
	EXPECT_EQ(200, pwrite(fd, buf, sizeof(buf), 4 * MiB - 200));
	EXPECT_EQ(4 * MiB, file_size(P(d2, "f")));
	EXPECT_EQ(-1, pwrite(fd, buf, 1, 4 * MiB));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, pwrite(fd, buf, 1, 16 * MiB));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(4 * MiB, file_size(P(d2, "f")));
	EXPECT_EQ(-1, fallocate(fd, 0, 4 * MiB, 1));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(4 * MiB, file_size(P(d2, "f")));
	/* Growing with ftruncate needs no space. */
	EXPECT_EQ(0, ftruncate(fd, 8 * MiB));

	/* Another file: created (an inode), but no data. */
	g = open(P(d2, "g"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, g);
	EXPECT_EQ(-1, pwrite(g, buf, 1, 0));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(0, file_size(P(d2, "g")));
	/* Touching a hole through a mapping: SIGBUS. */
	ASSERT_EQ(0, ftruncate(g, 4 * PG));
	p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, g, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(SIGBUS, write_sig(p));
	EXPECT_EQ(0, fd_blocks(g));

	/* Nothing was lost; all of it was counted. */
	EXPECT_EQ(-1, pattern_check(fd, 0, 4 * MiB - 200, 3));
	ASSERT_EQ(200, pread(fd, buf, 200, 4 * MiB - 200));
	EXPECT_EQ(0xee, buf[199]);
	EXPECT_EQ(4 * MiB / 512, fd_blocks(fd));

	/* Freeing space makes room again. */
	ASSERT_EQ(0, ftruncate(fd, 2 * MiB));
	EXPECT_EQ(2 * MiB, fs_free(d2));
	EXPECT_EQ(0, write_sig(p));
	EXPECT_EQ(0x5a, p[0]);
	ASSERT_EQ(0, pattern_fill(g, PG, 1 * MiB, 4));
	EXPECT_EQ(2 * MiB - units(gran, 0, 1 * MiB + PG), fs_free(d2));
	EXPECT_EQ(-1, pattern_check(fd, 0, 2 * MiB, 3));
	EXPECT_EQ(-1, pattern_check(g, PG, 1 * MiB, 4));
	munmap(p, 4 * PG);
	close(fd);
	close(g);
	ASSERT_EQ(0, unlink(P(d2, "f")));
	ASSERT_EQ(0, unlink(P(d2, "g")));
	EXPECT_EQ(4 * MiB, fs_free(d2));
}

/* fallocate past the limit: ENOSPC, and what it allocated is given back. */
TEST_F(fsm, enospc_fallocate)
{
	char *d2 = self->dir2;
	int fd;

	ASSERT_EQ(0, fs_mount(variant, d2, sizeof(self->dir2), "size=4M"));
	fd = open(P(d2, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, fallocate(fd, 0, 0, 8 * MiB));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(0, file_size(P(d2, "f")));
	EXPECT_EQ(0, fd_blocks(fd));
	EXPECT_EQ(4 * MiB, fs_free(d2));
	ASSERT_EQ(0, pattern_fill(fd, 0, 2 * MiB, 5));
	/* Partly possible: all or nothing. */
	EXPECT_EQ(-1, fallocate(fd, 0, 1 * MiB, 4 * MiB));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(2 * MiB, file_size(P(d2, "f")));
	EXPECT_EQ(2 * MiB / 512, fd_blocks(fd));
	EXPECT_EQ(2 * MiB, fs_free(d2));
	EXPECT_EQ(-1, pattern_check(fd, 0, 2 * MiB, 5));
	/* The same inside the file (a sparse one): all or nothing too. */
	ASSERT_EQ(0, ftruncate(fd, 8 * MiB));
	EXPECT_EQ(-1, fallocate(fd, 0, 2 * MiB, 4 * MiB));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(8 * MiB, file_size(P(d2, "f")));
	EXPECT_EQ(2 * MiB / 512, fd_blocks(fd));
	EXPECT_EQ(2 * MiB, fs_free(d2));
	EXPECT_EQ(-1, pattern_check(fd, 2 * MiB, 6 * MiB, 0));
	ASSERT_EQ(0, ftruncate(fd, 2 * MiB));
	/* Exactly the rest: fine. */
	EXPECT_EQ(0, fallocate(fd, 0, 2 * MiB, 2 * MiB));
	EXPECT_EQ(4 * MiB, file_size(P(d2, "f")));
	EXPECT_EQ(0, fs_free(d2));
	EXPECT_EQ(-1, pattern_check(fd, 0, 2 * MiB, 5));
	EXPECT_EQ(-1, pattern_check(fd, 2 * MiB, 2 * MiB, 0));
	close(fd);
}

/* ---- bad file descriptors and arguments ---- */

TEST_F(fsm, bad_calls)
{
	const char *d = self->dir;
	int fd, rfd, dfd;
	char buf[16];

	ASSERT_EQ(0, mkfile(P(d, "f"), 0644, 100, 1));
	ASSERT_EQ(0, mkdir(P(d, "dir"), 0755));
	dfd = open(P(d, "dir"), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, dfd);
	EXPECT_EQ(-1, ftruncate(dfd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, truncate(P(d, "dir"), 0));
	EXPECT_EQ(EISDIR, errno);
	EXPECT_EQ(-1, read(dfd, buf, sizeof(buf)));
	EXPECT_EQ(EISDIR, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PG, PROT_READ, MAP_SHARED, dfd, 0));
	EXPECT_EQ(ENODEV, errno);
	close(dfd);
	EXPECT_EQ(-1, open(P(d, "dir"), O_WRONLY));
	EXPECT_EQ(EISDIR, errno);
	EXPECT_EQ(-1, open(P(d, "f"), O_RDWR | O_CREAT | O_EXCL, 0644));
	EXPECT_EQ(EEXIST, errno);

	rfd = open(P(d, "f"), O_RDONLY);
	ASSERT_LE(0, rfd);
	EXPECT_EQ(-1, ftruncate(rfd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(rfd, "x", 1));
	EXPECT_EQ(EBADF, errno);
	close(rfd);
	fd = open(P(d, "f"), O_WRONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, read(fd, buf, 1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, ftruncate(fd, -1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pwrite(fd, "x", 1, -1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lseek(fd, -1, SEEK_SET));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(200, lseek(fd, 100, SEEK_END));
	close(fd);
	EXPECT_EQ(100, file_size(P(d, "f")));
	/* O_DIRECT: see the odirect test. */
	/* O_APPEND, and O_TRUNC that frees. */
	fd = open(P(d, "f"), O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(3, pwrite(fd, "end", 3, 0));	/* appends on Linux */
	close(fd);
	EXPECT_EQ(103, file_size(P(d, "f")));
	fd = open(P(d, "f"), O_RDWR | O_TRUNC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fd_blocks(fd));
	EXPECT_EQ(0, file_size(P(d, "f")));
	close(fd);
}

/* ---- writes that fail part way lose nothing ---- */

TEST_F(fsm, partial_writes)
{
	const char *d = self->dir;
	unsigned char *src, *p;
	long i;
	int fd;

	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, 3 * PG, 1));
	/* A source buffer whose second page is not readable. */
	src = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	for (i = 0; i < PG; i++)
		src[i] = pattern(i, 2);
	ASSERT_EQ(0, mprotect(src + PG, PG, PROT_NONE));

	/* Aligned: the first page is written, the write is short. */
	EXPECT_EQ(PG, pwrite(fd, src, 2 * PG, 0));
	EXPECT_EQ(-1, pattern_check(fd, PG, 2 * PG, 1));
	/* Unaligned, past EOF. */
	EXPECT_EQ(PG, pwrite(fd, src, 2 * PG, 3 * PG - 100));
	EXPECT_EQ(4 * PG - 100, file_size(P(d, "f")));
	EXPECT_EQ(-1, pattern_check(fd, PG, 2 * PG - 100, 1));
	/* Nothing readable: EFAULT, nothing changes, no size change. */
	EXPECT_EQ(-1, pwrite(fd, src + PG, 100, 10 * PG));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(4 * PG - 100, file_size(P(d, "f")));
	EXPECT_EQ(-1, pwrite(fd, src + PG, 100, 0));
	EXPECT_EQ(EFAULT, errno);
	{
		unsigned char b[PG];

		ASSERT_EQ(PG, pread(fd, b, PG, 0));
		EXPECT_EQ(0, memcmp(b, src, PG));
		ASSERT_EQ(PG, pread(fd, b, PG, 3 * PG - 100));
		EXPECT_EQ(0, memcmp(b, src, PG));
	}
	/* A read into an unwritable buffer: short, then EFAULT. */
	EXPECT_EQ(PG, pread(fd, src, 2 * PG, 0));
	EXPECT_EQ(-1, pread(fd, src + PG, 10, 0));
	EXPECT_EQ(EFAULT, errno);

	/* A write from a mapping of the same file, even the same pages. */
	p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(3 * PG, pwrite(fd, p, 3 * PG, 0));
	EXPECT_EQ(0, memcmp(p, src, PG));
	EXPECT_EQ(PG, pwrite(fd, p + PG, PG, 2 * PG));
	EXPECT_EQ(0, memcmp(p + PG, p + 2 * PG, PG));
	/* And from a mapping of a hole of the same file. */
	ASSERT_EQ(0, ftruncate(fd, 64 * PG));
	munmap(p, 4 * PG);
	p = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(PG, pwrite(fd, p + 40 * PG, PG, 0));
	EXPECT_EQ(-1, pattern_check(fd, 0, PG, 0));
	munmap(p, 64 * PG);
	munmap(src, 2 * PG);
	close(fd);
}

/* ---- mpcg only: the policy= option on remount ---- */

static int region_policy(const char *path)
{
	struct mpcg_region_stat st;
	int fd = open(path, O_RDONLY), r;

	if (fd < 0)
		return -1;
	r = mpcg_region_get_stat(fd, &st);
	close(fd);
	return r ? -1 : (int)st.policy;
}

/* The options of the mount on @dir, from /proc/self/mounts. */
static int mount_opts(const char *dir, char *out, size_t len)
{
	char buf[16384], *line;

	if (read_file("/proc/self/mounts", buf, sizeof(buf)) < 0)
		return -1;
	line = strstr(buf, dir);
	if (!line)
		return -1;
	line[strcspn(line, "\n")] = '\0';
	snprintf(out, len, "%s", line);
	return 0;
}

TEST(remount_policy)
{
	static const struct {
		const char *name;
		int policy;
	} pol[] = {
		{ "equal", MPCG_POLICY_EQUAL },
		{ "first-touch", MPCG_POLICY_FIRST_TOUCH },
		{ "owner", MPCG_POLICY_OWNER },
		{ "proportional", MPCG_POLICY_PROPORTIONAL },
	};
	char dir[64], opts[512], name[32], o[64];
	unsigned int i;

	ASSERT_EQ(0, mpcg_mount(dir, sizeof(dir), "size=8M,chunk=64k"));
	ASSERT_EQ(0, mkfile(P(dir, "old"), 0644, 100, 1));
	EXPECT_EQ(MPCG_POLICY_PROPORTIONAL, region_policy(P(dir, "old")));
	for (i = 0; i < sizeof(pol) / sizeof(pol[0]); i++) {
		snprintf(o, sizeof(o), "policy=%s", pol[i].name);
		EXPECT_EQ(0, remount(dir, o)) TH_LOG("%s: %s", o, strerror(errno));
		ASSERT_EQ(0, mount_opts(dir, opts, sizeof(opts)));
		EXPECT_NE(NULL, strstr(opts, o)) TH_LOG("%s", opts);
		/* Regions created from now on get it. */
		snprintf(name, sizeof(name), "new-%s", pol[i].name);
		ASSERT_EQ(0, mkfile(P(dir, name), 0644, 100, 1));
		EXPECT_EQ(pol[i].policy, region_policy(P(dir, name)));
		/* The other options stay. */
		EXPECT_EQ(8 * MiB, fs_total(dir));
	}
	/* A bad one is refused and changes nothing. */
	EXPECT_EQ(-1, remount(dir, "policy=fair"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, remount(dir, "size=16M,policy=fair"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(8 * MiB, fs_total(dir));
	ASSERT_EQ(0, mount_opts(dir, opts, sizeof(opts)));
	EXPECT_NE(NULL, strstr(opts, "policy=proportional")) TH_LOG("%s", opts);
	/* Existing regions: report only (what remount does to them is the
	 * kernel's documented choice). */
	ksft_print_msg("remount_policy: a region created before the remounts has policy %d\n",
		       region_policy(P(dir, "old")));
	fflush(stdout);
	for (i = 0; i < sizeof(pol) / sizeof(pol[0]); i++) {
		snprintf(name, sizeof(name), "new-%s", pol[i].name);
		unlink(P(dir, name));
	}
	unlink(P(dir, "old"));
	mpcg_umount(dir);
}

/* ---- futexes, madvise, mlock, mremap on shared mappings ---- */

static long futex(int *uaddr, int op, int val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

struct waiter {
	const char *path;
};

/* Child: its own mapping of the file; waits on word 0 while it is 0. */
static int futex_waiter(void *arg)
{
	struct waiter *w = arg;
	struct timespec ts = { 10, 0 };
	int fd = open(w->path, O_RDWR);
	int *q;

	if (fd < 0)
		return 1;
	q = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (q == MAP_FAILED)
		return 2;
	__atomic_store_n(&q[1], 1, __ATOMIC_SEQ_CST);	/* "waiting" */
	while (!__atomic_load_n(&q[0], __ATOMIC_SEQ_CST)) {
		if (futex(&q[0], FUTEX_WAIT, 0, &ts) && errno != EAGAIN)
			return errno == ETIMEDOUT ? 3 : errno;
	}
	return 0;
}

/*
 * Process-shared futexes in a file mapping (what process-shared pthread
 * mutexes, condition variables and POSIX semaphores in /dev/shm use): the
 * kernel keys them by inode and offset.
 */
TEST_F(fsm, futex_shared_mapping)
{
	struct waiter w = { P(self->dir, "f") };
	int fd, *p, status, i;
	pid_t pid;

	fd = open(w.path, O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, PG));
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* The value differs: EAGAIN, not EFAULT. */
	EXPECT_EQ(-1, futex(&p[0], FUTEX_WAIT, 1, NULL));
	EXPECT_EQ(EAGAIN, errno) TH_LOG("FUTEX_WAIT: %s", strerror(errno));
	EXPECT_EQ(0, futex(&p[0], FUTEX_WAKE, 1, NULL))
		TH_LOG("FUTEX_WAKE: %s", strerror(errno));
	/* A waiter in another process, through another mapping, is woken. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(futex_waiter(&w));
	for (i = 0; i < 1000 && !__atomic_load_n(&p[1], __ATOMIC_SEQ_CST); i++)
		usleep(10000);
	usleep(50000);			/* let it sleep in FUTEX_WAIT */
	__atomic_store_n(&p[0], 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < 500; i++) {
		futex(&p[0], FUTEX_WAKE, 1, NULL);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(10000);
	}
	if (i == 500) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("waiter: status %#x", status);
	munmap(p, PG);
	close(fd);
}

TEST_F(fsm, madvise_mlock_mremap)
{
	const char *d = self->dir;
	const long gran = variant->gran;
	const long len = 256 * KiB;
	unsigned char *p;
	long resident;
	int fd;

	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, len, 4));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	if (madvise(p, len, MADV_NORMAL) && errno == ENOSYS)
		goto no_madvise;	/* CONFIG_ADVISE_SYSCALLS=n */
	/* DONTNEED drops the page table entries only: the data stays. */
	EXPECT_EQ(0, madvise(p, 64 * KiB, MADV_DONTNEED));
	EXPECT_EQ(-1, check_mem(p, 0, 64 * KiB, 4));
	EXPECT_EQ(0, madvise(p, len, MADV_WILLNEED));
	EXPECT_EQ(0, madvise(p, len, MADV_POPULATE_WRITE));
	EXPECT_EQ(-1, madvise(p, len, MADV_FREE));	/* anonymous only */
	EXPECT_EQ(EINVAL, errno);
	/* REMOVE punches a hole: zeroes, whole units freed. */
	EXPECT_EQ(0, madvise(p + 64 * KiB, 64 * KiB, MADV_REMOVE))
		TH_LOG("MADV_REMOVE: %s", strerror(errno));
	resident = units(gran, 0, len) - whole_units(gran, 64 * KiB, 64 * KiB);
	EXPECT_EQ(resident / 512, fd_blocks(fd));
	EXPECT_EQ(-1, pattern_check(fd, 64 * KiB, 64 * KiB, 0));
	EXPECT_EQ(-1, pattern_check(fd, 128 * KiB, 128 * KiB, 4));
	EXPECT_EQ(-1, check_mem(p, 64 * KiB, 64 * KiB, 0));
no_madvise:
	/* mlock and munlock. */
	EXPECT_EQ(0, mlock(p, len)) TH_LOG("mlock: %s", strerror(errno));
	EXPECT_EQ(-1, check_mem(p, 0, 64 * KiB, 4));
	EXPECT_EQ(0, munlock(p, len));
	/* mremap to a larger size, after the file grew. */
	ASSERT_EQ(0, ftruncate(fd, 2 * len));
	p = mremap(p, len, 2 * len, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, p);
	p[2 * len - 1] = 'e';
	EXPECT_EQ(-1, check_mem(p, 128 * KiB, 128 * KiB, 4));
	{
		char c;

		ASSERT_EQ(1, pread(fd, &c, 1, 2 * len - 1));
		EXPECT_EQ('e', c);
	}
	munmap(p, 2 * len);
	close(fd);
}

/*
 * mremap of a shared mapping: growing in place where the address space
 * after it is free (without MREMAP_MAYMOVE, and with it), growing where it
 * is not (a move), shrinking; the data stays the file's throughout.
 */
TEST_F(fsm, mremap_grow_shrink)
{
	const char *d = self->dir;
	const long len = 64 * PG;
	unsigned char *base, *p, *q;
	int fd;

	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, 4 * len, 6));
	/* Room after the mapping: reserve, then map at the start. */
	base = mmap(NULL, 4 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, base);
	ASSERT_EQ(0, munmap(base, 4 * len));
	p = mmap(base, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p);
	EXPECT_EQ(-1, check_mem(p, 0, len, 6));
	/* In place, without permission to move. */
	q = mremap(p, len, 2 * len, 0);
	EXPECT_EQ(p, q) TH_LOG("mremap in place: %s", strerror(errno));
	if (q == MAP_FAILED)
		q = mremap(p, len, 2 * len, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, q);
	p = q;
	EXPECT_EQ(-1, check_mem(p, 0, 2 * len, 6));
	/* In place again, allowed to move. */
	q = mremap(p, 2 * len, 3 * len, MREMAP_MAYMOVE);
	EXPECT_EQ(p, q) TH_LOG("mremap may move: %s", strerror(errno));
	ASSERT_NE(MAP_FAILED, q);
	p = q;
	EXPECT_EQ(-1, check_mem(p, 0, 3 * len, 6));
	p[3 * len - 1] = 'z';
	/* No room: a move. */
	q = mmap(p + 3 * len, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(p + 3 * len, q);
	EXPECT_EQ(MAP_FAILED, mremap(p, 3 * len, 4 * len, 0));
	EXPECT_EQ(ENOMEM, errno);
	q = mremap(p, 3 * len, 4 * len, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, q) TH_LOG("mremap move: %s", strerror(errno));
	EXPECT_NE(p, q);
	munmap(p + 3 * len, PG);
	p = q;
	EXPECT_EQ('z', p[3 * len - 1]);
	EXPECT_EQ(-1, check_mem(p, 3 * len, len, 6));
	/* Shrink: stays where it is, the rest is gone. */
	q = mremap(p, 4 * len, len, 0);
	EXPECT_EQ(p, q);
	EXPECT_EQ(-1, check_mem(p, 0, len, 6));
	munmap(p, len);
	close(fd);
}

/* ---- extras: SEEK_DATA/SEEK_HOLE, xattrs ---- */

/*
 * tmpfs reports holes (pages never written); mpcg holes are whole chunks
 * (by design), so offsets are compared rounded to the variant's unit.
 */
TEST_F(fsm, seek_data_hole)
{
	const char *d = self->dir;
	const long gran = variant->gran;
	const long size = 8 * 2 * MiB;
	const long data = 3 * 2 * MiB + 12345;
	int fd;

	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, size));
	ASSERT_EQ(1, pwrite(fd, "d", 1, data));
	EXPECT_EQ(data / gran * gran, lseek(fd, 0, SEEK_DATA));
	EXPECT_EQ((data / gran + 1) * gran, lseek(fd, data, SEEK_HOLE));
	EXPECT_EQ(0, lseek(fd, 0, SEEK_HOLE));
	EXPECT_EQ(-1, lseek(fd, data + gran, SEEK_DATA));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, lseek(fd, size, SEEK_DATA));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, lseek(fd, size, SEEK_HOLE));
	EXPECT_EQ(ENXIO, errno);
	close(fd);
}

/*
 * st_blksize is the unit of SEEK_HOLE and SEEK_DATA, as programs that
 * look for holes assume (fstests' seek_sanity_test takes it as the
 * allocation size): a page on tmpfs, a chunk on mpcg.  One unit of data
 * at the start of a file of four units leaves a hole at the second, and a
 * byte in the third is data from the start of that unit.
 */
TEST_F(fsm, seek_blksize)
{
	const char *d = self->dir;
	struct stat st;
	long bs;
	int fd;

	fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	bs = st.st_blksize;
	EXPECT_EQ(variant->gran, bs);
	ASSERT_EQ(0, ftruncate(fd, 4 * bs));
	ASSERT_EQ(0, pattern_fill(fd, 0, bs, 1));
	EXPECT_EQ(0, lseek(fd, 0, SEEK_DATA));
	EXPECT_EQ(bs, lseek(fd, 0, SEEK_HOLE));
	EXPECT_EQ(bs, lseek(fd, bs / 2, SEEK_HOLE));
	EXPECT_EQ(-1, lseek(fd, bs, SEEK_DATA));
	EXPECT_EQ(ENXIO, errno);
	ASSERT_EQ(1, pwrite(fd, "d", 1, 2 * bs + 100));
	EXPECT_EQ(2 * bs, lseek(fd, bs, SEEK_DATA));
	EXPECT_EQ(3 * bs, lseek(fd, 2 * bs, SEEK_HOLE));
	/* The same unit for a new file and after the file grew. */
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(bs, st.st_blksize);
	close(fd);
	ASSERT_EQ(0, stat(P(d, "f"), &st));
	EXPECT_EQ(bs, st.st_blksize);
}

/* ---- file handles ---- */

/* The handle of @path (malloc()ed), or NULL with errno set. */
static struct file_handle *handle_of(const char *path)
{
	struct file_handle *fh;
	int mount_id, e;

	fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
	if (!fh)
		return NULL;
	fh->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, fh, &mount_id, 0)) {
		e = errno;
		free(fh);
		errno = e;
		return NULL;
	}
	return fh;
}

/* The inode number of what open_by_handle_at() opens, or -errno. */
static long open_handle_ino(int mfd, struct file_handle *fh, int flags)
{
	struct stat st;
	int fd, e;

	fd = open_by_handle_at(mfd, fh, flags);
	if (fd < 0)
		return -errno;
	e = fstat(fd, &st) ? -errno : 0;
	close(fd);
	return e ? e : (long)st.st_ino;
}

/*
 * name_to_handle_at() and open_by_handle_at(), as on tmpfs: a handle opens
 * its file or directory, after a rename too and while an unlinked file is
 * still open, and is stale (ESTALE) once the file is gone and once the
 * directory was removed.  A handle made up from another is stale too.
 */
TEST_F(fsm, file_handles)
{
	const char *d = self->dir;
	struct file_handle *fh, *dh, small = { .handle_bytes = 0 };
	int mfd, fd, mount_id;
	long fino, dino;
	char buf[8];
	unsigned int i;

	ASSERT_EQ(0, write_str(P(d, "f"), "hello"));
	ASSERT_EQ(0, mkdir(P(d, "sub"), 0755));
	fino = ino(P(d, "f"));
	dino = ino(P(d, "sub"));
	mfd = open(d, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, mfd);

	/* Too small a buffer: EOVERFLOW and the size it needs. */
	EXPECT_EQ(-1, name_to_handle_at(AT_FDCWD, P(d, "f"), &small,
					&mount_id, 0));
	EXPECT_EQ(EOVERFLOW, errno);
	EXPECT_LT(0, small.handle_bytes);

	fh = handle_of(P(d, "f"));
	ASSERT_NE(NULL, fh) TH_LOG("name_to_handle_at: %s", strerror(errno));
	EXPECT_EQ(small.handle_bytes, fh->handle_bytes);
	dh = handle_of(P(d, "sub"));
	ASSERT_NE(NULL, dh) TH_LOG("name_to_handle_at: %s", strerror(errno));

	fd = open_by_handle_at(mfd, fh, O_RDWR);
	ASSERT_LE(0, fd) TH_LOG("open_by_handle_at: %s", strerror(errno));
	ASSERT_EQ(5, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ(2, pwrite(fd, "HE", 2, 0));
	close(fd);
	EXPECT_EQ(dino, open_handle_ino(mfd, dh, O_RDONLY | O_DIRECTORY));

	/* Renamed into the directory: the same handles. */
	ASSERT_EQ(0, rename(P(d, "f"), P(d, "sub/g")));
	EXPECT_EQ(fino, open_handle_ino(mfd, fh, O_RDONLY));
	ASSERT_EQ(0, link(P(d, "sub/g"), P(d, "h")));
	ASSERT_EQ(0, unlink(P(d, "sub/g")));
	EXPECT_EQ(fino, open_handle_ino(mfd, fh, O_RDONLY));

	/* A handle with every byte changed names no file. */
	{
		struct file_handle *bad = handle_of(P(d, "h"));

		ASSERT_NE(NULL, bad);
		for (i = 0; i < bad->handle_bytes; i++)
			bad->f_handle[i] ^= 0xff;
		EXPECT_EQ(-ESTALE, open_handle_ino(mfd, bad, O_RDONLY));
		free(bad);
	}

	/* Unlinked while open: it opens; once closed, it is stale. */
	fd = open(P(d, "h"), O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, unlink(P(d, "h")));
	EXPECT_EQ(fino, open_handle_ino(mfd, fh, O_RDONLY));
	close(fd);
	EXPECT_EQ(-ESTALE, open_handle_ino(mfd, fh, O_RDONLY));

	ASSERT_EQ(0, rmdir(P(d, "sub")));
	EXPECT_EQ(-ESTALE, open_handle_ino(mfd, dh, O_RDONLY | O_DIRECTORY));
	free(dh);
	free(fh);
	close(mfd);
}

/*
 * Whether a fresh tmpfs of this kernel lets a file be opened with O_DIRECT:
 * 0 if it does, else the errno (EINVAL before 6.6, which added buffered
 * I/O for O_DIRECT to tmpfs).
 */
static int tmpfs_odirect(void)
{
	char dir[] = "/tmp/fssem-odirect-XXXXXX", path[64];
	int err = -1, fd;

	if (!mkdtemp(dir))
		return -1;
	if (!mount("tmpfs", dir, "tmpfs", 0, "size=1M")) {
		snprintf(path, sizeof(path), "%s/f", dir);
		fd = open(path, O_RDWR | O_CREAT | O_DIRECT, 0644);
		err = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		umount(dir);
	}
	rmdir(dir);
	return err;
}

/* A "Name:  N kB" line of /proc/self/status, in bytes; -1 if none. */
static long status_bytes(const char *name)
{
	char line[256];
	size_t len = strlen(name);
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':')
			kb = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

/*
 * What a process maps of a file counts in its RSS as on tmpfs: in VmRSS
 * and RssShmem (which the OOM killer's badness reads too), at once, also
 * with 2 MiB chunks mapped whole on one fault.
 */
TEST_F(fsm, rss_counts_mappings)
{
	const long len = 32 * MiB;
	long rss0, shmem0, rss, shmem, i;
	volatile unsigned char *p;
	unsigned long sum = 0;
	int fd;

	fd = open(P(self->dir, "f"), O_RDWR | O_CREAT, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pattern_fill(fd, 0, len, 3));
	rss0 = status_bytes("VmRSS");
	shmem0 = status_bytes("RssShmem");
	ASSERT_LE(0, rss0);
	ASSERT_LE(0, shmem0);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < len; i += PG)
		sum += p[i];
	rss = status_bytes("VmRSS");
	shmem = status_bytes("RssShmem");
	TH_LOG("%s: VmRSS +%ld KiB, RssShmem +%ld KiB (checksum %lu)",
	       variant->type, (rss - rss0) / 1024, (shmem - shmem0) / 1024, sum);
	/*
	 * 6.1 counts a task's faults in the task and flushes them into the mm
	 * every 64 faults: up to 63 faults' pages (4 MiB with tmpfs's
	 * 64 KiB fault-around) may not show yet, on tmpfs as on mpcg.
	 */
	EXPECT_LE(len - len / 4, rss - rss0);
	EXPECT_LE(len - len / 4, shmem - shmem0);
	munmap((void *)p, len);
	EXPECT_GT(len / 8, status_bytes("RssShmem") - shmem0);
	close(fd);
}

/*
 * O_DIRECT, on open() and by fcntl(F_SETFL): what tmpfs of this kernel
 * answers.  Where it is accepted, I/O through the descriptor is ordinary
 * (buffered) I/O with the same data as without it.
 */
TEST_F(fsm, odirect)
{
	const char *d = self->dir;
	int want = tmpfs_odirect();
	unsigned char *buf;
	int fd, fd2, i;

	ASSERT_LE(0, want);
	ASSERT_EQ(0, posix_memalign((void **)&buf, PG, 2 * PG));
	fd = open(P(d, "f"), O_RDWR | O_CREAT | O_DIRECT, 0644);
	if (want) {
		EXPECT_EQ(-1, fd);
		EXPECT_EQ(want, errno);
		/* Not on an open descriptor either, and it stays as it was. */
		fd = open(P(d, "f"), O_RDWR | O_CREAT, 0644);
		ASSERT_LE(0, fd);
		EXPECT_EQ(-1, fcntl(fd, F_SETFL, O_DIRECT));
		EXPECT_EQ(want, errno);
		EXPECT_EQ(0, fcntl(fd, F_GETFL) & O_DIRECT);
		close(fd);
		free(buf);
		return;
	}
	TH_LOG("tmpfs on this kernel accepts O_DIRECT");
	ASSERT_LE(0, fd);
	EXPECT_EQ(O_DIRECT, fcntl(fd, F_GETFL) & O_DIRECT);
	for (i = 0; i < 2 * PG; i++)
		buf[i] = i * 7 + 1;
	EXPECT_EQ(2 * PG, pwrite(fd, buf, 2 * PG, PG));
	/* Unaligned too: tmpfs does buffered I/O for O_DIRECT. */
	EXPECT_EQ(3, pwrite(fd, "abc", 3, 1));
	fd2 = open(P(d, "f"), O_RDWR);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, fcntl(fd2, F_SETFL, O_DIRECT));
	EXPECT_EQ(O_DIRECT, fcntl(fd2, F_GETFL) & O_DIRECT);
	memset(buf, 0, 2 * PG);
	EXPECT_EQ(2 * PG, pread(fd2, buf, 2 * PG, PG));
	for (i = 0; i < 2 * PG; i++)
		if (buf[i] != (unsigned char)(i * 7 + 1))
			break;
	EXPECT_EQ(2 * PG, i);
	EXPECT_EQ(3 * PG, file_size(P(d, "f")));
	EXPECT_EQ(4, pread(fd2, buf, 4, 0));
	EXPECT_EQ(0, memcmp(buf, "\0abc", 4));
	close(fd2);
	close(fd);
	free(buf);
}

/*
 * What a fresh tmpfs of this kernel answers to setting a trusted.* and a
 * user.* extended attribute: 0 or the errno (tmpfs has trusted.* and
 * security.* with CONFIG_TMPFS_XATTR, user.* not before 6.6).
 */
static void tmpfs_xattrs(int *trusted, int *user)
{
	char dir[] = "/tmp/fssem-xattr-XXXXXX", path[64];

	*trusted = *user = -1;
	if (!mkdtemp(dir))
		return;
	if (!mount("tmpfs", dir, "tmpfs", 0, "size=1M")) {
		snprintf(path, sizeof(path), "%s/f", dir);
		if (!mkfile(path, 0644, 0, 0)) {
			*trusted = setxattr(path, "trusted.mpcg", "v1", 2, 0) ?
				   errno : 0;
			*user = setxattr(path, "user.mpcg", "v1", 2, 0) ?
				errno : 0;
		}
		umount(dir);
	}
	rmdir(dir);
}

/* Extended attributes: whatever tmpfs of this kernel supports. */
TEST_F(fsm, xattrs)
{
	const char *d = self->dir;
	int trusted, user;
	char buf[64];

	tmpfs_xattrs(&trusted, &user);
	ASSERT_LE(0, trusted);
	ASSERT_EQ(0, mkfile(P(d, "f"), 0644, 0, 0));
	if (variant->mpcg) {
		/* A documented difference: mpcg has no extended attributes. */
		EXPECT_EQ(-1, setxattr(P(d, "f"), "trusted.mpcg", "v1", 2, 0));
		EXPECT_EQ(EOPNOTSUPP, errno);
		EXPECT_EQ(-1, setxattr(P(d, "f"), "user.mpcg", "v1", 2, 0));
		EXPECT_EQ(EOPNOTSUPP, errno);
		return;
	}
	if (!trusted) {
		EXPECT_EQ(0, setxattr(P(d, "f"), "trusted.mpcg", "v1", 2, 0))
			TH_LOG("trusted.*: %s (tmpfs has them)", strerror(errno));
		EXPECT_EQ(2, getxattr(P(d, "f"), "trusted.mpcg", buf,
				      sizeof(buf)));
		EXPECT_EQ(0, removexattr(P(d, "f"), "trusted.mpcg"));
	} else {
		EXPECT_EQ(-1, setxattr(P(d, "f"), "trusted.mpcg", "v1", 2, 0));
		EXPECT_EQ(trusted, errno);
	}
	if (user) {
		EXPECT_EQ(-1, setxattr(P(d, "f"), "user.mpcg", "v1", 2, 0));
		EXPECT_EQ(user, errno);
	} else {
		EXPECT_EQ(0, setxattr(P(d, "f"), "user.mpcg", "v1", 2, 0));
	}
}

/* ---- by-design differences: each variant's own result ---- */

/* @path's inode flags, or -1 with errno. */
static int get_flags(const char *path)
{
	int fd = open(path, O_RDONLY), flags = -1, ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, FS_IOC_GETFLAGS, &flags);
	close(fd);
	return ret ? -1 : flags;
}

/* Set @path's inode flags: 0, or -1 with errno. */
static int set_flags(const char *path, int flags)
{
	int fd = open(path, O_RDONLY), ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	close(fd);
	return ret;
}

/* statx's stx_attributes of @path, with @mask set to stx_attributes_mask. */
static unsigned long long attributes(const char *path,
				     unsigned long long *mask)
{
	struct statx stx;

	memset(&stx, 0, sizeof(stx));
	if (statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx))
		return ~0ULL;
	*mask = stx.stx_attributes_mask;
	return stx.stx_attributes;
}

/*
 * Inode flags (chattr/lsattr), as tmpfs keeps them: immutable, append-only,
 * nodump and noatime, reported by statx, enforced by the VFS, nodump and
 * noatime inherited from the directory.  tmpfs has them only with
 * CONFIG_TMPFS_XATTR (as its trusted.* attributes; the debug kernel has
 * neither): there its ioctls are ENOTTY.
 */
TEST_F(fsm, inode_flags)
{
	const unsigned long long all = STATX_ATTR_IMMUTABLE |
				       STATX_ATTR_APPEND | STATX_ATTR_NODUMP;
	const char *f = P(self->dir, "f"), *d = P(self->dir, "d");
	unsigned long long mask;
	int fd, trusted, user;
	char buf[8];

	tmpfs_xattrs(&trusted, &user);
	ASSERT_LE(0, trusted);
	ASSERT_EQ(0, mkfile(f, 0644, 0, 0));
	if (!variant->mpcg && trusted) {
		EXPECT_EQ(-1, get_flags(f));
		EXPECT_EQ(ENOTTY, errno);
		return;
	}
	EXPECT_EQ(0, get_flags(f)) TH_LOG("FS_IOC_GETFLAGS: %s", strerror(errno));
	/* A flag neither keeps: refused, nothing changed. */
	EXPECT_EQ(-1, set_flags(f, FS_COMPR_FL | FS_NODUMP_FL));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(0, get_flags(f));
	EXPECT_EQ(0, attributes(f, &mask));
	EXPECT_EQ(all, mask & all);

	ASSERT_EQ(0, set_flags(f, FS_NOATIME_FL | FS_NODUMP_FL));
	EXPECT_EQ(FS_NOATIME_FL | FS_NODUMP_FL, get_flags(f));
	EXPECT_EQ(STATX_ATTR_NODUMP, attributes(f, &mask) & all);

	/* Append-only: writes only at the end, no truncation, no unlink. */
	ASSERT_EQ(0, set_flags(f, FS_APPEND_FL));
	EXPECT_EQ(STATX_ATTR_APPEND, attributes(f, &mask) & all);
	EXPECT_EQ(-1, open(f, O_WRONLY));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, truncate(f, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, unlink(f));
	EXPECT_EQ(EPERM, errno);
	fd = open(f, O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd) TH_LOG("open(O_APPEND): %s", strerror(errno));
	EXPECT_EQ(3, pwrite(fd, "abc", 3, 0));
	EXPECT_EQ(1, pwrite(fd, "d", 1, 0));
	EXPECT_EQ(-1, ftruncate(fd, 1));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
				   fd, 0));
	close(fd);

	/* Immutable: readable, nothing else. */
	ASSERT_EQ(0, set_flags(f, FS_IMMUTABLE_FL));
	EXPECT_EQ(STATX_ATTR_IMMUTABLE, attributes(f, &mask) & all);
	EXPECT_EQ(-1, open(f, O_RDWR));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, chmod(f, 0600));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, rename(f, P(self->dir, "g")));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, link(f, P(self->dir, "g")));
	EXPECT_EQ(EPERM, errno);
	fd = open(f, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(4, pread(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "abcd", 4));
	close(fd);
	ASSERT_EQ(0, set_flags(f, 0));
	EXPECT_EQ(0, attributes(f, &mask) & all);
	EXPECT_EQ(0, unlink(f));

	/* A directory's nodump and noatime go to what is created in it. */
	ASSERT_EQ(0, mkdir(d, 0755));
	ASSERT_EQ(0, set_flags(d, FS_NODUMP_FL | FS_NOATIME_FL | FS_APPEND_FL));
	EXPECT_EQ(all & ~STATX_ATTR_IMMUTABLE, attributes(d, &mask) & all);
	ASSERT_EQ(0, mkfile(P(self->dir, "d/f"), 0644, 0, 0));
	EXPECT_EQ(FS_NODUMP_FL | FS_NOATIME_FL, get_flags(P(self->dir, "d/f")));
	/* An append-only directory: entries are added, not removed. */
	EXPECT_EQ(-1, unlink(P(self->dir, "d/f")));
	EXPECT_EQ(EPERM, errno);
	ASSERT_EQ(0, set_flags(d, 0));
	EXPECT_EQ(0, unlink(P(self->dir, "d/f")));
}

/* statx: tmpfs reports a birth time (STATX_BTIME), mpcg does not. */
TEST_F(fsm, statx_btime)
{
	struct statx stx;
	struct timespec t0;

	ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &t0));
	ASSERT_EQ(0, mkfile(P(self->dir, "f"), 0644, 10, 1));
	memset(&stx, 0, sizeof(stx));
	ASSERT_EQ(0, statx(AT_FDCWD, P(self->dir, "f"), 0,
			   STATX_BASIC_STATS | STATX_BTIME, &stx));
	EXPECT_EQ(STATX_BASIC_STATS, stx.stx_mask & STATX_BASIC_STATS);
	EXPECT_EQ(10, stx.stx_size);
	if (variant->mpcg) {
		EXPECT_EQ(0, stx.stx_mask & STATX_BTIME);
	} else {
		EXPECT_EQ(STATX_BTIME, stx.stx_mask & STATX_BTIME);
		/* The creation time: from about now (a second of slack). */
		EXPECT_LE(t0.tv_sec - 1, stx.stx_btime.tv_sec);
		EXPECT_GE(stx.stx_mtime.tv_sec, stx.stx_btime.tv_sec);
	}
}

/*
 * tmpfs options mpcg does not have: mounting or remounting with one is
 * EINVAL on mpcg.  tmpfs takes mpol= only on a NUMA kernel.
 */
TEST_F(fsm, tmpfs_only_options)
{
	static const char *const opts[] = {
		"huge=never", "mpol=default", "nr_blocks=1024", "inode32",
		"inode64",
	};
	int numa = !access("/sys/devices/system/node", F_OK);
	unsigned int i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		int ok = !variant->mpcg &&
			 (strncmp(opts[i], "mpol=", 5) || numa);
		int ret = fs_mount(variant, self->dir2, sizeof(self->dir2),
				   opts[i]);

		if (ok) {
			EXPECT_EQ(0, ret) TH_LOG("mount -o %s: %s", opts[i],
						 strerror(errno));
		} else {
			EXPECT_EQ(-1, ret) TH_LOG("mount -o %s worked", opts[i]);
			EXPECT_EQ(EINVAL, errno) TH_LOG("mount -o %s", opts[i]);
		}
		fs_umount(self->dir2);
		/* Remounting the test's mount with it: the same answer. */
		ret = remount(self->dir, opts[i]);
		if (ok) {
			EXPECT_EQ(0, ret) TH_LOG("remount -o %s: %s", opts[i],
						 strerror(errno));
		} else {
			EXPECT_EQ(-1, ret) TH_LOG("remount -o %s worked", opts[i]);
			EXPECT_EQ(EINVAL, errno) TH_LOG("remount -o %s", opts[i]);
		}
	}
	/* The mount still works. */
	EXPECT_EQ(0, mkfile(P(self->dir, "f"), 0644, 4096, 3));
}

/* Child: mount a @type file system on @dir in a new user namespace. */
static int userns_mount(const char *type, const char *dir)
{
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
		return 100 + (errno == EPERM);
	/* root in it is root outside (no privilege is needed for that). */
	if (write_file("/proc/self/setgroups", "deny") ||
	    write_file("/proc/self/uid_map", "0 0 1") ||
	    write_file("/proc/self/gid_map", "0 0 1"))
		return 102;
	if (mount(type, dir, type, 0, "size=1M"))
		return errno;
	umount2(dir, MNT_DETACH);
	return 0;
}

/*
 * A user namespace's root may mount tmpfs (FS_USERNS_MOUNT), not mpcg:
 * its memory is charged to the cgroups that use it, which such a mounter
 * does not control (docs/filesystem.md).
 */
TEST_F(fsm, user_namespace_mount)
{
	char dir[] = "/tmp/fssem-userns-XXXXXX";
	int status;
	pid_t pid;

	ASSERT_NE(NULL, mkdtemp(dir));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(userns_mount(variant->type, dir));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	rmdir(dir);
	ASSERT_TRUE(WIFEXITED(status));
	/* EPERM: a chrooted process (as in the test VM) may not make one. */
	if (WEXITSTATUS(status) == 101)
		SKIP(return, "unshare(CLONE_NEWUSER): EPERM (chrooted?)");
	if (WEXITSTATUS(status) == 100)
		SKIP(return, "unshare(CLONE_NEWUSER) failed: no user namespaces");
	ASSERT_NE(102, WEXITSTATUS(status)) TH_LOG("cannot write the id maps");
	if (variant->mpcg) {
		EXPECT_EQ(EPERM, WEXITSTATUS(status));
	} else {
		EXPECT_EQ(0, WEXITSTATUS(status))
			TH_LOG("mount: %s", strerror(WEXITSTATUS(status)));
	}
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * The known scenario of trace_test.sh: a fixed sequence of region events
 * whose tracepoints (and the bpftrace scripts in tools/bpftrace/) the test
 * checks.  Not a test itself: it is built into build/selftests-helpers/, out
 * of the directory selftests/run.sh runs every program of.
 *
 *   trace_scenario [--shortfall] [--mpcgctl MPCGCTL] DIR CGROUP_A CGROUP_B
 *
 * DIR is an mpcg mount with chunk=1M, CGROUP_A and CGROUP_B two memory
 * cgroups (cgroup2 directories); the automatic reassessment should be off.
 *  1. A child in CGROUP_A creates DIR/region and write()s 16 MiB to it: 16
 *     chunks allocated by write(), charged to A.  It then extends the file
 *     to 20 MiB with ftruncate() (a hole: nothing allocated) and keeps it
 *     open.
 *  2. A child in CGROUP_B mmap()s all 20 MiB and writes a byte to every
 *     page: both touched chunks 0-15, and B's page faults allocate chunks
 *     16-19 (the hole), charged to B.  It keeps the mapping.
 *     --mpcgctl: runs "MPCGCTL members -rn -o CGROUP,ID,SLOT DIR/region"
 *     and prints its lines prefixed with "mpcgctl ".
 *  2b. The file is truncated back to 16 MiB: chunks 16-19 are freed, paid
 *     by B.
 *  3. --shortfall only: B's memory.max is set to its memory.current plus
 *     512 KiB, less than a chunk; a reassessment (MPCG_IOC_REASSESS, on an
 *     fd of this process, which is not a member) cannot move B's 8 chunks to
 *     it: mpcg_shortfall events.  memory.max is set back to "max".
 *  4. Reassessment: the chunks A pays beyond its share move to B (8 moves).
 *  5. B's child exits (B leaves); reassessment: 8 moves from B to A.
 *  6. A's child exits (A leaves); DIR/region is unlinked: the region is
 *     destroyed and its 16 chunks freed.
 *
 * Prints what it did as "key=value" lines for the test to compare the
 * trace with; exits 0 if every step worked, 1 (with a message) if not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmpcg.h"

#define MiB		(1024L * 1024L)
#define FILE_SIZE	(16 * MiB)
#define HOLE_SIZE	(4 * MiB)	/* beyond FILE_SIZE: B's faults fill it */

static const char *cg_b;

static void die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	fprintf(stderr, "trace_scenario: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(e));
	if (cg_b) {	/* never leave B limited */
		char path[4096];
		int fd;

		snprintf(path, sizeof(path), "%s/memory.max", cg_b);
		fd = open(path, O_WRONLY);
		if (fd >= 0) {
			if (write(fd, "max", 3) < 0)
				perror("memory.max");
			close(fd);
		}
	}
	exit(1);
}

static void write_str(const char *dir, const char *name, const char *s)
{
	char path[4096];
	ssize_t n = strlen(s);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, s, n) != n || close(fd))
		die("writing %s to %s", s, path);
}

static long read_long(const char *dir, const char *name)
{
	char path[4096], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		die("read %s", path);
	close(fd);
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

struct child {
	pid_t pid;
	int cmd;	/* write end: a byte or EOF tells it to exit */
	int ready;	/* read end: it writes a byte when it is set up */
};

/*
 * Fork a child that enters @cg, runs @setup(@arg), reports ready and then
 * waits for the word to exit (or for this process to go).
 */
static void spawn(struct child *c, const char *cg, void (*setup)(const char *),
		  const char *arg)
{
	int cmd[2], ready[2];
	char x = 0;

	if (pipe(cmd) || pipe(ready))
		die("pipe");
	c->pid = fork();
	if (c->pid < 0)
		die("fork");
	if (c->pid == 0) {
		close(cmd[1]);
		close(ready[0]);
		write_str(cg, "cgroup.procs", "0");
		setup(arg);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		if (read(cmd[0], &x, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(cmd[0]);
	close(ready[1]);
	c->cmd = cmd[1];
	c->ready = ready[0];
	if (read(c->ready, &x, 1) != 1) {
		errno = EPROTO;
		die("child in %s failed", cg);
	}
}

static void stop(struct child *c, const char *name)
{
	int status;

	close(c->cmd);
	if (waitpid(c->pid, &status, 0) != c->pid)
		die("waitpid %s", name);
	close(c->ready);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = EPROTO;
		die("child %s: status %#x", name, status);
	}
}

/* A: create the file and write all of it. */
static void setup_a(const char *path)
{
	static char buf[MiB];
	long off;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		die("create %s", path);
	for (off = 0; off < FILE_SIZE; off += MiB) {
		memset(buf, (int)(off / MiB) + 1, sizeof(buf));
		if (pwrite(fd, buf, MiB, off) != MiB)
			die("write %s", path);
	}
	if (ftruncate(fd, FILE_SIZE + HOLE_SIZE))
		die("ftruncate %s", path);
	/* fd stays open: A's attachment */
}

/* B: map the file, hole included, and write a byte of every page. */
static void setup_b(const char *path)
{
	volatile unsigned char *p;
	long off;
	int fd;

	fd = open(path, O_RDWR);
	if (fd < 0)
		die("open %s", path);
	p = mmap(NULL, FILE_SIZE + HOLE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap %s", path);
	close(fd);	/* the fd was only used to map: not an attachment */
	for (off = 0; off < FILE_SIZE + HOLE_SIZE; off += 4096)
		p[off] = p[off] + 1;
	/* the mapping stays: B's attachment */
}

static int nr_reassess;

static void reassess(int fd)
{
	struct mpcg_reassess r;

	if (mpcg_region_reassess(fd, &r))
		die("MPCG_IOC_REASSESS");
	printf("reassess n=%d chunks_moved=%llu bytes_moved=%llu shortfall=%llu state=%u\n",
	       ++nr_reassess, (unsigned long long)r.chunks_moved,
	       (unsigned long long)r.bytes_moved,
	       (unsigned long long)r.shortfall_bytes, r.state);
	fflush(stdout);
}

static void print_members(int fd)
{
	struct mpcg_member_info *m;
	ssize_t i, n = mpcg_region_members(fd, &m);

	if (n < 0)
		die("MPCG_IOC_MEMBERS");
	for (i = 0; i < n; i++)
		printf("member cgroup=%llu slot=%u flags=%u\n",
		       (unsigned long long)m[i].cgroup_id, m[i].id,
		       m[i].flags);
	free(m);
}

/* Print what "mpcgctl members" says of @path, each line prefixed. */
static void mpcgctl_members(const char *mpcgctl, const char *path)
{
	char cmd[8192], line[4096];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' members -rn -o CGROUP,ID,SLOT '%s'",
		 mpcgctl, path);
	fflush(stdout);
	f = popen(cmd, "r");
	if (!f)
		die("popen %s", cmd);
	while (fgets(line, sizeof(line), f))
		printf("mpcgctl %s", line);
	if (pclose(f)) {
		errno = EPROTO;
		die("%s failed", cmd);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *dir, *cg_a, *cgb, *mpcgctl = NULL;
	struct child a, b;
	struct stat st, sa, sb;
	char path[4096];
	int shortfall = 0, fd;

	for (;;) {
		if (argc > 1 && !strcmp(argv[1], "--shortfall")) {
			shortfall = 1;
			argv++;
			argc--;
		} else if (argc > 2 && !strcmp(argv[1], "--mpcgctl")) {
			mpcgctl = argv[2];
			argv += 2;
			argc -= 2;
		} else {
			break;
		}
	}
	if (argc != 4) {
		fprintf(stderr,
			"usage: %s [--shortfall] [--mpcgctl MPCGCTL] DIR CGROUP_A CGROUP_B\n",
			argv[0]);
		return 2;
	}
	dir = argv[1];
	cg_a = argv[2];
	cgb = argv[3];
	signal(SIGPIPE, SIG_IGN);
	if (stat(cg_a, &sa) || stat(cgb, &sb))
		die("stat cgroups");
	snprintf(path, sizeof(path), "%s/region", dir);

	spawn(&a, cg_a, setup_a, path);
	if (stat(path, &st))
		die("stat %s", path);
	printf("region dev=%llu ino=%llu cg_a=%llu cg_b=%llu\n",
	       (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
	       (unsigned long long)sa.st_ino, (unsigned long long)sb.st_ino);
	fflush(stdout);
	/* Only used for ioctls: not an attachment, so not a member. */
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open %s", path);

	spawn(&b, cgb, setup_b, path);
	print_members(fd);
	if (mpcgctl)
		mpcgctl_members(mpcgctl, path);
	if (truncate(path, FILE_SIZE))
		die("truncate %s", path);
	printf("truncate size=%ld hole_chunks=%ld\n", FILE_SIZE,
	       HOLE_SIZE / MiB);
	fflush(stdout);

	if (shortfall) {
		long cur = read_long(cgb, "memory.current");
		long max = (cur + 512 * 1024 + 4095) & ~4095L;
		char buf[32];

		cg_b = cgb;
		snprintf(buf, sizeof(buf), "%ld", max);
		write_str(cgb, "memory.max", buf);
		printf("limit cg_b current=%ld max=%ld\n", cur, max);
		reassess(fd);
		write_str(cgb, "memory.max", "max");
		cg_b = NULL;
	}
	reassess(fd);

	stop(&b, "B");
	reassess(fd);

	stop(&a, "A");
	close(fd);
	if (unlink(path))
		die("unlink %s", path);
	printf("done\n");
	return 0;
}

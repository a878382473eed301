// SPDX-License-Identifier: GPL-2.0
/*
 * Workers (worker.h): the commands, read from a pipe and answered on
 * another, the loop of the worker process that serves them, and the test
 * side that sends them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "files.h"
#include "worker.h"

/* A command to a worker, and its reply. */
struct mpcg_wcmd {
	int op;
	int pad;
	long a, b, c, d, e;
	char name[16];
	char path[256];
};

struct mpcg_wrep {
	long ret;
	int err;
	int pad;
};

static long mpcg_worker_touch(struct mpcg_wcmd *c)
{
	volatile unsigned char *p = (volatile unsigned char *)c->a;
	long len = c->b, i, step = c->c == W_READ || c->c == W_WRITE ? 4096 : 1;
	unsigned char x = 0;

	for (i = 0; i < len; i += step) {
		switch (c->c) {
		case W_READ:
			x += p[i];
			break;
		case W_WRITE:
			p[i] = 1;
			break;
		case W_FILL:
			p[i] = pattern(c->e + i, c->d);
			break;
		default:
			if (p[i] != pattern(c->e + i, c->d)) {
				fprintf(stderr, "# worker: byte at file offset %ld is %u, expected %u\n",
					c->e + i, p[i], pattern(c->e + i, c->d));
				errno = EBADMSG;
				return -1;
			}
		}
	}
	(void)x;
	return 0;
}

static long mpcg_worker_rw(struct mpcg_wcmd *c, int wr)
{
	unsigned char buf[16384];
	long done = 0, n, i;

	while (done < c->c) {
		n = c->c - done < (long)sizeof(buf) ? c->c - done : (long)sizeof(buf);
		if (wr) {
			for (i = 0; i < n; i++)
				buf[i] = pattern(c->b + done + i, c->d);
			if (pwrite(c->a, buf, n, c->b + done) != n)
				return -1;
		} else {
			if (pread(c->a, buf, n, c->b + done) != n)
				return -1;
			for (i = 0; c->d != -1 && i < n; i++)
				if (buf[i] != (c->d ? pattern(c->b + done + i, c->d) : 0)) {
					fprintf(stderr, "# worker: byte at offset %ld is %u\n",
						c->b + done + i, buf[i]);
					errno = EBADMSG;
					return -1;
				}
		}
		done += n;
	}
	return 0;
}

/* W_FORK: a new worker forked from this one, child of the test process. */
static long mpcg_worker_fork(struct mpcg_wcmd *c, int *cmd, int *rep,
			     int *fcmd, int *frep, int *child)
{
	int pfd[2], status;
	pid_t mid, pid = -1;

	if (*fcmd < 0) {
		errno = EBUSY;
		return -1;
	}
	if (pipe(pfd))
		return -1;
	mid = fork();
	if (mid < 0)
		return -1;
	if (mid == 0) {
		/*
		 * Fork again and exit, so that the new worker is reparented
		 * to the test process (a child subreaper), which can wait
		 * for it and kill it like the others.
		 */
		pid = fork();
		if (pid) {
			if (write(pfd[1], &pid, sizeof(pid)) < 0)
				_exit(1);
			_exit(0);
		}
		close(pfd[0]);
		close(pfd[1]);
		close(*cmd);
		close(*rep);
		*cmd = *fcmd;
		*rep = *frep;
		*fcmd = *frep = -1;
		while (getppid() != (pid_t)c->a && getppid() != 1)
			usleep(1000);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != (pid_t)c->a)
			_exit(254);
		prctl(PR_SET_NAME, c->name);
		*child = 1;
		return c->path[0] ? cg_enter(c->path) : 0;
	}
	close(pfd[1]);
	if (mpcg_xfer(pfd[0], &pid, sizeof(pid), 0) != sizeof(pid))
		pid = -1;
	close(pfd[0]);
	waitpid(mid, &status, 0);
	close(*fcmd);
	close(*frep);
	*fcmd = *frep = -1;
	if (pid < 0)
		errno = ECHILD;
	return pid;
}

static void mpcg_worker_serve(int cmd, int rep, int fcmd, int frep)
{
	struct mpcg_wcmd c;
	struct mpcg_wrep r;
	int child;

	for (;;) {
		if (mpcg_xfer(cmd, &c, sizeof(c), 0) != sizeof(c))
			_exit(0);
		memset(&r, 0, sizeof(r));
		errno = 0;
		child = 0;
		switch (c.op) {
		case W_PING:
			r.ret = getpid();
			break;
		case W_EXIT:
			_exit(0);
		case W_OPEN:
			r.ret = open(c.path, c.a, c.b);
			break;
		case W_CLOSE:
			r.ret = close(c.a);
			break;
		case W_FTRUNCATE:
			r.ret = ftruncate(c.a, c.b);
			break;
		case W_UNLINK:
			r.ret = unlink(c.path);
			break;
		case W_MMAP: {
			void *p = mmap(NULL, c.c, c.d, c.e, c.a, c.b);

			r.ret = p == MAP_FAILED ? -1 : (long)p;
			break;
		}
		case W_MUNMAP:
			r.ret = munmap((void *)c.a, c.b);
			break;
		case W_MREMAP: {
			long p = syscall(__NR_mremap, c.a, c.b, c.c, c.d, c.e);

			r.ret = p == (long)MAP_FAILED ? -1 : p;
			break;
		}
		case W_TOUCH:
			r.ret = mpcg_worker_touch(&c);
			break;
		case W_PWRITE:
			r.ret = mpcg_worker_rw(&c, 1);
			break;
		case W_PREAD:
			r.ret = mpcg_worker_rw(&c, 0);
			break;
		case W_FORK:
			r.ret = mpcg_worker_fork(&c, &cmd, &rep, &fcmd, &frep,
						 &child);
			break;
		case W_FALLOCATE:
			r.ret = syscall(__NR_fallocate, c.a, c.b, c.c, c.d);
			break;
		default:
			r.ret = -1;
			errno = EINVAL;
		}
		r.err = r.ret < 0 ? errno : 0;
		if (mpcg_xfer(rep, &r, sizeof(r), 1) != sizeof(r))
			_exit(1);
		if (child && r.ret)
			_exit(255);
	}
}

int mpcg_worker_start(struct mpcg_worker *w, const char *cg, const char *name)
{
	int c[2], r[2], fc[2], fr[2], fd;
	pid_t parent = getpid();
	struct mpcg_wrep rep;

	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	if (pipe(c) || pipe(r) || pipe(fc) || pipe(fr))
		return -1;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	w->pid = mpcg_fork();
	if (w->pid < 0)
		return -1;
	if (w->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(254);
		prctl(PR_SET_NAME, name);
		/* Hold no file of the test: only these pipes. */
		for (fd = 3; fd < 1024; fd++)
			if (fd != c[0] && fd != r[1] && fd != fc[0] &&
			    fd != fr[1])
				close(fd);
		memset(&rep, 0, sizeof(rep));
		rep.ret = cg ? cg_enter(cg) : 0;
		rep.err = errno;
		if (mpcg_xfer(r[1], &rep, sizeof(rep), 1) != sizeof(rep) ||
		    rep.ret)
			_exit(255);
		mpcg_worker_serve(c[0], r[1], fc[0], fr[1]);
	}
	mpcg_pid_add(w->pid);
	close(c[0]);
	close(r[1]);
	close(fc[0]);
	close(fr[1]);
	w->cmd = c[1];
	w->rep = r[0];
	w->fcmd = fc[1];
	w->frep = fr[0];
	if (mpcg_xfer(w->rep, &rep, sizeof(rep), 0) != sizeof(rep) ||
	    rep.ret) {
		errno = rep.ret ? rep.err : ECHILD;
		return -1;
	}
	return 0;
}

/* Reply of a worker; if it died, say how and fail with EPIPE. */
static long mpcg_worker_reply(struct mpcg_worker *w, int fd)
{
	struct mpcg_wrep r;
	int status;

	if (mpcg_xfer(fd, &r, sizeof(r), 0) != sizeof(r)) {
		if (waitpid(w->pid, &status, WNOHANG) == w->pid) {
			mpcg_pid_del(w->pid);
			fprintf(stderr, "# worker %s (pid %d) died: %s %d\n",
				w->name, w->pid,
				WIFSIGNALED(status) ? "signal" : "exit status",
				WIFSIGNALED(status) ? WTERMSIG(status) :
						      WEXITSTATUS(status));
		}
		errno = EPIPE;
		return -1;
	}
	errno = r.err;
	return r.ret;
}

long mpcg_worker_cmd(struct mpcg_worker *w, int op, long a, long b, long c,
		     long d, long e, const char *path)
{
	struct mpcg_wcmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.op = op;
	cmd.a = a;
	cmd.b = b;
	cmd.c = c;
	cmd.d = d;
	cmd.e = e;
	if (path)
		snprintf(cmd.path, sizeof(cmd.path), "%s", path);
	if (mpcg_xfer(w->cmd, &cmd, sizeof(cmd), 1) != sizeof(cmd)) {
		errno = EPIPE;
		return -1;
	}
	return mpcg_worker_reply(w, w->rep);
}

int w_open(struct mpcg_worker *w, const char *path, int flags)
{
	return mpcg_worker_cmd(w, W_OPEN, flags, 0644, 0, 0, 0, path);
}

int w_close(struct mpcg_worker *w, int fd)
{
	return mpcg_worker_cmd(w, W_CLOSE, fd, 0, 0, 0, 0, NULL);
}

long w_mmap(struct mpcg_worker *w, int fd, long off, long len, int prot,
	    int flags)
{
	long p = mpcg_worker_cmd(w, W_MMAP, fd, off, len, prot, flags, NULL);

	return p == -1 ? 0 : p;
}

int w_munmap(struct mpcg_worker *w, long addr, long len)
{
	return mpcg_worker_cmd(w, W_MUNMAP, addr, len, 0, 0, 0, NULL);
}

int w_touch(struct mpcg_worker *w, long addr, long len, int mode)
{
	return mpcg_worker_cmd(w, W_TOUCH, addr, len, mode, 0, 0, NULL);
}

long w_map_file(struct mpcg_worker *w, const char *path, long size, long len,
		int mode)
{
	long p;
	int fd;

	fd = w_open(w, path, O_RDWR | (size > 0 ? O_CREAT : 0));
	if (fd < 0)
		return 0;
	if (size > 0 &&
	    mpcg_worker_cmd(w, W_FTRUNCATE, fd, size, 0, 0, 0, NULL))
		return 0;
	p = w_mmap(w, fd, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED);
	w_close(w, fd);
	if (p && mode >= 0 && w_touch(w, p, len, mode))
		return 0;
	return p;
}

int w_fork(struct mpcg_worker *w, struct mpcg_worker *child, const char *cg,
	   const char *name)
{
	struct mpcg_wcmd cmd;
	long pid;

	memset(child, 0, sizeof(*child));
	memset(&cmd, 0, sizeof(cmd));
	cmd.op = W_FORK;
	cmd.a = getpid();
	snprintf(cmd.name, sizeof(cmd.name), "%s", name);
	snprintf(cmd.path, sizeof(cmd.path), "%s", cg ? cg : "");
	snprintf(child->name, sizeof(child->name), "%s", name);
	if (mpcg_xfer(w->cmd, &cmd, sizeof(cmd), 1) != sizeof(cmd))
		return -1;
	pid = mpcg_worker_reply(w, w->rep);
	if (pid <= 0)
		return -1;
	child->pid = pid;
	mpcg_pid_add(pid);
	child->cmd = w->fcmd;
	child->rep = w->frep;
	child->fcmd = child->frep = -1;
	w->fcmd = w->frep = -1;
	/* The child's first reply: it is in @cg. */
	return mpcg_worker_reply(child, child->rep) == 0 ? 0 : -1;
}

int w_exit(struct mpcg_worker *w)
{
	struct mpcg_wcmd cmd = { .op = W_EXIT };
	int status = -1;

	if (w->pid <= 0)
		return -1;
	if (mpcg_xfer(w->cmd, &cmd, sizeof(cmd), 1) != sizeof(cmd))
		kill(w->pid, SIGKILL);
	if (waitpid(w->pid, &status, 0) == w->pid)
		mpcg_pid_del(w->pid);
	close(w->cmd);
	close(w->rep);
	if (w->fcmd >= 0)
		close(w->fcmd);
	if (w->frep >= 0)
		close(w->frep);
	w->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Files (files.h): mpcg mounts, paths, small files read and written
 * whole, full transfers, and filling and checking files with pattern().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include "files.h"

int mpcg_mount(char *dir, size_t len, const char *opts)
{
	snprintf(dir, len, "/tmp/mpcg-test-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	if (mount("mpcg", dir, "mpcg", 0, opts)) {
		int e = errno;

		rmdir(dir);
		errno = e;
		return -1;
	}
	return 0;
}

void mpcg_umount(const char *dir)
{
	if (umount2(dir, 0) == 0)
		rmdir(dir);
}

char *path_join(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

int write_file(const char *path, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	if (write(fd, buf, n) != n) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

ssize_t read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

ssize_t mpcg_xfer(int fd, void *buf, size_t len, int wr)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = wr ? write(fd, (char *)buf + done, len - done) :
			 read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (ssize_t)done : n;
		done += n;
	}
	return done;
}

int pattern_fill(int fd, off_t off, size_t len, unsigned int seed)
{
	unsigned char buf[8192];
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		size_t i;

		for (i = 0; i < n; i++)
			buf[i] = pattern(off + done + i, seed);
		if (pwrite(fd, buf, n, off + done) != (ssize_t)n)
			return -1;
		done += n;
	}
	return 0;
}

off_t pattern_check(int fd, off_t off, size_t len, unsigned int seed)
{
	unsigned char buf[8192];
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		size_t i;

		if (pread(fd, buf, n, off + done) != (ssize_t)n)
			return off + done;
		for (i = 0; i < n; i++)
			if (buf[i] != (seed ? pattern(off + done + i, seed) : 0))
				return off + done + i;
		done += n;
	}
	return -1;
}

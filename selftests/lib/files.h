/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Files: mounting a fresh mpcg instance, paths, small files written and
 * read whole (cgroup, sysfs and debugfs files), full reads and writes, and
 * the offset-dependent byte pattern that tests fill files with and check.
 */
#ifndef MPCG_TEST_FILES_H
#define MPCG_TEST_FILES_H

#include <stddef.h>
#include <sys/types.h>

#include "common.h"

/* Mount a new mpcg instance with @opts on a fresh directory in /tmp. */
int mpcg_mount(char *dir, size_t len, const char *opts);
/* Unmount @dir and remove it (left alone if it is busy). */
void mpcg_umount(const char *dir);

/* Build "dir/name" into a static-size buffer owned by the caller. */
char *path_join(char *buf, size_t len, const char *dir, const char *name);

/* Write the printf-formatted text (up to 255 bytes) to @path in one write. */
int write_file(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Read up to @len - 1 bytes of @path into @buf, NUL-terminated. */
ssize_t read_file(const char *path, char *buf, size_t len);

/*
 * Read (@wr 0) or write @len bytes, retrying short transfers and EINTR;
 * returns what was done, or the failing call's result if nothing was.
 */
ssize_t mpcg_xfer(int fd, void *buf, size_t len, int wr);

/* A byte pattern that depends on the file offset and a seed. */
static inline unsigned char pattern(off_t off, unsigned int seed)
{
	unsigned long x = (unsigned long)off * 2654435761UL + seed;

	return (unsigned char)(x ^ (x >> 13) ^ (x >> 24));
}

/* Fill [off, off + len) of @fd with pattern(seed) through pwrite. */
int pattern_fill(int fd, off_t off, size_t len, unsigned int seed);

/*
 * Check [off, off + len) of @fd through pread: pattern(seed), or zeroes if
 * @seed is 0.  Returns -1 if it all is, else the offset of the first wrong
 * (or unreadable) byte.
 */
off_t pattern_check(int fd, off_t off, size_t len, unsigned int seed);

#endif /* MPCG_TEST_FILES_H */

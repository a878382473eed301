// SPDX-License-Identifier: GPL-2.0
/*
 * map_touch FILE BYTES: open FILE (creating it), make it BYTES long if it
 * is shorter, map it shared and write one byte in every page, as a program
 * that uses a shared memory file through a mapping does.  BYTES may end in
 * k, m or g.  Exit 0 when every page was touched.
 *
 * Linked statically: runtime_test copies it into the busybox root file
 * system of its OCI containers, which has no C library.  A container over
 * its memory.max is killed by the kernel's OOM killer here, in the page
 * fault that needs one chunk too many (write(2) would fail with ENOMEM
 * instead: docs/filesystem.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse_size(const char *s, size_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'g': case 'G': v <<= 10; /* fall through */
	case 'm': case 'M': v <<= 10; /* fall through */
	case 'k': case 'K': v <<= 10; end++; break;
	case '\0': break;
	default: return -1;
	}
	if (*end || !v)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;
	size_t len, off;
	char *p;
	int fd;

	if (argc != 3 || parse_size(argv[2], &len)) {
		fprintf(stderr, "usage: map_touch FILE BYTES[k|m|g]\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_CREAT, 0644);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "map_touch: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if ((size_t)st.st_size < len && ftruncate(fd, len)) {
		fprintf(stderr, "map_touch: ftruncate %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "map_touch: mmap %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (off = 0; off < len; off += page)
		p[off] = 1;
	return 0;
}

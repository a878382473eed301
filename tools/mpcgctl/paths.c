// SPDX-License-Identifier: GPL-2.0
/*
 * mpcgctl names: the ABI names memory cgroups by id (the inode number of
 * their cgroup2 directory) and regions by (st_dev, st_ino).  Cgroups are
 * shown by their path under the cgroup2 mount, found by walking it once and
 * again only when an id is not found; regions by a path under a mounted
 * mpcg file system with that device, found by walking it once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>

#include "mpcgctl.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* ---- /proc/self/mountinfo ---- */

/* Undo the octal escapes (\040) of a mountinfo field, in place. */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (s[1] - '0') << 6 | (s[2] - '0') << 3 |
			       (s[3] - '0');
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

struct mnt {
	unsigned int major, minor;
	char *root;		/* of the mount within its file system */
	char *dir;		/* mount point */
};

/* Mounts of file system type @fstype, in mount order. */
static size_t mounts_of(const char *fstype, struct mnt **out)
{
	struct mnt *m = NULL;
	size_t n = 0, cap = 0;
	char *line = NULL;
	size_t len = 0;
	FILE *f;

	*out = NULL;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return 0;
	while (getline(&line, &len, f) > 0) {
		char root[PATH_MAX], dir[PATH_MAX], type[64];
		unsigned int maj, min;
		char *sep;

		if (sscanf(line, "%*u %*u %u:%u %4095s %4095s", &maj, &min,
			   root, dir) != 4)
			continue;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%63s", type) != 1 ||
		    strcmp(type, fstype))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			m = realloc(m, cap * sizeof(*m));
			if (!m)
				die(NULL, "out of memory");
		}
		unescape(root);
		unescape(dir);
		m[n].major = maj;
		m[n].minor = min;
		m[n].root = strdup(root);
		m[n].dir = strdup(dir);
		if (!m[n].root || !m[n].dir)
			die(NULL, "out of memory");
		n++;
	}
	free(line);
	fclose(f);
	*out = m;
	return n;
}

static void mounts_free(struct mnt *m, size_t n)
{
	while (n--) {
		free(m[n].root);
		free(m[n].dir);
	}
	free(m);
}

/* ---- cgroups ---- */

static char *cg_mount;

/* The cgroup2 mount point: /sys/fs/cgroup if it is one, else the first. */
const char *cgroup_mount(void)
{
	struct statfs sfs;
	struct mnt *m;
	size_t n, i;

	if (cg_mount)
		return cg_mount;
	if (!statfs("/sys/fs/cgroup", &sfs) &&
	    sfs.f_type == CGROUP2_SUPER_MAGIC) {
		cg_mount = strdup("/sys/fs/cgroup");
		return cg_mount;
	}
	n = mounts_of("cgroup2", &m);
	for (i = 0; i < n; i++)
		if (!strcmp(m[i].root, "/")) {
			cg_mount = strdup(m[i].dir);
			break;
		}
	mounts_free(m, n);
	return cg_mount;
}

static struct cgroup_dir *walk_dirs;
static size_t walk_n, walk_cap;
static size_t walk_prefix;

static int walk_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	const char *rel = path + walk_prefix;

	(void)ftw;
	if (type != FTW_D)
		return 0;
	if (walk_n == walk_cap) {
		walk_cap = walk_cap ? 2 * walk_cap : 64;
		walk_dirs = realloc(walk_dirs, walk_cap * sizeof(*walk_dirs));
		if (!walk_dirs)
			die(NULL, "out of memory");
	}
	walk_dirs[walk_n].path = strdup(*rel ? rel : "/");
	if (!walk_dirs[walk_n].path)
		die(NULL, "out of memory");
	walk_dirs[walk_n].id = st->st_ino;
	walk_n++;
	return 0;
}

static int cmp_dir(const void *a, const void *b)
{
	const struct cgroup_dir *x = a, *y = b;

	return strcmp(x->path, y->path);
}

size_t cgroup_walk(const char *dir, struct cgroup_dir **out)
{
	const char *mnt = cgroup_mount();
	size_t n;

	*out = NULL;
	if (!mnt)
		return 0;
	walk_dirs = NULL;
	walk_n = walk_cap = 0;
	/* Paths relative to the mount ("/" for its root). */
	walk_prefix = strcmp(mnt, "/") ? strlen(mnt) : 0;
	nftw(dir, walk_one, 16, FTW_PHYS | FTW_MOUNT);
	qsort(walk_dirs, walk_n, sizeof(*walk_dirs), cmp_dir);
	*out = walk_dirs;
	n = walk_n;
	walk_dirs = NULL;
	return n;
}

void cgroup_dirs_free(struct cgroup_dir *d, size_t n)
{
	while (n--)
		free(d[n].path);
	free(d);
}

/* The id -> path cache: every cgroup, and the names made for unknown ids. */
static struct cgroup_dir *names;
static size_t nnames;
static bool names_fresh;
static struct cgroup_dir *unknown;
static size_t nunknown;

void cgroup_names_refresh(void)
{
	cgroup_dirs_free(names, nnames);
	names = NULL;
	nnames = 0;
	names_fresh = false;
}

static const char *lookup(uint64_t id)
{
	size_t i;

	for (i = 0; i < nnames; i++)
		if (names[i].id == id)
			return names[i].path;
	return NULL;
}

const char *cgroup_name(uint64_t id)
{
	const char *p = lookup(id);
	size_t i;

	if (p)
		return p;
	if (!names_fresh && cgroup_mount()) {
		cgroup_dirs_free(names, nnames);
		nnames = cgroup_walk(cgroup_mount(), &names);
		names_fresh = true;
		p = lookup(id);
		if (p)
			return p;
	}
	for (i = 0; i < nunknown; i++)
		if (unknown[i].id == id)
			return unknown[i].path;
	unknown = realloc(unknown, (nunknown + 1) * sizeof(*unknown));
	if (!unknown || asprintf(&unknown[nunknown].path,
				 "#%" PRIu64 " (removed)", id) < 0)
		die(NULL, "out of memory");
	unknown[nunknown].id = id;
	return unknown[nunknown++].path;
}

/*
 * A CGROUP_PATH argument: a path relative to the cgroup2 mount ("/a/b" or
 * "a/b"), or a path to a directory of the cgroup2 file system.
 */
char *cgroup_resolve(const char *arg)
{
	const char *mnt = cgroup_mount();
	struct statfs sfs;
	struct stat st;
	char *p;

	const char *a = arg;
	size_t len;

	if (!mnt)
		die(NULL, "no cgroup2 file system is mounted");
	while (*a == '/')
		a++;
	len = strlen(a);
	while (len && a[len - 1] == '/')
		len--;
	if (asprintf(&p, "%s%s%.*s", mnt, len ? "/" : "", (int)len, a) < 0)
		die(NULL, "out of memory");
	if (!stat(p, &st) && S_ISDIR(st.st_mode))
		return p;
	free(p);
	if (!stat(arg, &st) && S_ISDIR(st.st_mode) && !statfs(arg, &sfs) &&
	    sfs.f_type == CGROUP2_SUPER_MAGIC) {
		p = realpath(arg, NULL);
		if (p)
			return p;
	}
	return NULL;
}

int64_t cgroup_memory_current(const char *rel)
{
	char path[PATH_MAX], buf[64];
	ssize_t n;
	int fd;

	if (!cgroup_mount())
		return -1;
	if (!strcmp(rel, "/"))
		rel = "";
	snprintf(path, sizeof(path), "%s%s/memory.current", cgroup_mount(),
		 rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

/* ---- regions ---- */

/* The regular files of one mpcg mount, by inode number. */
struct mnt_files {
	unsigned int major, minor;
	struct { uint64_t ino; char *path; } *f;
	size_t n, cap;
};

static struct mnt_files *mfiles;
static size_t nmfiles;
static struct mnt_files *walking;

static int files_one(const char *path, const struct stat *st, int type,
		     struct FTW *ftw)
{
	struct mnt_files *m = walking;

	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->f = realloc(m->f, m->cap * sizeof(*m->f));
		if (!m->f)
			die(NULL, "out of memory");
	}
	m->f[m->n].ino = st->st_ino;
	m->f[m->n].path = strdup(path);
	if (!m->f[m->n].path)
		die(NULL, "out of memory");
	m->n++;
	return 0;
}

/* The files of the mpcg mount with device @dev, walked once. */
static struct mnt_files *files_of(uint64_t dev)
{
	unsigned int maj = major(dev), min = minor(dev);
	struct mnt *m;
	size_t n, i;

	for (i = 0; i < nmfiles; i++)
		if (mfiles[i].major == maj && mfiles[i].minor == min)
			return &mfiles[i];
	mfiles = realloc(mfiles, (nmfiles + 1) * sizeof(*mfiles));
	if (!mfiles)
		die(NULL, "out of memory");
	walking = &mfiles[nmfiles++];
	memset(walking, 0, sizeof(*walking));
	walking->major = maj;
	walking->minor = min;
	/* The first mount of that file system (bind mounts show the same). */
	n = mounts_of("mpcg", &m);
	for (i = 0; i < n; i++)
		if (m[i].major == maj && m[i].minor == min) {
			nftw(m[i].dir, files_one, 16, FTW_PHYS | FTW_MOUNT);
			break;
		}
	mounts_free(m, n);
	return walking;
}

void region_names_refresh(void)
{
	size_t i, j;

	for (i = 0; i < nmfiles; i++) {
		for (j = 0; j < mfiles[i].n; j++)
			free(mfiles[i].f[j].path);
		free(mfiles[i].f);
	}
	free(mfiles);
	mfiles = NULL;
	nmfiles = 0;
}

char *region_name(uint64_t dev, uint64_t ino)
{
	struct mnt_files *m = files_of(dev);
	char *s;
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->f[i].ino == ino)
			return strdup(m->f[i].path);
	if (asprintf(&s, "%u:%u:%" PRIu64 " (deleted)", major(dev),
		     minor(dev), ino) < 0)
		die(NULL, "out of memory");
	return s;
}

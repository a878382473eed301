// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's knobs and logs (kernel.h): mpcg's module parameters, fault
 * injection in debugfs, /dev/kmsg.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "kernel.h"

long mpcg_param_read(const char *name)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), MPCG_PARAMS "%s", name);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	return strtol(buf, NULL, 10);
}

int mpcg_param_write(const char *name, long val)
{
	char path[256];

	snprintf(path, sizeof(path), MPCG_PARAMS "%s", name);
	return write_file(path, "%ld", val);
}

long mpcg_set_auto_reassess(long ms)
{
	char buf[32];
	long old;

	if (read_file(AUTO_REASSESS, buf, sizeof(buf)) < 0)
		return -1;
	old = strtol(buf, NULL, 10);
	if (write_file(AUTO_REASSESS, "%ld", ms))
		return -1;
	return old;
}

const char *const mpcg_fault_dirs[2] = {
	"/sys/kernel/debug/failslab", "/sys/kernel/debug/fail_page_alloc"
};

int mpcg_fault_parse(const char *s)
{
	if (!s)
		return 0;
	return !strcmp(s, "failslab") ? MPCG_FAULT_SLAB :
	       !strcmp(s, "page") ? MPCG_FAULT_PAGE :
	       !strcmp(s, "both") ? MPCG_FAULT_SLAB | MPCG_FAULT_PAGE : 0;
}

/* The attributes of both injections in @which, probability aside. */
static int fault_attrs(int which)
{
	static const char *const on[][2] = {
		{ "task-filter", "Y" }, { "interval", "1" }, { "times", "-1" },
		{ "space", "0" }, { "verbose", "0" }, { "ignore-gfp-wait", "N" },
	};
	char p[128];
	unsigned int i;
	int d;

	for (d = 0; d < 2; d++) {
		if (!(which & (1 << d)))
			continue;
		for (i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", mpcg_fault_dirs[d],
				 on[i][0]);
			if (write_file(p, "%s", on[i][1]))
				return -1;
		}
		snprintf(p, sizeof(p), "%s/min-order", mpcg_fault_dirs[d]);
		if (d == 1 && write_file(p, "0"))
			return -1;
	}
	return 0;
}

static int fault_probability(int which, int percent)
{
	char p[128];
	int d;

	for (d = 0; d < 2; d++) {
		if (!(which & (1 << d)))
			continue;
		snprintf(p, sizeof(p), "%s/probability", mpcg_fault_dirs[d]);
		if (write_file(p, "%d", percent))
			return -1;
	}
	return 0;
}

int mpcg_fault_set(int which, int percent)
{
	if (percent && fault_attrs(which))
		return -1;
	return fault_probability(which, percent);
}

int mpcg_fault_nth_setup(int which)
{
	if (fault_attrs(which))
		return -1;
	return fault_probability(which, 0);
}

int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

int kmsg_contains(int fd, const char *a, const char *b)
{
	char rec[2048];
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			return 0;
		rec[n] = '\0';
		if (strstr(rec, a) && (!b || strstr(rec, b)))
			return 1;
	}
}

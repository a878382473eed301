// SPDX-License-Identifier: GPL-2.0
/* The tests' own wrappers of the mpcg ioctls (ioctl.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "ioctl.h"

int mpcg_region_stat(int fd, struct mpcg_region_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return ioctl(fd, MPCG_IOC_REGION_STAT, st);
}

int mpcg_reassess(int fd, struct mpcg_reassess *r)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	return ioctl(fd, MPCG_IOC_REASSESS, r);
}

int mpcg_set_policy(int fd, unsigned int policy)
{
	struct mpcg_set_policy sp = {
		.size = sizeof(sp),
		.policy = policy,
	};

	return ioctl(fd, MPCG_IOC_SET_POLICY, &sp);
}

long mpcg_table(int fd, unsigned long cmd, size_t entry_size, void **out)
{
	struct mpcg_table t;
	size_t cap = 16;
	void *buf = NULL;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		free(buf);
		buf = calloc(cap, entry_size);
		if (!buf)
			return -1;
		memset(&t, 0, sizeof(t));
		t.size = sizeof(t);
		t.entry_size = entry_size;
		t.count = cap;
		t.entries = (uintptr_t)buf;
		if (ioctl(fd, cmd, &t) == 0) {
			*out = buf;
			return t.count;
		}
		if (errno != ERANGE)
			break;
		cap = t.count + 16;
	}
	free(buf);
	return -1;
}

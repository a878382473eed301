/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tests' own wrappers of the mpcg ioctls, with the struct sizes of
 * the uapi header; libmpcg (tools/lib/mpcg.h) is to replace them.
 */
#ifndef MPCG_TEST_IOCTL_H
#define MPCG_TEST_IOCTL_H

#include <stddef.h>
#include <linux/mpcg.h>

int mpcg_region_stat(int fd, struct mpcg_region_stat *st);
int mpcg_reassess(int fd, struct mpcg_reassess *r);
int mpcg_set_policy(int fd, unsigned int policy);

/*
 * Read a whole table (MPCG_IOC_MEMBERS, _ATTACHMENTS, _CHUNKS on a region,
 * _LIST_REGIONS on /dev/mpcg) into a malloc()ed array *@out, growing it on
 * ERANGE.  Returns the number of entries, or -1 with errno.
 */
long mpcg_table(int fd, unsigned long cmd, size_t entry_size, void **out);

#endif /* MPCG_TEST_IOCTL_H */

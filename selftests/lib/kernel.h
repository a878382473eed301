/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's knobs and logs, other than mpcg's ioctls (those are
 * libmpcg's): mpcg's module parameters, among them the automatic
 * reassessment, fault injection through debugfs, and new kernel log
 * lines from /dev/kmsg.
 */
#ifndef MPCG_TEST_KERNEL_H
#define MPCG_TEST_KERNEL_H

#include "common.h"

/* Module parameters, /sys/module/mpcg/parameters/NAME. */
#define MPCG_PARAMS "/sys/module/mpcg/parameters/"
#define AUTO_REASSESS MPCG_PARAMS "auto_reassess_ms"

long mpcg_param_read(const char *name);
int mpcg_param_write(const char *name, long val);

/*
 * Set the delay of mpcg's automatic reassessment (0: off); returns the old
 * value, or -1.  Tests that check where a chunk is charged when it is
 * allocated, or count the moves of explicit reassessments, turn it off.
 */
long mpcg_set_auto_reassess(long ms);

/*
 * Fault injection (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, debugfs): which
 * is a mask of MPCG_FAULT_SLAB and MPCG_FAULT_PAGE, the bits of
 * mpcg_fault_dirs[0] and [1].
 */
#define MPCG_FAULT_SLAB		0x1
#define MPCG_FAULT_PAGE		0x2

extern const char *const mpcg_fault_dirs[2];

/* "failslab", "page" or "both" as a mask; 0 for anything else. */
int mpcg_fault_parse(const char *s);

/*
 * Fail @percent % of the kernel allocations (sleeping and order-0 ones
 * too, without a log line each) of the tasks that wrote 1 to their
 * /proc/<pid>/make-it-fail; @percent 0 turns it off.  Returns 0, or -1
 * with errno (ENOENT: this kernel has no such fault injection).
 */
int mpcg_fault_set(int which, int percent);

/*
 * Prepare the fault injection of /proc/thread-self/fail-nth (which makes
 * the Nth allocation of the task fail, whatever the probability): the
 * attributes of mpcg_fault_set() (sleeping and order-0 allocations too, no
 * log line each) with probability 0, so nothing else fails.  Returns 0, or
 * -1 with errno (ENOENT: no such fault injection).
 */
int mpcg_fault_nth_setup(int which);

/* Kernel log: a reader positioned at the end, and a search from there. */
int kmsg_open(void);
/* Does a record logged since kmsg_open() contain both @a and @b? */
int kmsg_contains(int fd, const char *a, const char *b);

#endif /* MPCG_TEST_KERNEL_H */

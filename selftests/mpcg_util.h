/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the mpcg selftests share, in one include: the selftest library
 * libmpcgtest (selftests/lib/, one header per concept, linked from
 * build/selftests-lib/libmpcgtest.a), libmpcg for the mpcg ioctls
 * (tools/lib/libmpcg.h, build/lib/libmpcg.a), and the system headers the
 * tests use.
 *
 *   lib/common.h    sizes, near(), the MPCG_TESTS selection
 *   lib/files.h     mounts, paths, whole small files, pattern()
 *   lib/kernel.h    module parameters, fault injection, /dev/kmsg
 *   lib/cgroup.h    the test's memory cgroups, children run in them
 *   lib/worker.h    worker processes that a test drives through a pipe
 *   lib/engine.h    the engine tests' cgroups, setup and teardown
 *   lib/snapshot.h  a region's statistics and tables at one moment
 *   lib/checker.h   the independent checker of the engine's invariants
 */
#ifndef MPCG_UTIL_H
#define MPCG_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libmpcg.h"

#include "lib/common.h"
#include "lib/files.h"
#include "lib/kernel.h"
#include "lib/cgroup.h"
#include "lib/worker.h"
#include "lib/engine.h"
#include "lib/snapshot.h"
#include "lib/checker.h"

#endif /* MPCG_UTIL_H */

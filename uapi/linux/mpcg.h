/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mpcg: multi-process control groups for shared memory.
 *
 * The user-space ABI of the mpcg filesystem and its control interface.
 * Everything here is stable: new fields are only ever appended to structs
 * that start with their own size, and new commands get new numbers.
 */
#ifndef _UAPI_LINUX_MPCG_H
#define _UAPI_LINUX_MPCG_H

#include <linux/types.h>

/* statfs(2) f_type of an mpcg mount ("mpcg"). */
#define MPCG_SUPER_MAGIC	0x6d706367

/* Chunk sizes a mount accepts (chunk= option), in bytes. */
#define MPCG_CHUNK_SIZE_MIN	(64ULL << 10)
#define MPCG_CHUNK_SIZE_MAX	(2ULL << 20)
#define MPCG_CHUNK_SIZE_DEFAULT	MPCG_CHUNK_SIZE_MAX

#endif /* _UAPI_LINUX_MPCG_H */

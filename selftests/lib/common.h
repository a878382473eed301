/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every part of the selftest library (libmpcgtest) and every test
 * uses: sizes, near(), and the MPCG_TESTS selection of tests.
 *
 * The library's functions return -1 (with errno) or a negative value on
 * failure, and the tests assert on it; nothing in it skips or hides a
 * failure.
 */
#ifndef MPCG_TEST_COMMON_H
#define MPCG_TEST_COMMON_H

#define KiB (1024L)
#define MiB (1024L * 1024L)
#define MB(x) ((double)(x) / MiB)

/* |a - b| <= tol */
static inline int near(long a, long b, long tol)
{
	return a - b <= tol && b - a <= tol;
}

/*
 * Is test @name selected?  MPCG_TESTS="name1 name2" in the environment
 * runs only the tests whose name contains one of those words (the 6.1
 * harness has no option for it); unset, every test runs.
 */
int mpcg_test_selected(const char *name);

#endif /* MPCG_TEST_COMMON_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg_leaktest: a module that leaks on purpose, so that the kmemleak check of
 * tools/testing/vm-run (--kmemleak) can be seen to catch a real leak.  Only
 * tools/testing/kmemleak-test builds and loads it, in the test VM.
 *
 * On load it allocates a few objects, fills them and drops every pointer.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#define MPCG_LEAKTEST_OBJECTS	8

static int __init mpcg_leaktest_init(void)
{
	int i;

	for (i = 0; i < MPCG_LEAKTEST_OBJECTS; i++) {
		char *p = kmalloc(256, GFP_KERNEL);

		if (!p)
			return -ENOMEM;
		memset(p, 0x5a, 256);
		strscpy(p, "mpcg_leaktest", 256);
	}
	return 0;
}

static void __exit mpcg_leaktest_exit(void)
{
}

module_init(mpcg_leaktest_init);
module_exit(mpcg_leaktest_exit);
MODULE_DESCRIPTION("leaks memory on purpose, to test the kmemleak check");
MODULE_LICENSE("GPL");

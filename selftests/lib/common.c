// SPDX-License-Identifier: GPL-2.0
/* The MPCG_TESTS selection of tests (common.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

int mpcg_test_selected(const char *name)
{
	const char *sel = getenv("MPCG_TESTS");
	char buf[512], *w, *save;

	if (!sel || !*sel)
		return 1;
	snprintf(buf, sizeof(buf), "%s", sel);
	for (w = strtok_r(buf, " ,", &save); w; w = strtok_r(NULL, " ,", &save))
		if (strstr(name, w))
			return 1;
	return 0;
}

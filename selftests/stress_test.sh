#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The short stress run of make check-debug: selftests/stress.c for
# $MPCG_STRESS_SECONDS seconds (default 60) with its default workers.
# Its TAP output and totals line are passed on as they are.
#
# make stress [SECONDS=N] runs the same program for longer (docs/testing.md).
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../selftests-helpers/stress" --seconds "${MPCG_STRESS_SECONDS:-60}" \
	${MPCG_STRESS_SEED:+--seed "$MPCG_STRESS_SEED"}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fault injection: selftests/stress.c with failslab, fail_page_alloc and
# both failing a share of the workers' kernel allocations, at a low and a
# high probability, $MPCG_FAULT_SECONDS seconds each (default 20).  Every
# failed call must fail cleanly, the invariants and data checks must hold,
# and everything must be freed at the end; vm-run fails the whole run on
# any kernel warning, KASAN/lockdep/UBSAN report or kmemleak leak.
# Then the ABI fuzzer (fuzz_test) with both failing 10% of the allocations
# of its ioctls, for $MPCG_FAULT_FUZZ_CALLS calls (default 50000).
#
# Needs CONFIG_FAILSLAB and CONFIG_FAIL_PAGE_ALLOC (the debug kernel of
# make check-debug): skipped, with the reason, elsewhere.
#
# Prints each run's TAP lines and one kselftest totals line for them all.
here=$(cd "$(dirname "$0")" && pwd)
stress=$here/../selftests-helpers/stress
secs=${MPCG_FAULT_SECONDS:-20}
runs=("failslab 2" "failslab 25" "page 2" "page 25" "both 5")

echo "TAP version 13"
if [ ! -d /sys/kernel/debug/failslab ] || [ ! -d /sys/kernel/debug/fail_page_alloc ]; then
	echo "1..0 # SKIP this kernel has no failslab and fail_page_alloc in debugfs" \
		"(CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC: make check-debug)"
	exit 4
fi
echo "1..$((${#runs[@]} + 1))"
n=0 pass=0 fail=0
# check DESCRIPTION COMMAND...: one TAP result for a whole program run.
check() {
	local desc=$1 out rc
	shift
	n=$((n + 1))
	out=$("$@" 2>&1)
	rc=$?
	sed 's/^/# /' <<<"$out"
	if [ $rc = 0 ]; then
		pass=$((pass + 1))
		echo "ok $n $desc"
	else
		fail=$((fail + 1))
		echo "not ok $n $desc (exit $rc)"
	fi
}
for r in "${runs[@]}"; do
	set -- $r
	check "stress with $1 failing ${2}% of the workers' allocations" \
		"$stress" --seconds "$secs" --workers 4 --check-every 5 \
		--fault "$1" --probability "$2" ${MPCG_STRESS_SEED:+--seed "$MPCG_STRESS_SEED"}
done
calls=${MPCG_FAULT_FUZZ_CALLS:-50000}
check "fuzz_test ($calls calls) with failslab and fail_page_alloc at 10%" \
	env MPCG_FUZZ_FAULT=both MPCG_FUZZ_FAULT_PERCENT=10 MPCG_FUZZ_CALLS="$calls" \
	"$here/../selftests/fuzz_test"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ $fail = 0 ]

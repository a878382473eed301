#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the mpcg selftests (kselftest harness programs) found in DIR, as
# kernel CI would: each program's TAP output is shown as it runs, exit code 4
# means skipped, and the per-test totals the harness prints are added up.
# The last line is: mpcg selftests: N passed, N failed, N skipped
#
#   selftests/run.sh DIR... [TEST...]
#
# Meant to run as root inside the test VM (tools/testing/vm-run).
set -u

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 DIR... [TEST...]" >&2
	exit 2
fi
# The directories, then the tests (by name, in the first directory that has
# them); without tests, every executable file of every directory.
dirs=()
while [ $# -gt 0 ] && [ -d "$1" ]; do
	dirs+=("$1")
	shift
done
tests=()
if [ $# -gt 0 ]; then
	for t in "$@"; do
		found=
		for d in "${dirs[@]}"; do
			if [ -x "$d/$t" ]; then
				found=$d/$t
				break
			fi
		done
		if [ -z "$found" ]; then
			echo "$0: no test $t in ${dirs[*]}" >&2
			exit 2
		fi
		tests+=("$found")
	done
else
	for d in "${dirs[@]}"; do
		for t in "$d"/*; do
			[ -f "$t" ] && [ -x "$t" ] && tests+=("$t")
		done
	done
fi

passed=0 failed=0 skipped=0 n=0
timeout=${MPCG_TEST_TIMEOUT:-900}

echo "TAP version 13"
echo "1..${#tests[@]}"
echo "# kernel: $(uname -r)"
for t in "${tests[@]}"; do
	n=$((n + 1))
	out=$(mktemp)
	name=$(basename "$t")
	echo "# running $name"
	timeout "$timeout" "$t" 2>&1 | tee "$out" | sed 's/^/# /'
	rc=${PIPESTATUS[0]}
	totals=$(grep -E '^# Totals: pass:[0-9]+ fail:[0-9]+' "$out" | tail -n 1)
	rm -f "$out"
	if [ -n "$totals" ]; then
		p=$(sed -E 's/.* pass:([0-9]+).*/\1/' <<<"$totals")
		f=$(sed -E 's/.* fail:([0-9]+).*/\1/' <<<"$totals")
		xp=$(sed -E 's/.* xpass:([0-9]+).*/\1/' <<<"$totals")
		s=$(sed -E 's/.* skip:([0-9]+).*/\1/' <<<"$totals")
		e=$(sed -E 's/.* error:([0-9]+).*/\1/' <<<"$totals")
		passed=$((passed + p))
		failed=$((failed + f + xp + e))
		skipped=$((skipped + s))
		# A program that crashed after printing its totals still fails.
		if [ "$rc" != 0 ] && [ "$rc" != 4 ] && [ $((f + xp + e)) = 0 ]; then
			failed=$((failed + 1))
		fi
	elif [ "$rc" = 4 ]; then
		skipped=$((skipped + 1))
	else
		echo "# $name: exit status $rc without a harness summary"
		failed=$((failed + 1))
	fi
	case $rc in
	0) echo "ok $n $name" ;;
	4) echo "ok $n $name # SKIP" ;;
	124) echo "not ok $n $name # TIMEOUT after ${timeout}s" ;;
	*) echo "not ok $n $name # exit=$rc" ;;
	esac
done
echo "mpcg selftests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]

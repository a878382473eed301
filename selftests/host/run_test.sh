#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side test of selftests/run.sh, the runner `make check` uses in the VM:
# fed small fake test programs (passing, failing, skipped, crashing after
# their totals, without a harness summary, too slow), it must print each
# program's result, add up the harness totals, count a crash, a missing
# summary and a timeout as failures, and end with the exact line
# "mpcg selftests: N passed, N failed, N skipped" and a matching exit status.
#
#   selftests/host/run_test.sh
#
# TAP 13.
set -u

top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
run=$top/selftests/run.sh
n=0 pass=0 fail=0
tmp=$(mktemp -d /tmp/mpcg-run-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

result() {	# result STATUS NAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		pass=$((pass + 1))
		echo "ok $n $2"
	else
		fail=$((fail + 1))
		echo "not ok $n $2"
		sed 's/^/#   /' "$tmp/out"
	fi
}
has() { grep -qxF -- "$1" "$tmp/out"; }
last_is() { [ "$(tail -n 1 "$tmp/out")" = "$1" ]; }

# prog DIR NAME BODY: a test program (a shell script) DIR/NAME.
prog() {
	mkdir -p "$1"
	printf '#!/bin/bash\n%s\n' "$3" >"$1/$2"
	chmod +x "$1/$2"
}
# The totals line kselftest_harness.h prints.
totals() { echo "echo '# Totals: pass:$1 fail:$2 xfail:0 xpass:$3 skip:$4 error:$5'"; }

echo "TAP version 13"
echo "1..9"

good=$tmp/good
prog "$good" a_pass "echo 'ok 1 x'; echo 'ok 2 y'; $(totals 2 0 0 0 0); exit 0"
prog "$good" b_skips "echo 'ok 1 x # SKIP no y'; $(totals 1 0 0 1 0); exit 0"
prog "$good" c_skipped "echo 'no cgroup v2'; exit 4"
echo "not a test" >"$good/d_not_executable"
"$run" "$good" >"$tmp/out" 2>&1
rc=$?
t1() {
	[ $rc = 0 ] && has "1..3" && has "ok 1 a_pass" && has "ok 2 b_skips" &&
		has "ok 3 c_skipped # SKIP" && has "# # Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0" &&
		last_is "mpcg selftests: 3 passed, 0 failed, 2 skipped"
}
t1
result $? "passing and skipped programs: totals added up, exit 0"

bad=$tmp/bad
prog "$bad" a_fails "echo 'not ok 1 x'; $(totals 3 1 0 0 0); exit 1"
prog "$bad" b_xpass_error "$(totals 1 0 1 0 1); exit 1"
"$run" "$bad" >"$tmp/out" 2>&1
rc=$?
t2() {
	[ $rc = 1 ] && has "not ok 1 a_fails # exit=1" && has "not ok 2 b_xpass_error # exit=1" &&
		last_is "mpcg selftests: 4 passed, 3 failed, 0 skipped"
}
t2
result $? "failed, xpass and error tests count as failed, exit 1"

crash=$tmp/crash
prog "$crash" a_crash "$(totals 2 0 0 0 0); kill -SEGV \$\$"
"$run" "$crash" >"$tmp/out" 2>&1
rc=$?
t3() { [ $rc = 1 ] && has "not ok 1 a_crash # exit=139" && last_is "mpcg selftests: 2 passed, 1 failed, 0 skipped"; }
t3
result $? "a program that crashes after its totals fails"

none=$tmp/none
prog "$none" a_nosummary "echo 'ok 1 looks fine'; exit 0"
"$run" "$none" >"$tmp/out" 2>&1
rc=$?
t4() {
	[ $rc = 1 ] && has "# a_nosummary: exit status 0 without a harness summary" &&
		last_is "mpcg selftests: 0 passed, 1 failed, 0 skipped"
}
t4
result $? "a program without a harness summary fails, even with exit 0"

slow=$tmp/slow
prog "$slow" a_slow "sleep 30; $(totals 1 0 0 0 0)"
MPCG_TEST_TIMEOUT=1 "$run" "$slow" >"$tmp/out" 2>&1
rc=$?
t5() { [ $rc = 1 ] && has "not ok 1 a_slow # TIMEOUT after 1s" && last_is "mpcg selftests: 0 passed, 1 failed, 0 skipped"; }
t5
result $? "a program that outlives MPCG_TEST_TIMEOUT fails as a timeout"

"$run" "$good" "$bad" b_skips a_fails >"$tmp/out" 2>&1
rc=$?
t6() {
	[ $rc = 1 ] && has "1..2" && has "ok 1 b_skips" && has "not ok 2 a_fails # exit=1" &&
		last_is "mpcg selftests: 4 passed, 1 failed, 1 skipped"
}
t6
result $? "named tests are looked up in each directory, in order"

"$run" "$good" "$bad" >"$tmp/out" 2>&1
rc=$?
t7() { [ $rc = 1 ] && has "1..5" && last_is "mpcg selftests: 7 passed, 3 failed, 2 skipped"; }
t7
result $? "several directories: every program of each is run"

"$run" "$good" no_such_test >"$tmp/out" 2>&1
rc=$?
t8() { [ $rc = 2 ] && grep -q "no test no_such_test in $good" "$tmp/out"; }
t8
result $? "an unknown test name is a usage error (exit 2)"

"$run" "$tmp/missing-dir" >"$tmp/out" 2>&1
rc=$?
t9() { [ $rc = 2 ] && grep -q "usage:" "$tmp/out"; }
t9
result $? "a missing directory is a usage error (exit 2)"

echo "# run.sh tests: $pass passed, $fail failed"
[ $fail = 0 ]

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mpcgctl selftest: every subcommand against real regions that processes in
# several memory cgroups (made with cgcreate, started with cgexec) share,
# with the JSON output compared with what the ABI says (read directly with
# ioctl(2) by selftests/mpcgctl_check.py) and with the cgroups' own
# memory.current; the Prometheus output through a strict parser; `top` in
# batch mode and on a terminal; every error path (messages, exit codes 1
# and 2).  TAP 13, with the kselftest harness's totals line at the end.
#
# The scene (chunk 1M, automatic reassessment off, reassessed by mpcgctl):
#   /$P/a    creates f1 (32M) and f3 (2M, then unlinked), keeps them open
#   /$P/b    reads all of f1, creates f2 (8M)
#   /$P/c/d  maps f1[0,8M) and reads it, maps f2[2M,6M) and writes it
#   /$P/e    maps all of f1 and touches nothing (a member that pays nothing)
#   /$P-w"q\b s  (beside /$P: a name with characters the Prometheus text
#            format escapes, and a space) creates f4 (1M)
#
# Installed as build/selftests/mpcgctl_test; runs as root in the test VM
# (tools/testing/vm-run) with mpcg.ko loaded.  MPCGCTL overrides the binary;
# MPCGCTL_TESTS="top err_" runs only the tests whose names contain a word.
set -u

self=$(readlink -f "$0")
case $self in
*/build/selftests/*) top=$(cd "$(dirname "$self")/../.." && pwd) ;;
*) top=$(cd "$(dirname "$self")/.." && pwd) ;;
esac
MPCGCTL=${MPCGCTL:-$top/build/bin/mpcgctl}
CHECK=$top/selftests/mpcgctl_check.py
M=1048576
PY="python3 -S"		# the checker needs no site packages; starts faster

tests=(t_help t_reassess t_stat t_members t_attachments t_chunks t_list
       t_usage t_usage_all t_charges t_prometheus t_human t_raw_noheadings
       t_policy t_top_batch t_top_tty t_err_usage t_err_values
       t_err_not_mpcg t_err_module t_err_permission t_removed t_departed
       t_long_names)

echo "TAP version 13"
echo "1..${#tests[@]}"

skip_all() {
	local i
	for i in "${!tests[@]}"; do
		echo "ok $((i + 1)) ${tests[$i]} # SKIP $1"
	done
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:${#tests[@]} error:0"
	exit 4
}

[ "$(id -u)" = 0 ] || skip_all "not root"
[ -e /dev/mpcg ] || skip_all "the mpcg module is not loaded"
for c in cgcreate cgexec cgdelete python3 setpriv unshare; do
	command -v $c >/dev/null || skip_all "$c is not installed"
done
[ -x "$MPCGCTL" ] || skip_all "$MPCGCTL not built (make tools)"
grep -qw memory /sys/fs/cgroup/cgroup.subtree_control ||
	skip_all "no memory controller in /sys/fs/cgroup"

P=mpcgctl-test-$$
CG=/sys/fs/cgroup/$P
PW=$P-'w"q\b s'		# its Prometheus label value: /$P-w\"q\\b s
CGW=/sys/fs/cgroup/$PW
tmp=$(mktemp -d /tmp/mpcgctl-test.XXXXXX)
chmod 755 "$tmp"	# nobody runs mpcgctl on the regions too
mnt=$tmp/mnt
f1=$mnt/f1 f2=$mnt/f2 f3=$mnt/f3 f4=$mnt/f4 f5=$mnt/f5 f6=$mnt/f6
CGX=$CG-gone		# t_removed: removed while it owns f5
holders=()
auto=

cleanup() {
	local p
	for p in "${holders[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${holders[@]}"; do wait "$p" 2>/dev/null; done
	mountpoint -q "$mnt" && umount "$mnt"
	[ -d "$CG" ] && cgdelete -r -g memory:/$P 2>/dev/null
	[ -d "$CG" ] && find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
	[ -d "$CGW" ] && rmdir "$CGW"
	[ -d "$CGX" ] && rmdir "$CGX"
	[ -n "$auto" ] && echo "$auto" >/sys/module/mpcg/parameters/auto_reassess_ms
	rm -rf "$tmp"
}
trap cleanup EXIT

bail() {
	echo "Bail out! $*"
	exit 1
}

# Run a holder (mpcgctl_check.py hold ...) in cgroup $P/$1.
hold() {
	local cg=$1
	shift
	cgexec -g memory:$P/$cg $PY "$CHECK" hold "$@" &
	holders+=($!)
}

# Run a holder in the cgroup at the path $1 (one cgexec cannot name).
hold_in() {
	local dir=$1
	shift
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$dir" \
		$PY "$CHECK" hold "$@" &
	holders+=($!)
}

# Wait up to 3 minutes for the file $1 (a holder's --ready file).
wait_file() {
	local i
	for ((i = 0; i < 1800; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

wait_ready() {
	local f
	for f in "$@"; do
		wait_file "$f" || bail "holder did not get ready: $f"
	done
}

# ---- the scene ----

auto=$(cat /sys/module/mpcg/parameters/auto_reassess_ms) || bail "no auto_reassess_ms"
echo 0 >/sys/module/mpcg/parameters/auto_reassess_ms
mkdir "$mnt" && mount -t mpcg -o size=256M,chunk=1M,mode=1777 mpcg "$mnt" ||
	bail "cannot mount mpcg"
cgcreate -g memory:/$P/a -g memory:/$P/b -g memory:/$P/c/d -g memory:/$P/e ||
	bail "cgcreate failed"
for c in a b c/d e; do
	[ -f "$CG/$c/memory.current" ] || bail "no memory controller in $CG/$c"
done

# Started together, they take turns: a, b, d, e (so the member slots are
# in that order).
hold a --create "$f1" $((32 * M)) --create "$f3" $((2 * M)) --unlink "$f3" \
	--ready "$tmp/ready.a"
hold b --wait "$tmp/ready.a" --read "$f1" --create "$f2" $((8 * M)) \
	--ready "$tmp/ready.b"
hold c/d --wait "$tmp/ready.b" --map "$f1" 0 $((8 * M)) read \
	--map "$f2" $((2 * M)) $((4 * M)) write --ready "$tmp/ready.d"
hold e --wait "$tmp/ready.d" --map "$f1" 0 $((32 * M)) none --ready "$tmp/ready.e"
mkdir "$CGW" && [ -f "$CGW/memory.current" ] || bail "cannot make $CGW"
hold_in "$CGW" --wait "$tmp/ready.e" --create "$f4" $M --ready "$tmp/ready.w"
wait_ready "$tmp/ready.a" "$tmp/ready.b" "$tmp/ready.d" "$tmp/ready.e" "$tmp/ready.w"
pid_a=$(cat "$tmp/ready.a") pid_b=$(cat "$tmp/ready.b")
pid_d=$(cat "$tmp/ready.d") pid_e=$(cat "$tmp/ready.e")
# An empty region only its owner (root) can open.
install -m 600 /dev/null "$mnt/private" || bail "cannot create $mnt/private"

# ---- helpers ----

out=$tmp/out err=$tmp/err

# Run mpcgctl with the arguments; its stdout in $out, stderr in $err.
ctl() {
	"$MPCGCTL" "$@" >"$out" 2>"$err"
}

# check CHECK ARGS [:: [--in FILE] CHECK ARGS]...: mpcgctl_check.py, with
# the last output as the input of the first check.
check() {
	$PY "$CHECK" "$@" <"$out"
}

# Save the last output as $tmp/$1.
keep() {
	cp "$out" "$tmp/$1"
}

# expect STATUS REGEX CMD...: CMD exits with STATUS, prints nothing on
# stdout and one line matching REGEX on stderr.
expect() {
	local want=$1 re=$2 rc
	shift 2
	"$@" >"$out" 2>"$err"
	rc=$?
	if [ "$rc" != "$want" ] || [ -s "$out" ] || ! grep -Eq -- "$re" "$err"; then
		echo "# $*: exit $rc (want $want), stdout $(wc -c <"$out") bytes, stderr:"
		sed 's/^/#   /' "$err"
		echo "#   (want: $re)"
		return 1
	fi
}

nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

show() {
	sed 's/^/#   /' "$out"
}

# ---- tests ----

t_help() {
	local c cols keys dup r=0
	ctl --help && grep -q '^Usage:' "$out" || { show; r=1; }
	ctl --version && grep -Eq '^mpcgctl from mpcg [0-9]' "$out" || { show; r=1; }
	for c in stat members attachments chunks policy reassess list usage top; do
		if ! ctl $c --help || ! grep -q "^ mpcgctl $c " "$out" ||
		   ! grep -q '^Options:' "$out" || [ -s "$err" ]; then
			echo "# $c --help:"; show; r=1
		fi
	done
	# No option letter twice; top has no JSON output, so does not offer it.
	for c in stat members attachments chunks policy reassess list usage top; do
		ctl $c --help
		dup=$(grep -oE '^ -[A-Za-z],' "$out" | sort | uniq -d)
		[ -z "$dup" ] || { echo "# $c --help lists $dup twice"; r=1; }
	done
	ctl top --help
	! grep -Eq -- '-J|--json' "$out" || { echo "# top --help offers JSON"; show; r=1; }
	# The columns each --help lists are those --output-all prints.
	for c in stat members attachments chunks list usage; do
		ctl $c --help
		cols=$(awk '/^Available output columns:/ { f = 1; next }
			f && !NF { exit }
			f { printf "%s%s", n++ ? "," : "", tolower($1) }' "$out")
		case $c in
		list | usage) ctl $c --output-all --json ;;
		*) ctl $c --output-all --json "$f1" ;;
		esac
		# The keys of the first row (libsmartcols puts one on a line).
		keys=$(awk '/^      *"[a-z_]+": / { sub(/^ *"/, ""); sub(/".*/, "");
			printf "%s%s", n++ ? "," : "", $0 } /^      *\}/ { exit }' "$out")
		if [ -z "$cols" ] || [ "$cols" != "$keys" ]; then
			echo "# $c: --help lists '$cols', --output-all gives '$keys'"
			r=1
		fi
	done
	return $r
}

t_reassess() {
	# mpcgctl reassess (run by the checker between two reads of the stats).
	$PY "$CHECK" reassess "$MPCGCTL" "$f1" "$f2"
}

t_stat() {
	ctl stat --json --bytes --output-all "$f1" "$f2" "$mnt/private" &&
		check stat "$f1" "$f2" "$mnt/private"
}

t_members() {
	ctl members --json --bytes --output-all "$f1" && keep m1 &&
		ctl members --json --bytes --output-all "$f2" &&
		check members "$f2" :: --in "$tmp/m1" members "$f1" || return 1
	# f1: a owns it, a, b and d touched it, e only mapped it.
	ctl members --raw --noheadings -o CGROUP,FLAGS,ATTACH,TOUCHED --bytes "$f1"
	diff -u - "$out" <<-EOF | sed 's/^/# /'
	/$P/a owner 1 $((32 * M))
	/$P/b  1 $((32 * M))
	/$P/c/d  1 $((8 * M))
	/$P/e  1 0
	EOF
	[ "${PIPESTATUS[0]}" = 0 ]
}

t_attachments() {
	ctl attachments --json --bytes --output-all "$f1" && keep a1 &&
		ctl attachments --json --bytes --output-all "$f2" &&
		check attachments "$f2" "$pid_b" "$pid_d" :: --in "$tmp/a1" \
			attachments "$f1" "$pid_a" "$pid_b" "$pid_d" "$pid_e" || return 1
	# d's mapping of f2 as it made it.
	ctl attachments --raw -n -o PID,KIND,OFFSET,LENGTH --bytes "$f2"
	grep -qx "$pid_d map $((2 * M)) $((4 * M))" "$out" || { show; return 1; }
}

t_chunks() {
	ctl chunks --json --bytes --output-all "$f1" && keep c1 &&
		ctl chunks --json --bytes --output-all "$f2" &&
		check chunks "$f2" :: --in "$tmp/c1" chunks "$f1"
}

t_list() {
	ctl list --json --bytes --output-all &&
		check list "$f1" "$f2" "$f4" "$mnt/private" ""
}

t_usage() {
	# The subtree by a path under the mount, relative, or in the mount.
	ctl usage --json --bytes --output-all "/$P" && keep u1 &&
		ctl usage --json --bytes --output-all "$P/" && keep u2 &&
		ctl usage --json --bytes --output-all "$CG" && keep u3 &&
		ctl usage --json --bytes --output-all "/$P/c" && keep u4 &&
		ctl usage --json --bytes --output-all &&
		check usage / :: --in "$tmp/u1" usage "/$P" --expect-total $((42 * M)) \
			:: --in "$tmp/u2" usage "/$P" :: --in "$tmp/u3" usage "/$P" \
			:: --in "$tmp/u4" usage "/$P/c" || return 1
	# The table: one line per paying cgroup, then the total.
	ctl usage "/$P" -o CGROUP -n
	diff -u - "$out" <<-EOF | sed 's/^/# /'
	/$P/a
	/$P/b
	/$P/c/d
	total
	EOF
	[ "${PIPESTATUS[0]}" = 0 ]
}

t_usage_all() {
	ctl usage --all --json --bytes --output-all "/$P" &&
		check usage "/$P" --all || return 1
	ctl usage --all -o CGROUP -n "/$P"
	grep -qx "/$P/e" "$out" || { show; return 1; }
	ctl usage -o CGROUP -n "/$P"
	! grep -qx "/$P/e" "$out" || { show; return 1; }
	# d pays about 4M (f1: 8M shared by three, f2: 4M shared by two).
	ctl usage --min 6M -o CGROUP -n "/$P"
	! grep -qx "/$P/c/d" "$out" && grep -qx "/$P/a" "$out" || { show; return 1; }
}

t_charges() {
	$PY "$CHECK" charges "/$P/a" "/$P/b" "/$P/c/d" "/$P/e"
}

t_prometheus() {
	ctl usage --format=prometheus "/$P" && keep p1 &&
		ctl usage --format prometheus &&
		check prometheus / :: --in "$tmp/p1" prometheus "/$P" || return 1
	# Each metric family: HELP, TYPE, then its samples.
	grep -q '^mpcg_cgroup_paid_bytes{cgroup="/'$P'/a"} [0-9]*$' "$out" || { show; return 1; }
	# " and \ escaped in label values (both parsers read them back).
	grep -Fqx 'mpcg_cgroup_paid_bytes{cgroup="/'"$P"'-w\"q\\b s"} '$M "$out" ||
		{ show; return 1; }
}

t_human() {
	local r=0
	"$MPCGCTL" members --json "$f1" >"$tmp/h1.json" &&
		"$MPCGCTL" members --json --bytes "$f1" >"$tmp/b1.json" &&
		"$MPCGCTL" usage --json --output-all "/$P" >"$tmp/h2.json" &&
		"$MPCGCTL" usage --json --bytes --output-all "/$P" >"$tmp/b2.json" &&
		$PY "$CHECK" human members "$tmp/h1.json" "$tmp/b1.json" \
			touched fair paid shortfall peak :: \
			human usage "$tmp/h2.json" "$tmp/b2.json" \
			touched fair paid shortfall || r=1
	ctl stat --raw -n -o SIZE,CHUNK,RESIDENT "$f1"
	[ "$(cat "$out")" = "32M 1M 32M" ] || { show; r=1; }
	return $r
}

t_raw_noheadings() {
	local r=0
	ctl members "$f1"
	head -n1 "$out" | grep -Eq '^CGROUP +FLAGS +ATTACH +TOUCHED +FAIR +PAID +SHORTFALL +PEAK$' ||
		{ show; r=1; }
	[ "$(wc -l <"$out")" = 5 ] || { show; r=1; }
	ctl members -n "$f1"
	[ "$(wc -l <"$out")" = 4 ] && ! grep -q CGROUP "$out" || { show; r=1; }
	ctl members --raw -o CGROUP,PAID --bytes "$f1"
	head -n1 "$out" | grep -qx 'CGROUP PAID' || { show; r=1; }
	awk 'NR > 1 && (NF != 2 || $2 !~ /^[0-9]+$/) { exit 1 }' "$out" || { show; r=1; }
	# -o +LIST adds to the default columns.
	ctl members -o +ID,SLOT "$f1"
	head -n1 "$out" | grep -Eq 'PEAK +ID +SLOT$' || { show; r=1; }
	# Options before the command work too.
	ctl members --json --bytes --output-all "$f1" && keep j1 &&
		ctl --json --bytes --output-all members "$f1" &&
		cmp -s "$out" "$tmp/j1" || { show; r=1; }
	return $r
}

t_policy() {
	local r=0 p
	ctl policy "$f2" && [ "$(cat "$out")" = proportional ] || { show; r=1; }
	ctl policy "$f2" equal && [ ! -s "$out" ] || { show; cat "$err"; return 1; }
	ctl policy "$f2" && [ "$(cat "$out")" = equal ] || { show; r=1; }
	# What the ABI says: policy 1 (equal), state 1 (pending).
	ctl stat --json --bytes --output-all "$f2" && check stat "$f2" &&
		grep -q '"policy": "equal"' "$out" &&
		grep -q '"state": "pending"' "$out" || { show; r=1; }
	ctl reassess -n -o STATE "$f2" && [ "$(cat "$out")" = assessed ] || { show; r=1; }
	# equal: b and d (its members) share all 8 chunks.
	ctl members --json --bytes --output-all "$f2" && check members "$f2" || r=1
	ctl members --raw -n -o CGROUP,FAIR --bytes "$f2"
	diff -u - "$out" <<-EOF | sed 's/^/# /'
	/$P/b $((4 * M))
	/$P/c/d $((4 * M))
	EOF
	[ "${PIPESTATUS[0]}" = 0 ] || r=1
	for p in 2:first-touch FIRST_TOUCH:first-touch owner:owner 0:proportional; do
		ctl policy "$f2" "${p%%:*}" && ctl policy "$f2" &&
			[ "$(cat "$out")" = "${p#*:}" ] || { echo "# policy $p"; show; r=1; }
	done
	ctl reassess "$f2" && ctl members --json --bytes --output-all "$f2" &&
		check members "$f2" || r=1
	return $r
}

t_top_batch() {
	ctl top -n 3 -d 0.1 --bytes && check top-batch 3 || { show; return 1; }
	# Not a terminal, no -n: it keeps printing until interrupted.
	timeout -s INT 6 "$MPCGCTL" top -d 0.1 >"$out" 2>"$err"
	[ "$(grep -c '^mpcgctl top - ' "$out")" -ge 2 ] || { show; return 1; }
}

t_top_tty() {
	$PY "$CHECK" top-pty "$MPCGCTL" &&
		# -o names columns of the cgroups view, not of the regions view.
		$PY "$CHECK" top-pty "$MPCGCTL" -o CGROUP,PAID
}

t_err_usage() {
	local r=0
	expect 2 "^mpcgctl: no command given" "$MPCGCTL" || r=1
	expect 2 "^mpcgctl: unknown command 'frob'" "$MPCGCTL" frob || r=1
	expect 2 "^mpcgctl: unrecognized option '--frob'" "$MPCGCTL" --frob list || r=1
	expect 2 "^mpcgctl: unrecognized option '--frob'" "$MPCGCTL" members --frob "$f1" || r=1
	expect 2 "^mpcgctl: invalid option -- 'Z'" "$MPCGCTL" stat -Z "$f1" || r=1
	expect 2 "^mpcgctl: members: missing argument: FILE" "$MPCGCTL" members || r=1
	expect 2 "^mpcgctl: stat: missing argument" "$MPCGCTL" stat || r=1
	expect 2 "^mpcgctl: policy: missing argument" "$MPCGCTL" policy || r=1
	expect 2 "^mpcgctl: members: unexpected argument 'x'" "$MPCGCTL" members "$f1" x || r=1
	expect 2 "^mpcgctl: policy: unexpected argument 'x'" "$MPCGCTL" policy "$f1" equal x || r=1
	expect 2 "^mpcgctl: list: unexpected argument" "$MPCGCTL" list x || r=1
	expect 2 "^mpcgctl: usage: unexpected argument" "$MPCGCTL" usage / x || r=1
	expect 2 "^mpcgctl: top: unexpected argument" "$MPCGCTL" top x || r=1
	expect 2 "^mpcgctl: option '-o' requires an argument" "$MPCGCTL" members "$f1" -o || r=1
	expect 2 "^mpcgctl: option '-d' requires an argument" "$MPCGCTL" top -d || r=1
	grep -q "^Try 'mpcgctl top --help'" "$err" || { cat "$err"; r=1; }
	expect 2 "^mpcgctl: top: --json is not supported" "$MPCGCTL" top -J -n 1 || r=1
	expect 2 "^mpcgctl: top: --json is not supported" "$MPCGCTL" top --json -n 1 || r=1
	expect 2 "^mpcgctl: top: --json is not supported" "$MPCGCTL" --json top -n 1 || r=1
	return $r
}

t_err_values() {
	local r=0
	expect 1 "^mpcgctl: unknown column: FOO$" "$MPCGCTL" members -o CGROUP,FOO "$f1" || r=1
	expect 1 "^mpcgctl: unknown column: BAR$" "$MPCGCTL" list -o +BAR || r=1
	expect 1 "^mpcgctl: bogus: unknown policy" "$MPCGCTL" policy "$f1" bogus || r=1
	expect 1 "^mpcgctl: 7: unknown policy" "$MPCGCTL" policy "$f1" 7 || r=1
	expect 1 "^mpcgctl: 12Q: invalid size$" "$MPCGCTL" usage --min 12Q || r=1
	expect 1 "^mpcgctl: M: invalid size$" "$MPCGCTL" list --min M || r=1
	expect 1 "^mpcgctl: abc: invalid delay" "$MPCGCTL" top -d abc || r=1
	expect 1 "^mpcgctl: 0: invalid number of iterations" "$MPCGCTL" top -n 0 || r=1
	expect 1 "^mpcgctl: xml: unknown format" "$MPCGCTL" usage --format=xml || r=1
	expect 1 "^mpcgctl: /no/such/cgroup: no such cgroup$" "$MPCGCTL" usage /no/such/cgroup || r=1
	expect 1 "^mpcgctl: $mnt/nofile: No such file or directory$" "$MPCGCTL" members "$mnt/nofile" || r=1
	# The policy did not change.
	ctl policy "$f1" && [ "$(cat "$out")" = proportional ] || { show; r=1; }
	return $r
}

t_err_not_mpcg() {
	local r=0
	echo x >"$tmp/plain"
	expect 1 "^mpcgctl: $tmp/plain: not an mpcg file$" "$MPCGCTL" stat "$tmp/plain" || r=1
	expect 1 "^mpcgctl: $tmp/plain: not an mpcg file$" "$MPCGCTL" members "$tmp/plain" || r=1
	expect 1 "^mpcgctl: $tmp/plain: not an mpcg file$" "$MPCGCTL" policy "$tmp/plain" equal || r=1
	expect 1 "^mpcgctl: $tmp/plain: not an mpcg file$" "$MPCGCTL" reassess "$tmp/plain" || r=1
	expect 1 "^mpcgctl: $mnt: not an mpcg file$" "$MPCGCTL" attachments "$mnt" || r=1
	expect 1 "^mpcgctl: /proc/self/status: not an mpcg file$" "$MPCGCTL" chunks /proc/self/status || r=1
	# stat of several files: the good ones are shown, the status is 1.
	"$MPCGCTL" stat -n -o PATH "$f1" "$tmp/plain" "$f2" >"$out" 2>"$err"
	[ $? = 1 ] && [ "$(cat "$out")" = "$(printf '%s\n%s' "$f1" "$f2")" ] &&
		grep -q "^mpcgctl: $tmp/plain: not an mpcg file$" "$err" ||
		{ show; cat "$err"; r=1; }
	return $r
}

t_err_module() {
	# What mpcgctl sees without the module: no /dev/mpcg, no /sys/module/mpcg.
	local hide="mount -t tmpfs none /dev && mount -t tmpfs none /sys/module && exec"
	expect 1 "^mpcgctl: /dev/mpcg: the mpcg module is not loaded$" \
		unshare -m sh -c "$hide \"\$@\"" sh "$MPCGCTL" list || return 1
	expect 1 "^mpcgctl: /dev/mpcg: the mpcg module is not loaded$" \
		unshare -m sh -c "$hide \"\$@\"" sh "$MPCGCTL" usage || return 1
	expect 1 "^mpcgctl: /dev/mpcg: the mpcg module is not loaded$" \
		unshare -m sh -c "$hide \"\$@\"" sh "$MPCGCTL" top -n 1 || return 1
	expect 1 "^mpcgctl: $tmp/plain: not an mpcg file \(the mpcg module is not loaded\)$" \
		unshare -m sh -c "$hide \"\$@\"" sh "$MPCGCTL" stat "$tmp/plain"
}

t_err_permission() {
	local r=0
	expect 1 "^mpcgctl: /dev/mpcg: permission denied" nobody "$MPCGCTL" list || r=1
	expect 1 "^mpcgctl: /dev/mpcg: permission denied" nobody "$MPCGCTL" usage || r=1
	expect 1 "^mpcgctl: /dev/mpcg: permission denied" nobody "$MPCGCTL" top -n 1 || r=1
	expect 1 "^mpcgctl: $f1: cannot set the policy: permission denied" \
		nobody "$MPCGCTL" policy "$f1" owner || r=1
	expect 1 "^mpcgctl: $mnt/private: permission denied$" \
		nobody "$MPCGCTL" stat "$mnt/private" || r=1
	# Anyone who can open a region reads its statistics.
	ctl members --json --bytes --output-all "$f1" && keep n1 &&
		nobody "$MPCGCTL" members --json --bytes --output-all "$f1" >"$out" 2>"$err" &&
		cmp -s "$out" "$tmp/n1" || { show; cat "$err"; r=1; }
	ctl policy "$f1" && [ "$(cat "$out")" = proportional ] || { show; r=1; }
	return $r
}

t_removed() {
	# f5's owner, a cgroup removed after its holder exited, still pays
	# (nothing reassesses f5): it is named "#ID (removed)".
	local id pid
	mkdir "$CGX" && id=$(stat -c %i "$CGX") || return 1
	hold_in "$CGX" --create "$f5" $M --ready "$tmp/ready.x"
	wait_file "$tmp/ready.x" && pid=$(cat "$tmp/ready.x") || return 1
	kill "$pid" && wait "$pid"
	rmdir "$CGX" || return 1
	ctl members -n -o CGROUP,FLAGS,PAID --bytes "$f5"
	grep -Eqx "#$id \(removed\) +owner,departed +$M" "$out" || { show; return 1; }
	ctl stat -n -o OWNER,OWNER_ID "$f5"
	grep -Eqx "#$id \(removed\) +$id" "$out" || { show; return 1; }
	ctl members --json --bytes --output-all "$f5" && check members "$f5" &&
		ctl stat --json --bytes --output-all "$f5" && check stat "$f5"
}

t_departed() {
	# A member that left (its holder exited) still pays until the next
	# reassessment: members lists it flagged departed, stat counts it as
	# DEPARTED (and not in MEMBERS); both as the ABI says.
	local pid_g pid_h r=0
	cgcreate -g memory:/$P/g -g memory:/$P/h || return 1
	hold g --create "$f6" $((4 * M)) --ready "$tmp/ready.g"
	wait_file "$tmp/ready.g" && pid_g=$(cat "$tmp/ready.g") || return 1
	hold h --read "$f6" --ready "$tmp/ready.h"
	wait_file "$tmp/ready.h" && pid_h=$(cat "$tmp/ready.h") || return 1
	ctl reassess "$f6" || { cat "$err"; return 1; }
	kill "$pid_h" && wait "$pid_h"
	ctl members --raw -n -o CGROUP,FLAGS,ATTACH,PAID --bytes "$f6"
	diff -u - "$out" <<-EOF | sed 's/^/# /'
	/$P/g owner 1 $((2 * M))
	/$P/h departed 0 $((2 * M))
	EOF
	[ "${PIPESTATUS[0]}" = 0 ] || r=1
	ctl stat --raw -n -o MEMBERS,DEPARTED,ATTACH,RESIDENT --bytes "$f6"
	[ "$(cat "$out")" = "1 1 1 $((4 * M))" ] || { show; r=1; }
	ctl stat "$f6" && head -n1 "$out" | grep -q ' MEMBERS DEPARTED ' || { show; r=1; }
	ctl members --json --bytes --output-all "$f6" && check members "$f6" &&
		ctl stat --json --bytes --output-all "$f6" && check stat "$f6" || r=1
	# The reassessment moves what h paid to g; then h is in neither.
	ctl reassess "$f6" && ctl members --raw -n -o CGROUP,FLAGS,PAID --bytes "$f6"
	[ "$(cat "$out")" = "/$P/g owner $((4 * M))" ] || { show; r=1; }
	ctl stat --raw -n -o MEMBERS,DEPARTED "$f6"
	[ "$(cat "$out")" = "1 0" ] || { show; r=1; }
	ctl stat --json --bytes --output-all "$f6" && check stat "$f6" || r=1
	kill "$pid_g" && wait "$pid_g"
	rm -f "$f6"
	return $r
}

t_long_names() {
	# Piped, no cell is cut, whatever width COLUMNS says: a cgroup path
	# and a file path longer than any terminal line appear whole.
	local long=with-a-name-longer-than-a-terminal-line-has-room-for-0123456789
	local cg=long-$long/child-$long dir=$mnt/dir-$long lf r=0 pid c
	lf=$dir/region-$long
	cgcreate -g memory:/$P/$cg && mkdir "$dir" || return 1
	hold "$cg" --create "$lf" $M --ready "$tmp/ready.l"
	wait_file "$tmp/ready.l" && pid=$(cat "$tmp/ready.l") || return 1
	for c in list "members $lf" "usage /$P" "stat $lf"; do
		COLUMNS=40 "$MPCGCTL" $c 2>"$err" | cat >"$out"
		grep -Fq -- "/$P/$cg " "$out" || { echo "# $c: no /$P/$cg"; show; r=1; }
		case $c in
		list | stat*)
			grep -Fq -- "$lf " "$out" || { echo "# $c: no $lf"; show; r=1; } ;;
		esac
	done
	kill "$pid" && wait "$pid"
	rm -f "$lf"
	rmdir "$dir" "$CG/$cg" "$CG/long-$long"
	return $r
}

# ---- run ----

# MPCGCTL_TESTS="word ..." runs only the tests whose name contains a word.
selected() {
	local w
	[ -z "${MPCGCTL_TESTS-}" ] && return 0
	for w in $MPCGCTL_TESTS; do
		[[ $1 == *"$w"* ]] && return 0
	done
	return 1
}

pass=0 fail=0 skip=0 i=0
for t in "${tests[@]}"; do
	i=$((i + 1))
	if ! selected "$t"; then
		skip=$((skip + 1))
		echo "ok $i $t # SKIP not in MPCGCTL_TESTS"
		continue
	fi
	echo "# $t"
	t0=${EPOCHREALTIME/./}
	"$t"
	rc=$?
	t0=$(((${EPOCHREALTIME/./} - t0) / 1000))
	echo "# $t: $((t0 / 1000)).$(printf %03d $((t0 % 1000))) s"
	if [ $rc = 0 ]; then
		pass=$((pass + 1))
		echo "ok $i $t"
	else
		fail=$((fail + 1))
		echo "not ok $i $t"
	fi
done
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" = 0 ]

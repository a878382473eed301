#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# runtime_test: real OCI containers on mpcg, run by crun and by runc (both
# from Debian), as a container host would run them: bundles built here in
# /tmp by tools/oci-bundle.sh from busybox-static and map_touch
# (selftests/map_touch.c), the cgroupfs cgroup manager, each container in
# its own memory cgroup /$P/RUNTIME-NAME with a memory.max.  For each
# runtime (docs/runtimes.md shows the same config.json snippets):
#
#   1 shared_fair    one mpcg mount (chunk=1M) bound into c1, c2, c3 at
#                    /dev/shm; c1 writes a 48 MiB file, c2 and c3 read all
#                    of it and keep it open; after `mpcgctl reassess` each
#                    pays 16 MiB, by mpcgctl members and by its own
#                    memory.current
#   2 exec_shm       `RUNTIME exec` into c2 sees the container's /dev/shm
#                    (the mpcg mount and the file)
#   3 oom            c4 (memory.max 24M) maps a 64 MiB file on the same
#                    /dev/shm and touches it: the kernel kills it in its own
#                    cgroup (oom and oom_kill in c4's memory.events), the
#                    container stops; c1..c3 keep running, their
#                    memory.events and charges unchanged
#   4 one_stops      c3 stops: c1 and c2 pay 24 MiB each, c3 nothing
#   5 own_mpcg_shm   c5's own /dev/shm is a mount of "type": "mpcg" in its
#                    config.json (chunk=64k): an 8 MiB file there is paid
#                    by c5, its only member; exec sees that mount
#   6 no_charge_left all stop, the file is removed and the shared mount
#                    goes (c5's with its mount namespace): every container
#                    cgroup's charge is back to its baseline, the parent's
#                    too once the containers are deleted, and every counter
#                    of /sys/kernel/debug/mpcg/objects is 0
#
# "Charge" is memory.current less the page cache (memory.stat's file), as
# in the other tests (cg_charge() of selftests/lib/cgroup.c): the runtimes
# and busybox run from the guest's 9p root and /tmp, and whoever faults a
# page of them first pays for it.  A container's baseline is its charge once
# its agent shell is ready, before it touches /dev/shm.
#
# The containers run an agent (a busybox sh loop) that reads commands from
# a FIFO and answers with their exit status on another, so the test decides
# when each container touches what.  Automatic reassessment is off during
# the test; `mpcgctl reassess` does them.  A missing runtime skips its
# cases with the reason.  TAP 13, with the kselftest harness's totals line
# at the end.  Installed as build/selftests/runtime_test; runs as root in
# the test VM (tools/testing/vm-run) with mpcg.ko loaded.
# RUNTIME_TEST_RUNTIMES="crun" runs one runtime's cases only.
set -u

self=$(readlink -f "$0")
case $self in
*/build/selftests/*) top=$(cd "$(dirname "$self")/../.." && pwd) ;;
*) top=$(cd "$(dirname "$self")/.." && pwd) ;;
esac
MPCGCTL=${MPCGCTL:-$top/build/bin/mpcgctl}
MAP_TOUCH=$top/build/selftests-helpers/map_touch
M=1048576
CHUNK=$M		# of the shared mount
FILE_MIB=48		# the shared file: 16 MiB for each of 3 members
OWN_CHUNK=65536		# of c5's own /dev/shm
OWN_MIB=8
# What a charge may differ from what mpcg says a cgroup pays, on top of the
# chunk a fair share is rounded to: the per-cpu charge caches (up to 64
# pages of one cgroup per CPU, charged to its memory.current before they
# are used: 512 KiB on the VM's 2 CPUs) and the kernel objects and page
# tables of the agent's short-lived children (dd, cat) that are not freed
# yet; the same 512 KiB as shm_test and the stress run allow.
TOL=$((512 * 1024 + 512 * 1024))
ANSWER_S=180		# the longest an agent may take to answer (TCG)

read -ra runtimes <<<"${RUNTIME_TEST_RUNTIMES:-crun runc}"
cases=(shared_fair exec_shm oom one_stops own_mpcg_shm no_charge_left)
total=$((${#runtimes[@]} * ${#cases[@]}))

echo "TAP version 13"
echo "1..$total"
n=0 passed=0 failed=0 skipped=0

skip_all() {
	local r c
	for r in "${runtimes[@]}"; do
		for c in "${cases[@]}"; do
			n=$((n + 1))
			echo "ok $n $r $c # SKIP $1"
		done
	done
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:$total error:0"
	exit 4
}

[ "$(id -u)" = 0 ] || skip_all "not root"
[ -e /dev/mpcg ] || skip_all "the mpcg module is not loaded"
[ -x "$MPCGCTL" ] || skip_all "$MPCGCTL not built (make tools)"
[ -x "$MAP_TOUCH" ] || skip_all "$MAP_TOUCH not built (make selftests)"
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
	skip_all "/bin/busybox missing or not static (busybox-static)"
grep -qw memory /sys/fs/cgroup/cgroup.subtree_control ||
	skip_all "no memory controller in /sys/fs/cgroup"

P=runtime-test-$$
CG=/sys/fs/cgroup/$P
tmp=$(mktemp -d /tmp/runtime-test.XXXXXX)
rootfs=$tmp/rootfs
state=$tmp/state
shm=$tmp/pod-shm	# the shared mount, a pod's /dev/shm
auto=
declare -A in_fd out_fd base
ids=()

cleanup() {
	local id
	for id in "${ids[@]}"; do
		rt "${id%%-*}" delete -f "$id" >/dev/null 2>&1
	done
	mountpoint -q "$shm" && umount "$shm"
	[ -d "$CG" ] && find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
	[ -n "$auto" ] && echo "$auto" >/sys/module/mpcg/parameters/auto_reassess_ms
	rm -rf "$tmp"
}
trap cleanup EXIT

bail() {
	echo "Bail out! $*"
	exit 1
}

# ---- containers ----

# rt RUNTIME ARGS...: the runtime, with its state in $state and cgroupfs.
rt() {
	local r=$1
	shift
	case $r in
	crun) crun --root "$state/crun" --cgroup-manager=cgroupfs "$@" ;;
	runc) runc --root "$state/runc" "$@" ;;
	esac
}

# The bundles' parts (oci_rootfs, oci_shm_bind, oci_shm_mpcg, oci_config).
# shellcheck source=tools/oci-bundle.sh
. "$top/tools/oci-bundle.sh"

shm_bind() { oci_shm_bind "$shm"; }
shm_own() { oci_shm_mpcg nosuid,nodev,mode=1777,size=64m,chunk=64k; }

# The agent: answers "ready" on /ctl/out, then runs each line of /ctl/in
# in this shell (so an "exec 3<FILE" keeps FILE open) and answers with its
# exit status.
# shellcheck disable=SC2016  # for the container's shell
AGENT='exec 5</ctl/in 4>/ctl/out; echo ready >&4; while read -r cmd <&5; do eval "$cmd"; echo $? >&4; done'

# start RUNTIME NAME MEMORY_MAX SHM_MOUNT [ARGS...]: run container
# RUNTIME-NAME detached (the agent unless ARGS are given); with the agent,
# wait until it is ready and take the cgroup's baseline charge.
start() {
	local r=$1 id=$1-$2 max=$3 mnt=$4 ready
	shift 4
	[ $# -gt 0 ] || set -- /bin/sh -c "$AGENT"
	mkdir -p "$tmp/$id/ctl" &&
		oci_config "$tmp/$id" "$rootfs" "$id" "/$P/$id" "$max" "$mnt" "$tmp/$id/ctl" "$@" ||
		return 1
	mkfifo "$tmp/$id/ctl/in" "$tmp/$id/ctl/out" || return 1
	exec {in_fd[$id]}<>"$tmp/$id/ctl/in" {out_fd[$id]}<>"$tmp/$id/ctl/out"
	ids+=("$id")
	if ! rt "$r" run -d --bundle "$tmp/$id" "$id" </dev/null >"$tmp/$id/log" 2>&1; then
		echo "# $r run $id failed:"
		sed 's/^/#   /' "$tmp/$id/log"
		return 1
	fi
	[ "$1" = /bin/sh ] || return 0
	if ! read -r -t $ANSWER_S ready <&"${out_fd[$id]}" || [ "$ready" != ready ]; then
		echo "# $id: the agent did not get ready; its output:"
		sed 's/^/#   /' "$tmp/$id/log"
		return 1
	fi
	base[$id]=$(charge "$id")
}

# ask ID COMMAND: run COMMAND in container ID's agent; its exit status.
ask() {
	local id=$1 rc
	echo "$2" >&"${in_fd[$id]}"
	if ! read -r -t $ANSWER_S rc <&"${out_fd[$id]}"; then
		echo "# $id: no answer to: $2"
		return 124
	fi
	[ "$rc" = 0 ] || echo "# $id: '$2' exited with $rc"
	return "$rc"
}

# status ID: the container's status (running, stopped...) by its runtime.
status() {
	rt "${1%%-*}" state "$1" 2>/dev/null | sed -n 's/^ *"status": *"\([a-z]*\)".*/\1/p'
}

# pid ID: the pid of the container's first process.
pid() {
	rt "${1%%-*}" state "$1" 2>/dev/null | sed -n 's/^ *"pid": *\([0-9]*\).*/\1/p'
}

# stop ID: kill the container and wait until its runtime says it stopped.
stop() {
	local i
	rt "${1%%-*}" kill "$1" KILL 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		[ "$(status "$1")" = stopped ] && return 0
		sleep 0.1
	done
	echo "# $1 did not stop: $(status "$1")"
	return 1
}

# remove ID: delete the container (and so its cgroup).
remove() {
	local i
	rt "${1%%-*}" delete -f "$1" >/dev/null 2>&1 || { echo "# cannot delete $1"; return 1; }
	for i in "${!ids[@]}"; do
		[ "${ids[$i]}" != "$1" ] || unset "ids[$i]"
	done
}

# ---- what cgroups pay ----

# charge ID: memory.current less page cache of the cgroup of ID (or of a
# cgroup path under /sys/fs/cgroup).
charge() {
	local d=$CG/$1 cur file
	[ "${1#/}" = "$1" ] || d=/sys/fs/cgroup$1
	cur=$(cat "$d/memory.current") || return 1
	file=$(awk '$1 == "file" { print $2 }' "$d/memory.stat")
	echo $((cur - file))
}

# pays ID: what ID's cgroup pays now above its baseline.
pays() {
	echo $(($(charge "$1") - ${base[$1]}))
}

mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }

# near BYTES WANT SLACK: |BYTES - WANT| <= SLACK.
near() {
	local d=$(($1 - $2))
	[ ${d#-} -le "$3" ]
}

# paid_by FILE WANT_MIB CHUNK ID...: each ID's cgroup pays WANT_MIB within
# CHUNK by mpcgctl members, and what mpcgctl says within TOL by its
# memory.current; the members shown are exactly those; says what differs.
paid_by() {
	local file=$1 want=$(($2 * M)) chunk=$3 out cgp fair paid id r=0
	shift 3
	out=$("$MPCGCTL" members --raw --noheadings --bytes -o CGROUP,FAIR,PAID "$file") || {
		echo "# mpcgctl members $file failed"
		return 1
	}
	echo "# mpcgctl members $file (cgroup fair paid):"
	sed 's/^/#   /' <<<"$out"
	[ "$(wc -l <<<"$out")" = $# ] || { echo "# want $# members"; r=1; }
	for id in "$@"; do
		read -r cgp fair paid < <(awk -v c="/$P/$id" '$1 == c' <<<"$out")
		if [ -z "${cgp:-}" ]; then
			echo "# $id is not a member"
			r=1
			continue
		fi
		near "$paid" $want "$chunk" || { echo "# $id pays $paid, not $want within a chunk"; r=1; }
		near "$(pays "$id")" "$paid" $TOL || {
			echo "# $id: memory.current says it pays $(pays "$id"), mpcgctl $paid"
			r=1
		}
		echo "# $id pays $(mib "$(pays "$id")") MiB by its memory.current"
	done
	return $r
}

# ---- TAP ----

# result NAME STATUS: an "ok" or "not ok" line.
result() {
	n=$((n + 1))
	if [ "$2" = 0 ]; then
		passed=$((passed + 1))
		echo "ok $n $1"
	else
		failed=$((failed + 1))
		echo "not ok $n $1"
	fi
}

skip_runtime() {
	local c
	for c in "${cases[@]}"; do
		n=$((n + 1)) skipped=$((skipped + 1))
		echo "ok $n $1 $c # SKIP $2"
	done
}

# ---- the cases ----

# 1: c1 writes the file, c2 and c3 read it; each pays a third.
c_shared_fair() {
	local r=$1 f=$shm/f
	start "$r" c1 $((128 * M)) "$(shm_bind)" && start "$r" c2 $((128 * M)) "$(shm_bind)" &&
		start "$r" c3 $((128 * M)) "$(shm_bind)" || return 1
	ask "$r-c1" "exec 3<>/dev/shm/f && dd if=/dev/zero bs=1M count=$FILE_MIB >&3 2>/dev/null" &&
		ask "$r-c2" "exec 3</dev/shm/f && cat <&3 >/dev/null" &&
		ask "$r-c3" "exec 3</dev/shm/f && cat <&3 >/dev/null" || return 1
	"$MPCGCTL" reassess "$f" >/dev/null || { echo "# mpcgctl reassess $f failed"; return 1; }
	paid_by "$f" $((FILE_MIB / 3)) $CHUNK "$r-c1" "$r-c2" "$r-c3"
}

# exec_sees ID FILE BYTES FSTYPE: RUNTIME exec into ID shows /dev/shm as a
# mount of FSTYPE with FILE of BYTES in it.
exec_sees() {
	local id=$1 out
	# shellcheck disable=SC2016  # for the container's shell
	out=$(rt "${id%%-*}" exec "$id" /bin/sh -c \
		'echo "hostname $(hostname)"; awk '\''$2 == "/dev/shm" { print "mount", $3 }'\'' /proc/mounts; stat -c "size %s" "$1"' \
		sh "$2" 2>&1)
	echo "# ${id%%-*} exec $id: $(tr '\n' ';' <<<"$out")"
	grep -qx "hostname $id" <<<"$out" && grep -qx "mount $4" <<<"$out" &&
		grep -qx "size $3" <<<"$out"
}

# 2: exec into c2 sees its /dev/shm.
c_exec_shm() {
	exec_sees "$1-c2" /dev/shm/f $((FILE_MIB * M)) mpcg
}

# 3: c4 goes over its memory.max through a mapping: killed in its cgroup.
c_oom() {
	local r=$1 id=$1-c4 c ev r2=0 i
	declare -A ev0 ch0
	for c in c1 c2 c3; do
		ev0[$c]=$(cat "$CG/$r-$c/memory.events")
		ch0[$c]=$(pays "$r-$c")
	done
	start "$r" c4 $((24 * M)) "$(shm_bind)" /bin/map_touch /dev/shm/big 64m || return 1
	for ((i = 0; i < 600; i++)); do
		[ "$(status "$id")" = stopped ] && break
		sleep 0.1
	done
	ev=$(tr '\n' ' ' <"$CG/$id/memory.events")
	echo "# $id: $(status "$id"), memory.events: $ev, log: $(tr '\n' ' ' <"$tmp/$id/log")"
	[ "$(status "$id")" = stopped ] || r2=1
	[ "$(awk '$1 == "oom_kill" { print $2 }' "$CG/$id/memory.events")" -ge 1 ] &&
		[ "$(awk '$1 == "oom" { print $2 }' "$CG/$id/memory.events")" -ge 1 ] || r2=1
	for c in c1 c2 c3; do
		[ "$(status "$r-$c")" = running ] || { echo "# $r-$c: $(status "$r-$c")"; r2=1; }
		[ "$(cat "$CG/$r-$c/memory.events")" = "${ev0[$c]}" ] || {
			echo "# $r-$c: memory.events changed: $(tr '\n' ' ' <"$CG/$r-$c/memory.events")"
			r2=1
		}
		near "$(pays "$r-$c")" "${ch0[$c]}" $TOL || {
			echo "# $r-$c: pays $(pays "$r-$c"), was ${ch0[$c]}"
			r2=1
		}
	done
	rm -f "$shm/big"
	remove "$id" || r2=1
	return $r2
}

# 4: c3 stops; c1 and c2 pay for it.
c_one_stops() {
	local r=$1 f=$shm/f
	stop "$r-c3" || return 1
	"$MPCGCTL" reassess "$f" >/dev/null || { echo "# mpcgctl reassess $f failed"; return 1; }
	paid_by "$f" $((FILE_MIB / 2)) $CHUNK "$r-c1" "$r-c2" || return 1
	near "$(pays "$r-c3")" 0 $TOL || { echo "# $r-c3 still pays $(pays "$r-c3")"; return 1; }
	remove "$r-c3"
}

# 5: c5's own /dev/shm is an mpcg mount of its config.json.
c_own_mpcg_shm() {
	local r=$1 id=$1-c5 f
	start "$r" c5 $((64 * M)) "$(shm_own)" || return 1
	ask "$id" "exec 3<>/dev/shm/own && dd if=/dev/zero bs=64k count=$((OWN_MIB * 16)) >&3 2>/dev/null" ||
		return 1
	f=/proc/$(pid "$id")/root/dev/shm/own
	"$MPCGCTL" reassess "$f" >/dev/null || { echo "# mpcgctl reassess $f failed"; return 1; }
	paid_by "$f" $OWN_MIB $OWN_CHUNK "$id" && exec_sees "$id" /dev/shm/own $((OWN_MIB * M)) mpcg
}

# 6: everything stops and goes; no charge is left anywhere.
c_no_charge_left() {
	local r=$1 id ok=0 i bad objs
	for id in "$r-c1" "$r-c2" "$r-c5"; do
		stop "$id" || ok=1
	done
	rm -f "$shm/f"
	umount "$shm" || { echo "# cannot unmount $shm"; ok=1; }
	for id in "$r-c1" "$r-c2" "$r-c5"; do
		for ((i = 0; i < 50; i++)); do
			near "$(pays "$id")" 0 $TOL && break
			sleep 0.1
		done
		echo "# $id (stopped) pays $(pays "$id") above its baseline"
		near "$(pays "$id")" 0 $TOL || ok=1
	done
	for id in "$r-c1" "$r-c2" "$r-c5"; do
		remove "$id" || ok=1
	done
	for ((i = 0; i < 50; i++)); do
		bad=0
		objs=$(cat /sys/kernel/debug/mpcg/objects 2>/dev/null) || break
		bad=$(awk '$2 != 0' <<<"$objs" | wc -l)
		[ "$bad" = 0 ] && break
		sleep 0.1
	done
	if [ -z "${objs:-}" ]; then
		echo "# no /sys/kernel/debug/mpcg/objects: the object counters are not checked"
	else
		echo "# objects: $(tr '\n' ' ' <<<"$objs")"
		[ "$bad" = 0 ] || ok=1
	fi
	echo "# /$P pays $(charge "/$P") (baseline $parent_base)"
	near "$(charge "/$P")" "$parent_base" $TOL || ok=1
	return $ok
}

# ---- main ----

auto=$(cat /sys/module/mpcg/parameters/auto_reassess_ms) || bail "no auto_reassess_ms"
echo 0 >/sys/module/mpcg/parameters/auto_reassess_ms
oci_rootfs "$rootfs" "$MAP_TOUCH" || bail "cannot build the root file system in $rootfs"
mkdir -p "$CG" "$shm" "$state" && echo +memory >"$CG/cgroup.subtree_control" ||
	bail "cannot make $CG"
parent_base=$(charge "/$P")

for r in "${runtimes[@]}"; do
	if ! command -v "$r" >/dev/null; then
		skip_runtime "$r" "$r is not installed (make deps installs it)"
		continue
	fi
	echo "# $r: $("$r" --version | head -n1)"
	mount -t mpcg -o size=256M,chunk=1M,mode=1777 mpcg "$shm" || bail "cannot mount mpcg on $shm"
	broken=
	for c in "${cases[@]}"; do
		t0=$SECONDS
		if [ -n "$broken" ]; then
			echo "# not run: $broken failed"
			result "$r $c" 1
			continue
		fi
		"c_$c" "$r"
		rc=$?
		echo "# $r $c: $((SECONDS - t0)) s"
		result "$r $c" $rc
		# The later cases build on the containers of the first.
		[ $rc = 0 ] || [ "$c" != shared_fair ] || broken=$c
	done
	for id in "${ids[@]}"; do
		remove "$id"
	done
	mountpoint -q "$shm" && umount "$shm"
done

echo "# Totals: pass:$passed fail:$failed xfail:0 xpass:0 skip:$skipped error:0"
[ "$failed" = 0 ] || exit 1
[ "$passed" != 0 ] || exit 4
exit 0

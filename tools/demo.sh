#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The mpcg demo, run by `make demo` inside the test VM (as root, with
# mpcg.ko loaded and cgroup v2 mounted): mount mpcg on /dev/shm, let two
# containers' cgroups share one 32 MiB file, and print what each cgroup's
# own memory.current says it pays as they come and go, and what mpcgctl
# shows while both share the file; then the same with two real OCI
# containers run by crun (docs/runtimes.md), which bind one mpcg mount at
# their /dev/shm.
#
# It checks what it shows: at each step every cgroup must pay what it
# should, within one chunk, by its memory.current and by mpcgctl; if not,
# it says what differs and exits 1, so `make demo` fails.
set -euo pipefail

top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
MPCGCTL=${MPCGCTL:-$top/build/bin/mpcgctl}
cg=/sys/fs/cgroup/demo
shm=/dev/shm/shared
size_mib=32
chunk_mib=1
MiB=1048576
settle_s=20	# how long the numbers may take to settle (TCG is slow)

die() {
	echo "demo: $*" >&2
	exit 1
}

[ -x "$MPCGCTL" ] || die "$MPCGCTL is not built (run make tools)"

charged() {	# memory.current less page cache, in bytes
	local cur file
	cur=$(cat "$1/memory.current")
	file=$(awk '$1 == "file" { print $2 }' "$1/memory.stat")
	echo $((cur - file))
}

# The parent cgroup of the containers shown (demo, then pod: the crun
# containers), as mpcgctl names it: /demo.
cgp() { echo "${cg#/sys/fs/cgroup}"; }

# What $cg/$1 pays now, in bytes, by its memory.current.
pays() {
	echo $(($(charged $cg/$1) - ${base[$1]}))
}

# near BYTES WANT_BYTES: are they within one chunk of each other?
near() {
	local d=$(($1 - $2))
	[ ${d#-} -le $((chunk_mib * MiB)) ]
}

# within BYTES MIB: is BYTES within one chunk of MIB MiB?
within() {
	near "$1" $(($2 * MiB))
}

# show TITLE A_MIB B_MIB: wait until $cg/a pays A_MIB MiB and $cg/b
# B_MIB MiB (the automatic reassessment runs 100 ms after a change), print
# what they pay, and fail if they do not settle there.
show() {
	local title=$1 end=$((SECONDS + settle_s)) c
	declare -A want=([a]=$2 [b]=$3)
	until within "$(pays a)" "${want[a]}" && within "$(pays b)" "${want[b]}"; do
		[ $SECONDS -lt $end ] || break
		sleep 0.1
	done
	echo "$title"
	printf '  %-8s %s\n' CGROUP 'PAYS (MiB, from its memory.current)'
	for c in a b; do
		printf '  %-8s %6.2f\n' "${cg#/sys/fs/cgroup/}/$c" "$(echo "$(pays $c) / $MiB" | bc -l)"
	done
	echo
	for c in a b; do
		within "$(pays $c)" "${want[$c]}" ||
			die "$(cgp)/$c pays $(pays $c) bytes by its memory.current, not ${want[$c]} MiB (within a chunk) after ${settle_s} s"
	done
}

# Run mpcgctl as the README shows it, indented.
ctl_show() {
	echo "  \$ mpcgctl $*"
	"$MPCGCTL" "$@" | sed 's/^/  /'
	[ "${PIPESTATUS[0]}" = 0 ] || die "mpcgctl $* failed"
	echo
}

# mpcgctl's numbers: each cgroup's fair share is half the file, it pays
# that within a chunk, and together they pay all of it.
check_mpcgctl() {
	local half=$((size_mib * MiB / 2)) out c cgp fair paid sum=0 rows=0
	out=$("$MPCGCTL" members --raw --noheadings --bytes -o CGROUP,FAIR,PAID $shm) ||
		die "mpcgctl members $shm failed"
	while read -r cgp fair paid; do
		rows=$((rows + 1))
		sum=$((sum + paid))
		[ "$fair" = $half ] ||
			die "mpcgctl members: $cgp has a fair share of $fair bytes, not $half"
		within "$paid" $((size_mib / 2)) ||
			die "mpcgctl members: $cgp pays $paid bytes, not its fair share $half"
	done <<<"$out"
	[ $rows = 2 ] || die "mpcgctl members: $rows members, not 2: $out"
	[ $sum = $((size_mib * MiB)) ] ||
		die "mpcgctl members: the members pay $sum bytes, not the file's $((size_mib * MiB))"
	for c in a b; do
		paid=$("$MPCGCTL" usage --raw --noheadings --bytes -o CGROUP,PAID "$(cgp)" |
			awk -v c="$(cgp)/$c" '$1 == c { print $2 }')
		[ -n "$paid" ] || die "mpcgctl usage $(cgp): no row for $(cgp)/$c"
		within "$paid" $((size_mib / 2)) ||
			die "mpcgctl usage $(cgp): $(cgp)/$c pays $paid bytes, not $half"
		near "$(pays $c)" "$paid" ||
			die "$(cgp)/$c: mpcgctl says it pays $paid bytes, its memory.current $(pays $c)"
	done
}

# Run "$2" in cgroup demo/$1, in the background, holding $shm open on fd 3.
container() {
	sh -c "echo \$\$ > $cg/$1/cgroup.procs; exec 3<>$shm; $2; exec sleep 1000" &
}

mount -t mpcg -o size=256M,chunk=${chunk_mib}M,mode=1777 mpcg /dev/shm
mkdir -p $cg/a $cg/b
echo +memory > $cg/cgroup.subtree_control
declare -A base=([a]=$(charged $cg/a) [b]=$(charged $cg/b))
crun_ids=()
cleanup() {
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
	wait || true
	for p in "${crun_ids[@]}"; do crund delete -f "$p" 2>/dev/null || true; done
	for p in /dev/shm "$pod"; do
		if mountpoint -q "$p"; then umount "$p" || true; fi
	done
	rmdir /sys/fs/cgroup/demo/a /sys/fs/cgroup/demo/b /sys/fs/cgroup/demo 2>/dev/null || true
	rm -rf "$crun_dir"
}
trap cleanup EXIT

echo "mpcg on /dev/shm: $(grep ' /dev/shm mpcg ' /proc/mounts)"
echo

container a "dd if=/dev/urandom bs=1M count=$size_mib status=none >&3"
pid_a=$!
while [ "$(stat -c %s $shm 2>/dev/null || echo 0)" -lt $((size_mib * MiB)) ]; do
	sleep 0.1
done
show "container a created and wrote $shm ($size_mib MiB), and keeps it open:" \
	$size_mib 0

container b "cat <&3 >/dev/null"
pid_b=$!
show "container b read all of it and keeps it open: both touched every chunk" \
	$((size_mib / 2)) $((size_mib / 2))
ctl_show usage /demo
ctl_show members $shm
check_mpcgctl

kill $pid_b
wait $pid_b 2>/dev/null || true
show "container b exited: its share moved back to a" $size_mib 0

kill $pid_a
wait $pid_a 2>/dev/null || true
show "container a exited too: the file's owner (a, which created it) pays" \
	$size_mib 0

rm $shm
show "rm $shm: everything is freed" 0 0

# ---- the same with real containers, run by crun -----------------------------
# Two OCI containers (busybox, tools/oci-bundle.sh), each in its own cgroup
# pod/a, pod/b with a memory.max, bind one mpcg mount at /dev/shm, as the
# containers of a pod would (docs/runtimes.md). Each waits on a FIFO in its
# /ctl until the demo lets it go, so that its cgroup's baseline is taken
# before it touches /dev/shm.
command -v crun >/dev/null || die "crun is not installed (make deps installs it)"
. "$top/tools/oci-bundle.sh"
crund() { crun --root "$crun_dir/state" --cgroup-manager=cgroupfs "$@"; }

# crun_container NAME COMMAND: run container pod-NAME, which runs COMMAND
# once the demo writes to its /ctl/go.
crun_container() {
	mkdir -p "$crun_dir/$1/ctl" && mkfifo "$crun_dir/$1/ctl/go" &&
		oci_config "$crun_dir/$1" "$crun_dir/rootfs" "pod-$1" "/pod/$1" $((128 * MiB)) \
			"$(oci_shm_bind "$pod")" "$crun_dir/$1/ctl" \
			/bin/sh -c "read go </ctl/go; $2; exec sleep 1000" ||
		die "cannot make the bundle of pod-$1"
	crun_ids+=("pod-$1")
	crund run -d --bundle "$crun_dir/$1" "pod-$1" </dev/null >"$crun_dir/$1/log" 2>&1 ||
		die "crun run pod-$1 failed: $(cat "$crun_dir/$1/log")"
	base[$1]=$(charged $cg/$1)
}

# Let container pod-NAME go.
go() {
	timeout 60 sh -c 'echo go >"$1"' sh "$crun_dir/$1/ctl/go" ||
		die "container pod-$1 does not take its go"
}

crun_dir=$(mktemp -d /tmp/demo-crun.XXXXXX)
pod=$crun_dir/pod-shm
cg=/sys/fs/cgroup/pod
shm=$pod/shared
mkdir -p "$pod" $cg && echo +memory > $cg/cgroup.subtree_control
mount -t mpcg -o size=256M,chunk=${chunk_mib}M,mode=1777 mpcg "$pod"
oci_rootfs "$crun_dir/rootfs" || die "cannot build the containers' root file system"

echo "The same with two OCI containers run by $(crun --version | head -n1), in cgroups pod/a and"
echo "pod/b (memory.max 128M each), both binding one mpcg mount at their /dev/shm:"
echo

crun_container a "exec 3<>/dev/shm/shared; dd if=/dev/urandom bs=1M count=$size_mib 2>/dev/null >&3"
crun_container b "exec 3</dev/shm/shared; cat <&3 >/dev/null"
go a
show "crun container pod-a wrote /dev/shm/shared ($size_mib MiB) and keeps it open:" $size_mib 0
go b
show "crun container pod-b read all of it and keeps it open:" $((size_mib / 2)) $((size_mib / 2))
echo "  \$ crun exec pod-b ls -l /dev/shm"
crund exec pod-b ls -l /dev/shm | sed 's/^/  /'
[ "${PIPESTATUS[0]}" = 0 ] || die "crun exec pod-b failed"
echo
ctl_show members "$shm"
check_mpcgctl

crund kill pod-b KILL
show "crun kill pod-b: its share moved back to a" $size_mib 0
crund kill pod-a KILL
rm "$shm"
show "crun kill pod-a, rm the file: everything is freed" 0 0
echo "demo: every cgroup paid what it should, within a chunk ($chunk_mib MiB)"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The mpcg demo, run by `make demo` inside the test VM (as root, with
# mpcg.ko loaded and cgroup v2 mounted): mount mpcg on /dev/shm, let two
# containers' cgroups share one 32 MiB file, and print what each cgroup's
# own memory.current says it pays as they come and go.
set -euo pipefail

cg=/sys/fs/cgroup/demo
shm=/dev/shm/shared
size_mib=32

charged() {	# memory.current less page cache, in bytes
	local cur file
	cur=$(cat "$1/memory.current")
	file=$(awk '$1 == "file" { print $2 }' "$1/memory.stat")
	echo $((cur - file))
}

show() {
	sleep 1		# the automatic reassessment runs 100 ms after a change
	echo "$1"
	printf '  %-8s %s\n' CGROUP 'PAYS (MiB, from its memory.current)'
	for c in a b; do
		printf '  %-8s %6.2f\n' "demo/$c" \
			"$(echo "($(charged $cg/$c) - ${base[$c]}) / 1048576" | bc -l)"
	done
	echo
}

# Run "$2" in cgroup demo/$1, in the background, holding $shm open on fd 3.
container() {
	sh -c "echo \$\$ > $cg/$1/cgroup.procs; exec 3<>$shm; $2; exec sleep 1000" &
}

mount -t mpcg -o size=256M,chunk=1M,mode=1777 mpcg /dev/shm
mkdir -p $cg/a $cg/b
echo +memory > $cg/cgroup.subtree_control
declare -A base=([a]=$(charged $cg/a) [b]=$(charged $cg/b))
cleanup() {
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
	wait || true
	umount /dev/shm
	rmdir $cg/a $cg/b $cg
}
trap cleanup EXIT

echo "mpcg on /dev/shm: $(grep ' /dev/shm mpcg ' /proc/mounts)"
echo

container a "dd if=/dev/urandom bs=1M count=$size_mib status=none >&3"
pid_a=$!
while [ "$(stat -c %s $shm 2>/dev/null || echo 0)" -lt $((size_mib << 20)) ]; do
	sleep 0.1
done
show "container a created and wrote $shm ($size_mib MiB), and keeps it open:"

container b "cat <&3 >/dev/null"
pid_b=$!
show "container b read all of it and keeps it open: both touched every chunk"

kill $pid_b
wait $pid_b 2>/dev/null || true
show "container b exited: its share moved back to a"

kill $pid_a
wait $pid_a 2>/dev/null || true
show "container a exited too: the file's owner (a, which created it) pays"

rm $shm
show "rm $shm: everything is freed"

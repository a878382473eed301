#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side test: dkms.conf builds and installs mpcg.ko with DKMS against
# the headers of each supported kernel series (tools/kernels), and refuses
# a kernel outside them (BUILD_EXCLUSIVE_KERNEL).  The module sources (Kbuild,
# kernel/, uapi/, dkms.conf) are copied to a temporary tree and DKMS is
# pointed at a temporary source tree, DKMS tree and module install tree
# (--sourcetree, --dkmstree, --installtree, and --no-depmod), so the
# system's /usr/src, /var/lib/dkms and /lib/modules are not touched; a
# module signing key that DKMS generates for the occasion is removed again.
#
#   selftests/host/dkms_test.sh [SERIES...]
#
# Default: the series in $KVERS, else every series (tools/kernels list).  The
# headers of a series that is not installed (6.12, unpacked in the cache) are
# passed with --kernelsourcedir.  DKMS compresses the module as the kernel's
# own are (mpcg.ko.xz on 6.12).  Needs root (dkms add does).  TAP 13; exits
# 4 when it cannot run.
set -u

top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
n=0 pass=0 fail=0

say() { echo "$@"; }
result() {	# result STATUS NAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		pass=$((pass + 1))
		say "ok $n $2"
	else
		fail=$((fail + 1))
		say "not ok $n $2"
	fi
}
skip_all() {
	say "1..0 # SKIP $1"
	exit 4
}

# (Once, by the first run of a test that re-runs itself in a mount namespace.)
[ -n "${MPCG_DKMS_TEST_NS:-}" ] || say "TAP version 13"
[ "$(id -u)" = 0 ] || skip_all "not root"
command -v dkms >/dev/null || skip_all "dkms is not installed"
series=("$@")
[ ${#series[@]} -gt 0 ] || read -r -a series <<<"${KVERS:-$("$top/tools/kernels" list)}"
rels=() kdirs=() cached=()
for s in "${series[@]}"; do
	r=$("$top/tools/kernels" release "$s") || skip_all "no kernel of series $s (make deps)"
	k=$("$top/tools/kernels" kdir "$s") || skip_all "no headers of series $s (make deps)"
	rels+=("$r") kdirs+=("$k")
	root=$("$top/tools/kernels" root "$r") || skip_all "no kernel image of $r (make deps)"
	[ "$root" = / ] || cached+=("$root/lib/modules/$r")
done

# DKMS looks at /lib/modules/<release> itself (modules.dep says whether it
# compresses modules, as 6.12's .ko.xz are).  A kernel unpacked in the cache
# is made to look installed there, in a mount namespace of this test only.
if [ ${#cached[@]} -gt 0 ] && [ -z "${MPCG_DKMS_TEST_NS:-}" ]; then
	unshare -m true 2>/dev/null || skip_all "cannot make a mount namespace for the cached kernel"
	exec unshare -m -- env MPCG_DKMS_TEST_NS=1 KVERS="${series[*]}" bash -c '
		set -e
		mount --make-rprivate /
		sys=$(mktemp -d /tmp/mpcg-dkms-mods.XXXXXX)
		mount --bind /lib/modules "$sys"
		mount -t tmpfs -o mode=755 tmpfs /lib/modules
		for d in "$sys"/*; do
			[ -d "$d" ] || continue
			mkdir "/lib/modules/${d##*/}"
			mount --bind "$d" "/lib/modules/${d##*/}"
		done
		for d in "$@"; do
			mkdir -p "/lib/modules/${d##*/}"
			mount --bind "$d" "/lib/modules/${d##*/}"
		done
		set +e
		"$0"
		rc=$?
		umount -l "$sys" && rmdir "$sys"
		exit $rc
	' "$0" "${cached[@]}"
fi

name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"$/\1/p' "$top/dkms.conf")
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
arch=$(uname -m)
tmp=$(mktemp -d /tmp/mpcg-dkms-test.XXXXXX)
src=$tmp/src dkmstree=$tmp/dkms srctree=$tmp/usr-src insttree=$tmp/lib-modules
log=$tmp/log
# DKMS keeps its module signing key here, creating it if missing.
keys=(/var/lib/dkms/mok.key /var/lib/dkms/mok.pub)
had_keys=()
for k in "${keys[@]}"; do [ -e "$k" ] && had_keys+=("$k"); done

# What the system's trees hold of mpcg before (and must hold after).
sys_state() {
	local r
	ls -la "/var/lib/dkms/$name" "/usr/src/$name-$ver" 2>&1
	for r in "${rels[@]}"; do
		ls -la "/lib/modules/$r/updates/dkms" "/lib/modules/$r/updates" \
			"/lib/modules/$r/modules.dep" 2>&1
		find "/lib/modules/$r" -name "$name.ko*" 2>&1
	done
}
state_before=$(sys_state)

dk() {
	dkms "$@" --dkmstree "$dkmstree" --sourcetree "$srctree" \
		--installtree "$insttree" --no-depmod >>"$log" 2>&1
}
cleanup() {
	local k
	dkms remove "$name/$ver" --all --dkmstree "$dkmstree" \
		--sourcetree "$srctree" --installtree "$insttree" --no-depmod \
		>/dev/null 2>&1
	for k in "${keys[@]}"; do
		[[ " ${had_keys[*]-} " == *" $k "* ]] || rm -f "$k"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
show_log() {
	tail -n 30 "$log" | sed 's/^/#   /'
}

say "1..$((4 + 7 * ${#rels[@]}))"
mkdir -p "$src" "$dkmstree" "$srctree"
cp -r "$top/Kbuild" "$top/kernel" "$top/uapi" "$top/dkms.conf" "$src/"

dk add "$src"
rc=$?
[ $rc = 0 ] && [ -f "$srctree/$name-$ver/dkms.conf" ] &&
	[ -f "$srctree/$name-$ver/kernel/main.c" ] || { rc=1; show_log; }
result $rc "dkms add copies the sources to <sourcetree>/$name-$ver"

# The built or installed module of a release (mpcg.ko, or compressed).
module_in() {
	find "$1" -maxdepth 1 -name "$name.ko" -o -maxdepth 1 -name "$name.ko.xz" \
		-o -maxdepth 1 -name "$name.ko.zst" -o -maxdepth 1 -name "$name.ko.gz" | head -n1
}

for i in "${!rels[@]}"; do
	rel=${rels[$i]} kdir=${kdirs[$i]}
	say "# dkms $name/$ver for $rel ($kdir)"
	mkdir -p "$insttree/$rel"
	dk build "$name/$ver" -k "$rel" --kernelsourcedir "$kdir"
	rc=$?
	ko=$(module_in "$dkmstree/$name/$ver/$rel/$arch/module" 2>/dev/null)
	[ $rc = 0 ] && [ -n "$ko" ] || { rc=1; show_log; }
	result $rc "dkms build -k $rel${ko:+ (${ko##*/})}"

	magic=$(modinfo -F vermagic "$ko" 2>/dev/null)
	[ "${magic%% *}" = "$rel" ]
	rc=$?
	[ $rc = 0 ] || say "# vermagic of $ko: '$magic'"
	result $rc "the module is built for $rel"

	out=$(dkms status "$name/$ver" --dkmstree "$dkmstree" --sourcetree "$srctree" 2>&1)
	[[ $out == *"$name/$ver, $rel, $arch: built"* ]]
	rc=$?
	[ $rc = 0 ] || say "# dkms status: $out"
	result $rc "dkms status says built for $rel"

	# install: the built module, in the install tree's updates directory
	# (Debian's DKMS puts it in updates/dkms), and dkms status says so.
	dk install "$name/$ver" -k "$rel" --kernelsourcedir "$kdir"
	rc=$?
	inst=$(cd "$insttree/$rel" 2>/dev/null && find . -name "$name.ko*")
	case $inst in
	./updates/$name.ko* | ./updates/dkms/$name.ko*)
		cmp -s "$ko" "$insttree/$rel/$inst" || rc=1 ;;
	*) rc=1 ;;
	esac
	[ $rc = 0 ] || { say "# installed: '${inst//$'\n'/ }'"; show_log; }
	result $rc "dkms install -k $rel puts the module in <installtree>/$rel/updates"

	out=$(dkms status "$name/$ver" --dkmstree "$dkmstree" --sourcetree "$srctree" \
		--installtree "$insttree" 2>&1)
	[[ $out == *"$name/$ver, $rel, $arch: installed"* ]]
	rc=$?
	[ $rc = 0 ] || say "# dkms status: $out"
	result $rc "dkms status says installed for $rel"

	# Compressed as the kernel's own modules are (xz on Debian's 6.12).
	case $ko in
	*.ko) ! grep -q '\.ko\.[a-z]*:' "/lib/modules/$rel/modules.dep" ;;
	*.ko.xz) grep -q '\.ko\.xz:' "/lib/modules/$rel/modules.dep" && xz -t "$ko" ;;
	*) false ;;
	esac
	rc=$?
	result $rc "the module is compressed as $rel's own modules are (${ko##*/})"

	dk uninstall "$name/$ver" -k "$rel"
	rc=$?
	[ $rc = 0 ] && [ -z "$(find "$insttree/$rel" -name "$name.ko*")" ] || { rc=1; show_log; }
	result $rc "dkms uninstall -k $rel removes the installed module"
done

# A kernel outside the supported series: refused by BUILD_EXCLUSIVE_KERNEL,
# whatever its headers (the first series' here, under another name).
: >"$log"
dk build "$name/$ver" -k 5.10.0-99-amd64 --kernelsourcedir "${kdirs[0]}"
rc=$?
if [ $rc != 0 ] && grep -q 'BUILD_EXCLUSIVE' "$log" &&
	[ ! -e "$dkmstree/$name/$ver/5.10.0-99-amd64/$arch/module" ]; then
	rc=0
else
	rc=1
	show_log
fi
result $rc "dkms build for an unsupported kernel (5.10) is refused"

dk remove "$name/$ver" --all
rc=$?
[ $rc = 0 ] && [ ! -e "$dkmstree/$name/$ver" ] &&
	[ -z "$(find "$insttree" -name "$name.ko*")" ] || { rc=1; show_log; }
result $rc "dkms remove --all removes everything"

# Nothing reached the system's trees.
[ "$(sys_state)" = "$state_before" ]
result $? "the system's DKMS and module trees are untouched"

say "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]

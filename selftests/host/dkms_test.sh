#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side test: dkms.conf builds and installs mpcg.ko with DKMS against
# the installed Debian kernel headers.  The module sources (Kbuild,
# kernel/, uapi/, dkms.conf) are copied to a temporary tree and DKMS is
# pointed at a temporary source tree, DKMS tree and module install tree
# (--sourcetree, --dkmstree, --installtree, and --no-depmod), so the
# system's /usr/src, /var/lib/dkms and /lib/modules are not touched; a
# module signing key that DKMS generates for the occasion is removed again.
#
#   selftests/host/dkms_test.sh [KERNEL_RELEASE]
#
# Default release: that of the newest /usr/src/linux-headers-*-amd64.
# Needs root (dkms add does).  TAP 13; exits 4 when it cannot run.
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

say "TAP version 13"
[ "$(id -u)" = 0 ] || skip_all "not root"
command -v dkms >/dev/null || skip_all "dkms is not installed"
rel=${1:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n1)}
rel=${rel##*/linux-headers-}
[ -n "$rel" ] || skip_all "no linux-headers-*-amd64 installed"
kdir=/lib/modules/$rel/build
[ -f "$kdir/Makefile" ] || skip_all "no kernel build directory $kdir"

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
	ls -la "/var/lib/dkms/$name" "/usr/src/$name-$ver" \
		"/lib/modules/$rel/updates/dkms" "/lib/modules/$rel/updates" \
		"/lib/modules/$rel/modules.dep" 2>&1
	find "/lib/modules/$rel" -name "$name.ko*" 2>&1
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

say "1..8"
say "# dkms $name/$ver for $rel ($kdir)"
mkdir -p "$src" "$dkmstree" "$srctree" "$insttree/$rel"
cp -r "$top/Kbuild" "$top/kernel" "$top/uapi" "$top/dkms.conf" "$src/"

dk add "$src"
rc=$?
[ $rc = 0 ] && [ -f "$srctree/$name-$ver/dkms.conf" ] &&
	[ -f "$srctree/$name-$ver/kernel/main.c" ] || { rc=1; show_log; }
result $rc "dkms add copies the sources to <sourcetree>/$name-$ver"

dk build "$name/$ver" -k "$rel"
rc=$?
ko=$dkmstree/$name/$ver/$rel/$arch/module/$name.ko
[ $rc = 0 ] && [ -f "$ko" ] || { rc=1; show_log; }
result $rc "dkms build -k $rel"

magic=$(modinfo -F vermagic "$ko" 2>/dev/null)
[ "${magic%% *}" = "$rel" ]
rc=$?
[ $rc = 0 ] || say "# vermagic of $ko: '$magic'"
result $rc "the module is built for $rel"

out=$(dkms status "$name/$ver" --dkmstree "$dkmstree" --sourcetree "$srctree" 2>&1)
[[ $out == *"$name/$ver, $rel, $arch: built"* ]]
rc=$?
[ $rc = 0 ] || say "# dkms status: $out"
result $rc "dkms status says built"

# install: the built module, in the install tree's updates directory
# (Debian's DKMS puts it in updates/dkms), and dkms status says so.
dk install "$name/$ver" -k "$rel"
rc=$?
inst=$(cd "$insttree/$rel" 2>/dev/null && find . -name "$name.ko*")
case $inst in
./updates/$name.ko | ./updates/dkms/$name.ko) cmp -s "$ko" "$insttree/$rel/$inst" || rc=1 ;;
*) rc=1 ;;
esac
[ $rc = 0 ] || { say "# installed: '${inst//$'\n'/ }'"; show_log; }
result $rc "dkms install -k $rel puts the module in <installtree>/$rel/updates"

out=$(dkms status "$name/$ver" --dkmstree "$dkmstree" --sourcetree "$srctree" \
	--installtree "$insttree" 2>&1)
[[ $out == *"$name/$ver, $rel, $arch: installed"* ]]
rc=$?
[ $rc = 0 ] || say "# dkms status: $out"
result $rc "dkms status says installed"

dk remove "$name/$ver" --all
rc=$?
[ $rc = 0 ] && [ ! -e "$dkmstree/$name/$ver" ] &&
	[ -z "$(find "$insttree" -name "$name.ko*")" ] || { rc=1; show_log; }
result $rc "dkms remove --all removes the installed module too"

# Nothing reached the system's trees.
[ "$(sys_state)" = "$state_before" ]
result $? "the system's DKMS and module trees are untouched"

say "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]

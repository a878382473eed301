#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side test of `make install` and `make uninstall` with DESTDIR (and
# PREFIX): the files land where they should, with working symlinks, the
# module for the release of KDIR, a pkg-config file that compiles and links
# a program against the installed header and library (shared and static),
# man pages that man(1) renders without warnings; depmod is not run; and
# uninstall removes all of it.
#
#   selftests/host/install_test.sh
#
# Runs make in the top directory (which builds what is missing).  TAP 13.
set -u

top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
n=0 pass=0 fail=0
tmp=$(mktemp -d /tmp/mpcg-install-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

result() {	# result STATUS NAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		pass=$((pass + 1))
		echo "ok $n $2"
	else
		fail=$((fail + 1))
		echo "not ok $n $2"
	fi
}

echo "TAP version 13"
echo "1..10"

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
kdir=$(cd "$top" && tools/kernels kdir "${KVER:-6.1}")
rel=$(sed -n 's/.*UTS_RELEASE "\(.*\)".*/\1/p' "$kdir/include/generated/utsrelease.h")
echo "# version $ver, KDIR $kdir, release $rel"

d=$tmp/root
make -C "$top" --no-print-directory install DESTDIR="$d" PREFIX=/usr >"$tmp/log" 2>&1
rc=$?
[ $rc = 0 ] || sed 's/^/#   /' "$tmp/log" | tail -n 30
result $rc "make install DESTDIR=... PREFIX=/usr"

# Exactly the expected files, with the expected modes.
(cd "$d" && find . \( -type f -o -type l \) -printf '%p %m %y\n' | sort) >"$tmp/files"
sort >"$tmp/want" <<EOF
./lib/modules/$rel/updates/mpcg.ko 644 f
./usr/include/libmpcg.h 644 f
./usr/include/libmpcg/linux/mpcg.h 644 f
./usr/lib/libmpcg.a 644 f
./usr/lib/libmpcg.so 777 l
./usr/lib/libmpcg.so.1 777 l
./usr/lib/libmpcg.so.$ver 755 f
./usr/lib/pkgconfig/libmpcg.pc 644 f
./usr/sbin/mpcgctl 755 f
./usr/share/man/man5/mpcg.5 644 f
./usr/share/man/man8/mpcgctl.8 644 f
EOF
diff -u "$tmp/want" "$tmp/files" | sed 's/^/# /'
result "${PIPESTATUS[0]}" "the installed files"

rc=0
[ "$(readlink "$d/usr/lib/libmpcg.so")" = libmpcg.so.1 ] &&
	[ "$(readlink "$d/usr/lib/libmpcg.so.1")" = "libmpcg.so.$ver" ] || rc=1
soname=$(objdump -p "$d/usr/lib/libmpcg.so.$ver" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = libmpcg.so.1 ] || { echo "# SONAME '$soname'"; rc=1; }
magic=$(modinfo -F vermagic "$d/lib/modules/$rel/updates/mpcg.ko")
[ "${magic%% *}" = "$rel" ] || { echo "# vermagic '$magic'"; rc=1; }
cmp -s "$d/usr/include/libmpcg/linux/mpcg.h" "$top/uapi/linux/mpcg.h" || rc=1
# The system's <linux/...> headers (linux-libc-dev) are not ours to write.
[ ! -e "$d/usr/include/linux" ] || { echo "# wrote into include/linux"; rc=1; }
result $rc "library symlinks and SONAME, module vermagic, uapi header outside include/linux"

# depmod and ldconfig are not run with DESTDIR.
[ ! -e "$d/lib/modules/$rel/modules.dep" ] && [ ! -e "$d/etc" ]
result $? "no depmod or ldconfig output under DESTDIR"

out=$("$d/usr/sbin/mpcgctl" --version 2>&1)
[ "$out" = "mpcgctl from mpcg $ver (libmpcg $ver)" ]
rc=$?
[ $rc = 0 ] || echo "# mpcgctl --version: $out"
result $rc "the installed mpcgctl runs"

# A program built with pkg-config against the installed tree.
cat >"$tmp/prog.c" <<'EOF'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libmpcg.h>

int main(int argc, char **argv)
{
	int fd = mpcg_region_open(argv[1], 0);
	struct mpcg_features f;

	/* Not an mpcg file: ENOTTY, not "older module". */
	if (mpcg_features(0, &f) != -ENOTTY)
		return 2;

	(void)argc;
	printf("%s %s %d %d %s %d\n", mpcg_version(), mpcg_policy_name(2),
	       mpcg_policy_parse("equal"), mpcg_policy_parse("bogus"),
	       mpcg_state_name(MPCG_STATE_PENDING), fd);
	return fd == -ENOTTY ? 0 : 1;
}
EOF
export PKG_CONFIG_PATH=$d/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$d
rc=0
grep -qx 'prefix=/usr' "$d/usr/lib/pkgconfig/libmpcg.pc" &&
	[ "$(pkg-config --modversion libmpcg)" = "$ver" ] || { cat "$d/usr/lib/pkgconfig/libmpcg.pc"; rc=1; }
want="$ver first-touch 1 -$(printf '%d' 22) pending -$(printf '%d' 25)"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror $(pkg-config --cflags libmpcg) -o "$tmp/prog" "$tmp/prog.c" \
	$(pkg-config --libs libmpcg) 2>&1 | sed 's/^/# /'
[ "${PIPESTATUS[0]}" = 0 ] || rc=1
out=$(LD_LIBRARY_PATH=$d/usr/lib "$tmp/prog" "$tmp/prog.c")
[ $? = 0 ] && [ "$out" = "$want" ] || { echo "# shared: '$out', want '$want'"; rc=1; }
# Really linked to the installed shared library.
LD_LIBRARY_PATH=$d/usr/lib ldd "$tmp/prog" |
	grep -q "libmpcg.so.1 => $d/usr/lib/libmpcg.so.1 " || rc=1
result $rc "pkg-config: compile and link against the shared library"

rc=0
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror $(pkg-config --cflags libmpcg) -o "$tmp/prog-static" "$tmp/prog.c" \
	"$d/usr/lib/libmpcg.a" 2>&1 | sed 's/^/# /'
[ "${PIPESTATUS[0]}" = 0 ] || rc=1
out=$("$tmp/prog-static" "$tmp/prog.c")
[ $? = 0 ] && [ "$out" = "$want" ] || { echo "# static: '$out', want '$want'"; rc=1; }
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
result $rc "link against the static library"

rc=0
for m in "$d/usr/share/man/man5/mpcg.5" "$d/usr/share/man/man8/mpcgctl.8"; do
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" >"$tmp/man.txt" 2>"$tmp/man.err"
	if [ $? != 0 ] || [ -s "$tmp/man.err" ] || [ "$(wc -l <"$tmp/man.txt")" -lt 40 ]; then
		echo "# man -l $m:"
		sed 's/^/#   /' "$tmp/man.err"
		rc=1
	fi
done
result $rc "the man pages render without warnings"

make -C "$top" --no-print-directory uninstall DESTDIR="$d" PREFIX=/usr >"$tmp/log" 2>&1
rc=$?
left=$(find "$d" \( -type f -o -type l \))
[ $rc = 0 ] && [ -z "$left" ] || { echo "# left: $left"; sed 's/^/#   /' "$tmp/log" | tail; rc=1; }
result $rc "make uninstall removes everything"

# The default PREFIX is /usr/local.
d=$tmp/root2
make -C "$top" --no-print-directory install DESTDIR="$d" >"$tmp/log" 2>&1 &&
	[ -x "$d/usr/local/sbin/mpcgctl" ] && [ -f "$d/usr/local/lib/libmpcg.a" ] &&
	[ -f "$d/usr/local/share/man/man8/mpcgctl.8" ] &&
	grep -qx 'prefix=/usr/local' "$d/usr/local/lib/pkgconfig/libmpcg.pc" &&
	[ -f "$d/lib/modules/$rel/updates/mpcg.ko" ] &&
	make -C "$top" --no-print-directory uninstall DESTDIR="$d" >>"$tmp/log" 2>&1 &&
	[ -z "$(find "$d" \( -type f -o -type l \))" ]
rc=$?
[ $rc = 0 ] || sed 's/^/#   /' "$tmp/log" | tail -n 20
result $rc "default PREFIX /usr/local"

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]

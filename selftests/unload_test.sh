#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mpcg module unload: rmmod is refused while the module is in use and
# clean when nothing uses it.
#
#  - refused (in use) while an mpcg mount exists;
#  - refused while an fd of /dev/mpcg is open (and no mount exists);
#  - refused after umount -l of a mount while an fd of one of its files is
#    still open (and while a mapping of it exists after the fd is closed);
#  - once all of that is gone (and every earlier selftest has ended), the
#    module's object counters (debugfs mpcg/objects) are all zero;
#  - then rmmod mpcg succeeds, and insmod of the same
#    .ko loads it again (so that vm-run's own rmmod and --kmemleak scan at
#    the end of the run check that the first unload leaked nothing).
#
# The .ko to reload: $MPCG_KO if set, else the build/kernel*/mpcg.ko whose
# srcversion is that of the loaded module and whose vermagic is `uname -r`.
#
# Prints TAP 13 and the kselftest harness totals line that selftests/run.sh
# adds up.  Runs as root in the test VM:
#   tools/testing/vm-run -- selftests/run.sh build/selftests unload_test
set -u

PLAN=8
n=0 pass=0 fail=0 skip=0
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
skp() { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n $1 # SKIP $2"; }
finish() {
	while [ "$n" -lt "$PLAN" ]; do
		skp "not run" "$1"
	done
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
	[ "$fail" = 0 ] || exit 1
	exit 0
}

echo "TAP version 13"
echo "1..$PLAN"

if [ ! -d /sys/module/mpcg ]; then
	echo "# mpcg is not loaded"
	finish "mpcg not loaded"
fi

# The .ko to load again.
here=$(cd "$(dirname "$0")/../.." && pwd)
ko=${MPCG_KO:-}
# The loaded module's GNU build id tells the builds apart (srcversion
# does not: it hashes the sources, not the flags they were built with).
if [ -z "$ko" ]; then
	src=$(cat /sys/module/mpcg/srcversion 2>/dev/null)
	note=/sys/module/mpcg/notes/.note.gnu.build-id
	rel=$(uname -r)
	cand=
	for f in "$here"/build/kernel*/mpcg.ko; do
		[ -f "$f" ] || continue
		vm=$(modinfo -F vermagic "$f" 2>/dev/null | awk '{print $1}')
		sv=$(modinfo -F srcversion "$f" 2>/dev/null)
		[ "$vm" = "$rel" ] || continue
		[ -z "$src" ] || [ "$sv" = "$src" ] || continue
		if [ -r "$note" ] && objcopy -O binary \
			--only-section=.note.gnu.build-id "$f" "/tmp/mpcg-unload-note.$$" 2>/dev/null &&
		   cmp -s "$note" "/tmp/mpcg-unload-note.$$"; then
			ko=$f
			break
		fi
		[ -n "$cand" ] || cand=$f
	done
	rm -f "/tmp/mpcg-unload-note.$$"
	[ -n "$ko" ] || ko=$cand
fi
if [ -z "$ko" ] || [ ! -f "$ko" ]; then
	echo "# no mpcg.ko for $(uname -r) found (set MPCG_KO)"
	finish "no .ko to reload"
fi
echo "# reload from $ko"

tmp=$(mktemp -d /tmp/mpcg-unload-XXXXXX)
mnt=$tmp/mnt
mkdir -p "$mnt"

# expect_busy NAME: rmmod must fail and the module must still be there.
expect_busy() {
	local err
	if err=$(rmmod mpcg 2>&1); then
		nok "$1: rmmod succeeded"
		# Put it back so that the rest of the run has it.
		insmod "$ko"
		return
	fi
	if [ -d /sys/module/mpcg ] && [ "$(cat /sys/module/mpcg/initstate)" = live ]; then
		ok "$1 (${err##*: })"
	else
		nok "$1: module state $(cat /sys/module/mpcg/initstate 2>&1)"
	fi
}

# 1. a mount
mount -t mpcg -o size=16m mpcg "$mnt" || { nok "mount"; finish "mount failed"; }
expect_busy "rmmod refused while mounted"
umount "$mnt"

# 2. /dev/mpcg open
exec 5</dev/mpcg
expect_busy "rmmod refused while /dev/mpcg is open"
exec 5<&-

# 3. lazily unmounted with a file still open
mount -t mpcg -o size=16m mpcg "$mnt"
head -c 1048576 /dev/zero | tr '\0' x >"$mnt/f"
exec 6<>"$mnt/f"
umount -l "$mnt"
expect_busy "rmmod refused after umount -l while a file is open"

# 4. ... and while only a mapping of it remains (fd closed)
python3 - "$tmp/go" <<'EOF' &
import mmap, os, sys, time
m = mmap.mmap(6, 1 << 20)
m[0:1] = b"y"
os.close(6)
open(sys.argv[1], "w").close()
time.sleep(3600)
EOF
mapper=$!
for i in $(seq 100); do [ -e "$tmp/go" ] && break; sleep 0.1; done
exec 6<&-
if [ -e "$tmp/go" ]; then
	expect_busy "rmmod refused while only a mapping remains"
else
	nok "mapping helper did not start"
fi
kill "$mapper" 2>/dev/null
wait "$mapper" 2>/dev/null

# 5. nothing left: no mount, region, member, attachment, chunk or page
objects=/sys/kernel/debug/mpcg/objects
if [ ! -r $objects ]; then
	skp "object counters are zero" "no debugfs $objects"
else
	for i in $(seq 50); do
		left=$(awk '$2 != 0' $objects)
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -z "$left" ]; then
		ok "object counters are zero when nothing uses mpcg ($(tr '\n' ' ' <$objects))"
	else
		nok "objects left when nothing uses mpcg: $(echo $left)"
	fi
fi

# 6. nothing left: rmmod works
ok_rm=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	if err=$(rmmod mpcg 2>&1); then ok_rm=1; break; fi
	sleep 0.5
done
if [ $ok_rm = 1 ] && [ ! -d /sys/module/mpcg ]; then
	ok "rmmod succeeds when nothing uses mpcg"
else
	nok "rmmod when unused: $err"
fi

# 7. it loads again and works
if [ -d /sys/module/mpcg ] || insmod "$ko"; then
	ok "insmod again"
else
	nok "insmod $ko"
fi
if mount -t mpcg mpcg "$mnt" && echo hello >"$mnt/g" &&
   [ "$(cat "$mnt/g")" = hello ] && umount "$mnt"; then
	ok "the reloaded module mounts and works"
else
	nok "the reloaded module does not work"
	umount -l "$mnt" 2>/dev/null
fi
rm -rf "$tmp"
finish ""

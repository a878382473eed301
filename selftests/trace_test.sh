#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mpcg tracepoints and bpftrace scripts (issue 6, design section 8).
#
# Runs a known scenario (build/selftests-helpers/trace_scenario, see
# selftests/trace_scenario.c) on an mpcg mount with chunk=1M, with the
# automatic reassessment off: cgroup a writes a 16 MiB file (16 chunk
# allocations by write()) and extends it to 20 MiB with a hole, cgroup b
# maps and touches all of it (its page faults allocate the 4 chunks of the
# hole), "mpcgctl members" lists both, the file is truncated to 16 MiB (b's
# 4 chunks freed), b's memory.max is set too low for its share (8
# mpcg_shortfall), then raised; reassessment (8 moves a->b), b exits and a
# reassessment moves them back (8 moves b->a), a exits, the file is unlinked
# (region destroyed, 16 frees).
#
#  - With the events of trace system mpcg enabled in tracefs, checks that
#    every tracepoint fired as often as the scenario says, in order, with the
#    right field values: dev (st_dev of the mount), ino, cgroup ids (the
#    cgroup2 directories' inode numbers), slots and member counts (as
#    MPCG_IOC_MEMBERS says), chunk indexes, bytes, fault (page fault or
#    write()), from/to, chunks and bytes moved, shortfall, state and result
#    (as MPCG_IOC_REASSESS returned); and that the cgroup ids in the events
#    are the ones "mpcgctl members -o ID,SLOT" prints.
#  - Runs tools/bpftrace/mpcg-{moves,allocs,reassess}.bt in the background
#    during the same scenario (tracefs capturing it too), stops them with
#    SIGINT and checks that they print what their headers say with the counts
#    of the scenario and of the tracefs capture; then mpcg-allocs.bt with -c
#    running the scenario, and mpcg-moves.bt stopping itself after a given
#    number of seconds.  If bpftrace cannot run BPF programs on this kernel
#    at all (checked with a program that does not use mpcg), those tests are
#    skipped with the reason; a script that fails on a kernel where bpftrace
#    works fails its test.
#
# Prints TAP 13 and the kselftest harness totals line that
# selftests/run.sh adds up.  Runs as root in the test VM:
#   tools/testing/vm-run -- selftests/run.sh build/selftests trace_test
# Environment: MPCG_BPFTRACE_TIMEOUT (seconds for bpftrace to start or stop,
# default 600; it compiles with LLVM, slow under emulation).
set -u

PLAN=15
T=/sys/kernel/tracing
AUTO=/sys/module/mpcg/parameters/auto_reassess_ms
CHUNK=1048576
BT_TIMEOUT=${MPCG_BPFTRACE_TIMEOUT:-600}

n=0 pass=0 fail=0 skip=0
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
skp() { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n $1 # SKIP $2"; }
diag() { sed 's/^/# /'; }
stamp() { echo "# [${SECONDS}s] $*"; }
# result NAME ERRORS: ok if ERRORS is empty, else not ok with them
result() {
	if [ -z "$2" ]; then
		ok "$1"
	else
		printf '%s\n' "$2" | diag
		nok "$1"
	fi
}
finish() {
	while [ "$n" -lt "$PLAN" ]; do
		skp "not run" "$1"
	done
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
	if [ "$fail" != 0 ]; then
		exit 1
	elif [ "$pass" = 0 ]; then
		exit 4
	fi
	exit 0
}

echo "TAP version 13"
echo "1..$PLAN"

# The repository: the nearest ancestor of this script with tools/bpftrace
# (it runs as selftests/trace_test.sh or as build/selftests/trace_test).
root=$(cd "$(dirname "$0")" && pwd)
while [ "$root" != / ] && [ ! -d "$root/tools/bpftrace" ]; do
	root=$(dirname "$root")
done
helper=$root/build/selftests-helpers/trace_scenario
mpcgctl=$root/build/bin/mpcgctl
bt_dir=$root/tools/bpftrace

why=
if [ "$(id -u)" != 0 ]; then
	why="not root"
elif [ ! -d /sys/module/mpcg ]; then
	why="mpcg.ko is not loaded"
elif [ ! -e $T/trace ]; then
	why="no tracefs at $T"
elif ! grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
	why="no cgroup2 memory controller at /sys/fs/cgroup"
elif [ ! -x "$helper" ]; then
	why="$helper not built (make selftests)"
elif [ ! -x "$mpcgctl" ]; then
	why="$mpcgctl not built (make tools)"
fi
if [ -n "$why" ]; then
	finish "$why"
fi

tmp=$(mktemp -d /tmp/mpcg-trace-XXXXXX)
mnt=$tmp/mnt
cg=/sys/fs/cgroup/mpcg-trace-$$
old_auto=$(cat $AUTO)
old_tracing_on=$(cat $T/tracing_on)
bt_pids=()

cleanup() {
	local p
	for p in "${bt_pids[@]}"; do
		alive "$p" && kill -KILL "$p" 2>/dev/null
	done
	echo 0 > $T/events/mpcg/enable 2>/dev/null
	echo "$old_tracing_on" > $T/tracing_on
	echo "$old_auto" > $AUTO
	umount "$mnt" 2>/dev/null
	echo max > $cg/b/memory.max 2>/dev/null
	rmdir $cg/a $cg/b $cg 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

mkdir "$mnt"
if ! mount -t mpcg -o chunk=1M mpcg "$mnt" || ! mkdir $cg ||
   ! echo +memory > $cg/cgroup.subtree_control || ! mkdir $cg/a $cg/b ||
   ! echo 0 > $AUTO; then
	nok "setup: mount mpcg, cgroups a and b, auto_reassess_ms=0"
	finish "setup failed"
fi
dev=$(stat -c %d "$mnt")
id_a=$(stat -c %i $cg/a)
id_b=$(stat -c %i $cg/b)
echo "# mount dev=$dev, cgroup ids a=$id_a b=$id_b"

if [ ! -d $T/events/mpcg ]; then
	nok "tracefs has events/mpcg"
	finish "no mpcg tracepoints"
fi

# scenario OUT TRACE [--shortfall]: run the scenario with the mpcg events
# enabled; its output goes to OUT, the events (one a line: "COMM EVENT
# key=value...") to TRACE.  Returns the scenario's status.
scenario() {
	local out=$1 trace=$2 rc
	shift 2
	echo 0 > $T/tracing_on
	echo > $T/trace
	echo 1 > $T/events/mpcg/enable
	echo 1 > $T/tracing_on
	"$helper" "$@" "$mnt" $cg/a $cg/b > "$out" 2>&1
	rc=$?
	echo 0 > $T/events/mpcg/enable
	cat $T/trace > "$trace.raw"
	# "   COMM-PID   [CPU] FLAGS  TIMESTAMP: mpcg_EVENT: FIELDS"
	sed -nE 's/^ *(.*)-[0-9]+ +\[[0-9]+\] +[^ ]+ +[0-9.]+: (mpcg_[a-z_]+): (.*)$/\1 \2 \3/p' \
		"$trace.raw" | sed -E 's/^([^ ]*) +/\1 /' > "$trace"
	if grep -qE '^# entries-in-buffer/entries-written: ([0-9]+)/\1 ' "$trace.raw"; then
		:
	else
		grep entries-in-buffer "$trace.raw" | diag
		echo "# the trace buffer lost events" >&2
		rc=99
	fi
	return $rc
}

# check_trace TRACE OUT: the tracefs check of one scenario run (with
# --shortfall and --mpcgctl).  Prints "TEST: problem" lines, and "summary
# reassessments=N pending=N shortfalls=N" for the bpftrace checks.
check_trace() {
	local trace=$1 out=$2 ino slot_a slot_b helper_re rel tool_a tool_b
	ino=$(sed -nE 's/^region dev=[0-9]+ ino=([0-9]+) .*/\1/p' "$out")
	hdev=$(sed -nE 's/^region dev=([0-9]+) .*/\1/p' "$out")
	slot_a=$(sed -nE "s/^member cgroup=$id_a slot=([0-9]+) .*/\1/p" "$out")
	slot_b=$(sed -nE "s/^member cgroup=$id_b slot=([0-9]+) .*/\1/p" "$out")
	# "mpcgctl CGROUP ID SLOT" of a and b, CGROUP relative to the mount
	rel=${cg#/sys/fs/cgroup}
	tool_a=$(awk -v p="$rel/a" '$1 == "mpcgctl" && $2 == p { print $3, $4 }' "$out")
	tool_b=$(awk -v p="$rel/b" '$1 == "mpcgctl" && $2 == p { print $3, $4 }' "$out")
	# what each MPCG_IOC_REASSESS returned: "moved shortfall state;..."
	helper_re=$(sed -nE 's/^reassess n=[0-9]+ chunks_moved=([0-9]+) bytes_moved=[0-9]+ shortfall=([0-9]+) state=([0-9]+)$/\1 \2 \3/p' "$out" | paste -sd';')
	awk -v dev="$dev" -v hdev="$hdev" -v ino="$ino" -v a="$id_a" -v b="$id_b" \
	    -v sa="$slot_a" -v sb="$slot_b" -v chunk=$CHUNK -v nchunks=16 \
	    -v nhole=4 -v helper=trace_scenario -v hre="$helper_re" \
	    -v tool_a="$tool_a" -v tool_b="$tool_b" '
	function bad(t, m) { print t ": " m; }
	BEGIN {
		if (ino == "" || sa == "" || sb == "")
			bad("scenario", "no region/member lines in its output");
		if (hdev != dev)
			bad("dev/ino", "the scenario says st_dev " hdev ", stat -c %d of the mount " dev);
		nexp = split(hre, hx, ";");
		# what mpcgctl members printed: ID and SLOT of a and of b
		split(tool_a, ta, " ");
		split(tool_b, tb, " ");
		if (ta[1] == "" || tb[1] == "")
			bad("ids", "mpcgctl members printed no line for a or b (" tool_a "/" tool_b ")");
		tool[ta[1]] = ta[2];
		tool[tb[1]] = tb[2];
		if (ta[1] != a || tb[1] != b)
			bad("ids", "mpcgctl members prints ids a=" ta[1] " b=" tb[1] ", stat -c %i says " a ", " b);
		if (ta[2] != sa || tb[2] != sb)
			bad("ids", "mpcgctl members prints slots a=" ta[2] " b=" tb[2] ", MPCG_IOC_MEMBERS " sa ", " sb);
		# The shortfall pass: a pays all 16 chunks, both touched all
		# (policy 0), so b should pay half: the plan moves nchunks / 2
		# to b.  Its limit refuses the first, and the rest are refused
		# without a try (one refusal per payer and pass): as many
		# mpcg_shortfall events, and no move, in the first reassessment.
		sfexp = nchunks / 2;
	}
	{
		comm = $1; ev = $2; nev++;
		delete f;
		for (i = 3; i <= NF; i++) {
			eq = index($i, "=");
			v = substr($i, eq + 1);
			if (v ~ /^-?[0-9]+$/)
				v += 0;
			f[substr($i, 1, eq - 1)] = v;
		}
		if (f["dev"] != dev || f["ino"] != ino) {
			bad("dev/ino", $0 " (expected dev=" dev " ino=" ino ")");
			next;
		}
		# every cgroup id an event names is one mpcgctl printed
		for (k in f)
			if (k ~ /^(owner|cgroup|from|to)$/ && !(f[k] in tool))
				bad("ids", $0 ": " k "=" f[k] " is not an ID mpcgctl members printed");
		if (ev ~ /^mpcg_member_/ && (f["cgroup"] in tool) && f["slot"] != tool[f["cgroup"]])
			bad("ids", $0 ": mpcgctl members printed SLOT " tool[f["cgroup"]] " for this ID");
		if (ev == "mpcg_region_create") {
			ncreate++;
			if (nev != 1) bad("region", "region_create is not the first event");
			if (f["owner"] != a || f["chunk_size"] != chunk || f["policy"] != 0)
				bad("region", $0 " (expected owner=" a " chunk_size=" chunk " policy=0)");
		} else if (ev == "mpcg_region_destroy") {
			ndestroy++;
			if (leaves != 2) bad("region", "region_destroy before both members left");
			if (f["owner"] != a || f["chunk_size"] != chunk || f["policy"] != 0)
				bad("region", $0 " (expected owner=" a " chunk_size=" chunk " policy=0)");
		} else if (ev == "mpcg_member_join") {
			joins++; changed = 1;
			if (joins == 1 && (f["cgroup"] != a || f["slot"] != sa || f["members"] != 1 || nalloc))
				bad("members", $0 " (expected first: cgroup=" a " slot=" sa " members=1, before the allocations)");
			if (joins == 2 && (f["cgroup"] != b || f["slot"] != sb || f["members"] != 2 || nalloc != nchunks))
				bad("members", $0 " (expected second: cgroup=" b " slot=" sb " members=2, after the allocations)");
			if (joins > 2) bad("members", "extra " $0);
		} else if (ev == "mpcg_member_leave") {
			leaves++; changed = 1;
			if (leaves == 1 && (f["cgroup"] != b || f["slot"] != sb || f["members"] != 1))
				bad("members", $0 " (expected first: cgroup=" b " slot=" sb " members=1)");
			if (leaves == 2 && (f["cgroup"] != a || f["slot"] != sa || f["members"] != 0))
				bad("members", $0 " (expected second: cgroup=" a " slot=" sa " members=0)");
			if (leaves > 2) bad("members", "extra " $0);
		} else if (ev == "mpcg_chunk_alloc") {
			nalloc++;
			if (f["bytes"] != chunk || allocated[f["index"]]++)
				bad("allocs", $0 " (expected bytes=" chunk ", each index once)");
			if (!("fault" in f)) {
				bad("allocs", $0 ": no fault field");
			} else if (f["cgroup"] == a) {
				# write(): chunks 0..nchunks-1
				na++;
				if (f["fault"] != 0 || f["index"] >= nchunks)
					bad("allocs", $0 " (expected fault=0 by write(), index < " nchunks ")");
				if (joins != 1) bad("allocs", $0 ": not between the joins of a and b");
			} else if (f["cgroup"] == b) {
				# b faults in the hole: the next nhole chunks
				nb++;
				if (f["fault"] != 1 || f["index"] < nchunks || f["index"] >= nchunks + nhole)
					bad("allocs", $0 " (expected fault=1, index " nchunks ".." nchunks + nhole - 1 ")");
				if (joins != 2 || nfree || nre)
					bad("allocs", $0 ": not after b joined and before the truncate");
			} else {
				bad("allocs", $0 " (expected cgroup=" a " or " b ")");
			}
		} else if (ev == "mpcg_chunk_free") {
			nfree++;
			if (f["bytes"] != chunk || freed[f["index"]]++)
				bad("frees", $0 " (expected bytes=" chunk ", each index once)");
			if (f["cgroup"] == b) {
				# the truncate: the hole b filled
				nfb++;
				if (f["index"] < nchunks || f["index"] >= nchunks + nhole)
					bad("frees", $0 " (expected index " nchunks ".." nchunks + nhole - 1 ")");
				if (nb != nhole || nre || leaves)
					bad("frees", $0 ": not between b'"'"'s allocations and the first reassessment");
			} else if (f["cgroup"] == a) {
				nfa++;
				if (f["index"] >= nchunks)
					bad("frees", $0 " (expected index < " nchunks ")");
				if (leaves != 2) bad("frees", $0 ": before both members left");
			} else {
				bad("frees", $0 " (expected cgroup=" a " or " b ")");
			}
		} else if (ev == "mpcg_reassess_start") {
			if (inr) bad("reassess", "reassess_start inside a reassessment");
			inr = 1; changed = 0; moves = 0; sfs = 0; movens = 0; nre++;
			delete inthis;
			explicit = comm == helper;
			if (explicit) nx++;
			if (f["policy"] != 0 || f["resident"] != nchunks * chunk)
				bad("reassess", $0 " (expected policy=0 resident=" nchunks * chunk ")");
			if (explicit && f["members"] != (leaves ? 1 : 2))
				bad("reassess", $0 " (expected members=" (leaves ? 1 : 2) ")");
		} else if (ev == "mpcg_chunk_move") {
			if (!inr) bad("moves", $0 ": outside a reassessment");
			moves++; inthis[f["index"]] = 1;
			if (f["bytes"] != chunk || f["ns"] > 60e9 || f["index"] >= nchunks)
				bad("moves", $0 " (expected bytes=" chunk ", ns < 60 s, index < " nchunks ")");
			movens += f["ns"];
			if (f["from"] == a && f["to"] == b) {
				ab++;
				if (abi[f["index"]]++) bad("moves", $0 ": chunk moved to b twice");
				if (leaves) bad("moves", $0 ": after b left");
			} else if (f["from"] == b && f["to"] == a) {
				ba++;
				if (bai[f["index"]]++) bad("moves", $0 ": chunk moved to a twice");
				if (leaves != 1) bad("moves", $0 ": not between the leaves of b and a");
			} else {
				bad("moves", $0 " (expected from/to " a "/" b " or " b "/" a ")");
			}
		} else if (ev == "mpcg_shortfall") {
			nsf++; sfs++;
			if (!inr) bad("shortfall", $0 ": outside a reassessment");
			if (f["cgroup"] != b || f["bytes"] != chunk || f["index"] >= nchunks || (f["index"] in inthis))
				bad("shortfall", $0 " (expected cgroup=" b " bytes=" chunk ", index < " nchunks ", once in a reassessment)");
			inthis[f["index"]] = 1;
		} else if (ev == "mpcg_reassess_end") {
			if (!inr) bad("reassess", "reassess_end without a start");
			inr = 0;
			if (f["chunks_moved"] != moves || f["bytes_moved"] != moves * chunk)
				bad("reassess", $0 " (" moves " chunk_move events in it)");
			if (f["shortfall"] != sfs * chunk)
				bad("reassess", $0 " (" sfs " shortfall events in it)");
			if (explicit && nx == 1 && (sfs != sfexp || moves))
				bad("shortfall", $0 " (" sfs " shortfall events and " moves " moves in it, expected " sfexp " and 0)");
			if (f["result"] != 0 || (f["state"] != 0 && !sfs && !changed) || (sfs && f["state"] != 1))
				bad("reassess", $0 " (expected result=0, state=1 after a shortfall, else 0)");
			# its moves took part of its time (a coarse clock may say 0)
			if (f["ns"] < movens || f["ns"] > 600e9)
				bad("reassess", $0 " (its chunk_move events took " movens " ns)");
			if (f["state"] != 0) pending++;
			total += f["chunks_moved"];
			if (explicit) {
				split(hx[nx], e, " ");
				if (nx > nexp || f["chunks_moved"] != e[1] || f["shortfall"] != e[2] || f["state"] != e[3])
					bad("reassess", $0 " (MPCG_IOC_REASSESS #" nx " returned chunks_moved, shortfall, state = " hx[nx] ")");
			} else {
				print "# by " comm ": " $0;
			}
		} else {
			bad("dev/ino", "unknown event " $0);
		}
	}
	END {
		if (ncreate != 1 || ndestroy != 1)
			bad("region", ncreate + 0 " region_create, " ndestroy + 0 " region_destroy, expected 1 each");
		if (joins != 2 || leaves != 2)
			bad("members", joins + 0 " member_join, " leaves + 0 " member_leave, expected 2 each");
		if (na != nchunks || nb != nhole)
			bad("allocs", na + 0 " chunk_alloc for a, " nb + 0 " for b, expected " nchunks ", " nhole);
		if (nfa != nchunks || nfb != nhole)
			bad("frees", nfa + 0 " chunk_free paid by a, " nfb + 0 " by b, expected " nchunks ", " nhole);
		if (nsf != sfexp)
			bad("shortfall", nsf + 0 " mpcg_shortfall events, expected " sfexp);
		if (ab != nchunks / 2 || ba != nchunks / 2)
			bad("moves", ab + 0 " moves a->b, " ba + 0 " b->a, expected " nchunks / 2 " each");
		for (i in abi) if (!(i in bai)) bad("moves", "chunk " i " moved to b, not back");
		for (i in bai) if (!(i in abi)) bad("moves", "chunk " i " moved back to a, not to b");
		if (inr) bad("reassess", "a reassessment did not end");
		if (nx != nexp) bad("reassess", nx + 0 " reassessments by " helper ", it made " nexp);
		if (total != nchunks) bad("reassess", "reassessments moved " total + 0 " chunks, expected " nchunks);
		print "summary reassessments=" nre + 0 " pending=" pending + 0 " shortfalls=" nsf + 0 " ino=" ino;
	}' "$trace"
}

# pick TEST PROBLEMS: the problems of one test in check_trace's output
pick() { sed -n "s|^$1: ||p" <<<"$2"; }

# ---- tracefs ----
stamp "scenario with tracefs"
out=$tmp/scenario.out
trace=$tmp/trace
scenario "$out" "$trace" --shortfall --mpcgctl "$mpcgctl"
rc=$?
diag < "$out"
if [ $rc != 0 ]; then
	nok "scenario --shortfall (exit $rc)"
	finish "the scenario failed"
fi
echo "# $(wc -l < "$trace") mpcg events"
errs=$(check_trace "$trace" "$out")
grep '^# ' <<<"$errs"
sfree=$(sed -nE 's/^limit .* max=([0-9]+)$/\1/p' "$out")
ok "scenario --shortfall: $(grep -c '^reassess ' "$out") reassessments, $(grep -m1 '^limit' "$out")"
result "dev and ino of every event are the region's (st_dev $dev of the mount)" \
	"$(pick dev/ino "$errs"; pick scenario "$errs")"
result "mpcg_region_create/destroy: once each, owner a, chunk_size 1M, policy 0" \
	"$(pick region "$errs")"
result "mpcg_member_join/leave: a then b join (slots as MPCG_IOC_MEMBERS, members 1, 2), b then a leave (members 1, 0)" \
	"$(pick members "$errs")"
result "cgroup ids and slots of the events are the ID and SLOT columns of mpcgctl members" \
	"$(pick ids "$errs")"
result "mpcg_chunk_alloc: chunks 0..15 by write() (fault=0) charged to a, 16..19 by b's page faults (fault=1) charged to b, once each, 1M" \
	"$(pick allocs "$errs")"
result "mpcg_chunk_move: 8 a->b before b leaves, the same 8 b->a after, 1M" \
	"$(pick moves "$errs")"
nsf=$(sed -nE 's/^summary .* shortfalls=([0-9]+) .*/\1/p' <<<"$errs")
result "mpcg_shortfall: $nsf refused moves to b (memory.max $sfree), its share of 8 chunks, 1M, distinct chunk indexes" \
	"$(pick shortfall "$errs")"
result "mpcg_reassess_start/end: members, resident, chunks/bytes moved, ns, shortfall, state, result, as the ioctls and the events between them say" \
	"$(pick reassess "$errs")"
result "mpcg_chunk_free: chunks 16..19 paid by b at the truncate, 0..15 paid by a after both left, once each, 1M" \
	"$(pick frees "$errs")"

# ---- bpftrace ----

# mapval FILE MAP KEY: the value printed for @MAP[KEY] ("" if none)
mapval() { grep -F "@$2[$3]: " "$1" | head -n 1 | sed -E 's/.*\]: ([0-9-]+) *$/\1/'; }
# mapkeys FILE MAP: the keys printed for @MAP, one a line
mapkeys() { sed -nE "s/^@$2\[(.*)\]: .*/\1/p" "$1"; }
# histsum FILE MAP KEY: the sum of the buckets of histogram @MAP[KEY]
histsum() {
	awk -v h="@$2[$3]:" '
		index($0, h) == 1 { on = 1; next }
		on && /^\[/ { sub(/ *\|.*/, ""); s += $NF; next }
		on { exit }
		END { print s + 0 }' "$1"
}
# expect FILE WHAT GOT WANT: a problem line if GOT != WANT
expect() { [ "$3" = "$4" ] || echo "$2: got '$3', expected '$4'"; }
# tcount TRACE EVENT CGROUP [FIELD=VALUE]: how many EVENT lines of a tracefs
# capture (check_trace's input) name CGROUP, and FIELD=VALUE if given
tcount() {
	awk -v ev="$2" -v cg="cgroup=$3" -v kv="${4:-}" '
		$2 == ev { n2 = 0
			for (i = 3; i <= NF; i++)
				if ($i == cg || (kv != "" && $i == kv)) n2++
			if (n2 == (kv == "" ? 1 : 2)) n++ }
		END { print n + 0 }' "$1"
}
# check_allocs FILE TRACE: mpcg-allocs.bt's maps against the scenario (a:
# 16 chunks by write(), b: 4 by page faults; frees: a 16, b 4) and, if
# TRACE is given, against the tracefs capture of the same run
check_allocs() {
	local f=$1 t=${2:-} k n
	documented "$bt_dir/mpcg-allocs.bt" "$f"
	expect "$f" "@fault_allocs keys" "$(mapkeys "$f" fault_allocs | paste -sd' ')" "$id_b"
	expect "$f" "@fault_allocs[b]" "$(mapval "$f" fault_allocs "$id_b")" 4
	expect "$f" "@fault_bytes[b]" "$(mapval "$f" fault_bytes "$id_b")" $((4 * CHUNK))
	expect "$f" "@allocs keys" "$(mapkeys "$f" allocs | sort | paste -sd' ')" \
		"$(printf '%s\n' "$id_a" "$id_b" | sort | paste -sd' ')"
	expect "$f" "@frees keys" "$(mapkeys "$f" frees | sort | paste -sd' ')" \
		"$(printf '%s\n' "$id_a" "$id_b" | sort | paste -sd' ')"
	for k in "$id_a 16" "$id_b 4"; do
		n=${k#* }
		k=${k% *}
		expect "$f" "@allocs[$k]" "$(mapval "$f" allocs "$k")" "$n"
		expect "$f" "@alloc_bytes[$k]" "$(mapval "$f" alloc_bytes "$k")" $((n * CHUNK))
		expect "$f" "@alloc_tasks[$k, trace_scenario]" "$(mapval "$f" alloc_tasks "$k, trace_scenario")" "$n"
		expect "$f" "@frees[$k]" "$(mapval "$f" frees "$k")" "$n"
		expect "$f" "@free_bytes[$k]" "$(mapval "$f" free_bytes "$k")" $((n * CHUNK))
		[ -n "$t" ] || continue
		expect "$f" "@fault_allocs[$k] against tracefs" "$(mapval "$f" fault_allocs "$k")" \
			"$(tcount "$t" mpcg_chunk_alloc "$k" fault=1 | sed 's/^0$//')"
		expect "$f" "@allocs[$k] against tracefs" "$(mapval "$f" allocs "$k")" \
			"$(tcount "$t" mpcg_chunk_alloc "$k")"
		expect "$f" "@frees[$k] against tracefs" "$(mapval "$f" frees "$k")" \
			"$(tcount "$t" mpcg_chunk_free "$k")"
	done
}
# documented SCRIPT OUT: problems if OUT prints a map SCRIPT's header does
# not describe, or lacks its BEGIN or END lines
documented() {
	local m
	for m in $(grep -oE '^@[a-z_]+' "$2" | sort -u); do
		sed -n '1,/^ \*\/$/p' "$1" | grep -qF " *   $m[" ||
			echo "prints $m, which its header does not describe"
	done
	grep -q '^Tracing mpcg ' "$2" || echo "no BEGIN line"
	grep -qE ' per .*\[.*\]:$' "$2" || echo "no END heading"
	grep -E '^ERROR' "$2" | sed 's/^/bpftrace says: /'
}

# start_bt NAME ARGS...: start bpftrace in the background, output to
# $tmp/NAME.out; sets bt_pid.  wait_bt NAME: wait until it has attached (its
# BEGIN line); fails if it exited or took too long.
start_bt() {
	local name=$1
	shift
	bpftrace -B line "$@" > "$tmp/$name.out" 2>&1 &
	bt_pid=$!
	bt_pids+=("$bt_pid")
}
alive() { [ -d /proc/$1 ] && ! grep -q '^State:.*Z' /proc/$1/status 2>/dev/null; }
wait_bt() {
	local name=$1 pid=$2 i
	for ((i = 0; i < BT_TIMEOUT * 10; i++)); do
		grep -q '^Tracing mpcg ' "$tmp/$name.out" && return 0
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		echo "$name: did not attach within ${BT_TIMEOUT}s" >&2
	else
		wait "$pid"
		echo "$name: bpftrace exited with status $? before attaching" >&2
	fi
	return 1
}
# stop_bt PID: SIGINT it (again every 5 s, see the scripts' interval probe)
# and wait; returns its status, 124 if it did not stop.
stop_bt() {
	local pid=$1 i
	for ((i = 0; i < BT_TIMEOUT * 10; i++)); do
		if [ $((i % 50)) = 0 ]; then
			[ $i != 0 ] && echo "# bpftrace $pid: SIGINT again"
			kill -INT "$pid" 2>/dev/null
		fi
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		echo "# bpftrace $pid did not stop on SIGINT:"
		for i in /proc/$pid/task/*; do
			echo "# thread $(cat $i/comm) in $(cat $i/wchan 2>/dev/null)"
			sed 's/^/#   /' $i/stack 2>/dev/null
		done
		kill -KILL "$pid"
		wait "$pid"
		return 124
	fi
	wait "$pid"
}

# bpftrace_works: can bpftrace run a program with a tracepoint on this
# kernel at all?  (A kernel tracepoint: a problem with mpcg's is a failure.)
# Sets bt_why if not.
bpftrace_works() {
	local rc
	timeout "$BT_TIMEOUT" bpftrace -e 'tracepoint:sched:sched_process_exit { @n = count(); }
		BEGIN { printf("bpftrace works\n"); exit(); } END { clear(@n); }' \
		> "$tmp/bt-works.out" 2>&1
	rc=$?
	if [ $rc != 0 ] || ! grep -q '^bpftrace works' "$tmp/bt-works.out"; then
		bt_why="bpftrace cannot run on this kernel (exit $rc: $(grep -v '^Attaching' "$tmp/bt-works.out" | head -n 3 | tr '\n' ' '))"
	fi
}

bt_why=
if ! command -v bpftrace > /dev/null; then
	bt_why="bpftrace is not installed"
fi
declare -A pid
started=1
if [ -z "$bt_why" ]; then
	start=$SECONDS
	for s in moves allocs reassess; do
		start_bt $s "$bt_dir/mpcg-$s.bt"
		pid[$s]=$bt_pid
	done
	for s in moves allocs reassess; do
		wait_bt $s ${pid[$s]} 2> "$tmp/$s.why" || started=0
	done
	stamp "the three scripts attached after $((SECONDS - start)) s"
	if [ $started = 0 ]; then
		for s in moves allocs reassess; do
			stop_bt ${pid[$s]} > /dev/null
		done
		bpftrace_works
	fi
fi
if [ -n "$bt_why" ]; then
	for t in moves allocs reassess "allocs -c" "moves SECONDS"; do
		skp "mpcg-$t.bt" "$bt_why"
	done
	finish "$bt_why"
fi

if [ $started = 0 ]; then
	for s in moves allocs reassess; do
		cat "$tmp/$s.why" "$tmp/$s.out" | diag
		nok "mpcg-$s.bt (SIGINT): did not start"
	done
else
	stamp "scenario with bpftrace and tracefs"
	out2=$tmp/scenario2.out
	trace2=$tmp/trace2
	scenario "$out2" "$trace2" --shortfall --mpcgctl "$mpcgctl"
	rc=$?
	for s in moves allocs reassess; do
		stop_bt ${pid[$s]}
		echo $? > "$tmp/$s.rc"
	done
	errs2=$(check_trace "$trace2" "$out2")
	summary2=$(grep '^summary ' <<<"$errs2")
	nre=$(sed -nE 's/.* reassessments=([0-9]+) .*/\1/p' <<<"$summary2")
	npend=$(sed -nE 's/.* pending=([0-9]+) .*/\1/p' <<<"$summary2")
	nsf2=$(sed -nE 's/.* shortfalls=([0-9]+) .*/\1/p' <<<"$summary2")
	ino2=$(sed -nE 's/.* ino=([0-9]+)$/\1/p' <<<"$summary2")
	# The trace of this run must pass the same checks (but for the summary).
	base=$(grep -v -e '^summary ' -e '^# ' <<<"$errs2")
	[ $rc = 0 ] || base="scenario exit $rc"$'\n'"$base"

	f=$tmp/moves.out
	result "mpcg-moves.bt (SIGINT): @moves/@move_bytes/@move_ns a->b 8, b->a 8" "$(
		printf '%s\n' "$base" | sed '/^$/d'
		expect "$f" "exit status" "$(cat $tmp/moves.rc)" 0
		documented "$bt_dir/mpcg-moves.bt" "$f"
		expect "$f" "pairs" "$(mapkeys "$f" moves | sort | paste -sd' ')" \
			"$(printf '%s\n' "$id_a, $id_b" "$id_b, $id_a" | sort | paste -sd' ')"
		for k in "$id_a, $id_b" "$id_b, $id_a"; do
			expect "$f" "@moves[$k]" "$(mapval "$f" moves "$k")" 8
			expect "$f" "@move_bytes[$k]" "$(mapval "$f" move_bytes "$k")" $((8 * CHUNK))
			expect "$f" "@move_ns[$k] total" "$(histsum "$f" move_ns "$k")" 8
		done)"
	diag < "$f"

	f=$tmp/allocs.out
	result "mpcg-allocs.bt (SIGINT): @fault_allocs b 4; @allocs a 16, b 4; @frees a 16, b 4; as tracefs saw" "$(
		printf '%s\n' "$base" | sed '/^$/d'
		expect "$f" "exit status" "$(cat $tmp/allocs.rc)" 0
		check_allocs "$f" "$trace2")"
	diag < "$f"

	f=$tmp/reassess.out
	k="$dev, $ino2"
	result "mpcg-reassess.bt (SIGINT): $nre reassessments, 16 chunks moved, $npend left pending, $nsf2 refused moves to b, as tracefs saw" "$(
		printf '%s\n' "$base" | sed '/^$/d'
		expect "$f" "exit status" "$(cat $tmp/reassess.rc)" 0
		documented "$bt_dir/mpcg-reassess.bt" "$f"
		expect "$f" "regions" "$(mapkeys "$f" reassessments | paste -sd' ')" "$k"
		expect "$f" "@reassessments[$k]" "$(mapval "$f" reassessments "$k")" "$nre"
		expect "$f" "@chunks_moved[$k]" "$(mapval "$f" chunks_moved "$k")" 16
		expect "$f" "@bytes_moved[$k]" "$(mapval "$f" bytes_moved "$k")" $((16 * CHUNK))
		expect "$f" "@duration_ns[$k] total" "$(histsum "$f" duration_ns "$k")" "$nre"
		expect "$f" "@left_pending[$k]" "$(mapval "$f" left_pending "$k")" "$npend"
		expect "$f" "@shortfall_bytes[$k]" "$(mapval "$f" shortfall_bytes "$k")" 0
		expect "$f" "@refused[$k, b]" "$(mapval "$f" refused "$k, $id_b")" "$nsf2"
		expect "$f" "@refused keys" "$(mapkeys "$f" refused | paste -sd' ')" "$k, $id_b"
		expect "$f" "@errors" "$(mapkeys "$f" errors)" "")"
	diag < "$f"
fi

# -c: bpftrace runs the scenario (without the shortfall) and stops when it
# exits.  Meanwhile mpcg-moves.bt 2 stops by itself 2 s after it attached
# (what it saw depends on when that was).
stamp "bpftrace -c and bpftrace SECONDS"
fc=$tmp/allocs-c.out
fs=$tmp/moves-2.out
start=$SECONDS
(timeout "$BT_TIMEOUT" bpftrace -B line "$bt_dir/mpcg-moves.bt" 2 > "$fs" 2>&1
 echo $? > "$tmp/moves-2.rc"; echo $((SECONDS - start)) > "$tmp/moves-2.s") &
spid=$!
timeout "$BT_TIMEOUT" bpftrace -B line -c "$helper $mnt $cg/a $cg/b" \
	"$bt_dir/mpcg-allocs.bt" > "$fc" 2>&1
rc=$?
wait $spid
f=$fc
result "mpcg-allocs.bt -c SCENARIO: stops when it exits, @fault_allocs b 4, @allocs a 16, b 4, @frees a 16, b 4" "$(
	expect "$f" "exit status" $rc 0
	grep -q '^done$' "$f" || echo "the scenario did not finish"
	check_allocs "$f")"
diag < "$f"

f=$fs
result "mpcg-moves.bt 2: stops by itself after 2 s ($(cat "$tmp/moves-2.s") s with startup)" "$(
	expect "$f" "exit status" "$(cat "$tmp/moves-2.rc")" 0
	documented "$bt_dir/mpcg-moves.bt" "$f")"
diag < "$f"

stamp "done"
finish "?"

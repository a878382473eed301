#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Helpers of selftests/mpcgctl_test.sh.

Checks what mpcgctl prints against what the mpcg ABI (uapi/linux/mpcg.h,
used here directly with ioctl(2), not through libmpcg) and the cgroups' own
files say, parses the Prometheus text format strictly, runs `mpcgctl top`
on a pseudo-terminal, and holds regions open or mapped in a cgroup.

    mpcgctl_check.py COMMAND [ARGS]     (mpcgctl's output on stdin)

Exit status 0 if everything matches; otherwise each difference is printed
on stderr as a "# " line and the status is 1.
"""
import ctypes
import errno
import fcntl
import json
import math
import mmap
import os
import re
import select
import signal
import struct
import subprocess
import sys
import time

CGROUP_ROOT = "/sys/fs/cgroup"
CTL = "/dev/mpcg"

# ---- the ABI -----------------------------------------------------------

MAGIC = 0xBC


def _ioc(d, nr, size):
    return (d << 30) | (size << 16) | (MAGIC << 8) | nr


# The latest layouts (uapi/linux/mpcg.h), written out again here so that
# this checker does not trust the header it checks.
REGION_STAT = struct.Struct("<IIQQQQQIIIIQQQQQIIQ")
MEMBER = struct.Struct("<QQQIIIIQQQQQQ")
ATTACHMENT = struct.Struct("<IIQQQ16s")
CHUNK = struct.Struct("<QQQII")
TABLE = struct.Struct("<IIIIQ")
CHUNK_QUERY = struct.Struct("<IIIIQQ")
SET_POLICY = struct.Struct("<IIII")
REASSESS = struct.Struct("<IIIIQQQ")
CGROUP_USAGE = struct.Struct("<IIIIQiIQQQQQ")

# Commands carry the VER0 size of their struct.
IOC_REGION_STAT = _ioc(3, 0x01, 104)
IOC_MEMBERS = _ioc(3, 0x02, TABLE.size)
IOC_ATTACHMENTS = _ioc(3, 0x03, TABLE.size)
IOC_SET_POLICY = _ioc(1, 0x04, SET_POLICY.size)
IOC_REASSESS = _ioc(3, 0x05, REASSESS.size)
IOC_CHUNKS = _ioc(3, 0x06, CHUNK_QUERY.size)
IOC_LIST_REGIONS = _ioc(3, 0x10, TABLE.size)
IOC_CGROUP_USAGE = _ioc(3, 0x11, CGROUP_USAGE.size)

POLICIES = ["proportional", "equal", "first-touch", "owner"]
STATES = ["assessed", "pending"]
OWNER, DEPARTED, HIGH = 1, 2, 4

assert (REGION_STAT.size, MEMBER.size, ATTACHMENT.size, CHUNK.size,
        TABLE.size, CHUNK_QUERY.size, CGROUP_USAGE.size) == \
    (120, 88, 48, 32, 24, 32, 72)

STAT_KEYS = ("size flags dev ino file_size chunk_size resident_bytes policy "
             "state nr_members nr_attachments owner_cgroup_id reassessments "
             "chunks_moved bytes_moved shortfall_bytes nr_member_entries "
             "reserved pinned_bytes").split()
MEMBER_KEYS = ("dev ino cgroup_id flags nr_attachments slot reserved "
               "touched_bytes fair_share_bytes paid_bytes shortfall_bytes "
               "peak_paid_bytes pinned_bytes").split()


def region_stat(fd):
    buf = bytearray(REGION_STAT.pack(REGION_STAT.size, *[0] * 18))
    fcntl.ioctl(fd, IOC_REGION_STAT, buf, True)
    d = dict(zip(STAT_KEYS, REGION_STAT.unpack(buf)))
    for k in ("size", "flags", "reserved"):
        del d[k]
    return d


def table(fd, cmd, st, extra=b""):
    """All entries of a table; @extra: the request's fields after the header."""
    cap = 4
    while True:
        arr = ctypes.create_string_buffer(cap * st.size)
        hdr = bytearray(TABLE.pack(TABLE.size + len(extra), 0, st.size, cap,
                                   ctypes.addressof(arr)) + extra)
        try:
            fcntl.ioctl(fd, cmd, hdr, True)
        except OSError as e:
            if e.errno != errno.ERANGE:
                raise
            cap = TABLE.unpack_from(hdr)[3] + 4
            continue
        n = TABLE.unpack_from(hdr)[3]
        return [st.unpack_from(arr.raw, i * st.size) for i in range(n)], hdr


def members(fd):
    return [dict(zip(MEMBER_KEYS, m))
            for m in table(fd, IOC_MEMBERS, MEMBER)[0]]


def attachments(fd):
    keys = "pid kind cgroup_id offset length comm".split()
    out = []
    for a in table(fd, IOC_ATTACHMENTS, ATTACHMENT)[0]:
        d = dict(zip(keys, a))
        d["comm"] = d["comm"].split(b"\0")[0].decode()
        out.append(d)
    return out


def chunks(fd, cgroup_id=0):
    """Resident chunks, or those the member of that cgroup id touched."""
    keys = "index payer_cgroup_id first_cgroup_id nr_touchers flags".split()
    ents = table(fd, IOC_CHUNKS, CHUNK, struct.pack("<Q", cgroup_id))[0]
    return [dict(zip(keys, c)) for c in ents]


def list_regions():
    fd = os.open(CTL, os.O_RDONLY)
    try:
        out = []
        for r in table(fd, IOC_LIST_REGIONS, REGION_STAT)[0]:
            d = dict(zip(STAT_KEYS, r))
            for k in ("size", "flags", "reserved"):
                del d[k]
            out.append(d)
        return out
    finally:
        os.close(fd)


def cgroup_usage(path):
    """Totals and entries of the cgroup at a file system path."""
    ctl = os.open(CTL, os.O_RDONLY)
    cg = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        rest = struct.pack("<iIQQQQQ", cg, 0, 0, 0, 0, 0, 0)
        ents, hdr = table(ctl, IOC_CGROUP_USAGE, MEMBER, rest)
        v = CGROUP_USAGE.unpack(hdr)
        tot = dict(zip("cgroup_id touched_bytes fair_share_bytes "
                       "paid_bytes shortfall_bytes".split(), v[7:]))
        return tot, [dict(zip(MEMBER_KEYS, e)) for e in ents]
    finally:
        os.close(cg)
        os.close(ctl)


def open_region(path):
    return os.open(path, os.O_RDONLY)

# ---- cgroups -----------------------------------------------------------


def cgroup_paths():
    """cgroup id -> path under the cgroup2 mount ("/" for the root)."""
    ids = {}
    for d, _, _ in os.walk(CGROUP_ROOT):
        rel = d[len(CGROUP_ROOT):] or "/"
        ids[os.stat(d).st_ino] = rel
    return ids


def cg_name(ids, cid):
    return ids.get(cid, "#%d (removed)" % cid)


def cg_file(rel, name):
    with open(CGROUP_ROOT + (rel if rel != "/" else "") + "/" + name) as f:
        return f.read()


def cg_stat(rel):
    return {k: int(v) for k, v in
            (l.split() for l in cg_file(rel, "memory.stat").splitlines())}

# ---- checking ----------------------------------------------------------


errors = 0


def fail(msg):
    global errors
    errors += 1
    print("# " + msg, file=sys.stderr)


def expect(what, got, want):
    if got != want:
        fail("%s: mpcgctl says %r, expected %r" % (what, got, want))


def read_json(key):
    text = sys.stdin.read()
    try:
        doc = json.loads(text)
    except ValueError as e:
        fail("not JSON (%s): %r" % (e, text[:200]))
        sys.exit(1)
    if list(doc) != [key] or not isinstance(doc[key], list):
        fail("JSON: expected one key %r with a list, got %r" % (key, list(doc)))
        sys.exit(1)
    return doc[key]


def member_flags(f):
    return ",".join(n for b, n in ((OWNER, "owner"), (DEPARTED, "departed"),
                                   (HIGH, "high"))
                    if f & b) or None


def check_stat(files):
    rows = read_json("regions")
    ids = cgroup_paths()
    expect("rows", len(rows), len(files))
    for row, path in zip(rows, files):
        fd = open_region(path)
        st = region_stat(fd)
        ms = members(fd)
        os.close(fd)
        # The table `members` shows: each row has attachments or is departed.
        departed = sum(1 for m in ms if m["flags"] & DEPARTED)
        expect(path + ": table rows with attachments", len(ms) - departed,
               st["nr_members"])
        want = {
            "path": path, "ino": st["ino"], "size": st["file_size"],
            "chunk": st["chunk_size"], "resident": st["resident_bytes"],
            "policy": POLICIES[st["policy"]], "state": STATES[st["state"]],
            "members": st["nr_members"], "departed": departed,
            "attach": st["nr_attachments"],
            "owner": cg_name(ids, st["owner_cgroup_id"]),
            "owner_id": st["owner_cgroup_id"],
            "reassessments": st["reassessments"],
            "moved_chunks": st["chunks_moved"], "moved": st["bytes_moved"],
            "shortfall": st["shortfall_bytes"],
        }
        expect(path + " row", row, want)


def check_members(path):
    rows = read_json("members")
    fd = open_region(path)
    st = region_stat(fd)
    ms = members(fd)
    os.close(fd)
    ids = cgroup_paths()
    want = [{
        "cgroup": cg_name(ids, m["cgroup_id"]), "id": m["cgroup_id"],
        "flags": member_flags(m["flags"]), "attach": m["nr_attachments"],
        "slot": m["slot"], "touched": m["touched_bytes"],
        "fair": m["fair_share_bytes"], "paid": m["paid_bytes"],
        "shortfall": m["shortfall_bytes"], "peak": m["peak_paid_bytes"],
        "pinned": m["pinned_bytes"],
    } for m in ms]
    expect(path + " members", rows, want)
    # What the numbers mean, as a user reads them.
    if sum(r["paid"] for r in rows) != st["resident_bytes"]:
        fail("%s: members pay %d, resident %d" %
             (path, sum(r["paid"] for r in rows), st["resident_bytes"]))
    if st["state"] == 0:
        for r in rows:
            if abs(r["paid"] - r["fair"]) > st["chunk_size"]:
                fail("%s: %s pays %d, fair share %d" %
                     (path, r["cgroup"], r["paid"], r["fair"]))


def proc_cgroup(pid):
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].strip()
    return None


def check_attachments(path, pids):
    rows = read_json("attachments")
    fd = open_region(path)
    att = attachments(fd)
    os.close(fd)
    ids = cgroup_paths()
    want = [{
        "pid": a["pid"], "comm": a["comm"],
        "kind": {1: "file", 2: "map"}[a["kind"]],
        "cgroup": cg_name(ids, a["cgroup_id"]), "id": a["cgroup_id"],
        "offset": a["offset"] if a["kind"] == 2 else None,
        "length": a["length"] if a["kind"] == 2 else None,
    } for a in att]
    expect(path + " attachments", rows, want)
    # The holders' attachments, in the cgroup the kernel says they are in.
    for pid in (int(p) for p in pids):
        mine = [r for r in rows if r["pid"] == pid]
        if not mine:
            fail("%s: no attachment of pid %d" % (path, pid))
        for r in mine:
            expect("pid %d cgroup" % pid, r["cgroup"], proc_cgroup(pid))


def check_chunks(path):
    rows = read_json("chunks")
    fd = open_region(path)
    st = region_stat(fd)
    ms = members(fd)
    ch = chunks(fd)
    # Who touched each chunk: the chunk table of each member.
    touched = {}
    for m in ms:
        for c in chunks(fd, m["cgroup_id"]):
            touched.setdefault(c["index"], []).append(m["cgroup_id"])
    os.close(fd)
    ids = cgroup_paths()
    want = [{
        "index": c["index"], "offset": c["index"] * st["chunk_size"],
        "payer": cg_name(ids, c["payer_cgroup_id"]),
        "payer_id": c["payer_cgroup_id"],
        "ntouchers": c["nr_touchers"],
        "touchers": ",".join(cg_name(ids, t)
                             for t in touched.get(c["index"], [])) or None,
        "first": cg_name(ids, c["first_cgroup_id"])
        if c["first_cgroup_id"] else None,
    } for c in ch]
    for w in want:
        expect("chunk %d: touchers counted" % w["index"], w["ntouchers"],
               len(touched.get(w["index"], [])))
    expect(path + " chunks", rows, want)


def check_list(files):
    """files: the paths the regions are expected at ("" for deleted)."""
    rows = read_json("regions")
    regs = list_regions()
    ids = cgroup_paths()
    paths = {}
    for p in files:
        if p:
            s = os.stat(p)
            paths[(s.st_dev, s.st_ino)] = p
    want = []
    for r in regs:
        dev = "%d:%d" % (os.major(r["dev"]), os.minor(r["dev"]))
        want.append({
            "path": paths.get((r["dev"], r["ino"]),
                              "%s:%d (deleted)" % (dev, r["ino"])),
            "dev": dev, "ino": r["ino"], "size": r["file_size"],
            "resident": r["resident_bytes"], "chunk": r["chunk_size"],
            "policy": POLICIES[r["policy"]], "state": STATES[r["state"]],
            "members": r["nr_members"], "attach": r["nr_attachments"],
            "owner": cg_name(ids, r["owner_cgroup_id"]),
            "owner_id": r["owner_cgroup_id"],
            "shortfall": r["shortfall_bytes"],
        })
    expect("list", rows, want)
    for p in files:
        if p and p not in [r["path"] for r in rows]:
            fail("list: %s not listed" % p)
    if "" in files and not [r for r in rows if r["path"].endswith("(deleted)")]:
        fail("list: no deleted region listed")


def usage_want(rel, all_=False):
    """What usage REL should show: rows, then the total row."""
    base = CGROUP_ROOT + (rel.rstrip("/") if rel != "/" else "")
    rows, seen = [], {}
    dirs = sorted(d for d, _, _ in os.walk(base))
    for d in sorted(dirs, key=lambda d: d[len(CGROUP_ROOT):] or "/"):
        tot, ents = cgroup_usage(d)
        if not ents:
            continue
        if not all_ and not (tot["paid_bytes"] or tot["fair_share_bytes"] or
                             tot["shortfall_bytes"]):
            continue
        rows.append({
            "cgroup": d[len(CGROUP_ROOT):] or "/", "id": tot["cgroup_id"],
            "regions": len(ents),
            "attach": sum(e["nr_attachments"] for e in ents),
            "touched": tot["touched_bytes"], "fair": tot["fair_share_bytes"],
            "paid": tot["paid_bytes"], "shortfall": tot["shortfall_bytes"],
        })
        for e in ents:
            seen[(e["dev"], e["ino"])] = 1
    total = {"cgroup": "total", "id": None, "regions": len(seen)}
    for k in ("attach", "touched", "fair", "paid", "shortfall"):
        total[k] = sum(r[k] for r in rows)
    return rows, total


def check_usage(rel, *flags):
    out = read_json("usage")
    rows, total = usage_want(rel, "--all" in flags)
    current = {}
    for r in out:
        current[r["cgroup"]] = r.pop("current", None)
    expect("usage %s rows" % rel, out[:-1], rows)
    expect("usage %s total" % rel, out[-1:], [total])
    for r in rows:
        want = int(cg_file(r["cgroup"], "memory.current"))
        got = current[r["cgroup"]]
        if got is None or abs(got - want) > 512 << 10:
            fail("usage: %s CURRENT %r, memory.current %d" %
                 (r["cgroup"], got, want))
    # The total's CURRENT: the subtree's memory.current (the root has none).
    got = current.get("total")
    if rel.rstrip("/") == "":
        expect("usage / total CURRENT", got, None)
    else:
        want = int(cg_file(rel.rstrip("/"), "memory.current"))
        if got is None or abs(got - want) > 512 << 10:
            fail("usage: %s total CURRENT %r, memory.current %d" %
                 (rel, got, want))
    if "--expect-total" in flags:
        want = int(flags[flags.index("--expect-total") + 1])
        expect("usage %s total paid" % rel, total["paid"], want)


def check_reassess(mpcgctl, files):
    """mpcgctl reassess --json --bytes FILE, and the region's stats around it."""
    for path in files:
        fd = open_region(path)
        b = region_stat(fd)
        out = subprocess.run([mpcgctl, "reassess", "--json", "--bytes", path],
                             stdout=subprocess.PIPE, check=True).stdout
        a = region_stat(fd)
        os.close(fd)
        rows = json.loads(out)["reassess"]
        want = [{"state": STATES[a["state"]],
                 "moved_chunks": a["chunks_moved"] - b["chunks_moved"],
                 "moved": a["bytes_moved"] - b["bytes_moved"],
                 "shortfall": a["shortfall_bytes"]}]
        expect(path + " reassess", rows, want)
        expect("reassessments", a["reassessments"], b["reassessments"] + 1)
        expect("state", a["state"], 0)
        if rows and not rows[0]["moved_chunks"]:
            fail("%s: the first reassessment moved nothing" % path)


def check_charges(*cgroups):
    """Each cgroup's paid bytes are in its memory.current, as kernel memory."""
    tol = 1 << 20
    for rel in cgroups:
        tot, _ = cgroup_usage(CGROUP_ROOT + rel)
        paid = tot["paid_bytes"]
        cur = int(cg_file(rel, "memory.current"))
        st = cg_stat(rel)
        other = cur - st["anon"] - st["file"]
        print("# %s: paid %.2fM, memory.current %.2fM (kernel %.2fM, "
              "anon %.2fM, file %.2fM)" % (rel, paid / 2**20, cur / 2**20,
                                           st["kernel"] / 2**20,
                                           st["anon"] / 2**20,
                                           st["file"] / 2**20))
        if not 0 <= other - paid <= tol:
            fail("%s pays %d but memory.current less anon and file is %d"
                 % (rel, paid, other))
        if not 0 <= st["kernel"] - paid <= tol:
            fail("%s pays %d but memory.stat kernel is %d"
                 % (rel, paid, st["kernel"]))


def human(n):
    """Sizes as util-linux prints them: 0B, 512B, 1.5M, 32M."""
    exp = 0
    while exp < 60 and n >= 1 << (exp + 10):
        exp += 10
    if not exp:
        return "%dB" % n
    dec, frac = n >> exp, n & ((1 << exp) - 1)
    frac = (frac // (1 << (exp - 10))) * 1000 >> 10
    frac = (frac + 50) // 100
    if frac == 10:
        dec, frac = dec + 1, 0
    num = "%d.%d" % (dec, frac) if frac else "%d" % dec
    return num + "BKMGTPE"[exp // 10]


def check_human(key, human_file, bytes_file, *size_cols):
    """The same table with and without --bytes: sizes printed as util-linux."""
    with open(human_file) as f:
        h = json.load(f)[key]
    with open(bytes_file) as f:
        b = json.load(f)[key]
    expect("rows", len(h), len(b))
    for rh, rb in zip(h, b):
        for c in size_cols:
            if rb[c] is None:
                continue
            expect("%s %s" % (c, rb[c]), rh[c], human(rb[c]))
    for n, want in ((0, "0B"), (512, "512B"), (1536 << 10, "1.5M"),
                    (32 << 20, "32M"), ((1 << 20) - 1, "1024K"),
                    (1100 << 20, "1.1G")):
        expect("human(%d)" % n, human(n), want)

# ---- Prometheus text format ------------------------------------------------


METRIC_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*$")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def parse_float(s):
    if s in ("NaN", "+Inf", "-Inf", "Inf"):
        return float(s.replace("Inf", "inf"))
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", s):
        raise ValueError("bad value %r" % s)
    return float(s)


def parse_labels(s, where):
    """The inside of {...}: name="value",... with \\\\, \\" and \\n escapes."""
    labels, i = {}, 0
    while i < len(s):
        m = re.match(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"", s[i:])
        if not m:
            raise ValueError("%s: bad label at %r" % (where, s[i:]))
        name = m.group(1)
        if name.startswith("__"):
            raise ValueError("%s: reserved label name %s" % (where, name))
        i += m.end()
        val = ""
        while True:
            if i >= len(s):
                raise ValueError("%s: unterminated label value" % where)
            c = s[i]
            if c == "\\":
                if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                    raise ValueError("%s: bad escape" % where)
                val += {"\\": "\\", '"': '"', "n": "\n"}[s[i + 1]]
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ValueError("%s: newline in label value" % where)
            else:
                val += c
                i += 1
        if name in labels:
            raise ValueError("%s: label %s twice" % (where, name))
        labels[name] = val
        if i < len(s):
            if s[i] != ",":
                raise ValueError("%s: expected ',' at %r" % (where, s[i:]))
            i += 1
    return labels


def parse_prometheus(text):
    """Strictly parse the text exposition format (version 0.0.4).

    Returns {metric: {"type", "help", "samples": {labels tuple: value}}}.
    Raises ValueError on anything a strict scraper would refuse.
    """
    if text and not text.endswith("\n"):
        raise ValueError("no newline at the end")
    fams, order, done = {}, [], set()
    current = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d" % n
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not METRIC_RE.match(parts[2]):
                    raise ValueError("%s: bad %s line" % (where, parts[1]))
                name = parts[2]
                if name in done:
                    raise ValueError("%s: %s after its samples" % (where, name))
                fam = fams.setdefault(name, {"type": None, "help": None,
                                             "samples": {}})
                if name not in order:
                    order.append(name)
                key = parts[1].lower()
                if fam[key] is not None:
                    raise ValueError("%s: second %s for %s" %
                                     (where, parts[1], name))
                val = parts[3] if len(parts) > 3 else ""
                if key == "type" and val not in TYPES:
                    raise ValueError("%s: bad type %r" % (where, val))
                if fam["samples"]:
                    raise ValueError("%s: %s of %s after samples" %
                                     (where, parts[1], name))
                fam[key] = val
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([^ ]+)( -?\d+)?$",
                     line)
        if not m:
            raise ValueError("%s: not a sample: %r" % (where, line))
        name, labels = m.group(1), parse_labels(m.group(3) or "", where)
        value = parse_float(m.group(4))
        fam = fams.get(name)
        if fam is None or fam["type"] is None or fam["help"] is None:
            raise ValueError("%s: %s without # HELP and # TYPE before it" %
                             (where, name))
        if current != name:
            if name in done:
                raise ValueError("%s: samples of %s not together" %
                                 (where, name))
            if current:
                done.add(current)
            current = name
        key = tuple(sorted(labels.items()))
        if key in fam["samples"]:
            raise ValueError("%s: %s%s twice" % (where, name, labels))
        fam["samples"][key] = value
    return fams


def prom_selftest():
    """The parser refuses what it should."""
    good = "# HELP m_x x.\n# TYPE m_x gauge\nm_x{a=\"q\\\"\\\\\\n\"} 1.5e3\n"
    want = {"m_x": {"type": "gauge", "help": "x.",
                    "samples": {(("a", 'q"\\\n'),): 1500.0}}}
    expect("our parse of %r" % good, parse_prometheus(good), want)
    ref = reference_prometheus(good)
    if ref is not None:
        expect("prometheus_client's parse of %r" % good, ref, want)
    bad = [
        "m_x 1\n",                                          # no HELP/TYPE
        "# HELP m_x x.\n# TYPE m_x gauge\nm_x 1",           # no final newline
        "# HELP m_x x.\n# TYPE m_x gaug\nm_x 1\n",          # bad type
        "# HELP 1m x.\n# TYPE 1m gauge\n1m 1\n",            # bad name
        "# HELP m_x x.\n# TYPE m_x gauge\nm_x{1a=\"v\"} 1\n",  # bad label
        "# HELP m_x x.\n# TYPE m_x gauge\nm_x{a=\"v} 1\n",  # unterminated
        "# HELP m_x x.\n# TYPE m_x gauge\nm_x{a=\"\\q\"} 1\n",  # bad escape
        "# HELP m_x x.\n# TYPE m_x gauge\nm_x one\n",       # not a float
        "# HELP m_x x.\n# TYPE m_x gauge\nm_x 1\nm_x 2\n",  # twice
        "# HELP m_x x.\n# TYPE m_x gauge\nm_x 1\n# TYPE m_x gauge\n",
        "# HELP m_x x.\n# TYPE m_x gauge\n# HELP m_y y.\n# TYPE m_y gauge\n"
        "m_x 1\nm_y 1\nm_x{a=\"b\"} 1\n",                   # not together
    ]
    for b in bad:
        try:
            parse_prometheus(b)
        except ValueError:
            continue
        fail("the Prometheus parser accepted %r" % b)


def reference_parser():
    """prometheus_client's parser (Debian: python3-prometheus-client), or
    None after saying why it is missing."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        # Run with python3 -S: no site packages.  Debian puts it here.
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError as e:
            fail("cannot import prometheus_client (%s): install "
                 "python3-prometheus-client (make deps)" % e)
            return None
    return text_string_to_metric_families


def reference_prometheus(text):
    """TEXT parsed by prometheus_client, in parse_prometheus()'s form."""
    parse = reference_parser()
    if not parse:
        return None
    fams = {}
    try:
        for f in parse(text):
            samples = {}
            for smp in f.samples:
                if smp.name != f.name:
                    fail("prometheus_client: sample %s in family %s" %
                         (smp.name, f.name))
                samples[tuple(sorted(smp.labels.items()))] = smp.value
            if f.name in fams:
                fail("prometheus_client: family %s twice" % f.name)
            fams[f.name] = {"type": f.type, "help": f.documentation,
                            "samples": samples}
    except ValueError as e:
        fail("prometheus_client refuses the text: %s" % e)
        return None
    return fams


def check_prometheus(rel):
    text = sys.stdin.read()
    prom_selftest()
    try:
        fams = parse_prometheus(text)
    except ValueError as e:
        fail("Prometheus text: %s" % e)
        return
    # The parser of the Prometheus project's Python client reads the same.
    ref = reference_prometheus(text)
    if ref is not None:
        expect("families and samples by prometheus_client", ref, fams)
    rows, _ = usage_want(rel)
    regs = list_regions()
    node = {
        "mpcg_regions": len(regs),
        "mpcg_size_bytes": sum(r["file_size"] for r in regs),
        "mpcg_resident_bytes": sum(r["resident_bytes"] for r in regs),
        "mpcg_attachments": sum(r["nr_attachments"] for r in regs),
        "mpcg_shortfall_bytes": sum(r["shortfall_bytes"] for r in regs),
    }
    per = {"mpcg_cgroup_regions": "regions",
           "mpcg_cgroup_attachments": "attach",
           "mpcg_cgroup_touched_bytes": "touched",
           "mpcg_cgroup_fair_share_bytes": "fair",
           "mpcg_cgroup_paid_bytes": "paid",
           "mpcg_cgroup_shortfall_bytes": "shortfall"}
    expect("metric families", sorted(fams), sorted(list(node) + list(per)))
    for name, fam in fams.items():
        if fam["type"] != "gauge" or not fam["help"]:
            fail("%s: type %r, help %r" % (name, fam["type"], fam["help"]))
        if name.endswith("_total"):
            fail("%s: a gauge named like a counter" % name)
    for name, want in node.items():
        expect(name, fams.get(name, {}).get("samples"), {(): float(want)})
    for name, col in per.items():
        want = {(("cgroup", r["cgroup"]),): float(r[col]) for r in rows}
        expect(name, fams.get(name, {}).get("samples"), want)

def check_top_batch(count):
    """Batch output of top: COUNT refreshes, each a summary and a table."""
    text = sys.stdin.read()
    blocks = [b for b in re.split(r"(?m)^(?=mpcgctl top - )", text) if b]
    expect("refreshes", len(blocks), int(count))
    regs = list_regions()
    rows, _ = usage_want("/")
    want = {r["cgroup"]: [r["regions"], r["attach"], r["fair"], r["paid"],
                          r["shortfall"]] for r in rows}
    for b in blocks:
        lines = b.rstrip("\n").split("\n")
        m = re.fullmatch(r"mpcgctl top - \d\d:\d\d:\d\d  regions: (\d+)  "
                         r"resident: (\d+)  shortfall: (\d+)", lines[0])
        if not m:
            fail("top: summary line %r" % lines[0])
            continue
        expect("top summary", [int(x) for x in m.groups()],
               [len(regs), sum(r["resident_bytes"] for r in regs),
                sum(r["shortfall_bytes"] for r in regs)])
        expect("top blank line", lines[1], "")
        expect("top header", lines[2].split(),
               "CGROUP REGIONS ATTACH FAIR PAID SHORTFALL CURRENT".split())
        got = {}
        paid = []
        for line in lines[3:]:
            # CGROUP (which may hold spaces), then 6 numbers.
            f = line.rsplit(None, 6)
            got[f[0].strip()] = [int(x) for x in f[1:6]]
            paid.append(int(f[4]))
        expect("top rows", got, want)
        if paid != sorted(paid, reverse=True):
            fail("top: not sorted by PAID: %r" % paid)


# ---- top on a terminal -------------------------------------------------------


def check_top_pty(mpcgctl, *opts):
    """top redraws on a terminal, quits on 'q' and gives the terminal back.

    With OPTS (e.g. -o CGROUP,PAID), also press 'r' and 'c' and check both
    views: -o names columns of the cgroups view only."""
    import pty
    import termios
    pid, master = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 132, 0, 0))
        os.execv(mpcgctl, [mpcgctl, "top", "-d", "0.2"] + list(opts))
    before = None
    out = b""

    def read_until(cond, secs=30):
        nonlocal out
        t0 = time.time()
        while not cond() and time.time() - t0 < secs:
            r, _, _ = select.select([master], [], [], 0.5)
            if r:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    return False
        return cond()

    def last_screen():
        return out.rsplit(b"\x1b[H\x1b[2J", 1)[-1]

    try:
        # Wait for two refreshes.
        read_until(lambda: out.count(b"mpcgctl top - ") >= 2)
        if opts:
            os.write(master, b"r")
            if not read_until(lambda: b"RESIDENT" in last_screen()):
                fail("top %s: no regions view after 'r': %r" %
                     (" ".join(opts), out[-300:]))
            n = out.count(b"mpcgctl top - ")
            os.write(master, b"c")
            if not read_until(lambda: out.count(b"mpcgctl top - ") > n and
                              b"CGROUP" in last_screen()):
                fail("top %s: no cgroups view after 'c': %r" %
                     (" ".join(opts), out[-300:]))
            head = [l for l in last_screen().split(b"\n")
                    if l.lstrip().startswith(b"CGROUP")]
            if not head or head[0].split() != [b"CGROUP", b"PAID"]:
                fail("top %s: cgroups header %r" % (" ".join(opts), head))
        before = termios.tcgetattr(master)
        os.write(master, b"q")
        t1 = time.time()
        status = None
        while time.time() - t1 < 5:
            p, s = os.waitpid(pid, os.WNOHANG)
            if p:
                status = s
                break
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    pass
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            fail("top did not quit within 5 s of 'q'")
            return
        after = termios.tcgetattr(master)
    finally:
        os.close(master)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status):
        fail("top exited with status %r" % status)
    if out.count(b"mpcgctl top - ") < 2:
        fail("top did not refresh: %r" % out[-300:])
    if b"\x1b[H\x1b[2J" not in out:
        fail("top did not clear the screen")
    if b"CGROUP" not in out or b"PAID" not in out:
        fail("top: no table: %r" % out[-300:])
    if before[3] & termios.ECHO or before[3] & termios.ICANON:
        fail("top left echo or canonical mode on while running")
    if not after[3] & termios.ECHO or not after[3] & termios.ICANON:
        fail("top did not restore the terminal")

# ---- holding regions -------------------------------------------------------


def hold(args):
    """Do what the arguments say to regions, report ready, and sleep.

    --create PATH SIZE   create PATH and write SIZE bytes into it
    --read PATH          open PATH and read all of it
    --map PATH OFF LEN [read|write|none]
                         map LEN bytes of PATH at OFF, shared; touch each page
    --unlink PATH        unlink PATH (after the above; it stays open)
    --wait FILE          wait until FILE exists (before what follows)
    --ready FILE         create FILE (holding the pid) when done
    """
    keep, i = [], 0
    ready = None
    while i < len(args):
        a = args[i]
        if a == "--create":
            path, size = args[i + 1], int(args[i + 2])
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            block = bytes(range(256)) * 4096
            done = 0
            while done < size:
                done += os.write(fd, block[:size - done])
            keep.append(fd)
            i += 3
        elif a == "--read":
            fd = os.open(args[i + 1], os.O_RDONLY)
            while os.read(fd, 1 << 20):
                pass
            keep.append(fd)
            i += 2
        elif a == "--map":
            path, off, length, how = (args[i + 1], int(args[i + 2]),
                                      int(args[i + 3]), args[i + 4])
            fd = os.open(path, os.O_RDWR)
            m = mmap.mmap(fd, length, mmap.MAP_SHARED,
                          mmap.PROT_READ | mmap.PROT_WRITE, offset=off)
            os.close(fd)    # the mapping stays; the open file was never used
            for p in range(0, length, mmap.PAGESIZE):
                if how == "read":
                    m[p]
                elif how == "write":
                    m[p] = 1
            keep.append(m)
            i += 5
        elif a == "--unlink":
            os.unlink(args[i + 1])
            i += 2
        elif a == "--ready":
            ready = args[i + 1]
            i += 2
        elif a == "--wait":
            while not os.path.exists(args[i + 1]):
                time.sleep(0.05)
            i += 2
        else:
            sys.exit("hold: bad argument %r" % a)
    if ready:
        with open(ready + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(ready + ".tmp", ready)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        time.sleep(3600)


def run_one(cmd, args):
    if cmd == "stat":
        check_stat(args)
    elif cmd == "members":
        check_members(args[0])
    elif cmd == "attachments":
        check_attachments(args[0], args[1:])
    elif cmd == "chunks":
        check_chunks(args[0])
    elif cmd == "list":
        check_list(args)
    elif cmd == "usage":
        check_usage(args[0], *args[1:])
    elif cmd == "reassess":
        check_reassess(args[0], args[1:])
    elif cmd == "charges":
        check_charges(*args)
    elif cmd == "human":
        check_human(*args)
    elif cmd == "prometheus":
        check_prometheus(args[0])
    elif cmd == "top-batch":
        check_top_batch(args[0])
    elif cmd == "top-pty":
        check_top_pty(*args)
    elif cmd == "abi-stat":
        fd = open_region(args[0])
        print(json.dumps(region_stat(fd)))
        os.close(fd)
    else:
        sys.exit("unknown command %r" % cmd)


def main():
    """COMMAND ARGS [:: COMMAND ARGS]...; --in FILE before a command gives
    it FILE as its input (mpcgctl's output) instead of stdin."""
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "hold":
        hold(sys.argv[2:])
    words, checks = sys.argv[1:], [[]]
    for w in words:
        if w == "::":
            checks.append([])
        else:
            checks[-1].append(w)
    stdin = sys.stdin
    for c in checks:
        sys.stdin = stdin
        if len(c) > 2 and c[0] == "--in":
            sys.stdin = open(c[1])
            c = c[2:]
        run_one(c[0], c[1:])
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: GPL-2.0
#
# OCI bundles for crun and runc, built where the test VM can write (/tmp):
# sourced by selftests/runtime_test.sh and tools/demo.sh.
#
#   oci_rootfs DIR [PROGRAM...]
#       a root file system for every container, used read-only: static
#       busybox with its applets, the PROGRAMs (static) in /bin, and the
#       directories that the mounts below need
#   oci_shm_bind SOURCE
#   oci_shm_mpcg OPTIONS
#       a config.json mount entry for /dev/shm: a bind of SOURCE (a pod's
#       mpcg mount, shared by several containers), or a mount of type mpcg
#       of the container's own, with the mount OPTIONS (comma-separated)
#   oci_config BUNDLE ROOTFS ID CGROUP MEMORY_MAX SHM_MOUNT CTL ARGS...
#       BUNDLE/config.json: process ARGS as root with PATH=/bin, hostname
#       ID, /proc, a small /dev tmpfs, SHM_MOUNT, the host directory CTL at
#       /ctl (read-write), the cgroup CGROUP (cgroupsPath: a path under the
#       cgroup2 root, for the cgroupfs manager) with memory.max MEMORY_MAX
#       bytes, and pid, ipc, uts and mount namespaces of its own
#
# docs/runtimes.md shows the same entries.

# The JSON string of $1.
oci_json_str() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

# The JSON array of the strings given.
oci_json_strs() {
	local a out=''
	for a in "$@"; do
		out+="${out:+, }$(oci_json_str "$a")"
	done
	printf '[%s]' "$out"
}

# (busybox --install makes the links, in one process rather than one per
# applet: they point to where the host's busybox really is, e.g.
# /usr/bin/busybox, which the root file system then has too.)
oci_rootfs() {
	local dir=$1 real
	shift
	real=$(readlink -f /bin/busybox) || return 1
	mkdir -p "$dir"/{bin,proc,dev,ctl,tmp} "$dir${real%/*}" || return 1
	cp /bin/busybox "$@" "$dir/bin/" || return 1
	[ "$real" = /bin/busybox ] || ln -s /bin/busybox "$dir$real" || return 1
	/bin/busybox --install -s "$dir/bin"
}

oci_shm_bind() {
	printf '{"destination": "/dev/shm", "type": "bind", "source": %s, "options": ["rbind", "rw", "nosuid", "nodev"]}' \
		"$(oci_json_str "$1")"
}

oci_shm_mpcg() {
	local IFS=,
	# shellcheck disable=SC2086  # split at the commas
	printf '{"destination": "/dev/shm", "type": "mpcg", "source": "mpcg", "options": %s}' \
		"$(oci_json_strs $1)"
}

oci_config() {
	local bundle=$1 rootfs=$2 id=$3 cgroup=$4 max=$5 shm=$6 ctl=$7
	shift 7
	mkdir -p "$bundle" || return 1
	cat >"$bundle/config.json" <<-EOF
	{
	  "ociVersion": "1.0.2",
	  "process": {
	    "terminal": false,
	    "user": {"uid": 0, "gid": 0},
	    "args": $(oci_json_strs "$@"),
	    "env": ["PATH=/bin"],
	    "cwd": "/"
	  },
	  "root": {"path": $(oci_json_str "$rootfs"), "readonly": true},
	  "hostname": $(oci_json_str "$id"),
	  "mounts": [
	    {"destination": "/proc", "type": "proc", "source": "proc"},
	    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=1m"]},
	    $shm,
	    {"destination": "/ctl", "type": "bind", "source": $(oci_json_str "$ctl"), "options": ["rbind", "rw"]}
	  ],
	  "linux": {
	    "cgroupsPath": $(oci_json_str "$cgroup"),
	    "resources": {"memory": {"limit": $max}},
	    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]
	  }
	}
	EOF
}

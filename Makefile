# SPDX-License-Identifier: GPL-2.0
#
# mpcg: multi-process control groups for shared memory.
#
#   make              build mpcg.ko (for KVER), the tools and the selftests
#   make deps         install the Debian packages the project needs and fetch
#                     the 6.12 kernel into the cache (tools/deps); the README's
#                     commands and CI run it, plain builds do not
#   make demo         boot the test VM and show two cgroups sharing a file,
#                     then two crun containers sharing their /dev/shm
#   make check        the host tests, then the selftests in one VM per kernel
#                     series (both, unless KVER= or KDIR= is given)
#   make check-debug  the same on a KASAN/lockdep/kmemleak/UBSAN kernel built
#                     from that series' linux-source, plus a 60 s stress run
#                     and the fault-injection runs (KVER=, default 6.1)
#   make stress       [SECONDS=600] the stress run alone (docs/testing.md)
#   make lint         checkpatch.pl --strict and kernel-doc on kernel/ and uapi/
#                     (tools/lint; CI runs it first)
#   make fstests      fstests on tmpfs and mpcg side by side in the VM (not in
#                     make check; FSTESTS=, TESTS=, see the end of this file);
#                     make fstests-deps installs what it needs
#   make clean
#
# KVER picks the kernel series: 6.1 (Debian 12's linux-image-amd64, the
# default) or 6.12 (bookworm-backports, unpacked in the cache by make deps);
# tools/kernels says where each one's headers, image and modules are.
# KDIR=<kernel build directory> builds against other headers instead.

KVERS := $(shell tools/kernels list)
KVER ?= 6.1
ifeq ($(filter $(KVER),$(KVERS)),)
$(error KVER=$(KVER) is not a supported kernel series (one of: $(KVERS)))
endif
KDIR ?= $(shell tools/kernels kdir $(KVER) 2>/dev/null)
# make check runs every series unless one was asked for.
ifeq ($(origin KVER)$(origin KDIR),filefile)
CHECK_KVERS := $(KVERS)
else
CHECK_KVERS := $(KVER)
endif
BUILD := build
KMOD := $(BUILD)/kernel-$(KVER)
KSFT_INC := $(BUILD)/ksft-include
LIB_DIR := $(BUILD)/lib
SELFTESTS := fs_test engine_test engine_abi_test fs_semantics_test fsx_test shm_test fuzz_test perm_test \
	     pin_test scale_test
SELFTEST_BINS := $(addprefix $(BUILD)/selftests/,$(SELFTESTS))
USER_CFLAGS := -O2 -g -Wall -Wextra -Werror $(CFLAGS)
VM_RUN := tools/testing/vm-run --kver $(KVER)

.PHONY: all module selftests deps check check-debug demo clean
.PHONY: tools install uninstall check-host tools-force

all: module selftests tools

deps:
	@tools/deps

# "+": build-module's make takes part in this make's jobserver (make -jN).
module:
	@if [ -z "$(KDIR)" ]; then echo "no kernel headers for KVER=$(KVER): run 'make deps'" >&2; exit 1; fi
	+@tools/build-module $(KDIR) $(KMOD)

$(KSFT_INC)/kselftest_harness.h:
	@tools/ksft-headers $(KSFT_INC)

selftests: $(SELFTEST_BINS)

# The selftest library, libmpcgtest (selftests/lib/, one concept a file;
# selftests/mpcg_util.h includes their headers), is built once; each
# selftest program and helper that includes mpcg_util.h is compiled to
# its own object and linked with it and with libmpcg.  -MMD: every object
# depends on the headers it includes, so a changed .c rebuilds its object
# and relinks the programs.
SELFTEST_LIB_DIR := $(BUILD)/selftests-lib
SELFTEST_LIB := $(SELFTEST_LIB_DIR)/libmpcgtest.a
SELFTEST_LIB_OBJS := $(patsubst selftests/lib/%.c,$(SELFTEST_LIB_DIR)/%.o,$(wildcard selftests/lib/*.c))
SELFTEST_OBJ_DIR := $(BUILD)/selftests-obj
SELFTEST_OBJS := $(addprefix $(SELFTEST_OBJ_DIR)/,$(addsuffix .o,$(SELFTESTS) libmpcg_test stress failnth_test))
SELFTEST_CFLAGS := $(USER_CFLAGS) -Iuapi -Itools/lib -MMD -MP
SELFTEST_LIBS := $(SELFTEST_LIB) $(LIB_DIR)/libmpcg.a

$(SELFTEST_LIB_DIR)/%.o: selftests/lib/%.c
	@mkdir -p $(@D)
	$(CC) $(SELFTEST_CFLAGS) -c -o $@ $<

$(SELFTEST_LIB): $(SELFTEST_LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(SELFTEST_OBJ_DIR)/%.o: selftests/%.c $(KSFT_INC)/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(SELFTEST_CFLAGS) -isystem $(KSFT_INC) -c -o $@ $<

$(BUILD)/selftests/%: $(SELFTEST_OBJ_DIR)/%.o $(SELFTEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(LDFLAGS) -o $@ $< $(SELFTEST_LIBS)

.SECONDARY: $(SELFTEST_OBJS)
-include $(SELFTEST_LIB_OBJS:.o=.d) $(SELFTEST_OBJS:.o=.d)

# The tracepoint and bpftrace selftest (a script) and the scenario it runs,
# built outside build/selftests, where run.sh runs every program.
selftests: $(BUILD)/selftests/trace_test $(BUILD)/selftests-helpers/trace_scenario

$(BUILD)/selftests/trace_test: selftests/trace_test.sh
	@mkdir -p $(@D)
	install -m 755 $< $@

$(BUILD)/selftests-helpers/trace_scenario: selftests/trace_scenario.c \
		uapi/linux/mpcg.h tools/lib/libmpcg.h $(LIB_DIR)/libmpcg.a
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -Iuapi -Itools/lib -o $@ $< $(LIB_DIR)/libmpcg.a

# ---- userspace tools: libmpcg, mpcgctl, man pages, install, DKMS ----------
#
#   make tools        build/lib/libmpcg.{a,so*}, build/lib/libmpcg.pc, build/bin/mpcgctl
#   make install      the module into /lib/modules/<release of KDIR>/updates
#                     (then depmod), mpcgctl, libmpcg, headers, libmpcg.pc and the
#                     man pages under PREFIX (default /usr/local); DESTDIR is
#                     honoured (and then depmod and ldconfig are not run)
#   make uninstall    removes what install installed
#   make check-host   host-side tests: the selftest runner, make install
#                     DESTDIR=..., dkms build and install in temporary trees
#                     (exit 4: skipped)
#                     (part of make check)
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
KREL ?= $(shell sed -n 's/.*UTS_RELEASE "\(.*\)".*/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MODULEDIR ?= /lib/modules/$(KREL)/updates
TOOLS_CFLAGS = $(USER_CFLAGS) -Iuapi -Itools/lib -DMPCG_VERSION='"$(VERSION)"'
LIBMPCG_SO := libmpcg.so.$(VERSION)
# The library's ABI version: bumped when a call or struct changes incompatibly.
LIBMPCG_SONAME := libmpcg.so.1
MPCGCTL_SRCS := $(wildcard tools/mpcgctl/*.c)

tools: $(LIB_DIR)/libmpcg.a $(LIB_DIR)/libmpcg.so $(LIB_DIR)/libmpcg.pc \
       $(BUILD)/bin/mpcgctl

$(LIB_DIR)/libmpcg.o: tools/lib/libmpcg.c tools/lib/libmpcg.h uapi/linux/mpcg.h dkms.conf
	@mkdir -p $(@D)
	$(CC) $(TOOLS_CFLAGS) -fPIC -c -o $@ $<

$(LIB_DIR)/libmpcg.a: $(LIB_DIR)/libmpcg.o
	rm -f $@
	$(AR) rcs $@ $^

$(LIB_DIR)/$(LIBMPCG_SO): $(LIB_DIR)/libmpcg.o
	$(CC) $(USER_CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(LIBMPCG_SONAME) -o $@ $^

$(LIB_DIR)/libmpcg.so: $(LIB_DIR)/$(LIBMPCG_SO)
	ln -sf $(LIBMPCG_SO) $(LIB_DIR)/$(LIBMPCG_SONAME)
	ln -sf $(LIBMPCG_SONAME) $@

# Rewritten only when PREFIX and friends change what it says.
$(LIB_DIR)/libmpcg.pc: tools/lib/libmpcg.pc.in dkms.conf tools-force
	@mkdir -p $(@D)
	@sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
		$< >$@.tmp && if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

tools-force:

# mpcgctl links libmpcg statically: it runs from build/bin and from any
# PREFIX without the shared library being on the loader's path.
$(BUILD)/bin/mpcgctl: $(MPCGCTL_SRCS) tools/mpcgctl/mpcgctl.h tools/lib/libmpcg.h \
		      uapi/linux/mpcg.h $(LIB_DIR)/libmpcg.a
	@mkdir -p $(@D)
	$(CC) $(TOOLS_CFLAGS) $$(pkg-config --cflags smartcols) $(LDFLAGS) -o $@ \
		$(MPCGCTL_SRCS) $(LIB_DIR)/libmpcg.a $$(pkg-config --libs smartcols) -lm

# The mpcgctl selftest (run in the VM by selftests/run.sh).
selftests: $(BUILD)/selftests/mpcgctl_test

$(BUILD)/selftests/mpcgctl_test: selftests/mpcgctl_test.sh selftests/mpcgctl_check.py \
				 $(BUILD)/bin/mpcgctl
	@mkdir -p $(@D)
	install -m 755 $< $@

# The libmpcg selftest (a kselftest harness program, built as the others).
selftests: $(BUILD)/selftests/libmpcg_test

# The container runtime selftest (a script, run in the VM by selftests/run.sh)
# and the helper it copies into its containers' busybox root file system,
# linked statically since that has no C library.
selftests: $(BUILD)/selftests/runtime_test

$(BUILD)/selftests/runtime_test: selftests/runtime_test.sh tools/oci-bundle.sh \
				 $(BUILD)/selftests-helpers/map_touch $(BUILD)/bin/mpcgctl
	@mkdir -p $(@D)
	install -m 755 $< $@

$(BUILD)/selftests-helpers/map_touch: selftests/map_touch.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(LDFLAGS) -static -o $@ $<

install: module tools
	@if [ -z "$(KREL)" ]; then echo "install: cannot tell the kernel release of KDIR=$(KDIR)" >&2; exit 1; fi
	install -d $(DESTDIR)$(MODULEDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/libmpcg/linux \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 644 $(KMOD)/mpcg.ko $(DESTDIR)$(MODULEDIR)/mpcg.ko
	install -m 755 $(BUILD)/bin/mpcgctl $(DESTDIR)$(SBINDIR)/mpcgctl
	install -m 755 $(LIB_DIR)/$(LIBMPCG_SO) $(DESTDIR)$(LIBDIR)/$(LIBMPCG_SO)
	ln -sf $(LIBMPCG_SO) $(DESTDIR)$(LIBDIR)/$(LIBMPCG_SONAME)
	ln -sf $(LIBMPCG_SONAME) $(DESTDIR)$(LIBDIR)/libmpcg.so
	install -m 644 $(LIB_DIR)/libmpcg.a $(DESTDIR)$(LIBDIR)/libmpcg.a
	install -m 644 tools/lib/libmpcg.h $(DESTDIR)$(INCLUDEDIR)/libmpcg.h
	install -m 644 uapi/linux/mpcg.h $(DESTDIR)$(INCLUDEDIR)/libmpcg/linux/mpcg.h
	install -m 644 $(LIB_DIR)/libmpcg.pc $(DESTDIR)$(LIBDIR)/pkgconfig/libmpcg.pc
	install -m 644 docs/man/mpcg.5 $(DESTDIR)$(MANDIR)/man5/mpcg.5
	install -m 644 docs/man/mpcgctl.8 $(DESTDIR)$(MANDIR)/man8/mpcgctl.8
	@if [ -z "$(DESTDIR)" ]; then echo "depmod -a $(KREL) && ldconfig"; \
		depmod -a $(KREL) && ldconfig; fi

uninstall:
	@if [ -z "$(KREL)" ]; then echo "uninstall: cannot tell the kernel release of KDIR=$(KDIR)" >&2; exit 1; fi
	rm -f $(DESTDIR)$(MODULEDIR)/mpcg.ko $(DESTDIR)$(SBINDIR)/mpcgctl \
		$(DESTDIR)$(LIBDIR)/$(LIBMPCG_SO) $(DESTDIR)$(LIBDIR)/$(LIBMPCG_SONAME) \
		$(DESTDIR)$(LIBDIR)/libmpcg.so $(DESTDIR)$(LIBDIR)/libmpcg.a \
		$(DESTDIR)$(INCLUDEDIR)/libmpcg.h $(DESTDIR)$(INCLUDEDIR)/libmpcg/linux/mpcg.h \
		$(DESTDIR)$(LIBDIR)/pkgconfig/libmpcg.pc \
		$(DESTDIR)$(MANDIR)/man5/mpcg.5 $(DESTDIR)$(MANDIR)/man8/mpcgctl.8
	@rmdir $(DESTDIR)$(INCLUDEDIR)/libmpcg/linux $(DESTDIR)$(INCLUDEDIR)/libmpcg \
		$(DESTDIR)$(MODULEDIR) 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ]; then echo "depmod -a $(KREL) && ldconfig"; \
		depmod -a $(KREL) && ldconfig; fi

# A host test that cannot run (not root, no dkms) exits 4: a skip, with the
# reason its "1..0 # SKIP" line gives.
HOST_TESTS := selftests/host/run_test.sh selftests/host/install_test.sh \
	      selftests/host/dkms_test.sh
check-host:
	@$(MAKE) --no-print-directory all
	@for t in $(HOST_TESTS); do \
		echo "$$t"; log=$$(mktemp); \
		{ KVERS="$(CHECK_KVERS)" $$t; echo $$? >$$log.rc; } | tee $$log; rc=$$(cat $$log.rc); \
		why=$$(sed -n 's/^1\.\.0 # SKIP //p' $$log); rm -f $$log $$log.rc; \
		case $$rc in \
		0) ;; \
		4) echo "$$t: skipped: $${why:-no reason given}" ;; \
		*) echo "$$t: failed (exit status $$rc)" >&2; exit 1 ;; \
		esac; \
	done

# ---- end of userspace tools ------------------------------------------------

# One VM boot per kernel series; vm-check prints a line per series and the
# total.
check:
	@tools/deps
	@for k in $(CHECK_KVERS); do $(MAKE) --no-print-directory module KVER=$$k || exit 1; done
	@$(MAKE) --no-print-directory check-host
	tools/testing/vm-run-test --kver $(firstword $(CHECK_KVERS))
	tools/testing/vm-check $(CHECK_KVERS)

check-debug:
	@tools/deps
	@tools/kernels fetch $(KVER) --source
	@$(MAKE) --no-print-directory selftests
	tools/testing/vm-check --debug $(KVER)

demo:
	@tools/deps
	@$(MAKE) --no-print-directory all
	@$(VM_RUN) -- tools/demo.sh

clean:
	rm -rf $(BUILD)

# ---- benchmarks -------------------------------------------------------------
#   make bench [KVER=6.1|6.12] [ROUNDS=3] [BENCH_ARGS="--size 64 --reps 1"] [MPCG_BENCH_AB=1]
#   mpcg against tmpfs in one VM boot, a table and build/bench/results.json
#   (see docs/benchmarks.md); make bench-deps installs stress-ng
BENCH_ARGS ?= --size 64 --reps 1
.PHONY: bench bench-deps
bench:
	@tools/deps
	@$(MAKE) --no-print-directory module
	@mkdir -p $(BUILD)/tools
	$(CC) $(USER_CFLAGS) -o $(BUILD)/tools/mpcg-bench tools/bench/mpcg-bench.c
	+@if [ "$${MPCG_BENCH_AB:-0}" = 1 ]; then MPCG_KCFLAGS=-DMPCG_NO_TRACEPOINTS tools/build-module $(KDIR) $(BUILD)/kernel-notrace-$(KVER); fi
	tools/bench/run $(BUILD) $(KVER) $(BENCH_ARGS)

# stress-ng, for make bench only (not part of make deps, which CI runs)
bench-deps:
	@tools/deps --bench

# ---- stress and fault injection ---------------------------------------------
#   make stress [SECONDS=600] [STRESS_ARGS="--workers 8 --seed N"] [DEBUG=1]
#   many processes in several cgroups on shared mpcg files, with invariant
#   checks (docs/testing.md); DEBUG=1 runs it on the debug kernel.
# The short stress run and the fault-injection runs (build/selftests-debug)
# are part of make check-debug only: fault injection needs the debug kernel.
.PHONY: stress
SECONDS ?= 600
STRESS_ARGS ?=
selftests: $(BUILD)/selftests-helpers/stress $(BUILD)/selftests-debug/stress_test \
	   $(BUILD)/selftests-debug/fault_test $(BUILD)/selftests-debug/failnth_test
$(BUILD)/selftests-debug/failnth_test: $(SELFTEST_OBJ_DIR)/failnth_test.o $(SELFTEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(LDFLAGS) -o $@ $< $(SELFTEST_LIBS)
$(BUILD)/selftests-helpers/stress: $(SELFTEST_OBJ_DIR)/stress.o $(SELFTEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(LDFLAGS) -o $@ $< $(SELFTEST_LIBS)
$(BUILD)/selftests-debug/%: selftests/%.sh
	@mkdir -p $(@D)
	install -m 755 $< $@
stress:
	@tools/deps
	@$(MAKE) --no-print-directory module selftests
	@case "$(SECONDS)" in ''|*[!0-9]*) echo "make stress: SECONDS must be a number of seconds, not '$(SECONDS)'" >&2; exit 2;; esac
	@if [ -n "$(DEBUG)" ]; then \
		tools/kernels fetch $(KVER) --source && \
		kd=$$(tools/testing/debug-kernel $(KVER)) && \
		tools/build-module $$kd $(BUILD)/kernel-debug-$(KVER) && \
		set -- --kernel $$kd/arch/x86/boot/bzImage --module $(BUILD)/kernel-debug-$(KVER)/mpcg.ko --kmemleak; \
	fi; \
	$(VM_RUN) "$$@" --timeout $$(($(SECONDS) * 2 + 900)) -- \
		$(BUILD)/selftests-helpers/stress --seconds $(SECONDS) $(STRESS_ARGS)

# The module unload selftest (a script, run in the VM by selftests/run.sh).
selftests: $(BUILD)/selftests/unload_test

$(BUILD)/selftests/unload_test: selftests/unload_test.sh
	@mkdir -p $(@D)
	install -m 755 $< $@

# ---- lint ---------------------------------------------------------------------
#   make lint: the checkpatch.pl and kernel-doc of linux-source-6.1 (extracted
#   into build/kernel-scripts) on kernel/ and uapi/; any finding fails it.
.PHONY: lint
lint:
	@tools/deps
	@tools/lint $(BUILD)/kernel-scripts

# ---- fstests ------------------------------------------------------------------
#   make fstests [FSTESTS=DIR|TARBALL] [FSTESTS_PATCH=FILE] [TESTS="generic/quick"]
#                [KVER=6.1] [FSTESTS_MINUTES=60] [FSTESTS_BATCH=40]
#   The file system community's test suite on tmpfs and on mpcg (chunk=64k and
#   chunk=2M) side by side in the VM, one VM per batch of tests, within
#   FSTESTS_MINUTES of VM time: a table per configuration, the tests that pass
#   on tmpfs and not on mpcg (then the exit status is 1) and
#   build/fstests/summary.json (tools/fstests/run, docs/testing.md).  Not part
#   of make check.  fstests is external: FSTESTS names its source (a directory
#   or a .tar.gz), by default the copy in the shared folder beside the
#   repository's checkout, and FSTESTS_PATCH the patch that makes it treat
#   FSTYP=mpcg like tmpfs, from there too; it is built in build/fstests/tree.
#   make fstests-deps installs the Debian packages it needs.
FSTESTS ?= ../shared/fstests/xfstests-src.tar.gz
FSTESTS_PATCH ?= ../shared/fstests/fstests-mpcg.patch
TESTS ?= generic/quick
.PHONY: fstests fstests-deps
fstests-deps:
	@tools/deps --fstests

fstests:
	@tools/deps
	@tools/deps --fstests
	@$(MAKE) --no-print-directory module
	FSTESTS="$(FSTESTS)" FSTESTS_PATCH="$(FSTESTS_PATCH)" KVER=$(KVER) \
		tools/fstests/run $(TESTS)

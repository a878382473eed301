# SPDX-License-Identifier: GPL-2.0
#
# mpcg: multi-process control groups for shared memory.
#
#   make              build mpcg.ko (against KDIR), the tools and the selftests
#   make deps         install the Debian packages the project needs
#   make demo         boot the test VM and show two cgroups sharing a file
#   make check        boot the test VM and run the runner tests and selftests
#   make check-debug  the same on a KASAN/lockdep/kmemleak/UBSAN kernel
#   make clean
#
# KDIR defaults to the running kernel's build directory if it exists, else
# the newest installed Debian headers (tools/kdir).

KDIR ?= $(shell tools/kdir 2>/dev/null)
BUILD := build
KSFT_INC := $(BUILD)/ksft-include
SELFTESTS := fs_test
SELFTEST_BINS := $(addprefix $(BUILD)/selftests/,$(SELFTESTS))
USER_CFLAGS := -O2 -g -Wall -Wextra -Werror $(CFLAGS)
VM_RUN := tools/testing/vm-run

.PHONY: all module selftests deps check check-debug demo clean

all: module selftests

deps:
	@tools/deps

module:
	@if [ -z "$(KDIR)" ]; then echo "no kernel headers found: run 'make deps'" >&2; exit 1; fi
	@tools/build-module $(KDIR) $(BUILD)/kernel

$(KSFT_INC)/kselftest_harness.h:
	@tools/ksft-headers $(KSFT_INC)

selftests: $(SELFTEST_BINS)

$(BUILD)/selftests/%: selftests/%.c selftests/mpcg_util.h uapi/linux/mpcg.h \
		      $(KSFT_INC)/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -isystem $(KSFT_INC) -o $@ $<

check:
	@tools/deps
	@$(MAKE) --no-print-directory all
	tools/testing/vm-run-test
	$(VM_RUN) -- selftests/run.sh $(BUILD)/selftests

check-debug:
	@tools/deps
	@$(MAKE) --no-print-directory selftests
	@kd=$$(tools/testing/debug-kernel) && \
	tools/build-module $$kd $(BUILD)/kernel-debug && \
	$(VM_RUN) --kernel $$kd/arch/x86/boot/bzImage \
		--module $(BUILD)/kernel-debug/mpcg.ko --kmemleak --timeout 3000 \
		-- selftests/run.sh $(BUILD)/selftests

demo:
	@tools/deps
	@$(MAKE) --no-print-directory all
	@$(VM_RUN) -- tools/demo.sh

clean:
	rm -rf $(BUILD)

# SPDX-License-Identifier: GPL-2.0
#
# kvm-scale: KVM scalability patch series for Linux 6.12 and its test harness.
#
#   make run      build stock and patched kernels, run the scale suite in both
#                 under QEMU (and on this host's /dev/kvm), print the A/B table
#   make check    the tests: checkpatch, series applies, kernels build (x86_64,
#                 s390x), runner self-tests, selftests in QEMU on the patched
#                 debug kernel and on the host; ends with "N passed, N failed"
#
# Options live in .config (make defconfig / menuconfig / olddefconfig, from
# ./Kconfig); a variable on the command line (make QEMU_CPUS=4) overrides it.
# See README and Documentation/workflow.rst.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
B := $(TOP)/build
export TOP

# Variables given on the command line reach the scripts through the
# environment (make exports them); .config supplies the rest.
KCONFIG_TOOL = $(MAKE) -s -C $(B)/base O=$(B)/kconfig \
	KBUILD_KCONFIG=$(TOP)/Kconfig KCONFIG_CONFIG=$(TOP)/.config

.PHONY: all help deps tree series kernel kernel-stock kernel-patched \
	kernel-debug kernel-s390 kernel-arm64 patches checkpatch selftests check run bench \
	test-runner v1-regress clean distclean defconfig olddefconfig menuconfig \
	savedefconfig reset-patched peer peer-selftests peer-kut peer-vmm patch-bench ple-bench build-prefixes \
	mail check-base trace

all: help

help:
	@sed -n '3,13p' $(TOP)/Makefile | sed 's/^# \{0,1\}//'
	@echo "other targets: kernel kernel-{stock,patched,debug,s390,arm64} selftests patches"
	@echo "  checkpatch test-runner v1-regress bench defconfig menuconfig olddefconfig clean distclean"
	@echo "  peer (peer-selftests, peer-kut, peer-vmm): the tree's KVM selftests, kvm-unit-tests and"
	@echo "    QEMU's many-vCPU and many-MSI-X-vector guests, stock vs patched"
	@echo "  patch-bench PATCH=N TEST=name [APPEND='K=V']: one patch measured before/after"
	@echo "  ple-bench [PLE_BENCH_ARGS='--qemu BZIMAGE --ple cur,off ...']: lhp_yield in PAUSE mode"
	@echo "    across overcommit and PLE settings under perfcount (build/ple-bench)"
	@echo "  build-prefixes: every patch builds on its own (x86 KVM_WERROR, W=1, sparse, s390, arm64)"
	@echo "  mail [MAIL_ARGS=...]: the six topics as mailable series in build/mail (your git identity)"
	@echo "  check-base UPSTREAM=DIR: the files the series changes are the same in an upstream"
	@echo "    v6.12.117 tree, and the series applies there"
	@echo "  trace [TRACE_ARGS=...]: scripts/*.bt (bpftrace) against their selftests on this host's /dev/kvm"

deps:
	@$(TOP)/scripts/install-deps

tree: deps
	@. $(TOP)/scripts/common.sh && $(TOP)/kernel/prepare-tree.sh "$$BASE" $(B)

# The harness configuration, processed by the base tree's scripts/kconfig.
$(TOP)/.config: | tree
	@$(KCONFIG_TOOL) alldefconfig

defconfig: tree
	@rm -f $(TOP)/.config
	@$(KCONFIG_TOOL) alldefconfig
olddefconfig menuconfig savedefconfig: tree
	@$(KCONFIG_TOOL) $@

series: tree $(TOP)/.config
	@$(TOP)/kernel/apply-series.sh $(TOP)/patches $(B)/patched/linux

kernel-stock: tree $(TOP)/.config
	@. $(TOP)/scripts/common.sh && kernel_build stock
kernel-patched: series
	@. $(TOP)/scripts/common.sh && kernel_build patched
kernel-debug: series
	@. $(TOP)/scripts/common.sh && kernel_build debug
kernel-s390: series
	@. $(TOP)/scripts/common.sh && kernel_build s390
kernel-arm64: series
	@. $(TOP)/scripts/common.sh && kernel_build arm64
kernel: kernel-stock kernel-patched

# Export the commits of the development tree (build/patched/linux, branch
# kvm-scale) on top of kvm-scale-base into patches/ and patches/series.
patches: tree
	@$(TOP)/kernel/export-series.sh $(B)/patched/linux $(TOP)/patches

# The series as six topics ready to mail, each with a cover letter, signed
# off by the user's git identity, checked with git am and checkpatch
# (Documentation/workflow.rst, "Submitting a topic").
mail: tree
	@$(TOP)/scripts/mail-series $(MAIL_ARGS)

reset-patched: tree
	@FORCE=1 $(TOP)/kernel/apply-series.sh $(TOP)/patches $(B)/patched/linux

checkpatch: tree
	@$(TOP)/scripts/checkpatch-series

selftests: series
	@$(TOP)/scripts/build-selftests

# The v2 regression tests on the v1 series and on the current one.
v1-regress: kernel-patched selftests
	@$(TOP)/scripts/v1-regress

# Peer suites (Documentation/peer.rst): every test that passes on stock
# must pass on patched.
peer-selftests: kernel-stock kernel-patched
	@$(TOP)/scripts/peer-selftests
peer-kut: kernel-stock kernel-patched
	@$(TOP)/scripts/peer-kut
peer-vmm: kernel-stock kernel-patched
	@$(TOP)/scripts/peer-vmm
peer: kernel-stock kernel-patched
	@st=0; $(TOP)/scripts/peer-selftests || st=1; \
	$(TOP)/scripts/peer-kut || st=1; \
	$(TOP)/scripts/peer-vmm || st=1; exit $$st

# Every patch of the series builds on its own (Documentation/workflow.rst).
build-prefixes: series
	@$(TOP)/scripts/build-prefixes

# The series' base against an upstream tree (Documentation/workflow.rst,
# "The base").
check-base:
	@test -n "$(UPSTREAM)" || { echo "usage: make check-base UPSTREAM=DIR (an upstream v6.12.117 tree)" >&2; exit 2; }
	@$(MAKE) -s tree
	@$(TOP)/scripts/check-base --upstream "$(UPSTREAM)"

# One patch measured on its own, for its changelog (Documentation/workflow.rst).
patch-bench: series selftests
	@$(TOP)/scripts/patch-bench --patch "$(PATCH)" --test "$(TEST)" \
		$(if $(APPEND),--append "$(APPEND)")

# The bpftrace scripts against their selftests on this host's /dev/kvm
# (Documentation/harness.rst, "bpftrace: make trace"); uses the selftests
# already built (make selftests), skips what cannot run, with the reason.
trace:
	@$(TOP)/scripts/trace $(TRACE_ARGS)

# lhp_yield in PAUSE mode across overcommit levels and PLE settings, each run
# under perfcount, on this host's /dev/kvm (or --qemu BZIMAGE); for PLE
# hardware (Documentation/directed-yield.rst, "make ple-bench").
ple-bench: selftests
	@$(TOP)/scripts/ple-bench $(PLE_BENCH_ARGS)

test-runner: kernel-stock
	@$(TOP)/scripts/test-vm-run --kernel $(B)/stock/obj/arch/x86/boot/bzImage
	@$(TOP)/scripts/test-peer-kut
	@$(TOP)/scripts/test-check-base
	@$(TOP)/scripts/test-peer-selftests
	@$(TOP)/scripts/test-report

check: deps tree $(TOP)/.config
	@$(TOP)/scripts/check

run: deps tree $(TOP)/.config
	@$(TOP)/scripts/ab-run

bench: run

clean:
	rm -rf $(B)/selftests $(B)/check $(B)/run $(B)/report.md $(B)/report.csv
	$(MAKE) -C $(TOP)/selftests clean >/dev/null 2>&1 || true

distclean:
	rm -rf $(B) $(TOP)/.config $(TOP)/.config.old

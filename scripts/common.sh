# SPDX-License-Identifier: GPL-2.0
# common.sh: sourced by the harness scripts.  Loads the top-level .config
# (written by `make defconfig/menuconfig`), lets environment/make command-line
# variables override it, and defines the build layout.
#
# Layout under build/ (git-ignored):
#   base/                 git repo of the base tree, tag kvm-scale-base
#   stock/linux           worktree at kvm-scale-base; stock/obj its build
#   patched/linux         worktree, branch kvm-scale (the development tree)
#   patched/obj           plain build; patched/obj-debug debug build
#   s390/obj, arm64/obj   s390x and arm64 KVM cross builds of the patched tree
#   kconfig/              kconfig's objects for ./Kconfig (make menuconfig)
#   selftests/bin         test binaries + tests.txt manifest
#   check/, run/          make check logs and results; make run results
#   prefixes/             make build-prefixes; patch-bench/: make patch-bench
#   ccache/               compiler cache shared by all builds

TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
B=$TOP/build

if [ -f "$TOP/.config" ]; then
	# shellcheck disable=SC1091
	. "$TOP/.config"
fi

# kconf_bool NAME DEFAULT: the value of bool option NAME.  The environment
# (make's command line) wins; then .config, where kconfig writes an option
# set to N as "# CONFIG_NAME is not set" (so the variable stays unset and a
# plain ${CONFIG_NAME:-y} fallback would turn N back into y); DEFAULT, the
# Kconfig default, only when .config does not mention NAME (no .config, or
# one written before NAME existed).
kconf_bool() {
	eval "_kconf_v=\${$1:-}"
	if [ -z "$_kconf_v" ]; then
		eval "_kconf_v=\${CONFIG_$1:-}"
	fi
	if [ -z "$_kconf_v" ] && [ -f "$TOP/.config" ] &&
	   grep -qx "# CONFIG_$1 is not set" "$TOP/.config"; then
		_kconf_v=n
	fi
	echo "${_kconf_v:-$2}"
}

BASE_TARBALL=${BASE_TARBALL:-${CONFIG_BASE_TARBALL:-/usr/src/linux-source-6.12.tar.xz}}
KERNEL_SRC=${KERNEL_SRC:-${CONFIG_KERNEL_SRC:-}}
BASE=${KERNEL_SRC:-$BASE_TARBALL}
# Defaults below are those of ./Kconfig; keep the two in step.
DEBUG_KERNEL_FOR_CHECK=$(kconf_bool DEBUG_KERNEL_FOR_CHECK y)
S390_CROSS_BUILD=$(kconf_bool S390_CROSS_BUILD y)
ARM64_CROSS_BUILD=$(kconf_bool ARM64_CROSS_BUILD y)
CCACHE_SIZE=${CCACHE_SIZE:-${CONFIG_CCACHE_SIZE:-10G}}
QEMU_CPUS=${QEMU_CPUS:-${CONFIG_QEMU_CPUS:-2}}
QEMU_MEM_MB=${QEMU_MEM_MB:-${CONFIG_QEMU_MEM_MB:-4096}}
QEMU_EXTRA_APPEND=${QEMU_EXTRA_APPEND:-${CONFIG_QEMU_EXTRA_APPEND:-}}
VCPU_SCALE_VCPUS=${VCPU_SCALE_VCPUS:-${CONFIG_VCPU_SCALE_VCPUS:-0}}
RUN_HOST_TESTS=$(kconf_bool RUN_HOST_TESTS y)
CHECK_LONG_TESTS=$(kconf_bool CHECK_LONG_TESTS n)
CHECK_DEBUG_VCPUS=${CHECK_DEBUG_VCPUS:-${CONFIG_CHECK_DEBUG_VCPUS:-1024}}
CHECK_PEER=$(kconf_bool CHECK_PEER y)
CHECK_SIDE_LANE=$(kconf_bool CHECK_SIDE_LANE y)
# kvm-unit-tests for peer-kut/peer-vmm: a clone (KVM_UNIT_TESTS_SRC) or a
# tarball, by default the snapshot next to this repository
# (../shared/kvm-unit-tests.tar.gz).
if [ -z "${KVM_UNIT_TESTS_TARBALL:-}" ]; then
	KVM_UNIT_TESTS_TARBALL=/work/shared/kvm-unit-tests.tar.gz
	[ -f "$TOP/../shared/kvm-unit-tests.tar.gz" ] &&
		KVM_UNIT_TESTS_TARBALL=$(cd "$TOP/../shared" && pwd)/kvm-unit-tests.tar.gz
fi
export KVM_UNIT_TESTS_TARBALL
kut_available() { [ -n "${KVM_UNIT_TESTS_SRC:-}" ] || [ -f "$KVM_UNIT_TESTS_TARBALL" ]; }
CHECK_KUT_TESTS=${CHECK_KUT_TESTS:-${CONFIG_CHECK_KUT_TESTS:-smptest,smptest3,vmexit_ipi,ioapic,kvmclock_test,hyperv_synic,hyperv_stimer,hyperv_connections,intel_iommu}}
# Of those, the tests that time QEMU's own start (kvmclock_test: the guest's
# wall clock within 5 s of QEMU's start), which every debug kernel slows
# past their limit: make check runs them stock vs plain patched instead.
CHECK_KUT_PLAIN=${CHECK_KUT_PLAIN:-kvmclock_test}
# The tree's arm64 tests make check leaves out of its short list: timing
# under TCG, failing on stock as often as on patched (peer.rst).
CHECK_ARM64_EXCLUDE=${CHECK_ARM64_EXCLUDE:-arch_timer}
# The tree's arm64 tests that fail or skip on stock as on patched under TCG
# -cpu max (peer.rst): make check leaves them out so that it builds the
# stock arm64 kernel only when a new test fails on patched.
CHECK_ARM64_BOTH=${CHECK_ARM64_BOTH:-aarch32_id_regs,arch_timer_edge_cases,set_id_regs,vgic_init,vpmu_counter_access}
# make check's kvm-unit-tests: per-run timeout at least this (the longest
# run of CHECK_KUT_TESTS takes about 60 s on the debug kernel).
CHECK_KUT_MIN_TIMEOUT=${CHECK_KUT_MIN_TIMEOUT:-150}
export CCACHE_SIZE

CONFIGS=$TOP/kernel/configs
STOCK_SRC=$B/stock/linux
PATCHED_SRC=$B/patched/linux
STOCK_OBJ=$B/stock/obj
PATCHED_OBJ=$B/patched/obj
DEBUG_OBJ=$B/patched/obj-debug
S390_OBJ=$B/s390/obj
ARM64_OBJ=$B/arm64/obj
SELFTESTS_OUT=$B/selftests

# marked_tests MANIFEST TAG: the test names on "# TAG: a b" lines, comma
# separated (tags: scale, long, no-debug, no-host, no-check-host, series-only,
# timing, mttcg; "# topic:" lines have another format and are read by
# scripts/report).
marked_tests() {
	sed -n "s/^[[:space:]]*#[[:space:]]*$2:[[:space:]]*//p" "$1" |
		tr ' \n' ',,' | sed 's/,,*/,/g; s/^,//; s/,$//'
}

# tests_except MANIFEST NAMES: all test names of MANIFEST but NAMES.
tests_except() {
	awk -v skip=",$2," '!/^[ \t]*(#|$)/ && index(skip, "," $1 ",") == 0 { print $1 }' "$1" |
		tr '\n' ',' | sed 's/,$//'
}

die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

# The patched kernels add kernel/configs/patched.config (options that only
# exist, or only accept the value, with the series applied) when it exists.
patched_frags() {
	echo "$CONFIGS/guest.config"
	[ -f "$CONFIGS/patched.config" ] && echo "$CONFIGS/patched.config"
	return 0
}

# kernel_build NAME: build one of the kernels the harness knows.
kernel_build() {
	case "$1" in
	stock)	 "$TOP/kernel/build-kernel.sh" "$STOCK_SRC" "$STOCK_OBJ" x86_64 bzImage \
			"$CONFIGS/guest.config" ;;
	patched) "$TOP/kernel/build-kernel.sh" "$PATCHED_SRC" "$PATCHED_OBJ" x86_64 bzImage \
			$(patched_frags) ;;
	debug)	 "$TOP/kernel/build-kernel.sh" "$PATCHED_SRC" "$DEBUG_OBJ" x86_64 bzImage \
			$(patched_frags) "$CONFIGS/debug.config" ;;
	s390)	 "$TOP/kernel/build-kernel.sh" "$PATCHED_SRC" "$S390_OBJ" s390 \
			"arch/s390/kvm/ virt/kvm/" "$CONFIGS/s390.config" ;;
	arm64)	 "$TOP/kernel/build-kernel.sh" "$PATCHED_SRC" "$ARM64_OBJ" arm64 \
			"arch/arm64/kvm/ virt/kvm/" "$CONFIGS/arm64.config" ;;
	*) die "unknown kernel '$1' (stock, patched, debug, s390, arm64)" ;;
	esac
}

bzimage() {
	case "$1" in
	stock) echo "$STOCK_OBJ/arch/x86/boot/bzImage" ;;
	patched) echo "$PATCHED_OBJ/arch/x86/boot/bzImage" ;;
	debug) echo "$DEBUG_OBJ/arch/x86/boot/bzImage" ;;
	esac
}

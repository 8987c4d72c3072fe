// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmclock_boot_msr - the master clock follows the boot vCPU's kvmclock MSR
 * while other vCPUs serve stale master clock update requests.
 *
 * KVM turns its master clock off while vCPU 0 uses the old kvmclock MSR
 * (MSR_KVM_SYSTEM_TIME, whose ABI has no PVCLOCK_TSC_STABLE_BIT) and on
 * again when it switches to MSR_KVM_SYSTEM_TIME_NEW.  The switch is a master
 * clock update requested by vCPU 0's own MSR write.  A kernel that serves
 * all pending update requests with one update must store which MSR vCPU 0
 * uses before it announces the update: otherwise another vCPU serving an
 * older request can compute the master clock from the old state and vCPU 0's
 * own request then finds nothing pending.
 *
 * Each round the host gives vCPU 1 a pending master clock update request
 * (a host write of HV_X64_MSR_REFERENCE_TSC), then runs both vCPUs at once:
 * vCPU 1 enters the guest, serving its request, while vCPU 0 switches MSR.
 * After the round KVM_GET_CLOCK must report KVM_CLOCK_TSC_STABLE exactly when
 * vCPU 0 uses the new MSR, and the guest's pvclock area must agree.
 *
 * The window the ordering closes is a few instructions wide, so a kernel
 * without the ordering fails this only by chance; it guards the invariant.
 * SKIP without a master clock on this host (non-TSC host clocksource).
 *
 *   -r ROUNDS  switches of vCPU 0's MSR (default 200)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <asm/kvm_para.h>
#include <asm/pvclock.h>

#include "kvm_util.h"
#include "processor.h"
#include "hyperv.h"
#include "ucall_common.h"
#include "kselftest.h"

#define PVTI_GPA	0xc0000000ull	/* vCPU 0's pvclock area */
#define TSC_PAGE_GPA	0xc0001000ull	/* Hyper-V reference TSC page */
#define EXTRA_SLOT	10

static struct pvclock_vcpu_time_info *pvti_hva;

/* vCPU 0: switch MSR as told, report the pvclock flags it then sees. */
static void guest_vcpu0(void)
{
	struct pvclock_vcpu_time_info *pvti = (void *)PVTI_GPA;
	uint64_t old_msr;

	for (;;) {
		old_msr = READ_ONCE(*(volatile uint64_t *)(PVTI_GPA + 0x800));
		wrmsr(old_msr ? MSR_KVM_SYSTEM_TIME : MSR_KVM_SYSTEM_TIME_NEW,
		      PVTI_GPA | KVM_MSR_ENABLED);
		GUEST_SYNC(READ_ONCE(pvti->flags));
	}
}

/* vCPU 1: enter the guest once per round. */
static void guest_vcpu1(void)
{
	for (;;)
		GUEST_SYNC(0);
}

static void *run_vcpu(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		return (void *)(uintptr_t)uc.args[1];
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
	default:
		TEST_FAIL("vCPU %u: unexpected ucall %lu", vcpu->id, uc.cmd);
	}
	return NULL;
}

static bool vm_clock_stable(struct kvm_vm *vm)
{
	struct kvm_clock_data clock = {};

	vm_ioctl(vm, KVM_GET_CLOCK, &clock);
	return clock.flags & KVM_CLOCK_TSC_STABLE;
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpu[2];
	unsigned int rounds = 200, r, bad = 0;
	struct kvm_vm *vm;
	uint64_t *ctl;
	int opt;

	while ((opt = getopt(argc, argv, "r:h")) != -1) {
		switch (opt) {
		case 'r':
			rounds = atoi_positive("Number of rounds", optarg);
			break;
		default:
			printf("usage: %s [-r ROUNDS]\n", argv[0]);
			exit(opt == 'h' ? 0 : KSFT_FAIL);
		}
	}

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_ADJUST_CLOCK));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_HYPERV_TIME));

	vm = vm_create(2);
	vcpu[0] = vm_vcpu_add(vm, 0, guest_vcpu0);
	vcpu[1] = vm_vcpu_add(vm, 1, guest_vcpu1);
	vcpu_set_hv_cpuid(vcpu[1]);

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, PVTI_GPA,
				    EXTRA_SLOT, 2, 0);
	virt_map(vm, PVTI_GPA, PVTI_GPA, 2);
	pvti_hva = addr_gpa2hva(vm, PVTI_GPA);
	ctl = addr_gpa2hva(vm, PVTI_GPA + 0x800);

	/* Settle: both vCPUs in, vCPU 0 on the new MSR. */
	*ctl = 0;
	run_vcpu(vcpu[0]);
	run_vcpu(vcpu[1]);
	if (!vm_clock_stable(vm)) {
		kvm_vm_free(vm);
		ksft_exit_skip("no master clock on this host (KVM_CLOCK_TSC_STABLE clear)\n");
	}

	ksft_print_header();
	ksft_set_plan(1);
	for (r = 0; r < rounds; r++) {
		pthread_t t[2];
		void *flags;
		bool old = r & 1, stable;

		*ctl = old;
		/* A stale master clock update request for vCPU 1. */
		vcpu_set_msr(vcpu[1], HV_X64_MSR_REFERENCE_TSC,
			     TSC_PAGE_GPA | 1 /* enable */);
		pthread_create(&t[1], NULL, run_vcpu, vcpu[1]);
		pthread_create(&t[0], NULL, run_vcpu, vcpu[0]);
		pthread_join(t[0], &flags);
		pthread_join(t[1], NULL);

		stable = vm_clock_stable(vm);
		if (stable == old) {
			ksft_print_msg("round %u: vCPU 0 on the %s MSR, KVM_GET_CLOCK %s TSC_STABLE\n",
				       r, old ? "old" : "new", stable ? "has" : "lacks");
			bad++;
		}
		if (!old && !((uintptr_t)flags & PVCLOCK_TSC_STABLE_BIT)) {
			ksft_print_msg("round %u: new MSR, guest pvclock lacks PVCLOCK_TSC_STABLE_BIT\n",
				       r);
			bad++;
		}
	}

	ksft_test_result(!bad, "master clock follows vCPU 0's kvmclock MSR in %u rounds with stale requests (%u wrong)\n",
			 rounds, bad);
	kvm_vm_free(vm);
	ksft_finished();
}

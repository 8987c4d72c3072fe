// SPDX-License-Identifier: GPL-2.0-only
/*
 * hv_vp_index_high - save/restore of HV_X64_MSR_VP_INDEX on vCPUs whose index
 * is at or above 4096, the most VPs a Hyper-V sparse VP set can name.
 *
 * A vCPU's default VP index is its vCPU index.  Whatever KVM_GET_MSRS returns
 * for HV_X64_MSR_VP_INDEX, a host-initiated KVM_SET_MSRS of the same value must
 * succeed, or a VMM cannot restore (migrate) the VM.  The test creates N vCPUs
 * (default 4097), enables Hyper-V CPUID on the last one and on vCPU 0, and
 * checks on the last vCPU: the default VP index equals its index, setting it
 * back succeeds, and so does setting another VP index at or above 4096 and
 * back; on vCPU 0, that it can take (and give back) the last vCPU's old index.
 *
 * Usage: hv_vp_index_high [-n nr_vcpus]
 * SKIP if KVM_CAP_HYPERV is missing or KVM_CAP_MAX_VCPUS < N.
 */
#include <stdlib.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "hyperv.h"
#include "kselftest.h"
#include "scale_util.h"

#define DEFAULT_NR_VCPUS 4097

/* Host-initiated KVM_SET_MSRS of one MSR; true if KVM accepted it. */
static bool set_vp_index(struct kvm_vcpu *vcpu, uint64_t val)
{
	return _vcpu_set_msr(vcpu, HV_X64_MSR_VP_INDEX, val) == 1;
}

static void check_set(struct kvm_vcpu *vcpu, uint64_t val, const char *what)
{
	uint64_t got;

	TEST_ASSERT(set_vp_index(vcpu, val),
		    "vCPU %u: host write of VP index %lu (%s) refused",
		    vcpu->id, val, what);
	got = vcpu_get_msr(vcpu, HV_X64_MSR_VP_INDEX);
	TEST_ASSERT(got == val, "vCPU %u: VP index reads %lu after writing %lu",
		    vcpu->id, got, val);
}

int main(int argc, char *argv[])
{
	unsigned int nr_vcpus = DEFAULT_NR_VCPUS, i;
	struct kvm_vcpu *vcpu0, *last;
	struct kvm_vm *vm;
	uint64_t vp;
	int opt;

	while ((opt = getopt(argc, argv, "n:h")) != -1) {
		switch (opt) {
		case 'n':
			nr_vcpus = atoi_positive("Number of vCPUs", optarg);
			break;
		default:
			printf("usage: %s [-n nr_vcpus (default %d)]\n",
			       argv[0], DEFAULT_NR_VCPUS);
			exit(KSFT_FAIL);
		}
	}

	ksft_print_header();
	ksft_set_plan(3);

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_HYPERV));
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_MAX_VCPUS) >= (int)nr_vcpus);
	TEST_REQUIRE(nr_vcpus >= 2);
	scale_raise_nofile(nr_vcpus + 64);

	vm = vm_create(nr_vcpus);
	vcpu0 = vm_vcpu_add(vm, 0, NULL);
	for (i = 1; i < nr_vcpus - 1; i++)
		vm_vcpu_add(vm, i, NULL);
	last = vm_vcpu_add(vm, nr_vcpus - 1, NULL);

	vcpu_set_hv_cpuid(vcpu0);
	vcpu_set_hv_cpuid(last);

	/* Default: VP index == vCPU index; restoring it must work. */
	vp = vcpu_get_msr(last, HV_X64_MSR_VP_INDEX);
	TEST_ASSERT(vp == nr_vcpus - 1, "vCPU %u: default VP index %lu",
		    last->id, vp);
	check_set(last, vp, "the value just read");
	ksft_test_result_pass("vCPU %u: get-then-set of VP index %lu\n",
			      last->id, vp);

	/* Another index in the same range, then back to the default. */
	if (nr_vcpus - 1 > 4096)
		check_set(last, 4096, "another high index");
	else
		check_set(last, nr_vcpus, "one past the last vCPU");
	check_set(last, vp, "back to the default");
	ksft_test_result_pass("vCPU %u: VP index changed and restored\n",
			      last->id);

	/* vCPU 0 takes the high index (the mismatch path) and gives it back. */
	check_set(last, nr_vcpus, "moved out of the way");
	check_set(vcpu0, vp, "another vCPU's default");
	check_set(vcpu0, 0, "back to vCPU 0's default");
	check_set(last, vp, "back to the default");
	ksft_test_result_pass("vCPU 0: took VP index %lu and gave it back\n", vp);

	kvm_vm_free(vm);
	ksft_finished();
}

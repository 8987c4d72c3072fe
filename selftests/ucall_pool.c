// SPDX-License-Identifier: GPL-2.0-only
/*
 * ucall_pool - every vCPU of a VM can be inside a ucall at the same time.
 *
 * A guest ucall takes an entry of the VM's ucall pool and gives it back only
 * when the vCPU is run again.  The test creates N vCPUs (default 1024, at
 * most KVM_CAP_MAX_VCPUS), runs each of them once up to a GUEST_SYNC, so that
 * all N hold a pool entry at once, and then runs each again to GUEST_DONE.
 * With a pool of fixed size (512 entries), vCPU 512 finds the pool empty and
 * the library fails with "Guest failed to allocate ucall struct"; the pool
 * must be sized by the vCPUs the VM is created for.
 *
 * Usage: ucall_pool [-n nr_vcpus]
 */
#include <stdlib.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"
#include "kselftest.h"
#include "scale_util.h"

#define DEFAULT_NR_VCPUS 1024

static void guest_code(void)
{
	GUEST_SYNC(0);
	GUEST_DONE();
}

static void run_to(struct kvm_vcpu *vcpu, uint64_t want)
{
	struct ucall uc;
	uint64_t cmd;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	cmd = get_ucall(vcpu, &uc);
	if (cmd == UCALL_ABORT)
		REPORT_GUEST_ASSERT(uc);
	TEST_ASSERT(cmd == want, "vCPU %u: ucall %lu, expected %lu",
		    vcpu->id, cmd, want);
}

int main(int argc, char *argv[])
{
	unsigned int nr_vcpus = DEFAULT_NR_VCPUS, max, i;
	struct kvm_vcpu **vcpus;
	struct kvm_vm *vm;
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
	ksft_set_plan(2);

	max = kvm_check_cap(KVM_CAP_MAX_VCPUS);
	if (nr_vcpus > max)
		nr_vcpus = max;
	TEST_REQUIRE(nr_vcpus > 512);
	scale_raise_nofile(nr_vcpus + 64);

	vcpus = calloc(nr_vcpus, sizeof(*vcpus));
	TEST_ASSERT(vcpus, "calloc");
	vm = vm_create_with_vcpus(nr_vcpus, guest_code, vcpus);

	for (i = 0; i < nr_vcpus; i++)
		run_to(vcpus[i], UCALL_SYNC);
	ksft_test_result_pass("%u vCPUs inside a ucall at once\n", nr_vcpus);

	for (i = 0; i < nr_vcpus; i++)
		run_to(vcpus[i], UCALL_DONE);
	ksft_test_result_pass("%u vCPUs done\n", nr_vcpus);

	kvm_vm_free(vm);
	free(vcpus);
	ksft_finished();
}

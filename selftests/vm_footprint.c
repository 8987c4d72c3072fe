// SPDX-License-Identifier: GPL-2.0-only
/*
 * vm_footprint - kernel memory of a small VM.
 *
 * Creates VM_FOOTPRINT_VMS (default 64) VMs, each with an in-kernel irqchip
 * (KVM_CREATE_IRQCHIP: PIC, IOAPIC, local APICs) and one vCPU, using bare
 * ioctls so that no guest memory, user page tables or selftest library state
 * is counted.  The kernel memory in use is read from /proc/meminfo as
 * Slab + KernelStack + PageTables + VmallocUsed + Percpu before and after;
 * the difference divided by the number of VMs is one sample.  The VMs are
 * then closed and the measurement is repeated; the median of the samples is
 * reported, so that a stray allocation elsewhere in the system does not
 * decide the figure.
 *
 * Metric: "# metric vm_footprint.kmem_kib_per_vm_1vcpu <KiB> KiB".  It is
 * meant for A/B comparison between kernels built from the same
 * configuration, e.g. a kernel with a larger CONFIG_KVM_MAX_NR_VCPUS must not
 * make small VMs more expensive.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "kselftest.h"

#define DEFAULT_VMS	64
#define ROUNDS		5

static long kernel_mem_kib(void)
{
	static const char * const keys[] = {
		"Slab:", "KernelStack:", "PageTables:", "VmallocUsed:", "Percpu:",
	};
	char line[256];
	long total = 0;
	int found = 0;
	size_t i;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			size_t len = strlen(keys[i]);

			if (!strncmp(line, keys[i], len)) {
				total += strtol(line + len, NULL, 10);
				found++;
			}
		}
	}
	fclose(f);
	return found == 5 ? total : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	int kvm, nr_vms = DEFAULT_VMS, round, i;
	double samples[ROUNDS];
	int *vm_fds, *vcpu_fds;
	struct rlimit rl;
	char *env;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();

	env = getenv("VM_FOOTPRINT_VMS");
	if (env && atoi(env) > 0)
		nr_vms = atoi(env);

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		ksft_exit_skip("/dev/kvm: %s\n", strerror(errno));

	if (!getrlimit(RLIMIT_NOFILE, &rl) &&
	    rl.rlim_cur < (rlim_t)(2 * nr_vms + 64)) {
		rl.rlim_cur = 2 * nr_vms + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	ksft_set_plan(1);
	ksft_print_msg("KVM_CAP_MAX_VCPUS %d, %d VMs with irqchip and 1 vCPU per sample\n",
		       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS), nr_vms);

	vm_fds = calloc(nr_vms, sizeof(int));
	vcpu_fds = calloc(nr_vms, sizeof(int));
	if (!vm_fds || !vcpu_fds)
		ksft_exit_fail_msg("out of memory\n");

	for (round = 0; round < ROUNDS; round++) {
		long before, after;

		/* Let RCU-freed objects of the previous round go first. */
		usleep(200 * 1000);
		before = kernel_mem_kib();
		for (i = 0; i < nr_vms; i++) {
			vm_fds[i] = ioctl(kvm, KVM_CREATE_VM, 0);
			if (vm_fds[i] < 0)
				ksft_exit_fail_msg("KVM_CREATE_VM: %s\n", strerror(errno));
			if (ioctl(vm_fds[i], KVM_CREATE_IRQCHIP, 0))
				ksft_exit_fail_msg("KVM_CREATE_IRQCHIP: %s\n", strerror(errno));
			vcpu_fds[i] = ioctl(vm_fds[i], KVM_CREATE_VCPU, 0);
			if (vcpu_fds[i] < 0)
				ksft_exit_fail_msg("KVM_CREATE_VCPU: %s\n", strerror(errno));
		}
		after = kernel_mem_kib();
		if (before < 0 || after < 0)
			ksft_exit_skip("cannot read /proc/meminfo\n");
		samples[round] = (double)(after - before) / nr_vms;
		ksft_print_msg("round %d: %.1f KiB per VM\n", round, samples[round]);

		for (i = 0; i < nr_vms; i++) {
			close(vcpu_fds[i]);
			close(vm_fds[i]);
		}
	}

	qsort(samples, ROUNDS, sizeof(samples[0]), cmp_double);
	ksft_print_msg("metric vm_footprint.kmem_kib_per_vm_1vcpu %.1f KiB\n",
		       samples[ROUNDS / 2]);
	ksft_test_result_pass("kernel memory of a 1-vCPU VM with irqchip: %.1f KiB (median of %d)\n",
			      samples[ROUNDS / 2], ROUNDS);
	ksft_finished();
}

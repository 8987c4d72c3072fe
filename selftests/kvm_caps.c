// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm_caps - print the KVM capabilities that bound how big and how many VMs
 * a host can run, one "cap <NAME> <value>" line each, for scripts/kvm-limits.
 * Not a test (it is not in tests.txt); built here so that it is static and
 * ships with the other binaries in build/selftests/bin.
 *
 * Exit status: 0, or 4 (KSFT_SKIP) with "error <reason>" when /dev/kvm
 * cannot be opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "kselftest.h"

static const struct {
	const char *name;
	long cap;
} caps[] = {
	{ "KVM_CAP_NR_VCPUS", KVM_CAP_NR_VCPUS },
	{ "KVM_CAP_MAX_VCPUS", KVM_CAP_MAX_VCPUS },
	{ "KVM_CAP_MAX_VCPU_ID", KVM_CAP_MAX_VCPU_ID },
	{ "KVM_CAP_NR_MEMSLOTS", KVM_CAP_NR_MEMSLOTS },
	{ "KVM_CAP_IRQ_ROUTING", KVM_CAP_IRQ_ROUTING },
	{ "KVM_CAP_IRQFD", KVM_CAP_IRQFD },
	{ "KVM_CAP_IOEVENTFD", KVM_CAP_IOEVENTFD },
	{ "KVM_CAP_SPLIT_IRQCHIP", KVM_CAP_SPLIT_IRQCHIP },
	{ "KVM_CAP_HALT_POLL", KVM_CAP_HALT_POLL },
	{ "KVM_CAP_MULTI_ADDRESS_SPACE", KVM_CAP_MULTI_ADDRESS_SPACE },
};

int main(void)
{
	unsigned int i;
	int kvm;

	/* The selftest library's constructor may have printed a seed line. */
	fflush(stdout);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("error /dev/kvm: %s\n", strerror(errno));
		return KSFT_SKIP;
	}
	printf("cap KVM_API_VERSION %d\n", ioctl(kvm, KVM_GET_API_VERSION, 0));
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		printf("cap %s %d\n", caps[i].name,
		       ioctl(kvm, KVM_CHECK_EXTENSION, caps[i].cap));
	close(kvm);
	return 0;
}
